"""The pipeline and `aioa clean` on small files: outputs, accounting, atomicity, determinism, privacy."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from aioa_analysis import cli
from aioa_analysis.core.errors import InputFileError, OutputError
from aioa_analysis.core.schema import CONTRACT_DTYPES, REJECTED_COLUMNS
from aioa_analysis.ingest import pipeline

HEADER = "contract_id;surname;first_name;birth_date;sex;cfa_uai;diploma_code;start_date;planned_end_date;rupture_date;rupture_reason;phone;email;address\n"
ROWS = [
    "1;Dupont;Léa;02/03/2007;F;0410590U;50022109;02/09/2024;31/08/2026;15/10/2024;Démission;0611223344;lea@exemple.fr;3 rue des Lilas",
    "1;Dupont;Léa;02/03/2007;F;0410590U;50022109;02/09/2024;31/08/2026;15/10/2024;Démission;0611223344;lea@exemple.fr;3 rue des Lilas",  # exact duplicate
    "2;Martin;Paul;01/01/2006;M;0410592W;40025214;31/02/2024;31/08/2026;;;0622334455;paul@exemple.fr;",  # impossible date
    "3;Roy;Zoé;05/05/2005;F;0410590U;50022109;01/09/2023;30/06/2025;;;;;",
]
EXAMS = "\ufeffNom;Prénom;Date de naissance;INE;Code diplôme;Intitulé du diplôme;Session;Résultat\nRoy;Zoé;05/05/2005;;50022109;CAP;2025;Admis\n"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    for env, sub in (
        ("AIOA_RAW_DIR", "raw"),
        ("AIOA_SAMPLE_DIR", "raw/sample"),
        ("AIOA_PROCESSED_DIR", "processed"),
        ("AIOA_RESTRICTED_DIR", "restricted"),
        ("AIOA_REPORTS_DIR", "reports"),
    ):
        monkeypatch.setenv(env, str(tmp_path / sub))
    monkeypatch.setenv("AIOA_KEY_FILE", str(tmp_path / "keys" / "pseudonym.key"))


def _write(folder: Path, name: str = "cma_202511300600.csv", rows=ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(HEADER + "\n".join(rows) + "\n", encoding="cp1252")
    return p


def test_outputs_and_accounting(tmp_path):
    src = _write(tmp_path / "in")
    exams = tmp_path / "in" / "resultats.csv"
    exams.write_text(EXAMS, encoding="utf-8")
    run = pipeline.run_clean([src, exams], out_dir=tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if p.name != ".aioa") == sorted(
        ["contracts.parquet", "exam_results.parquet", "rejected.csv", "conflicts.csv", "quality.json"]
    )
    contracts = pd.read_parquet(out / "contracts.parquet")
    assert list(contracts.columns) == list(CONTRACT_DTYPES)
    assert {c: str(t) for c, t in contracts.dtypes.items()} == CONTRACT_DTYPES
    assert contracts["contract_id"].tolist() == ["000000000000001", "000000000000003"]  # sorted
    roy = contracts.iloc[1]
    assert roy["diploma_outcome"] == "admis" and roy["exam_session"] == "2025"
    q = json.loads((out / "quality.json").read_text())
    assert q["as_of"] == "2025-11-30" and q["as_of_source"] == "file_name"
    assert q["sample_used"] is False
    f = {x["file"]: x for x in q["files"]}
    cma = f["cma_202511300600.csv"]
    assert (cma["rows_read"], cma["rows_clean"], cma["rows_merged"], cma["rows_rejected"]) == (4, 2, 1, 1)
    assert cma["rejections_by_reason"] == {"impossible date": 1}
    assert cma["profile"] == "chamber" and len(cma["sha256"]) == 64
    assert f["resultats.csv"]["profile"] == "exam_results" and f["resultats.csv"]["rows_clean"] == 1
    t = q["total"]
    assert t["rows_read"] == t["rows_clean"] + t["rows_merged"] + t["rows_rejected"] == 5
    assert q["coverage"]["by_cfa"][0]["cfa_uai"] == "0410590U"
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert tuple(rejected.columns) == REJECTED_COLUMNS
    assert rejected.iloc[0].tolist() == [
        "cma_202511300600.csv",
        "4",
        "start_date",
        "impossible date",
        "31/02/2024",
    ]
    assert run.n_contracts == 2


def test_no_identity_value_anywhere_in_processed_outputs(tmp_path):
    src = _write(tmp_path / "in")
    pipeline.run_clean([src], out_dir=tmp_path / "out")
    contracts = pd.read_parquet(tmp_path / "out" / "contracts.parquet")
    secrets = [
        "Dupont",
        "Léa",
        "Martin",
        "Paul",
        "Roy",
        "Zoé",
        "0611223344",
        "0622334455",
        "lea@exemple.fr",
        "paul@exemple.fr",
        "Lilas",
        "2007-03-02",
        "2006-01-01",
        "2005-05-05",
    ]
    for col in contracts.columns:
        text = contracts[col].astype("string").fillna("")
        for s in secrets:
            assert not text.str.contains(s, regex=False).any(), (col, s)
    for name in ("rejected.csv", "conflicts.csv", "quality.json"):
        body = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert not any(s in body for s in secrets), name


def test_identity_store_is_restricted(tmp_path):
    src = _write(tmp_path / "in")
    run = pipeline.run_clean([src], out_dir=tmp_path / "out")
    p = run.identity_path
    assert p == tmp_path / "restricted" / "identities.parquet"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600 and stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    ident = pd.read_parquet(p)
    assert set(ident["surname"]) == {"Dupont", "Roy"}  # the rejected row's person is not there: no contract
    contracts = pd.read_parquet(tmp_path / "out" / "contracts.parquet")
    assert set(contracts["apprentice_key"]) <= set(ident["apprentice_key"])


def test_same_inputs_same_bytes(tmp_path):
    src = _write(tmp_path / "in")
    pipeline.run_clean([src], out_dir=tmp_path / "a")
    pipeline.run_clean([src], out_dir=tmp_path / "b")
    for name in ("contracts.parquet", "rejected.csv", "conflicts.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_failed_run_leaves_previous_outputs_untouched(tmp_path, monkeypatch):
    src = _write(tmp_path / "in")
    out = tmp_path / "out"
    pipeline.run_clean([src], out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    restricted = tmp_path / "restricted"
    store_before = {p.name: p.read_bytes() for p in restricted.iterdir()}
    assert list(store_before) == ["identities.parquet"]
    empty = tmp_path / "in" / "vide.csv"
    empty.write_text("")
    with pytest.raises(InputFileError):
        pipeline.run_clean([src, empty], out_dir=out)

    def boom(*a, **k):
        raise OSError("disk full")

    write_csv = pipeline.write_csv
    monkeypatch.setattr(pipeline, "write_csv", boom)
    with pytest.raises(OutputError, match="disk full"):  # the I/O class (exit code 3), one line
        pipeline.run_clean([src], out_dir=out, as_of="2025-01-01")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    monkeypatch.setattr(pipeline, "write_csv", write_csv)

    monkeypatch.setattr(pipeline, "write_parquet", boom)  # after the identity store is staged
    with pytest.raises(OutputError, match="disk full"):
        pipeline.run_clean([src], out_dir=out, as_of="2025-01-01")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert len(list((out / ".aioa" / "generations").iterdir())) == 1  # no staging folder left either
    # the identity store is neither replaced nor left staged beside itself
    assert {p.name: p.read_bytes() for p in restricted.iterdir()} == store_before


def test_as_of_argument_then_latest_event(tmp_path):
    src = _write(tmp_path / "in", name="cma.csv")
    q = pipeline.run_clean([src], out_dir=tmp_path / "o1", as_of="2025-06-30").quality
    assert (q["as_of"], q["as_of_source"]) == ("2025-06-30", "argument")
    q = pipeline.run_clean([src], out_dir=tmp_path / "o2").quality
    assert (q["as_of"], q["as_of_source"]) == ("2024-10-15", "latest_event_date")  # the rupture


def test_defaults_fall_back_to_the_sample_loudly(tmp_path, capsys):
    _write(tmp_path / "raw" / "sample")
    assert cli.main(["clean"]) == 0
    captured = capsys.readouterr()
    assert "SYNTHÉTIQUE" in captured.err
    assert "2 contrats" in captured.out
    q = json.loads((tmp_path / "processed" / "quality.json").read_text())
    assert q["sample_used"] is True
    # a real file in data/raw wins over the sample
    _write(tmp_path / "raw", name="vrai.csv")
    assert cli.main(["clean"]) == 0
    assert "SYNTHÉTIQUE" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "vide.csv"), (b"\x00\x01\x02garbage\xff" * 50, "vide.csv"), (b"a;b;c\n1;2;3\n", "vide.csv")],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, content, needle):
    bad = tmp_path / "vide.csv"
    bad.write_bytes(content)
    assert cli.main(["clean", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert not (tmp_path / "out" / "contracts.parquet").exists()


def test_cli_missing_file(tmp_path, capsys):
    assert cli.main(["clean", str(tmp_path / "absent.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- the sample

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
DEFECT_REASON = {
    "excluded_status": "excluded: statut DECA",
    "rupture_before_start": "excluded: rupture before start",
    "invalid_date": "impossible date",
    "end_before_start": "planned end before start",
    "missing_cfa_and_diploma": "no CFA and no diploma",
}


@pytest.mark.skipif(
    not (SAMPLE / "_ground_truth.json").is_file(), reason="sample not generated (`aioa sample`)"
)
def test_sample_ground_truth_is_recovered(tmp_path):
    truth = json.loads((SAMPLE / "_ground_truth.json").read_text(encoding="utf-8"))
    run = pipeline.run_clean([SAMPLE], out_dir=tmp_path / "out")
    q = run.quality
    t = truth["truth"]
    contracts = pd.read_parquet(tmp_path / "out" / "contracts.parquet")
    assert len(contracts) == t["n_contracts"]
    assert contracts["school_year"].value_counts().to_dict() == t["n_contracts_by_school_year"]
    # contract_kind follows the CERFA type (11 initial, 21-23 succession), not "first contract"
    assert contracts["contract_kind"].value_counts().to_dict() == t["n_contracts_by_contract_kind"]
    # one pseudonym per apprentice, except the homonyms born the same day the truth lists
    assert contracts["apprentice_key"].nunique() == t["n_apprentice_keys"]
    for collision in t["identity_collisions"]:
        keys = contracts.loc[contracts["contract_id"].isin(collision["contract_ids"]), "apprentice_key"]
        assert len(keys) == len(collision["contract_ids"]) and (keys == keys.iloc[0]).all()
    as_of = pd.Timestamp(truth["generator"]["extraction_date"])
    assert q["as_of"] == f"{as_of:%Y-%m-%d}" and q["as_of_source"] == "file_name"
    observed = (
        contracts["rupture_date"].notna()
        & (contracts["rupture_date"] <= as_of)
        & (contracts["rupture_date"] < contracts["planned_end_date"])
    )
    assert observed.sum() == t["n_ruptures"] + t["n_ruptures_after_diploma"]
    # after-diploma ruptures: exactly those the inputs reveal (reason or exam result before the rupture)
    after = (observed & contracts["rupture_after_diploma"].fillna(False)).sum()
    assert after == t["n_ruptures_after_diploma_recoverable"]
    # merges: amendment rows and cross-file copies, plus exact duplicate rows (merged, never rejected)
    dup = truth["duplicates"]
    assert (
        q["total"]["rows_merged"] == dup["expected_merged_records"] + dup["exact_duplicate_rows_deca_extract"]
    )
    assert q["contracts"]["exact_duplicates"] == dup["exact_duplicate_rows_deca_extract"]
    assert q["total"]["accounting_ok"] and all(f["accounting_ok"] for f in q["files"])
    # conflicts: only the intended ones (SIFA establishment headcount vs DECA company headcount)
    expected = t["expected_conflicts"]
    assert q["contracts"]["contracts_with_conflicts"] == expected["contracts_with_conflicts"]
    conflicts = pd.read_csv(tmp_path / "out" / "conflicts.csv", dtype=str, keep_default_na=False)
    assert sorted(set(conflicts["contract_id"])) == expected["contract_ids"]
    assert conflicts.groupby("column")["contract_id"].nunique().to_dict() == expected["by_column"]
    kept = contracts.set_index("contract_id").loc[expected["contract_ids"]]
    assert (kept["merge_conflicts"] == 1).all()
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str, keep_default_na=False)
    n_rejected_expected = 0
    for name, spec in truth["files"].items():
        got = {f["file"]: f for f in q["files"]}[name]
        assert got["profile"] == spec["profile"], name
        mine = rejected.loc[rejected["source_file"] == name]
        for defect, d in spec.get("defects", {}).items():
            kind, _, label = d["expected"].partition(":")
            rows = mine.loc[mine["source_row"].isin([str(r) for r in d["rows"]])] if "rows" in d else None
            if kind == "merged":  # exact duplicates and amendment rows: never rejected
                assert rows is not None and rows.empty, (name, defect)
            if kind != "rejected":
                continue
            n_rejected_expected += len(d["rows"])
            assert len(rows) == len(d["rows"]), (name, defect)
            assert rows["reason"].str.startswith(DEFECT_REASON[label]).all(), (
                name,
                defect,
                rows["reason"].unique(),
            )
    assert q["total"]["rows_rejected"] == n_rejected_expected


def test_header_only_file_is_refused_and_previous_outputs_kept(tmp_path, monkeypatch, capsys):
    """A header with no data row is an error (exit 2, one line), not an empty table over good outputs."""
    from aioa_analysis import cli

    monkeypatch.setenv("AIOA_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("AIOA_RESTRICTED_DIR", str(tmp_path / "restricted"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "contracts.parquet").write_bytes(b"previous good output")
    empty = tmp_path / "Export_Init_TBA_202511300600.csv"
    empty.write_text("nocontrat,datedebutcontrat,datefincontrat,uaicfa\n", encoding="utf-8")
    assert cli.main(["clean", str(empty), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no data row" in err and empty.name in err
    assert (out / "contracts.parquet").read_bytes() == b"previous good output"
