"""Every confidence interval and control limit of the statistics, in one place (vectorised).

* proportions: Wilson (score, the default: good coverage for small n and rates near 0 or 1, Brown,
  Cai & DasGupta 2001) and Clopper-Pearson (exact, conservative), both as
  ``scipy.stats.binomtest(k, n).proportion_ci(method=...)`` (tested); :func:`proportion_interval`
  chooses between them by name;
* funnel limits: exact binomial control limits (:func:`binomial_limits`), widened for
  over-dispersion (:func:`scaled_limits`) or in their random-effects version on the arcsine scale
  (:func:`arcsine_limits`);
* counts: exact Poisson (Garwood) interval of a rate or of an observed / expected ratio
  (:func:`poisson_interval`);
* rate ratios: exact conditional binomial interval (:func:`rate_ratio_interval`) and Wald interval
  on the log scale (:func:`log_wald_ratio_interval`);
* survival: log-log ("exponential Greenwood") interval of a Kaplan-Meier value
  (:func:`loglog_survival_interval`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.errors import ParameterError

CI_METHODS = ("wilson", "clopper-pearson")
"""Interval methods of :func:`proportion_interval`."""


def _arr(x: object) -> np.ndarray:
    return np.asarray(pd.Series(x).astype("float64").to_numpy(na_value=np.nan), dtype="float64")


def z_value(level: float) -> float:
    """The two-sided normal quantile of ``level``: ``norm.ppf(0.5 + level / 2)``.

    >>> round(z_value(0.95), 4)
    1.96
    """
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson_interval(k: object, n: object, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes out of ``n``; NaN where ``n == 0``.

    >>> lo, hi = wilson_interval([3], [10])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.1078, 0.6032)
    """
    k_, n_ = _arr(k), _arr(n)
    z = z_value(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k_ / n_
        denom = 1 + z**2 / n_
        centre = (p + z**2 / (2 * n_)) / denom
        half = z * np.sqrt(p * (1 - p) / n_ + z**2 / (4 * n_**2)) / denom
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    lo = np.where(k_ == 0, 0.0, lo)
    hi = np.where(k_ == n_, 1.0, hi)
    bad = ~(n_ > 0) | np.isnan(k_)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def clopper_pearson_interval(k: object, n: object, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval; NaN where ``n == 0``.

    >>> lo, hi = clopper_pearson_interval([3], [10])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0667, 0.6525)
    """
    k_, n_ = _arr(k), _arr(n)
    a = 1 - level
    with np.errstate(invalid="ignore"):
        lo = np.where(k_ > 0, stats.beta.ppf(a / 2, k_, n_ - k_ + 1), 0.0)
        hi = np.where(k_ < n_, stats.beta.ppf(1 - a / 2, k_ + 1, n_ - k_), 1.0)
    bad = ~(n_ > 0) | np.isnan(k_)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def proportion_interval(
    k: object, n: object, *, method: str = "wilson", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``k / n`` by ``method`` (``"wilson"`` or ``"clopper-pearson"``); NaN where n == 0.

    >>> lo, hi = proportion_interval([3], [10], method="clopper-pearson")
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0667, 0.6525)
    """
    if method == "wilson":
        return wilson_interval(k, n, level=level)
    if method == "clopper-pearson":
        return clopper_pearson_interval(k, n, level=level)
    raise ParameterError(f"unknown interval method {method!r}", hint=f"choose among: {', '.join(CI_METHODS)}")


def binomial_limits(p0: float, n: object, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial control limits (as proportions) around a target ``p0`` for sizes ``n``.

    Spiegelhalter (2005) funnel limits with the interpolation of his appendix: the quantile
    ``r`` of Binomial(n, p0), adjusted so that the limits are smooth in ``n``.

    >>> lo, hi = binomial_limits(0.2, [100], level=0.95)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.12, 0.276)
    """
    n_ = _arr(n)
    out = []
    for q in ((1 - level) / 2, 1 - (1 - level) / 2):
        with np.errstate(invalid="ignore", divide="ignore"):
            r = stats.binom.ppf(q, n_, p0)
            cdf_r = stats.binom.cdf(r, n_, p0)
            pmf_r = stats.binom.pmf(r, n_, p0)
            alpha = np.where(pmf_r > 0, (cdf_r - q) / pmf_r, 0.0)
            lim = (r - alpha) / n_
        out.append(np.where(n_ > 0, np.clip(lim, 0.0, 1.0), np.nan))
    return out[0], out[1]


def arcsine_limits(p0: float, var: object, tau2: float, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Random-effects funnel limits around ``p0`` on the arcsine-square-root scale.

    ``sin²(asin(sqrt(p0)) ± z_level sqrt(var + tau2))`` with ``var = 1 / (4n)`` the variance of
    ``asin(sqrt(rate))`` (FunnelPlotR's additive adjustment for proportions).

    >>> lo, hi = arcsine_limits(0.2, [0.0025], 0.0, level=0.95)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.128, 0.284)
    """
    q = z_value(level)
    sd = np.sqrt(np.asarray(var, dtype="float64") + tau2)
    t_tr = np.arcsin(np.sqrt(p0))
    return np.sin(np.clip(t_tr - q * sd, 0, np.pi / 2)) ** 2, np.sin(
        np.clip(t_tr + q * sd, 0, np.pi / 2)
    ) ** 2


def scaled_limits(p0: float, lo: np.ndarray, hi: np.ndarray, phi: float) -> tuple[np.ndarray, np.ndarray]:
    """Control limits widened around ``p0`` by ``sqrt(phi)`` when ``phi > 1`` (multiplicative
    over-dispersion), clipped to [0, 1].

    >>> scaled_limits(0.2, np.array([0.1]), np.array([0.3]), 4.0)
    (array([0.]), array([0.4]))
    """
    scale = np.sqrt(phi) if phi > 1 else 1.0
    return np.clip(p0 + scale * (lo - p0), 0, 1), np.clip(p0 + scale * (hi - p0), 0, 1)


def poisson_interval(k: object, exposure: object, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate ``k / exposure`` (or ratio observed / expected).

    ``lower = chi2.ppf(a/2, 2k) / (2E)`` (0 when k = 0), ``upper = chi2.ppf(1 - a/2, 2k + 2) / (2E)``;
    NaN where ``E <= 0``.

    >>> lo, hi = poisson_interval([4], [100.0])
    >>> round(float(lo[0]), 5), round(float(hi[0]), 5)
    (0.0109, 0.10242)
    >>> lo, hi = poisson_interval([5], [4.0])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.4059, 2.9171)
    """
    k_, e_ = _arr(k), _arr(exposure)
    a = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k_ > 0, stats.chi2.ppf(a / 2, 2 * k_) / 2, 0.0) / e_
        hi = stats.chi2.ppf(1 - a / 2, 2 * k_ + 2) / 2 / e_
    bad = ~(e_ > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def rate_ratio_interval(
    k1: object, k0: object, e1: object, e0: object, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact interval of the rate ratio ``(k1/e1) / (k0/e0)`` given ``k1 + k0`` (``e`` known).

    ``k1 ~ Binomial(k1 + k0, p)`` with ``p = RR·e1 / (RR·e1 + e0)``: Clopper-Pearson on ``p``,
    mapped by ``RR = p / (1 - p) · e0 / e1``; NaN without exposure or events.

    >>> lo, hi = rate_ratio_interval([10], [10], [1.0], [1.0])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.374, 2.677)
    """
    n1, n0, x1, x0 = (np.asarray(a, dtype="float64") for a in (k1, k0, e1, e0))
    plo, phi = clopper_pearson_interval(n1, n1 + n0, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = plo / (1 - plo) * x0 / x1
        hi = np.where(phi < 1, phi / np.where(phi < 1, 1 - phi, 1.0) * x0 / x1, np.inf)
    bad = ~((x1 > 0) & (x0 > 0) & (n1 + n0 > 0))
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def log_wald_ratio_interval(
    ratio: object, k1: object, k0: object, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval of a rate ratio on the log scale: ``ratio · exp(± z sqrt(1/k1 + 1/k0))``.

    >>> lo, hi = log_wald_ratio_interval([1.0], [10], [10])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.416, 2.403)
    """
    rr, n1, n0 = (np.asarray(a, dtype="float64") for a in (ratio, k1, k0))
    z = z_value(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(1 / n1 + 1 / n0)
        return np.exp(np.log(rr) - z * se), np.exp(np.log(rr) + z * se)


def loglog_survival_interval(
    survival: np.ndarray, greenwood: np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Log-log ("exponential Greenwood") interval of Kaplan-Meier values ``S`` with Greenwood's sum
    ``Σ d/(n(n-d))``; NaN where ``S`` is 1 or 0 (as ``scipy.stats.ecdf``'s ``method="log-log"``).

    >>> lo, hi = loglog_survival_interval(np.array([0.8]), np.array([0.05]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2038, 0.9692)
    """
    z = z_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(greenwood) / np.abs(np.log(survival))
        lnl = np.log(-np.log(survival))
        lo = np.exp(-np.exp(lnl + z * se))
        hi = np.exp(-np.exp(lnl - z * se))
    defined = (survival > 0) & (survival < 1)
    return np.where(defined, lo, np.nan), np.where(defined, hi, np.nan)
