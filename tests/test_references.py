"""Joining published reference rates onto rate tables (values from aioa_analysis/core/data/reference_rates.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.reference_rates import compare_with_reference, reference_lines
from aioa_analysis.stats.transitions import net_rupture_rates


def _rates(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def test_overall_compared_with_latest_france_9_months():
    r = _rates(
        cfa_uai=["A", "B", "C"],
        rate=[0.30, 0.20, 0.10],
        ci_low=[0.25, 0.15, 0.05],
        ci_high=[0.35, 0.25, 0.18],
    )
    out = compare_with_reference(r)
    assert out["ref_id"].tolist() == ["1", "1", "1"]  # 21 %, 2022 starts (latest France, 9 months)
    assert out["ref_value"].tolist() == [0.21, 0.21, 0.21]
    assert out["ref_year"].tolist() == [2022] * 3
    assert out["diff_points"].tolist() == pytest.approx([9.0, -1.0, -11.0])
    assert out["ref_outside_ci"].tolist() == [True, False, True]
    assert out["comparison"].tolist() == ["higher", "not_different", "lower"]
    assert out["ref_source"].str.contains("Dares").all()
    assert out["ref_population"].iloc[0] == "contrats commencés en 2022"
    assert list(r.columns) == ["cfa_uai", "rate", "ci_low", "ci_high"]  # input untouched


def test_year_geography_and_horizon_selection():
    r = _rates(rate=[0.2], ci_low=[0.1], ci_high=[0.3])
    assert compare_with_reference(r, year=2019)["ref_value"].item() == 0.17
    assert compare_with_reference(r, geography="Centre-Val de Loire")["ref_value"].item() == 0.178
    assert compare_with_reference(r, horizon_months=6)["ref_value"].item() == 0.162
    whole = compare_with_reference(r, indicator="rupture_rate_whole_contract", horizon_months=None)
    assert whole["ref_value"].item() == 0.316 and pd.isna(whole["ref_horizon_months"].item())
    none = compare_with_reference(r, horizon_months=12)
    assert np.isnan(none["ref_value"].item()) and pd.isna(none["comparison"].item())


def test_dimension_by_public_name_or_column():
    r = _rates(employer_size_band=["0-4", "250+"], rate=[0.3, 0.1], ci_low=[0.2, 0.05], ci_high=[0.4, 0.2])
    for dim in ("employer_size", "employer_size_band"):
        out = compare_with_reference(r, dimension=dim)
        assert out["ref_value"].iloc[0] == 0.28 and np.isnan(out["ref_value"].iloc[1])
        assert out["comparison"].iloc[0] == "not_different" and pd.isna(out["comparison"].iloc[1])


def test_row_wise_horizon_and_missing_interval():
    r = _rates(horizon_months=[9, 6], rate=[0.25, 0.10])
    out = compare_with_reference(r, horizon_months=None)
    assert out["ref_value"].tolist() == [0.21, 0.162]
    assert out["ref_outside_ci"].isna().all() and out["comparison"].isna().all()


def test_errors():
    r = _rates(rate=[0.2])
    with pytest.raises(ParameterError, match="unknown dimension"):
        compare_with_reference(r, dimension="colour")
    with pytest.raises(ParameterError, match="no column 'sector'"):
        compare_with_reference(r, dimension="sector")
    with pytest.raises(ParameterError, match="no column 'taux'"):
        compare_with_reference(r, rate_col="taux")


def test_reference_lines():
    lines = reference_lines(dimension="sector")
    assert sorted(lines["category"]) == sorted(
        [
            "hebergement_restauration",
            "coiffure_esthetique",
            "industries_alimentaires",
            "commerce",
            "construction",
        ]
    )
    overall = reference_lines(latest_only=False)
    assert sorted(overall["year"].tolist()) == [2018, 2019, 2020, 2022, 2022]
    assert reference_lines(geography="France")["ref_id"].tolist() == ["1"]


def test_net_rupture_rate_joins_the_dares_12_percent():
    df = pd.DataFrame(
        {
            "contract_id": pd.array(["a", "b"], dtype="string"),
            "apprentice_key": pd.array(["A", "B"], dtype="string"),
            "start_date": pd.to_datetime(["2023-09-01", "2023-09-01"]),
            "planned_end_date": pd.to_datetime(["2025-08-31"] * 2),
            "rupture_date": pd.to_datetime(["2023-10-01", None]),
        }
    )
    out = compare_with_reference(net_rupture_rates(df, as_of="2025-06-30"), indicator="net_rupture_share")
    assert out["ref_value"].item() == 0.12 and out["ref_year"].item() == 2021
    assert out["diff_points"].item() == pytest.approx(38.0)


def test_public_dimension_column_from_rate_tables():
    # rate tables (aioa_analysis.stats.dimensions) name their dimension columns by the public name
    r = _rates(employer_size=["0-4", "inconnu"], rate=[0.3, 0.2], ci_low=[0.29, 0.1], ci_high=[0.31, 0.3])
    out = compare_with_reference(r, dimension="employer_size")
    assert out["ref_value"].iloc[0] == 0.28 and out["comparison"].iloc[0] == "higher"
    assert np.isnan(out["ref_value"].iloc[1])


def test_joins_onto_the_h_month_rate_table():
    from aioa_analysis.stats.rates import rupture_rate_within

    df = pd.DataFrame(
        {
            "contract_id": pd.array(["a", "b", "c"], dtype="string"),
            "start_date": pd.to_datetime(["2023-09-01"] * 3),
            "planned_end_date": pd.to_datetime(["2025-08-31"] * 3),
            "rupture_date": pd.to_datetime(["2023-10-01", None, None]),
            "sector": pd.array(["hebergement_restauration", "commerce", None], dtype="string"),
        }
    )
    rates = rupture_rate_within(df, as_of="2025-06-30", by="sector", min_n=0)
    out = compare_with_reference(rates, dimension="sector")
    got = dict(zip(out["sector"], out["ref_value"], strict=True))
    assert got["hebergement_restauration"] == 0.36 and got["commerce"] == 0.25 and np.isnan(got["inconnu"])
