"""The adjusted summer effect recovers the generator's July-August hazard ratio."""

from __future__ import annotations

import numpy as np

from aioa_analysis.sample.truth import generate_contracts
from aioa_analysis.stats.summer import summer_effect, summer_pieces


def test_exposure_is_the_follow_up_time():
    g = generate_contracts(500, seed=31, after_diploma_rate=0.0)
    cells = summer_pieces(g.contracts, as_of="2025-11-30", end_weeks=0)
    d = g.contracts
    stop = d["rupture_date"].fillna(d["planned_end_date"])  # the planned end day closes the follow-up
    stop = stop.where(d["rupture_date"].notna(), stop.clip(upper=np.datetime64("2025-12-01")))
    stop = stop.where(d["rupture_date"].isna(), d["rupture_date"] + np.timedelta64(1, "D"))
    assert cells["exposure"].sum() == (stop - d["start_date"]).dt.days.sum()
    assert cells["events"].sum() == d["rupture_date"].notna().sum()


def test_recovers_the_true_ratio_and_keeps_end_of_contract_ruptures_apart():
    g = generate_contracts(9000, seed=32, summer_ratio=1.8)
    s = summer_effect(g.contracts, as_of="2025-11-30")
    assert s["ci_low"] <= 1.8 <= s["ci_high"]
    assert s["n_last_weeks"] > 0 and s["n_after_diploma"] > 0
    flat = summer_effect(generate_contracts(9000, seed=33, summer_ratio=1.0).contracts, as_of="2025-11-30")
    assert flat["ci_low"] <= 1.0 <= flat["ci_high"]
