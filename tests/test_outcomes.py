"""Contract outcome as of an explicit observation date."""

from __future__ import annotations

import pandas as pd
import pytest

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.outcomes import parse_as_of, with_outcome

AS_OF = "2025-06-30"

CASES = {
    # name: (start, planned_end, rupture, after_diploma) -> (outcome, duration_days)
    "rupture_before_as_of": (("2024-09-01", "2026-08-31", "2024-10-01", False), ("ruptured", 30)),
    "rupture_on_start_day": (("2024-09-01", "2026-08-31", "2024-09-01", False), ("ruptured", 0)),
    "rupture_on_as_of": (("2024-09-01", "2026-08-31", "2025-06-30", False), ("ruptured", 302)),
    "rupture_after_as_of": (("2024-09-01", "2026-08-31", "2025-07-01", False), ("ongoing", 302)),
    "rupture_on_planned_end": (("2023-09-01", "2024-08-31", "2024-08-31", False), ("completed", 365)),
    "completed_no_rupture": (("2023-09-01", "2025-06-30", None, False), ("completed", 668)),
    "ongoing": (("2025-01-15", "2027-01-14", None, False), ("ongoing", 166)),
    "after_diploma": (("2023-09-01", "2025-08-31", "2025-06-20", True), ("ruptured_after_diploma", 658)),
}


@pytest.fixture
def frame():
    rows = [v[0] for v in CASES.values()]
    return pd.DataFrame(
        {
            "start_date": pd.to_datetime([r[0] for r in rows]),
            "planned_end_date": pd.to_datetime([r[1] for r in rows]),
            "rupture_date": pd.to_datetime([r[2] for r in rows]),
            "rupture_after_diploma": pd.array([r[3] for r in rows], dtype="boolean"),
        },
        index=list(CASES),
    )


def test_outcomes_by_hand(frame):
    out = with_outcome(frame, as_of=AS_OF)
    for name, (_, (outcome, days)) in CASES.items():
        assert out.loc[name, "outcome"] == outcome, name
        assert out.loc[name, "duration_days"] == days, name


def test_input_not_mutated(frame):
    before = frame.copy()
    with_outcome(frame, as_of=AS_OF)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    "bad", [None, "", "2025-13-01", "hier", "today", "now", "01/02/2025", "2025", "2025-02-30"]
)
def test_as_of_is_required_and_valid(frame, bad):
    with pytest.raises(ParameterError):
        with_outcome(frame, as_of=bad)


def test_parse_as_of_normalises():
    assert parse_as_of(pd.Timestamp("2025-06-30 15:00")) == pd.Timestamp("2025-06-30")
    assert parse_as_of(" 2025-06-30 ") == pd.Timestamp("2025-06-30")
