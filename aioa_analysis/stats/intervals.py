"""Confidence intervals for proportions (vectorised) and exact binomial limits.

Wilson (score) is the default interval: good coverage for small n and rates near 0 or 1 (Brown, Cai
& DasGupta 2001). Clopper-Pearson (exact, conservative) is offered beside it. Both agree with
``scipy.stats.binomtest(k, n).proportion_ci(method=...)`` (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _arr(x: object) -> np.ndarray:
    return np.asarray(pd.Series(x).astype("float64").to_numpy(na_value=np.nan), dtype="float64")


def wilson_interval(k: object, n: object, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes out of ``n``; NaN where ``n == 0``.

    >>> lo, hi = wilson_interval([3], [10])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.1078, 0.6032)
    """
    k_, n_ = _arr(k), _arr(n)
    z = stats.norm.ppf(0.5 + level / 2)
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
