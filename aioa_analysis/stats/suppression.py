"""Small numbers: primary and secondary suppression, applied at the publication step only.

The estimators keep every row and value; these pure functions add or update the columns
``suppressed`` (bool) and ``suppression_reason`` (French, for the report), and
:func:`mask_suppressed` produces the published view with hidden values set to NA.

Rules:

* **rates**: a rate whose denominator is below ``min_n`` (default 20, the InserJeunes/DEPP rule)
  is suppressed (reason ``"effectif < 20"``);
* **counts**: a count of 1 or 2 is suppressed (reason ``"effectif 1-2"``); 0 is shown;
* **empty groups**: a rate whose denominator is 0 is flagged with the reason ``"non observable"``
  (no contract observed for the horizon yet: there is no rate to show);
* **secondary suppression**: in every margin group (the rows sharing the values of all dimensions
  but one; with a single dimension, the whole table), when exactly one hidden cell has a
  **positive** value, the visible cell with the smallest positive value is hidden too (reason
  ``"secondaire"``), so that the margin total minus the visible cells never reveals a hidden one.
  Repeated until no margin group has a single hidden positive cell. A cell whose value is 0 reveals
  nothing, so it needs no protection, and hiding it protects nothing (the difference would still be
  the other hidden cell's value): zero cells never trigger secondary suppression and are never
  chosen as the complementary cell. When a margin group has no other positive cell to hide, its
  total must not be published either: such rows get ``"marge à masquer"`` appended to their reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from aioa_analysis.core.errors import ParameterError

MIN_N_DEFAULT = 20
"""Smallest denominator for which a rate is shown (InserJeunes/DEPP rule)."""


NOT_OBSERVABLE = "non observable"
"""Reason of a suppressed rate whose denominator is 0 (or missing): there is no rate to hide."""


def small_denominator_flags(n: pd.Series, *, min_n: int = MIN_N_DEFAULT) -> tuple[pd.Series, pd.Series]:
    """Primary suppression of a rate: ``suppressed`` (bool) where ``n < min_n``, and the reason.

    The reason is ``"effectif < {min_n}"``, or :data:`NOT_OBSERVABLE` (``"non observable"``) when
    the denominator is 0 or missing: such a group has no rate and reveals nothing, so secondary
    suppression does not protect it. The one place where the rule lives: the estimators flag their
    tables with it (:func:`flag_rates`), and the publication step builds the secondary suppression
    on it.

    >>> s, r = small_denominator_flags(pd.Series([5, 20, 0]), min_n=20)
    >>> s.tolist(), r.tolist()
    ([True, False, True], ['effectif < 20', '', 'non observable'])
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise ParameterError(f"min_n={min_n!r} is not a non-negative integer", hint="use e.g. min_n=20")
    values = pd.Series(n).astype("float64")
    small = (values.fillna(0) < min_n).astype(bool)
    empty = small & (values.fillna(0) <= 0)
    reason = (
        pd.Series("", index=values.index, dtype="string")
        .mask(small, f"effectif < {min_n}")
        .mask(empty, NOT_OBSERVABLE)
    )
    return small.rename("suppressed"), reason.rename("suppression_reason")


SECONDARY = "secondaire"
MARGIN_WARNING = "marge à masquer"
VALUE_COLUMNS = (
    "n_contracts",
    "n_ruptures",
    "rate",
    "ci_low",
    "ci_high",
    "n_ruptures_after_diploma",
    "share_of_ruptures",
    "share_ci_low",
    "share_ci_high",
)
"""Columns blanked by :func:`mask_suppressed` by default (when present)."""


def _check_columns(table: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ParameterError(
            f"table has no column(s) {', '.join(missing)}",
            hint=f"available columns: {', '.join(map(str, table.columns))}",
        )


def flag_rates(
    table: pd.DataFrame, *, min_n: int = MIN_N_DEFAULT, n_col: str = "n_contracts"
) -> pd.DataFrame:
    """Primary suppression of rates: ``suppressed`` where ``table[n_col] < min_n``.

    >>> out = flag_rates(pd.DataFrame({"n_contracts": [12, 40]}))
    >>> out["suppressed"].tolist(), out["suppression_reason"].tolist()
    ([True, False], ['effectif < 20', ''])
    """
    _check_columns(table, [n_col])
    suppressed, reason = small_denominator_flags(table[n_col], min_n=min_n)
    return table.assign(suppressed=suppressed.to_numpy(), suppression_reason=reason.to_numpy())


def flag_counts(
    table: pd.DataFrame, *, count_col: str = "n_ruptures", low: int = 1, high: int = 2
) -> pd.DataFrame:
    """Primary suppression of counts: ``suppressed`` where ``low <= table[count_col] <= high``.

    >>> flag_counts(pd.DataFrame({"n_ruptures": [0, 1, 2, 3]}))["suppressed"].tolist()
    [False, True, True, False]
    """
    _check_columns(table, [count_col])
    values = table[count_col].astype("float64")
    small = ((values >= low) & (values <= high)).fillna(False).to_numpy(dtype=bool)
    reason = np.where(small, f"effectif {low}-{high}", "")
    return table.assign(suppressed=small, suppression_reason=pd.array(reason, dtype="string"))


def secondary_suppression(table: pd.DataFrame, *, by: Sequence[str], value_col: str) -> pd.DataFrame:
    """Add secondary suppression to a table that already has a ``suppressed`` column.

    Parameters
    ----------
    table
        A tidy table with the dimension columns ``by``, ``value_col`` and ``suppressed`` (bool).
    by
        The dimension columns; each margin group is the set of rows sharing all of them but one.
    value_col
        The value the margins add up (``n_contracts`` for a rate table, the count for a count table).

    Examples
    --------
    >>> t = pd.DataFrame({"cfa": ["A", "B", "C", "D"], "n_contracts": [5, 30, 25, 80],
    ...                   "suppressed": [True, False, False, False],
    ...                   "suppression_reason": ["effectif < 20", "", "", ""]})
    >>> secondary_suppression(t, by=["cfa"], value_col="n_contracts")[["cfa", "suppressed"]]
      cfa  suppressed
    0   A        True
    1   B       False
    2   C        True
    3   D       False
    """
    by = list(by)
    _check_columns(table, [*by, value_col, "suppressed"])
    out = table.reset_index(drop=True)
    hidden = out["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool).copy()
    reason = (
        out["suppression_reason"].astype("string").fillna("")
        if "suppression_reason" in out
        else pd.Series("", index=out.index, dtype="string")
    ).to_numpy(dtype=object)
    values = out[value_col].astype("float64").fillna(0).to_numpy()
    positive = values > 0
    margins: list[list[str]] = [[c for c in by if c != d] for d in by] if by else []
    group_ids = [
        (
            out.groupby(others, dropna=False, sort=False).ngroup().to_numpy()
            if others
            else np.zeros(len(out), dtype="int64")
        )
        for others in margins
    ]

    def hidden_positive_per_group(gid: np.ndarray) -> np.ndarray:
        size = int(gid.max()) + 1 if len(gid) else 0
        return np.bincount(gid, weights=hidden & positive, minlength=size)[gid]

    for _ in range(len(out) + 1):
        changed = False
        for gid in group_ids:
            single = hidden_positive_per_group(gid) == 1
            candidates = single & ~hidden & positive
            if candidates.any():
                cand = pd.DataFrame(
                    {"g": gid[candidates], "v": values[candidates]}, index=np.flatnonzero(candidates)
                )
                pick = (
                    cand.sort_values(["v"], kind="stable").groupby("g", sort=False).head(1).index.to_numpy()
                )
                hidden[pick] = True
                reason[pick] = SECONDARY
                changed = True
        if not changed:
            break
    still_single = np.zeros(len(out), dtype=bool)
    for gid in group_ids:
        still_single |= (hidden_positive_per_group(gid) == 1) & hidden & positive
    warn = still_single
    reason = np.array(
        [
            f"{r}; {MARGIN_WARNING}" if w and r else (MARGIN_WARNING if w else r)
            for r, w in zip(reason, warn, strict=True)
        ],
        dtype=object,
    )
    return out.assign(suppressed=hidden, suppression_reason=pd.array(reason, dtype="string")).set_axis(
        table.index
    )


def suppress_rates(
    table: pd.DataFrame, *, by: Sequence[str], min_n: int = MIN_N_DEFAULT, n_col: str = "n_contracts"
) -> pd.DataFrame:
    """Primary (:func:`flag_rates`) then secondary suppression (on ``n_col``) of a rate table.

    >>> t = pd.DataFrame({"sex": ["F", "M"], "n_contracts": [8, 50], "rate": [0.25, 0.2]})
    >>> suppress_rates(t, by=["sex"])[["sex", "suppressed", "suppression_reason"]]
      sex  suppressed suppression_reason
    0   F        True      effectif < 20
    1   M        True         secondaire
    """
    return secondary_suppression(flag_rates(table, min_n=min_n, n_col=n_col), by=by, value_col=n_col)


def suppress_counts(
    table: pd.DataFrame, *, by: Sequence[str], count_col: str = "n_ruptures", low: int = 1, high: int = 2
) -> pd.DataFrame:
    """Primary (:func:`flag_counts`) then secondary suppression (on ``count_col``) of a count table.

    >>> t = pd.DataFrame({"phase": ["0-45j", "46j-3m", "3-6m"], "n_ruptures": [2, 10, 7]})
    >>> suppress_counts(t, by=["phase"])["suppressed"].tolist()
    [True, False, True]
    """
    return secondary_suppression(
        flag_counts(table, count_col=count_col, low=low, high=high), by=by, value_col=count_col
    )


def mask_suppressed(table: pd.DataFrame, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The published view: values of suppressed rows set to NA in ``columns``.

    Default columns: those of :data:`VALUE_COLUMNS` present in the table. Counts become ``Int64``.

    >>> t = pd.DataFrame({"n_contracts": [8, 50], "rate": [0.25, 0.2], "suppressed": [True, False]})
    >>> mask_suppressed(t)
       n_contracts  rate  suppressed
    0         <NA>   NaN        True
    1           50   0.2       False
    """
    _check_columns(table, ["suppressed"])
    cols = [c for c in (columns if columns is not None else VALUE_COLUMNS) if c in table.columns]
    hide = table["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    updates = {}
    for c in cols:
        s = table[c]
        if pd.api.types.is_integer_dtype(s.dtype):
            s = s.astype("Int64")
        updates[c] = s.mask(hide)
    return table.assign(**updates)
