"""The Tableau de bord upload workbook: one row per apprentice x training, up to 4 contracts.

A "Lisez-moi" sheet first, then "Effectifs" with the upload template's columns (:data:`TBA_KEYS`,
mandatory ones marked ``*``). Dates are mostly real date cells, some typed as text; some diploma codes
lost their leading zero (stored as numbers). The zip is normalised (fixed entry dates, sorted names)
so that the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample._format import cfa_sirets, contracts_with_persons, name_variant
from aioa_analysis.sample._simulate import Simulation

TBA_MANDATORY = {
    "nom_apprenant", "prenom_apprenant", "date_de_naissance_apprenant", "sexe_apprenant", "email_contact",
    "adresse_apprenant", "code_postal_apprenant", "annee_scolaire", "annee_formation",
}  # fmt: skip
TBA_KEYS = (
    "nom_apprenant", "prenom_apprenant", "date_de_naissance_apprenant", "sexe_apprenant",
    "code_postal_de_naissance_apprenant", "code_commune_insee_de_naissance_apprenant", "email_contact",
    "adresse_apprenant", "code_postal_apprenant", "code_commune_insee_apprenant", "ine_apprenant", "tel_apprenant",
    "rqth_apprenant", "date_rqth_apprenant", "responsable_apprenant_mail1", "responsable_apprenant_mail2",
    "dernier_organisme_uai", "derniere_situation", "type_cfa", "etablissement_responsable_uai",
    "etablissement_responsable_siret", "etablissement_formateur_uai", "etablissement_formateur_siret",
    "etablissement_lieu_de_formation_uai", "etablissement_lieu_de_formation_siret",
    "etablissement_lieu_de_formation_adresse", "etablissement_lieu_de_formation_code_postal", "annee_scolaire",
    "annee_formation", "formation_rncp", "formation_cfd", "date_inscription_formation", "date_entree_formation",
    "date_fin_formation", "duree_theorique_formation_mois", "libelle_court_formation",
    "obtention_diplome_formation", "date_obtention_diplome_formation", "date_exclusion_formation",
    "cause_exclusion_formation", "formation_presentielle", "nom_referent_handicap_formation",
    "prenom_referent_handicap_formation", "email_referent_handicap_formation",
    "contrat_date_debut", "contrat_date_fin", "siret_employeur", "contrat_date_rupture", "cause_rupture_contrat",
    "contrat_date_debut_2", "contrat_date_fin_2", "siret_employeur_2", "contrat_date_rupture_2", "cause_rupture_contrat_2",
    "contrat_date_debut_3", "contrat_date_fin_3", "siret_employeur_3", "contrat_date_rupture_3", "cause_rupture_contrat_3",
    "contrat_date_debut_4", "contrat_date_fin_4", "siret_employeur_4", "contrat_date_rupture_4", "cause_rupture_contrat_4",
)  # fmt: skip
TBA_DATE_KEYS = {k for k in TBA_KEYS if k.startswith("date_") or k.startswith("contrat_date")}

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def cat_years(h: Mapping[Any, Any]) -> int:
    """Nominal length (years) of the programme of a contract row."""
    return cat.PROGRAMMES[int(h["programme"])].years


def _save_workbook(wb, buf: io.BytesIO) -> None:
    """Save without openpyxl's ``save_workbook`` (which stamps the current time in core.xml)."""
    from openpyxl.writer.excel import ExcelWriter

    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with a fixed entry date, ``[Content_Types].xml`` first then sorted names."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


def _chains(sim: Simulation, cfas: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Trainings of ``cfas`` still running in the current school year: their first contracts (one row
    each, sorted by CFA and name), all their contracts, and the school year's first day."""
    ext = sim.extraction_date
    df = contracts_with_persons(sim)
    window_lo = pd.Timestamp(
        year=ext.year - (0 if ext.month >= 8 else 1), month=8, day=1
    )  # current school year
    first = df.loc[df["generation"] == 0]
    keep = first.loc[first["cfa_uai"].isin(cfas) & (first["training_end_date"] >= window_lo), "chain_id"]
    ch = df.loc[df["chain_id"].isin(keep)].sort_values(["chain_id", "generation"])
    heads = (
        ch.loc[ch["generation"] == 0]
        .sort_values(["cfa_uai", "surname", "first_name", "chain_id"])
        .reset_index(drop=True)
    )
    return heads, ch.loc[ch["start_date"] <= ext], window_lo


def _readme(wb: Any, seed: int) -> None:
    """The "Lisez-moi" sheet of the upload template."""
    readme = wb.create_sheet("Lisez-moi")
    for line in (
        [],
        [None, "Fichier de téléversement des effectifs — Tableau de bord de l'apprentissage"],
        [
            None,
            "Une ligne par apprenant et par formation ; jusqu'à 4 contrats par ligne (suffixes _2, _3, _4).",
        ],
        [None, "Les colonnes marquées d'un * sont obligatoires. Dates au format JJ/MM/AAAA."],
        [None, f"DONNÉES FICTIVES générées par `aioa sample --seed {seed}` : aucune personne réelle."],
    ):
        readme.append(line)


def _contract_values(vals: dict, conts: list[dict]) -> list[str]:
    """Add the contracts of a row (suffixes ``_2``..``_4``) to ``vals``; return the ids of contracts
    whose row says the rupture followed the diploma (reason, or diploma date on or before it)."""
    evidence = []
    for j, c in enumerate(conts):
        suf = "" if j == 0 else f"_{j + 1}"
        vals[f"contrat_date_debut{suf}"] = c["start_date"]
        vals[f"contrat_date_fin{suf}"] = c["planned_end_date"]
        vals[f"siret_employeur{suf}"] = c["employer_siret"]
        if pd.notna(c["rupture_date"]):
            vals[f"contrat_date_rupture{suf}"] = c["rupture_date"]
            vals[f"cause_rupture_contrat{suf}"] = cat.RUPTURE_REASONS[c["rupture_reason"]][0].lower()
            obtained = vals["date_obtention_diplome_formation"]
            if c["rupture_reason"] == "diplome" or (
                obtained is not None and c["rupture_date"] >= pd.Timestamp(obtained)
            ):
                evidence.append(c["contract_id"])
    return evidence


def _cells(ws: Any, vals: Mapping[str, Any], date_fmt: np.ndarray) -> tuple[list[Any], int]:
    """The sheet row of ``vals`` in :data:`TBA_KEYS` order, dates as date cells (``date_fmt`` 0) or
    text (1: JJ/MM/AAAA, 2: JJ/MM/AA); also the number of text dates."""
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    n_string_dates = 0
    for k_i, k in enumerate(TBA_KEYS):
        v = vals.get(k)
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            row.append(None)
            continue
        if k in TBA_DATE_KEYS:
            ts = pd.Timestamp(v)
            f = date_fmt[k_i]
            if f == 0:
                cell = WriteOnlyCell(ws, value=ts.to_pydatetime())
                cell.number_format = "DD/MM/YYYY"
                row.append(cell)
            else:
                n_string_dates += 1
                row.append(ts.strftime("%d/%m/%Y" if f == 1 else "%d/%m/%y"))
            continue
        row.append(v)
    return row, n_string_dates


def _head_values(h: Mapping[str, Any], x: Mapping[str, Any], cfa_siret: Mapping[str, str]) -> dict:
    """The apprentice and training columns of a row: first contract ``h``, per-row draws ``x``."""
    return {
        "nom_apprenant": x["nom"],
        "prenom_apprenant": x["prenom"],
        "date_de_naissance_apprenant": h["birth_date"],
        "sexe_apprenant": x["sex_code"],
        "email_contact": h["email"],
        "adresse_apprenant": f"{h['address_number'] + ' ' if pd.notna(h['address_number']) else ''}{h['street']}",
        "code_postal_apprenant": h["postcode"],
        "ine_apprenant": h["ine"],
        "tel_apprenant": h["phone"],
        "rqth_apprenant": "oui" if h["rqth"] else "non",
        "type_cfa": cat.TYPE_CFA[h["cfa_uai"]],
        "etablissement_responsable_uai": h["cfa_uai"],
        "etablissement_responsable_siret": cfa_siret.get(h["cfa_uai"], ""),
        "etablissement_formateur_uai": h["cfa_uai"],
        "etablissement_formateur_siret": cfa_siret.get(h["cfa_uai"], ""),
        "annee_scolaire": f"{x['cur_sy']}-{x['cur_sy'] + 1}",
        "annee_formation": str(int(x["cur_sy"] - x["tsy"] + 1)),
        "formation_rncp": "",
        "formation_cfd": int(h["diploma_code"]) if x["lost_cfd"] else h["diploma_code"],
        "date_inscription_formation": h["training_start_date"] - pd.Timedelta(days=20),
        "date_entree_formation": h["training_start_date"],
        "date_fin_formation": h["training_end_date"],
        "duree_theorique_formation_mois": str(12 * int(cat_years(h))),
        "libelle_court_formation": h["diploma_title"],
        "obtention_diplome_formation": ("oui" if x["passed"] else "non") if x["closed"] else "",
        "date_obtention_diplome_formation": x["result_date"] if (x["closed"] and x["passed"]) else None,
        "formation_presentielle": "oui",
    }


def _row_draws(
    heads: pd.DataFrame, sim: Simulation, rng: np.random.Generator, year: int
) -> dict[str, np.ndarray]:
    """Per-row values drawn or looked up for the workbook (aligned arrays): typed names, sex code, lost
    zero of the diploma code, date formats, school years, exam outcome."""
    nrow = len(heads)
    nom = name_variant(heads["surname"], "cfa", rng)
    prenom = name_variant(heads["first_name"], "cfa", rng)
    tsy = (heads["training_start_date"].dt.year - (heads["training_start_date"].dt.month < 8)).to_numpy()
    exams = sim.exams.set_index("chain_id")
    date_fmt = rng.choice(3, size=(nrow, len(TBA_KEYS)), p=[0.70, 0.25, 0.05])
    sex_code = np.where(
        rng.random(nrow) < 0.8,
        np.where(heads["sex"] == "F", "F", "M"),
        np.where(heads["sex"] == "F", "2", "1"),
    )
    lost_cfd = heads["diploma_code"].str.startswith("0").to_numpy() & (rng.random(nrow) < 0.5)
    return {
        "nom": nom.to_numpy(dtype=object),
        "prenom": prenom.to_numpy(dtype=object),
        "cur_sy": np.full(nrow, year),
        "tsy": tsy,
        "closed": exams["closed"].reindex(heads["chain_id"]).to_numpy(),
        "passed": exams["passed"].reindex(heads["chain_id"]).to_numpy(),
        "result_date": exams["result_date"].reindex(heads["chain_id"]).to_numpy(),
        "date_fmt": date_fmt,
        "sex_code": sex_code,
        "lost_cfd": lost_cfd,
    }


def build_tba(
    sim: Simulation, rng: np.random.Generator, cfas: tuple[str, ...], seed: int
) -> tuple[bytes, dict]:
    """Tableau de bord upload workbook: one row per apprentice x training, up to 4 contracts."""
    from openpyxl import Workbook

    heads, ch, window_lo = _chains(sim, cfas)
    draws = _row_draws(heads, sim, rng, window_lo.year)
    cfa_siret = cfa_sirets()
    contracts_by_chain: dict[int, list[dict]] = {}
    for rec in ch[
        ["chain_id", "contract_id", "start_date", "planned_end_date", "employer_siret", "rupture_date",
         "rupture_reason"]
    ].to_dict("records"):  # fmt: skip
        contracts_by_chain.setdefault(rec["chain_id"], []).append(rec)
    n_string_dates = 0
    records = 0
    evidence: list[str] = []  # contracts whose row says the rupture followed the diploma

    wb = Workbook(write_only=True)
    wb.properties.creator = "aioa sample"
    wb.properties.created = datetime(2020, 1, 1)
    wb.properties.modified = datetime(2020, 1, 1)
    _readme(wb, seed)
    ws = wb.create_sheet("Effectifs")
    ws.append([k + ("*" if k in TBA_MANDATORY else "") for k in TBA_KEYS])
    for i, h in enumerate(heads.to_dict("records")):
        conts = contracts_by_chain[h["chain_id"]]
        records += len(conts)
        vals = _head_values(h, {k: v[i] for k, v in draws.items()}, cfa_siret)
        evidence += _contract_values(vals, conts)
        row, n_text = _cells(ws, vals, draws["date_fmt"][i])
        n_string_dates += n_text
        ws.append(row)
    buf = io.BytesIO()
    _save_workbook(wb, buf)
    truth = {
        "profile": "tba_upload",
        "sheet": "Effectifs",
        "cfas": list(cfas),
        "records": int(records),
        "rows": len(heads),
        "true_contract_records": int(records),
        "defects": {
            "date_as_text": {"expected": "parsed", "cells": int(n_string_dates)},
            "lost_leading_zero": {
                "expected": "repaired",
                "rows": (np.flatnonzero(draws["lost_cfd"]) + 2).tolist(),
            },
        },
        "_evidence": {"contract_ids": sorted(evidence)},
    }
    return normalise_zip(buf.getvalue()), truth
