"""Intervals against independent implementations: scipy's binomtest and the exact binomial formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from aioa_analysis.stats.intervals import binomial_limits, clopper_pearson_interval, wilson_interval
from tests.frames import exact_limit

CASES = [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (1, 19), (7, 20), (50, 200), (199, 200), (21, 1000)]


@pytest.mark.parametrize("level", [0.90, 0.95, 0.998])
def test_wilson_matches_scipy(level):
    k, n = np.array(CASES).T
    lo, hi = wilson_interval(k, n, level=level)
    for i, (kk, nn) in enumerate(CASES):
        ci = stats.binomtest(int(kk), int(nn)).proportion_ci(confidence_level=level, method="wilson")
        assert lo[i] == pytest.approx(ci.low, abs=1e-12)
        assert hi[i] == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("level", [0.90, 0.95, 0.998])
def test_clopper_pearson_matches_scipy(level):
    k, n = np.array(CASES).T
    lo, hi = clopper_pearson_interval(k, n, level=level)
    for i, (kk, nn) in enumerate(CASES):
        ci = stats.binomtest(int(kk), int(nn)).proportion_ci(confidence_level=level, method="exact")
        assert lo[i] == pytest.approx(ci.low, abs=1e-10)
        assert hi[i] == pytest.approx(ci.high, abs=1e-10)


def test_zero_denominator_and_missing_give_nan():
    for fn in (wilson_interval, clopper_pearson_interval):
        lo, hi = fn([0, 1, None], [0, None, 5])
        assert np.isnan(lo).all() and np.isnan(hi).all()


def test_wilson_hand_value():
    # k = 3, n = 10, z = 1.959964: centre = (0.3 + z²/20) / (1 + z²/10), half = z sqrt(0.021 + z²/400) / (1 + z²/10)
    z = 1.959963984540054
    denom = 1 + z**2 / 10
    centre = (0.3 + z**2 / 20) / denom
    half = z * np.sqrt(0.3 * 0.7 / 10 + z**2 / 400) / denom
    lo, hi = wilson_interval([3], [10])
    assert (lo[0], hi[0]) == pytest.approx((centre - half, centre + half))


@pytest.mark.parametrize("p0", [0.05, 0.2, 0.5, 0.83])
@pytest.mark.parametrize("level", [0.95, 0.998])
def test_binomial_limits_match_exact_formula(p0, level):
    ns = [1, 2, 5, 10, 20, 37, 100, 250]
    lo, hi = binomial_limits(p0, ns, level=level)
    a = (1 - level) / 2
    for i, n in enumerate(ns):
        assert lo[i] == pytest.approx(exact_limit(p0, n, a), abs=1e-9)
        assert hi[i] == pytest.approx(exact_limit(p0, n, 1 - a), abs=1e-9)


def test_binomial_limits_hand_value():
    # n = 100, p0 = 0.2: lower 2.5 % quantile r = 12, P(R <= 12) = 0.02533, P(R = 12) = 0.01284
    lo, _ = binomial_limits(0.2, [100], level=0.95)
    cdf12, pmf12 = stats.binom.cdf(12, 100, 0.2), stats.binom.pmf(12, 100, 0.2)
    assert stats.binom.cdf(11, 100, 0.2) < 0.025 <= cdf12
    assert lo[0] == pytest.approx((12 - (cdf12 - 0.025) / pmf12) / 100)
    assert lo[0] == pytest.approx(0.1197, abs=5e-5)


@pytest.mark.parametrize("p0", [0.1, 0.2, 0.35])
def test_binomial_limits_normal_approximation_for_large_n(p0):
    n = np.array([20_000, 100_000])
    for level in (0.95, 0.998):
        z = stats.norm.ppf(0.5 + level / 2)
        lo, hi = binomial_limits(p0, n, level=level)
        sd = np.sqrt(p0 * (1 - p0) / n)
        tol = 0.05 * sd + 1 / n
        assert (np.abs(lo - (p0 - z * sd)) < tol).all()
        assert (np.abs(hi - (p0 + z * sd)) < tol).all()


def test_binomial_limits_edges():
    lo, hi = binomial_limits(0.2, [0, np.nan], level=0.95)
    assert np.isnan(lo).all() and np.isnan(hi).all()
    lo, hi = binomial_limits(0.0, [10], level=0.95)
    assert (lo[0], hi[0]) == (0.0, 0.0)
    lo, hi = binomial_limits(0.2, np.arange(1, 400), level=0.998)
    assert (lo <= 0.2).all() and (hi >= 0.2).all() and (np.diff(hi[50:]) < 0.002).all()
