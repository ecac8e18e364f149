"""Typed contract values: the first cleaning step, and what every later step shares.

:func:`parse_contract_values` types every column of a raw canonical frame (dates, booleans, sex,
codes; docs/reference/FORMATS.md §5) and records the parse status of the key dates. The working column names
(``_row``, ``_reason``...) and the small helpers here are used by :mod:`.rules`, :mod:`.merge`,
:mod:`.exams` and :mod:`.derive`; they are never written.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import IDENTITY_COLUMNS, LINEAGE_COLUMNS, C
from aioa_analysis.ingest.parsing import (
    contiguous,
    normalise_cfd,
    normalise_code,
    normalise_contract_id,
    normalise_naf,
    normalise_postcode,
    normalise_rncp,
    normalise_siret,
    normalise_text,
    normalise_uai,
    parse_booleans,
    parse_dates,
    parse_dates_detailed,
    parse_integers,
    parse_sex,
)

TRAINING_DURATION_MONTHS: Final = "training_duration_months"
"""Optional raw column (SIFA ``DUR_FORM_THEO``): theoretical training length in months."""

# internal working columns (never written)
ROW: Final = "_row"
REASON: Final = "_reason"
REASON_COLUMN: Final = "_reason_column"
DUP_OF: Final = "_dup_of"
GROUP: Final = "_group"
IS_AMENDMENT: Final = "_is_amendment"
PRIMARY: Final = "_primary"
PERSON: Final = "_person"  # apprentice_key as an integer code (pseudonym.add_apprentice_key)

DATE_COLUMNS: Final = (
    C.signature_date,
    C.start_date,
    C.planned_end_date,
    C.actual_end_date,
    C.rupture_date,
    C.rupture_reported_date,
    C.amendment_effective_date,
    C.training_start_date,
    C.training_end_date,
    C.diploma_obtained_date,
    C.birth_date,
)
KEY_DATE_COLUMNS: Final = (C.start_date, C.planned_end_date, C.rupture_date)
BOOL_COLUMNS: Final = (C.rupture_before_start, C.rqth, C.employer_public, C.diploma_obtained)

_CODE_PARSERS: Final[dict[str, Callable[[pd.Series], pd.Series]]] = {
    C.contract_id: normalise_contract_id,
    C.amendment_no: normalise_contract_id,
    C.cfa_uai: normalise_uai,
    C.employer_siret: normalise_siret,
    C.cfa_siret: normalise_siret,
    C.training_site_siret: normalise_siret,
    C.employer_naf: normalise_naf,
    C.diploma_code: normalise_cfd,
    C.residence_postcode: normalise_postcode,
    C.employer_postcode: normalise_postcode,
    C.rncp_code: normalise_rncp,
    C.contract_type: functools.partial(normalise_code, width=2),
    C.derogation_type: functools.partial(normalise_code, width=2),
    C.employer_type: functools.partial(normalise_code, width=2),
    C.employer_idcc: functools.partial(normalise_code, width=4),
    C.last_class: functools.partial(normalise_code, width=2),
    C.nationality: normalise_code,
    C.situation_before: normalise_code,
    C.diploma_type_cerfa: normalise_code,
    C.dispositif: normalise_code,
    C.exam_session: normalise_code,
}


def first_per_group(
    order: np.ndarray, group: np.ndarray, n_groups: int, valid: np.ndarray | None = None
) -> np.ndarray:
    """Per group code ``0..n_groups-1``: the first position of ``order`` whose row is ``valid`` (every
    row when ``None``), -1 when none. ``order`` lists row positions with each group's rows next to
    each other; ``group`` (codes, -1 for none) and ``valid`` are indexed by row position.

    With a precedence order this is ``groupby(group).first()`` for one column, as positions: one
    ``take`` per column then builds the frame (a groupby of the whole frame gathers it twice).

    >>> valid = np.array([True, False, True, True])
    >>> first_per_group(np.array([1, 0, 3, 2]), np.array([0, 0, 2, 2]), 3, valid).tolist()
    [0, -1, 3]
    """
    g = group[order]
    if valid is not None:
        keep = valid[order]
        order, g = order[keep], g[keep]
    starts = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, dtype=bool)
    out = np.full(n_groups, -1, dtype=np.int64)
    out[g[starts]] = order[starts]
    return out


def na_strings(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="string")


def column_or_na(df: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    if name in df.columns:
        return df[name]
    if dtype == "datetime64[ns]":
        return pd.Series(pd.NaT, index=df.index, dtype=dtype)
    return pd.Series(pd.NA, index=df.index, dtype=dtype)


def on_distinct(s: pd.Series, fn: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """Run a vectorised lookup returning a frame once per distinct value of ``s``, broadcast back."""
    codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
    u = pd.Series(uniques, dtype="string")
    table = pd.concat(
        [fn(u).reset_index(drop=True), fn(pd.Series([pd.NA], dtype="string"))], ignore_index=True
    )
    return table.iloc[codes].set_axis(s.index)


def on_distinct_series(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    return on_distinct(s, lambda u: fn(u).to_frame("v"))["v"]


def fold(s: pd.Series) -> pd.Series:
    """Accent-insensitive upper-case form used to compare labels (``Annulé`` == ``ANNULE``)."""

    def fn(u: pd.Series) -> pd.Series:
        return u.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True).str.upper().str.strip()

    return on_distinct_series(s.astype("string"), fn).astype("string")


log = logging.getLogger(__name__)

BOUNDS: Final = {C.employer_headcount: 1_000_000, TRAINING_DURATION_MONTHS: 72}
"""Largest plausible value of each count: no French employer has a million employees, no
apprenticeship lasts over 6 years (3 years, 4 with a disability). Larger values are set missing and
said in a warning (the contract itself is kept)."""


def _bounded(name: str, s: pd.Series) -> pd.Series:
    """The counts of ``s`` within :data:`BOUNDS`; how many whole numbers were out of bounds is logged."""
    parsed = parse_integers(s)
    unparsed = (s.notna() & parsed.isna()).to_numpy()  # the regex only on the few values not parsed
    too_big = parsed.gt(BOUNDS[name]).fillna(False).to_numpy(dtype=bool, copy=True)
    too_big[unparsed] = (
        s[unparsed].astype("string").str.fullmatch(r"\s*\d{16,}\s*").fillna(False).to_numpy(bool)
    )
    if too_big.any():
        log.warning(
            "%d valeur(s) de %s hors bornes (plus de %s) mises à vide",
            int(too_big.sum()),
            name,
            f"{BOUNDS[name]:_}".replace("_", " "),
        )
    return parsed.mask(too_big)


def _parse_column(name: str, s: pd.Series) -> dict[str, pd.Series]:
    """The typed column(s) for one raw column (a key date also gives its ``_status_<date>``)."""
    if name in IDENTITY_COLUMNS and name != C.birth_date:
        return {name: s}  # left as read; never taken into the contract table
    if name in LINEAGE_COLUMNS:
        return {name: contiguous(s)}
    if name == C.apprentice_key:  # made by pseudonym.add_apprentice_key: 64 hex characters or NA
        return {name: contiguous(s.astype("string"))}
    if name in DATE_COLUMNS:
        detailed = parse_dates_detailed(s)
        if name in KEY_DATE_COLUMNS:
            return {name: detailed["value"], f"_status_{name}": contiguous(detailed["status"])}
        return {name: detailed["value"]}
    if name in BOOL_COLUMNS:
        return {name: parse_booleans(s)}
    if name == C.sex:
        return {name: contiguous(parse_sex(s))}
    if name in BOUNDS:
        return {name: _bounded(name, s)}
    if name in _CODE_PARSERS:
        return {name: contiguous(_CODE_PARSERS[name](s))}
    if s.dtype == "string" or s.dtype == object:
        return {name: contiguous(normalise_text(s))}
    return {name: s}


def parse_contract_values(raw: pd.DataFrame) -> pd.DataFrame:
    """Type every column of a raw canonical frame; add ``_status_<date>`` for the key dates.

    Identity columns other than ``birth_date`` are left as read (the identity store normalises them),
    and so is ``apprentice_key`` (a keyed hash, already normal).

    >>> raw = pd.DataFrame({"start_date": ["02/09/2024", "31/02/2024"], "cfa_uai": ["0410590u", None],
    ...                     "sex": ["H", "Mme"], "employer_headcount": ["12", "x"]}, dtype="string")
    >>> out = parse_contract_values(raw)
    >>> out["start_date"].dt.day.tolist(), out["_status_start_date"].tolist(), out["sex"].tolist()
    ([2.0, nan], ['ok', 'impossible'], ['M', 'F'])
    """
    cols: dict[str, pd.Series] = {}
    for name in raw.columns:
        cols.update(_parse_column(str(name), raw[name]))
    for name in KEY_DATE_COLUMNS:
        if name not in cols:
            cols[name] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
            cols[f"_status_{name}"] = pd.Series("missing", index=raw.index, dtype="string")
    return pd.DataFrame(cols, index=raw.index, copy=False)


def identity_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """What the identity store is built from (restricted): the identity columns of each raw row, its
    ``apprentice_key``, lineage and parsed ``start_date`` (which orders a person's rows)."""
    ident_cols = [c for c in (*IDENTITY_COLUMNS, C.sex, C.residence_postcode) if c in raw.columns]
    start = (
        parse_dates(raw[C.start_date])
        if C.start_date in raw.columns
        else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    )
    person = [PERSON] if PERSON in raw.columns else []  # the keys' codes (pseudonym.add_apprentice_key)
    return raw[[*ident_cols, C.apprentice_key, *person, C.source_file, C.source_row]].assign(
        **{C.start_date: start}
    )
