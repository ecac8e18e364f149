"""Comparing training centres (CFA) at equal case-mix, jointly, and the raw funnel's over-dispersion.

**The model.** Ruptures in the first ``horizon_months`` (9) months of each contract, as a Poisson
model on contract-time (the piecewise-exponential survival model)::

    log(rate) = time band + stratum (diploma level x sector) + contract kind + age band
                [+ sex + employer size + cohort, when the table carries them] + centre

* follow-up: from the start to the first of: the rupture, ``start + horizon_months``, the planned
  end, ``as_of`` (contracts still in progress contribute their observed time: nothing is excluded);
* event: a rupture (not after the diploma) within the horizon; a rupture after the diploma ends the
  follow-up without counting;
* time bands: 0-45 days, 46 days-3 months, 3-6 months, 6-9 months (the hazard falls steeply);
* the centre effects are fitted *jointly* with the case-mix terms, so that the stratum rates are
  estimated net of every centre's own effect: a deviant centre does not raise the reference of the
  centres that share its strata (the flaw of indirect standardisation), and a centre training in
  risky trades is compared with others *in those trades*.

**Comparison.** A centre's ratio is ``exp(beta_cfa - mean(beta over comparable centres))``: its
rupture rate relative to a typical (average) comparable centre at equal case-mix. Its standard error
is that of the contrast (Wald test, two-sided). Every term carries a small ridge penalty (prior
sd 1 on the centre log ratios, sd ~3 on the others) that only pins what the data cannot identify.

**Comparability rule.** A centre is comparable only through the strata it shares with others. For
centre ``j`` and stratum ``s`` with ``m`` of its contracts and ``o`` of the other centres', the
information about the difference is proportional to ``m*o/(m+o)``; ``n_overlap`` is its sum over the
strata (level and sector known). A centre with ``n_overlap < min_overlap`` (50 by default) is
**non comparable**: its ratio is not computed (it would only reflect the penalty) and it is never
alerted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.schema import C
from aioa_analysis.stats.outcomes import OUTCOME, observation_limit, with_outcome
from aioa_analysis.stats.poisson import PoissonFit, design_matrix, fit_poisson

__all__ = [
    "CASEMIX_TERMS",
    "cfa_comparison",
    "funnel_limits",
    "funnel_overdispersion",
    "nine_month_cells",
    "overlap",
]

#: optional case-mix columns (term name -> column), used when the table carries them
CASEMIX_TERMS = {
    "contract_kind": C.contract_kind,
    "age_band": C.age_band,
    "sex": C.sex,
    "employer_size": C.employer_size_band,
    "cohort": C.school_year,
}
#: the terms used by default (sex and employer size can be added through ``terms``)
DEFAULT_TERMS = ("contract_kind", "age_band", "cohort")
BAND_EDGES_MONTHS = (0.0, 1.5, 3.0, 6.0)  # band starts; 1.5 months ~ 45 days
DAYS_PER_MONTH = 30.4375


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("inconnu")


def _stratum(contracts: pd.DataFrame) -> pd.Series:
    return _text(contracts[C.diploma_level]) + "|" + _text(contracts[C.sector])


def nine_month_cells(
    contracts: pd.DataFrame, *, as_of: object, horizon_months: int = 9, terms: list[str] | None = None
) -> pd.DataFrame:
    """Events and exposure (months) of the first ``horizon_months`` months, summed per cell of
    ``cfa`` x ``stratum`` x ``band`` x the case-mix terms present (see the module docstring)."""
    ts = parse_as_of(as_of)
    frame = with_outcome(contracts, as_of=ts)
    start = frame[C.start_date]
    horizon = start + pd.DateOffset(months=horizon_months)
    stop = pd.concat(
        [
            horizon,
            frame[C.planned_end_date].fillna(horizon),
            # the day after the contract's observation limit (as_of, or its files' earlier date)
            pd.Series(observation_limit(frame, ts), index=frame.index) + pd.Timedelta(days=1),
        ],
        axis=1,
    ).min(axis=1)
    rupt = frame[C.rupture_date]
    ended = (
        frame[OUTCOME].isin(["ruptured", "ruptured_after_diploma"]).to_numpy()
        & (rupt < stop).fillna(False).to_numpy()
    )
    stop = stop.where(~ended, rupt + pd.Timedelta(days=1))
    event = ended & frame[OUTCOME].eq("ruptured").to_numpy()
    t_stop = ((stop - start).dt.days / DAYS_PER_MONTH).to_numpy(float)
    t_event = ((rupt - start).dt.days / DAYS_PER_MONTH).to_numpy(float)
    keep = start.notna().to_numpy() & (start <= ts).to_numpy()
    base = pd.DataFrame({"cfa": _text(frame[C.cfa_uai]), "stratum": _stratum(frame)}, index=frame.index)
    used = [t for t in (terms if terms is not None else DEFAULT_TERMS) if CASEMIX_TERMS[t] in frame.columns]
    for t in used:
        base[t] = _text(frame[CASEMIX_TERMS[t]])
    pieces = []
    edges = (*BAND_EDGES_MONTHS, float(horizon_months))
    for b in range(len(BAND_EDGES_MONTHS)):
        lo, hi = edges[b], edges[b + 1]
        exposure = np.clip(np.minimum(t_stop, hi) - lo, 0.0, None)
        ev = event & (t_event >= lo) & (t_event < hi)
        part = base.assign(band=str(b), events=ev.astype(float), exposure=exposure)
        pieces.append(part[keep & (exposure > 0)])
    long = pd.concat(pieces, ignore_index=True)
    keys = ["cfa", "stratum", "band", *used]
    cells = long.groupby(keys, observed=True, sort=True)[["events", "exposure"]].sum().reset_index()
    return cells


def overlap(cells: pd.DataFrame) -> pd.Series:
    """``n_overlap`` per centre: the sum over strata (level and sector known) of ``m*o/(m+o)``,
    ``m`` the centre's contracts and ``o`` the other centres' (counted in the first band).

    >>> cells = pd.DataFrame({"cfa": ["a", "b", "b", "c"], "stratum": ["3|x", "3|x", "4|y", "5|z"],
    ...                       "band": ["0"] * 4, "n": [100, 100, 50, 80]})
    >>> overlap(cells).to_dict()
    {'a': 50.0, 'b': 50.0, 'c': 0.0}
    """
    first = cells[cells["band"] == "0"]
    first = first[~first["stratum"].str.contains("inconnu", regex=False)]
    m = first.pivot_table(
        index="cfa", columns="stratum", values="n", aggfunc="sum", fill_value=0, observed=True
    )
    o = m.sum(axis=0) - m
    with np.errstate(invalid="ignore", divide="ignore"):
        info = (m * o / (m + o)).fillna(0.0)
    return info.sum(axis=1).reindex(cells["cfa"].unique(), fill_value=0.0).rename("n_overlap")


@dataclass(frozen=True)
class CfaModel:
    """The fitted joint model, its cells and the per-centre counts (``table``)."""

    fit: PoissonFit
    eta: np.ndarray
    cells: pd.DataFrame
    table: pd.DataFrame


def fit_cfa_model(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    horizon_months: int = 9,
    min_overlap: float = 50.0,
    min_n: int = 20,
    terms: list[str] | None = None,
) -> CfaModel:
    """Fit the joint model (see the module docstring) and flag the comparable centres."""
    cells = nine_month_cells(contracts, as_of=as_of, horizon_months=horizon_months, terms=terms)
    used = [c for c in cells.columns if c in CASEMIX_TERMS]
    n_first = _first_band_counts(contracts, as_of=as_of, terms=used)
    cells = cells.merge(n_first, on=["cfa", "stratum", "band", *used], how="left").fillna({"n": 0.0})
    per_cfa = cells.groupby("cfa", observed=True).agg(n_contracts=("n", "sum"), events=("events", "sum"))
    table = per_cfa.join(overlap(cells)).reset_index()
    table["n_contracts"] = table["n_contracts"].astype(int)
    table["comparable"] = (
        (table["n_overlap"] >= min_overlap) & (table["n_contracts"] >= min_n) & (table["cfa"] != "inconnu")
    )
    x, names, lam = design_matrix(cells, ["band", "stratum", *used, "cfa"], penalties={"cfa": 1.0})
    fit = fit_poisson(x, cells["events"].to_numpy(float), cells["exposure"].to_numpy(float), lam, names)
    return CfaModel(fit=fit, eta=x @ fit.coef, cells=cells, table=table)


def compare_cfas(model: CfaModel, *, reference: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Each comparable centre against the average of the *other* centres of ``reference`` (default:
    every comparable centre): ``ratio = exp(beta_j - mean(beta_k, k in reference, k != j))``."""
    out = model.table
    comparable = out.loc[out["comparable"], "cfa"].tolist()
    ref = [c for c in (comparable if reference is None else reference) if c in comparable]
    z = stats.norm.ppf(0.5 + level / 2)
    ratio, lo, hi, pval, expected = ([np.nan] * len(out) for _ in range(5))
    exposure, cfa_of_cell = model.cells["exposure"].to_numpy(), model.cells["cfa"].to_numpy()
    for i, cfa in enumerate(out["cfa"]):
        others = [c for c in ref if c != cfa]
        if cfa not in comparable or not others:
            continue
        weights = {f"cfa={c}": -1.0 / len(others) for c in others}
        weights[f"cfa={cfa}"] = 1.0
        est, se = model.fit.contrast(weights)
        ratio[i], lo[i], hi[i] = np.exp(est), np.exp(est - z * se), np.exp(est + z * se)
        pval[i] = 2 * stats.norm.sf(abs(est) / se) if se > 0 else np.nan
        rows = cfa_of_cell == cfa
        expected[i] = float(np.sum(exposure[rows] * np.exp(model.eta[rows] - est)))
    return out.assign(expected=expected, ratio=ratio, ci_low=lo, ci_high=hi, p_value=pval)[
        [
            "cfa",
            "n_contracts",
            "events",
            "expected",
            "ratio",
            "ci_low",
            "ci_high",
            "p_value",
            "n_overlap",
            "comparable",
        ]
    ]


def cfa_comparison(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    horizon_months: int = 9,
    min_overlap: float = 50.0,
    min_n: int = 20,
    level: float = 0.95,
    terms: list[str] | None = None,
    reference: list[str] | None = None,
) -> pd.DataFrame:
    """Each centre's rupture rate ratio against the other comparable centres, at equal case-mix.

    Returns one row per centre: ``cfa``, ``n_contracts``, ``events`` (ruptures within the horizon
    observed), ``expected`` (events expected at the reference centres' rate, same case-mix),
    ``ratio`` (adjusted rate ratio), ``ci_low``, ``ci_high``, ``p_value`` (Wald, two-sided),
    ``n_overlap``, ``comparable``. Ratio, interval and p-value are missing for a non comparable
    centre (see the module docstring for the rule).
    """
    model = fit_cfa_model(
        contracts,
        as_of=as_of,
        horizon_months=horizon_months,
        min_overlap=min_overlap,
        min_n=min_n,
        terms=terms,
    )
    return compare_cfas(model, reference=reference, level=level)


def _first_band_counts(contracts: pd.DataFrame, *, as_of: object, terms: list[str]) -> pd.DataFrame:
    """Contracts per cell (they all start in band 0), for ``n_contracts`` and the overlap rule."""
    ts = parse_as_of(as_of)
    keep = contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)
    frame = contracts[keep]
    base = pd.DataFrame({"cfa": _text(frame[C.cfa_uai]), "stratum": _stratum(frame)}, index=frame.index)
    for t in terms:
        base[t] = _text(frame[CASEMIX_TERMS[t]])
    base["band"] = "0"
    return (
        base.groupby(["cfa", "stratum", "band", *terms], observed=True)
        .size()
        .rename("n")
        .astype(float)
        .reset_index()
    )


def funnel_overdispersion(k: object, n: object, *, winsor: float = 0.1) -> dict[str, float]:
    """Spiegelhalter's (2005) over-dispersion of rates ``k/n`` around the pooled rate.

    ``phi`` is the mean squared z-score (z Winsorised at ``winsor`` and ``1 - winsor``);
    ``p_value`` tests ``phi = 1`` (``K * phi ~ chi2(K - 1)``); ``tau2`` is the additive random-effect
    variance (DerSimonian-Laird form, 0 when ``phi <= (K - 1) / K``).

    >>> out = funnel_overdispersion([20, 20, 20, 20], [100, 100, 100, 100])
    >>> out["phi"], out["tau2"], round(out["target"], 2)
    (0.0, 0.0, 0.2)
    """
    k_ = np.asarray(k, dtype=float)
    n_ = np.asarray(n, dtype=float)
    ok = n_ > 0
    k_, n_ = k_[ok], n_[ok]
    target = k_.sum() / n_.sum()
    s = np.sqrt(target * (1 - target) / n_)
    zs = (k_ / n_ - target) / s
    lo_q, hi_q = np.quantile(zs, [winsor, 1 - winsor])
    zw = np.clip(zs, lo_q, hi_q)
    m = len(zs)
    phi = float(np.sum(zw**2) / m)
    w = 1 / s**2
    tau2 = max(0.0, (m * phi - (m - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return {
        "target": float(target),
        "phi": phi,
        "tau2": float(tau2),
        "p_value": float(stats.chi2.sf(m * phi, m - 1)),
        "n_units": float(m),
    }


def funnel_limits(
    target: float, n: object, *, level: float = 0.998, phi: float = 1.0, tau2: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Normal-approximation funnel limits around ``target`` for sizes ``n``, widened for
    over-dispersion: additive (``sqrt(s2 + tau2)``) when ``tau2 > 0``, else multiplicative
    (``sqrt(phi * s2)``, with ``phi`` floored at 1). ``s2 = target (1 - target) / n``.

    >>> lo, hi = funnel_limits(0.2, [100], level=0.95)
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.122, 0.278)
    """
    n_ = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = target * (1 - target) / n_
        sd = np.sqrt(s2 + tau2) if tau2 > 0 else np.sqrt(max(phi, 1.0) * s2)
    return np.clip(target - z * sd, 0.0, 1.0), np.clip(target + z * sd, 0.0, 1.0)
