"""Every list of one month, per structure: select the rows, attach identities, route, shape the sheets.

:func:`build_followup` is pure (nothing read or written): it returns a :class:`FollowupLists` with,
for each structure, one frame per data sheet with French headers (:data:`SHEET_COLUMNS`), plus the
counts the manifest reports (rows before routing, rows in no Mission Locale list, rows without
identity).

The rupture rows are split by the outcomes the advisers sent back (:mod:`.returns`):

* **Ruptures à traiter**: the month's ruptures, then earlier ones still inside the 180-day window
  with no new contract, without a "treated" outcome; sorted month first, then by priority (minor,
  RQTH, rupture in the first 45 days, no contact yet: one point each), newest first;
* **Déjà traités**: ruptures less than :data:`DONE_DAYS` days old with a treated outcome, with it;
* **Ruptures après diplôme**: ruptures after the diploma (L6222-19), a short sheet without contact.

Data minimisation: phone, e-mail and birth date only on the two sheets an adviser calls from
(:data:`CONTACT_SHEETS`); "Résultats diplôme" lists passes, and failures or absences only for young
people without a contract at the reference date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.schema import C
from aioa_analysis.followup import people
from aioa_analysis.followup.route import (
    AGE,
    COMMUNE,
    HAS_IDENTITY,
    TERRITORY,
    attach_identity,
    structure_mask,
)
from aioa_analysis.followup.select import (
    DAYS_SINCE,
    NEW_CONTRACT,
    REASON,
    REASON_RUPTURE_MONTH,
    RESULT_DATE,
    RESULT_LABELS,
    WINDOW_CLOSE,
    WINDOW_OPEN,
    reference_date,
    select_diploma_results,
    select_ruptures,
    select_signed,
    under_contract,
)

SHEET_TODO: Final = "Ruptures à traiter"
SHEET_DONE: Final = "Déjà traités"
SHEET_AFTER_DIPLOMA: Final = "Ruptures après diplôme"
SHEET_SIGNED: Final = "Contrats signés"
SHEET_DIPLOMA: Final = "Résultats diplôme"
SHEET_RUPTURES: Final = SHEET_TODO  # the work list (name kept for callers of the first version)
DATA_SHEETS: Final = (SHEET_TODO, SHEET_DONE, SHEET_AFTER_DIPLOMA, SHEET_SIGNED, SHEET_DIPLOMA)
CONTACT_SHEETS: Final = (SHEET_TODO, SHEET_DONE)
"""The sheets an adviser calls from: the only ones with phone, e-mail, birth date and adviser columns."""
DONE_DAYS: Final = 210
"""A treated rupture stays under "Déjà traités" this many days (room for the 6-month situation)."""

# internal working columns
FOLLOWUP_ID = "followup_id"
PRIORITY = "priority"
PRIORITY_WHY = "priority_reasons"
MONTHS_IN_FIRM = "months_in_firm"
REASON_LABEL = "rupture_reason_label"
EMPLOYER = "employer_label"
EMPLOYER_COMMUNE = "employer_commune"
CFA_CONTACT = "cfa_contact"
ADVISER = ("contact_date", "outcome", "situation_3m", "situation_6m", "comment")
"""Adviser fields (headers in the shipped ``followup_columns.csv``), in sheet order."""
KEY_FIELD = "key"

RUPTURE_REASONS: Final = referential.REASON_LABELS
"""French names of the rupture reasons (shared with the reports)."""


def adviser_headers() -> dict[str, str]:
    """Adviser field (and ``key``) -> French header, from the shipped ``followup_columns.csv``."""
    t = referential.load_table("followup_columns.csv")
    return dict(zip(t["field"], t["header"], strict=True))


_PERSON_CONTACT = {
    C.surname: "NOM",
    C.first_name: "Prénom",
    C.birth_date: "Date de naissance",
    AGE: "Âge",
    COMMUNE: "Commune",
    C.phone: "Téléphone",
    C.email: "E-mail",
}
_PERSON = {C.surname: "NOM", C.first_name: "Prénom", AGE: "Âge", COMMUNE: "Commune"}
_TRAINING = {
    C.diploma_title: "Formation",
    C.diploma_code: "Code diplôme",
    C.cfa_name: "CFA",
    C.cfa_uai: "UAI du CFA",
}
_RUPTURE = {
    **_TRAINING,
    CFA_CONTACT: "Contact CFA",
    EMPLOYER: "Employeur",
    EMPLOYER_COMMUNE: "Commune de l'employeur",
    C.start_date: "Date début contrat",
    C.planned_end_date: "Date de fin prévue",
    C.rupture_date: "Date de rupture",
    MONTHS_IN_FIRM: "Mois dans l'entreprise",
    REASON_LABEL: "Motif de rupture",
    DAYS_SINCE: "Jours depuis la rupture",
    WINDOW_CLOSE: "Fin de la fenêtre de 180 jours (obligation du CFA)",
    NEW_CONTRACT: "Nouveau contrat connu (début)",
    REASON: "Motif de la ligne",
}


def _sheet_columns() -> dict[str, dict[str, str]]:
    adviser = adviser_headers()
    work = {
        PRIORITY: "Priorité",
        PRIORITY_WHY: "Motifs de priorité",
        **_PERSON_CONTACT,
        **_RUPTURE,
        **{f: adviser[f] for f in ADVISER},
        FOLLOWUP_ID: adviser[KEY_FIELD],
    }
    return {
        SHEET_TODO: work,
        SHEET_DONE: {k: v for k, v in work.items() if k not in (PRIORITY, PRIORITY_WHY)},
        SHEET_AFTER_DIPLOMA: {
            **_PERSON,
            **_TRAINING,
            C.start_date: "Date début contrat",
            C.rupture_date: "Date de rupture",
            NEW_CONTRACT: "Nouveau contrat connu (début)",
        },
        SHEET_SIGNED: {
            **_PERSON,
            **_TRAINING,
            C.signature_date: "Date de signature",
            C.start_date: "Date début contrat",
            C.planned_end_date: "Date de fin prévue",
            REASON: "Motif de la ligne",
        },
        SHEET_DIPLOMA: {
            **_PERSON,
            **_TRAINING,
            C.exam_session: "Session",
            C.exam_result: "Résultat",
            RESULT_DATE: "Date du résultat",
        },
    }


SHEET_COLUMNS: Final[dict[str, dict[str, str]]] = _sheet_columns()
"""Internal column -> French header, per data sheet, in output order."""


def sheet_frame(rows: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """The rows as the workbook shows them: French headers (``SHEET_COLUMNS``), names normalised.

    The work list keeps its priority order; the other sheets are sorted by name (case-insensitive).
    """
    mapping = SHEET_COLUMNS[sheet]
    df = rows.reindex(columns=list(mapping))
    df[C.surname] = people.normalise_surname(df[C.surname])
    df[C.first_name] = people.normalise_first_name(df[C.first_name])
    if C.phone in mapping:
        df[C.phone] = people.format_phones(df[C.phone])
    if C.exam_result in mapping:
        df[C.exam_result] = df[C.exam_result].astype("string").map(lambda v: RESULT_LABELS.get(v, v))
    if sheet != SHEET_TODO:
        df = df.sort_values(
            [C.surname, C.first_name], na_position="last", kind="stable", key=lambda s: s.str.casefold()
        )
    return df.rename(columns=mapping).reset_index(drop=True)


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
    readme: dict[str, str] = field(default_factory=dict)  # Lisez-moi settings (people.readme_config)

    def counts(self) -> dict[str, dict[str, int]]:
        """Structure -> sheet -> number of rows (no names)."""
        return {s: {k: len(v) for k, v in sh.items()} for s, sh in self.sheets.items()}


def _enrich_ruptures(r: pd.DataFrame, contacts: pd.DataFrame | None) -> pd.DataFrame:
    """Add the follow-up key, employer, CFA contact, months in the firm and the reason label."""
    table = referential.territories().drop_duplicates("postcode").set_index("postcode")["commune"]
    emp_pc = r[C.employer_postcode] if C.employer_postcode in r else pd.Series(pd.NA, index=r.index)
    name = r[C.employer_name] if C.employer_name in r else pd.Series(pd.NA, index=r.index, dtype="string")
    siret = r[C.employer_siret] if C.employer_siret in r else pd.Series(pd.NA, index=r.index, dtype="string")
    employer = name.astype("string").fillna("SIRET " + siret.astype("string"))
    reason = (
        r[C.rupture_reason_category] if C.rupture_reason_category in r else pd.Series(pd.NA, index=r.index)
    )
    months = ((r[C.rupture_date] - r[C.start_date]).dt.days / 30.4375).round(1)
    contact = pd.Series(pd.NA, index=r.index, dtype="string")
    if contacts is not None and len(contacts):
        by_uai = people.contact_text(contacts)
        contact = r[C.cfa_uai].astype("string").str.upper().map(by_uai).astype("string")
    return r.assign(
        **{
            FOLLOWUP_ID: people.followup_ids(r[C.contract_id]),
            EMPLOYER: employer,
            EMPLOYER_COMMUNE: emp_pc.astype("string").map(table).astype("string"),
            REASON_LABEL: reason.astype("string").map(RUPTURE_REASONS).astype("string"),
            MONTHS_IN_FIRM: months.clip(lower=0),
            CFA_CONTACT: contact,
        }
    )


def _priority(r: pd.DataFrame) -> pd.DataFrame:
    """One point each: minor, RQTH, rupture in the first 45 days, no contact yet (with the reasons)."""
    first45 = (
        (r[C.rupture_phase] == "0-45j")
        if C.rupture_phase in r
        else ((r[C.rupture_date] - r[C.start_date]).dt.days < 45)
    )
    flags = {
        "mineur": (r[AGE] < 18),
        "RQTH": r[C.rqth] if C.rqth in r else pd.Series(False, index=r.index),
        "rupture dans les 45 premiers jours": first45,
        "pas encore contacté": r["outcome"].isna(),
    }
    flags = {k: v.astype("boolean").fillna(False).astype(bool) for k, v in flags.items()}
    score = sum(v.astype(int) for v in flags.values())
    why = pd.Series("", index=r.index, dtype="string")
    for label, f in flags.items():
        why = why.mask(f, why.where(why == "", why + ", ") + label)
    return r.assign(**{PRIORITY: pd.Series(score, index=r.index).astype("Int64"), PRIORITY_WHY: why})


def split_ruptures(ruptures: pd.DataFrame, outcomes: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The three rupture sheets from the enriched ruptures and the current outcomes (by ``followup_id``)."""
    out = ruptures.drop(columns=[c for c in ADVISER if c in ruptures])
    cur = pd.DataFrame(columns=[FOLLOWUP_ID, *ADVISER, "treated"]) if outcomes is None else outcomes
    cur = cur.reindex(columns=[FOLLOWUP_ID, *ADVISER, "treated"]).drop_duplicates(FOLLOWUP_ID, keep="last")
    out = out.merge(cur.astype({FOLLOWUP_ID: "string"}), on=FOLLOWUP_ID, how="left")
    out.index = ruptures.index
    treated = out["treated"].astype("boolean").fillna(False).astype(bool)
    after = (
        out[C.rupture_after_diploma].astype("boolean").fillna(False).astype(bool)
        if (C.rupture_after_diploma in out)
        else pd.Series(False, index=out.index)
    )
    is_open = out[WINDOW_OPEN].astype(bool)
    todo = _priority(out.loc[is_open & ~treated & ~after])
    todo = todo.assign(_month=(todo[REASON] == REASON_RUPTURE_MONTH).astype(int)).sort_values(
        ["_month", PRIORITY, C.rupture_date], ascending=False, kind="stable"
    )
    return {
        SHEET_TODO: todo.drop(columns="_month"),
        SHEET_DONE: out.loc[treated],
        SHEET_AFTER_DIPLOMA: out.loc[is_open & ~treated & after],
    }


def build_followup(
    contracts: pd.DataFrame,
    identities: pd.DataFrame,
    exams: pd.DataFrame | None,
    *,
    month: pd.Period,
    as_of: pd.Timestamp,
    structures: pd.DataFrame,
    all_structures: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    cfa_contacts: pd.DataFrame | None = None,
) -> FollowupLists:
    """Build every list of ``month`` for ``structures`` (pure: nothing is read or written).

    ``outcomes`` are the current outcomes of the restricted store (one row per ``followup_id`` with
    the adviser fields and ``treated``); ``cfa_contacts`` the user's CFA contacts. ``all_structures``
    (default: ``structures``) defines which territories some Mission Locale covers; rows outside
    them are counted in ``not_routed`` per sheet and territory.
    """
    ref = reference_date(month, as_of)
    ruptures = select_ruptures(contracts, month=month, ref_date=ref, keep_days=DONE_DAYS)
    exams_rows = select_diploma_results(exams, contracts, month=month, ref_date=ref)
    free = ~under_contract(contracts, exams_rows[C.apprentice_key], ref)
    exams_rows = exams_rows.loc[(exams_rows[C.exam_result] == "admis").fillna(False) | free]
    ruptures = attach_identity(_enrich_ruptures(ruptures, cfa_contacts), identities, ref_date=ref)
    raw = {
        **split_ruptures(ruptures, outcomes),
        SHEET_SIGNED: attach_identity(select_signed(contracts, month=month), identities, ref_date=ref),
        SHEET_DIPLOMA: attach_identity(exams_rows, identities, ref_date=ref),
    }
    enriched = {k: raw[k] for k in DATA_SHEETS}
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
