"""Monthly rupture hazard and the summer effect: hand-computed exposure, brute force, simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.errors import ParameterError
from aioa_analysis.seasonality import (
    DAYS_PER_MONTH,
    monthly_exposure,
    poisson_rate_interval,
    rupture_seasonality,
    summer_effect,
)

END = "2026-08-31"


def frame(rows, **extra) -> pd.DataFrame:
    start, end, rupt = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "start_date": pd.to_datetime(list(start)),
            "planned_end_date": pd.to_datetime(list(end)),
            "rupture_date": pd.to_datetime(list(rupt)),
            **extra,
        }
    )


def test_exposure_hand_computed_edge_cases():
    df = frame(
        [
            ("2024-09-16", END, "2024-09-16"),  # rupture on the start day: 0 days, 1 rupture in Sept
            ("2024-09-01", END, "2024-10-11"),  # Sept 30 days, Oct 10 days, rupture in Oct
            ("2024-09-01", "2024-10-21", None),  # completed: Sept 30, Oct 20 days
            ("2024-10-25", END, None),  # ongoing: Oct 7 days (25..31), Nov 29 days (as_of excluded)
            ("2024-09-01", END, "2024-11-05"),  # after diploma: exposure to Nov 5, not counted
        ],
        rupture_after_diploma=pd.array([False, False, False, False, True], dtype="boolean"),
    )
    out = monthly_exposure(df, as_of="2024-11-30")
    assert out["year_month"].tolist() == ["2024-09", "2024-10", "2024-11"]
    assert out["exposure_days"].tolist() == [0 + 30 + 30 + 0 + 30, 10 + 20 + 7 + 31, 29 + 4]
    assert out["n_ruptures"].tolist() == [1, 1, 0]
    assert out["n_starts"].tolist() == [4, 1, 0]
    assert out["n_contracts"].tolist() == [4, 4, 2]
    assert out["exposure_months"].tolist() == pytest.approx(out["exposure_days"] / 30.4375)


def test_exposure_agrees_with_a_brute_force_day_loop():
    rng = np.random.default_rng(3)
    n = 150
    start = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(200, 800, n), unit="D")
    rupt = pd.Series(start + pd.to_timedelta(rng.integers(0, 700, n), unit="D")).where(rng.random(n) < 0.5)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    df = pd.DataFrame({"start_date": start, "planned_end_date": end, "rupture_date": rupt, "sex": sex})
    as_of = pd.Timestamp("2024-12-31")
    out = monthly_exposure(df, as_of=as_of, by="sex")
    expected: dict[tuple[str, str], float] = {}
    events: dict[tuple[str, str], int] = {}
    for s, e, r, g in zip(start, end, rupt, sex, strict=True):  # independent slow reference
        broken = pd.notna(r) and r < e and r <= as_of
        exit_ = r if broken else (e if e <= as_of else as_of)
        for day in pd.date_range(s, exit_ - pd.Timedelta(days=1)):
            key = (g, day.strftime("%Y-%m"))
            expected[key] = expected.get(key, 0) + 1
        if broken:
            key = (g, r.strftime("%Y-%m"))
            events[key] = events.get(key, 0) + 1
    got = out.set_index(["sex", "year_month"])
    for key, days in expected.items():
        assert got.loc[key, "exposure_days"] == days, key
    assert got["exposure_days"].sum() == sum(expected.values())
    for key, k in events.items():
        assert got.loc[key, "n_ruptures"] == k
    assert got["n_ruptures"].sum() == sum(events.values())


def test_poisson_interval_matches_garwood_table():
    lo, hi = poisson_rate_interval([0, 4, 10], [1.0, 1.0, 2.0])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.6889, abs=1e-4)
    assert (lo[1], hi[1]) == pytest.approx((1.0899, 10.2416), abs=1e-4)
    assert (lo[2], hi[2]) == pytest.approx((4.7954 / 2, 18.3904 / 2), abs=1e-4)
    lo0, hi0 = poisson_rate_interval([1], [0.0])
    assert np.isnan(lo0[0]) and np.isnan(hi0[0])


def test_seasonality_month_of_year_pools_years():
    df = frame(
        [
            ("2023-01-01", "2025-12-31", "2023-07-10"),
            ("2023-01-01", "2025-12-31", "2024-07-20"),
            ("2023-01-01", "2025-12-31", None),
        ]
    )
    out = rupture_seasonality(df, as_of="2024-12-31", min_n=0).set_index("month")
    assert out.index.tolist() == list(range(1, 13))
    assert out["n_years"].tolist() == [2] * 12
    assert out.loc[7, "n_ruptures"] == 2 and out["n_ruptures"].sum() == 2
    # July: 2023: 3 contracts × 9 days + 2 × 22 days; 2024: 2 × 19 days + 1 × 12 days
    july = 3 * 9 + 2 * 22 + 2 * 19 + 12
    assert out.loc[7, "exposure_days"] == july
    assert out.loc[7, "rate"] == pytest.approx(2 / (july / DAYS_PER_MONTH))
    assert out.loc[7, "n_contracts"] == 3 + 2
    lo, hi = poisson_rate_interval([2], [july / DAYS_PER_MONTH])
    assert (out.loc[7, "ci_low"], out.loc[7, "ci_high"]) == pytest.approx((lo[0], hi[0]))
    assert out.loc[7, "unit"] == "contract-month" and out.loc[7, "period"] == "month_of_year"


def test_seasonality_year_month_and_parameters():
    df = frame([("2024-09-01", END, None)])
    out = rupture_seasonality(df, as_of="2024-10-15", period="year_month", min_n=0)
    assert out["year_month"].tolist() == ["2024-09", "2024-10"]
    assert out["rate"].tolist() == [0.0, 0.0]
    assert out["ci_high"].iloc[0] == pytest.approx(-np.log(0.025) / (30 / DAYS_PER_MONTH))
    with pytest.raises(ParameterError, match="month_of_year"):
        rupture_seasonality(df, as_of="2024-10-15", period="week")
    with pytest.raises(ParameterError):
        summer_effect(df, as_of="2024-10-15", months=(13,))


def test_summer_effect_hand_computed():
    df = frame(
        [
            ("2024-01-01", "2026-12-31", "2024-03-10"),
            ("2024-01-01", "2026-12-31", "2024-07-10"),
            ("2024-01-01", "2026-12-31", "2024-07-20"),
            ("2024-01-01", "2026-12-31", None),
        ]
    )
    out = summer_effect(df, as_of="2024-12-31").iloc[0]
    # exposure (days): contract 1: Jan 1 - Mar 10 = 69 other; 2: Jan-May 152 other + June 30 + July 9
    # summer; 3: 152 other + 30 + 19 summer; 4: 2024 has 366 days, 365 exposed (as_of excluded),
    # 92 of them in summer
    e1 = 39 + 49 + 92
    e0 = 69 + 152 + 152 + (365 - 92)
    assert out["exposure_months_summer"] * DAYS_PER_MONTH == pytest.approx(e1)
    assert out["exposure_months_other"] * DAYS_PER_MONTH == pytest.approx(e0)
    assert out["rate_ratio"] == pytest.approx((2 / e1) / (1 / e0))
    assert out["p_value"] == pytest.approx(stats.binomtest(2, 3, e1 / (e1 + e0)).pvalue)
    assert out["ci_low"] < out["rate_ratio"] < out["ci_high"]
    assert out["months"] == "6,7,8"


def simulate(n: int, summer_ratio: float, seed: int) -> pd.DataFrame:
    """Contracts with a known daily rupture hazard, multiplied by ``summer_ratio`` in June-August.

    70 % of contracts start in September (so raw counts peak in the autumn), the rest any day.
    """
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp("2022-01-01")
    sept = rng.random(n) < 0.7
    start_off = np.where(
        sept,
        rng.choice([243, 608], n) + rng.integers(0, 30, n),  # 1-30 September 2022 / 2023
        rng.integers(0, 730, n),
    )
    length = 730
    days = start_off[:, None] + np.arange(length)[None, :]
    month = (origin + pd.to_timedelta(np.arange(days.max() + 1), unit="D")).month.to_numpy()
    hazard = 0.0008 * np.where(np.isin(month, [6, 7, 8]), summer_ratio, 1.0)
    hit = rng.random(days.shape) < hazard[days]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    start = origin + pd.to_timedelta(start_off, unit="D")
    rupture = pd.Series(start + pd.to_timedelta(np.maximum(first, 0), unit="D")).where(first >= 0)
    return pd.DataFrame(
        {
            "start_date": start,
            "planned_end_date": start + pd.to_timedelta(length, unit="D"),
            "rupture_date": rupture,
        }
    )


def test_simulated_summer_effect_is_detected():
    df = simulate(3000, summer_ratio=2.0, seed=42)
    out = summer_effect(df, as_of="2025-06-30").iloc[0]
    assert out["p_value"] < 1e-6
    assert out["ci_low"] > 1.3 and out["ci_low"] < 2.0 < out["ci_high"]
    assert out["wald_ci_low"] < 2.0 < out["wald_ci_high"]


def test_september_starts_do_not_make_an_autumn_peak_in_the_hazard():
    df = simulate(3000, summer_ratio=1.0, seed=7)
    by_month = rupture_seasonality(df, as_of="2025-06-30", period="year_month", min_n=0)
    raw = by_month.set_index("year_month")["n_ruptures"]
    # raw counts jump in the autumn when the September starts arrive ...
    assert raw[["2022-09", "2022-10", "2022-11"]].sum() > 3 * raw[["2022-06", "2022-07", "2022-08"]].sum()
    # ... but the hazard is flat: the month-of-year intervals cover the true 0.0008 × 30.4375
    season = rupture_seasonality(df, as_of="2025-06-30", min_n=0).set_index("month")
    true_rate = 0.0008 * DAYS_PER_MONTH
    assert ((season["ci_low"] <= true_rate) & (true_rate <= season["ci_high"])).sum() >= 10


def test_summer_test_holds_its_level_without_a_summer_effect():
    covered = 0
    ratios = []
    for seed in range(10):
        out = summer_effect(simulate(1500, summer_ratio=1.0, seed=100 + seed), as_of="2025-06-30").iloc[0]
        covered += bool(out["ci_low"] < 1.0 < out["ci_high"])
        ratios.append(out["rate_ratio"])
    assert covered >= 8
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.1)
