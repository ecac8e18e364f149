"""Derived fields of the merged contracts: kind, sector, diploma, CFA, employer, age, calendar,
rupture reason category and phase (:func:`derive_fields` adds them all)."""

from __future__ import annotations

import functools
import logging
import re
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from aioa_analysis.core import referential
from aioa_analysis.core.schema import AGE_BANDS, SIZE_BANDS, C
from aioa_analysis.ingest.parsing import siret_is_valid, string_series
from aioa_analysis.ingest.rules import AMENDMENT_TYPES, add_months_days
from aioa_analysis.ingest.values import column_or_na, na_strings, on_distinct, on_distinct_series

log = logging.getLogger(__name__)


def diploma_prefix(code: pd.Series) -> pd.Series:
    """The part of a diploma code that :func:`referential.diploma_attributes` looks up (its prefix).

    The attributes depend on the prefix only, so they are looked up once per distinct prefix (a
    national file has hundreds of thousands of distinct codes but a few hundred prefixes).
    """
    return code.astype("string").str.strip().str.upper().str.slice(0, 3)


def derive_contract_kind(df: pd.DataFrame) -> pd.DataFrame:
    """``contract_kind`` from the CERFA type: 11 initial, 21-23 succession, 31-38 avenant.

    >>> derive_contract_kind(pd.DataFrame({"contract_type": ["11", "23", "33", None]}))["contract_kind"].tolist()
    ['initial', 'succession', 'avenant', <NA>]
    """
    t = column_or_na(df, C.contract_type).astype("string")
    kind = na_strings(df.index).mask((t == "11").fillna(False), "initial")
    kind = kind.mask(t.isin({"21", "22", "23"}).fillna(False), "succession")
    kind = kind.mask(t.isin(AMENDMENT_TYPES).fillna(False), "avenant")
    return df.assign(**{C.contract_kind: kind})


def derive_sector(df: pd.DataFrame) -> pd.DataFrame:
    """NAF division, section, DARES 4-group and finer published sector (shipped tables)."""
    attrs = on_distinct(column_or_na(df, C.employer_naf), referential.naf_attributes)
    return df.assign(**{c: attrs[c] for c in (C.naf_division, C.naf_section, C.sector_group, C.sector)})


def derive_diploma(df: pd.DataFrame) -> pd.DataFrame:
    """Diploma level (3-8) and family from the CFD prefix; CERFA type filled when the source had none."""
    # per distinct code (diploma_attributes takes the prefix itself), not per row
    attrs = on_distinct(column_or_na(df, C.diploma_code), referential.diploma_attributes)
    ctype = column_or_na(df, C.diploma_type_cerfa).fillna(attrs["diploma_type_cerfa"])
    return df.assign(
        **{
            C.diploma_level: attrs["diploma_level"],
            C.diploma_family: attrs["diploma_family"],
            C.diploma_type_cerfa: ctype,
        }
    )


def derive_cfa(df: pd.DataFrame) -> pd.DataFrame:
    """CFA name from the shipped referential when missing; UAI check-letter flag (never drops)."""
    uai = column_or_na(df, C.cfa_uai)
    name = column_or_na(df, C.cfa_name).fillna(on_distinct_series(uai, referential.cfa_names))
    valid = on_distinct_series(uai, referential.uai_is_valid).astype("boolean")
    return df.assign(**{C.cfa_name: name, C.cfa_uai_valid: valid})


def size_band(headcount: pd.Series) -> pd.Series:
    """Employer size band (0-4, 5-9, 10-49, 50-249, 250+) of a headcount.

    >>> size_band(pd.Series([0, 4, 5, 49, 250, None], dtype="Int64")).tolist()
    ['0-4', '0-4', '5-9', '10-49', '250+', <NA>]
    """
    h = headcount.astype("Float64")
    return _cut(h.astype(float), [-0.5, 4.5, 9.5, 49.5, 249.5, np.inf], SIZE_BANDS)


def _cut(values: pd.Series, bins: list[float], labels: tuple[str, ...]) -> pd.Series:
    """``pd.cut(values, bins, labels=labels).astype("string")`` without the categorical round trip."""
    codes = pd.cut(values, bins=bins, labels=False)
    missing = np.isnan(codes.to_numpy(dtype=float))
    idx = pa.array(
        np.where(missing, 0, codes.to_numpy(dtype=float, na_value=0)).astype(np.int64), mask=missing
    )
    return string_series(pa.array(labels, pa.large_string()).take(idx), values.index)


def derive_employer(df: pd.DataFrame) -> pd.DataFrame:
    """SIRET validity flag, size band, public employer (CERFA types 21-30) when the source had none."""
    etype = column_or_na(df, C.employer_type)
    public = column_or_na(df, C.employer_public, "boolean").astype("boolean")
    if etype.notna().any():
        from_type = pd.to_numeric(etype, errors="coerce").between(21, 30).astype("boolean").mask(etype.isna())
    else:  # no employer type at all (DECA extracts): nothing to infer
        from_type = pd.Series(pd.NA, index=df.index, dtype="boolean")
    return df.assign(
        **{
            C.employer_siret_valid: siret_is_valid(column_or_na(df, C.employer_siret)),
            C.employer_size_band: size_band(column_or_na(df, C.employer_headcount, "Int64")),
            C.employer_public: public.fillna(from_type),
        }
    )


def age_band(age: pd.Series) -> pd.Series:
    """DARES age band of an age at start: 15-17 (14 included), 18-19, 20-25, 26+; NA below 14.

    >>> age_band(pd.Series([13, 14, 17, 18, 19, 20, 25, 26, None], dtype="Int64")).tolist()
    [<NA>, '15-17', '15-17', '18-19', '18-19', '20-25', '20-25', '26+', <NA>]
    """
    a = age.astype("Float64").astype(float)
    return _cut(a, [13.5, 17.5, 19.5, 25.5, np.inf], AGE_BANDS)


AGE_BOUNDS: Final = (14, 80)
"""Plausible ages at the start of a contract (15 is the usual minimum, 14 at the end of collège; no
upper limit for a disabled apprentice or a business creator): outside, the age is set missing."""


def derive_age(df: pd.DataFrame) -> pd.DataFrame:
    """``age_at_start`` (whole years on the start date) and ``age_band``; the birth date is not kept.

    >>> df = pd.DataFrame({"birth_date": pd.to_datetime(["2006-09-02", "2006-09-03"]),
    ...                    "start_date": pd.to_datetime(["2024-09-02", "2024-09-02"])})
    >>> derive_age(df)[["age_at_start", "age_band"]].values.tolist()
    [[18, '18-19'], [17, '15-17']]
    """
    birth = column_or_na(df, C.birth_date, "datetime64[ns]")
    start = df[C.start_date]
    years = start.dt.year - birth.dt.year
    before = (start.dt.month < birth.dt.month) | (
        (start.dt.month == birth.dt.month) & (start.dt.day < birth.dt.day)
    )
    age = (years - before.astype(int)).astype("Int64")
    implausible = age.notna() & ~age.between(AGE_BOUNDS[0], AGE_BOUNDS[1])
    if implausible.any():
        log.warning(
            "%d âge(s) au début du contrat hors de %d à %d ans mis à vide (date de naissance à vérifier)",
            int(implausible.sum()),
            *AGE_BOUNDS,
        )
    age = age.mask(implausible.to_numpy())
    return df.assign(**{C.age_at_start: age, C.age_band: age_band(age)})


def school_year(start: pd.Series) -> pd.Series:
    """School year ``YYYY-YYYY+1`` with a 1 August cut-off.

    >>> school_year(pd.to_datetime(pd.Series(["2024-07-31", "2024-08-01", None]))).tolist()
    ['2023-2024', '2024-2025', <NA>]
    """
    y = (start.dt.year - (start.dt.month < 8).astype(int)).astype("Int64")
    codes, years = pd.factorize(y)  # a few years: their labels are written once, then taken
    labels = pd.Series(years).astype("string") + "-" + (pd.Series(years) + 1).astype("string")
    return pd.Series(labels.array.take(codes, allow_fill=True), index=start.index, dtype="string")


def derive_calendar(df: pd.DataFrame) -> pd.DataFrame:
    """``school_year`` from the start date and ``territory`` from the residence postcode."""
    return df.assign(
        **{
            C.school_year: school_year(df[C.start_date]),
            C.territory: on_distinct_series(column_or_na(df, C.residence_postcode), referential.territory_of),
        }
    )


@functools.lru_cache(maxsize=1)
def _reason_rules() -> pd.DataFrame:
    return referential.load_table("rupture_reasons.csv")


def categorise_rupture_reasons(df: pd.DataFrame) -> pd.DataFrame:
    """``rupture_reason_category`` from ``rupture_reason_raw`` via the editable ``rupture_reasons.csv``.

    Rules are tried in file order: ``code`` rows match the raw value exactly, ``regex`` rows search
    the lower-cased, unaccented text. Unmatched ruptures get ``inconnu``; no rupture gives NA.

    >>> df = pd.DataFrame({"rupture_date": pd.to_datetime(["2024-10-01", "2024-10-01", "2024-10-01", None]),
    ...     "rupture_reason_raw": ["Rupture d'un commun accord", "Démission", None, None]})
    >>> categorise_rupture_reasons(df)["rupture_reason_category"].tolist()
    ['commun_accord', 'initiative_apprenti', 'inconnu', <NA>]
    """
    raw = column_or_na(df, C.rupture_reason_raw).astype("string")
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    u = (
        pd.Series(np.asarray(uniques, dtype=object), dtype="string")
        .str.lower()
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.replace("’", "'")
    )
    u_cat = na_strings(u.index)
    stripped = u.str.strip()
    for rule in _reason_rules().itertuples():
        todo = u_cat.isna()
        if rule.kind == "code":
            hit = stripped.str.lower() == str(rule.pattern).strip().lower()
        else:
            pattern = re.sub(r"\((?!\?)", "(?:", str(rule.pattern))
            hit = stripped.str.contains(pattern, regex=True)
        u_cat = u_cat.mask(todo & hit.fillna(False), rule.category)
    table = np.array([*u_cat.to_numpy(dtype=object, na_value=None), None], dtype=object)  # type: ignore[call-overload,type-var]
    cat = pd.Series(table[codes], index=df.index, dtype="string")
    has_rupture = column_or_na(df, C.rupture_date, "datetime64[ns]").notna()
    cat = cat.fillna("inconnu").where(has_rupture | raw.notna())
    return df.assign(**{C.rupture_reason_category: cat})


def derive_rupture_fields(df: pd.DataFrame) -> pd.DataFrame:
    """``days_to_rupture``, ``rupture_after_diploma`` and ``rupture_phase`` (BRIEF rule).

    A rupture after the diploma: reason category ``obtention_diplome``, or the diploma obtained on
    or before the rupture date. Phase from calendar offsets of the start date (``< start+46 days``
    -> 0-45j, ``< +3 months`` -> 46j-3m, ``< +6 months`` -> 3-6m, ``< +12 months`` -> 6-12m, else
    12m+), ``apres_diplome`` for a rupture after the diploma. A "rupture" on or after the planned end
    is not a rupture: its date is kept, its phase is NA (outcomes count the contract as completed).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02"] * 5),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 5),
    ...     "rupture_date": pd.to_datetime(["2024-10-17", "2024-10-18", "2025-09-02", "2026-08-31", None]),
    ...     "rupture_reason_category": ["commun_accord", None, "obtention_diplome", None, None]})
    >>> derive_rupture_fields(df)[["days_to_rupture", "rupture_phase"]].values.tolist()
    [[45, '0-45j'], [46, '46j-3m'], [365, 'apres_diplome'], [728, <NA>], [<NA>, <NA>]]
    """
    start = df[C.start_date]
    rupt = df[C.rupture_date]
    end = df[C.planned_end_date]
    days = (rupt - start).dt.days.astype("Int64")
    has = rupt.notna()
    by_reason = (column_or_na(df, C.rupture_reason_category) == "obtention_diplome").fillna(False)
    obtained = column_or_na(df, C.diploma_obtained, "boolean").fillna(True).astype(bool)
    by_date = (column_or_na(df, C.diploma_obtained_date, "datetime64[ns]") <= rupt).fillna(False) & obtained
    after = (by_reason | by_date).astype("boolean").where(has)
    code = np.full(len(df), _PHASES.index("12m+"))
    with_rupture = np.flatnonzero(has.to_numpy())  # other rows get no phase: skip the calendar work
    rupt_ns = rupt.to_numpy(dtype="datetime64[ns]")[with_rupture]
    start_day = start.fillna(pd.Timestamp("2000-01-01")).to_numpy(dtype="datetime64[D]")[with_rupture]
    for months, label in ((12, "6-12m"), (6, "3-6m"), (3, "46j-3m")):
        within = rupt_ns < add_months_days(start_day, months).astype("datetime64[ns]")
        code[with_rupture[within]] = _PHASES.index(label)
    code[(rupt < start + pd.Timedelta(days=46)).fillna(False).to_numpy()] = _PHASES.index("0-45j")
    code[after.fillna(False).to_numpy(dtype=bool)] = _PHASES.index("apres_diplome")
    real = (has & (rupt < end).fillna(True)).to_numpy()
    phase = string_series(pa.array(_PHASES, pa.large_string()).take(pa.array(code, mask=~real)), df.index)
    return df.assign(**{C.days_to_rupture: days, C.rupture_after_diploma: after, C.rupture_phase: phase})  # type: ignore[arg-type]


_PHASES: Final = ("0-45j", "46j-3m", "3-6m", "6-12m", "12m+", "apres_diplome")


def derive_fields(df: pd.DataFrame) -> pd.DataFrame:
    """Every derived field, :func:`derive_rupture_fields` last (it reads the rupture reason category)."""
    return (
        df.pipe(derive_contract_kind)
        .pipe(derive_sector)
        .pipe(derive_diploma)
        .pipe(derive_cfa)
        .pipe(derive_employer)
        .pipe(derive_age)
        .pipe(derive_calendar)
        .pipe(categorise_rupture_reasons)
        .pipe(derive_rupture_fields)
    )
