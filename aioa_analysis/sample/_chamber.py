"""The consular chamber's spreadsheet (CMA 41): contracts of its CFA started in the last 12 months.

cp1252, ``;``, two title rows before the header; dates in mixed formats (JJ/MM/AAAA, JJ/MM/AA, ISO),
NAF codes sometimes dotted, names upper-case with typographic apostrophes; two invalid records (an
impossible date, no CFA and no diploma) inserted at random places.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample._format import (
    contracts_with_persons,
    mixed_dates,
    naf_dotted,
    name_variant,
    phone_spaced,
    to_csv_bytes,
)
from aioa_analysis.sample._simulate import Simulation

CHAMBER_HEADER = (
    "N° de contrat", "Nom", "Prénom", "Date de naissance", "Sexe", "Adresse", "Code postal", "Commune",
    "Téléphone", "Courriel", "UAI du CFA", "Nom du CFA", "SIRET de l’employeur", "Code NAF",
    "Effectif de l'entreprise", "Code diplôme", "Intitulé du diplôme", "Date de début du contrat",
    "Date de fin prévue", "Date de rupture", "Motif de rupture", "Diplôme obtenu",
)  # fmt: skip


def _mixed_date_columns(cur: pd.DataFrame, rng: np.random.Generator) -> tuple[dict, dict]:
    """The four date columns in mixed formats, and how many cells use each format."""
    fmt_counts = {}
    cols = {}
    for col, src in (("Date de naissance", "birth_date"), ("Date de début du contrat", "start_date"),
                     ("Date de fin prévue", "planned_end_date"), ("Date de rupture", "rupture_date")):  # fmt: skip
        s, k = mixed_dates(cur[src], rng)
        cols[col] = s
        fmt_counts[col] = {
            "JJ/MM/AAAA": int((k == 0).sum()),
            "JJ/MM/AA": int((k == 1).sum()),
            "AAAA-MM-JJ": int((k == 2).sum()),
        }
    return cols, fmt_counts


def _chamber_frame(
    sim: Simulation, cur: pd.DataFrame, uai: str, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """The chamber's columns (strings) for contracts ``cur``, the date-format counts and the rows
    whose NAF code is dotted."""
    n = len(cur)
    exams = sim.exams.set_index("chain_id")
    closed = cur["chain_id"].map(exams["closed"]).to_numpy()
    passed = cur["chain_id"].map(exams["passed"]).to_numpy()
    cols, fmt_counts = _mixed_date_columns(cur, rng)
    long_sex = rng.random(n) < 0.4
    sex = np.where(
        long_sex, np.where(cur["sex"] == "F", "Féminin", "Masculin"), np.where(cur["sex"] == "F", "F", "H")
    )
    dotted = rng.random(n) < 0.3
    cfa_name = referential.cfa_names(pd.Series([uai]))[0]
    reason = cur["rupture_reason"].map(lambda k: cat.RUPTURE_REASONS[k][0] if isinstance(k, str) else "")
    out = pd.DataFrame(
        {
            "N° de contrat": cur["contract_id"],
            "Nom": name_variant(cur["surname"], "chamber", rng),
            "Prénom": cur["first_name"],
            "Date de naissance": cols["Date de naissance"],
            "Sexe": sex,
            "Adresse": (cur["address_number"].fillna("") + " " + cur["street"]).str.strip(),
            "Code postal": cur["postcode"],
            "Commune": cur["commune"],
            "Téléphone": phone_spaced(cur["phone"]),
            "Courriel": cur["email"].fillna(""),
            "UAI du CFA": uai,
            "Nom du CFA": cfa_name,
            "SIRET de l’employeur": cur["employer_siret"],
            "Code NAF": np.where(dotted, naf_dotted(cur["employer_naf"]), cur["employer_naf"]),
            "Effectif de l'entreprise": cur["employer_headcount"].astype(str),
            "Code diplôme": cur["diploma_code"],
            "Intitulé du diplôme": cur["diploma_title"],
            "Date de début du contrat": cols["Date de début du contrat"],
            "Date de fin prévue": cols["Date de fin prévue"],
            "Date de rupture": cols["Date de rupture"].where(cur["rupture_date"].notna(), ""),
            "Motif de rupture": reason.where(cur["rupture_date"].notna(), ""),
            "Diplôme obtenu": np.where(closed, np.where(passed, "oui", "non"), ""),
        }
    )
    out = out.astype(object).where(out.notna(), "")
    out["_kind"] = "contract"
    return out, fmt_counts, dotted


def _insert_invalid(out: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Two extra records (an impossible date, neither CFA nor diploma) inserted at random places."""
    n = len(out)
    extra = out.sample(n=2, replace=n < 2, random_state=int(rng.integers(2**31))).copy()
    extra = extra.reset_index(drop=True)
    extra["N° de contrat"] = ["041209902000001", "041209902000002"]
    extra.loc[0, ["Date de début du contrat", "Date de rupture", "Motif de rupture"]] = ["31/02/2025", "", ""]
    extra.loc[1, ["UAI du CFA", "Nom du CFA", "Code diplôme", "Intitulé du diplôme"]] = ""
    extra["_kind"] = ["invalid_date", "missing_cfa_and_diploma"]
    pos = np.sort(rng.integers(0, n + 1, 2))
    out = pd.concat(
        [out.iloc[: pos[0]], extra.iloc[[0]], out.iloc[pos[0] : pos[1]], extra.iloc[[1]], out.iloc[pos[1] :]],
        ignore_index=True,
    )
    return out


def build_chamber(sim: Simulation, rng: np.random.Generator, uai: str) -> tuple[bytes, dict]:
    """CMA spreadsheet: contracts of the CMA CFA that started during the 12 months before extraction."""
    ext = sim.extraction_date
    lo = ext - pd.DateOffset(months=12)
    df = contracts_with_persons(sim)
    cur = (
        df.loc[(df["cfa_uai"] == uai) & (df["start_date"] >= lo)]
        .sort_values("start_date", kind="stable")
        .reset_index(drop=True)
    )
    n = len(cur)
    out, fmt_counts, dotted = _chamber_frame(sim, cur, uai, rng)
    out = _insert_invalid(out, rng)
    line = np.arange(len(out)) + 4  # 2 title rows + header
    kinds = out["_kind"].to_numpy()
    preamble = (
        "Chambre de métiers et de l'artisanat de Loir-et-Cher;" + ";" * (len(CHAMBER_HEADER) - 2) + "\r\n"
        + f"Extraction du {ext.strftime('%d/%m/%Y')};" + ";" * (len(CHAMBER_HEADER) - 2) + "\r\n"
    )  # fmt: skip
    data = to_csv_bytes(
        out[list(CHAMBER_HEADER)], sep=";", encoding="cp1252", lineterminator="\r\n", preamble=preamble
    )
    truth = {
        "profile": "chamber",
        "cfa": uai,
        "records": len(out),
        "true_contract_records": int(n),
        "header_line": 3,
        "defects": {
            "invalid_date": {
                "expected": "rejected:invalid_date",
                "rows": line[kinds == "invalid_date"].tolist(),
            },
            "missing_cfa_and_diploma": {
                "expected": "rejected:missing_cfa_and_diploma",
                "rows": line[kinds == "missing_cfa_and_diploma"].tolist(),
            },
            "mixed_date_formats": {"expected": "parsed", "cells": fmt_counts},
            "naf_with_dot": {"expected": "repaired", "rows": (line[kinds == "contract"][dotted]).tolist()},
            "mixed_apostrophes_in_header": {
                "expected": "parsed",
                "columns": ["SIRET de l’employeur", "Effectif de l'entreprise"],
            },
        },
        "_evidence": {
            "contract_ids": sorted(
                cur.loc[cur["rupture_date"].notna() & (cur["rupture_reason"] == "diplome"), "contract_id"]
            )
        },
    }
    return data, truth
