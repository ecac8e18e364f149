"""The CFA reports of the sample against the département report (issue 18).

The département report is the end-to-end build of :func:`tests.report_fakes.build_sample_reports`
(``built`` fixture); three CFA reports of the same table are rendered once for the module: the
largest CFA, a middle one and the smallest.
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from aioa_analysis.core.schema import C
from aioa_analysis.reporting import render_report

pytestmark = pytest.mark.slow

SHARED_ANNEXES: set[str] = set()
"""Sections allowed to be the same text in every report (none: the methodology annex opens with the
report's own scope before the family's common note)."""


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory) -> dict[str, str]:
    """``""`` -> the département report's HTML, UAI -> that CFA's report."""
    contracts = pd.read_parquet(built["data_file"], columns=[C.cfa_uai])
    sizes = contracts[C.cfa_uai].value_counts()
    chosen = list(dict.fromkeys([sizes.index[0], sizes.index[len(sizes) // 2], sizes.index[-1]]))
    out = tmp_path_factory.mktemp("cfa_reports")
    params = {"data_file": str(built["data_file"]), "meeting_date": "2025-12-11"}
    found = {"": built["result"].html_path.read_text(encoding="utf-8")}
    for uai in chosen:
        result = render_report({**params, "cfa": str(uai)}, out / f"rapport-cfa-{uai}.html")
        found[str(uai)] = result.html_path.read_text(encoding="utf-8")
    return found


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment: the text, without scripts (figure data) and tags."""
    fragment = re.sub(r"<script\b.*?</script>", " ", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def sections_of(page: str) -> dict[str, str]:
    """Each ``<h2 id=...>`` block of a report (up to the next ``<h2``), by anchor."""
    parts = re.split(r"(?=<h2 id=\")", page)
    return {m.group(1): p for p in parts if (m := re.match(r'<h2 id="([^"]+)"', p))}


def table_rows(page: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells (text) of the table ``table_id`` of a page."""
    m = re.search(rf'<figure class="table" id="{table_id}">(.*?)</figure>', page, flags=re.S)
    assert m, f"no table {table_id}"
    head = [text_of(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", m.group(1), flags=re.S)]
    body = re.search(r"<tbody>(.*?)</tbody>", m.group(1), flags=re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", flags=re.S)
    return head, [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)] for r in rows]


def test_every_section_a_cfa_report_keeps_differs_from_the_departement_report(pages):
    dept = {k: text_of(v) for k, v in sections_of(pages[""]).items()}
    for uai, page in pages.items():
        if not uai:
            continue
        mine = {k: text_of(v) for k, v in sections_of(page).items()}
        assert {"synthese", "par-cfa", "par-secteur", "par-diplome", "par-periode"} <= set(mine)
        same = sorted(k for k, v in mine.items() if k not in SHARED_ANNEXES and dept.get(k) == v)
        assert not same, f"CFA {uai}: sections identical to the département report: {same}"


def test_the_departement_columns_are_the_departement_reports_cells(pages):
    """The département's rate of a category, in a CFA report, is the cell the département report
    publishes (same value, or « secret » in both): one suppression pattern for the family."""
    for table_id in ("tab-secteur", "tab-diplome", "tab-diplome-famille"):
        head, rows = table_rows(pages[""], table_id)
        dept = {
            r[0]: (r[head.index("Contrats observés")], r[head.index("Taux")], r[head.index("IC 95 %")])
            for r in rows
        }
        for uai, page in pages.items():
            if not uai:
                continue
            h, cfa_rows = table_rows(page, table_id)
            cols = [h.index(f"Département : {c}") for c in ("contrats observés", "taux", "IC 95 %")]
            assert cfa_rows, f"{uai} {table_id}: empty"
            for r in cfa_rows:
                assert tuple(r[i] for i in cols) == dept[r[0]], (uai, table_id, r[0])


def _number(text: str) -> float | None:
    digits = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    return float(digits) if digits.isdigit() else None


def test_a_group_of_20_contracts_or_more_is_never_labelled_n_lt_20(pages):
    """« n < 20 » says a group is small: a hidden cell of a larger group (secondary suppression)
    reads « secret », like every hidden cell of a rate table."""
    for uai, page in pages.items():
        for table_id in re.findall(r'<figure class="table" id="([^"]+)"', page):
            head, rows = table_rows(page, table_id)
            counts = [i for i, h in enumerate(head) if "contrats observés" in h.lower()]
            for r in rows:
                if not any(re.fullmatch(r"n\s*<\s*\d+", c) for c in r):
                    continue
                shown = [_number(r[i]) for i in counts if i < len(r)]
                assert all(v is None or v < 20 for v in shown), (uai, table_id, r)


def test_the_cfa_is_highlighted_in_the_funnel_plot_and_its_forecast_is_shown(pages):
    """The CFA of a CFA report is drawn apart (a diamond) in the funnel plot when its rate is
    published; a CFA whose rate is secret is not drawn at all, and its report says so."""
    for uai, page in pages.items():
        funnel = sections_of(page)["par-cfa"]
        block = re.search(r'<figure class="chart" id="fig-cfa-funnel">(.*?)</figure>', funnel, flags=re.S)
        assert block
        if not uai:
            assert '"diamond"' not in block.group(1)
            continue
        _, rows = table_rows(page, "tab-cfa-funnel")
        (row,) = [r for r in rows if r[0].endswith(f"({uai})")]
        published = row[1] != "secret"
        assert ('"diamond"' in block.group(1)) == published, uai
        assert published or "n'est pas publié (secret statistique)" in text_of(funnel)
        _, months = table_rows(page, "tab-prevision")
        assert len(months) == 12, uai


def test_the_departement_report_says_how_many_ruptures_to_expect_in_each_cfa(pages):
    """The département's mediation table by CFA: one row per CFA, and each CFA's 12-month total is the
    sum of the months its own report shows (one model, detailed by CFA)."""
    _, rows = table_rows(pages[""], "tab-prevision-cfa")
    assert len(rows) >= 5

    def num(text: str) -> float:
        return float(re.sub(r"[\s\u202f\xa0]", "", text).replace(",", "."))

    totals = {r[0]: num(r[1]) for r in rows}
    for uai, page in pages.items():
        if not uai:
            continue
        head, months = table_rows(page, "tab-prevision")
        col = head.index("Ruptures attendues")
        (name,) = [n for n in totals if n.endswith(f"({uai})")]
        month_sum = sum(num(m[col]) for m in months)
        assert totals[name] == pytest.approx(month_sum, abs=0.1 * len(months) + 0.1), uai
