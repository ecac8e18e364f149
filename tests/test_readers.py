"""Readers: one hand-made fixture per source (tests/fixtures/readers/), each row a named edge case,
plus the real public reference files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from aioa_analysis.core.errors import UnknownFormatError
from aioa_analysis.core.schema import IDENTITY_COLUMNS, REJECTED_COLUMNS, SOURCES, C
from aioa_analysis.ingest.readers import (
    APPRENTICE_ID,
    CONTRACT_INDEX,
    ReadResult,
    detect_profile,
    discover_inputs,
    read_file,
)

FIX = Path(__file__).parent / "fixtures" / "readers"
REF = Path(__file__).parent / "fixtures" / "reference"  # real public files (see SOURCES.md there)


def _check_contract(r: ReadResult) -> None:
    """Invariants every ReadResult must satisfy."""
    assert r.profile in SOURCES
    assert r.rows_read == len(r.frame) + len(r.rejected)
    assert list(r.rejected.columns) == list(REJECTED_COLUMNS)
    assert list(r.frame.columns[:3]) == [C.source, C.source_file, C.source_row]
    assert str(r.frame[C.source_row].dtype) == "Int64"
    for col in r.frame.columns:
        if col != C.source_row:
            assert r.frame[col].dtype == pd.StringDtype(), col
    assert (r.frame[C.source] == r.profile).all()
    assert (r.frame[C.source_file] == r.path.name).all()


def _row(r: ReadResult, source_row: int, index: int = 0) -> dict:
    rows = r.frame[r.frame[C.source_row] == source_row]
    return {k: (None if pd.isna(v) else v) for k, v in rows.iloc[index].to_dict().items()}


# --- DECA flat extract ------------------------------------------------------------------------------


def test_deca_extract_tba_variant() -> None:
    r = read_file(FIX / "deca_extract_tba.csv")
    _check_contract(r)
    assert r.profile == "deca_extract"
    assert r.details["variant"] == "tba"
    assert r.details["separator"] == ","
    assert r.details["csv_engine"] == "pyarrow"  # clean file: fast path
    assert r.lines_read == 4 and r.rows_read == 4
    assert r.frame[C.source_row].tolist() == [2, 3, 4, 5]  # header line counted
    one = _row(r, 2)
    # leading zeros kept: contract number, IDCC, apprentice postcode, last class
    assert one[C.contract_id] == "041202400000001"
    assert one[C.employer_idcc] == "0016"
    assert one[C.residence_postcode] == "01000"  # TBA variant: the apprentice's postcode
    assert one[C.last_class] == "01"
    assert one[C.phone] == "0601020304"  # TBA variant: the apprentice's phone
    assert one[C.address] == "12 rue des Lices"  # number + street
    assert one[C.training_site_siret] == "19410590100015"  # `siret` alone = training site
    assert one[C.employer_siret] == "44492238900010"  # `siretemployeur`
    assert one[C.rupture_before_start] == "false"  # booleans stay raw text
    assert one[C.rupture_date] == "2024-10-10"  # dates stay raw text
    two = _row(r, 3)
    assert two[C.diploma_title] == "BTS MCO, MANAGEMENT COMMERCIAL OPERATIONNEL"  # quoted comma
    assert two[C.address] == "chemin du Bois"  # no number
    assert two[C.email] is None
    three = _row(r, 4)  # amendment row: read as is (folding is the cleaner's job)
    assert (three[C.contract_type], three[C.amendment_no]) == ("36", "041202400000001")
    four = _row(r, 5)
    assert four[C.contract_id] == "041202400000004" and four[C.surname] is None
    assert set(r.details["unmapped_columns"]) == {"departementnaissance", "flagcorrection", "datesuppression"}
    assert not set(r.details["unmapped_columns"]) & set(r.frame.columns)


def test_deca_extract_lba_variant_crlf_blank_line() -> None:
    r = read_file(FIX / "deca_extract_lba.csv")
    _check_contract(r)
    assert r.details["variant"] == "lba"
    assert r.frame[C.source_row].tolist() == [2, 4]  # blank line 3 skipped, numbering kept
    assert r.lines_read == 2
    one = _row(r, 2)
    assert one[C.employer_postcode] == "41100"  # LBA: adressecodepostal is the employer's
    assert C.residence_postcode not in r.frame.columns
    assert C.phone not in r.frame.columns  # LBA: telephone is the employer's, dropped
    assert one[C.email] == "ines.b@example.org"  # courrielalternant, not courriel
    assert one[C.employer_name] == "BOULANGERIE DU CHATEAU"
    assert _row(r, 4)[C.email] is None  # no courrielalternant: courriel (employer's) not used
    assert {"telephone", "courriel", "courrielemployeur"} <= set(r.details["unmapped_columns"])


def test_deca_extract_defects_rejected_with_line_numbers() -> None:
    r = read_file(FIX / "deca_extract_defects.csv")
    _check_contract(r)
    assert r.details["csv_engine"] == "python"  # not clean: exact fallback
    assert r.frame[C.source_row].tolist() == [2, 4, 6]
    assert _row(r, 4)[C.diploma_title] == "BP BOULANGER\nsur deux lignes"  # quoted line break
    assert _row(r, 6)[C.diploma_title] == "CAP PATISSIER"  # trailing empty fields tolerated
    assert r.rejected["source_row"].tolist() == [3, 7]
    assert r.rejected["reason"].tolist() == [
        "nombre de champs : 4 au lieu de 5",
        "nombre de champs : 6 au lieu de 5",
    ]
    assert (r.rejected["source_file"] == "deca_extract_defects.csv").all()
    assert r.rows_read == 5 and r.lines_read == 5


# --- DECA API JSON -----------------------------------------------------------------------------------


def test_deca_api_fixture_flattening() -> None:
    r = read_file(FIX / "deca_api.json")
    _check_contract(r)
    assert r.profile == "deca_api"
    assert r.lines_read == 3 and r.rows_read == 3
    assert r.frame[C.source_row].tolist() == [1, 3]  # array position + 1
    one = _row(r, 1)
    assert one[C.address] == "12 rue des Lices"  # numero (a JSON number) + voie
    assert one[C.employer_headcount] == "74"  # 74.0 -> "74"
    assert one[C.contract_type] == "11"
    assert one[C.rupture_reason_raw] == "01"
    assert one[C.rupture_comment] == "départ volontaire"
    assert one[C.employer_name] == "RESTAURANT LE LOIR"
    assert one[C.employer_postcode] == "41100" and one[C.residence_postcode] == "41000"
    assert one[C.last_class] == "1"  # raw (the cleaner pads)
    assert r.rejected["source_row"].tolist() == [2]
    assert "pas un objet" in r.rejected["reason"].iloc[0]


def test_deca_api_reference_file() -> None:
    r = read_file(REF / "deca-api-response-sample.json")
    _check_contract(r)
    assert r.profile == "deca_api" and len(r.frame) == 2 and r.rows_read == 2
    assert r.frame[C.contract_id].tolist() == ["000000000000001", "000000000000002"]
    assert r.frame[C.rupture_date].tolist() == ["2020-10-16", "2021-05-31"]
    for col in (C.surname, C.first_name, C.birth_date, C.phone, C.email, C.address):
        assert col in r.frame.columns
    assert r.frame[C.address].tolist() == ["voie de test", "20 rue de test"]  # numero null, then 20
    assert r.frame[C.rqth].tolist() == ["false", "true"]
    assert r.frame[C.source_row].tolist() == [1, 2]


def test_deca_api_json_nan_and_null_are_missing(tmp_path: Path) -> None:
    # Some exporters (pandas, numpy) write the non-standard JSON tokens NaN / Infinity: a missing
    # value, like null and "", never the text "nan".
    p = tmp_path / "api.json"
    p.write_text(
        '{"contrats": [{"detailsContrat": {"noContrat": "041202400000001", "dateDebutContrat": "2024-09-02",'
        ' "dateFinContrat": NaN, "typeContrat": 11},'
        ' "employeur": {"siret": "44492238900010", "nombreDeSalaries": Infinity, "naf": -Infinity},'
        ' "organismeFormationResponsable": {"uaiCfa": "0410590U"},'
        ' "rupture": {"dateEffetRupture": "2024-10-10", "codeMotifRupture": NaN,'
        ' "commentaireRupture": null, "dateSignalement": ""}}]}',
        encoding="utf-8",
    )
    r = read_file(p)
    _check_contract(r)
    assert r.profile == "deca_api" and len(r.frame) == 1 and r.rows_read == 1
    one = _row(r, 1)
    assert one[C.rupture_date] == "2024-10-10" and one[C.contract_type] == "11"
    for col in (
        C.planned_end_date,
        C.employer_headcount,
        C.employer_naf,
        C.rupture_reason_raw,
        C.rupture_comment,
        C.rupture_reported_date,
    ):
        assert col in r.frame.columns and one[col] is None, col
    assert not r.frame.isin(["nan", "NaN", "inf", "Infinity", "-inf", "None"]).any().any()


# --- Tableau de bord upload workbook -----------------------------------------------------------------


def test_tba_upload_melt() -> None:
    r = read_file(FIX / "tba_upload.xlsx")
    _check_contract(r)
    assert r.profile == "tba_upload"
    assert r.details["sheet"] == "Effectifs"  # "Lisez-moi" skipped although it comes first
    assert r.details["header_row"] == 2  # title row above the header
    assert r.lines_read == 4  # rows 3, 4, 5, 7 (row 6 empty)
    # row 3: 1 contract, row 4: 3 contracts, row 5: none (rejected), row 7: contract 2 only
    assert r.frame[C.source_row].tolist() == [3, 4, 4, 4, 7]
    assert r.frame[CONTRACT_INDEX].tolist() == ["1", "1", "2", "3", "2"]
    assert r.rows_read == 6
    assert r.rejected["source_row"].tolist() == [5]
    assert r.rejected["reason"].iloc[0].startswith("aucun contrat")
    dates = _row(r, 3)
    assert (dates[C.start_date], dates[C.birth_date]) == ("2024-09-02", "2006-05-17")  # date cells -> ISO
    assert dates[C.employer_siret] == "44492238900010"  # float cell -> integer text
    assert dates[C.residence_postcode] == "41000"  # int cell
    assert dates[C.surname] == "DURAND"  # header "nom_apprenant*" with the star
    wide = r.frame[r.frame[C.source_row] == 4]
    assert wide[C.start_date].tolist() == ["45170", "45240", "15/09/2024"]  # serials kept as text
    assert wide[C.rupture_reason_raw].fillna("<vide>").tolist() == ["résiliation", "force majeure", "<vide>"]
    assert wide[C.employer_siret].tolist() == ["13002526500013", "44492238900010", "19410590100015"]
    assert (wide[C.surname] == "ROUX").all() and (wide[C.birth_date] == "38869").all()
    last = _row(r, 7)
    assert last[C.start_date] == "02/09/2024" and last[C.diploma_code] == "01022103"
    assert "annee_scolaire*" in r.details["unmapped_columns"]


def test_tba_upload_csv_with_typographic_apostrophe_and_suffix_case(tmp_path: Path) -> None:
    # The TBA profile also works from a CSV; header spellings vary (case, spaces, ’).
    p = tmp_path / "tba.csv"
    p.write_text(
        "Nom apprenant*;Prénom apprenant*;Date de naissance apprenant*;Contrat date début;"
        "CONTRAT_DATE_DEBUT_2;contrat date rupture 2\n"
        "A;B;01/01/2006;;02/09/2024;10/10/2024\n",
        encoding="utf-8",
    )
    r = read_file(p)
    assert r.profile == "tba_upload"
    assert r.frame[CONTRACT_INDEX].tolist() == ["2"]
    assert r.frame[C.rupture_date].tolist() == ["10/10/2024"]


# --- SIFA ---------------------------------------------------------------------------------------------


def test_sifa_pipe_cp1252_wrong_field_count() -> None:
    r = read_file(FIX / "sifa_pipe.txt")
    _check_contract(r)
    assert r.profile == "sifa"
    assert r.details["separator"] == "|"
    assert r.frame[C.source_row].tolist() == [1, 2, 5]  # blank line 3, rejected line 4
    assert r.rejected["source_row"].tolist() == [4]
    assert r.rejected["reason"].tolist() == ["nombre de champs : 46 au lieu de 47"]
    assert r.lines_read == 4 and r.rows_read == 4
    two = _row(r, 2)
    assert (two[C.surname], two[C.sex], two[C.rupture_date]) == ("PETIT", "1", "31012025")
    assert _row(r, 5)[C.surname] == "CŒUR"  # cp1252 only character, trailing separator tolerated
    one = _row(r, 1)
    assert one[C.start_date] == "02092024" and one[C.cfa_uai] == "0410590U"  # JJMMAAAA raw
    assert one[C.ine] == "070123456AB" and one[C.commune] == "41018"
    assert "NOM2" in r.details["unmapped_columns"]


def test_sifa_semicolon_bom() -> None:
    r = read_file(FIX / "sifa_semicolon.csv")
    _check_contract(r)
    assert r.profile == "sifa" and r.details["separator"] == ";"
    assert r.frame[C.ine].iloc[0] == "070123456AB"  # BOM not glued to the first field
    assert r.frame[C.start_date].tolist() == ["01092024", "02092024", "03092024"]


def test_sifa_theoretical_duration_is_mapped(tmp_path: Path) -> None:
    # DUR_FORM_THEO (10th column, months) -> training_duration_months: the cleaner imputes the planned
    # end (start + duration - 1 day) from it, SIFA having no contract end date. Raw text, no parsing.
    base = (FIX / "sifa_semicolon.csv").read_text(encoding="utf-8-sig").splitlines()
    lines = []
    for line, duration in zip(base, ("24", "", "012"), strict=True):  # 2 years / missing / zero-padded
        cells = line.split(";")
        cells[9] = duration
        lines.append(";".join(cells))
    p = tmp_path / "sifa.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = read_file(p)
    _check_contract(r)
    assert r.profile == "sifa"
    assert r.frame[C.training_duration_months].tolist() == ["24", pd.NA, "012"]
    assert "DUR_FORM_THEO" not in r.details["unmapped_columns"]
    assert "DUR_FORM_REELLE" in r.details["unmapped_columns"]  # the real duration is not the planned one


# --- chamber ------------------------------------------------------------------------------------------


def test_chamber_cp1252_title_rows() -> None:
    r = read_file(FIX / "chamber_cp1252.csv")
    _check_contract(r)
    assert r.profile == "chamber"
    assert r.details["encoding"] == "cp1252"
    assert r.details["header_row"] == 3  # two title rows above
    assert r.frame[C.source_row].tolist() == [4, 5, 6]
    assert r.details["unmapped_columns"] == []  # every BRIEF header is known, ’ and ' alike
    one = _row(r, 4)
    assert one[C.surname] == "LEFÈVRE" and one[C.first_name] == "Chloé"
    assert one[C.rupture_reason_raw] == "Démission de l’apprenti"
    assert one[C.employer_siret] == "44492238900010"  # "SIRET de l’employeur"
    assert one[C.employer_headcount] == "3"  # "Effectif de l'entreprise"
    assert one[C.sex] == "Mme" and one[C.diploma_obtained] == "non"
    two = _row(r, 5)
    assert two[C.diploma_code] == "05000001" and two[C.start_date] == "01/09/24"
    assert _row(r, 6)[C.surname] == "CŒUR"
    for col in IDENTITY_COLUMNS:
        if col != C.ine:
            assert col in r.frame.columns


def test_chamber_canonical_names_tab_bom() -> None:
    r = read_file(FIX / "chamber_canonical.tsv")
    _check_contract(r)
    assert r.profile == "chamber" and r.details["separator"] == "\t"
    assert r.frame[APPRENTICE_ID].tolist() == ["a1b2c3", "d4e5f6"]
    assert r.frame[C.rupture_reason_raw].iloc[0] == "commun accord"  # rupture_reason -> _raw
    assert r.frame[C.diploma_code].iloc[0] == "03322101"
    assert r.details["unmapped_columns"] == ["commentaire libre"]
    assert "commentaire libre" not in r.frame.columns


def test_chamber_xlsx_with_numbers_and_dates(tmp_path: Path) -> None:
    import datetime as dt

    p = tmp_path / "chambre.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Chambre de métiers et de l'artisanat de Loir-et-Cher"])
    ws.append(["Extraction du 30/11/2025"])
    ws.append(
        [
            "N° de contrat",
            "Nom",
            "Prénom",
            "Date de naissance",
            "Code postal",
            "SIRET de l'employeur",
            "Date de début du contrat",
            "Date de fin prévue",
        ]
    )
    ws.append(
        [123, "X", "Y", dt.datetime(2005, 1, 2), 41000.0, 4.449223890001e13, 45536, dt.datetime(2026, 6, 30)]
    )
    wb.save(p)
    r = read_file(p)
    _check_contract(r)
    one = _row(r, 4)
    assert one[C.contract_id] == "123" and one[C.residence_postcode] == "41000"
    assert one[C.employer_siret] == "44492238900010"
    assert (one[C.start_date], one[C.planned_end_date], one[C.birth_date]) == (
        "45536",
        "2026-06-30",
        "2005-01-02",
    )


# --- exam results -------------------------------------------------------------------------------------


def test_exam_results() -> None:
    r = read_file(FIX / "exam_results.csv")
    _check_contract(r)
    assert r.profile == "exam_results"
    assert r.frame[C.exam_result].tolist() == ["Admis mention B", "ajourne", "Absent"]  # raw
    assert r.frame[C.exam_session].tolist() == ["2026", "2026", "2025"]
    assert r.frame[C.diploma_code].tolist() == ["50033602", "05000001", "50023312"]
    assert r.frame[C.ine].isna().tolist() == [False, True, True]


# --- detection, override, aliases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "profile"),
    [
        ("deca_extract_tba.csv", "deca_extract"),
        ("deca_extract_lba.csv", "deca_extract"),
        ("deca_api.json", "deca_api"),
        ("tba_upload.xlsx", "tba_upload"),
        ("sifa_pipe.txt", "sifa"),
        ("sifa_semicolon.csv", "sifa"),
        ("chamber_cp1252.csv", "chamber"),
        ("chamber_canonical.tsv", "chamber"),
        ("exam_results.csv", "exam_results"),
    ],
)
def test_detect_profile(name: str, profile: str) -> None:
    assert detect_profile(FIX / name) == profile


def test_source_override(tmp_path: Path) -> None:
    # a DECA-style header forced as chamber: required columns named in the error
    with pytest.raises(UnknownFormatError, match=r"start_date"):
        read_file(FIX / "deca_extract_tba.csv", source="chamber")
    # forcing the right profile works
    assert read_file(FIX / "exam_results.csv", source="exam_results").profile == "exam_results"
    # forcing SIFA on a SIFA file
    assert read_file(FIX / "sifa_pipe.txt", source="sifa").rows_read == 4


def test_user_alias_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "maison.csv"
    p.write_text("Numéro dossier;Début;Nom;Prénom;Date de naissance\n7;02/09/2024;A;B;01/01/2006\n", "utf-8")
    with pytest.raises(UnknownFormatError):
        read_file(p)
    aliases = tmp_path / "mes_alias.csv"
    aliases.write_text(
        "profile,canonical,alias\nchamber,start_date,Début\nchamber,contract_id,Numéro dossier\n", "utf-8"
    )
    monkeypatch.setenv("AIOA_ALIASES_FILE", str(aliases))
    r = read_file(p)
    assert r.profile == "chamber"
    assert (r.frame[C.contract_id].iloc[0], r.frame[C.start_date].iloc[0]) == ("7", "02/09/2024")


def test_alias_file_in_raw_dir_and_invalid_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aioa_analysis.core.errors import ConfigError

    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setenv("AIOA_RAW_DIR", str(raw))
    (raw / "aliases.csv").write_text("profile,canonical,alias\nchamber,not_a_column,X\n", "utf-8")
    with pytest.raises(ConfigError, match="line 2: unknown canonical column"):
        read_file(FIX / "exam_results.csv")
    (raw / "aliases.csv").write_text(
        "profile,canonical,alias\nexam_results,exam_result,Décision du jury\n", "utf-8"
    )
    p = raw / "jury.csv"
    p.write_text("INE;Code diplôme;Session;Décision du jury\n123;50022141;2025;Admis\n", "utf-8")
    r = read_file(p)
    assert r.profile == "exam_results" and r.frame[C.exam_result].tolist() == ["Admis"]
    assert [q.name for q in discover_inputs(raw)] == ["jury.csv"]  # aliases.csv is not an input


# --- real files that must be refused -----------------------------------------------------------------


def test_tba_effectifs_export_refused() -> None:
    with pytest.raises(UnknownFormatError) as info:
        read_file(REF / "tba-export-effectifs-sample.csv")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("tba-export-effectifs-sample.csv:")
    assert "effectifs" in msg and "start_date" in msg and "profiles tried" in msg
    assert "chamber" in msg  # the closest profile is named


def test_mission_locale_workbook_refused() -> None:
    with pytest.raises(UnknownFormatError, match=r"^modele-rupturant-ml\.xlsx: a Mission Locale list"):
        read_file(REF / "modele-rupturant-ml.xlsx")


def test_mission_locale_list_with_data_refused(tmp_path: Path) -> None:
    p = tmp_path / "Rupturants_TBA_2025-11-30.csv"
    p.write_text(
        "Date transmission données;Source données;NOM;Prénom;Date rupture contrat;Date début contrat\n"
        "Plus de 2 semaines;TBA;A;B;10/10/2024;02/09/2024\n",
        "utf-8",
    )
    with pytest.raises(UnknownFormatError, match="Mission Locale"):
        read_file(p)


def test_utf16_tab_export_and_cr_only_line_ends(tmp_path: Path) -> None:
    text = "Nom\tPrénom\tDate de naissance\tINE\tCode diplôme\tSession\tRésultat\nÉLISE\tZoé\t01/02/2005\t\t50022141\t2025\tAdmis\n"
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes(text.encode("utf-16"))  # Excel "Texte Unicode": UTF-16 with BOM, tab
    r = read_file(utf16)
    assert r.profile == "exam_results" and r.details["encoding"] == "utf-16"
    assert r.frame[C.surname].tolist() == ["ÉLISE"] and r.frame[C.source_row].tolist() == [2]
    cr = tmp_path / "mac.csv"
    cr.write_bytes(text.replace("\t", ";").replace("\n", "\r").encode("cp1252"))
    r = read_file(cr)
    assert r.profile == "exam_results" and r.frame[C.first_name].tolist() == ["Zoé"]
    assert r.frame[C.source_row].tolist() == [2]


# A UTF-8 file cut inside its last character (truncated transfer): the incomplete character is dropped
# and the file stays UTF-8, with or without a BOM. Each case: (last character, bytes of it kept).
_CUTS = [("é", 1), ("’", 1), ("’", 2)]  # 2-byte and 3-byte characters
_CUT_IDS = ["1-of-2-bytes", "1-of-3-bytes", "2-of-3-bytes"]
_BOM = b"\xef\xbb\xbf"
_CHAMBER = (
    "N° de contrat;Date de début du contrat;Nom;Prénom\n1;02/09/2024;LEFÈVRE;Chloé\n2;02/09/2024;CŒUR;Zo"
)


@pytest.mark.parametrize("bom", [b"", _BOM], ids=["no-bom", "bom"])
@pytest.mark.parametrize(("last", "kept"), _CUTS, ids=_CUT_IDS)
def test_utf8_cut_in_its_last_character_stays_utf8(bom: bytes, last: str, kept: int) -> None:
    from aioa_analysis.ingest.readers.text import decode_bytes

    dec = decode_bytes(bom + _CHAMBER.encode() + last.encode()[:kept])
    assert dec.encoding == ("utf-8-sig" if bom else "utf-8")
    assert dec.text == _CHAMBER  # "é" read as "é", not "Ã©"; the cut character dropped
    assert dec.data == bom + _CHAMBER.encode()  # the bytes parsed: BOM kept, nothing else lost
    assert dec.note == "incomplete last character dropped"
    plain = decode_bytes(_CHAMBER.encode() + last.encode()[:kept])
    assert (dec.text, dec.note) == (plain.text, plain.note)  # BOM or not, the same reading


@pytest.mark.parametrize(("last", "kept"), _CUTS, ids=_CUT_IDS)
def test_utf8_file_cut_in_its_last_character_reads_alike_with_or_without_bom(
    tmp_path: Path, last: str, kept: int
) -> None:
    results = {}
    for name, bom in (("plain", b""), ("bom", _BOM)):
        p = tmp_path / f"{name}.csv"
        p.write_bytes(bom + _CHAMBER.encode() + last.encode()[:kept])
        results[name] = r = read_file(p)
        _check_contract(r)
        assert r.profile == "chamber"
        assert r.details["encoding"] == ("utf-8-sig" if bom else "utf-8")
        assert r.details["encoding_note"] == "incomplete last character dropped"
        assert r.frame[C.surname].tolist() == ["LEFÈVRE", "CŒUR"]
        assert r.frame[C.first_name].tolist() == ["Chloé", "Zo"]
    cols = [c for c in results["plain"].frame.columns if c != C.source_file]
    pd.testing.assert_frame_equal(results["bom"].frame[cols], results["plain"].frame[cols])


@pytest.mark.parametrize("fixture", ["sifa_semicolon.csv", "deca_api.json"])
def test_every_reader_notes_a_dropped_last_character(tmp_path: Path, fixture: str) -> None:
    """SIFA and the DECA API JSON report the decoder's note as the delimited files do."""
    data = (FIX / fixture).read_bytes().rstrip()
    p = tmp_path / fixture
    p.write_bytes(data + b"\n" + "é".encode()[:1])  # a last line cut inside its only character
    r = read_file(p)
    assert r.details["encoding_note"] == "incomplete last character dropped"
    assert r.details["encoding"] in ("utf-8", "utf-8-sig")
    assert "encoding_note" not in read_file(FIX / fixture).details  # nothing dropped: no note


@pytest.mark.parametrize("partial", [b"", b"\xc3", b"\xe2\x80"], ids=["bom-only", "2-byte", "3-byte"])
def test_bom_and_at_most_a_partial_character_is_blank(tmp_path: Path, partial: bytes) -> None:
    from aioa_analysis.core.errors import InputFileError
    from aioa_analysis.ingest.readers.text import decode_bytes

    dec = decode_bytes(_BOM + partial)
    assert (dec.encoding, dec.text, dec.data) == ("utf-8-sig", "", _BOM)
    assert dec.note == decode_bytes(partial).note  # as without the BOM: noted only if a byte dropped
    p = tmp_path / "cut.csv"
    p.write_bytes(_BOM + partial)
    with pytest.raises(InputFileError, match="holds only blank lines"):  # as for the BOM alone
        read_file(p)


def test_detection_of_a_large_bom_file_whose_head_ends_inside_a_character(tmp_path: Path) -> None:
    # detect_profile decodes only the first HEAD_BYTES bytes: for a large file that cut falls anywhere,
    # here inside an "é" (its first byte is the last one of the head)
    from aioa_analysis.ingest.readers.text import HEAD_BYTES

    head = _BOM + "N° de contrat;Date de début du contrat;Nom;Prénom\n".encode()
    row = "1;02/09/2024;LEFÈVRE;Chloé\n".encode()
    head += row * ((HEAD_BYTES - len(head)) // len(row) - 1)
    filler = HEAD_BYTES - 1 - len(head) - len(b"2;02/09/2024;;")
    head += b"2;02/09/2024;" + b"A" * filler + b";"
    data = head + "é\n".encode() + row * 10
    assert data[HEAD_BYTES - 1 : HEAD_BYTES + 1] == "é".encode()
    p = tmp_path / "large.csv"
    p.write_bytes(data)
    assert detect_profile(p) == "chamber"
    assert read_file(p).details["encoding"] == "utf-8-sig"


def test_excel_number_formatted_codes_in_csv_are_recovered(tmp_path: Path) -> None:
    p = tmp_path / "excel.csv"
    p.write_text(
        "N° de contrat;Date de début du contrat;Code postal;SIRET de l'employeur;UAI du CFA\n"
        "12.0;02/09/2024;41000.0;4,4492238900010E+13;0410590U\n"  # full precision: recoverable
        "13;02/09/2024;41000;4.4492E+13;0410590U\n",  # rounded display: left as is
        "utf-8",
    )
    r = read_file(p)
    assert r.frame[C.contract_id].tolist() == ["12", "13"]
    assert r.frame[C.residence_postcode].tolist() == ["41000", "41000"]
    assert r.frame[C.employer_siret].tolist() == ["44492238900010", "4.4492E+13"]
