"""Whole-contract rupture as a cumulative incidence with competing risks (Aalen-Johansen).

A contract ends in one of three ways; time is counted in days from its start:

* **rupture** (the event of interest): broken before its planned end, not after the diploma;
* **competing end**: the contract reached its planned end (completion), or was broken after the
  diploma was obtained (L6222-19: an end with the diploma, not a failure of the contract);
* **censored**: still in progress at ``as_of`` (only its observed time counts).

Kaplan-Meier with completion treated as censoring estimates the rupture probability in a world
where nobody completes: it over-states the share broken. The Aalen-Johansen estimator
``F(t) = sum over event times t_j <= t of S(t_j-) d1_j / n_j`` (``S`` the all-cause survival) is
the share of contracts broken by ``t``, with completion competing.

Interval: delta-method variance (Marubini & Valsecchi 1995; Collett, *Modelling Survival Data*,
3rd ed., p. 411 -- the form SAS and lifelines use), on the log(-log) scale so that the limits stay in
(0, 1). The curve stops at the last event time where at least ``min_n`` contracts remain at risk;
the table says where and whether ruptures lie beyond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import with_dimensions
from aioa_analysis.stats.outcomes import DURATION_DAYS, OUTCOME, with_outcome

__all__ = ["ESTIMATOR", "aalen_johansen", "event_codes", "whole_contract_rates"]

ESTIMATOR = "aalen-johansen"
CI_METHOD = "delta log-log"
DAYS_PER_MONTH = 30.4375


def event_codes(outcome: pd.Series) -> np.ndarray:
    """1 = rupture, 2 = competing end (completed, broken after the diploma), 0 = censored (ongoing).

    >>> event_codes(pd.Series(["ruptured", "completed", "ongoing", "ruptured_after_diploma"])).tolist()
    [1, 2, 0, 2]
    """
    codes = {"ruptured": 1, "completed": 2, "ruptured_after_diploma": 2, "ongoing": 0}
    return outcome.astype("string").map(codes).fillna(0).to_numpy(dtype=np.int64)


def aalen_johansen(time: object, event: object, *, level: float = 0.95) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of cause 1 at each distinct event time.

    Columns: ``time``, ``n_at_risk`` (time >= t), ``d_rupture``, ``d_competing``, ``cif``, ``se``,
    ``ci_low``, ``ci_high``. Without censoring it equals the empirical share of cause 1 by ``t``:

    >>> out = aalen_johansen([1, 2, 3, 4], [1, 2, 1, 2])
    >>> out["cif"].tolist()
    [0.25, 0.25, 0.5, 0.5]
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=np.int64)
    ok = ~np.isnan(t)
    t, e = t[ok], e[ok]
    times, inverse = np.unique(t, return_inverse=True)
    d1 = np.bincount(inverse, weights=(e == 1), minlength=len(times))
    d2 = np.bincount(inverse, weights=(e == 2), minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times)).astype(float)
    n = leaving[::-1].cumsum()[::-1]  # at risk: time >= t
    d = d1 + d2
    has_event = d > 0
    times, n, d1, d2, d = times[has_event], n[has_event], d1[has_event], d2[has_event], d[has_event]
    surv = np.cumprod(1 - d / n)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    cif = np.cumsum(s_prev * d1 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(n > d, d / (n * (n - d)), 0.0)  # n == d: the risk set empties, F stops there
        b = s_prev**2 * d1 * (n - d1) / n**3
        c = s_prev * d1 / n**2
        # Var F(t_J) = sum_j (F_J - F_j)^2 a_j + b_j - 2 (F_J - F_j) c_j, expanded into running sums
        var = (
            cif**2 * np.cumsum(a)
            - 2 * cif * np.cumsum(cif * a)
            + np.cumsum(cif**2 * a)
            + np.cumsum(b)
            - 2 * cif * np.cumsum(c)
            + 2 * np.cumsum(cif * c)
        )
        se = np.sqrt(np.clip(var, 0.0, None))
        z = stats.norm.ppf(0.5 + level / 2)
        loglog = np.log(-np.log(cif))
        se_t = se / (cif * np.abs(np.log(cif)))
        lo = np.exp(-np.exp(loglog + z * se_t))
        hi = np.exp(-np.exp(loglog - z * se_t))
    lo = np.where(cif > 0, lo, 0.0)
    hi = np.where(cif > 0, hi, 0.0)
    return pd.DataFrame(
        {
            "time": times,
            "n_at_risk": n.astype(np.int64),
            "d_rupture": d1.astype(np.int64),
            "d_competing": d2.astype(np.int64),
            "cif": cif,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def _group_row(frame: pd.DataFrame, *, level: float, min_n: int) -> dict[str, object]:
    codes = event_codes(frame[OUTCOME])
    curve = aalen_johansen(frame[DURATION_DAYS].astype("float64"), codes, level=level)
    shown = curve[curve["n_at_risk"] >= min_n]
    last = shown.iloc[-1] if len(shown) else None
    stop_time = float(last["time"]) if last is not None else 0.0
    beyond = int(curve.loc[curve["time"] > stop_time, "d_rupture"].sum())
    return {
        "n_contracts": len(frame),
        "n_ruptures": int((codes == 1).sum()),
        "rate": float(last["cif"]) if last is not None else np.nan,
        "ci_low": float(last["ci_low"]) if last is not None else np.nan,
        "ci_high": float(last["ci_high"]) if last is not None else np.nan,
        "n_ruptures_after_diploma": int(frame[OUTCOME].eq("ruptured_after_diploma").sum()),
        "n_excluded_not_observed": 0,
        "n_censored": int((codes == 0).sum()),
        "horizon_months": round(stop_time / DAYS_PER_MONTH, 1),
        "n_at_risk_end": int(last["n_at_risk"]) if last is not None else 0,
        "curve_stopped": bool(beyond > 0),
        "n_ruptures_beyond": beyond,
    }


def whole_contract_rates(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    unit: str = "contract",
    level: float = 0.95,
    min_n: int = 20,
) -> pd.DataFrame:
    """Share of contracts broken before their planned end, by group: Aalen-Johansen (see module).

    Columns as :func:`~aioa_analysis.stats.rates.rupture_rate_within` (``rate`` is the cumulative
    incidence at ``horizon_months``, the follow-up reached before fewer than ``min_n`` contracts
    remain at risk; ``n_excluded_not_observed`` is 0: in-progress contracts are censored, not
    excluded), plus ``estimator``, ``n_censored``, ``n_at_risk_end``, ``curve_stopped`` (ruptures
    were observed beyond the point where the curve stops) and ``n_ruptures_beyond``.
    """
    if unit != "contract":
        raise ParameterError(
            f"--unit {unit} is not available for the whole-contract measure", hint="use --unit contract"
        )
    ts = parse_as_of(as_of)
    frame = contracts[contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)]
    frame, names = with_dimensions(with_outcome(frame, as_of=ts), by)
    if names:
        groups = [
            (k if isinstance(k, tuple) else (k,), g)
            for k, g in frame.groupby(names, observed=True, sort=True)
        ]
    else:
        groups = [((), frame)]
    rows = [
        {**dict(zip(names, key, strict=True)), **_group_row(g, level=level, min_n=min_n)} for key, g in groups
    ]
    out = pd.DataFrame(rows)
    if out.empty:
        out = pd.DataFrame(columns=[*names, "n_contracts", "n_ruptures", "rate", "ci_low", "ci_high"])
    small = out["n_contracts"] < min_n
    out.insert(len(names) + 5, "suppressed", small.astype(bool))
    out.insert(len(names) + 6, "suppression_reason", np.where(small, f"effectif < {min_n}", ""))
    out = out.assign(unit=unit, as_of=ts, ci_method=CI_METHOD, estimator=ESTIMATOR)
    extra = ["n_censored", "n_at_risk_end", "curve_stopped", "n_ruptures_beyond"]
    return out[[c for c in out.columns if c not in extra] + extra]
