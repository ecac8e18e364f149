"""From a table as read (positional string columns) to the raw canonical frame.

Vectorised: one pandas operation per canonical column, no per-row Python loop.
"""

from __future__ import annotations

import re
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.schema import REJECTED_COLUMNS, C
from aioa_analysis.ingest.readers.aliases import APPRENTICE_ID, CONTRACT_INDEX, JOINED_COLUMNS

STRING = pd.StringDtype()

CODE_COLUMNS: tuple[str, ...] = (
    C.contract_id,
    C.amendment_no,
    C.employer_siret,
    C.cfa_siret,
    C.training_site_siret,
    C.diploma_code,
    C.residence_postcode,
    C.employer_postcode,
    C.employer_idcc,
    C.commune,
    C.ine,
    APPRENTICE_ID,
)
"""Code columns where a number written by a spreadsheet (``1000.0``, ``4.4492238900010E+13``) is
turned back into its integer text when that is exact."""

MIN_SIGNIFICANT_DIGITS = 12
_ORDER = {getattr(C, f.name): i for i, f in enumerate(fields(C))}
_TRAILING_ZERO_DECIMALS = re.compile(r"^(\d+)[.,]0+$")
_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_NUMBER_LIKE = r"^\d+(?:[.,]0+|(?:[.,]\d+)?[eE]\+?\d+)$"


def fix_code_text(s: pd.Series) -> pd.Series:
    """Undo a spreadsheet's number formatting of a code when it is exactly recoverable.

    Only values that look like a formatted number are touched (vectorised tests, then Python on
    those few values).

    Examples
    --------
    >>> fix_code_text(pd.Series(["41000.0", "4,4492238900010E+13", "4.4492E+13", "0410590U", None],
    ...                         dtype="string")).tolist()
    ['41000', '44492238900010', '4.4492E+13', '0410590U', <NA>]
    """
    s = s.astype(STRING)
    # every value the pattern can match holds a '.', ',' or 'e': plain ASCII digits are skipped
    digits = pc.fill_null(pc.ascii_is_decimal(_arrow(s)), True).to_numpy(zero_copy_only=False)
    pos = np.flatnonzero(~np.asarray(digits, dtype=bool))
    if len(pos) == 0:
        return s
    like = s.iloc[pos].str.contains(_NUMBER_LIKE, regex=True).fillna(False).astype(bool).to_numpy()
    pos = pos[like]
    # fewer than MIN_SIGNIFICANT_DIGITS characters before the exponent (a diploma code such as
    # 46E63428) cannot hold that many digits: such a value is kept as it is, no need to look at it
    e_at = _exponent_at(s.iloc[pos])
    pos = pos[(e_at < 0) | (e_at >= MIN_SIGNIFICANT_DIGITS)]
    if len(pos) == 0:
        return s
    suspects = s.iloc[pos]
    fixed = suspects.map(_exact_integer_text).astype(STRING)
    changed = (fixed != suspects).to_numpy(dtype=bool, na_value=False)
    if not changed.any():
        return s
    out = s.copy()
    out.iloc[pos[changed]] = fixed.iloc[np.flatnonzero(changed)].to_numpy()
    return out


def _exponent_at(s: pd.Series) -> np.ndarray:
    """Byte position of the first ``e``/``E`` of each (non-missing) value, -1 when there is none."""
    if len(s) == 0:
        return np.zeros(0, dtype=np.int64)
    arr = pa.array(s.array)  # type: ignore[call-overload]
    found = pc.find_substring_regex(arr, "[eE]")
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _exact_integer_text(text: str) -> str:
    m = _TRAILING_ZERO_DECIMALS.match(text)
    if m:
        return m.group(1)
    if not _SCIENTIFIC.match(text):
        return text
    mantissa, _, exponent = text.replace(",", ".").upper().partition("E")
    decimals = len(mantissa.partition(".")[2].rstrip("0"))
    significant = len(mantissa.replace(".", "").lstrip("0").rstrip("0"))
    try:
        exp = int(exponent)
        # a display rounded to a few digits (4.4492E+13) is not recoverable; a full-precision
        # spreadsheet number (>= 12 significant digits) is
        if exp < decimals or exp > 30 or significant < MIN_SIGNIFICANT_DIGITS:
            return text
        return str(int(Decimal(mantissa) * (Decimal(10) ** exp)))
    except (InvalidOperation, ValueError):
        return text


def combine_columns(frame: pd.DataFrame, positions: list[int], canonical: str) -> pd.Series:
    """One canonical column from one or several source columns.

    ``address``: non-empty parts joined with a space, in ``positions`` order; any other column: the
    first non-empty value in ``positions`` order.

    Examples
    --------
    >>> f = pd.DataFrame({0: ["12", None, None], 1: ["rue Haute", "place X", None]}, dtype="string")
    >>> combine_columns(f, [0, 1], "address").tolist()
    ['12 rue Haute', 'place X', <NA>]
    >>> combine_columns(f, [0, 1], "email").tolist()
    ['12', 'place X', <NA>]
    """
    series = [frame[p].astype(STRING) for p in positions]
    out = series[0]
    if len(series) == 1:
        return out
    if canonical in JOINED_COLUMNS:
        space = pa.scalar(" ", pa.large_string())
        joined = _arrow(series[0])
        for s in series[1:]:
            part = _arrow(s)
            # both present: "joined part"; else whichever is present (a null join falls through)
            joined = pc.coalesce(pc.binary_join_element_wise(joined, part, space), joined, part)
        out = pd.Series(pd.array(joined, dtype=STRING), index=out.index, name=out.name).str.strip()
        return out.mask(out == "").astype(STRING)
    for s in series[1:]:
        out = out.fillna(s)
    return out


def _arrow(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The values of a string Series as Arrow ``large_string``."""
    arr = pa.array(s.array)  # type: ignore[call-overload]
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def order_columns(columns: list[str]) -> list[str]:
    """Lineage first, then canonical columns in schema order, then extras (apprentice_id...)."""
    extras = {APPRENTICE_ID: 10_000, CONTRACT_INDEX: 10_001}
    return sorted(columns, key=lambda c: _ORDER.get(c, extras.get(c, 20_000)))


def canonical_frame(
    columns: dict[str, pd.Series], *, profile: str, path: Path, source_row: np.ndarray | pd.Series
) -> pd.DataFrame:
    """Assemble the raw canonical frame: lineage columns plus ``columns`` (all dtype string).

    Code columns go through :func:`fix_code_text`; ``source_row`` is ``Int64``.
    """
    n = len(source_row)
    data: dict[str, pd.Series] = {}
    for name in order_columns(list(columns)):
        s = columns[name].astype(STRING).reset_index(drop=True)
        data[name] = fix_code_text(s) if name in CODE_COLUMNS else s
    lineage = {
        C.source: _constant(profile, n),
        C.source_file: _constant(path.name, n),
        C.source_row: pd.Series(np.asarray(source_row, dtype=np.int64), dtype="Int64"),
    }
    return pd.DataFrame({**lineage, **data}, index=pd.RangeIndex(n))


def _constant(value: str, n: int) -> pd.Series:
    """A ``string`` Series of ``n`` times ``value`` (built by Arrow, not from a Python list)."""
    return pd.Series(pd.array(pa.repeat(pa.scalar(value, pa.large_string()), n), dtype=STRING))


def rejected_frame(records: list[dict[str, object]], path: Path) -> pd.DataFrame:
    """The rejected records as a :data:`~aioa_analysis.core.schema.REJECTED_COLUMNS` frame.

    ``source_row`` is ``Int64``, the other columns are strings.
    """
    frame = pd.DataFrame(
        {
            "source_file": pd.Series([path.name] * len(records), dtype=STRING),
            "source_row": pd.Series([r.get("source_row") for r in records], dtype="Int64"),
            "column": pd.Series([r.get("column", "") for r in records], dtype=STRING),
            "reason": pd.Series([r.get("reason", "") for r in records], dtype=STRING),
            "value": pd.Series([r.get("value", "") for r in records], dtype=STRING),
        }
    )
    return frame[list(REJECTED_COLUMNS)]
