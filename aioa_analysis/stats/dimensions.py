"""Public dimension names (``--by cfa,sector``) resolved to columns of the contract table.

The public names are the keys of :data:`aioa_analysis.core.schema.DIMENSIONS`. Two are derived on the fly
from ``start_date``: ``start_month`` (1..12) and ``start_year``. Output tables name their dimension
columns by the **public** name (``cfa``, not ``cfa_uai``), so a table says what ``--by`` asked for.

Missing values policy: a contract whose dimension value is missing (NA or blank) is **kept** and put
in an explicit group labelled ``"inconnu"`` (:data:`UNKNOWN`), so that the groups of a table always
add up to the whole. ``start_month``/``start_year`` are integers (``Int64``) and stay NA when the
start date is missing (the estimators drop contracts without a start date anyway).

Natural order of the groups (:func:`category_sort_key`, :func:`sort_by_dimensions`, used by
:func:`group_codes`, hence by every estimator built on it): employer size bands in
:data:`~aioa_analysis.core.schema.SIZE_BANDS` order, age bands in :data:`~aioa_analysis.core.schema.AGE_BANDS`
order, sector groups, diploma outcomes and contract kinds in their schema order, Mission Locale
territories in the referential's order then ``hors_41``, diploma levels, cohorts, start months and
years numerically (chronologically), anything else alphabetically; ``"inconnu"`` and missing values
always last. The order never changes a computed number, only the order of the rows.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import (
    AGE_BANDS,
    CONTRACT_KINDS,
    DIMENSIONS,
    DIPLOMA_OUTCOMES,
    SECTOR_GROUPS,
    SIZE_BANDS,
    C,
)
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, NOT_OBSERVABLE, small_denominator_flags

__all__ = [  # the suppression rule is re-exported here, where the estimators used to find it
    "DERIVED",
    "MIN_N_DEFAULT",
    "NOT_OBSERVABLE",
    "NUMERIC_DIMENSIONS",
    "UNKNOWN",
    "category_order",
    "category_rank",
    "category_sort_key",
    "dimension_values",
    "group_codes",
    "parse_dimensions",
    "small_denominator_flags",
    "sort_by_dimensions",
    "valid_dimensions",
    "with_dimensions",
]

UNKNOWN = "inconnu"
"""Label of the group of contracts whose dimension value is missing."""

DERIVED = ("start_month", "start_year")
"""Dimensions computed from ``start_date`` rather than read from a column."""


def valid_dimensions() -> list[str]:
    """The public dimension names, in the order of :data:`~aioa_analysis.core.schema.DIMENSIONS`.

    >>> valid_dimensions()[:3]
    ['cfa', 'sector', 'sector_group']
    """
    return list(DIMENSIONS)


def parse_dimensions(by: str | Iterable[str] | None) -> list[str]:
    """Validate dimension names (a comma-separated string or a sequence); return them as a list.

    Empty names are ignored and duplicates removed (first occurrence kept). An unknown name raises a
    one-line :class:`~aioa_analysis.core.errors.ParameterError` that lists the valid choices.

    Examples
    --------
    >>> parse_dimensions("cfa, sector")
    ['cfa', 'sector']
    >>> parse_dimensions(None)
    []
    >>> parse_dimensions(["cfa", "secteur"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: unknown dimension 'secteur' — choose among: cfa, sector, ...
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


NUMERIC_DIMENSIONS = ("diploma_level", "cohort", "start_month", "start_year")
"""Dimensions ordered by the number they start with (level 3 < 4 < ... ; cohort 2023-2024 < 2024-2025)."""

_LEADING_NUMBER = re.compile(r"\s*(-?\d+(?:[.,]\d+)?)")


@lru_cache(maxsize=1)
def _territory_order() -> tuple[str, ...]:
    mission_locales = tuple(dict.fromkeys(referential.territories()["territory"].astype(str)))
    return (*mission_locales, "hors_41")


def category_order(name: str) -> tuple[str, ...] | None:
    """The fixed order of the values of a categorical dimension, or None (numeric/alphabetical).

    ``name`` is a public dimension name or its column in the contract table.

    >>> category_order("employer_size")
    ('0-4', '5-9', '10-49', '50-249', '250+')
    >>> category_order("employer_size_band") == category_order("employer_size")
    True
    >>> category_order("cfa") is None
    True
    """
    public = _public_name(name)
    fixed: dict[str, tuple[str, ...]] = {
        "employer_size": tuple(SIZE_BANDS),
        "age_band": tuple(AGE_BANDS),
        "sector_group": tuple(SECTOR_GROUPS),
        "diploma_outcome": tuple(DIPLOMA_OUTCOMES),
        "contract_kind": tuple(CONTRACT_KINDS),
    }
    if public == "territory":
        return _territory_order()
    return fixed.get(public)


def _public_name(name: Hashable) -> str:
    text = str(name)
    if text in DIMENSIONS:
        return text
    for public, col in DIMENSIONS.items():
        if col == text:
            return public
    return text


def _leading_number(value: object) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, numbers.Number):
        return float(value)  # type: ignore[arg-type]
    match = _LEADING_NUMBER.match(str(value))
    return float(match.group(1).replace(",", ".")) if match else None


def category_sort_key(name: Hashable) -> Callable[[object], tuple[int, float, str]]:
    """A ``key=`` function putting the (non-missing) values of dimension ``name`` in natural order.

    The key is a tuple ``(rank class, number, text)``: values of a fixed order (see
    :func:`category_order`) by their position, then values outside it; numeric dimensions
    (:data:`NUMERIC_DIMENSIONS`, or any value that is a number) by their leading number; the others
    alphabetically; ``"inconnu"`` always last. Missing values are handled by the callers (last).

    >>> sorted(["250+", "0-4", "inconnu", "10-49", "5-9"], key=category_sort_key("employer_size"))
    ['0-4', '5-9', '10-49', '250+', 'inconnu']
    >>> sorted(["inconnu", "10", "3", "5"], key=category_sort_key("diploma_level"))
    ['3', '5', '10', 'inconnu']
    """
    public = _public_name(name)
    order = category_order(public)
    position = {v: i for i, v in enumerate(order)} if order else {}
    numeric = public in NUMERIC_DIMENSIONS

    def key(value: object) -> tuple[int, float, str]:
        text = str(value)
        if text in position:
            return (0, float(position[text]), "")
        if text == UNKNOWN:
            return (3, 0.0, "")
        number = _leading_number(value) if numeric or isinstance(value, numbers.Number) else None
        if number is not None:
            return (1, number, text)
        return (2, 0.0, text)

    return key


def category_rank(values: pd.Series, name: Hashable | None = None) -> pd.Series:
    """Rank (float, 0 = first) of each value in the natural order of dimension ``name``; NaN if missing.

    ``name`` defaults to ``values.name``. Usable as ``DataFrame.sort_values(key=category_rank)``.

    >>> category_rank(pd.Series(["5-9", "0-4", None, "250+"], name="employer_size")).tolist()
    [1.0, 0.0, nan, 2.0]
    """
    key = category_sort_key(values.name if name is None else name)
    present = values[values.notna()]
    uniques = sorted(pd.unique(present.to_numpy(dtype=object)), key=key)
    rank = {v: float(i) for i, v in enumerate(uniques)}
    out = np.full(len(values), np.nan)
    mask = values.notna().to_numpy(dtype=bool)
    out[mask] = [rank[v] for v in present.to_numpy(dtype=object)]
    return pd.Series(out, index=values.index, name=values.name)


def sort_by_dimensions(table: pd.DataFrame, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of ``table`` sorted by the natural order of its dimension columns (stable; index reset).

    ``names`` defaults to the columns of ``table`` that are public dimension names or dimension
    columns of the contract table, in the table's column order. Values are not changed.

    >>> t = pd.DataFrame({"age_band": ["26+", "inconnu", "15-17", "20-25"], "n_contracts": [1, 2, 3, 4]})
    >>> sort_by_dimensions(t)["age_band"].tolist()
    ['15-17', '20-25', '26+', 'inconnu']
    """
    if names is None:
        dims = set(DIMENSIONS) | set(DIMENSIONS.values())
        names = [c for c in table.columns if c in dims]
    names = list(names)
    if not names:
        return table.reset_index(drop=True)
    return table.sort_values(names, key=category_rank, kind="stable", na_position="last").reset_index(
        drop=True
    )


def group_codes(frame: pd.DataFrame, names: Sequence[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Integer group code of each row for the columns ``names``, and the table of group keys.

    Codes are ``0..G-1`` in the natural order of the keys (:func:`category_sort_key`, first column
    first; ``"inconnu"`` and missing values last); ``keys`` has one row per group (columns
    ``names``), in code order. With no names, every row is in the single group 0 and ``keys`` has
    one row and no column. Used to aggregate with ``numpy.bincount`` (fast on millions of rows).

    >>> codes, keys = group_codes(pd.DataFrame({"sex": ["M", "F", "M"]}), ["sex"])
    >>> codes.tolist(), keys["sex"].tolist()
    ([1, 0, 1], ['F', 'M'])
    >>> codes, keys = group_codes(pd.DataFrame({"employer_size": ["5-9", "10-49", "inconnu"]}),
    ...                           ["employer_size"])
    >>> codes.tolist(), keys["employer_size"].tolist()
    ([0, 1, 2], ['5-9', '10-49', 'inconnu'])
    """
    names = list(names)
    if not names:
        return pd.Series(0, index=frame.index, dtype="int64"), pd.DataFrame(index=pd.RangeIndex(1))
    grouped = frame.groupby(names, dropna=False, sort=True, observed=True)
    codes = grouped.ngroup().astype("int64")
    keys = grouped.size().reset_index()[names]
    order = keys.sort_values(names, key=category_rank, kind="stable", na_position="last").index.to_numpy()
    new_code = np.empty(len(keys), dtype="int64")
    new_code[order] = np.arange(len(keys), dtype="int64")
    return (
        pd.Series(new_code[codes.to_numpy()], index=codes.index, dtype="int64"),
        keys.loc[order].reset_index(drop=True),
    )
