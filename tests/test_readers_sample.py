"""Readers on the synthetic sample (data/raw/sample/): every file is detected and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioa_analysis.core.schema import SOURCES
from aioa_analysis.ingest.readers import detect_profile, discover_inputs, read_file

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
FILES = discover_inputs(SAMPLE) if SAMPLE.is_dir() else []


@pytest.mark.skipif(not FILES, reason="no sample files in data/raw/sample/ (run `aioa sample`)")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_sample_file_is_detected_and_read(path: Path) -> None:
    profile = detect_profile(path)
    assert profile in SOURCES
    r = read_file(path)
    assert r.profile == profile
    assert r.rows_read == len(r.frame) + len(r.rejected)
    assert len(r.frame) > 0
