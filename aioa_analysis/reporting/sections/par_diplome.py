"""« Par diplôme »: the rupture rate by diploma level and by type of diploma, with the national references."""

from __future__ import annotations

import pandas as pd

from aioa_analysis.reporting.sections import beside, publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import FAMILY_LABELS, order_groups
from aioa_analysis.reporting.sections.layout import (
    ORDER_NOTE,
    category_references,
    heading,
    suppression_note,
    unavailable,
)
from aioa_analysis.reporting.sections.par_secteur import show_paired, show_rates


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
    show_rates(
        ctx,
        t,
        header="Niveau de diplôme",
        key="diplome",
        chart=f"Taux de rupture à {ctx.horizon} mois par niveau de diplôme préparé",
        table=f"Taux de rupture à {ctx.horizon} mois par niveau de diplôme",
        note=suppression_note(ctx) + " Losange : taux national du niveau, quand il est publié.",
    )
    show_rates(
        ctx,
        _families(ctx),
        header="Diplôme",
        key="diplome-famille",
        chart=f"Taux de rupture à {ctx.horizon} mois par type de diplôme préparé",
        table=f"Taux de rupture à {ctx.horizon} mois par type de diplôme",
        note=suppression_note(ctx) + ORDER_NOTE,
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
