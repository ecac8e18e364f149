"""Exposure of the contracts in force: contract-months at risk and ruptures by calendar month
(:func:`monthly_exposure`) and by age month of the contract × calendar month
(:func:`age_calendar_exposure`, :func:`age_calendar`), the building blocks of
:mod:`aioa_analysis.stats.seasonality`.

* a contract is at risk from its start date (included) to its exit (excluded): the rupture date
  (headline rupture or rupture after the diploma), the planned end (completed) or ``as_of``
  (ongoing), as defined by :mod:`aioa_analysis.stats.outcomes`;
* exposure is counted in days and converted to **standard months of 30.4375 days** (365.25 / 12),
  so that a constant daily hazard gives the same monthly rate in February as in March;
* ruptures: headline ruptures (not after the diploma) dated in the month, up to ``as_of``; the
  month of ``as_of`` is partial (its exposure too).

Computation is vectorised with difference arrays over days (``O(n + groups × days)``), no loop over
contracts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import group_codes, parse_dimensions, with_dimensions
from aioa_analysis.stats.linking import check_built_for
from aioa_analysis.stats.outcomes import EVENT_DATE, OUTCOME, parse_as_of, with_outcome

DAYS_PER_MONTH = 365.25 / 12
"""Length of a standard month (30.4375 days) used to express exposure in contract-months."""


def _month_index(days: np.ndarray, base_month: np.datetime64) -> np.ndarray:
    idx = pd.DatetimeIndex(days)  # .year/.month are fast; datetime64[M] casts are not
    base = pd.Timestamp(base_month)
    return (
        (idx.year.to_numpy(dtype="int64") - base.year) * 12 + idx.month.to_numpy(dtype="int64") - base.month
    )


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
    contracts still in force at age ``k`` are a prefix of the arrays; age month ``k`` of a contract
    lies in at most two calendar months, and its days in each are summed per group.
    ``O(n log n + K·n + K·groups·months)`` for ``K`` age months (a national table has tens of
    thousands of groups: the day-level arrays per group used before cost ``K·groups·days``).
    """
    keys, codes, start, exit_, rupt = _spells(contracts, as_of=as_of, by=by)
    g = len(keys)
    last_day = np.datetime64(as_of.date(), "D")
    base_month = (start.min() if len(start) else last_day).astype("datetime64[M]")
    first_day = int(base_month.astype("datetime64[D]").astype("int64"))
    n_months = int((last_day.astype("datetime64[M]") - base_month).astype("int64")) + 1
    months = base_month + np.arange(n_months).astype("timedelta64[M]")
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
    codes, s_month, key0, x_day = codes[order], s_month[order], key0[order], x_day[order]
    n_active = np.cumsum(np.bincount(k_exit, minlength=n_age)[::-1])[::-1]
    exposure = np.zeros((g, n_age, n_months))
    width = n_months + 1  # one more calendar month per group, always empty: no index check needed
    lo = lookup[key0]  # the start day
    for k in range(n_age):
        n = int(n_active[k])
        nxt = lookup[key0[:n] + 32 * (k + 1)]
        hi = np.minimum(nxt, x_day[:n])
        # age month k lies in two calendar months at most: the one of its first day and the next
        month = s_month[:n] + k
        cut = table_first[month + 1]  # first day of the next calendar month
        at = codes[:n] * width + month
        days = np.bincount(at, weights=np.minimum(hi, cut) - lo[:n], minlength=g * width)
        days += np.bincount(at + 1, weights=np.maximum(hi - cut, 0), minlength=g * width)
        exposure[:, k, :] = days.reshape(g, width)[:, :n_months]
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
