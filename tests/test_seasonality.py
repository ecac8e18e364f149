"""Monthly rupture hazard and the summer effect, crude and at equal contract age: hand-computed
exposure, brute force, an independent Poisson GLM, simulations with a known summer multiplier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.intervals import poisson_interval
from aioa_analysis.stats.seasonality import (
    DAYS_PER_MONTH,
    age_adjusted_seasonality,
    age_adjusted_summer_effect,
    age_calendar,
    age_calendar_exposure,
    fit_age_period,
    monthly_exposure,
    rupture_seasonality,
    stratified_rate_ratio,
    summer_effect,
)
from tests.frames import dated_frame

END = "2026-08-31"


def test_exposure_hand_computed_edge_cases():
    df = dated_frame(
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
    lo, hi = poisson_interval([0, 4, 10], [1.0, 1.0, 2.0])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.6889, abs=1e-4)
    assert (lo[1], hi[1]) == pytest.approx((1.0899, 10.2416), abs=1e-4)
    assert (lo[2], hi[2]) == pytest.approx((4.7954 / 2, 18.3904 / 2), abs=1e-4)
    lo0, hi0 = poisson_interval([1], [0.0])
    assert np.isnan(lo0[0]) and np.isnan(hi0[0])


def test_seasonality_month_of_year_pools_years():
    df = dated_frame(
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
    lo, hi = poisson_interval([2], [july / DAYS_PER_MONTH])
    assert (out.loc[7, "ci_low"], out.loc[7, "ci_high"]) == pytest.approx((lo[0], hi[0]))
    assert out.loc[7, "unit"] == "contract-month" and out.loc[7, "period"] == "month_of_year"


def test_seasonality_year_month_and_parameters():
    df = dated_frame([("2024-09-01", END, None)])
    out = rupture_seasonality(df, as_of="2024-10-15", period="year_month", min_n=0)
    assert out["year_month"].tolist() == ["2024-09", "2024-10"]
    assert out["rate"].tolist() == [0.0, 0.0]
    assert out["ci_high"].iloc[0] == pytest.approx(-np.log(0.025) / (30 / DAYS_PER_MONTH))
    with pytest.raises(ParameterError, match="month_of_year"):
        rupture_seasonality(df, as_of="2024-10-15", period="week")
    with pytest.raises(ParameterError):
        summer_effect(df, as_of="2024-10-15", months=(13,))


def test_summer_effect_hand_computed():
    df = dated_frame(
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


# --------------------------------------------------------------------------------------------------
# seasonality at equal contract age


def test_age_calendar_exposure_hand_computed_edge_cases():
    df = dated_frame(
        [
            # 31 January + 1 month = 29 February 2024: age 0 = Jan 31 (1 day) + Feb 1-28 (28 days);
            # age 1 = Feb 29 (1 day) + Mar 1-9 (9 days); rupture on 10 March at age 1
            ("2024-01-31", END, "2024-03-10"),
            # rupture exactly one month after the start: age 1, with no exposure in age 1;
            # age 0 = Feb 15-29 (15 days) + Mar 1-14 (14 days)
            ("2024-02-15", END, "2024-03-15"),
            ("2024-03-01", END, "2024-03-01"),  # rupture on the start day: age 0, no exposure
            # ongoing: age 0 = Feb 20-29 (10) + Mar 1-19 (19); age 1 = Mar 20-30 (11, as_of excluded)
            ("2024-02-20", END, None),
        ]
    )
    out = age_calendar_exposure(df, as_of="2024-03-31")
    got = {(r.age_month, r.year_month): (r.exposure_days, r.n_ruptures) for r in out.itertuples(index=False)}
    assert got == {
        (0, "2024-01"): (1.0, 0),
        (0, "2024-02"): (28.0 + 15 + 10, 0),
        (0, "2024-03"): (14.0 + 19, 1),
        (1, "2024-02"): (1.0, 0),
        (1, "2024-03"): (9.0 + 11, 2),
    }
    assert out["exposure_months"].tolist() == pytest.approx((out["exposure_days"] / DAYS_PER_MONTH).tolist())
    # summed over the ages: the monthly exposure and ruptures
    monthly = monthly_exposure(df, as_of="2024-03-31").set_index("year_month")
    by_month = out.groupby("year_month")[["exposure_days", "n_ruptures"]].sum()
    assert by_month["exposure_days"].tolist() == monthly["exposure_days"].tolist()
    assert by_month["n_ruptures"].tolist() == monthly["n_ruptures"].tolist()


def test_age_calendar_exposure_agrees_with_a_brute_force_day_loop():
    rng = np.random.default_rng(11)
    n = 60
    start = pd.to_datetime("2023-01-15") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(100, 500, n), unit="D")
    rupt = pd.Series(start + pd.to_timedelta(rng.integers(0, 450, n), unit="D")).where(rng.random(n) < 0.6)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    df = pd.DataFrame({"start_date": start, "planned_end_date": end, "rupture_date": rupt, "sex": sex})
    as_of = pd.Timestamp("2024-06-30")
    out = age_calendar_exposure(df, as_of=as_of, by="sex").set_index(["sex", "age_month", "year_month"])
    days: dict[tuple[str, int, str], int] = {}
    events: dict[tuple[str, int, str], int] = {}

    def age_of(s: pd.Timestamp, day: pd.Timestamp) -> int:
        k = 0
        while s + pd.DateOffset(months=k + 1) <= day:
            k += 1
        return k

    for s, e, r, g in zip(start, end, rupt, sex, strict=True):  # slow, independent reference
        broken = pd.notna(r) and r < e and r <= as_of
        exit_ = r if broken else (e if e <= as_of else as_of)
        for day in pd.date_range(s, exit_ - pd.Timedelta(days=1)):
            key = (g, age_of(s, day), day.strftime("%Y-%m"))
            days[key] = days.get(key, 0) + 1
        if broken:
            key = (g, age_of(s, r), r.strftime("%Y-%m"))
            events[key] = events.get(key, 0) + 1
    assert {k: v for k, v in out["exposure_days"].items() if v > 0} == days
    assert {k: v for k, v in out["n_ruptures"].items() if v > 0} == events


def test_fit_age_period_hand_computed_two_by_two():
    # age 0: 2 ruptures in 10 months in summer, 2 in 20 otherwise; age 1: 2 in 10 against 2 in 40
    observed = np.array([[2.0, 2.0], [2.0, 2.0]])  # columns: other, summer
    exposure = np.array([[20.0, 10.0], [40.0, 10.0]])
    h, r, iterations = fit_age_period(observed, exposure)
    # MLE: RR/(RR+2) + RR/(RR+4) = 1, i.e. RR = sqrt(8)
    assert r[1] / r[0] == pytest.approx(np.sqrt(8), rel=1e-8)
    assert iterations > 1
    # both margins are fitted: by age and by period
    fitted = exposure * h[:, None] * r[None, :]
    assert fitted.sum(axis=1) == pytest.approx([4.0, 4.0])
    assert fitted.sum(axis=0) == pytest.approx([4.0, 4.0])
    expected = h @ exposure
    assert expected.sum() == pytest.approx(8.0) and (observed.sum(axis=0) / expected) == pytest.approx(r)
    # one step: crude age hazards 4/30 and 4/50; E_summer = 10·4/30 + 10·4/50 = 32/15,
    # E_other = 20·4/30 + 40·4/50 = 88/15; ratio (4 / (32/15)) / (4 / (88/15)) = 88/32 = 2.75
    h1, r1, it1 = fit_age_period(observed, exposure, method="one-step")
    assert it1 == 1 and h1 == pytest.approx([4 / 30, 4 / 50])
    assert h1 @ exposure == pytest.approx([88 / 15, 32 / 15])
    assert r1[1] / r1[0] == pytest.approx(2.75)
    # the crude ratio: (4/20) / (4/60) = 3
    with pytest.raises(ParameterError, match="one-step"):
        fit_age_period(observed, exposure, method="newton")


def _poisson_glm(observed: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Independent reference: Newton-Raphson for log mu = log X + a_k + b_c (b_0 = 0); returns exp(b)."""
    n_age, n_per = observed.shape
    rows = [(k, c) for k in range(n_age) for c in range(n_per) if exposure[k, c] > 0]
    design = np.zeros((len(rows), n_age + n_per - 1))
    for i, (k, c) in enumerate(rows):
        design[i, k] = 1.0
        if c > 0:
            design[i, n_age + c - 1] = 1.0
    y = np.array([observed[k, c] for k, c in rows])
    offset = np.log([exposure[k, c] for k, c in rows])
    beta = np.zeros(design.shape[1])
    beta[:n_age] = np.log(observed.sum(axis=1) / exposure.sum(axis=1))
    for _ in range(100):
        mu = np.exp(offset + design @ beta)
        step = np.linalg.solve(design.T @ (mu[:, None] * design), design.T @ (y - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return np.exp(np.concatenate([[0.0], beta[n_age:]]))


def test_fit_age_period_is_the_poisson_mle():
    rng = np.random.default_rng(5)
    exposure = rng.uniform(5, 200, size=(6, 12)) * (rng.random((6, 12)) < 0.85)
    truth_h = np.array([0.2, 0.12, 0.08, 0.05, 0.04, 0.03])
    truth_r = np.where(np.isin(np.arange(12), [5, 6, 7]), 1.8, 1.0)
    observed = rng.poisson(exposure * truth_h[:, None] * truth_r[None, :]).astype(float)
    _, r, iterations = fit_age_period(observed, exposure)
    reference = _poisson_glm(observed, exposure)
    assert iterations < 10_000
    assert r / r[0] == pytest.approx(reference, rel=1e-7)


def test_stratified_rate_ratio_hand_computed_and_limits():
    rr, lo, hi, p = stratified_rate_ratio([2, 2], [10.0, 10.0], [2, 2], [20.0, 40.0])
    assert rr == pytest.approx(np.sqrt(8), rel=1e-9)

    def loglik(x: float) -> float:  # conditional log-likelihood written out for the two strata
        p0, p1 = x / (x + 2), x / (x + 4)
        return 2 * np.log(p0) + 2 * np.log(1 - p0) + 2 * np.log(p1) + 2 * np.log(1 - p1)

    crit = stats.chi2.ppf(0.95, 1) / 2
    assert loglik(rr) - loglik(lo) == pytest.approx(crit, abs=1e-8)
    assert loglik(rr) - loglik(hi) == pytest.approx(crit, abs=1e-8)
    assert p == pytest.approx(stats.chi2.sf(2 * (loglik(rr) - loglik(1.0)), 1))
    # a stratum with exposure in one period only carries no information
    assert stratified_rate_ratio([2, 5], [10.0, 0.0], [2, 0], [20.0, 7.0])[0] == pytest.approx(2.0)
    # no rupture in summer: ratio 0, lower limit 0; none outside: infinite ratio and upper limit
    rr0, lo0, hi0, _ = stratified_rate_ratio([0], [10.0], [3], [10.0])
    assert rr0 == 0 and lo0 == 0 and 0 < hi0 < np.inf
    rri, loi, hii, _ = stratified_rate_ratio([3], [10.0], [0], [10.0])
    assert rri == np.inf and hii == np.inf and loi > 0
    assert all(np.isnan(stratified_rate_ratio([0], [10.0], [0], [10.0])))


def test_age_adjusted_summer_effect_hand_computed():
    # 3 contracts broken after 10 days in March, 1 in June, 1 running since 1 September 2023 (no rupture)
    df = dated_frame(
        [("2024-03-01", END, "2024-03-11")] * 3
        + [("2024-06-01", END, "2024-06-11"), ("2023-09-01", END, None)]
    )
    out = age_adjusted_summer_effect(df, as_of="2024-06-30").iloc[0]
    # age 0 (the only age with ruptures): summer 10 days / 1 rupture; other 30 (March) + 30
    # (September 2023) days / 3 ruptures -> ratio (1/10) / (3/60) = 2
    assert out["rate_ratio"] == pytest.approx(2.0)
    # expected ruptures from the age hazard, scaled to the 4 observed: 4·10/70 and 4·60/70
    assert (out["expected_summer"], out["expected_other"]) == pytest.approx((4 / 7, 24 / 7))
    assert (out["oe_summer"], out["oe_other"]) == pytest.approx((7 / 4, 3 / (24 / 7)))
    assert out["one_step_ratio"] == pytest.approx(2.0)  # a single informative age: no difference
    # crude: summer June 2024 (10 + 29 days, 1 rupture), other 30 + 274 days (Sept 2023-May 2024)
    assert out["crude_rate_ratio"] == pytest.approx((1 / 39) / (3 / 304))
    assert out["exposure_months_summer"] * DAYS_PER_MONTH == pytest.approx(39)
    assert out["n_ruptures_summer"] == 1 and out["n_ruptures_other"] == 3
    assert out["n_age_months"] >= 1 and out["months"] == "6,7,8" and out["ci_method"] == "profile-likelihood"
    # one-step exact conditional binomial interval: given 4 ruptures, O_s ~ Bin(4, RR·E_s/(RR·E_s+E_o))
    plo, phi = stats.binomtest(1, 4).proportion_ci(method="exact")
    e_s, e_o = 4 / 7, 24 / 7
    assert out["one_step_ci_low"] == pytest.approx(plo / (1 - plo) * e_o / e_s)
    assert out["one_step_ci_high"] == pytest.approx(phi / (1 - phi) * e_o / e_s)
    with pytest.raises(ParameterError):
        age_adjusted_summer_effect(df, as_of="2024-06-30", months=())


def simulate_aged(n: int, summer_ratio: float, seed: int, length: int = 730) -> pd.DataFrame:
    """Contracts with a strongly age-dependent daily hazard (high in the first 45 days and 3 months),
    multiplied by ``summer_ratio`` in June-August; 70 % start in September, the rest any day."""
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp("2022-01-01")
    sept = rng.random(n) < 0.7
    start_off = np.where(sept, rng.choice([243, 608], n) + rng.integers(0, 30, n), rng.integers(0, 900, n))
    u = np.arange(length)
    base = np.where(u < 46, 0.004, np.where(u < 91, 0.002, 0.0005))
    days = start_off[:, None] + u[None, :]
    month = (origin + pd.to_timedelta(np.arange(days.max() + 1), unit="D")).month.to_numpy()
    mult = np.where(np.isin(month, [6, 7, 8]), summer_ratio, 1.0)
    hit = rng.random(days.shape) < base[None, :] * mult[days]
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


def test_age_adjustment_recovers_a_known_summer_multiplier():
    """True multiplier 2: the crude and one-step ratios are biased towards 1, the adjusted one is not."""
    covered, logs = 0, []
    for seed in range(20):
        out = age_adjusted_summer_effect(simulate_aged(3000, 2.0, seed), as_of="2025-06-30").iloc[0]
        covered += bool(out["ci_low"] <= 2.0 <= out["ci_high"])
        logs.append(np.log(out["rate_ratio"]))
        assert out["crude_ci_high"] < 2.0 and out["one_step_ci_high"] < 2.0  # biased, CI misses 2
        assert out["ci_low"] > 1.0 and out["p_value"] < 1e-6
    # 95 % intervals: at least 17 of 20 cover (P(Bin(20, 0.95) <= 16) = 1.6 %)
    assert covered >= 17
    assert np.exp(np.mean(logs)) == pytest.approx(2.0, abs=0.1)  # sd of the mean log-ratio ~0.016


def test_age_adjustment_without_summer_effect():
    """No calendar effect: the crude ratio says summer is SAFER (old contracts), the adjusted one does not."""
    covered = 0
    for seed in range(10):
        out = age_adjusted_summer_effect(simulate_aged(3000, 1.0, seed), as_of="2025-06-30").iloc[0]
        covered += bool(out["ci_low"] <= 1.0 <= out["ci_high"])
        assert out["crude_ci_high"] < 1.0
    assert covered >= 8


def test_age_adjusted_seasonality_table():
    df = simulate_aged(3000, 2.0, seed=1)
    out = age_adjusted_seasonality(df, as_of="2025-06-30", min_n=0)
    crude = rupture_seasonality(df, as_of="2025-06-30", min_n=0)
    pd.testing.assert_frame_equal(out[crude.columns], crude)  # the crude table is kept as is
    assert out["expected"].sum() == pytest.approx(out["n_ruptures"].sum())
    assert (out["oe_ratio"] * out["expected"]).to_numpy() == pytest.approx(out["n_ruptures"].to_numpy())
    summer = out["month"].isin([6, 7, 8])
    assert (out.loc[summer, "oe_low"] > 1).all()
    assert out.loc[summer, "oe_ratio"].min() > out.loc[~summer, "oe_ratio"].max()
    # the summer/other ratio of the 12-month fit is close to the 2-period fit (same data)
    ratio12 = (out.loc[summer, "n_ruptures"].sum() / out.loc[summer, "expected"].sum()) / (
        out.loc[~summer, "n_ruptures"].sum() / out.loc[~summer, "expected"].sum()
    )
    two = age_adjusted_summer_effect(df, as_of="2025-06-30").iloc[0]
    assert ratio12 == pytest.approx(two["rate_ratio"], rel=0.05)
    lo, hi = poisson_interval(out["n_ruptures"], out["expected"])
    assert out["oe_low"].to_numpy() == pytest.approx(lo) and out["oe_high"].to_numpy() == pytest.approx(hi)
    # the one-step variant is biased towards 1 here; IPF is the MLE
    one = age_adjusted_seasonality(df, as_of="2025-06-30", min_n=0, method="one-step")
    assert (one["n_iterations"] == 1).all() and (out["n_iterations"] > 1).all()
    assert one.loc[summer, "oe_ratio"].mean() < out.loc[summer, "oe_ratio"].mean()
    by_year = age_adjusted_seasonality(df, as_of="2025-06-30", period="year_month", min_n=0)
    assert by_year["year_month"].iloc[-1] == "2025-06" and by_year["expected"].sum() == pytest.approx(
        by_year["n_ruptures"].sum()
    )
    with pytest.raises(ParameterError, match="one-step"):
        age_adjusted_seasonality(df, as_of="2025-06-30", method="glm")
    with pytest.raises(ParameterError, match="month_of_year"):
        age_adjusted_seasonality(df, as_of="2025-06-30", period="week")


def test_age_adjusted_by_group_fits_each_group():
    a = simulate_aged(1500, 2.0, seed=3).assign(sex="F")
    b = simulate_aged(1500, 1.0, seed=4).assign(sex="M")
    out = age_adjusted_summer_effect(pd.concat([a, b], ignore_index=True), as_of="2025-06-30", by="sex")
    assert out["sex"].tolist() == ["F", "M"]
    crude = summer_effect(pd.concat([a, b], ignore_index=True), as_of="2025-06-30", by="sex")
    for col in ("rate_ratio", "ci_low", "ci_high"):  # the crude columns are summer_effect's
        assert out[f"crude_{col}"].to_numpy() == pytest.approx(crude[col].to_numpy(), rel=1e-9)
    alone = age_adjusted_summer_effect(a, as_of="2025-06-30").iloc[0]
    assert out.loc[0, "rate_ratio"] == pytest.approx(alone["rate_ratio"])
    assert out.loc[0, "ci_low"] > 1.0 and out.loc[1, "ci_low"] < 1.0 < out.loc[1, "ci_high"]


def test_shared_age_calendar_gives_the_same_tables():
    """The age × calendar split computed once (age_calendar) and passed as calendar= changes nothing."""
    df = simulate_aged(2000, 1.5, 3)
    df = df.assign(sex=pd.array(np.where(np.arange(len(df)) % 3 == 0, "F", "M"), dtype="string"))
    for by in (None, "sex"):
        cal = age_calendar(df, as_of="2025-06-30", by=by)
        pd.testing.assert_frame_equal(
            age_adjusted_summer_effect(df, as_of="2025-06-30", by=by, calendar=cal),
            age_adjusted_summer_effect(df, as_of="2025-06-30", by=by),
            check_exact=True,
        )
        pd.testing.assert_frame_equal(
            age_adjusted_seasonality(df, as_of="2025-06-30", by=by, period="year_month", calendar=cal),
            age_adjusted_seasonality(df, as_of="2025-06-30", by=by, period="year_month"),
            check_exact=True,
        )
    cal = age_calendar(df, as_of="2025-06-30")
    with pytest.raises(ParameterError, match="as_of"):
        age_adjusted_summer_effect(df, as_of="2025-05-31", calendar=cal)
    with pytest.raises(ParameterError, match="by"):
        age_adjusted_seasonality(df, as_of="2025-06-30", by="sex", calendar=cal)
    with pytest.raises(ParameterError, match="another contract table"):
        age_adjusted_summer_effect(df.iloc[:-1], as_of="2025-06-30", calendar=cal)
