"""The report's content: load and compute once (:func:`prepare_report`), then one ``show_*`` call per
section, in the order of the plenary's agenda.

Each ``show_*`` function displays HTML fragments and figures (see :mod:`.display`); every chart is
followed by its table (French formats, small cells suppressed). The statistics come from the
library's estimators (:mod:`aioa_analysis.stats.rates`, :mod:`~aioa_analysis.stats.survival`,
:mod:`~aioa_analysis.stats.seasonality`, :mod:`~aioa_analysis.stats.compare`, :mod:`~aioa_analysis.stats.transitions`,
:mod:`~aioa_analysis.stats.diploma`); this module only selects, labels and lays them out.

Scope: ``territory`` and ``cohorts`` restrict the contracts of every section; ``cfa`` makes a CFA
report: its sections describe that CFA's contracts, while the comparisons between CFAs (funnel plot,
observed/expected) keep every CFA of the département and highlight the chosen one.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis import __version__
from aioa_analysis.core import referential
from aioa_analysis.core.atomic import sha256_of
from aioa_analysis.core.formatting import (
    MISSING,
    format_table,
    fr_date,
    fr_datetime,
    fr_interval,
    fr_number,
    fr_percent,
    fr_pvalue,
    fr_ratio,
    suppressed_label,
    table_html,
)
from aioa_analysis.core.schema import (
    AGE_BANDS,
    DIMENSIONS,
    DIPLOMA_OUTCOMES,
    REQUIRED_CONTRACT_COLUMNS,
    SIZE_BANDS,
    C,
    validate_contracts,
)
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.findings import (
    Finding,
    above_overall_findings,
    funnel_findings,
    global_test_findings,
    hazard_ratio_findings,
    oe_findings,
    sort_findings,
)
from aioa_analysis.reporting.parameters import is_sample, quality_path, read_quality, validate_parameters
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

SECTIONS: Final = (
    ("synthese", "Synthèse en chiffres"),
    ("par-cfa", "Par CFA"),
    ("par-secteur", "Par secteur"),
    ("par-diplome", "Par diplôme"),
    ("par-periode", "Par période"),
    ("apres-rupture", "Après la rupture"),
    ("resultat-diplome", "Résultat au diplôme"),
    ("vigilance", "Points de vigilance"),
    ("qualite", "Qualité des données"),
    ("methodologie", "Méthodologie"),
    ("provenance", "Provenance"),
)
"""Section anchors and French titles, in the order of the plenary's agenda."""

LEVEL_LABELS: Final = {
    "3": "Niveau 3 (CAP, BEP)",
    "4": "Niveau 4 (bac pro, BP)",
    "5": "Niveau 5 (bac+2, BTS)",
    "6": "Niveau 6 (bac+3, licence)",
    "7": "Niveau 7 (bac+5, master)",
    "8": "Niveau 8 (doctorat)",
    "inconnu": "Non renseigné",
}
UNKNOWN_LABEL: Final = "Non renseigné"
"""What the reader sees for a missing value of a dimension (the computation's « inconnu » group)."""
UNKNOWN_VALUES: Final = frozenset({"inconnu", "", "nan", "<NA>", "None", "NaN"})
FAMILY_LABELS: Final = {
    "CAP": "CAP",
    "BAC PRO": "Bac professionnel",
    "BP": "Brevet professionnel (BP)",
    "BTS": "BTS",
    "BUT/DUT": "BUT / DUT",
    "MC": "Mention complémentaire",
    "TITRE": "Titre professionnel",
    "LICENCE PRO": "Licence professionnelle",
    "INGENIEUR": "Diplôme d'ingénieur",
    "MASTER": "Master",
}
OUTCOME_LABELS: Final = {
    "admis": "Admis",
    "ajourne": "Ajourné",
    "absent": "Absent à l'examen",
    "inconnu": "Résultat inconnu",
}
SOURCE_LABELS: Final = {
    "deca_extract": "Extraction DECA",
    "deca_api": "API DECA",
    "tba_upload": "Tableau de bord (téléversement)",
    "sifa": "SIFA",
    "chamber": "Tableur chambre consulaire",
    "exam_results": "Résultats d'examen",
}
"""French names of the input profiles (schema.SOURCES) for the reader."""
NATURAL_ORDERS: Final[dict[str, tuple[str, ...]]] = {
    "employer_size": SIZE_BANDS,
    C.employer_size_band: SIZE_BANDS,
    "age_band": AGE_BANDS,
    C.age_band: AGE_BANDS,
    "diploma_outcome": DIPLOMA_OUTCOMES,
}
"""Dimensions with a natural order (sizes, ages...): their groups are shown in that order."""
NUMERIC_DIMS: Final = frozenset({"diploma_level", C.diploma_level})
CHRONOLOGICAL_DIMS: Final = frozenset({"cohort", C.school_year, "start_year", "start_month"})
PHASE_LABELS: Final = {
    "0-45j": "0 à 45 jours",
    "46j-3m": "46 jours à 3 mois",
    "3-6m": "3 à 6 mois",
    "6-12m": "6 à 12 mois",
    "12m+": "Plus de 12 mois",
    "apres_diplome": "Après le diplôme",
}
CLASS_LABELS: Final = {
    "completed": "Contrat mené à son terme",
    "ruptured_recontracted": "Rompu, puis nouveau contrat (180 jours)",
    "ruptured_no_new_contract": "Rompu, sans nouveau contrat (180 jours)",
}
MONTH_ABBR: Final = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
SURVIVAL_MONTHS: Final = (1, 2, 3, 6, 9, 12, 18, 24, 36)


@dataclass
class ReportContext:
    """Everything a report shows, computed once by :func:`prepare_report`."""

    params: dict[str, Any]
    as_of: pd.Timestamp
    contracts: pd.DataFrame  # the report's scope (one CFA for a CFA report)
    departement: pd.DataFrame  # the comparison base: every CFA, same territory and cohorts
    quality: dict[str, Any]
    sample: bool
    scope_label: str
    cfa_label: str
    results: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def min_n(self) -> int:
        return int(self.params["min_n"])

    @property
    def horizon(self) -> int:
        return int(self.params["horizon"])


# --- loading ------------------------------------------------------------------------------------


def short_label(label: str, width: int = 30) -> str:
    """A CFA's short name for a chart label: its name without the UAI, cut at ``width`` characters.

    >>> short_label("CFA interprofessionnel CMA 41 (0410590U)"), short_label("0419999Z")
    ('CFA interprofessionnel CMA 41', '0419999Z')
    >>> short_label("CENTRE DE FORMATION-CFSA CAMPUS CENTRE (0411088K)")
    'CENTRE DE FORMATION-CFSA CAMP…'
    """
    name = re.sub(r"\s*\([0-9]{7}[A-Z]\)$", "", str(label)).strip() or str(label)
    return name if len(name) <= width else name[: width - 1].rstrip() + "…"


def _cfa_label_map(uais: pd.Series) -> dict[str, str]:
    keys = sorted(uais.dropna().astype(str).unique())
    names = referential.cfa_names(pd.Series(keys))
    return {u: (f"{n} ({u})" if isinstance(n, str) else u) for u, n in zip(keys, names, strict=True)}


#: columns of contracts.parquet the report reads (the others are never used: skipping them halves the
#: load of a national table)
REPORT_COLUMNS: frozenset[str] = frozenset(
    {
        *REQUIRED_CONTRACT_COLUMNS,
        *(c for c in DIMENSIONS.values() if c not in ("start_month", "start_year")),
        C.rupture_after_diploma,
        C.diploma_obtained,
        C.diploma_obtained_date,
        C.exam_session,
        C.rupture_phase,
        C.days_to_rupture,
        C.naf_section,
        C.age_at_start,
        C.employer_headcount,
        C.employer_naf,  # coverage per CFA (quality section)
        C.residence_postcode,
    }
)


def _read_contracts(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    return pd.read_parquet(path, columns=[c for c in names if c in REPORT_COLUMNS])


def prepare_report(**params: Any) -> ReportContext:
    """Validate the parameters, load the clean tables and compute every result of the report."""
    p = validate_parameters(params)
    data_file = Path(str(p["data_file"]))
    try:
        table = _read_contracts(data_file)
    except (OSError, ValueError) as exc:
        from aioa_analysis.core.errors import DataError

        raise DataError(
            f"data file {data_file} cannot be read ({exc})", hint="rebuild it with `aioa clean`"
        ) from exc
    table = validate_contracts(table)
    qpath = quality_path(data_file, str(p["quality_file"]) or None)
    quality = read_quality(qpath)
    inputs = {data_file.name: sha256_of(data_file)}
    if qpath.is_file():
        inputs[qpath.name] = sha256_of(qpath)
    scope = table
    if p["territory"]:
        scope = scope.loc[
            scope[C.territory].astype("string").eq(str(p["territory"])).fillna(False).to_numpy()
        ]
    if p["cohorts"]:
        wanted = str(p["cohorts"]).split(",")
        scope = scope.loc[scope[C.school_year].astype("string").isin(wanted).fillna(False).to_numpy()]
    dept = scope.reset_index(drop=True)
    cfa_labels = _cfa_label_map(table[C.cfa_uai])
    if p["cfa"]:
        focus = dept.loc[
            dept[C.cfa_uai].astype("string").eq(str(p["cfa"])).fillna(False).to_numpy()
        ].reset_index(drop=True)
        cfa_label = cfa_labels.get(str(p["cfa"]), str(p["cfa"]))
    else:
        focus, cfa_label = dept, ""
    territory = referential.territory_labels().get(str(p["territory"]), "") if p["territory"] else ""
    parts = [cfa_label or "Loir-et-Cher (ensemble des CFA)"]
    if territory:
        parts.append(territory)
    if p["cohorts"]:
        parts.append("années " + str(p["cohorts"]).replace(",", ", "))
    ctx = ReportContext(
        params=p,
        as_of=pd.Timestamp(str(p["as_of"])),
        contracts=focus,
        departement=dept,
        quality=quality,
        sample=is_sample(quality, str(p["sample"])),
        scope_label=" — ".join(parts),
        cfa_label=cfa_label,
        inputs=inputs,
    )
    ctx.results["cfa_labels"] = cfa_labels
    ctx.results["n_table_rows"] = len(table)
    compute_results(ctx)
    ctx.findings = collect_findings(ctx)
    return ctx


# --- computing ----------------------------------------------------------------------------------


def is_unknown(value: object) -> bool:
    """Whether a group value is the « unknown » group (missing value of the dimension).

    >>> is_unknown("inconnu"), is_unknown(None), is_unknown("CAP")
    (True, True, False)
    """
    return value is None or value is pd.NA or str(value) in UNKNOWN_VALUES


def order_groups(
    table: pd.DataFrame,
    dim: str,
    *,
    rate: str = "rate",
    label: str = "label",
    suppressed: str = "suppressed",
) -> pd.DataFrame:
    """Display order of a table of groups, and « Non renseigné » as the unknown group's label.

    Dimensions with a natural order keep it (employer size bands as :data:`schema.SIZE_BANDS`,
    age bands as :data:`schema.AGE_BANDS`, diploma levels numerically, cohorts chronologically);
    the others are sorted by ``rate``, highest first. Suppressed rows come after the published
    ones, in label order (sorting them by their hidden rate would reveal it). The unknown group
    always comes last. Adds nothing but the label; never changes a value.

    >>> t = pd.DataFrame({"sector": ["commerce", "inconnu", "construction", "coiffure"],
    ...                   "rate": [0.2, 0.5, 0.3, 0.9], "suppressed": [False, False, False, True]})
    >>> order_groups(t.assign(label=t["sector"]), "sector")["label"].tolist()
    ['construction', 'commerce', 'coiffure', 'Non renseigné']
    >>> b = pd.DataFrame({"employer_size": ["250+", "0-4", "10-49", "5-9"], "rate": [0.1, 0.3, 0.2, 0.25]})
    >>> order_groups(b, "employer_size")["employer_size"].tolist()
    ['0-4', '5-9', '10-49', '250+']
    """
    if table.empty or dim not in table.columns:
        return table
    values = table[dim].astype("object")
    unknown = values.map(is_unknown).astype(bool)
    hidden = (
        table[suppressed].astype("boolean").fillna(False).astype(bool)
        if suppressed in table.columns
        else pd.Series(False, index=table.index)
    )
    texts = values.astype(str)
    if dim in NATURAL_ORDERS:
        order = {v: i for i, v in enumerate(NATURAL_ORDERS[dim])}
        key = texts.map(order).fillna(len(order)).astype(float)
        hidden = pd.Series(False, index=table.index)  # a fixed order reveals nothing
        secondary = texts
    elif dim in NUMERIC_DIMS:
        key = pd.to_numeric(texts, errors="coerce").fillna(1e9).astype(float)
        hidden = pd.Series(False, index=table.index)
        secondary = texts
    elif dim in CHRONOLOGICAL_DIMS:
        key = pd.Series(0.0, index=table.index)
        hidden = pd.Series(False, index=table.index)
        secondary = texts
    else:
        r = pd.to_numeric(table[rate], errors="coerce") if rate in table.columns else None
        key = (-r).fillna(0.0).astype(float) if r is not None else pd.Series(0.0, index=table.index)
        key = key.where(~hidden, 0.0)
        secondary = (table[label] if label in table.columns else values).astype(str).str.casefold()
    sorter = pd.DataFrame(
        {"_u": unknown.to_numpy(), "_h": hidden.to_numpy(), "_k": key.to_numpy(), "_s": secondary.to_numpy()},
        index=table.index,
    )
    idx = sorter.sort_values(["_u", "_h", "_k", "_s"], kind="stable").index
    out = table.loc[idx].reset_index(drop=True)
    if label in out.columns:
        out = out.assign(
            **{label: [UNKNOWN_LABEL if u else v for u, v in zip(unknown.loc[idx], out[label], strict=True)]}
        )
    return out


def _dim(table: pd.DataFrame, *names: str) -> str:
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


def compute_results(ctx: ReportContext) -> None:
    """Run every estimator the report needs; results go to ``ctx.results`` (tidy tables)."""
    as_of, h, min_n = ctx.as_of, ctx.horizon, ctx.min_n
    focus, dept, res = ctx.contracts, ctx.departement, ctx.results
    labels = res["cfa_labels"]
    res["overall"] = rates.rupture_rate_within(focus, as_of=as_of, horizon_months=h, min_n=min_n)
    res["overall_dept"] = (  # the same table when the report is the département's
        res["overall"].copy()
        if focus is dept
        else rates.rupture_rate_within(dept, as_of=as_of, horizon_months=h, min_n=min_n)
    )
    res["whole"] = survival.rupture_whole_contract(focus, as_of=as_of, min_n=min_n)
    # par CFA (always the département's CFAs)
    by_cfa = publish_rates(
        rates.rupture_rate_within(dept, as_of=as_of, by="cfa", horizon_months=h, min_n=min_n),
        "cfa",
        min_n=min_n,
    )
    by_cfa = by_cfa.assign(label=by_cfa["cfa"].astype(str).map(labels).fillna(by_cfa["cfa"].astype(str)))
    by_cfa = by_cfa.assign(short=[short_label(v) for v in by_cfa["label"]])
    funnel = compare.funnel_data(by_cfa)
    res["funnel"] = funnel
    target = float(funnel["target"].iloc[0]) if len(funnel) and "target" in funnel else float("nan")
    res["funnel_target"] = target
    n_max = int(max(by_cfa["n_contracts"].max() if len(by_cfa) else 1, 1) * 1.1) + 1
    res["funnel_curve"] = compare.funnel_curve(target, n_max) if pd.notna(target) else pd.DataFrame()
    res["chi_cfa"] = compare.chi_square_test(by_cfa)
    oe = compare.indirect_standardisation(dept, as_of=as_of, unit="cfa", horizon_months=h)
    ucol = _dim(oe, "cfa", C.cfa_uai)
    oe = oe.assign(label=oe[ucol].astype(str).map(labels).fillna(oe[ucol].astype(str)))
    res["oe"] = publish_rates(oe, ucol, min_n=min_n)
    # par secteur, par diplôme
    for key, dim in (("sector", "sector"), ("level", "diploma_level"), ("family", "diploma_family")):
        t = rates.rupture_rate_within(focus, as_of=as_of, by=dim, horizon_months=h, min_n=min_n)
        res[f"by_{key}"] = publish_rates(t, dim, min_n=min_n)
    sector_labels = referential.sector_labels()
    res["by_sector"] = res["by_sector"].assign(
        label=res["by_sector"]["sector"]
        .astype(str)
        .map(sector_labels)
        .fillna(res["by_sector"]["sector"].astype(str))
    )
    res["by_level"] = res["by_level"].assign(
        label=res["by_level"]["diploma_level"]
        .astype(str)
        .map(LEVEL_LABELS)
        .fillna(res["by_level"]["diploma_level"].astype(str))
    )
    ov = res["overall"]
    overall_rate = float(ov["rate"].iloc[0]) if len(ov) else float("nan")
    res["sector_funnel"] = (
        compare.funnel_data(res["by_sector"], target=overall_rate)
        if pd.notna(overall_rate)
        else res["by_sector"]
    )
    # par période
    res["by_cohort"] = rates.rupture_rate_within(
        focus, as_of=as_of, by="cohort", horizon_months=h, min_n=min_n
    )
    res["km"] = survival.rupture_km(focus, as_of=as_of, max_months=24, min_n=min_n)
    res["km_level"] = survival.rupture_km(focus, as_of=as_of, by="diploma_level", max_months=24, min_n=min_n)
    res["phases"] = rates.rupture_phases(focus, as_of=as_of, min_n=min_n)
    # crude monthly hazard + observed/expected at equal contract age; summer ratio at equal age
    calendar = seasonality.age_calendar(focus, as_of=as_of)  # split once, shared by both tables
    res["hazard"] = seasonality.age_adjusted_seasonality(
        focus, as_of=as_of, period="month_of_year", min_n=min_n, calendar=calendar
    )
    res["summer"] = seasonality.age_adjusted_summer_effect(focus, as_of=as_of, calendar=calendar)
    # après la rupture
    links = linking.link_ruptures(focus, as_of=as_of)  # linked once, shared by the four tables below
    res["recontract"] = transitions.recontract_rates(focus, as_of=as_of, links=links)
    res["net"] = transitions.net_rupture_rates(focus, as_of=as_of, horizon_months=h, links=links)
    res["delay"] = transitions.time_to_new_contract_summary(focus, as_of=as_of, links=links)
    # résultat au diplôme
    res["pass"] = diploma.pass_rates_by_outcome_class(focus, as_of=as_of, links=links)
    res["by_outcome"] = diploma.rupture_rates_by_diploma_outcome(focus, as_of=as_of, min_n=min_n)
    res["references"] = referential.reference_rates()


def collect_findings(ctx: ReportContext) -> list[Finding]:
    """The points de vigilance supported by the results (see :mod:`aioa_analysis.reporting.findings`)."""
    res = ctx.results
    out: list[Finding] = []
    funnel = res["funnel"]
    target = res["funnel_target"]
    if pd.notna(target):
        out += funnel_findings(funnel, label="label", anchor="fig-cfa-funnel", target=target, unit_word="")
    out += [
        f
        for f in oe_findings(
            res["oe"],
            label="label",
            anchor="tab-cfa-oe",
            ratio="oe_ratio",
            ci_low="oe_low",
            ci_high="oe_high",
            unit_word="",
        )
        if f.severity == "alerte"
    ]
    if ctx.cfa_label:  # a CFA report speaks of its own CFA only
        out = [f for f in out if f.subject == ctx.cfa_label]
    chi = res["chi_cfa"]
    if len(chi) and not bool(chi["low_expected"].iloc[0]) and not ctx.cfa_label:
        out += global_test_findings(float(chi["p_value"].iloc[0]), anchor="tab-cfa-funnel", groups="les CFA")
    summer = res["summer"]
    if len(summer):
        out += hazard_ratio_findings(  # the ratio at equal contract age, not the crude one
            summer.assign(period="l'été (juin à août)", suppressed=False),
            anchor="fig-saison-ajuste",
            ratio="rate_ratio",
            qualifier="à ancienneté de contrat égale",
        )
    overall = res["overall"]
    if len(overall) and pd.notna(overall["rate"].iloc[0]):
        sf = res["sector_funnel"]
        if "flag" in sf.columns:
            scope = "de ce CFA" if ctx.cfa_label else "du département"
            out += above_overall_findings(
                sf,
                label="label",
                anchor="tab-secteur",
                overall=float(overall["rate"].iloc[0]),
                flag="flag",
                above="above_998",
                scope=scope,
            )
    return sort_findings(out)


# --- display helpers ----------------------------------------------------------------------------


def _h2(anchor: str) -> None:
    title = dict(SECTIONS)[anchor]
    show_html(f'<h2 id="{anchor}">{html.escape(title)}</h2>')


def _p(text: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<p{c}>{html.escape(text)}</p>"


def _unavailable(what: str) -> None:
    show_html(_p(f"{what} : pas assez de données dans le périmètre du rapport.", "unavailable"))


def _rate_columns(dim_header: str, label: str = "label") -> list[tuple[str, str, str]]:
    return [
        (label, dim_header, "text"),
        ("n_contracts", "Contrats observés", "number"),
        ("n_ruptures", "Ruptures", "number"),
        ("rate", "Taux", "percent"),
        ("ci", "IC 95 %", "interval"),
    ]


_CI = {"ci": ("ci_low", "ci_high", "percent")}


def _rate_table(
    t: pd.DataFrame,
    dim_header: str,
    *,
    table_id: str,
    caption: str,
    ctx: ReportContext,
    extra: list[tuple[str, str, str]] | None = None,
    note: str | None = None,
    not_observable: bool = False,
) -> str:
    disp = format_table(
        t,
        _rate_columns(dim_header) + (extra or []),
        suppress=["rate", "ci", "n_ruptures"],
        min_n=ctx.min_n,
        intervals=_CI,
    )
    if not_observable:  # a group with no contract observable yet (too recent for the horizon)
        empty = (pd.to_numeric(t["n_contracts"], errors="coerce").fillna(0) == 0).to_numpy()
        for header in ("Ruptures", "Taux", "IC 95 %"):
            disp.loc[empty, header] = NOT_OBSERVABLE
    return table_html(disp, table_id=table_id, caption=caption, note=note or _suppression_note(ctx))


NOT_OBSERVABLE: Final = "pas encore observable"


def _show_table(
    ctx: ReportContext,
    table: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    *,
    suppress: list[str],
    table_id: str,
    caption: str,
    note: str | None = None,
    intervals: Mapping[str, tuple[str, str, str]] = _CI,
) -> None:
    """Display ``table`` in French formats, cells of groups under ``ctx.min_n`` suppressed."""
    disp = format_table(table, columns, suppress=suppress, min_n=ctx.min_n, intervals=intervals)
    show_html(table_html(disp, table_id=table_id, caption=caption, note=note))


def _chart_with_table(
    ctx: ReportContext,
    fig: go.Figure,
    *,
    fig_id: str,
    caption: str,
    table: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    suppress: list[str],
    table_id: str,
    table_caption: str,
    note: str | None = None,
    intervals: Mapping[str, tuple[str, str, str]] = _CI,
) -> None:
    """Display a chart followed by its table (see :func:`_show_table`)."""
    show_figure(fig, fig_id=fig_id, caption=caption)
    _show_table(
        ctx,
        table,
        columns,
        suppress=suppress,
        table_id=table_id,
        caption=table_caption,
        note=note,
        intervals=intervals,
    )


def _suppression_note(ctx: ReportContext) -> str:
    return (
        f"« {suppressed_label(ctx.min_n)} » : taux non publié, moins de {ctx.min_n} contrats observés. "
        f"Taux de rupture à {ctx.horizon} mois : contrats commencés au moins {ctx.horizon} mois avant le "
        f"{fr_date(ctx.as_of)}, rompus dans les {ctx.horizon} mois suivant leur début."
    )


def _refs(ctx: ReportContext, *, dimension: str = "overall", category: str = "") -> pd.DataFrame:
    ref = ctx.results["references"]
    sel = ref.loc[
        (ref["indicator"] == "rupture_rate")
        & (ref["dimension"] == dimension)
        & (ref["category"].fillna("") == category)
        & (ref["horizon_months"].astype(str) == str(ctx.horizon))
    ]
    sel = sel.sort_values("year", ascending=False).drop_duplicates("geography")
    return sel.assign(
        label=[
            f"{g} {y} : {fr_percent(v)}"
            for g, y, v in zip(sel["geography"], sel["year"], sel["value"], strict=True)
        ]
    )


# --- sections -----------------------------------------------------------------------------------


def show_header(ctx: ReportContext) -> None:
    """Title, scope, observation and meeting dates, the sample banner and the table of contents."""
    p = ctx.params
    banner = (
        '<div class="banner-sample" role="note">Données fictives — rapport produit à partir de '
        "l'échantillon synthétique : aucun chiffre ne décrit la réalité.</div>"
        if ctx.sample
        else ""
    )
    meeting = (
        f'<p class="subtitle">Séance plénière du {fr_date(p["meeting_date"])}</p>'
        if p["meeting_date"]
        else ""
    )
    toc = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in SECTIONS)
    show_html(
        f"<header>{banner}<h1>{html.escape(str(p['title']))}</h1>"
        f'<p class="subtitle">{html.escape(ctx.scope_label)}</p>'
        f'<p class="subtitle">Situation au {fr_date(ctx.as_of)}</p>{meeting}</header>'
        f'<nav class="toc" aria-label="Sommaire"><strong>Sommaire</strong><ol>{toc}</ol></nav>'
    )


def _card(value: str, label: str, detail: str = "") -> str:
    d = f'<span class="detail">{html.escape(detail)}</span>' if detail else ""
    return f'<div class="card"><span class="value">{html.escape(value)}</span><span class="label">{html.escape(label)}</span>{d}</div>'


def show_synthese(ctx: ReportContext) -> None:
    """Key figures with the national and regional references."""
    _h2("synthese")
    res, h = ctx.results, ctx.horizon
    ov = res["overall"].iloc[0] if len(res["overall"]) else None
    n_all = len(ctx.contracts)
    started = ctx.contracts[C.start_date] <= ctx.as_of
    cards = [_card(fr_number(int(started.sum())), "contrats commencés dans le périmètre")]
    if ov is not None and not bool(ov.get("suppressed", False)) and pd.notna(ov["rate"]):
        cards.append(
            _card(
                fr_percent(ov["rate"]),
                f"taux de rupture à {h} mois",
                f"IC 95 % {fr_interval(ov['ci_low'], ov['ci_high'])}, {fr_number(ov['n_contracts'])} contrats observés",
            )
        )
    elif ov is not None:
        cards.append(_card(suppressed_label(ctx.min_n), f"taux de rupture à {h} mois"))
    whole = res["whole"]
    if len(whole) and pd.notna(whole["rate"].iloc[0]) and not bool(whole["suppressed"].iloc[0]):
        cards.append(
            _card(
                fr_percent(whole["rate"].iloc[0]),
                "probabilité de rupture sur tout le contrat",
                "estimation de Kaplan-Meier",
            )
        )
    net = res["net"]
    if len(net) and pd.notna(net["rate"].iloc[0]) and int(net["n_contracts"].iloc[0]) >= ctx.min_n:
        cards.append(
            _card(
                fr_percent(net["rate"].iloc[0]),
                "rupture nette",
                f"rompus dans les {h} mois, sans nouveau contrat en 180 jours",
            )
        )
    rc = res["recontract"]
    rc180 = rc.loc[rc["window_days"] == 180]
    if len(rc180) and int(rc180["n_ruptures"].iloc[0]) >= ctx.min_n:
        cards.append(
            _card(
                fr_percent(rc180["rate"].iloc[0]),
                "des contrats rompus suivis d'un nouveau contrat en 180 jours",
            )
        )
    n_after = (
        int(ov["n_ruptures_after_diploma"]) if ov is not None and "n_ruptures_after_diploma" in ov else 0
    )
    cards.append(
        _card(fr_number(n_after), "ruptures après l'obtention du diplôme", "comptées à part (L6222-19)")
    )
    show_html(
        f'<div class="cards">{"".join(cards)}</div>'
        + _p(f"{fr_number(n_all)} contrats dans le périmètre du rapport.")
    )
    # references
    ref = sort_references(res["references"].loc[res["references"]["dimension"] == "overall"], horizon=h)
    rows = pd.DataFrame(
        {
            "Indicateur": [
                _indicator_label(i, hm) for i, hm in zip(ref["indicator"], ref["horizon_months"], strict=True)
            ],
            "Territoire": ref["geography"],
            "Valeur": [fr_percent(v) for v in ref["value"]],
            "Population": ref["population"],
            "Source": ref["source"],
        }
    )
    if ov is not None:
        mine = pd.DataFrame(
            {
                "Indicateur": [f"Taux de rupture à {h} mois"],
                "Territoire": [ctx.scope_label],
                "Valeur": [suppressed_label(ctx.min_n) if bool(ov["suppressed"]) else fr_percent(ov["rate"])],
                "Population": [f"contrats commencés avant le {fr_date(ctx.as_of - pd.DateOffset(months=h))}"],
                "Source": ["ce rapport"],
            }
        )
        rows = pd.concat([mine, rows], ignore_index=True)
    show_html(
        table_html(
            rows,
            table_id="tab-references",
            caption="Le périmètre du rapport et les références publiées",
            numeric=["Valeur"],
            note="Les références nationales et régionales sont des chiffres publiés (source et année indiquées) ; leurs définitions peuvent différer (voir la méthodologie).",
        )
    )


INDICATOR_ORDER: Final = (
    "rupture_rate",
    "rupture_rate_whole_contract",
    "rupture_rate_person",
    "net_rupture_share",
    "recontract_share_180d",
    "exam_pass_rate",
)
GEOGRAPHY_ORDER: Final = ("France", "Centre-Val de Loire")


def sort_references(ref: pd.DataFrame, *, horizon: int = 9) -> pd.DataFrame:
    """Published references in reading order: by indicator (the report's horizon first among the
    rupture rates), then France before Centre-Val de Loire, then the most recent year first.

    >>> r = pd.DataFrame({"indicator": ["rupture_rate"] * 4 + ["rupture_rate_whole_contract"],
    ...     "horizon_months": ["9", "6", "9", "9", ""], "geography": ["France", "France",
    ...     "Centre-Val de Loire", "France", "France"], "year": [2018, 2022, 2022, 2022, 2021]})
    >>> sort_references(r)[["horizon_months", "geography", "year"]].values.tolist()
    [['9', 'France', 2022], ['9', 'France', 2018], ['9', 'Centre-Val de Loire', 2022], ['6', 'France', 2022], ['', 'France', 2021]]
    """
    ind = {v: i for i, v in enumerate(INDICATOR_ORDER)}
    geo = {v: i for i, v in enumerate(GEOGRAPHY_ORDER)}
    hz = ref["horizon_months"].astype(str).str.strip()
    keys = pd.DataFrame(
        {
            "_i": ref["indicator"].map(ind).fillna(len(ind)).to_numpy(),
            "_h": (hz != str(horizon)).to_numpy(),
            "_hn": pd.to_numeric(hz, errors="coerce").fillna(0).to_numpy(),
            "_g": ref["geography"].map(geo).fillna(len(geo)).to_numpy(),
            "_y": -pd.to_numeric(ref["year"], errors="coerce").fillna(0).to_numpy(),
        },
        index=ref.index,
    )
    order = keys.sort_values(["_i", "_h", "_hn", "_g", "_y"], kind="stable").index
    return ref.loc[order].reset_index(drop=True)


def _indicator_label(indicator: str, horizon: object) -> str:
    h = str(horizon).strip()
    return {
        "rupture_rate": f"Taux de rupture à {h} mois",
        "rupture_rate_whole_contract": "Taux de rupture sur tout le contrat",
        "rupture_rate_person": f"Part des apprentis ayant rompu (sur {h} mois)",
        "net_rupture_share": "Rupture nette (sans nouveau contrat en 6 mois)",
        "recontract_share_180d": "Nouveau contrat dans les 6 mois",
        "exam_pass_rate": "Taux de réussite à l'examen",
    }.get(indicator, indicator)


def show_par_cfa(ctx: ReportContext) -> None:
    """Funnel plot, its table with intervals, and observed/expected (indirect standardisation)."""
    _h2("par-cfa")
    res = ctx.results
    funnel = res["funnel"]
    highlight = [ctx.cfa_label] if ctx.cfa_label else []
    if funnel.empty or pd.isna(res["funnel_target"]):
        _unavailable("Comparaison des CFA")
        return
    show_html(
        _p(
            f"Chaque point est un CFA : son taux de rupture à {ctx.horizon} mois selon son nombre de contrats. "
            "Les courbes sont les limites de contrôle à 95 % et 99,8 % autour du taux d'ensemble : un CFA "
            "hors des limites à 99,8 % s'écarte plus que le hasard ne l'expliquerait. Ce n'est pas un classement."
        )
    )
    fig = figures.funnel_plot(
        funnel,
        res["funnel_curve"],
        label="label",
        target=res["funnel_target"],
        highlight=highlight,
        text_label="short",
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-cfa-funnel",
        caption=f"Taux de rupture à {ctx.horizon} mois par CFA (graphique en entonnoir)",
    )
    flag_labels = {
        "above_998": "au-dessus (99,8 %)",
        "above_95": "au-dessus (95 %)",
        "within": "dans les limites",
        "below_95": "en dessous (95 %)",
        "below_998": "en dessous (99,8 %)",
    }
    ft = funnel.assign(position=funnel["flag"].astype("string").map(flag_labels).fillna("–"))
    ft = ft.assign(limits=[fr_interval(a, b) for a, b in zip(ft["lower_95"], ft["upper_95"], strict=True)])
    chi = res["chi_cfa"]
    chi_note = ""
    if len(chi):
        c = chi.iloc[0]
        chi_note = f" Test du khi-deux d'égalité des taux entre CFA : {fr_pvalue(c['p_value'])}."
        if str(c.get("warning", "")):
            chi_note += f" {c['warning']}"
    show_html(
        _rate_table(
            ft,
            "CFA",
            table_id="tab-cfa-funnel",
            caption=f"Taux de rupture à {ctx.horizon} mois par CFA",
            ctx=ctx,
            extra=[("limits", "Limites 95 % attendues", "text"), ("position", "Position", "text")],
            note=_suppression_note(ctx) + chi_note,
        )
    )
    oe = res["oe"]
    show_html(
        "<h3>Ruptures observées et attendues</h3>"
        + _p(
            "Le nombre de ruptures attendu applique à chaque contrat le taux de rupture du département pour "
            "son niveau de diplôme et son secteur (standardisation indirecte) : un rapport observé/attendu "
            "supérieur à 1 signale plus de ruptures que ne l'explique la composition des formations."
        )
    )
    fig = figures.oe_forest(
        oe,
        label="label",
        ratio="oe_ratio",
        ci_low="oe_low",
        ci_high="oe_high",
        highlight=highlight,
        min_n=ctx.min_n,
    )
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-cfa-oe",
        caption="Rapport ruptures observées / attendues par CFA",
        table=oe,
        columns=[
            ("label", "CFA", "text"),
            ("n_contracts", "Contrats observés", "number"),
            ("n_ruptures", "Ruptures observées", "number"),
            ("expected", "Ruptures attendues", "ratio"),
            ("oe_ratio", "Observé / attendu", "ratio"),
            ("oe_ci", "IC 95 %", "interval"),
            ("adjusted_rate", "Taux ajusté", "percent"),
        ],
        suppress=["n_ruptures", "expected", "oe_ratio", "oe_ci", "adjusted_rate"],
        intervals={"oe_ci": ("oe_low", "oe_high", "ratio")},
        table_id="tab-cfa-oe",
        table_caption="Ruptures observées et attendues par CFA (standardisation indirecte)",
        note=_suppression_note(ctx),
    )


def show_par_secteur(ctx: ReportContext) -> None:
    """Rupture rate by sector, with the national sector references."""
    _h2("par-secteur")
    t = ctx.results["sector_funnel"]
    if t.empty:
        _unavailable("Taux par secteur")
        return
    ref = ctx.results["references"]
    sec_ref = ref.loc[(ref["indicator"] == "rupture_rate") & (ref["dimension"] == "sector")]
    france = dict(zip(sec_ref["category"], sec_ref["value"], strict=True))
    t = order_groups(t.assign(france=t["sector"].astype(str).map(france)), "sector")
    overall = _overall_refs(ctx)
    fig = figures.rate_bars(
        t,
        label="label",
        references=overall,
        reference="france",
        reference_name=FRANCE_SECTOR,
        min_n=ctx.min_n,
    )
    show_figure(
        fig, fig_id="fig-secteur", caption=f"Taux de rupture à {ctx.horizon} mois par secteur de l'employeur"
    )
    show_html(
        _rate_table(
            t,
            "Secteur",
            table_id="tab-secteur",
            caption=f"Taux de rupture à {ctx.horizon} mois par secteur",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=_suppression_note(ctx) + _ORDER_NOTE,
        )
    )


FRANCE_SECTOR: Final = "France (DARES, 2022)"
_ORDER_NOTE: Final = (
    " Groupes classés du taux le plus élevé au plus bas ; les taux non publiés puis « Non renseigné » "
    "(valeur manquante dans les fichiers) en fin de liste. Losange : taux national du groupe."
)


def _category_refs(ctx: ReportContext, dimension: str) -> dict[str, float]:
    """Published rate per category of ``dimension`` at the report's horizon (the latest year)."""
    ref = ctx.results["references"]
    sel = ref.loc[
        (ref["indicator"] == "rupture_rate")
        & (ref["dimension"] == dimension)
        & (ref["geography"] == "France")
        & (ref["horizon_months"].astype(str) == str(ctx.horizon))
    ].sort_values("year", ascending=False)
    sel = sel.drop_duplicates("category")
    return {str(c): float(v) for c, v in zip(sel["category"], sel["value"], strict=True)}


def _overall_refs(ctx: ReportContext) -> pd.DataFrame:
    ov = ctx.results["overall"]
    rows = []
    if len(ov) and pd.notna(ov["rate"].iloc[0]) and not bool(ov["suppressed"].iloc[0]):
        rows.append(
            {"value": float(ov["rate"].iloc[0]), "label": f"Ensemble : {fr_percent(ov['rate'].iloc[0])}"}
        )
    nat = _refs(ctx)
    for r in nat.itertuples(index=False):
        rows.append({"value": float(r.value), "label": f"{r.geography} {r.year} : {fr_percent(r.value)}"})
    return pd.DataFrame(rows, columns=["value", "label"])


def show_par_diplome(ctx: ReportContext) -> None:
    """Rupture rate by diploma level and by type of diploma, with the national references."""
    _h2("par-diplome")
    t = ctx.results["by_level"]
    if t.empty:
        _unavailable("Taux par diplôme")
        return
    t = order_groups(
        t.assign(france=t["diploma_level"].astype(str).map(_category_refs(ctx, "diploma_level"))),
        "diploma_level",
    )
    fig = figures.rate_bars(
        t,
        label="label",
        references=_overall_refs(ctx),
        reference="france",
        reference_name=FRANCE_SECTOR,
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-diplome",
        caption=f"Taux de rupture à {ctx.horizon} mois par niveau de diplôme préparé",
    )
    show_html(
        _rate_table(
            t,
            "Niveau de diplôme",
            table_id="tab-diplome",
            caption=f"Taux de rupture à {ctx.horizon} mois par niveau de diplôme",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=_suppression_note(ctx) + " Losange : taux national du niveau, quand il est publié.",
        )
    )
    fam = ctx.results["by_family"]
    fam = fam.assign(
        label=fam["diploma_family"].astype(str).map(FAMILY_LABELS).fillna(fam["diploma_family"].astype(str)),
        france=fam["diploma_family"].astype(str).map(_category_refs(ctx, "diploma_family")),
    )
    fam = order_groups(fam, "diploma_family")
    fig = figures.rate_bars(
        fam,
        label="label",
        references=_overall_refs(ctx),
        reference="france",
        reference_name=FRANCE_SECTOR,
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-diplome-famille",
        caption=f"Taux de rupture à {ctx.horizon} mois par type de diplôme préparé",
    )
    show_html(
        _rate_table(
            fam,
            "Diplôme",
            table_id="tab-diplome-famille",
            caption=f"Taux de rupture à {ctx.horizon} mois par type de diplôme",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=_suppression_note(ctx) + _ORDER_NOTE,
        )
    )


def show_par_periode(ctx: ReportContext) -> None:
    """Cohort trend, time-to-rupture curves, phases and the monthly hazard (critical periods)."""
    _h2("par-periode")
    res = ctx.results
    coh = res["by_cohort"]
    show_html("<h3>Évolution par année scolaire de début</h3>")
    refs = _refs(ctx)
    observable = coh.loc[coh["n_contracts"] > 0]
    fig = figures.rate_trend(observable, x="cohort", references=refs, min_n=ctx.min_n)
    show_figure(
        fig,
        fig_id="fig-cohortes",
        caption=f"Taux de rupture à {ctx.horizon} mois par année scolaire de début du contrat",
    )
    show_html(
        _rate_table(
            coh.assign(label=coh["cohort"].astype(str)),
            "Année scolaire",
            table_id="tab-cohortes",
            caption=f"Taux de rupture à {ctx.horizon} mois par année scolaire",
            ctx=ctx,
            note=_suppression_note(ctx)
            + f" « {NOT_OBSERVABLE} » : aucun contrat de l'année n'a encore {ctx.horizon} mois d'ancienneté au "
            f"{fr_date(ctx.as_of)} (contrats commencés après le {fr_date(ctx.as_of - pd.DateOffset(months=ctx.horizon))}).",
            not_observable=True,
        )
    )
    # survival
    show_html(
        "<h3>Délai avant la rupture</h3>"
        + _p(
            "Probabilité cumulée de rupture selon le nombre de mois écoulés depuis le début du contrat "
            "(estimation de Kaplan-Meier : les contrats en cours sont suivis jusqu'à la date d'observation). "
            "La valeur au mois m est la probabilité qu'un contrat soit rompu dans ses m premiers mois ; "
            "les points mensuels sont reliés par des segments."
        )
    )
    km = res["km_level"]
    km = km.loc[~km["suppressed"].astype("boolean").fillna(False).to_numpy()]
    km = km.assign(
        group=km["diploma_level"].astype(str).map(LEVEL_LABELS).fillna(km["diploma_level"].astype(str))
    )
    overall_km = res["km"]
    overall_km = overall_km.loc[~overall_km["suppressed"].astype("boolean").fillna(False).to_numpy()]
    curves = pd.concat([overall_km.assign(group="Ensemble"), km], ignore_index=True)
    if curves.empty:
        _unavailable("Courbes de survie")
    else:
        fig = figures.survival_curves(curves, time="month", estimate="rate", group="group")
        tab = res["km"].loc[res["km"]["month"].isin(SURVIVAL_MONTHS)]
        _chart_with_table(
            ctx,
            fig,
            fig_id="fig-survie",
            caption="Probabilité de rupture dans les m premiers mois du contrat (valeur au mois m), "
            "par niveau de diplôme",
            table=tab.assign(
                month_label=[
                    f"Dans les {m} premiers mois" if m > 1 else "Dans le premier mois" for m in tab["month"]
                ]
            ),
            columns=[
                ("month_label", "Rupture", "text"),
                ("n_at_risk", "Contrats encore suivis", "number"),
                ("cum_ruptures", "Ruptures cumulées", "number"),
                ("rate", "Probabilité cumulée", "percent"),
                ("ci", "IC 95 %", "interval"),
            ],
            suppress=["rate", "ci"],
            table_id="tab-survie",
            table_caption="Probabilité cumulée de rupture (ensemble du périmètre)",
            note=f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} contrats encore suivis.",
        )
    # phases
    show_html("<h3>Moment de la rupture</h3>")
    ph = res["phases"]
    ph = ph.assign(label=ph["phase"].astype(str).map(PHASE_LABELS).fillna(ph["phase"].astype(str)))
    share_supp = ph["share_suppressed"] if "share_suppressed" in ph else ph["suppressed"]
    counts = suppression.suppress_counts(ph[["phase", "n_ruptures"]], by=["phase"])
    ph = ph.assign(
        suppressed=share_supp.astype(bool).to_numpy() | counts["suppressed"].astype(bool).to_numpy()
    )
    fig = figures.share_bars(
        ph,
        label="label",
        share="share_of_ruptures",
        ci_low="share_ci_low",
        ci_high="share_ci_high",
        ytitle="Part des ruptures",
        xtitle="Période du contrat",
        min_n=ctx.min_n,
    )
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-phases",
        caption="Répartition des ruptures selon le moment du contrat",
        table=ph,
        columns=[
            ("label", "Période", "text"),
            ("n_ruptures", "Ruptures", "number"),
            ("share_of_ruptures", "Part des ruptures", "percent"),
            ("share_ci", "IC 95 %", "interval"),
        ],
        suppress=["n_ruptures", "share_of_ruptures", "share_ci"],
        intervals={"share_ci": ("share_ci_low", "share_ci_high", "percent")},
        table_id="tab-phases",
        table_caption="Ruptures par période du contrat",
        note="0 à 45 jours : approximation calendaire des 45 premiers jours en entreprise (rupture libre). "
        f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} ruptures au total.",
    )
    # seasonality
    show_html(
        "<h3>Périodes critiques de l'année</h3>"
        + _p(
            "Risque mensuel de rupture : ruptures du mois rapportées aux contrats en cours ce mois-là (en contrats-mois). "
            "Le nombre brut de ruptures, en pointillé, dépend aussi du nombre de contrats en cours (beaucoup commencent en septembre)."
        )
    )
    hz = res["hazard"]
    mcol = _dim(hz, "month", "month_of_year", "period_value")
    hz = hz.assign(month_label=[MONTH_ABBR[int(m) - 1] for m in hz[mcol]])
    summer = res["summer"]
    # critical months: more ruptures than the age of their contracts explains (O/E interval above 1)
    critical = hz["oe_low"].gt(1).fillna(False) if "oe_low" in hz else pd.Series(False, index=hz.index)
    hz = hz.assign(critical=critical.astype(bool) & ~hz["suppressed"].astype("boolean").fillna(False))
    fig = figures.monthly_hazard(hz, hazard="rate", exposure="exposure_months")
    note = (
        "Taux brut : il ne tient pas compte de l'ancienneté des contrats en cours (les premiers mois d'un contrat "
        "sont les plus risqués, et la plupart des contrats commencent en septembre). Mois en rouge : plus de "
        "ruptures qu'attendu à ancienneté égale (voir ci-dessous)."
    )
    if len(summer) and pd.notna(summer["crude_rate_ratio"].iloc[0]):
        s = summer.iloc[0]
        note += (
            f" Été (juin à août) comparé au reste de l'année, taux bruts : rapport {fr_ratio(s['crude_rate_ratio'])} "
            f"(IC 95 % {fr_interval(s['crude_ci_low'], s['crude_ci_high'], kind='ratio')})."
        )
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-saison",
        caption="Risque mensuel de rupture par mois de l'année (taux brut)",
        table=hz.assign(per100=hz["rate"] * 100, lo100=hz["ci_low"] * 100, hi100=hz["ci_high"] * 100),
        columns=[
            ("month_label", "Mois", "text"),
            ("n_ruptures", "Ruptures", "number"),
            ("exposure_months", "Contrats-mois", "number"),
            ("per100", "Pour 100 contrats-mois", "ratio"),
            ("ci100", "IC 95 %", "interval"),
        ],
        suppress=["per100", "ci100"],
        intervals={"ci100": ("lo100", "hi100", "ratio")},
        table_id="tab-saison",
        table_caption="Risque mensuel de rupture par mois de l'année (taux brut)",
        note=note,
    )
    show_html(
        _p(
            "À ancienneté égale : pour chaque mois, les ruptures observées sont comparées aux ruptures attendues "
            "compte tenu de l'ancienneté des contrats en cours ce mois-là (risque de chaque mois de contrat estimé "
            "sur l'ensemble de la période). Un rapport supérieur à 1 signale un mois plus risqué que la moyenne, "
            "à ancienneté égale."
        )
    )
    fig = figures.monthly_oe(hz)
    note = f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} contrats en cours dans le mois."
    if len(summer) and pd.notna(summer["rate_ratio"].iloc[0]):
        s = summer.iloc[0]
        note = (
            "Été (juin à août) comparé au reste de l'année, à ancienneté de contrat égale : rapport des risques "
            f"{fr_ratio(s['rate_ratio'])} (IC 95 % {fr_interval(s['ci_low'], s['ci_high'], kind='ratio')}, "
            f"{fr_pvalue(s['p_value'])}). " + note
        )
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-saison-ajuste",
        caption="Ruptures observées / attendues par mois de l'année, à ancienneté de contrat égale",
        table=hz,
        columns=[
            ("month_label", "Mois", "text"),
            ("n_ruptures", "Ruptures observées", "number"),
            ("expected", "Ruptures attendues", "ratio"),
            ("oe_ratio", "Observé / attendu", "ratio"),
            ("oe_ci", "IC 95 %", "interval"),
        ],
        suppress=["expected", "oe_ratio", "oe_ci"],
        intervals={"oe_ci": ("oe_low", "oe_high", "ratio")},
        table_id="tab-saison-ajuste",
        table_caption="Ruptures observées et attendues par mois de l'année, à ancienneté de contrat égale",
        note=note,
    )


def show_apres_rupture(ctx: ReportContext) -> None:
    """Re-contracting within 60 and 180 days, net rupture."""
    _h2("apres-rupture")
    res = ctx.results
    rc = res["recontract"]
    rc = rc.assign(
        label=[f"Dans les {w} jours" for w in rc["window_days"]], suppressed=rc["n_ruptures"] < ctx.min_n
    )
    fig = figures.share_bars(
        rc,
        label="label",
        share="rate",
        ci_low="ci_low",
        ci_high="ci_high",
        count="n_ruptures",
        ytitle="Part des contrats rompus",
        xtitle="Nouveau contrat",
        min_n=ctx.min_n,
    )
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-apres",
        caption="Part des contrats rompus suivis d'un nouveau contrat d'apprentissage",
        table=rc,
        columns=[
            ("label", "Nouveau contrat", "text"),
            ("n_ruptures", "Ruptures suivies", "number"),
            ("n_recontracted", "Avec nouveau contrat", "number"),
            ("rate", "Part", "percent"),
            ("ci", "IC 95 %", "interval"),
            ("n_window_open", "Ruptures trop récentes", "number"),
        ],
        suppress=["rate", "ci", "n_recontracted"],
        table_id="tab-apres",
        table_caption="Nouveau contrat après une rupture",
        note="Seules les ruptures dont la fenêtre est entièrement écoulée à la date d'observation sont comptées.",
    )
    net = res["net"]
    if len(net):
        net = net.assign(label="Ensemble", suppressed=net["n_contracts"] < ctx.min_n)
        _show_table(
            ctx,
            net,
            [
                ("label", "Périmètre", "text"),
                ("n_contracts", "Contrats observés", "number"),
                ("gross_rate", f"Rupture brute à {ctx.horizon} mois", "percent"),
                ("recontract_share", "dont nouveau contrat en 180 jours", "percent"),
                ("rate", "Rupture nette", "percent"),
                ("ci", "IC 95 %", "interval"),
            ],
            suppress=["gross_rate", "recontract_share", "rate", "ci"],
            table_id="tab-nette",
            caption="Rupture brute et rupture nette",
            note=f"Rupture nette : contrat rompu dans les {ctx.horizon} mois sans nouveau contrat dans les 180 jours (référence DARES : 12 % des contrats commencés en 2021).",
        )


def show_resultat_diplome(ctx: ReportContext) -> None:
    """Pass rate by contract outcome, then rupture rate by exam result (each chart with its table)."""
    _h2("resultat-diplome")
    ps = ctx.results["pass"]
    ps = ps.assign(
        label=ps["outcome_class"].astype(str).map(CLASS_LABELS).fillna(ps["outcome_class"].astype(str)),
        suppressed=ps["n_exam"] < ctx.min_n,
    )
    fig = figures.share_bars(
        ps,
        label="label",
        share="rate",
        ci_low="ci_low",
        ci_high="ci_high",
        count="n_exam",
        ytitle="Taux de réussite",
        xtitle="Parcours du contrat",
        min_n=ctx.min_n,
    )
    show_html("<h3>Taux de réussite selon le parcours du contrat</h3>")
    _chart_with_table(
        ctx,
        fig,
        fig_id="fig-resultat",
        caption="Taux de réussite à l'examen selon le parcours du contrat",
        table=ps,
        columns=[
            ("label", "Parcours", "text"),
            ("n_contracts", "Contrats", "number"),
            ("n_exam", "Résultat connu", "number"),
            ("n_admis", "Admis", "number"),
            ("rate", "Taux de réussite", "percent"),
            ("ci", "IC 95 %", "interval"),
        ],
        suppress=["rate", "ci", "n_admis"],
        table_id="tab-resultat",
        table_caption="Résultat au diplôme selon le parcours du contrat",
        note=f"Taux de réussite : admis / (admis + ajournés). « {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} résultats connus.",
    )
    _show_rupture_by_exam_result(ctx)


def _show_rupture_by_exam_result(ctx: ReportContext) -> None:
    """Whole-contract rupture rate by exam result (contracts whose planned end has passed)."""
    bo = ctx.results["by_outcome"]
    show_html(
        "<h3>Taux de rupture selon le résultat à l'examen</h3>"
        + _p(
            "Parmi les contrats dont la fin prévue est passée à la date d'observation (suivi complet), part des "
            "contrats rompus avant leur terme, selon le résultat de l'apprenti à l'examen du diplôme préparé."
        )
    )
    bo = bo.loc[bo["n_contracts"] > 0]
    if bo.empty:
        _unavailable("Taux de rupture selon le résultat à l'examen")
        return
    col = C.diploma_outcome
    bo = order_groups(
        bo.assign(label=bo[col].astype(str).map(OUTCOME_LABELS).fillna(bo[col].astype(str))), col
    )
    fig = figures.rate_bars(
        bo, label="label", xtitle="Taux de rupture sur la durée du contrat", min_n=ctx.min_n
    )
    show_figure(
        fig,
        fig_id="fig-rupture-examen",
        caption="Taux de rupture sur la durée du contrat selon le résultat à l'examen",
    )
    show_html(
        _rate_table(
            bo,
            "Résultat à l'examen",
            table_id="tab-rupture-examen",
            caption="Taux de rupture selon le résultat à l'examen (contrats arrivés à leur fin prévue)",
            ctx=ctx,
            extra=[("n_ruptures_after_diploma", "Ruptures après le diplôme (à part)", "number")],
            note=f"« {suppressed_label(ctx.min_n)} » : taux non publié, moins de {ctx.min_n} contrats. Les ruptures "
            "après l'obtention du diplôme restent au dénominateur et sont comptées à part. « Non renseigné » : "
            "aucun résultat d'examen rapproché du contrat.",
        )
    )


def show_vigilance(ctx: ReportContext) -> None:
    """Points de vigilance: statistically supported findings, each linked to its evidence."""
    _h2("vigilance")
    if not ctx.findings:
        show_html(
            '<ul class="findings"><li class="none">Aucun écart statistiquement établi dans le périmètre de ce rapport.</li></ul>'
        )
        return
    items = "".join(
        f'<li class="{html.escape(f.severity)}">{html.escape(f.text)} <a href="#{html.escape(f.anchor)}">Voir</a></li>'
        for f in ctx.findings
    )
    show_html(
        _p(
            "Seuls figurent les écarts statistiquement établis (limite à 99,8 % de l'entonnoir, intervalle de confiance à 95 % excluant l'absence d'écart, test global significatif)."
        )
        + f'<ul class="findings">{items}</ul>'
    )


QUALITY_CONTRACTS: Final = (
    ("exact_duplicates", "Doublons exacts (fusionnés)"),
    ("amendment_rows", "Lignes d'avenant (fusionnées avec leur contrat)"),
    ("contracts_from_several_files", "Contrats présents dans plusieurs fichiers"),
    ("contracts_with_conflicts", "Contrats aux sources discordantes"),
    ("planned_end_imputed", "Dates de fin prévue imputées"),
)
AS_OF_SOURCES: Final = {
    "file_name": "horodatage d'un nom de fichier",
    "cli": "fixée à la commande",
    "argument": "fixée à la commande",
    "latest_event": "dernier événement des données",
}
REASON_LABELS: Final = {
    "no usable start date": "Pas de date de début exploitable",
    "impossible date": "Date impossible",
    "planned end before start": "Fin prévue avant le début",
    "no CFA and no diploma": "Ni CFA ni diplôme renseigné",
    "no planned end date": "Pas de date de fin prévue",
    "excluded: rupture before start": "Exclu : rupture datée avant le début du contrat",
    "excluded: contract cancelled in DECA": "Exclu : contrat annulé dans DECA",
}
REASON_PATTERNS: Final = (
    (re.compile(r"^excluded: statut DECA\s*(.*)$"), "Exclu : statut DECA « {} »"),
    (re.compile(r"^excluded: dispositif\s*(.*)$"), "Exclu : dispositif « {} »"),
    (re.compile(r"^excluded: (.*)$"), "Exclu : {}"),
)


def reason_label(reason: str) -> str:
    """French wording of a rejection reason of quality.json / rejected.csv.

    >>> reason_label("excluded: statut DECA Annulé"), reason_label("impossible date")
    ('Exclu : statut DECA « Annulé »', 'Date impossible')
    """
    text = str(reason).strip()
    if text in REASON_LABELS:
        return REASON_LABELS[text]
    for pattern, template in REASON_PATTERNS:
        m = pattern.match(text)
        if m:
            return template.format(m.group(1).strip())
    return text[:1].upper() + text[1:]


def source_label(profile: object) -> str:
    """French name of an input profile (« Extraction DECA » for ``deca_extract``)."""
    return SOURCE_LABELS.get(str(profile), str(profile).replace("_", " "))


def _count(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _dict(d: dict[str, Any], key: str) -> dict[str, Any]:
    v = d.get(key)
    return v if isinstance(v, dict) else {}


def _accounting(read: int | None, kept: int | None, merged: int | None, rejected: int | None) -> str:
    if None in (read, kept, merged, rejected):
        return MISSING
    gap = int(read) - int(kept) - int(merged) - int(rejected)  # type: ignore[arg-type]
    return "✓ égalité vérifiée" if gap == 0 else f"écart de {fr_number(gap)}"


def quality_files_table(quality: dict[str, Any]) -> pd.DataFrame:
    """Per-file accounting, plus a total row: read = kept + merged + rejected (display strings)."""
    files = (
        [f for f in quality.get("files", []) if isinstance(f, dict)]
        if isinstance(quality.get("files"), list)
        else []
    )
    rows = []
    for f in files:
        counts = [_count(f, k) for k in ("rows_read", "rows_clean", "rows_merged", "rows_rejected")]
        rows.append(
            [Path(str(f.get("file", f.get("path", "?")))).name, source_label(f.get("profile", ""))]
            + [fr_number(c) for c in counts]
            + [_accounting(*counts)]
        )
    total = _dict(quality, "total")
    if total:
        counts = [_count(total, k) for k in ("rows_read", "rows_clean", "rows_merged", "rows_rejected")]
        rows.append(["Total", ""] + [fr_number(c) for c in counts] + [_accounting(*counts)])
    return pd.DataFrame(
        rows,
        columns=[
            "Fichier",
            "Source",
            "Lus",
            "Retenus",
            "Fusionnés",
            "Rejetés",
            "Lus = retenus + fusionnés + rejetés",
        ],
    )


def show_qualite(ctx: ReportContext) -> None:
    """Rows read, kept, merged, rejected by reason (per file and in total), coverage per CFA."""
    _h2("qualite")
    q = ctx.quality
    if not q:
        show_html(
            _p(
                "Aucun fichier de contrôle de qualité n'accompagne la table des contrats : relancer le "
                "nettoyage des données (commande « aioa clean »).",
                "unavailable",
            )
        )
    total = _dict(q, "total")
    contracts = _dict(q, "contracts")
    exams = _dict(q, "exam_results")
    files_table = quality_files_table(q)
    if len(files_table):
        show_html(
            _p(
                "Chaque enregistrement lu (un contrat, ou un résultat d'examen) est soit retenu, soit fusionné "
                "avec un autre (doublon, avenant, même contrat présent dans plusieurs fichiers), soit rejeté : "
                "lus = retenus + fusionnés + rejetés, pour chaque fichier et au total."
            )
            + table_html(
                files_table,
                table_id="tab-qualite-fichiers",
                caption="Enregistrements lus, retenus, fusionnés et rejetés, par fichier",
                numeric=["Lus", "Retenus", "Fusionnés", "Rejetés"],
                note="Enregistrements retenus : contrats de la table nettoyée et résultats d'examen. Un contrat "
                "présent dans plusieurs fichiers est retenu une fois (dans la source prioritaire) et fusionné ailleurs.",
            )
        )
    rows: list[tuple[str, str]] = []
    n_contracts = _count(contracts, "n_contracts")
    if n_contracts is not None:
        rows.append(("Contrats retenus (table des contrats)", fr_number(n_contracts)))
    if _count(contracts, "n_ruptures") is not None:
        rows.append(("dont contrats rompus", fr_number(_count(contracts, "n_ruptures"))))
    n_exams = _count(exams, "n_records")
    if n_exams is not None:
        rows.append(("Résultats d'examen retenus", fr_number(n_exams)))
    kept = _count(total, "rows_clean")
    if kept is not None:
        rows.append(("Enregistrements retenus (contrats + résultats d'examen)", fr_number(kept)))
    rows += [
        (label, fr_number(_count(contracts, k)))
        for k, label in QUALITY_CONTRACTS
        if _count(contracts, k) is not None
    ]
    if q.get("as_of"):
        how = AS_OF_SOURCES.get(str(q.get("as_of_source", "")), "")
        rows.append(("Date d'observation", f"{fr_date(q['as_of'])} ({how})" if how else fr_date(q["as_of"])))
    if rows:
        show_html(
            table_html(
                pd.DataFrame(rows, columns=["Indicateur", "Valeur"]),
                table_id="tab-qualite",
                caption="Table nettoyée : contrats et résultats d'examen",
            )
        )
    show_rejections(q)
    show_coverage(ctx)


def rejections_table(quality: dict[str, Any]) -> pd.DataFrame:
    """Rejections by reason (French), one column per file with rejections, and the total."""
    total = _dict(_dict(quality, "total"), "rejections_by_reason")
    files = (
        [f for f in quality.get("files", []) if isinstance(f, dict)]
        if isinstance(quality.get("files"), list)
        else []
    )
    per_file = [(Path(str(f.get("file", "?"))).name, _dict(f, "rejections_by_reason")) for f in files]
    per_file = [(name, r) for name, r in per_file if r]
    reasons = list(total) or sorted({k for _, r in per_file for k in r})
    data: dict[str, list[str]] = {"Motif": [reason_label(k) for k in reasons]}
    for name, r in per_file:
        data[name] = [fr_number(r.get(k, 0)) for k in reasons]
    data["Total"] = [fr_number(total.get(k, sum(int(r.get(k, 0)) for _, r in per_file))) for k in reasons]
    return pd.DataFrame(data)


def show_rejections(quality: dict[str, Any]) -> None:
    t = rejections_table(quality)
    if len(t):
        show_html(
            table_html(
                t,
                table_id="tab-qualite-rejets",
                caption="Enregistrements rejetés ou exclus, par motif et par fichier",
                note="« Exclu » : contrat lisible mais hors du champ des taux (contrat annulé, rupture datée avant "
                "le début du contrat...). Le détail ligne à ligne est dans le fichier des rejets, réservé aux analystes.",
            )
        )


def show_coverage(ctx: ReportContext) -> None:
    """Contracts and filled-in fields per CFA, and the sources each CFA's contracts come from."""
    q = ctx.quality
    labels = ctx.results["cfa_labels"]
    dept = ctx.departement
    grouped = dept.groupby(dept[C.cfa_uai].astype("string").fillna("inconnu"))
    cov = grouped.size().rename("n").reset_index()
    cov = cov.assign(
        label=cov[C.cfa_uai]
        .map(labels)
        .fillna(cov[C.cfa_uai].map({"inconnu": UNKNOWN_LABEL}))
        .fillna(cov[C.cfa_uai])
    )
    t = pd.DataFrame({"CFA": cov["label"], "Contrats": [fr_number(v) for v in cov["n"]]})
    names = {
        C.employer_naf: "Code NAF renseigné",
        C.diploma_code: "Code diplôme renseigné",
        C.residence_postcode: "Code postal renseigné",
    }
    for col, header in names.items():
        if col in dept.columns:
            share = grouped[col].apply(lambda s: s.notna().mean()).reindex(cov[C.cfa_uai]).to_numpy()
            t[header] = [fr_percent(v, 0) for v in share]
    by_cfa = _dict(q, "coverage").get("by_cfa")
    if isinstance(by_cfa, list):
        sources = {
            str(e.get("cfa_uai")): ", ".join(
                f"{source_label(k)} ({fr_number(v)})" for k, v in (e.get("by_source") or {}).items()
            )
            for e in by_cfa
            if isinstance(e, dict)
        }
        t["Source retenue (contrats)"] = [sources.get(str(u), "") for u in cov[C.cfa_uai]]
    show_html(
        table_html(
            t,
            table_id="tab-couverture",
            caption="Couverture par CFA : contrats et champs renseignés",
            numeric=["Contrats", *names.values()],
            note="Contrats du périmètre du rapport. Source retenue : fichier d'où provient la version retenue de "
            "chaque contrat (la source prioritaire quand un contrat figure dans plusieurs fichiers).",
        )
    )


def methodology_markdown() -> str | None:
    """docs/methodology.md as shipped in the package (``aioa_analysis/core/data/methodology.md``), else
    the project's ``docs/methodology.md``; ``None`` when neither exists."""
    shipped = resources.files("aioa_analysis.core") / "data" / "methodology.md"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    from aioa_analysis.core import config

    for candidate in (
        config.project_dir() / "docs" / "methodology.md",
        Path(__file__).resolve().parents[2] / "docs" / "methodology.md",
    ):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def markdown_html(text: str) -> str:
    """Markdown to HTML (raw HTML escaped), headings shifted down two levels under the section.

    >>> markdown_html("# Titre\\n\\nTexte <b>brut</b>.")
    '<h3>Titre</h3>\\n<p>Texte &lt;b&gt;brut&lt;/b&gt;.</p>\\n'
    >>> "<thead>" in markdown_html("| | |\\n|---|---|\\n| a | b |\\n")
    False
    """
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    out = str(md(text))

    def shift(m: re.Match[str]) -> str:
        level = min(int(m.group(2)) + 2, 6)
        return f"<{m.group(1)}h{level}"

    out = re.sub(r"<(/?)h([1-6])", shift, out)
    # a table whose header cells are all empty (``| | |``) gets no header row at all
    return _EMPTY_THEAD.sub("", out)


_EMPTY_THEAD: Final = re.compile(r"<thead>\s*<tr>\s*(?:<th[^>]*>\s*</th>\s*)+</tr>\s*</thead>\s*")


def show_methodologie(ctx: ReportContext) -> None:
    """The methodology annex (docs/methodology.md)."""
    _h2("methodologie")
    text = methodology_markdown()
    if text is None:
        show_html(
            _p(
                "La note de méthodologie (docs/methodology.md) n'est pas disponible dans cette installation.",
                "unavailable",
            )
        )
        return
    show_html(f'<div class="method">{markdown_html(text)}</div>')


PARAMETER_LABELS: Final = {
    "data_file": "Table des contrats",
    "quality_file": "Fichier de contrôle de qualité",
    "as_of": "Date d'observation",
    "cohorts": "Années scolaires retenues",
    "territory": "Territoire",
    "cfa": "CFA",
    "horizon": "Horizon du taux de rupture",
    "min_n": "Effectif minimal pour publier un taux",
    "title": "Titre",
    "meeting_date": "Date de la séance plénière",
    "sample": "Bandeau « Données fictives »",
}
"""French names of the report parameters, as the provenance table shows them."""


def parameter_rows(ctx: ReportContext) -> list[tuple[str, str]]:
    """The report's parameters as (French name, human-readable value) pairs."""
    p = ctx.params
    territories = referential.territory_labels()
    sample = {"auto": "automatique", "oui": "forcé", "non": "retiré"}.get(str(p["sample"]), str(p["sample"]))
    values = {
        "data_file": Path(str(p["data_file"])).name,
        "quality_file": Path(str(p["quality_file"])).name
        if p["quality_file"]
        else "quality.json, à côté de la table des contrats",
        "as_of": fr_date(p["as_of"]),
        "cohorts": str(p["cohorts"]).replace(",", ", ") if p["cohorts"] else "toutes",
        "territory": territories.get(str(p["territory"]), str(p["territory"]))
        if p["territory"]
        else "tout le département",
        "cfa": ctx.cfa_label or "tous (rapport départemental)",
        "horizon": f"{p['horizon']} mois",
        "min_n": f"{fr_number(p['min_n'])} contrats",
        "title": str(p["title"]),
        "meeting_date": fr_date(p["meeting_date"]) if p["meeting_date"] else "non renseignée",
        "sample": f"{sample} (affiché : {'oui' if ctx.sample else 'non'})",
    }
    return [(PARAMETER_LABELS.get(k, k), values.get(k, str(v))) for k, v in p.items()]


def provenance_files(ctx: ReportContext) -> pd.DataFrame:
    """Every file the report depends on, with its SHA-256: the clean tables and the input files."""
    rows: list[tuple[str, str, str, str]] = []
    for name, digest in ctx.inputs.items():
        if name.endswith(".parquet"):
            what, n = "Table des contrats nettoyée", fr_number(ctx.results.get("n_table_rows"))
        else:
            what, n = "Contrôle de qualité du nettoyage", MISSING
        rows.append((name, what, n, digest))
    files = ctx.quality.get("files") if isinstance(ctx.quality.get("files"), list) else []
    for f in files or []:
        if not isinstance(f, dict):
            continue
        rows.append(
            (
                Path(str(f.get("file", f.get("path", "?")))).name,
                f"Fichier source : {source_label(f.get('profile', ''))}",
                fr_number(_count(f, "rows_read")),
                str(f.get("sha256") or MISSING),
            )
        )
    return pd.DataFrame(rows, columns=["Fichier", "Rôle", "Enregistrements", "Empreinte SHA-256"])


def show_provenance(ctx: ReportContext, *, generated_at: str | None = None) -> None:
    """Input file hashes, parameters, package version and generation time."""
    _h2("provenance")
    now = generated_at or _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    items = [("Généré le", fr_datetime(now)), ("Version du logiciel d'analyse", __version__)]
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
    files = provenance_files(ctx)
    params = pd.DataFrame(parameter_rows(ctx), columns=["Paramètre", "Valeur"])
    show_html(
        f'<dl class="provenance">{dl}</dl>'
        + table_html(
            files,
            table_id="tab-provenance-fichiers",
            caption="Fichiers utilisés et leur empreinte",
            numeric=["Enregistrements"],
            note="L'empreinte SHA-256 identifie le contenu exact d'un fichier : le même fichier donne toujours la "
            "même empreinte, et la moindre modification la change. Enregistrements : lignes de contrat ou de "
            "résultat d'examen lues dans le fichier source ; contrats dans la table nettoyée.",
        )
        + table_html(params, table_id="tab-parametres", caption="Paramètres du rapport", numeric=[])
    )


ALL_SECTIONS: Final[tuple[Callable[[ReportContext], None], ...]] = (
    show_header,
    show_synthese,
    show_par_cfa,
    show_par_secteur,
    show_par_diplome,
    show_par_periode,
    show_apres_rupture,
    show_resultat_diplome,
    show_vigilance,
    show_qualite,
    show_methodologie,
    show_provenance,
)
