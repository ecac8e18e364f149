"""Seasonality of ruptures: the monthly rupture hazard by calendar month, and the summer effect.

Counting ruptures by calendar month mixes two things: when contracts break, and how many contracts
are running (most start in September, so raw counts peak in the autumn). The **hazard** divides the
ruptures of a calendar month by the **contract-months at risk** in that month:

* a contract is at risk from its start date (included) to its exit (excluded): the rupture date
  (headline rupture or rupture after the diploma), the planned end (completed) or ``as_of``
  (ongoing), as defined by :mod:`aioa_analysis.stats.outcomes`;
* exposure is counted in days and converted to **standard months of 30.4375 days** (365.25 / 12);
* numerator: headline ruptures (not after the diploma) dated in the month, up to ``as_of``; the
  month of ``as_of`` is partial (its exposure too).

Exposure and ruptures are counted by :mod:`aioa_analysis.stats.exposure` (vectorised difference
arrays over days, no loop over contracts); the age × period model is in
:mod:`aioa_analysis.stats.age_period`. Both are re-exported here.

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

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.age_period import (
    ADJUST_METHODS,
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    _period_matrix,
    fit_age_period,
    stratified_rate_ratio,
)
from aioa_analysis.stats.dimensions import group_codes
from aioa_analysis.stats.exposure import (
    _EXPOSURE_COLUMNS,
    DAYS_PER_MONTH,
    AgeCalendar,
    _age_calendar_arrays,
    age_calendar,
    age_calendar_exposure,
    monthly_exposure,
)
from aioa_analysis.stats.intervals import log_wald_ratio_interval, poisson_interval, rate_ratio_interval
from aioa_analysis.stats.outcomes import parse_as_of
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, flag_rates
from aioa_analysis.stats.tables import share

__all__ = [
    "ADJUST_METHODS",
    "DAYS_PER_MONTH",
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL",
    "PERIODS",
    "SUMMER_MONTHS",
    "AgeCalendar",
    "age_adjusted_seasonality",
    "age_adjusted_summer_effect",
    "age_calendar",
    "age_calendar_exposure",
    "fit_age_period",
    "monthly_exposure",
    "rupture_seasonality",
    "stratified_rate_ratio",
    "summer_effect",
]


PERIODS = ("month_of_year", "year_month")


SUMMER_MONTHS = (6, 7, 8)


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
    lo, hi = poisson_interval(k, exposure_months, level=level)
    out = agg[lead].assign(
        n_contracts=agg["n_contracts"].to_numpy(dtype="int64"),
        n_ruptures=agg["n_ruptures"].to_numpy(dtype="int64"),
        rate=share(k, exposure_months),
        ci_low=lo,
        ci_high=hi,
    )
    extra = {"n_years": agg["n_years"].to_numpy(dtype="int64")} if period == "month_of_year" else {}
    return flag_rates(out, min_n=min_n).assign(
        n_starts=agg["n_starts"].to_numpy(dtype="int64"),
        exposure_days=agg["exposure_days"].to_numpy(dtype="float64"),
        exposure_months=exposure_months,
        **extra,
        period=period,
        unit="contract-month",
        as_of=ts,
        ci_method="poisson-exact",
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
    ci_low, ci_high = rate_ratio_interval(k1, k0, e1, e0, level=level)
    wlo, whi = log_wald_ratio_interval(rr, k1, k0, level=level)
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
    lo, hi = poisson_interval(out["n_ruptures"], out["expected"], level=level)
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
    rows = [_summer_row(xs_all[gi], xo_all[gi], os_all[gi], oo_all[gi], level) for gi in range(len(keys))]
    out = pd.concat([keys.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    return out.assign(
        months=",".join(str(m) for m in month_set),
        adjustment="age_month",
        ci_method="profile-likelihood",
        as_of=ts,
    )


def _summer_row(xs: np.ndarray, xo: np.ndarray, os_: np.ndarray, oo: np.ndarray, level: float) -> dict:
    """One group's row of :func:`age_adjusted_summer_effect` from its exposure (contract-months) and
    ruptures per age month, in the summer months (``xs``, ``os_``) and in the others (``xo``, ``oo``)."""
    rr, lo, hi, p = stratified_rate_ratio(os_, xs, oo, xo, level=level)
    h, _, _ = fit_age_period(np.stack([oo, os_], 1), np.stack([xo, xs], 1), method="ipf")
    e_o, e_s = h @ xo, h @ xs
    h1, r1, _ = fit_age_period(np.stack([oo, os_], 1), np.stack([xo, xs], 1), method="one-step")
    e1_o, e1_s = h1 @ xo, h1 @ xs
    k_s, k_o = os_.sum(), oo.sum()
    one_lo, one_hi = rate_ratio_interval([k_s], [k_o], [e1_s], [e1_o], level=level)
    crude_lo, crude_hi = rate_ratio_interval([k_s], [k_o], [xs.sum()], [xo.sum()], level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
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
