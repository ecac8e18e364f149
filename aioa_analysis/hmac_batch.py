"""HMAC-SHA256 of many short messages, in this process or in a helper process.

The keyed hashes of a national file (about a million distinct identities) are a Python loop of
SHA-256 calls that holds the GIL for about a second; in ``aioa clean`` it ran beside the parsing of
the values, whose pandas code then waited for the GIL. :func:`digests` splits a large batch: a
child Python process (standard library only: it starts in about 15 ms) hashes the first half while
this process hashes the second, so the loop takes half the time on two cores. The child gets the
key and the messages on its standard input, never on its command line, and returns the raw 32-byte
digests on its standard output. Anything unexpected from it (it could not start, died, or answered
the wrong length) falls back to the loop in this process.

This module imports nothing but the standard library, so that the child can run it as a script
(``python -I -S hmac_batch.py``) without importing the package.

Protocol (little-endian): ``n`` (8 bytes), key length (8 bytes), the key, ``n + 1`` message offsets
(8 bytes each, the first 0), the concatenated messages; the answer is ``32 * n`` bytes.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import subprocess
import sys
from collections.abc import Sequence

log = logging.getLogger(__name__)

DIGEST_SIZE = 32
CHILD_MIN_MESSAGES = 100_000
"""Below this many messages the loop runs in this process (a child process is not worth starting)."""
CHILD_TIMEOUT_S = 600.0


def hmac_loop(data: bytes | memoryview, offsets: Sequence[int], key: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of each message ``data[offsets[i]:offsets[i + 1]]``, concatenated.

    The inner and outer padded keys are hashed once; each message then costs two SHA-256 copies
    (the fastest of the variants measured, see ``docs/benchmarks.md``).

    >>> import hmac
    >>> out = hmac_loop(b"abcde", [0, 2, 2, 5], b"k")
    >>> [out[i : i + 32] for i in (0, 32, 64)] == [hmac.digest(b"k", m, "sha256") for m in (b"ab", b"", b"cde")]
    True
    """
    block = 64
    k = hashlib.sha256(key).digest() if len(key) > block else key
    k = k.ljust(block, b"\0")
    inner0 = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    outer0 = hashlib.sha256(bytes(b ^ 0x5C for b in k))
    inner_copy, outer_copy = inner0.copy, outer0.copy
    if len(offsets) < 2:
        return b""
    first = int(offsets[0])
    text = bytes(data[first : int(offsets[-1])])  # bytes slices are the cheapest messages to hash
    bounds = [int(o) - first for o in offsets] if first or not isinstance(offsets, list | tuple) else offsets
    out: list[bytes] = []
    append = out.append
    start = 0
    for end in bounds[1:]:
        inner = inner_copy()
        inner.update(text[start:end])
        outer = outer_copy()
        outer.update(inner.digest())
        append(outer.digest())
        start = end
    return b"".join(out)


def _start_child(data: bytes | memoryview, offsets: Sequence[int], key: bytes) -> subprocess.Popen | None:
    """A child process computing the digests of the messages (its request already sent), or
    ``None`` (logged) when it could not be started or fed."""
    n = len(offsets) - 1
    first, last = int(offsets[0]), int(offsets[-1])
    packed = struct.pack(f"<{n + 1}q", *(int(o) - first for o in offsets))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except (OSError, ValueError) as exc:
        log.debug("keyed hashes: helper process unavailable (%s); computed here", exc)
        return None
    try:
        assert proc.stdin is not None
        for part in (struct.pack("<QQ", n, len(key)), key, packed, data[first:last]):
            proc.stdin.write(part)
        proc.stdin.close()
        proc.stdin = None  # sent: communicate() then only reads the answer
    except OSError as exc:  # it died before reading everything
        log.debug("keyed hashes: helper process refused its input (%s); computed here", exc)
        proc.kill()
        proc.communicate()
        return None
    return proc


def _child_result(proc: subprocess.Popen, n: int) -> bytes | None:
    """The child's digests, or ``None`` (logged) when it failed."""
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        log.debug("keyed hashes: helper process timed out; computed here")
        return None
    if proc.returncode != 0 or len(out) != DIGEST_SIZE * n:
        log.debug(
            "keyed hashes: helper process failed (exit %s, %d bytes): %s",
            proc.returncode,
            len(out),
            err.decode("utf-8", "replace")[-300:],
        )
        return None
    return out


def digests(
    data: bytes | memoryview, offsets: Sequence[int], key: bytes, *, child: bool | None = None
) -> bytes:
    """:func:`hmac_loop` of the messages; with ``child`` (default: from :data:`CHILD_MIN_MESSAGES`
    messages on), the first half is hashed by a child process while this one hashes the second half,
    and whatever the child fails to deliver is hashed here.

    ``offsets`` is a sequence of ``n + 1`` non-decreasing integers (a numpy array will do).
    """
    n = len(offsets) - 1
    if n <= 0:
        return b""
    if child is None:
        child = n >= CHILD_MIN_MESSAGES
    if not child:
        return hmac_loop(data, offsets, key)
    half = max(n // 2, 1)
    proc = _start_child(data, offsets[: half + 1], key)
    mine = hmac_loop(data, offsets[half:], key)
    theirs = _child_result(proc, half) if proc is not None else None
    if theirs is None:
        theirs = hmac_loop(data, offsets[: half + 1], key)
    return theirs + mine


def _serve() -> int:
    """The child's side: read one request on stdin, write the digests on stdout."""
    raw = sys.stdin.buffer.read()
    n, key_len = struct.unpack_from("<QQ", raw, 0)
    pos = 16
    key = raw[pos : pos + key_len]
    pos += key_len
    offsets = struct.unpack_from(f"<{n + 1}q", raw, pos)
    pos += 8 * (n + 1)
    body = raw[pos:]
    if offsets[-1] != len(body):
        sys.stderr.write(f"bad request: {offsets[-1]} message bytes announced, {len(body)} received\n")
        return 2
    sys.stdout.buffer.write(hmac_loop(body, offsets, key))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
