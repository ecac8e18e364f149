"""Adjusted p-values for a family of tests: Benjamini-Hochberg (false discovery rate) and Holm
(family-wise error).

Missing p-values (a finding that is not a test, e.g. a centre reported as non comparable) stay
missing and do not count in the family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bh_qvalues", "holm_adjusted"]


def _clean(p: object) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(pd.Series(p, dtype="float64").to_numpy(na_value=np.nan), dtype="float64")
    return values, ~np.isnan(values)


def bh_qvalues(p: object) -> np.ndarray:
    """Benjamini-Hochberg q-values: ``min over j >= i of m * p_(j) / j``, capped at 1.

    A finding is a discovery at false discovery rate ``q`` when its q-value is ``<= q``.

    >>> bh_qvalues([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    values, ok = _clean(p)
    out = np.full(values.shape, np.nan)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(values[ok])
    ranked = values[ok][order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    sub = np.empty(m)
    sub[order] = q
    out[ok] = sub
    return out


def holm_adjusted(p: object) -> np.ndarray:
    """Holm step-down adjusted p-values: ``max over j <= i of (m - j + 1) * p_(j)``, capped at 1.

    >>> holm_adjusted([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    values, ok = _clean(p)
    out = np.full(values.shape, np.nan)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(values[ok])
    ranked = values[ok][order] * (m - np.arange(m))
    adj = np.maximum.accumulate(ranked).clip(max=1.0)
    sub = np.empty(m)
    sub[order] = adj
    out[ok] = sub
    return out
