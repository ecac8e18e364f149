"""« L'essentiel », the glossary with its hover terms, and the question under each section title.

The sentences are checked against numbers recomputed here from the counts of ``ctx.results`` (not read
from the tables' rate columns the section formats); the rendered page is the shared end-to-end build
(:func:`tests.report_fakes.build_sample_reports`, the ``built`` fixture).
"""

from __future__ import annotations

import dataclasses
import html
import math
import re

import pandas as pd
import pytest

from aioa_analysis.core.formatting import fr_number, fr_percent
from aioa_analysis.reporting import sections
from aioa_analysis.reporting.findings import evidence_of
from aioa_analysis.reporting.sections import QUESTIONS, SECTIONS, essentiel, glossaire, terms
from aioa_analysis.reporting.sections.context import ReportContext
from tests.report_fakes import CFAS, write_fake_inputs

TERM_LINK = re.compile(r'<abbr class="term" title="[^"]+"><a href="#(glossaire-[^"]+)">([^<]+)</a></abbr>')


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    return write_fake_inputs(tmp_path_factory.mktemp("fake-essentiel"))


@pytest.fixture(scope="module")
def ctx(fake_data) -> ReportContext:
    return sections.prepare_report(data_file=str(fake_data), horizon=9)


@pytest.fixture(scope="module")
def cfa_ctx(fake_data) -> ReportContext:
    return sections.prepare_report(data_file=str(fake_data), horizon=9, cfa=CFAS[0])


def _text(fragment: str) -> str:
    """The reader's text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


# --- the sentences' numbers --------------------------------------------------------------------------


def test_main_rate_interval_and_comparisons_are_the_results(ctx):
    ov = ctx.results.overall.iloc[0]
    k, n = int(ov["n_ruptures"]), int(ov["n_contracts"])
    lo, hi = _wilson(k, n)
    text = _text(essentiel.essentiel_html(ctx))
    assert (
        f"Sur les {fr_number(n)} contrats commencés depuis au moins 9 mois, {fr_percent(k / n)} ont été rompus"
        in text
    )
    assert f"IC 95 % : {fr_percent(lo)} à {fr_percent(hi)}" in text
    ref = ctx.results.references
    ref = ref[(ref["indicator"] == "rupture_rate") & (ref["dimension"] == "overall")]
    ref = (
        ref[ref["horizon_months"].astype(str) == "9"]
        .sort_values("year")
        .drop_duplicates("geography", keep="last")
    )
    assert len(ref) >= 2  # France and Centre-Val de Loire
    sentence = next(s for s in essentiel.sentences(ctx) if s.startswith("Ce taux"))
    for geo, year, value in zip(ref["geography"], ref["year"], ref["value"], strict=True):
        named = f"{geo} ({fr_percent(value)} en {year})"
        assert named in _text(sentence)
        before = _text(sentence).split(named)[0]
        last_clause = before.split(";")[-1]
        if lo > value:
            assert "plus élevé que" in last_clause and "s'écarte pas" not in last_clause
        elif hi < value:
            assert "plus bas que" in last_clause and "s'écarte pas" not in last_clause
        else:
            assert "ne s'écarte pas nettement de" in last_clause and "est ne" not in _text(sentence)


@pytest.mark.parametrize(
    ("low", "high", "ref", "expected"),
    [
        (0.20, 0.25, 0.19, "plus élevé que"),
        (0.20, 0.25, 0.26, "plus bas que"),
        (0.20, 0.25, 0.20, "ne s'écarte pas"),
        (0.20, 0.25, 0.25, "ne s'écarte pas"),
    ],
)
def test_higher_or_lower_only_when_the_interval_excludes_the_reference(low, high, ref, expected):
    sentence = essentiel.comparison_sentence(low, high, [("celui de la France (x)", ref)])
    assert expected in sentence
    for other in {"plus élevé que", "plus bas que", "ne s'écarte pas"} - {expected}:
        assert other not in sentence


def test_first_45_days_when_after_and_diploma_are_the_results(ctx):
    res, text = ctx.results, _text(essentiel.essentiel_html(ctx))
    ph = res.phases.set_index("phase")["n_ruptures"]
    assert (
        f"{fr_percent(ph['0-45j'] / ph.sum())} des ruptures observées ont lieu dans les 45 premiers jours"
        in text
    )
    # half of the first year's ruptures: the first month whose cumulative incidence reaches half of month 12's
    curve = res.cif.loc[~res.cif["suppressed"].astype(bool)].set_index("month")["rate"]
    last = min(12, int(curve.index.max()))
    month = next(m for m in curve.index if curve[m] >= curve[last] / 2)
    assert (
        f"dans les {month} premiers mois ({fr_percent(curve[month])} des contrats rompus à {month} mois"
        in text
    )
    rc = res.recontract.set_index("window_days").loc[180]
    assert (
        f"{fr_percent(rc['n_recontracted'] / rc['n_ruptures'])} des contrats rompus sont suivis d'un nouveau"
        in text
    )
    ps = res.pass_rates.set_index("outcome_class")
    done = ps.loc["completed"]
    assert (
        f"À l'examen, {fr_percent(done['n_admis'] / done['n_exam'])} des apprentis dont le contrat est allé"
        in text
    )
    broken = ps.loc["ruptured_no_new_contract"]
    assert (
        f"{fr_percent(broken['n_admis'] / broken['n_exam'])} après une rupture sans nouveau contrat" in text
    )
    assert 5 <= len(essentiel.sentences(ctx)) <= 8


def test_a_hidden_rate_is_not_written(ctx, monkeypatch):
    """A rate the family's pattern hides: no number, the secret statistique said instead."""
    from aioa_analysis.reporting.sections import publication as RP

    ov = ctx.results.overall.assign(suppressed=True)
    monkeypatch.setattr(RP, "published_overall", lambda c: ov)
    first = _text(essentiel.rate_sentences(ctx)[0])
    assert "n'est pas publié" in first and "secret statistique" in first
    assert fr_percent(ctx.results.overall["rate"].iloc[0]) not in first


# --- points de vigilance -----------------------------------------------------------------------------


def test_every_alert_is_written_with_its_numbers_and_a_link(ctx):
    v = ctx.results.vigilance
    alerts = v[v["alert"].astype(bool)]
    assert len(alerts), "the fake table has a riskier CFA and a summer effect: some alerts are expected"
    page = essentiel.vigilance_html(ctx)
    text = _text(page)
    assert f"Points de vigilance : {len(alerts)}" in text
    items = re.findall(r"<li>(.*?)</li>", page.split('<ul class="points">')[1])
    for r in alerts.itertuples(index=False):
        number = fr_number(r.value, 2) if r.kind in ("cfa_casemix", "summer_ratio") else fr_percent(r.value)
        anchor = evidence_of(str(r.dimension))
        assert any(number in _text(i) and f'href="#{anchor}"' in i for i in items), r.sentence


def test_no_point_de_vigilance_says_so_and_names_the_test(ctx):
    quiet = ctx.results.vigilance.assign(alert=False)
    calm = dataclasses.replace(ctx, results=dataclasses.replace(ctx.results, vigilance=quiet))
    text = _text(essentiel.vigilance_html(calm))
    assert "Points de vigilance : aucun." in text and "Holm" in text and fr_percent(0.05, 0) in text
    assert "<li>" not in essentiel.vigilance_html(calm)


# --- a CFA report ------------------------------------------------------------------------------------


def test_a_cfa_report_speaks_of_its_cfa_with_the_departement_beside(ctx, cfa_ctx):
    mine, dept = essentiel.essentiel_html(cfa_ctx), essentiel.essentiel_html(ctx)
    assert mine != dept
    assert html.escape(cfa_ctx.cfa_label) in mine and html.escape(cfa_ctx.cfa_label) not in dept
    ov, d = cfa_ctx.results.overall.iloc[0], ctx.results.overall.iloc[0]
    text = _text(mine)
    assert f"{fr_percent(ov['n_ruptures'] / ov['n_contracts'])} ont été rompus" in text
    assert f"celui du département ({fr_percent(d['n_ruptures'] / d['n_contracts'])})" in text
    record = cfa_ctx.results.vigilance.query("dimension == 'cfa'").iloc[0]
    if record["kind"] == "cfa_casemix":
        assert f"{fr_number(record['value'], 2)} fois celui des autres CFA" in text


# --- glossary, terms, questions ----------------------------------------------------------------------


def test_every_term_used_links_to_a_glossary_entry_that_defines_it(ctx, cfa_ctx):
    glossary = glossaire.glossary_html(9, 20)
    used = TERM_LINK.findall(essentiel.essentiel_html(ctx) + essentiel.essentiel_html(cfa_ctx))
    assert len({a for a, _ in used}) >= 5
    for target, shown in used:
        assert f'<dt id="{target}">' in glossary, shown
        assert terms.anchor(terms.lookup(html.unescape(shown)).key) == target
    for entry in terms.GLOSSARY:
        assert entry.definition and entry.hover and f'id="{terms.anchor(entry.key)}"' in glossary


def test_a_listed_term_missing_from_its_text_is_an_error():
    with pytest.raises(ValueError, match="not found"):
        terms.with_terms("Un texte sans le mot.", ["contrats-mois"])
    with pytest.raises(KeyError):
        terms.term("mot inconnu")
    out = terms.with_terms("Taux < 20 % en contrats-mois (IC 95 %).", ["contrats-mois", "IC 95 %"])
    assert out.startswith("Taux &lt; 20 % en <abbr") and len(TERM_LINK.findall(out)) == 2


def test_every_section_opens_with_its_question():
    for anchor, _ in SECTIONS:
        question = QUESTIONS.get(anchor, "")
        assert question.endswith("?"), anchor
        assert (
            f'<p class="question">{html.escape(question, quote=False)}</p>'
            in sections.layout.heading_html(anchor)
        )
    assert SECTIONS[0][0] == "essentiel"
    order = [a for a, _ in SECTIONS]
    assert order.index("glossaire") == order.index("methodologie") - 1


# --- the rendered département report -----------------------------------------------------------------


def _page(built) -> str:
    return built["result"].html_path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_essentiel_comes_first_after_the_header(built):
    page = _page(built)
    after_nav = page.split("</nav>", 1)[1]
    assert after_nav.lstrip().startswith('<section class="essentiel"')
    first_h2 = re.search(r'<h2 id="([^"]+)"', page)
    assert first_h2 and first_h2.group(1) == "essentiel"
    section = after_nav.split("</section>", 1)[0]
    assert re.search(r"\n<h2 id=\"synthese\"", after_nav.split("</section>", 1)[1][:200])
    assert "Points de vigilance" in section and "IC 95" in section


@pytest.mark.slow
def test_every_link_of_essentiel_and_every_term_lands_on_an_anchor_of_the_page(built):
    page = _page(built)
    section = page.split('<section class="essentiel"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'href="#([^"]+)"', section)
    assert links
    for anchor in links:
        assert f'id="{anchor}"' in page, anchor
    points = section.split('<ul class="points">')[1] if '<ul class="points">' in section else ""
    assert points.count("<li>") == points.count('class="voir"')  # one evidence link per item
    used = TERM_LINK.findall(page)
    assert {a for a, _ in used} >= {
        "glossaire-intervalle",
        "glossaire-contrats-mois",
        "glossaire-aalen-johansen",
    }
    for target, _ in used:
        assert f'<dt id="{target}">' in page, target


@pytest.mark.slow
def test_every_section_title_is_followed_by_its_question(built):
    page = _page(built)
    for anchor, _ in SECTIONS:
        assert re.search(rf'<h2 id="{anchor}">[^<]+</h2><p class="question">[^<]+\?</p>', page), anchor


def test_vigilance_points_ignore_notes_and_keep_the_record_order(ctx):
    points = essentiel.vigilance_points(ctx)
    v = ctx.results.vigilance
    expected = v[v["alert"].astype(bool)][["dimension", "group"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(points[["dimension", "group"]], expected)
