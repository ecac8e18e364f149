"""SIFA files (DEPP): 47 fixed columns, no header, ``;`` or ``|``, no text delimiter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.ingest.readers.aliases import AliasMap, normalise_header
from aioa_analysis.ingest.readers.profiles import HeaderMatch
from aioa_analysis.ingest.readers.tabular import combine_columns
from aioa_analysis.ingest.readers.text import RawTable

STRING = pd.StringDtype()

SIFA_COLUMNS: tuple[str, ...] = (
    "INE_RNIE",
    "NUMERO_UAI",
    "TYPE_CFA",
    "SIT_FORM",
    "UAI_EPLE",
    "NAT_STR_JUR",
    "STATUT",
    "DIPLOME",
    "RNCP",
    "DUR_FORM_THEO",
    "DUR_FORM_REELLE",
    "AN_FORM",
    "NOM",
    "NOM2",
    "PRENOM1",
    "PRENOM2",
    "PRENOM3",
    "ADRESSE",
    "COD_POST",
    "COM_RESID",
    "TEL_JEUNE",
    "TEL_RESP1_PERSO",
    "TEL_RESP1_PRO",
    "TEL_RESP2_PERSO",
    "TEL_RESP2_PRO",
    "MAIL_JEUNE",
    "MAIL_RESP1",
    "MAIL_RESP2",
    "DATE_NAIS",
    "LIEU_NAIS",
    "SEXE",
    "REGIME_SCO",
    "PCS",
    "HANDI",
    "NATIO",
    "SIT_AV_APP",
    "DIP_OBT",
    "SIT_N_1",
    "ETAB_N_1",
    "TYPE_EMP",
    "DATE_ENTREE_CFA",
    "DATE_DEB_CONT",
    "DATE_RUPT_CONT",
    "COM_ETAB",
    "NAF_ETAB",
    "NBSAL_EMP",
    "SIRET_EMP",
)
"""The 47 SIFA columns in file order (DEPP instructions SIFA 31/12/2024, pp. 9-11)."""

N_FIELDS = len(SIFA_COLUMNS)
_HEADER_KEYS = {normalise_header(c) for c in (*SIFA_COLUMNS, "INE")}


def _fields(line: str, sep: str) -> list[str]:
    cells = line.split(sep)
    if len(cells) == N_FIELDS + 1 and cells[-1].strip() == "":
        cells = cells[:-1]  # trailing separator
    return cells


def sifa_separator(lines: list[str]) -> str | None:
    """The separator (``;`` or ``|``) giving 47 fields on most of ``lines``, else ``None``.

    Examples
    --------
    >>> sifa_separator(["|".join(["x"] * 47)] * 3)
    '|'
    >>> sifa_separator(["a;b;c"]) is None
    True
    """
    lines = [ln for ln in lines if ln.strip()][:50]
    if not lines:
        return None
    best, best_n = None, 0
    for sep in (";", "|"):
        n = sum(len(_fields(ln, sep)) == N_FIELDS for ln in lines)
        if n > best_n:
            best, best_n = sep, n
    return best if best_n * 2 >= len(lines) else None


def is_sifa_header(cells: list[str]) -> bool:
    """True when ``cells`` is a header line of SIFA column names (some tools write one)."""
    keys = {normalise_header(c) for c in cells}
    return len(keys & _HEADER_KEYS) >= N_FIELDS // 2


def read_sifa_lines(text: str, sep: str) -> RawTable:
    """Split the lines of a SIFA file; a line with the wrong number of fields is rejected.

    ``source_row`` is the 1-based physical line number.

    Examples
    --------
    >>> good = ";".join(["x"] * 47)
    >>> raw = read_sifa_lines(good + "\\n\\n" + "a;b\\n" + good, ";")
    >>> raw.source_row.tolist(), [r["reason"] for r in raw.rejected], raw.lines_read
    ([1, 4], ['nombre de champs : 2 au lieu de 47'], 3)
    """
    records: list[list[str | None]] = []
    rows: list[int] = []
    rejected: list[dict[str, object]] = []
    header_skipped = False
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        cells = _fields(line, sep)
        if not records and not rejected and not header_skipped and is_sifa_header(cells):
            header_skipped = True
            continue
        if len(cells) != N_FIELDS:
            rejected.append(
                {
                    "source_row": lineno,
                    "column": "",
                    "reason": f"nombre de champs : {len(cells)} au lieu de {N_FIELDS}",
                    "value": str(len(cells)),
                }
            )
            continue
        records.append([c if c.strip() else None for c in cells])
        rows.append(lineno)
    frame = pd.DataFrame(
        {i: pd.Series([r[i] for r in records], dtype=STRING) for i in range(N_FIELDS)},
        index=pd.RangeIndex(len(records)),
    )
    details: dict[str, object] = {"separator": sep, "header_row": 1 if header_skipped else None}
    return RawTable(
        list(SIFA_COLUMNS),
        frame,
        np.asarray(rows, dtype=np.int64),
        len(records) + len(rejected),
        rejected,
        details,
    )


def map_sifa(raw: RawTable, amap: AliasMap) -> tuple[HeaderMatch, dict[str, pd.Series]]:
    """Map the positional SIFA columns to canonical columns (``sifa`` aliases)."""
    lookup = amap.lookup("sifa")
    match = HeaderMatch("sifa")
    for pos, name in enumerate(SIFA_COLUMNS):
        canonical = lookup.get(normalise_header(name))
        if canonical is None:
            match.unmapped.append(name)
        else:
            match.columns.setdefault(canonical, []).append(pos)
    columns = {c: combine_columns(raw.frame, p, c) for c, p in match.columns.items()}
    return match, columns
