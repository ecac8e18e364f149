"""Load the clean tables, select the report's scope and compute once: :func:`prepare_report` ->
:class:`ReportContext`, what every ``show_*`` section reads.

Scope: ``territory`` and ``cohorts`` restrict the contracts of every section; ``cfa`` makes a CFA
report: its sections describe that CFA's contracts, while the comparisons between CFAs (funnel plot,
observed/expected) keep every CFA of the département and highlight the chosen one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.atomic import sha256_of
from aioa_analysis.core.errors import DataError
from aioa_analysis.core.schema import DIMENSIONS, REQUIRED_CONTRACT_COLUMNS, C, validate_contracts
from aioa_analysis.reporting.parameters import is_sample, quality_path, read_quality, validate_parameters
from aioa_analysis.reporting.sections.results import ReportResults, compute_results


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Everything a report shows, computed once by :func:`prepare_report`."""

    params: dict[str, Any]
    as_of: pd.Timestamp
    contracts: pd.DataFrame  # the report's scope (one CFA for a CFA report)
    departement: pd.DataFrame  # the comparison base: every CFA, same territory and cohorts
    quality: dict[str, Any]
    sample: bool
    scope_label: str
    cfa_label: str
    results: ReportResults
    inputs: dict[str, str]  # file name -> SHA-256 of the files read

    @property
    def findings(self) -> tuple[dict[str, Any], ...]:
        """The points de vigilance, one record each (``aioa vigilance``'s columns)."""
        return tuple(self.results.vigilance.to_dict("records"))

    @property
    def min_n(self) -> int:
        return int(self.params["min_n"])

    @property
    def horizon(self) -> int:
        return int(self.params["horizon"])


#: columns of contracts.parquet the report reads (the others are never used: skipping them halves the
#: load of a national table)
REPORT_COLUMNS: frozenset[str] = frozenset(
    {
        *REQUIRED_CONTRACT_COLUMNS,
        *(c for c in DIMENSIONS.values() if c not in ("start_month", "start_year")),
        C.rupture_after_diploma,
        C.diploma_obtained,
        C.diploma_obtained_date,
        C.exam_session,
        C.rupture_phase,
        C.days_to_rupture,
        C.naf_section,
        C.age_at_start,
        C.employer_headcount,
        C.rupture_reason_category,  # the « Motifs de rupture » section
        C.employer_naf,  # coverage per CFA (quality section)
        C.residence_postcode,
        C.training_end_date,  # the points de vigilance: the summer effect stops at the end of training,
        C.cfa_name,  # ... and the sentences name each CFA
        C.observed_until,  # each contract's observation limit (stats.outcomes.observation_limit)
    }
)


def read_contracts(path: Path) -> pd.DataFrame:
    """The columns of the clean contract table the report reads, validated."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        table = pd.read_parquet(path, columns=[c for c in names if c in REPORT_COLUMNS])
    except (OSError, ValueError) as exc:
        raise DataError(
            f"data file {path} cannot be read ({exc})", hint="rebuild it with `aioa clean`"
        ) from exc
    return validate_contracts(table)


def cfa_label_map(uais: pd.Series) -> dict[str, str]:
    """UAI -> « name (UAI) » for the CFAs of the referential, the bare UAI for the others."""
    keys = sorted(uais.dropna().astype(str).unique())
    names = referential.cfa_names(pd.Series(keys))
    return {u: (f"{n} ({u})" if isinstance(n, str) else u) for u, n in zip(keys, names, strict=True)}


def _rows_equal(table: pd.DataFrame, column: str, values: list[str]) -> pd.DataFrame:
    """The rows of ``table`` whose ``column`` is one of ``values`` (missing values never match)."""
    return table.loc[table[column].astype("string").isin(values).fillna(False).to_numpy()]


def select_departement(table: pd.DataFrame, *, territory: str, cohorts: str) -> pd.DataFrame:
    """The comparison base: the contracts of ``territory`` and ``cohorts`` (« a,b »), when given."""
    scope = table
    if territory:
        scope = _rows_equal(scope, C.territory, [territory])
    if cohorts:
        scope = _rows_equal(scope, C.school_year, cohorts.split(","))
    return scope.reset_index(drop=True)


def scope_label(cfa_label: str, *, territory: str, cohorts: str) -> str:
    """The report's scope as the reader sees it under the title.

    >>> scope_label("", territory="", cohorts="2023-2024,2024-2025")
    'Loir-et-Cher (ensemble des CFA) — années 2023-2024, 2024-2025'
    """
    parts = [cfa_label or "Loir-et-Cher (ensemble des CFA)"]
    name = referential.territory_labels().get(territory, "") if territory else ""
    if name:
        parts.append(name)
    if cohorts:
        parts.append("années " + cohorts.replace(",", ", "))
    return " — ".join(parts)


OUTCOMES_FILE = "followup_outcomes.parquet"
"""The follow-up's pseudonymised outcome table, written by ``aioa followup --import`` next to the
clean contract table (``aioa_analysis.followup.returns.OUTCOME_TABLE``)."""


def read_outcomes(data_file: Path) -> pd.DataFrame | None:
    """The outcome table next to ``data_file``, ``None`` when no returned workbook was imported."""
    path = data_file.parent / OUTCOMES_FILE
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"follow-up outcomes {path} cannot be read ({exc})",
            hint="import the returns again: aioa followup --import",
        ) from exc


def prepare_report(**params: Any) -> ReportContext:
    """Validate the parameters, load the clean tables and compute every result of the report."""
    p: dict[str, Any] = validate_parameters(params)
    data_file = Path(str(p["data_file"]))
    table = read_contracts(data_file)
    qpath = quality_path(data_file, str(p["quality_file"]) or None)
    quality = read_quality(qpath)
    inputs = {data_file.name: sha256_of(data_file)}
    if qpath.is_file():
        inputs[qpath.name] = sha256_of(qpath)
    outcomes = read_outcomes(data_file)
    if outcomes is not None:
        inputs[OUTCOMES_FILE] = sha256_of(data_file.parent / OUTCOMES_FILE)
    territory, cohorts, cfa = str(p["territory"] or ""), str(p["cohorts"] or ""), str(p["cfa"] or "")
    dept = select_departement(table, territory=territory, cohorts=cohorts)
    cfa_labels = cfa_label_map(table[C.cfa_uai])
    focus = _rows_equal(dept, C.cfa_uai, [cfa]).reset_index(drop=True) if cfa else dept
    cfa_label = cfa_labels.get(cfa, cfa) if cfa else ""
    as_of = pd.Timestamp(str(p["as_of"]))
    results = compute_results(
        focus,
        dept,
        as_of=as_of,
        horizon=int(p["horizon"]),
        min_n=int(p["min_n"]),
        cfa_labels=cfa_labels,
        n_table_rows=len(table),
        cfa=cfa,
        outcomes=outcomes,
    )
    return ReportContext(
        params=p,
        as_of=as_of,
        contracts=focus,
        departement=dept,
        quality=quality,
        sample=is_sample(quality, str(p["sample"])),
        scope_label=scope_label(cfa_label, territory=territory, cohorts=cohorts),
        cfa_label=cfa_label,
        results=results,
        inputs=inputs,
    )
