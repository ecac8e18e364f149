"""Hostile input (issue "Hardening"): each case found by the attack, reproduced and held.

The readers' cases are here; whole-run commits are in ``test_commit.py``; exit codes per fault class
and the commands' cases in ``test_faults.py``.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import openpyxl
import pytest

from aioa_analysis.core.errors import InputFileError
from aioa_analysis.ingest.readers import read_file

HEADER = "N° de contrat;Date de début du contrat;Nom;Prénom\n"


def test_mixed_encodings_are_repaired_line_by_line_and_said(tmp_path, caplog):
    """Case 4: UTF-8 and cp1252 lines in one file; "Léa" must not become "LÃ©a"."""
    path = tmp_path / "chambre.csv"
    path.write_bytes(
        (HEADER + "1;02/09/2024;MARTIN;Léa\n").encode("utf-8")
        + "2;02/09/2024;DURAND;Éloïse\n".encode("cp1252")
    )
    with caplog.at_level(logging.WARNING, logger="aioa_analysis"):
        result = read_file(path)
    assert result.frame["first_name"].tolist() == ["Léa", "Éloïse"]
    assert (
        "encodages mélangés" in result.details["encoding_note"]
        and "ligne 3" in result.details["encoding_note"]
    )
    assert any("encodages mélangés" in r.getMessage() for r in caplog.records)


def test_a_plain_cp1252_file_is_not_called_mixed(tmp_path):
    path = tmp_path / "chambre.csv"
    path.write_bytes((HEADER + "1;02/09/2024;DURAND;Éloïse\n").encode("cp1252"))
    result = read_file(path)
    assert result.details["encoding"] == "cp1252" and "encoding_note" not in result.details
    assert result.frame["first_name"].tolist() == ["Éloïse"]


def _workbook(path: Path, sheets: list[tuple[str, str, list[list[object]]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


ROWS_OLD = [["N° de contrat", "Date de début du contrat", "Nom", "Prénom"], ["OLD", "2020-09-01", "A", "B"]]
ROWS_NEW = [["N° de contrat", "Date de début du contrat", "Nom", "Prénom"], ["NEW", "2024-09-02", "C", "D"]]


def test_the_visible_sheet_is_read_before_a_stale_hidden_one(tmp_path):
    """Case 5: a stale hidden sheet placed first."""
    path = _workbook(tmp_path / "c.xlsx", [("ancien", "hidden", ROWS_OLD), ("contrats", "visible", ROWS_NEW)])
    result = read_file(path)
    assert result.frame["contract_id"].tolist() == ["NEW"]
    assert result.details["sheet"] == "contrats" and result.details["hidden_sheets"] == ["ancien"]


def test_a_hidden_sheet_is_read_only_when_no_visible_one_matches_and_it_is_said(tmp_path, caplog):
    path = _workbook(tmp_path / "c.xlsx", [("données", "hidden", ROWS_NEW), ("notes", "visible", [["rien"]])])
    with caplog.at_level(logging.WARNING, logger="aioa_analysis"):
        result = read_file(path)
    assert result.frame["contract_id"].tolist() == ["NEW"]
    assert any("feuille masquée" in r.getMessage() for r in caplog.records)


def test_a_workbook_whose_part_would_explode_in_memory_is_refused_before_reading(tmp_path):
    """Case 13: a 200 KB workbook holding one 200 MB cell (here 64 MB of one letter, 1,000x compressed)."""
    path = _workbook(tmp_path / "c.xlsx", [("contrats", "visible", ROWS_NEW)])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/sharedStrings.xml", b"<sst>" + b"A" * (64 << 20) + b"</sst>")
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(InputFileError, match="more than 200 times its size"):
        read_file(bomb)


def test_a_json_key_named_twice_is_refused(tmp_path):
    """Case 12: a duplicate key ``contrats`` would keep 1 of 30 contracts silently."""
    one = {"noContrat": "1", "dateDebutContrat": "2024-09-02"}
    text = '{"contrats": [' + json.dumps(one) + "], " + '"contrats": [' + json.dumps(one) + "]}"
    path = tmp_path / "deca_api.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match="'contrats' appears twice"):
        read_file(path)
