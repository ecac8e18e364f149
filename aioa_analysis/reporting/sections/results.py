"""Every number of the report, computed once: :func:`compute_results` -> :class:`ReportResults`, and the
points de vigilance they support, :func:`collect_findings`.

Both are pure functions of the contract tables: the statistics come from the library's estimators
(:mod:`aioa_analysis.stats.rates`, :mod:`~aioa_analysis.stats.survival`,
:mod:`~aioa_analysis.stats.seasonality`, :mod:`~aioa_analysis.stats.compare`,
:mod:`~aioa_analysis.stats.transitions`, :mod:`~aioa_analysis.stats.diploma`); this module only
selects them, adds the labels the charts need and applies the suppression rules before publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.schema import C
from aioa_analysis.reporting.findings import (
    Finding,
    above_overall_findings,
    funnel_findings,
    global_test_findings,
    hazard_ratio_findings,
    oe_findings,
    sort_findings,
)
from aioa_analysis.reporting.sections.labels import LEVEL_LABELS, short_label
from aioa_analysis.stats import (
    compare,
    diploma,
    linking,
    rates,
    seasonality,
    suppression,
    survival,
    transitions,
)


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
    whole: pd.DataFrame  # rupture over the whole contract (Kaplan-Meier), scope
    funnel: pd.DataFrame  # rate per CFA of the département, with funnel limits and flags
    funnel_target: float  # the département's rate the funnel limits are built around
    funnel_curve: pd.DataFrame  # the limits on a grid of sizes
    chi_cfa: pd.DataFrame  # chi-square test of equal rates between CFAs
    oe: pd.DataFrame  # observed/expected ruptures per CFA (indirect standardisation)
    by_sector: pd.DataFrame  # published rates by sector, scope
    by_level: pd.DataFrame  # ... by diploma level
    by_family: pd.DataFrame  # ... by type of diploma
    sector_funnel: pd.DataFrame  # by_sector against the scope's rate (funnel flags)
    by_cohort: pd.DataFrame  # rate by school year of start
    km: pd.DataFrame  # cumulative probability of rupture by month since start
    km_level: pd.DataFrame  # ... by diploma level
    phases: pd.DataFrame  # ruptures by phase of the contract
    hazard: pd.DataFrame  # monthly hazard by calendar month, crude and at equal contract age
    summer: pd.DataFrame  # summer against the rest of the year, at equal contract age
    recontract: pd.DataFrame  # new contract within 60 and 180 days of a rupture
    net: pd.DataFrame  # net rupture (no new contract within 180 days)
    delay: pd.DataFrame  # time to a new contract
    pass_rates: pd.DataFrame  # exam pass rate by contract outcome (old key: « pass »)
    by_outcome: pd.DataFrame  # whole-contract rupture rate by exam result
    references: pd.DataFrame  # published national and regional references


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


def _cfa_comparison(
    dept: pd.DataFrame, labels: Mapping[str, str], *, as_of: pd.Timestamp, horizon: int, min_n: int
) -> tuple[pd.DataFrame, float, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Funnel table, its target and limit curve, the chi-square test and observed/expected per CFA."""
    by_cfa = publish_rates(
        rates.rupture_rate_within(dept, as_of=as_of, by="cfa", horizon_months=horizon, min_n=min_n),
        "cfa",
        min_n=min_n,
    )
    by_cfa = by_cfa.assign(label=_labelled(by_cfa, "cfa", labels))
    by_cfa = by_cfa.assign(short=[short_label(v) for v in by_cfa["label"]])
    funnel = compare.funnel_data(by_cfa)
    target = float(funnel["target"].iloc[0]) if len(funnel) and "target" in funnel else float("nan")
    n_max = int(max(by_cfa["n_contracts"].max() if len(by_cfa) else 1, 1) * 1.1) + 1
    curve = compare.funnel_curve(target, n_max) if pd.notna(target) else pd.DataFrame()
    chi = compare.chi_square_test(by_cfa)
    oe = compare.indirect_standardisation(dept, as_of=as_of, unit="cfa", horizon_months=horizon)
    unit = column_of(oe, "cfa", C.cfa_uai)
    oe = publish_rates(oe.assign(label=_labelled(oe, unit, labels)), unit, min_n=min_n)
    return funnel, target, curve, chi, oe


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


def compute_results(
    scope: pd.DataFrame,
    departement: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    cfa_labels: Mapping[str, str],
    n_table_rows: int,
) -> ReportResults:
    """Run every estimator the report needs on ``scope`` (the CFA comparisons on ``departement``).

    ``scope`` is ``departement`` itself for a département report. ``cfa_labels`` names the CFAs
    (UAI -> label); ``n_table_rows`` is only carried to the provenance section.
    """
    h = horizon
    overall = rates.rupture_rate_within(scope, as_of=as_of, horizon_months=h, min_n=min_n)
    overall_dept = (  # the same table when the report is the département's
        overall.copy()
        if scope is departement
        else rates.rupture_rate_within(departement, as_of=as_of, horizon_months=h, min_n=min_n)
    )
    funnel, target, curve, chi, oe = _cfa_comparison(
        departement, cfa_labels, as_of=as_of, horizon=h, min_n=min_n
    )
    groups = _group_rates(scope, as_of=as_of, horizon=h, min_n=min_n)
    overall_rate = float(overall["rate"].iloc[0]) if len(overall) else float("nan")
    calendar = seasonality.age_calendar(scope, as_of=as_of)  # split once, shared by both tables
    links = linking.link_ruptures(scope, as_of=as_of)  # linked once, shared by four tables
    return ReportResults(
        cfa_labels=dict(cfa_labels),
        n_table_rows=n_table_rows,
        overall=overall,
        overall_dept=overall_dept,
        whole=survival.rupture_whole_contract(scope, as_of=as_of, min_n=min_n),
        funnel=funnel,
        funnel_target=target,
        funnel_curve=curve,
        chi_cfa=chi,
        oe=oe,
        by_sector=groups["sector"],
        by_level=groups["level"],
        by_family=groups["family"],
        sector_funnel=(
            compare.funnel_data(groups["sector"], target=overall_rate)
            if pd.notna(overall_rate)
            else groups["sector"]
        ),
        by_cohort=rates.rupture_rate_within(scope, as_of=as_of, by="cohort", horizon_months=h, min_n=min_n),
        km=survival.rupture_km(scope, as_of=as_of, max_months=24, min_n=min_n),
        km_level=survival.rupture_km(scope, as_of=as_of, by="diploma_level", max_months=24, min_n=min_n),
        phases=rates.rupture_phases(scope, as_of=as_of, min_n=min_n),
        # crude monthly hazard + observed/expected at equal contract age; summer ratio at equal age
        hazard=seasonality.age_adjusted_seasonality(
            scope, as_of=as_of, period="month_of_year", min_n=min_n, calendar=calendar
        ),
        summer=seasonality.age_adjusted_summer_effect(scope, as_of=as_of, calendar=calendar),
        recontract=transitions.recontract_rates(scope, as_of=as_of, links=links),
        net=transitions.net_rupture_rates(scope, as_of=as_of, horizon_months=h, links=links),
        delay=transitions.time_to_new_contract_summary(scope, as_of=as_of, links=links),
        pass_rates=diploma.pass_rates_by_outcome_class(scope, as_of=as_of, links=links),
        by_outcome=diploma.rupture_rates_by_diploma_outcome(scope, as_of=as_of, min_n=min_n),
        references=referential.reference_rates(),
    )


def collect_findings(res: ReportResults, *, cfa_label: str = "") -> tuple[Finding, ...]:
    """The points de vigilance supported by the results (see :mod:`aioa_analysis.reporting.findings`).

    A CFA report (``cfa_label``) keeps the comparisons between CFAs that speak of its own CFA only,
    and leaves out the global test between CFAs.
    """
    out: list[Finding] = []
    if pd.notna(res.funnel_target):
        out += funnel_findings(
            res.funnel, label="label", anchor="fig-cfa-funnel", target=res.funnel_target, unit_word=""
        )
    oe = oe_findings(
        res.oe,
        label="label",
        anchor="tab-cfa-oe",
        ratio="oe_ratio",
        ci_low="oe_low",
        ci_high="oe_high",
        unit_word="",
    )
    out += [f for f in oe if f.severity == "alerte"]
    if cfa_label:  # a CFA report speaks of its own CFA only
        out = [f for f in out if f.subject == cfa_label]
    chi = res.chi_cfa
    if len(chi) and not bool(chi["low_expected"].iloc[0]) and not cfa_label:
        out += global_test_findings(float(chi["p_value"].iloc[0]), anchor="tab-cfa-funnel", groups="les CFA")
    if len(res.summer):
        out += hazard_ratio_findings(  # the ratio at equal contract age, not the crude one
            res.summer.assign(period="l'été (juin à août)", suppressed=False),
            anchor="fig-saison-ajuste",
            ratio="rate_ratio",
            qualifier="à ancienneté de contrat égale",
        )
    overall = res.overall
    if len(overall) and pd.notna(overall["rate"].iloc[0]) and "flag" in res.sector_funnel.columns:
        out += above_overall_findings(
            res.sector_funnel,
            label="label",
            anchor="tab-secteur",
            overall=float(overall["rate"].iloc[0]),
            flag="flag",
            above="above_998",
            scope="de ce CFA" if cfa_label else "du département",
        )
    return tuple(sort_findings(out))
