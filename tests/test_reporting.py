"""Report parameters, template, HTML export, atomic writes, determinism and the absence of personal data.

The end-to-end tests share ONE build (synthetic sample -> ``aioa clean`` -> département report,
rendered twice for the determinism check): see :func:`tests.report_fakes.build_sample_reports`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from aioa_analysis import cli
from aioa_analysis.errors import ConfigError, ParameterError, ReportError
from aioa_analysis.reporting import display, runner
from aioa_analysis.reporting.parameters import PARAMETERS, template_parameters, validate_parameters
from aioa_analysis.reporting.sections import SECTIONS, is_sample, markdown_html
from tests.report_fakes import AS_OF, CFAS, build_sample_reports, write_fake_inputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory) -> Path:
    return write_fake_inputs(tmp_path_factory.mktemp("fake"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    return build_sample_reports(tmp_path_factory.mktemp("e2e"))


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


def test_every_notebook_in_the_repo_is_versioned_without_outputs():
    notebooks = list((ROOT / "aioa_analysis").rglob("*.ipynb")) + list((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name} carries outputs"
                assert cell.get("execution_count") is None, f"{path.name} carries execution counts"


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
    assert err.startswith("aioa report: error: unknown CFA '0419999Z'") and CFAS[0] in err
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


def test_check_offline_rejects_network_references():
    for bad in (
        '<script src="https://cdn.plot.ly/plotly-2.js"></script>',
        '<link rel="stylesheet" href="x.css">',
        '<script src="require.js"></script>',
        '<img src="https://example.org/x.png">',
    ):
        with pytest.raises(ReportError, match="network"):
            display.check_offline(f"<html>{bad}</html>")


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
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "rapport-departement.html",
    ]  # no staging left


def test_per_cfa_with_cfa_parameter_is_refused(fake_data, tmp_path):
    with pytest.raises(ParameterError, match="--per-cfa"):
        runner.render_reports({"data_file": str(fake_data), "cfa": CFAS[0]}, tmp_path, per_cfa=True)


# --- end to end: the département report built from the synthetic sample ---------------------------


def _page(built) -> str:
    return built["result"].html_path.read_text(encoding="utf-8")


def _without_plotly_js(page: str) -> str:
    return page.replace(display.plotly_js(), "")


@pytest.mark.slow
def test_report_is_one_offline_file_with_plotly_once(built):
    page = _page(built)
    assert page.count(display.plotly_js()) == 1
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
    assert "30/11/2025" in page and "11/12/2025" in page
    assert re.search(r"\d,\d\u202f%", page)  # 28,4 %
    assert re.search(r"\d\u202f\d{3}", page)  # 1 234
    assert not re.search(r">\s*\d+\.\d+\s*%", page)  # no English decimals before %
    # every finding links to an anchor that exists
    for anchor in re.findall(r'<li class="(?:alerte|attention|information)">.*?href="#([^"]+)"', page):
        assert f'id="{anchor}"' in page


@pytest.mark.slow
def test_every_chart_has_its_table_next_to_it(built):
    page = _without_plotly_js(_page(built))
    blocks = re.findall(r'<figure class="(chart|table)" id="([^"]+)"', page)
    charts = [i for i, (kind, _) in enumerate(blocks) if kind == "chart"]
    assert len(charts) == built["result"].n_figures == display.count_figures([page]) == 11
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


@pytest.mark.slow
def test_exploration_notebook_runs_top_to_bottom(built, tmp_path):
    import papermill as pm

    nb = ROOT / "notebooks" / "1.0-exploration.ipynb"
    out = pm.execute_notebook(
        str(nb),
        None,
        parameters={"data_file": str(built["data_file"])},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(nb.parent),
    )
    figures_shown = [
        o
        for c in out.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if display.PLOTLY_MIME in o.get("data", {})
    ]
    assert figures_shown, "the exploration notebook shows the report's charts"
    assert not [o for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
