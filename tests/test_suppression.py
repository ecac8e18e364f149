"""Small numbers: primary and secondary suppression, the published view."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.dimensions import NOT_OBSERVABLE
from aioa_analysis.stats.suppression import (
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
    assert out["suppression_reason"].tolist() == [NOT_OBSERVABLE, "effectif < 20", "", ""]


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
    # B (0) is hidden but is no protection for A (12): the total minus the visible cells would be
    # 12 + 0, so the smallest positive visible cell, D (25), is hidden too
    assert out["suppressed"].tolist() == [True, True, False, True, False]
    assert out["suppression_reason"].tolist() == ["effectif < 20", NOT_OBSERVABLE, "", SECONDARY, ""]
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


# --- zero cells: nothing to protect, no protection --------------------------------------------------


def revealed_cells(out: pd.DataFrame, by: list[str], value_col: str) -> list[int]:
    """Positions of hidden positive cells an attacker can recompute from a margin (independent check).

    The attacker knows every margin total, the visible values, and that a hidden cell flagged
    "non observable" (or dropped from the report) is 0; a hidden positive cell is revealed when it
    is the only unknown of some margin group.
    """
    revealed: set[int] = set()
    t = out.reset_index(drop=True)
    for dim in by:
        others = [c for c in by if c != dim]
        groups = [g.index for _, g in t.groupby(others)] if others else [t.index]
        for rows in groups:
            g = t.loc[rows]
            unknown = g[g["suppressed"] & (g["suppression_reason"] != NOT_OBSERVABLE)]
            if len(unknown) == 1:
                deduced = g[value_col].sum() - g.loc[~g["suppressed"], value_col].sum()
                assert deduced == unknown[value_col].item()  # the attack works
                revealed.add(int(unknown.index[0]))
    return sorted(revealed)


def test_zero_cell_alone_triggers_nothing_large_cells_stay_visible():
    # the real case: cohorts 2022-2025 observed, the current cohort has no contract observed for
    # 9 months yet (n = 0); nothing is hidden but the empty row, flagged "non observable"
    t = pd.DataFrame(
        {
            "cohort": ["2022-2023", "2023-2024", "2024-2025", "2025-2026"],
            "n_contracts": [2955, 3100, 2715, 0],
            "rate": [0.225, 0.226, 0.221, float("nan")],
        }
    )
    out = suppress_rates(t, by=["cohort"], min_n=20)
    assert out["suppressed"].tolist() == [False, False, False, True]
    assert out["suppression_reason"].tolist() == ["", "", "", NOT_OBSERVABLE]
    assert revealed_cells(out, ["cohort"], "n_contracts") == []


def test_one_primary_cell_and_a_zero_cell_hide_one_positive_complement():
    t = pd.DataFrame({"cfa": ["A", "B", "C", "D"], "n_contracts": [7, 0, 300, 60]})
    out = suppress_rates(t, by=["cfa"], min_n=20)
    # hidden: A (primary), B (empty), D (smallest positive visible: 60 < 300)
    assert out["suppressed"].tolist() == [True, True, False, True]
    assert out["suppression_reason"].tolist() == ["effectif < 20", NOT_OBSERVABLE, "", SECONDARY]
    assert revealed_cells(out, ["cfa"], "n_contracts") == []


def test_two_hidden_positive_cells_protect_each_other_no_secondary():
    t = pd.DataFrame({"cfa": ["A", "B", "C", "D"], "n_contracts": [12, 15, 0, 300]})
    out = suppress_rates(t, by=["cfa"], min_n=20)
    assert out["suppressed"].tolist() == [True, True, True, False]
    assert SECONDARY not in out["suppression_reason"].tolist()
    assert revealed_cells(out, ["cfa"], "n_contracts") == []


def test_zero_cell_is_never_the_complement_margin_warning_instead():
    # A (12) hidden and only a zero cell beside it: hiding B protects nothing, the margin must go
    t = pd.DataFrame({"cfa": ["A", "B"], "n_contracts": [12, 0]})
    out = suppress_rates(t, by=["cfa"], min_n=20)
    assert out["suppressed"].tolist() == [True, True]
    assert out["suppression_reason"].tolist() == [f"effectif < 20; {MARGIN_WARNING}", NOT_OBSERVABLE]
    # a visible zero (count table) is not picked either: no positive complement -> margin warning
    counts = suppress_counts(pd.DataFrame({"phase": ["a", "b", "c"], "n_ruptures": [2, 0, 0]}), by=["phase"])
    assert counts["suppressed"].tolist() == [True, False, False]


def test_all_empty_table_hides_nothing_else():
    out = suppress_rates(pd.DataFrame({"cohort": ["x", "y"], "n_contracts": [0, 0]}), by=["cohort"])
    assert out["suppression_reason"].tolist() == [NOT_OBSERVABLE] * 2


def test_two_dimensions_zero_column_does_not_protect_a_row():
    # cfa × cohort; the current cohort 2025 is empty everywhere. Row A has one small cell (8):
    # the zero A-2025 beside it does not protect it, so A-2023 is hidden; column 2024 then needs
    # C-2024 (45 < 60), and row C needs C-2023. (The rule that counted zero cells stopped at
    # A-2024 + C-2024, and total(A) - A-2023 = 8 revealed A-2024.)
    t = pd.DataFrame(
        {
            "cfa": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
            "cohort": ["2023", "2024", "2025"] * 3,
            "n_contracts": [40, 8, 0, 50, 60, 0, 30, 45, 0],
        }
    )
    out = suppress_rates(t, by=["cfa", "cohort"], min_n=20)
    hidden = out.set_index(["cfa", "cohort"])["suppression_reason"]
    assert hidden.to_dict() == {
        ("A", "2023"): SECONDARY,
        ("A", "2024"): "effectif < 20",
        ("A", "2025"): NOT_OBSERVABLE,
        ("B", "2023"): "",
        ("B", "2024"): "",
        ("B", "2025"): NOT_OBSERVABLE,
        ("C", "2023"): SECONDARY,
        ("C", "2024"): SECONDARY,
        ("C", "2025"): NOT_OBSERVABLE,
    }
    assert revealed_cells(out, ["cfa", "cohort"], "n_contracts") == []


def test_old_rule_would_reveal_and_independent_attacker_catches_it():
    # the attacker helper itself: with only A-2024 and C-2024 hidden, row A reveals A-2024
    t = pd.DataFrame(
        {
            "cfa": ["A", "A", "A", "C", "C", "C"],
            "cohort": ["2023", "2024", "2025"] * 2,
            "n_contracts": [40, 8, 0, 30, 45, 0],
            "suppressed": [False, True, True, False, True, True],
            "suppression_reason": ["", "effectif < 20", NOT_OBSERVABLE, "", SECONDARY, NOT_OBSERVABLE],
        }
    )
    assert revealed_cells(t, ["cfa", "cohort"], "n_contracts") == [1, 4]
