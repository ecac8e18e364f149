"""Cleaning: raw canonical frames -> one typed, pseudonymised row per contract, every row accounted for.

The steps, each a pure ``verb_noun(df, *, option=...) -> DataFrame`` function (chained with
``.pipe`` by :func:`clean_contracts`):

1. :func:`parse_contract_values` types every column (dates, booleans, sex, codes; FORMATS.md §5) and
   records the parse status of the key dates;
2. :func:`flag_invalid_rows` marks the rows that cannot be a contract (``_reason``): no usable start
   date, an impossible date, a planned end before the start, no CFA and no diploma at all, and the
   rows kept out on purpose (``excluded: ...``: DECA ``Annulé``/``Supprimé``, dispositif other than
   ``APPR``);
3. :func:`flag_exact_duplicates` marks rows identical (after parsing) to an earlier row: merged;
4. :func:`assign_contract_groups` gives each remaining row its contract: ``contract_id`` when the row
   has one; otherwise ``(apprentice_key, start_date)``, attached to the contract that has the same
   pair when one exists (the cross-file key);
5. :func:`merge_contracts` folds each group into one row: every field takes the first non-missing
   value in precedence order (:data:`~aioa_analysis.core.schema.SOURCE_PRECEDENCE`, then within a
   source the latest amendment first, then the initial row), except ``contract_type``,
   ``signature_date`` and ``start_date`` which come from the initial row first;
   :func:`find_conflicts` lists the fields on which files disagree;
6. contract-level exclusions (:func:`flag_invalid_contracts`): a rupture before the start, and no
   planned end date (after :func:`impute_planned_end`);
7. :func:`join_exam_results` then the ``derive_*`` verbs add the derived fields.

Accounting: every input row ends up **clean** (the row chosen to represent a contract), **merged**
(an exact duplicate, an amendment or the same contract from another file) or **rejected** (with
its reason), so ``rows_read == rows_clean + rows_merged + rows_rejected`` per file and in total.

Scale (a national DECA extract has millions of rows): values are parsed once per distinct value or
skipped when already canonical (:mod:`aioa_analysis.ingest.parsing`); duplicates are found through a cheap
pre-filter then compared exactly; groups are integer codes; a contract with one row (most of them)
is taken as it is, only multi-row groups are ordered by precedence (:class:`ContractMerge`); the
contract-level rules run on a few columns before the full table is built, once, in ``contract_id``
order. The outputs are the same as the straightforward sort-then-``groupby().first()`` (tested).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core import referential
from aioa_analysis.core.schema import (
    AGE_BANDS,
    DECA_EXCLUDED_STATUSES,
    FORBIDDEN_IN_CONTRACTS,
    IDENTITY_COLUMNS,
    LINEAGE_COLUMNS,
    SIZE_BANDS,
    SOURCE_PRECEDENCE,
    C,
)
from aioa_analysis.ingest.parsing import (
    DATE_IMPOSSIBLE,
    DATE_OK,
    arrow_strings,
    bool_numpy,
    contiguous,
    first_occurrence,
    map_columns,
    normalise_cfd,
    normalise_code,
    normalise_contract_id,
    normalise_naf,
    normalise_postcode,
    normalise_rncp,
    normalise_siret,
    normalise_text,
    normalise_uai,
    parse_booleans,
    parse_dates_detailed,
    parse_integers,
    parse_sex,
    siret_is_valid,
    string_series,
    take_values,
)

# --- rejection reasons (rejected.csv ``reason``; quality.json ``rejections_by_reason``) ------------
REASON_NO_START: Final = "no usable start date"
REASON_IMPOSSIBLE_DATE: Final = "impossible date"
REASON_END_BEFORE_START: Final = "planned end before start"
REASON_NO_CFA_NO_DIPLOMA: Final = "no CFA and no diploma"
REASON_NO_END: Final = "no planned end date"
REASON_RUPTURE_BEFORE_START: Final = "excluded: rupture before start"
REASON_CANCELLED_ELSEWHERE: Final = "excluded: contract cancelled in DECA"
REASON_STATUS: Final = "excluded: statut DECA {}"
REASON_DISPOSITIF: Final = "excluded: dispositif {}"

TRAINING_DURATION_MONTHS: Final = "training_duration_months"
"""Optional raw column (SIFA ``DUR_FORM_THEO``): theoretical training length in months."""

# internal working columns (never written)
ROW: Final = "_row"
REASON: Final = "_reason"
REASON_COLUMN: Final = "_reason_column"
DUP_OF: Final = "_dup_of"
GROUP: Final = "_group"
RANK: Final = "_rank"
IS_AMENDMENT: Final = "_is_amendment"
PRIMARY: Final = "_primary"

DATE_COLUMNS: Final = (
    C.signature_date,
    C.start_date,
    C.planned_end_date,
    C.actual_end_date,
    C.rupture_date,
    C.rupture_reported_date,
    C.amendment_effective_date,
    C.training_start_date,
    C.training_end_date,
    C.diploma_obtained_date,
    C.birth_date,
)
KEY_DATE_COLUMNS: Final = (C.start_date, C.planned_end_date, C.rupture_date)
BOOL_COLUMNS: Final = (C.rupture_before_start, C.rqth, C.employer_public, C.diploma_obtained)

_CODE_PARSERS: Final[dict[str, Callable[[pd.Series], pd.Series]]] = {
    C.contract_id: normalise_contract_id,
    C.amendment_no: normalise_contract_id,
    C.cfa_uai: normalise_uai,
    C.employer_siret: normalise_siret,
    C.cfa_siret: normalise_siret,
    C.training_site_siret: normalise_siret,
    C.employer_naf: normalise_naf,
    C.diploma_code: normalise_cfd,
    C.residence_postcode: normalise_postcode,
    C.employer_postcode: normalise_postcode,
    C.rncp_code: normalise_rncp,
    C.contract_type: functools.partial(normalise_code, width=2),
    C.derogation_type: functools.partial(normalise_code, width=2),
    C.employer_type: functools.partial(normalise_code, width=2),
    C.employer_idcc: functools.partial(normalise_code, width=4),
    C.last_class: functools.partial(normalise_code, width=2),
    C.nationality: normalise_code,
    C.situation_before: normalise_code,
    C.diploma_type_cerfa: normalise_code,
    C.dispositif: normalise_code,
    C.exam_session: normalise_code,
}

#: columns never compared for merge conflicts (lineage, personal, free text, labels)
_NO_CONFLICT: Final = frozenset(
    {
        *LINEAGE_COLUMNS,
        C.sources,
        *IDENTITY_COLUMNS,
        *FORBIDDEN_IN_CONTRACTS,
        C.rupture_reason_raw,
        C.diploma_title,
        C.cfa_name,
        C.amendment_no,
        C.amendment_effective_date,
        C.contract_type,
        C.deca_status,
        C.apprentice_id,
        C.contract_index,
    }
)

#: per-row working columns kept once the contracts are built (accounting, rejected.csv)
_ROW_STATUS_COLUMNS: Final = (ROW, REASON, REASON_COLUMN, DUP_OF, GROUP, IS_AMENDMENT, PRIMARY)

#: merged columns that :func:`impute_planned_end` and :func:`flag_invalid_contracts` read
_CONTRACT_RULE_COLUMNS: Final = [
    C.start_date,
    C.planned_end_date,
    C.training_end_date,
    TRAINING_DURATION_MONTHS,
    C.rupture_date,
    C.rupture_before_start,
]

#: columns taken from the initial row (not from the latest amendment) first
_INITIAL_FIRST: Final = (C.contract_type, C.signature_date, C.start_date, C.derogation_type)

AMENDMENT_TYPES: Final = frozenset({"31", "32", "33", "34", "35", "36", "37", "38"})


def _na_str(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="string")


def _col(df: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    if name in df.columns:
        return df[name]
    if dtype == "datetime64[ns]":
        return pd.Series(pd.NaT, index=df.index, dtype=dtype)
    return pd.Series(pd.NA, index=df.index, dtype=dtype)


def _on_distinct(s: pd.Series, fn: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """Run a vectorised lookup returning a frame once per distinct value of ``s``, broadcast back."""
    codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
    u = pd.Series(uniques, dtype="string")
    table = pd.concat(
        [fn(u).reset_index(drop=True), fn(pd.Series([pd.NA], dtype="string"))], ignore_index=True
    )
    return table.iloc[codes].set_axis(s.index)


def _on_distinct_series(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    return _on_distinct(s, lambda u: fn(u).to_frame("v"))["v"]


def _fold(s: pd.Series) -> pd.Series:
    """Accent-insensitive upper-case form used to compare labels (``Annulé`` == ``ANNULE``)."""

    def fn(u: pd.Series) -> pd.Series:
        return u.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True).str.upper().str.strip()

    return _on_distinct_series(s.astype("string"), fn).astype("string")


# ================================================================================================
# 1. parsing


def _parse_column(name: str, s: pd.Series) -> dict[str, pd.Series]:
    """The typed column(s) for one raw column (a key date also gives its ``_status_<date>``)."""
    if name in IDENTITY_COLUMNS and name != C.birth_date:
        return {name: s}  # left as read; never taken into the contract table
    if name in LINEAGE_COLUMNS:
        return {name: contiguous(s)}
    if name == C.apprentice_key:  # made by pseudonym.add_apprentice_key: 64 hex characters or NA
        return {name: contiguous(s.astype("string"))}
    if name in DATE_COLUMNS:
        detailed = parse_dates_detailed(s)
        if name in KEY_DATE_COLUMNS:
            return {name: detailed["value"], f"_status_{name}": contiguous(detailed["status"])}
        return {name: detailed["value"]}
    if name in BOOL_COLUMNS:
        return {name: parse_booleans(s)}
    if name == C.sex:
        return {name: contiguous(parse_sex(s))}
    if name == C.employer_headcount or name == TRAINING_DURATION_MONTHS:
        return {name: parse_integers(s)}
    if name in _CODE_PARSERS:
        return {name: contiguous(_CODE_PARSERS[name](s))}
    if s.dtype == "string" or s.dtype == object:
        return {name: contiguous(normalise_text(s))}
    return {name: s}


def parse_contract_values(raw: pd.DataFrame) -> pd.DataFrame:
    """Type every column of a raw canonical frame; add ``_status_<date>`` for the key dates.

    Identity columns other than ``birth_date`` are left as read (the identity store normalises them),
    and so is ``apprentice_key`` (a keyed hash, already normal).

    >>> raw = pd.DataFrame({"start_date": ["02/09/2024", "31/02/2024"], "cfa_uai": ["0410590u", None],
    ...                     "sex": ["H", "Mme"], "employer_headcount": ["12", "x"]}, dtype="string")
    >>> out = parse_contract_values(raw)
    >>> out["start_date"].dt.day.tolist(), out["_status_start_date"].tolist(), out["sex"].tolist()
    ([2.0, nan], ['ok', 'impossible'], ['M', 'F'])
    """
    cols: dict[str, pd.Series] = {}
    names = [str(c) for c in raw.columns]
    for parsed in map_columns(lambda name: _parse_column(name, raw[name]), names, len(raw)):
        cols.update(parsed)
    for name in KEY_DATE_COLUMNS:
        if name not in cols:
            cols[name] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
            cols[f"_status_{name}"] = pd.Series("missing", index=raw.index, dtype="string")
    return pd.DataFrame(cols, index=raw.index, copy=False)


def with_parsed_key(parsed: pd.DataFrame, raw_columns: pd.Index, keys: pd.Series) -> pd.DataFrame:
    """``parse_contract_values(raw.assign(apprentice_key=keys))`` from ``parsed = parse_contract_values(raw)``.

    Lets the values be parsed while the keyed hashes are still being computed (the pipeline does
    both at once): the key goes where parsing the frame with its key would have put it, after the
    columns parsed from ``raw`` and before the key dates added for being absent.
    """
    absent = {c for c in KEY_DATE_COLUMNS if c not in raw_columns}
    added = [c for c in parsed.columns if str(c).removeprefix("_status_") in absent]
    first = [c for c in parsed.columns if c not in added]
    key = contiguous(keys.astype("string")).set_axis(parsed.index)
    return parsed.assign(**{C.apprentice_key: key})[[*first, C.apprentice_key, *added]]


def identity_rows(raw: pd.DataFrame, start_dates: pd.Series) -> pd.DataFrame:
    """What the identity store is built from (restricted): the identity columns of each raw row, its
    ``apprentice_key``, lineage and parsed ``start_date`` (which orders a person's rows)."""
    ident_cols = [c for c in (*IDENTITY_COLUMNS, C.sex, C.residence_postcode) if c in raw.columns]
    return raw[[*ident_cols, C.apprentice_key, C.source_file, C.source_row]].assign(
        **{C.start_date: start_dates.set_axis(raw.index)}
    )


# ================================================================================================
# 2. row-level rejections


def _set_reason(
    df: pd.DataFrame, mask: pd.Series | np.ndarray, reason: pd.Series | str, column: str
) -> pd.DataFrame:
    mask = np.asarray(mask, dtype=bool) & df[REASON].isna().to_numpy()
    if not mask.any():
        return df
    reasons = df[REASON].copy()
    cols = df[REASON_COLUMN].copy()
    new = reason if isinstance(reason, str) else reason.astype("string")
    reasons = reasons.mask(mask, new)
    cols = cols.mask(mask, column)
    return df.assign(**{REASON: reasons, REASON_COLUMN: cols})


def flag_invalid_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Set ``_reason``/``_reason_column`` on rows that cannot be a contract (first reason wins).

    Order: no usable start date; impossible start, planned end or rupture date; planned end before
    start; no CFA and no diploma; dispositif other than APPR; DECA status Annulé/Supprimé.

    >>> df = parse_contract_values(pd.DataFrame({
    ...     "start_date": ["", "31/02/2024", "2024-09-02", "2024-09-02", "2024-09-02"],
    ...     "planned_end_date": ["2026-08-31", "2026-08-31", "2024-08-31", "2026-08-31", "2026-08-31"],
    ...     "cfa_uai": ["0410590U", "0410590U", "0410590U", None, "0410590U"],
    ...     "deca_status": [None, None, None, None, "Annulé"]}, dtype="string"))
    >>> flag_invalid_rows(df)["_reason"].tolist()
    ['no usable start date', 'impossible date', 'planned end before start', 'no CFA and no diploma', \
'excluded: statut DECA Annulé']
    """
    out = df.assign(**{REASON: _na_str(df.index), REASON_COLUMN: _na_str(df.index)})
    start_status = out[f"_status_{C.start_date}"]
    out = _set_reason(out, start_status == DATE_IMPOSSIBLE, REASON_IMPOSSIBLE_DATE, C.start_date)
    out = _set_reason(out, start_status != DATE_OK, REASON_NO_START, C.start_date)
    for name in (C.planned_end_date, C.rupture_date):
        out = _set_reason(out, out[f"_status_{name}"] == DATE_IMPOSSIBLE, REASON_IMPOSSIBLE_DATE, name)
    out = _set_reason(
        out,
        (out[C.planned_end_date] < out[C.start_date]).fillna(False),
        REASON_END_BEFORE_START,
        C.planned_end_date,
    )
    nothing = pd.Series(True, index=out.index)
    for name in (C.cfa_uai, C.cfa_siret, C.cfa_name, C.diploma_code, C.diploma_title, C.rncp_code):
        nothing &= _col(out, name).isna()
    out = _set_reason(out, nothing, REASON_NO_CFA_NO_DIPLOMA, C.cfa_uai)
    disp = _col(out, C.dispositif)
    out = _set_reason(
        out,
        (disp.notna() & (disp != "APPR")).fillna(False),
        REASON_DISPOSITIF.format("") + disp,
        C.dispositif,
    )
    status = _fold(_col(out, C.deca_status))
    for label in DECA_EXCLUDED_STATUSES:
        out = _set_reason(
            out,
            (status == _fold(pd.Series([label])).iloc[0]).fillna(False),
            REASON_STATUS.format(label),
            C.deca_status,
        )
    return out


def flag_cancelled_elsewhere(df: pd.DataFrame) -> pd.DataFrame:
    """Exclude rows of a contract that DECA cancelled (Annulé/Supprimé initial row) with no live DECA row.

    The same contract number in a chamber or Tableau de bord file must not resurrect it.
    """
    cid = _col(df, C.contract_id)
    is_amend = _col(df, C.contract_type).isin(AMENDMENT_TYPES).fillna(False)
    cancelled = df[REASON].str.startswith("excluded: statut DECA").fillna(False) & ~is_amend & cid.notna()
    if not cancelled.any():
        return df
    alive = df[REASON].isna()
    deca = _col(df, C.source).str.startswith("deca").fillna(False)
    cancelled_ids = cid[cancelled].unique()
    live_deca = alive & deca & cid.isin(cancelled_ids).fillna(False)  # only ids that were cancelled matter
    ids = sorted(set(cid[cancelled]) - set(cid[live_deca]))
    return _set_reason(df, alive & cid.isin(ids).fillna(False), REASON_CANCELLED_ELSEWHERE, C.contract_id)


# ================================================================================================
# 3-4. duplicates and grouping


def _value_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("_") and c not in LINEAGE_COLUMNS]


def _int_positions(s: pd.Series) -> np.ndarray:
    """An integer column (nullable or not) as int64, missing -> -1."""
    return s.astype("Int64").fillna(-1).to_numpy(dtype=np.int64)


def _row_prefilter_hash(
    df: pd.DataFrame, pos: np.ndarray, cols: list[str], *, with_strings: bool
) -> np.ndarray:
    """A cheap 64-bit hash of rows ``pos`` that identical rows share: the dates, numbers and flags,
    and with ``with_strings`` the lengths of the strings.

    Only a pre-filter: rows with a unique hash cannot have an identical row; the others are compared
    exactly (:func:`_identical_row_ids`).
    """
    h = np.zeros(len(pos), dtype=np.uint64)
    for c in cols:
        s = df[c]
        if s.dtype == "string":
            if not with_strings:
                continue
            lengths = pc.fill_null(pc.binary_length(arrow_strings(s)), -1).to_numpy()
            values = np.asarray(lengths, dtype=np.int64)[pos]
        elif s.dtype.kind == "M":
            values = s.to_numpy(dtype="datetime64[ns]").view(np.int64)[pos]
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype) or s.dtype.kind in "biuf":
            try:
                values = s.to_numpy(dtype="float64", na_value=np.nan)[pos]
            except (TypeError, ValueError):
                continue  # not numeric: left to the exact comparison
        else:
            continue
        with np.errstate(over="ignore"):
            h = h * np.uint64(0x100000001B3) ^ pd.util.hash_array(values)
    return h


def _identical_row_ids(df: pd.DataFrame, pos: np.ndarray, cols: list[str]) -> np.ndarray:
    """For rows ``pos`` (in frame order): the position of the first row identical to each on ``cols``.

    Missing values are equal to each other. Exact: a pre-filter hash selects the rows that may have
    an identical row, then those few are grouped on their values.
    """
    first = pos.copy()
    if len(pos) < 2:
        return first
    if cols:
        maybe = (
            pd.Series(_row_prefilter_hash(df, pos, cols, with_strings=False))
            .duplicated(keep=False)
            .to_numpy()
        )
        if maybe.mean() > 0.2:  # dates and numbers alone do not tell rows apart: add string lengths
            h = _row_prefilter_hash(df, pos, cols, with_strings=True)
            maybe = pd.Series(h).duplicated(keep=False).to_numpy()
    else:
        maybe = np.ones(len(pos), dtype=bool)
    if not maybe.any():
        return first
    cand = pos[maybe]
    if cols:
        sub = df.iloc[cand][cols]
        ids = sub.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
    else:
        ids = np.zeros(len(cand), dtype=np.int64)
    first[maybe] = cand[first_occurrence(ids)][ids]
    return first


def flag_exact_duplicates(df: pd.DataFrame) -> pd.DataFrame:
    """Set ``_dup_of`` (the ``_row`` of the first identical row) on live rows identical after parsing.

    Exact duplicates are merged, not rejected; they never count as conflicts or extra amendments.

    >>> df = pd.DataFrame({"_row": [0, 1, 2], "_reason": pd.array([pd.NA] * 3, dtype="string"),
    ...                    "start_date": ["2024-09-02", "2024-09-02", "2024-09-03"],
    ...                    "source_file": ["a.csv", "b.csv", "a.csv"]})
    >>> flag_exact_duplicates(df)["_dup_of"].tolist()
    [<NA>, 0, <NA>]
    """
    pos = np.flatnonzero(df[REASON].isna().to_numpy())
    first = _identical_row_ids(df, pos, _value_columns(df))
    is_dup = first != pos
    values = np.zeros(len(df), dtype=np.int64)
    values[pos[is_dup]] = df[ROW].to_numpy()[first[is_dup]]
    missing = np.ones(len(df), dtype=bool)
    missing[pos[is_dup]] = False
    dup_of = pd.arrays.IntegerArray(values, missing)
    return df.assign(**{DUP_OF: pd.Series(dup_of, index=df.index)})


def _source_rank(source: pd.Series) -> np.ndarray:
    """Position of each row's source in :data:`SOURCE_PRECEDENCE` (unknown sources last)."""
    idx = pc.index_in(
        arrow_strings(source.astype("string")), value_set=pa.array(SOURCE_PRECEDENCE, pa.large_string())
    )
    return np.asarray(pc.fill_null(idx, len(SOURCE_PRECEDENCE)).to_numpy(), dtype=np.int64)


def _sort_for_precedence(df: pd.DataFrame, *, initial_first: bool) -> pd.DataFrame:
    """Rows ordered by group, source precedence, then amendments (latest first) or the initial first."""
    return df.iloc[_precedence_order(df, np.arange(len(df)), initial_first=initial_first)]


def _precedence_order(df: pd.DataFrame, pos: np.ndarray, *, initial_first: bool) -> np.ndarray:
    """Positions ``pos`` sorted by group, source precedence, then amendments (latest first) or the
    initial first, the latest amendment number, the file name and the row (a stable sort)."""
    needed = (C.source, C.amendment_effective_date, IS_AMENDMENT, C.amendment_no, C.source_file, GROUP, ROW)
    sub = df[[c for c in needed if c in df.columns]].iloc[pos]
    rank = _source_rank(_col(sub, C.source))
    eff = _col(sub, C.amendment_effective_date, "datetime64[ns]").astype("datetime64[ns]")
    eff_key = -(eff.fillna(pd.Timestamp("1900-01-01")).astype("int64") // 86_400_000_000_000).to_numpy()
    amend = sub[IS_AMENDMENT].to_numpy(dtype=np.int64)
    amend_key = amend if initial_first else 1 - amend
    no_key = -pd.factorize(_col(sub, C.amendment_no).fillna(""), sort=True)[0]
    file_key = pd.factorize(sub[C.source_file], sort=True)[0]
    group = _int_positions(sub[GROUP])
    order = np.lexsort((sub[ROW].to_numpy(), file_key, no_key, eff_key, amend_key, rank, group))
    return pos[order]


def _equality_codes(s: pd.Series) -> np.ndarray:
    """Integer codes that are equal exactly when the values are (missing -> -1).

    Uniform-length digit strings (DECA contract numbers) are read as integers instead of hashed.
    """
    arr = arrow_strings(s.astype("string"))
    valid = pc.is_valid(arr)
    n_valid = pc.sum(valid).as_py() or 0
    if n_valid:
        values = arr.filter(valid)
        lengths = pc.min_max(pc.binary_length(values)).as_py()
        if (
            lengths["min"] == lengths["max"]
            and lengths["max"] <= 18
            and pc.all(pc.ascii_is_decimal(values)).as_py()
        ):
            ints = np.full(len(arr), -1, dtype=np.int64)
            ints[bool_numpy(valid)] = pc.cast(values, pa.int64()).to_numpy()
            codes, _ = pd.factorize(ints)
            return np.where(ints < 0, -1, codes)
    return pd.factorize(s.astype("string"), use_na_sentinel=True)[0].astype(np.int64)


def assign_contract_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Give every live row its contract group ``_group`` (exact duplicates follow their original).

    Key: ``contract_id`` when the row has one; else ``(apprentice_key, start_date)``, attached to a
    contract with an id that has the same pair when there is one (cross-file merge: the initial row
    of the highest-precedence source, then the smallest id); else the row alone. Groups are numbered
    in the order of their first row.

    >>> df = pd.DataFrame({"_row": [0, 1, 2, 3], "_reason": pd.array([pd.NA] * 4, dtype="string"),
    ...     "_dup_of": pd.array([pd.NA] * 4, dtype="Int64"),
    ...     "contract_id": pd.array(["X", None, None, "X"], dtype="string"),
    ...     "contract_type": pd.array(["11", None, None, "36"], dtype="string"),
    ...     "apprentice_key": pd.array(["k", "k", "k", "k"], dtype="string"),
    ...     "start_date": pd.to_datetime(["2024-09-02", "2024-09-02", "2025-09-01", "2024-09-02"]),
    ...     "source": ["deca_extract", "tba_upload", "tba_upload", "deca_extract"]})
    >>> assign_contract_groups(df)["_group"].tolist()
    [0, 0, 1, 0]
    """
    n = len(df)
    alive = df[REASON].isna().to_numpy()
    cid = _col(df, C.contract_id)
    has_cid = cid.notna().to_numpy()
    akey = _col(df, C.apprentice_key)
    start = df[C.start_date]
    has_pair = (akey.notna() & start.notna()).to_numpy()
    is_amend = _col(df, C.contract_type).isin(AMENDMENT_TYPES).fillna(False).to_numpy()
    cid_codes = _equality_codes(cid)
    # kind 0: a contract number (own or attached); 1: (apprentice_key, start_date); 2: the row alone
    kind = np.full(n, 2, dtype=np.int64)
    value = np.arange(n, dtype=np.int64)
    own = alive & has_cid
    kind[own], value[own] = 0, cid_codes[own]
    need = alive & ~has_cid & has_pair
    if need.any():
        with_id = alive & has_cid & has_pair
        wanted_keys = akey[need].unique()
        candidates = with_id & akey.isin(wanted_keys).fillna(False).to_numpy()
        sub_pos = np.flatnonzero(need | candidates)
        sub = pd.DataFrame(
            {"a": akey.iloc[sub_pos].to_numpy(), "s": start.iloc[sub_pos].to_numpy()}, index=sub_pos
        )
        pair = sub.groupby(["a", "s"], sort=False).ngroup().to_numpy()
        is_cand = candidates[sub_pos]
        lookup = (
            pd.DataFrame(
                {
                    "pair": pair[is_cand],
                    "amend": is_amend[sub_pos][is_cand],
                    "rank": _source_rank(_col(df, C.source).iloc[sub_pos[is_cand]]),
                    "cid": cid.iloc[sub_pos[is_cand]].to_numpy(),
                    "code": cid_codes[sub_pos[is_cand]],
                }
            )
            .sort_values(["pair", "amend", "rank", "cid"], kind="stable")
            .drop_duplicates("pair")
        )
        attached = pd.Series(lookup["code"].to_numpy(), index=lookup["pair"].to_numpy())
        is_need = need[sub_pos]
        found = attached.reindex(pair[is_need]).to_numpy()
        need_pos = sub_pos[is_need]
        hit = ~np.isnan(found)
        kind[need_pos[hit]], value[need_pos[hit]] = 0, found[hit].astype(np.int64)
        kind[need_pos[~hit]], value[need_pos[~hit]] = 1, pair[is_need][~hit]
    dup = df[DUP_OF].notna().to_numpy() if DUP_OF in df.columns else np.zeros(n, dtype=bool)
    if dup.any():
        # _row == position in the frame (set by clean_contracts), so the original's key is a take
        orig = df[DUP_OF].to_numpy(dtype=np.int64, na_value=0)[dup]
        kind[dup], value[dup] = kind[orig], value[orig]
    key = kind * (n + 1) + value
    codes = np.full(n, -1, dtype=np.int64)
    codes[alive], _ = pd.factorize(key[alive])
    group = pd.array(codes, dtype="Int64")
    group[~alive] = pd.NA
    return df.assign(**{GROUP: pd.Series(group, index=df.index), IS_AMENDMENT: is_amend})


# ================================================================================================
# 5. merging


def _group_starts(groups: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in a sorted array."""
    return np.flatnonzero(np.diff(groups, prepend=-1) != 0) if len(groups) else np.zeros(0, dtype=np.int64)


def _first_valid(notna: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run (``starts`` of a sorted array): index of its first ``True`` in ``notna``, else its start."""
    if len(notna) == 0:
        return starts
    cand = np.where(notna, np.arange(len(notna)), len(notna))
    first = np.minimum.reduceat(cand, starts)
    return np.where(first < len(notna), first, starts)


def _argsort_ids(ids: pd.Series) -> np.ndarray:
    """Stable argsort of string ids (digit ids of one length compare as integers: same order, faster)."""
    arr = arrow_strings(ids)
    if len(arr) and arr.null_count == 0:
        lengths = pc.min_max(pc.binary_length(arr)).as_py()
        if lengths["min"] == lengths["max"] <= 18 and pc.all(pc.ascii_is_decimal(arr)).as_py():
            return np.argsort(pc.cast(arr, pa.int64()).to_numpy(), kind="stable")
    return np.asarray(pc.sort_indices(arr).to_numpy(), dtype=np.int64)


def _tags(source: pd.Series, source_file: pd.Series, source_row: pd.Series) -> pa.Array:
    """``source:file:row`` lineage tags (NA when a part is missing)."""
    row = source_row.astype("Int64")
    row_text = pc.cast(
        pa.array(row.to_numpy(dtype=np.int64, na_value=0), mask=row.isna().to_numpy()), pa.large_string()
    )
    return pc.binary_join_element_wise(
        arrow_strings(source.astype("string")),
        arrow_strings(source_file.astype("string")),
        row_text,
        pa.scalar(":", pa.large_string()),
    )


class ContractMerge:
    """How each contract group folds into one row (see :func:`merge_contracts`), computed once.

    Most groups have one live row: their values are taken as they are. Only the rows of groups with
    several live rows are ordered by precedence, and for each column only the groups whose first
    row in that order lacks a value look further. :meth:`frame` then builds any subset of columns
    for any subset of groups (one take per column), so the contract-level rules can run on a few
    columns before the full table is built for the contracts that are kept.
    """

    LINEAGE: Final = (C.source, C.source_file, C.source_row)
    KEPT: Final = (*LINEAGE, C.contract_type, C.amendment_no, C.amendment_effective_date)
    """Columns read again after the value columns are gathered (lineage tags, amendment counts)."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        g = _int_positions(df[GROUP])
        self.g = g
        self.member = g >= 0
        self.live = np.flatnonzero(self.member & df[DUP_OF].isna().to_numpy())
        self.n_groups = n_groups = int(g.max()) + 1 if self.member.any() else 0
        gl = g[self.live]
        multi = np.bincount(gl, minlength=n_groups)[gl] > 1
        self.base = np.zeros(n_groups, dtype=np.int64)  # row giving the values: first in precedence order
        self.primary = np.zeros(n_groups, dtype=np.int64)  # row representing it: the initial row first
        self.base[gl[~multi]] = self.primary[gl[~multi]] = self.live[~multi]
        m_rows = self.live[multi]
        self.ord_a = _precedence_order(df, m_rows, initial_first=False)
        self.ord_i = _precedence_order(df, m_rows, initial_first=True)
        self.starts_a, self.starts_i = _group_starts(g[self.ord_a]), _group_starts(g[self.ord_i])
        self.groups_a, self.groups_i = g[self.ord_a][self.starts_a], g[self.ord_i][self.starts_i]
        self.base[self.groups_a] = self.ord_a[self.starts_a]
        self.primary[self.groups_i] = self.ord_i[self.starts_i]
        self.arrays = {name: df[name].array for name in df.columns if not name.startswith("_")}
        self.value_columns = [c for c in self.arrays if c not in FORBIDDEN_IN_CONTRACTS or c == C.birth_date]
        self.ids = self._contract_ids()
        self.order = _argsort_ids(self.ids)  # groups in contract_id order
        self.spent = False  # set by frame(release=True): the input columns are gone

    def _winners(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(groups, rows)``: the groups whose value for ``name`` is not the base row's, and its row."""
        if name in self.LINEAGE:
            groups, rows = self.groups_i, self.primary[self.groups_i]
        else:
            order, starts, groups = (
                (self.ord_i, self.starts_i, self.groups_i)
                if name in _INITIAL_FIRST
                else (self.ord_a, self.starts_a, self.groups_a)
            )
            notna = ~np.asarray(self.arrays[name].isna())[order]
            rows = order[_first_valid(notna, starts)]
        differs = rows != self.base[groups]
        return groups[differs], rows[differs]

    def column(
        self, name: str, groups: np.ndarray, *, release: bool = False
    ) -> pd.api.extensions.ExtensionArray:
        """The merged values of column ``name`` for ``groups`` (in that order); with ``release``, the
        input column is let go once gathered (it cannot be merged again)."""
        rows = self.base[groups]
        fix_groups, fix_rows = self._winners(name)
        at = _inverse(groups, self.n_groups)[fix_groups]
        present = at >= 0
        if present.any():
            rows = rows.copy()
            rows[at[present]] = fix_rows[present]
        values = take_values(self.arrays[name], rows)  # one gather per column
        if release and name not in self.KEPT:
            del self.arrays[name]  # from a map_columns thread: each call drops its own key only
        return values

    def _contract_ids(self) -> pd.Series:
        """Per group: its contract number, else ``<key[:16]>-<YYYYMMDD>``, else ``file:row``."""
        all_groups = np.arange(self.n_groups)
        cid = pd.Series(
            self.column(C.contract_id, all_groups) if C.contract_id in self.arrays else pd.NA,
            index=all_groups,
            dtype="string",
        )
        if cid.isna().any():
            no_id = np.flatnonzero(cid.isna().to_numpy())
            akey = (
                pd.Series(self.column(C.apprentice_key, no_id), dtype="string")
                if C.apprentice_key in self.arrays
                else pd.Series(pd.NA, index=range(len(no_id)), dtype="string")
            )
            start = pd.Series(self.column(C.start_date, no_id))
            synthetic = akey.str.slice(0, 16) + "-" + start.dt.strftime("%Y%m%d").astype("string")
            primary = self.df.iloc[self.primary[no_id]]
            fallback = (
                primary[C.source_file].astype("string") + ":" + primary[C.source_row].astype("string")
            ).reset_index(drop=True)
            cid.iloc[no_id] = synthetic.fillna(fallback).to_numpy()
        return cid

    def frame(
        self, groups: np.ndarray, columns: list[str] | None = None, *, release: bool = False
    ) -> pd.DataFrame:
        """Merged contracts of ``groups`` (in that order): ``_group``, ``contract_id`` and ``columns``
        (default: every value column plus ``amendment_count`` and ``sources``).

        With ``release`` each input column is let go as soon as it is gathered, so that the input
        rows and the merged table are not both held whole (the merge is then spent: see
        :meth:`release_rows`)."""
        if self.spent:
            raise RuntimeError("this merge let its input columns go (frame(release=True)); merge again")
        self.spent = release
        names = self.value_columns if columns is None else [c for c in columns if c in self.arrays]
        names = [c for c in names if c != C.contract_id]
        index = pd.RangeIndex(len(groups))
        out = {GROUP: pd.array(groups, dtype="Int64")}
        out.update(
            zip(
                names,
                map_columns(lambda name: self.column(name, groups, release=release), names, len(groups)),
                strict=True,
            )
        )
        out[C.contract_id] = string_series(arrow_strings(self.ids).take(pa.array(groups)), index)
        if columns is None:
            out[C.amendment_count] = pd.array(self._amendment_counts()[groups], dtype="Int64")
            out[C.sources] = self._sources(groups, out)
        return pd.DataFrame(out, index=index, copy=False)

    def _amendment_counts(self) -> np.ndarray:
        """Per group: distinct (type, number, effective date) among its live amendment rows."""
        df = self.df
        amend = self.live[df[IS_AMENDMENT].to_numpy()[self.live]]
        count = np.zeros(self.n_groups, dtype=np.int64)
        if len(amend):
            sig = pd.DataFrame(
                {
                    "g": self.g[amend],
                    "t": _col(df, C.contract_type).iloc[amend].to_numpy(),
                    "n": _col(df, C.amendment_no).iloc[amend].to_numpy(),
                    "e": _col(df, C.amendment_effective_date, "datetime64[ns]").iloc[amend].to_numpy(),
                }
            ).drop_duplicates()
            count += np.bincount(sig["g"].to_numpy(), minlength=self.n_groups)
        return count

    def _sources(self, groups: np.ndarray, out: dict) -> pd.Series:
        """``source:file:row`` of every row of each group (duplicates included), sorted, ``;``-joined."""
        tags = _tags(*(pd.Series(out[c]) for c in self.LINEAGE))  # a one-row group: its primary row
        g, member = self.g, self.member
        several = np.flatnonzero(member)[np.bincount(g[member], minlength=self.n_groups)[g[member]] > 1]
        if len(several):
            joined_groups, joined = _joined_tags(self.df, several, g[several])
            at = _inverse(groups, self.n_groups)[joined_groups]
            present = at >= 0
            at, joined = at[present], joined.filter(pa.array(present))
            replaced = np.zeros(len(groups), dtype=bool)
            replaced[at] = True
            tags = pc.replace_with_mask(tags, pa.array(replaced), joined.take(pa.array(np.argsort(at))))
        return string_series(tags, pd.RangeIndex(len(groups)))

    def rows(self) -> pd.DataFrame:
        """The input rows with ``_primary`` (the row that represents its contract)."""
        rows = self.df[ROW]
        return self.df.assign(**{PRIMARY: rows.isin(rows.to_numpy()[self.primary]).to_numpy()})

    def release_rows(self) -> None:
        """Keep of the input rows only what :meth:`frame` still reads besides the value columns
        (lineage, amendment signature), and of the input columns only the value columns:
        :meth:`rows` is no longer available, nor the personal columns (never merged)."""
        self.df = self.df[[c for c in self.df.columns if c in self.KEPT or c in (ROW, IS_AMENDMENT)]]
        wanted = {*self.value_columns, *self.KEPT} - {C.contract_id}
        self.arrays = {name: a for name, a in self.arrays.items() if name in wanted}


def merge_contracts(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fold each contract group into one row; return ``(contracts, rows)``.

    ``rows`` is ``df`` with ``_primary`` (the row that represents its contract: the initial row of
    the highest-precedence source). ``contracts`` has one row per group, sorted by ``contract_id``:
    first non-missing value in precedence order, ``amendment_count`` (distinct amendments),
    ``sources`` (every ``source:file:row`` that fed it), ``contract_id`` (the source's, else
    ``<key>-<YYYYMMDD>``). Exact duplicates only count in ``sources``. Personal columns other than
    the birth date (needed for the age) are not carried over.
    """
    merge = ContractMerge(df)
    return merge.frame(merge.order), merge.rows()


def _joined_tags(df: pd.DataFrame, pos: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """``(groups, tags)``: the sorted lineage tags of rows ``pos`` joined with ``;`` per group."""
    tag = _tags(df[C.source].iloc[pos], df[C.source_file].iloc[pos], df[C.source_row].iloc[pos])
    by_tag = np.asarray(pc.sort_indices(tag).to_numpy(), dtype=np.int64)
    order = by_tag[np.argsort(groups[by_tag], kind="stable")]
    sorted_groups = groups[order]
    starts = _group_starts(sorted_groups)
    offsets = pa.array(np.append(starts, len(order)), pa.int64())
    lists = pa.LargeListArray.from_arrays(offsets, tag.take(pa.array(order)))
    return sorted_groups[starts], pc.binary_join(lists, pa.scalar(";", pa.large_string()))


def _inverse(order: np.ndarray, n: int) -> np.ndarray:
    """``where[order[i]] == i`` (positions of each group in an output order; -1 when absent)."""
    where = np.full(n, -1, dtype=np.int64)
    where[order] = np.arange(len(order))
    return where


def find_conflicts(df: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Fields on which files disagree for one contract: tidy (contract_id, column, source, source_file, value).

    Each file contributes its own first non-missing value (amendments of one file are not conflicts);
    personal, free-text and lineage columns are never compared.
    """
    empty = pd.DataFrame(
        {k: pd.Series(dtype="string") for k in ("contract_id", "column", "source", "source_file", "value")}
    )
    g = _int_positions(df[GROUP])
    live = np.flatnonzero((g >= 0) & df[DUP_OF].isna().to_numpy())
    sizes = np.bincount(g[live], minlength=int(g.max()) + 1 if len(live) else 0)
    several = live[sizes[g[live]] > 1]
    if len(several) == 0:
        return empty
    files = pd.factorize(df[C.source_file].iloc[several])[0]
    pairs = pd.DataFrame({"g": g[several], "f": files}).query("f >= 0").drop_duplicates()
    n_files = pairs.groupby("g").size()
    multi = n_files.index[n_files > 1]
    if len(multi) == 0:
        return empty
    sub = df.iloc[several[np.isin(g[several], multi.to_numpy())]]
    cols = [c for c in sub.columns if not c.startswith("_") and c not in _NO_CONFLICT]
    per_file = _sort_for_precedence(sub, initial_first=False).groupby([GROUP, C.source_file], sort=True)
    first = per_file[cols].first()
    srcs = per_file[C.source].first()
    as_text = first.apply(
        lambda s: s.dt.strftime("%Y-%m-%d").astype("string") if s.dtype.kind == "M" else s.astype("string")
    )
    nunique = as_text.groupby(level=0).nunique()
    long = as_text.reset_index().melt(id_vars=[GROUP, C.source_file], var_name="column", value_name="value")
    long = long.dropna(subset=["value"])
    conflicting = nunique.reset_index().melt(id_vars=[GROUP], var_name="column", value_name="_n")
    conflicting = conflicting.loc[conflicting["_n"] > 1]
    long = long.merge(conflicting[[GROUP, "column"]], on=[GROUP, "column"])
    long = long.merge(srcs.rename(C.source).reset_index(), on=[GROUP, C.source_file])
    ids = contracts.set_index(GROUP)[C.contract_id]
    long = long.assign(contract_id=long[GROUP].map(ids))
    out = long[["contract_id", "column", C.source, C.source_file, "value"]].astype("string")
    return out.sort_values(["contract_id", "column", C.source_file], kind="stable").reset_index(drop=True)


def count_conflicts(contracts: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """Add ``merge_conflicts``: the number of fields whose sources disagreed (0 when none)."""
    counts = np.zeros(len(contracts), dtype=np.int64)
    if len(conflicts):
        n = conflicts.groupby("contract_id")["column"].nunique()
        hit = contracts[C.contract_id].isin(n.index).fillna(False).to_numpy()
        counts[hit] = contracts[C.contract_id].iloc[np.flatnonzero(hit)].map(n).to_numpy(dtype=np.int64)
    return contracts.assign(**{C.merge_conflicts: pd.array(counts, dtype="Int64")})


# ================================================================================================
# 6. contract-level rules


def impute_planned_end(contracts: pd.DataFrame) -> pd.DataFrame:
    """Fill a missing planned end date (SIFA has none) and flag it in ``planned_end_imputed``.

    Rule: the training end date when known, else ``start_date + training_duration_months - 1 day``
    (SIFA ``DUR_FORM_THEO``). Otherwise it stays missing (and the contract is rejected unless another
    file gave the date).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02", "2024-09-02", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31", None, None]),
    ...     "training_duration_months": pd.array([None, 24, None], dtype="Int64")})
    >>> out = impute_planned_end(df)
    >>> out["planned_end_date"].dt.strftime("%Y-%m-%d").tolist(), out["planned_end_imputed"].tolist()
    (['2026-08-31', '2026-09-01', nan], [False, True, False])
    """
    end = contracts[C.planned_end_date]
    missing = end.isna()
    candidate = _col(contracts, C.training_end_date, "datetime64[ns]").where(
        lambda s: s > contracts[C.start_date]
    )
    if TRAINING_DURATION_MONTHS in contracts.columns and missing.any():
        months = contracts[TRAINING_DURATION_MONTHS].astype("Int64")
        ok = missing & months.notna() & (months > 0) & contracts[C.start_date].notna()
        by_dur = pd.Series(pd.NaT, index=contracts.index, dtype="datetime64[ns]")
        if ok.any():
            by_dur.loc[ok] = _add_months(contracts.loc[ok, C.start_date], months[ok]) - pd.Timedelta(days=1)
        candidate = candidate.fillna(by_dur)
    filled = end.fillna(candidate.where(missing))
    imputed = missing & filled.notna()
    return contracts.assign(
        **{  # type: ignore[arg-type]
            C.planned_end_date: filled.astype("datetime64[ns]"),
            C.planned_end_imputed: imputed.astype("boolean"),
        }
    )


def _add_months(dates: pd.Series, months: pd.Series) -> pd.Series:
    """Vectorised ``date + DateOffset(months=m)`` (day clipped to the month's length; time dropped).

    >>> _add_months(pd.Series(pd.to_datetime(["2024-01-31", "2024-08-31", "2023-12-15"])),
    ...             pd.Series([1, 6, 14])).dt.strftime("%Y-%m-%d").tolist()
    ['2024-02-29', '2025-02-28', '2025-02-15']
    """
    out = _add_months_days(dates.to_numpy(dtype="datetime64[D]"), months.to_numpy(dtype="int64"))
    return pd.Series(out.astype("datetime64[ns]"), index=dates.index)


def _add_months_days(day: np.ndarray, months: int | np.ndarray) -> np.ndarray:
    """``datetime64[D]`` days plus whole months, the day clipped to the target month's length."""
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)


def flag_invalid_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Set ``_reason`` on merged contracts kept out of the table: rupture before start, no planned end.

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02", "2024-09-02", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31", "2026-08-31", None]),
    ...     "rupture_date": pd.to_datetime(["2024-08-30", None, None])})
    >>> flag_invalid_contracts(df)["_reason"].tolist()
    ['excluded: rupture before start', <NA>, 'no planned end date']
    """
    out = contracts.assign(**{REASON: _na_str(contracts.index), REASON_COLUMN: _na_str(contracts.index)})
    before = (out[C.rupture_date] < out[C.start_date]).fillna(False)
    before |= _col(out, C.rupture_before_start, "boolean").fillna(False).astype(bool)
    out = _set_reason(out, before, REASON_RUPTURE_BEFORE_START, C.rupture_date)
    return _set_reason(out, out[C.planned_end_date].isna(), REASON_NO_END, C.planned_end_date)


# ================================================================================================
# 7. exam results and derived fields

EXAM_RESULTS_DAY: Final = (7, 1)
"""(month, day) used as the results date of a session when the exam file gives only the year: 1 July
(results of CAP/bac/BTS sessions are published in early July). A documented proxy."""

_RESULT_MAP: Final = {
    "ADMIS": "admis",
    "AJOURNE": "ajourne",
    "ABSENT": "absent",
    "REFUSE": "ajourne",
    "ECHEC": "ajourne",
}


def normalise_exam_result(s: pd.Series) -> pd.Series:
    """``Admis mention B`` -> ``admis``; ``Ajourné``/``ajourne`` -> ``ajourne``; ``Absent`` -> ``absent``.

    >>> normalise_exam_result(pd.Series(["Admis mention TB", "Ajourné", "absent", "?"], dtype="string")).tolist()
    ['admis', 'ajourne', 'absent', <NA>]
    """
    first = _fold(s).str.extract(r"^([A-Z]+)", expand=False)
    return first.map(_RESULT_MAP).astype("string")


def exam_session_year(s: pd.Series) -> pd.Series:
    """The exam year of a session (``2024``, ``juin 2024``, ``2023-2024`` -> ``2024``) as a string."""
    return (
        s.astype("string").str.extract(r"((?:19|20)\d{2})(?!.*(?:19|20)\d{2})", expand=False).astype("string")
    )


def contract_level(df: pd.DataFrame) -> pd.Series:
    """Diploma level of each contract: from the CFD prefix, else from the CERFA diploma type.

    >>> contract_level(pd.DataFrame({"diploma_code": ["32031102", None, None],
    ...                              "diploma_type_cerfa": [None, "33", "35"]})).tolist()
    ['5', '3', <NA>]
    """
    level = _on_distinct(_diploma_prefix(_col(df, C.diploma_code)), referential.diploma_attributes)[
        "diploma_level"
    ]
    table = referential.diploma_prefixes()
    table = table.loc[table["level"] != ""]
    by_type = table.groupby("diploma_type_cerfa")["level"].agg(  # type: ignore[type-var]
        lambda s: s.iloc[0] if (s == s.iloc[0]).all() else pd.NA
    )
    return level.fillna(_col(df, C.diploma_type_cerfa).map(by_type.dropna()).astype("string")).astype(
        "string"
    )


def join_exam_results(contracts: pd.DataFrame, exams: pd.DataFrame | None) -> pd.DataFrame:
    """Give each contract ``diploma_outcome``, ``diploma_obtained``, ``diploma_obtained_date``, ``exam_session``.

    Match on ``apprentice_key`` + ``diploma_code`` (or, when the contract has no code, + the same
    diploma level), keeping the latest session whose results date (1 July of the session year) falls
    after the contract start. Unmatched contracts keep the source's ``diploma_obtained`` (TBA,
    chamber): ``True`` gives the outcome ``admis``; otherwise ``inconnu``.

    >>> c = pd.DataFrame({"apprentice_key": ["k", "k2"], "diploma_code": ["50022109", None],
    ...     "start_date": pd.to_datetime(["2023-09-01", "2023-09-01"])})
    >>> e = pd.DataFrame({"apprentice_key": ["k", "k", "k2"], "diploma_code": ["50022109"] * 2 + ["50033401"],
    ...     "exam_session": ["2024", "2025", "2025"], "exam_result": ["ajourne", "admis", "admis"],
    ...     "diploma_obtained_date": pd.to_datetime([None, "2025-07-01", "2025-07-01"])})
    >>> join_exam_results(c, e)[["diploma_outcome", "exam_session", "diploma_obtained"]]
      diploma_outcome exam_session  diploma_obtained
    0           admis         2025              True
    1         inconnu         <NA>              <NA>
    """
    n = contracts.index
    src_obtained = _col(contracts, C.diploma_obtained, "boolean").astype("boolean")
    src_date = _col(contracts, C.diploma_obtained_date, "datetime64[ns]")
    outcome = pd.Series("inconnu", index=n, dtype="string").mask(
        src_obtained.fillna(False).astype(bool), "admis"
    )
    session = _na_str(n)
    obtained = src_obtained
    obtained_date = src_date.where(src_obtained.fillna(True).astype(bool))
    if exams is not None and len(exams):
        ex = exams.loc[exams[C.apprentice_key].notna() & exams[C.exam_result].notna()]
        ex = ex.assign(
            _year=pd.to_numeric(ex[C.exam_session], errors="coerce"),
            _level=referential.diploma_attributes(ex[C.diploma_code])["diploma_level"],
        )
        left = pd.DataFrame(
            {
                "_i": np.arange(len(contracts)),
                C.apprentice_key: _col(contracts, C.apprentice_key).to_numpy(),
                C.diploma_code: _col(contracts, C.diploma_code).to_numpy(),
                "_level": contract_level(contracts).to_numpy(),
                "_start": contracts[C.start_date].to_numpy(),
            }
        )
        by_code = left.dropna(subset=[C.apprentice_key, C.diploma_code]).merge(
            ex[[C.apprentice_key, C.diploma_code, "_year", C.exam_result, C.diploma_obtained_date]],
            on=[C.apprentice_key, C.diploma_code],
        )
        no_code = left.loc[left[C.diploma_code].isna()].dropna(subset=[C.apprentice_key, "_level"])
        wanted = ex.dropna(subset=["_level"])[
            [C.apprentice_key, "_level", "_year", C.exam_result, C.diploma_obtained_date]
        ]
        by_level = no_code.merge(wanted, on=[C.apprentice_key, "_level"])
        cand = pd.concat([by_code, by_level], ignore_index=True)
        results_day = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": cand["_year"].fillna(1900).astype(int),
                    "month": EXAM_RESULTS_DAY[0],
                    "day": EXAM_RESULTS_DAY[1],
                }
            )
        )
        cand = cand.loc[(results_day > cand["_start"]).to_numpy() & cand["_year"].notna().to_numpy()]
        rank = cand[C.exam_result].map({"absent": 0, "ajourne": 1, "admis": 2})
        best = (
            cand.assign(_r=rank)
            .sort_values(["_i", "_year", "_r"], kind="stable")
            .drop_duplicates("_i", keep="last")
        )
        pos = best["_i"].to_numpy()
        res = best[C.exam_result].astype("string").to_numpy()
        outcome.iloc[pos] = res  # type: ignore[call-overload]
        session.iloc[pos] = best["_year"].astype(int).astype(str).to_numpy()
        matched_obtained = pd.Series(res == "admis", index=n[pos], dtype="boolean")
        obtained = obtained.copy()
        obtained.iloc[pos] = matched_obtained.to_numpy()  # type: ignore[call-overload]
        odate = obtained_date.copy()
        odate.iloc[pos] = pd.to_datetime(best[C.diploma_obtained_date]).where(res == "admis").to_numpy()
        obtained_date = odate
    return contracts.assign(
        **{
            C.diploma_outcome: outcome,
            C.exam_session: session,
            C.diploma_obtained: obtained.astype("boolean"),
            C.diploma_obtained_date: obtained_date.astype("datetime64[ns]"),
        }
    )


def _diploma_prefix(code: pd.Series) -> pd.Series:
    """The part of a diploma code that :func:`referential.diploma_attributes` looks up (its prefix).

    The attributes depend on the prefix only, so they are looked up once per distinct prefix (a
    national file has hundreds of thousands of distinct codes but a few hundred prefixes).
    """
    return code.astype("string").str.strip().str.upper().str.slice(0, 3)


def derive_contract_kind(df: pd.DataFrame) -> pd.DataFrame:
    """``contract_kind`` from the CERFA type: 11 initial, 21-23 succession, 31-38 avenant.

    >>> derive_contract_kind(pd.DataFrame({"contract_type": ["11", "23", "33", None]}))["contract_kind"].tolist()
    ['initial', 'succession', 'avenant', <NA>]
    """
    t = _col(df, C.contract_type).astype("string")
    kind = _na_str(df.index).mask((t == "11").fillna(False), "initial")
    kind = kind.mask(t.isin({"21", "22", "23"}).fillna(False), "succession")
    kind = kind.mask(t.isin(AMENDMENT_TYPES).fillna(False), "avenant")
    return df.assign(**{C.contract_kind: kind})


def derive_sector(df: pd.DataFrame) -> pd.DataFrame:
    """NAF division, section, DARES 4-group and finer published sector (shipped tables)."""
    attrs = _on_distinct(_col(df, C.employer_naf), referential.naf_attributes)
    return df.assign(**{c: attrs[c] for c in (C.naf_division, C.naf_section, C.sector_group, C.sector)})


def derive_diploma(df: pd.DataFrame) -> pd.DataFrame:
    """Diploma level (3-8) and family from the CFD prefix; CERFA type filled when the source had none."""
    attrs = _on_distinct(_diploma_prefix(_col(df, C.diploma_code)), referential.diploma_attributes)
    ctype = _col(df, C.diploma_type_cerfa).fillna(attrs["diploma_type_cerfa"])
    return df.assign(
        **{
            C.diploma_level: attrs["diploma_level"],
            C.diploma_family: attrs["diploma_family"],
            C.diploma_type_cerfa: ctype,
        }
    )


def derive_cfa(df: pd.DataFrame) -> pd.DataFrame:
    """CFA name from the shipped referential when missing; UAI check-letter flag (never drops)."""
    uai = _col(df, C.cfa_uai)
    name = _col(df, C.cfa_name).fillna(_on_distinct_series(uai, referential.cfa_names))
    valid = _on_distinct_series(uai, referential.uai_is_valid).astype("boolean")
    return df.assign(**{C.cfa_name: name, C.cfa_uai_valid: valid})


def size_band(headcount: pd.Series) -> pd.Series:
    """Employer size band (0-4, 5-9, 10-49, 50-249, 250+) of a headcount.

    >>> size_band(pd.Series([0, 4, 5, 49, 250, None], dtype="Int64")).tolist()
    ['0-4', '0-4', '5-9', '10-49', '250+', <NA>]
    """
    h = headcount.astype("Float64")
    return _cut(h.astype(float), [-0.5, 4.5, 9.5, 49.5, 249.5, np.inf], SIZE_BANDS)


def _cut(values: pd.Series, bins: list[float], labels: tuple[str, ...]) -> pd.Series:
    """``pd.cut(values, bins, labels=labels).astype("string")`` without the categorical round trip."""
    codes = pd.cut(values, bins=bins, labels=False)
    missing = np.isnan(codes.to_numpy(dtype=float))
    idx = pa.array(
        np.where(missing, 0, codes.to_numpy(dtype=float, na_value=0)).astype(np.int64), mask=missing
    )
    return string_series(pa.array(labels, pa.large_string()).take(idx), values.index)


def derive_employer(df: pd.DataFrame) -> pd.DataFrame:
    """SIRET validity flag, size band, public employer (CERFA types 21-30) when the source had none."""
    etype = _col(df, C.employer_type)
    public = _col(df, C.employer_public, "boolean").astype("boolean")
    if etype.notna().any():
        from_type = pd.to_numeric(etype, errors="coerce").between(21, 30).astype("boolean").mask(etype.isna())
    else:  # no employer type at all (DECA extracts): nothing to infer
        from_type = pd.Series(pd.NA, index=df.index, dtype="boolean")
    return df.assign(
        **{
            C.employer_siret_valid: siret_is_valid(_col(df, C.employer_siret)),
            C.employer_size_band: size_band(_col(df, C.employer_headcount, "Int64")),
            C.employer_public: public.fillna(from_type),
        }
    )


def age_band(age: pd.Series) -> pd.Series:
    """DARES age band of an age at start: 15-17 (14 included), 18-19, 20-25, 26+; NA below 14.

    >>> age_band(pd.Series([13, 14, 17, 18, 19, 20, 25, 26, None], dtype="Int64")).tolist()
    [<NA>, '15-17', '15-17', '18-19', '18-19', '20-25', '20-25', '26+', <NA>]
    """
    a = age.astype("Float64").astype(float)
    return _cut(a, [13.5, 17.5, 19.5, 25.5, np.inf], AGE_BANDS)


def derive_age(df: pd.DataFrame) -> pd.DataFrame:
    """``age_at_start`` (whole years on the start date) and ``age_band``; the birth date is not kept.

    >>> df = pd.DataFrame({"birth_date": pd.to_datetime(["2006-09-02", "2006-09-03"]),
    ...                    "start_date": pd.to_datetime(["2024-09-02", "2024-09-02"])})
    >>> derive_age(df)[["age_at_start", "age_band"]].values.tolist()
    [[18, '18-19'], [17, '15-17']]
    """
    birth = _col(df, C.birth_date, "datetime64[ns]")
    start = df[C.start_date]
    years = start.dt.year - birth.dt.year
    before = (start.dt.month < birth.dt.month) | (
        (start.dt.month == birth.dt.month) & (start.dt.day < birth.dt.day)
    )
    age = (years - before.astype(int)).astype("Int64")
    age = age.where((age >= 0) & (age < 100))
    return df.assign(**{C.age_at_start: age, C.age_band: age_band(age)})


def school_year(start: pd.Series) -> pd.Series:
    """School year ``YYYY-YYYY+1`` with a 1 August cut-off.

    >>> school_year(pd.to_datetime(pd.Series(["2024-07-31", "2024-08-01", None]))).tolist()
    ['2023-2024', '2024-2025', <NA>]
    """
    y = (start.dt.year - (start.dt.month < 8).astype(int)).astype("Int64")
    return (y.astype("string") + "-" + (y + 1).astype("string")).astype("string")


def derive_calendar(df: pd.DataFrame) -> pd.DataFrame:
    """``school_year`` from the start date and ``territory`` from the residence postcode."""
    return df.assign(
        **{
            C.school_year: school_year(df[C.start_date]),
            C.territory: _on_distinct_series(_col(df, C.residence_postcode), referential.territory_of),
        }
    )


@functools.lru_cache(maxsize=1)
def _reason_rules() -> pd.DataFrame:
    return referential.load_table("rupture_reasons.csv")


def categorise_rupture_reasons(df: pd.DataFrame) -> pd.DataFrame:
    """``rupture_reason_category`` from ``rupture_reason_raw`` via the editable ``rupture_reasons.csv``.

    Rules are tried in file order: ``code`` rows match the raw value exactly, ``regex`` rows search
    the lower-cased, unaccented text. Unmatched ruptures get ``inconnu``; no rupture gives NA.

    >>> df = pd.DataFrame({"rupture_date": pd.to_datetime(["2024-10-01", "2024-10-01", "2024-10-01", None]),
    ...     "rupture_reason_raw": ["Rupture d'un commun accord", "Démission", None, None]})
    >>> categorise_rupture_reasons(df)["rupture_reason_category"].tolist()
    ['commun_accord', 'initiative_apprenti', 'inconnu', <NA>]
    """
    raw = _col(df, C.rupture_reason_raw).astype("string")
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    u = (
        pd.Series(np.asarray(uniques, dtype=object), dtype="string")
        .str.lower()
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.replace("’", "'")
    )
    u_cat = _na_str(u.index)
    stripped = u.str.strip()
    for rule in _reason_rules().itertuples():
        todo = u_cat.isna()
        if rule.kind == "code":
            hit = stripped.str.lower() == str(rule.pattern).strip().lower()
        else:
            pattern = re.sub(r"\((?!\?)", "(?:", str(rule.pattern))
            hit = stripped.str.contains(pattern, regex=True)
        u_cat = u_cat.mask(todo & hit.fillna(False), rule.category)
    table = np.array([*u_cat.to_numpy(dtype=object, na_value=None), None], dtype=object)  # type: ignore[call-overload,type-var]
    cat = pd.Series(table[codes], index=df.index, dtype="string")
    has_rupture = _col(df, C.rupture_date, "datetime64[ns]").notna()
    cat = cat.fillna("inconnu").where(has_rupture | raw.notna())
    return df.assign(**{C.rupture_reason_category: cat})


def derive_rupture_fields(df: pd.DataFrame) -> pd.DataFrame:
    """``days_to_rupture``, ``rupture_after_diploma`` and ``rupture_phase`` (BRIEF rule).

    A rupture after the diploma: reason category ``obtention_diplome``, or the diploma obtained on
    or before the rupture date. Phase from calendar offsets of the start date (``< start+46 days``
    -> 0-45j, ``< +3 months`` -> 46j-3m, ``< +6 months`` -> 3-6m, ``< +12 months`` -> 6-12m, else
    12m+), ``apres_diplome`` for a rupture after the diploma. A "rupture" on or after the planned end
    is not a rupture: its date is kept, its phase is NA (outcomes count the contract as completed).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02"] * 5),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 5),
    ...     "rupture_date": pd.to_datetime(["2024-10-17", "2024-10-18", "2025-09-02", "2026-08-31", None]),
    ...     "rupture_reason_category": ["commun_accord", None, "obtention_diplome", None, None]})
    >>> derive_rupture_fields(df)[["days_to_rupture", "rupture_phase"]].values.tolist()
    [[45, '0-45j'], [46, '46j-3m'], [365, 'apres_diplome'], [728, <NA>], [<NA>, <NA>]]
    """
    start = df[C.start_date]
    rupt = df[C.rupture_date]
    end = df[C.planned_end_date]
    days = (rupt - start).dt.days.astype("Int64")
    has = rupt.notna()
    by_reason = (_col(df, C.rupture_reason_category) == "obtention_diplome").fillna(False)
    obtained = _col(df, C.diploma_obtained, "boolean").fillna(True).astype(bool)
    by_date = (_col(df, C.diploma_obtained_date, "datetime64[ns]") <= rupt).fillna(False) & obtained
    after = (by_reason | by_date).astype("boolean").where(has)
    code = np.full(len(df), _PHASES.index("12m+"))
    with_rupture = np.flatnonzero(has.to_numpy())  # other rows get no phase: skip the calendar work
    rupt_ns = rupt.to_numpy(dtype="datetime64[ns]")[with_rupture]
    start_day = start.fillna(pd.Timestamp("2000-01-01")).to_numpy(dtype="datetime64[D]")[with_rupture]
    for months, label in ((12, "6-12m"), (6, "3-6m"), (3, "46j-3m")):
        within = rupt_ns < _add_months_days(start_day, months).astype("datetime64[ns]")
        code[with_rupture[within]] = _PHASES.index(label)
    code[(rupt < start + pd.Timedelta(days=46)).fillna(False).to_numpy()] = _PHASES.index("0-45j")
    code[after.fillna(False).to_numpy(dtype=bool)] = _PHASES.index("apres_diplome")
    real = (has & (rupt < end).fillna(True)).to_numpy()
    phase = string_series(pa.array(_PHASES, pa.large_string()).take(pa.array(code, mask=~real)), df.index)
    return df.assign(**{C.days_to_rupture: days, C.rupture_after_diploma: after, C.rupture_phase: phase})  # type: ignore[arg-type]


_PHASES: Final = ("0-45j", "46j-3m", "3-6m", "6-12m", "12m+", "apres_diplome")


_INDEPENDENT_DERIVATIONS: Final = (
    (derive_contract_kind, (C.contract_kind,)),
    (derive_sector, (C.naf_division, C.naf_section, C.sector_group, C.sector)),
    (derive_diploma, (C.diploma_level, C.diploma_family, C.diploma_type_cerfa)),
    (derive_cfa, (C.cfa_name, C.cfa_uai_valid)),
    (derive_employer, (C.employer_siret_valid, C.employer_size_band, C.employer_public)),
    (derive_age, (C.age_at_start, C.age_band)),
    (derive_calendar, (C.school_year, C.territory)),
    (categorise_rupture_reasons, (C.rupture_reason_category,)),
)
"""The derivations that read none of each other's outputs, with the columns each one writes."""


def derive_fields(df: pd.DataFrame) -> pd.DataFrame:
    """Every derived field: the same table as ``df.pipe(derive_contract_kind).pipe(derive_sector)...``
    in the order of :data:`_INDEPENDENT_DERIVATIONS`, then :func:`derive_rupture_fields` (which needs
    the rupture reason category and the diploma outcome).

    The independent derivations all read ``df`` and run on two threads on large tables (their
    pandas and Arrow kernels release the GIL); their columns are then assigned in that order.
    """
    steps = {fn.__name__: (fn, outputs) for fn, outputs in _INDEPENDENT_DERIVATIONS}

    def derived(name: str) -> dict[str, pd.Series]:
        fn, outputs = steps[name]
        out = fn(df)
        undeclared = set(out.columns) - set(df.columns) - set(outputs)
        if undeclared:  # a new column it writes but does not declare would be lost: say so
            raise RuntimeError(f"{name} writes undeclared columns {sorted(undeclared)}")
        return {c: out[c] for c in outputs}

    columns: dict[str, pd.Series] = {}
    for part in map_columns(derived, list(steps), len(df)):
        columns.update(part)
    return derive_rupture_fields(df.assign(**columns))


# ================================================================================================
# exam results


def clean_exam_results(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean a raw exam-results frame that already has ``apprentice_key``; return ``(exams, rows)``.

    ``rows`` carries ``_reason`` (no apprentice identity, no exam session, unknown result) and
    ``_dup_of`` (exact duplicates: merged). ``exams`` has one row per kept record with
    ``diploma_obtained_date`` = the file's date when given, else 1 July of the session year for
    ``admis`` (a documented proxy), NA otherwise.
    """
    df = raw.assign(**{ROW: np.arange(len(raw))})
    df = df.assign(
        **{
            C.diploma_code: normalise_cfd(_col(df, C.diploma_code)),
            C.exam_session: exam_session_year(_col(df, C.exam_session)),
            C.exam_result: normalise_exam_result(_col(df, C.exam_result)),
            REASON: _na_str(df.index),
            REASON_COLUMN: _na_str(df.index),
        }
    )
    df = _set_reason(df, df[C.apprentice_key].isna(), "no apprentice identity", C.surname)
    df = _set_reason(df, df[C.exam_session].isna(), "no exam session", C.exam_session)
    df = _set_reason(df, df[C.exam_result].isna(), "unknown exam result", C.exam_result)
    keep_cols = [C.apprentice_key, C.diploma_code, C.exam_session, C.exam_result]
    alive = df[REASON].isna()
    dup = alive & df[keep_cols].duplicated() & alive
    df = df.assign(
        **{DUP_OF: pd.array(np.where(dup, 0, pd.NA), dtype="Int64"), PRIMARY: (alive & ~dup).to_numpy()}  # type: ignore[call-overload]
    )
    kept = df.loc[alive & ~dup]
    given = (
        parse_dates_detailed(_col(kept, C.diploma_obtained_date))["value"]
        if C.diploma_obtained_date in raw
        else None
    )
    year = pd.to_numeric(kept[C.exam_session], errors="coerce").astype("Int64")
    proxy = pd.to_datetime(
        pd.DataFrame(
            {"year": year.fillna(1900).astype(int), "month": EXAM_RESULTS_DAY[0], "day": EXAM_RESULTS_DAY[1]}
        )
    ).set_axis(kept.index)
    date = (given.fillna(proxy) if given is not None else proxy).where(kept[C.exam_result] == "admis")
    exams = pd.DataFrame(
        {
            C.apprentice_key: kept[C.apprentice_key].astype("string"),
            C.diploma_code: kept[C.diploma_code],
            C.exam_session: kept[C.exam_session],
            C.exam_result: kept[C.exam_result],
            C.diploma_obtained_date: date.astype("datetime64[ns]"),
            C.source_file: kept[C.source_file].astype("string"),
            C.source_row: pd.to_numeric(kept[C.source_row], errors="coerce").astype("Int64"),
        }
    )
    return exams.reset_index(drop=True), df


# ================================================================================================
# orchestration


@dataclass
class CleanResult:
    """What :func:`clean_contracts` produces."""

    contracts: pd.DataFrame  # merged, derived, not yet coerced to CONTRACT_DTYPES
    rows: pd.DataFrame  # one row per input record: lineage, status (clean/merged/rejected), reason
    rejected: pd.DataFrame  # schema.REJECTED_COLUMNS
    conflicts: pd.DataFrame  # contract_id, column, source, source_file, value
    stats: dict = field(default_factory=dict)


def _rejected_records(rows: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``rejected.csv`` records: lineage, column, reason, raw value (blank for personal columns)."""
    rej = rows.loc[rows[REASON].notna()]
    col = rej[REASON_COLUMN].astype("string")
    values = pd.Series("", index=rej.index, dtype="string")
    for name in col.dropna().unique():
        if name in raw.columns and name not in FORBIDDEN_IN_CONTRACTS:
            m = col == name
            values = values.mask(
                m.fillna(False), raw.loc[rej.index[m.fillna(False).to_numpy()], name].astype("string")
            )
    return pd.DataFrame(
        {
            "source_file": rej[C.source_file].astype("string"),
            "source_row": pd.to_numeric(rej[C.source_row], errors="coerce").astype("Int64"),
            "column": col.fillna(""),
            "reason": rej[REASON].astype("string"),
            "value": values.fillna(""),
        }
    )


@dataclass
class ResolvedContracts:
    """Every row's fate, decided: what :func:`resolve_contracts` hands to :func:`finish_contracts`.

    The rejected records are already taken from the raw values, so the raw frame can be let go
    before the merged table is built (at 5 M rows the raw text is about 5 GB), and the rows keep
    only their lineage and status: the parsed values live in the merge alone, which
    :func:`finish_contracts` spends column by column (so it runs once per resolution).
    """

    merge: ContractMerge  # how each contract group folds into one row; spent by finish_contracts
    rows: pd.DataFrame  # one row per input record: lineage, group, duplicate, final reason, primary
    checked: pd.DataFrame  # the contract-rule columns of every contract, in contract_id order
    conflicts: pd.DataFrame  # of the kept contracts
    rejected: pd.DataFrame  # schema.REJECTED_COLUMNS


def resolve_contracts(raw: pd.DataFrame, *, parsed: pd.DataFrame | None = None) -> ResolvedContracts:
    """The first half of :func:`clean_contracts`: row rules, duplicates, contract groups, the
    contract-level rules and their propagation to every row, and the rejected records (the only use
    of ``raw`` beyond parsing). ``parsed`` as in :func:`clean_contracts`."""
    raw = raw.reset_index(drop=True)
    if parsed is None:
        parsed = parse_contract_values(raw)
    elif len(parsed) != len(raw):
        raise ValueError("parsed must be parse_contract_values(raw)")
    parsed = parsed.set_axis(raw.index).assign(**{ROW: np.arange(len(raw))})
    rows = (
        parsed.pipe(flag_invalid_rows)
        .pipe(flag_cancelled_elsewhere)
        .pipe(flag_exact_duplicates)
        .pipe(assign_contract_groups)
    )
    merge = ContractMerge(rows)
    rows = merge.rows()
    # contract-level rules first, on the few columns they need; the full table only for the kept ones
    checked = (
        merge.frame(merge.order, columns=_CONTRACT_RULE_COLUMNS)
        .pipe(impute_planned_end)
        .pipe(flag_invalid_contracts)
    )
    conflicts = find_conflicts(rows, checked)
    bad = checked.loc[checked[REASON].notna(), [GROUP, C.contract_id, REASON, REASON_COLUMN]]
    if len(bad):  # contract-level exclusions propagate to every row of the contract
        by_group = bad.set_index(GROUP)
        in_bad = rows[GROUP].isin(by_group.index).fillna(False).to_numpy()
        groups = rows[GROUP].to_numpy(dtype=np.int64, na_value=-1)[in_bad]
        reason, column = rows[REASON].copy(), rows[REASON_COLUMN].copy()
        reason[in_bad] = by_group[REASON].reindex(groups).to_numpy()
        column[in_bad] = by_group[REASON_COLUMN].reindex(groups).to_numpy()
        rows = rows.assign(**{REASON: reason, REASON_COLUMN: column})
        conflicts = conflicts.loc[~conflicts["contract_id"].isin(bad[C.contract_id])]
    rejected = _rejected_records(rows, raw)
    # from here on the rows only need their lineage and status, and the merge its value columns
    rows = rows[[c for c in (*LINEAGE_COLUMNS, *_ROW_STATUS_COLUMNS) if c in rows.columns]]
    merge.release_rows()
    return ResolvedContracts(merge=merge, rows=rows, checked=checked, conflicts=conflicts, rejected=rejected)


def finish_contracts(resolved: ResolvedContracts, *, exams: pd.DataFrame | None = None) -> CleanResult:
    """The second half of :func:`clean_contracts`: the merged table of the kept contracts, the
    conflict counts, the exam results, the derived fields and the per-row status.

    Each parsed column is let go as soon as it is merged (the input rows and the merged table are
    never both held whole), which spends ``resolved.merge``: call it once per resolution."""
    merge, rows, checked, conflicts = resolved.merge, resolved.rows, resolved.checked, resolved.conflicts
    keep = checked[REASON].isna().to_numpy()
    kept = checked.loc[keep]
    contracts = (
        merge.frame(merge.order[keep], release=True)
        .assign(
            **{
                C.planned_end_date: kept[C.planned_end_date].to_numpy(),
                C.planned_end_imputed: kept[C.planned_end_imputed].array,
            }
        )
        .pipe(count_conflicts, conflicts)
    )
    del merge, checked, kept
    contracts = contracts.pipe(join_exam_results, exams).pipe(derive_fields)
    status = pd.Series("merged", index=rows.index, dtype="string")
    status = status.mask(rows[PRIMARY].to_numpy() & rows[REASON].isna().to_numpy(), "clean")
    status = status.mask(rows[REASON].notna(), "rejected")
    rows = rows.assign(_status=status)
    rows_out = rows[[C.source, C.source_file, C.source_row, REASON, "_status", DUP_OF, IS_AMENDMENT]]
    stats = {
        "exact_duplicates": int(rows[DUP_OF].notna().sum()),
        "amendment_rows": int((rows[IS_AMENDMENT] & rows[REASON].isna()).sum()),
        "contracts_from_several_files": int((contracts[C.sources].str.count(";") > 0).sum()),
        "contracts_with_conflicts": int((contracts[C.merge_conflicts] > 0).sum()),
        "planned_end_imputed": int(contracts[C.planned_end_imputed].fillna(False).sum()),
    }
    return CleanResult(
        contracts=contracts.drop(columns=[GROUP], errors="ignore").reset_index(drop=True),
        rows=rows_out,
        rejected=resolved.rejected,
        conflicts=conflicts.reset_index(drop=True),
        stats=stats,
    )


def clean_contracts(
    raw: pd.DataFrame, *, exams: pd.DataFrame | None = None, parsed: pd.DataFrame | None = None
) -> CleanResult:
    """Clean a concatenated raw contract frame that already carries ``apprentice_key``.

    Returns the merged, derived contracts sorted by ``contract_id`` (no personal column but the
    birth date, which :func:`aioa_analysis.core.schema.coerce_contracts` drops), the per-row status used
    for the accounting, the rejected records and the conflicts. ``parsed`` is
    :func:`parse_contract_values` of ``raw`` when already computed (see :func:`with_parsed_key`).

    Runs :func:`resolve_contracts` then :func:`finish_contracts`; a caller that holds ``raw`` can
    call them itself and let ``raw`` go in between (the pipeline does).
    """
    return finish_contracts(resolve_contracts(raw, parsed=parsed), exams=exams)
