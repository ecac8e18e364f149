"""Funnel plots, indirect standardisation and chi-square test, pinned by hand and by scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.compare import (
    chi_square_test,
    funnel_curve,
    funnel_data,
    indirect_standardisation,
    level_tag,
    stratum_rates,
)
from aioa_analysis.stats.intervals import poisson_interval
from tests.frames import exact_limit


def _table(n, k):
    return pd.DataFrame({"unit": [f"u{i}" for i in range(len(n))], "n_contracts": n, "n_ruptures": k})


# ------------------------------------------------------------------------------------- funnel plots
def test_funnel_limits_and_flags_against_exact_formula():
    n = [8, 25, 40, 60, 100, 150, 300, 0]
    k = [6, 1, 14, 5, 35, 10, 60, 0]
    out = funnel_data(_table(n, k))
    target = sum(k) / sum(n)
    assert out["target"].iloc[0] == pytest.approx(target)
    for i, nn in enumerate(n[:-1]):
        for level in (0.95, 0.998):
            a = (1 - level) / 2
            assert out[f"lower_{level_tag(level)}"].iloc[i] == pytest.approx(exact_limit(target, nn, a))
            assert out[f"upper_{level_tag(level)}"].iloc[i] == pytest.approx(exact_limit(target, nn, 1 - a))
        rate = k[i] / nn
        lo95, hi95 = exact_limit(target, nn, 0.025), exact_limit(target, nn, 0.975)
        lo998, hi998 = exact_limit(target, nn, 0.001), exact_limit(target, nn, 0.999)
        expected = (
            "above_998" if rate > hi998 else "above_95" if rate > hi95
            else "below_998" if rate < lo998 else "below_95" if rate < lo95 else "within"
        )  # fmt: skip
        assert out["flag"].iloc[i] == expected, (nn, k[i])
        assert out["z"].iloc[i] == pytest.approx((rate - target) / np.sqrt(target * (1 - target) / nn))
    assert set(out["flag"].iloc[:-1]) == {"above_998", "above_95", "within", "below_95", "below_998"}
    assert pd.isna(out["flag"].iloc[-1]) and np.isnan(out["rate"].iloc[-1])  # empty unit


def test_funnel_hand_flags_with_given_target():
    # target 0.2, n = 100: exact 95 % limits 0.1197 / 0.2765, 99.8 % limits 0.0810 / 0.3268
    out = funnel_data(_table([100] * 5, [7, 10, 20, 30, 33]), target=0.2)
    assert out["flag"].tolist() == ["below_998", "below_95", "within", "above_95", "above_998"]


def test_funnel_within_when_rate_equals_target_and_custom_columns():
    t = pd.DataFrame({"sector": ["a", "b"], "denom": [50, 50], "num": [10, 10]})
    out = funnel_data(t, n_col="denom", k_col="num")
    assert out["flag"].tolist() == ["within", "within"] and out["z"].tolist() == [0.0, 0.0]
    with pytest.raises(ParameterError, match="no column"):
        funnel_data(t)
    with pytest.raises(ParameterError, match="overdispersion"):
        funnel_data(t, n_col="denom", k_col="num", overdispersion="both")


def test_phi_hand_computation_no_overdispersion():
    # target 0.5, n = 100: s = 0.05, z = (k/100 - 0.5) / 0.05, chosen as integers
    z = np.array([-3, -1, -1, 0, 0, 0, 0, 1, 1, 4])
    out = funnel_data(_table([100] * 10, list(50 + 5 * z)), target=0.5, overdispersion="multiplicative")
    assert out["z"].tolist() == pytest.approx(z.tolist())
    # 10th percentile: -3 + 0.9 * (-1 - -3) = -1.2; 90th: 1 + 0.1 * (4 - 1) = 1.3
    # phi = (1.44 + 1 + 1 + 0 + 0 + 0 + 0 + 1 + 1 + 1.69) / 10 = 0.713
    assert out["phi"].iloc[0] == pytest.approx(0.713)
    assert out["phi_chi2"].iloc[0] == pytest.approx(7.13)
    assert out["phi_dof"].iloc[0] == 9
    assert out["phi_p_value"].iloc[0] == pytest.approx(stats.chi2.sf(7.13, 9))
    # phi <= 1: limits unchanged
    assert out["upper_95_adj"].tolist() == pytest.approx(out["upper_95"].tolist())
    assert out["z_adj"].tolist() == pytest.approx(z.tolist())


def test_phi_multiplicative_adjustment_by_hand():
    z = np.array([-6, -4, -2, -2, 0, 0, 2, 2, 4, 6])
    out = funnel_data(_table([100] * 10, list(50 + 5 * z)), target=0.5, overdispersion="multiplicative")
    # Winsorised at -4.2 and 4.2: (17.64 + 16 + 4 + 4 + 0 + 0 + 4 + 4 + 16 + 17.64) / 10 = 8.328
    phi = 8.328
    assert out["phi"].iloc[0] == pytest.approx(phi)
    hi95 = exact_limit(0.5, 100, 0.975)
    hi998 = exact_limit(0.5, 100, 0.999)
    assert out["upper_95_adj"].iloc[0] == pytest.approx(0.5 + np.sqrt(phi) * (hi95 - 0.5))
    assert out["upper_998_adj"].iloc[0] == pytest.approx(0.5 + np.sqrt(phi) * (hi998 - 0.5))
    assert out["z_adj"].tolist() == pytest.approx((z / np.sqrt(phi)).tolist())
    # rate 0.8 (z = 6): above the widened 95 % limit (~0.78), inside the widened 99.8 % one (~0.94)
    assert out["flag"].tolist()[-1] == "above_95"
    assert out["flag"].tolist()[1:-1] == ["within"] * 8
    assert np.isnan(out["tau2"].iloc[0])


def test_tau2_additive_by_hand():
    k = np.array([20, 30, 40, 40, 50, 50, 60, 60, 70, 80])
    n = 100
    out = funnel_data(_table([n] * 10, list(k)), overdispersion="additive")
    target = k.sum() / (10 * n)  # 0.5
    zt = (np.arcsin(np.sqrt(k / n)) - np.arcsin(np.sqrt(target))) * 2 * np.sqrt(n)
    srt = np.sort(zt)
    lo = srt[0] + 0.9 * (srt[1] - srt[0])
    hi = srt[8] + 0.1 * (srt[9] - srt[8])
    phi = np.mean(np.clip(zt, lo, hi) ** 2)
    # equal n: w = 4n = 400 for all; sum(w) - sum(w²)/sum(w) = 4000 - 400 = 3600
    tau2 = (10 * phi - 9) / 3600
    assert out["phi"].iloc[0] == pytest.approx(phi)
    assert out["tau2"].iloc[0] == pytest.approx(tau2)
    sd = np.sqrt(1 / (4 * n) + tau2)
    q = stats.norm.ppf(0.975)
    assert out["upper_95_adj"].iloc[0] == pytest.approx(np.sin(np.arcsin(np.sqrt(0.5)) + q * sd) ** 2)
    assert out["lower_95_adj"].iloc[0] == pytest.approx(np.sin(np.arcsin(np.sqrt(0.5)) - q * sd) ** 2)


def test_additive_without_overdispersion_keeps_exact_limits():
    out = funnel_data(_table([100] * 4, [19, 20, 21, 20]), overdispersion="additive")
    assert out["tau2"].iloc[0] == 0.0
    assert out["upper_998_adj"].tolist() == pytest.approx(out["upper_998"].tolist())


def test_funnel_curve_grid_and_values():
    c = funnel_curve(0.2, 50)
    assert c["n"].tolist() == list(range(1, 51))
    assert c["upper_95"].iloc[-1] == pytest.approx(exact_limit(0.2, 50, 0.975))
    c = funnel_curve(0.2, 5000, points=100)
    assert c["n"].iloc[0] == 1 and c["n"].iloc[-1] == 5000 and c["n"].is_monotonic_increasing
    assert len(c) <= 100
    # limits approach the target as n grows
    assert c["upper_998"].iloc[-1] - 0.2 < c["upper_998"].iloc[len(c) // 2] - 0.2
    adj = funnel_curve(0.2, 100, phi=4.0)
    assert adj["upper_95_adj"].iloc[-1] == pytest.approx(0.2 + 2 * (exact_limit(0.2, 100, 0.975) - 0.2))
    adj = funnel_curve(0.2, 100, tau2=0.001, levels=(0.95,))
    assert set(adj.columns) == {"n", "target", "lower_95", "upper_95", "lower_95_adj", "upper_95_adj"}
    with pytest.raises(ParameterError):
        funnel_curve(0.2, 100, phi=2.0, tau2=0.01)
    with pytest.raises(ParameterError):
        funnel_curve(0.2, 0, n_min=5)


# ---------------------------------------------------------------------------- indirect standardisation
def _contracts_by_stratum(spec: dict[tuple[str, str], tuple[int, int]], start="2024-01-01") -> pd.DataFrame:
    """spec: (cfa, level) -> (contracts, ruptures within 9 months)."""
    rows = []
    for (cfa, level), (n, k) in spec.items():
        for i in range(n):
            rows.append((cfa, level, "2024-03-01" if i < k else None))
    df = pd.DataFrame(rows, columns=["cfa_uai", "diploma_level", "rupture_date"])
    return df.assign(
        cfa_uai=df["cfa_uai"].astype("string"),
        diploma_level=df["diploma_level"].astype("string"),
        start_date=pd.Timestamp(start),
        planned_end_date=pd.Timestamp("2026-06-30"),
        rupture_date=pd.to_datetime(df["rupture_date"]),
    )


SPEC = {("A", "3"): (10, 4), ("A", "5"): (10, 1), ("B", "3"): (30, 6), ("B", "5"): (50, 4)}


def test_indirect_standardisation_two_strata_by_hand():
    out = indirect_standardisation(
        _contracts_by_stratum(SPEC), as_of="2025-06-30", strata="diploma_level"
    ).set_index("cfa")
    # stratum rates: level 3 = 10/40 = 0.25; level 5 = 5/60 = 1/12
    e_a, e_b = 10 * 0.25 + 10 / 12, 30 * 0.25 + 50 / 12  # 3.3333, 11.6667
    assert out["expected"].tolist() == pytest.approx([e_a, e_b])
    assert out["n_ruptures"].tolist() == [5, 10]
    assert out["n_contracts"].tolist() == [20, 80]
    assert out["oe_ratio"].tolist() == pytest.approx([5 / e_a, 10 / e_b])  # 1.5, 0.857
    assert out["overall_rate"].iloc[0] == pytest.approx(0.15)
    assert out["adjusted_rate"].tolist() == pytest.approx([0.15 * 1.5, 0.15 * 10 / e_b])
    assert out["expected"].sum() == pytest.approx(out["n_ruptures"].sum())
    # Garwood interval, chi-square form
    lo = stats.chi2.ppf(0.025, 2 * 5) / 2 / e_a
    hi = stats.chi2.ppf(0.975, 2 * 5 + 2) / 2 / e_a
    assert (out.loc["A", "oe_low"], out.loc["A", "oe_high"]) == pytest.approx((lo, hi))
    assert (out.loc["A", "adjusted_low"], out.loc["A", "adjusted_high"]) == pytest.approx(
        (0.15 * lo, 0.15 * hi)
    )
    assert out["rate"].tolist() == pytest.approx([0.25, 0.125])
    assert out["strata"].iloc[0] == "diploma_level"


def test_indirect_standardisation_cohort_and_missing_stratum():
    df = _contracts_by_stratum(SPEC)
    # not eligible (start + 9 months > as_of): ignored entirely
    late = _contracts_by_stratum({("A", "3"): (5, 5)}, start="2025-01-01")
    # missing level: its own stratum "inconnu"
    unknown = _contracts_by_stratum({("B", None): (4, 2)})
    out = indirect_standardisation(
        pd.concat([df, late, unknown], ignore_index=True), as_of="2025-06-30", strata="diploma_level"
    ).set_index("cfa")
    assert out["n_contracts"].tolist() == [20, 84]
    # B: 7.5 + 50/12 + 4 * (2/4) = 13.6667 expected, 12 observed
    assert out.loc["B", "expected"] == pytest.approx(7.5 + 50 / 12 + 2)
    assert out.loc["B", "n_ruptures"] == 12
    ref = stratum_rates(
        pd.concat([df, late, unknown], ignore_index=True), as_of="2025-06-30", strata="diploma_level"
    )
    assert ref["diploma_level"].tolist() == ["3", "5", "inconnu"]
    assert ref["rate"].tolist() == pytest.approx([0.25, 1 / 12, 0.5])


def test_indirect_standardisation_parameters():
    df = _contracts_by_stratum(SPEC)
    with pytest.raises(ParameterError, match="stratum"):
        indirect_standardisation(df, as_of="2025-06-30", unit="cfa", strata=("cfa", "diploma_level"))
    with pytest.raises(ParameterError, match="unknown dimension"):
        indirect_standardisation(df, as_of="2025-06-30", strata=("nope",))
    with pytest.raises(ParameterError, match="no column"):
        indirect_standardisation(df, as_of="2025-06-30")  # sector_group absent from this table


def test_poisson_interval_exactness():
    o = np.array([0, 1, 5, 30])
    e = np.array([2.0, 1.5, 3.0, 25.0])
    lo, hi = poisson_interval(o, e)
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(-np.log(0.025) / 2)  # chi2(0.975, 2)/2 = -ln(0.025)
    for i in range(1, 4):
        # P(X >= O | mean = lo E) = 2.5 % and P(X <= O | mean = hi E) = 2.5 %
        assert stats.poisson.sf(o[i] - 1, lo[i] * e[i]) == pytest.approx(0.025)
        assert stats.poisson.cdf(o[i], hi[i] * e[i]) == pytest.approx(0.025)
    lo, hi = poisson_interval([3], [0.0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


# --------------------------------------------------------------------------------------- chi-square
def test_chi_square_hand_value():
    out = chi_square_test(pd.DataFrame({"n_contracts": [100, 100, 0], "n_ruptures": [10, 30, 0]})).iloc[0]
    # expected 20 / 80 in each row: 100/20 + 100/80 + 100/20 + 100/80 = 12.5
    assert out["statistic"] == pytest.approx(12.5)
    assert out["dof"] == 1
    assert out["p_value"] == pytest.approx(stats.chi2.sf(12.5, 1))
    assert (out["n_groups"], out["n_groups_empty"], out["n_total"]) == (2, 1, 200)
    assert out["min_expected"] == pytest.approx(20.0)
    assert not out["low_expected"] and out["warning"] == ""


def test_chi_square_low_expected_warning():
    out = chi_square_test(pd.DataFrame({"n_contracts": [10, 10], "n_ruptures": [1, 3]})).iloc[0]
    assert out["n_cells_expected_lt5"] == 2 and out["low_expected"]
    assert "inférieurs à 5" in out["warning"]
    k = np.array([[1, 9], [3, 7]])
    assert out["statistic"] == pytest.approx(stats.chi2_contingency(k, correction=False).statistic)


def test_chi_square_degenerate_tables():
    one = chi_square_test(pd.DataFrame({"n_contracts": [10, 0], "n_ruptures": [1, 0]})).iloc[0]
    assert np.isnan(one["statistic"]) and "moins de deux groupes" in one["warning"]
    none = chi_square_test(pd.DataFrame({"n_contracts": [10, 12], "n_ruptures": [0, 0]})).iloc[0]
    assert np.isnan(none["p_value"]) and "aucune rupture" in none["warning"]
