"""Shipped referential tables: nomenclatures, CFAs, territories, reference rates."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.core import referential as ref

WORKING_GROUP = {"0410590U", "0410592W", "0410955R", "0411090M", "0411066L", "0410892X"}


def test_working_group_cfas_are_known_with_valid_uai():
    cfas = ref.cfa_referential()
    assert set(cfas.loc[cfas["working_group"], "uai"]) >= WORKING_GROUP
    assert ref.uai_is_valid(pd.Series(sorted(WORKING_GROUP))).all()


@pytest.mark.parametrize(
    ("uai", "valid"),
    [
        ("0142321X", True),  # FORMATS 4.3 examples
        ("0422170F", True),
        ("0010856A", True),
        ("0751234J", True),
        ("0123456A", False),  # TBA OpenAPI example: wrong check letter
        ("0410590u", True),  # lower case accepted
        ("041059U", False),  # too short
    ],
)
def test_uai_check_letter(uai, valid):
    assert bool(ref.uai_is_valid(pd.Series([uai])).iloc[0]) is valid


def test_uai_check_letter_by_hand():
    # 0751234 % 23: 751234 = 23 * 32662 + 8 -> letters[8] = "J"
    assert 751234 - 23 * 32662 == 8
    assert ref.UAI_LETTERS[8] == "J" == ref.uai_check_letter("0751234")


@pytest.mark.parametrize(
    ("code", "level", "family"),
    [
        ("50022109", "3", "CAP"),
        ("45022103", "4", "BP"),
        ("40022106", "4", "BAC PRO"),
        ("32031102", "5", "BTS"),
        ("46T32401", "4", "TITRE"),
        ("36T23301", "5", "TITRE"),
        ("01023401", None, "MC"),  # mentions complémentaires: no level in the code
        ("13512345", "7", "MASTER"),
        ("99999999", None, None),
    ],
)
def test_diploma_attributes(code, level, family):
    out = ref.diploma_attributes(pd.Series([code])).iloc[0]
    assert (None if pd.isna(out["diploma_level"]) else out["diploma_level"]) == level
    assert (None if pd.isna(out["diploma_family"]) else out["diploma_family"]) == family


@pytest.mark.parametrize(
    ("naf", "section", "group", "sector"),
    [
        ("0111Z", "A", "agriculture", "agriculture"),
        ("10.71C", "C", "industrie", "industries_alimentaires"),
        ("2511Z", "C", "industrie", "industrie_autre"),
        ("4399C", "F", "construction", "construction"),
        ("4520A", "G", "tertiaire", "commerce"),
        ("5610A", "I", "tertiaire", "hebergement_restauration"),
        ("9602A", "S", "tertiaire", "coiffure_esthetique"),
        ("9602B", "S", "tertiaire", "coiffure_esthetique"),
        ("9604Z", "S", "tertiaire", "autres_services"),
        ("8810A", "Q", "tertiaire", "public_enseignement_sante"),
    ],
)
def test_naf_attributes(naf, section, group, sector):
    out = ref.naf_attributes(pd.Series([naf])).iloc[0]
    assert (out["naf_section"], out["sector_group"], out["sector"]) == (section, group, sector)


def test_naf_nonexistent_division_is_na():
    out = ref.naf_attributes(pd.Series(["0400Z", "", None]))
    assert out["naf_section"].isna().all()


def test_every_division_maps_to_one_section():
    sections = ref.naf_sections()
    covered = []
    for row in sections.itertuples():
        covered += list(range(int(row.division_from), int(row.division_to) + 1))
    assert len(covered) == len(set(covered)) == 99 - 11  # 88 divisions, 11 numbers unused
    sectors = ref.load_table("sectors.csv")
    two_digit = {p for p in sectors["naf_prefix"] if len(p) == 2}
    assert two_digit == {f"{d:02d}" for d in covered}


def test_territories():
    out = ref.territory_of(pd.Series(["41000", "41100", "41200", "41800", "41 000", "75001", "41999", pd.NA]))
    assert out.tolist()[:4] == ["ml_blois", "ml_vendomois", "ml_romorantin", "ml_vendomois"]
    assert out.tolist()[5:7] == ["hors_41", "inconnu"]
    assert pd.isna(out.iloc[7])
    assert set(ref.territories()["territory"]) <= set(ref.territory_labels())


def test_reference_rates_cite_their_source():
    t = ref.reference_rates()
    assert t["source"].str.len().gt(5).all()
    assert t["value"].between(0, 1).all()
    headline = t.loc[t["ref_id"] == "1"].iloc[0]
    assert (headline["value"], headline["horizon_months"], headline["year"]) == (0.21, "9", "2022")


def test_override_directory(tmp_path, monkeypatch):
    (tmp_path / "territories.csv").write_text("postcode,commune,territory\n41000,Blois,ml_test\n")
    monkeypatch.setenv("AIOA_REFERENTIAL_DIR", str(tmp_path))
    ref._read.cache_clear()
    try:
        assert ref.territory_of(pd.Series(["41000"])).iloc[0] == "ml_test"
    finally:
        monkeypatch.delenv("AIOA_REFERENTIAL_DIR")
        ref._read.cache_clear()
