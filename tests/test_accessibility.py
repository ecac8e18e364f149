"""Accessibility (RGAA / WCAG 2.2 AA) and French typography of the reports.

* text contrast of the stylesheet: every text colour against every background it declares, >= 4.5:1
  (WCAG 1.4.3), computed from the WCAG relative-luminance formula;
* the charts' colours: text written on a chart >= 4.5:1, status colours of points, bars and lines
  >= 3:1 on white (WCAG 1.4.11), and a status never told by colour alone (symbol or pattern);
* every chart is an image with a text alternative (``role="img"``, ``aria-label``, caption);
* the visible text of the rendered département report and of one CFA report has no ordinary space
  where French typography wants a no-break one (before : ; ! ? % and inside « »).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

import pandas as pd
import pytest

from aioa_analysis.reporting import display
from aioa_analysis.reporting.figures import style
from aioa_analysis.reporting.figures.comparison import casemix_forest, funnel_plot
from aioa_analysis.reporting.figures.periods import monthly_hazard
from aioa_analysis.reporting.figures.rates import rate_bars

# --- WCAG contrast ----------------------------------------------------------------------------------


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rgb`` or ``#rrggbb``."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_on_known_pairs():
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#fff", "#fff") == pytest.approx(1.0)
    # #767676 is the classic lightest grey passing 4.5:1 on white (4.54:1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") < 4.5


def _css() -> str:
    return (resources.files("aioa_analysis.reporting") / "templates" / "report.css").read_text(
        encoding="utf-8"
    )


def _css_colours(css: str) -> tuple[set[str], set[str]]:
    """Text colours and background colours the stylesheet declares (variables resolved)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    variables = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", css))

    def resolve(value: str) -> str | None:
        value = value.strip()
        m = re.fullmatch(r"var\((--[\w-]+)\)", value)
        if m:
            return variables[m.group(1)]
        return value if re.fullmatch(r"#[0-9a-fA-F]{3,6}", value) else None  # inherit, currentColor...

    texts = {resolve(v) for v in re.findall(r"(?<![\w-])color\s*:\s*([^;}]+)", css)}
    backs = {resolve(v) for v in re.findall(r"background(?:-color)?\s*:\s*([^;}]+)", css)}
    return texts - {None}, (backs - {None}) | {"#ffffff"}  # type: ignore[return-value]


def test_stylesheet_text_contrast_is_at_least_4_5_to_1():
    texts, backs = _css_colours(_css())
    assert len(texts) >= 4 and len(backs) >= 4  # the parser found the declarations
    low = [(t, b, round(contrast(t, b), 2)) for t in texts for b in backs if contrast(t, b) < 4.5]
    assert not low, low


def test_a_low_contrast_colour_would_be_caught():
    texts, backs = _css_colours(":root { --pale: #aaaaaa; } p { color: var(--pale); background: #fff; }")
    assert texts == {"#aaaaaa"} and any(contrast(t, b) < 4.5 for t in texts for b in backs)


def test_chart_colours_contrast():
    white = "#ffffff"
    assert contrast(style.COLORS["text"], white) >= 4.5
    assert contrast(style.COLORS["muted"], white) >= 4.5  # the notes under the charts
    for key in ("main", "alert", "good", "national", "limit95", "limit998"):
        assert contrast(style.COLORS[key], white) >= 3.0, key  # WCAG 1.4.11 non-text contrast
    assert contrast(style.PALETTE[0], white) >= 4.5


def _t(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_status_is_never_told_by_colour_alone():
    bars = rate_bars(
        _t(
            label=["A", "B"],
            rate=[0.2, 0.3],
            ci_low=[0.1, 0.2],
            ci_high=[0.3, 0.4],
            n_contracts=[50, 60],
            suppressed=[False, False],
        ),
        label="label",
        highlight=["B"],
    )
    assert bars.data[0].marker.color == (style.COLORS["main"], style.COLORS["alert"])
    assert bars.data[0].marker.pattern.shape == ("", "/")  # the highlighted bar is hatched too
    hazard = monthly_hazard(
        _t(
            month_label=["janv.", "févr."],
            hazard=[0.02, 0.03],
            ci_low=[0.01, 0.02],
            ci_high=[0.03, 0.04],
            n_ruptures=[10, 15],
            contract_months=[500, 500],
            critical=[False, True],
        )
    )
    assert hazard.data[0].marker.pattern.shape == ("", "/")
    forest = casemix_forest(
        _t(
            label=["A", "B", "C"],
            value=[1.5, 0.5, 1.0],
            ci_low=[1.1, 0.3, 0.8],
            ci_high=[2.0, 0.8, 1.2],
            comparable=[True, True, True],
            alert=[True, True, False],
        )
    )
    assert forest.data[0].marker.symbol == ("triangle-up", "triangle-down", "square")


def test_funnel_classes_have_their_own_symbol():
    t = _t(
        label=["A", "B", "C"],
        n=[100, 120, 90],
        rate=[0.5, 0.2, 0.05],
        flag=["above_998", "within", "below_95"],
        suppressed=[False, False, False],
    )
    limits = pd.DataFrame({"n": [50, 150], "lower_95": [0.1, 0.15], "upper_95": [0.3, 0.25]})
    fig = funnel_plot(t, limits, label="label", target=0.2, n="n", flag="flag")
    symbols = {tr.name: set(tr.marker.symbol) for tr in fig.data if tr.mode == "markers" and tr.x}
    assert len({frozenset(v) for v in symbols.values()}) == len(symbols)


def test_a_chart_is_an_image_with_a_text_alternative():
    fig = rate_bars(
        _t(label=["A"], rate=[0.2], ci_low=[0.1], ci_high=[0.3], n_contracts=[50], suppressed=[False]),
        label="label",
    )
    h = display.figure_html(fig, fig_id="fig-a", caption="Taux par secteur")
    assert re.search(r'<div id="fig-a-plot" class="plotly-graph-div" role="img" aria-label="[^"]+"', h)
    assert 'aria-label="Graphique : Taux par secteur. Les valeurs sont dans le tableau qui suit."' in h
    assert "<figcaption>Taux par secteur</figcaption>" in h


# --- French typography on the rendered reports -------------------------------------------------------


class _Visible(HTMLParser):
    """The text a reader sees: no script, style or attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return "".join(parser.parts)


BAD_SPACE = re.compile(r"[ \t\n](?=[:;!?%»])|«[ \t\n]")


def typography_faults(text: str) -> list[str]:
    """Ordinary spaces before : ; ! ? % » or after «, each shown with some context."""
    return [text[max(0, m.start() - 25) : m.end() + 5] for m in BAD_SPACE.finditer(text)]


def test_typography_check_catches_ordinary_spaces():
    faults = typography_faults(visible_text("<p>Taux : 28 %</p><script>a = 1 ; b</script>"))
    assert len(faults) == 2 and all(f.startswith("Taux :") for f in faults)  # script text skipped
    ok = "<p>Taux\u202f: 28,4\u202f% «\u00a0secret\u00a0»</p>"
    assert typography_faults(visible_text(ok)) == []


@pytest.fixture(scope="module")
def cfa_report(built, tmp_path_factory):
    """One CFA report rendered from the end-to-end build (the CFA with the most contracts)."""
    from aioa_analysis.reporting import render_report

    contracts = pd.read_parquet(built["data_file"], columns=["cfa_uai"])
    uai = str(contracts["cfa_uai"].value_counts().index[0])
    params = {"data_file": str(built["data_file"]), "meeting_date": "2025-12-11", "cfa": uai}
    return render_report(params, tmp_path_factory.mktemp("cfa") / "rapport-cfa.html")


@pytest.mark.slow
def test_rendered_reports_follow_french_typography(built, cfa_report):
    for path in (built["result"].html_path, cfa_report.html_path):
        text = visible_text(path.read_text(encoding="utf-8"))
        assert len(text) > 5000
        faults = typography_faults(text)
        assert not faults, f"{path.name}: {faults[:5]}"


@pytest.mark.slow
def test_rendered_charts_have_text_alternatives(built):
    page = built["result"].html_path.read_text(encoding="utf-8")
    charts = re.findall(r'<figure class="chart" id="[^"]+">(.*?)</figure>', page, re.S)
    assert len(charts) == built["result"].n_figures > 0
    for chart in charts:
        assert re.search(r'role="img" aria-label="Graphique : [^"]{10,}"', chart)
        assert re.search(r"<figcaption>[^<]{10,}</figcaption>", chart)


@pytest.mark.slow
def test_cfas_are_named_in_readable_case_with_their_uai(built):
    page = visible_text(built["result"].html_path.read_text(encoding="utf-8"))
    named = set(re.findall(r"([^\s(][^()]{2,60}?) \((04\d{5}[A-Z])\)", page))
    assert named
    shouting = {n for n, _ in named if re.search(r"\b[A-ZÉÈ]{3,} [A-ZÉÈ]{2,} [A-ZÉÈ]{3,}\b", n)}
    assert not shouting, shouting
