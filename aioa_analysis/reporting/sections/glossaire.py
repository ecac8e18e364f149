"""« Glossaire »: the report's technical terms in plain French (:data:`.terms.GLOSSARY`), each with the
anchor the terms of the text link to (:func:`.terms.term`)."""

from __future__ import annotations

import html

from aioa_analysis.core.formatting import fr_interval, fr_number, fr_percent
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.essentiel import published_row, scope_rate
from aioa_analysis.reporting.sections.layout import heading_html
from aioa_analysis.reporting.sections.terms import GLOSSARY, anchor


def glossary_html(horizon: int = 9, min_n: int = 20) -> str:
    """The glossary as a definition list, the report's horizon in place of ``{h}``, its threshold of
    small cells in place of ``{n}``.

    >>> g = glossary_html(6)
    >>> 'id="glossaire-censure"' in g, "Taux de rupture à 6 mois" in g
    (True, True)
    """
    items = "".join(
        f'<dt id="{anchor(t.key)}">{html.escape(t.title.format(h=horizon, n=min_n))}</dt>'
        f"<dd>{html.escape(t.definition.format(h=horizon, n=min_n))}</dd>"
        for t in GLOSSARY
    )
    return f'<dl class="glossaire">{items}</dl>'


def example_html(ctx: ReportContext) -> str:
    """The main rate read on this report's own figures (empty when the family does not publish it)."""
    row = scope_rate(ctx)
    if not published_row(row):
        return ""
    h = ctx.horizon
    return (
        '<p class="note">Lecture, sur les chiffres de ce rapport : parmi les '
        f"{fr_number(row['n_contracts'])} contrats commencés depuis au moins {h} mois, "
        f"{fr_number(row['n_ruptures'])} ont été rompus avant leurs {h} premiers mois, soit un taux de "
        f"{fr_percent(row['rate'])} ; son intervalle de confiance à 95 % est "
        f"{fr_interval(row['ci_low'], row['ci_high'])}.</p>"
    )


def show_glossaire(ctx: ReportContext) -> None:
    """The glossary of the report's technical terms, and the main rate read on the report's figures."""
    show_html(heading_html("glossaire") + glossary_html(ctx.horizon, ctx.min_n) + example_html(ctx))
