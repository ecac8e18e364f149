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

import contextlib
import hashlib
import logging
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

DIGEST_SIZE = 32
CHILD_MIN_MESSAGES = 100_000
"""Below this many messages the loop runs in this process (a child process is not worth starting)."""
CHILD_TIMEOUT_S = 120.0
"""The child's deadline (a million messages take it about half a second)."""


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
    bounds = _shifted(offsets, first).tolist() if hasattr(offsets, "tolist") else [o - first for o in offsets]
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


def _shifted(offsets: Any, first: int) -> Any:
    """``offsets - first`` of a numpy array (without importing numpy here)."""
    return offsets - first if first else offsets


class _Child:
    """A child process hashing one batch while this thread hashes its own half.

    On Linux the request and the answer go through anonymous in-memory files (``memfd``): written
    and read in one go, they never wait on a pipe, so the thread that feeds the child never
    competes for the GIL with the threads parsing meanwhile. Elsewhere a helper thread feeds and
    reads pipes (``communicate``). Either way the child has a deadline.
    """

    def __init__(self, data: bytes | memoryview, offsets: Sequence[int], key: bytes) -> None:
        n = len(offsets) - 1
        first, last = int(offsets[0]), int(offsets[-1])
        if hasattr(offsets, "tobytes"):  # a numpy array (the parent has numpy; the child need not)
            packed = _shifted(offsets, first).astype("<i8").tobytes()
        else:
            packed = struct.pack(f"<{n + 1}q", *(int(o) - first for o in offsets))
        self.n = n
        request = (struct.pack("<QQ", n, len(key)), key, packed, data[first:last])
        self.answer: tuple[bytes, bytes] | None = None
        self.failure = ""
        self.out_fd: int | None = None
        self.thread: threading.Thread | None = None
        command = [str(sys.executable), "-I", "-S", __file__]
        if hasattr(os, "memfd_create"):
            in_fd = os.memfd_create("aioa-hmac-request")
            try:
                with open(in_fd, "wb", closefd=False) as sink:
                    for part in request:
                        sink.write(part)
                os.lseek(in_fd, 0, os.SEEK_SET)
                self.out_fd = os.memfd_create("aioa-hmac-answer")
                self.proc = subprocess.Popen(command, stdin=in_fd, stdout=self.out_fd, stderr=subprocess.PIPE)
            except BaseException:
                if self.out_fd is not None:
                    os.close(self.out_fd)
                raise
            finally:
                os.close(in_fd)
        else:
            self.request = b"".join(request)
            self.proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            self.thread = threading.Thread(target=self._talk, name="aioa-hmac-child", daemon=True)
            self.thread.start()

    def _talk(self) -> None:
        try:
            self.answer = self.proc.communicate(self.request, timeout=CHILD_TIMEOUT_S)
        except Exception as exc:  # a timeout, a broken pipe: the caller falls back
            self.failure = f"{type(exc).__name__}: {exc}"
            self.stop()
        finally:
            self.request = b""

    def _read_files(self) -> None:
        """Wait for the child (deadline), then read its answer from the in-memory file."""
        assert self.out_fd is not None
        try:
            _, err = self.proc.communicate(timeout=CHILD_TIMEOUT_S)  # stderr only: a few bytes
            os.lseek(self.out_fd, 0, os.SEEK_SET)
            with open(self.out_fd, "rb", closefd=False) as answer:
                self.answer = (answer.read(), err)
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self.stop()  # reaps the child (done by now, or killed) and closes the answer file

    def stop(self) -> None:
        """Kill the child (if still running) and reap it."""
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        if self.out_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.out_fd)
            self.out_fd = None

    def result(self) -> bytes | None:
        """The child's digests, or ``None`` (logged) when it failed or was too slow."""
        if self.thread is None:
            if self.out_fd is not None:
                self._read_files()
        else:
            self.thread.join(CHILD_TIMEOUT_S + 5)
        if (self.thread is not None and self.thread.is_alive()) or self.answer is None:
            self.stop()
            log.warning(
                "keyed hashes: helper process failed (%s); hashed here instead", self.failure or "no answer"
            )
            return None
        out, err = self.answer
        if self.proc.returncode != 0 or len(out) != DIGEST_SIZE * self.n:
            log.warning(
                "keyed hashes: helper process failed (exit %s, %d bytes: %s); hashed here instead",
                self.proc.returncode,
                len(out),
                err.decode("utf-8", "replace")[-300:],
            )
            return None
        return out


def _start_child(data: bytes | memoryview, offsets: Sequence[int], key: bytes) -> _Child | None:
    """A child process hashing the messages ``offsets`` delimit, or ``None`` (logged) when no child
    can be started (no interpreter path, no process allowed)."""
    if not sys.executable:
        return None
    try:
        return _Child(data, offsets, key)
    except Exception as exc:  # OSError, ValueError, TypeError: start failures are not fatal
        log.warning("keyed hashes: helper process unavailable (%s); hashed here instead", exc)
        return None


def digests(
    data: bytes | memoryview, offsets: Sequence[int], key: bytes, *, child: bool | None = None
) -> bytes:
    """:func:`hmac_loop` of the messages; with ``child`` (default: from :data:`CHILD_MIN_MESSAGES`
    messages on), the first half is hashed by a child process while this one hashes the second half,
    and whatever the child fails to deliver is hashed here. The child never outlives the call.

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
    helper = _start_child(data, offsets[: half + 1], key)
    try:
        mine = hmac_loop(data, offsets[half:], key)
        theirs = helper.result() if helper is not None else None
    except BaseException:
        if helper is not None:
            helper.stop()
        raise
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
