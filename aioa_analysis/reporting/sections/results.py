"""Every number of the report, computed once: :func:`compute_results` -> :class:`ReportResults`,
including the points de vigilance (:func:`aioa_analysis.stats.vigilance.vigilance_findings`, the
records ``aioa vigilance`` prints).

A pure function of the contract tables: the statistics come from the library's estimators
(:mod:`aioa_analysis.stats.rates`, :mod:`~aioa_analysis.stats.competing`,
:mod:`~aioa_analysis.stats.casemix`, :mod:`~aioa_analysis.stats.summer`,
:mod:`~aioa_analysis.stats.vigilance`, :mod:`~aioa_analysis.stats.seasonality`,
:mod:`~aioa_analysis.stats.compare`, :mod:`~aioa_analysis.stats.transitions`,
:mod:`~aioa_analysis.stats.diploma`); this module only selects them, adds the labels the charts need
and applies the suppression rules before publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import DataError, ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.reporting.sections.labels import LEVEL_LABELS, short_label
from aioa_analysis.stats import (
    accompaniment,
    breakdowns,
    casemix,
    compare,
    competing,
    diploma,
    forecast,
    linking,
    rates,
    seasonality,
    summer,
    suppression,
    transitions,
    vigilance,
)
from aioa_analysis.stats.dimensions import with_dimensions
from aioa_analysis.stats.outcomes import DURATION_DAYS, OUTCOME, with_outcome


@dataclass(frozen=True, eq=False)
class ReportResults:
    """The result tables of a report (tidy tables, one per chart or table of the report).

    « scope » is the report's contracts (one CFA's for a CFA report); « département » is the
    comparison base, every CFA of the same territory and cohorts.
    """

    cfa_labels: dict[str, str]  # UAI -> « name (UAI) », every CFA of the clean table
    n_table_rows: int  # contracts in the clean table (provenance)
    overall: pd.DataFrame  # rupture rate within the horizon, scope
    overall_dept: pd.DataFrame  # the same, département
    whole: pd.DataFrame  # rupture before the planned end, Aalen-Johansen (completion competes), scope
    funnel: pd.DataFrame  # raw rate per CFA of the département, over-dispersion-aware funnel limits
    funnel_target: float  # the département's rate the funnel limits are built around
    funnel_curve: pd.DataFrame  # the limits on a grid of sizes (``*_adj``: over-dispersion-aware)
    cfa_casemix: pd.DataFrame  # each CFA against the other comparable CFAs, at equal case-mix
    vigilance: (
        pd.DataFrame
    )  # the points de vigilance (:func:`~aioa_analysis.stats.vigilance.vigilance_findings`)
    by_sector: pd.DataFrame  # published rates by sector, scope
    by_level: pd.DataFrame  # ... by diploma level
    by_family: pd.DataFrame  # ... by type of diploma
    sector_funnel: pd.DataFrame  # by_sector against the scope's rate (funnel flags)
    by_cohort: pd.DataFrame  # rate by school year of start
    cif: pd.DataFrame  # cumulative incidence of rupture by month since start (Aalen-Johansen)
    cif_level: pd.DataFrame  # ... by diploma level
    phases: pd.DataFrame  # ruptures by phase of the contract
    hazard: pd.DataFrame  # monthly hazard by calendar month, crude and at equal contract age
    summer: pd.DataFrame  # July-August against the other months, adjusted (stats.summer), one row
    recontract: pd.DataFrame  # new contract within 60 and 180 days of a rupture
    net: pd.DataFrame  # broken with no new contract known in these files within 180 days
    delay: pd.DataFrame  # time to a new contract
    pass_rates: pd.DataFrame  # exam pass rate by contract outcome, absentees in the denominator
    by_outcome: pd.DataFrame  # whole-contract rupture rate by exam result
    references: pd.DataFrame  # published national and regional references
    forecast: pd.DataFrame  # expected ruptures per month after as_of, 90 % intervals (département report)
    forecast_territory: pd.DataFrame  # ... by Mission Locale territory
    backtest: pd.DataFrame  # the forecast made 12 months before as_of beside the observed ruptures
    followup_imported: bool  # a returned follow-up workbook was imported (followup_outcomes.parquet)
    accompaniment: pd.DataFrame  # contacted within 30 days, situation known at 3 and 6 months
    situations_structure: pd.DataFrame  # latest known situation by structure that answered
    situations_territory: pd.DataFrame  # ... by territory of residence
    # issue 18: profiles, reasons, the first 45 days, the trend (:mod:`aioa_analysis.stats.breakdowns`)
    profiles: dict[str, pd.DataFrame] = field(default_factory=dict)  # rate by PROFILE_DIMENSIONS, scope
    profiles_dept: dict[str, pd.DataFrame] = field(default_factory=dict)  # ... département
    early: dict[str, pd.DataFrame] = field(
        default_factory=dict
    )  # first 45 days by EARLY_DIMENSIONS, "" overall
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)  # ruptures by reason, scope
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)  # rate by CFA x school year (département)
    # the département's tables beside a CFA report's own (the same tables as the scope's in a
    # département report): rates by sector, level and type of diploma, what follows a rupture
    dept_by_sector: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_by_level: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_by_family: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_whole: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_recontract: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_net: pd.DataFrame = field(default_factory=pd.DataFrame)
    dept_phases: pd.DataFrame = field(default_factory=pd.DataFrame)
    forecast_cfa: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # the CFA's expected ruptures (CFA report)

    @property
    def n_after_diploma(self) -> int:
        """Ruptures after the diploma: every contract of the scope started by ``as_of``, at any time
        of the contract (the one count the report prints)."""
        w = self.whole
        return int(w["n_ruptures_after_diploma"].iloc[0]) if len(w) else 0


def column_of(table: pd.DataFrame, *names: str) -> str:
    """The first of ``names`` that is a column of ``table``.

    >>> column_of(pd.DataFrame(columns=["cfa_uai"]), "cfa", "cfa_uai")
    'cfa_uai'
    """
    for n in names:
        if n in table.columns:
            return n
    raise KeyError(f"none of {names} in {list(table.columns)}")


def publish_rates(table: pd.DataFrame, dim: str | None, *, min_n: int) -> pd.DataFrame:
    """Rate table ready for publication: primary and secondary suppression (:mod:`aioa_analysis.stats.suppression`).

    Groups with no observed contract are dropped first (they hide nothing and reveal nothing).
    """
    t = table.loc[table["n_contracts"] > 0].reset_index(drop=True) if dim else table
    if not dim:
        return suppression.flag_rates(t, min_n=min_n)
    return suppression.suppress_rates(t, by=[dim], min_n=min_n)


def _labelled(table: pd.DataFrame, column: str, labels: Mapping[str, str]) -> pd.Series:
    """French label of each value of ``column`` (the value itself when it has none)."""
    codes = table[column].astype(str)
    return codes.map(labels).fillna(codes)


def _funnel(
    dept: pd.DataFrame, labels: Mapping[str, str], *, as_of: pd.Timestamp, horizon: int, min_n: int
) -> tuple[pd.DataFrame, float, pd.DataFrame]:
    """Raw funnel of the CFAs' rates with over-dispersion-aware limits (additive random effects,
    :func:`aioa_analysis.stats.compare.funnel_data`): its table, target and limit curve."""
    by_cfa = publish_rates(
        rates.rupture_rate_within(dept, as_of=as_of, by="cfa", horizon_months=horizon, min_n=min_n),
        "cfa",
        min_n=min_n,
    )
    by_cfa = by_cfa.assign(label=_labelled(by_cfa, "cfa", labels))
    by_cfa = by_cfa.assign(short=[short_label(v) for v in by_cfa["label"]])
    funnel = compare.funnel_data(by_cfa, overdispersion="additive")
    target = float(funnel["target"].iloc[0]) if len(funnel) and "target" in funnel else float("nan")
    n_max = int(max(by_cfa["n_contracts"].max() if len(by_cfa) else 1, 1) * 1.1) + 1
    tau2 = float(funnel["tau2"].iloc[0]) if len(funnel) else 0.0
    curve = (
        compare.funnel_curve(target, n_max, tau2=tau2 if np.isfinite(tau2) else 0.0)
        if pd.notna(target)
        else pd.DataFrame()
    )
    return funnel, target, curve


def cfa_casemix_table(
    dept: pd.DataFrame, findings: pd.DataFrame, labels: Mapping[str, str], *, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The CFA rows of the points de vigilance (ratio, interval, adjusted p-value, alert) beside each
    CFA's counts from the same joint model (:func:`aioa_analysis.stats.casemix.cfa_comparison`)."""
    counts = casemix.cfa_comparison(dept, as_of=as_of)
    counts = counts.loc[counts["cfa"] != "inconnu", ["cfa", "n_contracts", "events", "expected", "n_overlap"]]
    rows = findings.loc[findings["dimension"] == "cfa"].rename(columns={"group": "cfa"})
    out = counts.merge(rows.drop(columns=["dimension", "reference"]), on="cfa", how="left")
    out = out.assign(
        comparable=out["kind"].eq("cfa_casemix").fillna(False).astype(bool),
        expected=out["expected"].where(out["kind"].eq("cfa_casemix").fillna(False)),
        label=[labels.get(str(u), str(u)) for u in out["cfa"]],
    )
    return out.assign(short=[short_label(v) for v in out["label"]]).reset_index(drop=True)


def _group_rates(
    scope: pd.DataFrame, *, as_of: pd.Timestamp, horizon: int, min_n: int
) -> dict[str, pd.DataFrame]:
    """Published rates by sector, diploma level and type of diploma, labelled in French."""

    def by(dim: str) -> pd.DataFrame:
        t = rates.rupture_rate_within(scope, as_of=as_of, by=dim, horizon_months=horizon, min_n=min_n)
        return publish_rates(t, dim, min_n=min_n)

    sector, level = by("sector"), by("diploma_level")
    return {
        "sector": sector.assign(label=_labelled(sector, "sector", referential.sector_labels())),
        "level": level.assign(label=_labelled(level, "diploma_level", LEVEL_LABELS)),
        "family": by("diploma_family"),
    }


def cif_by_month(
    contracts: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    by: str | None = None,
    max_months: int = 24,
    min_n: int = 20,
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of rupture at each month ``m = 0..max_months`` since the
    start (:func:`aioa_analysis.stats.competing.aalen_johansen`: completion and ruptures after the
    diploma compete, ongoing contracts are censored at ``as_of``), per group of ``by``.

    Columns: the group column, ``month``, ``n_at_risk`` (contracts still followed at ``m``),
    ``cum_ruptures`` (ruptures before ``m``), ``rate``, ``ci_low``, ``ci_high``, ``suppressed``
    (fewer than ``min_n`` contracts at risk: the curve stops there).
    """
    frame = contracts[contracts[C.start_date].notna() & (contracts[C.start_date] <= as_of)]
    frame, names = with_dimensions(with_outcome(frame, as_of=as_of), by)
    groups = frame.groupby(names, observed=True, sort=True) if names else [((), frame)]
    days = np.arange(max_months + 1) * competing.DAYS_PER_MONTH
    pieces = []
    for key, g in groups:
        time = g[DURATION_DAYS].astype("float64").to_numpy()
        codes = competing.event_codes(g[OUTCOME])
        curve = competing.aalen_johansen(time, codes)
        # value at month m: the curve just before m (ruptures strictly before m months)
        idx = np.searchsorted(curve["time"].to_numpy(), days, side="left") - 1
        before = idx < 0
        idx = np.clip(idx, 0, None)
        at_risk = (time[None, :] >= days[:, None]).sum(axis=1)
        cum = ((codes == 1)[None, :] & (time[None, :] < days[:, None])).sum(axis=1)
        values = {
            c: np.where(before, 0.0, curve[c].to_numpy()[idx]) if len(curve) else np.zeros(len(days))
            for c in ("cif", "ci_low", "ci_high")
        }
        part = pd.DataFrame(
            {
                "month": np.arange(max_months + 1),
                "n_at_risk": at_risk,
                "cum_ruptures": cum,
                "rate": values["cif"],
                "ci_low": values["ci_low"],
                "ci_high": values["ci_high"],
                "suppressed": at_risk < min_n,
            }
        )
        if names:
            part.insert(0, names[0], key[0] if isinstance(key, tuple) else key)
        pieces.append(part)
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()


def _exam_and_transitions(
    scope: pd.DataFrame, *, as_of: pd.Timestamp, horizon: int, min_n: int
) -> dict[str, pd.DataFrame]:
    """What follows a rupture: new contracts, broken without a new contract, exam results."""
    links = linking.link_ruptures(scope, as_of=as_of)  # linked once, shared by four tables
    return {
        "recontract": transitions.recontract_rates(scope, as_of=as_of, links=links),
        "net": transitions.net_rupture_rates(scope, as_of=as_of, horizon_months=horizon, links=links),
        "delay": transitions.time_to_new_contract_summary(scope, as_of=as_of, links=links),
        # absentees count as not passed: an apprentice who left before the exam did not obtain it
        "pass_rates": diploma.pass_rates_by_outcome_class(
            scope, as_of=as_of, links=links, absent_as_failure=True
        ),
        "by_outcome": diploma.rupture_rates_by_diploma_outcome(scope, as_of=as_of, min_n=min_n),
    }


def forecasts(departement: pd.DataFrame, *, as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Expected ruptures per month for the 12 months after ``as_of`` (total and by territory) and the
    backtest (:mod:`aioa_analysis.stats.forecast`); empty tables when the history is too short."""
    try:
        return {
            "forecast": forecast.forecast_ruptures(departement, as_of=as_of),
            "forecast_territory": forecast.forecast_ruptures(departement, as_of=as_of, by="territory"),
            "backtest": forecast.backtest(departement, as_of=as_of),
        }
    except (ParameterError, DataError, ValueError):
        return forecasts_empty()


def forecasts_empty() -> dict[str, pd.DataFrame]:
    """No forecast (a CFA report)."""
    return {k: pd.DataFrame() for k in ("forecast", "forecast_territory", "backtest")}


def _accompaniment(
    scope: pd.DataFrame, outcomes: pd.DataFrame | None, *, as_of: pd.Timestamp, min_n: int
) -> dict[str, object]:
    """What the follow-up after a rupture led to (:mod:`aioa_analysis.stats.accompaniment`), for the
    ruptures of ``scope``; empty tables when no returned workbook was imported."""
    if outcomes is None:
        empty = pd.DataFrame()
        return {
            "followup_imported": False,
            "accompaniment": empty,
            "situations_structure": empty,
            "situations_territory": empty,
        }
    followed = accompaniment.followed_ruptures(scope, outcomes, as_of=as_of)
    return {
        "followup_imported": True,
        "accompaniment": accompaniment.accompaniment_indicators(followed, as_of=as_of, min_n=min_n),
        "situations_structure": accompaniment.situations_by(followed, "structure", min_n=min_n),
        "situations_territory": accompaniment.situations_by(followed, C.territory, min_n=min_n),
    }


PROFILE_DIMENSIONS = ("territory", "age_band", "employer_size")
"""The « Profils » section's dimensions (Mission Locale territory, age band at start, employer size)."""


def breakdown_results(
    scope: pd.DataFrame,
    departement: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    memo: dict[str, Any] | None = None,
) -> dict[str, object]:
    """The tables of the profiles, reasons, first 45 days and trend sections (issue 18), unpublished:
    the sections apply the family's suppression (:mod:`aioa_analysis.reporting.sections.motifs`).
    The département's tables are computed once per family (``memo``)."""
    kw = {"as_of": as_of, "horizon_months": horizon, "min_n": min_n}
    memo = {} if memo is None else memo

    def profiles(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {d: rates.rupture_rate_within(table, by=d, **kw) for d in PROFILE_DIMENSIONS}  # type: ignore[arg-type]

    mine = profiles(scope)
    early = {d: breakdowns.early_ruptures(scope, by=d, **kw) for d in breakdowns.EARLY_DIMENSIONS}  # type: ignore[arg-type]
    if "profiles_dept" not in memo:
        memo["profiles_dept"] = mine if scope is departement else profiles(departement)
        memo["trend"] = breakdowns.cohort_trend(departement, **kw)  # type: ignore[arg-type]
    return {
        "profiles": mine,
        "profiles_dept": {d: t.copy() for d, t in memo["profiles_dept"].items()},
        "early": {**early, "": breakdowns.early_ruptures(scope, **kw)},  # type: ignore[arg-type]
        "reasons": breakdowns.reason_shares(scope, **kw),  # type: ignore[arg-type]
        "trend": memo["trend"].copy(),
    }


def compute_results(
    scope: pd.DataFrame,
    departement: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    cfa_labels: Mapping[str, str],
    n_table_rows: int,
    cfa: str = "",
    outcomes: pd.DataFrame | None = None,
    memo: dict[str, Any] | None = None,
) -> ReportResults:
    """Run every estimator the report needs on ``scope`` (the CFA comparisons on ``departement``).

    ``scope`` is ``departement`` itself for a département report; ``cfa`` is the UAI of a CFA report.
    ``cfa_labels`` names the CFAs (UAI -> label); ``n_table_rows`` is only carried to the provenance
    section. The points de vigilance are :func:`~aioa_analysis.stats.vigilance.vigilance_findings` of
    ``departement`` (adjusted over the whole family), kept for ``cfa`` and the département-wide ones.
    ``outcomes``: the follow-up's outcome table (``followup_outcomes.parquet``), ``None`` when no
    returned workbook was imported. The forecast of ruptures is computed for a département report
    only (``cfa`` empty): it is the mediation services' workload, not a CFA's. ``memo``: a dict shared
    by the reports of one family (same ``departement``, ``as_of``, ``horizon``, ``min_n``) where the
    family-wide results are kept once computed (:func:`~aioa_analysis.reporting.sections.context.family_memo`).
    """
    h = horizon
    memo = {} if memo is None else memo
    overall = rates.rupture_rate_within(scope, as_of=as_of, horizon_months=h, min_n=min_n)
    if "overall_dept" not in memo:  # the family-wide results, once per family (``memo``)
        memo["overall_dept"] = rates.rupture_rate_within(
            departement, as_of=as_of, horizon_months=h, min_n=min_n
        )
        memo["funnel"] = _funnel(departement, cfa_labels, as_of=as_of, horizon=h, min_n=min_n)
        memo["findings"] = vigilance.vigilance_findings(departement, as_of=as_of)  # the whole family
        memo["casemix"] = cfa_casemix_table(departement, memo["findings"], cfa_labels, as_of=as_of)
    overall_dept: pd.DataFrame = memo["overall_dept"].copy()
    funnel_table: pd.DataFrame = memo["funnel"][0]
    target: float = memo["funnel"][1]
    curve: pd.DataFrame = memo["funnel"][2]
    findings: pd.DataFrame = memo["findings"]
    mine = findings if not cfa else findings[(findings["dimension"] != "cfa") | (findings["group"] == cfa)]
    groups = _group_rates(scope, as_of=as_of, horizon=h, min_n=min_n)
    overall_rate = float(overall["rate"].iloc[0]) if len(overall) else float("nan")
    calendar = seasonality.age_calendar(scope, as_of=as_of)
    return ReportResults(
        cfa_labels=dict(cfa_labels),
        n_table_rows=n_table_rows,
        overall=overall,
        overall_dept=overall_dept,
        whole=competing.whole_contract_rates(scope, as_of=as_of, min_n=min_n),
        funnel=funnel_table.copy(),
        funnel_target=target,
        funnel_curve=curve.copy(),
        cfa_casemix=memo["casemix"].copy(),
        vigilance=mine.reset_index(drop=True),
        by_sector=groups["sector"],
        by_level=groups["level"],
        by_family=groups["family"],
        sector_funnel=(
            compare.funnel_data(groups["sector"], target=overall_rate)
            if pd.notna(overall_rate)
            else groups["sector"]
        ),
        by_cohort=rates.rupture_rate_within(scope, as_of=as_of, by="cohort", horizon_months=h, min_n=min_n),
        cif=cif_by_month(scope, as_of=as_of, min_n=min_n),
        cif_level=cif_by_month(scope, as_of=as_of, by="diploma_level", min_n=min_n),
        phases=rates.rupture_phases(scope, as_of=as_of, min_n=min_n),
        hazard=seasonality.age_adjusted_seasonality(
            scope, as_of=as_of, period="month_of_year", min_n=min_n, calendar=calendar
        ),
        summer=pd.DataFrame([summer.summer_effect(scope, as_of=as_of)]),
        **_exam_and_transitions(scope, as_of=as_of, horizon=h, min_n=min_n),
        references=referential.reference_rates(),
        **(forecasts(departement, as_of=as_of) if not cfa else forecasts_empty()),
        **_accompaniment(scope, outcomes, as_of=as_of, min_n=min_n),  # type: ignore[arg-type]
        **breakdown_results(scope, departement, as_of=as_of, horizon=h, min_n=min_n, memo=memo),  # type: ignore[arg-type]
        **_departement_beside(departement, groups, as_of=as_of, horizon=h, min_n=min_n, cfa=cfa, memo=memo),
    )


def _departement_beside(
    departement: pd.DataFrame,
    groups: Mapping[str, pd.DataFrame],
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    cfa: str,
    memo: dict[str, Any],
) -> dict[str, pd.DataFrame]:
    """The département's tables a CFA report shows beside its own (``dept_*``), and the CFA's
    forecast (``forecast_cfa``); in a département report the ``dept_*`` tables are the scope's own and
    ``forecast_cfa`` holds every CFA's forecast.
    The département's side is computed once per family (``memo``), every CFA report reads a copy."""
    if "forecast_by_cfa" not in memo:
        memo["forecast_by_cfa"] = forecast_by_cfa(departement, as_of=as_of)
    by_cfa: pd.DataFrame = memo["forecast_by_cfa"]
    if not cfa:  # the département report: every CFA's forecast (the mediation section sums it up)
        return {
            "dept_by_sector": groups["sector"],
            "dept_by_level": groups["level"],
            "dept_by_family": groups["family"],
            "forecast_cfa": by_cfa.copy(),
        }
    if "beside" not in memo:
        dept = _group_rates(departement, as_of=as_of, horizon=horizon, min_n=min_n)
        links = linking.link_ruptures(departement, as_of=as_of)
        memo["beside"] = {
            "dept_by_sector": dept["sector"],
            "dept_by_level": dept["level"],
            "dept_by_family": dept["family"],
            "dept_whole": competing.whole_contract_rates(departement, as_of=as_of, min_n=min_n),
            "dept_recontract": transitions.recontract_rates(departement, as_of=as_of, links=links),
            "dept_net": transitions.net_rupture_rates(
                departement, as_of=as_of, horizon_months=horizon, links=links
            ),
            "dept_phases": rates.rupture_phases(departement, as_of=as_of, min_n=min_n),
        }
    mine = by_cfa.loc[by_cfa["cfa"].astype(str) == cfa].reset_index(drop=True) if len(by_cfa) else by_cfa
    return {**{k: t.copy() for k, t in memo["beside"].items()}, "forecast_cfa": mine.copy()}


def forecast_by_cfa(departement: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """The expected ruptures of each CFA per month for the 12 months after ``as_of`` (90 % intervals):
    the département's forecast by CFA (:func:`aioa_analysis.stats.forecast.forecast_ruptures` with
    ``by="cfa"``, one hazard model for every CFA); empty when the history is too short."""
    try:
        return forecast.forecast_ruptures(departement, as_of=as_of, by="cfa")
    except (ParameterError, DataError, ValueError):
        return pd.DataFrame(columns=["cfa"])
