"""Write the simulated contracts in the real input formats, with defects at known rates.

Each ``build_*`` function returns the file's bytes (or rows) plus its part of the ground truth
(``records``, defect rows). Row numbers follow the BRIEF lineage convention: CSV = physical line
number with the header counted (line 1), SIFA (no header) = line number, xlsx = sheet row number,
JSON = index in the ``contrats`` array + 1.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._simulate import Simulation, make_sirets

DECA_COLUMNS = (
    "nom", "prenom", "sexe", "datenaissance", "departementnaissance", "nationalite", "handicap", "courriel",
    "telephone", "adressenumero", "adressevoie", "adressecodepostal", "derniereclasse", "datedebutformation",
    "datefinformation", "codediplome", "intituleouqualification", "rncp", "siret", "uaicfa", "siretcfa",
    "dateeffetrupture", "nocontrat", "datedebutcontrat", "datefincontrat", "dateeffetavenant", "noavenant",
    "statut", "flagcorrection", "typecontrat", "datesuppression", "rupture_avant_debut", "codeidcc",
    # LBA-file columns added to the TBA extract (BRIEF: no courrielemployeur/denomination)
    "typediplome", "siretemployeur", "naf", "nombredesalaries", "dispositif",
)  # fmt: skip

CHAMBER_HEADER = (
    "N° de contrat", "Nom", "Prénom", "Date de naissance", "Sexe", "Adresse", "Code postal", "Commune",
    "Téléphone", "Courriel", "UAI du CFA", "Nom du CFA", "SIRET de l’employeur", "Code NAF",
    "Effectif de l'entreprise", "Code diplôme", "Intitulé du diplôme", "Date de début du contrat",
    "Date de fin prévue", "Date de rupture", "Motif de rupture", "Diplôme obtenu",
)  # fmt: skip

EXAM_HEADER = (
    "Nom",
    "Prénom",
    "Date de naissance",
    "INE",
    "Code diplôme",
    "Intitulé du diplôme",
    "Session",
    "Résultat",
)

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

SIFA_COLUMNS = (
    "INE_RNIE", "NUMERO_UAI", "TYPE_CFA", "SIT_FORM", "UAI_EPLE", "NAT_STR_JUR", "STATUT", "DIPLOME", "RNCP",
    "DUR_FORM_THEO", "DUR_FORM_REELLE", "AN_FORM", "NOM", "NOM2", "PRENOM1", "PRENOM2", "PRENOM3", "ADRESSE",
    "COD_POST", "COM_RESID", "TEL_JEUNE", "TEL_RESP1_PERSO", "TEL_RESP1_PRO", "TEL_RESP2_PERSO", "TEL_RESP2_PRO",
    "MAIL_JEUNE", "MAIL_RESP1", "MAIL_RESP2", "DATE_NAIS", "LIEU_NAIS", "SEXE", "REGIME_SCO", "PCS", "HANDI",
    "NATIO", "SIT_AV_APP", "DIP_OBT", "SIT_N_1", "ETAB_N_1", "TYPE_EMP", "DATE_ENTREE_CFA", "DATE_DEB_CONT",
    "DATE_RUPT_CONT", "COM_ETAB", "NAF_ETAB", "NBSAL_EMP", "SIRET_EMP",
)  # fmt: skip

FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


# --- small helpers ------------------------------------------------------------------------------------


def strip_accents(s: pd.Series) -> pd.Series:
    """Remove diacritics (NFKD), keep everything else."""
    return s.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")


def name_variant(s: pd.Series, style: str, rng: np.random.Generator) -> pd.Series:
    """How a source types a name: ``typed`` (as is, a few upper-cased / doubled spaces / no accents),
    ``cfa`` (often without accents, surname sometimes upper), ``upper`` (upper-case without accents:
    SIFA, exam boards), ``chamber`` (upper-case with accents, typographic apostrophe)."""
    s = s.astype("string")
    u = rng.random(len(s))
    if style == "typed":
        s = s.where(~(u < 0.03), s.str.upper())
        s = s.where(~((u >= 0.03) & (u < 0.05)), " " + s + "  ")
        s = s.where(~((u >= 0.05) & (u < 0.08)), strip_accents(s))
    elif style == "cfa":
        s = s.where(~(u < 0.4), strip_accents(s))
        s = s.where(~((u >= 0.2) & (u < 0.5)), s.str.upper())
    elif style == "upper":
        s = strip_accents(s).str.upper()
    elif style == "chamber":
        s = s.str.upper().str.replace("'", "’", regex=False)
        s = s.where(~(u < 0.03), s + " ")
    return s


def fmt_date(d: pd.Series, fmt: str) -> pd.Series:
    """Format dates; NaT -> empty string."""
    return d.dt.strftime(fmt).fillna("").astype(object)


def mixed_dates(
    d: pd.Series, rng: np.random.Generator, weights=(0.70, 0.15, 0.15)
) -> tuple[pd.Series, np.ndarray]:
    """JJ/MM/AAAA, JJ/MM/AA or ISO, chosen per cell; returns the strings and the format index."""
    k = rng.choice(3, size=len(d), p=list(weights))
    out = np.select(
        [k == 0, k == 1],
        [fmt_date(d, "%d/%m/%Y").to_numpy(), fmt_date(d, "%d/%m/%y").to_numpy()],
        fmt_date(d, "%Y-%m-%d").to_numpy(),
    )
    return pd.Series(out, index=d.index, dtype=object), np.where(d.notna().to_numpy(), k, -1)


def to_csv_bytes(df: pd.DataFrame, *, sep: str, encoding: str, header: bool = True, lineterminator: str = "\n",
                 quoting: Literal[0, 1, 2, 3] = 0, preamble: str = "") -> bytes:  # fmt: skip
    buf = io.StringIO()
    buf.write(preamble)
    df.to_csv(buf, sep=sep, index=False, header=header, lineterminator=lineterminator, quoting=quoting)
    return buf.getvalue().encode(encoding)


def _naf_dotted(naf: pd.Series) -> pd.Series:
    return naf.str.slice(0, 2) + "." + naf.str.slice(2)


def _phone_spaced(p: pd.Series) -> pd.Series:
    return p.str.replace(r"(\d{2})(?=\d)", r"\1 ", regex=True)


def _contracts_with_persons(sim: Simulation) -> pd.DataFrame:
    per = sim.persons.set_index("person_id")
    ct = sim.contracts
    return ct.join(per.drop(columns="sex"), on="person_id")


def _choice_arr(rng: np.random.Generator, keys: list, weights: list, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=w / w.sum())]


def _rncp_of(cfd: pd.Series) -> pd.Series:
    """A stable, fictitious RNCP code per diploma (``RNCP3xxxx``)."""
    digits = cfd.str.replace(r"[^0-9]", "", regex=True).str.slice(-4).str.zfill(4)
    return "RNCP3" + digits


# --- DECA flat extract -------------------------------------------------------------------------------------


def deca_extract_frame(sim: Simulation, rng: np.random.Generator) -> pd.DataFrame:
    """One DECA flat-extract row (all strings) per true contract, in :data:`DECA_COLUMNS` order,
    plus private columns ``_contract_id`` and ``_kind`` (``contract``)."""
    df = _contracts_with_persons(sim)
    n = len(df)
    ext = sim.extraction_date
    cfa_siret = dict(
        zip(referential.cfa_referential()["uai"], referential.cfa_referential()["siret"], strict=True)
    )
    ruptured = df["rupture_date"].notna()
    status = np.where(ruptured, "Rompu", "")
    corrected = rng.random(n) < P.CORRECTED_SHARE
    status = np.where(corrected & ~ruptured, "Corrigé", status)
    rncp = _rncp_of(df["diploma_code"]).where(rng.random(n) < 0.1, "")
    out = pd.DataFrame(
        {
            "nom": name_variant(df["surname"], "typed", rng).to_numpy(dtype=object),
            "prenom": name_variant(df["first_name"], "typed", rng).to_numpy(dtype=object),
            "sexe": np.where(df["sex"] == "F", "F", "H"),
            "datenaissance": fmt_date(df["birth_date"], "%Y-%m-%d"),
            "departementnaissance": df["birth_departement"],
            "nationalite": df["nationality"],
            "handicap": np.where(df["rqth"], "true", "false"),
            "courriel": df["email"].fillna(""),
            "telephone": df["phone"],
            "adressenumero": df["address_number"].fillna(""),
            "adressevoie": df["street"],
            "adressecodepostal": df["postcode"],
            "derniereclasse": df["last_class"],
            "datedebutformation": fmt_date(df["training_start_date"], "%Y-%m-%d"),
            "datefinformation": fmt_date(df["training_end_date"], "%Y-%m-%d"),
            "codediplome": df["diploma_code"],
            "intituleouqualification": df["diploma_title"],
            "rncp": rncp,
            "siret": "",
            "uaicfa": df["cfa_uai"],
            "siretcfa": np.where(rng.random(n) < 0.1, df["cfa_uai"].map(cfa_siret).fillna(""), ""),
            "dateeffetrupture": fmt_date(df["rupture_date"], "%Y-%m-%d"),
            "nocontrat": df["contract_id"],
            "datedebutcontrat": fmt_date(df["start_date"], "%Y-%m-%d"),
            "datefincontrat": fmt_date(df["planned_end_date"], "%Y-%m-%d"),
            "dateeffetavenant": "",
            "noavenant": "",
            "statut": status,
            "flagcorrection": np.where(corrected, "true", "false"),
            "typecontrat": df["contract_type"],
            "datesuppression": "",
            "rupture_avant_debut": "false",
            "codeidcc": df["employer_idcc"],
            "typediplome": df["diploma_type_cerfa"],
            "siretemployeur": df["employer_siret"],
            "naf": df["employer_naf"],
            "nombredesalaries": df["employer_headcount"].astype(str),
            "dispositif": "APPR",
        }
    )
    out = out.astype(object).where(out.notna(), "")
    del ext
    return out.assign(_contract_id=df["contract_id"].to_numpy(), _kind="contract")


def _extra_contracts(sim: Simulation, rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    """``n`` extra (non-analytic) contract rows cloned from random true contracts with new numbers."""
    frame = deca_extract_frame(sim, rng)
    base = frame.sample(n=n, replace=n > len(frame), random_state=int(rng.integers(2**31))).reset_index(
        drop=True
    )
    ids = [f"041{prefix}{i:06d}" for i in range(1, n + 1)]  # prefix: 6 digits of the 'YYYYMM' slot
    return base.assign(nocontrat=ids, _contract_id=ids)


def build_deca_extract(
    sim: Simulation, rng: np.random.Generator, name: str
) -> tuple[bytes, dict, pd.DataFrame]:
    """The DECA flat extract (every contract, amendments, cancelled/deleted ones, defects)."""
    base = deca_extract_frame(sim, rng)
    n = len(base)
    truth: dict = {"profile": "deca_extract", "defects": {}}
    # amendments: extra rows with the same nocontrat, typecontrat 31-38
    am_idx = np.sort(rng.choice(n, size=round(n * P.AMENDMENT_SHARE), replace=False))
    am = base.iloc[am_idx].copy()
    start = pd.to_datetime(am["datedebutcontrat"])
    end = pd.to_datetime(am["datefincontrat"])
    eff = start + pd.to_timedelta(rng.integers(30, 300, len(am)), unit="D")
    eff = eff.where(eff < end, start + pd.Timedelta(days=15)).where(lambda x: x <= sim.extraction_date, start)
    am = am.assign(
        typecontrat=_choice_arr(rng, list(P.AMENDMENT_TYPES), list(P.AMENDMENT_TYPES.values()), len(am)),
        dateeffetavenant=fmt_date(eff, "%Y-%m-%d").to_numpy(),
        noavenant=am["nocontrat"].to_numpy(),
        _kind="amendment",
    )
    # cancelled / deleted / broken before start (extra records, never analytic)
    n_can = round(n * P.CANCELLED_SHARE)
    n_del = round(n * P.DELETED_SHARE)
    extra = _extra_contracts(sim, rng, n_can + n_del + P.RUPTURE_BEFORE_START_N + 4, "209901")
    can = extra.iloc[:n_can].assign(statut="Annulé", dateeffetrupture="", _kind="cancelled")
    dl = extra.iloc[n_can : n_can + n_del]
    dl = dl.assign(
        statut="Supprimé",
        dateeffetrupture="",
        datesuppression=fmt_date(
            pd.to_datetime(dl["datedebutcontrat"]) + pd.Timedelta(days=20), "%Y-%m-%d"
        ).to_numpy(),
        _kind="deleted",
    )
    rb = extra.iloc[n_can + n_del : n_can + n_del + P.RUPTURE_BEFORE_START_N]
    rb = rb.assign(
        statut="Rompu",
        rupture_avant_debut="true",
        dateeffetrupture=fmt_date(
            pd.to_datetime(rb["datedebutcontrat"]) - pd.Timedelta(days=5), "%Y-%m-%d"
        ).to_numpy(),
        _kind="rupture_before_start",
    )
    bad = extra.iloc[n_can + n_del + P.RUPTURE_BEFORE_START_N :].copy()
    bad_start = pd.to_datetime(bad["datedebutcontrat"])
    bad = bad.assign(
        datedebutcontrat=[
            "2024-02-31",  # impossible date
            bad["datedebutcontrat"].iloc[1],
            bad["datedebutcontrat"].iloc[2],
            bad["datedebutcontrat"].iloc[3],
        ],
        datefincontrat=[
            bad["datefincontrat"].iloc[0],
            fmt_date(bad_start.iloc[[1]] - pd.Timedelta(days=40), "%Y-%m-%d").iloc[0],  # end before start
            bad["datefincontrat"].iloc[2],
            bad["datefincontrat"].iloc[3],
        ],
        statut="",
        dateeffetrupture="",
        _kind=["invalid_date", "end_before_start", "missing_cfa_and_diploma", "missing_cfa_and_diploma"],
    )
    bad.loc[
        bad["_kind"] == "missing_cfa_and_diploma",
        ["uaicfa", "codediplome", "intituleouqualification", "siretcfa", "typediplome", "rncp"],
    ] = ""
    rows = pd.concat([base, am, can, dl, rb, bad], ignore_index=True)
    # file order: by contract number then contract type (amendments after their contract)
    rows = rows.sort_values(["nocontrat", "typecontrat", "dateeffetavenant"], kind="stable").reset_index(
        drop=True
    )
    # lost leading zeros and missing NAF on true rows
    m = rows["_kind"].isin(["contract", "amendment"]).to_numpy()
    u = rng.random(len(rows))
    lz_class = m & (rows["derniereclasse"] == "01").to_numpy() & (u < P.LOST_ZERO_SHARE * 4)
    lz_cfd = m & rows["codediplome"].str.startswith("0").to_numpy() & (rng.random(len(rows)) < 0.3)
    lz_pc = m & rows["adressecodepostal"].str.startswith("0").to_numpy() & (rng.random(len(rows)) < 0.5)
    lz_dep = (
        m & (rows["departementnaissance"] == "041").to_numpy() & (rng.random(len(rows)) < P.LOST_ZERO_SHARE)
    )
    rows.loc[lz_class, "derniereclasse"] = "1"
    rows.loc[lz_cfd, "codediplome"] = rows.loc[lz_cfd, "codediplome"].str.lstrip("0")
    rows.loc[lz_pc, "adressecodepostal"] = rows.loc[lz_pc, "adressecodepostal"].str.lstrip("0")
    rows.loc[lz_dep, "departementnaissance"] = "41"
    miss_naf = m & (rng.random(len(rows)) < P.MISSING_NAF_SHARE)
    rows.loc[miss_naf, "naf"] = ""
    # exact duplicate rows of true contract/amendment rows, inserted right after their original
    # (a duplicate of a cancelled or invalid record would share its rejection: kept out for clarity)
    dup_src = np.sort(
        rng.choice(np.flatnonzero(m), size=round(len(rows) * P.EXACT_DUPLICATE_SHARE), replace=False)
    )
    order = np.concatenate([np.arange(len(rows)), dup_src])
    key = np.concatenate([np.arange(len(rows)) * 2, dup_src * 2 + 1])
    is_dup = np.concatenate([np.zeros(len(rows), bool), np.ones(len(dup_src), bool)])
    srt = np.argsort(key, kind="stable")
    rows = rows.iloc[order[srt]].reset_index(drop=True)
    is_dup = is_dup[srt]
    lz_any = (lz_class | lz_cfd | lz_pc | lz_dep)[order[srt]]
    miss_naf = miss_naf[order[srt]]
    line = np.arange(len(rows)) + 2
    kinds = rows["_kind"].to_numpy()
    data = to_csv_bytes(rows[list(DECA_COLUMNS)], sep=",", encoding="utf-8")
    rejected = {
        "cancelled": "excluded_status",
        "deleted": "excluded_status",
        "rupture_before_start": "rupture_before_start",
        "invalid_date": "invalid_date",
        "end_before_start": "end_before_start",
        "missing_cfa_and_diploma": "missing_cfa_and_diploma",
    }
    for kind, category in rejected.items():
        truth["defects"][kind] = {
            "expected": f"rejected:{category}",
            "rows": line[(kinds == kind) & ~is_dup].tolist(),
        }
    truth["defects"]["amendment_row"] = {
        "expected": "merged:amendment",
        "rows": line[(kinds == "amendment") & ~is_dup].tolist(),
    }
    truth["defects"]["exact_duplicate_row"] = {
        "expected": "merged:duplicate_row",  # issue 3: exact duplicates are merged, not rejected
        "rows": line[is_dup].tolist(),
    }
    truth["defects"]["lost_leading_zero"] = {"expected": "repaired", "rows": line[lz_any & ~is_dup].tolist()}
    truth["defects"]["missing_naf"] = {
        "expected": "kept:sector_unknown",
        "rows": line[miss_naf & ~is_dup].tolist(),
    }
    truth["records"] = len(rows)
    truth["true_contract_records"] = int((((kinds == "contract") | (kinds == "amendment")) & ~is_dup).sum())
    truth["distinct_true_contracts"] = int(((kinds == "contract") & ~is_dup).sum())
    rows_meta = pd.DataFrame(
        {"line": line, "kind": kinds, "dup": is_dup, "contract_id": rows["_contract_id"].to_numpy()}
    )
    return data, truth, rows_meta


# --- DECA API JSON --------------------------------------------------------------------------------------------


def build_deca_api(sim: Simulation, rng: np.random.Generator) -> tuple[bytes, dict]:
    """DECA API response: contracts started or broken during the last ``DECA_API_WINDOW_DAYS`` (30) days."""
    ext = sim.extraction_date
    lo = ext - pd.Timedelta(days=P.DECA_API_WINDOW_DAYS)
    df = _contracts_with_persons(sim)
    sel = ((df["start_date"] > lo) | (df["rupture_date"] > lo)).to_numpy()
    df = df.loc[sel].sort_values("contract_id").reset_index(drop=True)
    n = len(df)
    nom = name_variant(df["surname"], "typed", rng)
    prenom = name_variant(df["first_name"], "typed", rng)
    cls = df["last_class"].to_numpy()  # the apprentice's, as in the DECA extract
    lost = rng.random(n) < 0.15  # BAL coerces derniereClasse to a number: "01" -> 1
    cfa_siret = dict(
        zip(referential.cfa_referential()["uai"], referential.cfa_referential()["siret"], strict=True)
    )
    etype = df["size_profile"].map(cat.EMPLOYER_TYPE)
    etype = df["employer_naf"].map(cat.PUBLIC_NAF_TYPE).fillna(etype)
    reason_code = df["rupture_reason"].map(cat.DECA_REASON_CODE)
    signal = df["rupture_date"] + pd.to_timedelta(rng.integers(0, 15, n), unit="D")
    signal = signal.where(signal <= ext, ext)

    def iso(s: pd.Series) -> list[str | None]:
        """ISO dates as Python strings, ``None`` (JSON null) for a missing date: never NaN."""
        return [None if pd.isna(x) else x.strftime("%Y-%m-%d") for x in s]

    birth, tstart, tend = iso(df["birth_date"]), iso(df["training_start_date"]), iso(df["training_end_date"])
    start, end, sig, rup, sgn = (
        iso(df["start_date"]), iso(df["planned_end_date"]), iso(df["signature_date"]), iso(df["rupture_date"]), iso(signal)
    )  # fmt: skip
    reasons = [None if pd.isna(x) else str(x) for x in reason_code]
    contrats = []
    for i, r in enumerate(df.to_dict("records")):
        c = cls[i]
        item: dict = {
            "alternant": {
                "nom": nom.iloc[i],
                "prenom": prenom.iloc[i],
                "sexe": "F" if r["sex"] == "F" else "H",
                "dateNaissance": birth[i],
                "departementNaissance": r["birth_departement"],
                "nationalite": int(r["nationality"]),
                "handicap": bool(r["rqth"]),
                "courriel": r["email"] if pd.notna(r["email"]) else None,
                "telephone": r["phone"],
                "adresse": {
                    "numero": int(r["address_number"]) if pd.notna(r["address_number"]) else None,
                    "voie": r["street"],
                    "codePostal": r["postcode"],
                },
                "derniereClasse": int(c) if lost[i] else c,
            },
            "formation": {
                "dateDebutFormation": tstart[i],
                "dateFinFormation": tend[i],
                "codeDiplome": r["diploma_code"],
                "rncp": None,
                "intituleOuQualification": f"{r['diploma_title']} ({r['diploma_family']})",
                "typeDiplome": r["diploma_type_cerfa"],
            },
            "etablissementFormation": {"siret": None},
            "organismeFormationResponsable": {
                "uaiCfa": r["cfa_uai"],
                "siret": cfa_siret.get(r["cfa_uai"]) or None,
            },
            "employeur": {
                "codeIdcc": r["employer_idcc"],
                "siret": r["employer_siret"],
                "denomination": r["employer_name"],
                "naf": r["employer_naf"],
                "nombreDeSalaries": int(r["employer_headcount"]),
                "typeEmployeur": int(etype.iloc[i]),
                "employeurSpecifique": 0,
                "adresse": {"codePostal": r["employer_postcode"]},
            },
            "detailsContrat": {
                "noContrat": r["contract_id"],
                "typeContrat": int(r["contract_type"]),
                "dispositif": "APPR",
                "statut": "Rompu" if rup[i] is not None else "",
                "dateDebutContrat": start[i],
                "dateFinContrat": end[i],
                "dateConclusion": sig[i],
                "dateEffetAvenant": "",
                "noAvenant": None,
                "typeDerogation": None,
            },
        }
        if rup[i] is not None:
            item["rupture"] = {
                "dateEffetRupture": rup[i],
                "codeMotifRupture": reasons[i],
                "commentaireRupture": "",
                "dateSignalement": sgn[i],
            }
        contrats.append(item)
    payload = {"metadonnees": {"page": 1, "totalPages": 1, "totalElements": n}, "contrats": contrats}
    # allow_nan=False: a NaN would be written as the invalid JSON token NaN
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    truth = {
        "profile": "deca_api",
        "records": n,
        "true_contract_records": n,
        "window": [str(lo.date()), str(ext.date())],
        "defects": {
            "derniereclasse_as_number": {"expected": "repaired", "rows": (np.flatnonzero(lost) + 1).tolist()}
        },
    }
    return data, truth


# --- TBA upload workbook -------------------------------------------------------------------------------------------


def build_tba(
    sim: Simulation, rng: np.random.Generator, cfas: tuple[str, ...], seed: int
) -> tuple[bytes, dict]:
    """Tableau de bord upload workbook: one row per apprentice x training, up to 4 contracts."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    ext = sim.extraction_date
    df = _contracts_with_persons(sim)
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
    nrow = len(heads)
    nom = name_variant(heads["surname"], "cfa", rng)
    prenom = name_variant(heads["first_name"], "cfa", rng)
    cur_sy = np.full(nrow, window_lo.year)
    tsy = (heads["training_start_date"].dt.year - (heads["training_start_date"].dt.month < 8)).to_numpy()
    cfa_siret = dict(
        zip(referential.cfa_referential()["uai"], referential.cfa_referential()["siret"], strict=True)
    )
    exams = sim.exams.set_index("chain_id")
    closed = exams["closed"].reindex(heads["chain_id"]).to_numpy()
    passed = exams["passed"].reindex(heads["chain_id"]).to_numpy()
    ch = ch.loc[ch["start_date"] <= ext]
    contracts_by_chain: dict[int, list[dict]] = {}
    for rec in ch[
        ["chain_id", "contract_id", "start_date", "planned_end_date", "employer_siret", "rupture_date",
         "rupture_reason"]
    ].to_dict("records"):  # fmt: skip
        contracts_by_chain.setdefault(rec["chain_id"], []).append(rec)
    result_date = exams["result_date"].reindex(heads["chain_id"]).to_numpy()
    head_records = heads.to_dict("records")
    date_fmt = rng.choice(3, size=(nrow, len(TBA_KEYS)), p=[0.70, 0.25, 0.05])
    sex_code = np.where(
        rng.random(nrow) < 0.8,
        np.where(heads["sex"] == "F", "F", "M"),
        np.where(heads["sex"] == "F", "2", "1"),
    )
    lost_cfd = heads["diploma_code"].str.startswith("0").to_numpy() & (rng.random(nrow) < 0.5)
    n_string_dates = 0
    records = 0
    evidence: list[str] = []  # contracts whose row says the rupture followed the diploma

    wb = Workbook(write_only=True)
    wb.properties.creator = "aioa sample"
    wb.properties.created = datetime(2020, 1, 1)
    wb.properties.modified = datetime(2020, 1, 1)
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
    ws = wb.create_sheet("Effectifs")
    ws.append([k + ("*" if k in TBA_MANDATORY else "") for k in TBA_KEYS])
    for i in range(nrow):
        h = head_records[i]
        conts = contracts_by_chain[h["chain_id"]]
        records += len(conts)
        vals: dict = {
            "nom_apprenant": nom.iloc[i],
            "prenom_apprenant": prenom.iloc[i],
            "date_de_naissance_apprenant": h["birth_date"],
            "sexe_apprenant": sex_code[i],
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
            "annee_scolaire": f"{cur_sy[i]}-{cur_sy[i] + 1}",
            "annee_formation": str(int(cur_sy[i] - tsy[i] + 1)),
            "formation_rncp": "",
            "formation_cfd": int(h["diploma_code"]) if lost_cfd[i] else h["diploma_code"],
            "date_inscription_formation": h["training_start_date"] - pd.Timedelta(days=20),
            "date_entree_formation": h["training_start_date"],
            "date_fin_formation": h["training_end_date"],
            "duree_theorique_formation_mois": str(12 * int(cat_years(h))),
            "libelle_court_formation": h["diploma_title"],
            "obtention_diplome_formation": ("oui" if passed[i] else "non") if closed[i] else "",
            "date_obtention_diplome_formation": result_date[i] if (closed[i] and passed[i]) else None,
            "formation_presentielle": "oui",
        }
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
        row: list[Any] = []
        for k_i, k in enumerate(TBA_KEYS):
            v = vals.get(k)
            if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                row.append(None)
                continue
            if k in TBA_DATE_KEYS:
                ts = pd.Timestamp(v)
                f = date_fmt[i, k_i]
                if f == 0:
                    cell = WriteOnlyCell(ws, value=ts.to_pydatetime())
                    cell.number_format = "DD/MM/YYYY"
                    row.append(cell)
                else:
                    n_string_dates += 1
                    row.append(ts.strftime("%d/%m/%Y" if f == 1 else "%d/%m/%y"))
                continue
            row.append(v)
        ws.append(row)
    buf = io.BytesIO()
    _save_workbook(wb, buf)
    truth = {
        "profile": "tba_upload",
        "sheet": "Effectifs",
        "cfas": list(cfas),
        "records": int(records),
        "rows": int(nrow),
        "true_contract_records": int(records),
        "defects": {
            "date_as_text": {"expected": "parsed", "cells": int(n_string_dates)},
            "lost_leading_zero": {"expected": "repaired", "rows": (np.flatnonzero(lost_cfd) + 2).tolist()},
        },
        "_evidence": {"contract_ids": sorted(evidence)},
    }
    return normalise_zip(buf.getvalue()), truth


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


# --- SIFA -----------------------------------------------------------------------------------------------


def build_sifa(sim: Simulation, rng: np.random.Generator, uai: str) -> tuple[bytes, dict, str]:
    """SIFA file of one CFA: apprentices enrolled on 31/12 of the year before the extraction."""
    photo = pd.Timestamp(year=sim.extraction_date.year - 1, month=12, day=31)
    df = _contracts_with_persons(sim)
    first = df.loc[(df["generation"] == 0) & (df["cfa_uai"] == uai)]
    chains = first.loc[
        (first["training_start_date"] <= photo) & (first["training_end_date"] >= photo), "chain_id"
    ]
    cur = df.loc[df["chain_id"].isin(chains) & (df["start_date"] <= photo)]
    cur = cur.sort_values(["chain_id", "generation"]).groupby("chain_id").tail(1)
    cur = cur.sort_values(["surname", "first_name", "chain_id"]).reset_index(drop=True)
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

    def com_code(pc: pd.Series) -> pd.Series:
        return pc.map(cat.COMMUNE_CODES).fillna(
            pc.str.slice(0, 2) + pc.str.slice(2, 5).map(lambda x: f"{(int(x) * 7) % 300:03d}")
        )

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
            "COM_RESID": com_code(cur["postcode"]),
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
                _choice_arr(rng, ["11", "21", "31", "54"], [0.5, 0.15, 0.25, 0.1], n),
                _choice_arr(rng, ["31", "21", "41", "53"], [0.5, 0.25, 0.15, 0.1], n),
            ),
            "DIP_OBT": np.where(
                lg == "3",
                _choice_arr(rng, ["01", "03"], [0.35, 0.65], n),
                np.where(lg == "4", "04", _choice_arr(rng, ["07", "08"], [0.4, 0.6], n)),
            ),
            "SIT_N_1": "9999",
            "ETAB_N_1": _choice_arr(rng, ["041", "993"], [0.7, 0.3], n),
            "TYPE_EMP": etype,
            "DATE_ENTREE_CFA": ddmmyyyy(cur["training_start_date"]),
            "DATE_DEB_CONT": ddmmyyyy(cur["start_date"]),
            "DATE_RUPT_CONT": ddmmyyyy(rupt),
            "COM_ETAB": com_code(cur["employer_postcode"]),
            "NAF_ETAB": cur["employer_naf"],
            "NBSAL_EMP": cur["employer_headcount"].astype(str),
            "SIRET_EMP": cur["employer_siret"],
        }
    )
    assert tuple(out.columns) == SIFA_COLUMNS and len(SIFA_COLUMNS) == 47
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


# --- consular chamber ---------------------------------------------------------------------------------------


def build_chamber(sim: Simulation, rng: np.random.Generator, uai: str) -> tuple[bytes, dict]:
    """CMA spreadsheet: contracts of the CMA CFA that started during the 12 months before extraction."""
    ext = sim.extraction_date
    lo = ext - pd.DateOffset(months=12)
    df = _contracts_with_persons(sim)
    cur = (
        df.loc[(df["cfa_uai"] == uai) & (df["start_date"] >= lo)]
        .sort_values("start_date", kind="stable")
        .reset_index(drop=True)
    )
    n = len(cur)
    exams = sim.exams.set_index("chain_id")
    closed = cur["chain_id"].map(exams["closed"]).to_numpy()
    passed = cur["chain_id"].map(exams["passed"]).to_numpy()
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
            "Téléphone": _phone_spaced(cur["phone"]),
            "Courriel": cur["email"].fillna(""),
            "UAI du CFA": uai,
            "Nom du CFA": cfa_name,
            "SIRET de l’employeur": cur["employer_siret"],
            "Code NAF": np.where(dotted, _naf_dotted(cur["employer_naf"]), cur["employer_naf"]),
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
    # defects: an impossible date and a row with neither CFA nor diploma (extra records)
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


# --- exam results ------------------------------------------------------------------------------------------


def build_exams(sim: Simulation, rng: np.random.Generator, sessions: list[int]) -> tuple[bytes, dict]:
    """Exam results of the closed sessions, one line per candidate: Éducation nationale diplomas
    (academy results: no agricultural diplomas, titles or university degrees)."""
    ex = sim.exams
    en = ex["diploma_family"].isin(["CAP", "BP", "BAC PRO", "BTS", "MC"]) & ~ex["diploma_code"].str.slice(
        0, 3
    ).isin(["503", "403", "453", "323", "013"])
    ex = ex.loc[ex["closed"] & ex["exam_session"].isin(sessions) & en]
    per = sim.persons.set_index("person_id")
    p = per.loc[ex["person_id"].to_numpy()]
    out = pd.DataFrame(
        {
            "Nom": name_variant(pd.Series(p["surname"].to_numpy()), "upper", rng).to_numpy(),
            "Prénom": strip_accents(pd.Series(p["first_name"].to_numpy())).to_numpy(),
            "Date de naissance": pd.Series(p["birth_date"].to_numpy()).dt.strftime("%d/%m/%Y").to_numpy(),
            "INE": pd.Series(p["ine"].to_numpy()).fillna("").to_numpy(),
            "Code diplôme": ex["diploma_code"].to_numpy(),
            "Intitulé du diplôme": ex["diploma_title"].to_numpy(),
            "Session": ex["exam_session"].astype(str).to_numpy(),
            "Résultat": ex["result"].to_numpy(),
        }
    ).sort_values(["Session", "Code diplôme", "Nom", "Prénom"], kind="stable")
    data = to_csv_bytes(out, sep=";", encoding="utf-8-sig", lineterminator="\r\n")
    truth = {
        "profile": "exam_results",
        "records": len(out),
        "sessions": sorted(int(s) for s in set(out["Session"])),
        "_evidence": {"admitted_chain_ids": sorted(int(c) for c in ex.loc[ex["passed"], "chain_id"])},
    }
    return data, truth


__all__ = [
    "DECA_COLUMNS",
    "build_chamber",
    "build_deca_api",
    "build_deca_extract",
    "build_exams",
    "build_sifa",
    "build_tba",
    "deca_extract_frame",
    "make_sirets",
    "normalise_zip",
]
