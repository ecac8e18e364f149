"""Dimension names -> columns, the "inconnu" policy, group codes and the primary suppression flag."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.dimensions import (
    UNKNOWN,
    dimension_values,
    group_codes,
    parse_dimensions,
    small_denominator_flags,
    valid_dimensions,
    with_dimensions,
)
from aioa_analysis.errors import ParameterError
from aioa_analysis.schema import DIMENSIONS


def test_valid_dimensions_are_the_schema_list_and_include_the_issue_minimum():
    assert valid_dimensions() == list(DIMENSIONS)
    for name in ("cfa", "sector", "sector_group", "diploma_level", "cohort", "start_month", "territory"):
        assert name in valid_dimensions()
    for name in ("employer_size", "age_band", "sex", "diploma_outcome"):
        assert name in valid_dimensions()


def test_parse_dimensions_accepts_strings_lists_blanks_and_drops_duplicates():
    assert parse_dimensions(" cfa , sector,,cfa ") == ["cfa", "sector"]
    assert parse_dimensions(["cohort"]) == ["cohort"]
    assert parse_dimensions("") == []
    assert parse_dimensions(None) == []


def test_unknown_dimension_is_one_line_listing_every_choice():
    with pytest.raises(ParameterError) as info:
        parse_dimensions("cfa,secteur")
    msg = str(info.value)
    assert "\n" not in msg and "'secteur'" in msg
    for name in DIMENSIONS:
        assert name in msg


def test_missing_and_blank_values_form_the_inconnu_group():
    df = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2024-09-02", "2025-01-15", None]),
            "sector": pd.array(["construction", "  ", None], dtype="string"),
            "cfa_uai": pd.array(["0410590U", None, "0410590U"], dtype="string"),
        }
    )
    assert dimension_values(df, "sector").tolist() == ["construction", UNKNOWN, UNKNOWN]
    assert dimension_values(df, "cfa").tolist() == ["0410590U", UNKNOWN, "0410590U"]
    # a column absent from the table: every contract is "inconnu"
    assert dimension_values(df, "territory").tolist() == [UNKNOWN] * 3
    # derived from start_date, integers, NA without a start date
    assert dimension_values(df, "start_month").tolist() == [9, 1, pd.NA]
    assert dimension_values(df, "start_year").tolist() == [2024, 2025, pd.NA]


def test_with_dimensions_names_columns_by_public_name_and_does_not_mutate():
    df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02"]), "school_year": ["2024-2025"]})
    before = df.copy()
    out, names = with_dimensions(df, "cohort,start_month")
    assert names == ["cohort", "start_month"]
    assert out["cohort"].tolist() == ["2024-2025"] and out["start_month"].tolist() == [9]
    pd.testing.assert_frame_equal(df, before)


def test_group_codes_sorted_and_single_group_without_names():
    df = pd.DataFrame({"a": ["y", "x", "y", "x"], "b": ["1", "1", "2", "1"]})
    codes, keys = group_codes(df, ["a", "b"])
    assert keys.to_dict("list") == {"a": ["x", "y", "y"], "b": ["1", "1", "2"]}
    assert codes.tolist() == [1, 0, 2, 0]
    codes0, keys0 = group_codes(df, [])
    assert codes0.tolist() == [0, 0, 0, 0] and len(keys0) == 1


def test_small_denominator_flags_rule_and_bad_min_n():
    s, r = small_denominator_flags(pd.Series([0, 19, 20, 100]), min_n=20)
    assert s.tolist() == [True, True, False, False]
    assert r.tolist() == ["effectif < 20", "effectif < 20", "", ""]
    s0, _ = small_denominator_flags(pd.Series([0, 1]), min_n=0)
    assert s0.tolist() == [False, False]
    with pytest.raises(ParameterError):
        small_denominator_flags(pd.Series([1]), min_n=-1)
