"""Process-wide memory allocator settings for large tables (glibc only; a no-op elsewhere).

glibc's ``malloc`` serves every request above ``M_MMAP_THRESHOLD`` (at most 32 MiB once its dynamic
threshold has grown) with a fresh ``mmap`` and gives it back to the kernel on ``free``. numpy and
pandas allocate and free such arrays all the time on tables of millions of rows (8 bytes × 5 M rows
= 40 MB per temporary column), so each temporary pays its page faults again: at 5 M contracts the
kernel time of the report statistics went from 1.4 s (1 M) to 15 s, and that made the cost grow
faster than the number of contracts. Raising the mmap threshold and the trim threshold keeps freed
memory in the heap for reuse; peak memory grows by a few hundred MB at 1 M (measured in
``docs/benchmarks.md``).

Three more settings cut the kernel's page-fault time, which was a third of the CPU time of ``aioa
clean`` at 1 M contracts on the benchmark machine (a 2-vCPU virtual machine):

* **Transparent huge pages off** for the process (``prctl(PR_SET_THP_DISABLE)``, inherited by the
  processes it starts). numpy asks for 2 MB pages on every array above 4 MB; on a virtual machine
  whose host takes back the guest's free 2 MB blocks, each such page is backed again on first touch,
  and zeroing it cost about 30 times more per byte than a 4 KB page (measured: 1,700 huge-page faults
  = 3.4 GB took 3–6 s of kernel time; without them, 4.2 GB of small pages took 2.7–3.2 s).
* **Two glibc arenas** (``M_ARENA_MAX``): each thread that allocates otherwise gets an arena of its
  own (Arrow's and our worker threads), whose freed memory the others cannot reuse.
* **mimalloc keeps freed memory** (``MIMALLOC_PURGE_DELAY=-1``): Arrow's allocator otherwise returns
  it to the kernel 10 ms after it is freed (3.6 GB of ``madvise(DONTNEED)`` per cleaning at 1 M), and
  the next table faults it in again. mimalloc reads it when pyarrow is loaded, so it is put in the
  environment: it applies to this process when pyarrow is not imported yet (``aioa`` sets it first
  thing), and to the processes started from it. The same goes for ``OPENBLAS_NUM_THREADS=1``.

Together: 1.12 M → 0.85 M page faults and 2.7–3.9 → 2.3–2.7 s of kernel time at 1 M, for about
0.25 GB more peak memory (``docs/benchmarks.md``).

:func:`tune_for_large_tables` applies the settings to the running process (``aioa`` calls it first
thing); :data:`ENVIRONMENT` gives the same settings to child processes (the report kernels), since
glibc and mimalloc read them from the environment at start-up.
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

ARENA_MAX: Final = 2
"""At most two glibc arenas, whatever the number of threads that allocate."""

_M_TRIM_THRESHOLD: Final = -1  # <malloc.h>
_M_MMAP_THRESHOLD: Final = -3
_M_ARENA_MAX: Final = -8
_PR_SET_THP_DISABLE: Final = 41  # <linux/prctl.h>
_PR_GET_THP_DISABLE: Final = 42

MIMALLOC_VARIABLES: Final = {"MIMALLOC_PURGE_DELAY": "-1", "OPENBLAS_NUM_THREADS": "1"}  # and OpenBLAS
"""Read by libraries when they load, so put in the environment before: Arrow's mimalloc keeps the
memory it frees for reuse instead of returning it to the kernel, and numpy's OpenBLAS keeps no
worker threads (nothing here multiplies matrices; its idle workers spun for 0.1 s of CPU per
cleaning at 1 M, on a machine with two cores)."""

ENVIRONMENT: Final = {
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
    "MALLOC_ARENA_MAX": str(ARENA_MAX),
    **MIMALLOC_VARIABLES,
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
    """Apply :data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD` and :data:`ARENA_MAX` to this process
    and turn transparent huge pages off for it; True when applied.

    :data:`MIMALLOC_VARIABLES` go in ``os.environ`` (where not already set), on any system: they
    take effect if pyarrow and numpy are not loaded yet. With ``children``, all of
    :data:`ENVIRONMENT` goes there too, so the processes started from now on (the report kernels)
    get the same settings. The glibc and Linux settings are applied only there (False elsewhere).
    Does nothing at all (False) when :data:`DISABLE_VARIABLE` is ``1``. Safe to call more than once.
    """
    if os.environ.get(DISABLE_VARIABLE) == "1":
        return False
    for key, value in (ENVIRONMENT if children else MIMALLOC_VARIABLES).items():
        os.environ.setdefault(key, value)
    libc = _libc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    ok = libc.mallopt(_M_ARENA_MAX, ARENA_MAX) == 1 and ok
    if _prctl(libc, _PR_SET_THP_DISABLE, 1) != 0:  # kernels before 3.15 lack it: keep going
        log.debug("prctl(PR_SET_THP_DISABLE) refused; transparent huge pages stay as configured")
    if not ok:
        log.debug("mallopt refused the large-table allocator settings; glibc defaults kept")
    return ok


def huge_pages_disabled() -> bool | None:
    """Whether transparent huge pages are off for this process (``None`` outside Linux/glibc)."""
    libc = _libc()
    if libc is None:
        return None
    return bool(_prctl(libc, _PR_GET_THP_DISABLE, 0) == 1)


def _prctl(libc: ctypes.CDLL, option: int, arg: int) -> int:
    """``prctl(option, arg, 0, 0, 0)`` with the unsigned long arguments the system call takes."""
    ulong = ctypes.c_ulong
    return int(libc.prctl(ctypes.c_int(option), ulong(arg), ulong(0), ulong(0), ulong(0)))


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
