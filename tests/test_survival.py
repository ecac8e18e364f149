"""Kaplan-Meier, whole-contract rupture and log-rank: hand-computed values and scipy as referee."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.stats.rates import rupture_rate_within
from aioa_analysis.stats.survival import (
    add_months,
    kaplan_meier,
    km_at,
    logrank,
    months_since_start,
    rupture_km,
    rupture_logrank,
    rupture_whole_contract,
)
from tests.frames import dated_frame

END = "2026-08-31"


# ------------------------------------------------------------------------------ calendar months


def test_add_months_matches_pandas_dateoffset():
    rng = np.random.default_rng(1)
    start = pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 2500, 400), unit="D")
    k = rng.integers(0, 40, 400)
    expected = [s + pd.DateOffset(months=int(m)) for s, m in zip(start, k, strict=True)]
    got = add_months(start, k)
    assert list(pd.to_datetime(got)) == expected


def test_months_since_start_boundaries():
    start = pd.to_datetime(["2024-09-01", "2024-09-01", "2024-01-31", "2024-01-31", "2024-09-01"])
    end = pd.to_datetime(["2025-06-01", "2025-05-31", "2024-02-29", "2024-02-28", "2024-08-01"])
    t = months_since_start(start, end)
    assert t[0] == 9.0  # exactly 9 months
    assert 8.0 < t[1] < 9.0
    assert t[2] == 1.0  # 31 Jan + 1 month = 29 Feb (clipped)
    assert t[3] == pytest.approx(28 / 29)  # 28 of the 29 days of [31 Jan, 29 Feb)
    assert t[4] == 0.0  # before the start: 0


# ------------------------------------------------------------------------------ Kaplan-Meier


def test_kaplan_meier_hand_computed_with_ties_and_time_zero():
    # t=0: 2 events among 6 (rupture on the start day); t=2: 1 event + 1 censored (tie, event first);
    # t=3: 1 censored; t=5: 1 event among 1
    km = kaplan_meier([0, 0, 2, 2, 3, 5], [1, 1, 1, 0, 0, 1])
    assert km["time"].tolist() == [0, 2, 3, 5]
    assert km["n_at_risk"].tolist() == [6, 4, 2, 1]
    assert km["n_events"].tolist() == [2, 1, 0, 1]
    assert km["n_censored"].tolist() == [0, 1, 1, 0]
    s0 = 4 / 6
    s2 = s0 * 3 / 4
    assert km["survival"].tolist() == pytest.approx([s0, s2, s2, 0.0])
    gw = 2 / (6 * 4) + 1 / (4 * 3)
    assert km["greenwood_var"].iloc[1] == pytest.approx(gw)
    z = stats.norm.ppf(0.975)
    se = np.sqrt(gw) / abs(np.log(s2))
    assert km["ci_low"].iloc[1] == pytest.approx(s2 ** np.exp(z * se))
    assert km["ci_high"].iloc[1] == pytest.approx(s2 ** np.exp(-z * se))
    assert np.isnan(km["ci_low"].iloc[3])  # S = 0: undefined


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kaplan_meier_agrees_with_scipy_ecdf(seed):
    rng = np.random.default_rng(seed)
    n = 400
    t = rng.integers(0, 60, n).astype(float)  # many ties
    e = rng.random(n) < 0.4
    km = kaplan_meier(t, e)
    res = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e]))
    np.testing.assert_allclose(km["time"], res.sf.quantiles)
    np.testing.assert_allclose(km["survival"], res.sf.probabilities)
    with np.errstate(all="ignore"):
        ci = res.sf.confidence_interval(method="log-log")
    ok = km["ci_low"].notna().to_numpy()
    np.testing.assert_allclose(km["ci_low"].to_numpy()[ok], ci.low.probabilities[ok])
    np.testing.assert_allclose(km["ci_high"].to_numpy()[ok], ci.high.probabilities[ok])


def test_rupture_km_hand_computed_censoring():
    as_of = "2025-01-31"
    df = dated_frame(
        [
            ("2024-09-01", END, "2024-09-01"),  # rupture on the start day: month 1
            ("2024-09-01", END, "2024-10-01"),  # exactly 1 month: month 2
            ("2024-09-01", "2024-11-01", None),  # completed: censored at 2 months
            ("2024-09-01", END, None),  # ongoing: censored at as_of, 4 + 30/31 months
            ("2024-09-01", END, "2024-12-15"),  # after diploma: censored at 3.45 months
        ],
        rupture_after_diploma=pd.array([False, False, False, False, True], dtype="boolean"),
    )
    out = rupture_km(df, as_of=as_of, min_n=0)
    assert out["month"].tolist() == [0, 1, 2, 3, 4, 5]
    assert out["n_at_risk"].tolist() == [5, 4, 3, 2, 1, 0]
    assert out["n_ruptures"].tolist() == [0, 1, 1, 0, 0, 0]
    # censored during month m ([m-1, m)): completed at exactly 2 -> month 3; after diploma -> month 4;
    # ongoing -> month 5
    assert out["n_censored"].tolist() == [0, 0, 0, 1, 1, 1]
    s1 = 4 / 5
    s2 = s1 * 3 / 4  # at t=1: 4 at risk (the completed one still is), 1 event
    assert out["rate"].tolist() == pytest.approx([0, 1 - s1, 1 - s2, 1 - s2, 1 - s2, 1 - s2])
    assert out["cum_ruptures"].tolist() == [0, 1, 2, 2, 2, 2]
    assert out["ci_low"].iloc[2] < out["rate"].iloc[2] < out["ci_high"].iloc[2]
    assert out["n_contracts"].eq(5).all()


def test_km_at_horizon_equals_fixed_horizon_rate_when_fully_observed():
    rng = np.random.default_rng(7)
    n = 500
    start = pd.to_datetime("2022-09-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")
    days = rng.integers(0, 700, n)
    rupt = pd.Series(start + pd.to_timedelta(days, unit="D")).where(rng.random(n) < 0.4)
    df = pd.DataFrame(
        {"start_date": start, "planned_end_date": start + pd.DateOffset(years=2), "rupture_date": rupt}
    )
    as_of = "2025-06-30"  # every contract observed for 9 months
    km = rupture_km(df, as_of=as_of, max_months=12, min_n=0).set_index("month")
    fixed = rupture_rate_within(df, as_of=as_of, horizon_months=9, min_n=0).iloc[0]
    assert km.loc[9, "rate"] == pytest.approx(fixed["rate"])


def test_rupture_km_suppression_and_groups():
    df = dated_frame([("2024-09-01", END, None)] * 3, sex=["F", "F", "M"])
    out = rupture_km(df, as_of="2024-12-31", by="sex", min_n=2)
    f0 = out[(out["sex"] == "F") & (out["month"] == 0)].iloc[0]
    assert not f0["suppressed"]
    m0 = out[(out["sex"] == "M") & (out["month"] == 0)].iloc[0]
    assert m0["suppressed"] and m0["suppression_reason"] == "effectif < 2"
    f4 = out[(out["sex"] == "F") & (out["month"] == 4)].iloc[0]
    assert f4["n_at_risk"] == 0 and f4["suppressed"] and f4["suppression_reason"] == "à risque < 2"


# ------------------------------------------------------------------------------ whole contract


def test_whole_contract_plain_share_and_km_for_running_cohort():
    rows_done = [
        ("2021-09-01", "2023-08-31", "2021-10-01"),
        ("2021-09-01", "2023-08-31", None),
        ("2021-09-01", "2023-08-31", "2023-09-15"),  # after the planned end: completed
        ("2021-09-01", "2023-08-31", "2022-12-01"),
    ]
    rows_running = [
        ("2024-09-01", "2026-08-31", "2024-10-01"),  # rupture at 1 month
        ("2024-09-01", "2026-08-31", None),  # ongoing, censored at as_of
        ("2024-09-01", "2025-02-28", None),  # completed at ~5.9 months
    ]
    df = dated_frame(rows_done + rows_running, school_year=["2021-2022"] * 4 + ["2024-2025"] * 3)
    out = rupture_whole_contract(df, as_of="2025-06-30", by="cohort", min_n=0).set_index("cohort")
    done = out.loc["2021-2022"]
    assert done["estimator"] == "part_observee"
    assert (done["n_contracts"], done["n_ruptures"]) == (4, 2) and done["rate"] == pytest.approx(0.5)
    ci = stats.binomtest(2, 4).proportion_ci(method="wilson")
    assert (done["ci_low"], done["ci_high"]) == pytest.approx((ci.low, ci.high))
    run = out.loc["2024-2025"]
    assert run["estimator"] == "kaplan_meier"
    assert run["rate"] == pytest.approx(1 / 3)  # one event among 3 at risk, then censorings
    assert run["n_ongoing"] == 1 and run["horizon_months"] == 24


# ------------------------------------------------------------------------------ log-rank


def test_logrank_hand_computed():
    # group a: events at 1, 2; group b: events at 3, 4 (all events)
    stat, dof, p, table = logrank([1, 2, 3, 4], [1, 1, 1, 1], ["a", "a", "b", "b"])
    e_a = 2 / 4 + 1 / 3
    var = (1 * 3 / 3) * (2 / 4) * (2 / 4) + (1 * 2 / 2) * (1 / 3) * (2 / 3)
    assert table["expected"].tolist() == pytest.approx([e_a, 4 - e_a])
    assert stat == pytest.approx((2 - e_a) ** 2 / var)
    assert dof == 1 and p == pytest.approx(stats.chi2.sf(stat, 1))


@pytest.mark.parametrize("seed", [3, 4])
def test_logrank_two_groups_agrees_with_scipy(seed):
    rng = np.random.default_rng(seed)
    n = 300
    t = rng.integers(1, 40, n).astype(float)
    e = rng.random(n) < 0.5
    g = rng.random(n) < 0.4
    t = np.where(g, t * 0.8, t).round()
    stat, dof, p, _ = logrank(t, e, np.where(g, "x", "y"))
    assert dof == 1
    ref = stats.logrank(
        stats.CensoredData(uncensored=t[g & e], right=t[g & ~e]),
        stats.CensoredData(uncensored=t[~g & e], right=t[~g & ~e]),
    )
    assert stat == pytest.approx(ref.statistic**2)
    assert p == pytest.approx(ref.pvalue)


def test_logrank_three_groups_degrees_of_freedom_and_null():
    rng = np.random.default_rng(5)
    t = rng.exponential(10, 600).round(1)
    e = rng.random(600) < 0.7
    g = np.repeat(["a", "b", "c"], 200)
    stat, dof, p, table = logrank(t, e, g)
    assert dof == 2 and len(table) == 3 and p == pytest.approx(stats.chi2.sf(stat, 2))
    assert table["observed"].sum() == pytest.approx(table["expected"].sum())
    assert p > 0.01  # same distribution in the three groups


def test_rupture_logrank_detects_a_riskier_group():
    rng = np.random.default_rng(11)
    n = 400
    start = pd.Timestamp("2023-09-01")
    risky = np.arange(n) < n // 2
    days = rng.exponential(np.where(risky, 300, 1200)).astype("int64")
    rupt = pd.Series(start + pd.to_timedelta(days, unit="D")).where(days < 700)
    df = pd.DataFrame(
        {
            "start_date": start,
            "planned_end_date": pd.Timestamp("2025-08-31"),
            "rupture_date": rupt,
            "sector": np.where(risky, "hebergement_restauration", "construction"),
        }
    )
    out = rupture_logrank(df, as_of="2025-06-30", by="sector").set_index("sector")
    assert out["p_value"].iloc[0] < 1e-6
    assert out.loc["hebergement_restauration", "observed_expected_ratio"] > 1
    assert out.loc["construction", "observed_expected_ratio"] < 1


def test_civil_calendar_round_trip_matches_numpy():
    from aioa_analysis.stats.survival import civil_from_days, days_from_civil

    days = np.arange(-30000, 60000, 7)  # 1887 .. 2134
    y, m, d = civil_from_days(days)
    ref = pd.DatetimeIndex(days.astype("datetime64[D]"))
    assert (y == ref.year).all() and (m == ref.month).all() and (d == ref.day).all()
    assert (days_from_civil(y, m, d) == days).all()


def test_months_since_start_agrees_with_dateoffset_definition():
    rng = np.random.default_rng(9)
    start = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, 300), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 1000, 300), unit="D")
    t = months_since_start(start, end)
    for s, e, ti in zip(start, end, t, strict=True):
        k = 0
        while s + pd.DateOffset(months=k + 1) <= e:
            k += 1
        lo, hi = s + pd.DateOffset(months=k), s + pd.DateOffset(months=k + 1)
        assert ti == pytest.approx(k + (e - lo).days / (hi - lo).days)


@pytest.mark.parametrize("seed", [0, 1])
def test_km_at_right_side_agrees_with_scipy_ecdf_cdf_and_loglog_interval(seed):
    # the reading used for the time to a new contract: 1 - S(d), events on day d included
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 60, 300).astype("float64")
    e = rng.random(300) < 0.6
    days = np.arange(-1.0, 70.0)
    surv, lo, hi, _ = km_at(kaplan_meier(t, e), days, side="right", ci_before=1.0)
    res = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined where S is 1 or 0
        ci = res.cdf.confidence_interval(0.95, method="log-log")
    np.testing.assert_allclose(1 - surv, res.cdf.evaluate(days), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(1 - hi, ci.low.evaluate(days), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(1 - lo, ci.high.evaluate(days), rtol=1e-12, atol=1e-14)
