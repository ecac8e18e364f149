"""« Par diplôme »: the rupture rate by diploma level and by type of diploma, with the national references."""

from __future__ import annotations

import pandas as pd

from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import beside, publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import FAMILY_LABELS, order_groups
from aioa_analysis.reporting.sections.layout import (
    FRANCE_SECTOR,
    ORDER_NOTE,
    category_references,
    heading,
    rate_table,
    suppression_note,
    unavailable,
)
from aioa_analysis.reporting.sections.par_secteur import show_paired


def show_par_diplome(ctx: ReportContext) -> None:
    """Rupture rate by diploma level and by type of diploma, with the national references."""
    heading("par-diplome")
    t = publication.published(ctx, ctx.results.by_level, "diploma_level")
    if t.empty:
        unavailable("Taux par diplôme")
        return
    t = order_groups(
        t.assign(france=t["diploma_level"].astype(str).map(category_references(ctx, "diploma_level"))),
        "diploma_level",
    )
    if beside.is_cfa_report(ctx):
        _show_cfa(ctx, t)
        return
    fig = figures.rate_bars(
        t,
        label="label",
        references=publication.references(ctx),
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
        rate_table(
            t,
            "Niveau de diplôme",
            table_id="tab-diplome",
            caption=f"Taux de rupture à {ctx.horizon} mois par niveau de diplôme",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=suppression_note(ctx) + " Losange : taux national du niveau, quand il est publié.",
        )
    )
    fam = _families(ctx)
    fig = figures.rate_bars(
        fam,
        label="label",
        references=publication.references(ctx),
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
        rate_table(
            fam,
            "Diplôme",
            table_id="tab-diplome-famille",
            caption=f"Taux de rupture à {ctx.horizon} mois par type de diplôme",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=suppression_note(ctx) + ORDER_NOTE,
        )
    )


def _families(ctx: ReportContext) -> pd.DataFrame:
    """The published rates by type of diploma, labelled, with the national rate, in display order."""
    fam = publication.published(ctx, ctx.results.by_family, "diploma_family")
    fam = fam.assign(
        label=fam["diploma_family"].astype(str).map(FAMILY_LABELS).fillna(fam["diploma_family"].astype(str)),
        france=fam["diploma_family"].astype(str).map(category_references(ctx, "diploma_family")),
    )
    return order_groups(fam, "diploma_family")


def _show_cfa(ctx: ReportContext, level: pd.DataFrame) -> None:
    """A CFA report: its rates by diploma level and by type of diploma beside the département's."""
    res = ctx.results
    show_paired(
        ctx,
        level,
        res.dept_by_level,
        "diploma_level",
        header="Niveau de diplôme",
        ids=("diplome", "par niveau de diplôme"),
    )
    show_paired(
        ctx,
        _families(ctx),
        res.dept_by_family,
        "diploma_family",
        header="Diplôme",
        ids=("diplome-famille", "par type de diplôme"),
    )
