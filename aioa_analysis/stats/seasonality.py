"""Seasonality of ruptures: the monthly rupture hazard by calendar month, and the summer effect.

Counting ruptures by calendar month mixes two things: when contracts break, and how many contracts
are running (most start in September, so raw counts peak in the autumn). The **hazard** divides the
ruptures of a calendar month by the **contract-months at risk** in that month:

* a contract is at risk from its start date (included) to its exit (excluded): the rupture date
  (headline rupture or rupture after the diploma), the planned end (completed) or ``as_of``
  (ongoing), as defined by :mod:`aioa_analysis.stats.outcomes`;
* exposure is counted in days and converted to **standard months of 30.4375 days** (365.25 / 12),
  so that a constant daily hazard gives the same monthly rate in February as in March;
* numerator: headline ruptures (not after the diploma) dated in the month, up to ``as_of``; the
  month of ``as_of`` is partial (its exposure too).

Computation is vectorised with difference arrays over days (``O(n + groups × days)``), no loop over
contracts.

**At equal contract age.** The crude hazard still mixes the calendar with the age of the contracts
in force: the first months of a contract are by far the riskiest and most contracts start in
September, so summer months hold older, safer contracts and the crude summer ratio is biased towards
1 (or below). :func:`age_calendar_exposure` splits exposure and ruptures by age month of the
contract × calendar month; :func:`fit_age_period` fits the Poisson model "age hazard × period
effect" by iterative proportional fitting; :func:`age_adjusted_seasonality` gives the observed /
expected ruptures by calendar month and :func:`age_adjusted_summer_effect` the summer hazard ratio
at equal age with its profile-likelihood interval (:func:`stratified_rate_ratio`). The report uses
the latter for "which periods are critical". Both accept ``calendar=`` (:func:`age_calendar`, the
age × calendar split computed once for a table) to share that split; the results are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import (
    MIN_N_DEFAULT,
    group_codes,
    parse_dimensions,
    small_denominator_flags,
    with_dimensions,
)
from aioa_analysis.stats.intervals import clopper_pearson_interval
from aioa_analysis.stats.linking import check_built_for
from aioa_analysis.stats.outcomes import EVENT_DATE, OUTCOME, parse_as_of, with_outcome

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
    keys, codes, start, exit_, rupt = _spells(contracts, as_of=ts, by=by)
    g = len(keys)
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


def _conditional_binomial_ratio_interval(
    k1: object, k0: object, e1: object, e0: object, *, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact interval of the rate ratio ``(k1/e1) / (k0/e0)`` given ``k1 + k0`` (``e`` known).

    ``k1 ~ Binomial(k1 + k0, p)`` with ``p = RR·e1 / (RR·e1 + e0)``: Clopper-Pearson on ``p``,
    mapped by ``RR = p / (1 - p) · e0 / e1``.
    """
    n1, n0, x1, x0 = (np.asarray(a, dtype="float64") for a in (k1, k0, e1, e0))
    plo, phi = clopper_pearson_interval(n1, n1 + n0, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = plo / (1 - plo) * x0 / x1
        hi = np.where(phi < 1, phi / np.where(phi < 1, 1 - phi, 1.0) * x0 / x1, np.inf)
    bad = ~((x1 > 0) & (x0 > 0) & (n1 + n0 > 0))
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


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
    month_set = _check_months(months)
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
        ci_low, ci_high = _conditional_binomial_ratio_interval(k1, k0, e1, e0, level=level)
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
# Seasonality at equal contract age (age-standardised hazard)

ADJUST_METHODS = ("ipf", "one-step")
DEFAULT_MAX_ITER = 10_000
DEFAULT_TOL = 1e-10


def _spells(
    contracts: pd.DataFrame, *, as_of: pd.Timestamp, by: str | Sequence[str] | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The contracts started by ``as_of`` as spells in force: ``keys`` (one row per group), each
    contract's group code, start day, exit day (its outcome's event date, never before the start,
    :mod:`aioa_analysis.stats.outcomes`) and whether it exits by a rupture."""
    frame, names = with_dimensions(contracts, by)
    frame = frame.loc[frame[C.start_date].notna() & (frame[C.start_date] <= as_of)]
    frame = with_outcome(frame, as_of=as_of)
    codes, keys = group_codes(frame, names)
    start = frame[C.start_date].to_numpy(dtype="datetime64[D]")
    exit_ = np.maximum(frame[EVENT_DATE].to_numpy(dtype="datetime64[D]"), start)
    rupt = (frame[OUTCOME] == "ruptured").to_numpy(dtype=bool)
    return keys, codes.to_numpy(), start, exit_, rupt


def _age_calendar_arrays(
    contracts: pd.DataFrame, *, as_of: pd.Timestamp, by: str | Sequence[str] | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Group keys, calendar months, exposure days and ruptures by (group, age month, calendar month).

    Returns ``keys`` (one row per group), ``months`` (``datetime64[M]``, from the month of the
    earliest start to the month of ``as_of``), ``exposure`` (days) and ``ruptures`` (headline), both
    of shape ``(groups, age months, calendar months)``. Age month ``k`` of a contract is
    ``[start + k months, start + (k+1) months)`` (``DateOffset`` semantics: the day of month is
    kept, clipped to the month's length, as in the "within H months" rule).

    Vectorised, no loop over contracts: ``start + k months`` comes from a look-up table indexed by
    calendar month and day of month; contracts are sorted by the age month of their exit, so the
    contracts still in force at age ``k`` are a prefix of the arrays; for each age month, one
    day-level difference array per group gives the exposure, summed per calendar month.
    ``O(n log n + K·n + K·groups·days)`` for ``K`` age months.
    """
    keys, codes, start, exit_, rupt = _spells(contracts, as_of=as_of, by=by)
    g = len(keys)
    last_day = np.datetime64(as_of.date(), "D")
    base_month = (start.min() if len(start) else last_day).astype("datetime64[M]")
    first_day = int(base_month.astype("datetime64[D]").astype("int64"))
    n_days = int(last_day.astype("int64")) - first_day + 2
    n_months = int((last_day.astype("datetime64[M]") - base_month).astype("int64")) + 1
    months = base_month + np.arange(n_months).astype("timedelta64[M]")
    month_starts = months.astype("datetime64[D]").astype("int64") - first_day
    # look-up table: day (offset from the base month) of "day d of calendar month t, clipped to the
    # month's length", for t = 0 .. n_months + 1 and d = 1 .. 31 (flat index t * 32 + d)
    table_months = base_month + np.arange(n_months + 3).astype("timedelta64[M]")
    table_first = table_months.astype("datetime64[D]").astype("int64") - first_day
    table_len = np.diff(table_first)
    lookup = (table_first[:-1, None] + np.minimum(np.arange(32)[None, :], table_len[:, None]) - 1).reshape(-1)
    s_month = _month_index(start, base_month)
    x_day = exit_.astype("int64") - first_day
    x_month = _month_index(exit_, base_month)
    key0 = s_month * 32 + pd.DatetimeIndex(start).day.to_numpy(dtype="int64")  # start + k months: key0 + 32k
    # age month of the exit: the last k with start + k months <= exit
    k_exit = x_month - s_month
    k_exit = k_exit - (lookup[key0 + 32 * k_exit] > x_day)
    n_age = int(k_exit.max()) + 1 if len(k_exit) else 1
    ruptures = np.bincount(
        (codes[rupt] * n_age + k_exit[rupt]) * n_months + x_month[rupt], minlength=g * n_age * n_months
    ).reshape(g, n_age, n_months)
    # sort by age month of exit: the contracts still in force at age k are a prefix
    order = np.argsort(-k_exit, kind="stable")
    cbase, key0, x_day = codes[order] * n_days, key0[order], x_day[order]
    n_active = np.cumsum(np.bincount(k_exit, minlength=n_age)[::-1])[::-1]
    exposure = np.zeros((g, n_age, n_months))
    lo = lookup[key0]  # the start day
    for k in range(n_age):
        n = int(n_active[k])
        nxt = lookup[key0[:n] + 32 * (k + 1)]
        hi = np.minimum(nxt, x_day[:n])
        diff = np.bincount(cbase[:n] + lo[:n], minlength=g * n_days).astype("float64")
        diff -= np.bincount(cbase[:n] + hi, minlength=g * n_days)
        at_risk = diff.reshape(g, n_days).cumsum(axis=1)[:, : n_days - 1]
        exposure[:, k, :] = np.add.reduceat(at_risk, month_starts, axis=1)
        lo = nxt
    return keys, months, exposure, ruptures.astype("int64")


@dataclass(frozen=True)
class AgeCalendar:
    """Exposure and ruptures by group, age month and calendar month of one table (:func:`age_calendar`).

    Pass it as ``calendar=`` to :func:`age_adjusted_seasonality` and
    :func:`age_adjusted_summer_effect` (same table, ``as_of`` and ``by``) to split the table once.
    """

    as_of: pd.Timestamp
    by: tuple[str, ...]
    index: pd.Index
    keys: pd.DataFrame
    months: np.ndarray
    exposure: np.ndarray
    ruptures: np.ndarray

    def arrays(
        self, contracts: pd.DataFrame, *, as_of: pd.Timestamp, by: str | Sequence[str] | None
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        """The arrays of :func:`_age_calendar_arrays`, once checked to be those of this table."""
        check_built_for(
            "calendar",
            self.index,
            contracts,
            built={"as_of": self.as_of.date(), "by": list(self.by)},
            asked={"as_of": as_of.date(), "by": list(parse_dimensions(by))},
            builder="age_calendar",
        )
        return self.keys, self.months, self.exposure, self.ruptures


def age_calendar(
    contracts: pd.DataFrame, *, as_of: object, by: str | Sequence[str] | None = None
) -> AgeCalendar:
    """Split the exposure and ruptures of ``contracts`` by group, age month and calendar month, once.

    Definitions as in :func:`age_calendar_exposure`; the result is reused through ``calendar=``.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-16"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"]),
    ...     "rupture_date": pd.to_datetime(["2024-10-20"]),
    ... })
    >>> cal = age_calendar(df, as_of="2024-12-31")
    >>> cal.exposure.shape, int(cal.ruptures.sum())
    ((1, 2, 4), 1)
    """
    ts = parse_as_of(as_of)
    keys, months, exposure, ruptures = _age_calendar_arrays(contracts, as_of=ts, by=by)
    for arr in (months, exposure, ruptures):
        arr.setflags(write=False)
    return AgeCalendar(
        as_of=ts,
        by=tuple(parse_dimensions(by)),
        index=contracts.index,
        keys=keys,
        months=months,
        exposure=exposure,
        ruptures=ruptures,
    )


def age_calendar_exposure(
    contracts: pd.DataFrame, *, as_of: object, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Ruptures and contract-months at risk by age of the contract and calendar month.

    The building block of the age-adjusted seasonality. **Age month** ``k`` (``age_month``, 0 for
    the first month) of a contract runs from ``start + k months`` (included) to ``start + (k+1)
    months`` (excluded), calendar-exact months as in the "within H months" rule (a rupture exactly
    3 months after the start is in age month 3). Exposure and censoring as in
    :func:`monthly_exposure` (from the start, included, to the exit, excluded; headline ruptures
    only). Summed over ``age_month``, the table gives :func:`monthly_exposure`'s exposure and
    ruptures exactly.

    One row per group, age month and calendar month **with exposure or ruptures** (empty cells are
    left out): dimension columns, ``age_month``, ``year``, ``month``, ``year_month``,
    ``n_ruptures``, ``exposure_days``, ``exposure_months``.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-16"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"]),
    ...     "rupture_date": pd.to_datetime(["2024-10-20"]),
    ... })
    >>> age_calendar_exposure(df, as_of="2024-12-31")[["age_month", "year_month", "n_ruptures",
    ...                                                 "exposure_days"]]
       age_month year_month  n_ruptures  exposure_days
    0          0    2024-09           0           15.0
    1          0    2024-10           0           15.0
    2          1    2024-10           1            4.0
    """
    ts = parse_as_of(as_of)
    keys, months, exposure, ruptures = _age_calendar_arrays(contracts, as_of=ts, by=by)
    gi, ki, mi = np.indices(exposure.shape).reshape(3, -1)
    e = exposure.reshape(-1)
    r = ruptures.reshape(-1)
    sel = (e > 0) | (r > 0)
    gi, ki, mi, e, r = gi[sel], ki[sel], mi[sel], e[sel], r[sel]
    return (
        keys.loc[gi]
        .reset_index(drop=True)
        .assign(
            age_month=ki.astype("int64"),
            year=(months[mi].astype("datetime64[Y]").astype("int64") + 1970).astype("int64"),
            month=(months[mi].astype("int64") % 12 + 1).astype("int64"),
            year_month=pd.array(months[mi].astype(str), dtype="string"),
            n_ruptures=r.astype("int64"),
            exposure_days=e.astype("float64"),
            exposure_months=e.astype("float64") / DAYS_PER_MONTH,
        )
    )


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


def age_adjusted_seasonality(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    period: str = "month_of_year",
    method: str = "ipf",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    max_iter: int = DEFAULT_MAX_ITER,
    calendar: AgeCalendar | None = None,
) -> pd.DataFrame:
    """Monthly rupture hazard by calendar month, crude and **at equal contract age** (observed/expected).

    The crude hazard (:func:`rupture_seasonality`) mixes the calendar with the age of the contracts
    in force: the first months of a contract are the riskiest and most contracts start in
    September, so autumn months hold young, risky contracts and summer months older, safer ones.
    This table adds, for each calendar month, the ruptures **expected** from the ages of the
    contracts in force that month, and the **observed/expected ratio**:

    * **Unit**: the contract-month at risk; **cohort**: every contract started on or before
      ``as_of``, grouped by ``by``; **censoring**: as :func:`monthly_exposure` (exposure from the
      start to the exit, excluded; only headline ruptures counted).
    * **Age**: month of the contract, ``k = 0, 1, 2, ...`` (:func:`age_calendar_exposure`).
    * **Model** (each group separately): ruptures in age month ``k`` and period ``c`` are Poisson
      with mean ``X[k, c] · h[k] · r[c]`` (``X`` contract-months, ``h`` hazard of age month ``k``,
      ``r`` the period effect), fitted by :func:`fit_age_period` (``method="ipf"``, maximum
      likelihood; ``"one-step"``: indirect standardisation on the crude age hazard).
      ``expected[c] = Σk X[k, c] · h[k]`` (scaled so that the expected ruptures add up to the
      observed); ``oe_ratio = n_ruptures / expected`` (= ``r[c]``): above 1, the month has more
      ruptures than the age of its contracts explains, compared with the average month.
    * **Intervals**: ``ci_low``/``ci_high`` exact Poisson (Garwood) of the crude ``rate``;
      ``oe_low``/``oe_high`` exact Poisson of ``n_ruptures`` divided by ``expected`` (``expected``
      taken as known, as for a standardised ratio).

    Columns: those of :func:`rupture_seasonality` (dimension columns, ``month`` (and ``year_month``,
    ``year`` for ``period="year_month"``), ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``,
    ``ci_high``, ``suppressed``, ``suppression_reason``, ``n_starts``, ``exposure_days``,
    ``exposure_months``, ...), then ``expected``, ``oe_ratio``, ``oe_low``, ``oe_high``,
    ``adjustment`` (``"age_month"``), ``method``, ``n_iterations``.

    Examples
    --------
    Two contracts with the same age profile, one month apart: both months hold only first-month
    contracts, so each month's expected ruptures equal its observed ones.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-12-31"] * 2),
    ...     "rupture_date": pd.to_datetime(["2024-01-16", "2024-02-16"]),
    ... })
    >>> out = age_adjusted_seasonality(df, as_of="2024-02-29", period="year_month", min_n=0)
    >>> out[["year_month", "n_ruptures", "exposure_days", "expected", "oe_ratio"]]
      year_month  n_ruptures  exposure_days  expected  oe_ratio
    0    2024-01           1           15.0       1.0       1.0
    1    2024-02           1           15.0       1.0       1.0
    """
    if period not in PERIODS:
        raise ParameterError(f"unknown period {period!r}", hint=f"choose among: {', '.join(PERIODS)}")
    if method not in ADJUST_METHODS:
        raise ParameterError(f"unknown method {method!r}", hint=f"choose among: {', '.join(ADJUST_METHODS)}")
    ts = parse_as_of(as_of)
    crude = rupture_seasonality(contracts, as_of=ts, by=by, period=period, level=level, min_n=min_n)
    keys, months, exposure, ruptures = (
        calendar.arrays(contracts, as_of=ts, by=by)
        if calendar is not None
        else _age_calendar_arrays(contracts, as_of=ts, by=by)
    )
    mat, levels = _period_matrix(months, period)
    parts = []
    for gi in range(len(keys)):
        x = exposure[gi] @ mat / DAYS_PER_MONTH
        o = ruptures[gi] @ mat
        h, r, iterations = fit_age_period(o, x, method=method, max_iter=max_iter)
        parts.append(
            levels.assign(_g=gi, expected=h @ x, oe_ratio=r, n_iterations=iterations, _o=o.sum(axis=0))
        )
    fitted = pd.concat(parts, ignore_index=True)
    names = list(keys.columns)
    fitted = pd.concat([keys.loc[fitted["_g"]].reset_index(drop=True), fitted], axis=1)
    on = [*names, *levels.columns]
    out = crude.merge(fitted.drop(columns="_g"), on=on, how="left", validate="one_to_one")
    if not (out["_o"].to_numpy() == out["n_ruptures"].to_numpy()).all():  # pragma: no cover - invariant
        raise AssertionError("age-calendar ruptures do not add up to the monthly ruptures")
    lo, hi = poisson_rate_interval(out["n_ruptures"], out["expected"], level=level)
    return out.drop(columns="_o").assign(oe_low=lo, oe_high=hi, adjustment="age_month", method=method)[
        [*crude.columns, "expected", "oe_ratio", "oe_low", "oe_high", "adjustment", "method", "n_iterations"]
    ]


def _check_months(months: Sequence[int]) -> list[int]:
    month_set = sorted({int(m) for m in months})
    if not month_set or any(m < 1 or m > 12 for m in month_set) or len(month_set) == 12:
        raise ParameterError(
            f"months={list(months)!r} must be 1 to 11 distinct month numbers in 1..12",
            hint="e.g. months=(6, 7, 8) for June-August",
        )
    return month_set


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


def age_adjusted_summer_effect(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    months: Sequence[int] = SUMMER_MONTHS,
    level: float = 0.95,
    calendar: AgeCalendar | None = None,
) -> pd.DataFrame:
    """Rupture hazard ratio of ``months`` (June-August) to the other months, **at equal contract age**.

    This is the estimate the report uses to say whether summer is a critical period. Unit, cohort
    and censoring as in :func:`rupture_seasonality`; age months as in :func:`age_calendar_exposure`.

    * **Model**: ruptures in age month ``k`` are Poisson with mean ``X_s[k] · h[k] · RR`` in the
      summer months and ``X_o[k] · h[k]`` in the others (``X`` contract-months). ``rate_ratio`` is
      the maximum-likelihood ``RR`` (the same as fitting age × period by iterative proportional
      fitting, :func:`fit_age_period`), its interval the profile-likelihood interval of
      :func:`stratified_rate_ratio` (conditional on the ruptures of each age month, so the
      uncertainty of the age hazard ``h`` is accounted for); ``p_value``: likelihood-ratio test
      of ``RR = 1``.
    * ``expected_summer``/``expected_other``: ruptures expected from the contracts' ages with the
      fitted ``h``; ``oe_summer``/``oe_other``: observed/expected (``rate_ratio = oe_summer /
      oe_other``).
    * For audit, beside it: the **one-step** indirect standardisation (expected ruptures from the
      crude age hazard ``h[k] = O[k] / X[k]``), ``one_step_ratio`` with its exact conditional
      binomial interval (``one_step_ci_low``/``one_step_ci_high``: given ``O_s + O_o``, ``O_s`` is
      binomial with ``p = RR·E_s / (RR·E_s + E_o)``; biased towards 1 when summer months hold older
      contracts), and the **crude** ratio of :func:`summer_effect` (``crude_rate_ratio``,
      ``crude_ci_low``, ``crude_ci_high``), which ignores the age of the contracts.

    Columns: dimension columns, ``n_ruptures_summer``, ``exposure_months_summer``,
    ``expected_summer``, ``oe_summer``, ``n_ruptures_other``, ``exposure_months_other``,
    ``expected_other``, ``oe_other``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``p_value``,
    ``one_step_ratio``, ``one_step_ci_low``, ``one_step_ci_high``, ``crude_rate_ratio``,
    ``crude_ci_low``, ``crude_ci_high``, ``n_age_months`` (age months with exposure in both
    periods), ``months``, ``adjustment`` (``"age_month"``), ``ci_method``, ``as_of``.

    Examples
    --------
    Three contracts broken after 10 days in March, one in June, and one running since September
    2023. In the first month of the contracts (the only one with ruptures), the summer hazard is
    1 per 10 days against 3 per 60 days (the March contracts and the first 30 days of the old
    one): ratio 2. The crude ratio mixes ages: (1 / 39 days) / (3 / 304 days) = 2.598.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-03-01"] * 3 + ["2024-06-01", "2023-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-12-31"] * 5),
    ...     "rupture_date": pd.to_datetime(["2024-03-11"] * 3 + ["2024-06-11", None]),
    ... })
    >>> out = age_adjusted_summer_effect(df, as_of="2024-06-30").iloc[0]
    >>> round(float(out["rate_ratio"]), 6), round(float(out["crude_rate_ratio"]), 3)
    (2.0, 2.598)
    """
    month_set = _check_months(months)
    ts = parse_as_of(as_of)
    keys, cal, exposure, ruptures = (
        calendar.arrays(contracts, as_of=ts, by=by)
        if calendar is not None
        else _age_calendar_arrays(contracts, as_of=ts, by=by)
    )
    summer = np.isin(cal.astype("int64") % 12 + 1, month_set)
    xs_all = exposure[:, :, summer].sum(axis=2) / DAYS_PER_MONTH
    xo_all = exposure[:, :, ~summer].sum(axis=2) / DAYS_PER_MONTH
    os_all = ruptures[:, :, summer].sum(axis=2).astype("float64")
    oo_all = ruptures[:, :, ~summer].sum(axis=2).astype("float64")
    rows = []
    for gi in range(len(keys)):
        xs, xo, os_, oo = xs_all[gi], xo_all[gi], os_all[gi], oo_all[gi]
        rr, lo, hi, p = stratified_rate_ratio(os_, xs, oo, xo, level=level)
        h, _, _ = fit_age_period(np.stack([oo, os_], 1), np.stack([xo, xs], 1), method="ipf")
        e_o, e_s = h @ xo, h @ xs
        h1, r1, _ = fit_age_period(np.stack([oo, os_], 1), np.stack([xo, xs], 1), method="one-step")
        e1_o, e1_s = h1 @ xo, h1 @ xs
        k_s, k_o = os_.sum(), oo.sum()
        one_lo, one_hi = _conditional_binomial_ratio_interval([k_s], [k_o], [e1_s], [e1_o], level=level)
        crude_lo, crude_hi = _conditional_binomial_ratio_interval(
            [k_s], [k_o], [xs.sum()], [xo.sum()], level=level
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.append(
                {
                    "n_ruptures_summer": int(k_s),
                    "exposure_months_summer": float(xs.sum()),
                    "expected_summer": float(e_s),
                    "oe_summer": float(k_s / e_s) if e_s > 0 else np.nan,
                    "n_ruptures_other": int(k_o),
                    "exposure_months_other": float(xo.sum()),
                    "expected_other": float(e_o),
                    "oe_other": float(k_o / e_o) if e_o > 0 else np.nan,
                    "rate_ratio": rr,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": p,
                    "one_step_ratio": float(r1[1] / r1[0]) if e1_s > 0 and e1_o > 0 else np.nan,
                    "one_step_ci_low": float(one_lo[0]),
                    "one_step_ci_high": float(one_hi[0]),
                    "crude_rate_ratio": float(np.float64(k_s / xs.sum()) / np.float64(k_o / xo.sum())),
                    "crude_ci_low": float(crude_lo[0]),
                    "crude_ci_high": float(crude_hi[0]),
                    "n_age_months": int(((xs > 0) & (xo > 0)).sum()),
                }
            )
    out = pd.concat([keys.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    return out.assign(
        months=",".join(str(m) for m in month_set),
        adjustment="age_month",
        ci_method="profile-likelihood",
        as_of=ts,
    )
