"""Rupture rates with a fixed horizon (DARES "taux de rupture à 9 mois") and rupture phases.

Every function takes the clean contract table (columns of
:data:`~aioa_analysis.core.schema.CONTRACT_DTYPES`; only the few it uses are required), an explicit
``as_of`` and dimension names ``by`` (public names, see :mod:`aioa_analysis.stats.dimensions`), and returns
a tidy table: the dimension columns, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``,
``ci_high``, ``suppressed``, ``suppression_reason``, then what the table needs and columns stating
the definition (``horizon_months``, ``unit``, ``as_of``, ``ci_method``).

Suppression here is the *primary* flag only (denominator below ``min_n``); every row keeps its
values. :mod:`aioa_analysis.stats.suppression` adds the secondary suppression at the publication step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import RUPTURE_PHASES, C
from aioa_analysis.stats.dimensions import group_codes, with_dimensions
from aioa_analysis.stats.intervals import CI_METHODS, proportion_interval
from aioa_analysis.stats.outcomes import OUTCOME, observation_limit, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, small_denominator_flags
from aioa_analysis.stats.tables import rate_table, share, with_rate

__all__ = [
    "CI_METHODS",
    "DEFAULT_HORIZON_MONTHS",
    "UNITS",
    "check_horizon",
    "phase_from_dates",
    "proportion_interval",
    "rupture_phases",
    "rupture_rate_within",
]

UNITS = ("contract", "apprentice")
DEFAULT_HORIZON_MONTHS = 9


MAX_HORIZON_MONTHS = 120
"""Longest horizon accepted: ten years, beyond any contract (3 years at most) and its follow-up."""


def check_horizon(horizon_months: object) -> int:
    """Validate a horizon in months (a whole number from 1 to :data:`MAX_HORIZON_MONTHS`) and return it.

    >>> check_horizon(9)
    9
    >>> check_horizon(0)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: horizon_months=0 is not a whole number of months from 1 to 120 — \
use e.g. 9 (the DARES headline), 6 or 12
    """
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int | np.integer)
        or not 1 <= horizon_months <= MAX_HORIZON_MONTHS
    ):
        raise ParameterError(
            f"horizon_months={horizon_months!r} is not a whole number of months from 1 to {MAX_HORIZON_MONTHS}",
            hint="use e.g. 9 (the DARES headline), 6 or 12",
        )
    return int(horizon_months)


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ParameterError(f"unknown unit {unit!r}", hint=f"choose among: {', '.join(UNITS)}")
    return unit


def _bincount(codes: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=size)[:size]


def _persons(frame: pd.DataFrame) -> pd.Series:
    """The apprentice of each row of ``frame`` (index ``0..len(frame)-1``).

    ``apprentice_key``, or for a row without one ``"contract:" + contract_id``, or
    ``"contract:row:" + position`` when the contract number is missing too (a contract without
    ``apprentice_key`` counts as its own apprentice).
    """
    key = frame[C.apprentice_key].astype("string[pyarrow]").reset_index(drop=True)
    if not key.isna().any():
        return key
    row_id = pd.Series(np.arange(len(frame)), dtype="int64").astype("string[pyarrow]")
    contract = (
        frame[C.contract_id].astype("string[pyarrow]").reset_index(drop=True)
        if C.contract_id in frame
        else pd.Series(pd.NA, index=row_id.index, dtype="string[pyarrow]")
    )
    return key.fillna("contract:" + contract.fillna("row:" + row_id))


def _apprentice_counts(
    frame: pd.DataFrame, codes: np.ndarray, groups: int, flags: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per group code ``0..groups-1``, the number of distinct apprentices (:func:`_persons`) with a
    row in the group (``"all"``), then with a row flagged by each of ``flags`` (any of their rows
    in the group)."""
    person, _ = pd.factorize(_persons(frame))
    pairs = pd.DataFrame({"group": codes, "person": person, **flags})
    out = {}
    for name in ("all", *flags):
        rows = pairs if name == "all" else pairs.loc[pairs[name]]
        per_group = rows.groupby("group")["person"].nunique()
        out[name] = per_group.reindex(range(groups), fill_value=0).to_numpy(dtype="int64")
    return out


def horizon_flags(frame: pd.DataFrame, ts: pd.Timestamp, h: int) -> dict[str, np.ndarray]:
    """Per row of ``frame`` (with its outcome): followed H months (``eligible``), and among those
    broken within H months (``broken``) or broken after the diploma within H months (``after``)."""
    horizon_end = frame[C.start_date] + pd.DateOffset(months=h)
    eligible = horizon_end.to_numpy() <= observation_limit(frame, ts)
    within = eligible & (frame[C.rupture_date] < horizon_end).fillna(False).to_numpy(dtype=bool)
    outcome = frame[OUTCOME]
    return {
        "eligible": eligible,
        "broken": within & (outcome == "ruptured").to_numpy(dtype=bool),
        "after": within & (outcome == "ruptured_after_diploma").to_numpy(dtype=bool),
    }


def _rupture_counts(
    frame: pd.DataFrame, codes: np.ndarray, groups: int, unit: str, flags: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Counts per group code of the rows (``unit="contract"``) or of the distinct apprentices
    (``"apprentice"``): all of them (``"all"``), then those flagged by each of ``flags``."""
    if unit == "contract":
        every = {"all": np.ones(len(codes), dtype=bool), **flags}
        return {name: _bincount(codes[rows], None, groups) for name, rows in every.items()}
    if C.apprentice_key not in frame:
        raise ParameterError(
            "unit='apprentice' needs an apprentice_key column",
            hint="use unit='contract' or run `aioa clean`",
        )
    return _apprentice_counts(frame, codes, groups, flags)


def rupture_rate_within(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    unit: str = "contract",
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Share of contracts (or apprentices) broken within ``horizon_months`` of their start.

    * **Unit**: the contract (``unit="contract"``, default, as DARES n°43) or the apprentice
      (``unit="apprentice"``, key ``apprentice_key``; see below).
    * **Cohort**: the contracts of the input table, grouped by ``by`` (e.g. ``cohort``, the school
      year of the start, or ``start_year``, DARES's calendar-year cohort).
    * **Horizon**: a rupture is *within H months* when ``rupture_date < start_date +
      DateOffset(months=H)``: a rupture exactly H months after the start is not counted; a rupture
      on the start day is. A "rupture" on or after the planned end is not a rupture.
    * **Censoring**: none, by design: only contracts with ``start_date + H months <= as_of`` are
      counted (complete follow-up); the others are reported in ``n_excluded_not_observed``.
    * **Ruptures after the diploma** (L6222-19) stay in the denominator but not in the numerator;
      they are counted beside in ``n_ruptures_after_diploma``.
    * **Apprentice unit**: within each group, each apprentice with at least one eligible contract in
      the group counts once, as broken if at least one of their eligible contracts in the group was
      broken (not after the diploma) within H months of *that contract's* start. An apprentice
      present in two groups counts in both. A contract without ``apprentice_key`` counts as its
      own apprentice. ``n_contracts`` is then a number of apprentices.

    Parameters
    ----------
    contracts
        Clean contract table (needs ``start_date``, ``planned_end_date``, ``rupture_date``; uses
        ``rupture_after_diploma`` and ``apprentice_key`` when present).
    as_of
        Observation date (required; a string ``YYYY-MM-DD`` or a Timestamp).
    by
        Public dimension names (comma-separated string or list); none = one overall row.
    horizon_months
        H, a positive integer (9 = DARES headline).
    unit
        ``"contract"`` or ``"apprentice"``.
    method
        Interval: ``"wilson"`` (default) or ``"clopper-pearson"``.
    level
        Confidence level of the interval.
    min_n
        Rates with ``n_contracts < min_n`` are flagged ``suppressed`` (values kept).

    Returns
    -------
    DataFrame
        Dimension columns, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``, ``ci_high``,
        ``suppressed``, ``suppression_reason``, ``n_ruptures_after_diploma``,
        ``n_excluded_not_observed``, ``horizon_months``, ``unit``, ``as_of``, ``ci_method``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2024-09-01", "2024-09-01", "2025-03-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-09-01", "2025-06-01", None, None]),
    ... })
    >>> out = rupture_rate_within(df, as_of="2025-06-30", min_n=0)
    >>> out[["n_contracts", "n_ruptures", "rate", "n_excluded_not_observed"]]
       n_contracts  n_ruptures      rate  n_excluded_not_observed
    0            3           1  0.333333                        1

    (contract ``b`` broke exactly 9 months after its start: not within 9 months; ``d`` started
    less than 9 months before ``as_of``: excluded.)
    """
    ts = parse_as_of(as_of)
    h = check_horizon(horizon_months)
    _check_unit(unit)
    proportion_interval([0], [1], method=method, level=level)  # validates method early
    frame, names = with_dimensions(contracts, by)
    frame = frame.loc[frame[C.start_date].notna()]
    frame = with_outcome(frame, as_of=ts)
    codes_s, keys = group_codes(frame, names)
    counts = _rupture_counts(frame, codes_s.to_numpy(), len(keys), unit, horizon_flags(frame, ts, h))
    return rate_table(
        keys,
        n=counts["eligible"],
        k=counts["broken"],
        method=method,
        level=level,
        min_n=min_n,
        n_ruptures_after_diploma=counts["after"].astype("int64"),
        n_excluded_not_observed=(counts["all"] - counts["eligible"]).astype("int64"),
        horizon_months=h,
        unit=unit,
        as_of=ts,
        ci_method=method,
    )


def phase_from_dates(
    start: pd.Series, rupture: pd.Series, after_diploma: pd.Series | None = None
) -> pd.Series:
    """Rupture phase (:data:`~aioa_analysis.core.schema.RUPTURE_PHASES`) from the calendar offsets.

    ``rupture < start + 46 days`` -> ``0-45j`` (days 0..45, a calendar proxy for the 45 days of
    practical training); ``< start + 3 months`` -> ``46j-3m``; ``< + 6 months`` -> ``3-6m``;
    ``< + 12 months`` -> ``6-12m``; else ``12m+``; a rupture after the diploma -> ``apres_diplome``.
    NA where there is no rupture date.

    >>> s = pd.Series(pd.to_datetime(["2024-09-01"] * 4))
    >>> r = pd.Series(pd.to_datetime(["2024-10-16", "2024-10-17", "2024-12-01", None]))
    >>> phase_from_dates(s, r).tolist()
    ['0-45j', '46j-3m', '3-6m', <NA>]
    """
    codes = _phase_codes(start, rupture, after_diploma)
    labels = pa.array(RUPTURE_PHASES, pa.large_string()).take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(labels, dtype="string"), index=start.index, dtype="string")


_AFTER_DIPLOMA_CODE = RUPTURE_PHASES.index("apres_diplome")


def _phase_codes(start: pd.Series, rupture: pd.Series, after_diploma: pd.Series | None = None) -> np.ndarray:
    """:func:`phase_from_dates` as positions in :data:`~aioa_analysis.core.schema.RUPTURE_PHASES` (-1 for NA)."""
    bounds = [  # increasing: the phase is the number of bounds on or before the rupture
        start + pd.Timedelta(days=46),
        start + pd.DateOffset(months=3),
        start + pd.DateOffset(months=6),
        start + pd.DateOffset(months=12),
    ]
    has = (rupture.notna() & start.notna()).to_numpy(dtype=bool)
    codes = np.zeros(len(start), dtype="int64")
    for bound in bounds:
        codes += (rupture >= bound).fillna(False).to_numpy(dtype=bool)
    if after_diploma is not None:
        codes[has & after_diploma.astype("boolean").fillna(False).to_numpy(dtype=bool)] = _AFTER_DIPLOMA_CODE
    codes[~has] = -1
    return codes


def _phase_positions(values: pd.Series) -> np.ndarray:
    """Position of each value in :data:`~aioa_analysis.core.schema.RUPTURE_PHASES`; -1 if missing or another value."""
    arr = pa.chunked_array(pa.array(values.astype("string[pyarrow]").array))
    pos = pc.index_in(arr, value_set=pa.array(RUPTURE_PHASES, arr.type)).combine_chunks()
    return np.asarray(pos.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")


def rupture_phases(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Distribution of the ruptures observed by ``as_of`` over the phases of the contract.

    * **Unit**: the contract. **Cohort**: the contracts of the input (grouped by ``by``) with a start
      date on or before ``as_of``.
    * **Ruptures counted**: observed ruptures (``rupture_date <= as_of`` and before the planned end),
      including those after the diploma (phase ``apres_diplome``).
    * **Phase**: the ``rupture_phase`` column when filled, else :func:`phase_from_dates`.
    * **Censoring**: none is corrected. ``rate`` (``n_ruptures / n_contracts``, the share of contracts
      broken in that phase *so far*) understates the late phases of recent cohorts; restrict to
      cohorts whose contracts have ended for a complete picture. ``share_of_ruptures`` (with
      ``share_ci_low``/``share_ci_high``) is the phase's share of the group's ruptures
      (``n_ruptures_total``).

    One row per group and phase (every phase, zeros included). ``suppressed`` flags
    ``n_contracts < min_n``; the share of ruptures is further flagged by ``share_suppressed`` when
    ``n_ruptures_total < min_n``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 3),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-09-10", "2025-01-15", None]),
    ... })
    >>> out = rupture_phases(df, as_of="2025-06-30", min_n=0)
    >>> out[["phase", "n_ruptures", "share_of_ruptures"]].head(3)
        phase  n_ruptures  share_of_ruptures
    0   0-45j           1                0.5
    1  46j-3m           0                0.0
    2    3-6m           1                0.5
    """
    ts = parse_as_of(as_of)
    frame, names = with_dimensions(contracts, by)
    frame = frame.loc[frame[C.start_date].notna() & (frame[C.start_date] <= ts)]
    frame = with_outcome(frame, as_of=ts)
    outcome = frame[OUTCOME]
    observed = outcome.isin(["ruptured", "ruptured_after_diploma"]).to_numpy(dtype=bool)
    after = (outcome == "ruptured_after_diploma").to_numpy(dtype=bool)
    computed = _phase_codes(frame[C.start_date], frame[C.rupture_date], pd.Series(after, index=frame.index))
    # positions in RUPTURE_PHASES (-1: missing): the filled ``rupture_phase``, else the computed one
    phase_idx = (
        _phase_positions(frame[C.rupture_phase])
        if C.rupture_phase in frame
        else np.full(len(frame), -1, dtype="int64")
    )
    phase_idx = np.where(phase_idx >= 0, phase_idx, computed)
    # the outcome as of as_of decides "after the diploma" consistently with the headline rates
    phase_idx[after] = _AFTER_DIPLOMA_CODE
    wrong = (outcome == "ruptured").to_numpy(dtype=bool) & (phase_idx == _AFTER_DIPLOMA_CODE)
    phase_idx[wrong] = computed[wrong]
    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    g = len(keys)
    p = len(RUPTURE_PHASES)
    n = _bincount(codes, None, g)
    ok = observed & (phase_idx >= 0)
    counts = _bincount(codes[ok] * p + phase_idx[ok], None, g * p).reshape(g, p)
    total = counts.sum(axis=1)
    grid = keys.loc[np.repeat(np.arange(g), p)].reset_index(drop=True)
    n_rep = np.repeat(n, p)
    tot_rep = np.repeat(total, p)
    k = counts.reshape(-1)
    out = grid.assign(
        phase=pd.array(np.tile(np.array(RUPTURE_PHASES, dtype=object), g), dtype="string"),
        n_contracts=n_rep.astype("int64"),
        n_ruptures=k.astype("int64"),
    )
    out = with_rate(out, k="n_ruptures", n="n_contracts", method=method, level=level, min_n=min_n)
    slo, shi = proportion_interval(k, tot_rep, method=method, level=level)
    share_suppressed, _ = small_denominator_flags(pd.Series(tot_rep), min_n=min_n)
    return out.assign(
        n_ruptures_total=tot_rep.astype("int64"),
        share_of_ruptures=share(k, tot_rep),
        share_ci_low=slo,
        share_ci_high=shi,
        share_suppressed=share_suppressed.to_numpy(),
        unit="contract",
        as_of=ts,
        ci_method=method,
    )
