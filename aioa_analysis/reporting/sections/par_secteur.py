"""« Par secteur »: the rupture rate by sector of the employer, with the national rate of each sector."""

from __future__ import annotations

from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import order_groups
from aioa_analysis.reporting.sections.layout import (
    FRANCE_SECTOR,
    ORDER_NOTE,
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
    ref = ctx.results.references
    sec_ref = ref.loc[(ref["indicator"] == "rupture_rate") & (ref["dimension"] == "sector")]
    france = dict(zip(sec_ref["category"], sec_ref["value"], strict=True))
    t = order_groups(t.assign(france=t["sector"].astype(str).map(france)), "sector")
    overall = publication.references(ctx)
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
        rate_table(
            t,
            "Secteur",
            table_id="tab-secteur",
            caption=f"Taux de rupture à {ctx.horizon} mois par secteur",
            ctx=ctx,
            extra=[("france", FRANCE_SECTOR, "percent")],
            note=suppression_note(ctx) + ORDER_NOTE,
        )
    )
