"""Readers, property tests: random bytes, truncated files, wrong encodings and odd cells give either a
ReadResult satisfying the accounting identity, or a one-line AioaError — never another exception."""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioa_analysis.core.errors import AioaError
from aioa_analysis.core.schema import REJECTED_COLUMNS, C
from aioa_analysis.ingest.readers import ReadResult, UnexpectedReadError, read_file

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


# --------------------------------------------------------------------------------------------------
# fast paths checked against the plain Python they replace


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=64),
        st.text(max_size=30).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.lists(
            st.sampled_from([b"a", b"\xc3", b"\xa9", b"\xed\xa0\x80", b"\xf4\x90", b"\xef\xbb\xbf", b"\x00"])
        ).map(b"".join),
    )
)
def test_utf8_check_agrees_with_python(data: bytes) -> None:
    from aioa_analysis.ingest.readers.text import decode_bytes, is_utf8

    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert is_utf8(data) == valid
    dec = decode_bytes(data)
    assert dec.text == dec.data.decode(dec.codec)  # the lazily decoded text is the strict decoding
    assert dec.is_blank() == (not dec.text.strip())


@SETTINGS
@given(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\ufeff"), max_size=20),
    st.booleans(),
    st.data(),
)
def test_utf8_cut_anywhere_stays_utf8(text: str, bom: bool, data: st.DataObject) -> None:
    # a UTF-8 file cut at any byte (a truncated transfer, or the head read for detection) decodes as
    # UTF-8 to its longest complete prefix, with or without a BOM
    import codecs

    from aioa_analysis.ingest.readers.text import decode_bytes

    prefix = codecs.BOM_UTF8 if bom else b""
    full = prefix + text.encode()
    cut = full[: data.draw(st.integers(len(prefix), len(full)))]
    dec = decode_bytes(cut)
    assert dec.encoding == ("utf-8-sig" if bom else "utf-8")
    assert text.startswith(dec.text) and len(dec.data) > len(cut) - 4
    assert dec.text == cut.decode(dec.encoding, errors="ignore")  # only the incomplete tail is lost


def test_utf8_text_is_decoded_only_when_asked() -> None:
    from aioa_analysis.ingest.readers.text import decode_bytes

    dec = decode_bytes("Prénom;Nom\n".encode())
    assert dec.encoding == "utf-8" and dec._text is None  # the CSV path never needs the str
    assert not dec.is_blank() and dec._text is None  # a non-blank start answers from the head
    assert dec.text == "Prénom;Nom\n"


def test_blank_check_looks_past_the_head(tmp_path: Path) -> None:
    from aioa_analysis.core.errors import InputFileError, UnknownFormatError
    from aioa_analysis.ingest.readers.text import HEAD_BYTES

    blank = tmp_path / "blank.csv"
    blank.write_bytes(b" \n" * HEAD_BYTES)
    with pytest.raises(InputFileError, match="blank lines"):
        read_file(blank)
    late = tmp_path / "late.csv"
    late.write_bytes(b" \n" * HEAD_BYTES + "\u00a0é".encode())  # first non-blank byte far away
    with pytest.raises(UnknownFormatError):
        read_file(late)


@SETTINGS
@given(st.binary(max_size=200).map(lambda b: b.replace(b"x", b"\n")), st.integers(0, 220), st.integers(1, 9))
def test_count_newlines_is_bytes_count(data: bytes, start: int, step: int) -> None:
    from aioa_analysis.ingest.readers.text import count_newlines

    assert count_newlines(data, start, step=step) == data.count(b"\n", start)


@SETTINGS
@given(st.lists(st.lists(st.sampled_from(["", "", "x", "y"]), min_size=3, max_size=3), max_size=12))
def test_lines_of_separators_only_are_skipped(rows: list[list[str]]) -> None:
    header = "N° de contrat;Date de début du contrat;Nom"
    r = _read_bytes_as_file("\n".join([header, *(";".join(c) for c in rows)]).encode(), "c.csv")
    assert isinstance(r, ReadResult)
    kept = [i + 2 for i, cells in enumerate(rows) if any(cells)]
    assert r.frame[C.source_row].tolist() == kept


_codes = st.one_of(
    st.text(alphabet="0123456789.,eE+ ٤²", max_size=18),
    st.builds(
        lambda a, b, e, sep: f"{a}{sep}{b}E+{e}",
        st.integers(0, 99),
        st.integers(0, 10**14),
        st.integers(0, 35),
        st.sampled_from([".", ","]),
    ),
    st.builds(lambda a, z: f"{a}.{'0' * z}", st.integers(0, 10**6), st.integers(1, 3)),
    st.none(),
)


@SETTINGS
@given(st.lists(_codes, max_size=30))
def test_fix_code_text_matches_the_value_by_value_rule(values: list[str | None]) -> None:
    import re

    from aioa_analysis.ingest.readers.tabular import _NUMBER_LIKE, _exact_integer_text, fix_code_text

    s = pd.Series(values, dtype="string")
    expected = [v if v is None or not re.search(_NUMBER_LIKE, v) else _exact_integer_text(v) for v in values]
    assert [None if pd.isna(v) else v for v in fix_code_text(s)] == expected


@SETTINGS
@given(
    st.lists(
        st.lists(
            st.one_of(st.none(), st.sampled_from(["", " ", "12", " rue X ", "bis"])), min_size=3, max_size=3
        ),
        max_size=20,
    )
)
def test_address_parts_joined_like_the_row_by_row_rule(rows: list[list[str | None]]) -> None:
    from aioa_analysis.ingest.readers.tabular import combine_columns

    frame = pd.DataFrame({i: pd.Series([r[i] for r in rows], dtype="string") for i in range(3)})
    expected = []
    for r in rows:
        joined = " ".join(v for v in r if v is not None).strip()
        expected.append(joined or None)
    got = combine_columns(frame, [0, 1, 2], "address")
    assert [None if pd.isna(v) else v for v in got] == expected
