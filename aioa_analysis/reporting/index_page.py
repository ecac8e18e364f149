"""The pages that gather a run's reports: ``index.html`` (a card per report with its key figures) and
the bundle (every report in one self-contained HTML file, for a single mail attachment).

The figures come from each executed notebook (:mod:`.key_figures`): the index prints what the report
prints, it computes nothing. The bundle embeds the stylesheet and plotly.js once, a table of contents,
then each report's fragments in its own ``<section>`` with every ``id`` (and the links, figure scripts
that point at it) prefixed by the report's name, so that the anchors stay unique. The suppression is
family-wide: the reports side by side reveal nothing a reader could not get from the files one by one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from aioa_analysis.core.formatting import (
    fr_date,
    fr_datetime,
    fr_interval,
    fr_number,
    fr_percent,
    suppressed_label,
)

SAMPLE_BANNER: Final = (
    '<div class="banner-sample" role="note">Données fictives — rapports produits à partir de '
    "l'échantillon synthétique : aucun chiffre ne décrit la réalité.</div>"
)

INDEX_CSS: Final = """
.report-cards { list-style: none; padding: 0; display: grid; gap: 0.9rem;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 20rem), 1fr)); }
.report-card { border: 1px solid var(--bord, #ccc); border-left: 5px solid var(--bleu, #1f4e79);
  padding: 0.7rem 0.9rem; background: var(--fond, #fff); }
.report-card h2 { font-size: 1.05rem; margin: 0 0 0.3rem; border: 0; padding: 0; }
.report-card dl { display: grid; grid-template-columns: auto 1fr; gap: 0.15rem 0.7rem; margin: 0.4rem 0; }
.report-card dt { color: var(--gris, #555); } .report-card dd { margin: 0; font-weight: 600; }
.report-card .dates { font-size: 0.85rem; color: var(--gris, #555); margin: 0; }
.toc-bundle li { margin: 0.2rem 0; }
"""


def _figures_list(k: Mapping[str, Any]) -> str:
    """The ``<dl>`` of one card (values formatted as the report formats them)."""
    h = int(k.get("horizon_months") or 9)
    if k.get("rate_hidden"):
        rate, ruptures = suppressed_label(int(k.get("min_n") or 20)), "secret statistique"
    else:
        rate = f"{fr_percent(k['rate'])} (IC 95 % {fr_interval(k['ci_low'], k['ci_high'])})"
        ruptures = f"{fr_number(k['ruptures'])} sur {fr_number(k['observed'])} contrats observés"
    alerts, total = int(k.get("alerts") or 0), int(k.get("findings") or 0)
    rows = [
        ("Contrats commencés", fr_number(k["contracts"])),
        (f"Ruptures à {h} mois", ruptures),
        (f"Taux de rupture à {h} mois", rate),
        (
            "Points de vigilance",
            f"{fr_number(alerts)} alerte{'s' if alerts > 1 else ''} sur {fr_number(total)} constats",
        ),
    ]
    return "<dl>" + "".join(f"<dt>{html.escape(a)}</dt><dd>{html.escape(b)}</dd>" for a, b in rows) + "</dl>"


def report_card(file_name: str, label: str, figures: Mapping[str, Any] | None, detail: str = "") -> str:
    """One report's card: its name as a link, its key figures, its observation and generation dates.

    >>> card = report_card("r.html", "CFA A", {"contracts": 120, "rate_hidden": True, "min_n": 20,
    ...     "alerts": 0, "findings": 3, "as_of": "2025-11-30", "generated_at": "2025-12-01T08:05:00"})
    >>> "secret statistique" in card and "30/11/2025" in card and "01/12/2025" in card
    True
    """
    link = f'<h2><a href="{html.escape(file_name)}">{html.escape(label)}</a></h2>'
    if not figures:
        return f'<li class="report-card">{link}<p>{html.escape(detail)}</p></li>'
    dates = (
        f'<p class="dates">Données au {html.escape(fr_date(figures["as_of"]))} — '
        f"produit le {html.escape(fr_datetime(figures['generated_at']))}</p>"
    )
    return f'<li class="report-card">{link}{_figures_list(figures)}{dates}</li>'


def _page(title: str, head: str, body: str, tail: str = "") -> str:
    from aioa_analysis.reporting.display import stylesheet

    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{stylesheet()}\n{INDEX_CSS}</style>\n{head}"
        f"</head>\n<body>\n<main>\n{body}</main>\n{tail}</body>\n</html>\n"
    )


def index_html(
    entries: Sequence[tuple[str, str, str]],
    *,
    title: str,
    subtitle: str,
    sample: bool = False,
    figures: Sequence[Mapping[str, Any] | None] | None = None,
) -> str:
    """A small offline page with one card per report: ``(file name, label, detail)`` entries and,
    for each, its key figures (``detail`` is shown only for a report without them).

    With ``sample`` (reports built from the synthetic sample), the page carries the same
    « Données fictives » banner as the reports.

    >>> "Données fictives" in index_html([], title="T", subtitle="S", sample=True)
    True
    """
    from aioa_analysis.reporting.display import typeset

    figs = list(figures) if figures is not None else [None] * len(entries)
    cards = "".join(report_card(f, lbl, k, d) for (f, lbl, d), k in zip(entries, figs, strict=True))
    body = (
        f"{SAMPLE_BANNER if sample else ''}<h1>{html.escape(title)}</h1>\n"
        f'<p class="subtitle">{html.escape(subtitle)}</p>\n<ul class="report-cards">{cards}</ul>\n'
    )
    return typeset(_page(title, "", body))


_ID = re.compile(r'\bid="([^"]+)"')


def prefix_ids(fragment: str, prefix: str) -> str:
    """``fragment`` with every ``id`` it defines prefixed, and the references to them (``href="#…"``,
    plotly's ``getElementById("…")`` and ``Plotly.newPlot("…"``) rewritten alike.

    >>> prefix_ids('<h2 id="a"><a href="#a">x</a></h2><a href="#b">y</a>', "r1")
    '<h2 id="r1-a"><a href="#r1-a">x</a></h2><a href="#b">y</a>'
    """
    ids = set(_ID.findall(fragment))
    if not ids:
        return fragment
    names = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    ref = re.compile(rf'(\bid="|href="#|getElementById\("|newPlot\(\s*")({names})(?=")')
    return ref.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", fragment)


def bundle_html(
    reports: Sequence[tuple[str, str, list[str]]], *, title: str, subtitle: str, sample: bool = False
) -> str:
    """Every report in one self-contained page: ``(name, label, fragments)`` per report."""
    from aioa_analysis.reporting.display import (
        NO_SCRIPT,
        add_csv_links,
        add_link_targets,
        check_offline,
        count_figures,
        page_scripts,
        typeset,
    )

    toc = "".join(
        f'<li><a href="#{html.escape(name)}">{html.escape(label)}</a></li>' for name, label, _f in reports
    )
    sections = "".join(
        f'<section class="bundle-report" id="{html.escape(name)}">\n'
        + prefix_ids(add_link_targets(add_csv_links(typeset("\n".join(fragments)))), name)
        + "\n</section>\n<hr>\n"
        for name, _label, fragments in reports
    )
    has_figures = any(count_figures(f) for _n, _l, f in reports)
    head = NO_SCRIPT if has_figures else ""
    top = typeset(
        f"{SAMPLE_BANNER if sample else ''}<h1>{html.escape(title)}</h1>\n"
        f'<p class="subtitle">{html.escape(subtitle)}</p>\n'
        f'<nav aria-label="Rapports"><h2>Rapports</h2><ol class="toc-bundle">{toc}</ol></nav>\n'
    )
    page = _page(title, head, top + sections, page_scripts() if has_figures else "")
    check_offline(page)
    return page
