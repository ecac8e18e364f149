"""Run one benchmark step in its own process and measure its wall time, CPU time and peak memory.

One step per child process, so peaks never mix: the peak resident set size (RSS) comes from the
``rusage`` that ``os.wait4`` returns for *that* child (Linux ``ru_maxrss``, in KiB; it includes
the child's own waited-for children, e.g. the Jupyter kernel papermill starts for a report). The
CPU time is kept as user and system (kernel) time, with the number of minor page faults: on a
virtual machine the kernel's time per fault depends on the host, and tells the machine's cost of
touching fresh memory apart from the code's own work.

A step may leave machine-readable details (row counts, per-statistic timings) in the JSON file
named by the environment variable :data:`INFO_ENV`; :func:`run_step` returns them in ``info``.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

INFO_ENV = "AIOA_BENCH_INFO"
"""Environment variable naming the JSON file a step may write its details to."""


@dataclass
class StepResult:
    """What one measured step did.

    ``status`` is ``ok``, ``failed`` (non-zero exit or timeout; ``message`` says why) or
    ``skipped`` (a prerequisite is missing; ``message`` says which).
    """

    step: str
    status: str
    wall_s: float = float("nan")
    cpu_s: float = float("nan")
    user_s: float = float("nan")
    sys_s: float = float("nan")
    peak_rss_mb: float = float("nan")
    minor_faults: int | None = None
    returncode: int | None = None
    message: str = ""
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        return asdict(self)


def skipped(step: str, reason: str) -> StepResult:
    """A step that was not run, with the reason."""
    return StepResult(step=step, status="skipped", message=reason)


def _tail(path: Path, n: int = 3) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])[-600:]


ADDRESS_SPACE_FACTOR = 1.5
"""The address space of a step is capped at this multiple of its memory cap (see :func:`run_step`)."""

POLL_S = 0.1
"""How often the resident memory of a capped step is read."""


def _limiter(limit: int | None):
    if not limit:
        return None
    space = int(limit * ADDRESS_SPACE_FACTOR)

    def set_limit() -> None:  # runs in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (space, space))

    return set_limit


def tree_pids(pid: int) -> list[int]:
    """Process ``pid`` and all its descendants, from ``/proc`` (Linux; ``[pid]`` elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def tree_rss_bytes(pid: int, pids: list[int] | None = None) -> int:
    """Resident memory of process ``pid`` and all its descendants (Linux ``/proc``); ``pids``:
    that tree when already listed by :func:`tree_pids`."""
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    total = 0
    for p in tree_pids(pid) if pids is None else pids:
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def _watch_memory(pid: int, limit: int, done: threading.Event, over: list[int]) -> None:
    """Kill ``pid``, its process group and every descendant (a Jupyter kernel may have a session
    of its own) once their resident memory goes above ``limit``."""
    while not done.wait(POLL_S):
        pids = tree_pids(pid)
        rss = tree_rss_bytes(pid, pids)
        if rss > limit:
            over.append(rss)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            for p in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(p, signal.SIGKILL)
            return


def run_step(
    step: str,
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float | None = None,
    log_dir: Path | None = None,
    mem_limit_bytes: int | None = None,
) -> StepResult:
    """Run ``cmd`` as a child process and measure it.

    Parameters
    ----------
    step : name of the step (for the result and the log file names).
    cmd : the command (argv list).
    env : extra environment variables (added to the current environment).
    cwd : working directory of the child.
    timeout_s : kill the child's process group after this many seconds (status ``failed``).
    log_dir : where the child's stdout/stderr go (``<step>.out`` / ``<step>.err``); a temporary
        folder when not given.
    mem_limit_bytes : cap on the step's resident memory (RSS of the child and its descendants, the
        measure the memory targets are set in), read every :data:`POLL_S` seconds on Linux: a step
        that goes above it is killed with its descendants and fails, instead of pushing a shared
        machine into the OOM killer (elsewhere only the address-space cap applies). Its
        address space is also capped, at :data:`ADDRESS_SPACE_FACTOR` times the cap (``RLIMIT_AS``),
        so that one huge allocation fails at once with a MemoryError. Address space is not the
        measure itself: allocators reserve more than they use (at 5 M contracts `aioa clean` has
        about 3 GiB more address space than resident memory).

    Examples
    --------
    >>> r = run_step("echo", ["python3", "-c", "print('hi')"])
    >>> r.status, r.returncode, r.peak_rss_mb > 0
    ('ok', 0, True)
    """
    log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="aioa-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{step}.out", log_dir / f"{step}.err"
    info_path = log_dir / f"{step}.info.json"
    info_path.unlink(missing_ok=True)
    full_env = {**os.environ, **(env or {}), INFO_ENV: str(info_path)}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_limiter(mem_limit_bytes),
        )
        status, usage, timed_out, over = _wait(proc, timeout_s, mem_limit_bytes)
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # reaped by wait4: tell Popen so it does not wait again
    result = StepResult(
        step=step,
        status="ok" if rc == 0 and not timed_out and not over else "failed",
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        minor_faults=usage.ru_minflt,
        returncode=rc,
        info=_read_info(info_path),
    )
    if timed_out:
        result.message = f"timed out after {timeout_s:.0f} s"
    elif over:
        result.message = (
            f"killed above the {mem_limit_bytes / 1e9:.3g} GB memory cap "  # type: ignore[operator]
            f"(resident memory {over[0] / 1e9:.1f} GB)"
        )
    elif rc != 0:
        result.message = f"exit {rc}: {_tail(err_path) or _tail(out_path)}"
        if mem_limit_bytes and "MemoryError" in (_tail(err_path, 50) + _tail(out_path, 50)):
            result.message = (
                f"out of memory under the {mem_limit_bytes * ADDRESS_SPACE_FACTOR / 1e9:.0f} GB "
                f"address-space cap; " + result.message
            )
        elif rc == -signal.SIGKILL:
            result.message = (
                f"killed by SIGKILL at a peak RSS of {result.peak_rss_mb / 1024:.1f} GiB "
                "(the kernel's OOM killer, when the machine ran out of memory)"
            )
    return result


def _wait(
    proc: subprocess.Popen, timeout_s: float | None, mem_limit_bytes: int | None
) -> tuple[int, resource.struct_rusage, bool, list[int]]:
    """Wait for ``proc`` under its time and memory caps: its wait status and ``rusage``, whether it
    timed out, and the resident memory it was killed at (empty when under the cap)."""
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout_s, _kill) if timeout_s else None
    if timer:
        timer.start()
    done, over = threading.Event(), []  # type: ignore[var-annotated]
    watcher = (
        threading.Thread(target=_watch_memory, args=(proc.pid, mem_limit_bytes, done, over), daemon=True)
        if mem_limit_bytes and sys.platform.startswith("linux")
        else None
    )
    if watcher:
        watcher.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        done.set()
        if timer:
            timer.cancel()
        if watcher:
            watcher.join()
    return status, usage, timed_out.is_set(), over


def _read_info(path: Path) -> dict:
    """The details a step left with :func:`write_info` (empty when none)."""
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return {"info_error": str(exc)}


def write_info(info: Mapping[str, object]) -> None:
    """Called inside a step: save ``info`` where :func:`run_step` will read it (no-op otherwise)."""
    path = os.environ.get(INFO_ENV)
    if path:
        Path(path).write_text(json.dumps(info, default=str, indent=1), encoding="utf-8")
