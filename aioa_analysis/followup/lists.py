"""Every list of one month, per structure: select the rows, attach identities, route, shape the sheets.

:func:`build_followup` is pure (nothing read or written): it returns a :class:`FollowupLists` with,
for each structure, one frame per data sheet with French headers (:data:`SHEET_COLUMNS`), plus the
counts the manifest reports (rows before routing, rows in no Mission Locale list, rows without
identity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.followup.route import (
    AGE,
    COMMUNE,
    HAS_IDENTITY,
    POSTCODE,
    TERRITORY,
    attach_identity,
    structure_mask,
)
from aioa_analysis.followup.select import (
    DAYS_SINCE,
    NEW_CONTRACT,
    REASON,
    RESULT_DATE,
    RESULT_LABELS,
    WINDOW_CLOSE,
    reference_date,
    select_diploma_results,
    select_ruptures,
    select_signed,
)

SHEET_SIGNED: Final = "Contrats signés"
SHEET_RUPTURES: Final = "Ruptures"
SHEET_DIPLOMA: Final = "Résultats diplôme"
DATA_SHEETS: Final = (SHEET_SIGNED, SHEET_RUPTURES, SHEET_DIPLOMA)

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
