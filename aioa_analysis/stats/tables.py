"""The tidy rate table: counts per group, the rate, its interval and the small-denominator flags.

Every estimator that reports a share builds its table here: :func:`count_by` sums boolean Series
per group (keeping every group, empty ones with zero counts); :func:`with_rate` adds the rate
``k / n`` and its interval (:func:`aioa_analysis.stats.intervals.proportion_interval`) beside the
counts, then the primary suppression flags (:func:`aioa_analysis.stats.suppression.flag_rates`);
:func:`rate_table` is the same for the headline tables (``n_contracts`` / ``n_ruptures``) built from
arrays of counts per group.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from aioa_analysis.stats.intervals import proportion_interval
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, flag_rates


def count_by(
    frame: pd.DataFrame,
    dims: list[str],
    counts: Mapping[str, pd.Series],
    *,
    universe: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sum boolean (or numeric) Series by ``dims``; keep every group of ``universe`` (zeros if empty).

    ``universe`` defaults to the distinct ``dims`` combinations of ``frame`` (NA kept as a group).
    With no ``dims`` the result has one row.

    >>> f = pd.DataFrame({"g": ["x", "x", "y"]})
    >>> count_by(f, ["g"], {"n": pd.Series([True, True, True]), "k": pd.Series([True, False, False])})
       g  n  k
    0  x  2  1
    1  y  1  0
    """
    data = pd.DataFrame({name: s.fillna(0).astype("int64").to_numpy() for name, s in counts.items()})
    if not dims:
        return pd.DataFrame({name: [int(data[name].sum())] for name in counts})
    data = pd.concat([frame[dims].reset_index(drop=True), data], axis=1)
    summed = data.groupby(dims, dropna=False, sort=False, observed=True)[list(counts)].sum().reset_index()
    if universe is None:
        universe = frame[dims].drop_duplicates()
    out = universe[dims].drop_duplicates().merge(summed, how="left", on=dims)
    out = out.assign(**{name: out[name].fillna(0).astype("int64") for name in counts})
    return out.sort_values(dims, na_position="last", kind="stable").reset_index(drop=True)


def share(k: object, n: object) -> np.ndarray:
    """``k / n`` as floats, NaN where ``n`` is 0.

    >>> share([1, 0], [4, 0]).tolist()
    [0.25, nan]
    """
    kk, nn = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nn > 0, kk / np.where(nn > 0, nn, 1), np.nan)


def with_rate(
    table: pd.DataFrame,
    *,
    k: str,
    n: str,
    method: str = "wilson",
    level: float = 0.95,
    rate: str = "rate",
    min_n: int | None = None,
) -> pd.DataFrame:
    """Add ``rate = k / n`` (NaN when n is 0), its interval ``ci_low`` / ``ci_high`` (``method``)
    and, when ``min_n`` is given, ``suppressed`` / ``suppression_reason`` (``n < min_n``).

    >>> with_rate(pd.DataFrame({"k": [3, 0], "n": [10, 0]}), k="k", n="n").round(4)
       k   n  rate  ci_low  ci_high
    0  3  10   0.3  0.1078   0.6032
    1  0   0   NaN     NaN      NaN
    """
    kk = table[k].to_numpy(dtype="float64")
    nn = table[n].to_numpy(dtype="float64")
    lo, hi = proportion_interval(kk, nn, method=method, level=level)
    out = table.assign(**{rate: share(kk, nn), "ci_low": lo, "ci_high": hi})
    return out if min_n is None else flag_rates(out, min_n=min_n, n_col=n)


def rate_table(
    keys: pd.DataFrame,
    *,
    n: np.ndarray,
    k: np.ndarray,
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    estimate: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    **extra: object,
) -> pd.DataFrame:
    """The tidy table of the headline estimators, from counts per group (one per row of ``keys``).

    Columns: ``keys``, ``n_contracts`` (``n``), ``n_ruptures`` (``k``), ``rate``, ``ci_low``,
    ``ci_high`` (:func:`with_rate`; or ``estimate = (rate, ci_low, ci_high)`` when the rate is
    estimated otherwise, e.g. by Kaplan-Meier), ``suppressed``, ``suppression_reason``
    (``n_contracts < min_n``), then the ``extra`` columns in their order.

    >>> rate_table(pd.DataFrame({"sector": ["A", "B"]}), n=np.array([40, 5]), k=np.array([10, 1]),
    ...            unit="contract")[["sector", "n_contracts", "rate", "suppressed", "unit"]]
      sector  n_contracts  rate  suppressed      unit
    0      A           40  0.25       False  contract
    1      B            5  0.20        True  contract
    """
    counts = keys.assign(n_contracts=np.asarray(n).astype("int64"), n_ruptures=np.asarray(k).astype("int64"))
    if estimate is None:
        out = with_rate(counts, k="n_ruptures", n="n_contracts", method=method, level=level)
    else:
        out = counts.assign(rate=estimate[0], ci_low=estimate[1], ci_high=estimate[2])
    return flag_rates(out, min_n=min_n).assign(**extra)  # type: ignore[arg-type]
