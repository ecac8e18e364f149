"""Allocator settings for large tables: applied on glibc, skipped when disabled, inherited by children."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aioa_analysis.core import allocator

glibc = pytest.mark.skipif(allocator._libc() is None, reason="not glibc")


def _clean_environment(monkeypatch):
    monkeypatch.delenv(allocator.DISABLE_VARIABLE, raising=False)
    for key in allocator.ENVIRONMENT:  # restored after the test (never leaks into later ones)
        monkeypatch.delenv(key, raising=False)


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


@glibc
def test_applied_on_glibc(monkeypatch):
    _clean_environment(monkeypatch)
    assert allocator.tune_for_large_tables() is True
    # the mimalloc setting is in the environment (read when pyarrow loads); glibc's are not
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "-1" and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert "MALLOC_ARENA_MAX" not in os.environ


def _thp_prctl_works() -> bool:
    libc = allocator._libc()
    return libc is not None and allocator._prctl(libc, allocator._PR_GET_THP_DISABLE, 0) >= 0


@glibc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux")
@pytest.mark.skipif(not _thp_prctl_works(), reason="kernel without PR_SET_THP_DISABLE (before 3.15)")
def test_huge_pages_off_in_the_process_and_its_children():
    code = (
        "import subprocess, sys; from aioa_analysis.core import allocator; "
        "allocator._prctl(allocator._libc(), allocator._PR_SET_THP_DISABLE, 0); "  # as a fresh process
        "before = allocator.huge_pages_disabled(); allocator.tune_for_large_tables(); "
        "child = subprocess.run([sys.executable, '-c', 'from aioa_analysis.core import allocator; "
        "print(allocator.huge_pages_disabled())'], capture_output=True, text=True).stdout.strip(); "
        "print(before, allocator.huge_pages_disabled(), child)"
    )
    assert _python(code).split() == ["False", "True", "True"]


def test_the_cli_module_does_not_load_pyarrow_or_numpy():
    # `aioa` puts the mimalloc and OpenBLAS settings in the environment first thing: they only apply
    # if pyarrow (which loads mimalloc) and numpy (OpenBLAS) are not imported before, i.e. not by
    # `aioa_analysis.cli` itself
    code = "import sys, aioa_analysis.cli; print('pyarrow' in sys.modules, 'numpy' in sys.modules)"
    assert _python(code).split() == ["False", "False"]


def test_disabled_by_the_variable(monkeypatch):
    _clean_environment(monkeypatch)
    monkeypatch.setenv(allocator.DISABLE_VARIABLE, "1")
    assert allocator.tune_for_large_tables(children=True) is False
    assert not any(key in os.environ for key in allocator.ENVIRONMENT)
    assert not any(key in allocator.child_environment() for key in allocator.ENVIRONMENT)


@glibc
def test_children_inherit_the_settings_unless_the_user_set_them(monkeypatch):
    _clean_environment(monkeypatch)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "12345")  # the user's own choice wins
    allocator.tune_for_large_tables(children=True)
    names = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "MIMALLOC_PURGE_DELAY"]
    names.append("OPENBLAS_NUM_THREADS")
    out = _python(f"import os; print(*(os.environ[k] for k in {names!r}))")
    assert out.split() == [str(allocator.MMAP_THRESHOLD), "12345", str(allocator.ARENA_MAX), "-1", "1"]
