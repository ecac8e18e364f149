"""« Points de vigilance »: the statistically supported findings, each linked to its evidence."""

from __future__ import annotations

import html

from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import heading, paragraph


def show_vigilance(ctx: ReportContext) -> None:
    """Points de vigilance: statistically supported findings, each linked to its evidence."""
    heading("vigilance")
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
        paragraph(
            "Seuls figurent les écarts statistiquement établis (limite à 99,8 % de l'entonnoir, intervalle de confiance à 95 % excluant l'absence d'écart, test global significatif)."
        )
        + f'<ul class="findings">{items}</ul>'
    )
