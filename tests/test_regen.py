"""Faster regeneration: every report of a run in one kernel, the family-wide results computed once,
index.html as cards of key figures, and the bundle of every report in one file."""

from __future__ import annotations

import logging
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from aioa_analysis.reporting import runner
from aioa_analysis.reporting.index_page import bundle_html, index_html, prefix_ids
from aioa_analysis.reporting.kernel import KernelSession
from aioa_analysis.reporting.key_figures import KEY_FIGURES_MIME, read_key_figures
from aioa_analysis.reporting.sections import context

# the generation time, the only thing allowed to differ between two renderings of the same report
STAMPS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}|\d\d/\d\d/\d{4} à \d\d:\d\d")


def _without_stamps(text: str) -> str:
    return STAMPS.sub("<time>", text)


def _outputs(nb_path: Path) -> list[object]:
    """The code cells' sources and outputs of an executed notebook, without the generation time."""
    nb = nbformat.read(str(nb_path), as_version=4)
    return [
        (c.source, _without_stamps(str([o.get("data", o.get("text")) for o in c.outputs])))
        for c in nb.cells
        if c.cell_type == "code"
    ]


@pytest.mark.slow
def test_one_kernel_renders_the_same_reports_as_one_kernel_per_report(built, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    data = built["data_file"]
    two = runner.cfa_list(data)[:2]
    base = {"data_file": str(data), "meeting_date": "2025-12-11"}
    old, new = tmp_path / "old", tmp_path / "new"
    for uai in two:  # the papermill path: one kernel per report
        runner.render_report({**base, "cfa": uai}, old / f"{uai}.html", notebook_path=old / f"{uai}.ipynb")
    with KernelSession() as session:  # one kernel: the département first fills the family memo
        runner.render_report(base, new / "dept.html", session=session)
        got = {
            uai: runner.render_report(
                {**base, "cfa": uai}, new / f"{uai}.html", notebook_path=new / f"{uai}.ipynb", session=session
            )
            for uai in two
        }
    # quiet logs: one line per report (its « rendered » line), no kernel or transport warning
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert [m.split(":")[0] for m in lines] == [*two, "dept", *two], lines
    for uai in two:
        before = (old / f"{uai}.html").read_text(encoding="utf-8")
        after = (new / f"{uai}.html").read_text(encoding="utf-8")
        assert _without_stamps(before) == _without_stamps(after), uai
        assert _outputs(old / f"{uai}.ipynb") == _outputs(new / f"{uai}.ipynb"), uai
        # the index's figures are the ones the report prints
        k = got[uai].key_figures
        assert k is not None and k["cfa"] == uai
        assert k["rate_hidden"] or f"{k['rate'] * 100:.1f}".replace(".", ",") in after


@pytest.mark.slow
def test_the_family_memo_never_carries_results_to_another_data_file(built, tmp_path):
    """A report on a second data file, prepared after one on the first, equals a fresh computation."""
    table = pd.read_parquet(built["data_file"])
    other = tmp_path / "processed" / "contracts.parquet"
    other.parent.mkdir()
    table.loc[table.index % 10 != 0].to_parquet(other)  # another file: a tenth of the contracts gone
    shutil.copy(built["processed"] / "quality.json", other.parent / "quality.json")
    uai = runner.cfa_list(other)[0]
    context.prepare_report(data_file=str(built["data_file"]), cfa=uai)  # fills the memo
    after = context.prepare_report(data_file=str(other), cfa=uai)
    context._FAMILY.clear()
    fresh = context.prepare_report(data_file=str(other), cfa=uai)
    for name in ("vigilance", "funnel", "cfa_casemix", "overall_dept"):
        pd.testing.assert_frame_equal(getattr(after.results, name), getattr(fresh.results, name))
    assert after.family is not fresh.family


FIGURES = {
    "label": "CFA « Les Pins » (0410001A)",
    "cfa": "0410001A",
    "as_of": "2025-11-30",
    "generated_at": "2025-12-01T08:05:00+01:00",
    "horizon_months": 9,
    "min_n": 20,
    "contracts": 1234,
    "rate_hidden": False,
    "observed": 1000,
    "ruptures": 284,
    "rate": 0.284,
    "ci_low": 0.241,
    "ci_high": 0.329,
    "alerts": 2,
    "findings": 5,
}


def test_index_card_prints_the_key_figures_and_both_dates():
    page = index_html([("r.html", "CFA A", "13 graphiques")], title="T", subtitle="S", figures=[FIGURES])
    text = page.replace("\u202f", " ").replace("\xa0", " ")
    assert "28,4 %" in text and "24,1" in text and "32,9" in text
    assert "1 234" in text and "284 sur 1 000" in text and "2 alertes sur 5 constats" in text
    assert "30/11/2025" in text and "01/12/2025" in text
    body = text[text.index("<body>") :]  # the stylesheet's comments may say « graphiques »
    assert "13 graphiques" not in body  # the old « 13 graphiques » detail only without figures
    # one column on a phone: cards at least 20rem wide, never wider than the screen
    assert "minmax(min(100%, 20rem), 1fr)" in page and 'name="viewport"' in page


def test_a_hidden_rate_shows_no_count_on_its_card():
    hidden = {**FIGURES, "rate_hidden": True, "rate": None, "ruptures": None, "observed": None}
    text = index_html([("r.html", "A", "")], title="T", subtitle="S", figures=[hidden])
    assert "secret statistique" in text and "284" not in text


def test_key_figures_are_read_from_the_notebook_output():
    cell = nbformat.v4.new_code_cell(
        "x", outputs=[nbformat.v4.new_output("display_data", data={KEY_FIGURES_MIME: FIGURES})]
    )
    assert read_key_figures(nbformat.v4.new_notebook(cells=[cell])) == FIGURES
    assert read_key_figures(nbformat.v4.new_notebook(cells=[])) is None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if (a.get("href") or "").startswith("#"):
            self.links.append(a["href"][1:])


def test_bundle_keeps_every_anchor_unique_and_every_link_inside_its_report():
    import plotly.graph_objects as go

    from aioa_analysis.reporting.display import figure_html

    chart = figure_html(go.Figure(go.Bar(x=[1], y=[2])), fig_id="fig-a", caption="A")
    fragment = '<nav><a href="#synthese">Synthèse</a></nav><h2 id="synthese">Synthèse</h2>' + chart
    page = bundle_html(
        [("rapport-departement", "Département", [fragment]), ("rapport-cfa-X", "CFA X", [fragment])],
        title="T",
        subtitle="S",
    )
    parser = _Anchors()
    parser.feed(page)
    # two reports, each: its section, its heading, its figure and plot; plotly.js once
    assert len(parser.ids) == len(set(parser.ids)) == 9 and parser.ids.count("aioa-plotly") == 1
    assert set(parser.links) <= set(parser.ids)
    assert 'href="#rapport-cfa-X-synthese"' in page and 'newPlot("rapport-cfa-X-fig-a-plot"' in page
    assert page.count("<nav") == 3  # the table of contents, then each report's own


def test_prefix_ids_leaves_links_to_other_pages_alone():
    assert prefix_ids('<a href="#x">x</a><a href="other.html#y">y</a><p id="y">', "r") == (
        '<a href="#x">x</a><a href="other.html#y">y</a><p id="r-y">'
    )


FAKE_CHROMIUM = """#!/bin/sh
# prints "%PDF-" and the page's name into --print-to-pdf=FILE; fails on a page named bad.html
for a in "$@"; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; file://*) page="$a";; esac; done
case "$page" in *bad.html) exit 3;; esac
printf '%%PDF-1.4 %s' "$page" > "$out"
"""


def _fake_chromium(tmp_path: Path, monkeypatch) -> None:
    exe = tmp_path / "fake-chromium"
    exe.write_text(FAKE_CHROMIUM, encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setenv("AIOA_CHROMIUM", str(exe))


def test_print_many_prints_every_page_to_its_own_pdf(tmp_path, monkeypatch):
    from aioa_analysis.reporting.pdf import print_many

    _fake_chromium(tmp_path, monkeypatch)
    pages = []
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.html").write_text("<p>x</p>", encoding="utf-8")
        pages.append((tmp_path / f"{name}.html", tmp_path / "out" / f"{name}.pdf"))
    assert print_many(pages) == [pdf for _h, pdf in pages]
    for html_path, pdf in pages:  # each PDF is its own page's, whatever the order they finished in
        assert pdf.read_bytes().endswith(html_path.as_uri().encode())


def test_print_many_stops_at_a_failure_and_writes_no_pdf_for_it(tmp_path, monkeypatch):
    from aioa_analysis.core.errors import ReportError
    from aioa_analysis.reporting.pdf import print_many

    _fake_chromium(tmp_path, monkeypatch)
    for name in ("a", "bad"):
        (tmp_path / f"{name}.html").write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(ReportError, match=r"bad\.html"):
        print_many([(tmp_path / f"{n}.html", tmp_path / f"{n}.pdf") for n in ("a", "bad")])
    assert not (tmp_path / "bad.pdf").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_pdf_prints_every_report_of_the_run_in_one_batch(built, tmp_path, monkeypatch):
    """``aioa report --per-cfa --pdf``: a PDF beside each HTML of the published set, each its own
    page's (the fake Chromium writes the page's address into it), printed after the kernel is done."""
    _fake_chromium(tmp_path, monkeypatch)
    data = built["data_file"]
    first = runner.cfa_list(data)[0]
    out = tmp_path / "reports"
    results = runner.render_reports(
        {"data_file": str(data), "cfa": first}, out, keep_notebooks=False, pdf=True
    )
    assert len(results) == 1
    for r in results:
        pdf = r.html_path.with_suffix(".pdf")
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF-")
        assert pdf.read_bytes().decode().endswith(f"{r.html_path.stem}.html")
