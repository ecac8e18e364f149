"""Dimension names -> columns, the "inconnu" policy, group codes and the primary suppression flag."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import AGE_BANDS, DIMENSIONS, SIZE_BANDS
from aioa_analysis.stats.dimensions import (
    NOT_OBSERVABLE,
    UNKNOWN,
    category_order,
    category_rank,
    category_sort_key,
    dimension_values,
    group_codes,
    parse_dimensions,
    small_denominator_flags,
    sort_by_dimensions,
    valid_dimensions,
    with_dimensions,
)


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
    s, r = small_denominator_flags(pd.Series([0, 19, 20, 100, None]), min_n=20)
    assert s.tolist() == [True, True, False, False, True]
    # an empty group (0 or missing denominator) has no rate: "non observable", not "effectif < 20"
    assert r.tolist() == [NOT_OBSERVABLE, "effectif < 20", "", "", NOT_OBSERVABLE]
    s0, _ = small_denominator_flags(pd.Series([0, 1]), min_n=0)
    assert s0.tolist() == [False, False]
    with pytest.raises(ParameterError):
        small_denominator_flags(pd.Series([1]), min_n=-1)


# --- natural order of the groups --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shuffled", "expected"),
    [
        # alphabetical order would be 0-4, 10-49, 250+, 5-9, 50-249
        (
            "employer_size",
            ["250+", "inconnu", "5-9", "10-49", "0-4", "50-249"],
            ["0-4", "5-9", "10-49", "50-249", "250+", "inconnu"],
        ),
        (
            "age_band",
            ["26+", "20-25", "inconnu", "15-17", "18-19"],
            ["15-17", "18-19", "20-25", "26+", "inconnu"],
        ),
        # numeric, not lexicographic: "10" after "9"; unparsable text after numbers, inconnu last
        ("diploma_level", ["inconnu", "7", "10", "3", "9", "x"], ["3", "7", "9", "10", "x", "inconnu"]),
        (
            "cohort",
            ["2025-2026", "inconnu", "2022-2023", "2024-2025"],
            ["2022-2023", "2024-2025", "2025-2026", "inconnu"],
        ),
        (
            "diploma_outcome",
            ["inconnu", "absent", "admis", "ajourne"],
            ["admis", "ajourne", "absent", "inconnu"],
        ),
        (
            "territory",
            ["inconnu", "hors_41", "ml_romorantin", "ml_blois", "ml_vendomois"],
            ["ml_blois", "ml_vendomois", "ml_romorantin", "hors_41", "inconnu"],
        ),
        # no fixed order: alphabetical, "inconnu" last even though "z..." sorts after it
        ("sector", ["zoo", "inconnu", "agriculture"], ["agriculture", "zoo", "inconnu"]),
        # a value outside the fixed order goes after the known ones, before inconnu
        ("employer_size", ["inconnu", "??", "0-4"], ["0-4", "??", "inconnu"]),
    ],
)
def test_category_sort_key_natural_orders(name, shuffled, expected):
    assert sorted(shuffled, key=category_sort_key(name)) == expected


def test_category_order_follows_schema_and_accepts_column_names():
    assert category_order("employer_size") == SIZE_BANDS
    assert category_order("employer_size_band") == SIZE_BANDS  # the contract-table column
    assert category_order("age_band") == AGE_BANDS
    assert category_order("cohort") is None and category_order("cfa") is None


def test_category_rank_missing_last_and_integers_numeric():
    r = category_rank(pd.Series([12, 2, None, 9], dtype="Int64", name="start_month"))
    assert r.tolist()[:2] == [2.0, 0.0] and pd.isna(r.iloc[2]) and r.iloc[3] == 1.0


def test_group_codes_natural_order_two_dimensions_counts_unchanged():
    df = pd.DataFrame(
        {
            "employer_size": ["250+", "5-9", "0-4", "5-9", "inconnu", "10-49", "0-4"],
            "cohort": [
                "2024-2025",
                "2023-2024",
                "2024-2025",
                "2024-2025",
                "2023-2024",
                "2023-2024",
                "2024-2025",
            ],
        }
    )
    codes, keys = group_codes(df, ["employer_size", "cohort"])
    assert list(zip(keys["employer_size"], keys["cohort"], strict=True)) == [
        ("0-4", "2024-2025"),
        ("5-9", "2023-2024"),
        ("5-9", "2024-2025"),
        ("10-49", "2023-2024"),
        ("250+", "2024-2025"),
        ("inconnu", "2023-2024"),
    ]
    # each row's code points to its own key (so every count stays attached to the right group)
    back = keys.iloc[codes.to_numpy()].reset_index(drop=True)
    assert back.astype(str).to_dict("list") == df.astype(str).to_dict("list")
    assert codes.tolist() == [4, 1, 0, 2, 5, 3, 0]


def test_group_codes_keeps_missing_keys_last():
    df = pd.DataFrame({"start_month": pd.array([9, None, 1, 9], dtype="Int64")})
    codes, keys = group_codes(df, ["start_month"])
    assert keys["start_month"].tolist()[:2] == [1, 9] and pd.isna(keys["start_month"].iloc[2])
    assert codes.tolist() == [1, 2, 0, 1]


def test_sort_by_dimensions_detects_dimension_columns_and_does_not_mutate():
    t = pd.DataFrame(
        {
            "age_band": ["26+", "15-17", "inconnu", "18-19"],
            "n_contracts": [5, 6, 7, 8],
        },
        index=[10, 11, 12, 13],
    )
    before = t.copy()
    out = sort_by_dimensions(t)
    assert out["age_band"].tolist() == ["15-17", "18-19", "26+", "inconnu"]
    assert out["n_contracts"].tolist() == [6, 8, 5, 7] and out.index.tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(t, before)
    # no dimension column: unchanged order
    assert sort_by_dimensions(t[["n_contracts"]])["n_contracts"].tolist() == [5, 6, 7, 8]
