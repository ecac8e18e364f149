"""The joint case-mix comparison of CFAs, the comparability rule, and the funnel's over-dispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.sample.truth import cfa_design, generate_contracts
from aioa_analysis.stats.casemix import cfa_comparison, funnel_limits, funnel_overdispersion, overlap
from aioa_analysis.stats.intervals import binomial_limits
from aioa_analysis.stats.poisson import design_matrix, fit_poisson


def test_poisson_fit_matches_closed_form_rate_ratios():
    cells = pd.DataFrame(
        {"g": ["a", "b", "c"], "events": [10.0, 30.0, 5.0], "exposure": [100.0, 150.0, 20.0]}
    )
    x, names, lam = design_matrix(cells, ["g"], penalties={"g": 0.0})
    keep = [i for i, n in enumerate(names) if n != "g=a"]  # reference level a
    fit = fit_poisson(x[:, keep], cells["events"], cells["exposure"], lam[keep], [names[i] for i in keep])
    est, se = fit.contrast({"g=b": 1.0})
    assert np.exp(est) == pytest.approx((30 / 150) / (10 / 100))
    assert se == pytest.approx(np.sqrt(1 / 30 + 1 / 10), rel=1e-6)


def test_a_centre_alone_in_its_strata_is_not_comparable():
    g = generate_contracts(3000, seed=21)
    out = cfa_comparison(g.contracts, as_of="2025-11-30").set_index("cfa")
    school = cfa_design()[6]["uai"]  # the engineering school, alone at level 7
    assert not out.loc[school, "comparable"]
    assert np.isnan(out.loc[school, "ratio"]) and np.isnan(out.loc[school, "p_value"])
    assert out.drop(index=school)["comparable"].all()


def test_overlap_rule_is_the_harmonic_information():
    cells = pd.DataFrame(
        {"cfa": ["a", "b", "a"], "stratum": ["3|x", "3|x", "inconnu|x"], "band": "0", "n": [30, 60, 500]}
    )
    assert overlap(cells).to_dict() == {"a": 20.0, "b": 20.0}


def test_recovers_a_centre_effect():
    g = generate_contracts(8000, seed=22, effect_cfa=2, effect_ratio=1.8)
    out = cfa_comparison(g.contracts, as_of="2025-11-30").set_index("cfa")
    deviant = cfa_design()[2]["uai"]
    assert out.loc[deviant, "ci_low"] > 1.0
    assert out.loc[deviant, "ci_low"] <= 1.8 <= out.loc[deviant, "ci_high"]


def test_the_centre_in_risky_trades_has_the_highest_raw_rate_but_no_adjusted_excess():
    g = generate_contracts(8000, seed=23)
    out = cfa_comparison(g.contracts, as_of="2025-11-30").set_index("cfa")
    big = cfa_design()[1]["uai"]
    raw = out["events"] / out["n_contracts"]
    assert raw.idxmax() == big
    assert out.loc[big, "ci_low"] < 1.0 < out.loc[big, "ci_high"]


def test_overdispersion_and_limits():
    n = np.array([100, 400, 900, 1600, 2500])
    k_binomial = (0.2 * n).astype(int)
    assert funnel_overdispersion(k_binomial, n)["phi"] == pytest.approx(0.0, abs=1e-9)
    k_spread = np.array([10, 120, 120, 480, 400])
    d = funnel_overdispersion(k_spread, n)
    assert d["phi"] > 5 and d["p_value"] < 1e-6 and d["tau2"] > 0
    lo, hi = funnel_limits(d["target"], n, level=0.998, tau2=d["tau2"])
    blo, bhi = binomial_limits(d["target"], n, level=0.998)
    assert (hi - lo > bhi - blo).all()
    # without over-dispersion the normal limits approach the exact binomial ones for large n
    lo1, hi1 = funnel_limits(0.2, [2500], level=0.95)
    blo1, bhi1 = binomial_limits(0.2, [2500], level=0.95)
    assert lo1[0] == pytest.approx(blo1[0], abs=0.002) and hi1[0] == pytest.approx(bhi1[0], abs=0.002)
