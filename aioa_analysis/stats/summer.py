"""The summer effect on ruptures, adjusted for what the data carry.

A Poisson model on contract-time split by calendar month (the piecewise-exponential model)::

    log(rate) = summer (July-August or not) + contract age band + contract kind + diploma level + sector

* follow-up: from the start to the first of: the rupture, ``as_of``, and the planned end minus
  ``end_weeks`` weeks (8): the last weeks before the planned end are **kept apart**, because an end
  of contract there is often an unmarked rupture after the diploma (exams are in June);
* event: a rupture (not after the diploma) before that point; ruptures after the diploma and ruptures
  in the last weeks are counted beside, with their share in summer, not in the model;
* contract age: 0-1.5, 1.5-3, 3-6, 6-9, 9-12, 12-18, 18-24, 24+ months (at the middle of each
  calendar-month piece): most contracts start in September, so summer is also when contracts reach
  10-11 or 22-23 months, and the end of the training year.

The result is a rate ratio (summer / other months) with its Wald interval, worded as a range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.schema import C
from aioa_analysis.stats.outcomes import OUTCOME, with_outcome
from aioa_analysis.stats.poisson import design_matrix, fit_poisson

__all__ = ["AGE_EDGES_MONTHS", "summer_effect", "summer_pieces"]

AGE_EDGES_MONTHS = (0.0, 1.5, 3.0, 6.0, 9.0, 12.0, 18.0, 24.0)
DAYS_PER_MONTH = 30.4375
TERMS = ("age", "contract_kind", "diploma_level", "sector")


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("inconnu")


def summer_pieces(
    contracts: pd.DataFrame, *, as_of: object, months: tuple[int, ...] = (7, 8), end_weeks: int = 8
) -> pd.DataFrame:
    """Events and exposure (days) per cell of summer x contract age x kind x level x sector."""
    ts = parse_as_of(as_of)
    frame = with_outcome(
        contracts[contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)], as_of=ts
    )
    start = frame[C.start_date].to_numpy().astype("datetime64[D]")
    cutoff = (frame[C.planned_end_date] - pd.Timedelta(weeks=end_weeks)).to_numpy().astype("datetime64[D]")
    rupt = frame[C.rupture_date].to_numpy().astype("datetime64[D]")
    obs_end = np.datetime64(ts.date()) + np.timedelta64(1, "D")
    stop = np.minimum(np.where(np.isnat(cutoff), obs_end, cutoff), obs_end)
    if C.training_end_date in frame:
        train_end = frame[C.training_end_date].to_numpy().astype("datetime64[D]") + np.timedelta64(1, "D")
        stop = np.where(np.isnat(train_end), stop, np.minimum(stop, train_end))
    ended = frame[OUTCOME].isin(["ruptured", "ruptured_after_diploma"]).to_numpy() & (rupt < stop)
    event = ended & frame[OUTCOME].eq("ruptured").to_numpy()
    stop = np.where(ended, rupt + np.timedelta64(1, "D"), stop)
    keep = stop > start
    idx = np.flatnonzero(keep)
    first_m = start[idx].astype("datetime64[M]")
    last_m = (stop[idx] - np.timedelta64(1, "D")).astype("datetime64[M]")
    count = (last_m - first_m).astype(np.int64) + 1
    rep = np.repeat(np.arange(len(idx)), count)
    within = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    month = first_m[rep] + within.astype("timedelta64[M]")
    lo = np.maximum(start[idx][rep], month.astype("datetime64[D]"))
    hi = np.minimum(stop[idx][rep], (month + np.timedelta64(1, "M")).astype("datetime64[D]"))
    exposure = (hi - lo).astype(np.int64).astype(float)
    mid_age = ((lo - start[idx][rep]).astype(np.int64) + exposure / 2) / DAYS_PER_MONTH
    ev = event[idx][rep] & (within == count[rep] - 1)
    src = frame.iloc[idx[rep]]
    pieces = pd.DataFrame(
        {
            "summer": np.isin(month.astype(np.int64) % 12 + 1, months).astype(int).astype(str),
            "age": np.searchsorted(AGE_EDGES_MONTHS, mid_age, side="right").astype(str),
            "contract_kind": _text(src[C.contract_kind]).to_numpy(),
            "diploma_level": _text(src[C.diploma_level]).to_numpy(),
            "sector": _text(src[C.sector]).to_numpy(),
            "events": ev.astype(float),
            "exposure": exposure,
        }
    )
    pieces = pieces[pieces["exposure"] > 0]
    keys = ["summer", *TERMS]
    return pieces.groupby(keys, observed=True, sort=True)[["events", "exposure"]].sum().reset_index()


def _kept_apart(
    contracts: pd.DataFrame, *, as_of: object, months: tuple[int, ...], end_weeks: int
) -> dict[str, int]:
    frame = with_outcome(contracts, as_of=as_of)
    rupt = frame[C.rupture_date]
    summer = rupt.dt.month.isin(months).fillna(False)
    after = frame[OUTCOME].eq("ruptured_after_diploma")
    late = frame[OUTCOME].eq("ruptured") & (
        rupt >= frame[C.planned_end_date] - pd.Timedelta(weeks=end_weeks)
    ).fillna(False)
    return {
        "n_after_diploma": int(after.sum()),
        "n_after_diploma_summer": int((after & summer).sum()),
        "n_last_weeks": int(late.sum()),
        "n_last_weeks_summer": int((late & summer).sum()),
    }


def summer_effect(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    months: tuple[int, ...] = (7, 8),
    end_weeks: int = 8,
    level: float = 0.95,
) -> dict[str, float]:
    """Rate ratio of ruptures in ``months`` against the other months, adjusted (see the module).

    Returns ``ratio``, ``ci_low``, ``ci_high``, ``p_value`` (Wald, two-sided, ratio = 1),
    ``events_summer``, ``events_other``, and the counts kept apart: ``n_after_diploma``,
    ``n_last_weeks`` (ruptures in the last ``end_weeks`` weeks) and how many of each fell in summer.
    """
    cells = summer_pieces(contracts, as_of=as_of, months=months, end_weeks=end_weeks)
    if cells["summer"].nunique() < 2 or cells["events"].sum() == 0:
        est = se = np.nan
    else:
        x, names, lam = design_matrix(cells, ["summer", *TERMS], penalties={"summer": 0.0})
        # the two summer indicators and the intercept are collinear: drop "summer=0"
        keep = [i for i, n in enumerate(names) if n != "summer=0"]
        fit = fit_poisson(
            x[:, keep],
            cells["events"].to_numpy(),
            cells["exposure"].to_numpy(),
            lam[keep],
            [names[i] for i in keep],
        )
        est, se = fit.contrast({"summer=1": 1.0})
    z = stats.norm.ppf(0.5 + level / 2)
    by_summer = cells.groupby("summer")["events"].sum()
    return {
        "ratio": float(np.exp(est)),
        "ci_low": float(np.exp(est - z * se)),
        "ci_high": float(np.exp(est + z * se)),
        "p_value": float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else np.nan,
        "events_summer": int(by_summer.get("1", 0)),
        "events_other": int(by_summer.get("0", 0)),
        **_kept_apart(contracts, as_of=as_of, months=months, end_weeks=end_weeks),
    }
