"""Cleaning rules on tiny hand-made raw frames; every test checks the accounting identity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aioa_analysis.core.schema import (
    CONTRACT_COLUMNS,
    FORBIDDEN_IN_CONTRACTS,
    SOURCE_PRECEDENCE,
    coerce_contracts,
    validate_contracts,
)
from aioa_analysis.ingest import cleaning as CL
from aioa_analysis.ingest.pseudonym import add_apprentice_key

KEY = b"k" * 32
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"

BASE = {
    "source": "deca_extract",
    "source_file": "deca.csv",
    "contract_id": None,
    "contract_type": "11",
    "surname": "Dupont",
    "first_name": "Léa",
    "birth_date": "2007-03-02",
    "start_date": "2024-09-02",
    "planned_end_date": "2026-08-31",
    "cfa_uai": "0410590U",
    "diploma_code": "50022109",
    "employer_naf": "56.10A",
}


def raw_frame(*rows: dict) -> pd.DataFrame:
    """Rows are BASE overridden by each dict; source_row numbered per file from 2 (CSV header = line 1)."""
    records = [{**BASE, **r} for r in rows]
    df = pd.DataFrame(records)
    df["source_row"] = df.groupby("source_file").cumcount() + 2
    cols = [c for c in df.columns if c != "source_row"]
    df = df.astype({c: "string" for c in cols}).astype({"source_row": "Int64"})
    return add_apprentice_key(df, key=KEY)


def clean(*rows: dict, exams=None) -> CL.CleanResult:
    raw = raw_frame(*rows)
    res = CL.clean_contracts(raw, exams=exams)
    check_accounting(raw, res)
    return res


def check_accounting(raw: pd.DataFrame, res: CL.CleanResult) -> None:
    """rows_read == rows_clean + rows_merged + rows_rejected, per file and in total."""
    assert len(res.rows) == len(raw)
    st = res.rows["_status"]
    assert set(st) <= {"clean", "merged", "rejected"}
    assert (st == "clean").sum() == len(res.contracts)
    assert (st == "rejected").sum() == len(res.rejected)
    for _, g in res.rows.groupby("source_file"):
        assert (
            len(g)
            == (g["_status"] == "clean").sum()
            + (g["_status"] == "merged").sum()
            + (g["_status"] == "rejected").sum()
        )
    assert res.contracts["contract_id"].is_unique


def reasons(res):
    return res.rejected["reason"].tolist()


# --------------------------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("case", "row", "reason", "column"),
    [
        ("missing start date", {"start_date": ""}, "no usable start date", "start_date"),
        ("text in start date", {"start_date": "bientôt"}, "no usable start date", "start_date"),
        ("31 February start", {"start_date": "31/02/2024"}, "impossible date", "start_date"),
        ("impossible planned end", {"planned_end_date": "31/04/2026"}, "impossible date", "planned_end_date"),
        ("impossible rupture", {"rupture_date": "30/02/2025"}, "impossible date", "rupture_date"),
        (
            "end before start",
            {"planned_end_date": "2024-08-31"},
            "planned end before start",
            "planned_end_date",
        ),
        ("no CFA, no diploma", {"cfa_uai": None, "diploma_code": None}, "no CFA and no diploma", "cfa_uai"),
        ("DECA Annulé", {"deca_status": "Annulé"}, "excluded: statut DECA Annulé", "deca_status"),
        (
            "DECA Supprimé, unaccented",
            {"deca_status": "SUPPRIME"},
            "excluded: statut DECA Supprimé",
            "deca_status",
        ),
        ("other dispositif", {"dispositif": "PROF"}, "excluded: dispositif PROF", "dispositif"),
        (
            "rupture before start",
            {"rupture_date": "2024-08-30"},
            "excluded: rupture before start",
            "rupture_date",
        ),
        (
            "rupture_avant_debut flag",
            {"rupture_before_start": "true"},
            "excluded: rupture before start",
            "rupture_date",
        ),
        ("no planned end", {"planned_end_date": None}, "no planned end date", "planned_end_date"),
    ],
)
def test_row_rejections(case, row, reason, column):
    res = clean({"contract_id": "1"}, {"contract_id": "2", **row})
    assert reasons(res) == [reason], case
    rej = res.rejected.iloc[0]
    assert rej["column"] == column
    assert rej["source_row"] == 3 and rej["source_file"] == "deca.csv"
    assert res.contracts["contract_id"].tolist() == ["000000000000001"]


def test_rejected_value_is_shown_unless_personal():
    res = clean({"contract_id": "2", "start_date": "31/02/2024"})
    assert res.rejected["value"].tolist() == ["31/02/2024"]
    # identity column values never appear in rejected.csv
    assert not res.rejected["value"].str.contains("Dupont").any()


def test_first_reason_wins_one_line_per_rejected_row():
    res = clean({"contract_id": "2", "start_date": "", "cfa_uai": None, "diploma_code": None})
    assert reasons(res) == ["no usable start date"]


def test_cfa_name_alone_or_diploma_title_alone_is_enough():
    res = clean({"contract_id": "1", "cfa_uai": None, "diploma_code": None, "diploma_title": "CAP cuisine"})
    assert len(res.contracts) == 1 and len(res.rejected) == 0


def test_rupture_on_planned_end_is_kept_but_not_a_rupture():
    res = clean({"contract_id": "1", "rupture_date": "2026-08-31"})
    c = res.contracts.iloc[0]
    assert c["rupture_date"] == pd.Timestamp("2026-08-31")
    assert pd.isna(c["rupture_phase"])


# --------------------------------------------------------------------------------------------- merging


def test_exact_duplicates_are_merged_not_rejected():
    res = clean({"contract_id": "1"}, {"contract_id": "1"}, {"contract_id": "1"})
    assert len(res.contracts) == 1 and len(res.rejected) == 0
    assert res.rows["_status"].tolist() == ["clean", "merged", "merged"]
    assert res.stats["exact_duplicates"] == 2
    assert res.contracts.iloc[0]["merge_conflicts"] == 0
    assert res.contracts.iloc[0]["sources"].count(";") == 2


def test_amendments_fold_into_their_contract():
    res = clean(
        {"contract_id": "7", "contract_type": "11", "planned_end_date": "2026-08-31"},
        {
            "contract_id": "7",
            "contract_type": "33",
            "planned_end_date": "2027-08-31",
            "amendment_effective_date": "2026-07-01",
            "employer_naf": None,
        },  # prolongation after failing the exam
        {
            "contract_id": "7",
            "contract_type": "36",
            "planned_end_date": "2026-12-31",
            "amendment_effective_date": "2025-01-01",
            "employer_naf": "96.02A",
        },  # earlier amendment
    )
    assert len(res.contracts) == 1
    c = res.contracts.iloc[0]
    assert c["planned_end_date"] == pd.Timestamp("2027-08-31")  # latest amendment wins
    assert c["employer_naf"] == "9602A"  # latest non-missing value: the earlier amendment's
    assert c["contract_type"] == "11" and c["contract_kind"] == "initial"
    assert c["amendment_count"] == 2
    assert c["merge_conflicts"] == 0  # amendments of one file are not conflicts
    assert res.rows["_status"].tolist() == ["clean", "merged", "merged"]


def test_same_contract_in_two_files_merges_with_precedence_and_conflicts():
    res = clean(
        {"contract_id": "9", "planned_end_date": "2026-08-31", "rupture_date": "2025-01-15"},
        {
            "source": "chamber",
            "source_file": "cma.csv",
            "contract_id": None,
            "surname": "DUPONT",
            "first_name": "LEA",
            "birth_date": "02/03/2007",
            "start_date": "02/09/2024",
            "planned_end_date": "30/06/2026",
            "employer_headcount": "7",
            "rupture_date": None,
        },
    )
    assert len(res.contracts) == 1
    c = res.contracts.iloc[0]
    assert c["contract_id"] == "000000000000009"
    assert c["source"] == "deca_extract" and c["source_file"] == "deca.csv"
    assert c["planned_end_date"] == pd.Timestamp("2026-08-31")  # DECA before chamber
    assert c["employer_headcount"] == 7  # filled from the chamber file
    assert c["rupture_date"] == pd.Timestamp("2025-01-15")
    assert c["merge_conflicts"] == 1
    conf = res.conflicts
    assert set(conf["column"]) == {"planned_end_date"}
    assert sorted(conf["value"]) == ["2026-06-30", "2026-08-31"]
    assert not set(conf.columns) & set(FORBIDDEN_IN_CONTRACTS)
    assert res.rows["_status"].tolist() == ["clean", "merged"]


def test_two_files_with_ids_merge_on_contract_id_only():
    res = clean(
        {"contract_id": "5"},
        {"source": "deca_api", "source_file": "api.json", "contract_id": "5", "surname": "Other"},
        {
            "source": "deca_api",
            "source_file": "api.json",
            "contract_id": "6",
        },  # same person and start, other id
    )
    assert sorted(res.contracts["contract_id"]) == ["000000000000005", "000000000000006"]


def test_files_without_ids_get_a_deterministic_synthetic_id():
    row = {"source": "tba_upload", "source_file": "tba.xlsx"}
    a = clean(row, {**row, "start_date": "2025-09-01", "planned_end_date": "2027-08-31"})
    b = clean(row, {**row, "start_date": "2025-09-01", "planned_end_date": "2027-08-31"})
    assert a.contracts["contract_id"].tolist() == b.contracts["contract_id"].tolist()
    assert len(a.contracts) == 2
    assert all(cid.endswith(("-20240902", "-20250901")) for cid in a.contracts["contract_id"])


def test_cancelled_deca_contract_is_not_resurrected_by_another_file():
    res = clean(
        {"contract_id": "3", "deca_status": "Annulé"},
        {"source": "chamber", "source_file": "cma.csv", "contract_id": "3"},
    )
    assert len(res.contracts) == 0
    assert reasons(res) == ["excluded: statut DECA Annulé", "excluded: contract cancelled in DECA"]


def test_cancelled_amendment_does_not_cancel_the_contract():
    res = clean(
        {"contract_id": "3"},
        {
            "contract_id": "3",
            "contract_type": "36",
            "deca_status": "Annulé",
            "planned_end_date": "2027-01-01",
        },
    )
    assert len(res.contracts) == 1
    assert res.contracts.iloc[0]["planned_end_date"] == pd.Timestamp("2026-08-31")


def test_rupture_before_start_rejects_every_row_of_the_contract():
    res = clean(
        {"contract_id": "4", "rupture_date": "2024-08-20"},
        {"source": "chamber", "source_file": "cma.csv", "contract_id": "4"},
    )
    assert len(res.contracts) == 0
    assert reasons(res) == ["excluded: rupture before start"] * 2


# --------------------------------------------------------------------------------------------- SIFA


def test_sifa_planned_end_imputed_from_training_duration():
    res = clean(
        {
            "source": "sifa",
            "source_file": "sifa.txt",
            "planned_end_date": None,
            "training_duration_months": "24",
        }
    )
    c = res.contracts.iloc[0]
    assert c["planned_end_date"] == pd.Timestamp("2026-09-01")  # 2024-09-02 + 24 months - 1 day
    assert bool(c["planned_end_imputed"]) is True


def test_sifa_without_duration_only_enriches_a_merged_contract():
    res = clean(
        {"contract_id": "8", "employer_headcount": None},
        {"source": "sifa", "source_file": "sifa.txt", "planned_end_date": None, "employer_headcount": "12"},
        {"source": "sifa", "source_file": "sifa.txt", "planned_end_date": None, "surname": "Seul"},
    )
    assert len(res.contracts) == 1
    c = res.contracts.iloc[0]
    assert c["employer_headcount"] == 12 and bool(c["planned_end_imputed"]) is False
    assert res.rows["_status"].tolist() == ["clean", "merged", "rejected"]
    assert reasons(res) == ["no planned end date"]


# --------------------------------------------------------------------------------------------- derived


def test_derived_fields():
    res = clean(
        {
            "contract_id": "1",
            "employer_naf": "96.02A",
            "employer_headcount": "4",
            "employer_siret": "44492238900010",
            "cfa_uai": "0410590U",
            "residence_postcode": "41100",
            "birth_date": "2006-09-03",
            "diploma_code": "32031102",
            "start_date": "2024-08-01",
            "planned_end_date": "2026-07-31",
            "employer_type": "22",
        },
        {
            "contract_id": "2",
            "employer_naf": None,
            "employer_headcount": "250",
            "employer_siret": "80478874200011",
            "cfa_uai": "0410590A",
            "residence_postcode": "75001",
            "birth_date": "2006-07-31",
            "start_date": "2024-07-31",
            "planned_end_date": "2026-07-31",
            "contract_type": "23",
        },
    )
    c = res.contracts.set_index("contract_id")
    one, two = c.loc["000000000000001"], c.loc["000000000000002"]
    assert (one["naf_division"], one["naf_section"], one["sector_group"], one["sector"]) == (
        "96",
        "S",
        "tertiaire",
        "coiffure_esthetique",
    )
    assert pd.isna(two["naf_section"])
    assert one["employer_size_band"] == "0-4" and two["employer_size_band"] == "250+"
    assert bool(one["employer_siret_valid"]) and not bool(two["employer_siret_valid"])
    assert bool(one["cfa_uai_valid"]) is True and one["cfa_name"] == "CFA interprofessionnel CMA 41"
    assert bool(two["cfa_uai_valid"]) is False and pd.isna(
        two["cfa_name"]
    )  # wrong check letter: flagged, kept
    assert one["territory"] == "ml_vendomois" and two["territory"] == "hors_41"
    assert one["age_at_start"] == 17 and one["age_band"] == "15-17"  # birthday the day after the start
    assert two["age_at_start"] == 18 and two["age_band"] == "18-19"  # birthday on the start date
    assert one["school_year"] == "2024-2025" and two["school_year"] == "2023-2024"  # 1 August cut-off
    assert (one["diploma_level"], one["diploma_family"]) == ("5", "BTS")
    assert one["contract_kind"] == "initial" and two["contract_kind"] == "succession"
    assert bool(one["employer_public"]) is True


@pytest.mark.parametrize(
    ("rupture", "days", "phase"),
    [
        ("2024-09-02", 0, "0-45j"),
        ("2024-10-17", 45, "0-45j"),  # start + 45 days: still within
        ("2024-10-18", 46, "46j-3m"),  # start + 46 days
        ("2024-12-01", 90, "46j-3m"),
        ("2024-12-02", 91, "3-6m"),  # exactly 3 months: not within 3 months
        ("2025-03-02", 181, "6-12m"),  # exactly 6 months
        ("2025-09-01", 364, "6-12m"),
        ("2025-09-02", 365, "12m+"),  # exactly 12 months
    ],
)
def test_rupture_phase_boundaries(rupture, days, phase):
    c = clean({"contract_id": "1", "rupture_date": rupture}).contracts.iloc[0]
    assert c["days_to_rupture"] == days
    assert c["rupture_phase"] == phase


@pytest.mark.parametrize(
    ("raw", "category"),
    [
        ("Rupture d'un commun accord", "commun_accord"),
        ("Démission", "initiative_apprenti"),
        ("Obtention du diplôme", "obtention_diplome"),
        ("résiliation pour faute grave", "licenciement"),
        ("Liquidation judiciaire", "liquidation_judiciaire"),
        ("Rupture pendant la période d’essai", "periode_essai_45j"),
        ("01", "inconnu"),  # DECA code list unknown: stays inconnu until the user maps it
        (None, "inconnu"),
    ],
)
def test_rupture_reason_categories(raw, category):
    c = clean({"contract_id": "1", "rupture_date": "2025-02-01", "rupture_reason_raw": raw}).contracts.iloc[0]
    assert c["rupture_reason_category"] == category


def test_rupture_after_diploma_by_reason_or_by_date():
    res = clean(
        {"contract_id": "1", "rupture_date": "2026-07-10", "rupture_reason_raw": "obtention du diplôme"},
        {
            "contract_id": "2",
            "rupture_date": "2026-07-10",
            "diploma_obtained": "oui",
            "diploma_obtained_date": "05/07/2026",
        },
        {
            "contract_id": "3",
            "rupture_date": "2026-07-10",
            "diploma_obtained": "oui",
            "diploma_obtained_date": "15/07/2026",
        },
        {"contract_id": "4", "rupture_date": None},
    )
    c = res.contracts.set_index("contract_id")
    assert c["rupture_after_diploma"].tolist()[:3] == [True, True, False]
    assert pd.isna(c["rupture_after_diploma"].iloc[3])
    assert c["rupture_phase"].tolist()[:2] == ["apres_diplome", "apres_diplome"]


# --------------------------------------------------------------------------------------------- exams


def _exams(rows):
    raw = pd.DataFrame(rows).astype("string")
    raw["source_row"] = range(2, len(raw) + 2)
    raw = add_apprentice_key(raw.assign(source="exam_results", source_file="exams.csv"), key=KEY)
    return CL.clean_exam_results(raw)


def test_exam_results_cleaning_and_accounting():
    who = {"surname": "Dupont", "first_name": "Léa", "birth_date": "2007-03-02"}
    exams, rows = _exams(
        [
            {**who, "diploma_code": "50022109", "exam_session": "2026", "exam_result": "Admis mention B"},
            {
                **who,
                "diploma_code": "50022109",
                "exam_session": "2026",
                "exam_result": "admis mention B",
            },  # duplicate
            {**who, "diploma_code": "50022109", "exam_session": "2025", "exam_result": "Ajourné"},
            {**who, "diploma_code": "50022109", "exam_session": "", "exam_result": "Admis"},
            {
                "surname": None,
                "first_name": None,
                "birth_date": None,
                "diploma_code": "50022109",
                "exam_session": "2026",
                "exam_result": "Admis",
            },
            {**who, "diploma_code": "50022109", "exam_session": "2026", "exam_result": "En attente"},
        ]
    )
    assert exams["exam_result"].tolist() == ["admis", "ajourne"]
    assert exams["diploma_obtained_date"].iloc[0] == pd.Timestamp("2026-07-01")  # documented proxy
    assert pd.isna(exams["diploma_obtained_date"].iloc[1])
    assert rows["_reason"].tolist()[3:] == [
        "no exam session",
        "no apprentice identity",
        "unknown exam result",
    ]
    assert (
        int(rows["_primary"].sum()) + int(rows["_dup_of"].notna().sum()) + int(rows["_reason"].notna().sum())
        == 6
    )


def test_exam_join_latest_session_after_start_and_level_fallback():
    who = {"surname": "Dupont", "first_name": "Léa", "birth_date": "2007-03-02"}
    exams, _ = _exams(
        [
            {
                **who,
                "diploma_code": "50022109",
                "exam_session": "2024",
                "exam_result": "Admis",
            },  # before the start
            {**who, "diploma_code": "50022109", "exam_session": "2025", "exam_result": "Ajourné"},
            {**who, "diploma_code": "50022109", "exam_session": "2026", "exam_result": "Admis"},
            {**who, "diploma_code": "50033401", "exam_session": "2026", "exam_result": "Absent"},
        ]
    )
    res = clean(
        {"contract_id": "1", "rupture_date": "2026-07-20"},
        {
            "contract_id": "2",
            "diploma_code": None,
            "diploma_type_cerfa": "33",
            "start_date": "2025-09-01",
            "planned_end_date": "2027-08-31",
        },  # no code: matched on the same level (3); latest session after start
        {"contract_id": "3", "surname": "Autre"},
        exams=exams,
    )
    c = res.contracts.set_index("contract_id")
    one, two, three = c.iloc[0], c.iloc[1], c.iloc[2]
    assert (one["diploma_outcome"], one["exam_session"], bool(one["diploma_obtained"])) == (
        "admis",
        "2026",
        True,
    )
    assert one["diploma_obtained_date"] == pd.Timestamp("2026-07-01")
    assert bool(one["rupture_after_diploma"]) is True and one["rupture_phase"] == "apres_diplome"
    assert two["exam_session"] == "2026" and two["diploma_outcome"] in {"admis", "absent"}
    assert three["diploma_outcome"] == "inconnu" and pd.isna(three["diploma_obtained"])


# --------------------------------------------------------------------------------------------- output


def test_output_has_no_personal_data_and_the_exact_schema():
    res = clean(
        {
            "contract_id": "1",
            "phone": "0611223344",
            "email": "lea.dupont@example.fr",
            "address": "3 rue des Lilas",
            "commune": "Blois",
            "ine": "123456789AB",
            "rupture_comment": "conflit avec le tuteur M. Martin",
            "employer_name": "Boulangerie Martin",
        },
        {
            "source": "chamber",
            "source_file": "cma.csv",
            "surname": "Lemoine",
            "first_name": "Anne",
            "birth_date": "01/01/2005",
        },
    )
    out = validate_contracts(coerce_contracts(res.contracts))
    assert tuple(out.columns) == CONTRACT_COLUMNS
    secrets = [
        "Dupont",
        "DUPONT",
        "Léa",
        "Lemoine",
        "Anne",
        "2007-03-02",
        "2005-01-01",
        "0611223344",
        "lea.dupont@example.fr",
        "Lilas",
        "123456789AB",
        "Martin",
        "Blois",
    ]
    for col in out.columns:
        text = out[col].astype("string").fillna("")
        for s in secrets:
            assert not text.str.contains(s, regex=False).any(), (col, s)


def test_inputs_are_not_mutated():
    raw = raw_frame({"contract_id": "1"}, {"contract_id": "1"})
    before = raw.copy()
    CL.clean_contracts(raw)
    pd.testing.assert_frame_equal(raw, before)


# --------------------------------------------------------------------------------------------- scale paths
# The merge takes one-row groups as they are and orders only the groups with several rows; exact
# duplicates are found through a cheap pre-filter then compared value by value. Checked here against
# plain reference implementations on random multi-file inputs.


def test_rows_alike_in_dates_but_not_in_text_are_not_duplicates():
    res = clean(
        {"contract_id": "1", "cfa_uai": "0410590U"},
        {"contract_id": "1", "cfa_uai": "0410591U"},  # same length, same dates: not identical
        {"contract_id": "1", "cfa_uai": None},  # missing is not equal to a value
        {"contract_id": "1", "cfa_uai": None},  # ... but equal to another missing
    )
    assert res.stats["exact_duplicates"] == 1
    assert res.rows["_dup_of"].tolist()[:3] == [pd.NA] * 3 and res.rows["_dup_of"].iloc[3] == 2


def _random_raw(seed: int, n: int = 400) -> pd.DataFrame:
    import random

    rnd = random.Random(seed)
    people = [("Roy", "Zoé", "2006-01-0" + str(i % 9 + 1)) for i in range(40)]
    rows = []
    for _ in range(n):
        who = rnd.choice(people)
        src, file = rnd.choice(
            [
                ("deca_extract", "deca.csv"),
                ("deca_api", "api.json"),
                ("chamber", "cma.csv"),
                ("sifa", "s.txt"),
            ]
        )
        cid = rnd.choice([None, None, "1", "2", "3", "4", "5"])
        rows.append(
            {
                "source": src,
                "source_file": file,
                "contract_id": cid if src != "sifa" else None,
                "contract_type": rnd.choice(["11", "11", "21", "33", "36", None]),
                "amendment_no": rnd.choice([None, "1", "2"]),
                "amendment_effective_date": rnd.choice([None, "2025-01-01", "2025-06-01"]),
                "surname": who[0],
                "first_name": who[1],
                "birth_date": who[2],
                "start_date": rnd.choice(["2024-09-02", "2024-09-02", "2023-09-04"]),
                "planned_end_date": rnd.choice(["2026-08-31", "2026-06-30", None]),
                "rupture_date": rnd.choice([None, None, "2025-02-01", "2024-08-01"]),
                "cfa_uai": rnd.choice(["0410590U", "0410955R", None]),
                "diploma_code": rnd.choice(["50022109", "32031102", None]),
                "employer_naf": rnd.choice(["56.10A", "96.02A", None]),
                "employer_headcount": rnd.choice([None, "3", "12"]),
            }
        )
    return raw_frame(*rows)


def _reference_merge(rows: pd.DataFrame) -> pd.DataFrame:
    """Straight from the rule: sort each group's live rows by precedence, take the first non-missing
    value per column (initial-row order for the initial-first columns; lineage from the initial row)."""
    live = rows.loc[rows["_group"].notna() & rows["_dup_of"].isna()]
    rank = live["source"].map({s: i for i, s in enumerate(SOURCE_PRECEDENCE)}).fillna(9)
    eff = live["amendment_effective_date"].fillna(pd.Timestamp("1900-01-01")).astype("datetime64[ns]")
    days = eff.astype("int64") // 86_400_000_000_000
    keyed = live.assign(
        _rank=rank,
        _eff=-days,
        _no=-pd.Series(pd.factorize(live["amendment_no"].fillna(""), sort=True)[0], index=live.index),
        _file=pd.factorize(live["source_file"], sort=True)[0],
    )
    cols = [c for c in live.columns if not c.startswith("_") and c not in FORBIDDEN_IN_CONTRACTS]
    by = ["_group", "_rank", "_amend", "_eff", "_no", "_file", "_row"]
    latest = keyed.assign(_amend=1 - keyed["_is_amendment"].astype(int)).sort_values(by, kind="stable")
    initial = keyed.assign(_amend=keyed["_is_amendment"].astype(int)).sort_values(by, kind="stable")
    out = latest.groupby("_group")[cols].first()
    first_init = initial.groupby("_group")[cols].first()
    for c in ("contract_type", "signature_date", "start_date", "derogation_type"):
        if c in out:
            out[c] = first_init[c]
    primary = initial.drop_duplicates("_group").set_index("_group")
    for c in ("source", "source_file", "source_row"):
        out[c] = primary[c]
    return out


def _grouped_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The rows as ``clean_contracts`` hands them to the merge: parsed, flagged, grouped."""
    parsed = CL.parse_contract_values(raw).assign(_row=range(len(raw)))
    return (
        parsed.pipe(CL.flag_invalid_rows)
        .pipe(CL.flag_cancelled_elsewhere)
        .pipe(CL.flag_exact_duplicates)
        .pipe(CL.assign_contract_groups)
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merge_matches_a_sort_then_groupby_reference(seed):
    raw = _random_raw(seed)
    rows = _grouped_rows(raw)
    contracts, rows_out = CL.merge_contracts(rows)
    assert contracts["contract_id"].is_monotonic_increasing and contracts["contract_id"].is_unique
    ref = _reference_merge(rows)
    got = contracts.set_index("_group").sort_index()
    assert got.index.tolist() == ref.index.tolist()
    for col in ref.columns:
        if col == "contract_id":
            assert got[col].where(ref[col].notna()).equals(ref[col].astype("string")), col
        else:
            pd.testing.assert_series_equal(got[col], ref[col], check_names=False, check_dtype=False, obj=col)
    # the primary row of each group is its initial row of the highest-precedence source
    primary = rows_out.loc[rows_out["_primary"]].set_index("_group")["source_row"].sort_index()
    assert primary.tolist() == ref["source_row"].tolist()
    check_accounting(raw, CL.clean_contracts(raw))


def test_add_months_matches_dateoffset():
    import random

    rnd = random.Random(5)
    dates = pd.Series(
        pd.to_datetime(
            [
                f"20{rnd.randrange(0, 40):02d}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}"
                for _ in range(200)
            ]
        )
        + pd.to_timedelta([rnd.choice([0, 2, 3]) for _ in range(200)], unit="D")
    )
    months = pd.Series([rnd.choice([1, 3, 6, 12, 14, 24, 36]) for _ in range(200)])
    got = CL.add_months(dates, months)
    expected = [d + pd.DateOffset(months=m) for d, m in zip(dates, months, strict=True)]
    assert got.tolist() == expected


def test_identity_store_of_the_kept_people_equals_the_whole_store_filtered():
    """The store is built from the kept people's rows only: each person's identity row depends on
    their own rows only, so it equals the store of everyone, filtered."""
    from aioa_analysis.ingest import readers
    from aioa_analysis.ingest.identity import build_identities
    from aioa_analysis.ingest.pipeline import _identity_store

    frames = [
        readers.read_file(SAMPLE / n).frame.astype("string")
        for n in ("Export_Init_TBA_202511300600.csv", "cma41_contrats_20251130.csv")
    ]
    raw = add_apprentice_key(pd.concat(frames, ignore_index=True), key=b"k" * 32)
    rows = CL.identity_rows(raw)
    wanted = raw["apprentice_key"].dropna().drop_duplicates().sample(frac=0.5, random_state=1)
    everyone = build_identities(rows)
    expected = everyone.loc[everyone["apprentice_key"].isin(wanted).to_numpy()].reset_index(drop=True)
    got = _identity_store(rows, [wanted])
    assert 0 < len(got) < raw["apprentice_key"].nunique()
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", "object"])
def test_validate_contracts_refuses_repeated_contract_ids_sorted_or_not(dtype):
    from aioa_analysis.core.errors import DataError

    base = coerce_contracts(pd.DataFrame({"contract_id": ["1", "2", "3"]}))

    def with_ids(ids):
        return base.assign(contract_id=pd.Series(ids, dtype=dtype))

    validate_contracts(with_ids(["1", "2", "3"]))  # sorted and unique: the one-pass check
    validate_contracts(with_ids(["3", "1", "2"]))  # unique but not sorted: the hashed check
    for ids in (["1", "1", "2"], ["2", "1", "2"], ["1", "3", "3"]):
        with pytest.raises(DataError, match="contract_id is not unique"):
            validate_contracts(with_ids(ids))
