"""Small shared helpers for the after-rupture, diploma and comparison estimators.

Just above :mod:`aioa_analysis.stats.outcomes` (it imports only that module, :mod:`schema`, :mod:`errors`
and :mod:`dates`) so that :mod:`transitions`, :mod:`diploma`, :mod:`compare` and :mod:`references`
can share them without importing each other:

* :func:`check_count`: validation of day / month counts given as parameters;
* :func:`horizon_end` / :func:`horizon_eligible`: the "within H months" window of the brief
  (``rupture_date < start_date + DateOffset(months=H)``; eligible when
  ``start_date + DateOffset(months=H) <= as_of``);
* :func:`days_to_new_contract`: the O(n log n) link from a rupture to the same apprentice's next
  contract (``merge_asof``, no pairwise join); :func:`link_ruptures` links every rupture of a
  table once (:class:`RuptureLinks`), for the statistics that share it (``links=``).

The tidy tables of counts and rates they build are made by :mod:`aioa_analysis.stats.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.outcomes import observation_limit

RECONTRACT_TOLERANCE_DAYS = 7
"""A new contract may start up to this many days *before* the recorded rupture date and still count
as "after the rupture" (overlapping dates between the rupture notice and the new start)."""


def check_count(name: str, value: object, *, minimum: int = 0) -> int:
    """Return ``value`` as an int, or raise a one-line :class:`ParameterError` naming ``name``.

    >>> check_count("window_days", 180)
    180
    >>> check_count("horizon_months", 0, minimum=1)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: horizon_months=0 must be an integer >= 1 — e.g. horizon_months=9
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or int(value) < minimum:
        example = {"horizon_months": 9, "window_days": 180, "tolerance_days": 7}.get(name, minimum)
        raise ParameterError(
            f"{name}={value!r} must be an integer >= {minimum}", hint=f"e.g. {name}={example}"
        )
    return int(value)


def horizon_end(start: pd.Series, months: int) -> pd.Series:
    """``start + DateOffset(months=months)`` (calendar months, end-of-month clipped), vectorised.

    >>> horizon_end(pd.Series(pd.to_datetime(["2024-01-31", "2024-09-02"])), 1).dt.strftime("%Y-%m-%d").tolist()
    ['2024-02-29', '2024-10-02']
    """
    return start + pd.DateOffset(months=int(months))


def horizon_eligible(
    contracts: pd.DataFrame, *, as_of: pd.Timestamp, horizon_months: int, extra_days: int = 0
) -> pd.Series:
    """True where ``start_date + H months + extra_days <= as_of`` (full follow-up of the window), or
    the contract's earlier observation limit (:func:`~aioa_analysis.stats.outcomes.observation_limit`).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-01", "2024-09-02", None])})
    >>> horizon_eligible(df, as_of=pd.Timestamp("2025-06-01"), horizon_months=9).tolist()
    [True, False, False]
    """
    end = horizon_end(contracts[C.start_date], horizon_months) + pd.Timedelta(days=int(extra_days))
    limit = observation_limit(contracts, as_of)
    return pd.Series(end.to_numpy() <= limit, index=contracts.index)


def _key_codes(keys: pd.Series, wanted: np.ndarray) -> np.ndarray:
    """Integer code of each row's key among the keys of the rows ``wanted``; -1 elsewhere.

    Two rows share a code exactly when they have the same (non-missing) key and that key is the key
    of at least one ``wanted`` row; rows whose key is missing, or is no ``wanted`` row's key, get -1
    (they can never be linked to a wanted row). The keys are hashed once in Arrow (the distinct
    keys of the wanted rows, then a look-up of every row), no Python string objects.
    """
    if not wanted.any():
        return np.full(len(keys), -1, dtype="int64")
    arr = pa.chunked_array(pa.array(keys.astype("string[pyarrow]").array))
    values = pc.unique(arr.filter(pa.array(wanted)).combine_chunks()).drop_null()
    codes = pc.index_in(arr, value_set=values).combine_chunks()
    return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")


def check_built_for(
    what: str, index: pd.Index, contracts: pd.DataFrame, *, built: dict, asked: dict, builder: str
) -> None:
    """Raise :class:`ParameterError` unless a precomputed ``what`` (built on a table of ``index`` with
    the parameters ``built``) serves ``contracts`` with the parameters ``asked``.

    >>> check_built_for("links", pd.RangeIndex(2), pd.DataFrame(index=range(2)), built={"as_of": 1},
    ...                 asked={"as_of": 2}, builder="link_ruptures")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: links: built with as_of=1, not as_of=2 — build it with \
link_ruptures(contracts, as_of=...)
    """
    if built != asked:
        raise ParameterError(
            f"{what}: built with {_params(built)}, not {_params(asked)}",
            hint=f"build it with {builder}(contracts, {', '.join(f'{k}=...' for k in built)})",
        )
    if not index.equals(contracts.index):
        raise ParameterError(
            f"{what}: built for another contract table (index differs)",
            hint=f"build it with {builder}() on the same table",
        )


def _params(values: dict) -> str:
    return " and ".join(f"{k}={v}" for k, v in values.items())


@dataclass(frozen=True)
class RuptureLinks:
    """Every rupture of a contract table linked once to the apprentice's first new contract.

    Built by :func:`link_ruptures`; pass it as ``links=`` to :func:`days_to_new_contract` (and to the
    estimators of :mod:`~aioa_analysis.stats.transitions` and :mod:`~aioa_analysis.stats.diploma`, which pass it
    on) to skip the linking when several statistics need it on the same table. It holds the result
    of :func:`days_to_new_contract` for every contract with a rupture date; a caller restricts it to
    its own ruptures (the link of a rupture does not depend on which other rows are ruptures).
    """

    as_of: pd.Timestamp
    tolerance_days: int
    frame: pd.DataFrame
    """``next_contract_id``, ``next_start_date``, ``days_to_new_contract``, aligned on the table's index."""

    def check(self, contracts: pd.DataFrame, *, as_of: pd.Timestamp, tolerance_days: int) -> None:
        """Raise :class:`ParameterError` unless these links were built for ``contracts`` / ``as_of``."""
        check_built_for(
            "links",
            self.frame.index,
            contracts,
            built={"as_of": self.as_of.date(), "tolerance_days": self.tolerance_days},
            asked={"as_of": pd.Timestamp(as_of).date(), "tolerance_days": int(tolerance_days)},
            builder="link_ruptures",
        )

    def restrict(self, ruptured: pd.Series) -> pd.DataFrame:
        """The links of the rows where ``ruptured`` is True, NA elsewhere (as :func:`days_to_new_contract`)."""
        keep = ruptured.fillna(False).astype(bool).to_numpy()
        f = self.frame
        return pd.DataFrame(
            {
                "next_contract_id": f["next_contract_id"].where(keep),
                "next_start_date": f["next_start_date"].where(keep),
                "days_to_new_contract": f["days_to_new_contract"].where(keep),
            },
            index=f.index,
        )


def link_ruptures(
    contracts: pd.DataFrame, *, as_of: object, tolerance_days: int = RECONTRACT_TOLERANCE_DAYS
) -> RuptureLinks:
    """Link every contract with a rupture date to its first new contract, once for the table.

    Same rule as :func:`days_to_new_contract` (which it calls with ``ruptured`` = has a rupture
    date); the result is reused through ``links=``.

    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2"],
    ...     "apprentice_key": ["A", "A"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-01"]),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None]),
    ... })
    >>> links = link_ruptures(df, as_of="2025-06-30")
    >>> days_to_new_contract(df, ruptured=df["rupture_date"].notna(), as_of=pd.Timestamp("2025-06-30"),
    ...                      links=links)["days_to_new_contract"].tolist()
    [30, <NA>]
    """
    ts = parse_as_of(as_of)
    tolerance_days = check_count("tolerance_days", tolerance_days)
    frame = days_to_new_contract(
        contracts, ruptured=contracts[C.rupture_date].notna(), as_of=ts, tolerance_days=tolerance_days
    )
    return RuptureLinks(as_of=ts, tolerance_days=tolerance_days, frame=frame)


def days_to_new_contract(
    contracts: pd.DataFrame,
    *,
    ruptured: pd.Series,
    as_of: pd.Timestamp,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Link each rupture to the same apprentice's first new contract; aligned on ``contracts.index``.

    A *new contract* of a broken contract X is another contract of the same ``apprentice_key`` with
    ``start_date > X.start_date``, ``start_date >= X.rupture_date - tolerance_days`` and
    ``start_date <= as_of`` (known at ``as_of``); the first such contract (earliest start; on a tie,
    the first in table order) is kept.
    Linking sorts once and uses :func:`pandas.merge_asof` (O(n log n)). With ``links`` (from
    :func:`link_ruptures` on the same table, ``as_of`` and ``tolerance_days``) nothing is linked
    again: the precomputed links of the ``ruptured`` rows are returned.

    Returns ``next_contract_id`` (string), ``next_start_date`` and ``days_to_new_contract``
    (``next_start_date - rupture_date`` in days, Int64; may be negative down to ``-tolerance_days``),
    NA where the row is not a rupture (``ruptured`` False), has no apprentice key, or has no new
    contract known at ``as_of``.

    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1"],
    ...     "apprentice_key": ["A", "A", "B"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-12-01", "2024-09-01"]),
    ...     "rupture_date": pd.to_datetime(["2024-11-01", None, "2024-10-01"]),
    ... })
    >>> days_to_new_contract(df, ruptured=df["rupture_date"].notna(), as_of=pd.Timestamp("2025-06-30"))
      next_contract_id next_start_date  days_to_new_contract
    0               a2      2024-12-01                    30
    1             <NA>             NaT                  <NA>
    2             <NA>             NaT                  <NA>
    """
    if links is not None:
        links.check(contracts, as_of=as_of, tolerance_days=tolerance_days)
        return links.restrict(ruptured)
    key, cid, start = C.apprentice_key, C.contract_id, C.start_date
    # one resolution for both sides of merge_asof (pandas 3 parses strings to datetime64[us])
    rupt_date = contracts[C.rupture_date].astype("datetime64[ns]")
    start_s = contracts[start].astype("datetime64[ns]")
    start_v = start_s.to_numpy()
    rupt_v = rupt_date.to_numpy()
    mask = ruptured.fillna(False).astype(bool).to_numpy() & ~np.isnat(start_v) & ~np.isnat(rupt_v)
    codes = _key_codes(contracts[key], mask)  # -1 where the key is NA or no rupture's key
    has_key = codes >= 0
    mask &= has_key
    n = len(contracts)
    next_pos = np.full(n, -1, dtype="int64")
    next_start = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    days = np.full(n, np.nan)
    if mask.any():
        one_day = np.timedelta64(1, "D")
        left = pd.DataFrame(
            {
                "_pos": np.flatnonzero(mask),
                "_key": codes[mask],
                "_from": np.maximum(
                    rupt_v[mask] - np.timedelta64(int(tolerance_days), "D"), start_v[mask] + one_day
                ),
            }
        ).sort_values("_from", kind="stable")
        right_mask = has_key & ~np.isnat(start_v) & (start_v <= np.datetime64(as_of, "ns"))
        right = pd.DataFrame(
            {
                "_key": codes[right_mask],
                "_next_start": start_v[right_mask],
                "_next_pos": np.flatnonzero(right_mask),
            }
        ).sort_values("_next_start", kind="stable")  # ties on the start day: first in table order
        linked = pd.merge_asof(
            left,
            right,
            left_on="_from",
            right_on="_next_start",
            by="_key",
            direction="forward",
            allow_exact_matches=True,
        )
        found = linked["_next_start"].notna().to_numpy()
        pos_f = linked["_pos"].to_numpy()[found]
        next_pos[pos_f] = linked["_next_pos"].to_numpy()[found].astype("int64")
        next_start[pos_f] = linked["_next_start"].to_numpy()[found]
        days[pos_f] = (next_start[pos_f] - rupt_v[pos_f]) / one_day
    ids = pd.Series(pd.NA, index=contracts.index, dtype="string")
    linked_rows = np.flatnonzero(next_pos >= 0)
    if len(linked_rows):
        ids.iloc[linked_rows] = contracts[cid].astype("string").array.take(next_pos[linked_rows])
    return pd.DataFrame(
        {
            "next_contract_id": ids.array,
            "next_start_date": next_start,
            "days_to_new_contract": pd.array(np.round(days), dtype="Float64").astype("Int64"),
        },
        index=contracts.index,
    )
