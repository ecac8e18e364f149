"""Reports that travel: a small plotly.js bundle embedded once, and only trace types it can draw."""

from __future__ import annotations

import json
import re
from importlib import resources

import nbformat
import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from aioa_analysis.reporting import display


def test_the_shipped_partial_bundle_is_the_version_plotly_expects():
    name, version = display.PLOTLY_BUNDLE
    text = (resources.files("aioa_analysis.reporting") / "templates" / "vendor" / name).read_text(
        encoding="utf-8"
    )
    assert f"plotly.js (basic - minified) v{version}" in text[:300]
    assert get_plotlyjs_version() == version
    assert display.plotly_js() == text
    assert len(text) < len(get_plotlyjs()) / 3  # 1.1 MB instead of 4.7 MB


def test_a_version_mismatch_falls_back_to_the_full_bundle(monkeypatch, caplog):
    import plotly.offline

    display.plotly_js.cache_clear()
    monkeypatch.setattr(plotly.offline, "get_plotlyjs_version", lambda: "9.9.9")
    try:
        assert display.plotly_js() == get_plotlyjs()
        assert "full bundle embedded" in caplog.text
    finally:
        display.plotly_js.cache_clear()


@pytest.mark.slow
def test_every_report_chart_uses_a_trace_type_the_bundle_draws(built):
    nb_path = built["reports"] / "notebooks" / "rapport-departement.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    types = {
        trace.get("type", "scatter")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        for trace in json.loads(json.dumps(out.get("data", {}).get(display.PLOTLY_MIME, {}))).get("data", [])
    }
    assert types and types <= display.BUNDLE_TRACES, types
    assert built["result"].size_bytes < 1_500_000


# --- small: the compressed bundle, the minimal template, rounded figures ---------------------------


def test_the_embedded_bundle_is_plotly_js_gzipped_once_and_deterministic():
    import base64
    import gzip

    packed = display.embedded_plotly_js()
    assert gzip.decompress(base64.b64decode(packed)).decode("utf-8") == display.plotly_js()
    assert len(packed) < 0.5 * len(display.plotly_js())  # ~0.5 MB instead of 1.1 MB
    display.embedded_plotly_js.cache_clear()
    assert display.embedded_plotly_js() == packed  # no timestamp: two runs, the same bytes


def _bars():
    import pandas as pd

    from aioa_analysis.reporting.figures.rates import rate_bars

    t = pd.DataFrame(
        {
            "label": ["Commerce et réparation automobile", "Construction"],
            "rate": [1 / 3, 2 / 7],
            "ci_low": [0.2, 0.2],
            "ci_high": [0.4, 0.4],
            "n_contracts": [300, 70],
            "suppressed": [False, False],
            "nat": [0.25, 0.2],
        }
    )
    return rate_bars(t, label="label", reference="nat", reference_name="France")


def test_figures_use_the_minimal_template_and_rounded_floats():
    fig = _bars()
    spec = display.compact_spec(fig)
    full = json.loads(fig.to_json())
    template = spec["layout"]["template"]
    assert "data" not in template  # no per-trace-type defaults (plotly_white carries ~8 KB of them)
    assert len(json.dumps(template)) < 1000
    assert spec["data"][0]["x"] == [33.33, 28.57]  # 100/3 and 200/7 to 4 significant digits
    assert len(json.dumps(spec)) < len(json.dumps(full))


def test_long_category_labels_are_wrapped_the_same_everywhere():
    spec = display.compact_spec(_bars())
    wrapped = "Commerce et réparation<br>automobile"
    categories = [set(tr["y"]) for tr in spec["data"] if isinstance(tr.get("y"), list)]
    assert len(categories) == 2  # the bars and the national diamonds
    for cats in categories:
        assert wrapped in cats and "Construction" in cats


def test_figure_html_defers_drawing_to_the_loader():
    h = display.figure_html(_bars(), fig_id="fig-s", caption="Taux")
    scripts = h.split("<script")[1:]
    assert len(scripts) == 1 and scripts[0].startswith(f' type="{display.PLOT_SCRIPT_TYPE}">')
    assert 'Plotly.newPlot("fig-s-plot", [' in h and "aioaLayout({" in h
    assert "</extra>" not in h.split("<script", 1)[1].split("</script>")[0]  # "</" escaped in the script


def test_page_embeds_the_packed_bundle_and_the_loader_once():
    page = display.page_html([display.figure_html(_bars(), fig_id="fig-s", caption="Taux")], title="t")
    assert page.count(display.embedded_plotly_js()) == 1
    assert page.count(display.loader_js()) == 1
    assert display.plotly_js()[:200] not in page  # never the raw bundle as well
    assert page.index('id="aioa-plotly"') > page.index('id="fig-s"')  # scripts after the content
    empty = display.page_html(["<p>Rien</p>"], title="t")
    assert "aioa-plotly" not in empty and "<script" not in empty


# --- CSV downloads and printed links ---------------------------------------------------------------


def test_each_table_gets_a_csv_link_with_bom_and_semicolons():
    import base64
    import csv
    import io
    import re

    import pandas as pd

    from aioa_analysis.core.formatting import table_html

    shown = pd.DataFrame({"CFA": ['MFR du "Vendômois"', "A ; B"], "Taux": ["28,4\u202f%", "secret"]})
    page = display.add_csv_links(table_html(shown, table_id="tab-x", caption="Exemple"))
    m = re.search(r'<a download="tab-x\.csv" href="data:text/csv;charset=utf-8;base64,([^"]+)">', page)
    assert m and "Télécharger (CSV)" in page
    raw = base64.b64decode(m.group(1))
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows == [list(shown.columns), *shown.to_numpy().tolist()]


def test_internal_links_carry_the_title_they_print():
    body = (
        '<h2 id="par-cfa">Par CFA</h2><a href="#tab-cfa">Voir</a>'
        '<figure class="table" id="tab-cfa"><figcaption>Taux par CFA</figcaption><table></table></figure>'
    )
    out = display.add_link_targets(body)
    assert '<a href="#tab-cfa" data-target="Taux par CFA">' in out
    css = display.stylesheet()
    assert 'a[href^="#"][data-target]::after' in css and "attr(data-target)" in css


def test_print_rules():
    css = display.stylesheet()
    printed = css[css.index("Rapports qui voyagent : impression") :]
    for rule in (
        "break-after: avoid",
        "thead { display: table-header-group; }",
        "tr, th, td { break-inside: avoid;",
        "figure.chart, .cards, .card { break-inside: avoid;",
    ):
        assert rule in printed, rule


@pytest.mark.slow
def test_the_departement_report_is_well_under_the_limit(built):
    """Budget: 1.0 MB for the département report of the sample (the hard limit is 1.5 MB)."""
    assert built["result"].size_bytes < 1_000_000
    page = built["result"].html_path.read_text(encoding="utf-8")
    tables = page.count('<figure class="table"')
    assert tables > 10 and page.count(">Télécharger (CSV)</a>") == tables


def test_no_chart_label_is_cut(built):
    """CFA names and categories are wrapped, never cut with « … »: no figure of the département
    report (trace names, categories, annotations) holds an ellipsis."""
    html = built["result"].html_path.read_text(encoding="utf-8")
    plots = re.findall(rf'<script type="{display.PLOT_SCRIPT_TYPE}">(.*?)</script>', html, flags=re.S)
    assert len(plots) >= 10
    cut = [p[max(0, p.index("…") - 40) : p.index("…") + 5] for p in plots if "…" in p]
    assert not cut, cut[:3]
    assert "<br>" in "".join(plots)  # long names are wrapped somewhere (CFA names in the funnel, legends)
