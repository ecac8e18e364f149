"""The hazard fit cache (``forecast._FITS``) must not hand one table's fit to another: two tables
whose histories are the same one year apart (same cells, same per-month rows) have different
calendar months, hence a different in-sample history and dispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.stats import forecast


def _table(seed: int = 1, n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-04-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    end = np.minimum(start + pd.to_timedelta(rng.integers(200, 700, n), unit="D"), pd.Timestamp("2022-06-15"))
    early = start < pd.Timestamp("2021-07-01")  # many ruptures in the first quarter: over-dispersed
    rupt = pd.Series(start + pd.to_timedelta(rng.integers(0, 40, n), unit="D")).where(
        early & (rng.random(n) < 0.7)
    )
    late = pd.Series(pd.Timestamp("2022-06-01") + pd.to_timedelta(rng.integers(0, 14, n), unit="D"))
    rupt = rupt.fillna(late.where(~early & (rng.random(n) < 0.3)))
    return pd.DataFrame({"start_date": start, "planned_end_date": end, "rupture_date": rupt.to_numpy()})


def test_a_table_one_year_later_gets_its_own_fit():
    a = _table()
    # the same contracts 365 days later (no 29 February in either span: same days in each month)
    b = a.assign(
        **{c: a[c] + pd.Timedelta(days=365) for c in ("start_date", "planned_end_date", "rupture_date")}
    )
    as_of = pd.Timestamp("2023-06-15")  # b's last month is partial, a's is not
    forecast._FITS.clear()
    fresh = forecast.fit_hazard(b, as_of=as_of)
    forecast._FITS.clear()
    forecast.fit_hazard(a, as_of=as_of)
    after_a = forecast.fit_hazard(b, as_of=as_of)
    forecast._FITS.clear()
    assert after_a.history["year_month"].tolist() == fresh.history["year_month"].tolist()
    assert after_a.alpha == fresh.alpha
