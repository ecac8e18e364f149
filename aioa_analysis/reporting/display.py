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

import html
import json
import logging
import re
from functools import cache
from importlib import resources
from typing import Any, Final

import plotly.graph_objects as go

from aioa_analysis.core.errors import ReportError
from aioa_analysis.core.formatting import french_spaces
from aioa_analysis.reporting.figures import PLOTLY_CONFIG

log = logging.getLogger(__name__)

REPORT_KEY: Final = "aioa_report"
"""Output metadata key marking what goes into the HTML page."""

PLOTLY_MIME: Final = "application/vnd.plotly.v1+json"


def _display(bundle: dict[str, Any], kind: str) -> None:
    from IPython.display import display  # imported lazily: only notebooks need IPython

    display(bundle, raw=True, metadata={REPORT_KEY: kind})


def show_html(fragment: str, *, text: str = "") -> None:
    """Display an HTML fragment that belongs to the report."""
    _display({"text/html": fragment, "text/plain": text or _strip_tags(fragment)[:200]}, "html")


def figure_html(fig: go.Figure, *, fig_id: str, caption: str) -> str:
    """The report's HTML for a figure: a ``<figure>`` with the plot ``<div>`` and its caption.

    The plot's div id is ``<fig_id>-plot`` (fixed, so two runs give identical HTML).

    >>> import plotly.graph_objects as go
    >>> h = figure_html(go.Figure(go.Bar(x=[1], y=[2])), fig_id="fig-x", caption="Exemple")
    >>> h.startswith('<figure class="chart" id="fig-x">'), 'id="fig-x-plot"' in h, "<script src" in h
    (True, True, False)
    """
    plot = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"{fig_id}-plot",
        config=PLOTLY_CONFIG,
        default_height="auto",
    )
    return (
        f'<figure class="chart" id="{html.escape(fig_id)}">{plot}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


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
    """
    parts = _MARKUP.split(page)
    return "".join(part if i % 2 else french_spaces(part) for i, part in enumerate(parts))


def page_html(fragments: list[str], *, title: str) -> str:
    """One self-contained HTML page: stylesheet and plotly.js inline, then the fragments."""
    has_figures = count_figures(fragments) > 0
    scripts = f'<script type="text/javascript">{plotly_js()}</script>\n' if has_figures else ""
    body = typeset("\n".join(fragments))
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="aioa_analysis">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{stylesheet()}\n</style>\n"
        f"{scripts}"
        "</head>\n<body>\n<main>\n"
        f"{body}\n"
        "</main>\n</body>\n</html>\n"
    )
    check_offline(page)
    return page


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
    js = plotly_js()
    count = page.count(js) if len(js) else 0
    if count > 1:
        raise ReportError(f"report HTML embeds plotly.js {count} times (expected once)")
    outside = page.replace(js, "") if count else page
    for pattern, what in _EXTERNAL:
        if pattern.search(outside):
            raise ReportError(f"report HTML would use the network: {what}")
