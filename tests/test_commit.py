"""Whole-run commits (core.commit): readers see one complete run, killed runs leave no mix, one writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aioa_analysis.core.commit import current_generation, output_set, remove_stale, run_lock
from aioa_analysis.core.errors import OutputError

NAMES = ("contracts.parquet", "quality.json", "rejected.csv")


def _write_set(root: Path, tag: str) -> None:
    with output_set(root) as stage:
        for name in NAMES:
            (stage / name).write_text(tag)
        (stage / "cfa").mkdir()
        (stage / "cfa" / "a.html").write_text(tag)


def _visible(root: Path) -> set[str]:
    tags = {(root / name).read_text() for name in NAMES if (root / name).exists()}
    if (root / "cfa" / "a.html").exists():
        tags.add((root / "cfa" / "a.html").read_text())
    return tags


def test_a_commit_replaces_the_whole_set_and_keeps_one_generation(tmp_path):
    _write_set(tmp_path, "old")
    _write_set(tmp_path, "new")
    assert _visible(tmp_path) == {"new"}
    assert len(list((tmp_path / ".aioa" / "generations").iterdir())) == 1
    assert all((tmp_path / n).is_symlink() for n in NAMES)


def test_names_the_new_set_lacks_disappear(tmp_path):
    _write_set(tmp_path, "old")
    with output_set(tmp_path) as stage:
        (stage / "quality.json").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".aioa", "quality.json"]


def test_a_failing_run_leaves_the_previous_set_and_no_staging(tmp_path):
    _write_set(tmp_path, "old")
    with pytest.raises(RuntimeError), output_set(tmp_path) as stage:
        (stage / "contracts.parquet").write_text("half")
        raise RuntimeError("boom")
    assert _visible(tmp_path) == {"old"}
    assert len(list((tmp_path / ".aioa" / "generations").iterdir())) == 1


def test_an_os_error_while_staging_is_an_output_error(tmp_path):
    with pytest.raises(OutputError) as err, output_set(tmp_path) as stage:
        raise OSError(28, "No space left on device", str(stage / "x"))
    assert err.value.exit_code == 3 and "No space left" in str(err.value)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with run_lock(tmp_path), pytest.raises(OutputError, match="une autre exécution"):
        _write_set(tmp_path, "second")
    assert _visible(tmp_path) == set()


def test_a_second_writer_waits_when_asked(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from aioa_analysis.core.commit import run_lock; import time, pathlib\n"
         f"with run_lock(pathlib.Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(1.0)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    t0 = time.monotonic()
    with output_set(tmp_path, wait=10) as stage:
        (stage / "quality.json").write_text("waited")
    assert time.monotonic() - t0 > 0.3
    holder.wait(timeout=10)
    assert (tmp_path / "quality.json").read_text() == "waited"


def test_stale_generations_and_old_staging_folders_are_removed(tmp_path):
    _write_set(tmp_path, "old")
    stale = tmp_path / ".aioa" / "generations" / "19990101T000000-1"
    stale.mkdir()
    (tmp_path / ".staging-abc").mkdir()
    removed = remove_stale(tmp_path)
    assert stale in removed and not stale.exists() and not (tmp_path / ".staging-abc").exists()
    assert current_generation(tmp_path) is not None and _visible(tmp_path) == {"old"}


_SLOW_COMMIT = textwrap.dedent(
    """
    import os, sys, time, pathlib
    real_replace, real_symlink = os.replace, os.symlink
    def slow(f):
        def g(*a, **k):
            time.sleep(0.05)
            return f(*a, **k)
        return g
    os.replace, os.symlink = slow(real_replace), slow(real_symlink)
    from aioa_analysis.core.commit import output_set
    root = pathlib.Path(sys.argv[1])
    with output_set(root, wait=30) as stage:
        for name in ("contracts.parquet", "quality.json", "rejected.csv"):
            (stage / name).write_text("new")
            time.sleep(0.05)
        (stage / "cfa").mkdir()
        (stage / "cfa" / "a.html").write_text("new")
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.25, 0.3, 0.35, 0.4, 0.5])
def test_kill_during_the_commit_leaves_the_old_or_the_new_set_never_a_mix(tmp_path, delay):
    _write_set(tmp_path, "old")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_COMMIT, str(tmp_path)])
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    seen = _visible(tmp_path)
    assert seen in ({"old"}, {"new"}), seen
    _write_set(tmp_path, "next")  # the next run cleans up and commits
    assert _visible(tmp_path) == {"next"}
    assert len(list((tmp_path / ".aioa" / "generations").iterdir())) == 1
