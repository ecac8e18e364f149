"""Tableau de bord upload workbook: one row per apprentice with up to 4 contracts, melted to long."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.ingest.readers.aliases import CONTRACT_INDEX, AliasMap
from aioa_analysis.ingest.readers.profiles import MAX_TBA_CONTRACTS, TBA_CONTRACT_COLUMNS, HeaderMatch
from aioa_analysis.ingest.readers.tabular import combine_columns
from aioa_analysis.ingest.readers.text import RawTable

STRING = pd.StringDtype()


def melt_contracts(
    raw: RawTable, match: HeaderMatch, amap: AliasMap
) -> tuple[dict[str, pd.Series], np.ndarray, list[dict[str, object]]]:
    """Melt the wide TBA rows (contract 1 unsuffixed, contracts 2..4 suffixed ``_2``..``_4``).

    A contract exists on a row when any of its columns (:data:`TBA_CONTRACT_COLUMNS`) is filled;
    each existing contract becomes one record carrying the row's apprentice and training columns
    plus ``contract_index`` ("1".."4"), all with the row's ``source_row``. A row with no contract
    at all becomes a rejected record.

    Returns ``(columns, source_row, rejected)``; records are ordered by row, then contract.
    """
    frame = raw.frame
    n = len(frame)
    base_cols = {c: p for c, p in match.columns.items() if c not in TBA_CONTRACT_COLUMNS}
    base = {c: combine_columns(frame, p, c) for c, p in base_cols.items()}
    per_contract: dict[int, dict[str, list[int]]] = {
        1: {c: p for c, p in match.columns.items() if c in TBA_CONTRACT_COLUMNS},
        **{k: v for k, v in match.contracts.items() if k <= MAX_TBA_CONTRACTS},
    }
    parts: list[pd.DataFrame] = []
    any_contract = np.zeros(n, dtype=bool)
    for k in sorted(per_contract):
        cols = {c: combine_columns(frame, p, c) for c, p in per_contract[k].items()}
        if not cols:
            continue
        exists = pd.concat(cols.values(), axis=1).notna().any(axis=1).to_numpy()
        any_contract |= exists
        if not exists.any():
            continue
        part = pd.DataFrame({**base, **cols}, index=frame.index).loc[exists]
        part[CONTRACT_INDEX] = pd.Series(str(k), index=part.index, dtype=STRING)
        part["__row"] = np.flatnonzero(exists)
        part["__k"] = k
        parts.append(part)
    rows = np.asarray(raw.source_row)
    rejected = [
        {
            "source_row": int(rows[i]),
            "column": amap.example("tba_upload", C.start_date),
            "reason": f"aucun contrat sur la ligne (contrats 1 à {MAX_TBA_CONTRACTS} vides)",
            "value": "",
        }
        for i in np.flatnonzero(~any_contract)
    ]
    if not parts:
        empty = {c: pd.Series([], dtype=STRING) for c in [*base, *TBA_CONTRACT_COLUMNS, CONTRACT_INDEX]}
        return empty, np.zeros(0, dtype=np.int64), rejected
    long = pd.concat(parts, ignore_index=True).sort_values(["__row", "__k"], kind="stable")
    source_row = rows[long["__row"].to_numpy()]
    long = long.drop(columns=["__row", "__k"]).reset_index(drop=True)
    columns = {c: long[c].astype(STRING) for c in long.columns}
    return columns, source_row, rejected
