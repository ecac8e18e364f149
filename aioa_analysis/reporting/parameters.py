"""Report parameters: their specification, and their validation BEFORE any notebook cell runs.

papermill only warns about a parameter the template does not declare (its issue #667) and injects
whatever value it is given. :func:`validate_parameters` closes that gap: unknown name, wrong type,
bad date, unknown CFA, territory or cohort each raise one :class:`~aioa_analysis.core.errors.ParameterError`
whose single line lists the valid choices. The runner calls it before papermill starts a kernel;
the report's first cell calls it again so that a notebook run by hand gets the same checks.

The template's ``parameters`` cell (plain literals with a help comment each) must declare exactly
the names of :data:`PARAMETERS`: :func:`template_parameters` reads that cell and a test compares.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core.errors import ParameterError, ReportError
from aioa_analysis.core.schema import C

DEFAULT_TITLE: Final = "Ruptures des contrats d'apprentissage en Loir-et-Cher"
SAMPLE_CHOICES: Final = ("auto", "oui", "non")
TERRITORIES: Final = ("ml_blois", "ml_vendomois", "ml_romorantin", "hors_41", "inconnu")
_COHORT = re.compile(r"(\d{4})-(\d{4})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Parameter:
    """One report parameter: name, Python type, default and a French help line."""

    name: str
    type: type
    default: Any
    help: str


PARAMETERS: Final[dict[str, Parameter]] = {
    p.name: p
    for p in (
        Parameter(
            "data_file", str, "data/processed/contracts.parquet", "table des contrats nettoyée (`aioa clean`)"
        ),
        Parameter(
            "quality_file", str, "", "quality.json écrit par `aioa clean` ; vide : à côté de data_file"
        ),
        Parameter("as_of", str, "", "date d'observation AAAA-MM-JJ ; vide : celle de quality.json"),
        Parameter(
            "cohorts",
            str,
            "",
            "années scolaires séparées par des virgules (2023-2024,2024-2025) ; vide : toutes",
        ),
        Parameter(
            "territory", str, "", "territoire de Mission Locale (ml_blois...) ; vide : tout le département"
        ),
        Parameter("cfa", str, "", "UAI d'un CFA pour un rapport CFA ; vide : rapport départemental"),
        Parameter("horizon", int, 9, "horizon du taux de rupture, en mois (9 : définition DARES)"),
        Parameter("min_n", int, 20, "effectif minimal pour publier un taux (sinon « n < 20 »)"),
        Parameter("title", str, DEFAULT_TITLE, "titre du rapport"),
        Parameter("meeting_date", str, "", "date de la plénière AAAA-MM-JJ ; vide : non affichée"),
        Parameter(
            "sample", str, "auto", "bandeau « Données fictives » : auto (d'après quality.json), oui, non"
        ),
    )
}
"""Every report parameter, in the order of the template's parameters cell."""


def parameter_names() -> list[str]:
    """Names of the report parameters, in template order."""
    return list(PARAMETERS)


def _type_name(t: type) -> str:
    return {int: "an integer", str: "a text", bool: "true/false"}.get(t, t.__name__)


def _coerce(name: str, value: object) -> object:
    spec = PARAMETERS[name]
    if value is None:
        return spec.default
    if spec.type is int:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise ParameterError(
            f"report parameter {name} must be {_type_name(int)}, got {value!r} ({type(value).__name__})",
            hint=f"e.g. {name}={spec.default}",
        )
    if spec.type is str:
        if name == "cohorts" and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return ",".join(v.strip() for v in value)
        if isinstance(value, str):
            return value.strip()
        if hasattr(value, "isoformat") and name in ("as_of", "meeting_date"):
            return pd.Timestamp(value).strftime("%Y-%m-%d")  # type: ignore[arg-type]
        raise ParameterError(
            f"report parameter {name} must be {_type_name(str)}, got {value!r} ({type(value).__name__})",
            hint=f'e.g. {name}="{spec.default}"' if spec.default else f"e.g. {name}=... ({spec.help})",
        )
    return value  # pragma: no cover - every parameter is int or str


def _check_date(name: str, value: str) -> str:
    if not value:
        return value
    bad = ParameterError(f"report parameter {name}={value!r} is not a date", hint="use the form YYYY-MM-DD")
    if not _DATE.fullmatch(value):
        raise bad
    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise bad from exc
    if ts.strftime("%Y-%m-%d") != value:
        raise bad
    return value


def check_names(params: Mapping[str, object]) -> None:
    """Raise a one-line :class:`ParameterError` for any name that is not a report parameter.

    >>> check_names({"horizon": 9, "horizn": 6})
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: unknown report parameter 'horizn' — valid parameters: \
as_of, cfa, cohorts, data_file, horizon, meeting_date, min_n, quality_file, sample, territory, title
    """
    unknown = [k for k in params if k not in PARAMETERS]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ParameterError(
            f"unknown report parameter{plural} {', '.join(repr(u) for u in unknown)}",
            hint=f"valid parameters: {', '.join(sorted(PARAMETERS))}",
        )


def quality_path(data_file: str | Path, quality_file: str | Path | None = None) -> Path:
    """The quality.json to use: the one given, else ``quality.json`` next to the data file."""
    if quality_file:
        return Path(quality_file)
    return Path(data_file).with_name("quality.json")


def read_quality(path: str | Path) -> dict[str, Any]:
    """Read a quality.json (``{}`` when it does not exist; a one-line error when it is corrupt)."""
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(f"quality file {p} cannot be read ({exc})", hint="rerun `aioa clean`") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"quality file {p} is not a JSON object", hint="rerun `aioa clean`")
    return data


def is_sample(quality: Mapping[str, Any], choice: str = "auto") -> bool:
    """Whether the report must carry the « Données fictives » banner.

    ``choice`` ``"oui"``/``"non"`` forces it; ``"auto"`` reads quality.json (``sample``,
    ``synthetic`` or ``is_sample`` true, or a ``sample`` source folder).

    >>> is_sample({"sample": True}), is_sample({}), is_sample({}, "oui")
    (True, False, True)
    """
    if choice == "oui":
        return True
    if choice == "non":
        return False
    for key in ("sample_used", "sample", "synthetic", "is_sample", "synthetic_sample"):
        value = quality.get(key)
        if isinstance(value, bool):
            if value:
                return True
        elif isinstance(value, dict) and value.get("used"):
            return True
    return False


def quality_as_of(quality: Mapping[str, Any]) -> str:
    """The observation date recorded by ``aioa clean`` in quality.json ('' when absent)."""
    for key in ("as_of", "observation_date"):
        value = quality.get(key)
        if isinstance(value, str) and value:
            return value[:10]
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            return str(value["value"])[:10]
    return ""


def _column(data_file: Path, column: str) -> pd.Series:
    try:
        return pd.read_parquet(data_file, columns=[column])[column]
    except (OSError, ValueError, KeyError) as exc:
        raise ParameterError(
            f"data file {data_file} cannot be read or lacks column {column!r} ({type(exc).__name__})",
            hint="rebuild it with `aioa clean` or pass --data",
        ) from exc


def validate_parameters(params: Mapping[str, object], *, check_data: bool = True) -> dict[str, object]:
    """Check report parameters and return the complete, resolved set (defaults filled in).

    Checks, in order, each failing with one line that names the parameter and lists valid values:
    unknown names; types (integers given as digit strings, e.g. from ``-p horizon=6``, are
    accepted); dates (``as_of``, ``meeting_date``: ``YYYY-MM-DD``); ``horizon`` (1..60), ``min_n``
    (>= 1), ``sample`` (auto/oui/non), ``territory``, the ``cohorts`` form (``2023-2024``). With
    ``check_data`` the data file must exist, ``as_of`` is taken from quality.json when empty, and
    ``cfa`` / ``cohorts`` must exist in the data file.

    Examples
    --------
    >>> p = validate_parameters({"horizon": "6", "as_of": "2025-06-30"}, check_data=False)
    >>> p["horizon"], p["as_of"], p["min_n"]
    (6, '2025-06-30', 20)
    >>> validate_parameters({"as_of": "30/06/2025"}, check_data=False)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: report parameter as_of='30/06/2025' is not a date — use the \
form YYYY-MM-DD
    """
    check_names(params)
    out: dict[str, object] = {name: spec.default for name, spec in PARAMETERS.items()}
    for name, value in params.items():
        out[name] = _coerce(name, value)
    for name in ("as_of", "meeting_date"):
        out[name] = _check_date(name, str(out[name]))
    if not 1 <= int(out["horizon"]) <= 60:  # type: ignore[call-overload]
        raise ParameterError(
            f"report parameter horizon={out['horizon']} is out of range", hint="use 1 to 60 months, e.g. 9"
        )
    if int(out["min_n"]) < 1:  # type: ignore[call-overload]
        raise ParameterError(
            f"report parameter min_n={out['min_n']} must be at least 1", hint="e.g. min_n=20"
        )
    if out["sample"] not in SAMPLE_CHOICES:
        raise ParameterError(
            f"report parameter sample={out['sample']!r} is not valid",
            hint=f"choose among: {', '.join(SAMPLE_CHOICES)}",
        )
    if out["territory"] and out["territory"] not in TERRITORIES:
        raise ParameterError(
            f"unknown territory {out['territory']!r}",
            hint=f"valid territories: {', '.join(TERRITORIES)} (or empty)",
        )
    cohorts = [c.strip() for c in str(out["cohorts"]).split(",") if c.strip()]
    for c in cohorts:
        m = _COHORT.fullmatch(c)
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ParameterError(
                f"cohort {c!r} is not a school year", hint="use the form 2023-2024, comma-separated"
            )
    out["cohorts"] = ",".join(cohorts)
    if not str(out["title"]).strip():
        raise ParameterError("report parameter title is empty", hint=f'e.g. title="{DEFAULT_TITLE}"')
    if check_data:
        _check_against_data(out, cohorts)
    return out


def _check_against_data(out: dict[str, object], cohorts: list[str]) -> None:
    data_file = Path(str(out["data_file"]))
    if not data_file.is_file():
        raise ParameterError(
            f"data file {data_file} does not exist",
            hint="run `aioa clean` first, or pass --data / -p data_file=...",
        )
    qpath = quality_path(data_file, str(out["quality_file"]) or None)
    if out["quality_file"] and not qpath.is_file():
        raise ParameterError(
            f"quality file {qpath} does not exist", hint="rerun `aioa clean` or leave quality_file empty"
        )
    if not out["as_of"]:
        found = quality_as_of(read_quality(qpath))
        if not found:
            raise ParameterError(
                f"as_of is empty and {qpath} records none",
                hint="pass --as-of YYYY-MM-DD (the observation date)",
            )
        out["as_of"] = _check_date("as_of", found)
    starts = _column(data_file, C.start_date).dropna()
    if len(starts) and pd.Timestamp(str(out["as_of"])) < pd.Timestamp(starts.min()):
        raise ParameterError(
            f"as_of {out['as_of']} is before the first contract of {data_file.name} "
            f"({pd.Timestamp(starts.min()).date().isoformat()}): nothing is observed yet",
            hint="use the extraction date of the data (the default: leave --as-of out)",
        )
    if out["cfa"]:
        uai = str(out["cfa"]).strip().upper()
        present = _column(data_file, C.cfa_uai).dropna().astype(str)
        valid = sorted(set(present))
        if uai not in valid:
            raise ParameterError(
                f"unknown CFA {out['cfa']!r} (no contract in {data_file.name})",
                hint=f"valid CFAs (UAI): {', '.join(valid) if valid else 'none'}",
            )
        out["cfa"] = uai
    if cohorts:
        present_years = set(_column(data_file, C.school_year).dropna().astype(str))
        missing = [c for c in cohorts if c not in present_years]
        if missing:
            raise ParameterError(
                f"cohort(s) {', '.join(missing)} absent from {data_file.name}",
                hint=f"valid cohorts: {', '.join(sorted(present_years)) or 'none'}",
            )


def template_parameters(template: str | Path) -> dict[str, object]:
    """Names and default values declared by the ``parameters``-tagged cell of a notebook.

    Raises :class:`ReportError` if the notebook has no such cell or the cell holds anything but
    plain ``name = literal`` assignments.
    """
    import nbformat  # deferred: 1.8 s of imports that only this function needs

    nb = nbformat.read(str(template), as_version=4)
    cells = [
        c for c in nb.cells if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        raise ReportError(
            f"template {template} must have exactly one cell tagged 'parameters' (found {len(cells)})"
        )
    out: dict[str, object] = {}
    for node in ast.parse(cells[0].source).body:
        if not (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            raise ReportError(
                f"template {template}: the parameters cell must hold plain `name = literal` lines"
            )
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ReportError(
                f"template {template}: parameter {node.targets[0].id} is not a literal"
            ) from exc
    return out
