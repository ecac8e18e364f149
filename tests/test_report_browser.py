"""The report in a real browser: Debian's Chromium driven by Playwright, every network request blocked.

Each chart must render (an SVG inside every plotly div), the page must make zero external requests
and raise zero page errors. Uses /usr/bin/chromium (``apt-get install chromium``); never downloads a
Playwright browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
        text = html.unescape(text).casefold()
        words = set(re.findall(r"[^\W\d_][\w'-]*", text))
        found = {n for n in names if (n in words if " " not in n else n in text)}
        assert not found, f"{path.name} names {sorted(found)[:5]}"
