"""The DECA files: the flat extract (every contract, amendments, excluded records, defects) and the
API response (contracts started or broken during the last 30 days).

The extract's defects (known rates, ``_params``): amendment rows, cancelled/deleted contracts, ruptures
before the start, an impossible date, an end before the start, rows without CFA and diploma, lost
leading zeros, missing NAF codes and exact duplicate rows; each listed in the ground truth by line.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._format import (
    cfa_sirets,
    contracts_with_persons,
    fmt_date,
    name_variant,
    rncp_of,
    to_csv_bytes,
)
from aioa_analysis.sample._population import choice
from aioa_analysis.sample._simulate import Simulation

DECA_COLUMNS = (
    "nom", "prenom", "sexe", "datenaissance", "departementnaissance", "nationalite", "handicap", "courriel",
    "telephone", "adressenumero", "adressevoie", "adressecodepostal", "derniereclasse", "datedebutformation",
    "datefinformation", "codediplome", "intituleouqualification", "rncp", "siret", "uaicfa", "siretcfa",
    "dateeffetrupture", "nocontrat", "datedebutcontrat", "datefincontrat", "dateeffetavenant", "noavenant",
    "statut", "flagcorrection", "typecontrat", "datesuppression", "rupture_avant_debut", "codeidcc",
    # LBA-file columns added to the TBA extract (BRIEF: no courrielemployeur/denomination)
    "typediplome", "siretemployeur", "naf", "nombredesalaries", "dispositif",
)  # fmt: skip


def deca_extract_frame(sim: Simulation, rng: np.random.Generator) -> pd.DataFrame:
    """One DECA flat-extract row (all strings) per true contract, in :data:`DECA_COLUMNS` order,
    plus private columns ``_contract_id`` and ``_kind`` (``contract``)."""
    df = contracts_with_persons(sim)
    n = len(df)
    cfa_siret = cfa_sirets()
    ruptured = df["rupture_date"].notna()
    status = np.where(ruptured, "Rompu", "")
    corrected = rng.random(n) < P.CORRECTED_SHARE
    status = np.where(corrected & ~ruptured, "Corrigé", status)
    rncp = rncp_of(df["diploma_code"]).where(rng.random(n) < 0.1, "")
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
    return out.assign(_contract_id=df["contract_id"].to_numpy(), _kind="contract")


def _extra_contracts(sim: Simulation, rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    """``n`` extra (non-analytic) contract rows cloned from random true contracts with new numbers."""
    frame = deca_extract_frame(sim, rng)
    base = frame.sample(n=n, replace=n > len(frame), random_state=int(rng.integers(2**31))).reset_index(
        drop=True
    )
    ids = [f"041{prefix}{i:06d}" for i in range(1, n + 1)]  # prefix: 6 digits of the 'YYYYMM' slot
    return base.assign(nocontrat=ids, _contract_id=ids)


def _amendment_rows(base: pd.DataFrame, rng: np.random.Generator, ext: pd.Timestamp) -> pd.DataFrame:
    """Amendments: extra rows copying a contract (same ``nocontrat``), ``typecontrat`` 31-38."""
    n = len(base)
    am_idx = np.sort(rng.choice(n, size=round(n * P.AMENDMENT_SHARE), replace=False))
    am = base.iloc[am_idx].copy()
    start = pd.to_datetime(am["datedebutcontrat"])
    end = pd.to_datetime(am["datefincontrat"])
    eff = start + pd.to_timedelta(rng.integers(30, 300, len(am)), unit="D")
    eff = eff.where(eff < end, start + pd.Timedelta(days=15)).where(lambda x: x <= ext, start)
    return am.assign(
        typecontrat=choice(rng, list(P.AMENDMENT_TYPES), list(P.AMENDMENT_TYPES.values()), len(am)),
        dateeffetavenant=fmt_date(eff, "%Y-%m-%d").to_numpy(),
        noavenant=am["nocontrat"].to_numpy(),
        _kind="amendment",
    )


def _excluded_rows(sim: Simulation, rng: np.random.Generator, n: int) -> list[pd.DataFrame]:
    """Extra records the cleaner must reject (never analytic): cancelled, deleted, broken before the
    start, then one impossible date, one end before start and two rows without CFA and diploma."""
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
    return [can, dl, rb, _invalid_rows(extra.iloc[n_can + n_del + P.RUPTURE_BEFORE_START_N :].copy())]


def _invalid_rows(bad: pd.DataFrame) -> pd.DataFrame:
    """Four records: an impossible date, an end before the start, two without CFA and diploma."""
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
    return bad


def _damage(rows: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lose leading zeros and NAF codes on true rows, in place; return both masks (lost zero, no NAF)."""
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
    return lz_class | lz_cfd | lz_pc | lz_dep, miss_naf


def _duplicate_order(rows: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exact duplicates of true contract/amendment rows, each right after its original: the new row
    order (positions in ``rows``) and which rows are the duplicates.

    A duplicate of a cancelled or invalid record would share its rejection: kept out for clarity.
    """
    m = rows["_kind"].isin(["contract", "amendment"]).to_numpy()
    dup_src = np.sort(
        rng.choice(np.flatnonzero(m), size=round(len(rows) * P.EXACT_DUPLICATE_SHARE), replace=False)
    )
    order = np.concatenate([np.arange(len(rows)), dup_src])
    key = np.concatenate([np.arange(len(rows)) * 2, dup_src * 2 + 1])
    is_dup = np.concatenate([np.zeros(len(rows), bool), np.ones(len(dup_src), bool)])
    srt = np.argsort(key, kind="stable")
    return order[srt], is_dup[srt]


_REJECTED = {
    "cancelled": "excluded_status",
    "deleted": "excluded_status",
    "rupture_before_start": "rupture_before_start",
    "invalid_date": "invalid_date",
    "end_before_start": "end_before_start",
    "missing_cfa_and_diploma": "missing_cfa_and_diploma",
}
"""Kind of extra record -> the rejection category the cleaner must give it."""


def _extract_truth(kinds: np.ndarray, is_dup: np.ndarray, lz_any: np.ndarray, miss_naf: np.ndarray) -> dict:
    """The extract's ground truth: the line of every defect, records and true contract records."""
    line = np.arange(len(kinds)) + 2
    defects = {
        kind: {"expected": f"rejected:{category}", "rows": line[(kinds == kind) & ~is_dup].tolist()}
        for kind, category in _REJECTED.items()
    }
    defects["amendment_row"] = {
        "expected": "merged:amendment",
        "rows": line[(kinds == "amendment") & ~is_dup].tolist(),
    }
    defects["exact_duplicate_row"] = {
        "expected": "merged:duplicate_row",  # exact duplicates are merged, not rejected (docs/data-model.md)
        "rows": line[is_dup].tolist(),
    }
    defects["lost_leading_zero"] = {"expected": "repaired", "rows": line[lz_any & ~is_dup].tolist()}
    defects["missing_naf"] = {"expected": "kept:sector_unknown", "rows": line[miss_naf & ~is_dup].tolist()}
    return {
        "profile": "deca_extract",
        "defects": defects,
        "records": len(kinds),
        "true_contract_records": int((((kinds == "contract") | (kinds == "amendment")) & ~is_dup).sum()),
        "distinct_true_contracts": int(((kinds == "contract") & ~is_dup).sum()),
    }


def build_deca_extract(
    sim: Simulation, rng: np.random.Generator, name: str
) -> tuple[bytes, dict, pd.DataFrame]:
    """The DECA flat extract (every contract, amendments, cancelled/deleted ones, defects)."""
    base = deca_extract_frame(sim, rng)
    am = _amendment_rows(base, rng, sim.extraction_date)
    rows = pd.concat([base, am, *_excluded_rows(sim, rng, len(base))], ignore_index=True)
    # file order: by contract number then contract type (amendments after their contract)
    rows = rows.sort_values(["nocontrat", "typecontrat", "dateeffetavenant"], kind="stable").reset_index(
        drop=True
    )
    lz_any, miss_naf = _damage(rows, rng)
    order, is_dup = _duplicate_order(rows, rng)
    rows = rows.iloc[order].reset_index(drop=True)
    kinds = rows["_kind"].to_numpy()
    data = to_csv_bytes(rows[list(DECA_COLUMNS)], sep=",", encoding="utf-8")
    truth = _extract_truth(kinds, is_dup, lz_any[order], miss_naf[order])
    rows_meta = pd.DataFrame(
        {
            "line": np.arange(len(rows)) + 2,
            "kind": kinds,
            "dup": is_dup,
            "contract_id": rows["_contract_id"].to_numpy(),
        }
    )
    return data, truth, rows_meta


# --- DECA API JSON --------------------------------------------------------------------------------------------


def _iso(s: pd.Series) -> list[str | None]:
    """ISO dates as Python strings, ``None`` (JSON null) for a missing date: never NaN."""
    return [None if pd.isna(x) else x.strftime("%Y-%m-%d") for x in s]


def _api_item(r: dict, d: dict, cfa_siret: dict[str, str]) -> dict:
    """One element of ``contrats``: contract record ``r`` with its formatted values ``d`` (names,
    ISO dates, last class, employer type, rupture reason)."""
    item: dict = {
        "alternant": {
            "nom": d["nom"],
            "prenom": d["prenom"],
            "sexe": "F" if r["sex"] == "F" else "H",
            "dateNaissance": d["birth"],
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
            "derniereClasse": d["last_class"],
        },
        "formation": {
            "dateDebutFormation": d["tstart"],
            "dateFinFormation": d["tend"],
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
            "typeEmployeur": int(d["etype"]),
            "employeurSpecifique": 0,
            "adresse": {"codePostal": r["employer_postcode"]},
        },
        "detailsContrat": {
            "noContrat": r["contract_id"],
            "typeContrat": int(r["contract_type"]),
            "dispositif": "APPR",
            "statut": "Rompu" if d["rup"] is not None else "",
            "dateDebutContrat": d["start"],
            "dateFinContrat": d["end"],
            "dateConclusion": d["sig"],
            "dateEffetAvenant": "",
            "noAvenant": None,
            "typeDerogation": None,
        },
    }
    if d["rup"] is not None:
        item["rupture"] = {
            "dateEffetRupture": d["rup"],
            "codeMotifRupture": d["reason"],
            "commentaireRupture": "",
            "dateSignalement": d["sgn"],
        }
    return item


def build_deca_api(sim: Simulation, rng: np.random.Generator) -> tuple[bytes, dict]:
    """DECA API response: contracts started or broken during the last ``DECA_API_WINDOW_DAYS`` (30) days."""
    ext = sim.extraction_date
    lo = ext - pd.Timedelta(days=P.DECA_API_WINDOW_DAYS)
    df = contracts_with_persons(sim)
    sel = ((df["start_date"] > lo) | (df["rupture_date"] > lo)).to_numpy()
    df = df.loc[sel].sort_values("contract_id").reset_index(drop=True)
    n = len(df)
    nom = name_variant(df["surname"], "typed", rng)
    prenom = name_variant(df["first_name"], "typed", rng)
    cls = df["last_class"].to_numpy()  # the apprentice's, as in the DECA extract
    lost = rng.random(n) < 0.15  # BAL coerces derniereClasse to a number: "01" -> 1
    etype = df["size_profile"].map(cat.EMPLOYER_TYPE)
    etype = df["employer_naf"].map(cat.PUBLIC_NAF_TYPE).fillna(etype)
    reason_code = df["rupture_reason"].map(cat.DECA_REASON_CODE)
    signal = df["rupture_date"] + pd.to_timedelta(rng.integers(0, 15, n), unit="D")
    signal = signal.where(signal <= ext, ext)
    columns = {
        "nom": nom.tolist(),
        "prenom": prenom.tolist(),
        "last_class": [int(c) if lost_i else c for c, lost_i in zip(cls, lost, strict=True)],
        "etype": etype.tolist(),
        "birth": _iso(df["birth_date"]),
        "tstart": _iso(df["training_start_date"]),
        "tend": _iso(df["training_end_date"]),
        "start": _iso(df["start_date"]),
        "end": _iso(df["planned_end_date"]),
        "sig": _iso(df["signature_date"]),
        "rup": _iso(df["rupture_date"]),
        "sgn": _iso(signal),
        "reason": [None if pd.isna(x) else str(x) for x in reason_code],
    }
    formatted = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    cfa_siret = cfa_sirets()
    contrats = [_api_item(r, d, cfa_siret) for r, d in zip(df.to_dict("records"), formatted, strict=True)]
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
