"""Aalen-Johansen whole-contract rupture: exact without censoring, near the truth with censoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.sample.truth import generate_contracts
from aioa_analysis.stats.competing import aalen_johansen, event_codes, whole_contract_rates
from aioa_analysis.stats.outcomes import DURATION_DAYS, OUTCOME, with_outcome


def test_without_censoring_equals_the_empirical_share_at_every_time():
    rng = np.random.default_rng(4)
    t = rng.integers(1, 300, size=500).astype(float)
    e = rng.choice([1, 2], size=500, p=[0.3, 0.7])
    curve = aalen_johansen(t, e)
    direct = [np.mean((t <= u) & (e == 1)) for u in curve["time"]]
    np.testing.assert_allclose(curve["cif"], direct, atol=1e-12)


def test_with_censoring_matches_a_direct_product_limit_computation():
    rng = np.random.default_rng(5)
    t = rng.integers(1, 50, size=200).astype(float)
    e = rng.choice([0, 1, 2], size=200)
    curve = aalen_johansen(t, e)
    # independent loop: S(t-) * hazard of cause 1, summed over distinct times
    surv, cif, expected = 1.0, 0.0, []
    for u in np.unique(t):
        at_risk = np.sum(t >= u)
        d1, d = np.sum((t == u) & (e == 1)), np.sum((t == u) & (e > 0))
        if d == 0:
            continue
        cif += surv * d1 / at_risk
        surv *= 1 - d / at_risk
        expected.append(cif)
    np.testing.assert_allclose(curve["cif"], expected, atol=1e-12)


def test_variance_is_the_binomial_one_without_censoring():
    # no censoring: the delta-method variance at the end reduces to p (1 - p) / n
    t = np.arange(1.0, 401.0)
    e = np.where(np.arange(400) % 4 == 0, 1, 2)
    last = aalen_johansen(t, e).iloc[-1]
    assert last["cif"] == pytest.approx(0.25)
    assert last["se"] == pytest.approx(np.sqrt(0.25 * 0.75 / 400), rel=1e-6)


def test_event_codes_treat_rupture_after_diploma_as_competing():
    codes = event_codes(pd.Series(["ruptured", "ruptured_after_diploma", "completed", "ongoing"]))
    assert codes.tolist() == [1, 2, 2, 0]


def test_table_has_the_rate_columns_plus_estimator_and_says_where_the_curve_stops():
    g = generate_contracts(1500, seed=11)
    out = whole_contract_rates(g.contracts, as_of="2025-11-30", by="cfa", min_n=20)
    for col in ("n_contracts", "n_ruptures", "rate", "ci_low", "ci_high", "suppressed", "horizon_months"):
        assert col in out
    assert (out["estimator"] == "aalen-johansen").all()
    assert (out["n_at_risk_end"] >= 20).all()
    big = whole_contract_rates(g.contracts, as_of="2025-11-30", min_n=400).iloc[0]
    assert big["n_at_risk_end"] >= 400
    assert big["curve_stopped"] == (big["n_ruptures_beyond"] > 0)
    # stopping earlier never reaches further in time
    assert (
        big["horizon_months"]
        <= whole_contract_rates(g.contracts, as_of="2025-11-30").iloc[0]["horizon_months"]
    )


def test_kaplan_meier_would_overstate_and_aalen_johansen_does_not():
    g = generate_contracts(4000, seed=12, after_diploma_marked=1.0)
    frame = with_outcome(g.contracts, as_of="2025-11-30")
    t = frame[DURATION_DAYS].astype(float).to_numpy()
    codes = event_codes(frame[OUTCOME])
    aj = aalen_johansen(t, codes)["cif"].iloc[-1]
    # with completion treated as censoring, the only cause's incidence is 1 - Kaplan-Meier
    km = aalen_johansen(t, np.where(codes == 1, 1, 0))["cif"].iloc[-1]
    truth = (g.contracts["true_outcome"] == "ruptured").mean()
    assert abs(aj - truth) < 0.02
    assert km > aj + 0.02


@pytest.mark.slow
def test_within_two_points_and_covers_at_about_the_nominal_rate_with_mixed_durations():
    # the population share: one large data set of the same design (sd of this estimate ~0.25 pt)
    big = generate_contracts(30000, seed=9999, after_diploma_marked=1.0).contracts
    truth = (big["true_outcome"] == "ruptured").mean()
    truth_cfa = big.assign(t=big["true_outcome"] == "ruptured").groupby("cfa_uai")["t"].mean()
    covered, covered_cfa, errors = [], [], []
    for seed in range(16):
        d = generate_contracts(5000, seed=700 + seed, after_diploma_marked=1.0).contracts
        overall = whole_contract_rates(d, as_of="2025-11-30").iloc[0]
        errors.append(overall["rate"] - truth)
        covered.append(overall["ci_low"] <= truth <= overall["ci_high"])
        by = whole_contract_rates(d, as_of="2025-11-30", by="cfa").set_index("cfa")
        covered_cfa += list((by["ci_low"] <= truth_cfa) & (truth_cfa <= by["ci_high"]))
    assert np.max(np.abs(errors)) < 0.02
    assert abs(np.mean(errors)) < 0.005
    assert np.mean(covered) >= 0.85
    assert 0.88 <= np.mean(covered_cfa) <= 0.995
