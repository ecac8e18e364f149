"""The Poisson age × period model of the age-adjusted seasonality.

:func:`fit_age_period` fits ``E[O[k, c]] = X[k, c] · h[k] · r[c]`` (age month ``k`` of the contract,
period ``c``) by iterative proportional fitting; :func:`stratified_rate_ratio` estimates one rate
ratio common to strata (the age months) with its profile-likelihood interval, conditionally on the
ruptures of each stratum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from aioa_analysis.core.errors import ParameterError

ADJUST_METHODS = ("ipf", "one-step")


DEFAULT_MAX_ITER = 10_000


DEFAULT_TOL = 1e-10


def fit_age_period(
    observed: object,
    exposure: object,
    *,
    method: str = "ipf",
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Fit the Poisson model ``E[O[k, c]] = X[k, c] · h[k] · r[c]`` (age × period).

    ``O[k, c]`` are the ruptures and ``X[k, c]`` the exposure at age month ``k`` in period ``c``.
    **Iterative proportional fitting** alternates the two margins, from ``r = 1``:
    ``h[k] = O[k,.] / Σc X[k,c] r[c]`` (age-specific hazard), then ``r[c] = O[.,c] / E[c]`` with
    ``E[c] = Σk X[k,c] h[k]`` (the period's observed/expected ratio), until no ``r`` moves by
    ``tol`` or more. The fixed point fits both margins exactly: it is the maximum-likelihood
    estimate of the Poisson log-linear model with an age factor and a period factor.
    ``method="one-step"`` stops after the first cycle: classic indirect standardisation on the crude
    age-specific hazard ``h[k] = O[k,.] / X[k,.]`` (biased towards 1 when age and period are
    associated, because the crude age hazard absorbs part of the period effect).

    ``h`` and ``r`` are finally rescaled (``h·t``, ``r/t``) so that ``Σc E[c] = Σc O[c]``: a period
    with ``r > 1`` has more ruptures than the ages of its contracts predict, compared with the
    average period.

    Returns ``(h, r, iterations)``: ``h`` per unit of exposure (0 for an age without exposure), ``r``
    (NaN for a period without expected ruptures), the number of cycles run.

    >>> O = np.array([[2.0, 0.0], [1.0, 1.0]])  # 2 age months (rows) x 2 periods (columns)
    >>> X = np.array([[10.0, 0.0], [10.0, 10.0]])
    >>> h, r, it = fit_age_period(O, X)
    >>> h.round(4).tolist(), r.round(4).tolist()
    ([0.2, 0.1], [1.0, 1.0])
    """
    if method not in ADJUST_METHODS:
        raise ParameterError(f"unknown method {method!r}", hint=f"choose among: {', '.join(ADJUST_METHODS)}")
    o = np.asarray(observed, dtype="float64")
    x = np.asarray(exposure, dtype="float64")
    o_age, o_per = o.sum(axis=1), o.sum(axis=0)
    r = np.ones(o.shape[1])
    h = np.zeros(o.shape[0])
    cycles = 1 if method == "one-step" else int(max_iter)
    iterations = 0
    while iterations < cycles:
        iterations += 1
        den = x @ r
        h = np.where(den > 0, o_age / np.where(den > 0, den, 1.0), 0.0)
        e_per = h @ x
        r_new = np.where(e_per > 0, o_per / np.where(e_per > 0, e_per, 1.0), 1.0)
        delta = float(np.max(np.abs(r_new - r), initial=0.0))
        r = r_new
        if delta < tol:
            break
    e_per = h @ x
    total = float(e_per.sum())
    t = float(o.sum()) / total if total > 0 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        r_out = np.where(e_per > 0, o_per / (e_per * t), np.nan)
    return h * t, r_out, iterations


def _period_matrix(months: np.ndarray, period: str) -> tuple[np.ndarray, pd.DataFrame]:
    """0/1 matrix calendar month -> period level, and the table of period levels."""
    month_num = months.astype("int64") % 12 + 1
    if period == "month_of_year":
        levels = pd.DataFrame({"month": np.arange(1, 13, dtype="int64")})
        col = month_num - 1
    else:
        levels = pd.DataFrame(
            {
                "year_month": pd.array(months.astype(str), dtype="string"),
                "year": (months.astype("datetime64[Y]").astype("int64") + 1970).astype("int64"),
                "month": month_num.astype("int64"),
            }
        )
        col = np.arange(len(months))
    mat = np.zeros((len(months), len(levels)))
    mat[np.arange(len(months)), col] = 1.0
    return mat, levels


def _stratified_loglik(b: float, xs: np.ndarray, xo: np.ndarray, os_: np.ndarray, oo: np.ndarray) -> float:
    """Conditional log-likelihood of ``log RR = b`` given the ruptures of each age month."""
    with np.errstate(over="ignore"):
        ls = np.log(xs) + b
        denom = np.logaddexp(ls, np.log(xo))
    return float(np.sum(os_ * (ls - denom) + oo * (np.log(xo) - denom)))


def _solve_monotone(fun, lo: float, hi: float) -> float:
    """Root of an increasing-then-crossing function on ``[lo, hi]`` (bisection via brentq)."""
    return float(optimize.brentq(fun, lo, hi, xtol=1e-12))


def stratified_rate_ratio(
    observed_in: object,
    exposure_in: object,
    observed_out: object,
    exposure_out: object,
    *,
    level: float = 0.95,
) -> tuple[float, float, float, float]:
    """Rate ratio "in" / "out" common to several strata (Poisson), with its likelihood interval.

    Strata ``k`` (here: the age months of the contract) have ``O_in[k]``, ``X_in[k]``,
    ``O_out[k]``, ``X_out[k]``; the model is ``O ~ Poisson(X · h[k] · RR)`` "in" and
    ``Poisson(X · h[k])`` "out". Conditionally on ``O_in[k] + O_out[k]``, ``O_in[k]`` is binomial
    with ``p_k = RR·X_in[k] / (RR·X_in[k] + X_out[k])``: the conditional likelihood does not depend
    on the nuisance ``h[k]``, its maximum is the maximum-likelihood ``RR`` of the Poisson model with
    age and period factors, and the interval (``{RR : 2·(l(RR̂) - l(RR)) <= χ²₁(level)}``, profile
    likelihood) accounts for the estimation of ``h``. Only strata with exposure in both periods
    carry information. ``p_value``: likelihood-ratio test of ``RR = 1``.

    Returns ``(rr, ci_low, ci_high, p_value)``; ``rr`` is 0 (or ``inf``) when no informative
    rupture falls in (or out); NaN without informative stratum.

    Two age months; in the first, 2 ruptures in 10 contract-months in summer against 2 in 20
    otherwise; in the second, 2 in 10 against 2 in 40. The score equation
    ``Σk (O_in[k] - n_k·p_k) = 0`` reads ``RR/(RR+2) + RR/(RR+4) = 1``, so ``RR = √8``:

    >>> rr, lo, hi, p = stratified_rate_ratio([2, 2], [10.0, 10.0], [2, 2], [20.0, 40.0])
    >>> round(rr, 6) == round(8 ** 0.5, 6), bool(lo < rr < hi)
    (True, True)
    """
    os_all = np.asarray(observed_in, dtype="float64")
    xs_all = np.asarray(exposure_in, dtype="float64")
    oo_all = np.asarray(observed_out, dtype="float64")
    xo_all = np.asarray(exposure_out, dtype="float64")
    keep = (xs_all > 0) & (xo_all > 0) & (os_all + oo_all > 0)
    os_, xs, oo, xo = os_all[keep], xs_all[keep], oo_all[keep], xo_all[keep]
    n_in, n_out = float(os_.sum()), float(oo.sum())
    if n_in + n_out == 0:
        return np.nan, np.nan, np.nan, np.nan
    n = os_ + oo

    def score(b: float) -> float:  # decreasing in b
        return float(np.sum(os_ - n / (1.0 + xo / xs * np.exp(-b))))

    span = 50.0
    if n_in == 0:
        b_hat, l_hat = -np.inf, 0.0
    elif n_out == 0:
        b_hat, l_hat = np.inf, 0.0
    else:
        b_hat = _solve_monotone(lambda b: -score(b), -span, span)
        l_hat = _stratified_loglik(b_hat, xs, xo, os_, oo)
    crit = float(stats.chi2.ppf(level, 1)) / 2

    def drop(b: float) -> float:
        return l_hat - _stratified_loglik(b, xs, xo, os_, oo) - crit

    lo = 0.0 if n_in == 0 else float(np.exp(_solve_monotone(drop, -span, min(b_hat, span))))
    hi = np.inf if n_out == 0 else float(np.exp(_solve_monotone(lambda b: -drop(b), max(b_hat, -span), span)))
    lr = 2 * (l_hat - _stratified_loglik(0.0, xs, xo, os_, oo))
    p_value = float(stats.chi2.sf(max(lr, 0.0), 1))
    return float(np.exp(b_hat)), lo, hi, p_value
