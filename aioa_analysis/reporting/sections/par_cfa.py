"""« Par CFA »: the funnel plot of the CFAs' rates and its table, then observed/expected ruptures per CFA."""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_interval, fr_pvalue
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import (
    chart_with_table,
    heading,
    paragraph,
    rate_table,
    suppression_note,
    unavailable,
)


def show_par_cfa(ctx: ReportContext) -> None:
    """Funnel plot, its table with intervals, and observed/expected (indirect standardisation)."""
    heading("par-cfa")
    if ctx.results.funnel.empty or pd.isna(ctx.results.funnel_target):
        unavailable("Comparaison des CFA")
        return
    _show_funnel(ctx)
    _show_observed_expected(ctx)


FLAG_LABELS: Final = {
    "above_998": "au-dessus (99,8 %)",
    "above_95": "au-dessus (95 %)",
    "within": "dans les limites",
    "below_95": "en dessous (95 %)",
    "below_998": "en dessous (99,8 %)",
}
"""Position of a CFA against the funnel limits, in the table under the funnel plot."""


def _highlight(ctx: ReportContext) -> list[str]:
    """The CFA of a CFA report, drawn apart on the charts."""
    return [ctx.cfa_label] if ctx.cfa_label else []


def _show_funnel(ctx: ReportContext) -> None:
    """Funnel plot of the CFAs' rates, then its table with the limits and the chi-square test."""
    res = ctx.results
    funnel = res.funnel
    show_html(
        paragraph(
            f"Chaque point est un CFA : son taux de rupture à {ctx.horizon} mois selon son nombre de contrats. "
            "Les courbes sont les limites de contrôle à 95 % et 99,8 % autour du taux d'ensemble : un CFA "
            "hors des limites à 99,8 % s'écarte plus que le hasard ne l'expliquerait. Ce n'est pas un classement."
        )
    )
    fig = figures.funnel_plot(
        funnel,
        res.funnel_curve,
        label="label",
        target=res.funnel_target,
        highlight=_highlight(ctx),
        text_label="short",
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-cfa-funnel",
        caption=f"Taux de rupture à {ctx.horizon} mois par CFA (graphique en entonnoir)",
    )
    ft = funnel.assign(position=funnel["flag"].astype("string").map(FLAG_LABELS).fillna("–"))
    ft = ft.assign(limits=[fr_interval(a, b) for a, b in zip(ft["lower_95"], ft["upper_95"], strict=True)])
    chi = res.chi_cfa
    chi_note = ""
    if len(chi):
        c = chi.iloc[0]
        chi_note = f" Test du khi-deux d'égalité des taux entre CFA : {fr_pvalue(c['p_value'])}."
        if str(c.get("warning", "")):
            chi_note += f" {c['warning']}"
    show_html(
        rate_table(
            ft,
            "CFA",
            table_id="tab-cfa-funnel",
            caption=f"Taux de rupture à {ctx.horizon} mois par CFA",
            ctx=ctx,
            extra=[("limits", "Limites 95 % attendues", "text"), ("position", "Position", "text")],
            note=suppression_note(ctx) + chi_note,
        )
    )


def _show_observed_expected(ctx: ReportContext) -> None:
    """Observed/expected ruptures per CFA given its diplomas and sectors (forest plot and table)."""
    oe = ctx.results.oe
    show_html(
        "<h3>Ruptures observées et attendues</h3>"
        + paragraph(
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
        highlight=_highlight(ctx),
        min_n=ctx.min_n,
    )
    chart_with_table(
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
        note=suppression_note(ctx),
    )
