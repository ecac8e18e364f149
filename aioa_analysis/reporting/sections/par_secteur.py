"""« Par secteur »: the rupture rate by sector of the employer, with the national rate of each sector."""

from __future__ import annotations

import pandas as pd

from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import beside, publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import order_groups
from aioa_analysis.reporting.sections.layout import (
    FRANCE_SECTOR,
    ORDER_NOTE,
    category_references,
    heading,
    rate_table,
    suppression_note,
    unavailable,
)


def show_par_secteur(ctx: ReportContext) -> None:
    """Rupture rate by sector, with the national sector references."""
    heading("par-secteur")
    t = publication.published(ctx, ctx.results.sector_funnel, "sector")
    if t.empty:
        unavailable("Taux par secteur")
        return
    t = order_groups(
        t.assign(france=t["sector"].astype(str).map(category_references(ctx, "sector"))), "sector"
    )
    if beside.is_cfa_report(ctx):
        show_paired(
            ctx, t, ctx.results.dept_by_sector, "sector", header="Secteur", ids=("secteur", "par secteur")
        )
        return
    show_rates(
        ctx,
        t,
        header="Secteur",
        key="secteur",
        chart=f"Taux de rupture à {ctx.horizon} mois par secteur de l'employeur",
        table=f"Taux de rupture à {ctx.horizon} mois par secteur",
        note=suppression_note(ctx) + ORDER_NOTE,
    )


def show_rates(
    ctx: ReportContext, t: pd.DataFrame, *, header: str, key: str, chart: str, table: str, note: str
) -> None:
    """The published rates of the groups of ``t`` (labelled, with their national rate ``france``): a
    bar chart (``fig-<key>``) with the report's references, then its table (``tab-<key>``)."""
    fig = figures.rate_bars(
        t,
        label="label",
        references=publication.references(ctx),
        reference="france",
        reference_name=FRANCE_SECTOR,
        min_n=ctx.min_n,
    )
    show_figure(fig, fig_id=f"fig-{key}", caption=chart)
    show_html(
        rate_table(
            t,
            header,
            table_id=f"tab-{key}",
            caption=table,
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=note,
        )
    )


def show_paired(
    ctx: ReportContext,
    own: pd.DataFrame,
    dept: pd.DataFrame,
    dimension: str,
    *,
    header: str,
    ids: tuple[str, str],
) -> None:
    """A CFA report's rates by ``dimension`` beside the département's (two bars, two columns per
    category), with the national rate of the category in the table. ``ids``: the suffix of the chart
    and table anchors, and the words of the captions (« par secteur »)."""
    t = beside.beside_departement(ctx, own, dept, dimension)
    fig = figures.paired_rate_bars(
        t,
        label="label",
        names=(beside.cfa_name(ctx), beside.DEPT_NAME),
        references=publication.references(ctx),
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id=f"fig-{ids[0]}",
        caption=f"Taux de rupture à {ctx.horizon} mois {ids[1]} : le CFA et le département",
    )
    show_html(
        beside.paired_rate_table(
            ctx,
            t,
            header,
            table_id=f"tab-{ids[0]}",
            caption=f"Taux de rupture à {ctx.horizon} mois {ids[1]} : le CFA et le département",
            extra=[("france", FRANCE_SECTOR, "percent")] if "france" in t else None,
            note=suppression_note(ctx)
            + beside.PAIRED_NOTE.format(dept=beside.DEPT_NAME)
            + ORDER_NOTE.replace(" Losange : taux national du groupe.", ""),
        )
    )
