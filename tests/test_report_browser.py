"""The report in a real browser: Debian's Chromium driven by Playwright, every network request blocked.

Each chart must render (an SVG inside every plotly div), the page must make zero external requests
and raise zero page errors. Uses /usr/bin/chromium (``apt-get install chromium``); never downloads a
Playwright browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aioa_analysis.reporting import display
from tests.report_fakes import N_CHARTS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("AIOA_REQUIRE_BROWSER"),
        reason="Debian's Chromium is missing: apt-get install -y chromium (or `make browser`)",
    ),
]


def test_chromium_is_there_when_required():
    """CI sets AIOA_REQUIRE_BROWSER=1: a missing Chromium is then a failure, not a silent skip."""
    assert CHROMIUM.exists(), "Debian's Chromium is required here: apt-get install -y chromium"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _load(browser, path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    external: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            external.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
        ".every(d => d.querySelector('.main-svg'))",
        timeout=20_000,
    )
    info = {
        "divs": page.locator(".plotly-graph-div").count(),
        "rendered": page.evaluate(
            "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".filter(d => d.querySelector('.main-svg') && d.getBoundingClientRect().height > 100).length"
        ),
        "traces": page.evaluate(
            "() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => (d.data || []).length)"
        ),
        "title": page.title(),
        "banner": page.locator(".banner-sample").count(),
        "external": external,
        "errors": errors,
    }
    page.close()
    return info


def test_every_chart_renders_offline_without_errors(built, browser):
    result = built["result"]
    info = _load(browser, result.html_path)
    assert info["divs"] == result.n_figures == N_CHARTS
    assert info["rendered"] == result.n_figures
    assert all(n > 0 for n in info["traces"])
    assert info["external"] == []
    assert info["errors"] == []
    assert info["banner"] == 1
    assert info["title"].startswith("Ruptures des contrats")


def test_index_page_opens_offline(built, browser):
    page = browser.new_page()
    external: list[str] = []
    page.route(
        "**/*",
        lambda r: (
            r.continue_()
            if r.request.url.startswith(("file:", "data:"))
            else (external.append(r.request.url), r.abort())
        ),
    )
    page.goto((built["reports"] / "index.html").resolve().as_uri())
    links = page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert "rapport-departement.html" in links
    assert external == []


def test_accompaniment_section_names_nobody(built, browser):
    """The section « Accompagnement après la rupture » is shown, filled from the imported returns, and no
    first name or surname of the identity store appears in any report page (text or markup)."""
    import html
    import re

    import pandas as pd

    page = browser.new_page()
    page.goto(built["result"].html_path.resolve().as_uri(), wait_until="load")
    section = page.locator("#accompagnement")
    assert section.count() == 1
    assert page.locator("#tab-accompagnement").count() == 1
    assert page.locator('a[href="#accompagnement"]').count() >= 1  # the table of contents follows SECTIONS
    page.close()
    ids = pd.read_parquet(built["restricted"] / "identities.parquet", columns=["surname", "first_name"])
    names = {str(v).strip().casefold() for col in ids.columns for v in ids[col].dropna()} - {""}
    assert len(names) > 50
    pages = sorted(built["reports"].rglob("*.html"))
    assert pages
    for path in pages:
        text = path.read_text(encoding="utf-8")
        # the plotly.js library (minified identifiers such as « Zoe ») is not report content
        text = re.sub(r"<script[^>]*>\s*/\*\*\s*\n\* plotly\.js.*?</script>", "", text, flags=re.S)
        text = text.replace(display.embedded_plotly_js(), "")  # the same library, compressed
        text = html.unescape(text).casefold()
        words = set(re.findall(r"[^\W\d_][\w'-]*", text))
        found = {n for n in names if (n in words if " " not in n else n in text)}
        assert not found, f"{path.name} names {sorted(found)[:5]}"


# --- reports that travel: size, phone, no-chart fallback, print ----------------------------------

ALL_DRAWN = "() => Array.from(document.querySelectorAll('.plotly-graph-div')).every(d => d.querySelector('.main-svg'))"


def test_report_is_under_the_size_limit(built):
    assert built["result"].html_path.stat().st_size < 1_500_000


def test_phone_width_no_horizontal_scrolling_and_charts_fit(built, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page.goto(built["result"].html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    charts = page.evaluate(
        "() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => d.querySelector('.main-svg')"
        ".getBoundingClientRect().width)"
    )
    # a table wider than the screen scrolls inside its own box, never the page
    boxes = page.evaluate(
        "() => Array.from(document.querySelectorAll('figure.table')).map(f => [f.getBoundingClientRect().right,"
        " getComputedStyle(f).overflowX, f.scrollWidth > f.clientWidth])"
    )
    legends = page.evaluate(
        "() => Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d => d.layout.showlegend !== false"
        " && d.layout.legend).map(d => d.layout.legend.yref)"
    )
    page.close()
    assert width <= 390
    assert charts and all(0 < w <= 390 for w in charts)
    assert all(right <= 390 and overflow == "auto" for right, overflow, _ in boxes)
    assert any(wide for *_, wide in boxes)  # the check above is not vacuous: some table does scroll
    assert legends and set(legends) == {"container"}  # legends under the chart on a narrow screen


def test_without_decompression_stream_the_tables_stay(built, browser):
    """A browser without DecompressionStream gets the « no-charts » page: one line per chart, tables kept."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script("delete window.DecompressionStream;")
    page.goto(built["result"].html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    info = page.evaluate(
        "() => [document.documentElement.classList.contains('no-charts'), typeof window.Plotly,"
        " document.querySelectorAll('figure.table table').length,"
        " Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d => d.offsetHeight > 0).length,"
        " getComputedStyle(document.querySelector('figure.chart'), '::before').content]"
    )
    page.close()
    no_charts, plotly, tables, shown, note = info
    assert no_charts and plotly == "undefined" and tables > 10 and shown == 0
    assert "tableau qui suit" in note
    assert errors == []


def test_visible_text_has_no_ordinary_space_before_colon_or_percent(built, browser):
    import re

    page = browser.new_page()
    page.goto(built["result"].html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    text = page.evaluate("document.body.innerText")
    svg = page.evaluate(
        "() => Array.from(document.querySelectorAll('.main-svg text')).map(t => t.textContent).join('\\n')"
    )
    page.close()
    assert "Taux de rupture" in text and "%" in svg  # the charts' own text is checked as well
    for where, t in (("page", text), ("charts", svg)):
        bad = [t[max(0, m.start() - 30) : m.end()] for m in re.finditer(r"[ \t](?=[:%])", t)]
        assert not bad, f"{where}: {bad[:5]}"


@pytest.fixture(scope="module")
def printed(built, tmp_path_factory):
    from aioa_analysis.reporting import pdf

    out = tmp_path_factory.mktemp("pdf") / "rapport-departement.pdf"
    return pdf.print_to_pdf(built["result"].html_path, out)


def _pdf_pages(path: Path, first: int | None = None, last: int | None = None) -> list[str]:
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        if os.environ.get("AIOA_REQUIRE_BROWSER"):  # CI: the printed report must be read, not skipped
            pytest.fail("pdftotext missing: apt-get install poppler-utils")
        pytest.skip("pdftotext missing: apt-get install poppler-utils")
    cmd = ["pdftotext", "-layout"]
    cmd += ["-f", str(first)] if first else []
    cmd += ["-l", str(last)] if last else []
    done = subprocess.run([*cmd, str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout.split("\f")


def test_pdf_is_printed_with_charts_and_named_links(built, printed):
    import re

    from aioa_analysis.reporting import pdf

    pages = _pdf_pages(printed)
    text = "\n".join(pages)
    assert pdf.pdf_page_count(printed) >= 10
    assert "Nombre de contrats (dénominateur)" in text  # an axis title: the charts were drawn
    assert re.search(r"Voir «\s?\w.{3,}", text)  # a link prints the title of the part it points to
    assert "Télécharger (CSV)" not in text  # no download links on paper


def test_no_heading_alone_at_the_bottom_of_a_pdf_page(built, printed):
    import html
    import re

    page = built["result"].html_path.read_text(encoding="utf-8")
    headings = {
        " ".join(html.unescape(re.sub(r"<[^>]+>", "", h)).split())
        for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", page, re.S)
    }
    assert len(headings) > 10
    for number, text in enumerate(_pdf_pages(printed)[:-1], start=1):
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        assert not lines or lines[-1] not in headings, f"page {number} ends with the heading {lines[-1]!r}"


def test_pdf_first_page_holds_l_essentiel(printed):
    """Page 1 holds the section itself (its question and its points de vigilance), not only its line in
    the table of contents; the next section starts on page 2."""
    first, second = (" ".join(p.replace("\u2019", "'").split()) for p in _pdf_pages(printed, 1, 2))
    assert "Que faut-il retenir de ce rapport" in first
    assert "Points de vigilance :" in first.replace("\u00a0", " ").replace("\u202f", " ")
    assert "Combien de contrats sont rompus" not in first and "Combien de contrats sont rompus" in second


def test_charts_are_redrawn_to_fit_an_a4_page_when_printed(built, browser):
    """A chart drawn for a wide screen would be cut on paper: at « beforeprint » each is redrawn at most
    680 px wide (an A4 page's text width), and back to its box after printing."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(built["result"].html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=30_000)
    widths = "() => Array.from(document.querySelectorAll('.main-svg:first-of-type')).map(s => s.getBoundingClientRect().width)"
    screen = page.evaluate(widths)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(300)
    paper = page.evaluate(widths)
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    page.wait_for_timeout(300)
    back = page.evaluate(widths)
    page.close()
    assert max(screen) > 680 and max(paper) <= 680 and back == screen
