"""Public dimension names (``--by cfa,sector``) resolved to columns of the contract table.

The public names are the keys of :data:`aioa_analysis.schema.DIMENSIONS`. Two are derived on the fly
from ``start_date``: ``start_month`` (1..12) and ``start_year``. Output tables name their dimension
columns by the **public** name (``cfa``, not ``cfa_uai``), so a table says what ``--by`` asked for.

Missing values policy: a contract whose dimension value is missing (NA or blank) is **kept** and put
in an explicit group labelled ``"inconnu"`` (:data:`UNKNOWN`), so that the groups of a table always
add up to the whole. ``start_month``/``start_year`` are integers (``Int64``) and stay NA when the
start date is missing (the estimators drop contracts without a start date anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from aioa_analysis.errors import ParameterError
from aioa_analysis.schema import DIMENSIONS, C

UNKNOWN = "inconnu"
"""Label of the group of contracts whose dimension value is missing."""

DERIVED = ("start_month", "start_year")
"""Dimensions computed from ``start_date`` rather than read from a column."""


def valid_dimensions() -> list[str]:
    """The public dimension names, in the order of :data:`~aioa_analysis.schema.DIMENSIONS`.

    >>> valid_dimensions()[:3]
    ['cfa', 'sector', 'sector_group']
    """
    return list(DIMENSIONS)


def parse_dimensions(by: str | Iterable[str] | None) -> list[str]:
    """Validate dimension names (a comma-separated string or a sequence); return them as a list.

    Empty names are ignored and duplicates removed (first occurrence kept). An unknown name raises a
    one-line :class:`~aioa_analysis.errors.ParameterError` that lists the valid choices.

    Examples
    --------
    >>> parse_dimensions("cfa, sector")
    ['cfa', 'sector']
    >>> parse_dimensions(None)
    []
    >>> parse_dimensions(["cfa", "secteur"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    aioa_analysis.errors.ParameterError: unknown dimension 'secteur' — choose among: cfa, sector, ...
    """
    if by is None:
        return []
    items = by.split(",") if isinstance(by, str) else list(by)
    out: list[str] = []
    for raw in items:
        if not isinstance(raw, str):
            raise ParameterError(
                f"dimension {raw!r} is not a name", hint=f"choose among: {', '.join(DIMENSIONS)}"
            )
        name = raw.strip()
        if not name:
            continue
        if name not in DIMENSIONS:
            raise ParameterError(f"unknown dimension {name!r}", hint=f"choose among: {', '.join(DIMENSIONS)}")
        if name not in out:
            out.append(name)
    return out


def dimension_values(contracts: pd.DataFrame, name: str) -> pd.Series:
    """The values of the public dimension ``name`` for each contract (aligned on ``contracts.index``).

    String dimensions: missing or blank values become ``"inconnu"``; a dimension whose column is
    absent from the table is ``"inconnu"`` for every contract. ``start_month``/``start_year`` are
    ``Int64`` computed from ``start_date``.

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02", None]),
    ...                    "sector": pd.array(["construction", None], dtype="string")})
    >>> dimension_values(df, "start_month").tolist(), dimension_values(df, "sector").tolist()
    ([9, <NA>], ['construction', 'inconnu'])
    """
    (name,) = parse_dimensions([name])
    if name in DERIVED:
        start = pd.to_datetime(contracts[C.start_date])
        part = start.dt.month if name == "start_month" else start.dt.year
        return part.astype("Int64").rename(name)
    col = DIMENSIONS[name]
    if col not in contracts.columns:
        return pd.Series(UNKNOWN, index=contracts.index, dtype="string", name=name)
    s = contracts[col].astype("string").str.strip()
    return s.mask(s.isna() | (s == ""), UNKNOWN).astype("string").rename(name)


def with_dimensions(
    contracts: pd.DataFrame, by: str | Sequence[str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """Return ``contracts`` with one column per public dimension of ``by`` added, and the names.

    The input is not modified. A public name equal to an existing column (``sector``) replaces it by
    its normalised values (``"inconnu"`` for missing ones).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02"]),
    ...                    "cfa_uai": pd.array([None], dtype="string")})
    >>> out, names = with_dimensions(df, "cfa,start_year")
    >>> names, out["cfa"].tolist(), out["start_year"].tolist()
    (['cfa', 'start_year'], ['inconnu'], [2024])
    """
    names = parse_dimensions(by)
    return contracts.assign(**{n: dimension_values(contracts, n) for n in names}), names


def group_codes(frame: pd.DataFrame, names: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Integer group code of each row for the columns ``names``, and the table of group keys.

    Codes are ``0..G-1`` in sorted key order; ``keys`` has one row per group (columns ``names``), in
    code order. With no names, every row is in the single group 0 and ``keys`` has one row and no
    column. Used to aggregate with ``numpy.bincount`` (fast on millions of rows).

    >>> codes, keys = group_codes(pd.DataFrame({"sex": ["M", "F", "M"]}), ["sex"])
    >>> codes.tolist(), keys["sex"].tolist()
    ([1, 0, 1], ['F', 'M'])
    """
    names = list(names)
    if not names:
        return pd.Series(0, index=frame.index, dtype="int64"), pd.DataFrame(index=pd.RangeIndex(1))
    grouped = frame.groupby(names, dropna=False, sort=True, observed=True)
    codes = grouped.ngroup().astype("int64")
    keys = grouped.size().reset_index()[names]
    return codes, keys


MIN_N_DEFAULT = 20
"""Smallest denominator for which a rate is shown (InserJeunes/DEPP rule)."""


def small_denominator_flags(n: pd.Series, *, min_n: int = MIN_N_DEFAULT) -> tuple[pd.Series, pd.Series]:
    """Primary suppression of a rate: ``suppressed`` (bool) where ``n < min_n``, and the reason.

    The one place where the rule lives; the estimators flag with it and
    :mod:`aioa_analysis.suppression` builds the publication step (secondary suppression) on it.

    >>> s, r = small_denominator_flags(pd.Series([5, 20]), min_n=20)
    >>> s.tolist(), r.tolist()
    ([True, False], ['effectif < 20', ''])
    """
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise ParameterError(f"min_n={min_n!r} is not a non-negative integer", hint="use e.g. min_n=20")
    values = pd.Series(n).astype("float64")
    small = (values.fillna(0) < min_n).astype(bool)
    reason = pd.Series("", index=values.index, dtype="string").mask(small, f"effectif < {min_n}")
    return small.rename("suppressed"), reason.rename("suppression_reason")
