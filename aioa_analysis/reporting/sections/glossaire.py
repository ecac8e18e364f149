"""« Glossaire »: the report's technical terms in plain French (:data:`.terms.GLOSSARY`), each with the
anchor the terms of the text link to (:func:`.terms.term`)."""

from __future__ import annotations

import html

from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
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


def show_glossaire(ctx: ReportContext) -> None:
    """The glossary of the report's technical terms."""
    show_html(heading_html("glossaire") + glossary_html(ctx.horizon, ctx.min_n))
