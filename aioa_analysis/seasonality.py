"""Seasonality of ruptures: the monthly rupture hazard by calendar month, and the summer effect.

Counting ruptures by calendar month mixes two things: when contracts break, and how many contracts
are running (most start in September, so raw counts peak in the autumn). The **hazard** divides the
ruptures of a calendar month by the **contract-months at risk** in that month:

* a contract is at risk from its start date (included) to its exit (excluded): the rupture date
  (headline rupture or rupture after the diploma), the planned end (completed) or ``as_of``
  (ongoing), as defined by :mod:`aioa_analysis.outcomes`;
* exposure is counted in days and converted to **standard months of 30.4375 days** (365.25 / 12),
  so that a constant daily hazard gives the same monthly rate in February as in March;
* numerator: headline ruptures (not after the diploma) dated in the month, up to ``as_of``; the
  month of ``as_of`` is partial (its exposure too).

Computation is vectorised with difference arrays over days (``O(n + groups × days)``), no loop over
contracts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.dimensions import MIN_N_DEFAULT, group_codes, small_denominator_flags, with_dimensions
from aioa_analysis.errors import ParameterError
from aioa_analysis.intervals import clopper_pearson_interval
from aioa_analysis.outcomes import EVENT_DATE, OUTCOME, parse_as_of, with_outcome
from aioa_analysis.schema import C

DAYS_PER_MONTH = 365.25 / 12
"""Length of a standard month (30.4375 days) used to express exposure in contract-months."""

PERIODS = ("month_of_year", "year_month")
SUMMER_MONTHS = (6, 7, 8)


def poisson_rate_interval(
    k: object, exposure: object, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate ``k / exposure``; NaN where exposure is 0.

    >>> lo, hi = poisson_rate_interval([4], [100.0])
    >>> round(float(lo[0]), 5), round(float(hi[0]), 5)
    (0.0109, 0.10242)
    """
    k_ = np.asarray(k, dtype="float64")
    e_ = np.asarray(exposure, dtype="float64")
    a = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k_ > 0, stats.chi2.ppf(a / 2, 2 * k_) / 2, 0.0) / e_
        hi = stats.chi2.ppf(1 - a / 2, 2 * k_ + 2) / 2 / e_
    bad = ~(e_ > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _month_index(days: np.ndarray, base_month: np.datetime64) -> np.ndarray:
    idx = pd.DatetimeIndex(days)  # .year/.month are fast; datetime64[M] casts are not
    base = pd.Timestamp(base_month)
    return (
        (idx.year.to_numpy(dtype="int64") - base.year) * 12 + idx.month.to_numpy(dtype="int64") - base.month
    )


def monthly_exposure(
    contracts: pd.DataFrame, *, as_of: object, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Ruptures, contract-months at risk, contracts present and starts per group and calendar month.

    The building block of :func:`rupture_seasonality`. One row per group and calendar month from the
    month of the earliest start to the month of ``as_of``: dimension columns, ``year``, ``month``,
    ``year_month`` (``"YYYY-MM"``), ``n_contracts`` (contracts at risk at some time in the month, or
    broken in it), ``n_starts``, ``n_ruptures`` (headline), ``exposure_days``, ``exposure_months``
    (``exposure_days / 30.4375``).

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-09-16"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 2),
    ...     "rupture_date": pd.to_datetime(["2024-10-11", None]),
    ... })
    >>> monthly_exposure(df, as_of="2024-10-31")[["year_month", "n_ruptures", "exposure_days"]]
      year_month  n_ruptures  exposure_days
    0    2024-09           0           45.0
    1    2024-10           1           40.0
    """
    ts = parse_as_of(as_of)
    frame, names = with_dimensions(contracts, by)
    frame = frame.loc[frame[C.start_date].notna() & (frame[C.start_date] <= ts)]
    frame = with_outcome(frame, as_of=ts)
    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    g = len(keys)
    start = frame[C.start_date].to_numpy(dtype="datetime64[D]")
    exit_ = np.maximum(frame[EVENT_DATE].to_numpy(dtype="datetime64[D]"), start)
    outcome = frame[OUTCOME].to_numpy()
    last_day = np.datetime64(ts.date(), "D")
    base = start.min() if len(start) else last_day
    base_month = base.astype("datetime64[M]")
    first_day = base_month.astype("datetime64[D]")
    n_days = int((last_day - first_day).astype("int64")) + 2
    n_months = int((last_day.astype("datetime64[M]") - base_month).astype("int64")) + 1
    # at-risk contracts per (group, day): +1 at start, -1 at exit, cumulative sum over days
    s_idx = (start - first_day).astype("int64")
    x_idx = np.minimum((exit_ - first_day).astype("int64"), n_days - 1)
    diff = np.bincount(codes * n_days + s_idx, minlength=g * n_days).astype("float64")
    diff -= np.bincount(codes * n_days + x_idx, minlength=g * n_days)
    at_risk = diff.reshape(g, n_days).cumsum(axis=1)[:, : n_days - 1]
    month_starts = (
        (base_month + np.arange(n_months).astype("timedelta64[M]")).astype("datetime64[D]") - first_day
    ).astype("int64")
    exposure = np.add.reduceat(at_risk, month_starts, axis=1) if n_days > 1 else np.zeros((g, n_months))
    # contracts present per (group, month): months from month(start) to month(exit - 1 day)
    m_start = _month_index(start, base_month)
    m_last = _month_index(np.maximum(exit_ - np.timedelta64(1, "D"), start), base_month)
    pres = np.bincount(codes * (n_months + 1) + m_start, minlength=g * (n_months + 1)).astype("int64")
    pres -= np.bincount(
        codes * (n_months + 1) + np.minimum(m_last + 1, n_months), minlength=g * (n_months + 1)
    )
    present = pres.reshape(g, n_months + 1).cumsum(axis=1)[:, :n_months]
    starts = np.bincount(codes * n_months + m_start, minlength=g * n_months).reshape(g, n_months)
    rupt = outcome == "ruptured"
    m_rupt = _month_index(exit_[rupt], base_month)
    ruptures = np.bincount(codes[rupt] * n_months + m_rupt, minlength=g * n_months).reshape(g, n_months)
    months = base_month + np.arange(n_months).astype("timedelta64[M]")
    years = months.astype("datetime64[Y]").astype("int64") + 1970
    month_num = months.astype("int64") % 12 + 1
    grid = keys.loc[np.repeat(np.arange(g), n_months)].reset_index(drop=True)
    return grid.assign(
        year=np.tile(years, g).astype("int64"),
        month=np.tile(month_num, g).astype("int64"),
        year_month=pd.array(np.tile(months.astype(str), g), dtype="string"),
        n_contracts=present.reshape(-1).astype("int64"),
        n_starts=starts.reshape(-1).astype("int64"),
        n_ruptures=ruptures.reshape(-1).astype("int64"),
        exposure_days=exposure.reshape(-1).astype("float64"),
        exposure_months=exposure.reshape(-1).astype("float64") / DAYS_PER_MONTH,
    )


def rupture_seasonality(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    period: str = "month_of_year",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Monthly rupture hazard (ruptures per contract-month at risk) by calendar month.

    * **Unit**: the contract-month at risk (30.4375 days of one contract in force).
    * **Cohort**: every contract of the input started on or before ``as_of`` (all cohorts together),
      grouped by ``by``.
    * **Period**: ``"month_of_year"`` (1..12, ruptures and exposure pooled over the years) or
      ``"year_month"`` (each calendar month from the earliest start to ``as_of``).
    * **Censoring**: exposure stops at the exit (rupture, planned end, ``as_of``); ruptures after the
      diploma end the exposure but are not counted.
    * **Interval**: exact Poisson (Garwood) for ``rate``.

    Raw counts stay beside the hazard: ``n_ruptures`` and ``n_starts``. ``n_contracts`` is the number
    of contracts present in the month (summed over the pooled years for ``month_of_year``);
    ``suppressed`` flags ``n_contracts < min_n``. Other columns: ``exposure_months``, ``period``,
    ``unit`` (``"contract-month"``), ``as_of``, ``ci_method`` and, for ``month_of_year``, ``n_years``
    (number of calendar months pooled).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-09-01", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-09-16", None, None]),
    ... })
    >>> out = rupture_seasonality(df, as_of="2024-09-30", period="year_month", min_n=0)
    >>> out[["year_month", "n_ruptures", "exposure_days", "rate"]].round(4)
      year_month  n_ruptures  exposure_days   rate
    0    2024-09           1           73.0  0.417
    """
    if period not in PERIODS:
        raise ParameterError(f"unknown period {period!r}", hint=f"choose among: {', '.join(PERIODS)}")
    ts = parse_as_of(as_of)
    table = monthly_exposure(contracts, as_of=ts, by=by)
    names = [c for c in table.columns if c not in _EXPOSURE_COLUMNS]
    if period == "month_of_year":
        agg = (
            table.groupby([*names, "month"], dropna=False, sort=True)
            .agg(
                n_contracts=("n_contracts", "sum"),
                n_starts=("n_starts", "sum"),
                n_ruptures=("n_ruptures", "sum"),
                exposure_days=("exposure_days", "sum"),
                n_years=("year", "size"),
            )
            .reset_index()
        )
        lead = [*names, "month"]
    else:
        agg = table
        lead = [*names, "year_month", "year", "month"]
    exposure_months = agg["exposure_days"].to_numpy(dtype="float64") / DAYS_PER_MONTH
    k = agg["n_ruptures"].to_numpy(dtype="float64")
    lo, hi = poisson_rate_interval(k, exposure_months, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(exposure_months > 0, k / np.where(exposure_months > 0, exposure_months, 1), np.nan)
    out = agg[lead].assign(
        n_contracts=agg["n_contracts"].to_numpy(dtype="int64"),
        n_ruptures=agg["n_ruptures"].to_numpy(dtype="int64"),
        rate=rate,
        ci_low=lo,
        ci_high=hi,
    )
    suppressed, reason = small_denominator_flags(out["n_contracts"], min_n=min_n)
    extra = {"n_years": agg["n_years"].to_numpy(dtype="int64")} if period == "month_of_year" else {}
    return out.assign(
        suppressed=suppressed.to_numpy(),
        suppression_reason=reason.to_numpy(),
        n_starts=agg["n_starts"].to_numpy(dtype="int64"),
        exposure_days=agg["exposure_days"].to_numpy(dtype="float64"),
        exposure_months=exposure_months,
        **extra,
        period=period,
        unit="contract-month",
        as_of=ts,
        ci_method="poisson-exact",
    )


_EXPOSURE_COLUMNS = (
    "year",
    "month",
    "year_month",
    "n_contracts",
    "n_starts",
    "n_ruptures",
    "exposure_days",
    "exposure_months",
)


def summer_effect(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    months: Sequence[int] = SUMMER_MONTHS,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate ratio of the rupture hazard in ``months`` (default June-August) to the other months.

    Unit, cohort and censoring as in :func:`rupture_seasonality`. Conditionally on the total number
    of ruptures ``k1 + k0``, ``k1`` is binomial with probability ``p = RR·E1 / (RR·E1 + E0)``
    (``E`` = exposures), which gives an **exact** test of ``RR = 1`` (``p_value``, two-sided
    binomial test) and an exact interval (Clopper-Pearson on ``p``, mapped to
    ``RR = p/(1-p) · E0/E1``). The Wald interval on the log scale (``se = sqrt(1/k1 + 1/k0)``) is
    given beside it (``wald_ci_low``/``wald_ci_high``).

    Columns: dimension columns, ``n_ruptures_summer``, ``exposure_months_summer``, ``rate_summer``,
    ``n_ruptures_other``, ``exposure_months_other``, ``rate_other``, ``rate_ratio``, ``ci_low``,
    ``ci_high``, ``wald_ci_low``, ``wald_ci_high``, ``p_value``, ``months``, ``as_of``.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2026-12-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-03-10", "2024-07-10", "2024-07-20", None]),
    ... })
    >>> out = summer_effect(df, as_of="2024-12-31")
    >>> out[["n_ruptures_summer", "n_ruptures_other"]].iloc[0].tolist()
    [2, 1]
    """
    month_set = sorted({int(m) for m in months})
    if not month_set or any(m < 1 or m > 12 for m in month_set) or len(month_set) == 12:
        raise ParameterError(
            f"months={list(months)!r} must be 1 to 11 distinct month numbers in 1..12",
            hint="e.g. months=(6, 7, 8) for June-August",
        )
    ts = parse_as_of(as_of)
    table = monthly_exposure(contracts, as_of=ts, by=by)
    names = [c for c in table.columns if c not in _EXPOSURE_COLUMNS]
    codes_s, keys = group_codes(table, names)
    codes = codes_s.to_numpy()
    n_rows = len(keys)
    summer = table["month"].isin(month_set).to_numpy(dtype=bool)
    k_all = table["n_ruptures"].to_numpy(dtype="float64")
    e_all = table["exposure_days"].to_numpy(dtype="float64")
    k1 = np.bincount(codes[summer], weights=k_all[summer], minlength=n_rows)[:n_rows]
    k0 = np.bincount(codes[~summer], weights=k_all[~summer], minlength=n_rows)[:n_rows]
    e1 = np.bincount(codes[summer], weights=e_all[summer], minlength=n_rows)[:n_rows]
    e0 = np.bincount(codes[~summer], weights=e_all[~summer], minlength=n_rows)[:n_rows]
    e1m, e0m = e1 / DAYS_PER_MONTH, e0 / DAYS_PER_MONTH
    with np.errstate(invalid="ignore", divide="ignore"):
        r1 = np.where(e1m > 0, k1 / e1m, np.nan)
        r0 = np.where(e0m > 0, k0 / e0m, np.nan)
        rr = r1 / r0
        plo, phi = clopper_pearson_interval(k1, k1 + k0, level=level)
        ci_low = plo / (1 - plo) * e0 / e1
        ci_high = np.where(phi < 1, phi / (1 - phi) * e0 / e1, np.inf)
        z = stats.norm.ppf(0.5 + level / 2)
        se = np.sqrt(1 / k1 + 1 / k0)
        wlo = np.exp(np.log(rr) - z * se)
        whi = np.exp(np.log(rr) + z * se)
    pvals = np.full(n_rows, np.nan)
    for i in range(n_rows):  # one exact test per group
        tot = int(k1[i] + k0[i])
        if tot > 0 and e1[i] > 0 and e0[i] > 0:
            pvals[i] = stats.binomtest(int(k1[i]), tot, e1[i] / (e1[i] + e0[i])).pvalue
    return keys.assign(
        n_ruptures_summer=k1.astype("int64"),
        exposure_months_summer=e1m,
        rate_summer=r1,
        n_ruptures_other=k0.astype("int64"),
        exposure_months_other=e0m,
        rate_other=r0,
        rate_ratio=rr,
        ci_low=ci_low,
        ci_high=ci_high,
        wald_ci_low=wlo,
        wald_ci_high=whi,
        p_value=pvals,
        months=",".join(str(m) for m in month_set),
        as_of=ts,
    )


# --------------------------------------------------------------------------------------------------
# Seasonality at equal contract age (duration-standardised hazard)

DEFAULT_MAX_ITER = 500
DEFAULT_TOL = 1e-10
ADJUST_METHODS = ("ipf", "one-step")

_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="int64")


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    # H. Hinnant's algorithm (same as survival.days_from_civil; sibling modules don't import each other)
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _add_months_days(year: np.ndarray, month: np.ndarray, day: np.ndarray, k: int) -> np.ndarray:
    """Day numbers of ``date + DateOffset(months=k)`` (end of month clipped), from year/month/day."""
    total = year * 12 + (month - 1) + k
    ny, nm = np.floor_divide(total, 12), total % 12 + 1
    leap = ((ny % 4 == 0) & (ny % 100 != 0)) | (ny % 400 == 0)
    dim = _MONTH_DAYS[nm - 1] + ((nm == 2) & leap)
    return _days_from_civil(ny, nm, np.minimum(day, dim))


def _age_calendar_arrays(
    contracts: pd.DataFrame, *, as_of: pd.Timestamp, by: str | Sequence[str] | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Group keys, exposure days and headline ruptures per (group, age month, calendar month).

    Returns ``keys`` (one row per group), ``months`` (``datetime64[M]`` of each calendar month from
    the earliest start to ``as_of``), ``exposure`` and ``ruptures``, both of shape
    ``(groups, age months, calendar months)``. Age month ``k`` of a contract is the interval
    ``[start + k months, start + (k+1) months)`` (``DateOffset`` semantics). One pass per age month
    over the contracts still at risk, with day-level difference arrays: ``O(K·n + K·G·days)``.
    """
    frame, names = with_dimensions(contracts, by)
    frame = frame.loc[frame[C.start_date].notna() & (frame[C.start_date] <= as_of)]
    frame = with_outcome(frame, as_of=as_of)
    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    g = len(keys)
    start = frame[C.start_date].to_numpy(dtype="datetime64[D]")
    exit_ = np.maximum(frame[EVENT_DATE].to_numpy(dtype="datetime64[D]"), start)
    last_day = np.datetime64(as_of.date(), "D")
    base_month = (start.min() if len(start) else last_day).astype("datetime64[M]")
    first_day = base_month.astype("datetime64[D]")
    n_days = int((last_day - first_day).astype("int64")) + 2
    n_months = int((last_day.astype("datetime64[M]") - base_month).astype("int64")) + 1
    months = base_month + np.arange(n_months).astype("timedelta64[M]")
    month_starts = (months.astype("datetime64[D]") - first_day).astype("int64")
    epoch0 = int(first_day.astype("int64"))
    s_day = start.astype("int64")
    x_day = exit_.astype("int64")
    idx = pd.DatetimeIndex(start)
    y = idx.year.to_numpy(dtype="int64")
    m = idx.month.to_numpy(dtype="int64")
    d = idx.day.to_numpy(dtype="int64")
    rupt = (frame[OUTCOME] == "ruptured").to_numpy(dtype=bool)
    x_month = _month_index(exit_, base_month)
    exposures: list[np.ndarray] = []
    ruptures: list[np.ndarray] = []
    lo = s_day
    k = 0
    while len(lo):
        hi_bound = _add_months_days(y, m, d, k + 1)
        hi = np.minimum(hi_bound, x_day)
        # exposure days [lo, hi) per (group, day) by a difference array, summed per calendar month
        diff = np.bincount(codes * n_days + (lo - epoch0), minlength=g * n_days).astype("float64")
        diff -= np.bincount(codes * n_days + (hi - epoch0), minlength=g * n_days)
        at_risk = diff.reshape(g, n_days).cumsum(axis=1)[:, : n_days - 1]
        exposures.append(np.add.reduceat(at_risk, month_starts, axis=1))
        # a headline rupture dated in [start + k months, start + (k+1) months) is at age month k
        hit = rupt & (x_day < hi_bound)
        ruptures.append(
            np.bincount(codes[hit] * n_months + x_month[hit], minlength=g * n_months).reshape(g, n_months)
        )
        keep = x_day >= hi_bound  # still in the contract (or exiting) at the start of age month k+1
        if not keep.all():
            codes, x_day, y, m, d, rupt, x_month = (
                a[keep] for a in (codes, x_day, y, m, d, rupt, x_month)
            )
            hi_bound = hi_bound[keep]
        lo = hi_bound
        k += 1
    if not exposures:
        exposures, ruptures = [np.zeros((g, n_months))], [np.zeros((g, n_months), dtype="int64")]
    exposure = np.stack(exposures, axis=1)
    rupture = np.stack(ruptures, axis=1).astype("int64")
    return keys, months, exposure, rupture


def fit_age_period(
    observed: np.ndarray,
    exposure: np.ndarray,
    *,
    method: str = "ipf",
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Fit the Poisson model ``E[O[k, c]] = X[k, c] · h[k] · r[c]`` (age × period) by IPF.

    ``O[k, c]`` are the ruptures and ``X[k, c]`` the exposure at age month ``k`` in period ``c``.
    Iterative proportional fitting alternates the two margins, starting from ``r = 1``:
    ``h[k] = O[k,.] / Σc X[k,c] r[c]`` (the age-specific hazard), then
    ``r[c] = O[.,c] / E[c]`` with ``E[c] = Σk X[k,c] h[k]`` (the period's observed/expected
    ratio), until ``r`` moves by less than ``tol``. The fixed point fits both margins exactly: it is
    the maximum-likelihood estimate of the Poisson model with an age factor and a period factor.
    ``method="one-step"`` stops after the first cycle: classic indirect standardisation on the crude
    age-specific hazard (``h[k] = O[k,.] / X[k,.]``).

    Finally ``h`` and ``r`` are rescaled (``h·t``, ``r/t``) so that ``Σc E[c] = Σc O[c]``: a period
    with ``r > 1`` has more ruptures than the ages of its contracts predict, compared with the
    average period.

    Returns ``(h, r, iterations)``: ``h`` per unit of exposure (0 for an age without exposure), ``r``
    (NaN for a period without exposure), the number of cycles run.

    >>> O = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> X = np.array([[10.0, 0.0], [10.0, 10.0]])
    >>> h, r, it = fit_age_period(O, X)
    >>> np.round(h, 4).tolist(), np.round(r, 4).tolist()
    ([0.2, 0.1], [1.0, 1.0])
    """
    if method not in ADJUST_METHODS:
        raise ParameterError(f"unknown method {method!r}", hint=f"choose among: {', '.join(ADJUST_METHODS)}")
    o = np.asarray(observed, dtype="float64")
    x = np.asarray(exposure, dtype="float64")
    o_age, o_per = o.sum(axis=1), o.sum(axis=0)
    has_x = x.sum(axis=0) > 0
    r = np.ones(o.shape[1])
    h = np.zeros(o.shape[0])
    cycles = 1 if method == "one-step" else max_iter
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
    total_e = float(e_per.sum())
    t = float(o.sum()) / total_e if total_e > 0 else 1.0
    return h * t, np.where(has_x & (e_per > 0), r / t, np.nan), iterations
