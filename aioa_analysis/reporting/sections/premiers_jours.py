"""« Les 45 premiers jours »: how many of the ruptures within H months happen in the first 45 days of
the contract (the free-rupture period, calendar proxy), by sector, diploma level and reason."""

from __future__ import annotations

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.formatting import fr_number, fr_percent
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import LEVEL_LABELS, order_groups
from aioa_analysis.reporting.sections.layout import HIDDEN, heading, paragraph, unavailable
from aioa_analysis.reporting.sections.motifs import REASON_LABELS, breakdown_patterns, secret_table
from aioa_analysis.stats import breakdowns
from aioa_analysis.stats import publication as family

HEADERS = ("Ruptures", "Dont 45 premiers jours", "Part des ruptures", "IC 95 %")


def published_early(ctx: ReportContext, dimension: str) -> pd.DataFrame:
    """The scope's first-45-days table by ``dimension`` (``""``: overall) with the family's suppression."""
    t = ctx.results.early.get(dimension, pd.DataFrame())
    if t.empty:
        return t
    t = t.loc[t["n_ruptures"] > 0].reset_index(drop=True)
    return family.apply_pattern(
        t,
        breakdown_patterns(ctx)["early"],
        dimension=dimension or family.TOTAL,
        cfa=publication.report_row(ctx),
        column=dimension or None,
        n_col="n_ruptures",
        k_col="n_early",
    )


def _labels(t: pd.DataFrame, dimension: str) -> pd.Series:
    names = {
        "sector": referential.sector_labels(),
        "diploma_level": LEVEL_LABELS,
        breakdowns.REASON: REASON_LABELS,
    }[dimension]
    codes = t[dimension].astype(str)
    return codes.map(names).fillna(codes)


def early_note(ctx: ReportContext) -> str:
    """The definition under every table of the section."""
    return (
        f"Ruptures dans les {ctx.horizon} mois des contrats commencés au moins {ctx.horizon} mois avant la "
        "date d'observation (celles du taux de rupture) ; « 45 premiers jours » : rupture entre le jour du "
        "début et le 45e jour suivant (jours de calendrier). La loi compte 45 jours de formation pratique "
        "en entreprise, soit 2 à 3 mois de calendrier selon le rythme d'alternance : ces chiffres sont un "
        f"minimum. « {HIDDEN} » : valeur non publiée (secret statistique : moins de {ctx.min_n} ruptures, "
        "1 ou 2 ruptures dans ou après les 45 jours, ou valeur masquée pour qu'aucune différence entre les "
        "tableaux des rapports ne la révèle)."
    )


def _table(ctx: ReportContext, t: pd.DataFrame, header: str, table_id: str, caption: str) -> str:
    cols = [
        ("label", header, "text"),
        ("n_ruptures", HEADERS[0], "number"),
        ("n_early", HEADERS[1], "number"),
        ("share_early", HEADERS[2], "percent"),
        ("ci", HEADERS[3], "interval"),
    ]
    return secret_table(
        ctx,
        t,
        cols,
        masks={"suppressed": list(HEADERS)},
        table_id=table_id,
        caption=caption,
        note=early_note(ctx),
    )


def show_premiers_jours(ctx: ReportContext) -> None:
    """Number and share of the ruptures in the first 45 days: overall, by sector (chart and table),
    by diploma level and by reason (tables)."""
    heading("premiers-jours")
    overall = published_early(ctx, "")
    if overall.empty:
        unavailable("Ruptures des 45 premiers jours")
        return
    o = overall.iloc[0]
    if not bool(o["suppressed"]):
        show_html(
            paragraph(
                f"{fr_number(o['n_early'])} des {fr_number(o['n_ruptures'])} ruptures survenues dans les {ctx.horizon} "
                f"premiers mois ont eu lieu dans les 45 premiers jours du contrat, soit "
                f"{fr_percent(o['share_early'], 0)} (IC 95 % : {fr_percent(o['ci_low'], 0)} à "
                f"{fr_percent(o['ci_high'], 0)}).",
                "lead",
            )
        )
    sector = published_early(ctx, "sector")
    sector = order_groups(sector.assign(label=_labels(sector, "sector")), "sector", rate="share_early")
    fig = figures.rate_bars(
        sector.assign(rate=sector["share_early"]),
        label="label",
        n="n_ruptures",
        xtitle="Part des ruptures survenues dans les 45 premiers jours",
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-45-jours",
        caption="Part des ruptures survenues dans les 45 premiers jours, par secteur",
    )
    show_html(
        _table(ctx, sector, "Secteur", "tab-45-jours-secteur", "Ruptures des 45 premiers jours par secteur")
    )
    for dim, header, table_id, what in (
        ("diploma_level", "Niveau de diplôme", "tab-45-jours-diplome", "par niveau de diplôme"),
        (breakdowns.REASON, "Motif", "tab-45-jours-motif", "par motif de rupture"),
    ):
        t = published_early(ctx, dim)
        t = order_groups(t.assign(label=_labels(t, dim)), dim, rate="share_early")
        show_html(_table(ctx, t, header, table_id, f"Ruptures des 45 premiers jours {what}"))
