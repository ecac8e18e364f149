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
from aioa_analysis.stats.dimensions import (
    MIN_N_DEFAULT,
    group_codes,
    rate_table,
    small_denominator_flags,
    with_dimensions,
)
from aioa_analysis.stats.intervals import clopper_pearson_interval, wilson_interval
from aioa_analysis.stats.outcomes import OUTCOME, parse_as_of, with_outcome

UNITS = ("contract", "apprentice")
CI_METHODS = ("wilson", "clopper-pearson")
DEFAULT_HORIZON_MONTHS = 9


def check_horizon(horizon_months: object) -> int:
    """Validate a horizon in months (a positive integer) and return it.

    >>> check_horizon(9)
    9
    >>> check_horizon(0)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: horizon_months=0 is not a positive whole number of months — \
use e.g. 9 (the DARES headline), 6 or 12
    """
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int | np.integer)
        or horizon_months < 1
    ):
        raise ParameterError(
            f"horizon_months={horizon_months!r} is not a positive whole number of months",
            hint="use e.g. 9 (the DARES headline), 6 or 12",
        )
    return int(horizon_months)


def proportion_interval(
    k: object, n: object, *, method: str = "wilson", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``k / n`` by ``method`` (``"wilson"`` or ``"clopper-pearson"``); NaN where n == 0.

    >>> lo, hi = proportion_interval([3], [10], method="clopper-pearson")
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0667, 0.6525)
    """
    if method == "wilson":
        return wilson_interval(k, n, level=level)
    if method == "clopper-pearson":
        return clopper_pearson_interval(k, n, level=level)
    raise ParameterError(f"unknown interval method {method!r}", hint=f"choose among: {', '.join(CI_METHODS)}")


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ParameterError(f"unknown unit {unit!r}", hint=f"choose among: {', '.join(UNITS)}")
    return unit


def _bincount(codes: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=size)[:size]


def _persons(frame: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """The apprentice of each row at the positions ``rows`` (index ``0..len(rows)-1``).

    ``apprentice_key``, or for a row without one ``"contract:" + contract_id``, or
    ``"contract:row:" + position`` when the contract number is missing too (a contract without
    ``apprentice_key`` counts as its own apprentice).
    """
    key = frame[C.apprentice_key].iloc[rows].astype("string[pyarrow]").reset_index(drop=True)
    if not key.isna().any():
        return key
    row_id = pd.Series(rows, dtype="int64").astype("string[pyarrow]")
    contract = (
        frame[C.contract_id].iloc[rows].astype("string[pyarrow]").reset_index(drop=True)
        if C.contract_id in frame
        else pd.Series(pd.NA, index=row_id.index, dtype="string[pyarrow]")
    )
    return key.fillna("contract:" + contract.fillna("row:" + row_id))


def _multipliers(count: int) -> np.ndarray:
    """``count`` fixed odd 64-bit constants (splitmix64 of 1, 2, ...; uint64 arithmetic wraps)."""
    z = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) | np.uint64(1)


def _fixed_width_hashes(strings: np.ndarray, block: int = 1 << 15) -> np.ndarray:
    """64-bit hash of each row of a ``(k, width)`` uint8 array (strings of ``width`` bytes).

    Each 8-byte word is multiplied by its own odd constant and its high half folded onto its low
    half (a bijection of the word), then the words and the width are summed. By blocks of rows, so
    that the temporaries stay in the processor's cache.
    """
    k, width = strings.shape
    words = -(-width // 8)
    mult = _multipliers(words + 1)
    hashes = np.full(k, width, dtype=np.uint64) * mult[words]
    for lo in range(0, k, block):
        part = strings[lo : lo + block]
        if width % 8:
            part = np.concatenate([part, np.zeros((len(part), 8 * words - width), dtype=np.uint8)], axis=1)
        mixed = np.ascontiguousarray(part).view(np.uint64) * mult[:words]
        mixed ^= mixed >> np.uint64(32)
        hashes[lo : lo + block] += mixed @ np.ones(words, dtype=np.uint64)
    return hashes


def _string_hashes(values: pd.Series) -> np.ndarray:
    """A 64-bit hash (uint64) of each string of ``values``, 0 where missing.

    Equal strings have equal hashes; distinct strings almost always have distinct ones, but not
    surely: a hash tells rows that are certainly *different*, never rows that are the same. Computed
    on the bytes of the Arrow buffers (one matrix product per chunk for strings of a single length,
    as the 64-character ``apprentice_key``), without a Python string object or a hash table.
    """
    arr = pa.chunked_array(pa.array(values.astype("string[pyarrow]").array)).cast(pa.large_string())
    out = np.zeros(len(arr), dtype=np.uint64)
    start = 0
    for chunk in arr.chunks:
        size = len(chunk)
        if chunk.null_count:
            rows = start + np.flatnonzero(chunk.is_valid().to_numpy(zero_copy_only=False))
            chunk = chunk.drop_null()
        else:
            rows = np.arange(start, start + size)
        start += size
        if not len(chunk):
            continue
        _, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        lengths = np.diff(offsets)
        if lengths.min() == lengths.max():  # one length: the bytes are a (rows, length) matrix
            width = int(lengths[0])
            out[rows] = _fixed_width_hashes(data[offsets[0] : offsets[-1]].reshape(len(lengths), width))
            continue
        for width in np.unique(lengths):
            at = np.flatnonzero(lengths == width)
            out[rows[at]] = _fixed_width_hashes(data[offsets[at][:, None] + np.arange(width)])
    return out


def _as_bits(flags: np.ndarray) -> np.ndarray:
    """A boolean array as 0/1 bytes (a view, no copy when it is already a contiguous bool array)."""
    return np.ascontiguousarray(flags, dtype=bool).view(np.uint8)


def _flag_counts(codes: np.ndarray, bits: np.ndarray, groups: int) -> list[np.ndarray]:
    """Per group code ``0..groups-1``: the number of rows, then of rows with bit 0, 1 and 2 of ``bits``."""
    table = _bincount(codes * 8 + bits, None, groups * 8).reshape(groups, 8)
    has_bit = (np.arange(8)[:, None] >> np.arange(3)) & 1
    return [table.sum(axis=1), *(table @ has_bit).T]


def _representatives(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code ``0..m-1`` of each of the ``values`` (equal values, equal codes) and, per code, the
    position of one value with that code."""
    ids, uniques = pd.factorize(values)
    rep = np.empty(len(uniques), dtype="int64")
    rep[ids] = np.arange(len(ids))
    return ids, rep


def _apprentice_counts(
    frame: pd.DataFrame,
    codes: np.ndarray,
    groups: int,
    *,
    eligible: np.ndarray,
    broken: np.ndarray,
    after: np.ndarray,
) -> list[np.ndarray]:
    """Counts of (group, apprentice) pairs for :func:`rupture_rate_within` with ``unit="apprentice"``.

    The apprentice of a row is :func:`_persons`. Returns, per group code ``0..groups-1``, the number
    of apprentices with a row in the group, then of those with an ``eligible``, a ``broken`` and an
    ``after`` row in the group (each flag is "any" over the pair's rows).

    Rows are told apart by a hash of (apprentice, group) first: a row whose hash no other row has is
    a pair on its own (different hashes mean different pairs) and is counted as it is; only the rows
    sharing their hash with another row (the apprentices with several contracts in the group, and
    chance collisions) are matched exactly on their apprentice strings. Sorting integers and
    matching those few rows' strings keeps the cost linear in the rows, where hashing millions of
    64-character keys as strings does not.
    """
    key = frame[C.apprentice_key]
    hashes = _string_hashes(key)
    missing = np.flatnonzero(key.isna().to_numpy())
    if len(missing):
        hashes[missing] = _string_hashes(_persons(frame, missing))
    pair_hash = hashes  # the hash of (apprentice, group)
    pair_hash += np.ascontiguousarray(codes, dtype="int64").view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    low = pair_hash.astype(np.uint32)  # 32 bits: half the sort, a few more rows matched on strings
    ordered = np.sort(low)
    shared = pd.Series(low).isin(ordered[1:][ordered[1:] == ordered[:-1]]).to_numpy()
    bits = _as_bits(eligible) | (_as_bits(broken) << 1) | (_as_bits(after) << 2)
    counts = _flag_counts(codes, bits, groups)  # every row as its own pair, corrected below
    rows = np.flatnonzero(shared)
    if len(rows):
        row_codes = codes[rows]
        person = _persons(frame, rows).array
        pair, rep = _representatives(pair_hash[rows])
        same = (person == person.take(rep[pair])).all() and (row_codes == row_codes[rep[pair]]).all()
        if not same:  # two pairs with one 64-bit hash: match on the strings themselves
            person_id, _ = pd.factorize(person)
            pair, rep = _representatives(person_id.astype("int64") * groups + row_codes)
        pair_bits = np.zeros(len(rep), dtype=np.uint8)
        np.bitwise_or.at(pair_bits, pair, bits[rows])
        as_rows = _flag_counts(row_codes, bits[rows], groups)
        as_pairs = _flag_counts(row_codes[rep], pair_bits, groups)
        counts = [c - r + p for c, r, p in zip(counts, as_rows, as_pairs, strict=True)]
    return counts


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
    start = frame[C.start_date]
    horizon_end = start + pd.DateOffset(months=h)
    eligible = (horizon_end <= ts).to_numpy()
    rupt = frame[C.rupture_date]
    outcome = frame[OUTCOME]
    within = (rupt < horizon_end).fillna(False).to_numpy(dtype=bool)
    headline = within & (outcome == "ruptured").to_numpy(dtype=bool)
    after_dipl = within & (outcome == "ruptured_after_diploma").to_numpy(dtype=bool)

    codes_s, keys = group_codes(frame, names)
    codes = codes_s.to_numpy()
    g = len(keys)
    if unit == "contract":
        n_all = _bincount(codes, None, g)
        n = _bincount(codes[eligible], None, g)
        k = _bincount(codes[eligible & headline], None, g)
        k_after = _bincount(codes[eligible & after_dipl], None, g)
        excluded = n_all - n
    else:
        if C.apprentice_key not in frame:
            raise ParameterError(
                "unit='apprentice' needs an apprentice_key column",
                hint="use unit='contract' or run `aioa clean`",
            )
        n_all, n, k, k_after = _apprentice_counts(
            frame, codes, g, eligible=eligible, broken=eligible & headline, after=eligible & after_dipl
        )
        excluded = n_all - n
    lo, hi = proportion_interval(k, n, method=method, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    return rate_table(
        keys,
        n=n,
        k=k,
        rate=rate,
        ci_low=lo,
        ci_high=hi,
        min_n=min_n,
        n_ruptures_after_diploma=k_after.astype("int64"),
        n_excluded_not_observed=excluded.astype("int64"),
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
    lo, hi = proportion_interval(k, n_rep, method=method, level=level)
    slo, shi = proportion_interval(k, tot_rep, method=method, level=level)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_rep > 0, k / np.maximum(n_rep, 1), np.nan)
        share = np.where(tot_rep > 0, k / np.maximum(tot_rep, 1), np.nan)
    out = grid.assign(
        phase=pd.array(np.tile(np.array(RUPTURE_PHASES, dtype=object), g), dtype="string"),
        n_contracts=n_rep.astype("int64"),
        n_ruptures=k.astype("int64"),
        rate=rate,
        ci_low=lo,
        ci_high=hi,
    )
    suppressed, reason = small_denominator_flags(out["n_contracts"], min_n=min_n)
    share_suppressed, _ = small_denominator_flags(pd.Series(tot_rep), min_n=min_n)
    return out.assign(
        suppressed=suppressed.to_numpy(),
        suppression_reason=reason.to_numpy(),
        n_ruptures_total=tot_rep.astype("int64"),
        share_of_ruptures=share,
        share_ci_low=slo,
        share_ci_high=shi,
        share_suppressed=share_suppressed.to_numpy(),
        unit="contract",
        as_of=ts,
        ci_method=method,
    )
