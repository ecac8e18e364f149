"""Small numbers: primary and secondary suppression, the published view."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.errors import ParameterError
from aioa_analysis.suppression import (
    MARGIN_WARNING,
    SECONDARY,
    flag_counts,
    flag_rates,
    mask_suppressed,
    secondary_suppression,
    suppress_counts,
    suppress_rates,
)


def test_primary_rate_rule_threshold_is_strict():
    t = pd.DataFrame({"n_contracts": [0, 19, 20, 21]})
    out = flag_rates(t, min_n=20)
    assert out["suppressed"].tolist() == [True, True, False, False]
    assert out["suppression_reason"].tolist() == ["effectif < 20"] * 2 + [""] * 2


def test_primary_count_rule_flags_one_and_two_not_zero():
    out = flag_counts(pd.DataFrame({"n_ruptures": [0, 1, 2, 3, 15]}))
    assert out["suppressed"].tolist() == [False, True, True, False, False]
    assert out["suppression_reason"].tolist()[1] == "effectif 1-2"


def test_secondary_one_dimension_hides_the_next_smallest_positive_cell():
    t = pd.DataFrame(
        {
            "cfa": ["A", "B", "C", "D", "E"],
            "n_contracts": [12, 0, 45, 25, 300],  # B: 0 is not a protection
            "rate": [0.1, float("nan"), 0.2, 0.3, 0.25],
        }
    )
    out = suppress_rates(t, by=["cfa"], min_n=20)
    # A (12) and B (0) are both primary: two hidden cells, already protected
    assert out["suppressed"].tolist() == [True, True, False, False, False]
    t2 = t.assign(n_contracts=[12, 30, 45, 25, 300])
    out2 = suppress_rates(t2, by=["cfa"], min_n=20)
    assert out2["suppressed"].tolist() == [True, False, False, True, False]
    assert out2["suppression_reason"].tolist()[3] == SECONDARY


def test_secondary_two_dimensions_protects_rows_and_columns():
    # cfa × sex table with one primary cell (A, F): the row margin (cfa A) and the column margin
    # (sex F) each need a second hidden cell, and the cells hidden in turn need protection too
    t = pd.DataFrame(
        {
            "cfa": ["A", "A", "B", "B", "C", "C"],
            "sex": ["F", "M", "F", "M", "F", "M"],
            "n_ruptures": [1, 9, 5, 30, 7, 40],
        }
    )
    out = suppress_counts(t, by=["cfa", "sex"])
    hidden = out.set_index(["cfa", "sex"])["suppressed"]
    assert hidden[("A", "F")] and hidden[("A", "M")]  # row A: the only other cell
    assert hidden[("B", "F")]  # column F: smallest other positive cell (5 < 7)
    assert hidden[("B", "M")]  # row B now had a single hidden cell, column M then has A and B
    assert not hidden[("C", "F")] and not hidden[("C", "M")]
    # invariant: no margin group of the result has exactly one hidden cell
    for others in (["cfa"], ["sex"]):
        counts = out.groupby(others)["suppressed"].sum()
        assert (counts != 1).all()


def test_secondary_flags_a_margin_that_cannot_be_protected():
    t = pd.DataFrame({"sector": ["x", "y", "z"], "n_ruptures": [2, 0, 0]})
    out = suppress_counts(t, by=["sector"])
    assert out["suppressed"].tolist() == [True, False, False]
    assert MARGIN_WARNING in out["suppression_reason"].iloc[0]


def test_secondary_keeps_index_and_does_not_mutate():
    t = pd.DataFrame({"sex": ["F", "M"], "n_contracts": [5, 50], "suppressed": [True, False]}, index=[10, 20])
    before = t.copy()
    out = secondary_suppression(t, by=["sex"], value_col="n_contracts")
    assert out.index.tolist() == [10, 20] and out["suppressed"].tolist() == [True, True]
    pd.testing.assert_frame_equal(t, before)


def test_no_dimension_table_has_no_margin():
    out = suppress_rates(pd.DataFrame({"n_contracts": [5]}), by=[])
    assert out["suppressed"].tolist() == [True]


def test_mask_suppressed_blanks_values_only_in_suppressed_rows():
    t = pd.DataFrame(
        {
            "cfa": ["A", "B"],
            "n_contracts": [8, 50],
            "n_ruptures": [2, 10],
            "rate": [0.25, 0.2],
            "ci_low": [0.07, 0.11],
            "suppressed": [True, False],
        }
    )
    out = mask_suppressed(t)
    assert out["cfa"].tolist() == ["A", "B"]
    assert out["n_contracts"].isna().tolist() == [True, False]
    assert str(out["n_ruptures"].dtype) == "Int64"
    assert out["rate"].isna().tolist() == [True, False]
    assert out["ci_low"].tolist()[1] == pytest.approx(0.11)


def test_missing_columns_are_one_line_errors():
    with pytest.raises(ParameterError, match="no column"):
        flag_rates(pd.DataFrame({"n": [1]}))
    with pytest.raises(ParameterError, match="suppressed"):
        secondary_suppression(pd.DataFrame({"n": [1]}), by=[], value_col="n")
