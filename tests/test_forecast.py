"""The rupture forecast (``aioa forecast``, :mod:`aioa_analysis.stats.forecast`).

* a known hazard: the expected counts of a few contracts computed by hand (closed forms of the
  exponential law, no age-month machinery);
* a known constant hazard on generated data: the fitted forecast finds the hand-computed count;
* the backtest on the committed sample (done-when of issue 18): 12 months after a cut 12 months
  before ``as_of``, at least 9 monthly totals inside their 90 % intervals, the year's total within
  10 %;
* the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.cli import main
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import coerce_contracts
from aioa_analysis.stats import forecast as fc

DPM = 30.4375  # days per standard month
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"


def _p(lam_day: float, a: str, lo: str, hi: str) -> float:
    """Probability that a spell at risk from day ``a`` (constant daily hazard) breaks in [lo, hi)."""
    a_, lo_, hi_ = (pd.Timestamp(x) for x in (a, lo, hi))
    return float(np.exp(-lam_day * (lo_ - a_).days) - np.exp(-lam_day * (hi_ - a_).days))


def _frame(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    start, end, rupt = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "start_date": pd.to_datetime(list(start)),
            "planned_end_date": pd.to_datetime(list(end)),
            "rupture_date": pd.to_datetime(list(rupt)),
            "territory": ["ml_blois", "ml_vendomois", "ml_blois", "ml_blois"][: len(rows)],
        }
    )


HAND = _frame(
    [
        ("2024-09-01", "2030-01-01", None),  # A: running all year
        ("2024-10-01", "2025-03-15", None),  # B: running, planned end mid-March
        ("2024-09-01", "2030-01-01", "2024-12-01"),  # C: broken before as_of: a template only
        ("2024-09-15", "2030-01-01", None),  # D: running, anniversary mid-month
    ]
)


def test_expected_counts_under_a_constant_hazard_are_the_hand_computed_ones():
    lam = 0.05
    d = lam / DPM
    model = fc.HazardModel(intercept=float(np.log(lam)))
    out = fc.expected_ruptures(HAND, "2025-01-31", 12, None, model).set_index("month")
    assert list(out.index) == [str(p) for p in pd.period_range("2025-02", "2026-01", freq="M")]
    # running at as_of: A and D all year, B until 14 March; followed from 1 February 2025
    feb = 2 * _p(d, "2025-02-01", "2025-02-01", "2025-03-01") + _p(
        d, "2025-02-01", "2025-02-01", "2025-03-01"
    )
    mar = 2 * _p(d, "2025-02-01", "2025-03-01", "2025-04-01") + _p(
        d, "2025-02-01", "2025-03-01", "2025-03-15"
    )
    apr = 2 * _p(d, "2025-02-01", "2025-04-01", "2025-05-01")
    assert out.loc["2025-02", "from_running"] == pytest.approx(feb, rel=1e-9)
    assert out.loc["2025-03", "from_running"] == pytest.approx(mar, rel=1e-9)
    assert out.loc["2025-04", "from_running"] == pytest.approx(apr, rel=1e-9)
    # new starts: September 2024 (A, C, D) and October 2024 (B) repeated one year later, weight 1
    sep = 2 * _p(d, "2025-09-01", "2025-09-01", "2025-10-01") + _p(
        d, "2025-09-15", "2025-09-15", "2025-10-01"
    )
    octo = (
        2 * _p(d, "2025-09-01", "2025-10-01", "2025-11-01")
        + _p(d, "2025-09-15", "2025-10-01", "2025-11-01")
        + _p(d, "2025-10-01", "2025-10-01", "2025-11-01")
    )
    assert out.loc["2025-08", "from_new_starts"] == 0.0
    assert out.loc["2025-09", "from_new_starts"] == pytest.approx(sep, rel=1e-9)
    assert out.loc["2025-10", "from_new_starts"] == pytest.approx(octo, rel=1e-9)
    assert (out["expected"] == out["from_running"] + out["from_new_starts"]).all()


def test_age_hazard_follows_the_anniversary_of_the_start():
    """First contract month three times riskier: D (started on the 15th) changes hazard on the 15th."""
    lam = 0.05
    d = lam / DPM
    model = fc.HazardModel(intercept=float(np.log(lam)), effects={"age=00": float(np.log(3))})
    out = fc.expected_ruptures(HAND.iloc[[3]], "2025-08-31", 2, None, model).set_index("month")
    # template of D: starts 2025-09-15, 3d until 14 October included, then d
    sep = 1 - np.exp(-3 * d * 16)
    octo = np.exp(-3 * d * 16) * (1 - np.exp(-3 * d * 14 - d * 17))
    assert out.loc["2025-09", "from_new_starts"] == pytest.approx(sep, rel=1e-9)
    assert out.loc["2025-10", "from_new_starts"] == pytest.approx(octo, rel=1e-9)
    # D itself, in force at as_of and a year old: the plain hazard
    assert out.loc["2025-09", "from_running"] == pytest.approx(1 - np.exp(-30 * d), rel=1e-9)


def test_groups_add_up_to_the_total():
    model = fc.HazardModel(intercept=float(np.log(0.05)))
    total = fc.expected_ruptures(HAND, "2025-01-31", 12, None, model)
    by = fc.expected_ruptures(HAND, "2025-01-31", 12, "territory", model)
    assert set(by["group"]) == {"ml_blois", "ml_vendomois"}
    summed = by.groupby("month")["expected"].sum()
    np.testing.assert_allclose(summed.to_numpy(), total.set_index("month")["expected"].to_numpy())


def _constant_hazard(n: int, lam: float, seed: int) -> pd.DataFrame:
    """Contracts started uniformly over three years, 3-year planned duration, exponential ruptures."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-09-01") + pd.to_timedelta(rng.integers(0, 1096, n), unit="D")
    end = start + pd.DateOffset(years=3)
    rupt = start + pd.to_timedelta(np.floor(rng.exponential(DPM / lam, n)), unit="D")  # day of the event
    return pd.DataFrame(
        {
            "start_date": start,
            "planned_end_date": end,
            "rupture_date": pd.Series(rupt).where(rupt < end),
            "territory": rng.choice(["ml_blois", "ml_vendomois"], n),
        }
    )


def test_fitted_constant_hazard_gives_the_hand_computed_count():
    """60,000 contracts, a constant 3 % monthly hazard: the fitted forecast of September 2024 is the
    hand count within 8 % (about 2.5 standard errors of the fitted September and first-month effects,
    each estimated from some 1,500 ruptures)."""
    lam, as_of = 0.03, pd.Timestamp("2024-08-31")
    data = _constant_hazard(60_000, lam, seed=1)
    out = fc.forecast_ruptures(data, as_of=as_of, months=1).iloc[0]
    d = lam / DPM
    # by hand: every contract in force at as_of breaks in September with probability 1 - exp(-d t),
    # t its days at risk in September (30, or fewer when its planned end falls in September)
    running = (
        (data["start_date"] <= as_of) & ~(data["rupture_date"] <= as_of) & (data["planned_end_date"] > as_of)
    )
    days = np.minimum(30, (data.loc[running, "planned_end_date"] - pd.Timestamp("2024-09-01")).dt.days)
    assert out["from_running"] == pytest.approx((1 - np.exp(-d * days)).sum(), rel=0.08)
    # the starts of September 2021, 2022 and 2023, averaged, each at risk until 30 September
    sep = data.loc[data["start_date"].dt.month == 9, "start_date"]
    days_left = 31 - sep.dt.day  # from the start (included) to 1 October
    assert out["from_new_starts"] == pytest.approx((1 - np.exp(-d * days_left)).sum() / 3, rel=0.08)
    assert out["pi_low"] <= out["expected"] <= out["pi_high"]


def test_prediction_interval_is_poisson_without_dispersion_and_wider_with_it():
    lo0, hi0 = fc.prediction_interval(np.array([50.0]), 0.0)
    lo1, hi1 = fc.prediction_interval(np.array([50.0]), 0.05)
    from scipy import stats

    assert (lo0[0], hi0[0]) == (stats.poisson.ppf(0.05, 50), stats.poisson.ppf(0.95, 50))
    assert lo1[0] < lo0[0] and hi1[0] > hi0[0]


def test_unknown_group_and_bad_horizon_are_parameter_errors():
    model = fc.HazardModel(intercept=0.0)
    with pytest.raises(ParameterError):
        fc.expected_ruptures(HAND, "2025-01-31", 12, "sector", model)
    with pytest.raises(ParameterError):
        fc.expected_ruptures(HAND, "2025-01-31", 0, None, model)


def test_known_at_hides_what_happened_after_the_cut():
    known = fc.known_at(HAND, "2024-11-30")
    assert len(known) == 4 and known["rupture_date"].isna().all()
    assert len(fc.known_at(HAND, "2024-09-10")) == 2


# --------------------------------------------------------------------------------------------------
# the sample (done-when of issue 18)


@pytest.fixture(scope="module")
def sample_contracts(tmp_path_factory) -> pd.DataFrame:
    from aioa_analysis.ingest.pipeline import run_clean

    tmp = tmp_path_factory.mktemp("forecast")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIOA_KEY_FILE", str(tmp / "pseudonym.key"))
        mp.setenv("AIOA_RESTRICTED_DIR", str(tmp / "restricted"))
        run = run_clean([SAMPLE], out_dir=tmp / "processed", restricted_dir=tmp / "restricted")
    return pd.read_parquet(run.out_dir / "contracts.parquet")


@pytest.mark.slow
def test_backtest_on_the_sample(sample_contracts):
    """Cut 2024-11-30 (12 months before as_of 2025-11-30): the monthly totals of the 12 months after
    it in their 90 % intervals at least 9 times, the year's total within 10 %."""
    table = fc.backtest(sample_contracts, as_of="2025-11-30")
    summary = fc.backtest_summary(table)
    assert summary["cut"] == "2024-11-30"
    assert list(table["month"]) == [str(p) for p in pd.period_range("2024-12", "2025-11", freq="M")]
    # observed: ruptures (not after the diploma) dated in the month, counted independently
    rupt = sample_contracts["rupture_date"]
    headline = (
        (rupt > "2024-11-30")
        & (rupt <= "2025-11-30")
        & (rupt < sample_contracts["planned_end_date"])
        & ~sample_contracts["rupture_after_diploma"].fillna(False).astype(bool)
    )
    counts = rupt[headline].dt.to_period("M").astype(str).value_counts()
    assert table.set_index("month")["observed"].to_dict() == counts.to_dict()
    assert summary["inside"] >= 9
    assert abs(summary["relative_gap"]) <= 0.10
    assert table.attrs["dispersion_from"] == "backtest"


@pytest.mark.slow
def test_forecast_by_cfa_on_the_sample(sample_contracts):
    total = fc.forecast_ruptures(sample_contracts, as_of="2025-11-30")
    by = fc.forecast_ruptures(sample_contracts, as_of="2025-11-30", by="cfa")
    assert list(by.columns[:5]) == ["month", "cfa", "expected", "pi_low", "pi_high"]
    assert by["cfa"].nunique() == sample_contracts["cfa_uai"].nunique()
    summed = by.groupby("month", sort=True)["expected"].sum()
    np.testing.assert_allclose(summed.to_numpy(), total.set_index("month")["expected"].to_numpy(), rtol=1e-9)
    assert (by["pi_low"] <= by["expected"]).all() and (by["expected"] <= by["pi_high"]).all()


# --------------------------------------------------------------------------------------------------
# command line


def _table_file(tmp_path: Path, n: int, seed: int) -> Path:
    """A generated table with the columns ``aioa`` requires, as ``aioa clean`` writes it."""
    df = _constant_hazard(n, 0.03, seed=seed)
    df = df.assign(
        contract_id=[f"c{i}" for i in range(n)],
        apprentice_key=[f"k{i}" for i in range(n)],
        cfa_uai="0410590U",
    )
    path = tmp_path / "contracts.parquet"
    coerce_contracts(df).to_parquet(path)
    return path


def test_command_prints_the_forecast(tmp_path, capsys):
    path = _table_file(tmp_path, 3000, seed=2)
    code = main(
        ["forecast", "--data", str(path), "--as-of", "2024-08-31", "--months", "3", "--by", "territory"]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",")[:5] == ["month", "territory", "expected", "pi_low", "pi_high"]
    assert len(lines) == 1 + 3 * 2
    code = main(["forecast", "--data", str(path), "--as-of", "2024-08-31", "--format", "json"])
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 12 and set(records[0]) >= {"month", "expected", "pi_low", "pi_high"}


def test_command_rejects_a_bad_group(tmp_path, capsys):
    path = _table_file(tmp_path, 200, seed=3)
    with pytest.raises(SystemExit) as exc:
        main(["forecast", "--data", str(path), "--as-of", "2024-08-31", "--by", "sector"])
    assert exc.value.code == 2


def test_group_totals_interval_matches_simulated_yearly_totals():
    """The year's interval of a group (moment-matched negative binomial) against 40 000 simulated
    years of independent negative-binomial months with the same means and dispersion."""
    mu = np.array([3.0, 5.0, 9.0, 12.0, 8.0, 4.0, 2.0, 2.5, 6.0, 10.0, 11.0, 7.0])
    alpha = 0.08
    table = pd.DataFrame({"month": [f"2026-{m:02d}" for m in range(1, 13)], "cfa": "A", "expected": mu})
    table.attrs["alpha"] = alpha
    got = fc.group_totals(table, "cfa").iloc[0]
    rng = np.random.default_rng(7)
    n = 1.0 / alpha
    years = rng.negative_binomial(n, n / (n + mu), size=(40_000, 12)).sum(axis=1)
    assert got["expected"] == pytest.approx(mu.sum())
    assert got["peak_month"] == "2026-04"
    assert abs(got["pi_low"] - np.quantile(years, 0.05)) <= 2
    assert abs(got["pi_high"] - np.quantile(years, 0.95)) <= 2
    coverage = np.mean((years >= got["pi_low"]) & (years <= got["pi_high"]))
    assert 0.88 <= coverage <= 0.95
    # adding the monthly bounds would be far wider than the year's real spread
    lo, hi = fc.prediction_interval(mu, alpha)
    assert hi.sum() - lo.sum() > 1.5 * (got["pi_high"] - got["pi_low"])
