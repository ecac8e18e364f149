"""Report parameters, template, HTML export, atomic writes, determinism and the absence of personal data.

The end-to-end tests share ONE build (synthetic sample -> ``aioa clean`` -> département report,
rendered twice for the determinism check): see :func:`tests.report_fakes.build_sample_reports`.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from aioa_analysis import cli
from aioa_analysis.core import referential
from aioa_analysis.core.errors import ConfigError, ParameterError, ReportError
from aioa_analysis.reporting import display, runner, sections
from aioa_analysis.reporting.parameters import PARAMETERS, is_sample, template_parameters, validate_parameters
from aioa_analysis.reporting.sections import SECTIONS, labels, layout, provenance, qualite, synthese
from aioa_analysis.reporting.sections.methodologie import markdown_html, methodology_markdown
from tests.report_fakes import AS_OF, CFAS, N_CHARTS, write_fake_inputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory) -> Path:
    return write_fake_inputs(tmp_path_factory.mktemp("fake"))


# --- parameters ---------------------------------------------------------------------------------


def test_defaults_and_as_of_from_quality_json(fake_data):
    p = validate_parameters({"data_file": str(fake_data)})
    assert p["as_of"] == AS_OF  # recorded by `aioa clean` in quality.json
    assert p["horizon"] == 9 and p["min_n"] == 20 and p["cfa"] == ""
    assert set(p) == set(PARAMETERS)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"horizn": 6}, "unknown report parameter 'horizn' — valid parameters: as_of, cfa, cohorts"),
        ({"horizon": "neuf"}, "report parameter horizon must be an integer, got 'neuf'"),
        ({"horizon": 9.5}, "report parameter horizon must be an integer, got 9.5 (float)"),
        ({"horizon": True}, "report parameter horizon must be an integer"),
        ({"title": 3}, "report parameter title must be a text"),
        ({"as_of": "30/11/2025"}, "as_of='30/11/2025' is not a date — use the form YYYY-MM-DD"),
        ({"as_of": "2025-02-30"}, "as_of='2025-02-30' is not a date"),
        ({"meeting_date": "demain"}, "meeting_date='demain' is not a date"),
        ({"horizon": 0}, "horizon=0 is out of range"),
        ({"min_n": 0}, "min_n=0 must be at least 1"),
        ({"sample": "peut-être"}, "choose among: auto, oui, non"),
        ({"territory": "paris"}, "unknown territory 'paris' — valid territories: ml_blois"),
        ({"cohorts": "2024"}, "cohort '2024' is not a school year"),
        ({"cohorts": "2024-2026"}, "cohort '2024-2026' is not a school year"),
    ],
)
def test_invalid_parameters_one_line(params, message):
    with pytest.raises(ParameterError) as exc:
        validate_parameters(params, check_data=False)
    text = str(exc.value)
    assert message in text
    assert "\n" not in text


def test_unknown_cfa_lists_the_valid_ones(fake_data):
    with pytest.raises(ParameterError) as exc:
        validate_parameters({"data_file": str(fake_data), "cfa": "0419999Z"})
    assert "unknown CFA '0419999Z'" in str(exc.value)
    assert ", ".join(sorted(CFAS)) in str(exc.value)


def test_cfa_is_normalised_and_cohort_checked_against_data(fake_data):
    p = validate_parameters({"data_file": str(fake_data), "cfa": CFAS[0].lower(), "cohorts": ["2023-2024"]})
    assert p["cfa"] == CFAS[0] and p["cohorts"] == "2023-2024"
    with pytest.raises(ParameterError, match=r"absent from contracts\.parquet — valid cohorts: 2021-2022"):
        validate_parameters({"data_file": str(fake_data), "cohorts": "2010-2011"})


def test_missing_data_file_and_missing_as_of(tmp_path):
    with pytest.raises(ParameterError, match="does not exist — run `aioa clean` first"):
        validate_parameters({"data_file": str(tmp_path / "none.parquet")})
    path = write_fake_inputs(tmp_path)
    (tmp_path / "quality.json").unlink()
    with pytest.raises(ParameterError, match=r"as_of is empty and .* records none — pass --as-of"):
        validate_parameters({"data_file": str(path)})


def test_is_sample_reads_quality_json():
    assert is_sample({"sample_used": True}) is True
    assert is_sample({"sample_used": False}) is False
    assert is_sample({"sample_used": True}, "non") is False


# --- template and notebooks -----------------------------------------------------------------------


def test_template_declares_exactly_the_parameters_with_defaults_and_help():
    template = runner.default_template()
    assert template.is_file(), "the template must be package data"
    declared = template_parameters(template)
    assert list(declared) == list(PARAMETERS)
    assert declared == {k: p.default for k, p in PARAMETERS.items()}
    nb = nbformat.read(str(template), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for line in cell.source.splitlines():
        assert "  # " in line, f"parameter line without a help comment: {line}"


def test_template_cells_are_thin():
    nb = nbformat.read(str(runner.default_template()), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            # one statement per cell: an import or one library call
            assert len(__import__("ast").parse(cell.source).body) == 1, cell.source


def test_wrong_parameter_fails_before_any_kernel_starts(fake_data, monkeypatch, tmp_path):
    import papermill

    def no_kernel(*args, **kwargs):
        raise AssertionError("papermill was called: validation came too late")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    for bad in ({"horizn": 3}, {"cfa": "0419999Z"}, {"as_of": "2025-13-01"}, {"min_n": "vingt"}):
        with pytest.raises(ParameterError):
            runner.render_report({"data_file": str(fake_data), **bad}, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_cli_wrong_parameter_exit_2_one_line(fake_data, capsys, tmp_path):
    code = cli.main(["report", "--data", str(fake_data), "--out", str(tmp_path), "-p", "cfa=0419999Z"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("aioa report : erreur : unknown CFA '0419999Z'") and CFAS[0] in err
    assert not list(tmp_path.iterdir())


def test_cli_config_file(fake_data, tmp_path, monkeypatch):
    from aioa_analysis.commands import report as cmd

    cfg = tmp_path / "rapport.toml"
    cfg.write_text(
        'out = "sortie"\nper_cfa = true\n[report]\nhorizon = 6\ntitle = "Plénière"\n', encoding="utf-8"
    )
    args = cli.build_parser().parse_args(
        ["report", "--config", str(cfg), "--data", str(fake_data), "-p", "min_n=30"]
    )
    params, options = cmd.collect_parameters(args)
    assert params == {"horizon": 6, "title": "Plénière", "min_n": "30", "data_file": str(fake_data)}
    assert options == {"out": "sortie", "per_cfa": True}
    assert validate_parameters(params)["min_n"] == 30
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        cmd.read_config(bad)


def test_markdown_is_escaped_and_headings_shifted():
    out = markdown_html("# Méthode\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h3>Méthode</h3>" in out and "<script>" not in out and "<table>" in out
    assert "<thead>" in out  # a real header row is kept


def test_markdown_table_with_empty_header_has_no_header_row():
    out = markdown_html("| | |\n|---|---|\n| **Unité** | le contrat |\n")
    assert "<thead>" not in out and "<th" not in out and "<td><strong>Unité</strong></td>" in out


def test_methodology_annex_is_french_for_the_reader():
    text = methodology_markdown()
    assert text is not None
    body, sep, appendix = text.partition("## Correspondance technique")
    assert sep, "the technical appendix is clearly separated, at the very end"
    assert "## " not in appendix.split("\n", 1)[1]  # nothing after it
    # no code identifier, option or internal file reference in the reader's part
    assert not re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", body)
    assert "`" not in body and "--" not in body.replace("---", "") and "DOMAIN.md" not in body
    # cleaning EXCLUDES a contract whose rupture is dated before its start (rejected.csv)
    assert "compte comme une rupture le jour du début" not in body
    assert "écarté au nettoyage" in body
    # the CSS makes the shifted sub-headings (### -> h5) no smaller than the body text
    css = display.stylesheet()
    assert re.search(r"\.method h5 \{ font-size: 1\.0[2-9]rem", css)


def test_check_offline_rejects_network_references():
    for bad in (
        '<script src="https://cdn.plot.ly/plotly-2.js"></script>',
        '<link rel="stylesheet" href="x.css">',
        '<script src="require.js"></script>',
        '<img src="https://example.org/x.png">',
    ):
        with pytest.raises(ReportError, match="network"):
            display.check_offline(f"<html>{bad}</html>")


# --- report content on a small fake table ---------------------------------------------------------


@pytest.fixture(scope="module")
def ctx(fake_data):
    return sections.prepare_report(data_file=str(fake_data), horizon=9)


def test_results_come_from_one_pure_function_and_the_context_is_frozen(ctx):
    dept = ctx.departement.copy()
    again = sections.compute_results(
        ctx.contracts,
        ctx.departement,
        as_of=ctx.as_of,
        horizon=ctx.horizon,
        min_n=ctx.min_n,
        cfa_labels=ctx.results.cfa_labels,
        n_table_rows=ctx.results.n_table_rows,
    )
    pd.testing.assert_frame_equal(ctx.departement, dept)  # the input is not touched
    for f in dataclasses.fields(sections.ReportResults):
        mine, theirs = getattr(ctx.results, f.name), getattr(again, f.name)
        if isinstance(mine, pd.DataFrame):
            pd.testing.assert_frame_equal(mine, theirs, obj=f.name)
        else:
            assert repr(mine) == repr(theirs), f.name
    assert isinstance(ctx.findings, tuple) and ctx.findings
    for obj, name in ((ctx, "params"), (ctx.results, "overall")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)


def test_a_cfa_report_describes_its_cfa_and_compares_it_with_every_cfa(fake_data, ctx):
    one = sections.prepare_report(data_file=str(fake_data), horizon=9, cfa=CFAS[0])
    assert set(one.contracts["cfa_uai"].astype(str)) == {CFAS[0]}
    assert len(one.departement) == len(ctx.departement)
    pd.testing.assert_frame_equal(one.results.funnel, ctx.results.funnel)
    assert one.results.overall["n_contracts"].iloc[0] < ctx.results.overall["n_contracts"].iloc[0]
    cfa_rows = one.results.vigilance.loc[one.results.vigilance["dimension"] == "cfa", "group"]
    assert set(cfa_rows) <= {CFAS[0]}  # a CFA report speaks of its own CFA only
    # ... with the p-values adjusted over the whole family: the same records as the département's
    dept = ctx.results.vigilance
    pd.testing.assert_frame_equal(
        one.results.vigilance,
        dept[(dept["dimension"] != "cfa") | (dept["group"] == CFAS[0])].reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(one.results.cfa_casemix, ctx.results.cfa_casemix)


def test_vigilance_records_are_those_of_aioa_vigilance(ctx, fake_data):
    from aioa_analysis.stats.vigilance import vigilance_findings

    pd.testing.assert_frame_equal(ctx.results.vigilance, vigilance_findings(ctx.departement, as_of=ctx.as_of))
    one = sections.prepare_report(data_file=str(fake_data), horizon=9, cfa=CFAS[1])
    pd.testing.assert_frame_equal(
        one.results.vigilance, vigilance_findings(one.departement, as_of=one.as_of, cfa=CFAS[1])
    )
    assert ctx.findings == tuple(ctx.results.vigilance.to_dict("records"))


def test_the_adjusted_cfa_chart_shows_the_vigilance_numbers(ctx):
    cm, f = ctx.results.cfa_casemix, ctx.results.vigilance
    rows = f[f["dimension"] == "cfa"].set_index("group")
    mine = cm.set_index("cfa").loc[rows.index]
    np.testing.assert_allclose(mine["value"], rows["value"])
    assert (mine["alert"] == rows["alert"]).all()
    assert (mine["comparable"] == rows["kind"].eq("cfa_casemix")).all()
    assert mine.loc[~mine["comparable"], "value"].isna().all()  # a non comparable CFA has no ratio


def test_one_count_of_ruptures_after_the_diploma(ctx):
    res = ctx.results
    from aioa_analysis.stats.outcomes import OUTCOME, with_outcome

    started = ctx.contracts[ctx.contracts["start_date"] <= ctx.as_of]
    truth = int(with_outcome(started, as_of=ctx.as_of)[OUTCOME].eq("ruptured_after_diploma").sum())
    assert res.n_after_diploma == truth
    phase = res.phases.loc[res.phases["phase"] == "apres_diplome", "n_ruptures"]
    assert int(phase.iloc[0]) == truth  # the « Après le diplôme » row of the phases table
    cards = " ".join(synthese.key_figures(ctx))
    assert re.search(
        rf">{truth}</span><span class=\"label\">ruptures après l&#x27;obtention du diplôme", cards
    )


def test_whole_contract_card_is_aalen_johansen_with_its_interval(ctx):
    from aioa_analysis.stats.competing import whole_contract_rates

    w = ctx.results.whole
    pd.testing.assert_frame_equal(w, whole_contract_rates(ctx.contracts, as_of=ctx.as_of, min_n=ctx.min_n))
    assert w["estimator"].iloc[0] == "aalen-johansen"
    card = next(c for c in synthese.key_figures(ctx) if "avant leur fin prévue" in c)
    assert "Aalen-Johansen" in card and "IC 95" in card and "Kaplan" not in card
    # the monthly curve ends on the same estimator: its last published value is below the card's
    cif = ctx.results.cif
    shown = cif.loc[~cif["suppressed"]]
    assert (shown["n_at_risk"] >= ctx.min_n).all() and shown["rate"].is_monotonic_increasing
    assert float(shown["rate"].iloc[-1]) <= float(w["rate"].iloc[0]) + 1e-12


def test_cif_by_month_equals_the_share_broken_without_censoring():
    from aioa_analysis.reporting.sections.results import cif_by_month

    # every contract has reached its planned end: the curve is the plain share broken by month m
    t = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2022-01-01"] * 4),
            "planned_end_date": pd.to_datetime(["2023-01-01"] * 4),
            "rupture_date": pd.to_datetime(["2022-01-20", "2022-03-15", None, None]),
        }
    )
    out = cif_by_month(t, as_of=pd.Timestamp("2024-06-30"), max_months=4, min_n=0)
    assert out["rate"].tolist() == [0.0, 0.25, 0.25, 0.5, 0.5]
    assert out["cum_ruptures"].tolist() == [0, 1, 1, 2, 2]
    assert out["n_at_risk"].tolist() == [4, 3, 3, 2, 2]
    small = cif_by_month(t, as_of=pd.Timestamp("2024-06-30"), max_months=4, min_n=3)
    assert small["suppressed"].tolist() == [False, False, False, True, True]


def test_pass_rate_counts_absentees_in_the_denominator(ctx):
    ps = ctx.results.pass_rates
    assert (ps["n_exam"] == ps["n_admis"] + ps["n_ajourne"] + ps["n_absent"]).all()


def test_summer_effect_is_stats_summer_worded_as_a_range(ctx):
    from aioa_analysis.reporting.sections.par_periode import summer_sentence
    from aioa_analysis.stats.summer import summer_effect

    s = ctx.results.summer.iloc[0]
    assert s.to_dict() == pytest.approx(summer_effect(ctx.contracts, as_of=ctx.as_of), nan_ok=True)
    text = summer_sentence(ctx.results.summer)
    if text:
        assert " à " in text and "fin de l'année de formation" in text and "comptées à part" in text


@pytest.mark.slow
def test_committed_sample_vigilance_does_not_name_cma_41(tmp_path, monkeypatch):
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.reporting.sections.vigilance import show_vigilance
    from aioa_analysis.stats.vigilance import vigilance_findings

    monkeypatch.setenv("AIOA_KEY_FILE", str(tmp_path / "pseudonym.key"))
    run_clean([ROOT / "data" / "raw" / "sample"], out_dir=tmp_path / "p", restricted_dir=tmp_path / "r")
    data = tmp_path / "p" / "contracts.parquet"
    ctx = sections.prepare_report(data_file=str(data), as_of="2025-11-30")
    expected = vigilance_findings(pd.read_parquet(data), as_of="2025-11-30")
    pd.testing.assert_frame_equal(ctx.results.vigilance, expected)
    shown: list[str] = []
    monkeypatch.setattr("aioa_analysis.reporting.sections.vigilance.show_html", shown.append)
    monkeypatch.setattr("aioa_analysis.reporting.sections.layout.show_html", lambda *_: None)
    show_vigilance(ctx)
    points = shown[0].split("<h3>")[0]  # the alerts, before the informative notes
    assert "0410590U" not in points and "CMA 41" not in points
    assert '<li class="alerte">' in points or '<li class="attention">' in points
    alerts = ctx.results.vigilance.loc[ctx.results.vigilance["alert"]]
    assert not (alerts["dimension"] == "cfa").any()


def test_order_groups_by_rate_with_unknown_last_and_hidden_rates_not_ranked():
    t = pd.DataFrame(
        {
            "sector": ["commerce", "inconnu", "construction", "coiffure", "batiment"],
            "label": ["Commerce", "inconnu", "Construction", "Coiffure", "Bâtiment"],
            "rate": [0.20, 0.50, 0.30, 0.90, 0.10],
            "suppressed": [False, False, False, True, True],
        }
    )
    out = labels.order_groups(t, "sector")
    # published rates first, highest first; hidden ones by name (their rate would leak otherwise)
    assert out["label"].tolist() == ["Construction", "Commerce", "Bâtiment", "Coiffure", "Non renseigné"]
    assert out["rate"].tolist() == [0.30, 0.20, 0.10, 0.90, 0.50]  # values untouched


@pytest.mark.parametrize(
    ("dim", "values", "expected"),
    [
        (
            "employer_size",
            ["250+", "10-49", "0-4", "inconnu", "50-249", "5-9"],
            ["0-4", "5-9", "10-49", "50-249", "250+", "inconnu"],
        ),
        ("age_band", ["26+", "18-19", "15-17", "20-25"], ["15-17", "18-19", "20-25", "26+"]),
        ("diploma_level", ["7", "inconnu", "10", "3", "5"], ["3", "5", "7", "10", "inconnu"]),
        ("cohort", ["2024-2025", "2022-2023", "2023-2024"], ["2022-2023", "2023-2024", "2024-2025"]),
    ],
)
def test_order_groups_natural_orders(dim, values, expected):
    t = pd.DataFrame({dim: values, "rate": [0.1 * (i + 1) for i in range(len(values))]})
    assert labels.order_groups(t, dim)[dim].tolist() == expected


def test_references_sorted_by_indicator_then_france_then_recent_year():
    ref = synthese.sort_references(referential.reference_rates().query("dimension == 'overall'"), horizon=9)
    rr = ref.loc[ref["indicator"] == "rupture_rate"]
    assert rr[["geography", "year", "horizon_months"]].astype(str).values.tolist()[:6] == [
        ["France", "2022", "9"],
        ["France", "2020", "9"],
        ["France", "2019", "9"],
        ["France", "2018", "9"],
        ["Centre-Val de Loire", "2022", "9"],
        ["France", "2022", "6"],
    ]
    assert ref["indicator"].iloc[0] == "rupture_rate" and ref["indicator"].iloc[-1] == "recontract_share_180d"


def test_reasons_and_sources_in_french():
    assert (
        qualite.reason_label("excluded: rupture before start")
        == "Exclu : rupture datée avant le début du contrat"
    )
    assert qualite.reason_label("excluded: statut DECA Supprimé") == "Exclu : statut DECA « Supprimé »"
    assert qualite.reason_label("no CFA and no diploma") == "Ni CFA ni diplôme renseigné"
    assert qualite.reason_label("nombre de champs : 3 au lieu de 5") == "Nombre de champs : 3 au lieu de 5"
    assert [
        labels.source_label(p)
        for p in ("deca_extract", "deca_api", "tba_upload", "sifa", "chamber", "exam_results")
    ] == [
        "Extraction DECA",
        "API DECA",
        "Tableau de bord (téléversement)",
        "SIFA",
        "Tableur chambre consulaire",
        "Résultats d'examen",
    ]


def test_quality_table_keeps_the_accounting_identity_per_file_and_in_total(ctx):
    t = qualite.quality_files_table(ctx.quality).map(lambda v: v.replace("\u202f", ""))
    n = ctx.quality["contracts"]["n_contracts"]
    assert t["Fichier"].tolist() == [
        "Export_Init_TBA_202511300600.csv",
        "resultats_examens_20251130.csv",
        "Total",
    ]
    assert t["Source"].tolist()[:2] == ["Extraction DECA", "Résultats d'examen"]
    assert t.iloc[2, 2:6].tolist() == [str(n + 52), str(n + 40), "9", "3"]  # 52 = 12 + 40 exam lines
    assert set(t.iloc[:, -1]) == {"✓ égalité vérifiée"}
    broken = {**ctx.quality, "files": [{**ctx.quality["files"][0], "rows_merged": 10}]}
    assert qualite.quality_files_table(broken).iloc[0, -1] == "écart de -1"
    rej = qualite.rejections_table(ctx.quality)
    assert rej["Motif"].tolist() == ["Date impossible", "Ni CFA ni diplôme renseigné"]
    assert rej["Total"].tolist() == ["2", "1"]


def test_provenance_lists_input_file_hashes_and_readable_parameters(ctx):
    files = provenance.provenance_files(ctx)
    assert files["Fichier"].tolist() == [
        "contracts.parquet",
        "quality.json",
        "Export_Init_TBA_202511300600.csv",
        "resultats_examens_20251130.csv",
    ]
    assert files["Empreinte SHA-256"].tolist()[2:] == ["0" * 64, "e" * 64]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in files["Empreinte SHA-256"])
    assert files["Rôle"].tolist()[2] == "Fichier source : Extraction DECA"
    params = dict(provenance.parameter_rows(ctx))
    assert params["Date d'observation"] == "30/11/2025"
    assert params["Table des contrats"] == "contracts.parquet"  # a file name, not an absolute path
    assert params["Horizon du taux de rupture"] == "9 mois"
    assert params["CFA"] == "tous (rapport départemental)"
    assert not any(re.search(r"\b[a-z]+_[a-z_]+\b|/", k) for k in params)


def test_cohort_without_observable_contract_says_so(ctx):
    coh = ctx.results.by_cohort
    assert (coh["n_contracts"] == 0).any(), "the fake data has a cohort too recent for 9 months"
    html = layout.rate_table(
        coh.assign(label=coh["cohort"].astype(str)),
        "Année",
        table_id="t",
        caption="c",
        ctx=ctx,
        not_observable=True,
    )
    recent = re.search(r"<tr><td>2025-2026</td>(.*?)</tr>", html).group(1)
    assert "pas encore observable" in recent and "n &lt; 20" not in recent


def test_family_table_carries_the_national_cap_reference(ctx):
    assert layout.category_references(ctx, "diploma_family")["CAP"] == pytest.approx(0.293)
    assert layout.category_references(ctx, "sector")["hebergement_restauration"] == pytest.approx(0.36)


def test_rupture_by_exam_result_is_computed_with_intervals(ctx):
    bo = ctx.results.by_outcome
    assert {"diploma_outcome", "n_contracts", "n_ruptures", "rate", "ci_low", "ci_high", "suppressed"} <= set(
        bo.columns
    )
    admis = bo.loc[bo["diploma_outcome"] == "admis"].iloc[0]
    assert admis["ci_low"] <= admis["rate"] <= admis["ci_high"]


def test_index_page_carries_the_sample_banner():
    assert "Données fictives" in runner.index_html(
        [("a.html", "A", "")], title="T", subtitle="S", sample=True
    )
    assert "Données fictives" not in runner.index_html([("a.html", "A", "")], title="T", subtitle="S")


# --- atomic writes ----------------------------------------------------------------------------------


def test_failed_run_keeps_the_last_good_reports(fake_data, tmp_path, monkeypatch):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "rapport-departement.html").write_text("GOOD", encoding="utf-8")
    (out / "index.html").write_text("GOOD INDEX", encoding="utf-8")
    calls = []

    def fake_render(params, html_path, **kwargs):
        calls.append(html_path)
        if len(calls) == 2:
            raise ReportError("boom in the second report")
        Path(html_path).write_text("NEW", encoding="utf-8")
        return runner.ReportResult(Path(html_path), None, 1, 3, 0.1, dict(params))

    monkeypatch.setattr(runner, "render_report", fake_render)
    with pytest.raises(ReportError, match="boom"):
        runner.render_reports({"data_file": str(fake_data)}, out, per_cfa=True)
    assert (out / "rapport-departement.html").read_text(encoding="utf-8") == "GOOD"
    assert (out / "index.html").read_text(encoding="utf-8") == "GOOD INDEX"
    assert sorted(p.name for p in out.iterdir()) == [".aioa", "index.html", "rapport-departement.html"]
    assert not any((out / ".aioa" / "generations").iterdir())  # no staging left


def test_per_cfa_with_cfa_parameter_is_refused(fake_data, tmp_path):
    with pytest.raises(ParameterError, match="--per-cfa"):
        runner.render_reports({"data_file": str(fake_data), "cfa": CFAS[0]}, tmp_path, per_cfa=True)


# --- end to end: the département report built from the synthetic sample ---------------------------


def _page(built) -> str:
    return built["result"].html_path.read_text(encoding="utf-8")


def _without_plotly_js(page: str) -> str:
    return page.replace(display.embedded_plotly_js(), "")


@pytest.mark.slow
def test_report_is_one_offline_file_with_plotly_once(built):
    page = _page(built)
    assert page.count(display.embedded_plotly_js()) == 1
    rest = _without_plotly_js(page)
    assert not re.search(r"<script[^>]*\bsrc=", rest, re.I)
    assert "<link" not in rest.lower()
    for word in ("mathjax", "require.js", "cdn.", "googleapis", "jsdelivr", "unpkg"):
        assert word not in rest.lower(), word
    assert built["result"].size_bytes < 8_000_000
    assert (built["reports"] / "index.html").is_file()


@pytest.mark.slow
def test_report_has_no_code_and_no_prompts(built):
    rest = _without_plotly_js(_page(built))
    for code in (
        "prepare_report",
        "reporting.show_",
        "import ",
        "ctx =",
        "In [",
        "Out[",
        "jp-InputPrompt",
        "input_prompt",
    ):
        assert code not in rest, code


@pytest.mark.slow
def test_report_content_sections_french_formats_banner(built):
    page = _page(built)
    for anchor, title in SECTIONS:
        assert f'id="{anchor}"' in page and title in page
    assert '<div class="banner-sample" role="note">Données fictives' in page  # the sample was used
    index = (built["reports"] / "index.html").read_text(encoding="utf-8")
    assert '<div class="banner-sample" role="note">Données fictives' in index  # every page from the sample
    assert "29,3\u202f%" in page  # the national CAP reference, in the diploma-type table
    for anchor in (
        "fig-rupture-examen",
        "tab-rupture-examen",
        "tab-provenance-fichiers",
        "fig-diplome-famille",
    ):
        assert f'id="{anchor}"' in page, anchor
    assert "30/11/2025" in page and "11/12/2025" in page
    assert re.search(r"\d,\d\u202f%", page)  # 28,4 %
    assert re.search(r"\d\u202f\d{3}", page)  # 1 234
    assert not re.search(r">\s*\d+\.\d+\s*%", page)  # no English decimals before %
    # every finding links to an anchor that exists
    anchors = re.findall(r'<li class="(?:alerte|attention|information)">.*?href="#([^"]+)"', page)
    assert anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in page
    assert "Holm" in page and "Kaplan-Meier" not in page.split('id="glossaire"')[0]


@pytest.mark.slow
def test_provenance_lists_every_input_file_hash(built):
    page = _page(built)
    quality = json.loads((built["processed"] / "quality.json").read_text(encoding="utf-8"))
    assert quality["files"]
    for f in quality["files"]:
        assert f["sha256"] in page and Path(f["file"]).name in page
    assert str(built["processed"]) not in page  # file names, never absolute paths


@pytest.mark.slow
def test_no_code_identifier_in_reader_facing_text(built):
    page = _without_plotly_js(_page(built))
    visible = re.sub(r"<script.*?</script>|<style.*?</style>", "", page, flags=re.S)
    visible = visible.split("Correspondance technique")[0]  # the analysts' appendix closes the annex
    text = html.unescape(re.sub(r"<[^>]+>", " ", visible))
    files = {Path(f).stem for f in re.findall(r"[\w.-]+\.(?:csv|json|xlsx|parquet)", text)}
    identifiers = set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text)) - files
    assert not identifiers
    # hover labels: French decimal marks only (plotly separators) and no English words
    plots = " ".join(re.findall(r"Plotly\.newPlot\(.*?\)\s*\};", page, re.S))
    assert plots.count('"separators":", "') == N_CHARTS
    for word in ("Rate", "Count", "Month"):
        assert f'"{word}' not in plots


@pytest.mark.slow
def test_every_chart_has_its_table_next_to_it(built):
    page = _without_plotly_js(_page(built))
    blocks = re.findall(r'<figure class="(chart|table)" id="([^"]+)"', page)
    charts = [i for i, (kind, _) in enumerate(blocks) if kind == "chart"]
    assert len(charts) == built["result"].n_figures == display.count_figures([page]) == N_CHARTS
    for i in charts:
        assert i + 1 < len(blocks) and blocks[i + 1][0] == "table", (
            f"chart {blocks[i][1]} has no table after it"
        )


@pytest.mark.slow
def test_same_inputs_same_figures(built):
    def plots(page: str) -> list[str]:
        return re.findall(r"Plotly\.newPlot\(.*?\)\s*\};", _without_plotly_js(page), re.S)

    a, b = _page(built), built["again"].html_path.read_text(encoding="utf-8")
    assert plots(a) and plots(a) == plots(b)

    def stable(page: str) -> str:  # the generation time is the only non-deterministic bit
        return re.sub(r"<dt>Généré le</dt><dd>[^<]*</dd>", "", page)

    assert stable(a) == stable(b)


@pytest.mark.slow
def test_executed_notebook_keeps_charts_for_jupyterlab(built):
    nb = nbformat.read(str(built["result"].notebook_path), as_version=4)
    bundles = [
        o["data"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "data" in o
    ]
    plotly = [d for d in bundles if display.PLOTLY_MIME in d]
    assert len(plotly) == built["result"].n_figures
    assert all("text/html" in d for d in plotly)


def _identities(built) -> dict[str, set[str]]:
    store = next(Path(built["restricted"]).rglob("identities.parquet"))
    ident = pd.read_parquet(store)
    out: dict[str, set[str]] = {"names": set(), "dates": set(), "phones": set(), "emails": set()}
    for s, f in zip(ident["surname"], ident["first_name"], strict=True):
        if isinstance(s, str) and isinstance(f, str):
            out["names"] |= {f"{f} {s}", f"{s} {f}", f"{s.upper()} {f}", f"{f} {s.upper()}"}
    for d in ident["birth_date"].dropna():
        out["dates"] |= {d.strftime("%d/%m/%Y"), d.strftime("%Y-%m-%d")}
    for p in ident["phone"].dropna():
        digits = re.sub(r"\D", "", str(p))
        if len(digits) >= 9:
            out["phones"].add(digits[-9:])
    out["emails"] = {str(e).lower() for e in ident["email"].dropna() if "@" in str(e)}
    return out


@pytest.mark.slow
def test_no_personal_data_in_any_html(built):
    ids = _identities(built)
    assert all(ids.values()), "the sample must have identities to look for"
    pages = [p for p in Path(built["reports"]).rglob("*.html")] + [built["again"].html_path]
    for path in pages:
        text = _without_plotly_js(path.read_text(encoding="utf-8"))
        lower = text.lower()
        phones_in_page = {
            re.sub(r"\D", "", m)[-9:]
            for m in re.findall(r"(?:\+33[\s.]?|\b0)[1-9](?:[\s.\-]?\d{2}){4}\b", text)
        }
        assert not [n for n in ids["names"] if n in text], path.name
        assert not [d for d in ids["dates"] if d in text], path.name
        assert not [e for e in ids["emails"] if e in lower], path.name
        assert not (ids["phones"] & phones_in_page), path.name


@pytest.mark.slow
def test_render_time_is_reasonable(built):
    assert built["result"].seconds < 60


# --- family-wide suppression in the points de vigilance, forecast, accompaniment -----------------


def test_a_finding_on_a_hidden_cell_is_reworded_in_the_report_only(monkeypatch):
    from types import SimpleNamespace

    from aioa_analysis.reporting.sections import publication as RP

    v = pd.DataFrame(
        {
            "dimension": ["sector", "sector", "diploma_level"],
            "group": ["a", "b", "3"],
            "sentence": ["Secteur a : 40 %", "Secteur b : 20 %", "Niveau 3 : 30 %"],
            "alert": [True, True, False],
            "direction": ["above", "below", None],
            "p_value": [0.001, 0.002, 0.4],
            "q_value": [0.01, 0.02, 1.0],
        }
    )
    pattern = pd.DataFrame(  # sector a hidden in the département row; sector b hidden in a CFA row only
        {
            "dimension": ["sector", "sector", "sector", "diploma_level"],
            "cfa": ["ensemble", "ensemble", "0410590U", "ensemble"],
            "category": ["a", "b", "b", "3"],
            "suppressed": [True, False, True, False],
        }
    )
    monkeypatch.setattr(RP, "family_pattern", lambda ctx: pattern)
    ctx = SimpleNamespace(results=SimpleNamespace(vigilance=v))
    out = RP.published_vigilance(ctx, {"sector:a": "Secteur « A »"})
    assert out.loc[0, "sentence"].startswith("Secteur « A » : secret statistique")
    assert "40" not in out.loc[0, "sentence"] and not out.loc[0, "alert"]
    assert (
        pd.isna(out.loc[0, "p_value"]) and pd.isna(out.loc[0, "q_value"]) and out.loc[0, "direction"] is None
    )
    assert out.loc[1:, "sentence"].tolist() == v.loc[1:, "sentence"].tolist()  # published cells: unchanged
    assert out.loc[1:, "alert"].tolist() == [True, False]
    assert v.loc[0, "sentence"] == "Secteur a : 40 %"  # the input (and `aioa vigilance`) untouched


def test_the_outcome_table_name_is_the_one_the_import_writes():
    from aioa_analysis.followup.returns import OUTCOME_TABLE
    from aioa_analysis.reporting.sections.context import OUTCOMES_FILE

    assert OUTCOMES_FILE == OUTCOME_TABLE


@pytest.mark.slow
def test_accompaniment_table_counts_match_an_independent_count(built):
    """Contacted within 30 days: counted again from the outcome table and the clean contracts."""
    from aioa_analysis.core.schema import C

    c = pd.read_parquet(built["data_file"])
    o = pd.read_parquet(built["processed"] / "followup_outcomes.parquet")[
        ["contract_id", "contacted", "contact_date"]
    ]
    as_of = pd.Timestamp(str(built["result"].parameters["as_of"]))
    r = c.loc[c[C.rupture_date].notna() & (c[C.rupture_date] <= as_of)]
    r = r.loc[~r[C.rupture_after_diploma].astype("boolean").fillna(False).astype(bool)]
    r = r.loc[r[C.territory].notna() & (r[C.territory] != "hors_41")]
    since = r.loc[r[C.contract_id].isin(o["contract_id"]), C.rupture_date].min().to_period("M").start_time
    r = r.loc[r[C.rupture_date] >= since].merge(o, on=C.contract_id, how="left")
    eligible = (as_of - r[C.rupture_date]).dt.days >= 30
    hit = r["contacted"].astype("boolean").fillna(False).astype(bool) & (
        (r["contact_date"] - r[C.rupture_date]).dt.days <= 30
    )
    k, n = int((eligible & hit).sum()), int(eligible.sum())
    assert n >= 20 and k >= 3
    table = re.search(r'id="tab-accompagnement".*?</table>', _page(built), re.S).group(0)
    row = re.search(r"Contactés dans les 30 jours.*?</tr>", table, re.S).group(0)
    cells = [
        html.unescape(x).replace("\u202f", "").replace("\xa0", "")
        for x in re.findall(r"<td[^>]*>(.*?)</td>", row)
    ]
    assert cells[:2] == [str(k), str(n)]  # the row starts inside its label cell


@pytest.mark.slow
def test_forecast_by_territory_adds_up_and_the_backtest_sentence_matches(built):
    from aioa_analysis.reporting.sections import mediation, results
    from aioa_analysis.reporting.sections.context import read_contracts
    from aioa_analysis.stats.forecast import backtest_summary

    as_of = pd.Timestamp(str(built["result"].parameters["as_of"]))
    f = results.forecasts(read_contracts(built["data_file"]), as_of=as_of)
    assert len(f["forecast"]) == 12
    by_month = f["forecast_territory"].groupby("month")["expected"].sum()
    assert by_month.to_numpy() == pytest.approx(
        f["forecast"].set_index("month")["expected"].to_numpy(), rel=1e-6
    )
    s = backtest_summary(f["backtest"])
    page = html.unescape(_page(built)).replace("\u202f", " ")
    sentence = mediation.backtest_sentence(s).replace("\u202f", " ")
    assert sentence in page and f"{s['inside']} mois sur 12" in sentence
    assert 'id="tab-prevision-territoires"' in page and 'id="fig-retroprevision"' in page
