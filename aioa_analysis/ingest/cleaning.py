"""Cleaning: raw canonical frames -> one typed, pseudonymised row per contract, every row accounted for.

:func:`clean_contracts` chains the steps, each a pure ``verb_noun(df) -> DataFrame`` function:

1. :func:`~.values.parse_contract_values` types every column (dates, booleans, sex, codes;
   docs/reference/FORMATS.md §5) and records the parse status of the key dates;
2. :func:`~.rules.flag_invalid_rows` and :func:`~.rules.flag_cancelled_elsewhere` mark the rows
   that cannot be a contract (``_reason``), or are kept out on purpose (``excluded: ...``);
3. :func:`~.merge.flag_exact_duplicates` marks rows identical (after parsing) to an earlier row;
4. :func:`~.merge.assign_contract_groups` gives each remaining row its contract;
5. :func:`~.merge.merge_contracts` folds each group into one row (precedence order);
   :func:`~.merge.find_conflicts` lists the fields on which files disagree;
6. contract-level exclusions (:func:`~.rules.flag_invalid_contracts`): a rupture before the start,
   and no planned end date (after :func:`~.rules.impute_planned_end`); they reject every row of the
   contract;
7. :func:`~.exams.join_exam_results` then :func:`~.derive.derive_fields` add the derived fields.

Accounting: every input row ends up **clean** (the row chosen to represent a contract), **merged**
(an exact duplicate, an amendment or the same contract from another file) or **rejected** (with
its reason), so ``rows_read == rows_clean + rows_merged + rows_rejected`` per file and in total.

The step functions are importable from here as well as from their modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import FORBIDDEN_IN_CONTRACTS, C
from aioa_analysis.ingest.derive import (
    age_band,
    categorise_rupture_reasons,
    derive_age,
    derive_calendar,
    derive_cfa,
    derive_contract_kind,
    derive_diploma,
    derive_employer,
    derive_fields,
    derive_rupture_fields,
    derive_sector,
    school_year,
    size_band,
)
from aioa_analysis.ingest.exams import (
    EXAM_RESULTS_DAY,
    clean_exam_results,
    contract_level,
    exam_session_year,
    join_exam_results,
    normalise_exam_result,
)
from aioa_analysis.ingest.merge import (
    apprentice_conflicts,
    assign_contract_groups,
    count_conflicts,
    find_conflicts,
    flag_exact_duplicates,
    merge_contracts,
    merged_frame,
    plan_merge,
)
from aioa_analysis.ingest.rules import (
    AMENDMENT_TYPES,
    add_months,
    flag_cancelled_elsewhere,
    flag_invalid_contracts,
    flag_invalid_rows,
    impute_planned_end,
)
from aioa_analysis.ingest.values import (
    DUP_OF,
    GROUP,
    IS_AMENDMENT,
    PERSON,
    PRIMARY,
    REASON,
    REASON_COLUMN,
    ROW,
    TRAINING_DURATION_MONTHS,
    identity_rows,
    parse_contract_values,
)

#: the merged columns that :func:`impute_planned_end` and :func:`flag_invalid_contracts` read
_CHECKED: Final = frozenset(
    {
        C.start_date,
        C.planned_end_date,
        C.training_end_date,
        TRAINING_DURATION_MONTHS,
        C.rupture_date,
        C.rupture_before_start,
    }
)


@dataclass
class CleanResult:
    """What :func:`clean_contracts` produces."""

    contracts: pd.DataFrame  # merged, derived, not yet coerced to CONTRACT_DTYPES
    rows: pd.DataFrame  # one row per input record: lineage, status (clean/merged/rejected), reason
    rejected: pd.DataFrame  # schema.REJECTED_COLUMNS
    conflicts: pd.DataFrame  # contract_id, column, source, source_file, value
    stats: dict = field(default_factory=dict)
    people: np.ndarray | None = None  # the contracts' ``_person`` codes (-1: no key), when the rows have them


def clean_contracts(raw: pd.DataFrame, *, exams: pd.DataFrame | None = None) -> CleanResult:
    """Clean a concatenated raw contract frame that already carries ``apprentice_key``.

    Returns the merged, derived contracts sorted by ``contract_id`` (no personal column but the
    birth date, which :func:`aioa_analysis.core.schema.coerce_contracts` drops), the per-row status
    used for the accounting, the rejected records and the conflicts. ``exams`` is the first part of
    :func:`clean_exam_results`.
    """
    raw = raw.reset_index(drop=True)
    rows = (
        parse_contract_values(raw)
        .assign(**{ROW: np.arange(len(raw))})
        .pipe(flag_invalid_rows)
        .pipe(flag_cancelled_elsewhere)
        .pipe(flag_exact_duplicates)
        .pipe(assign_contract_groups)
    )
    plan = plan_merge(rows)
    rows = rows.assign(**{PRIMARY: plan.primary})
    # the contract-level checks first, on the few columns they read: the other columns are then
    # taken for the kept contracts only (1 M contracts: one copy of the merged table less)
    checked = merged_frame(rows, plan, columns=_CHECKED).pipe(impute_planned_end).pipe(flag_invalid_contracts)
    conflicts = (
        pd.concat([find_conflicts(rows, checked), apprentice_conflicts(rows, checked)], ignore_index=True)
        .sort_values(["contract_id", "column", C.source_file], kind="stable")
        .reset_index(drop=True)
    )
    rows, conflicts = _reject_whole_contracts(rows, checked, conflicts)
    keep = checked[REASON].isna().to_numpy()
    imputed = checked.loc[keep, [C.planned_end_date, C.planned_end_imputed]]
    contracts = (
        merged_frame(rows, plan, keep)
        .assign(**{c: imputed[c] for c in imputed.columns})
        .pipe(count_conflicts, conflicts)
        .pipe(join_exam_results, exams)
        .pipe(derive_fields)
    )
    people = None
    if PERSON in rows.columns and C.apprentice_key in plan.take:
        at = plan.take[C.apprentice_key][np.flatnonzero(keep)]
        people = np.where(at >= 0, rows[PERSON].to_numpy()[np.maximum(at, 0)], -1)
    rows = rows.assign(_status=_row_status(rows))
    stats = {
        "exact_duplicates": int(rows[DUP_OF].notna().sum()),
        "amendment_rows": int((rows[IS_AMENDMENT] & rows[REASON].isna()).sum()),
        "contracts_from_several_files": int((contracts[C.sources].str.count(";") > 0).sum()),
        "contracts_with_conflicts": int((contracts[C.merge_conflicts] > 0).sum()),
        "planned_end_imputed": int(contracts[C.planned_end_imputed].fillna(False).sum()),
    }
    return CleanResult(
        contracts=contracts.drop(columns=[GROUP]).reset_index(drop=True),
        rows=rows[[C.source, C.source_file, C.source_row, REASON, "_status", DUP_OF, IS_AMENDMENT]],
        rejected=_rejected_records(rows, raw),
        conflicts=conflicts.reset_index(drop=True),
        stats=stats,
        people=people,
    )


def _reject_whole_contracts(
    rows: pd.DataFrame, merged: pd.DataFrame, conflicts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contract-level exclusions reject every row of the contract (and drop its conflicts)."""
    bad = merged.loc[merged[REASON].notna(), [GROUP, C.contract_id, REASON, REASON_COLUMN]]
    if bad.empty:
        return rows, conflicts
    by_group = bad.set_index(GROUP)
    in_bad = rows[GROUP].isin(by_group.index).fillna(False).to_numpy()
    groups = rows.loc[in_bad, GROUP]
    reason, column = rows[REASON].copy(), rows[REASON_COLUMN].copy()
    reason[in_bad] = by_group[REASON].reindex(groups).to_numpy()
    column[in_bad] = by_group[REASON_COLUMN].reindex(groups).to_numpy()
    rows = rows.assign(**{REASON: reason, REASON_COLUMN: column})
    return rows, conflicts.loc[~conflicts["contract_id"].isin(bad[C.contract_id])]


def _row_status(rows: pd.DataFrame) -> pd.Series:
    """``clean`` (the row that represents a kept contract), ``merged`` or ``rejected``."""
    status = pd.Series("merged", index=rows.index, dtype="string")
    status = status.mask(rows[PRIMARY].to_numpy() & rows[REASON].isna().to_numpy(), "clean")
    return status.mask(rows[REASON].notna(), "rejected")


def _rejected_records(rows: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``rejected.csv`` records: lineage, column, reason, raw value (blank for personal columns)."""
    rej = rows.loc[rows[REASON].notna()]
    col = rej[REASON_COLUMN].astype("string")
    values = pd.Series("", index=rej.index, dtype="string")
    for name in col.dropna().unique():
        if name in raw.columns and name not in FORBIDDEN_IN_CONTRACTS:
            m = col == name
            values = values.mask(
                m.fillna(False), raw.loc[rej.index[m.fillna(False).to_numpy()], name].astype("string")
            )
    return pd.DataFrame(
        {
            "source_file": rej[C.source_file].astype("string"),
            "source_row": pd.to_numeric(rej[C.source_row], errors="coerce").astype("Int64"),
            "column": col.fillna(""),
            "reason": rej[REASON].astype("string"),
            "value": values.fillna(""),
        }
    )


__all__ = [
    "AMENDMENT_TYPES",
    "EXAM_RESULTS_DAY",
    "CleanResult",
    "add_months",
    "age_band",
    "apprentice_conflicts",
    "assign_contract_groups",
    "categorise_rupture_reasons",
    "clean_contracts",
    "clean_exam_results",
    "contract_level",
    "count_conflicts",
    "derive_age",
    "derive_calendar",
    "derive_cfa",
    "derive_contract_kind",
    "derive_diploma",
    "derive_employer",
    "derive_fields",
    "derive_rupture_fields",
    "derive_sector",
    "exam_session_year",
    "find_conflicts",
    "flag_cancelled_elsewhere",
    "flag_exact_duplicates",
    "flag_invalid_contracts",
    "flag_invalid_rows",
    "identity_rows",
    "impute_planned_end",
    "join_exam_results",
    "merge_contracts",
    "normalise_exam_result",
    "parse_contract_values",
    "school_year",
    "size_band",
]
