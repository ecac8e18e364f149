"""The project's packaging promises: pyproject and environment.yml agree, the layout exists,
data stays out of git, notebooks carry no outputs, imports flow one way."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    m = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", req)
    assert m, req
    return _norm(m.group(1)), m.group(2).replace(" ", "")


def _environment_yml(text: str) -> dict[str, str]:
    deps: dict[str, str] = {}
    in_deps = False
    for line in text.splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^  - ([^:#]+?)\s*$", line)
        if in_deps and m:
            name, spec = _split(m.group(1))
            deps[name] = spec
    return deps


def dependency_drift(pyproject_text: str, env_text: str) -> list[str]:
    """Differences between pyproject.toml's libraries and environment.yml's (empty when in sync)."""
    meta = tomllib.loads(pyproject_text)["project"]
    wanted = dict(_split(r) for r in meta["dependencies"] + meta["optional-dependencies"]["test"])
    wanted["python"] = meta["requires-python"]
    conda = _environment_yml(env_text)
    conda.pop("pip", None)
    problems = [
        f"{k}: pyproject {wanted.get(k)!r} vs environment.yml {conda.get(k)!r}"
        for k in sorted(set(wanted) | set(conda))
        if wanted.get(k) != conda.get(k)
    ]
    if "-e .[test]" not in env_text:
        problems.append("environment.yml does not pip-install the package (-e .[test])")
    return problems


def test_environment_yml_mirrors_pyproject():
    drift = dependency_drift(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"),
        (ROOT / "environment.yml").read_text(encoding="utf-8"),
    )
    assert drift == []


@pytest.mark.parametrize(
    ("old", "new", "culprit"),
    [
        ("scipy>=1.13", "scipy>=1.10", "scipy"),
        ("  - openpyxl>=3.1\n", "", "openpyxl"),
        ("python>=3.11", "python>=3.10", "python"),
    ],
)
def test_drift_is_detected(old, new, culprit):
    """The comparison really fails when environment.yml drifts (guards the guard)."""
    env = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert old in env
    drift = dependency_drift((ROOT / "pyproject.toml").read_text(encoding="utf-8"), env.replace(old, new))
    assert any(d.startswith(culprit) for d in drift)


@pytest.mark.parametrize(
    "path",
    [
        "aioa_analysis/__init__.py",
        "notebooks",
        "data/raw/README.md",
        "data/processed",
        "reports",
        "tests",
        "environment.yml",
        "pyproject.toml",
        "Makefile",
        "README.md",
        "docs",
        "benchmarks",
        ".ci/run",
    ],
)
def test_layout(path):
    assert (ROOT / path).exists(), f"{path} is part of the designed layout"


def _git_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return out.splitlines()


def test_no_real_data_or_outputs_tracked():
    bad = [
        f
        for f in _git_files()
        if (f.startswith(("data/raw/", "data/processed/", "data/restricted/", "reports/")))
        and not f.startswith("data/raw/sample/")
        and not f.endswith(("README.md", ".gitkeep"))
    ]
    assert bad == []


def test_notebooks_have_no_outputs():
    notebooks = [ROOT / f for f in _git_files() if f.endswith(".ipynb")]
    notebooks += list((ROOT / "aioa_analysis").rglob("*.ipynb")) + list((ROOT / "notebooks").glob("*.ipynb"))
    for nb_path in set(notebooks):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{nb_path.name} carries outputs"
                assert cell.get("execution_count") is None, f"{nb_path.name} carries execution counts"


# One-way imports: the layers are the package's folders. A module may import from its own folder and
# from the folders of LOWER layers only; folders of one layer (ingest and sample; reporting and
# followup) do not import each other.
LAYERS = [
    {"__init__"},
    {"core"},
    {"ingest", "sample"},
    {"stats"},
    {"reporting", "followup"},
    {"commands"},
    {"cli"},
]
#: Modules allowed directly in aioa_analysis/ besides the folders.
TOP_MODULES = {"__init__", "cli"}


def _layer(room: str) -> int:
    for i, layer in enumerate(LAYERS):
        if room in layer:
            return i
    raise AssertionError(f"{room!r} is not a layer folder of tests/test_packaging.py::LAYERS")


def _room(dotted: str) -> str:
    """``aioa_analysis.stats.rates`` -> ``stats``; ``aioa_analysis`` -> ``__init__``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported_rooms(path: Path) -> list[str]:
    rooms = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aioa_analysis":
            if node.module == "aioa_analysis":
                rooms += [
                    "__init__" if a.name == "__version__" else _room(f"aioa_analysis.{a.name}")
                    for a in node.names
                ]
            else:
                rooms.append(_room(node.module))
        elif isinstance(node, ast.Import):
            rooms += [_room(a.name) for a in node.names if a.name.startswith("aioa_analysis.")]
    return rooms


def test_package_top_holds_only_folders_and_the_dispatcher():
    pkg = ROOT / "aioa_analysis"
    modules = {p.stem for p in pkg.glob("*.py")}
    folders = {p.name for p in pkg.iterdir() if (p / "__init__.py").exists()}
    assert modules <= TOP_MODULES
    assert folders | modules == set().union(*LAYERS) - {"__init__"} | modules


def test_imports_flow_one_way():
    pkg = ROOT / "aioa_analysis"
    problems = []
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).parts
        mine = rel[0].removesuffix(".py")
        for other in _imported_rooms(path):
            if other == mine or (other == "__init__" and mine != "__init__"):
                continue
            if _layer(other) >= _layer(mine):
                problems.append(f"{path.relative_to(ROOT)} imports from {other}/")
    assert problems == []


def test_layer_check_catches_an_upward_import(tmp_path):
    """Guards the guard: a stats module importing reporting is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from aioa_analysis.reporting import figures\nfrom aioa_analysis.core import schema\n")
    rooms = _imported_rooms(bad)
    assert rooms == ["reporting", "core"]
    assert _layer("reporting") > _layer("stats") > _layer("core")
