"""Helpers shared by the tests: tiny hand-made contract tables, and independent reference values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

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


def dated_frame(rows: Sequence[tuple], **extra: object) -> pd.DataFrame:
    """Contracts from ``(start, planned end, rupture or None)`` date strings, plus ``extra`` columns."""
    start, end, rupt = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "start_date": pd.to_datetime(list(start)),
            "planned_end_date": pd.to_datetime(list(end)),
            "rupture_date": pd.to_datetime(list(rupt)),
            **extra,
        }
    )


def exact_limit(p0: float, n: int, q: float) -> float:
    """Spiegelhalter (2005) exact binomial limit at quantile ``q``, computed independently of the
    package: scan scipy's binomial cdf and interpolate within the step."""
    cdf = stats.binom.cdf(np.arange(n + 1), n, p0)
    r = int(np.argmax(cdf >= q - 1e-12))
    prev = cdf[r - 1] if r > 0 else 0.0
    return min(max((r - (cdf[r] - q) / (cdf[r] - prev)) / n, 0.0), 1.0)
