"""What comes from data never harms where it lands: cells a spreadsheet would evaluate, file names.

* A text cell starting with ``= + - @`` (or a tab or carriage return) is a formula to a spreadsheet
  that opens the CSV or workbook (OWASP "CSV injection"): :func:`neutralise_cell` prefixes it with an
  apostrophe, which spreadsheets show as text; every CSV and workbook the package writes goes through
  :func:`neutralise_frame`.
* A code from a data file (a CFA's UAI) becomes part of a file name only if it matches a strict
  pattern; anything else is replaced by a short digest (:func:`safe_stem`), and every path the package
  writes is checked to lie inside its output root (:func:`inside`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis.core.config import is_within
from aioa_analysis.core.errors import OutputError

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet evaluate a cell (OWASP)."""

UAI_PATTERN: Final = re.compile(r"[0-9]{7}[A-Z]")
"""A UAI as a file name may carry it: seven digits and a capital letter, nothing else."""


def neutralise_cell(text: str) -> str:
    """``'=HYPERLINK(...)'`` -> ``"'=HYPERLINK(...)"``; other text unchanged.

    >>> neutralise_cell("=1+1"), neutralise_cell("@SUM(A1)"), neutralise_cell("Léa")
    ("'=1+1", "'@SUM(A1)", 'Léa')
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be evaluated by a spreadsheet (numbers untouched).

    >>> df = pd.DataFrame({"reason": ["=cmd|' /C calc'!A0", "ok", None], "n": [-1, 2, 3]})
    >>> out = neutralise_frame(df)
    >>> out["reason"].tolist()[:2], out["reason"].isna().tolist(), out["n"].tolist()
    (["'=cmd|' /C calc'!A0", 'ok'], [False, False, True], [-1, 2, 3])
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
            continue
        text = s.astype("string")
        risky = text.str.startswith(FORMULA_TRIGGERS).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            out[col] = s.mask(risky, ("'" + text).astype(s.dtype))
    return out


def safe_stem(code: object) -> str:
    """A file-name stem for ``code``: the UAI itself when it is one, else ``x`` + 12 hex digits.

    >>> safe_stem("0410590U"), safe_stem("../../etc/passwd"), safe_stem("0410590U/..")
    ('0410590U', 'x3754d6cb3a38', 'xb9fedad226c2')
    """
    text = str(code)
    if UAI_PATTERN.fullmatch(text):
        return text
    return "x" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def inside(root: str | Path, path: str | Path) -> Path:
    """``path`` resolved, after checking that it lies inside ``root``; else an :class:`OutputError`.

    >>> inside("/tmp/out", "/tmp/out/cfa/a.html").name
    'a.html'
    >>> inside("/tmp/out", "/tmp/out/../../etc/a.html")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.OutputError: refusing to write /etc/a.html: outside the output folder /tmp/out
    """
    base, target = Path(root).resolve(), Path(path).resolve()
    if not is_within(target, base):
        raise OutputError(f"refusing to write {target}: outside the output folder {base}")
    return target
