"""Tests of the monthly follow-up lists (aioa_analysis.followup and `aioa followup`).

Every fixture row is a named edge case; expected values are computed by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import json
import stat

import openpyxl
import pandas as pd
import pytest

from aioa_analysis import cli, followup
from aioa_analysis.core.errors import ConfigError, ParameterError
from aioa_analysis.core.schema import IDENTITY_DTYPES, C, coerce_contracts
from aioa_analysis.followup import people

SEPT = pd.Period("2025-09", "M")
AS_OF = pd.Timestamp("2025-11-30")


# --------------------------------------------------------------------------------------------------
# tiny hand-made frames with the cleaning helper's schemas
# --------------------------------------------------------------------------------------------------
def contracts_frame(rows: list[dict]) -> pd.DataFrame:
    """Clean contract table (schema.CONTRACT_DTYPES) from a few dicts; sensible defaults."""
    base = {
        C.planned_end_date: "2027-06-30",
        C.cfa_uai: "0410590U",
        C.cfa_name: "CFA interprofessionnel CMA 41",
        C.diploma_code: "50022109",
        C.diploma_title: "CAP Cuisine",
        C.source: "deca_extract",
    }
    return coerce_contracts(pd.DataFrame([{**base, **r} for r in rows]))


def identities_frame(rows: list[dict]) -> pd.DataFrame:
    """Identity store (schema.IDENTITY_DTYPES)."""
    df = pd.DataFrame(rows).reindex(columns=list(IDENTITY_DTYPES))
    return df.astype(
        {c: (t if t != "datetime64[ns]" else "datetime64[ns]") for c, t in IDENTITY_DTYPES.items()}
    )


def person(key: str, postcode: str | None, birth: str = "2000-01-01", **kw: object) -> dict:
    return {
        C.apprentice_key: key,
        C.surname: f"NOM_{key}",
        C.first_name: f"Prenom_{key}",
        C.birth_date: birth,
        C.residence_postcode: postcode,
        C.phone: "0601020304",
        C.email: f"{key}@exemple.fr",
        **kw,
    }


def build(contracts: pd.DataFrame, ids: pd.DataFrame, exams=None, month=SEPT, as_of=AS_OF):
    structures = followup.load_structures()
    return followup.build_followup(
        contracts, ids, exams, month=month, as_of=as_of, structures=structures, all_structures=structures
    )


def fixture_name(n: str) -> str:
    """A surname as the fixtures spell it ("NOM_" + lower-case key); the sheets print NOM in capitals."""
    return "NOM_" + n[4:].lower()


def by_name(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(frame["NOM"].map(fixture_name))


def names(lists, structure: str, sheet: str) -> list[str]:
    """The surnames of a sheet, as the fixtures spell them ("NOM_" + lower-case key; sheets print NOM in capitals)."""
    return sorted(fixture_name(n) for n in lists.sheets[structure][sheet]["NOM"].dropna())


# --------------------------------------------------------------------------------------------------
# parameters and structure table
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["2025-9", "2025-13", "2025-00", "sept", "", "2025-09-01", None])
def test_parse_month_rejects_bad_values_on_one_line(bad):
    with pytest.raises(ParameterError) as err:
        followup.parse_month(bad)
    assert "\n" not in str(err.value) and "YYYY-MM" in str(err.value)


def test_unknown_structure_lists_valid_names():
    with pytest.raises(ParameterError, match="ml_blois, ml_vendomois, ml_romorantin, mlds"):
        followup.select_structures(followup.load_structures(), "ml_tours")


def test_shipped_structures_reuse_territories_table():
    s = followup.load_structures()
    assert set(s["kind"]) == {"mission_locale", "mlds"}
    ml = s.loc[s["kind"] == "mission_locale"]
    # each ML covers exactly its territory key of territories.csv; no postcode is duplicated here
    assert dict(zip(ml["structure"], ml["territories"], strict=True)) == {
        "ml_blois": ("ml_blois",),
        "ml_vendomois": ("ml_vendomois",),
        "ml_romorantin": ("ml_romorantin",),
    }
    mlds = s.loc[s["structure"] == "mlds"].iloc[0]
    assert mlds["mlds_max_age"] == 18 and mlds["mlds_age_at"] == "start"
    assert mlds["mlds_situation_cerfa"] == ("1",)


def test_structures_table_rejects_overlapping_missions_locales():
    t = pd.DataFrame(
        {
            "structure": ["a", "b"],
            "label": ["A", "B"],
            "kind": ["mission_locale", "mission_locale"],
            "territories": ["ml_blois", "ml_blois|ml_vendomois"],
        }
    )
    with pytest.raises(ConfigError, match="two Missions Locales"):
        followup.load_structures(t)


def test_structures_table_rejects_unknown_territory():
    t = pd.DataFrame(
        {"structure": ["a"], "label": ["A"], "kind": ["mission_locale"], "territories": ["ml_tours"]}
    )
    with pytest.raises(ConfigError, match="unknown or no territories"):
        followup.load_structures(t)


def test_reference_date_is_month_end_or_as_of_and_future_month_is_refused():
    assert followup.reference_date(SEPT, AS_OF) == pd.Timestamp("2025-09-30")
    assert followup.reference_date(pd.Period("2025-11", "M"), pd.Timestamp("2025-11-15")) == pd.Timestamp(
        "2025-11-15"
    )
    with pytest.raises(ParameterError, match="after the data extraction date"):
        followup.reference_date(pd.Period("2025-12", "M"), AS_OF)


# --------------------------------------------------------------------------------------------------
# territory routing
# --------------------------------------------------------------------------------------------------
def routing_fixture():
    rows = [
        # key, contract postcode: each starts on 2025-09-15 (in the month)
        ("blois", "41000"),
        ("vendome", "41100"),
        ("romo", "41200"),
        ("paris", "75001"),  # out of département: no list
        ("unknown41", "41999"),  # Loir-et-Cher postcode missing from territories.csv: no ML list
        ("nopc", None),  # no postcode at all: sans_code_postal, in no list
        ("moved", "41000"),  # contract says Blois, identity store (latest) says Vendôme -> Vendômois only
        ("noid", "41200"),  # no identity in the store: listed (empty name) in Romorantin, counted
    ]
    contracts = contracts_frame(
        [
            {C.contract_id: k, C.apprentice_key: k, C.start_date: "2025-09-15", C.residence_postcode: pc}
            for k, pc in rows
        ]
    )
    ids = identities_frame(
        [person(k, pc) for k, pc in rows if k not in ("moved", "noid")] + [person("moved", "41100")]
    )
    return contracts, ids


def test_each_young_person_is_only_in_the_list_of_his_territory():
    lists = build(*routing_fixture())
    s = followup.SHEET_SIGNED
    assert names(lists, "ml_blois", s) == ["NOM_blois"]
    assert names(lists, "ml_vendomois", s) == ["NOM_moved", "NOM_vendome"]
    assert names(lists, "ml_romorantin", s) == ["NOM_romo"]
    assert len(lists.sheets["ml_romorantin"][s]) == 2  # + the row without identity (empty name)
    # adults at school before? no: every fixture person is 25, so no MLDS row
    assert lists.sheets["mlds"][s].empty
    # out-of-département and unknown territories: in no ML list, counted
    assert lists.not_routed[s] == {"hors_41": 1, "inconnu": 1, "sans_code_postal": 1}
    assert lists.without_identity[s] == 1
    every = [n for st in ("ml_blois", "ml_vendomois", "ml_romorantin") for n in names(lists, st, s)]
    assert len(every) == len(set(every))


def test_mlds_rule_is_in_addition_to_the_mission_locale():
    start = "2025-09-01"
    rows = [
        # key, birth date, situation_before, source, postcode
        ("under18", "2007-09-02", None, "deca_extract", "41000"),  # 17 the day before his 18th birthday
        ("exactly18", "2007-09-01", None, "deca_extract", "41000"),  # 18 on the start date: not under 18
        # the school rule (18 at the contract start, so not by age; 18 at the reference date: MLDS public)
        ("scolaire", "2007-03-01", "1", "deca_extract", "41100"),  # CERFA 1 = scolaire
        ("cerfa11", "2007-03-01", "11", "chamber", "41100"),  # CERFA 11 = demandeur d'emploi
        ("sifa21", "2007-03-01", "21", "sifa", "41200"),  # SIFA 21 = 2nd cycle GT (school)
        ("sifa11_merged", "2007-03-01", "11", "deca_extract;sifa", "41200"),  # SIFA 11 = collège, via sources
        ("sifa41", "2007-03-01", "41", "deca_extract;sifa", "41200"),  # SIFA 41 = supérieur: not MLDS
        # 25 years old: at school before the contract, but outside the MLDS public (mlds_max_age_now)
        ("scolaire_adult", "2000-01-01", "1", "deca_extract", "41100"),
        ("minor_paris", "2009-01-01", None, "deca_extract", "75001"),  # minor but out of département
        ("minor_unknown41", "2009-01-01", None, "deca_extract", "41999"),  # Loir-et-Cher, unknown ML zone
    ]
    contracts = contracts_frame(
        [
            {
                C.contract_id: k,
                C.apprentice_key: k,
                C.start_date: start,
                C.situation_before: sit,
                C.source: src.split(";")[0],
                C.sources: ";".join(f"{x}:f.csv:{i}" for i, x in enumerate(src.split(";"), start=2)),
                C.residence_postcode: pc,
            }
            for k, _, sit, src, pc in rows
        ]
    )
    ids = identities_frame([person(k, pc, birth=b) for k, b, _, _, pc in rows])
    lists = build(contracts, ids)
    s = followup.SHEET_SIGNED
    assert names(lists, "mlds", s) == [
        "NOM_minor_unknown41",
        "NOM_scolaire",
        "NOM_sifa11_merged",
        "NOM_sifa21",
        "NOM_under18",
    ]
    # the MLDS young people also stay in their Mission Locale's list
    assert names(lists, "ml_blois", s) == ["NOM_exactly18", "NOM_under18"]
    assert names(lists, "ml_vendomois", s) == ["NOM_cerfa11", "NOM_scolaire", "NOM_scolaire_adult"]
    # ages on the sheet are at the reference date 2025-09-30: born 2007-09-02 -> 18
    blois = lists.sheets["ml_blois"][s].pipe(by_name)
    assert blois.loc["NOM_under18", "Âge"] == 18


def test_mlds_age_falls_back_to_contract_age_when_birth_date_missing():
    contracts = contracts_frame(
        [
            {
                C.contract_id: "a",
                C.apprentice_key: "a",
                C.start_date: "2025-09-10",
                C.age_at_start: 16,
                C.residence_postcode: "41000",
            }
        ]
    )
    ids = identities_frame([person("a", "41000", birth=None)])
    lists = build(contracts, ids)
    assert names(lists, "mlds", followup.SHEET_SIGNED) == ["NOM_a"]


# --------------------------------------------------------------------------------------------------
# month boundaries
# --------------------------------------------------------------------------------------------------
def test_month_boundaries_for_signed_contracts_and_ruptures():
    rows = [
        # key, start, rupture, signature
        ("start_aug31", "2025-08-31", None, None),  # before the month
        ("start_sep01", "2025-09-01", None, None),  # first day: in
        ("start_sep30", "2025-09-30", None, None),  # last day: in
        ("start_oct01", "2025-10-01", None, None),  # next month: out
        ("signed_sep_starts_oct", "2025-10-06", None, "2025-09-12"),  # signed in Sept, starts later: in
        ("signed_aug_starts_oct", "2025-10-06", None, "2025-08-12"),  # neither in Sept: out
        ("rupt_sep01", "2024-09-02", "2025-09-01", None),  # first day: in
        ("rupt_sep30", "2024-09-02", "2025-09-30", None),  # last day: in
        ("rupt_oct01", "2024-09-02", "2025-10-01", None),  # next month: out
        ("cancelled", "2025-09-10", None, None),  # DECA "Annulé": never listed
    ]
    contracts = contracts_frame(
        [
            {
                C.contract_id: k,
                C.apprentice_key: k,
                C.start_date: st,
                C.rupture_date: r,
                C.signature_date: sg,
                C.residence_postcode: "41000",
                C.deca_status: "Annulé" if k == "cancelled" else "",
            }
            for k, st, r, sg in rows
        ]
    )
    ids = identities_frame([person(k, "41000") for k, *_ in rows])
    lists = build(contracts, ids)
    assert names(lists, "ml_blois", followup.SHEET_SIGNED) == [
        "NOM_signed_sep_starts_oct",
        "NOM_start_sep01",
        "NOM_start_sep30",
    ]
    rupt = lists.sheets["ml_blois"][followup.SHEET_RUPTURES].pipe(by_name)
    assert sorted(rupt.index) == ["NOM_rupt_sep01", "NOM_rupt_sep30"]
    assert set(rupt["Motif de la ligne"]) == {followup.REASON_RUPTURE_MONTH}
    # days since rupture at 2025-09-30: 29 and 0
    assert rupt.loc["NOM_rupt_sep01", "Jours depuis la rupture"] == 29
    assert rupt.loc["NOM_rupt_sep30", "Jours depuis la rupture"] == 0


# --------------------------------------------------------------------------------------------------
# the 180-day window
# --------------------------------------------------------------------------------------------------
def test_180_day_window_and_new_contract_closing_the_case():
    # reference date 2025-09-30. 2025-04-04 -> 2025-09-30 is 26 (Apr) + 31 + 30 + 31 + 31 + 30 = 179 days
    rows = [
        # contract id, key, start, rupture
        ("d179", "d179", "2024-09-02", "2025-04-04"),  # day 179: still open, window closes 2025-10-01
        ("d180", "d180", "2024-09-02", "2025-04-03"),  # day 180: window closed on 2025-09-30 -> out
        ("d181", "d181", "2024-09-02", "2025-04-02"),  # day 181: out
        ("renewed", "renewed", "2024-09-02", "2025-06-02"),  # a new contract started 2025-07-01: closed
        ("renewed_next", "renewed", "2025-07-01", None),
        (
            "signed_ahead",
            "signed_ahead",
            "2024-09-02",
            "2025-06-02",
        ),  # new contract signed 09-20, starts 10-06
        ("signed_ahead_next", "signed_ahead", "2025-10-06", None),
        ("older_only", "older_only", "2024-09-02", "2025-06-02"),  # its other contract started BEFORE: open
        ("older_only_prev", "older_only", "2023-09-04", None),
        ("after_end", "after_end", "2023-09-04", "2025-07-15"),  # "rupture" on/after planned end: none
        ("month_renewed", "month_renewed", "2024-09-02", "2025-09-05"),  # month rupture + new contract
        ("month_renewed_next", "month_renewed", "2025-09-22", None),
    ]
    contracts = contracts_frame(
        [
            {
                C.contract_id: cid,
                C.apprentice_key: key,
                C.start_date: st,
                C.rupture_date: r,
                C.residence_postcode: "41000",
                C.signature_date: "2025-09-20" if cid == "signed_ahead_next" else None,
                C.planned_end_date: "2025-07-15" if cid == "after_end" else "2027-06-30",
            }
            for cid, key, st, r in rows
        ]
    )
    ids = identities_frame([person(k, "41000") for k in {r[1] for r in rows}])
    lists = build(contracts, ids)
    rupt = lists.sheets["ml_blois"][followup.SHEET_RUPTURES].pipe(by_name)
    assert sorted(rupt.index) == ["NOM_d179", "NOM_month_renewed", "NOM_older_only"]
    assert rupt.loc["NOM_d179", "Jours depuis la rupture"] == 179
    assert rupt.loc["NOM_d179", "Fin de la fenêtre de 180 jours (obligation du CFA)"] == pd.Timestamp(
        "2025-10-01"
    )
    assert rupt.loc["NOM_d179", "Motif de la ligne"] == followup.REASON_RUPTURE_OPEN
    # 2025-06-02 -> 2025-09-30: 28 + 31 + 31 + 30 = 120 days; window closes 2025-11-29
    assert rupt.loc["NOM_older_only", "Jours depuis la rupture"] == 120
    assert rupt.loc["NOM_older_only", "Fin de la fenêtre de 180 jours (obligation du CFA)"] == pd.Timestamp(
        "2025-11-29"
    )
    # a rupture of the month stays listed even when a new contract followed; the new start is shown
    assert rupt.loc["NOM_month_renewed", "Nouveau contrat connu (début)"] == pd.Timestamp("2025-09-22")
    assert pd.isna(rupt.loc["NOM_d179", "Nouveau contrat connu (début)"])


def test_window_uses_as_of_when_data_stop_inside_the_month():
    # as_of 2025-09-15 -> reference date 2025-09-15; rupture 2025-03-19 is day 180 then: out
    # (2025-03-19 -> 2025-09-15: 12 + 30 + 31 + 30 + 31 + 31 + 15 = 180)
    contracts = contracts_frame(
        [
            {
                C.contract_id: "a",
                C.apprentice_key: "a",
                C.start_date: "2024-09-02",
                C.rupture_date: "2025-03-19",
            },
            {
                C.contract_id: "b",
                C.apprentice_key: "b",
                C.start_date: "2024-09-02",
                C.rupture_date: "2025-03-20",
            },
        ]
    ).assign(**{C.residence_postcode: pd.array(["41000", "41000"], dtype="string")})
    ids = identities_frame([person("a", "41000"), person("b", "41000")])
    lists = build(contracts, ids, as_of=pd.Timestamp("2025-09-15"))
    rupt = lists.sheets["ml_blois"][followup.SHEET_RUPTURES]
    assert rupt["NOM"].map(fixture_name).tolist() == ["NOM_b"]
    assert rupt["Jours depuis la rupture"].tolist() == [179]


# --------------------------------------------------------------------------------------------------
# diploma sheet
# --------------------------------------------------------------------------------------------------
def test_diploma_sheet_lists_the_session_closed_in_the_month():
    contracts = contracts_frame(
        [
            {
                C.contract_id: "c1",
                C.apprentice_key: "k1",
                C.start_date: "2023-09-04",
                C.residence_postcode: "41000",
            },
            {
                C.contract_id: "c2",
                C.apprentice_key: "k2",
                C.start_date: "2023-09-04",
                C.residence_postcode: "41000",
                C.diploma_code: "40025214",
                C.diploma_title: "BAC PRO Commerce",
                C.cfa_name: "CFA X",
                C.planned_end_date: "2025-06-30",
            },
            # failed, but still under contract in July: not listed (minimisation)
            {
                C.contract_id: "c7",
                C.apprentice_key: "k7",
                C.start_date: "2024-09-02",
                C.residence_postcode: "41000",
            },
            {
                C.contract_id: "c3",
                C.apprentice_key: "k3",
                C.start_date: "2023-09-04",
                C.planned_end_date: "2025-06-30",
                C.residence_postcode: "41000",
            },
            {
                C.contract_id: "c4",
                C.apprentice_key: "k4",
                C.start_date: "2023-09-04",
                C.residence_postcode: "41000",
            },
            # outcome carried by the contract only (e.g. TBA / chamber file): listed from the contract
            {
                C.contract_id: "c5",
                C.apprentice_key: "k5",
                C.start_date: "2023-09-04",
                C.residence_postcode: "41000",
                C.diploma_outcome: "admis",
                C.exam_session: "2025",
                C.diploma_obtained_date: "2025-07-01",
            },
            # outcome copied from the results file by cleaning: must not give a second k1 row
            {
                C.contract_id: "c6",
                C.apprentice_key: "k1",
                C.start_date: "2022-09-05",
                C.residence_postcode: "41000",
                C.diploma_code: None,
                C.diploma_outcome: "admis",
                C.exam_session: "2025",
                C.diploma_obtained_date: "2025-07-04",
            },
        ]
    )
    exams = pd.DataFrame(
        {
            C.apprentice_key: ["k1", "k2", "k3", "k4", "k7"],
            C.diploma_code: ["50022109", "40025214", "50022109", "50022109", "50022109"],
            C.exam_session: ["2025", "2025", "2025", "2024", "2025"],
            C.exam_result: ["admis", "ajourne", "absent", "admis", "ajourne"],
            # k1 dated in July; k2/k3 undated -> July 2025 (session close); k4: 2024 session -> July 2024
            C.diploma_obtained_date: pd.to_datetime(["2025-07-04", None, None, None, None]),
            C.source_file: ["r.csv"] * 5,
            C.source_row: pd.array([2, 3, 4, 5, 6], dtype="Int64"),
        }
    ).astype({C.apprentice_key: "string", C.diploma_code: "string", C.exam_session: "string"})
    ids = identities_frame([person(k, "41000") for k in ("k1", "k2", "k3", "k4", "k5", "k7")])
    july = pd.Period("2025-07", "M")
    lists = build(contracts, ids, exams, month=july)
    d = lists.sheets["ml_blois"][followup.SHEET_DIPLOMA].pipe(by_name)
    assert sorted(d.index) == ["NOM_k1", "NOM_k2", "NOM_k3", "NOM_k5"]
    assert d.loc["NOM_k1", "Résultat"] == "Admis"
    assert d.loc["NOM_k2", "Résultat"] == "Ajourné"
    assert d.loc["NOM_k3", "Résultat"] == "Absent"
    assert d.loc["NOM_k2", "CFA"] == "CFA X"
    assert d.loc["NOM_k2", "Formation"] == "BAC PRO Commerce"
    # the same results are not a June or August matter
    for other in ("2025-06", "2025-08"):
        assert (
            build(contracts, ids, exams, month=pd.Period(other, "M"))
            .sheets["ml_blois"][followup.SHEET_DIPLOMA]
            .empty
        )


# --------------------------------------------------------------------------------------------------
# writing: neutralisation, permissions, empty month, manifest, CLI
# --------------------------------------------------------------------------------------------------
EVIL = {
    C.surname: '=HYPERLINK("http://evil","x")',
    C.first_name: "+cmd|' /C calc'!A0",
    C.email: "@SUM(1+1)",
    C.phone: "-2+3",
    C.commune: "\t=1+1",
    C.address: "\r=1",
}


def evil_fixture():
    contracts = contracts_frame(
        [
            {
                C.contract_id: "e",
                C.apprentice_key: "e",
                C.start_date: "2025-09-10",
                C.rupture_date: "2025-09-20",
                C.diploma_title: "=1+2",
            }
        ]
    )
    ids = identities_frame([{**person("e", "41000"), **EVIL}])
    return contracts, ids


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 00", "'+33 6 00"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Léa", "Léa"),
        ("a=b", "a=b"),
        ("\x00=x", "'=x"),
    ],
)
def test_neutralise_cell(raw, expected):
    assert followup.neutralise_cell(raw) == expected


def test_formulas_are_neutralised_in_the_workbook(tmp_path):
    lists = build(*evil_fixture())
    paths = followup.write_followup(lists, tmp_path / "2025-09")
    wb = openpyxl.load_workbook(tmp_path / "2025-09" / "suivi_ml_blois_2025-09.xlsx")
    assert wb.sheetnames == ["Lisez-moi", *followup.DATA_SHEETS, "Listes"]
    sheet = wb[followup.SHEET_TODO]
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["NOM"] == "'" + EVIL[C.surname].upper()  # names are normalised, then neutralised
    first = people.normalise_first_name(pd.Series([EVIL[C.first_name]])).item()
    assert first.startswith("+") and values["Prénom"] == "'" + first
    assert values["E-mail"] == "'" + EVIL[C.email]
    assert values["Téléphone"] == "'" + EVIL[C.phone]
    assert values["Commune"] == "'" + EVIL[C.commune]
    assert values["Formation"] == "'=1+2"
    for path in paths:
        if path.suffix == ".xlsx":
            for ws in openpyxl.load_workbook(path):
                for row in ws.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)


def test_files_and_folder_are_owner_only(tmp_path):
    lists = build(*routing_fixture())
    out = tmp_path / "base" / "followup" / "2025-09"
    paths = followup.write_followup(lists, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700  # folders we create are private too
    assert {p.name for p in paths} == {
        "suivi_ml_blois_2025-09.xlsx",
        "suivi_ml_vendomois_2025-09.xlsx",
        "suivi_ml_romorantin_2025-09.xlsx",
        "suivi_mlds_2025-09.xlsx",
        "manifest.json",
    }
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".aioa"]  # the commit's own folder
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".staging" in p.name]  # no leftover
    for p in out.rglob("*"):  # every file and folder owner-only, the commit's lock included
        assert stat.S_IMODE(p.lstat().st_mode) & 0o077 == 0 or p.is_symlink(), p


def test_empty_month_gives_valid_workbooks_with_headers_only(tmp_path):
    contracts = contracts_frame(
        [
            {
                C.contract_id: "x",
                C.apprentice_key: "x",
                C.start_date: "2020-01-06",
                C.residence_postcode: "41000",
            }
        ]
    )
    ids = identities_frame([person("x", "41000")])
    lists = build(contracts, ids, month=pd.Period("2025-09", "M"))
    followup.write_followup(lists, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "suivi_mlds_2025-09.xlsx")
    assert wb.sheetnames[0] == "Lisez-moi"
    for name in followup.DATA_SHEETS:
        ws = wb[name]
        assert ws.max_row == 1
        assert [c.value for c in ws[1]] == list(followup.SHEET_COLUMNS[name].values())
    readme = "\n".join(str(c.value) for row in wb["Lisez-moi"].iter_rows() for c in row if c.value)
    assert "NE PAS DIFFUSER" in readme
    assert "30/11/2025" in readme  # extraction date (as_of)
    assert "septembre 2025" in readme and "30/09/2025" in readme


def test_manifest_holds_counts_and_no_names(tmp_path):
    contracts, ids = routing_fixture()
    lists = build(contracts, ids)
    followup.write_followup(lists, tmp_path)
    text = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    m = json.loads(text)
    assert m["month"] == "2025-09" and m["as_of"] == "2025-11-30" and m["reference_date"] == "2025-09-30"
    by = {e["structure"]: e for e in m["lists"]}
    assert by["ml_vendomois"]["counts"] == {**dict.fromkeys(followup.DATA_SHEETS, 0), "Contrats signés": 2}
    assert by["ml_blois"]["file"] == "suivi_ml_blois_2025-09.xlsx"
    assert m["not_in_any_mission_locale_list"]["Contrats signés"] == {
        "hors_41": 1,
        "inconnu": 1,
        "sans_code_postal": 1,
    }
    for value in ids[[C.surname, C.first_name, C.email, C.phone]].melt()["value"].dropna().astype(str):
        assert value not in text
    # a later run for one structure keeps the other entries
    one = followup.build_followup(
        contracts,
        ids,
        None,
        month=SEPT,
        as_of=AS_OF,
        structures=followup.select_structures(followup.load_structures(), "ml_blois"),
        all_structures=followup.load_structures(),
    )
    followup.write_followup(one, tmp_path)
    m2 = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert [e["structure"] for e in m2["lists"]] == sorted(by)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Processed folder, identity store and quality.json under tmp_path, wired through config env vars."""
    processed, restricted, reports = tmp_path / "processed", tmp_path / "restricted", tmp_path / "reports"
    processed.mkdir()
    restricted.mkdir(mode=0o700)
    monkeypatch.setenv("AIOA_PROCESSED_DIR", str(processed))
    monkeypatch.setenv("AIOA_RESTRICTED_DIR", str(restricted))
    monkeypatch.setenv("AIOA_REPORTS_DIR", str(reports))
    contracts, ids = routing_fixture()
    contracts.to_parquet(processed / "contracts.parquet")
    ids.to_parquet(restricted / "identities.parquet")
    (processed / "quality.json").write_text(json.dumps({"as_of": "2025-11-30"}), encoding="utf-8")
    return tmp_path


def test_cli_writes_into_the_restricted_folder(project, capsys):
    assert cli.main(["followup", "--month", "2025-09"]) == 0
    out = project / "restricted" / "followup" / "2025-09"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert len(list(out.glob("suivi_*_2025-09.xlsx"))) == 4
    assert "ml_vendomois" in capsys.readouterr().out


def test_cli_single_structure_and_out(project, tmp_path):
    assert (
        cli.main(["followup", "--month", "2025-09", "--structure", "ml_blois", "--out", str(tmp_path / "o")])
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "o" / "2025-09").iterdir() if not p.name.startswith(".")) == [
        "manifest.json",
        "suivi_ml_blois_2025-09.xlsx",
    ]


def test_cli_dry_run_writes_nothing(project, capsys):
    assert cli.main(["followup", "--month", "2025-09", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "ml_blois" in printed and "hors_41: 1" in printed
    assert "NOM_" not in printed
    assert not (project / "restricted" / "followup").exists()


def test_cli_dry_run_leaves_an_existing_month_folder_unchanged(project, capsys):
    assert cli.main(["followup", "--month", "2025-09"]) == 0
    out = project / "restricted" / "followup" / "2025-09"

    def snapshot():
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}

    before = snapshot()
    assert cli.main(["followup", "--month", "2025-09", "--dry-run"]) == 0
    assert snapshot() == before


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--month", "2025-13"], "YYYY-MM"),
        (["--month", "2025-09", "--structure", "ml_tours"], "valid names: all, ml_blois"),
        (["--month", "2026-01"], "after the data extraction date"),
    ],
)
def test_cli_parameter_errors_are_one_line(project, capsys, argv, needle):
    assert cli.main(["followup", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_cli_refuses_out_under_reports(project, capsys):
    assert cli.main(["followup", "--month", "2025-09", "--out", str(project / "reports" / "x")]) == 5
    assert "shared folder" in capsys.readouterr().err
    assert not (project / "reports").exists()


@pytest.mark.parametrize("missing", ["processed/contracts.parquet", "restricted/identities.parquet"])
def test_cli_missing_inputs_tell_to_run_clean(project, capsys, missing):
    (project / missing).unlink()
    assert cli.main(["followup", "--month", "2025-09"]) == 2
    err = capsys.readouterr().err
    assert "aioa clean" in err and err.count("\n") == 1


def test_cli_refuses_contracts_carrying_identity_columns(project, capsys):
    contracts, _ids = routing_fixture()
    contracts.assign(surname="X").to_parquet(project / "processed" / "contracts.parquet")
    assert cli.main(["followup", "--month", "2025-09"]) == 2
    assert "personal columns: surname" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# no identity value outside the restricted store (real outputs, when they exist)
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_no_identity_value_in_processed_outputs_or_reports(built):
    """Sample -> `aioa clean` -> report: no identity value of the restricted store leaks out."""
    restricted, processed, reports = built["restricted"], built["processed"], built["reports"]
    store = restricted / "identities.parquet"
    assert store.is_file(), "cleaning must write the restricted identity store"
    ids = pd.read_parquet(store)
    # distinctive values only: e-mails, phone numbers, INE, addresses (a surname alone may be a word)
    needles = set()
    for col in (C.email, C.phone, C.ine, C.address):
        if col in ids:
            needles |= {v for v in ids[col].dropna().astype(str).str.strip() if len(v) >= 8}
    # and full "first name surname" pairs
    if {C.surname, C.first_name} <= set(ids.columns):
        pair = (ids[C.first_name].astype("string") + " " + ids[C.surname].astype("string")).dropna()
        needles |= {v for v in pair if len(v) >= 8}
    assert needles, "identity store has no distinctive value to look for"
    checked = 0
    for path in sorted(processed.rglob("*")) if processed.is_dir() else []:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            assert not set(df.columns) & {C.surname, C.first_name, C.birth_date, C.phone, C.email, C.ine}, (
                path
            )
            cells = set(df.astype("string").melt()["value"].dropna().astype(str))
            assert not cells & needles, f"identity value in {path}"
            checked += 1
        elif path.suffix in (".csv", ".json", ".html"):
            text = path.read_text(encoding="utf-8", errors="replace")
            hit = next((n for n in needles if n in text), None)
            assert hit is None, f"identity value in {path}"
            checked += 1
    for path in sorted(reports.rglob("*.html")) if reports.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        hit = next((n for n in needles if n in text), None)
        assert hit is None, f"identity value in {path}"
        checked += 1
    assert checked >= 4, "contracts, rejected, quality and at least one report must have been scanned"


def test_insee_commune_code_is_replaced_by_the_postcode_commune():
    """SIFA's COM_RESID holds an INSEE code (41018 = Blois), not a town name."""
    rows = contracts_frame([{C.contract_id: "a", C.apprentice_key: "a", C.start_date: "2025-09-01"}])
    ids = identities_frame([person("a", "41000", commune="41018"), person("b", "41100", commune="Vendôme")])
    out = followup.attach_identity(rows, ids, ref_date=pd.Timestamp("2025-09-30"))
    assert out[followup.COMMUNE].tolist() == ["Blois"]


def test_sample_lists_say_the_data_are_fictitious(tmp_path):
    contracts, ids = routing_fixture()
    lists = dataclasses.replace(build(contracts, ids), synthetic=True)
    followup.write_followup(lists, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "suivi_mlds_2025-09.xlsx")
    readme = "\n".join(str(c.value) for row in wb["Lisez-moi"].iter_rows() for c in row if c.value)
    assert "DONNÉES FICTIVES" in readme
    real = build(contracts, ids)
    followup.write_followup(real, tmp_path / "real")
    wb = openpyxl.load_workbook(tmp_path / "real" / "suivi_mlds_2025-09.xlsx")
    readme = "\n".join(str(c.value) for row in wb["Lisez-moi"].iter_rows() for c in row if c.value)
    assert "FICTIVES" not in readme
