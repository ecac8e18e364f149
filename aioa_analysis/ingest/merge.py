"""Duplicates, contract groups and the merge into one row per contract; conflicts between files.

1. :func:`flag_exact_duplicates` marks rows identical (after parsing) to an earlier row: merged;
2. :func:`assign_contract_groups` gives each remaining row its contract: ``contract_id`` when the
   row has one; otherwise ``(apprentice_key, start_date)``, attached to the contract that has the
   same pair when one exists (the cross-file key);
3. :func:`merge_contracts` folds each group into one row: every field takes the first non-missing
   value in precedence order (:data:`~aioa_analysis.core.schema.SOURCE_PRECEDENCE`, then within a
   source the latest amendment first, then the initial row), except ``contract_type``,
   ``signature_date``, ``start_date`` and ``derogation_type`` which come from the initial row first;
4. :func:`find_conflicts` lists the fields on which files disagree, :func:`count_conflicts` counts
   them per contract.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.schema import (
    FORBIDDEN_IN_CONTRACTS,
    IDENTITY_COLUMNS,
    LINEAGE_COLUMNS,
    SOURCE_PRECEDENCE,
    C,
)
from aioa_analysis.ingest.parsing import string_series
from aioa_analysis.ingest.rules import AMENDMENT_TYPES
from aioa_analysis.ingest.values import (
    DUP_OF,
    GROUP,
    IS_AMENDMENT,
    PERSON,
    PRIMARY,
    REASON,
    ROW,
    column_or_na,
    first_per_group,
)

#: columns never compared for merge conflicts (lineage, personal, free text, labels)
_NO_CONFLICT: Final = frozenset(
    {
        *LINEAGE_COLUMNS,
        C.sources,
        C.apprentice_key,  # two apprentices under one contract: apprentice_conflicts, in one file too
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

#: columns taken from the initial row (not from the latest amendment) first
_INITIAL_FIRST: Final = (C.contract_type, C.signature_date, C.start_date, C.derogation_type)

#: columns taken from the row that represents the contract (its initial row of the first source)
_LINEAGE: Final = (C.source, C.source_file, C.source_row)

#: the columns :func:`_precedence_order` reads
_ORDER_KEYS: Final = frozenset(
    {GROUP, ROW, IS_AMENDMENT, C.source, C.source_file, C.amendment_no, C.amendment_effective_date}
)


def flag_exact_duplicates(df: pd.DataFrame) -> pd.DataFrame:
    """Set ``_dup_of`` (the ``_row`` of the first identical row) on live rows identical after parsing.

    Exact duplicates are merged, not rejected; they never count as conflicts or extra amendments.
    Lineage columns are not compared; missing values are equal to each other.

    >>> df = pd.DataFrame({"_row": [0, 1, 2], "_reason": pd.array([pd.NA] * 3, dtype="string"),
    ...                    "start_date": ["2024-09-02", "2024-09-02", "2024-09-03"],
    ...                    "source_file": ["a.csv", "b.csv", "a.csv"]})
    >>> flag_exact_duplicates(df)["_dup_of"].tolist()
    [<NA>, 0, <NA>]
    """
    alive = df[REASON].isna().to_numpy(copy=True)
    cols = [c for c in df.columns if not c.startswith("_") and c not in LINEAGE_COLUMNS]
    if cols:
        # identical rows are identical on the typed columns (dates, numbers, flags): compare every
        # column only on the few rows whose typed values repeat (1 M rows, loaded host: 10.6 -> 0.5 s)
        # (repeats with a rejected row are let in too: they find no live twin below, and the frame
        # is not copied to leave them out)
        typed = [c for c in cols if not pd.api.types.is_string_dtype(df[c].dtype)] or cols
        if PERSON in df.columns and C.start_date in typed and C.apprentice_key in cols:
            # twins have one apprentice and one start date: the typed columns are only compared on
            # the rows whose (person code, start date) repeats (1 M rows: ~7 % of them)
            pair = pd.DataFrame({"p": df[PERSON].to_numpy(), "s": df[C.start_date].to_numpy()})
            alive &= pair.duplicated(keep=False).to_numpy()
            at = np.flatnonzero(alive)
            alive[at] = df[typed].iloc[at].duplicated(keep=False).to_numpy()
        else:
            alive &= df[typed].duplicated(keep=False).to_numpy()
        live = df.loc[alive, [*cols, ROW]]
        same = live.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
    else:
        live = df.loc[alive, [ROW]]
        same = np.zeros(len(live), dtype=np.int64)
    rows = live[ROW].astype("int64")
    first = rows.groupby(same).transform("first")
    dup_of = pd.Series(pd.NA, index=df.index, dtype="Int64")
    dup_of.loc[live.index[(first != rows).to_numpy()]] = first[first != rows].to_numpy()
    return df.assign(**{DUP_OF: dup_of})


def _source_rank(source: pd.Series) -> np.ndarray:
    """Position of each row's source in :data:`SOURCE_PRECEDENCE` (unknown sources last)."""
    ranks = {name: i for i, name in enumerate(SOURCE_PRECEDENCE)}
    codes, names = pd.factorize(source.astype("string"))  # a few names: map them, not every row
    by_code = np.array([ranks.get(str(name), len(SOURCE_PRECEDENCE)) for name in names] + [len(ranks)])
    return by_code[codes].astype(np.int64)


def assign_contract_groups(df: pd.DataFrame) -> pd.DataFrame:
    """Give every live row its contract group ``_group`` (exact duplicates follow their original).

    Key: ``contract_id`` when the row has one; else ``(apprentice_key, start_date)``, attached to a
    contract with an id that has the same pair when there is one (cross-file merge: the initial row
    of the highest-precedence source, then the smallest id); else the row alone. Groups are numbered
    in the order of their first row. Also sets ``_is_amendment`` (CERFA types 31-38).

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
    alive = df[REASON].isna().to_numpy()
    is_amend = column_or_na(df, C.contract_type).isin(AMENDMENT_TYPES).fillna(False).to_numpy()
    # integer codes instead of the 15- and 64-character strings: the same partition, several times
    # faster at 1 M; the contract numbers are compared as text only where a pair needs an owner
    cids = column_or_na(df, C.contract_id).astype("string")
    cid_code = pd.factorize(cids)[0]
    a_code = (  # the keys' codes made with them (pseudonym.add_apprentice_key), else factorised here
        df[PERSON].to_numpy(dtype=np.int64)
        if PERSON in df.columns
        else pd.factorize(column_or_na(df, C.apprentice_key).astype("string"))[0]
    )
    start = df[C.start_date].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    has_pair = (a_code >= 0) & ~np.isnat(df[C.start_date].to_numpy(dtype="datetime64[ns]"))
    keys = pd.DataFrame(
        {
            "cid": cid_code,
            "a": a_code,
            "s": start,
            "amend": is_amend,
            "rank": _source_rank(column_or_na(df, C.source)),
            "row": np.arange(len(df)),
        }
    )
    has_cid = cid_code >= 0
    need = alive & ~has_cid & has_pair
    wanted = keys.loc[need, ["a", "s"]]
    # the contract number of each (apprentice_key, start_date) pair that a row without one needs
    candidates = keys.loc[alive & has_cid & has_pair].merge(wanted.drop_duplicates(), on=["a", "s"])
    owners = (
        candidates.assign(cid_text=cids.array.take(candidates["row"].to_numpy()))
        .sort_values(["amend", "rank", "cid_text"], kind="stable")
        .drop_duplicates(["a", "s"])
    )
    attached = wanted.merge(owners[["a", "s", "cid"]], on=["a", "s"], how="left")
    cid = cid_code.copy()
    cid[need] = attached["cid"].fillna(-1).to_numpy(dtype=np.int64)
    # kind 0: a contract number (own or attached); 1: (apprentice_key, start_date); 2: the row alone
    kind = np.where(cid >= 0, 0, np.where(has_pair, 1, 2))
    alone = column_or_na(df, DUP_OF, "Int64").fillna(df[ROW]).to_numpy(dtype=np.int64)
    key = pd.DataFrame(
        {
            "kind": kind,
            "value": np.where(kind == 0, cid, np.where(kind == 1, a_code, -1)),
            "start": np.where(kind == 1, start, -1),
            "row": np.where(kind == 2, alone, -1),
        }
    )
    group = pd.Series(pd.NA, index=df.index, dtype="Int64")
    group[alive] = key.loc[alive].groupby(list(key.columns), sort=False).ngroup().to_numpy()
    return df.assign(**{GROUP: group, IS_AMENDMENT: is_amend})


def _precedence_order(
    df: pd.DataFrame, *, initial_first: bool, sort_keys: list[np.ndarray] | None = None
) -> np.ndarray:
    """Positions of the rows ordered by group, source precedence, then amendments (latest first) or the initial first,
    the latest amendment effective date, the highest amendment number, the file name and the row
    (a stable sort). ``sort_keys``: :func:`_precedence_keys` of ``df`` when already computed."""
    keys = list(_precedence_keys(df) if sort_keys is None else sort_keys)
    keys[4] = keys[4] if initial_first else 1 - keys[4]
    return np.lexsort(keys)


def _precedence_keys(df: pd.DataFrame) -> list[np.ndarray]:
    """The keys of :func:`_precedence_order`, least significant first (the initial row first)."""
    eff = column_or_na(df, C.amendment_effective_date, "datetime64[ns]").astype("datetime64[ns]")
    return [
        df[ROW].to_numpy(),
        pd.factorize(df[C.source_file], sort=True)[0],
        -pd.factorize(column_or_na(df, C.amendment_no).fillna(""), sort=True)[0],
        -(eff.fillna(pd.Timestamp("1900-01-01")).astype("int64") // 86_400_000_000_000).to_numpy(),
        df[IS_AMENDMENT].to_numpy(dtype=np.int64),
        _source_rank(column_or_na(df, C.source)),
        df[GROUP].to_numpy(dtype=np.int64, na_value=-1),
    ]


def merge_contracts(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fold each contract group into one row; return ``(contracts, rows)``.

    ``rows`` is ``df`` with ``_primary`` (the row that represents its contract: the initial row of
    the highest-precedence source). ``contracts`` has one row per group, sorted by ``contract_id``:
    first non-missing value in precedence order, ``amendment_count`` (distinct amendments),
    ``sources`` (every ``source:file:row`` that fed it), ``contract_id`` (the source's, else
    ``<key[:16]>-<YYYYMMDD>``, else ``file:row``). Exact duplicates only count in ``sources``.
    Personal columns other than the birth date (needed for the age) are not carried over.
    """
    plan = plan_merge(df)
    return merged_frame(df, plan), df.assign(**{PRIMARY: plan.primary})


@dataclass(frozen=True)
class MergePlan:
    """Where the merged contracts take their values (see :func:`merge_contracts`), contracts in
    output order: ``take[column]`` the row of the frame for each (-1: missing), ``groups`` their
    ``_group``, ``ids`` their ``contract_id``; ``primary`` marks the rows that represent one."""

    take: dict[str, np.ndarray]
    groups: np.ndarray
    ids: pd.api.extensions.ExtensionArray
    primary: np.ndarray


def plan_merge(df: pd.DataFrame) -> MergePlan:
    """The :class:`MergePlan` of ``df`` (grouped rows): which row each merged value comes from."""
    values = [
        c
        for c in df.columns
        if not c.startswith("_") and (c not in FORBIDDEN_IN_CONTRACTS or c == C.birth_date)
    ]
    is_live = df[GROUP].notna().to_numpy() & df[DUP_OF].isna().to_numpy()
    at = np.flatnonzero(is_live)
    # order the sort keys only, then one take per output column: reordering or grouping the whole
    # frame gathered ~40 string columns several times (1 M rows, loaded host: merge 14.5 -> 6.2 s)
    keys = df.loc[is_live, [c for c in df.columns if c in _ORDER_KEYS]]
    sort_keys = _precedence_keys(keys)
    latest = at[_precedence_order(keys, initial_first=False, sort_keys=sort_keys)]
    initial = at[_precedence_order(keys, initial_first=True, sort_keys=sort_keys)]
    group = df[GROUP].to_numpy(dtype=np.int64, na_value=-1)
    n_groups = int(group.max(initial=-1)) + 1
    primary = first_per_group(initial, group, n_groups)
    groups = np.flatnonzero(primary >= 0)
    primary = primary[groups]
    # a group of one live row takes its values from that row: the precedence order is only walked
    # for the rows of the groups that have several (1 M contracts: 1.2 -> 0.3 s for ~40 columns)
    sizes = np.bincount(group[at], minlength=n_groups)[groups]
    one = sizes == 1
    shared = np.zeros(n_groups, dtype=bool)
    shared[groups[~one]] = True
    latest_shared, initial_shared = latest[shared[group[latest]]], initial[shared[group[initial]]]

    complete: dict[int, np.ndarray] = {}  # per order: the rows of the columns without a missing value

    def first_valid(order: np.ndarray, name: str) -> np.ndarray:
        valid = df[name].notna().to_numpy()
        if valid.all() and id(order) in complete:  # one array for them all, computed once
            return complete[id(order)]
        out = np.where(valid[primary], primary, -1)
        out[~one] = first_per_group(order, group, n_groups, valid)[groups[~one]]
        if valid.all():
            complete[id(order)] = out
        return out

    source = {c: first_valid(latest_shared, c) for c in values}
    source.update({c: first_valid(initial_shared, c) for c in _INITIAL_FIRST if c in values})
    source.update({c: primary for c in _LINEAGE if c in values})
    ids = _own_ids(df, source, len(primary))
    lacking = np.flatnonzero(ids.isna().to_numpy())
    if len(lacking):  # the other parts of an id only for the contracts without a number
        id_parts = [C.contract_id, C.apprentice_key, C.start_date, C.source_file, C.source_row]
        parts = {c: df[c].array.take(source[c][lacking], allow_fill=True) for c in id_parts if c in source}
        ids = ids.fillna(_contract_ids(pd.DataFrame(parts, index=lacking)))
    # by contract_id (a stable sort, missing last): Arrow's sort of the strings, without the
    # factorisation that pandas' sort goes through (1 M contracts: 0.7 -> 0.4 s)
    rank = pc.sort_indices(pa.array(ids.array)).to_numpy()  # nulls at the end
    is_primary = np.zeros(len(df), dtype=bool)
    is_primary[primary] = True
    return MergePlan(_reordered(source, rank), groups[rank], ids.array.take(rank), is_primary)


def _reordered(rows: dict[str, np.ndarray], at: np.ndarray) -> dict[str, np.ndarray]:
    """``{c: rows[c][at]}``, each array that several columns share reordered once (and shared)."""
    done: dict[int, np.ndarray] = {}
    for arr in rows.values():
        if id(arr) not in done:
            done[id(arr)] = arr[at]
    return {c: done[id(arr)] for c, arr in rows.items()}


def merged_frame(
    df: pd.DataFrame, plan: MergePlan, keep: np.ndarray | None = None, columns: Collection[str] | None = None
) -> pd.DataFrame:
    """The merged contracts of ``plan`` (those where ``keep``, indexed by their position, when given):
    ``_group``, the value columns, ``contract_id``, ``amendment_count`` and ``sources``; ``columns``:
    only those value columns, with ``_group`` and ``contract_id`` (a few columns to check first)."""
    at = np.arange(len(plan.groups)) if keep is None else np.flatnonzero(keep)
    groups = plan.groups[at]
    names = [c for c in plan.take if c != C.contract_id and (columns is None or c in columns)]
    rows = {c: plan.take[c] for c in names}
    rows = rows if keep is None else _reordered(rows, at)
    out = {
        GROUP: pd.array(groups, dtype="Int64"),
        **{c: df[c].array.take(rows[c], allow_fill=True) for c in names},
        C.contract_id: plan.ids if keep is None else plan.ids.take(at),
    }
    if columns is None:
        is_live = df[GROUP].notna().to_numpy() & df[DUP_OF].isna().to_numpy()
        amendments = df.loc[is_live & df[IS_AMENDMENT].to_numpy(dtype=bool)]
        out[C.amendment_count] = _amendment_counts(amendments).reindex(groups, fill_value=0).array
        out[C.sources] = _sources(df, groups).array
    return pd.DataFrame(out, index=None if keep is None else at)


def _own_ids(df: pd.DataFrame, source: dict[str, np.ndarray], n: int) -> pd.Series:
    """Per group (``n``): the contract number of the row ``source`` picks for it (missing when none)."""
    if C.contract_id not in source:
        return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string")
    return pd.Series(df[C.contract_id].array.take(source[C.contract_id], allow_fill=True)).astype("string")


def _contract_ids(merged: pd.DataFrame) -> pd.Series:
    """Per group: its contract number, else ``<key[:16]>-<YYYYMMDD>``, else ``file:row``."""
    ids = column_or_na(merged, C.contract_id).astype("string")
    no_id = merged.loc[ids.isna().to_numpy()]
    if len(no_id):
        key = column_or_na(no_id, C.apprentice_key).astype("string")
        synthetic = key.str.slice(0, 16) + "-" + no_id[C.start_date].dt.strftime("%Y%m%d").astype("string")
        lineage = no_id[C.source_file].astype("string") + ":" + no_id[C.source_row].astype("string")
        ids = ids.fillna(synthetic.fillna(lineage))
    return ids


def _amendment_counts(live: pd.DataFrame) -> pd.Series:
    """Per group: the distinct (type, number, effective date) among its live amendment rows."""
    amendments = live.loc[live[IS_AMENDMENT].to_numpy()]
    signatures = pd.DataFrame(
        {
            GROUP: amendments[GROUP],
            "type": column_or_na(amendments, C.contract_type),
            "no": column_or_na(amendments, C.amendment_no),
            "date": column_or_na(amendments, C.amendment_effective_date, "datetime64[ns]"),
        }
    ).drop_duplicates()
    return signatures.groupby(GROUP).size().astype("Int64")


def _sources(df: pd.DataFrame, groups: np.ndarray) -> pd.Series:
    """Per group of ``groups``, in that order: ``source:file:row`` of every row (duplicates
    included), sorted, ``;``-joined (missing when a tag is)."""
    group = df[GROUP].to_numpy(dtype=np.int64, na_value=-1)
    members = np.flatnonzero(group >= 0)
    g = group[members]
    sizes = np.bincount(g, minlength=int(groups.max(initial=-1)) + 1)
    several = sizes[g] > 1
    prefixes, pair = _source_prefixes(df)
    row_text = pc.cast(pa.array(df[C.source_row].astype("Int64").array), pa.large_string())
    row_text = row_text.combine_chunks() if isinstance(row_text, pa.ChunkedArray) else row_text
    # a group of several rows: its tags, sorted, as one Arrow list joined by Arrow (null when a tag
    # is missing; a Python join per group took 1.4 s at 1 M rows)
    shared = members[several]
    tags = pc.binary_join_element_wise(
        prefixes.take(pa.array(pair[shared], mask=pair[shared] < 0)), row_text.take(shared), _EMPTY
    )
    multi = pa.table({GROUP: g[several], "tag": tags})
    multi = multi.take(pc.sort_indices(multi, sort_keys=[(GROUP, "ascending"), ("tag", "ascending")]))
    mg = multi[GROUP].to_numpy()
    starts = np.flatnonzero(np.diff(mg, prepend=mg[:1] - 1))
    lists = pa.LargeListArray.from_arrays(np.r_[starts, len(mg)], multi["tag"].combine_chunks())
    joined = pc.binary_join(lists, pa.scalar(";", pa.large_string()))
    # then every group as two parts joined: its row's "source:file:" and row number, or its
    # joined tags and "" (the million tags of single rows are never built twice)
    head, tail = np.full(len(sizes), -1, dtype=np.int64), np.full(len(sizes), -1, dtype=np.int64)
    head[g[~several]], tail[g[~several]] = pair[members[~several]], members[~several]
    head[mg[starts]], tail[mg[starts]] = len(prefixes) + np.arange(len(starts)), len(row_text)
    head, tail = head[groups], tail[groups]
    first = pc.take(pa.concat_arrays([prefixes, joined]), pa.array(head, mask=head < 0))
    second = pc.take(
        pa.concat_arrays([row_text, pa.array([""], pa.large_string())]), pa.array(tail, mask=tail < 0)
    )
    return string_series(pc.binary_join_element_wise(first, second, _EMPTY), pd.RangeIndex(len(groups)))


_EMPTY: Final = pa.scalar("", pa.large_string())


def _source_prefixes(df: pd.DataFrame) -> tuple[pa.Array, np.ndarray]:
    """The distinct ``source:file:`` texts, and each row's position among them (-1 when its source or
    file is missing): a few texts, not one per row."""
    s_codes, s_names = pd.factorize(df[C.source].astype("string"))
    f_codes, f_names = pd.factorize(df[C.source_file].astype("string"))
    pair = np.where((s_codes >= 0) & (f_codes >= 0), s_codes * len(f_names) + f_codes, -1)
    texts = [f"{src}:{name}:" for src in s_names for name in f_names]
    return pa.array(texts, pa.large_string()), pair.astype(np.int64)


def _live_in_shared_groups(df: pd.DataFrame) -> np.ndarray:
    """Mask of the live rows (grouped, not exact duplicates) whose group has several live rows."""
    is_live = df[GROUP].notna().to_numpy() & df[DUP_OF].isna().to_numpy()
    group = df[GROUP].to_numpy(dtype=np.int64, na_value=-1)
    sizes = np.bincount(group[is_live]) if is_live.any() else np.zeros(1, dtype=np.int64)
    return is_live & (sizes[np.clip(group, 0, len(sizes) - 1)] > 1)


def find_conflicts(df: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Fields on which files disagree for one contract: tidy (contract_id, column, source, source_file, value).

    Each file contributes its own first non-missing value (amendments of one file are not conflicts);
    personal, free-text and lineage columns are never compared.
    """
    empty = pd.DataFrame(
        {k: pd.Series(dtype="string") for k in ("contract_id", "column", "source", "source_file", "value")}
    )
    shared = _live_in_shared_groups(df)  # a group of one row has one file
    files = df.loc[shared, [GROUP, C.source_file]]  # the whole frame only for the groups that need it
    n_files = files.groupby(GROUP)[C.source_file].nunique()
    sub = df.loc[shared & df[GROUP].isin(n_files.index[n_files > 1]).to_numpy(dtype=bool, na_value=False)]
    if sub.empty:
        return empty
    cols = [c for c in sub.columns if not c.startswith("_") and c not in _NO_CONFLICT]
    per_file = sub.iloc[_precedence_order(sub, initial_first=False)].groupby(
        [GROUP, C.source_file], sort=True
    )
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


def apprentice_conflicts(df: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Contracts whose rows carry two different apprentices (``apprentice_key``), in one file or
    several: one line per row's pseudonym, as in :func:`find_conflicts` (never a name). The contract
    keeps the apprentice of its representative row; the disagreement is listed, not merged silently.

    >>> df = pd.DataFrame({"_group": pd.array([0, 0, 1], dtype="Int64"),
    ...     "_dup_of": pd.array([pd.NA] * 3, dtype="Int64"),
    ...     "apprentice_key": pd.array(["k1", "k2", "k3"], dtype="string"),
    ...     "source": ["deca_extract"] * 3, "source_file": ["a.csv", "a.csv", "a.csv"]})
    >>> contracts = pd.DataFrame({"_group": [0, 1], "contract_id": ["X", "Y"]})
    >>> apprentice_conflicts(df, contracts)[["contract_id", "column", "value"]].values.tolist()
    [['X', 'apprentice_key', 'k1'], ['X', 'apprentice_key', 'k2']]
    """
    cols = ["contract_id", "column", C.source, C.source_file, "value"]
    shared = _live_in_shared_groups(df)
    rows = df.loc[shared, [GROUP, C.apprentice_key, C.source, C.source_file]].dropna(
        subset=[C.apprentice_key]
    )
    n_people = rows.groupby(GROUP)[C.apprentice_key].nunique()
    rows = rows.loc[rows[GROUP].isin(n_people.index[n_people > 1]).to_numpy()]
    rows = rows.drop_duplicates([GROUP, C.apprentice_key, C.source_file])
    ids = contracts.set_index(GROUP)[C.contract_id]
    out = pd.DataFrame(
        {
            "contract_id": rows[GROUP].map(ids).to_numpy(),
            "column": C.apprentice_key,
            C.source: rows[C.source].to_numpy(),
            C.source_file: rows[C.source_file].to_numpy(),
            "value": rows[C.apprentice_key].to_numpy(),
        },
        columns=cols,
    ).astype("string")
    return out.sort_values(["contract_id", C.source_file, "value"], kind="stable").reset_index(drop=True)


def count_conflicts(contracts: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """Add ``merge_conflicts``: the number of fields whose sources disagreed (0 when none)."""
    per_contract = conflicts.groupby("contract_id")["column"].nunique()
    counts = contracts[C.contract_id].map(per_contract).fillna(0).astype("Int64")
    return contracts.assign(**{C.merge_conflicts: counts})
