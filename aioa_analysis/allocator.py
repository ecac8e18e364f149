"""Process-wide memory allocator settings for large tables (glibc only; a no-op elsewhere).

glibc's ``malloc`` serves every request above ``M_MMAP_THRESHOLD`` (at most 32 MiB once its dynamic
threshold has grown) with a fresh ``mmap`` and gives it back to the kernel on ``free``. numpy and
pandas allocate and free such arrays all the time on tables of millions of rows (8 bytes × 5 M rows
= 40 MB per temporary column), so each temporary pays its page faults again: at 5 M contracts the
kernel time of the report statistics went from 1.4 s (1 M) to 15 s, and that made the cost grow
faster than the number of contracts. Raising the mmap threshold and the trim threshold keeps freed
memory in the heap for reuse; peak memory grows by a few hundred MB at 1 M (measured in
``docs/benchmarks.md``).

:func:`tune_for_large_tables` applies the settings to the running process (``aioa`` calls it first
thing); :data:`ENVIRONMENT` gives the same settings to child processes (the report kernels), since
glibc reads them from the environment at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from typing import Final

log = logging.getLogger(__name__)

MMAP_THRESHOLD: Final = 1 << 30
"""Requests below 1 GiB come from the heap (reused after ``free``) rather than a fresh ``mmap``."""
TRIM_THRESHOLD: Final = (1 << 31) - 1
"""Free memory at the top of the heap is not returned to the kernel below 2 GiB."""

_M_TRIM_THRESHOLD: Final = -1  # <malloc.h>
_M_MMAP_THRESHOLD: Final = -3

ENVIRONMENT: Final = {
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
}
"""The same settings as environment variables, read by glibc when a child process starts."""

DISABLE_VARIABLE: Final = "AIOA_DEFAULT_MALLOC"
"""Set it to 1 to keep glibc's defaults (to compare, or if memory is tighter than time)."""


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") else None  # musl has no mallopt
    except OSError:
        return None


def tune_for_large_tables(*, children: bool = False) -> bool:
    """Apply :data:`MMAP_THRESHOLD` and :data:`TRIM_THRESHOLD` to this process; True when applied.

    With ``children``, also put :data:`ENVIRONMENT` in ``os.environ`` (where not already set), so
    the processes started from now on (the report kernels) get them too. Does nothing (False)
    outside glibc, or when :data:`DISABLE_VARIABLE` is ``1``. Safe to call more than once.
    """
    if os.environ.get(DISABLE_VARIABLE) == "1":
        return False
    if children:
        for key, value in ENVIRONMENT.items():
            os.environ.setdefault(key, value)
    libc = _libc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    if not ok:
        log.debug("mallopt refused the large-table allocator settings; glibc defaults kept")
    return ok


def child_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default ``os.environ``) with :data:`ENVIRONMENT` added, unless the user set them
    or :data:`DISABLE_VARIABLE` is ``1``.

    >>> e = child_environment({"PATH": "/bin"})
    >>> e["PATH"], e["MALLOC_MMAP_THRESHOLD_"] == str(MMAP_THRESHOLD)
    ('/bin', True)
    >>> child_environment({"AIOA_DEFAULT_MALLOC": "1"}) == {"AIOA_DEFAULT_MALLOC": "1"}
    True
    """
    out = dict(os.environ if env is None else env)
    if out.get(DISABLE_VARIABLE) == "1":
        return out
    for key, value in ENVIRONMENT.items():
        out.setdefault(key, value)
    return out
