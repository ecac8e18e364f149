"""Column names, types and allowed values: the one place where they live.

Every other module refers to columns through the constants defined here (``C.start_date``), never
through scattered string literals. Three tables matter:

* the **raw canonical frame** that readers produce: canonical column names, *string* values exactly
  as read (no parsing), plus lineage columns (:data:`LINEAGE_COLUMNS`) and the identity columns
  (:data:`IDENTITY_COLUMNS`) when the source has them;
* the **clean contract table** (``contracts.parquet``): one row per contract, typed, derived fields
  added, **no personal data** (:data:`CONTRACT_COLUMNS`, checked by :func:`validate_contracts`);
* the **identity store** (restricted): ``apprentice_key`` plus the identity columns, used only by the
  follow-up lists.

Names follow docs/reference/FORMATS.md §2 (the proposed canonical schema), refined where noted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.errors import DataError


@dataclass(frozen=True)
class _Columns:
    """Canonical column names (attribute name == column name)."""

    # --- lineage -------------------------------------------------------------------------------
    source: str = "source"  # profile of the file the row came from (see SOURCES)
    source_file: str = "source_file"  # file name (no directory) the row came from
    source_row: str = "source_row"  # 1-based line (CSV: physical line incl. header) or sheet row
    sources: str = "sources"  # after merging: every "source:file:row" that fed the row, ';'-joined

    # --- contract ------------------------------------------------------------------------------
    contract_id: str = "contract_id"  # DECA no_contrat (15 digits, string) or synthetic id
    deca_status: str = "deca_status"  # "", Rompu, Annulé, Corrigé, Supprimé
    dispositif: str = "dispositif"  # APPR
    contract_type: str = "contract_type"  # CERFA 11, 21-23, 31-38 (string)
    contract_kind: str = "contract_kind"  # initial / succession / avenant
    amendment_no: str = "amendment_no"
    amendment_effective_date: str = "amendment_effective_date"
    amendment_count: str = "amendment_count"  # number of amendment rows folded into the contract
    derogation_type: str = "derogation_type"
    signature_date: str = "signature_date"
    start_date: str = "start_date"
    planned_end_date: str = "planned_end_date"
    actual_end_date: str = "actual_end_date"
    rupture_date: str = "rupture_date"
    rupture_reported_date: str = "rupture_reported_date"
    rupture_before_start: str = "rupture_before_start"
    rupture_reason_raw: str = "rupture_reason_raw"
    rupture_reason_category: str = "rupture_reason_category"
    rupture_comment: str = "rupture_comment"  # free text: raw frame only, NEVER in contracts

    # --- apprentice (non-identifying) ------------------------------------------------------------
    apprentice_key: str = "apprentice_key"  # HMAC-SHA256 pseudonym (hex)
    sex: str = "sex"  # M / F
    age_at_start: str = "age_at_start"
    age_band: str = "age_band"
    rqth: str = "rqth"
    nationality: str = "nationality"
    situation_before: str = "situation_before"
    last_class: str = "last_class"
    residence_postcode: str = "residence_postcode"  # 5 chars; kept for territory routing
    territory: str = "territory"  # Mission Locale zone (shipped table, from residence postcode)

    # --- employer ------------------------------------------------------------------------------
    employer_siret: str = "employer_siret"
    employer_siret_valid: str = "employer_siret_valid"
    employer_name: str = "employer_name"  # raw frame only (may name a sole trader)
    employer_naf: str = "employer_naf"  # 5 chars, no dot: 5610A
    naf_division: str = "naf_division"  # 2 digits
    naf_section: str = "naf_section"  # A-U
    sector_group: str = "sector_group"  # DARES 4 groups: agriculture/industrie/construction/tertiaire
    sector: str = "sector"  # finer published groups (hebergement_restauration, coiffure_esthetique, ...)
    employer_headcount: str = "employer_headcount"
    employer_size_band: str = "employer_size_band"  # 0-4, 5-9, 10-49, 50-249, 250+
    employer_type: str = "employer_type"
    employer_public: str = "employer_public"
    employer_idcc: str = "employer_idcc"
    employer_postcode: str = "employer_postcode"

    # --- CFA and training ----------------------------------------------------------------------
    cfa_uai: str = "cfa_uai"
    cfa_uai_valid: str = "cfa_uai_valid"
    cfa_name: str = "cfa_name"
    cfa_siret: str = "cfa_siret"
    training_site_siret: str = "training_site_siret"
    diploma_code: str = "diploma_code"  # CFD, 8 chars
    rncp_code: str = "rncp_code"
    diploma_title: str = "diploma_title"
    diploma_type_cerfa: str = "diploma_type_cerfa"
    diploma_level: str = "diploma_level"  # "3".."8" (new nomenclature), string
    diploma_family: str = "diploma_family"  # CAP, BP, BAC PRO, MC, BTS, ...
    training_start_date: str = "training_start_date"
    training_end_date: str = "training_end_date"
    school_year: str = "school_year"  # "2023-2024" (cohort key; 1 August cut-off)

    # --- derived rupture fields (independent of as_of) ------------------------------------------
    days_to_rupture: str = "days_to_rupture"  # rupture_date - start_date in days
    rupture_phase: str = "rupture_phase"  # see RUPTURE_PHASES
    rupture_after_diploma: str = "rupture_after_diploma"  # L6222-19 rupture (diploma obtained before)

    # --- diploma outcome ------------------------------------------------------------------------
    diploma_obtained: str = "diploma_obtained"  # boolean, NA when unknown
    diploma_obtained_date: str = "diploma_obtained_date"
    exam_session: str = "exam_session"  # year of the exam session, e.g. "2024"
    diploma_outcome: str = "diploma_outcome"  # admis / ajourne / absent / inconnu

    # --- quality flags ----------------------------------------------------------------------------
    planned_end_imputed: str = "planned_end_imputed"
    merge_conflicts: str = "merge_conflicts"  # number of fields whose sources disagreed
    # latest extraction date of the files reporting the contract (NaT: a file without date, observed
    # up to as_of); the statistics censor the contract there (ingest.observation)
    observed_until: str = "observed_until"

    # --- identity (restricted store and raw frames only; NEVER in contracts) ----------------------
    surname: str = "surname"
    first_name: str = "first_name"
    birth_date: str = "birth_date"
    ine: str = "ine"
    phone: str = "phone"
    email: str = "email"
    address: str = "address"
    commune: str = "commune"

    # --- exam results -----------------------------------------------------------------------------
    exam_result: str = "exam_result"  # admis / ajourne / absent

    # --- raw-frame only ---------------------------------------------------------------------------
    apprentice_id: str = "apprentice_id"  # pre-pseudonymised id of a hand-made file (hashed by cleaning)
    contract_index: str = "contract_index"  # "1".."4": slot of a contract in a wide TBA row
    training_duration_months: str = "training_duration_months"  # SIFA DUR_FORM_THEO (planned-end imputation)


C: Final = _Columns()
"""Canonical column names: ``C.start_date == "start_date"``."""

ALL_NAMES: Final[frozenset[str]] = frozenset(getattr(C, f.name) for f in fields(_Columns))

LINEAGE_COLUMNS: Final = (C.source, C.source_file, C.source_row)

IDENTITY_COLUMNS: Final = (
    C.surname,
    C.first_name,
    C.birth_date,
    C.ine,
    C.phone,
    C.email,
    C.address,
    C.commune,
)
"""Personal data: raw frames and the restricted identity store only."""

FORBIDDEN_IN_CONTRACTS: Final = (*IDENTITY_COLUMNS, C.rupture_comment, C.employer_name)
"""Columns that must never reach ``contracts.parquet`` nor a report."""

SOURCES: Final = (
    "deca_api",  # DECA API JSON response (nested camelCase)
    "deca_extract",  # DECA flat CSV extract (lowercase glued headers)
    "tba_upload",  # Tableau de bord upload workbook (wide, up to 4 contracts per row)
    "sifa",  # SIFA file (47 fixed columns, no header)
    "chamber",  # consular-chamber / hand-made spreadsheet (French labels or canonical names)
    "exam_results",  # exam results (not contracts: joined to them)
)

SOURCE_PRECEDENCE: Final = ("deca_extract", "deca_api", "tba_upload", "chamber", "sifa")
"""When the same contract comes from several files, a field takes the first non-missing value in
this order (DECA is the registration of record; SIFA is a yearly photograph with fewer fields)."""

DECA_EXCLUDED_STATUSES: Final = ("Annulé", "Supprimé")

CONTRACT_KINDS: Final = ("initial", "succession", "avenant")

SEX_VALUES: Final = ("M", "F")

SIZE_BANDS: Final = ("0-4", "5-9", "10-49", "50-249", "250+")

AGE_BANDS: Final = ("15-17", "18-19", "20-25", "26+")
"""Age at contract start, as DARES publishes it (15-17, 18-19, 20-25; 26+ for the waivers)."""

SECTOR_GROUPS: Final = ("agriculture", "industrie", "construction", "tertiaire")

RUPTURE_PHASES: Final = (
    "0-45j",  # rupture within 45 calendar days of the start (proxy for the 45 practical days)
    "46j-3m",  # day 46 to 3 months
    "3-6m",
    "6-12m",
    "12m+",
    "apres_diplome",  # L6222-19: rupture after the diploma was obtained
)
"""Rupture phases; boundaries are calendar offsets from the start date (see cleaning)."""

DIPLOMA_OUTCOMES: Final = ("admis", "ajourne", "absent", "inconnu")

CONTRACT_OUTCOMES: Final = ("ruptured", "ruptured_after_diploma", "completed", "ongoing")
"""Outcome of a contract as of ``as_of`` (see :mod:`aioa_analysis.stats.outcomes`)."""

DIMENSIONS: Final[dict[str, str]] = {
    "cfa": C.cfa_uai,
    "sector": C.sector,
    "sector_group": C.sector_group,
    "naf_section": C.naf_section,
    "diploma_level": C.diploma_level,
    "diploma_family": C.diploma_family,
    "diploma": C.diploma_code,
    "cohort": C.school_year,
    "start_month": "start_month",  # derived on the fly: 1..12
    "start_year": "start_year",  # derived on the fly
    "territory": C.territory,
    "employer_size": C.employer_size_band,
    "age_band": C.age_band,
    "sex": C.sex,
    "diploma_outcome": C.diploma_outcome,
    "contract_kind": C.contract_kind,
}
"""Public dimension names (CLI ``--by``, notebook parameters) -> column of the contract table."""

# pandas dtypes of the clean contract table ---------------------------------------------------------
DATE = "datetime64[ns]"
STR = "string"
BOOL = "boolean"
INT = "Int64"
CAT = "category"

CONTRACT_DTYPES: Final[dict[str, str]] = {
    C.contract_id: STR,
    C.source: STR,
    C.source_file: STR,
    C.source_row: INT,
    C.sources: STR,
    C.deca_status: STR,
    C.dispositif: STR,
    C.contract_type: STR,
    C.contract_kind: STR,
    C.amendment_count: INT,
    C.derogation_type: STR,
    C.signature_date: DATE,
    C.start_date: DATE,
    C.planned_end_date: DATE,
    C.actual_end_date: DATE,
    C.rupture_date: DATE,
    C.rupture_reported_date: DATE,
    C.rupture_before_start: BOOL,
    C.rupture_reason_raw: STR,
    C.rupture_reason_category: STR,
    C.apprentice_key: STR,
    C.sex: STR,
    C.age_at_start: INT,
    C.age_band: STR,
    C.rqth: BOOL,
    C.nationality: STR,
    C.situation_before: STR,
    C.last_class: STR,
    C.residence_postcode: STR,
    C.territory: STR,
    C.employer_siret: STR,
    C.employer_siret_valid: BOOL,
    C.employer_naf: STR,
    C.naf_division: STR,
    C.naf_section: STR,
    C.sector_group: STR,
    C.sector: STR,
    C.employer_headcount: INT,
    C.employer_size_band: STR,
    C.employer_type: STR,
    C.employer_public: BOOL,
    C.employer_idcc: STR,
    C.employer_postcode: STR,
    C.cfa_uai: STR,
    C.cfa_uai_valid: BOOL,
    C.cfa_name: STR,
    C.cfa_siret: STR,
    C.training_site_siret: STR,
    C.diploma_code: STR,
    C.rncp_code: STR,
    C.diploma_title: STR,
    C.diploma_type_cerfa: STR,
    C.diploma_level: STR,
    C.diploma_family: STR,
    C.training_start_date: DATE,
    C.training_end_date: DATE,
    C.school_year: STR,
    C.days_to_rupture: INT,
    C.rupture_phase: STR,
    C.rupture_after_diploma: BOOL,
    C.diploma_obtained: BOOL,
    C.diploma_obtained_date: DATE,
    C.exam_session: STR,
    C.diploma_outcome: STR,
    C.planned_end_imputed: BOOL,
    C.merge_conflicts: INT,
    C.observed_until: DATE,
}
"""Every column of ``contracts.parquet`` and its pandas dtype, in output order."""

CONTRACT_COLUMNS: Final = tuple(CONTRACT_DTYPES)

REQUIRED_CONTRACT_COLUMNS: Final = (
    C.contract_id,
    C.apprentice_key,
    C.start_date,
    C.planned_end_date,
    C.rupture_date,
    C.cfa_uai,
)

IDENTITY_DTYPES: Final[dict[str, str]] = {
    C.apprentice_key: STR,
    C.surname: STR,
    C.first_name: STR,
    C.birth_date: DATE,
    C.sex: STR,
    C.ine: STR,
    C.phone: STR,
    C.email: STR,
    C.address: STR,
    C.residence_postcode: STR,
    C.commune: STR,
    C.source_file: STR,
}
"""Columns of the restricted identity store (one row per apprentice_key; latest values win)."""

EXAM_DTYPES: Final[dict[str, str]] = {
    C.apprentice_key: STR,
    C.diploma_code: STR,
    C.exam_session: STR,
    C.exam_result: STR,
    C.diploma_obtained_date: DATE,
    C.source_file: STR,
    C.source_row: INT,
}
"""Columns of ``exam_results.parquet``."""

REJECTED_COLUMNS: Final = ("source_file", "source_row", "column", "reason", "value")
"""Columns of ``rejected.csv``."""


def _strictly_increasing(s: pd.Series) -> bool:
    """Whether the string values of ``s`` are sorted without repeats or missing values (then they are
    unique: what `aioa clean` writes, checked in one pass instead of hashing every value)."""
    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        return False
    arr = pa.array(s.array)
    if arr.null_count:
        return False
    return len(arr) < 2 or bool(pc.all(pc.greater(arr[1:], arr[:-1])).as_py())


def validate_contracts(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` is a valid clean contract table and return it unchanged.

    Raises :class:`~aioa_analysis.core.errors.DataError` (one line) when a required column is missing,
    when a forbidden (personal) column is present, or when ``contract_id`` is not unique.

    Examples
    --------
    >>> import pandas as pd
    >>> validate_contracts(pd.DataFrame({"contract_id": ["1"]}))
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.DataError: contract table lacks required columns: apprentice_key, cfa_uai, \
planned_end_date, rupture_date, start_date — run `aioa clean` to build contracts.parquet
    """
    missing = sorted(set(REQUIRED_CONTRACT_COLUMNS) - set(df.columns))
    if missing:
        raise DataError(
            f"contract table lacks required columns: {', '.join(missing)}",
            hint="run `aioa clean` to build contracts.parquet",
        )
    forbidden = sorted(set(FORBIDDEN_IN_CONTRACTS) & set(df.columns))
    if forbidden:
        raise DataError(
            f"contract table carries personal columns: {', '.join(forbidden)}",
            hint="personal data belongs in the restricted identity store only",
        )
    if not _strictly_increasing(df[C.contract_id]) and df[C.contract_id].duplicated().any():
        dup = df.loc[df[C.contract_id].duplicated(), C.contract_id].iloc[0]
        raise DataError(f"contract_id is not unique (e.g. {dup!r})", hint="rebuild with `aioa clean`")
    return df


def coerce_contracts(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` restricted to :data:`CONTRACT_COLUMNS` (missing ones added empty), typed.

    Examples
    --------
    >>> out = coerce_contracts(pd.DataFrame({"contract_id": ["7"], "start_date": ["2024-09-02"]}))
    >>> str(out["start_date"].dtype), len(out.columns) == len(CONTRACT_COLUMNS)
    ('datetime64[ns]', True)
    """
    out = {}
    for col, dtype in CONTRACT_DTYPES.items():
        if col in df.columns:
            s = df[col]
            if dtype != DATE:
                out[col] = s.astype(dtype)
            elif s.dtype == DATE or s.notna().any():
                out[col] = pd.to_datetime(s).astype(dtype)
            else:  # an empty column (no such date in any source): no parsing of a million NAs
                out[col] = pd.Series(pd.NaT, index=df.index, dtype=dtype)
        else:
            out[col] = pd.Series(pd.NA, index=df.index, dtype=dtype if dtype != DATE else "object").astype(
                dtype
            )
    return pd.DataFrame(out, index=df.index)
