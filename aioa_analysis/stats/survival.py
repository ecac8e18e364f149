"""Kaplan-Meier curves of rupture, whole-contract rupture and the log-rank test.

Time scale: **calendar-exact months since the start** (:func:`months_since_start`): a date ``d`` is
at ``k + f`` months when ``start + k months <= d < start + (k+1) months`` (``DateOffset`` semantics,
end of month clipped) and ``f`` is the fraction of that month elapsed. So "``T < H``" is exactly the
BRIEF's "rupture_date < start_date + DateOffset(months=H)", and for cohorts fully observed for H
months the Kaplan-Meier value at H equals the fixed-horizon rate of :mod:`aioa_analysis.stats.rates`.

Censoring (headline definition): ongoing contracts are censored at ``as_of``, completed ones at
their planned end, and ruptures after the diploma (L6222-19) at their date (they are not headline
ruptures). Ties: at a given time, events are counted before censorings (a contract censored at the
time of a rupture is still at risk for it), as in scipy and lifelines.

Everything is vectorised (sorting and cumulative sums, ``O(n log n)``), no loop over contracts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import group_codes, with_dimensions
from aioa_analysis.stats.intervals import loglog_survival_interval, wilson_interval
from aioa_analysis.stats.outcomes import EVENT_DATE, OUTCOME, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, small_denominator_flags
from aioa_analysis.stats.tables import rate_table, share

# --------------------------------------------------------------------------------------------------
# calendar months


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of integer days since 1970-01-01 (vectorised, through pandas' C fields).

    >>> [int(x[0]) for x in civil_from_days(np.array([19967]))]
    [2024, 9, 1]
    """
    idx = pd.DatetimeIndex(np.asarray(days, dtype="int64").astype("datetime64[D]"))
    return (
        idx.year.to_numpy(dtype="int64"),
        idx.month.to_numpy(dtype="int64"),
        idx.day.to_numpy(dtype="int64"),
    )


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Integer days since 1970-01-01 of a (year, month, day) (inverse of :func:`civil_from_days`).

    H. Hinnant's ``days_from_civil`` algorithm in integer numpy arithmetic.

    >>> days_from_civil(np.array([2024]), np.array([9]), np.array([1])).tolist()
    [19967]
    """
    y = np.asarray(year, dtype="int64") - (np.asarray(month) <= 2)
    m = np.asarray(month, dtype="int64")
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + np.asarray(day, dtype="int64") - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="int64")


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return _MONTH_DAYS[month - 1] + ((month == 2) & leap)


def _shift(year: np.ndarray, month: np.ndarray, day: np.ndarray, k: np.ndarray) -> np.ndarray:
    total = year * 12 + (month - 1) + k
    ny, nm = np.floor_divide(total, 12), total % 12 + 1
    return days_from_civil(ny, nm, np.minimum(day, _days_in_month(ny, nm)))


def _day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")).astype("int64")


def add_months(start: pd.Series | np.ndarray, k: object) -> np.ndarray:
    """``start + DateOffset(months=k)`` element-wise for integer arrays ``k`` (vectorised).

    The day of month is kept, clipped to the end of the target month (31 January + 1 month is
    28 or 29 February), exactly as pandas' ``DateOffset(months=k)``. Returns ``datetime64[D]``.

    >>> add_months(pd.to_datetime(["2024-01-31", "2024-09-01"]), [1, 9]).astype(str).tolist()
    ['2024-02-29', '2025-06-01']
    """
    d = _day_numbers(start)
    kk = np.broadcast_to(np.asarray(k, dtype="int64"), d.shape)
    y, m, day = civil_from_days(d)
    return _shift(y, m, day, kk).astype("datetime64[D]")


def months_since_start(start: pd.Series | np.ndarray, end: pd.Series | np.ndarray) -> np.ndarray:
    """Calendar-exact months from ``start`` to ``end`` (float; dates before the start give 0).

    ``k + f`` where ``start + k months <= end < start + (k+1) months`` and ``f`` is the elapsed
    fraction (in days) of that month. ``end`` exactly ``H`` months after ``start`` gives ``H``.

    >>> months_since_start(pd.to_datetime(["2024-09-01"] * 3),
    ...                    pd.to_datetime(["2024-09-01", "2024-09-16", "2025-06-01"])).tolist()
    [0.0, 0.5, 9.0]
    """
    s = _day_numbers(start)
    e = np.maximum(_day_numbers(end), s)
    sy, sm, sd = civil_from_days(s)
    ey, em, ed = civil_from_days(e)
    k0 = (ey * 12 + em) - (sy * 12 + sm)
    # start + k0 months falls in the month of ``end``, on day min(start day, month length); when
    # that is after ``end``, k = k0 - 1 and start + k months is in the month before. Day numbers
    # are counted from the first day of the month of ``end`` (no calendar conversion back).
    t = ey * 12 + (em - 1)  # the month of ``end``, as year * 12 + month - 1
    if not len(t):
        return np.zeros(0, dtype="float64")
    # lengths of the months t - 1 .. t + 1, looked up in a table of the months spanned
    t0 = int(t.min()) - 1
    span = np.arange(t0, int(t.max()) + 2)
    lengths = _days_in_month(span // 12, span % 12 + 1)
    pos = t - t0
    len_e, len_prev, len_next = lengths[pos], lengths[pos - 1], lengths[pos + 1]
    first = e - (ed - 1)
    in_end_month = first + np.minimum(sd, len_e) - 1  # start + k0 months
    before = in_end_month > e
    k = k0 - before
    lo = np.where(before, first - len_prev + np.minimum(sd, len_prev) - 1, in_end_month)
    hi = np.where(before, in_end_month, first + len_e + np.minimum(sd, len_next) - 1)
    return k + (e - lo) / (hi - lo)


# --------------------------------------------------------------------------------------------------
# Kaplan-Meier


def kaplan_meier(time: object, event: object, *, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival function at each distinct time.

    Parameters
    ----------
    time
        Time to the event or to censoring (any non-negative unit).
    event
        True for an event, False for a censored time.
    level
        Level of the log-log ("exponential Greenwood") interval.

    Returns
    -------
    DataFrame
        One row per distinct time: ``time``, ``n_at_risk`` (time >= t), ``n_events``,
        ``n_censored``, ``survival`` (S(t), right-continuous), ``ci_low``, ``ci_high`` (of S(t);
        NaN where S is 1 or 0), ``greenwood_var`` (Greenwood's sum ``Σ d/(n(n-d))``).
        Events at a time are counted before the censorings at the same time.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3, 4], [True, True, False, True, False])
    >>> km[["time", "n_at_risk", "n_events", "survival"]]
       time  n_at_risk  n_events  survival
    0   1.0          5         1       0.8
    1   2.0          4         1       0.6
    2   3.0          2         1       0.3
    3   4.0          1         0       0.3
    """
    t = np.asarray(time, dtype="float64")
    e = np.asarray(event, dtype=bool)
    if t.shape != e.shape:
        raise ParameterError("time and event must have the same length")
    if np.isnan(t).any():
        raise ParameterError("time has missing values", hint="drop or fill them before the estimate")
    uniq, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=len(uniq)).astype("int64")
    total = np.bincount(inv, minlength=len(uniq)).astype("int64")
    c = total - d
    n = total[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        gw = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
    lo, hi = loglog_survival_interval(surv, gw, level=level)
    return pd.DataFrame(
        {
            "time": uniq,
            "n_at_risk": n,
            "n_events": d,
            "n_censored": c,
            "survival": surv,
            "ci_low": lo,
            "ci_high": hi,
            "greenwood_var": gw,
        }
    )


def km_at(
    km: pd.DataFrame,
    points: np.ndarray,
    *,
    side: Literal["left", "right"] = "left",
    ci_before: float = np.nan,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A :func:`kaplan_meier` table read at ``points``: S, its interval and the number at risk.

    ``side="left"``: ``S(m-)``, the survival *strictly before* each point (the rupture curves: "a
    rupture before month m"); ``side="right"``: ``S(m)``, events at ``m`` included (the curve is
    right-continuous). Before the first time, S is 1 and its interval ``(ci_before, ci_before)``.
    ``n_at_risk`` is the number with time ``>= m``.

    >>> km = kaplan_meier([1, 2, 3], [True, True, False])
    >>> km_at(km, np.array([0.0, 1.0, 2.5]))[0].round(3).tolist()
    [1.0, 1.0, 0.333]
    >>> km_at(km, np.array([0.0, 1.0, 2.5]), side="right")[0].round(3).tolist()
    [1.0, 0.667, 0.333]
    """
    times = km["time"].to_numpy()
    idx = np.searchsorted(times, points, side=side) - 1  # the last time before (or at) the point
    surv = np.concatenate(([1.0], km["survival"].to_numpy()))[idx + 1]
    lo = np.concatenate(([ci_before], km["ci_low"].to_numpy()))[idx + 1]
    hi = np.concatenate(([ci_before], km["ci_high"].to_numpy()))[idx + 1]
    first = np.searchsorted(times, points, side="left")
    at_risk = np.concatenate((km["n_at_risk"].to_numpy(), [0]))[first]
    return surv, lo, hi, at_risk


def _group_slices(codes: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Row positions of each group 0..n_groups-1 (one stable sort, no scan per group)."""
    if n_groups == 1 and len(codes) and not codes.any():
        return [np.arange(len(codes))]
    small = codes.astype("int16") if n_groups <= np.iinfo("int16").max else codes  # radix sort
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n_groups)]


def _survival_frame(contracts: pd.DataFrame, ts: pd.Timestamp) -> pd.DataFrame:
    """Add ``time_months`` and ``is_rupture`` (headline definition) as of ``ts``."""
    frame = contracts.loc[contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)]
    frame = with_outcome(frame, as_of=ts)
    time = months_since_start(frame[C.start_date], frame[EVENT_DATE])
    return frame.assign(time_months=time, is_rupture=(frame[OUTCOME] == "ruptured").to_numpy(dtype=bool))


def rupture_km(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    max_months: int | None = None,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Kaplan-Meier cumulative probability of rupture by month since the start, per group.

    * **Unit**: the contract. **Cohort**: the contracts of the input started on or before ``as_of``,
      grouped by ``by``.
    * **Value**: ``rate`` at month ``m`` is ``1 - S(m-)``, the estimated probability of a rupture
      *strictly before* ``m`` calendar months after the start (same boundary rule as
      :func:`aioa_analysis.stats.rates.rupture_rate_within`; a rupture on the start day falls in month 1).
    * **Censoring**: ongoing contracts at ``as_of``, completed ones at their planned end, ruptures
      after the diploma at their date (not headline ruptures).
    * **Interval**: log-log (exponential Greenwood) of S, turned into ``ci_low``/``ci_high`` of the
      cumulative probability; NaN before the first rupture.

    Returns one row per group and month ``m = 0..max_months`` (default: the longest follow-up,
    rounded up): dimension columns, ``month``, ``n_contracts`` (group size), ``n_at_risk`` (contracts
    still followed at ``m``), ``n_ruptures`` and ``n_censored`` (during month ``m``, i.e. in
    ``[m-1, m)``), ``cum_ruptures``, ``rate``, ``ci_low``, ``ci_high``, ``suppressed`` (group smaller
    than ``min_n`` or fewer than ``min_n`` contracts at risk at ``m``), ``suppression_reason``,
    ``unit``, ``as_of``, ``method``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-09-15", "2024-10-20", None, None]),
    ... })
    >>> out = rupture_km(df, as_of="2024-11-30", min_n=0)
    >>> out[["month", "n_at_risk", "n_ruptures", "rate"]]
       month  n_at_risk  n_ruptures  rate
    0      0          4           0  0.00
    1      1          3           1  0.25
    2      2          2           1  0.50
    3      3          0           0  0.50
    """
    ts = parse_as_of(as_of)
    frame, names = with_dimensions(contracts, by)
    frame = _survival_frame(frame, ts)
    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    time = frame["time_months"].to_numpy()
    ev = frame["is_rupture"].to_numpy()
    if max_months is None:
        max_months = int(np.ceil(time.max())) if len(time) else 0
    if isinstance(max_months, bool) or not isinstance(max_months, int | np.integer) or max_months < 0:
        raise ParameterError(f"max_months={max_months!r} is not a non-negative integer")
    grid = np.arange(int(max_months) + 1, dtype="float64")
    pieces = []
    for gi, sel in enumerate(_group_slices(codes, len(keys))):  # loop over groups, not contracts
        t, e = time[sel], ev[sel]
        km = kaplan_meier(t, e, level=level)
        surv, slo, shi, at_risk = km_at(km, grid)
        month_of = np.minimum(np.floor(t).astype("int64") + 1, len(grid))  # [m-1, m) -> m
        n_r = np.bincount(month_of[e], minlength=len(grid) + 1)[: len(grid)]
        n_c = np.bincount(month_of[~e], minlength=len(grid) + 1)[: len(grid)]
        piece = pd.DataFrame(
            {
                "month": grid.astype("int64"),
                "n_contracts": len(sel),
                "n_at_risk": at_risk.astype("int64"),
                "n_ruptures": n_r.astype("int64"),
                "n_censored": n_c.astype("int64"),
                "rate": 1.0 - surv,
                "ci_low": 1.0 - shi,
                "ci_high": 1.0 - slo,
            }
        )
        piece = piece.assign(cum_ruptures=piece["n_ruptures"].cumsum())
        for pos, name in enumerate(names):
            piece.insert(pos, name, keys[name].iloc[gi])
        pieces.append(piece)
    cols = [*names, "month", "n_contracts", "n_at_risk", "n_ruptures", "n_censored", "cum_ruptures"]
    cols += ["rate", "ci_low", "ci_high"]
    if pieces:
        out = pd.concat(pieces, ignore_index=True)[cols]
    else:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    small_group, reason_g = small_denominator_flags(out["n_contracts"], min_n=min_n)
    small_risk, _ = small_denominator_flags(out["n_at_risk"], min_n=min_n)
    reason = reason_g.mask(~small_group & small_risk, f"à risque < {min_n}")
    return out.assign(
        suppressed=(small_group | small_risk).to_numpy(),
        suppression_reason=reason.to_numpy(),
        unit="contract",
        as_of=ts,
        method="kaplan-meier",
    )


# --------------------------------------------------------------------------------------------------
# whole contract


def rupture_whole_contract(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Probability that a contract is broken before its planned end, per group.

    * **Unit**: the contract. **Cohort**: the contracts of the input started on or before ``as_of``,
      grouped by ``by`` (typically ``cohort``).
    * **Groups whose planned ends have all passed** (``planned_end_date <= as_of`` for every
      contract): the plain share ``n_ruptures / n_contracts`` with a Wilson interval
      (``estimator = "part_observee"``); no censoring.
    * **Groups still running**: ``1 - S`` at the end of the Kaplan-Meier curve (time scale and
      censoring as in :func:`rupture_km`: ongoing at ``as_of``, completed at the planned end,
      ruptures after the diploma at their date), log-log interval (``estimator = "kaplan_meier"``).
      Caveat: completion is treated as censoring, so when planned durations differ within a
      group the value is the rupture probability *of the longest contracts* (it exceeds the share
      the same group will show once every contract has ended). Group by ``diploma_family`` or
      ``diploma_level`` to keep durations homogeneous.
    * Ruptures after the diploma are never in ``n_ruptures``; they are counted in
      ``n_ruptures_after_diploma``. ``n_ongoing`` counts contracts still running at ``as_of``;
      ``horizon_months`` is the longest planned duration of the group (calendar months, rounded up).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2022-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2024-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2022-10-01", "2023-05-01", None, "2024-09-15"]),
    ... })
    >>> out = rupture_whole_contract(df, as_of="2025-06-30", min_n=0)
    >>> out[["n_contracts", "n_ruptures", "rate", "estimator"]]
       n_contracts  n_ruptures  rate      estimator
    0            4           2   0.5  part_observee

    (the last "rupture" is after the planned end: a completed contract.)
    """
    ts = parse_as_of(as_of)
    frame, names = with_dimensions(contracts, by)
    frame = _survival_frame(frame, ts)
    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    g = len(keys)
    outcome = frame[OUTCOME]
    end = frame[C.planned_end_date]
    not_ended = (end.isna() | (end > ts)).to_numpy(dtype=bool)
    planned = months_since_start(frame[C.start_date], end.fillna(ts))
    n = np.bincount(codes, minlength=g)[:g]
    k = np.bincount(codes[(outcome == "ruptured").to_numpy(dtype=bool)], minlength=g)[:g]
    k_after = np.bincount(codes[(outcome == "ruptured_after_diploma").to_numpy(dtype=bool)], minlength=g)[:g]
    ongoing = np.bincount(codes[(outcome == "ongoing").to_numpy(dtype=bool)], minlength=g)[:g]
    running = np.bincount(codes[not_ended], minlength=g)[:g] > 0
    horizon = np.zeros(g, dtype="int64")
    if len(codes):
        np.maximum.at(horizon, codes, np.ceil(planned).astype("int64"))
    lo, hi = wilson_interval(k, n, level=level)
    rate = share(k, n)
    time = frame["time_months"].to_numpy()
    ev = frame["is_rupture"].to_numpy()
    slices = _group_slices(codes, g)
    for gi in np.flatnonzero(running):  # loop over groups, not contracts
        sel = slices[gi]
        km = kaplan_meier(time[sel], ev[sel], level=level)
        last = km.iloc[-1]
        rate[gi] = 1.0 - last["survival"]
        lo[gi] = 1.0 - last["ci_high"]
        hi[gi] = 1.0 - last["ci_low"]
    return rate_table(
        keys,
        n=n,
        k=k,
        estimate=(rate, lo, hi),
        min_n=min_n,
        estimator=np.where(running, "kaplan_meier", "part_observee"),
        n_ruptures_after_diploma=k_after.astype("int64"),
        n_ongoing=ongoing.astype("int64"),
        horizon_months=horizon,
        unit="contract",
        as_of=ts,
    )


# --------------------------------------------------------------------------------------------------
# log-rank


def logrank(time: object, event: object, group: object) -> tuple[float, int, float, pd.DataFrame]:
    """Log-rank test of equal hazards across ``k >= 2`` groups (Mantel-Haenszel variance).

    Returns ``(statistic, df, p_value, table)``: the chi-square statistic
    ``(O-E)' V^- (O-E)`` on ``k - 1`` degrees of freedom, its p-value, and a table with one row per
    group (``group``, ``n``, ``observed``, ``expected``). With two groups the statistic is the square
    of ``scipy.stats.logrank``'s. Events before censorings at tied times.

    >>> stat, df, p, table = logrank([1, 2, 3, 4], [True, True, True, True], ["a", "a", "b", "b"])
    >>> round(stat, 4), df, table["expected"].round(4).tolist()
    (2.8824, 1, [0.8333, 3.1667])
    """
    t = np.asarray(time, dtype="float64")
    e = np.asarray(event, dtype=bool)
    gcodes, glabels = pd.factorize(pd.Series(group), sort=True)
    k = len(glabels)
    uniq, inv = np.unique(t, return_inverse=True)
    nt = len(uniq)
    total = np.bincount(gcodes * nt + inv, minlength=k * nt).reshape(k, nt)
    events = np.bincount(gcodes * nt + inv, weights=e, minlength=k * nt).reshape(k, nt)
    at_risk = total[:, ::-1].cumsum(axis=1)[:, ::-1].astype("float64")  # (k, nt)
    n_j = at_risk.sum(axis=0)
    d_j = events.sum(axis=0)
    keep = d_j > 0
    at_risk, n_j, d_j = at_risk[:, keep], n_j[keep], d_j[keep]
    p = at_risk / n_j  # (k, T)
    observed = events.sum(axis=1)
    expected = (p * d_j).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n_j > 1, d_j * (n_j - d_j) / (n_j - 1), 0.0)
    v = np.diag((p * w).sum(axis=1)) - (p * w) @ p.T
    table = pd.DataFrame(
        {"group": glabels, "n": total.sum(axis=1), "observed": observed, "expected": expected}
    )
    if k < 2:
        return float("nan"), 0, float("nan"), table
    diff = (observed - expected)[:-1]
    stat = float(diff @ np.linalg.pinv(v[:-1, :-1]) @ diff)
    dof = k - 1
    return stat, dof, float(stats.chi2.sf(stat, dof)), table


def rupture_logrank(contracts: pd.DataFrame, *, as_of: object, by: str | Sequence[str]) -> pd.DataFrame:
    """Log-rank test comparing the rupture curves of the groups defined by ``by``.

    Unit, time scale and censoring as in :func:`rupture_km`. One row per group: dimension columns,
    ``n_contracts``, ``n_ruptures`` (observed headline ruptures), ``expected_ruptures`` (under equal
    hazards), ``observed_expected_ratio``, then the test repeated on each row: ``statistic``
    (chi-square), ``df``, ``p_value``, ``as_of``.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-10-01", "2024-12-01", None, None]),
    ...     "sex": ["F", "F", "M", "M"],
    ... })
    >>> out = rupture_logrank(df, as_of="2025-06-30", by="sex")
    >>> out[["sex", "n_ruptures", "expected_ruptures"]]
      sex  n_ruptures  expected_ruptures
    0   F           2           0.833333
    1   M           0           1.166667
    """
    ts = parse_as_of(as_of)
    frame, names = with_dimensions(contracts, by)
    if not names:
        raise ParameterError("rupture_logrank needs at least one dimension in by", hint="e.g. by='sector'")
    frame = _survival_frame(frame, ts)
    codes_s, keys = group_codes(frame, names)
    stat, dof, pval, table = logrank(frame["time_months"], frame["is_rupture"], codes_s.to_numpy())
    table = table.set_index("group").reindex(np.arange(len(keys)))
    out = keys.assign(
        n_contracts=table["n"].fillna(0).astype("int64").to_numpy(),
        n_ruptures=table["observed"].fillna(0).astype("int64").to_numpy(),
        expected_ruptures=table["expected"].to_numpy(dtype="float64"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = out["n_ruptures"] / out["expected_ruptures"]
    return out.assign(observed_expected_ratio=ratio, statistic=stat, df=dof, p_value=pval, as_of=ts)
