"""Returned follow-up workbooks: what the Missions Locales send back after filling the adviser columns.

One workbook per Mission Locale for the month before the extraction, as ``aioa followup --import``
reads it: the keywords property ``aioa-suivi;<structure>;<YYYY-MM>``, a "Ruptures à traiter" sheet
with the hidden key column and the adviser columns (headers from the shipped
``followup_columns.csv``), plausible outcomes and situations (labels from the shipped lists), and
a few invalid rows (unknown key, impossible date, unknown outcome) that the import must reject.

The key is the follow-up id of ``aioa_analysis.followup.people.followup_id`` (``S`` + 16 hex digits of
SHA-256 of ``aioa-suivi:<contract id>``), recomputed here because the sample layer sits below the
follow-up layer; tests/test_followup_loop.py checks that the import knows every valid key.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample._simulate import Simulation
from aioa_analysis.sample._tba import _save_workbook, normalise_zip

RETURNS_FOLDER: Final = "retours"
SHARE_ANSWERED: Final = 0.6
OUTCOME_WEIGHTS: Final = {
    "rendez_vous_pris": 0.22,
    "deja_accompagne": 0.08,
    "contacte_sans_reponse": 0.12,
    "coordonnees_incorrectes": 0.04,
    "injoignable": 0.10,
    "nouveau_contrat": 0.16,
    "cherche_contrat_sans_aide": 0.10,
    "reoriente_sans_aide": 0.06,
    "nouveau_projet": 0.05,
    "ne_souhaite_pas": 0.05,
    "autre": 0.02,
}
SITUATION_OF: Final = {
    "nouveau_contrat": "nouveau_contrat",
    "cherche_contrat_sans_aide": "recherche",
    "reoriente_sans_aide": "formation",
    "nouveau_projet": "formation",
    "injoignable": "injoignable",
    "ne_souhaite_pas": "refus",
}


def followup_id(contract_id: str) -> str:
    """The follow-up key of a rupture (same formula as ``followup.people.followup_id``)."""
    return "S" + hashlib.sha256(f"aioa-suivi:{contract_id}".encode()).hexdigest()[:16].upper()


def _labels(name: str) -> dict[str, str]:
    t = referential.load_table(name)
    return dict(zip(t["code"], t["label"], strict=True))


def _rows(r: pd.DataFrame, rng: np.random.Generator, ext: pd.Timestamp) -> list[list[object]]:
    """Adviser rows for the ruptures ``r`` of one structure (a share of them answered)."""
    outcomes, situations = _labels("followup_outcomes.csv"), _labels("followup_situations.csv")
    codes = list(OUTCOME_WEIGHTS)
    weights = np.array(list(OUTCOME_WEIGHTS.values()))
    rows: list[list[object]] = []
    for cid, rupture in zip(r["contract_id"], r["rupture_date"], strict=True):
        if rng.random() > SHARE_ANSWERED:
            continue
        code = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
        contact = min(rupture + pd.Timedelta(days=int(rng.integers(2, 50))), ext - pd.Timedelta(days=1))
        situation = SITUATION_OF.get(code, "recherche" if rng.random() < 0.5 else "autre")
        s3 = situations[situation] if (ext - rupture).days >= 91 and rng.random() < 0.7 else None
        s6 = situations[situation] if (ext - rupture).days >= 183 and rng.random() < 0.6 else None
        rows.append([followup_id(cid), contact.to_pydatetime(), outcomes[code], s3, s6, None])
    first = rows[0][1] if rows else ext.to_pydatetime()
    rows += [
        ["S0000000000000000", first, outcomes["rendez_vous_pris"], None, None, None],  # unknown key
        [rows[0][0] if rows else "S1", "32/13/2025", outcomes["injoignable"], None, None, None],  # bad date
        [rows[-1][0] if rows else "S2", first, "Appelé, à rappeler", None, None, None],  # unknown outcome
    ]
    return rows


def _workbook(structure: str, month: str, rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    headers = referential.load_table("followup_columns.csv").set_index("field")["header"]
    wb = Workbook(write_only=True)
    wb.properties.creator = "aioa sample"
    wb.properties.created = datetime(2020, 1, 1)
    wb.properties.modified = datetime(2020, 1, 1)
    wb.properties.keywords = f"aioa-suivi;{structure};{month}"
    ws = wb.create_sheet("Ruptures à traiter")
    ws.append(
        [headers[f] for f in ("key", "contact_date", "outcome", "situation_3m", "situation_6m", "comment")]
    )
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    _save_workbook(wb, buf)
    return normalise_zip(buf.getvalue())


def build_returns(sim: Simulation, rng: np.random.Generator) -> dict[str, bytes]:
    """``retours/suivi_<structure>_<YYYY-MM>_retour.xlsx`` -> bytes, one per Mission Locale.

    The month is the one before the extraction; the rows are the ruptures of the 210 days before
    that month's end (the rows of its "Ruptures à traiter" and "Déjà traités" sheets), not after the diploma.
    """
    ext = pd.Timestamp(sim.extraction_date)
    month = ext.to_period("M") - 1
    end = month.end_time.normalize()
    c = sim.contracts
    keep = (
        c["rupture_date"].notna()
        & (c["rupture_date"] <= end)
        & (c["rupture_date"] > end - pd.Timedelta(days=210))
    )
    keep &= ~c["rupture_after_diploma"].astype("boolean").fillna(False).astype(bool)
    r = c.loc[keep.to_numpy(), ["contract_id", "rupture_date", "person_id"]]
    pc = r["person_id"].map(sim.persons.set_index("person_id")["postcode"]).astype("string")
    r = r.assign(territory=referential.territory_of(pc)).sort_values("contract_id", kind="stable")
    structures = referential.load_table("followup_structures.csv")
    out = {}
    for s in structures.loc[structures["kind"] == "mission_locale", "structure"]:
        terr = set(structures.loc[structures["structure"] == s, "territories"].item().split("|"))
        rows = _rows(r.loc[r["territory"].isin(terr)], rng, ext)
        out[f"{RETURNS_FOLDER}/suivi_{s}_{month}_retour.xlsx"] = _workbook(s, str(month), rows)
    return out
