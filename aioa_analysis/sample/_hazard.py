"""The rupture model: a piecewise-constant daily hazard and its calibration.

``h_i(u) = scale * RR_i * base(u) * summer(month of start_i + u)``, where ``u`` is the number of days
since the start, ``base`` the duration profile (:data:`~aioa_analysis.sample._params.HAZARD_BASE_PER_DAY`),
``summer`` the calendar multiplier (June-August) and ``RR_i`` the product of the contract's relative
risks. :class:`HazardTable` tabulates the cumulative baseline hazard; :func:`calibrate` rakes the
relative risks so that group 9-month probabilities keep the published ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.sample import _params as P


class HazardTable:
    """Cumulative baseline hazard ``L[s, d]`` for every start day ``s`` and duration ``d`` (days).

    ``L[s, d]`` sums the daily baseline hazard (duration profile x summer multiplier) over days
    ``0..d-1`` after start day ``s``; a contract with relative risk ``rr`` breaks before day ``d``
    with probability ``1 - exp(-rr * L[s, d])``.
    """

    def __init__(self, first_day: np.datetime64, n_start_days: int, horizon: int, *, summer: float) -> None:
        self.first_day = np.asarray(first_day).astype("datetime64[D]")[()]
        self.horizon = horizon
        u = np.arange(horizon)
        piece = np.searchsorted(np.asarray(P.HAZARD_BREAKS_DAYS), u, side="right") - 1
        base = np.asarray(P.HAZARD_BASE_PER_DAY)[piece]
        days = self.first_day + np.arange(n_start_days + horizon)
        months = days.astype("datetime64[M]").astype(int) % 12 + 1
        mult = np.where(np.isin(months, P.SUMMER_MONTHS), summer, 1.0)
        idx = np.arange(n_start_days)[:, None] + u[None, :]
        daily = base[None, :] * mult[idx]
        self.cum = np.zeros((n_start_days, horizon + 1))
        np.cumsum(daily, axis=1, out=self.cum[:, 1:])

    def start_index(self, start: pd.Series) -> np.ndarray:
        """Row of the table for each start date."""
        return (start.to_numpy().astype("datetime64[D]") - self.first_day).astype(int)

    def cumulative(self, s_idx: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``L[s, min(d, horizon)]`` element-wise."""
        return self.cum[s_idx, np.clip(d, 0, self.horizon)]

    def draw(self, s_idx: np.ndarray, rr: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Day of rupture (days since start) given unit-exponential draws ``e``; -1 beyond horizon."""
        target = e / rr
        rows = self.cum[s_idx, 1:]  # (n, horizon): cumulative at the END of each day
        # vectorised row-wise searchsorted: offset every row so the flattened array is increasing
        width = float(self.cum[:, -1].max()) + 1.0
        offs = np.arange(len(s_idx)) * width
        flat = (rows + offs[:, None]).ravel()
        pos = np.searchsorted(flat, target + offs, side="left") - np.arange(len(s_idx)) * self.horizon
        return np.where(target <= rows[:, -1], pos, -1)


def calibrate(base9: np.ndarray, factors: dict[str, np.ndarray], *, iterations: int = 60) -> dict:
    """Rake multiplicative relative risks so group 9-month probabilities keep the published ratios.

    ``base9`` is each contract's baseline cumulative hazard over its first 9 months; ``factors``
    maps a factor name to each contract's category. Returns ``{"scale": s, "rr": {factor: {cat: rr}}}``
    such that ``P9_i = 1 - exp(-s * prod(rr) * base9_i)`` averages TARGET_9M_OVERALL.
    """
    codes = {}
    logm = {}
    rel = {}
    for f, values in factors.items():
        cats = sorted(P.TARGETS_9M[f])
        idx = pd.Categorical(values, categories=cats).codes
        if (idx < 0).any():
            raise ValueError(f"calibration: unknown {f} categories {sorted(set(values) - set(cats))}")
        codes[f] = (cats, idx)
        logm[f] = np.zeros(len(cats))
        ht = np.array([-np.log1p(-P.TARGETS_9M[f][c][0]) for c in cats])
        n = np.bincount(idx, minlength=len(cats))
        rel[f] = ht / (ht * n).sum() * n.sum()

    def rr_of() -> np.ndarray:
        return np.exp(sum(logm[f][codes[f][1]] for f in factors))

    def scale_for(rr: np.ndarray) -> float:
        lo, hi = 1e-3, 1e3
        for _ in range(80):
            mid = np.sqrt(lo * hi)
            p = 1 - np.exp(-mid * rr * base9)
            lo, hi = (mid, hi) if p.mean() < P.TARGET_9M_OVERALL else (lo, mid)
        return float(np.sqrt(lo * hi))

    scale = scale_for(rr_of())
    for _ in range(iterations):
        for f in factors:
            cats, idx = codes[f]
            p = 1 - np.exp(-scale * rr_of() * base9)
            n = np.bincount(idx, minlength=len(cats))
            pg = np.bincount(idx, weights=p, minlength=len(cats)) / np.maximum(n, 1)
            hg = -np.log1p(-pg)
            hall = -np.log1p(-p.mean())
            upd = np.where(n > 0, np.log(hall * rel[f] / np.where(hg > 0, hg, 1)), 0.0)
            logm[f] = logm[f] + upd
            # identifiability: weighted mean log-RR of each factor is 0
            logm[f] = logm[f] - (logm[f] * n).sum() / n.sum()
        scale = scale_for(rr_of())
    return {
        "scale": scale,
        "rr": {f: {c: float(np.exp(v)) for c, v in zip(codes[f][0], logm[f], strict=True)} for f in factors},
    }


def apply_rr(model: dict, frame: pd.DataFrame) -> np.ndarray:
    """Relative risk of each contract (without ``scale``) under a calibrated model."""
    rr = np.ones(len(frame))
    for f, table in model["rr"].items():
        rr = rr * frame[f].map(table).to_numpy(dtype=float)
    return rr * np.where(frame["generation"].to_numpy() > 0, P.PRIOR_RUPTURE_RR, 1.0)
