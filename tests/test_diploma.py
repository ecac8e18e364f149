"""Diploma outcome estimators, pinned by hand on named rows (as_of = 2025-06-30)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.diploma import (
    pass_rates_by_outcome_class,
    rupture_rates_by_diploma_outcome,
    with_outcome_class,
)
from aioa_analysis.stats.linking import link_ruptures
from tests.frames import typed_contracts

AS_OF = "2025-06-30"
END = "2024-06-30"

ROWS = [
    # id, key, start, planned end, rupture, after diploma, exam result
    ("c1", "C1", "2022-09-01", END, None, False, "admis"),  # completed, passed
    ("c2", "C2", "2022-09-01", END, None, False, "ajourne"),  # completed, failed
    ("c3", "C3", "2022-09-01", END, None, False, "absent"),  # completed, absent
    ("c4", "C4", "2022-09-01", END, None, False, None),  # completed, unknown result
    ("r1", "R1", "2022-09-01", END, "2023-01-10", False, "admis"),  # broken, re-contracted 22 days later
    ("r1b", "R1", "2023-02-01", END, None, False, "admis"),  # ... its new contract, completed
    ("r2", "R2", "2022-09-01", END, "2023-03-01", False, "ajourne"),  # broken, no new contract
    ("r3", "R3", "2022-09-01", END, "2023-03-01", False, "absent"),  # broken, no new contract, absent
    ("r4", "R4", "2024-09-01", "2026-06-30", "2025-05-01", False, None),  # broken 60 days ago: pending
    ("o1", "O1", "2024-09-01", "2026-06-30", None, False, None),  # ongoing
    ("a1", "A1", "2022-09-01", END, "2024-06-01", True, "admis"),  # rupture after the diploma
    ("u1", None, "2022-09-01", END, "2023-09-01", False, None),  # broken, no apprentice key
]


@pytest.fixture
def df() -> pd.DataFrame:
    f = typed_contracts(
        ROWS,
        [
            "contract_id",
            "apprentice_key",
            "start_date",
            "planned_end_date",
            "rupture_date",
            "rupture_after_diploma",
            "diploma_outcome",
        ],
    )
    return f.assign(
        sex=pd.array(["F", "M", "F", "M", "F", "F", "M", "M", "F", "M", "F", "M"], dtype="string"),
    )


def test_outcome_classes(df):
    out = with_outcome_class(df, as_of=AS_OF).set_index("contract_id")["outcome_class"].to_dict()
    assert out == {
        "c1": "completed",
        "c2": "completed",
        "c3": "completed",
        "c4": "completed",
        "r1": "ruptured_recontracted",
        "r1b": "completed",
        "r2": "ruptured_no_new_contract",
        "r3": "ruptured_no_new_contract",
        "r4": "ruptured_pending",
        "o1": "ongoing",
        "a1": "ruptured_after_diploma",
        "u1": "ruptured_unlinkable",
    }


def test_outcome_class_window_boundary(df):
    # r2 broke 2023-03-01; a new contract exactly 180 days later is "re-contracted", 181 is not
    for days, expected in [(180, "ruptured_recontracted"), (181, "ruptured_no_new_contract")]:
        extra = df.iloc[[6]].assign(
            contract_id=pd.array(["r2b"], dtype="string"),
            start_date=pd.Timestamp("2023-03-01") + pd.Timedelta(days=days),
            rupture_date=pd.NaT,
        )
        f = pd.concat([df, extra], ignore_index=True)
        cls = with_outcome_class(f, as_of=AS_OF).set_index("contract_id")["outcome_class"]
        assert cls["r2"] == expected


def test_pass_rates_absent_excluded(df):
    out = pass_rates_by_outcome_class(df, as_of=AS_OF).set_index("outcome_class")
    assert out.index.tolist() == ["completed", "ruptured_recontracted", "ruptured_no_new_contract"]
    cols = ["n_contracts", "n_admis", "n_ajourne", "n_absent", "n_unknown", "n_exam"]
    assert out.loc["completed", cols].tolist() == [5, 2, 1, 1, 1, 3]
    assert out.loc["ruptured_recontracted", cols].tolist() == [1, 1, 0, 0, 0, 1]
    assert out.loc["ruptured_no_new_contract", cols].tolist() == [2, 0, 1, 1, 0, 1]
    assert out["rate"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    ci = stats.binomtest(2, 3).proportion_ci(method="wilson")
    assert (out.loc["completed", "ci_low"], out.loc["completed", "ci_high"]) == pytest.approx(
        (ci.low, ci.high)
    )


def test_pass_rates_absent_as_failure(df):
    out = pass_rates_by_outcome_class(df, as_of=AS_OF, absent_as_failure=True).set_index("outcome_class")
    assert out["n_exam"].tolist() == [4, 1, 2]
    assert out["rate"].tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_pass_rates_empty_class_and_groups(df):
    out = pass_rates_by_outcome_class(df, as_of=AS_OF, by="sex")
    assert len(out) == 6  # 2 sexes x 3 classes, empty ones kept
    m_recontracted = out.loc[(out["sex"] == "M") & (out["outcome_class"] == "ruptured_recontracted")].iloc[0]
    assert m_recontracted["n_contracts"] == 0 and np.isnan(m_recontracted["rate"])
    f_completed = out.loc[(out["sex"] == "F") & (out["outcome_class"] == "completed")].iloc[0]
    # F completed: c1 (admis), c3 (absent), r1b (admis)
    assert f_completed[["n_contracts", "n_admis", "n_exam"]].tolist() == [3, 2, 2]


def test_rupture_rates_by_diploma_outcome_whole_contract(df):
    out = rupture_rates_by_diploma_outcome(df, as_of=AS_OF).set_index("diploma_outcome")
    assert out.index.tolist() == ["admis", "ajourne", "absent", "inconnu"]
    # planned end passed: every contract but r4 and o1
    assert out["n_contracts"].tolist() == [4, 2, 2, 2]  # admis c1 r1 r1b a1; inconnu c4 u1
    assert out["n_ruptures"].tolist() == [1, 1, 1, 1]
    assert out["n_ruptures_after_diploma"].tolist() == [1, 0, 0, 0]
    assert out["rate"].tolist() == pytest.approx([0.25, 0.5, 0.5, 0.5])
    assert out["horizon_months"].isna().all()
    ci = stats.binomtest(1, 4).proportion_ci(method="wilson")
    assert (out.loc["admis", "ci_low"], out.loc["admis", "ci_high"]) == pytest.approx((ci.low, ci.high))


def test_rupture_rates_by_diploma_outcome_horizon(df):
    out = rupture_rates_by_diploma_outcome(df, as_of=AS_OF, horizon_months=9).set_index("diploma_outcome")
    # eligible: start + 9 months <= as_of: everyone (2024-09-01 + 9 months = 2025-06-01)
    assert out["n_contracts"].tolist() == [4, 2, 2, 4]
    # within 9 months: r1, r2, r3, r4 (u1 broke at 12 months, a1 after the diploma at 21 months)
    assert out["n_ruptures"].tolist() == [1, 1, 1, 1]
    assert out["n_ruptures_after_diploma"].tolist() == [0, 0, 0, 0]
    assert (out["horizon_months"] == 9).all()


def test_shared_links_give_the_same_classes_and_rates(df):
    links = link_ruptures(df, as_of=AS_OF)
    pd.testing.assert_frame_equal(
        with_outcome_class(df, as_of=AS_OF, links=links),
        with_outcome_class(df, as_of=AS_OF),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        pass_rates_by_outcome_class(df, as_of=AS_OF, links=links),
        pass_rates_by_outcome_class(df, as_of=AS_OF),
        check_exact=True,
    )
    with pytest.raises(ParameterError, match="as_of"):
        with_outcome_class(df, as_of="2025-12-31", links=links)
