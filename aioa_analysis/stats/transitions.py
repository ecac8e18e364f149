"""After the rupture: re-contracting within 60 / 180 days, the "net" rupture rate, time to a new contract.

Definitions (unit: the broken contract; ``as_of`` always explicit):

* **rupture**: outcome ``ruptured`` as of ``as_of`` (:func:`aioa_analysis.stats.outcomes.with_outcome`);
  ruptures after the diploma (L6222-19) are left out unless ``include_after_diploma=True``;
* **new contract** of a broken contract X: another contract of the same ``apprentice_key`` that
  starts after X started and no earlier than ``X.rupture_date - tolerance_days`` (default 7 days:
  a new contract may be dated a few days before the recorded rupture), known at ``as_of``; the first
  one is kept (:func:`aioa_analysis.stats.linking.days_to_new_contract`, O(n log n));
* **re-contracted within W days**: ``new.start_date <= rupture_date + W days`` (a new contract
  exactly W days after the rupture counts); the share is computed only over ruptures whose window has
  fully passed: ``rupture_date + W days <= as_of``;
* **net rupture** (DARES, DOMAIN #57: 12 % of 2021 starts): broken within H months of the start and
  no new contract within 180 days, over contracts started, for contracts with
  ``start_date + H months + 180 days <= as_of``;
* **time to a new contract**: Kaplan-Meier cumulative share re-contracted by day d after the
  rupture, ruptures without a new contract censored at ``as_of``.

Ruptured contracts without an ``apprentice_key`` cannot be linked; they are excluded from the
re-contracting tables (counted in ``n_unlinkable``).

Every function accepts ``links=`` (:func:`aioa_analysis.stats.linking.link_ruptures` on the same table,
``as_of`` and ``tolerance_days``) to reuse the links computed once for several statistics; the
results are the same with or without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import with_dimensions
from aioa_analysis.stats.linking import (
    RECONTRACT_TOLERANCE_DAYS,
    RuptureLinks,
    check_count,
    days_to_new_contract,
    horizon_eligible,
    horizon_end,
)
from aioa_analysis.stats.outcomes import OUTCOME, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, flag_rates
from aioa_analysis.stats.survival import kaplan_meier, km_at
from aioa_analysis.stats.tables import count_by, share, with_rate

DEFAULT_WINDOWS = (60, 180)
"""DARES re-contracting windows (about 2 and 6 months), in days."""

DEFAULT_DAYS = (0, 30, 60, 90, 180, 365)
"""Days after the rupture at which :func:`time_to_new_contract` evaluates the curve."""


def _rupture_kinds(include_after_diploma: bool) -> list[str]:
    return ["ruptured", "ruptured_after_diploma"] if include_after_diploma else ["ruptured"]


_LINK_COLUMNS = (
    C.contract_id,
    C.apprentice_key,
    C.start_date,
    C.planned_end_date,
    C.rupture_date,
    C.rupture_after_diploma,
)


def _narrow(frame: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    """The columns the linking and ``dims`` need (cheaper row selections on a wide table)."""
    cols = list(dict.fromkeys([*dims, *(c for c in _LINK_COLUMNS if c in frame.columns)]))
    return frame[cols]


def link_new_contracts(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    include_after_diploma: bool = False,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """One row per rupture known at ``as_of``, with the apprentice's first new contract.

    Unit: the broken contract (outcome ``ruptured`` as of ``as_of``; also ``ruptured_after_diploma``
    if ``include_after_diploma``). Censoring: a new contract is seen only if it starts on or before
    ``as_of``; ``followup_days = as_of - rupture_date``.

    Returns the input columns of the broken contracts plus ``outcome``, ``event_date``,
    ``duration_days``, ``next_contract_id``, ``next_start_date``, ``days_to_new_contract`` (Int64,
    may be negative down to ``-tolerance_days``, NA if none known), ``followup_days`` (Int64) and
    ``linkable`` (False when ``apprentice_key`` is missing).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1"],
    ...     "apprentice_key": ["A", "A", "B"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-31", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None, "2025-01-15"]),
    ... })
    >>> link_new_contracts(df, as_of="2025-06-30")[["contract_id", "next_contract_id",
    ...     "days_to_new_contract", "followup_days"]]
      contract_id next_contract_id  days_to_new_contract  followup_days
    0          a1               a2                    60            241
    2          b1             <NA>                  <NA>            166
    """
    ts = parse_as_of(as_of)
    check_count("tolerance_days", tolerance_days)
    df = with_outcome(contracts, as_of=ts)
    ruptured = df[OUTCOME].isin(_rupture_kinds(include_after_diploma)).fillna(False)
    found = days_to_new_contract(df, ruptured=ruptured, as_of=ts, tolerance_days=tolerance_days, links=links)
    keep = ruptured.to_numpy(dtype=bool)
    out = pd.concat([df.loc[keep], found.loc[keep]], axis=1)
    return out.assign(
        followup_days=(ts - out[C.rupture_date]).dt.days.astype("Int64"),
        linkable=out[C.apprentice_key].notna().to_numpy(),
    )


def _windows(windows: Iterable[int]) -> list[int]:
    ws = sorted({check_count("window_days", w) for w in windows})
    if not ws:
        raise ParameterError(
            f"windows {list(windows)!r} must be non-negative day counts", hint="e.g. (60, 180)"
        )
    return ws


def recontract_rates(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    windows: Iterable[int] = DEFAULT_WINDOWS,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    include_after_diploma: bool = False,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Share of broken contracts followed by a new contract within each window (60 and 180 days).

    Unit: the broken contract (outcome ``ruptured`` as of ``as_of``, with an ``apprentice_key``).
    Cohort: ruptures whose window has fully passed, ``rupture_date + W days <= as_of``.
    Horizon: W days after the rupture date, inclusive (a new contract exactly W days later counts).
    Censoring: ruptures whose window is still open are excluded (not counted as "no new contract").
    Interval: Wilson at ``level``. Suppression flag: ``n_ruptures < min_n``.

    Returns one row per group (every group present in ``contracts``, empty ones with zero counts)
    and window: dimension columns (public names, missing values as ``"inconnu"``), ``window_days``,
    ``n_ruptures`` (denominator), ``n_recontracted`` (numerator), ``rate``, ``ci_low``, ``ci_high``,
    ``suppressed``, ``suppression_reason``, ``n_window_open`` (ruptures not yet followed W days),
    ``n_unlinkable`` (ruptures without apprentice key, excluded).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1", "c1"],
    ...     "apprentice_key": ["A", "A", "B", "C"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-31", "2024-09-01", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None, "2024-10-01", "2025-05-15"]),
    ... })
    >>> recontract_rates(df, as_of="2025-06-30")[["window_days", "n_ruptures", "n_recontracted",
    ...     "rate", "n_window_open"]]
       window_days  n_ruptures  n_recontracted  rate  n_window_open
    0           60           2               1   0.5              1
    1          180           2               1   0.5              1
    """
    ts = parse_as_of(as_of)
    ws = _windows(windows)
    check_count("tolerance_days", tolerance_days)
    base, dims = with_dimensions(contracts, by)
    links_ = link_new_contracts(
        _narrow(base, dims),
        as_of=ts,
        tolerance_days=tolerance_days,
        include_after_diploma=include_after_diploma,
        links=links,
    )
    linkable = links_["linkable"]
    days = links_["days_to_new_contract"]
    tables = []
    for w in ws:
        passed = (links_[C.rupture_date] + pd.Timedelta(days=w) <= ts).fillna(False) & linkable
        recontracted = passed & (days <= w).fillna(False)
        counts = count_by(
            links_,
            dims,
            {
                "n_ruptures": passed,
                "n_recontracted": recontracted,
                "n_window_open": linkable & ~passed,
                "n_unlinkable": ~linkable,
            },
            universe=base[dims] if dims else None,
        )
        tables.append(counts.assign(window_days=w))
    out = pd.concat(tables, ignore_index=True)
    out = with_rate(out, k="n_recontracted", n="n_ruptures", level=level, min_n=min_n)
    cols = [*dims, "window_days", "n_ruptures", "n_recontracted", "rate", "ci_low", "ci_high"]
    cols += ["suppressed", "suppression_reason", "n_window_open", "n_unlinkable"]
    return out[cols].sort_values([*dims, "window_days"], kind="stable").reset_index(drop=True)


def net_rupture_rates(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    horizon_months: int = 9,
    window_days: int = 180,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """ "Net" rupture rate: broken within H months and no new contract within ``window_days``.

    Unit: the contract. Cohort: contracts with ``start_date + H months + window_days <= as_of``
    (so every rupture within H months has its whole re-contracting window observed). Horizon: a
    rupture is within H months when ``rupture_date < start_date + H months`` (outcome ``ruptured``;
    ruptures after the diploma are not ruptures here). Re-contracted: a new contract of the same
    apprentice starting by ``rupture_date + window_days`` (inclusive). Censoring: none inside the
    cohort (full follow-up). Interval: Wilson on the net rate. Suppression flag:
    ``n_contracts < min_n``. Reference: DARES 12 % for 2021
    starts (H = 9, 6 months).

    Returns, per group: dimension columns, ``horizon_months``, ``window_days``, ``n_contracts``
    (denominator), ``n_ruptures`` (broken within H months), ``n_recontracted`` (of those, with a new
    contract in the window), ``n_net_ruptures`` (numerator), ``gross_rate`` (n_ruptures /
    n_contracts), ``recontract_share`` (n_recontracted / n_ruptures), ``rate`` (net rate),
    ``ci_low``, ``ci_high``, ``suppressed``, ``suppression_reason``. Broken contracts without an apprentice key count as not re-contracted.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1", "c1"],
    ...     "apprentice_key": ["A", "A", "B", "C"],
    ...     "start_date": pd.to_datetime(["2023-09-01", "2023-12-01", "2023-09-01", "2023-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2025-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2023-11-01", None, "2023-10-01", None]),
    ... })
    >>> net_rupture_rates(df, as_of="2025-06-30")[["n_contracts", "n_ruptures", "n_recontracted",
    ...     "n_net_ruptures", "rate"]]
       n_contracts  n_ruptures  n_recontracted  n_net_ruptures  rate
    0            4           2               1               1  0.25
    """
    ts = parse_as_of(as_of)
    horizon_months = check_count("horizon_months", horizon_months, minimum=1)
    window_days = check_count("window_days", window_days)
    check_count("tolerance_days", tolerance_days)
    frame, dims = with_dimensions(contracts, by)
    base = with_outcome(frame, as_of=ts)
    eligible = horizon_eligible(base, as_of=ts, horizon_months=horizon_months, extra_days=window_days)
    within = (
        (base[OUTCOME] == "ruptured").fillna(False)
        & (base[C.rupture_date] < horizon_end(base[C.start_date], horizon_months)).fillna(False)
        & eligible
    )
    found = days_to_new_contract(base, ruptured=within, as_of=ts, tolerance_days=tolerance_days, links=links)
    recontracted = within & (found["days_to_new_contract"] <= window_days).fillna(False)
    out = count_by(
        base,
        dims,
        {
            "n_contracts": eligible,
            "n_ruptures": within,
            "n_recontracted": recontracted,
            "n_net_ruptures": within & ~recontracted,
        },
    )
    out = with_rate(out, k="n_net_ruptures", n="n_contracts", level=level, min_n=min_n)
    out = out.assign(
        horizon_months=int(horizon_months),
        window_days=int(window_days),
        gross_rate=share(out["n_ruptures"], out["n_contracts"]),
        recontract_share=share(out["n_recontracted"], out["n_ruptures"]),
    )
    cols = [*dims, "horizon_months", "window_days", "n_contracts", "n_ruptures", "n_recontracted"]
    cols += ["n_net_ruptures", "gross_rate", "recontract_share", "rate", "ci_low", "ci_high"]
    cols += ["suppressed", "suppression_reason"]
    return out[cols]


def _delays(
    contracts: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    dims: list[str],
    tolerance_days: int,
    include_after_diploma: bool,
    links: RuptureLinks | None,
) -> pd.DataFrame:
    found = link_new_contracts(
        _narrow(contracts, dims),
        as_of=as_of,
        tolerance_days=tolerance_days,
        include_after_diploma=include_after_diploma,
        links=links,
    )
    found = found.loc[found["linkable"].to_numpy()]
    observed = found["days_to_new_contract"].notna()
    time = found["days_to_new_contract"].clip(lower=0).where(observed, found["followup_days"])
    return pd.DataFrame(
        {
            **{d: found[d] for d in dims},
            "time": time.astype("float64").to_numpy(),
            "event": observed.to_numpy(dtype=bool),
        }
    )


def _norm_key(key: object) -> tuple:
    tup = key if isinstance(key, tuple) else (key,)
    return tuple(None if pd.isna(v) else v for v in tup)


def _groups(frame: pd.DataFrame, universe: pd.DataFrame, dims: list[str]):
    """Yield (key tuple, sub-frame) for every group of ``universe`` (empty frames for empty groups)."""
    if not dims:
        yield (), frame
        return
    keys = universe[dims].drop_duplicates().sort_values(dims, na_position="last", kind="stable")
    grouped = {_norm_key(k): g for k, g in frame.groupby(dims, dropna=False, sort=False)}
    empty = frame.iloc[0:0]
    for row in keys.itertuples(index=False, name=None):
        yield row, grouped.get(_norm_key(row), empty)


def _delays_by_group(
    base: pd.DataFrame,
    dims: list[str],
    as_of: object,
    *,
    tolerance_days: int,
    include_after_diploma: bool,
    links: RuptureLinks | None,
):
    """Yield ``(key, time, event)`` per group of ``base`` (see :func:`_delays`): days to a new contract,
    or follow-up days when censored, and whether a new contract was seen."""
    delays = _delays(
        base,
        as_of=parse_as_of(as_of),
        dims=dims,
        tolerance_days=tolerance_days,
        include_after_diploma=include_after_diploma,
        links=links,
    )
    for key, g in _groups(delays, base, dims):
        yield key, g["time"].to_numpy(dtype="float64"), g["event"].to_numpy(dtype=bool)


def _km_cdf(time: np.ndarray, event: np.ndarray, days: np.ndarray, level: float):
    """Kaplan-Meier cumulative incidence 1 - S(d) at each day d (new contracts on day d included)
    with its log-log interval (:func:`aioa_analysis.stats.survival.kaplan_meier`); before the first
    time, 0 with the interval (0, 0)."""
    nan = np.full(len(days), np.nan)
    if len(time) == 0:
        return nan, nan, nan
    if not event.any():
        zero = np.zeros(len(days))
        return zero, zero, nan
    surv, lo, hi, _ = km_at(kaplan_meier(time, event, level=level), days, side="right", ci_before=1.0)
    return 1.0 - surv, 1.0 - hi, 1.0 - lo


def time_to_new_contract(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    days: Iterable[int] = DEFAULT_DAYS,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    include_after_diploma: bool = False,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Kaplan-Meier share of broken contracts followed by a new contract by day d after the rupture.

    Unit: the broken contract with an ``apprentice_key`` (outcome ``ruptured`` as of ``as_of``).
    Time: ``max(0, new_start - rupture_date)`` in days (a new contract dated up to
    ``tolerance_days`` before the rupture counts as day 0). Censoring: ruptures without a new
    contract known at ``as_of`` are censored at ``as_of - rupture_date``. Interval: log-log
    (Greenwood) at ``level`` (:func:`aioa_analysis.stats.survival.kaplan_meier`). Unlike :func:`recontract_rates`, recent
    ruptures contribute (censored) instead of being dropped.

    Returns, per group and day d: dimension columns, ``day``, ``n_ruptures`` (all linkable
    ruptures of the group), ``n_at_risk`` (time >= d), ``n_recontracted`` (new contract observed by
    day d), ``cum_share`` (1 - S(d)), ``ci_low``, ``ci_high``, ``suppressed``,
    ``suppression_reason`` (``n_ruptures < min_n``).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1"],
    ...     "apprentice_key": ["A", "A", "B"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-31", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None, "2025-05-01"]),
    ... })
    >>> time_to_new_contract(df, as_of="2025-06-30", days=[30, 60])[["day", "n_at_risk",
    ...     "n_recontracted", "cum_share"]]
       day  n_at_risk  n_recontracted  cum_share
    0   30          2               0        0.0
    1   60          2               1        0.5
    """
    day_arr = np.asarray(sorted({int(d) for d in days}), dtype="float64")
    base, dims = with_dimensions(contracts, by)
    rows = []
    for key, t, e in _delays_by_group(
        base,
        dims,
        as_of,
        tolerance_days=tolerance_days,
        include_after_diploma=include_after_diploma,
        links=links,
    ):
        cdf, lo, hi = _km_cdf(t, e, day_arr, level)
        for i, d in enumerate(day_arr):
            rows.append(
                {
                    **dict(zip(dims, key, strict=True)),
                    "day": int(d),
                    "n_ruptures": len(t),
                    "n_at_risk": int((t >= d).sum()),
                    "n_recontracted": int((e & (t <= d)).sum()),
                    "cum_share": cdf[i],
                    "ci_low": lo[i],
                    "ci_high": hi[i],
                }
            )
    cols = [*dims, "day", "n_ruptures", "n_at_risk", "n_recontracted", "cum_share", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=cols).astype({d: base[d].dtype for d in dims})
    return flag_rates(out, min_n=min_n, n_col="n_ruptures")


def time_to_new_contract_summary(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    include_after_diploma: bool = False,
    min_n: int = MIN_N_DEFAULT,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Median time to a new contract (Kaplan-Meier) and the empirical quartiles among re-contracted.

    Unit, time and censoring as in :func:`time_to_new_contract`. ``median_days_km`` is the smallest
    day at which the Kaplan-Meier share re-contracted reaches 50 % (NaN if it never does: fewer
    than half re-contract within the follow-up). ``q1_days`` / ``median_days`` / ``q3_days`` are the
    plain quartiles of the delay among ruptures whose new contract is observed (conditional on
    re-contracting; biased towards short delays for recent ruptures).

    Returns, per group: dimension columns, ``n_ruptures``, ``n_recontracted``, ``n_censored``,
    ``median_days_km``, ``q1_days``, ``median_days``, ``q3_days``, ``suppressed``,
    ``suppression_reason`` (``n_ruptures < min_n``).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1", "b2"],
    ...     "apprentice_key": ["A", "A", "B", "B"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-31", "2024-09-01", "2024-11-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None, "2024-10-01", None]),
    ... })
    >>> time_to_new_contract_summary(df, as_of="2025-06-30")[["n_ruptures", "n_recontracted",
    ...     "median_days_km", "median_days"]]
       n_ruptures  n_recontracted  median_days_km  median_days
    0           2               2            31.0         45.5
    """
    base, dims = with_dimensions(contracts, by)
    rows = []
    for key, t, e in _delays_by_group(
        base,
        dims,
        as_of,
        tolerance_days=tolerance_days,
        include_after_diploma=include_after_diploma,
        links=links,
    ):
        median_km = np.nan
        if e.any():
            km = kaplan_meier(t, e)
            reached = km["time"].to_numpy()[1.0 - km["survival"].to_numpy() >= 0.5 - 1e-12]
            median_km = float(reached[0]) if len(reached) else np.nan
        obs = t[e]
        q = np.quantile(obs, [0.25, 0.5, 0.75]) if len(obs) else np.full(3, np.nan)
        rows.append(
            {
                **dict(zip(dims, key, strict=True)),
                "n_ruptures": len(t),
                "n_recontracted": int(e.sum()),
                "n_censored": int((~e).sum()),
                "median_days_km": median_km,
                "q1_days": q[0],
                "median_days": q[1],
                "q3_days": q[2],
            }
        )
    cols = [
        *dims,
        "n_ruptures",
        "n_recontracted",
        "n_censored",
        "median_days_km",
        "q1_days",
        "median_days",
        "q3_days",
    ]
    out = pd.DataFrame(rows, columns=cols).astype({d: base[d].dtype for d in dims})
    return flag_rates(out, min_n=min_n, n_col="n_ruptures")
