"""Readers, property tests: random bytes, truncated files, wrong encodings and odd cells give either a
ReadResult satisfying the accounting identity, or a one-line AioaError — never another exception."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioa_analysis.errors import AioaError
from aioa_analysis.readers import ReadResult, UnexpectedReadError, read_file
from aioa_analysis.schema import REJECTED_COLUMNS, C

FIX = Path(__file__).parent / "fixtures" / "readers"
FIXTURES = sorted(p for p in FIX.iterdir() if p.suffix in {".csv", ".txt", ".tsv", ".json", ".xlsx"})
TEXT_FIXTURES = [p for p in FIXTURES if p.suffix != ".xlsx"]

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_bytes_as_file(data: bytes, name: str = "input.csv") -> ReadResult | AioaError:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        return _read(p)


def _read(p: Path) -> ReadResult | AioaError:
    try:
        r = read_file(p)
    except AioaError as exc:
        msg = str(exc)
        assert "\n" not in msg, msg
        assert not isinstance(exc, UnexpectedReadError), msg  # an anticipated, explained error
        return exc
    assert r.rows_read == len(r.frame) + len(r.rejected)
    assert r.lines_read >= 0 and r.rows_read >= 0
    assert list(r.rejected.columns) == list(REJECTED_COLUMNS)
    assert str(r.frame[C.source_row].dtype) == "Int64"
    assert all(r.frame[c].dtype == pd.StringDtype() for c in r.frame.columns if c != C.source_row)
    assert r.frame[C.source_row].notna().all()
    return r


@SETTINGS
@given(st.binary(max_size=3000), st.sampled_from(["x.csv", "x.xlsx", "x.json", "x.txt"]))
def test_random_bytes(data: bytes, name: str) -> None:
    _read_bytes_as_file(data, name)


@SETTINGS
@given(st.sampled_from(FIXTURES), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_fixture(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    _read_bytes_as_file(data[: int(len(data) * fraction)], path.name)


@SETTINGS
@given(st.sampled_from(FIXTURES), st.data())
def test_one_byte_mutated(path: Path, data: st.DataObject) -> None:
    raw = bytearray(path.read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    _read_bytes_as_file(bytes(raw), path.name)


@functools.cache
def _original(path: Path) -> ReadResult:
    return read_file(path)


@SETTINGS
@given(
    st.sampled_from(TEXT_FIXTURES),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "ascii", "mac_roman"]),
)
def test_wrong_encodings(path: Path, encoding: str) -> None:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    r = _read_bytes_as_file(text.encode(encoding, errors="replace"), path.name)
    if isinstance(r, ReadResult) and encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16"):
        # a faithful re-encoding reads the same records
        original = _original(path)
        assert r.rows_read == original.rows_read
        assert r.frame[C.source_row].tolist() == original.frame[C.source_row].tolist()


_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', '""', ";", ",", "\n", "\r\n", "|", "\t", " ", "’", "0041", "1e5", "45536", "NA"]),
)


@SETTINGS
@given(st.lists(st.lists(_cells, min_size=0, max_size=8), max_size=8), st.sampled_from([";", ",", "|", "\t"]))
def test_odd_cells_under_a_valid_header(rows: list[list[str]], sep: str) -> None:
    header = sep.join(["N° de contrat", "Nom", "Prénom", "Date de naissance", "Date de début du contrat"])
    body = "\n".join(sep.join(r) for r in rows)
    r = _read_bytes_as_file((header + "\n" + body).encode("utf-8"), "chambre.csv")
    if isinstance(r, ReadResult):
        assert r.profile == "chamber"
        assert r.lines_read == r.rows_read  # one record per data line for this profile


_xlsx_values = st.one_of(
    st.none(),
    st.text(max_size=10).filter(lambda s: not any(ord(c) < 32 for c in s)),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_xlsx_values, min_size=1, max_size=8), max_size=6))
def test_odd_cells_in_a_tba_workbook(rows: list[list[object]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "tba.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(
            [
                "nom_apprenant*",
                "prenom_apprenant*",
                "date_de_naissance_apprenant*",
                "contrat_date_debut",
                "contrat_date_debut_2",
                "siret_employeur",
                "contrat_date_rupture_3",
                "code_postal_apprenant*",
            ]
        )
        for row in rows:
            ws.append(row)
        wb.save(p)
        r = _read(p)
        assert isinstance(r, ReadResult) and r.profile == "tba_upload"
        assert r.lines_read == sum(
            any(v is not None and (not isinstance(v, str) or v.strip()) for v in row) for row in rows
        )
