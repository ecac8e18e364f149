"""The SIFA file of one CFA: apprentices enrolled on 31 December of the year before the extraction.

47 columns (:data:`SIFA_COLUMNS`), no header, ``;``, UTF-8 with BOM, CRLF; names upper-case without
accents, dates ``JJMMAAAA``, communes as INSEE codes. ``NBSAL_EMP`` is sometimes the establishment's
headcount, smaller than the company's given by DECA: an expected conflict.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._format import (
    contracts_with_persons,
    name_variant,
    strip_accents,
    to_csv_bytes,
)
from aioa_analysis.sample._population import choice
from aioa_analysis.sample._simulate import Simulation

SIFA_COLUMNS = (
    "INE_RNIE", "NUMERO_UAI", "TYPE_CFA", "SIT_FORM", "UAI_EPLE", "NAT_STR_JUR", "STATUT", "DIPLOME", "RNCP",
    "DUR_FORM_THEO", "DUR_FORM_REELLE", "AN_FORM", "NOM", "NOM2", "PRENOM1", "PRENOM2", "PRENOM3", "ADRESSE",
    "COD_POST", "COM_RESID", "TEL_JEUNE", "TEL_RESP1_PERSO", "TEL_RESP1_PRO", "TEL_RESP2_PERSO", "TEL_RESP2_PRO",
    "MAIL_JEUNE", "MAIL_RESP1", "MAIL_RESP2", "DATE_NAIS", "LIEU_NAIS", "SEXE", "REGIME_SCO", "PCS", "HANDI",
    "NATIO", "SIT_AV_APP", "DIP_OBT", "SIT_N_1", "ETAB_N_1", "TYPE_EMP", "DATE_ENTREE_CFA", "DATE_DEB_CONT",
    "DATE_RUPT_CONT", "COM_ETAB", "NAF_ETAB", "NBSAL_EMP", "SIRET_EMP",
)  # fmt: skip


def _enrolled(sim: Simulation, uai: str, photo: pd.Timestamp) -> pd.DataFrame:
    """The current contract (latest started by ``photo``) of each training of ``uai`` running on
    ``photo``, sorted by name."""
    df = contracts_with_persons(sim)
    first = df.loc[(df["generation"] == 0) & (df["cfa_uai"] == uai)]
    chains = first.loc[
        (first["training_start_date"] <= photo) & (first["training_end_date"] >= photo), "chain_id"
    ]
    cur = df.loc[df["chain_id"].isin(chains) & (df["start_date"] <= photo)]
    cur = cur.sort_values(["chain_id", "generation"]).groupby("chain_id").tail(1)
    return cur.sort_values(["surname", "first_name", "chain_id"]).reset_index(drop=True)


def _commune_code(pc: pd.Series) -> pd.Series:
    """A commune's INSEE code from its postcode (shipped table, else a stable fictitious code)."""
    return pc.map(cat.COMMUNE_CODES).fillna(
        pc.str.slice(0, 2) + pc.str.slice(2, 5).map(lambda x: f"{(int(x) * 7) % 300:03d}")
    )


def _sifa_frame(cur: pd.DataFrame, uai: str, photo: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """The 47 SIFA columns (strings) of the enrolled contracts ``cur``."""
    n = len(cur)
    ddmmyyyy = lambda s: s.dt.strftime("%d%m%Y").fillna("")  # noqa: E731
    tsy = cur["training_start_date"].dt.year - (cur["training_start_date"].dt.month < 8)
    an = (photo.year - tsy).clip(lower=1)
    years = cur["programme"].map(lambda p: cat.PROGRAMMES[int(p)].years)
    real = ((cur["training_end_date"] - cur["training_start_date"]).dt.days / 30.44).round().astype(int)
    lg = cur["level_group"].to_numpy()
    rupt = cur["rupture_date"].where(cur["rupture_date"] <= photo)
    etype = cur["employer_naf"].map(cat.PUBLIC_NAF_TYPE).fillna(cur["size_profile"].map(cat.EMPLOYER_TYPE))
    first_names = strip_accents(cur["first_name"]).str.upper()
    prenom1 = first_names.str.split("-").str[0].where(~first_names.str.contains("-"), first_names)

    out = pd.DataFrame(
        {
            "INE_RNIE": cur["ine"].fillna(""),
            "NUMERO_UAI": uai,
            "TYPE_CFA": cat.TYPE_CFA[uai],
            "SIT_FORM": uai,
            "UAI_EPLE": "",
            "NAT_STR_JUR": "",
            "STATUT": "",
            "DIPLOME": cur["diploma_code"],
            "RNCP": "",
            "DUR_FORM_THEO": (years * 12).astype(str),
            "DUR_FORM_REELLE": real.astype(str),
            "AN_FORM": an.astype(str) + "A",
            "NOM": name_variant(cur["surname"], "upper", rng),
            "NOM2": "",
            "PRENOM1": prenom1,
            "PRENOM2": "",
            "PRENOM3": "",
            "ADRESSE": strip_accents(cur["address_number"].fillna("") + " " + cur["street"])
            .str.strip()
            .str.upper(),
            "COD_POST": cur["postcode"],
            "COM_RESID": _commune_code(cur["postcode"]),
            "TEL_JEUNE": cur["phone"],
            "TEL_RESP1_PERSO": "",
            "TEL_RESP1_PRO": "",
            "TEL_RESP2_PERSO": "",
            "TEL_RESP2_PRO": "",
            "MAIL_JEUNE": cur["email"].fillna(""),
            "MAIL_RESP1": "",
            "MAIL_RESP2": "",
            "DATE_NAIS": ddmmyyyy(cur["birth_date"]),
            "LIEU_NAIS": cur["birth_departement"],
            "SEXE": np.where(cur["sex"] == "F", "2", "1"),
            "REGIME_SCO": "",
            "PCS": "",
            "HANDI": np.where(cur["rqth"], "1", "0"),
            "NATIO": cur["nationality"],
            "SIT_AV_APP": np.where(
                lg == "3",
                choice(rng, ["11", "21", "31", "54"], [0.5, 0.15, 0.25, 0.1], n),
                choice(rng, ["31", "21", "41", "53"], [0.5, 0.25, 0.15, 0.1], n),
            ),
            "DIP_OBT": np.where(
                lg == "3",
                choice(rng, ["01", "03"], [0.35, 0.65], n),
                np.where(lg == "4", "04", choice(rng, ["07", "08"], [0.4, 0.6], n)),
            ),
            "SIT_N_1": "9999",
            "ETAB_N_1": choice(rng, ["041", "993"], [0.7, 0.3], n),
            "TYPE_EMP": etype,
            "DATE_ENTREE_CFA": ddmmyyyy(cur["training_start_date"]),
            "DATE_DEB_CONT": ddmmyyyy(cur["start_date"]),
            "DATE_RUPT_CONT": ddmmyyyy(rupt),
            "COM_ETAB": _commune_code(cur["employer_postcode"]),
            "NAF_ETAB": cur["employer_naf"],
            "NBSAL_EMP": cur["employer_headcount"].astype(str),
            "SIRET_EMP": cur["employer_siret"],
        }
    )
    return out


def build_sifa(sim: Simulation, rng: np.random.Generator, uai: str) -> tuple[bytes, dict, str]:
    """SIFA file of one CFA: apprentices enrolled on 31/12 of the year before the extraction."""
    photo = pd.Timestamp(year=sim.extraction_date.year - 1, month=12, day=31)
    cur = _enrolled(sim, uai, photo)
    n = len(cur)
    out = _sifa_frame(cur, uai, photo, rng)
    # SIFA asks the establishment's headcount: smaller than the company's (DECA) for some large employers
    head = cur["employer_headcount"].to_numpy()
    estab = (head >= 50) & (rng.random(n) < P.SIFA_ESTABLISHMENT_HEADCOUNT_SHARE)
    smaller = np.maximum(1, np.floor(head * rng.uniform(0.1, 0.6, n))).astype(int)
    out["NBSAL_EMP"] = np.where(estab, smaller.astype(str), out["NBSAL_EMP"].to_numpy(dtype=object))
    out = out.astype(object).where(out.notna(), "")
    data = to_csv_bytes(
        out, sep=";", encoding="utf-8-sig", header=False, lineterminator="\r\n", quoting=csv.QUOTE_NONE
    )
    name = f"SIFA_{uai}_{photo.strftime('%d%m%Y')}.csv"
    truth = {
        "profile": "sifa",
        "cfa": uai,
        "photo_date": str(photo.date()),
        "records": n,
        "true_contract_records": n,
        "defects": {
            "establishment_headcount": {
                "expected": "conflict:employer_headcount",
                "note": "NBSAL_EMP is the establishment's headcount, DECA gives the company's: the contract "
                "keeps the DECA value (source precedence) and the disagreement is recorded as a conflict",
                "rows": (np.flatnonzero(estab) + 1).tolist(),
                "contract_ids": cur.loc[estab, "contract_id"].tolist(),
            }
        },
    }
    return data, truth, name
