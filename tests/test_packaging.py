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


# One-way imports: a module may import only modules of a LOWER layer (or its own package).
LAYERS = [
    {"errors", "__init__", "allocator", "hmac_batch"},
    {"schema", "config", "atomic", "referential", "intervals"},
    {"outcomes"},
    {"readers", "parsing", "sample", "dimensions", "cohorts", "formatting"},
    {"pseudonym"},
    {"cleaning", "identity"},
    {
        "pipeline",
        "rates",
        "survival",
        "seasonality",
        "transitions",
        "diploma",
        "compare",
        "suppression",
        "references",
        "followup",
    },
    {"figures", "findings"},
    {"reporting"},
    {"commands"},
    {"cli"},
]


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"module {module!r} has no layer in tests/test_packaging.py::LAYERS")


def _module_or_init(name: str) -> str:
    pkg = ROOT / "aioa_analysis"
    return name if (pkg / f"{name}.py").exists() or (pkg / name).is_dir() else "__init__"


def _package_modules():
    pkg = ROOT / "aioa_analysis"
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).parts
        yield rel[0].removesuffix(".py"), path


def test_imports_flow_one_way():
    problems = []
    for top, path in _package_modules():
        mine = _layer(top)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aioa_analysis"):
                parts = node.module.split(".")
                names = [parts[1]] if len(parts) > 1 else [_module_or_init(a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("aioa_analysis.")]
            for other in names:
                if other == top:
                    continue
                theirs = _layer(other)
                if theirs > mine or (theirs == mine and other != top and top not in {"commands", "cli"}):
                    problems.append(f"{path.relative_to(ROOT)} imports {other}")
    assert problems == []
