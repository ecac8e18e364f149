"""Deterministic, realistic synthetic sample of Loir-et-Cher apprenticeship contracts.

``generate_sample(out_dir, seed=41)`` writes, in the REAL input formats (FORMATS.md):

* ``Export_Init_TBA_<YYYYMMDDhhmm>.csv``: DECA flat extract (every contract, amendments as extra
  rows, cancelled/deleted contracts, a few defects);
* ``deca_api_contrats_<YYYYMMDD>.json``: DECA API response (contracts started or broken during the
  last 30 days: duplicates of extract rows, same values; strict JSON, null for missing);
* ``tba_televersement_<YYYYMMDD>.xlsx``: Tableau de bord upload workbook ("Lisez-moi" sheet first,
  wide rows with up to 4 contracts) for two CFAs;
* ``SIFA_<UAI>_<JJMMAAAA>.csv``: SIFA file of one CFA (47 columns, no header, photograph at 31/12);
* ``cma41_contrats_<YYYYMMDD>.csv``: consular-chamber spreadsheet (cp1252, ``;``, two title rows);
* ``resultats_examens_<YYYYMMDD>.csv``: exam results of the closed sessions;
* ``_ground_truth.json``: the parameters (with the DOMAIN.md figures they cite), the true counts,
  the expected duplicates and defects (file, row, expected outcome) and the TRUE model
  probabilities (expected 9-month rupture probability by cohort and group).

Same seed and arguments give byte-identical files. See ``docs/sample.md``.

Examples
--------
>>> import tempfile, pathlib
>>> truth = generate_sample(pathlib.Path(tempfile.mkdtemp()), seed=1, years=1, contracts_per_year=200)
>>> truth["generator"]["seed"], 0.15 < truth["expected_rupture_9m"]["overall_all"]["p"] < 0.28
(1, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.atomic import AtomicDir
from aioa_analysis.core.errors import OutputError, ParameterError
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._chamber import build_chamber
from aioa_analysis.sample._deca import DECA_COLUMNS, build_deca_api, build_deca_extract, deca_extract_frame
from aioa_analysis.sample._exams import build_exams
from aioa_analysis.sample._format import to_csv_bytes
from aioa_analysis.sample._sifa import build_sifa
from aioa_analysis.sample._simulate import Simulation, simulate
from aioa_analysis.sample._tba import build_tba

__all__ = [
    "DEFAULT_EXTRACTION_DATE",
    "GENERATOR_VERSION",
    "Simulation",
    "generate_sample",
    "ground_truth",
    "simulate",
    "simulate_contracts",
    "write_deca_extract",
]

GENERATOR_VERSION = "2"
DEFAULT_EXTRACTION_DATE = "2025-11-30"
TBA_CFAS = (cat.BTP, cat.SAN)
SIFA_CFA = cat.AGRI
CHAMBER_CFA = cat.CMA
GROUP_DIMENSIONS = (
    "school_year",
    "diploma_level",
    "diploma_family",
    "level_group",
    "sector",
    "sector_group",
    "cfa",
    "sex",
    "age_band",
    "employer_size",
    "start_month",
    "territory",
    "contract_kind",
    "generation_group",
)
"""Dimensions of ``expected_rupture_9m.by``: ``contract_kind`` follows the CERFA type (11 initial,
21-23 succession) as the cleaner derives it; ``generation_group`` is ``first`` (first contract of the
training) or ``after_rupture`` (signed after a rupture)."""


def _check_args(seed: int, years: int, contracts_per_year: int, extraction_date: str) -> pd.Timestamp:
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"--seed {seed!r} is not a non-negative integer", hint="e.g. --seed 41")
    if not 1 <= int(years) <= 15:
        raise ParameterError(f"--years {years} is out of range", hint="use 1 to 15 school years")
    if not 10 <= int(contracts_per_year) <= 2_000_000:
        raise ParameterError(
            f"--contracts-per-year {contracts_per_year} is out of range", hint="use 10 to 2,000,000"
        )
    try:
        ext = pd.Timestamp(str(extraction_date))
    except ValueError as exc:
        raise ParameterError(
            f"--extraction-date {extraction_date!r} is not a date", hint="use YYYY-MM-DD"
        ) from exc
    if pd.isna(ext) or not 2015 <= ext.year <= 2100:
        raise ParameterError(
            f"--extraction-date {extraction_date!r} is not a plausible date", hint="use YYYY-MM-DD"
        )
    return ext.normalize()


def simulate_contracts(
    *,
    seed: int,
    years: int = 4,
    contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> pd.DataFrame:
    """The true contracts (one row per contract, apprentice identity joined), without file defects.

    Columns include ``contract_id``, ``contract_type``, ``generation`` (0 = first contract of the
    training, 1+ = signed after a rupture), ``cfa_uai``, ``diploma_code``, ``start_date``,
    ``planned_end_date``, ``rupture_date`` (known at ``extraction_date``), ``rupture_after_diploma``,
    ``employer_naf``, ``sector``, ``employer_size_band``, ``age_band``, ``sex``, ``p9`` (TRUE model
    probability of a rupture within 9 months) and the identity columns (``surname``, ``first_name``,
    ``birth_date``, ...). Use :func:`write_deca_extract` to write it as a DECA flat extract.

    >>> df = simulate_contracts(seed=3, years=1, contracts_per_year=100, extraction_date="2025-07-31")
    >>> bool(df["contract_id"].is_unique), bool((df["start_date"] <= "2025-07-31").all())
    (True, True)
    """
    _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=extraction_date
    )
    per = sim.persons.set_index("person_id").drop(columns="sex")
    return sim.contracts.join(per, on="person_id")


def write_deca_extract(
    path: str | os.PathLike[str], *, seed: int, years: int = 4, contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> Path:  # fmt: skip
    """Write ONLY a clean DECA flat extract (one row per true contract) to ``path``; for benchmarks.

    >>> import tempfile, pathlib
    >>> p = write_deca_extract(pathlib.Path(tempfile.mkdtemp()) / "x.csv", seed=1, years=1, contracts_per_year=50)
    >>> p.read_text(encoding="utf-8").splitlines()[0].startswith("nom,prenom,sexe")
    True
    """
    _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=extraction_date
    )
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(12)[-1]))
    frame = deca_extract_frame(sim, rng)[list(DECA_COLUMNS)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_bytes(frame, sep=",", encoding="utf-8"))
    return path


# --- ground truth ----------------------------------------------------------------------------------------------


def _r(x: float) -> float | None:
    """Round for the JSON file; NaN (empty group) -> None."""
    return None if pd.isna(x) else round(float(x), 4)


def _group_table(df: pd.DataFrame, col: str) -> dict[str, dict[str, float | None]]:
    g = df.groupby(col, dropna=False, sort=True)
    out = {}
    for key, sub in g:
        k = "NA" if (key is None or (isinstance(key, float) and np.isnan(key)) or key is pd.NA) else str(key)
        out[k] = {"n": len(sub), "p": _r(sub["p9"].mean()), "realised": _r(sub["broke_9m"].mean())}
    return out


def _name_key(s: pd.Series) -> pd.Series:
    """Names as the pseudonymisation normalises them (accents stripped, upper-case, A-Z0-9 only)."""

    def one(x: str) -> str:
        x = x.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("ß", "ss")
        x = "".join(ch for ch in unicodedata.normalize("NFKD", x) if not unicodedata.combining(ch))
        return "".join(ch for ch in x.upper() if "A" <= ch <= "Z" or "0" <= ch <= "9")

    return s.astype(str).map(one)


def identity_collisions(persons: pd.DataFrame) -> list[list[int]]:
    """Groups of distinct apprentices (``person_id``) sharing normalised surname, first name and birth
    date: the pseudonym (BRIEF: HMAC of ``SURNAME|FIRSTNAME|YYYY-MM-DD``) cannot tell them apart."""
    key = (
        _name_key(persons["surname"])
        + "|"
        + _name_key(persons["first_name"])
        + "|"
        + persons["birth_date"].dt.strftime("%Y-%m-%d")
    )
    mask = key.duplicated(keep=False)
    ids = persons.loc[mask, "person_id"].astype(int)
    return [sorted(g.tolist()) for _, g in ids.groupby(key[mask], sort=True)]


def _recoverable_after_diploma(ct: pd.DataFrame, evidence: dict[str, dict]) -> pd.Series:
    """Ruptures after the diploma that a cleaner can identify from the files: a rupture reason saying
    "Obtention du diplôme" (TBA, chamber), a TBA ``date_obtention_diplome_formation`` on or before
    the rupture, or an "Admis" line in the exam-results file (whose results day precedes the
    rupture by construction)."""
    ids: set[str] = set()
    chains: set[int] = set()
    for ev in evidence.values():
        ids.update(ev.get("contract_ids", ()))
        chains.update(ev.get("admitted_chain_ids", ()))
    return ct["contract_id"].isin(ids) | ct["chain_id"].isin(chains)


def ground_truth(
    sim: Simulation,
    files: dict[str, dict],
    *,
    seed: int,
    years: int,
    contracts_per_year: int,
    evidence: dict[str, dict] | None = None,
) -> dict:
    """The ground-truth dictionary written to ``_ground_truth.json`` (see docs/sample.md).

    ``evidence`` (per file, from the writers): the contracts whose file says the rupture followed
    the diploma, and the chains admitted in the exam-results file.
    """
    ext = sim.extraction_date
    ct = sim.contracts.join(sim.persons.set_index("person_id")[["postcode"]], on="person_id")
    ct = ct.assign(
        cfa=ct["cfa_uai"],
        employer_size=ct["employer_size_band"],
        start_month=ct["start_date"].dt.month.astype(str).str.zfill(2),
        territory=referential.territory_of(ct["postcode"]).astype(object),
        contract_kind=np.where(ct["contract_type"] == "11", "initial", "succession"),
        generation_group=np.where(ct["generation"] > 0, "after_rupture", "first"),
        diploma_level=ct["diploma_level"].astype(object),
    )
    within9 = ct["rupture_date"] < ct["start_date"] + pd.DateOffset(months=9)
    ct = ct.assign(broke_9m=(within9 & ~ct["rupture_after_diploma"]).astype(float))
    eligible = (ct["start_date"] + pd.DateOffset(months=9)) <= ext
    el = ct.loc[eligible]
    observed = ct["rupture_date"].notna()
    regular = observed & ~ct["rupture_after_diploma"]
    after = observed & ct["rupture_after_diploma"]
    recoverable = after & _recoverable_after_diploma(ct, evidence or {})
    collisions = identity_collisions(sim.persons)
    conflicts = {
        name: t["defects"][kind]
        for name, t in files.items()
        for kind, d in t.get("defects", {}).items()
        if str(d.get("expected", "")).startswith("conflict:")
    }
    conflict_ids = sorted({cid for d in conflicts.values() for cid in d["contract_ids"]})
    conflict_columns: dict[str, int] = {}
    for d in conflicts.values():
        col = d["expected"].partition(":")[2]
        conflict_columns[col] = conflict_columns.get(col, 0) + len(set(d["contract_ids"]))
    # re-contracting within 6 months, among regular ruptures observable for 6 months
    has_prev = ct["prev_contract_id"].notna()
    nxt = dict(zip(ct.loc[has_prev, "prev_contract_id"], ct.loc[has_prev, "start_date"], strict=True))
    rc = ct.loc[regular & ((ct["rupture_date"] + pd.DateOffset(months=6)) <= ext)]
    succ_start = pd.to_datetime(rc["contract_id"].map(nxt).astype("datetime64[ns]"))
    resigned = (succ_start.notna() & (succ_start < rc["rupture_date"] + pd.DateOffset(months=6))).mean()
    ex = sim.exams
    closed = ex.loc[ex["closed"]]
    pres = closed.loc[closed["presented"]]

    merged = {name: t.get("true_contract_records", 0) for name, t in files.items()}
    deca_name = next(n for n, t in files.items() if t["profile"] == "deca_extract")
    total_true_records = sum(merged.values())
    dup_rows = len(files[deca_name]["defects"]["exact_duplicate_row"]["rows"])
    kinds = ct["contract_kind"].value_counts()

    params = {
        "monthly_starts_profile": {
            "value": {str(k): v for k, v in P.MONTHLY_STARTS_2024.items()},
            "cite": "DOMAIN #53 (POEM 2024)",
        },
        "cfa_shares": {
            "value": P.CFA_SHARES,
            "cite": "DOMAIN §3 Loir-et-Cher (CMA ~1,150-1,200, BTP 450-600, ~3,000-3,500/yr [D])",
        },
        "employer_size_profiles": {
            "value": {k: list(v) for k, v in P.SIZE_PROFILES.items()},
            "cite": "DOMAIN #34 (national mix) [D by trade]",
        },
        "age_weights_15_30_by_level_group": {
            "value": {k: list(v) for k, v in P.AGE_WEIGHTS.items()},
            "cite": "DOMAIN #36 [D by level]",
        },
        "territory_shares": {"value": P.TERRITORY_SHARES, "cite": "[D]"},
        "female_share_by_programme": {
            "cite": "Insee Analyses CVL n°114 (~38 % women, DOMAIN §3) [D by trade]"
        },
        "hazard_breaks_days": {
            "value": list(P.HAZARD_BREAKS_DAYS),
            "cite": "DOMAIN #1 #8 #44 #46 #47 #48 [D shape]",
        },
        "hazard_base_per_day": {
            "value": list(P.HAZARD_BASE_PER_DAY),
            "cite": "DOMAIN #1 #8 #44 #46 #47 #48 [D shape]",
        },
        "summer_multiplier": {
            "value": P.SUMMER_MULTIPLIER,
            "months": list(P.SUMMER_MONTHS),
            "cite": "[D] design assumption: DOMAIN #55 (no published figure)",
        },
        "target_9m_overall": {"value": P.TARGET_9M_OVERALL, "cite": "DOMAIN #1"},
        "targets_9m_relative": {
            f: {c: {"value": v[0], "cite": v[1]} for c, v in t.items()} for f, t in P.TARGETS_9M.items()
        },
        "fitted_scale": _r(sim.model["scale"]),
        "fitted_relative_risks": {f: {c: _r(v) for c, v in t.items()} for f, t in sim.model["rr"].items()},
        "prior_rupture_rr": {"value": P.PRIOR_RUPTURE_RR, "cite": "[D] DOMAIN #73 (qualitative)"},
        "recontract_within_6m": {"value": P.RECONTRACT_6M, "cite": "DOMAIN #61 (~4 in 10), #57 [D]"},
        "recontract_within_2m_share": {
            "value": P.RECONTRACT_WITHIN_2M_SHARE,
            "cite": "DOMAIN #56 (6 % vs 2 %)",
        },
        "recontract_6_12m": {"value": P.RECONTRACT_6_12M, "cite": "[D] DOMAIN #60"},
        "recontract_type_23_share": {
            "value": P.RECONTRACT_TYPE_23_SHARE,
            "cite": "[D] CERFA 23/22 (FORMATS §1.1)",
        },
        "post_diploma_rupture_probability": {
            "value": P.POST_DIPLOMA_RUPTURE,
            "cite": "DOMAIN #44 (7 % of ruptures), #45",
        },
        "results_month_day": {
            "value": list(P.RESULTS_MONTH_DAY),
            "cite": "[D] early July; same proxy as cleaning.EXAM_RESULTS_DAY",
        },
        "pass_rates": {k: {"value": v[0], "cite": v[1]} for k, v in P.PASS_RATES.items()},
        "pass_sex_shift": {"value": P.PASS_SEX_SHIFT, "cite": "DOMAIN #64 [D]"},
        "absent_after_dry_rupture": {"value": P.ABSENT_AFTER_DRY_RUPTURE, "cite": "[D] DOMAIN #67"},
        "pass_factor_after_dry_rupture": {"value": P.PASS_AFTER_DRY_RUPTURE, "cite": "[D] DOMAIN #67"},
        "pass_shift_after_recontract": {"value": P.PASS_SHIFT_AFTER_RECONTRACT, "cite": "[D]"},
        "noise": {
            "amendment_share": P.AMENDMENT_SHARE,
            "cancelled_share": P.CANCELLED_SHARE,
            "deleted_share": P.DELETED_SHARE,
            "corrected_share": P.CORRECTED_SHARE,
            "exact_duplicate_share": P.EXACT_DUPLICATE_SHARE,
            "missing_naf_share": P.MISSING_NAF_SHARE,
            "rupture_before_start_n": P.RUPTURE_BEFORE_START_N,
            "sifa_establishment_headcount_share": P.SIFA_ESTABLISHMENT_HEADCOUNT_SHARE,
            "cite": "[D]",
        },
    }
    by_sy = ct.groupby("school_year")
    return {
        "generator": {
            "module": "aioa_analysis.sample",
            "version": GENERATOR_VERSION,
            "seed": int(seed),
            "years": int(years),
            "contracts_per_year": int(contracts_per_year),
            "extraction_date": str(ext.date()),
            "school_years": list(sim.school_years),
            "command": f"aioa sample --out DIR --seed {seed} --years {years} --contracts-per-year {contracts_per_year} "
            f"--extraction-date {ext.date()}",
            "note": "DONNÉES FICTIVES : every person, employer and contract is synthetic.",
        },
        "conventions": {
            "row": "CSV: physical line incl. header (chamber: 2 title lines, header on line 3); SIFA: line; "
            "xlsx: sheet row; JSON: index in contrats + 1",
            "school_year": "1 August cut-off",
            "within_h_months": "rupture_date < start_date + DateOffset(months=H); eligible if start + H months <= extraction_date",
            "rupture": "rupture_date <= extraction_date and < planned_end_date; after-diploma ruptures counted apart",
        },
        "parameters": params,
        "truth": {
            "n_contracts": len(ct),
            "n_contracts_by_school_year": {k: len(v) for k, v in by_sy},
            "n_initial_contracts": int((ct["generation"] == 0).sum()),
            "n_successor_contracts": int((ct["generation"] > 0).sum()),
            "n_contracts_by_contract_kind": {k: int(kinds.get(k, 0)) for k in ("initial", "succession")},
            "n_apprentices": int(ct["person_id"].nunique()),
            "n_apprentice_keys": int(ct["person_id"].nunique() - sum(len(g) - 1 for g in collisions)),
            "identity_collisions": [
                {
                    "person_ids": g,
                    "contract_ids": sorted(ct.loc[ct["person_id"].isin(g), "contract_id"].tolist()),
                }
                for g in collisions
            ],
            "n_ruptures": int(regular.sum()),
            "n_ruptures_after_diploma": int(after.sum()),
            "n_ruptures_after_diploma_recoverable": int(recoverable.sum()),
            "n_ruptures_after_diploma_drawn": int((observed & ct["rupture_for_diploma"]).sum()),
            "share_ruptures_after_diploma": _r(after.sum() / max(observed.sum(), 1)),
            "n_ruptures_by_school_year": {k: int(regular[v.index].sum()) for k, v in by_sy},
            "n_ruptures_9m_eligible": int(el["broke_9m"].sum()),
            "n_eligible_9m": len(el),
            "share_women": _r((ct.loc[ct["generation"] == 0, "sex"] == "F").mean()),
            "recontract_within_6m_realised": _r(resigned),
            "n_ruptures_observable_6m": len(rc),
            "excluded_records": {
                k: len(files[deca_name]["defects"][k]["rows"])
                for k in ("cancelled", "deleted", "rupture_before_start")
            },
            "expected_conflicts": {
                "contracts_with_conflicts": len(conflict_ids),
                "by_column": conflict_columns,
                "contract_ids": conflict_ids,
            },
            "notes": {
                "n_initial_contracts": "first contract of each apprentice's training (generation 0); "
                "n_successor_contracts: contracts signed after a rupture",
                "n_contracts_by_contract_kind": "contract_kind as the cleaner derives it from the CERFA type: "
                "11 initial, 21-23 succession (a first contract of a training may be a 21/22 succession "
                "when the apprentice had an earlier apprenticeship)",
                "n_apprentice_keys": "distinct pseudonyms expected: n_apprentices minus the homonyms born the "
                "same day listed in identity_collisions (same normalised surname, first name, birth date)",
                "n_ruptures_after_diploma": "model count: every observed rupture of a passed apprentice's "
                "last contract on or after the results day (1 July of the session), including "
                "n_ruptures_after_diploma_drawn (L6222-19, reason 'Obtention du diplôme')",
                "n_ruptures_after_diploma_recoverable": "those a cleaner can identify: the reason says "
                "'Obtention du diplôme' in some file (TBA, chamber), a TBA diploma date on or before the "
                "rupture, or an 'Admis' line in the exam-results file (results day 1 July)",
                "expected_conflicts": "contracts whose files disagree on a compared field, by intended "
                "defect (files.*.defects with expected 'conflict:<column>'); no other disagreement exists",
            },
        },
        "expected_rupture_9m": {
            "definition": "mean over contracts of the TRUE model probability of a rupture (not after the diploma) "
            "within 9 months; 'realised' = observed share; groups over contracts eligible at the extraction date",
            "overall_all": {"n": len(ct), "p": _r(ct["p9"].mean())},
            "overall_eligible": {
                "n": len(el),
                "p": _r(el["p9"].mean()),
                "realised": _r(el["broke_9m"].mean()),
            },
            "by": {d: _group_table(el, d) for d in GROUP_DIMENSIONS},
        },
        "expected_cumulative_incidence": {
            "note": "TRUE model mean over all contracts, no censoring, hazard ruptures only",
            "45d": _r(ct["p45d"].mean()),
            "3m": _r(ct["p3"].mean()),
            "6m": _r(ct["p6"].mean()),
            "9m": _r(ct["p9"].mean()),
            "12m": _r(ct["p12"].mean()),
        },
        "exams": {
            "sessions_closed": sorted(int(s) for s in closed["exam_session"].unique()),
            "n_sittings_closed": len(closed),
            "expected_pass_rate_presented": {
                f: _r(g["pass_probability"].mean()) for f, g in pres.groupby("diploma_family")
            },
            "realised_pass_rate_presented": {
                f: _r(g["passed"].mean()) for f, g in pres.groupby("diploma_family")
            },
            "realised_pass_rate_by_rupture": {
                "no_rupture": _r(pres.loc[~pres["any_rupture"], "passed"].mean()),
                "rupture_then_new_contract": _r(
                    pres.loc[pres["any_rupture"] & ~pres["dry_rupture"], "passed"].mean()
                ),
                "rupture_no_new_contract": _r(pres.loc[pres["dry_rupture"], "passed"].mean()),
            },
        },
        "duplicates": {
            "true_contract_records_by_file": merged,
            "expected_merged_records": int(total_true_records - len(ct)),
            "exact_duplicate_rows_deca_extract": int(dup_rows),
            "note": "expected_merged_records = records (amendment rows and cross-file copies) that must fold into an "
            "already-counted true contract; exact duplicate rows come on top (merged too, never rejected)",
        },
        "files": files,
    }


# --- generation -----------------------------------------------------------------------------------------------------


def generate_sample(
    out_dir: str | os.PathLike[str],
    *,
    seed: int,
    years: int = 4,
    contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> dict[str, Any]:
    """Write the sample files and ``_ground_truth.json`` into ``out_dir``; return the ground truth.

    The files are written together (atomically): a failure leaves the previous sample untouched.
    Existing sample files of another extraction date are not removed.
    """
    ext = _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=str(ext.date())
    )
    children = np.random.SeedSequence(seed).spawn(12)
    frng = [np.random.Generator(np.random.PCG64(c)) for c in children[6:12]]
    stamp = ext.strftime("%Y%m%d")
    outputs: dict[str, bytes] = {}
    files: dict[str, dict] = {}

    name = f"Export_Init_TBA_{stamp}0600.csv"
    outputs[name], files[name], _ = build_deca_extract(sim, frng[0], name)
    name = f"deca_api_contrats_{stamp}.json"
    outputs[name], files[name] = build_deca_api(sim, frng[1])
    name = f"tba_televersement_{stamp}.xlsx"
    outputs[name], files[name] = build_tba(sim, frng[2], TBA_CFAS, seed)
    data, truth, name = build_sifa(sim, frng[3], SIFA_CFA)
    outputs[name], files[name] = data, truth
    name = f"cma41_contrats_{stamp}.csv"
    outputs[name], files[name] = build_chamber(sim, frng[4], CHAMBER_CFA)
    name = f"resultats_examens_{stamp}.csv"
    sessions = sorted(int(s) for s in sim.exams.loc[sim.exams["closed"], "exam_session"].unique())
    outputs[name], files[name] = build_exams(sim, frng[5], sessions)

    evidence = {n_: files[n_].pop("_evidence") for n_ in list(files) if "_evidence" in files[n_]}
    for n_, data in outputs.items():
        files[n_]["bytes"] = len(data)
        files[n_]["sha256"] = hashlib.sha256(data).hexdigest()
    truth = ground_truth(
        sim, files, seed=seed, years=years, contracts_per_year=contracts_per_year, evidence=evidence
    )
    outputs["_ground_truth.json"] = (
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False) + "\n"
    ).encode("utf-8")
    try:
        with AtomicDir(out_dir) as stage:
            for n_, data in sorted(outputs.items()):
                (stage / n_).write_bytes(data)
    except OSError as exc:
        raise OutputError(
            f"cannot write the sample into {out_dir}: {exc.strerror or exc}",
            hint="check the folder and its permissions",
        ) from exc
    return truth
