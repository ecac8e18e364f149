"""The ground truth of the synthetic sample (``_ground_truth.json``, see docs/sample.md).

The generator's parameters with the docs/reference/DOMAIN.md figures they cite, the true counts (contracts,
ruptures, apprentices, homonyms, expected conflicts), the TRUE model probabilities by group, the
exam outcomes, the records expected to merge, and each file's defects (from the writers).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._simulate import Simulation

GENERATOR_VERSION = "2"
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


def _parameters(sim: Simulation) -> dict:
    """Every generator parameter with the docs/reference/DOMAIN.md figure it cites, and the fitted model."""
    return {
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


def _generator(sim: Simulation, *, seed: int, years: int, contracts_per_year: int) -> dict:
    """How the sample was made: module, version, arguments, the command that remakes it."""
    ext = sim.extraction_date
    return {
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
    }


CONVENTIONS = {
    "row": "CSV: physical line incl. header (chamber: 2 title lines, header on line 3); SIFA: line; "
    "xlsx: sheet row; JSON: index in contrats + 1",
    "school_year": "1 August cut-off",
    "within_h_months": "rupture_date < start_date + DateOffset(months=H); eligible if start + H months <= extraction_date",
    "rupture": "rupture_date <= extraction_date and < planned_end_date; after-diploma ruptures counted apart",
}
"""How the ground truth counts rows, school years and ruptures."""


TRUTH_NOTES = {
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
}
"""What the less obvious counts of ``truth`` mean."""


def _truth_frame(sim: Simulation) -> pd.DataFrame:
    """The true contracts with the group columns of ``expected_rupture_9m.by`` and ``broke_9m``
    (a rupture, not after the diploma, within 9 months)."""
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
    return ct.assign(broke_9m=(within9 & ~ct["rupture_after_diploma"]).astype(float))


def _recontract_within_6m(ct: pd.DataFrame, regular: pd.Series, ext: pd.Timestamp) -> tuple[float, int]:
    """Share of regular ruptures observable for 6 months followed by a new contract within 6 months,
    and how many such ruptures there are."""
    has_prev = ct["prev_contract_id"].notna()
    nxt = dict(zip(ct.loc[has_prev, "prev_contract_id"], ct.loc[has_prev, "start_date"], strict=True))
    rc = ct.loc[regular & ((ct["rupture_date"] + pd.DateOffset(months=6)) <= ext)]
    succ_start = pd.to_datetime(rc["contract_id"].map(nxt).astype("datetime64[ns]"))
    resigned = (succ_start.notna() & (succ_start < rc["rupture_date"] + pd.DateOffset(months=6))).mean()
    return resigned, len(rc)


def _expected_conflicts(files: dict[str, dict]) -> dict:
    """Contracts whose files disagree by intended defect (``expected`` = ``conflict:<column>``)."""
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
    return {
        "contracts_with_conflicts": len(conflict_ids),
        "by_column": conflict_columns,
        "contract_ids": conflict_ids,
    }


def _truth(ct: pd.DataFrame, el: pd.DataFrame, sim: Simulation, files: dict, evidence: dict) -> dict:
    """The true counts: contracts, apprentices, homonyms, ruptures, excluded records, conflicts."""
    by_sy = ct.groupby("school_year")
    kinds = ct["contract_kind"].value_counts()
    collisions = identity_collisions(sim.persons)
    observed = ct["rupture_date"].notna()
    regular = observed & ~ct["rupture_after_diploma"]
    after = observed & ct["rupture_after_diploma"]
    recoverable = after & _recoverable_after_diploma(ct, evidence)
    resigned, n_observable_6m = _recontract_within_6m(ct, regular, sim.extraction_date)
    deca_name = next(n for n, t in files.items() if t["profile"] == "deca_extract")
    return {
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
        "n_ruptures_observable_6m": n_observable_6m,
        "excluded_records": {
            k: len(files[deca_name]["defects"][k]["rows"])
            for k in ("cancelled", "deleted", "rupture_before_start")
        },
        "expected_conflicts": _expected_conflicts(files),
        "notes": TRUTH_NOTES,
    }


def _expected_9m(ct: pd.DataFrame, el: pd.DataFrame) -> dict:
    """TRUE model 9-month rupture probability: overall, and by group over eligible contracts ``el``."""
    return {
        "definition": "mean over contracts of the TRUE model probability of a rupture (not after the diploma) "
        "within 9 months; 'realised' = observed share; groups over contracts eligible at the extraction date",
        "overall_all": {"n": len(ct), "p": _r(ct["p9"].mean())},
        "overall_eligible": {
            "n": len(el),
            "p": _r(el["p9"].mean()),
            "realised": _r(el["broke_9m"].mean()),
        },
        "by": {d: _group_table(el, d) for d in GROUP_DIMENSIONS},
    }


def _cumulative_incidence(ct: pd.DataFrame) -> dict:
    """TRUE model cumulative incidence at 45 days, 3, 6, 9 and 12 months (no censoring)."""
    return {
        "note": "TRUE model mean over all contracts, no censoring, hazard ruptures only",
        "45d": _r(ct["p45d"].mean()),
        "3m": _r(ct["p3"].mean()),
        "6m": _r(ct["p6"].mean()),
        "9m": _r(ct["p9"].mean()),
        "12m": _r(ct["p12"].mean()),
    }


def _exams(ex: pd.DataFrame) -> dict:
    """Closed sessions, expected and realised pass rates (by family, by rupture history)."""
    closed = ex.loc[ex["closed"]]
    pres = closed.loc[closed["presented"]]
    return {
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
    }


def _duplicates(files: dict[str, dict], n_contracts: int) -> dict:
    """Records expected to fold into an already-counted true contract, per file and in all."""
    merged = {name: t.get("true_contract_records", 0) for name, t in files.items()}
    total_true_records = sum(merged.values())
    deca_name = next(n for n, t in files.items() if t["profile"] == "deca_extract")
    dup_rows = len(files[deca_name]["defects"]["exact_duplicate_row"]["rows"])
    return {
        "true_contract_records_by_file": merged,
        "expected_merged_records": int(total_true_records - n_contracts),
        "exact_duplicate_rows_deca_extract": int(dup_rows),
        "note": "expected_merged_records = records (amendment rows and cross-file copies) that must fold into an "
        "already-counted true contract; exact duplicate rows come on top (merged too, never rejected)",
    }


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
    ct = _truth_frame(sim)
    el = ct.loc[(ct["start_date"] + pd.DateOffset(months=9)) <= sim.extraction_date]
    return {
        "generator": _generator(sim, seed=seed, years=years, contracts_per_year=contracts_per_year),
        "conventions": CONVENTIONS,
        "parameters": _parameters(sim),
        "truth": _truth(ct, el, sim, files, evidence or {}),
        "expected_rupture_9m": _expected_9m(ct, el),
        "expected_cumulative_incidence": _cumulative_incidence(ct),
        "exams": _exams(sim.exams),
        "duplicates": _duplicates(files, len(ct)),
        "files": files,
    }
