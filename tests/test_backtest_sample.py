"""Backtest on the committed synthetic sample: the statistics find what the generator put in.

The sample (``data/raw/sample/``) is cleaned once by the real pipeline (:func:`run_clean`), then
the estimators the report uses are checked against the generator's ground truth
(``_ground_truth.json``): the summer effect (hazard multiplied in June-August), the riskiest
sectors, and the coverage of the 9-month rate intervals.

Everything true is read from the ground truth; nothing is copied from the code's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.ingest.pipeline import run_clean
from aioa_analysis.stats import compare, rates, seasonality
from aioa_analysis.stats.intervals import binomial_limits

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
MIN_GROUP_N = 100
"""Coverage is checked on groups of at least this many eligible contracts (ground-truth count)."""
MIN_COVERAGE = 0.8


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "_ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def as_of(truth) -> str:
    return truth["generator"]["extraction_date"]


@pytest.fixture(scope="module")
def contracts(tmp_path_factory) -> pd.DataFrame:
    """The sample cleaned by the real pipeline (once for the module), key and identities in tmp."""
    tmp = tmp_path_factory.mktemp("backtest")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIOA_KEY_FILE", str(tmp / "pseudonym.key"))
        mp.setenv("AIOA_RESTRICTED_DIR", str(tmp / "restricted"))
        run = run_clean([SAMPLE], out_dir=tmp / "processed", restricted_dir=tmp / "restricted")
    return pd.read_parquet(run.out_dir / "contracts.parquet")


# --------------------------------------------------------------------------------------------------
# summer effect


def test_summer_effect_is_found_at_equal_contract_age(contracts, truth, as_of):
    """The hazard is multiplied by ``summer_multiplier`` in June-August (at equal time since start).

    The ratio at equal contract age finds it; the crude ratio (calendar month only) does not,
    because the contracts in force in summer are older (most start in September) and older
    contracts break less.

    What the interval should cover: ruptures after the diploma (L6222-19, after the results on
    1 July) are excluded from the headline count, but the ground truth says that only
    ``n_ruptures_after_diploma_recoverable`` of them can be recognised in the files; the others
    stay in the data as ordinary ruptures, in July-August. They can only inflate the summer
    count, so the lower limit is checked once those (at most ``u``) summer ruptures are taken
    away: ``ci_low · (O_s - u) / O_s <= multiplier <= ci_high``.
    """
    multiplier = truth["parameters"]["summer_multiplier"]["value"]
    months = truth["parameters"]["summer_multiplier"]["months"]
    out = seasonality.age_adjusted_summer_effect(contracts, as_of=as_of, months=months).iloc[0]
    assert out["ci_low"] > 1.0 and out["p_value"] < 1e-6  # summer is a critical period
    # the crude ratio is biased towards 1: its upper limit is below the adjusted lower limit
    assert out["crude_ci_high"] < out["ci_low"]
    assert out["one_step_ratio"] < out["rate_ratio"]  # one-step standardisation: biased towards 1
    t = truth["truth"]
    unrecoverable = t["n_ruptures_after_diploma"] - t["n_ruptures_after_diploma_recoverable"]
    o_s = out["n_ruptures_summer"]
    assert 0 <= unrecoverable < o_s
    assert out["ci_low"] * (o_s - unrecoverable) / o_s <= multiplier <= out["ci_high"]


def test_critical_months_are_june_to_august(contracts, truth, as_of):
    """Observed/expected at equal contract age: exactly the summer months are above 1."""
    months = truth["parameters"]["summer_multiplier"]["months"]
    table = seasonality.age_adjusted_seasonality(contracts, as_of=as_of)
    critical = table.loc[table["oe_low"] > 1, "month"].tolist()
    assert critical == sorted(months)
    # the raw counts peak in the autumn (September starts), not in summer
    raw = table.set_index("month")["n_ruptures"]
    assert raw.idxmax() in (9, 10, 11)
    assert table["expected"].sum() == pytest.approx(table["n_ruptures"].sum())


# --------------------------------------------------------------------------------------------------
# riskiest sectors


def test_riskiest_sector_is_found(contracts, truth, as_of):
    p_true = {k: v["p"] for k, v in truth["expected_rupture_9m"]["by"]["sector"].items()}
    top_two = sorted(p_true, key=p_true.get, reverse=True)[:2]
    assert set(top_two) == {"hebergement_restauration", "coiffure_esthetique"}  # the generator's design
    by_sector = rates.rupture_rate_within(contracts, as_of=as_of, by="sector", horizon_months=9)
    known = by_sector.loc[(by_sector["sector"] != "inconnu") & (by_sector["n_contracts"] >= MIN_GROUP_N)]
    assert known.loc[known["rate"].idxmax(), "sector"] in top_two


def test_funnel_flags_the_sectors_truly_above_the_limits(contracts, truth, as_of):
    """A sector whose TRUE 9-month probability lies above the 99.8 % limit around the true overall
    rate (at its true size) is flagged above the limits by the funnel built from the data."""
    overall = truth["expected_rupture_9m"]["overall_eligible"]["p"]
    groups = truth["expected_rupture_9m"]["by"]["sector"]
    names = sorted(groups)
    n = np.array([groups[s]["n"] for s in names])
    p = np.array([groups[s]["p"] for s in names])
    _, upper_998 = binomial_limits(overall, n, level=0.998)
    truly_above = {s for s, pi, hi in zip(names, p, upper_998, strict=True) if pi > hi}
    assert "hebergement_restauration" in truly_above
    by_sector = rates.rupture_rate_within(contracts, as_of=as_of, by="sector", horizon_months=9)
    funnel = compare.funnel_data(by_sector).set_index("sector")
    for s in truly_above:
        assert funnel.loc[s, "flag"] in ("above_95", "above_998"), s


def test_indirect_standardisation_flags_hotels_and_restaurants(contracts, truth, as_of):
    """At equal diploma level, hotels and restaurants still break more: the TRUE ratio is at least
    p(HR) / max over levels of p(level) > 1 (its expected rate is a mix of the level rates)."""
    by = truth["expected_rupture_9m"]["by"]
    true_oe_floor = by["sector"]["hebergement_restauration"]["p"] / max(
        v["p"] for v in by["diploma_level"].values()
    )
    assert true_oe_floor > 1
    oe = compare.indirect_standardisation(
        contracts, as_of=as_of, unit="sector", strata="diploma_level", horizon_months=9
    ).set_index("sector")
    assert oe.loc["hebergement_restauration", "oe_low"] > 1
    assert oe.loc["hebergement_restauration", "oe_high"] >= true_oe_floor


# --------------------------------------------------------------------------------------------------
# coverage of the 9-month intervals


def test_nine_month_intervals_cover_the_true_probabilities(contracts, truth, as_of):
    """The Wilson 95 % intervals of the 9-month rate by sector, diploma level and school year cover
    the generator's expected probability (``expected_rupture_9m``) at about the nominal rate.

    Tolerance: at least 80 % of the groups with at least 100 eligible contracts. With ~20 groups
    and independent intervals of exact 95 % coverage, the number covered would be
    Binomial(G, 0.95), and fewer than 80 % covered has probability < 1 % (computed below). The
    groups are not independent (the three dimensions share contracts) and cleaning moves a few
    contracts (e.g. missing NAF codes go to "inconnu"), hence a tolerance rather than an exact
    count; a systematic error (a wrong cohort rule, a biased estimator) would fail many groups at
    once.
    """
    dims = {"sector": "sector", "diploma_level": "diploma_level", "cohort": "school_year"}
    rows = []
    for dim, key in dims.items():
        table = rates.rupture_rate_within(contracts, as_of=as_of, by=dim, horizon_months=9).set_index(dim)
        for group, v in truth["expected_rupture_9m"]["by"][key].items():
            if v["n"] < MIN_GROUP_N:
                continue
            label = "inconnu" if group == "NA" else group
            assert label in table.index, f"{dim}={group} missing from the cleaned data"
            r = table.loc[label]
            rows.append((dim, group, r["ci_low"] <= v["p"] <= r["ci_high"], r["n_contracts"], v["n"]))
    checked = pd.DataFrame(rows, columns=["dim", "group", "covered", "n_clean", "n_true"])
    g = len(checked)
    assert g >= 15
    assert stats.binom.cdf(int(np.ceil(MIN_COVERAGE * g)) - 1, g, 0.95) < 0.01
    # the cleaned groups are the true groups (up to the few contracts cleaning cannot place)
    assert (checked["n_clean"] >= 0.9 * checked["n_true"]).all()
    assert checked["covered"].mean() >= MIN_COVERAGE, checked.loc[~checked["covered"]].to_string()
