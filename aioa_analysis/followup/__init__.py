"""Monthly follow-up lists for the Missions Locales and the MLDS (personal data: handle as such).

Each month, every structure that follows young people receives one workbook with three lists for
the young people of its territory:

* **Contrats signés**: contracts whose start date falls in the month, plus contracts *signed* in the
  month that start later (they appear again in the month they start);
* **Ruptures**: ruptures that took effect in the month, plus earlier ruptures still without a new
  contract at the reference date, with the days since the rupture and the date the 180-day window
  closes (``rupture_date + 180 days``: from that day on, without a new contract, the young person
  counts as having left apprenticeship, the Tableau de bord's ``ABANDON`` status). An earlier rupture
  is listed while its window is open at the reference date (day 0..179); a later contract of the
  same apprentice starting on or after the rupture date, and started or signed by the reference
  date, closes the case;
* **Résultats diplôme**: results of the exam session that closed in the month (the month of the
  result date when known, else July of the session year), admitted or not.

The **reference date** is the last day of the month, or the extraction date ``as_of`` when the data
stop earlier. Ages are full years at the reference date.

**Routing.** The territory of a young person comes from the residence postcode of the identity
store (latest known), else of the contract, through the shipped ``territories.csv``. Structures and
the territories they cover come from the shipped, editable ``followup_structures.csv``: a Mission
Locale lists the young people of its territories; the MLDS lists, **in addition to** the Mission
Locale of the territory, the young people living in Loir-et-Cher under 18 at the contract start (editable
``mlds_max_age``/``mlds_age_at``), or who were at school just before the contract (situation before
the contract "scolaire": CERFA code 1, SIFA codes 11/12/21/31), i.e. who left school less than a
year before it. Young people living outside Loir-et-Cher (``hors_41``), with a Loir-et-Cher postcode
missing from ``territories.csv`` (``inconnu``: the MLDS list may include them) or without any postcode
(``sans_code_postal``) appear in no Mission Locale list; they are counted in the manifest.

**Identities** come only from the restricted identity store, joined on ``apprentice_key``; the
contract table never holds them. Text cells a spreadsheet would execute are neutralised
(:func:`neutralise_cell`). Workbooks and the manifest are written atomically with mode 0600 into a
0700 folder (:func:`write_followup`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.errors import ConfigError, OutputError, ParameterError
from aioa_analysis.core.formatting import fr_month
from aioa_analysis.core.schema import DECA_EXCLUDED_STATUSES, C

STRUCTURES_FILE: Final = "followup_structures.csv"
KINDS: Final = ("mission_locale", "mlds")
WINDOW_DAYS: Final = 180
"""Days after a rupture without a new contract before the Tableau de bord counts an ABANDON."""
SESSION_CLOSE_MONTH: Final = 7
"""Month an exam session closes when a result carries no date (results are published in July)."""

SHEET_README: Final = "Lisez-moi"
SHEET_SIGNED: Final = "Contrats signés"
SHEET_RUPTURES: Final = "Ruptures"
SHEET_DIPLOMA: Final = "Résultats diplôme"
DATA_SHEETS: Final = (SHEET_SIGNED, SHEET_RUPTURES, SHEET_DIPLOMA)

MANIFEST_NAME: Final = "manifest.json"
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet (or a CSV export of it) evaluate a cell (OWASP)."""

# internal (English) working columns ---------------------------------------------------------------
TERRITORY = "followup_territory"
POSTCODE = "followup_postcode"
COMMUNE = "followup_commune"
AGE = "age"
AGE_AT_START = "age_at_start_followup"
AGE_AT_EVENT = "age_at_event"
EVENT_DATE = "event_date"
REASON = "reason"
DAYS_SINCE = "days_since_rupture"
WINDOW_CLOSE = "window_close_date"
NEW_CONTRACT = "new_contract_start"
HAS_IDENTITY = "has_identity"
NO_POSTCODE: Final = "sans_code_postal"
"""Territory key of a row without any residence postcode (routed to no structure by default)."""
RESULT_DATE = "result_date"

_PERSON = {
    C.surname: "NOM",
    C.first_name: "Prénom",
    C.birth_date: "Date de naissance",
    AGE: "Age",
    POSTCODE: "Code postal de résidence",
    COMMUNE: "Ville de résidence",
    C.phone: "Téléphone",
    C.email: "Email",
}
_TRAINING = {
    C.diploma_title: "Intitulé de la formation",
    C.diploma_code: "Code diplôme",
    C.cfa_name: "Nom du CFA",
    C.cfa_uai: "UAI du CFA",
}
SHEET_COLUMNS: Final[dict[str, dict[str, str]]] = {
    SHEET_SIGNED: {
        **_PERSON,
        **_TRAINING,
        C.signature_date: "Date de signature",
        C.start_date: "Date début contrat",
        C.planned_end_date: "Date fin de contrat",
        REASON: "Motif de la ligne",
    },
    SHEET_RUPTURES: {
        **_PERSON,
        **_TRAINING,
        C.start_date: "Date début contrat",
        C.planned_end_date: "Date fin de contrat",
        C.rupture_date: "Date rupture contrat",
        REASON: "Motif de la ligne",
        DAYS_SINCE: "Jours depuis la rupture",
        WINDOW_CLOSE: "Fin de la fenêtre de 180 jours",
        NEW_CONTRACT: "Nouveau contrat débuté le",
        C.rupture_after_diploma: "Rupture après obtention du diplôme",
    },
    SHEET_DIPLOMA: {
        **_PERSON,
        C.diploma_code: "Code diplôme",
        C.diploma_title: "Intitulé de la formation",
        C.exam_session: "Session",
        C.exam_result: "Résultat",
        C.diploma_obtained: "Diplôme obtenu",
        RESULT_DATE: "Date du résultat",
        C.cfa_name: "Nom du CFA",
        C.start_date: "Date début contrat",
        C.planned_end_date: "Date fin de contrat",
        C.rupture_date: "Date rupture contrat",
    },
}
"""Internal column -> French header, per data sheet, in output order (after the ML template)."""

RESULT_LABELS: Final = {"admis": "Admis", "ajourne": "Ajourné", "absent": "Absent"}
REASON_START = "Début du contrat dans le mois"
REASON_SIGNED = "Contrat signé dans le mois, début ultérieur"
REASON_RUPTURE_MONTH = "Rupture du mois"
REASON_RUPTURE_OPEN = "Rupture antérieure, toujours sans nouveau contrat"


# --------------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------------
def parse_month(text: object) -> pd.Period:
    """Parse a ``YYYY-MM`` month, or raise a one-line :class:`ParameterError`.

    >>> parse_month("2025-09")
    Period('2025-09', 'M')
    >>> parse_month("2025-13")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: --month '2025-13' is not a month — use the form YYYY-MM, e.g. --month 2025-09
    """
    s = str(text).strip() if text is not None else ""
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise ParameterError(
            f"--month {s!r} is not a month", hint="use the form YYYY-MM, e.g. --month 2025-09"
        )
    return pd.Period(s, freq="M")


def month_bounds(month: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``month`` (both included).

    >>> month_bounds(pd.Period("2024-02", "M"))
    (Timestamp('2024-02-01 00:00:00'), Timestamp('2024-02-29 00:00:00'))
    """
    return month.start_time.normalize(), month.end_time.normalize()


def reference_date(month: pd.Period, as_of: pd.Timestamp) -> pd.Timestamp:
    """The date the lists are computed at: the month's last day, or ``as_of`` if the data stop earlier.

    A month that starts after ``as_of`` is not covered by the data: :class:`ParameterError`.

    >>> reference_date(pd.Period("2025-09", "M"), pd.Timestamp("2025-11-30"))
    Timestamp('2025-09-30 00:00:00')
    >>> reference_date(pd.Period("2025-11", "M"), pd.Timestamp("2025-11-15"))
    Timestamp('2025-11-15 00:00:00')
    """
    first, last = month_bounds(month)
    as_of = pd.Timestamp(as_of).normalize()
    if first > as_of:
        raise ParameterError(
            f"--month {month} starts after the data extraction date {as_of.date()}",
            hint="choose an earlier month or rerun `aioa clean` on a newer extract",
        )
    return min(last, as_of)


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
    ``mlds_situation_cerfa`` / ``mlds_situation_sifa`` (codes of the situation before the contract
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
    for col in ("mlds_max_age", "mlds_age_at", "mlds_situation_cerfa", "mlds_situation_sifa"):
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
    mlds = t["kind"] == "mlds"
    if (mlds & max_age.isna() & (t["mlds_max_age"].str.strip() != "")).any():
        raise ConfigError(f"{STRUCTURES_FILE}: mlds_max_age must be a number", hint="e.g. 18")
    age_at = t["mlds_age_at"].str.strip().replace("", "start")
    if (~age_at.isin(["start", "event"])).any():
        raise ConfigError(f"{STRUCTURES_FILE}: mlds_age_at must be start or event", hint="e.g. start")
    return t.assign(
        territories=terr,
        mlds_max_age=max_age.astype("Int64"),
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
# list building (pure)
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


def _active(contracts: pd.DataFrame) -> pd.DataFrame:
    """Contracts that are real contracts (no cancelled/deleted DECA rows, no amendment rows)."""
    keep = pd.Series(True, index=contracts.index)
    if C.deca_status in contracts:
        keep &= ~contracts[C.deca_status].isin(DECA_EXCLUDED_STATUSES).fillna(False)
    if C.contract_kind in contracts:
        keep &= (contracts[C.contract_kind] != "avenant").fillna(True)
    return contracts.loc[keep.to_numpy()]


def select_signed(contracts: pd.DataFrame, *, month: pd.Period) -> pd.DataFrame:
    """Contracts for the "Contrats signés" sheet of ``month``.

    A contract is listed when its start date falls in the month (``reason`` = start), or when it was
    signed in the month and starts after it (``reason`` = signed; it is listed again the month it
    starts). ``event_date`` is the start date (the MLDS "at the event" age is taken then).

    >>> df = pd.DataFrame({
    ...     "contract_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2025-09-01", "2025-09-30", "2025-10-01", "2025-10-06"]),
    ...     "signature_date": pd.to_datetime([None, "2025-08-20", "2025-08-25", "2025-09-12"]),
    ... })
    >>> select_signed(df, month=pd.Period("2025-09", "M"))[["contract_id", "reason"]]
      contract_id                                       reason
    0           a                Début du contrat dans le mois
    1           b                Début du contrat dans le mois
    3           d  Contrat signé dans le mois, début ultérieur
    """
    first, last = month_bounds(month)
    df = _active(contracts)
    start = df[C.start_date]
    by_start = (start >= first) & (start <= last)
    if C.signature_date in df:
        sig = df[C.signature_date]
        by_sig = (sig >= first) & (sig <= last) & (start > last)
    else:
        by_sig = pd.Series(False, index=df.index)
    by_start = by_start.fillna(False).astype(bool)
    by_sig = by_sig.fillna(False).astype(bool)
    out = df.loc[by_start | by_sig]
    reason = pd.Series(REASON_START, index=out.index, dtype="string").mask(by_sig[out.index], REASON_SIGNED)
    return out.assign(**{REASON: reason, EVENT_DATE: out[C.start_date]})


def select_ruptures(contracts: pd.DataFrame, *, month: pd.Period, ref_date: pd.Timestamp) -> pd.DataFrame:
    """Ruptures for the "Ruptures" sheet of ``month``, computed at ``ref_date``.

    A rupture is a contract with ``rupture_date <= ref_date`` and before its planned end. Listed:

    * every rupture that took effect in the month (first to last day included);
    * every earlier rupture without a new contract and whose 180-day window is still open at
      ``ref_date``: ``days_since_rupture = ref_date - rupture_date`` is 0..179 days. The window closes
      on ``rupture_date + 180 days`` (``window_close_date``), the day the Tableau de bord counts the
      young person as having left apprenticeship (ABANDON).

    A new contract is another contract of the same ``apprentice_key`` starting on or after the
    rupture date and started (or signed) by ``ref_date``; ``new_contract_start`` is its start date.

    >>> df = pd.DataFrame({
    ...     "contract_id": ["m1", "old_open", "old_closed", "new", "old_late"],
    ...     "apprentice_key": ["k1", "k2", "k3", "k3", "k4"],
    ...     "start_date": pd.to_datetime(["2025-01-06", "2025-01-06", "2025-01-06", "2025-08-01", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-06-30"] * 5),
    ...     "rupture_date": pd.to_datetime(["2025-09-01", "2025-06-01", "2025-06-01", None, "2025-04-03"]),
    ... })
    >>> out = select_ruptures(df, month=pd.Period("2025-09", "M"), ref_date=pd.Timestamp("2025-09-30"))
    >>> out[["contract_id", "days_since_rupture"]].to_string(index=False)
    'contract_id  days_since_rupture\\n         m1                  29\\n   old_open                 121'
    """
    first, last = month_bounds(month)
    ref = pd.Timestamp(ref_date).normalize()
    df = _active(contracts)
    rupt = df[C.rupture_date]
    before_end = (rupt < df[C.planned_end_date]).fillna(True) if C.planned_end_date in df else True
    is_rupture = (rupt.notna() & (rupt <= ref) & before_end).fillna(False).astype(bool)
    r = df.loc[is_rupture]
    new_start = _next_contract_start(df, r, ref)
    days = (ref - r[C.rupture_date]).dt.days.astype("Int64")
    close = r[C.rupture_date] + pd.Timedelta(days=WINDOW_DAYS)
    in_month = ((r[C.rupture_date] >= first) & (r[C.rupture_date] <= last)).astype(bool)
    open_earlier = (r[C.rupture_date] < first) & new_start.isna() & (days < WINDOW_DAYS)
    keep = (in_month | open_earlier.fillna(False)).astype(bool)
    reason = pd.Series(REASON_RUPTURE_OPEN, index=r.index, dtype="string").mask(
        in_month, REASON_RUPTURE_MONTH
    )
    return r.assign(
        **{
            REASON: reason,
            DAYS_SINCE: days,
            WINDOW_CLOSE: close,
            NEW_CONTRACT: new_start,
            EVENT_DATE: r[C.rupture_date],
        }
    ).loc[keep.to_numpy()]


def _next_contract_start(all_contracts: pd.DataFrame, ruptures: pd.DataFrame, ref: pd.Timestamp) -> pd.Series:
    """Earliest start of another contract of the same apprentice on/after each rupture, known at ``ref``."""
    empty = pd.Series(pd.NaT, index=ruptures.index, dtype="datetime64[ns]")
    if ruptures.empty or C.apprentice_key not in all_contracts:
        return empty
    cols = [C.contract_id, C.apprentice_key, C.start_date]
    other = all_contracts[cols + ([C.signature_date] if C.signature_date in all_contracts else [])]
    known = other[C.start_date] <= ref
    if C.signature_date in other:
        known = known | (other[C.signature_date] <= ref)
    other = other.loc[known.fillna(False).astype(bool) & other[C.apprentice_key].notna()]
    left = ruptures[[C.contract_id, C.apprentice_key, C.rupture_date]].assign(_row=ruptures.index)
    pairs = left.merge(other, on=C.apprentice_key, suffixes=("", "_next"))
    pairs = pairs.loc[
        (pairs[C.contract_id] != pairs[f"{C.contract_id}_next"])
        & (pairs[C.start_date] >= pairs[C.rupture_date])
    ]
    first_next = pairs.groupby("_row")[C.start_date].min()
    return empty.fillna(first_next.reindex(ruptures.index)).astype("datetime64[ns]")


def result_dates(results: pd.DataFrame, *, close_month: int = SESSION_CLOSE_MONTH) -> pd.Series:
    """Date each exam result became known: ``diploma_obtained_date``, else day 1 of ``close_month``.

    >>> r = pd.DataFrame({"exam_session": ["2025", "2025", "x"],
    ...                   "diploma_obtained_date": pd.to_datetime(["2025-06-27", None, None])})
    >>> result_dates(r).dt.strftime("%Y-%m-%d").tolist()
    ['2025-06-27', '2025-07-01', nan]
    """
    year = results[C.exam_session].astype("string").str.slice(0, 4)
    year = year.where(year.str.fullmatch(r"\d{4}").fillna(False))
    fallback = pd.to_datetime(year + f"-{close_month:02d}-01", errors="coerce").astype("datetime64[ns]")
    if C.diploma_obtained_date in results:
        return results[C.diploma_obtained_date].astype("datetime64[ns]").fillna(fallback)
    return fallback


def select_diploma_results(
    exams: pd.DataFrame | None,
    contracts: pd.DataFrame,
    *,
    month: pd.Period,
    ref_date: pd.Timestamp,
    close_month: int = SESSION_CLOSE_MONTH,
) -> pd.DataFrame:
    """Exam results of the session that closed in ``month`` (result date in the month, up to ``ref_date``).

    Results come from ``exam_results.parquet`` (``exams``) and, for results not found there, from the
    outcome columns of the contract table (``exam_session``, ``diploma_outcome``). Each result is
    joined to the apprentice's contract for that diploma (else the latest contract) for training,
    CFA and contract dates. ``diploma_obtained`` is True for ``admis``.

    >>> exams = pd.DataFrame({"apprentice_key": ["k1", "k2"], "diploma_code": ["50022109"] * 2,
    ...     "exam_session": ["2025", "2025"], "exam_result": ["admis", "ajourne"],
    ...     "diploma_obtained_date": pd.to_datetime(["2025-07-04", None])})
    >>> contracts = pd.DataFrame({"contract_id": ["c1"], "apprentice_key": ["k1"],
    ...     "diploma_code": ["50022109"], "start_date": pd.to_datetime(["2023-09-04"])})
    >>> out = select_diploma_results(exams, contracts, month=pd.Period("2025-07", "M"),
    ...                              ref_date=pd.Timestamp("2025-07-31"))
    >>> out[["apprentice_key", "exam_result", "diploma_obtained", "contract_id"]]
      apprentice_key exam_result  diploma_obtained contract_id
    0             k1       admis              True          c1
    1             k2     ajourne             False        <NA>
    """
    first, last = month_bounds(month)
    cols = [C.apprentice_key, C.diploma_code, C.exam_session, C.exam_result, C.diploma_obtained_date]
    frames = []
    if exams is not None and len(exams):
        e = exams.reindex(columns=cols)
        frames.append(e.assign(**{C.exam_result: e[C.exam_result].astype("string").str.lower()}))
    if C.diploma_outcome in contracts and C.exam_session in contracts:
        dated = (
            contracts[C.diploma_obtained_date].notna()
            if C.diploma_obtained_date in contracts
            else pd.Series(False, index=contracts.index)
        )
        known = contracts[C.diploma_outcome].isin(list(RESULT_LABELS)) & (
            contracts[C.exam_session].notna() | dated
        )
        c = contracts.loc[known.fillna(False).astype(bool)]
        if frames:  # the results file wins: contract outcomes only for sessions it does not cover
            seen = pd.MultiIndex.from_frame(frames[0][[C.apprentice_key, C.exam_session]].astype("string"))
            mine = pd.MultiIndex.from_frame(c[[C.apprentice_key, C.exam_session]].astype("string"))
            c = c.loc[~mine.isin(seen)]
        frames.append(
            c.reindex(columns=[*cols[:3], C.diploma_outcome, C.diploma_obtained_date]).rename(
                columns={C.diploma_outcome: C.exam_result}
            )
        )
    if not frames:
        res = pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    else:
        res = pd.concat(
            [f.astype({C.diploma_obtained_date: "datetime64[ns]"}) for f in frames], ignore_index=True
        )
        res = res.drop_duplicates([C.apprentice_key, C.diploma_code, C.exam_session], keep="first")
    res = res.assign(**{RESULT_DATE: result_dates(res, close_month=close_month)})
    in_month = (res[RESULT_DATE] >= first) & (res[RESULT_DATE] <= min(last, ref_date))
    res = res.loc[in_month.fillna(False).astype(bool)].reset_index(drop=True)
    res = res.assign(
        **{
            C.diploma_obtained: (res[C.exam_result] == "admis").astype("boolean"),
            EVENT_DATE: res[RESULT_DATE],
        }
    )
    return _attach_contract(res, contracts)


def _attach_contract(results: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Join each result to the apprentice's contract for the diploma, else the latest contract.

    The contract's training title is kept only when its diploma code matches the result's.
    """
    ctr = _active(contracts).sort_values(C.start_date, na_position="first", kind="stable")
    key, code, cid = C.apprentice_key, C.diploma_code, C.contract_id
    same = ctr.drop_duplicates([key, code], keep="last")[[key, code, cid]]
    latest = ctr.drop_duplicates(key, keep="last")[[key, cid]]
    by_code = results[[key, code]].merge(same, on=[key, code], how="left")[cid]
    by_key = results[[key]].merge(latest, on=key, how="left")[cid]
    chosen = by_code.fillna(by_key).to_numpy()
    extra = ctr.drop(columns=[c for c in ctr.columns if c in results.columns and c != cid])
    chosen_ids = pd.array(chosen, dtype="string")
    out = results.assign(**{cid: chosen_ids}).merge(extra.astype({cid: "string"}), on=cid, how="left")
    if C.diploma_title in out:
        out = out.assign(**{C.diploma_title: out[C.diploma_title].where(by_code.notna().to_numpy())})
    return out


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
    or ``last_class`` in ``mlds_last_class``).
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
    return terr & rule


def sheet_frame(rows: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """The rows as the workbook shows them: French headers (``SHEET_COLUMNS``), sorted by name (case-insensitive).

    Booleans become ``Oui``/``Non``; exam results get their French label; dates stay dates.
    """
    mapping = SHEET_COLUMNS[sheet]
    df = rows.reindex(columns=list(mapping))
    for col in (C.rupture_after_diploma, C.diploma_obtained):
        if col in mapping:
            df[col] = df[col].astype("boolean").map({True: "Oui", False: "Non"}).astype("string")
    if C.exam_result in mapping:
        df[C.exam_result] = (
            df[C.exam_result].astype("string").map(lambda v: RESULT_LABELS.get(v, v) if pd.notna(v) else v)
        )
    sort_cols = [c for c in (C.surname, C.first_name) if c in df]
    if sort_cols:
        df = df.sort_values(
            sort_cols, na_position="last", kind="stable", key=lambda s: s.astype("string").str.casefold()
        )
    return df.rename(columns=mapping).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# everything for one month
# --------------------------------------------------------------------------------------------------
@dataclass
class FollowupLists:
    """The lists of one month: one dict of sheet -> frame (French headers) per structure, and counts."""

    month: pd.Period
    as_of: pd.Timestamp
    ref_date: pd.Timestamp
    structures: pd.DataFrame
    sheets: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    not_routed: dict[str, dict[str, int]] = field(default_factory=dict)
    without_identity: dict[str, int] = field(default_factory=dict)
    synthetic: bool = False  # built from the synthetic sample: the Lisez-moi sheet says so

    def counts(self) -> dict[str, dict[str, int]]:
        """Structure -> sheet -> number of rows (no names)."""
        return {s: {k: len(v) for k, v in sh.items()} for s, sh in self.sheets.items()}


def build_followup(
    contracts: pd.DataFrame,
    identities: pd.DataFrame,
    exams: pd.DataFrame | None,
    *,
    month: pd.Period,
    as_of: pd.Timestamp,
    structures: pd.DataFrame,
    all_structures: pd.DataFrame | None = None,
) -> FollowupLists:
    """Build every list of ``month`` for ``structures`` (pure: nothing is read or written).

    ``all_structures`` (default: ``structures``) defines which territories some Mission Locale
    covers; rows outside them are counted in ``not_routed`` per sheet and territory.
    """
    ref = reference_date(month, as_of)
    raw = {
        SHEET_SIGNED: select_signed(contracts, month=month),
        SHEET_RUPTURES: select_ruptures(contracts, month=month, ref_date=ref),
        SHEET_DIPLOMA: select_diploma_results(exams, contracts, month=month, ref_date=ref),
    }
    enriched = {k: attach_identity(v, identities, ref_date=ref) for k, v in raw.items()}
    every = structures if all_structures is None else all_structures
    ml_terr = {
        t
        for ts, k in zip(every["territories"], every["kind"], strict=True)
        if k == "mission_locale"
        for t in ts
    }
    lists = FollowupLists(
        month=month, as_of=pd.Timestamp(as_of).normalize(), ref_date=ref, structures=structures
    )
    for sheet, rows in enriched.items():
        lists.totals[sheet] = len(rows)
        outside = rows.loc[~rows[TERRITORY].isin(ml_terr).fillna(False).astype(bool), TERRITORY]
        lists.not_routed[sheet] = {str(k): int(v) for k, v in outside.value_counts().sort_index().items()}
        lists.without_identity[sheet] = int((~rows[HAS_IDENTITY]).sum())
    for struct in structures.to_dict("records"):
        lists.sheets[struct["structure"]] = {
            sheet: sheet_frame(rows.loc[structure_mask(rows, struct).to_numpy()], sheet)
            for sheet, rows in enriched.items()
        }
    return lists


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------
def neutralise_cell(value: object) -> object:
    """Make a text value inert in a spreadsheet: strip XML-illegal characters, and prefix ``'`` when
    it starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP CSV injection).

    Non-text values are returned unchanged.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("+33 6 12 34 56 78"), neutralise_cell("Léa"), neutralise_cell(3)
    ("'+33 6 12 34 56 78", 'Léa', 3)
    >>> neutralise_cell("\\x01@SUM(A1)")
    "'@SUM(A1)"
    """
    if not isinstance(value, str):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _py(value: object) -> object:
    """A pandas scalar as a value openpyxl writes (dates as dates, NA as empty)."""
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if hasattr(value, "item"):
        return value.item()  # numpy scalar
    return neutralise_cell(value)


def fr_date(ts: object) -> str:
    """``JJ/MM/AAAA`` (empty when missing).

    >>> fr_date(pd.Timestamp("2025-09-30"))
    '30/09/2025'
    """
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%d/%m/%Y")  # type: ignore[arg-type,call-overload]


def month_label(month: pd.Period) -> str:
    """``septembre 2025``.

    >>> month_label(pd.Period("2025-09", "M"))
    'septembre 2025'
    """
    return f"{fr_month(month.month)} {month.year}"


def readme_lines(lists: FollowupLists, structure: Mapping[Any, Any]) -> list[tuple[str, str]]:
    """The "Lisez-moi" sheet as (label, text) rows, in French."""
    ref = fr_date(lists.ref_date)
    labels = referential.territory_labels()
    counts = lists.counts()[structure["structure"]]
    terr = ", ".join(labels.get(t, t) for t in structure["territories"])
    lines: list[tuple[str, str]] = [
        ("", f"Liste de suivi mensuel — {structure['label']} — {month_label(lists.month)}"),
        *(
            [
                (
                    "DONNÉES FICTIVES",
                    "Liste produite à partir de l'échantillon synthétique : personnes inventées.",
                )
            ]
            if lists.synthetic
            else []
        ),
        (
            "À quoi sert cette liste",
            "Chaque mois, les jeunes de votre territoire qui ont signé un contrat d'apprentissage, dont le "
            "contrat a été rompu, ou qui ont obtenu (ou non) leur diplôme, pour qu'aucun jeune en rupture "
            "ne reste sans accompagnement.",
        ),
        (
            "Confidentialité",
            "Merci de ne pas diffuser ces listes. Elles contiennent des données personnelles réservées aux "
            "conseillers de la structure destinataire : ne pas les transmettre, les conserver dans un espace "
            "protégé et les supprimer dès qu'elles ne sont plus utiles.",
        ),
        ("Structure destinataire", f"{structure['label']} ({structure['structure']})"),
        ("Territoire couvert", terr),
    ]
    if structure["kind"] == "mlds":
        lines.append(("Règle MLDS", str(structure.get("rule", "") or "")))
        lines.append(("", "Ces jeunes figurent aussi sur la liste de la Mission Locale de leur territoire."))
    lines += [
        ("Mois", f"{month_label(lists.month)} ({lists.month})"),
        ("Date d'extraction des données", fr_date(lists.as_of)),
        ("Situation arrêtée au", ref),
        *[(f"Nombre de lignes — {s}", str(counts[s])) for s in DATA_SHEETS],
        ("", ""),
        (
            SHEET_SIGNED,
            "Contrats dont la date de début tombe dans le mois, et contrats signés dans le mois qui "
            "commencent plus tard (ils réapparaissent le mois de leur début).",
        ),
        (
            SHEET_RUPTURES,
            "Ruptures prenant effet dans le mois, et ruptures antérieures toujours sans nouveau contrat au "
            f"{ref}. Les jours depuis la rupture sont comptés au {ref}. La fenêtre de 180 jours se ferme "
            "180 jours après la date de rupture : à partir de cette date, sans nouveau contrat, le jeune est "
            "compté comme sorti de l'apprentissage (statut « abandon » du Tableau de bord de "
            "l'apprentissage) et ne figure plus dans cette liste.",
        ),
        (
            SHEET_DIPLOMA,
            "Résultats de la session d'examen close dans le mois (date du résultat, à défaut juillet de "
            "l'année de session) : « Oui » = diplôme obtenu (admis), « Non » = ajourné ou absent.",
        ),
        ("Age", f"Âge en années révolues au {ref}."),
        (
            "Hors territoire",
            "Les jeunes résidant hors du Loir-et-Cher, ou dont le code postal est absent ou inconnu de la "
            "table des territoires, ne figurent sur aucune liste de Mission Locale ; ils sont dénombrés "
            "dans le manifeste.",
        ),
        ("Sources", "Contrats : DECA, Tableau de bord, SIFA, chambres consulaires ; résultats d'examen."),
    ]
    return lines


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], readme: Sequence[tuple[str, str]]) -> Path:
    """Write one follow-up workbook ("Lisez-moi" first) atomically with mode 0600; return ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_README
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 110
    for i, (label, text) in enumerate(readme, start=1):
        ws.cell(row=i, column=1, value=neutralise_cell(label)).font = Font(bold=True)
        cell = ws.cell(row=i, column=2, value=neutralise_cell(text))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1:
            cell.font = Font(bold=True, size=13)
    for name in DATA_SHEETS:
        df = sheets[name]
        sh = wb.create_sheet(name)
        for j, header in enumerate(df.columns, start=1):
            sh.cell(row=1, column=j, value=neutralise_cell(header)).font = Font(bold=True)
            sh.column_dimensions[sh.cell(row=1, column=j).column_letter].width = max(
                12, min(40, len(header) + 2)
            )
        for i, row in enumerate(df.itertuples(index=False), start=2):
            for j, value in enumerate(row, start=1):
                cell = sh.cell(row=i, column=j, value=_py(value))
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
        sh.freeze_panes = "A2"
        if len(df.columns):
            sh.auto_filter.ref = (
                f"A1:{sh.cell(row=1, column=len(df.columns)).column_letter}{max(1, len(df) + 1)}"
            )
    with atomic_path(path, mode=0o600) as tmp:
        wb.save(tmp)
    return path


def workbook_name(structure: str, month: pd.Period) -> str:
    """File name of a structure's workbook.

    >>> workbook_name("ml_blois", pd.Period("2025-09", "M"))
    'suivi_ml_blois_2025-09.xlsx'
    """
    return f"suivi_{structure}_{month}.xlsx"


def default_out_dir(restricted: Path, month: pd.Period) -> Path:
    """``<restricted>/followup/YYYY-MM``."""
    return Path(restricted) / "followup" / str(month)


def manifest_dict(lists: FollowupLists, *, files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The manifest of a month: which list went to which structure, with counts only (no names)."""
    files = files or {}
    return {
        "month": str(lists.month),
        "as_of": lists.as_of.date().isoformat(),
        "reference_date": lists.ref_date.date().isoformat(),
        "lists": [
            {
                "structure": s["structure"],
                "label": s["label"],
                "kind": s["kind"],
                "territories": list(s["territories"]),
                "file": files.get(s["structure"]),
                "counts": lists.counts()[s["structure"]],
            }
            for s in lists.structures.to_dict("records")
        ],
        "rows_before_routing": dict(lists.totals),
        "not_in_any_mission_locale_list": lists.not_routed,
        "rows_without_identity": dict(lists.without_identity),
    }


def _ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700; enforce 0700 on ``path`` itself."""
    try:
        missing = [p for p in [path, *path.parents] if not p.exists()]
        for p in reversed(missing):
            p.mkdir(mode=0o700)
            os.chmod(p, 0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise OutputError(
            f"cannot create the private folder {path}: {exc.strerror}", hint="check --out"
        ) from exc


def write_followup(lists: FollowupLists, out_dir: Path, *, generated_at: str | None = None) -> list[Path]:
    """Write one workbook per structure and update the month's manifest; return the paths written.

    ``out_dir`` (the month folder) is created with mode 0700; files get mode 0600. The manifest keeps
    the entries of structures written by earlier runs for the same month and replaces the others.
    """
    out_dir = Path(out_dir)
    _ensure_private_dir(out_dir)
    written: list[Path] = []
    files: dict[str, str] = {}
    for struct in lists.structures.to_dict("records"):
        name = workbook_name(struct["structure"], lists.month)
        path = write_workbook(out_dir / name, lists.sheets[struct["structure"]], readme_lines(lists, struct))
        files[struct["structure"]] = name
        written.append(path)
    manifest = manifest_dict(lists, files=files)
    if generated_at:
        manifest["generated_at"] = generated_at
    mpath = out_dir / MANIFEST_NAME
    if mpath.is_file():
        try:
            previous = json.loads(mpath.read_text(encoding="utf-8"))
            if previous.get("month") == manifest["month"]:
                kept = [e for e in previous.get("lists", []) if e.get("structure") not in files]
                manifest["lists"] = sorted(kept + manifest["lists"], key=lambda e: str(e.get("structure")))
        except (OSError, ValueError, AttributeError):
            pass  # a damaged manifest is replaced
    with atomic_path(mpath, mode=0o600) as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(mpath)
    return written


def counts_table(lists: FollowupLists) -> str:
    """The counts of every list (and of rows in no Mission Locale list) as plain text, for --dry-run."""
    header = f"{'structure':<16}" + "".join(f"{s:>20}" for s in DATA_SHEETS)
    lines = [
        f"aioa followup {lists.month} (data as of {lists.as_of.date()}, reference date {lists.ref_date.date()})",
        header,
    ]
    for s, c in lists.counts().items():
        lines.append(f"{s:<16}" + "".join(f"{c[k]:>20}" for k in DATA_SHEETS))
    for sheet in DATA_SHEETS:
        nr = lists.not_routed.get(sheet, {})
        detail = ", ".join(f"{k}: {v}" for k, v in nr.items()) or "0"
        lines.append(f"not in any Mission Locale list — {sheet}: {detail}")
    lines.append(
        "rows without identity — " + ", ".join(f"{k}: {v}" for k, v in lists.without_identity.items())
    )
    return "\n".join(lines)
