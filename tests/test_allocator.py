"""Allocator settings for large tables: applied on glibc, skipped when disabled, inherited by children."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aioa_analysis import allocator

glibc = pytest.mark.skipif(allocator._libc() is None, reason="not glibc")


@glibc
def test_applied_on_glibc(monkeypatch):
    monkeypatch.delenv(allocator.DISABLE_VARIABLE, raising=False)
    assert allocator.tune_for_large_tables() is True


def test_disabled_by_the_variable(monkeypatch):
    monkeypatch.setenv(allocator.DISABLE_VARIABLE, "1")
    for key in allocator.ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    assert allocator.tune_for_large_tables(children=True) is False
    assert not any(key in allocator.child_environment() for key in allocator.ENVIRONMENT)


@glibc
def test_children_inherit_the_settings_unless_the_user_set_them(monkeypatch):
    monkeypatch.delenv(allocator.DISABLE_VARIABLE, raising=False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "12345")  # the user's own choice wins
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    allocator.tune_for_large_tables(children=True)
    code = "import os; print(os.environ['MALLOC_MMAP_THRESHOLD_'], os.environ['MALLOC_TRIM_THRESHOLD_'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(allocator.MMAP_THRESHOLD), "12345"]
