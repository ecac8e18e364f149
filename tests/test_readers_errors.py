"""Readers: every file problem a user can cause gives one line naming the file and the fix."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from aioa_analysis.core.errors import AioaError, InputFileError, ParameterError, UnknownFormatError
from aioa_analysis.ingest.readers import UnexpectedReadError, detect_profile, discover_inputs, read_file

FIX = Path(__file__).parent / "fixtures" / "readers"
OLE = bytes.fromhex("D0CF11E0A1B11AE1")


def _one_line(exc: AioaError, name: str) -> str:
    msg = str(exc)
    assert "\n" not in msg and "Traceback" not in msg
    assert name in msg
    assert " — " in msg  # what is wrong — how to fix it
    assert not isinstance(exc, UnexpectedReadError), msg
    return msg


def _raises(path: Path, cls: type[AioaError], match: str, **kw: object) -> str:
    with pytest.raises(cls) as info:
        read_file(path, **kw)  # type: ignore[arg-type]
    msg = _one_line(info.value, path.name)
    assert match in msg, msg
    return msg


def test_missing_file_and_folder(tmp_path: Path) -> None:
    _raises(tmp_path / "absent.csv", InputFileError, "file not found")
    _raises(tmp_path, InputFileError, "is a folder")


def test_empty_and_blank_files(tmp_path: Path) -> None:
    (tmp_path / "vide.csv").write_bytes(b"")
    _raises(tmp_path / "vide.csv", InputFileError, "empty")
    (tmp_path / "blanc.csv").write_bytes(b"\r\n  \n\n")
    _raises(tmp_path / "blanc.csv", InputFileError, "blank lines")


def test_binary_junk(tmp_path: Path) -> None:
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 4)
    _raises(tmp_path / "junk.csv", InputFileError, "binary data")
    (tmp_path / "doc.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    _raises(tmp_path / "doc.csv", InputFileError, "PDF")


def test_corrupt_workbook(tmp_path: Path) -> None:
    data = (FIX / "tba_upload.xlsx").read_bytes()
    (tmp_path / "coupe.xlsx").write_bytes(data[: len(data) // 2])
    _raises(tmp_path / "coupe.xlsx", InputFileError, "corrupt")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "archive.xlsx", "w") as zf:
        zf.writestr("export.csv", "a;b\n")
    _raises(tmp_path / "archive.xlsx", InputFileError, "ZIP archive")
    with zipfile.ZipFile(tmp_path / "calc.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<x/>")
    _raises(tmp_path / "calc.ods", InputFileError, "OpenDocument")


def test_password_protected_workbook(tmp_path: Path) -> None:
    # An encrypted OOXML workbook is an OLE compound file holding an "EncryptedPackage" stream
    # (directory entry names are UTF-16LE).
    body = OLE + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50
    body += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1000
    (tmp_path / "protege.xlsx").write_bytes(body)
    msg = _raises(tmp_path / "protege.xlsx", InputFileError, "password-protected")
    assert "sans mot de passe" in msg


def test_legacy_xls(tmp_path: Path) -> None:
    (tmp_path / "ancien.xls").write_bytes(
        OLE + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 600
    )
    _raises(tmp_path / "ancien.xls", InputFileError, ".xls")


def test_xls_named_file_that_is_really_csv_is_read(tmp_path: Path) -> None:
    # some tools write CSV/HTML under a .xls name: the content decides
    p = tmp_path / "export.xls"
    p.write_bytes((FIX / "exam_results.csv").read_bytes())
    assert read_file(p).profile == "exam_results"


def test_bad_json(tmp_path: Path) -> None:
    (tmp_path / "coupe.json").write_text('{"contrats": [{"detailsContrat": {"noContrat": "1"', "utf-8")
    _raises(tmp_path / "coupe.json", InputFileError, "invalid JSON at line 1")
    (tmp_path / "autre.json").write_text('{"data": [1, 2]}', "utf-8")
    _raises(tmp_path / "autre.json", UnknownFormatError, "'contrats'")
    (tmp_path / "sans.json").write_text('{"contrats": [{"alternant": {"nom": "X"}}]}', "utf-8")
    msg = _raises(tmp_path / "sans.json", UnknownFormatError, "contract_id")
    assert "detailsContrat.noContrat" in msg  # the expected JSON path is named


def test_unknown_csv_names_missing_columns_and_profiles(tmp_path: Path) -> None:
    p = tmp_path / "inconnu.csv"
    p.write_text("foo;bar;baz\n1;2;3\n", "utf-8")
    msg = _raises(p, UnknownFormatError, "no header row recognised")
    assert "deca_extract, tba_upload, chamber, exam_results, sifa" in msg
    assert "closest profile" in msg


def test_source_mismatch(tmp_path: Path) -> None:
    _raises(FIX / "exam_results.csv", UnknownFormatError, "deca_api", source="deca_api")
    _raises(FIX / "deca_api.json", UnknownFormatError, "JSON file", source="chamber")
    _raises(FIX / "tba_upload.xlsx", UnknownFormatError, "workbook", source="sifa")
    with pytest.raises(ParameterError, match="unknown source"):
        read_file(FIX / "exam_results.csv", source="nope")


def test_detect_profile_errors(tmp_path: Path) -> None:
    (tmp_path / "vide.csv").write_bytes(b"")
    with pytest.raises(InputFileError):
        detect_profile(tmp_path / "vide.csv")


def test_discover_inputs(tmp_path: Path) -> None:
    for name in ("b.csv", "a.xlsx", "_ground_truth.json", ".gitkeep", "~$a.xlsx", "README", "notes.md"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.csv").write_text("x")
    assert [p.name for p in discover_inputs(tmp_path)] == ["a.xlsx", "b.csv"]
    with pytest.raises(InputFileError, match="does not exist"):
        discover_inputs(tmp_path / "absent")
