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
import pandas as pd
import pytest

from aioa_analysis.core.errors import DataError, InputFileError, KeyFileError
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


# --- aioa clean: the run's own guards ---------------------------------------------------------------

CHAMBER = "N° de contrat;Date de début du contrat;Date de fin prévue;Nom;Prénom;Date de naissance;UAI du CFA;Code diplôme;Effectif de l'entreprise\n"


def _chamber(folder: Path, rows: list[str], name: str = "chambre_20251130.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(CHAMBER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _rows(n: int, start: int = 1) -> list[str]:
    return [
        f"{i:03d};02/09/2024;31/08/2026;NOM{i};Prénom{i};0{1 + i % 9}/01/2006;0410590U;50022109;12"
        for i in range(start, start + n)
    ]


@pytest.fixture
def places(tmp_path, monkeypatch):
    for env, sub in (
        ("AIOA_RAW_DIR", "raw"),
        ("AIOA_PROCESSED_DIR", "processed"),
        ("AIOA_RESTRICTED_DIR", "restricted"),
        ("AIOA_REPORTS_DIR", "reports"),
    ):
        monkeypatch.setenv(env, str(tmp_path / sub))
    monkeypatch.setenv("AIOA_KEY_FILE", str(tmp_path / "keys" / "pseudonym.key"))
    return tmp_path


def test_a_run_that_rejects_every_row_keeps_the_previous_outputs(places):
    """Case 1: a file whose dates are all impossible emptied contracts.parquet and the identity store."""
    from aioa_analysis.ingest.pipeline import run_clean

    out = places / "processed"
    run_clean([_chamber(places / "in", _rows(30))], out_dir=out)
    before = pd.read_parquet(out / "contracts.parquet")
    store = (places / "restricted" / "identities.parquet").read_bytes()
    bad = [r.replace("02/09/2024", "31/02/2024") for r in _rows(30)]
    with pytest.raises(DataError, match="no contract is left") as err:
        run_clean([_chamber(places / "in2", bad)], out_dir=out)
    assert err.value.exit_code == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out / "contracts.parquet"), before)
    assert (places / "restricted" / "identities.parquet").read_bytes() == store


def test_a_run_that_loses_most_contracts_is_refused_unless_allowed(places):
    from aioa_analysis.ingest.pipeline import run_clean

    out = places / "processed"
    run_clean([_chamber(places / "in", _rows(30))], out_dir=out)
    small = _chamber(places / "in2", _rows(10))
    with pytest.raises(DataError, match="10 contracts instead of 30"):
        run_clean([small], out_dir=out)
    assert len(pd.read_parquet(out / "contracts.parquet")) == 30
    run_clean([small], out_dir=out, allow_shrink=True)
    assert len(pd.read_parquet(out / "contracts.parquet")) == 10


def test_a_missing_key_is_not_regenerated_once_pseudonyms_exist(places):
    """Case 15: with -q (the cron line) a missing key was regenerated silently; every pseudonym changed."""
    from aioa_analysis.ingest.pipeline import run_clean

    out = places / "processed"
    src = _chamber(places / "in", _rows(30))
    run_clean([src], out_dir=out)
    keys = pd.read_parquet(out / "contracts.parquet")["apprentice_key"]
    key_file = places / "keys" / "pseudonym.key"
    key_file.unlink()
    with pytest.raises(KeyFileError, match="missing") as err:
        run_clean([src], out_dir=out)
    assert err.value.exit_code == 5 and not key_file.exists()
    key_file.write_text("b" * 64)
    key_file.chmod(0o600)
    with pytest.raises(KeyFileError, match="not the one of the previous run"):
        run_clean([src], out_dir=out)
    pd.testing.assert_series_equal(pd.read_parquet(out / "contracts.parquet")["apprentice_key"], keys)
    run_clean([src], out_dir=out, new_key=True)  # on purpose
    assert not pd.read_parquet(out / "contracts.parquet")["apprentice_key"].equals(keys)


def test_rejected_csv_neutralises_formula_cells(places):
    """Case 8: rejected.csv kept ``=HYPERLINK(...)``, ``+cmd``, ``@SUM`` as written."""
    from aioa_analysis.ingest.pipeline import run_clean

    rows = [*_rows(3), '=HYPERLINK("http://x");@SUM(A1);31/08/2026;+cmd;A;01/01/2006;0410590U;50022109;1']
    out = places / "processed"
    run_clean([_chamber(places / "in", rows)], out_dir=out)
    text = (out / "rejected.csv").read_text(encoding="utf-8")
    assert "'@SUM(A1)" in text
    assert not any(cell.startswith(("=", "+", "@")) for line in text.splitlines() for cell in line.split(","))


def test_two_apprentices_under_one_contract_id_are_listed_as_a_conflict(places):
    """Case 11: merged silently, no conflict recorded."""
    from aioa_analysis.ingest.pipeline import run_clean

    rows = [*_rows(3), "001;02/09/2024;31/08/2026;AUTRE;Personne;03/03/2005;0410590U;50022109;12"]
    out = places / "processed"
    run_clean([_chamber(places / "in", rows)], out_dir=out)
    conflicts = pd.read_csv(out / "conflicts.csv", dtype=str)
    mine = conflicts.loc[conflicts["column"] == "apprentice_key"]
    assert mine["contract_id"].unique().tolist() == ["000000000000001"] and len(mine) == 2
    assert not conflicts.apply(lambda c: c.str.contains("AUTRE|Personne", na=False)).any().any()
    contracts = pd.read_parquet(out / "contracts.parquet")
    assert contracts.set_index("contract_id").loc["000000000000001", "merge_conflicts"] >= 1


def test_a_headcount_of_ten_to_the_23_is_set_missing_not_negative(places, caplog):
    """Case 12: a headcount of 10^23 was stored as -2^63."""
    from aioa_analysis.ingest.pipeline import run_clean

    rows = [*_rows(3), "004;02/09/2024;31/08/2026;NOM;Prénom;01/01/2006;0410590U;50022109;1" + "0" * 23]
    out = places / "processed"
    with caplog.at_level(logging.WARNING, logger="aioa_analysis"):
        run_clean([_chamber(places / "in", rows)], out_dir=out)
    heads = pd.read_parquet(out / "contracts.parquet").set_index("contract_id")["employer_headcount"]
    assert heads.loc["000000000000001"] == 12 and pd.isna(heads.loc["000000000000004"])
    assert "hors bornes" in caplog.text


def test_implausible_ages_and_durations_are_said_not_kept(places, caplog):
    """Bounds for ages (14 to 80 at the start) and planned durations (5 years at most)."""
    from aioa_analysis.ingest.pipeline import run_clean

    rows = [
        *_rows(3),
        "005;02/09/2024;31/08/2026;NOM;Bébé;01/01/2023;0410590U;50022109;12",  # 1 year old at the start
        "006;02/09/2024;31/08/2034;NOM;Long;01/01/2006;0410590U;50022109;12",  # ten years planned
    ]
    out = places / "processed"
    with caplog.at_level(logging.WARNING, logger="aioa_analysis"):
        run_clean([_chamber(places / "in", rows)], out_dir=out)
    contracts = pd.read_parquet(out / "contracts.parquet").set_index("contract_id")
    assert pd.isna(contracts.loc["000000000000005", "age_at_start"]) and "âge(s)" in caplog.text
    assert "000000000000006" not in contracts.index
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert (rejected["reason"] == "planned duration over 5 years").sum() == 1


def test_a_missing_key_is_refused_beside_outputs_of_an_older_version(places):
    """Outputs written before the key fingerprint existed still mean pseudonyms exist."""
    import json

    from aioa_analysis.ingest.pipeline import run_clean

    out = places / "processed"
    src = _chamber(places / "in", _rows(30))
    run_clean([src], out_dir=out)
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    del quality["key_fingerprint"]
    (out / "quality.json").unlink()
    (out / "quality.json").write_text(json.dumps(quality), encoding="utf-8")
    (places / "keys" / "pseudonym.key").unlink()
    with pytest.raises(KeyFileError, match="missing"):
        run_clean([src], out_dir=out)
