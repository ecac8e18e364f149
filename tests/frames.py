"""Tiny hand-made contract tables for the statistics tests, typed as the clean table is."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from aioa_analysis.core.schema import CONTRACT_DTYPES, DATE


def typed_contracts(rows: Sequence[tuple], columns: Sequence[str]) -> pd.DataFrame:
    """A frame of ``rows`` whose columns take the dtype ``contracts.parquet`` gives them."""
    df = pd.DataFrame(list(rows), columns=list(columns))
    return df.assign(
        **{
            c: (pd.to_datetime(df[c]) if CONTRACT_DTYPES[c] == DATE else df[c].astype(CONTRACT_DTYPES[c]))
            for c in df.columns
            if c in CONTRACT_DTYPES
        }
    )
