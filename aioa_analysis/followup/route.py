"""Which structure receives which row: territories, identities, the Missions Locales and the MLDS rule.

The territory of a young person comes from the residence postcode of the identity store (latest
known), else of the contract, through the shipped ``territories.csv`` (:func:`attach_identity`).
Structures and the territories they cover come from the shipped, editable
``followup_structures.csv`` (:func:`load_structures`). A Mission Locale lists the young people of
its territories; the MLDS lists, **in addition to** the Mission Locale of the territory, those under
``mlds_max_age`` at the contract start (or at the event), or at school just before the contract
(situation before the contract "scolaire", in the CERFA or the SIFA nomenclature:
:func:`situation_is_sifa`). :func:`structure_mask` applies these rules to the rows of a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import ConfigError, ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.followup.select import EVENT_DATE

STRUCTURES_FILE: Final = "followup_structures.csv"
KINDS: Final = ("mission_locale", "mlds")

# internal (English) working columns added by attach_identity
TERRITORY = "followup_territory"
POSTCODE = "followup_postcode"
COMMUNE = "followup_commune"
AGE = "age"
AGE_AT_START = "age_at_start_followup"
AGE_AT_EVENT = "age_at_event"
HAS_IDENTITY = "has_identity"
NO_POSTCODE: Final = "sans_code_postal"
"""Territory key of a row without any residence postcode (routed to no structure by default)."""


# --------------------------------------------------------------------------------------------------
# structures
# --------------------------------------------------------------------------------------------------
def _split(value: object) -> tuple[str, ...]:
    return tuple(v.strip() for v in str(value or "").split("|") if v.strip())


def load_structures(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The structures receiving lists, validated (shipped ``followup_structures.csv`` by default).

    Columns: ``structure`` (key, used in file names), ``label``, ``kind`` (``mission_locale`` or
    ``mlds``), ``territories`` (``|``-separated keys of ``territories.csv``, plus ``inconnu`` /
    ``hors_41``, ``sans_code_postal``), and for the MLDS rule ``mlds_max_age`` (under this age), ``mlds_age_at``
    (``start``: at the contract start; ``event``: at the date that puts the row on the list),
    ``mlds_max_age_now`` (the MLDS public: at most this age at the list's reference date, whatever
    the rule), ``mlds_situation_cerfa`` / ``mlds_situation_sifa`` (codes of the situation before the contract
    meaning "scolaire", in each nomenclature), ``mlds_last_class`` (optional last-class codes), and
    ``rule`` (French text shown in the workbook). Two Missions Locales may not share a territory.

    >>> s = load_structures()
    >>> s["structure"].tolist()
    ['ml_blois', 'ml_vendomois', 'ml_romorantin', 'mlds']
    >>> s.loc[s["structure"] == "mlds", "territories"].item()
    ('ml_blois', 'ml_vendomois', 'ml_romorantin', 'inconnu')
    """
    t = referential.load_table(STRUCTURES_FILE) if table is None else table.astype(str).fillna("")
    required = ["structure", "label", "kind", "territories"]
    missing = [c for c in required if c not in t.columns]
    if missing:
        raise ConfigError(
            f"{STRUCTURES_FILE} lacks columns: {', '.join(missing)}",
            hint="restore the shipped table or fix the header",
        )
    for col in (
        "mlds_max_age",
        "mlds_age_at",
        "mlds_max_age_now",
        "mlds_situation_cerfa",
        "mlds_situation_sifa",
    ):
        if col not in t.columns:
            t = t.assign(**{col: ""})
    for col in ("mlds_last_class", "rule"):
        if col not in t.columns:
            t = t.assign(**{col: ""})
    t = t.assign(structure=t["structure"].str.strip(), kind=t["kind"].str.strip())
    bad = t.loc[~t["structure"].str.fullmatch(r"[a-z0-9_]+"), "structure"]
    if len(bad):
        raise ConfigError(
            f"{STRUCTURES_FILE}: structure key {bad.iloc[0]!r} is not lower-case letters, digits, _",
            hint="use keys such as ml_blois (they name the files)",
        )
    if t["structure"].duplicated().any():
        dup = t.loc[t["structure"].duplicated(), "structure"].iloc[0]
        raise ConfigError(
            f"{STRUCTURES_FILE}: structure {dup!r} appears twice", hint="keep one row per structure"
        )
    bad = t.loc[~t["kind"].isin(KINDS), "kind"]
    if len(bad):
        raise ConfigError(
            f"{STRUCTURES_FILE}: unknown kind {bad.iloc[0]!r}", hint=f"use one of {', '.join(KINDS)}"
        )
    known = set(referential.territories()["territory"]) | {"inconnu", "hors_41", NO_POSTCODE}
    terr = t["territories"].map(_split)
    for key, ts in zip(t["structure"], terr, strict=True):
        unknown = sorted(set(ts) - known)
        if not ts or unknown:
            raise ConfigError(
                f"{STRUCTURES_FILE}: structure {key!r} has unknown or no territories {unknown or ts}",
                hint=f"use keys of territories.csv: {', '.join(sorted(known))}",
            )
    ml_terr = [x for ts, k in zip(terr, t["kind"], strict=True) if k == "mission_locale" for x in ts]
    shared = sorted({x for x in ml_terr if ml_terr.count(x) > 1})
    if shared:
        raise ConfigError(
            f"{STRUCTURES_FILE}: territory {shared[0]!r} is covered by two Missions Locales",
            hint="a young person must appear in one Mission Locale list only",
        )
    max_age = pd.to_numeric(t["mlds_max_age"].replace("", pd.NA), errors="coerce")
    max_now = pd.to_numeric(t["mlds_max_age_now"].replace("", pd.NA), errors="coerce")
    for col, values in (("mlds_max_age", max_age), ("mlds_max_age_now", max_now)):
        if (values.isna() & (t[col].str.strip() != "")).any():
            raise ConfigError(f"{STRUCTURES_FILE}: {col} must be a number", hint="e.g. 18")
    age_at = t["mlds_age_at"].str.strip().replace("", "start")
    if (~age_at.isin(["start", "event"])).any():
        raise ConfigError(f"{STRUCTURES_FILE}: mlds_age_at must be start or event", hint="e.g. start")
    return t.assign(
        territories=terr,
        mlds_max_age=max_age.astype("Int64"),
        mlds_max_age_now=max_now.astype("Int64"),
        mlds_age_at=age_at,
        mlds_situation_cerfa=t["mlds_situation_cerfa"].map(_split),
        mlds_situation_sifa=t["mlds_situation_sifa"].map(_split),
        mlds_last_class=t["mlds_last_class"].map(_split),
    ).reset_index(drop=True)


def select_structures(structures: pd.DataFrame, name: str | None) -> pd.DataFrame:
    """Rows of ``structures`` for ``--structure NAME`` (``all`` or None: every structure).

    >>> select_structures(load_structures(), "ml_blois")["structure"].tolist()
    ['ml_blois']
    >>> select_structures(load_structures(), "ml_tours")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: --structure 'ml_tours' is unknown — valid names: all, ml_blois, ml_vendomois, ml_romorantin, mlds
    """
    if name is None or name.strip().lower() == "all":
        return structures
    out = structures.loc[structures["structure"] == name.strip().lower()]
    if out.empty:
        raise ParameterError(
            f"--structure {name!r} is unknown",
            hint="valid names: all, " + ", ".join(structures["structure"]),
        )
    return out


# --------------------------------------------------------------------------------------------------
# identities, territories, ages
# --------------------------------------------------------------------------------------------------
def age_in_years(birth: pd.Series, at: pd.Series | pd.Timestamp) -> pd.Series:
    """Full years between ``birth`` and ``at`` (a date or an aligned Series); NA when unknown.

    >>> b = pd.Series(pd.to_datetime(["2008-09-15", "2008-09-15", None]))
    >>> age_in_years(b, pd.Timestamp("2025-09-14")).tolist()
    [16, 16, <NA>]
    >>> age_in_years(b, pd.Series(pd.to_datetime(["2026-09-15", "2026-09-14", "2026-01-01"]))).tolist()
    [18, 17, <NA>]
    """
    birth = pd.to_datetime(birth)
    at_s = pd.to_datetime(at) if isinstance(at, pd.Series) else pd.Series(pd.Timestamp(at), index=birth.index)
    before = (at_s.dt.month * 100 + at_s.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    years = at_s.dt.year - birth.dt.year - before.astype("Int64")
    return years.where(birth.notna() & at_s.notna()).astype("Int64")


def attach_identity(rows: pd.DataFrame, identities: pd.DataFrame, *, ref_date: pd.Timestamp) -> pd.DataFrame:
    """Join identities (restricted store) on ``apprentice_key`` and derive postcode, commune, territory, ages.

    The postcode is the identity store's (latest known), else the contract's; the territory comes
    from ``territories.csv`` (``sans_code_postal`` when there is no postcode at all). ``age`` is at ``ref_date``;
    ``age_at_start_followup`` at the contract start (birth date, else the contract's ``age_at_start``);
    ``age_at_event`` at ``event_date`` (birth date, else ``age_at_start``).

    >>> rows = pd.DataFrame({"apprentice_key": ["k1", "k9"], "residence_postcode": ["41100", "75001"],
    ...     "start_date": pd.to_datetime(["2025-09-01"] * 2), "event_date": pd.to_datetime(["2025-09-01"] * 2)})
    >>> ids = pd.DataFrame({"apprentice_key": ["k1"], "surname": ["MARTIN"], "first_name": ["Léa"],
    ...     "birth_date": pd.to_datetime(["2008-10-01"]), "residence_postcode": ["41000"], "commune": [None]})
    >>> out = attach_identity(rows, ids, ref_date=pd.Timestamp("2025-09-30"))
    >>> out[["surname", "followup_postcode", "followup_commune", "followup_territory", "age"]]
      surname followup_postcode followup_commune followup_territory   age
    0  MARTIN             41000            Blois           ml_blois    16
    1    <NA>             75001             <NA>            hors_41  <NA>
    """
    id_cols = [c for c in identities.columns if c != C.source_file]
    ids = identities[id_cols].drop_duplicates(C.apprentice_key, keep="last")
    ids = ids.astype({c: "string" for c in ids.columns if c != C.birth_date})
    ids = ids.rename(columns={C.residence_postcode: "_id_postcode", C.sex: "_id_sex"})
    drop = [c for c in ids.columns if c in rows.columns and c != C.apprentice_key]
    out = rows.drop(columns=drop).merge(ids, on=C.apprentice_key, how="left", indicator=True)
    out.index = rows.index
    has_id = (out.pop("_merge") == "both") & rows[C.apprentice_key].notna()
    contract_pc = (
        rows[C.residence_postcode] if C.residence_postcode in rows else pd.Series(pd.NA, index=rows.index)
    )
    pc = _clean_postcode(out["_id_postcode"] if "_id_postcode" in out else pd.Series(pd.NA, index=out.index))
    pc = pc.fillna(_clean_postcode(contract_pc))
    terr = referential.territory_of(pc).fillna(NO_POSTCODE)
    table = referential.territories()
    first_commune = table.drop_duplicates("postcode").set_index("postcode")["commune"]
    commune = (
        out[C.commune].astype("string")
        if C.commune in out
        else pd.Series(pd.NA, index=out.index, dtype="string")
    )
    # SIFA's COM_RESID is an INSEE code (41018), not a name: use the postcode's commune instead
    commune = commune.mask(commune.str.fullmatch(r"\s*[0-9][0-9AB][0-9]{3}\s*").fillna(False))
    commune = commune.fillna(pc.map(first_commune).astype("string"))
    birth = out[C.birth_date] if C.birth_date in out else pd.Series(pd.NaT, index=out.index)
    fallback = (
        rows[C.age_at_start].astype("Int64")
        if C.age_at_start in rows
        else pd.Series(pd.NA, index=out.index, dtype="Int64")
    )
    start = rows[C.start_date] if C.start_date in rows else pd.Series(pd.NaT, index=out.index)
    event = rows.get(EVENT_DATE, start)
    out = out.drop(columns=[c for c in ("_id_postcode", "_id_sex") if c in out])
    return out.assign(
        **{
            HAS_IDENTITY: has_id.astype(bool),
            POSTCODE: pc,
            COMMUNE: commune,
            TERRITORY: terr.astype("string"),
            AGE: age_in_years(birth, ref_date),
            AGE_AT_START: age_in_years(birth, start).fillna(fallback),
            AGE_AT_EVENT: age_in_years(birth, event).fillna(fallback),
        }
    )


def _clean_postcode(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip()
    ok = s.str.fullmatch(r"\d{4,5}").fillna(False)
    return s.where(ok).str.zfill(5)


# --------------------------------------------------------------------------------------------------
# the rule of each structure (territories; MLDS: age or school just before the contract)
# --------------------------------------------------------------------------------------------------
CERFA_SITUATIONS: Final = frozenset(str(i) for i in range(1, 13))
"""Codes of "Situation avant ce contrat" in the CERFA nomenclature (1 scolaire ... 12 inactif)."""
SIFA_SITUATIONS: Final = frozenset({"11", "12", "21", "31", "41", "51", "52", "53", "54", "90", "99"})
"""Codes of SIT_AV_APP in the SIFA nomenclature (11 collège ... 99 inconnue)."""


def situation_is_sifa(rows: pd.DataFrame) -> pd.Series:
    """Whether each row's ``situation_before`` is a SIFA code (else a CERFA code).

    A code valid in one nomenclature only belongs to it (``1`` CERFA; ``21``, ``31`` SIFA); the codes
    valid in both (``11``, ``12``: CERFA demandeur d'emploi / inactif, SIFA collège / IME) are read as
    SIFA when a SIFA file fed the contract (``source`` or ``sources`` names ``sifa``), else as CERFA.

    >>> rows = pd.DataFrame({"situation_before": ["1", "21", "11", "11"],
    ...                      "sources": ["chamber:a.csv:2", "deca_extract:x:3;sifa:s.csv:9",
    ...                                  "chamber:a.csv:3", "deca_extract:x:4;sifa:s.csv:10"]})
    >>> situation_is_sifa(rows).tolist()
    [False, True, False, True]
    """
    sit = rows[C.situation_before].astype("string").str.strip().str.lstrip("0")
    fed = pd.Series(False, index=rows.index)
    if C.source in rows:
        fed |= (rows[C.source] == "sifa").fillna(False).astype(bool)
    if C.sources in rows:
        fed |= (
            rows[C.sources]
            .astype("string")
            .str.contains(r"(?:^|;)sifa:", regex=True)
            .fillna(False)
            .astype(bool)
        )
    only_sifa = sit.isin(SIFA_SITUATIONS) & ~sit.isin(CERFA_SITUATIONS)
    both = sit.isin(SIFA_SITUATIONS) & sit.isin(CERFA_SITUATIONS)
    return (only_sifa | (both & fed)).fillna(False).astype(bool)


def structure_mask(rows: pd.DataFrame, structure: Mapping[Any, Any]) -> pd.Series:
    """Rows (after :func:`attach_identity`) that belong on ``structure``'s list.

    Mission Locale: the territory is one of its territories. MLDS: the same, and the MLDS rule
    (under ``mlds_max_age`` at the contract start or at the event, or "scolaire" just before the
    contract: ``situation_before`` in the CERFA or the SIFA codes, by :func:`situation_is_sifa`,
    or ``last_class`` in ``mlds_last_class``), restricted to its public: at most
    ``mlds_max_age_now`` years old at the reference date (else at the contract start).
    """
    terr = rows[TERRITORY].isin(list(structure["territories"])).fillna(False).astype(bool)
    if structure["kind"] != "mlds":
        return terr
    rule = pd.Series(False, index=rows.index)
    max_age = structure.get("mlds_max_age")
    if max_age is not None and not pd.isna(max_age):
        age = rows[AGE_AT_EVENT if structure.get("mlds_age_at") == "event" else AGE_AT_START]
        rule |= (age < int(max_age)).fillna(False).astype(bool)
    if C.situation_before in rows:
        sit = rows[C.situation_before].astype("string").str.strip().str.lstrip("0")
        cerfa = {str(c).lstrip("0") for c in structure.get("mlds_situation_cerfa", ())}
        sifa = {str(c).lstrip("0") for c in structure.get("mlds_situation_sifa", ())}
        as_sifa = situation_is_sifa(rows)
        school = (sit.isin(cerfa) & ~as_sifa) | (sit.isin(sifa) & as_sifa)
        rule |= school.fillna(False).astype(bool)
    last_codes = set(structure.get("mlds_last_class", ()))
    if last_codes and C.last_class in rows:
        rule |= rows[C.last_class].astype("string").str.strip().isin(last_codes).fillna(False).astype(bool)
    max_now = structure.get("mlds_max_age_now")
    if max_now is not None and not pd.isna(max_now):
        age_now = rows[AGE].fillna(rows[AGE_AT_START])
        rule &= (age_now <= int(max_now)).fillna(False).astype(bool)
    return terr & rule
