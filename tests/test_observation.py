"""Each source observed up to its own extraction date: file-name dates, ``observed_until`` and the
statistics that censor a contract there (data built so that the naive "observed to as_of" is wrong)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.core.schema import C
from aioa_analysis.ingest import pipeline
from aioa_analysis.ingest.observation import date_in_name, ending_early, observed_until
from aioa_analysis.stats.exposure import monthly_exposure
from aioa_analysis.stats.outcomes import with_outcome
from aioa_analysis.stats.rates import rupture_rate_within

from .test_pipeline import HEADER, ROWS, _isolated  # noqa: F401  (the autouse fixture)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SIFA_0410955R_31122024.csv", "2024-12-31"),
        ("SIFA_0410955R_31122024.txt", "2024-12-31"),
        ("cma41_contrats_20251130.csv", "2025-11-30"),
        ("Export_Init_TBA_202511300600.csv", "2025-11-30"),
        ("tba_2025-10-31.xlsx", "2025-10-31"),
        ("SIFA_0410955R_31022024.csv", None),  # 31 February: not a date
        ("contrats.csv", None),
        ("deca_12345678.csv", None),  # eight digits that are no date of this century
    ],
)
def test_dates_in_file_names(name, expected):
    got = date_in_name(name)
    assert (None if got is None else f"{got:%Y-%m-%d}") == expected


def test_observed_until_is_the_latest_date_and_an_undated_file_observes_to_as_of():
    dates = {"a_20241231.csv": pd.Timestamp("2024-12-31"), "b:x_20250630.csv": pd.Timestamp("2025-06-30")}
    sources = pd.Series(
        [
            "sifa:a_20241231.csv:2",
            "sifa:a_20241231.csv:3;chamber:b:x_20250630.csv:9",  # a ':' inside the file name
            "sifa:a_20241231.csv:4;deca:undated.json:1",
            pd.NA,
        ],
        index=[10, 11, 12, 13],
    )
    got = observed_until(sources, dates)
    assert got.index.tolist() == [10, 11, 12, 13]
    assert got.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2024-12-31", "2025-06-30"]
    assert got.iloc[2:].isna().all()


def _simulate(seed: int, n: int = 6000, hazard: float = 0.03) -> tuple[pd.DataFrame, float]:
    """Contracts starting over 2023-09 .. 2025-02, two-year plans, a constant monthly rupture hazard;
    half of them only reported by a file extracted on 2024-12-31, so their later ruptures are missing
    from the data. Returns the table (as ``aioa clean`` would write it) and the true 9-month rate."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-09-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D")
    planned = start + pd.DateOffset(years=2)
    rupture = start + pd.to_timedelta(rng.exponential(30.44 / hazard, n).round(), unit="D")
    rupture = pd.Series(rupture).where(rupture < planned)
    early = rng.random(n) < 0.5
    cut = pd.Timestamp("2024-12-31")
    seen = pd.Series(~early | (rupture <= cut).to_numpy())
    frame = pd.DataFrame(
        {
            C.contract_id: [f"{i:06d}" for i in range(n)],
            C.apprentice_key: [f"k{i}" for i in range(n)],
            C.start_date: start,
            C.planned_end_date: planned,
            C.rupture_date: rupture.where(seen),
            C.cfa_uai: "0410590U",
            C.observed_until: pd.Series(np.where(early, cut, pd.NaT), dtype="datetime64[ns]"),
        }
    )
    return frame, 1 - np.exp(-9 * hazard)


def test_nine_month_rate_is_right_when_a_source_stops_early_and_naive_is_not():
    as_of = pd.Timestamp("2025-11-30")
    right, naive, covered = [], [], 0
    for seed in range(1, 9):
        frame, truth = _simulate(seed)
        r = rupture_rate_within(frame, as_of=as_of).iloc[0]
        right.append(r["rate"])
        naive.append(rupture_rate_within(frame.drop(columns=C.observed_until), as_of=as_of).iloc[0]["rate"])
        covered += bool(r["ci_low"] <= truth <= r["ci_high"])
        # eligibility: an early-file contract counts only if its 9 months end by 2024-12-31
        early = frame[C.observed_until].notna()
        ends = frame[C.start_date] + pd.DateOffset(months=9)
        eligible = (early & (ends <= pd.Timestamp("2024-12-31"))) | (~early & (ends <= as_of))
        assert r["n_contracts"] == int(eligible.sum())
    assert abs(np.mean(right) - truth) < 0.006  # unbiased (one set's standard error is ~0.007)
    assert np.mean(naive) < truth - 0.03  # the early file's later ruptures looked like survivals
    assert covered >= 6  # 95 % intervals: 7.6 of 8 expected


def test_outcome_and_exposure_stop_at_the_observation_limit():
    frame = pd.DataFrame(
        {
            C.start_date: pd.to_datetime(["2024-09-01", "2024-09-01", "2024-09-01"]),
            C.planned_end_date: pd.to_datetime(["2026-08-31"] * 3),
            C.rupture_date: pd.to_datetime([None, None, "2025-03-01"]),
            C.observed_until: pd.to_datetime(["2024-12-31", None, "2025-06-30"]),
        }
    )
    out = with_outcome(frame, as_of="2025-11-30")
    assert out["outcome"].tolist() == ["ongoing", "ongoing", "ruptured"]
    assert out["event_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-12-31", "2025-11-30", "2025-03-01"]
    exposure = monthly_exposure(frame, as_of="2025-11-30")
    by_month = exposure.set_index("year_month")["exposure_days"]
    # January 2025: only the contract observed to as_of and the one broken in March are at risk
    assert by_month.loc["2025-01"] == 2 * 31


def test_clean_dates_each_contract_by_its_own_files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    # contract 1 is in both files, contract 3 only in the old one
    (folder / "cma_20241231.csv").write_text(HEADER + "\n".join([ROWS[0], ROWS[3]]) + "\n", encoding="cp1252")
    (folder / "cma_20251130.csv").write_text(HEADER + ROWS[0] + "\n", encoding="cp1252")
    pipeline.run_clean(sorted(folder.iterdir()), out_dir=tmp_path / "out")
    contracts = pd.read_parquet(tmp_path / "out" / "contracts.parquet").set_index(C.contract_id)
    assert contracts.loc["000000000000001", C.observed_until] == pd.Timestamp("2025-11-30")
    assert contracts.loc["000000000000003", C.observed_until] == pd.Timestamp("2024-12-31")
    q = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert (q["as_of"], q["as_of_detail"]) == ("2025-11-30", "cma_20251130.csv")  # the latest file
    assert q["observed_until_before_as_of"] == [{"observed_until": "2024-12-31", "n_contracts": 1}]
    assert ending_early(contracts.reset_index(), pd.Timestamp("2024-12-31")) == []


def test_the_sample_sifa_file_is_dated_and_as_of_is_the_latest_extraction():
    sample = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
    names = sorted(p.name for p in sample.iterdir() if p.is_file() and not p.name.startswith("_"))
    named = pipeline.as_of_from_names([Path(n) for n in names])
    assert named is not None and f"{named[0]:%Y-%m-%d}" == "2025-11-30"
    sifa = [n for n in names if n.startswith("SIFA_")]
    assert sifa and all(date_in_name(n) is not None for n in sifa)


def test_the_45_days_and_the_cfa_model_observe_each_contract_to_its_own_limit():
    """The first-45-days table counts the headline rate's cohort and ruptures, and the CFA model's
    exposure stops at a contract's observation limit, not at as_of."""
    from aioa_analysis.stats.breakdowns import early_ruptures
    from aioa_analysis.stats.casemix import nine_month_cells

    frame, _ = _simulate(1)
    as_of = pd.Timestamp("2025-11-30")
    headline = rupture_rate_within(frame, as_of=as_of).iloc[0]
    early = early_ruptures(frame, as_of=as_of).iloc[0]
    assert (early["n_contracts"], early["n_ruptures"]) == (headline["n_contracts"], headline["n_ruptures"])
    one = pd.DataFrame(
        {
            C.start_date: pd.to_datetime(["2024-10-01"]),
            C.planned_end_date: pd.to_datetime(["2026-09-30"]),
            C.rupture_date: pd.to_datetime([None]),
            C.cfa_uai: ["0410590U"],
            C.diploma_level: ["3"],
            C.sector: ["commerce"],
            C.observed_until: pd.to_datetime(["2024-12-31"]),
        }
    )
    months = nine_month_cells(one, as_of=as_of)["exposure"].sum()
    assert months == pytest.approx(92 / 30.4375, rel=0.01)  # 1 October to 31 December, not 9 months
