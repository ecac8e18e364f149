"""How report blocks are displayed in the notebook and assembled into one offline HTML page.

The traps (measured on plotly 6 / nbconvert 7): under papermill plotly picks the
``plotly_mimetype`` renderer, whose output nbconvert drops; ``notebook_connected`` loads plotly.js
from a CDN; the ``notebook`` renderer re-embeds plotly.js at each ``show()`` and adds MathJax CDN
tags; nbconvert's ``lab`` template links require.js and MathJax from CDNs. So the report uses no
plotly renderer and no nbconvert template:

* each block is displayed with :func:`show_html` / :func:`show_figure`, as a raw MIME bundle whose
  ``text/html`` is a self-contained fragment (a figure's ``<div>`` and its ``Plotly.newPlot`` call,
  made by ``fig.to_html(full_html=False, include_plotlyjs=False)`` with a fixed ``div_id``). A figure
  also carries ``application/vnd.plotly.v1+json``, so the executed notebook shows its charts in
  JupyterLab (which prefers that MIME type); every report output is marked with the metadata key
  :data:`REPORT_KEY`;
* :func:`notebook_fragments` takes those fragments, in order, from the executed notebook (never
  the code, prompts, streams or anything else), and :func:`page_html` wraps them in one page with
  the stylesheet inline and plotly.js inline exactly once (a partial bundle shipped with the
  package, ``templates/vendor/``, that draws the trace types the report uses);
* :func:`check_offline` refuses a page that references any external script, stylesheet, MathJax or
  require.js.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
import math
import re
import textwrap
from functools import cache
from importlib import resources
from typing import Any, Final

import plotly.graph_objects as go

from aioa_analysis.core.errors import ReportError
from aioa_analysis.core.formatting import french_spaces
from aioa_analysis.reporting.figures import PLOTLY_CONFIG

log = logging.getLogger(__name__)

NNBSP: Final = "\u202f"

REPORT_KEY: Final = "aioa_report"
"""Output metadata key marking what goes into the HTML page."""

PLOTLY_MIME: Final = "application/vnd.plotly.v1+json"


def _display(bundle: dict[str, Any], kind: str) -> None:
    from IPython.display import display  # imported lazily: only notebooks need IPython

    display(bundle, raw=True, metadata={REPORT_KEY: kind})


def show_html(fragment: str, *, text: str = "") -> None:
    """Display an HTML fragment that belongs to the report."""
    _display({"text/html": fragment, "text/plain": text or _strip_tags(fragment)[:200]}, "html")


def figure_html(fig: go.Figure, *, fig_id: str, caption: str, summary: str = "") -> str:
    """The report's HTML for a figure: a ``<figure>`` with the plot ``<div>`` and its caption.

    The plot's div id is ``<fig_id>-plot`` (fixed, so two runs give identical HTML). Its data goes in
    a ``<script type="application/x-aioa-plot">`` that the page's loader draws once plotly.js is
    there (:func:`page_html`); floats are rounded to 4 significant digits (:func:`compact_spec`). The
    plot ``<div>`` is an image for assistive technologies (``role="img"``), labelled by the caption
    and ``summary``; the values are in the table that follows every chart.

    >>> import plotly.graph_objects as go
    >>> h = figure_html(go.Figure(go.Bar(x=[1], y=[2])), fig_id="fig-x", caption="Exemple")
    >>> h.startswith('<figure class="chart" id="fig-x">'), 'id="fig-x-plot"' in h, "<script src" in h
    (True, True, False)
    >>> 'role="img"' in h, "Plotly.newPlot(" in h
    (True, True)
    """
    spec = compact_spec(fig)
    div_id = f"{fig_id}-plot"
    label = f"Graphique : {caption}. {summary or TABLE_FOLLOWS}"
    data, layout = (json.dumps(spec.get(k, {}), separators=(",", ":")) for k in ("data", "layout"))
    config = json.dumps(PLOTLY_CONFIG, separators=(",", ":"))
    code = f'Plotly.newPlot("{div_id}", {data}, aioaLayout({layout}), {config})}};'
    return (
        f'<figure class="chart" id="{html.escape(fig_id)}">'
        f'<div id="{div_id}" class="plotly-graph-div" role="img" aria-label="{html.escape(label)}"></div>'
        f'<script type="{PLOT_SCRIPT_TYPE}">{{{_safe_script(code)}</script>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


TABLE_FOLLOWS: Final = "Les valeurs sont dans le tableau qui suit."
"""The default text alternative of a chart, after its caption."""

PLOT_SCRIPT_TYPE: Final = "application/x-aioa-plot"
"""Script type of a figure's drawing code: not run by the browser, run by the page's loader."""


def _safe_script(code: str) -> str:
    """Script text that cannot close its ``<script>`` element early."""
    return code.replace("</", "<\\/")


_PLACEHOLDER = re.compile(r"(%\{[^}]*\})")


def _french(text: str) -> str:
    """French spaces in a chart string, plotly's ``%{...}`` placeholders left as they are."""
    parts = _PLACEHOLDER.split(text)
    return "".join(part if i % 2 else french_spaces(part) for i, part in enumerate(parts))


def _tidy(value: Any, digits: int) -> Any:
    """Floats to ``digits`` significant digits (non-finite ones to null), strings in French typography."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else None
    if isinstance(value, str):
        return _french(value)
    if isinstance(value, list):
        return [_tidy(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _tidy(v, digits) for k, v in value.items()}
    return value


LABEL_WIDTH: Final = 24
"""Category labels longer than this (characters) are wrapped on several lines (``<br>``)."""

LEGEND_WIDTH: Final = 28
"""Legend entries (CFA names) longer than this are wrapped."""

TITLE_WIDTH: Final = 32
"""Axis titles longer than this (characters) are wrapped (they were cut on a phone)."""


def wrap_label(value: Any, width: int = LABEL_WIDTH) -> Any:
    """A long category label on several lines (plotly's ``<br>``); anything else as it is.

    >>> wrap_label("Commerce et réparation automobile")
    'Commerce et réparation<br>automobile'
    >>> wrap_label("Construction"), wrap_label(3.5)
    ('Construction', 3.5)
    """
    if not isinstance(value, str) or len(value) <= width or "<br>" in value:
        return value
    return "<br>".join(textwrap.wrap(value, width, break_long_words=False, break_on_hyphens=False))


def _wrap_categories(spec: dict[str, Any]) -> dict[str, Any]:
    """Long category labels wrapped the same way everywhere they name a category: the traces' ``x``
    and ``y``, the axes' ``categoryarray`` and the annotations' positions; long axis titles and legend
    entries wrapped."""
    for trace in spec.get("data", []):
        for key in ("x", "y"):
            if isinstance(trace.get(key), list):
                trace[key] = [wrap_label(v) for v in trace[key]]
        if isinstance(trace.get("name"), str):  # a legend entry: wrapped, never cut
            trace["name"] = wrap_label(trace["name"], LEGEND_WIDTH)
    lay = spec.get("layout", {})
    for key, axis in lay.items():
        if not (key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict)):
            continue
        if "categoryarray" in axis:
            axis["categoryarray"] = [wrap_label(v) for v in axis["categoryarray"]]
        if isinstance(axis.get("title"), dict) and "text" in axis["title"]:  # a long axis title too
            axis["title"]["text"] = wrap_label(axis["title"]["text"], TITLE_WIDTH)
    for note in lay.get("annotations", []):
        for key in ("x", "y"):
            if key in note:
                note[key] = wrap_label(note[key])
    return spec


def compact_spec(fig: go.Figure, digits: int = 4) -> dict[str, Any]:
    """The figure's JSON (``data``, ``layout``) with every float rounded to ``digits`` significant
    digits: the hover labels show at most 2 decimals of a percentage, and 17 digits per number made
    most of a figure's bytes. Every string gets French spaces (:func:`~aioa_analysis.core.formatting.french_spaces`,
    outside plotly's ``%{...}`` placeholders) and long category labels are wrapped (:func:`wrap_label`).

    >>> import plotly.graph_objects as go
    >>> spec = compact_spec(go.Figure(go.Scatter(x=[1 / 3], y=[200 / 3], name="Ensemble : 21 %",
    ...                                          hovertemplate="Taux : %{y:.1f}")))
    >>> spec["data"][0]["y"], spec["data"][0]["name"], spec["data"][0]["hovertemplate"]
    ([66.67], 'Ensemble\u202f: 21\u202f%', 'Taux\u202f: %{y:.1f}')
    """
    return _wrap_categories(_tidy(json.loads(fig.to_json()), digits))


def figure_bundle(fig: go.Figure, *, fig_id: str, caption: str) -> dict[str, Any]:
    """MIME bundle of a figure: report HTML, plotly JSON (for JupyterLab) and a text fallback."""
    spec = json.loads(fig.to_json())
    spec["config"] = dict(PLOTLY_CONFIG)
    return {
        "text/html": figure_html(fig, fig_id=fig_id, caption=caption),
        PLOTLY_MIME: spec,
        "text/plain": f"Figure : {caption}",
    }


def show_figure(fig: go.Figure, *, fig_id: str, caption: str) -> None:
    """Display a report figure (see :func:`figure_bundle`)."""
    _display(figure_bundle(fig, fig_id=fig_id, caption=caption), "figure")


def _strip_tags(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- page assembly -----------------------------------------------------------------------------


@cache
def stylesheet() -> str:
    """The report stylesheet (screen and print), shipped as package data."""
    return (resources.files("aioa_analysis.reporting") / "templates" / "report.css").read_text(
        encoding="utf-8"
    )


#: The plotly.js partial bundle shipped with the package (scatter, bar and pie traces only: the
#: report's charts use no other) and the plotly.js version it is.
PLOTLY_BUNDLE: Final = ("plotly-basic.min.js", "3.7.0")
#: Trace types the partial bundle draws.
BUNDLE_TRACES: Final = frozenset({"scatter", "bar", "pie"})


@cache
def plotly_js() -> str:
    """The plotly.js embedded once in each report: the shipped *basic* partial bundle (1.1 MB
    instead of 4.7 MB), or plotly.py's full bundle if its expected version ever differs."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    name, version = PLOTLY_BUNDLE
    if get_plotlyjs_version() != version:
        log.warning(
            "plotly.py expects plotly.js %s, the shipped partial bundle is %s: full bundle embedded",
            get_plotlyjs_version(),
            version,
        )
        return get_plotlyjs()
    return (resources.files("aioa_analysis.reporting") / "templates" / "vendor" / name).read_text(
        encoding="utf-8"
    )


def notebook_fragments(nb: Any) -> list[str]:
    """The report's HTML fragments, in order, from an executed notebook (only marked outputs)."""
    out: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            if REPORT_KEY not in output.get("metadata", {}):
                continue
            fragment = output.get("data", {}).get("text/html")
            if fragment:
                out.append(fragment if isinstance(fragment, str) else "".join(fragment))
    return out


def count_figures(fragments: list[str]) -> int:
    """Number of plotly figures in a list of fragments (or a page)."""
    return sum(f.count('class="plotly-graph-div"') for f in fragments)


_MARKUP = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>|<[^>]+>|&[#A-Za-z0-9]+;)", re.S | re.I)


def typeset(page: str) -> str:
    """French typography (:func:`~aioa_analysis.core.formatting.french_spaces`) on the text a reader
    sees: tags, entities, scripts and styles are left as they are.

    >>> typeset('<p title="a : b">Taux : 28 % &amp; plus</p><script>x = "a : b"</script>')
    '<p title="a : b">Taux\u202f: 28\u202f% &amp; plus</p><script>x = "a : b"</script>'
    >>> typeset("<b>fin</b> : la « <i>x</i> »")
    '<b>fin</b>\u202f: la «\u202f<i>x</i>\u202f»'
    """
    parts = _MARKUP.split(page)
    return "".join(part if i % 2 else _typeset_text(part) for i, part in enumerate(parts))


_LEADING = re.compile(r"^[ \t\r\n]+(?=[:;!?%»](?:\s|$|[<.,)\]]))")
_TRAILING = re.compile(r"«[ \t\r\n]+$")


def _typeset_text(text: str) -> str:
    """:func:`french_spaces` on a run of text between two tags, also at its edges: a sign that opens
    the run (``<strong>rupture</strong> : la``) or a « that closes it gets its no-break space."""
    text = french_spaces(text)
    return _TRAILING.sub("«" + NNBSP, _LEADING.sub(NNBSP, text))


@cache
def embedded_plotly_js() -> str:
    """plotly.js as embedded in a page: gzip-compressed (level 9, no timestamp, so two runs give the
    same bytes), in base64: 0.45 MB instead of 1.1 MB. The page's loader (:data:`LOADER_JS`)
    inflates it with the browser's ``DecompressionStream``."""
    packed = gzip.compress(plotly_js().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


@cache
def loader_js() -> str:
    """The page's loader: inflates plotly.js, runs it, then draws every figure in page order.

    Without ``DecompressionStream`` (Chromium < 80, Firefox < 113, Safari < 16.4) or on any error,
    the page gets the ``no-charts`` class: the charts give way to a one-line note, the tables that
    follow them stay (the stylesheet's « no-charts » block)."""
    return (resources.files("aioa_analysis.reporting") / "templates" / "loader.js").read_text(
        encoding="utf-8"
    )


NO_SCRIPT: Final = "<noscript><style>figure.chart .plotly-graph-div { display: none; } figure.chart::before { content: 'Graphique non affiché (JavaScript désactivé) : les valeurs sont dans le tableau qui suit.'; }</style></noscript>\n"
"""Without JavaScript, each chart says so (its table follows it)."""


def page_scripts() -> str:
    """The end of a page with figures: plotly.js once (compressed) and the loader that draws them."""
    return (
        f'<script type="{PACKED_TYPE}" id="aioa-plotly">{embedded_plotly_js()}</script>\n'
        f"<script>\n{loader_js()}</script>\n"
    )


def page_html(fragments: list[str], *, title: str) -> str:
    """One self-contained HTML page: stylesheet inline, plotly.js inline exactly once (compressed,
    :func:`embedded_plotly_js`) and the loader drawing the figures, then the fragments; each table
    gets its « Télécharger (CSV) » link (:func:`add_csv_links`)."""
    has_figures = count_figures(fragments) > 0
    body = add_link_targets(add_csv_links(typeset("\n".join(fragments))))
    scripts = page_scripts() if has_figures else ""
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="aioa_analysis">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{stylesheet()}\n</style>\n"
        f"{NO_SCRIPT if has_figures else ''}"
        "</head>\n<body>\n<main>\n"
        f"{body}\n"
        "</main>\n"
        f"{scripts}"
        "</body>\n</html>\n"
    )
    check_offline(page)
    return page


_TABLE = re.compile(r'(<figure class="table" id="([^"]+)">.*?<table>(.*?)</table>)', re.S)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S)


def _cell_text(cell: str) -> str:
    """A cell's text: tags dropped, entities decoded, ASCII white space collapsed (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", cell))).strip()


def table_csv(table: str) -> str:
    r"""The CSV of an HTML table (its ``<table>`` inner HTML) as the reader sees it: one line per row,
    ``;`` between cells, every cell quoted, text as shown (French decimals, « secret »).

    >>> table_csv('<thead><tr><th>CFA</th><th>Taux</th></tr></thead><tbody><tr><td>A &amp; B</td>'
    ...           '<td>28,4\u202f%</td></tr></tbody>')
    '"CFA";"Taux"\r\n"A & B";"28,4\u202f%"\r\n'
    """
    lines = []
    for row in _ROW.findall(table):
        cells = [_cell_text(c) for c in _CELL.findall(row)]
        lines.append(";".join('"' + c.replace('"', '""') + '"' for c in cells))
    return "".join(line + "\r\n" for line in lines)


def csv_link(table_id: str, csv: str) -> str:
    """A « Télécharger (CSV) » link holding the table's CSV (UTF-8 with BOM, for spreadsheets) in a
    ``data:`` URI: no network, no file beside the page."""
    data = base64.b64encode(("\ufeff" + csv).encode("utf-8")).decode("ascii")
    return (
        f'<p class="csv"><a download="{html.escape(table_id)}.csv" '
        f'href="data:text/csv;charset=utf-8;base64,{data}">Télécharger (CSV)</a></p>'
    )


def add_csv_links(body: str) -> str:
    """Every table of the page (``<figure class="table">``) ends with its « Télécharger (CSV) » link."""
    return _TABLE.sub(lambda m: m.group(1) + csv_link(m.group(2), table_csv(m.group(3))), body)


_TITLED = re.compile(
    r'<(h[1-6])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</\1>'
    r'|<figure class="(?:chart|table)" id="([^"]+)">.*?<figcaption>(.*?)</figcaption>',
    re.S,
)
_INTERNAL_LINK = re.compile(r'<a href="#([^"]+)"(?![^>]*\bdata-target=)')


def add_link_targets(body: str) -> str:
    """Every link to a part of the page (``href="#id"``) gets ``data-target``: the title of that part
    (its heading, or its figure's caption), which the print stylesheet writes after the link.

    >>> add_link_targets('<a href="#t">Voir</a><h2 id="t">Par CFA</h2><a href="#nowhere">x</a>')
    '<a href="#t" data-target="Par CFA">Voir</a><h2 id="t">Par CFA</h2><a href="#nowhere">x</a>'
    """
    titles: dict[str, str] = {}
    for m in _TITLED.finditer(body):
        anchor, text = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        titles.setdefault(anchor, _cell_text(text))

    def target(m: re.Match[str]) -> str:
        title = titles.get(m.group(1))
        return m.group(0) if not title else f'{m.group(0)} data-target="{html.escape(title)}"'

    return _INTERNAL_LINK.sub(target, body)


PACKED_TYPE: Final = "application/x-aioa-plotly-gzip-base64"
"""Script type of the compressed plotly.js (data for the loader, never run as is)."""


_EXTERNAL = (
    (re.compile(r"<script[^>]*\bsrc\s*=", re.I), "an external <script src>"),
    (re.compile(r"<link\b[^>]*>", re.I), "a <link> element"),
    (re.compile(r"@import\b", re.I), "a CSS @import"),
    (re.compile(r"require(?:\.min)?\.js", re.I), "require.js"),
    (
        re.compile(r"cdn\.jsdelivr|cdnjs\.cloudflare|cdn\.plot\.ly/mathjax|MathJax\.js", re.I),
        "a CDN reference",
    ),
    (re.compile(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I), "an external src/href"),
)


def check_offline(page: str) -> None:
    """Raise :class:`ReportError` if the page would fetch anything from the network.

    plotly.js (inline, once) contains URL *strings* of its own (map tiles, topojson) that a
    non-geographic chart never fetches; the checks look at the page outside that script.

    >>> check_offline('<html><script src="https://cdn.plot.ly/plotly.js"></script></html>')
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ReportError: report HTML would use the network: an external <script src>
    """
    js = embedded_plotly_js()
    count = page.count(js) if len(js) else 0
    if count > 1:
        raise ReportError(f"report HTML embeds plotly.js {count} times (expected once)")
    outside = page.replace(js, "") if count else page
    for pattern, what in _EXTERNAL:
        if pattern.search(outside):
            raise ReportError(f"report HTML would use the network: {what}")
