"""The report's head: title, scope, observation and meeting dates, the sample banner, the table of contents."""

from __future__ import annotations

import html

from aioa_analysis.core.formatting import fr_date
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import SECTIONS


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
