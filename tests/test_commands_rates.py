"""`aioa rates`: the exact CLI contract, output formats and one-line errors (exit 2)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from aioa_analysis import cli
from aioa_analysis.core.schema import DIMENSIONS, coerce_contracts


@pytest.fixture
def data(tmp_path):
    n = 30
    df = pd.DataFrame(
        {
            "contract_id": [f"c{i}" for i in range(n)],
            "apprentice_key": [f"p{i // 2}" for i in range(n)],
            "cfa_uai": ["0410590U"] * 25 + ["0410017K"] * 5,
            "sex": ["F", "M"] * 15,
            "start_date": ["2024-09-01"] * n,
            "planned_end_date": ["2026-08-31"] * n,
            "rupture_date": ["2024-10-01"] * 6 + [None] * (n - 6),
        }
    )
    path = tmp_path / "contracts.parquet"
    coerce_contracts(df).to_parquet(path)
    return path


def run(capsys, *argv):
    code = cli.main(["rates", *argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_csv_output_by_cfa_with_suppression_column(capsys, data):
    code, out, err = run(capsys, "--data", str(data), "--by", "cfa", "--as-of", "2025-06-30")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), dtype={"cfa": str})
    assert table.columns[:8].tolist() == [
        "cfa",
        "n_contracts",
        "n_ruptures",
        "rate",
        "ci_low",
        "ci_high",
        "suppressed",
        "suppression_reason",
    ]
    t = table.set_index("cfa")
    assert t.loc["0410590U", ["n_contracts", "n_ruptures"]].tolist() == [25, 6]
    assert t.loc["0410590U", "rate"] == pytest.approx(6 / 25)
    # 5 < 20: primary; the other CFA is then hidden by secondary suppression (2 cells only)
    assert t["suppressed"].tolist() == [True, True]
    assert t.loc["0410017K", "suppression_reason"] == "effectif < 20"
    assert t.loc["0410590U", "suppression_reason"] == "secondaire"
    assert (t["as_of"] == "2025-06-30").all() and (t["horizon_months"] == 9).all()


def test_json_output_apprentice_unit_horizon_and_min_n(capsys, data):
    code, out, err = run(
        capsys,
        "--data",
        str(data),
        "--by",
        "sex,cohort",
        "--as-of",
        "2025-06-30",
        "--horizon-months",
        "6",
        "--min-n",
        "5",
        "--unit",
        "apprentice",
        "--format",
        "json",
    )
    assert code == 0, err
    rows = json.loads(out)
    assert {r["sex"] for r in rows} == {"F", "M"}
    assert all(r["cohort"] == "inconnu" for r in rows)  # no school_year in the table
    assert all(r["unit"] == "apprentice" and r["horizon_months"] == 6 for r in rows)
    assert sum(r["n_contracts"] for r in rows) == 30  # each apprentice has one F and one M contract
    assert not any(r["suppressed"] for r in rows)


def test_overall_table_without_by(capsys, data):
    code, out, _ = run(capsys, "--data", str(data), "--as-of", "2025-06-30")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 1 and table["n_contracts"].item() == 30


def test_unknown_dimension_lists_choices_exit_2(capsys, data):
    code, out, err = run(capsys, "--data", str(data), "--by", "cfa,secteur", "--as-of", "2025-06-30")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "secteur" in err
    assert all(name in err for name in DIMENSIONS)


@pytest.mark.parametrize("bad", ["30/06/2025", "2025-13-01", "demain", ""])
def test_bad_date_is_one_line_exit_2(capsys, data, bad):
    code, _, err = run(capsys, "--data", str(data), "--as-of", bad)
    assert code == 2
    assert err.count("\n") == 1 and "YYYY-MM-DD" in err and "Traceback" not in err


def test_missing_file_says_to_run_clean(capsys, tmp_path):
    code, _, err = run(capsys, "--data", str(tmp_path / "nope.parquet"), "--as-of", "2025-06-30")
    assert code == 2 and "aioa clean" in err and err.count("\n") == 1


def test_default_data_path_is_the_processed_dir(capsys, data, monkeypatch):
    monkeypatch.setenv("AIOA_PROCESSED_DIR", str(data.parent))
    code, out, _ = run(capsys, "--as-of", "2025-06-30")
    assert code == 0 and "n_contracts" in out


def test_bad_horizon_and_unit(capsys, data):
    code, _, err = run(capsys, "--data", str(data), "--as-of", "2025-06-30", "--horizon-months", "0")
    assert code == 2 and "horizon" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["rates", "--data", str(data), "--as-of", "2025-06-30", "--unit", "person"])
    assert exc.value.code == 2


@pytest.fixture
def cohorts(tmp_path):
    """Two observed cohorts and the current one (no contract has 9 months of follow-up yet)."""
    rows = (
        # 2023-2024: 30 contracts (15 apprentices), 6 ruptures
        [("2023-2024", "2023-09-01", "2023-10-01" if i < 6 else None) for i in range(30)]
        # 2024-2025: 25 contracts, 5 ruptures
        + [("2024-2025", "2024-09-01", "2024-10-01" if i < 5 else None) for i in range(25)]
        # 2025-2026: 12 contracts started 2025-09-01, none observable at 2025-11-30
        + [("2025-2026", "2025-09-01", None) for _ in range(12)]
    )
    df = pd.DataFrame(
        {
            "contract_id": [f"c{i}" for i in range(len(rows))],
            "apprentice_key": [f"p{i}" for i in range(len(rows))],
            "school_year": [r[0] for r in rows],
            "employer_size_band": (["250+", "5-9", "0-4", "10-49", "50-249"] * 14)[: len(rows)],
            "start_date": [r[1] for r in rows],
            "planned_end_date": ["2027-08-31"] * len(rows),
            "rupture_date": [r[2] for r in rows],
        }
    )
    path = tmp_path / "contracts.parquet"
    coerce_contracts(df).to_parquet(path)
    return path


@pytest.mark.parametrize("unit", ["contract", "apprentice"])
def test_empty_current_cohort_is_non_observable_and_hides_nothing(capsys, cohorts, unit):
    code, out, err = run(
        capsys, "--data", str(cohorts), "--by", "cohort", "--as-of", "2025-11-30", "--unit", unit
    )
    assert code == 0, err
    t = pd.read_csv(io.StringIO(out), keep_default_na=False).set_index("cohort")
    assert t.index.tolist() == ["2023-2024", "2024-2025", "2025-2026"]
    assert t["n_contracts"].tolist() == [30, 25, 0]
    # both observed cohorts are >= 20 and stay visible: the empty row protects nothing and needs
    # no protection (before the fix, 2024-2025 was hidden as "secondaire")
    assert t["suppressed"].tolist() == [False, False, True]
    assert t["suppression_reason"].tolist() == ["", "", "non observable"]
    assert t.loc["2025-2026", "n_excluded_not_observed"] == 12


def test_rows_in_natural_order_of_size_bands(capsys, cohorts):
    code, out, err = run(capsys, "--data", str(cohorts), "--by", "employer_size", "--as-of", "2025-11-30")
    assert code == 0, err
    t = pd.read_csv(io.StringIO(out), dtype={"employer_size": str})
    assert t["employer_size"].tolist() == ["0-4", "5-9", "10-49", "50-249", "250+"]
    # same numbers as an order-free count: 55 observable contracts spread over the 5 bands
    assert t["n_contracts"].sum() == 55
    by_band = t.set_index("employer_size")["n_contracts"].to_dict()
    assert by_band == {"250+": 11, "5-9": 11, "0-4": 11, "10-49": 11, "50-249": 11}
