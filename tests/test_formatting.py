"""French display formats: hand-written expected strings, one edge case per row."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from aioa_analysis.core.formatting import (
    MISSING,
    SPACE,
    format_table,
    fr_date,
    fr_datetime,
    fr_interval,
    fr_month,
    fr_number,
    fr_percent,
    fr_points,
    fr_pvalue,
    fr_ratio,
    suppressed_label,
    table_html,
)

S = SPACE  # narrow no-break space U+202F


def test_space_is_narrow_no_break():
    assert SPACE == "\u202f"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234, 0, f"1{S}234"),  # thousands separator
        (999, 0, "999"),  # no separator below 1000
        (1234567, 0, f"1{S}234{S}567"),  # several groups
        (1234.5, 1, f"1{S}234,5"),  # decimal comma
        (0.5, 0, "0"),  # banker's rounding of Python's format: 0.5 -> 0
        (2.5, 0, "2"),
        (-1234.56, 1, f"-1{S}234,6"),  # negative
        (-0.04, 1, "0,0"),  # no "-0,0"
        (0, 2, "0,00"),
        (None, 0, MISSING),
        (float("nan"), 0, MISSING),
        (pd.NA, 0, MISSING),
    ],
)
def test_fr_number(value, decimals, expected):
    assert fr_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.284, 1, f"28,4{S}%"),
        (0.2845, 1, f"28,4{S}%"),  # 28.45 in binary is just under: rounds down
        (1.0, 1, f"100,0{S}%"),
        (0.0, 0, f"0{S}%"),
        (12.5, 0, f"1{S}250{S}%"),  # a share above 1 still formats
        (None, 1, MISSING),
    ],
)
def test_fr_percent(value, decimals, expected):
    assert fr_percent(value, decimals) == expected


def test_fr_interval_percent_and_ratio():
    assert fr_interval(0.241, 0.329) == f"[24,1{S}% ; 32,9{S}%]"
    assert fr_interval(0.8, 1.25, kind="ratio") == "[0,80 ; 1,25]"
    assert fr_interval(float("nan"), 0.3) == MISSING


def test_fr_points_sign_and_plural():
    assert fr_points(0.032) == f"+3,2{S}pts"
    assert fr_points(-0.01) == f"-1,0{S}pt"
    assert fr_points(0) == f"0,0{S}pt"


def test_fr_ratio_and_pvalue():
    assert fr_ratio(1.2345) == "1,23"
    assert fr_pvalue(0.0321) == "p = 0,032"
    assert fr_pvalue(0.0009) == "p < 0,001"
    assert fr_pvalue(1.0) == "p = 1,000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-30", "30/11/2025"),
        (pd.Timestamp("2024-09-02 13:45"), "02/09/2024"),
        (pd.Timestamp("2024-02-29").date(), "29/02/2024"),
        ("", MISSING),
        (None, MISSING),
        (pd.NaT, MISSING),
    ],
)
def test_fr_date(value, expected):
    assert fr_date(value) == expected


def test_fr_datetime_and_month():
    assert fr_datetime("2025-12-01T08:05:00+01:00") == "01/12/2025 à 08:05"
    assert [fr_month(m) for m in (1, 8, 12)] == ["janvier", "août", "décembre"]


def test_short_month_is_the_full_name_cut_with_a_dot():
    for m in range(1, 13):
        full, short = fr_month(m), fr_month(m, short=True)
        stem = short.removesuffix(".")
        assert full.startswith(stem) and 3 <= len(stem) <= 4
        assert short.endswith(".") == (stem != full)  # a dot only when something was cut
    assert fr_month(None, short=True) == MISSING


def test_suppressed_label():
    assert suppressed_label() == "n < 20"
    assert suppressed_label(5) == "n < 5"


def test_format_table_suppresses_only_flagged_rows_and_named_columns():
    t = pd.DataFrame(
        {
            "cfa": ["A", "B", "C"],
            "n_contracts": [1200, 12, 40],
            "rate": [0.284, 0.5, math.nan],
            "ci_low": [0.26, 0.25, math.nan],
            "ci_high": [0.31, 0.75, math.nan],
            "suppressed": pd.array([False, True, pd.NA], dtype="boolean"),  # NA counts as not suppressed
        }
    )
    out = format_table(
        t,
        [
            ("cfa", "CFA", "text"),
            ("n_contracts", "Contrats", "number"),
            ("rate", "Taux", "percent"),
            ("ci", "IC", "interval"),
        ],
        suppress=["rate", "ci"],
        intervals={"ci": ("ci_low", "ci_high", "percent")},
    )
    assert list(out.columns) == ["CFA", "Contrats", "Taux", "IC"]
    assert out.iloc[0].tolist() == ["A", f"1{S}200", f"28,4{S}%", f"[26,0{S}% ; 31,0{S}%]"]
    assert out.iloc[1].tolist() == ["B", "12", "n < 20", "n < 20"]  # denominator kept, rate hidden
    assert out.iloc[2].tolist() == ["C", "40", MISSING, MISSING]


def test_format_table_without_suppressed_column():
    t = pd.DataFrame({"x": [1], "rate": [0.1]})
    out = format_table(t, [("x", "X", "number"), ("rate", "Taux", "percent")], suppress=["rate"])
    assert out.iloc[0].tolist() == ["1", f"10,0{S}%"]


def test_table_html_escapes_and_marks_numbers():
    t = pd.DataFrame({"CFA": ["<script>alert(1)</script>"], "Taux": ["28,4 %"]})
    h = table_html(t, table_id="tab-x", caption="Légende & co", note="n < 20")
    assert "<script>" not in h
    assert "&lt;script&gt;" in h
    assert 'id="tab-x"' in h and "Légende &amp; co" in h
    assert '<td class="num">28,4 %</td>' in h
    assert "n &lt; 20" in h


def test_table_html_empty_table_says_so():
    h = table_html(pd.DataFrame({"A": [], "B": []}), table_id="t", caption="c")
    assert "Aucune donnée." in h
