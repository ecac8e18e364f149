"""Age × calendar exposure (:func:`aioa_analysis.stats.exposure.age_calendar`) on the dates where the
split of an age month into its calendar months can go wrong: starts on the 29th-31st and in
February (leap and common years), exits on month boundaries and on ``as_of``, ``as_of`` mid-month
and at a month's end, starts on ``as_of``, ruptures before the start, missing dates and an earlier
``observed_until``; checked against a slow day-by-day reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.stats.exposure import age_calendar


def _adversarial(rng: np.random.Generator, n: int, as_of: pd.Timestamp) -> pd.DataFrame:
    anchors = [
        *(pd.Timestamp(y, 1, 31) for y in (2023, 2024)),
        *(pd.Timestamp(y, 2, d) for y, d in ((2023, 28), (2024, 28), (2024, 29))),
        *(pd.Timestamp(2023, m, d) for m in (3, 5, 8, 10, 12) for d in (29, 30, 31)),
        *(pd.Timestamp(2024, m, 1) for m in (1, 3, 9)),
        as_of,
    ]
    start = pd.DatetimeIndex([anchors[i] for i in rng.integers(0, len(anchors), n)])
    start = start.where(rng.random(n) > 0.3, start + pd.to_timedelta(rng.integers(0, 60, n), unit="D"))
    end = start + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    end = end.where(rng.random(n) > 0.2, end + pd.offsets.MonthEnd(0))
    end = end.where(rng.random(n) > 0.1, pd.DatetimeIndex([as_of] * n))
    rupt = start + pd.to_timedelta(rng.integers(-20, 600, n), unit="D")
    rupt = rupt.where(rng.random(n) > 0.2, rupt - pd.offsets.MonthBegin(1))
    rupt = rupt.where(rng.random(n) > 0.1, pd.DatetimeIndex([as_of] * n))
    until = pd.Series(as_of - pd.to_timedelta(rng.integers(-10, 300, n), unit="D"))
    return pd.DataFrame(
        {
            "start_date": pd.Series(start).where(rng.random(n) > 0.05).to_numpy(),
            "planned_end_date": pd.Series(end).where(rng.random(n) > 0.05).to_numpy(),
            "rupture_date": pd.Series(rupt).where(rng.random(n) < 0.6).to_numpy(),
            "rupture_after_diploma": pd.array(rng.random(n) < 0.1, dtype="boolean"),
            "observed_until": until.where(rng.random(n) < 0.3).to_numpy(),
            "sex": rng.choice(["F", "M"], n),
        }
    )


def _reference(df: pd.DataFrame, as_of: pd.Timestamp) -> tuple[dict, dict]:
    """Exposure days and headline ruptures per (sex, age month, "YYYY-MM"), day by day."""
    days: dict[tuple[str, int, str], int] = {}
    events: dict[tuple[str, int, str], int] = {}
    for row in df.itertuples(index=False):
        s = row.start_date
        if pd.isna(s) or s > as_of:
            continue
        limit = as_of if pd.isna(row.observed_until) or row.observed_until >= as_of else row.observed_until
        e, r = row.planned_end_date, row.rupture_date
        broken = pd.notna(r) and pd.notna(e) and r <= limit and r < e  # NaT compares False
        exit_ = r if broken else (e if pd.notna(e) and e <= limit else limit)
        exit_ = max(exit_, s)
        ann = [s]  # s + k months, DateOffset semantics
        while ann[-1] <= exit_:
            ann.append(s + pd.DateOffset(months=len(ann)))
        ann_v = pd.DatetimeIndex(ann).to_numpy()
        for day in pd.date_range(s, exit_ - pd.Timedelta(days=1)):
            k = int(np.searchsorted(ann_v, day.to_datetime64(), side="right")) - 1
            key = (row.sex, k, day.strftime("%Y-%m"))
            days[key] = days.get(key, 0) + 1
        if broken and not row.rupture_after_diploma:
            k = int(np.searchsorted(ann_v, exit_.to_datetime64(), side="right")) - 1
            key = (row.sex, k, exit_.strftime("%Y-%m"))
            events[key] = events.get(key, 0) + 1
    return days, events


@pytest.mark.parametrize("as_of", ["2024-02-29", "2024-03-15", "2024-06-30", "2024-12-31"])
@pytest.mark.parametrize("seed", [0, 1])
def test_age_calendar_on_month_ends_matches_a_day_loop(as_of, seed):
    ts = pd.Timestamp(as_of)
    df = _adversarial(np.random.default_rng(seed), 60, ts)
    cal = age_calendar(df, as_of=ts, by="sex")
    labels = cal.months.astype(str)
    got_days, got_events = {}, {}
    for g, k, m in zip(*np.nonzero(cal.exposure), strict=True):
        got_days[(cal.keys["sex"].iloc[g], int(k), labels[m])] = cal.exposure[g, k, m]
    for g, k, m in zip(*np.nonzero(cal.ruptures), strict=True):
        got_events[(cal.keys["sex"].iloc[g], int(k), labels[m])] = int(cal.ruptures[g, k, m])
    days, events = _reference(df, ts)
    assert got_days == days
    assert got_events == events
