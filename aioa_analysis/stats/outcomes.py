"""Contract outcome as of an observation date ``as_of`` (always explicit, never the clock).

Definitions (unit: the contract):

* **ruptured**: ``rupture_date <= as_of`` and ``rupture_date < planned_end_date``, and the rupture
  does not follow the diploma;
* **ruptured_after_diploma**: the same, for a rupture after the diploma was obtained (L6222-19). Its
  own category: excluded from the headline rupture rate and reported beside it;
* **completed**: ``planned_end_date <= as_of`` and no observed rupture before it;
* **ongoing**: neither, i.e. censored at ``as_of``.

A rupture dated after ``as_of`` is not known at ``as_of``: the contract is ongoing (or completed).
A "rupture" on or after the planned end is not a rupture: the contract completed.

**Observation limit.** Each contract is observed up to ``min(as_of, observed_until)``
(:func:`observation_limit`): ``observed_until`` is the latest extraction date of the files that
report it (``aioa clean``, :mod:`aioa_analysis.ingest.observation`); a contract only a SIFA
photograph of 31 December reports is censored on that date, not followed blindly to ``as_of``. In
the definitions above, read ``as_of`` as the contract's limit. Without the column (older tables), or
where it is missing, the limit is ``as_of``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.schema import C

OUTCOME = "outcome"
EVENT_DATE = "event_date"
DURATION_DAYS = "duration_days"

__all__ = ["DURATION_DAYS", "EVENT_DATE", "OUTCOME", "observation_limit", "parse_as_of", "with_outcome"]


def observation_limit(contracts: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Per contract, the last day it is observed: ``min(as_of, observed_until)`` (``datetime64[ns]``).

    >>> df = pd.DataFrame({"observed_until": pd.to_datetime(["2024-12-31", None, "2026-01-31"])})
    >>> observation_limit(df, pd.Timestamp("2025-11-30")).astype("datetime64[D]").tolist()
    [datetime.date(2024, 12, 31), datetime.date(2025, 11, 30), datetime.date(2025, 11, 30)]
    """
    ts = np.datetime64(pd.Timestamp(as_of), "ns")
    limit = np.full(len(contracts), ts, dtype="datetime64[ns]")
    if C.observed_until in contracts:
        until = _datetime64(contracts[C.observed_until]).to_numpy().astype("datetime64[ns]")
        np.copyto(limit, until, where=~np.isnat(until) & (until < ts))
    return limit


def with_outcome(contracts: pd.DataFrame, *, as_of: object) -> pd.DataFrame:
    """Add ``outcome``, ``event_date`` and ``duration_days`` as of ``as_of``; the input is not modified.

    ``event_date`` is the rupture date (ruptured), the planned end (completed) or ``as_of``
    (ongoing: censored); ``duration_days`` is ``event_date - start_date`` in days.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31", "2026-08-31", "2025-01-31", "2026-08-31"]),
    ...     "rupture_date": pd.to_datetime(["2024-10-01", "2025-09-01", None, None]),
    ...     "rupture_after_diploma": pd.array([False, False, False, False], dtype="boolean"),
    ... })
    >>> with_outcome(df, as_of="2025-06-30")[["outcome", "duration_days"]]
         outcome  duration_days
    0   ruptured             30
    1    ongoing            302
    2  completed            152
    3    ongoing            302
    """
    ts = parse_as_of(as_of)
    start, end, rupt = (_datetime64(contracts[c]) for c in (C.start_date, C.planned_end_date, C.rupture_date))
    after_dipl = (
        contracts[C.rupture_after_diploma].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if C.rupture_after_diploma in contracts
        else np.zeros(len(contracts), dtype=bool)
    )
    # numpy datetimes: NaT compares False, as pandas' missing values do
    start_v, end_v, rupt_v = start.to_numpy(), end.to_numpy(), rupt.to_numpy()
    ts_v = observation_limit(contracts, ts).astype(start.dtype)
    observed = (rupt_v <= ts_v) & (rupt_v < end_v)
    completed = ~observed & (end_v <= ts_v)
    # codes into _OUTCOMES, the later rule winning as in successive masks
    codes = completed.astype("int8")
    codes[observed & ~after_dipl] = 2
    codes[observed & after_dipl] = 3
    outcome = pd.Series(
        pd.array(_OUTCOMES.take(pa.array(codes)), dtype="string"), index=contracts.index, dtype="string"
    )
    event_v = ts_v.copy()
    np.copyto(event_v, end_v, where=completed, casting="same_kind")
    np.copyto(event_v, rupt_v, where=observed, casting="same_kind")
    event = pd.Series(event_v, index=contracts.index)
    # whole days, floored as Timedelta.days; missing where the start is (the event never is)
    with np.errstate(invalid="ignore"):
        days = (event_v - start_v) // np.timedelta64(1, "D")
    duration = pd.Series(pd.arrays.IntegerArray(days, np.isnat(start_v)), index=contracts.index)
    return contracts.assign(**{OUTCOME: outcome, EVENT_DATE: event, DURATION_DAYS: duration})


_OUTCOMES = pa.array(["ongoing", "completed", "ruptured", "ruptured_after_diploma"], pa.large_string())


def _datetime64(s: pd.Series) -> pd.Series:
    """``s`` as numpy ``datetime64`` (any unit kept); other date types (Arrow timestamps) in ns."""
    return s if isinstance(s.dtype, np.dtype) and s.dtype.kind == "M" else s.astype("datetime64[ns]")
