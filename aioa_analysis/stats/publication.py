"""One publication pass for the whole family of reports: primary and secondary suppression decided
jointly on the CFA x category tables, so that no combination of published tables reveals a hidden cell.

A run publishes a département report and one report per CFA. For a dimension (sector, diploma level,
type of diploma, school year, calendar year of start), the family publishes the cells of one table:

* rows: every CFA (the contracts without a CFA form the row ``"inconnu"``, published by difference)
  and the département row :data:`DEPARTEMENT` (the département report's table);
* columns: the categories of the dimension, and the total column :data:`TOTAL` (each CFA's overall
  9-month rate, shown in its own report and in the funnel table; the département's overall rate).

The total column is the same for every dimension (the same contracts, partitioned differently), so
its cells are shared: a total hidden for one dimension is hidden for all.

Rules (:func:`family_pattern`), on each cell ``(n, k)`` = (contracts observed over the horizon,
ruptures within it); a cell with ``n = 0`` is not published (no row) and is known to be empty:

* **primary**: ``n < min_n`` (reason ``"effectif < 20"``), or ``k`` of 1 or 2 (``"1 ou 2 ruptures"``),
  or ``n - k`` of 1 or 2 (``"1 ou 2 contrats non rompus"``): counts 1-2 are never printed;
* **secondary**: every line (a row with its total, a column with its département cell) is an
  equation ``sum of the cells = margin``; a line with exactly one hidden cell would reveal it, and a
  line whose hidden cells are all on the same side of the equation and add up to their lower bounds
  (no rupture in any, no contract without rupture in any, one contract each) would reveal them all.
  In such a line the smallest visible cell (preferring one with both ruptures and non-ruptures) is
  hidden too (reason ``"secondaire"``), until no line changes.

A hidden cell hides its count of contracts, its ruptures, its rate and interval: the reports show the
same mark for every hidden cell (primary or secondary), so the reader cannot tell which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core.errors import DataError
from aioa_analysis.stats import rates

DEPARTEMENT: Final = "ensemble"
"""``cfa`` of the département row (the département report's tables)."""

TOTAL: Final = "ensemble"
"""``dimension`` and ``category`` of the total column (each CFA's overall rate)."""

PUBLICATION_DIMENSIONS: Final = (
    "sector",
    "diploma_level",
    "diploma_family",
    "cohort",
    "start_year",
    "territory",
    "age_band",
    "employer_size",
)
"""Dimensions the reports publish by CFA and for the département (rate tables at the horizon; the
last three: the « Profils » section)."""

PRIMARY_N: Final = "effectif < {min_n}"
PRIMARY_K: Final = "1 ou 2 ruptures"
PRIMARY_NK: Final = "1 ou 2 contrats non rompus"
PRIMARY_COUNT: Final = "effectif de 1 ou 2"
SECONDARY: Final = "secondaire"
UNPROTECTED: Final = "non protégeable"
PATTERN_COLUMNS: Final = ("dimension", "cfa", "category", "n", "k", "suppressed", "reason", "kind")


def family_cells(
    contracts: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    dimensions: Sequence[str] = PUBLICATION_DIMENSIONS,
    counts: Callable[[pd.DataFrame, list[str]], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The family's cells (``dimension``, ``cfa``, ``category``, ``n``, ``k``) from the département table.

    Interior cells (CFA x category), the département row (``cfa == DEPARTEMENT``), the total column
    (``dimension == category == TOTAL``) with the grand total. Cells with no observed contract are
    left out (the reports show no row for them). ``counts(contracts, by)`` returns the table of
    another family (columns ``by``, ``n``, ``k``); default: the rupture rate at ``horizon`` months
    (``n`` contracts observed, ``k`` ruptures).
    """

    def rate_counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        t = rates.rupture_rate_within(frame, as_of=as_of, by=by, horizon_months=horizon)
        return t.rename(columns={"n_contracts": "n", "n_ruptures": "k"})

    count = counts or rate_counts
    parts = []
    for dim in dimensions:
        parts.append(_cells(count(contracts, ["cfa", dim]), dim, "cfa", dim))
        parts.append(_cells(count(contracts, [dim]).assign(cfa=DEPARTEMENT), dim, "cfa", dim))
    parts.append(_cells(count(contracts, ["cfa"]).assign(_t=TOTAL), TOTAL, "cfa", "_t"))
    parts.append(_cells(count(contracts, []).assign(cfa=DEPARTEMENT, _t=TOTAL), TOTAL, "cfa", "_t"))
    cells = pd.concat(parts, ignore_index=True)
    return cells.loc[cells["n"] > 0].reset_index(drop=True)


def _cells(t: pd.DataFrame, dim: str, cfa: str, cat: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": dim,
            "cfa": t[cfa].astype(str).to_numpy(),
            "category": t[cat].astype(str).to_numpy(),
            "n": t["n"].astype("int64").to_numpy(),
            "k": t["k"].astype("int64").to_numpy(),
        }
    )


def primary_reasons(n: pd.Series, k: pd.Series, *, min_n: int) -> pd.Series:
    """The primary reason of each cell (``""`` when the cell can be published).

    >>> primary_reasons(pd.Series([5, 40, 40, 40, 40]), pd.Series([0, 2, 38, 0, 10]), min_n=20).tolist()
    ['effectif < 20', '1 ou 2 ruptures', '1 ou 2 contrats non rompus', '', '']
    """
    n, k = n.astype("int64"), k.astype("int64")
    reason = pd.Series("", index=n.index, dtype=object)
    reason = reason.mask((n - k).between(1, 2), PRIMARY_NK)
    reason = reason.mask(k.between(1, 2), PRIMARY_K)
    return reason.mask(n < min_n, PRIMARY_N.format(min_n=min_n))


def family_lines(cells: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every published equation of the family: ``(positions, signs)``, with ``sum(sign * cell) = 0``.

    Interior cells have sign +1, the line's margin -1. Rows: a CFA's (or the département's) cells of
    one dimension and its total; columns: one category's cells and its département cell; the total
    column: every CFA's total and the grand total.
    """
    pos = {
        key: i for i, key in enumerate(zip(cells["dimension"], cells["cfa"], cells["category"], strict=True))
    }
    lines: list[tuple[np.ndarray, np.ndarray]] = []

    def add(interior: np.ndarray, margin: int | None) -> None:
        if margin is not None and len(interior):
            lines.append((np.append(interior, margin), np.append(np.ones(len(interior)), -1.0)))

    grand_total = pos.get((TOTAL, DEPARTEMENT, TOTAL))
    for dim, block in cells.loc[cells["dimension"] != TOTAL].groupby("dimension", sort=False):
        for cfa, row in block.groupby("cfa", sort=False):
            add(row.index.to_numpy(), pos.get((TOTAL, str(cfa), TOTAL)))
        inner = block.loc[block["cfa"] != DEPARTEMENT]
        for cat, col in inner.groupby("category", sort=False):
            add(col.index.to_numpy(), pos.get((str(dim), DEPARTEMENT, str(cat))))
    totals = cells.loc[(cells["dimension"] == TOTAL) & (cells["cfa"] != DEPARTEMENT)]
    add(totals.index.to_numpy(), grand_total)
    return lines


def _line_unsafe(
    hidden: np.ndarray, signs: np.ndarray, n: np.ndarray, k: np.ndarray, count: bool = False
) -> bool:
    """Whether a line reveals one of its hidden cells (see the module's rules).

    ``count``: the cells are counts ``n`` only (``k`` unused); the hidden cells of a line whose sum
    is known, each at least 1, reveal a count of 1 or 2 when their sum leaves none of them 3 or more.
    """
    count_hidden = int(hidden.sum())
    if count_hidden == 0:
        return False
    if count_hidden == 1:
        return True
    if len(set(signs[hidden].tolist())) > 1:
        return False
    hn, hk = n[hidden], k[hidden]
    if count:
        return bool(hn.sum() - (count_hidden - 1) < 3)
    return bool(hk.sum() == 0 or (hn - hk).sum() == 0 or hn.sum() == count_hidden)


def _complement(
    current: int,
    lines: list[tuple[np.ndarray, np.ndarray]],
    member: list[list[int]],
    hidden: np.ndarray,
    cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    count: bool = False,
) -> int | None:
    """The cell to hide in the unsafe line ``current``: the one that unsettles the fewest other lines.

    Hiding a cell can make another line it belongs to unsafe; fixing a line that has nothing left to
    hide but totals would hide a CFA's overall rate in every dimension, so such a cell costs much
    more. Ties go to cells with both ruptures and non-ruptures, then to the smallest cell.
    """
    n, k, is_total = cells
    idx = lines[current][0]
    visible = idx[~hidden[idx]]
    if not len(visible):
        return None
    cost = np.zeros(len(visible))
    for j, c in enumerate(visible):
        trial = hidden.copy()
        trial[c] = True
        cost[j] += 1000 * is_total[c]
        for li in member[c]:
            other, signs = lines[li]
            if li == current or not _line_unsafe(trial[other], signs, n[other], k[other], count):
                continue
            rest = other[~trial[other]]
            cost[j] += 1 if (~is_total[rest]).any() and len(rest) > 1 else 100
    mixed = (k[visible] > 0) & (n[visible] - k[visible] > 0)
    order = np.lexsort((visible, n[visible], ~mixed, cost))
    return int(visible[order[0]])


def family_pattern(
    cells: pd.DataFrame, *, min_n: int, forced: object = None, count: bool = False
) -> pd.DataFrame:
    """Primary then secondary suppression of the family's cells (:func:`family_cells`), jointly.

    Returns the cells with ``suppressed`` (bool), ``reason`` (French, ``""`` when published) and
    ``kind`` (``"primary"``, ``"secondary"`` or ``""``). Pure: the input is not modified.
    ``forced``: booleans aligned on ``cells``, cells hidden from the start whatever their counts
    (reason ``"secondaire"``), e.g. the cells another family hides and this one would reveal.
    ``count``: the cells are counts (``n``, e.g. ruptures of one reason; ``k`` unused): a count of 1 or
    2 is primary (:data:`PRIMARY_COUNT`), and a line is unsafe as :func:`_line_unsafe` says for counts.
    """
    out = cells.reset_index(drop=True)
    n, k = out["n"].to_numpy(dtype="int64"), out["k"].to_numpy(dtype="int64")
    if (k > n).any() or (k < 0).any():
        raise DataError("a cell has more ruptures than contracts", hint="check the family's cells")
    reason = (
        out["n"].between(1, 2).map({True: PRIMARY_COUNT, False: ""})
        if count
        else primary_reasons(out["n"], out["k"], min_n=min_n)
    ).to_numpy(dtype=object, copy=True)
    hidden = reason != ""
    kind = np.where(hidden, "primary", "").astype(object)
    if forced is not None:
        extra = np.asarray(forced, dtype=bool) & ~hidden
        reason[extra], kind[extra], hidden = SECONDARY, "secondary", hidden | extra
    lines = family_lines(out)
    member: list[list[int]] = [[] for _ in range(len(out))]
    for li, (idx, _) in enumerate(lines):
        for c in idx:
            member[c].append(li)
    is_total = (out["dimension"] == TOTAL).to_numpy()
    for _ in range(len(out) + 1):
        changed = False
        for li, (idx, signs) in enumerate(lines):
            if not _line_unsafe(hidden[idx], signs, n[idx], k[idx], count):
                continue
            pick = _complement(li, lines, member, hidden, (n, k, is_total), count)
            if pick is None:
                continue
            hidden[pick], reason[pick], kind[pick], changed = True, SECONDARY, "secondary", True
        if not changed:
            break
    for idx, signs in lines:  # lines nothing more can protect (every cell already hidden)
        if _line_unsafe(hidden[idx], signs, n[idx], k[idx], count):
            reason[idx[hidden[idx]]] = [f"{r}; {UNPROTECTED}" for r in reason[idx[hidden[idx]]]]
    return out.assign(suppressed=hidden, reason=reason, kind=kind)[list(PATTERN_COLUMNS)]


def publication_pattern(
    contracts: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    dimensions: Sequence[str] = PUBLICATION_DIMENSIONS,
) -> pd.DataFrame:
    """:func:`family_pattern` of :func:`family_cells`: the suppression pattern of the whole family.

    ``contracts`` is the département table (every CFA), the same in every report of a run, so every
    report computes the same pattern.
    """
    cells = family_cells(contracts, as_of=as_of, horizon=horizon, dimensions=dimensions)
    return family_pattern(cells, min_n=min_n)


def apply_pattern(
    table: pd.DataFrame,
    pattern: pd.DataFrame,
    *,
    dimension: str,
    cfa: str = DEPARTEMENT,
    column: str | None = None,
    n_col: str = "n_contracts",
    k_col: str = "n_ruptures",
) -> pd.DataFrame:
    """A report's rate table with ``suppressed`` / ``suppression_reason`` taken from the family's pattern.

    ``table`` is one row of the family (``cfa``: the CFA of a CFA report, :data:`DEPARTEMENT` for the
    département report; ``dimension``: a dimension of the pattern, or :data:`TOTAL` for the overall rate
    or for the funnel table, whose rows are the CFAs: then ``column`` names the CFA column and ``cfa``
    is ignored). Rows with no observed contract keep their flags (nothing to publish). The counts
    must be those of the pattern (same contracts): otherwise :class:`DataError`. ``n_col`` / ``k_col``:
    the table's columns holding the cells' ``n`` and ``k`` (another family, e.g. the 45 days').
    """
    sel = pattern.loc[pattern["dimension"] == dimension]
    if dimension == TOTAL and column is not None:
        sel = sel.loc[sel["cfa"] != DEPARTEMENT]
        keys, cat_col = table[column].astype(str), "cfa"
    else:
        sel = sel.loc[sel["cfa"] == cfa]
        keys = (
            table[column or dimension].astype(str)
            if dimension != TOTAL
            else pd.Series(TOTAL, index=table.index)
        )
        cat_col = "category"
    cells = sel.set_index(cat_col)
    n = pd.to_numeric(table[n_col], errors="coerce").fillna(0).astype("int64")
    has = (n > 0).to_numpy() & keys.isin(cells.index).to_numpy()
    if ((n > 0).to_numpy() & ~has).any():
        raise DataError(f"rows of the table are not cells of the pattern ({dimension}, {cfa})")
    found = cells.reindex(keys[has])
    same = (found["n"].to_numpy() == n[has].to_numpy()) & (
        found["k"].to_numpy() == table.loc[has, k_col].astype("int64").to_numpy()
    )
    if not same.all():
        raise DataError(f"the table's counts differ from the family's cells ({dimension}, {cfa})")
    suppressed = table["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool, copy=True)
    reason = (
        table.get("suppression_reason", pd.Series("", index=table.index)).astype(object).to_numpy(copy=True)
    )
    suppressed[has] = found["suppressed"].to_numpy(dtype=bool)
    reason[has] = found["reason"].to_numpy(dtype=object)
    return table.assign(suppressed=suppressed, suppression_reason=pd.array(reason, dtype="string"))
