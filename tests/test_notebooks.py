"""The analyst's notebooks (``notebooks/*.ipynb``) run top to bottom on the cleaned sample, stay thin,
cover every section of the report and show their tables as offline interactive tables."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from aioa_analysis.reporting import display
from aioa_analysis.reporting.sections import ALL_SECTIONS, SECTIONS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPLORATION = NOTEBOOKS / "1.0-exploration.ipynb"
PERIODS = NOTEBOOKS / "2.0-periodes-critiques.ipynb"


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _calls(source: str) -> int:
    """Calls to a function of the library (or any) in a cell, nested ones included."""
    return sum(isinstance(node, ast.Call) for node in ast.walk(ast.parse(source)))


def test_the_exploration_notebook_shows_every_section_of_the_template():
    cells = _code_cells(EXPLORATION)
    shown = [m for c in cells for m in re.findall(r"reporting\.(show_\w+)\(ctx\)", c)]
    assert shown == [f.__name__ for f in ALL_SECTIONS]
    template = _code_cells(ROOT / "aioa_analysis" / "reporting" / "templates" / "rapport.ipynb")
    assert shown == [m for c in template for m in re.findall(r"reporting\.(show_\w+)\(ctx\)", c)]


@pytest.mark.parametrize("path", [EXPLORATION, PERIODS], ids=lambda p: p.name)
def test_notebooks_are_thin_with_a_parameters_cell(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "data_file" in "".join(params[0]["source"])
    for source in _code_cells(path):
        if not source.startswith("from ") and "import" not in source.split("\n")[0]:
            assert _calls(source) <= 2, f"{path.name}: one library call per cell: {source[:60]!r}"
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert len(markdown) >= len(_code_cells(path)) // 3, "each step explained in French"


def _run(path: Path, parameters: dict[str, object]):
    import papermill as pm

    return pm.execute_notebook(
        str(path),
        None,
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(path.parent),
    )


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _html(output: dict) -> str:
    text = output.get("data", {}).get("text/html", "")
    return "".join(text) if isinstance(text, list) else text


@pytest.mark.slow
def test_exploration_notebook_runs_top_to_bottom(built):
    out = _run(EXPLORATION, {"data_file": str(built["data_file"])})
    outputs = _outputs(out)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert [o for o in outputs if display.PLOTLY_MIME in o.get("data", {})], "the report's charts"
    pages = "\n".join(_html(o) for o in outputs)
    assert set(re.findall(r'<h2 id="([\w-]+)"', pages)) == {anchor for anchor, _ in SECTIONS}
    tables = [o for o in outputs if "itables" in _html(o) and "<table" in _html(o)]
    assert len(tables) >= 8, "result tables are interactive (itables)"
    assert "Contrats observés" in pages and "Taux (%)" in pages  # French labels
    assert not re.search(r"""<script[^>]*\bsrc\s*=\s*["']https?:""", pages), "offline: nothing fetched"


@pytest.mark.slow
def test_critical_periods_notebook_runs_and_writes_the_plenary_chart(built, tmp_path):
    out = _run(PERIODS, {"data_file": str(built["data_file"]), "out_dir": str(tmp_path)})
    outputs = _outputs(out)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert len([o for o in outputs if display.PLOTLY_MIME in o.get("data", {})]) >= 3
    page = (tmp_path / "ruptures-attendues.html").read_text(encoding="utf-8")
    display.check_offline(page)
    assert display.count_figures([page]) == 1
