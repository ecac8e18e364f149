"""Generator parameters, each beside the docs/reference/DOMAIN.md figure it is calibrated on.

``DOMAIN #n`` refers to row ``n`` of the tables in ``docs/reference/DOMAIN.md`` §1 (reference figures);
``DOMAIN §3`` to its sizing facts. ``[D]`` marks a design assumption (no published figure).
Every value here is copied into ``_ground_truth.json`` (key ``parameters``) with its citation.
"""

from __future__ import annotations

from typing import Final

# --- volumes and calendar -----------------------------------------------------------------------

#: National contract starts by calendar month, 2024 (DOMAIN #53, POEM). Used as the monthly profile
#: of starts within a school year (August..July).
MONTHLY_STARTS_2024: Final[dict[int, int]] = {
    1: 27_323,
    2: 18_731,
    3: 15_570,
    4: 13_566,
    5: 9_071,
    6: 12_503,
    7: 49_463,
    8: 110_446,
    9: 458_061,
    10: 89_397,
    11: 47_545,
    12: 38_529,
}

#: Share of the year's new contracts per CFA (UAI). DOMAIN §3 "Loir-et-Cher": CMA 41 ~1,150-1,200
#: apprentices a year, BTP CFA 450-600 learners, ~3,000-3,500 new contracts a year in 41 [D]; the
#: split among the other CFAs is a design assumption [D].
CFA_SHARES: Final[dict[str, float]] = {
    "0410590U": 0.36,  # CFA interprofessionnel CMA 41 (~1,080/yr)
    "0410592W": 0.17,  # BTP CFA Centre, Blois (~510/yr)
    "0410955R": 0.11,  # CFA agricole EPLEFPA 41
    "0411090M": 0.09,  # CFAI / Pôle formation UIMM (PROMETA)
    "0411066L": 0.08,  # CFA sanitaire et social Val de Loire
    "0410892X": 0.07,  # Promotrans Saint-Ouen
    "0411088K": 0.05,  # CCI CFSA Campus Centre, Blois (not a working-group CFA)
    "0410978R": 0.03,  # IUT de Blois (Université de Tours)
    "0411068N": 0.02,  # INSA Centre Val de Loire, Blois
    "0410957T": 0.02,  # MFR du Vendômois
}

#: ``--contracts-per-year`` counts ALL new contracts (DOMAIN §3: ~3,000-3,500 a year in 41 [D]); this
#: share are first contracts of a training, the rest are contracts signed after a rupture (about
#: 21-30 % broken x 40 % re-signing, DOMAIN #1 #61) [D].
FIRST_CONTRACT_SHARE: Final[float] = 0.92

#: Residence territory mix [D] (three Missions Locales of 41 plus a few outside the département).
TERRITORY_SHARES: Final[dict[str, float]] = {
    "ml_blois": 0.50,
    "ml_vendomois": 0.22,
    "ml_romorantin": 0.22,
    "hors_41": 0.06,
}

#: Postcodes outside Loir-et-Cher (neighbouring towns; two with a leading zero to exercise padding).
OUTSIDE_POSTCODES: Final[dict[str, str]] = {
    "37000": "Tours",
    "45000": "Orléans",
    "18100": "Vierzon",
    "28200": "Châteaudun",
    "36100": "Issoudun",
    "72000": "Le Mans",
    "03100": "Montluçon",
    "08000": "Charleville-Mézières",
}

#: Main town of each territory gets this share of its residents [D].
MAIN_TOWN_SHARE: Final[dict[str, tuple[str, float]]] = {
    "ml_blois": ("41000", 0.35),
    "ml_vendomois": ("41100", 0.45),
    "ml_romorantin": ("41200", 0.35),
}

#: Employer size mix profiles (shares of 0-4, 5-9, 10-49, 50-249, 250+), per trade. National
#: 2022 mix of new contracts (DOMAIN #34): 30 / 14.5 / 21.5 / 11.3 / 22.6 %; craft trades are
#: weighted towards small firms, industry and health towards large ones [D].
SIZE_PROFILES: Final[dict[str, tuple[float, float, float, float, float]]] = {
    "artisan": (0.50, 0.25, 0.20, 0.04, 0.01),
    "hcr": (0.35, 0.25, 0.28, 0.08, 0.04),
    "btp": (0.35, 0.22, 0.30, 0.08, 0.05),
    "btp_big": (0.10, 0.10, 0.35, 0.20, 0.25),
    "auto": (0.30, 0.20, 0.30, 0.10, 0.10),
    "commerce": (0.18, 0.12, 0.25, 0.13, 0.32),
    "agri": (0.55, 0.20, 0.18, 0.05, 0.02),
    "industry": (0.03, 0.05, 0.25, 0.32, 0.35),
    "health": (0.02, 0.05, 0.25, 0.38, 0.30),
    "transport": (0.05, 0.10, 0.35, 0.25, 0.25),
    "services_small": (0.30, 0.25, 0.30, 0.10, 0.05),
    "services_big": (0.08, 0.08, 0.20, 0.19, 0.45),
}
SIZE_BAND_BOUNDS: Final[dict[str, tuple[int, int]]] = {
    "0-4": (0, 4),
    "5-9": (5, 9),
    "10-49": (10, 49),
    "50-249": (50, 249),
    "250+": (250, 4999),
}

#: Age at start (years) by level group: weights for ages 15..30. National 2022 mix (DOMAIN #36:
#: 15-17 19 %, 18-19 23 %, 19-21 26 %, 22+ 32 %) is reached with the national level mix; here the
#: level mix is more secondary, so the sample is younger [D].
AGE_WEIGHTS: Final[dict[str, tuple[float, ...]]] = {
    #       15    16    17    18    19    20    21    22    23    24    25    26    27    28    29    30
    "3": (0.17, 0.23, 0.17, 0.12, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.005, 0.005),
    "MC": (0.00, 0.02, 0.20, 0.30, 0.20, 0.12, 0.06, 0.04, 0.02, 0.02, 0.01, 0.005, 0.005, 0.0, 0.0, 0.0),
    "4": (0.00, 0.06, 0.14, 0.20, 0.17, 0.13, 0.09, 0.06, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01),
    "5": (0.00, 0.00, 0.01, 0.14, 0.22, 0.20, 0.15, 0.10, 0.06, 0.04, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01),
    "6+": (0.00, 0.00, 0.00, 0.02, 0.08, 0.15, 0.20, 0.20, 0.14, 0.08, 0.05, 0.03, 0.02, 0.01, 0.01, 0.01),
}

# --- rupture model --------------------------------------------------------------------------------

#: Piecewise-constant baseline hazard per day by time since start (day boundaries). Derived [D] from
#: the cumulative shape of ruptures: ~6 % within 45 days, 10.6 % within 3 months (DOMAIN #46),
#: ~16 % within 6 months (DOMAIN #8: 16.2 %), 21 % within 9 months (DOMAIN #1), ~2/3 of all ruptures
#: in the first 9 months (DOMAIN #47) and 8 in 10 within the first year (DOMAIN #48), whole-contract
#: ~30 % (DOMAIN #5-#7, #72). Only the SHAPE matters: the level is rescaled so that the expected
#: 9-month rate is 21 % overall.
HAZARD_BREAKS_DAYS: Final[tuple[int, ...]] = (0, 46, 91, 182, 273, 365, 730)
HAZARD_BASE_PER_DAY: Final[tuple[float, ...]] = (1.345e-3, 1.113e-3, 6.86e-4, 6.74e-4, 2.5e-4, 1.6e-4, 7.0e-5)

#: Calendar (summer) effect: hazard multiplied in June, July and August. DESIGN ASSUMPTION [D]:
#: DOMAIN #55 says no published figure exists for ruptures by calendar month. The analysis should
#: be able to recover it (seasonality of ruptures at equal time since start).
SUMMER_MONTHS: Final[tuple[int, ...]] = (6, 7, 8)
SUMMER_MULTIPLIER: Final[float] = 1.8

#: Overall 9-month rupture probability targeted (DOMAIN #1: 21 % of 2022 starts).
TARGET_9M_OVERALL: Final[float] = 0.21

#: Published 9-month rates used as RELATIVE targets (ratios between groups) when calibrating the
#: multiplicative hazard model; the overall level is then set to TARGET_9M_OVERALL.
TARGETS_9M: Final[dict[str, dict[str, tuple[float, str]]]] = {
    "level_group": {
        "3": (0.293, "DOMAIN #14 (CAP 29.3 %)"),
        "MC": (0.188, "DOMAIN #14 (MC 18.8 %)"),
        "4": (0.225, "DOMAIN #14 (bac 22.5 %)"),
        "5": (0.26, "DOMAIN #15 (bac+2 26 %)"),
        "6+": (0.14, "[D] from DOMAIN #13/#15 (higher ed 18 % with bac+2 at 26 %)"),
    },
    "sector": {
        "hebergement_restauration": (0.36, "DOMAIN #19"),
        "coiffure_esthetique": (0.30, "DOMAIN #20"),
        "industries_alimentaires": (0.28, "DOMAIN #21"),
        "commerce": (0.25, "DOMAIN #22"),
        "construction": (0.20, "DOMAIN #23"),
        "agriculture": (0.24, "[D] DOMAIN #73 (agriculture: most early ruptures in CVL)"),
        "industrie_autre": (0.16, "[D] DOMAIN #29 (no figure)"),
        "transports": (0.18, "[D]"),
        "public_enseignement_sante": (0.16, "[D] DOMAIN #73 (non-market tertiary: fewest)"),
        "services_entreprises": (0.17, "[D]"),
        "information_communication": (0.17, "[D] DOMAIN #24"),
        "finance_assurance": (0.15, "[D]"),
        "autres_services": (0.22, "[D]"),
    },
    "employer_size_band": {
        "0-4": (0.28, "DOMAIN #30"),
        "5-9": (0.245, "[D] interpolated (DOMAIN #30, #32)"),
        "10-49": (0.21, "[D] interpolated (DOMAIN #32)"),
        "50-249": (0.18, "[D] interpolated (DOMAIN #32)"),
        "250+": (0.16, "[D] DOMAIN #32 ratio 19/43 applied to #30"),
    },
    "age_band": {
        "15-17": (0.254, "DOMAIN #35"),
        "18-19": (0.245, "DOMAIN #35"),
        "20-25": (0.18, "DOMAIN #35"),
        "26+": (0.18, "[D] as 20-25"),
    },
    "sex": {
        "F": (0.23, "DOMAIN #37"),
        "M": (0.195, "DOMAIN #37"),
    },
}

#: Hazard multiplier for a contract that follows a rupture [D] (DOMAIN #73: "prior rupture predicts
#: another", no figure).
PRIOR_RUPTURE_RR: Final[float] = 1.3

#: Share of broken contracts followed by a new contract for the same apprentice within 6 months
#: (DOMAIN #61: ~4 in 10; DOMAIN #57 implies ~40 % [D]); three quarters of them within 2 months
#: (DOMAIN #56: 6 % vs 2 % of starts).
RECONTRACT_6M: Final[float] = 0.40
RECONTRACT_WITHIN_2M_SHARE: Final[float] = 0.75
#: A few more re-sign between 6 and 12 months (DOMAIN #60: >20 % within a year in CVL) [D].
RECONTRACT_6_12M: Final[float] = 0.05
#: Contract type of the new contract: 23 (previous contract broken, other employer) or 22 [D].
RECONTRACT_TYPE_23_SHARE: Final[float] = 0.8

#: Exam results day (month, day) of a session: "early July" [D]. It is the same proxy the cleaner
#: uses when an exam file gives only the session year (``cleaning.EXAM_RESULTS_DAY``), so that "a
#: rupture on or after the results of a passed exam" means the same thing in the truth and in the
#: cleaned table.
RESULTS_MONTH_DAY: Final[tuple[int, int]] = (7, 1)

#: Rupture after the diploma (L6222-19): probability that an apprentice who passed and whose
#: contract runs past the results ends it early (reason "Obtention du diplôme"). Every other rupture
#: of a passed apprentice on or after the results day also counts as after the diploma (BRIEF rule).
#: Tuned so that ~7 % of ruptures are post-exam (DOMAIN #44: 7 %; DOMAIN #45: 3.4 %).
POST_DIPLOMA_RUPTURE: Final[float] = 0.04

#: Exam pass rates of apprentices by diploma family (DOMAIN #63, #64, #66; [D] where noted).
PASS_RATES: Final[dict[str, tuple[float, str]]] = {
    "CAP": (0.849, "DOMAIN #63"),
    "BAC PRO": (0.84, "DOMAIN #64"),
    "BP": (0.79, "DOMAIN #64"),
    "BTS": (0.75, "DOMAIN #64"),
    "MC": (0.85, "[D] as CAP"),
    "TITRE": (0.80, "[D]"),
    "BUT/DUT": (0.91, "DOMAIN #66"),
    "LICENCE PRO": (0.91, "DOMAIN #66"),
    "INGENIEUR": (0.91, "DOMAIN #66"),
}
#: Girls pass more often (DOMAIN #64: +4.7 pts CAP/BTS): additive shift by sex [D].
PASS_SEX_SHIFT: Final[dict[str, float]] = {"F": 0.03, "M": -0.015}
#: After a rupture with no new contract before the exam: absent with this probability, and the pass
#: probability is multiplied by PASS_AFTER_DRY_RUPTURE (DOMAIN #67, qualitative) [D].
ABSENT_AFTER_DRY_RUPTURE: Final[float] = 0.5
PASS_AFTER_DRY_RUPTURE: Final[float] = 0.8
#: After a rupture followed by a new contract: pass probability minus this [D].
PASS_SHIFT_AFTER_RECONTRACT: Final[float] = -0.05

# --- administrative noise ----------------------------------------------------------------------------

#: DECA rows: amendments (avenants, typecontrat 31-38) as extra rows, cancelled and deleted contracts,
#: corrected contracts [D] (FORMATS §1.2: BAL key (no_contrat, type_contrat, nom)).
AMENDMENT_SHARE: Final[float] = 0.05
AMENDMENT_TYPES: Final[dict[str, float]] = {"36": 0.5, "31": 0.15, "37": 0.15, "38": 0.1, "35": 0.1}
CANCELLED_SHARE: Final[float] = 0.015  # statut "Annulé" (extra records, never executed)
DELETED_SHARE: Final[float] = 0.005  # statut "Supprimé"
CORRECTED_SHARE: Final[float] = 0.02  # statut "Corrigé", flagcorrection true (kept)
RUPTURE_BEFORE_START_N: Final[int] = 4  # DECA rupture_avant_debut = true (extra records)
EXACT_DUPLICATE_SHARE: Final[float] = 0.005  # exact duplicate rows in the DECA extract
MISSING_NAF_SHARE: Final[float] = 0.03  # empty NAF
LOST_ZERO_SHARE: Final[float] = 0.04  # derniereclasse "1", CFD "1023401", postcode "3100"
DECA_API_WINDOW_DAYS: Final[int] = 30  # API response: contracts started or broken in the last 30 days
#: SIFA asks the headcount of the employer's ESTABLISHMENT, the CERFA/DECA the company's (FORMATS
#: §2, employer_headcount): for this share of SIFA rows of employers with 50+ employees, NBSAL_EMP is
#: a smaller establishment headcount, a documented cross-file conflict [D].
SIFA_ESTABLISHMENT_HEADCOUNT_SHARE: Final[float] = 0.25
