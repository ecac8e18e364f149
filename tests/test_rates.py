"""Rupture rate within H months and rupture phases: hand-computed values on named edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.rates import phase_from_dates, rupture_phases, rupture_rate_within

AS_OF = "2025-06-30"
END = "2026-08-31"

# name, start, planned end, rupture, after diploma, sex
CASES = [
    ("rupture_on_start_day", "2024-09-01", END, "2024-09-01", False, "F"),  # within 9 months
    ("rupture_exactly_9_months", "2024-09-01", END, "2025-06-01", False, "F"),  # NOT within
    ("rupture_day_before_9_months", "2024-09-01", END, "2025-05-31", False, "M"),  # within
    ("rupture_after_diploma", "2024-09-01", END, "2025-03-01", True, "M"),  # beside, not in numerator
    ("no_rupture", "2024-09-01", END, None, False, "M"),
    ("not_observed_9_months", "2024-10-01", END, "2024-11-01", False, "M"),  # 2025-07-01 > as_of
    ("observed_exactly_9_months", "2024-09-30", END, "2025-06-29", False, None),  # eligible, within
    ("rupture_after_planned_end", "2023-09-01", "2024-03-01", "2024-04-01", False, "F"),  # completed
    ("no_start_date", None, END, "2024-10-01", False, "F"),  # ignored
]


def contracts(cases=CASES) -> pd.DataFrame:
    names, start, end, rupt, after, sex = zip(*cases, strict=True)
    return pd.DataFrame(
        {
            "contract_id": pd.array(names, dtype="string"),
            "apprentice_key": pd.array([f"p{i}" for i in range(len(names))], dtype="string"),
            "start_date": pd.to_datetime(list(start)),
            "planned_end_date": pd.to_datetime(list(end)),
            "rupture_date": pd.to_datetime(list(rupt)),
            "rupture_after_diploma": pd.array(after, dtype="boolean"),
            "sex": pd.array(sex, dtype="string"),
        }
    )


def test_overall_rate_hand_computed():
    out = rupture_rate_within(contracts(), as_of=AS_OF, min_n=0)
    assert len(out) == 1
    row = out.iloc[0]
    # eligible: every case but not_observed and no_start_date -> 7; within 9 months: start day,
    # day before 9 months, observed exactly 9 months -> 3; after diploma 1; excluded 1
    assert row["n_contracts"] == 7
    assert row["n_ruptures"] == 3
    assert row["rate"] == pytest.approx(3 / 7)
    assert row["n_ruptures_after_diploma"] == 1
    assert row["n_excluded_not_observed"] == 1
    ci = stats.binomtest(3, 7).proportion_ci(method="wilson")
    assert row["ci_low"] == pytest.approx(ci.low) and row["ci_high"] == pytest.approx(ci.high)
    assert row["horizon_months"] == 9 and row["unit"] == "contract"
    assert row["as_of"] == pd.Timestamp(AS_OF) and row["ci_method"] == "wilson"
    assert not row["suppressed"]


def test_columns_in_contract_order():
    out = rupture_rate_within(contracts(), as_of=AS_OF, by="sex")
    assert list(out.columns) == [
        "sex",
        "n_contracts",
        "n_ruptures",
        "rate",
        "ci_low",
        "ci_high",
        "suppressed",
        "suppression_reason",
        "n_ruptures_after_diploma",
        "n_excluded_not_observed",
        "horizon_months",
        "unit",
        "as_of",
        "ci_method",
    ]


def test_by_sex_with_inconnu_group_and_min_n_flags():
    out = rupture_rate_within(contracts(), as_of=AS_OF, by="sex", min_n=3).set_index("sex")
    assert out.index.tolist() == ["F", "M", "inconnu"]
    # F: start day (r), exactly 9m (no), after planned end (no) -> 1/3
    assert out.loc["F", ["n_contracts", "n_ruptures"]].tolist() == [3, 1]
    # M: day before 9m (r), after diploma (beside), no rupture; not observed excluded -> 1/3
    assert out.loc["M", ["n_contracts", "n_ruptures", "n_ruptures_after_diploma"]].tolist() == [3, 1, 1]
    assert out.loc["M", "n_excluded_not_observed"] == 1
    assert out.loc["inconnu", ["n_contracts", "n_ruptures"]].tolist() == [1, 1]
    assert out["suppressed"].tolist() == [False, False, True]
    assert out.loc["inconnu", "suppression_reason"] == "effectif < 3"
    # the groups add up to the overall table
    assert out["n_contracts"].sum() == 7 and out["n_ruptures"].sum() == 3


def test_empty_group_has_zero_denominator_nan_rate_and_is_suppressed():
    df = contracts().assign(cfa_uai=pd.array(["A"] * 5 + ["B"] + ["A"] * 3, dtype="string"))
    out = rupture_rate_within(df, as_of=AS_OF, by="cfa").set_index("cfa")
    b = out.loc["B"]
    assert b["n_contracts"] == 0 and b["n_excluded_not_observed"] == 1
    assert np.isnan(b["rate"]) and np.isnan(b["ci_low"]) and np.isnan(b["ci_high"])
    assert b["suppressed"]


def test_rupture_exactly_at_h_months_boundary_moves_with_horizon():
    one = contracts([("r", "2024-01-31", END, "2024-02-29", False, "F")])
    # 31 January + 1 month = 29 February 2024 (clipped): a rupture that day is not within 1 month
    assert rupture_rate_within(one, as_of=AS_OF, horizon_months=1, min_n=0)["n_ruptures"].item() == 0
    assert rupture_rate_within(one, as_of=AS_OF, horizon_months=2, min_n=0)["n_ruptures"].item() == 1


def test_horizon_12_and_rupture_after_as_of_not_known():
    df = contracts(
        [
            ("a", "2024-01-15", END, "2024-12-01", False, "F"),  # within 12 months
            ("b", "2024-06-30", END, None, False, "F"),  # 2025-06-30 <= as_of: eligible
            ("c", "2024-06-01", END, "2025-09-01", False, "F"),  # rupture after as_of: unknown
        ]
    )
    out = rupture_rate_within(df, as_of=AS_OF, horizon_months=12, min_n=0).iloc[0]
    assert (out["n_contracts"], out["n_ruptures"]) == (3, 1)
    assert out["horizon_months"] == 12


def test_clopper_pearson_option_matches_scipy():
    out = rupture_rate_within(contracts(), as_of=AS_OF, method="clopper-pearson").iloc[0]
    ci = stats.binomtest(3, 7).proportion_ci(method="exact")
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert out["ci_method"] == "clopper-pearson"


def test_apprentice_unit_definition():
    # person A: two contracts at CFA X, the first broken within 9 months -> broken once
    # person B: one contract at X, no rupture
    # person C: a contract at X (no rupture) and one at Y (broken) -> X: not broken; Y: broken
    # person D: an eligible contract (no rupture) and a recent one broken (not eligible)
    # no key: counts as its own apprentice
    rows = [
        ("c1", "A", "X", "2024-09-01", "2024-11-01"),
        ("c2", "A", "X", "2024-11-15", None),
        ("c3", "B", "X", "2024-09-01", None),
        ("c4", "C", "X", "2024-09-01", None),
        ("c5", "C", "Y", "2024-09-01", "2025-01-10"),
        ("c6", "D", "Y", "2024-09-01", None),
        ("c7", "D", "Y", "2025-02-01", "2025-03-01"),
        ("c8", None, "Y", "2024-09-01", "2024-09-20"),
    ]
    df = pd.DataFrame(
        {
            "contract_id": [r[0] for r in rows],
            "apprentice_key": pd.array([r[1] for r in rows], dtype="string"),
            "cfa_uai": [r[2] for r in rows],
            "start_date": pd.to_datetime([r[3] for r in rows]),
            "planned_end_date": pd.to_datetime([END] * len(rows)),
            "rupture_date": pd.to_datetime([r[4] for r in rows]),
        }
    )
    overall = rupture_rate_within(df, as_of=AS_OF, unit="apprentice", min_n=0).iloc[0]
    # apprentices A (broken), B, C (broken), D, c8 (broken) -> 3 / 5
    assert (overall["n_contracts"], overall["n_ruptures"]) == (5, 3)
    assert overall["unit"] == "apprentice" and overall["n_excluded_not_observed"] == 0
    by_cfa = rupture_rate_within(df, as_of=AS_OF, by="cfa", unit="apprentice", min_n=0).set_index("cfa")
    assert by_cfa.loc["X", ["n_contracts", "n_ruptures"]].tolist() == [3, 1]  # A broken; B, C not
    assert by_cfa.loc["Y", ["n_contracts", "n_ruptures"]].tolist() == [3, 2]  # C, c8 broken; D not
    # contract unit on the same table: 6 eligible contracts (c2 and c7 too recent), 3 ruptures
    contract = rupture_rate_within(df, as_of=AS_OF, min_n=0).iloc[0]
    assert (contract["n_contracts"], contract["n_ruptures"], contract["n_excluded_not_observed"]) == (6, 3, 2)


def test_bad_parameters_raise_one_line_errors():
    df = contracts()
    with pytest.raises(ParameterError, match="as_of is required"):
        rupture_rate_within(df, as_of=None)
    with pytest.raises(ParameterError, match="choose among: contract, apprentice"):
        rupture_rate_within(df, as_of=AS_OF, unit="person")
    with pytest.raises(ParameterError, match="horizon_months"):
        rupture_rate_within(df, as_of=AS_OF, horizon_months=0)
    with pytest.raises(ParameterError, match="wilson"):
        rupture_rate_within(df, as_of=AS_OF, method="wald")
    with pytest.raises(ParameterError, match="unknown dimension"):
        rupture_rate_within(df, as_of=AS_OF, by="secteur")


def test_input_not_modified():
    df = contracts()
    before = df.copy()
    rupture_rate_within(df, as_of=AS_OF, by="sex,start_month")
    pd.testing.assert_frame_equal(df, before)


def test_wilson_coverage_on_simulated_contracts():
    """200 replicates of 300 contracts with a known constant hazard: the 95 % Wilson interval of the
    9-month rate must cover the true probability about 95 % of the time."""
    reps, n = 200, 300
    start = pd.Timestamp("2023-09-01")
    horizon_days = (start + pd.DateOffset(months=9) - start).days  # 274 days
    p_true = 0.21  # DARES 2022 headline
    daily = -np.log(1 - p_true) / horizon_days
    covered = 0
    for seed in range(5):  # several seeds, 40 replicates each
        rng = np.random.default_rng(seed)
        days = np.floor(rng.exponential(1 / daily, size=(reps // 5) * n)).astype("int64")
        rupture = start + pd.to_timedelta(days, unit="D")
        df = pd.DataFrame(
            {
                "cfa_uai": np.repeat([f"r{i:03d}" for i in range(reps // 5)], n),
                "start_date": start,
                "planned_end_date": pd.Timestamp("2025-08-31"),
                "rupture_date": pd.Series(rupture).where(days < 800),
            }
        )
        out = rupture_rate_within(df, as_of="2025-06-30", by="cfa", min_n=0)
        assert (out["n_contracts"] == n).all()
        covered += int(((out["ci_low"] <= p_true) & (p_true <= out["ci_high"])).sum())
    coverage = covered / reps
    assert 0.92 <= coverage <= 0.98, coverage


# ------------------------------------------------------------------------------------------ phases


def test_phase_from_dates_boundaries():
    start = pd.Series(pd.to_datetime(["2024-09-01"] * 8))
    rupture = pd.Series(
        pd.to_datetime(
            [
                "2024-09-01",  # day 0
                "2024-10-16",  # day 45 -> still 0-45j
                "2024-10-17",  # day 46
                "2024-12-01",  # exactly 3 months -> 3-6m
                "2025-03-01",  # exactly 6 months -> 6-12m
                "2025-08-31",  # day before 12 months
                "2025-09-01",  # exactly 12 months -> 12m+
                None,
            ]
        )
    )
    assert phase_from_dates(start, rupture).tolist() == [
        "0-45j",
        "0-45j",
        "46j-3m",
        "3-6m",
        "6-12m",
        "6-12m",
        "12m+",
        pd.NA,
    ]
    after = pd.Series([False, False, False, False, False, False, True, True])
    assert phase_from_dates(start, rupture, after).tolist()[-2:] == ["apres_diplome", pd.NA]


def test_rupture_phases_counts_shares_and_every_phase_listed():
    df = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2024-09-01"] * 6),
            "planned_end_date": pd.to_datetime([END] * 6),
            "rupture_date": pd.to_datetime(
                ["2024-09-01", "2024-10-01", "2024-10-20", "2025-05-01", None, "2025-08-01"]
            ),
            "rupture_after_diploma": pd.array([False, False, False, True, False, False], dtype="boolean"),
        }
    )
    out = rupture_phases(df, as_of=AS_OF, min_n=0).set_index("phase")
    assert out.index.tolist() == ["0-45j", "46j-3m", "3-6m", "6-12m", "12m+", "apres_diplome"]
    assert out["n_ruptures"].tolist() == [2, 1, 0, 0, 0, 1]  # 2025-08-01 is after as_of
    assert (out["n_contracts"] == 6).all() and (out["n_ruptures_total"] == 4).all()
    assert out.loc["0-45j", "rate"] == pytest.approx(2 / 6)
    assert out.loc["0-45j", "share_of_ruptures"] == pytest.approx(2 / 4)
    ci = stats.binomtest(2, 4).proportion_ci(method="wilson")
    assert (out.loc["0-45j", "share_ci_low"], out.loc["0-45j", "share_ci_high"]) == pytest.approx(
        (ci.low, ci.high)
    )
    assert out["share_suppressed"].tolist() == [False] * 6


def test_rupture_phases_prefers_the_phase_column_and_groups():
    df = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2024-09-01"] * 3),
            "planned_end_date": pd.to_datetime([END] * 3),
            "rupture_date": pd.to_datetime(["2024-09-10", "2024-09-10", None]),
            "rupture_phase": pd.array(["46j-3m", None, None], dtype="string"),  # first one: as cleaned
            "sex": ["F", "M", "M"],
        }
    )
    out = rupture_phases(df, as_of=AS_OF, by="sex", min_n=0)
    counts = out.set_index(["sex", "phase"])["n_ruptures"]
    assert counts[("F", "46j-3m")] == 1 and counts[("F", "0-45j")] == 0
    assert counts[("M", "0-45j")] == 1
    assert len(out) == 2 * 6


def test_empty_table_gives_one_empty_overall_row_or_no_group():
    from aioa_analysis.core.schema import coerce_contracts

    empty = coerce_contracts(pd.DataFrame({"contract_id": pd.Series([], dtype="string")}))
    overall = rupture_rate_within(empty, as_of=AS_OF).iloc[0]
    assert overall["n_contracts"] == 0 and np.isnan(overall["rate"]) and overall["suppressed"]
    assert len(rupture_rate_within(empty, as_of=AS_OF, by="cfa")) == 0
    assert len(rupture_phases(empty, as_of=AS_OF)) == 6


def test_groups_come_in_natural_order_with_the_same_numbers():
    # employer size bands in schema order (not 0-4, 10-49, 250+, 5-9), "inconnu" last; the counts
    # of each group are those of a plain per-band count of the same contracts
    bands = ["250+", "5-9", None, "0-4", "10-49", "5-9", "0-4"]
    n = len(bands)
    df = pd.DataFrame(
        {
            "contract_id": [f"c{i}" for i in range(n)],
            "start_date": pd.to_datetime(["2024-09-01"] * n),
            "planned_end_date": pd.to_datetime([END] * n),
            "rupture_date": pd.to_datetime(
                ["2024-10-01", None, "2024-11-01", "2024-09-15", None, None, None]
            ),
            "employer_size_band": pd.array(bands, dtype="string"),
        }
    )
    out = rupture_rate_within(df, as_of=AS_OF, by="employer_size", min_n=0)
    assert out["employer_size"].tolist() == ["0-4", "5-9", "10-49", "250+", "inconnu"]
    assert out["n_contracts"].tolist() == [2, 2, 1, 1, 1]
    assert out["n_ruptures"].tolist() == [1, 0, 0, 1, 1]


def _random_apprentice_table(seed: int, n: int = 3000) -> pd.DataFrame:
    """Contracts of few apprentices (repeats within and across groups), keys of several lengths,
    missing keys and contract numbers, and keys equal to the stand-in of a contract without key."""
    rng = np.random.default_rng(seed)
    pool = np.array(
        [rng.bytes(32).hex() for _ in range(150)]  # 64 hex characters, as apprentice_key
        + [f"k{i}" for i in range(100)]
        + ["", "contract:c1", "contract:c2", "contract:row:3", "contract:row:7", "é"],
        dtype=object,
    )
    key = pool[rng.integers(0, len(pool), n)]
    key[rng.random(n) < 0.08] = None
    contract_id = np.array([f"c{i}" for i in rng.integers(0, n // 2, n)], dtype=object)
    contract_id[rng.random(n) < 0.3] = None
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1200, n), unit="D")
    start = start.where(rng.random(n) > 0.02)
    rupture = start + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    rupture = rupture.where(rng.random(n) < 0.4)
    planned_end = start + pd.to_timedelta(rng.integers(100, 1100, n), unit="D")
    after = pd.array(rng.random(n) < 0.1, dtype="boolean")
    after[rng.random(n) < 0.05] = pd.NA
    cfa = np.array(["0410001A", "0410002B", "0410003C", None], dtype=object)[rng.integers(0, 4, n)]
    return pd.DataFrame(
        {
            "contract_id": pd.array(contract_id, dtype="string"),
            "apprentice_key": pd.array(key, dtype="string"),
            "cfa_uai": pd.array(cfa, dtype="string"),
            "start_date": start,
            "planned_end_date": planned_end,
            "rupture_date": rupture,
            "rupture_after_diploma": after,
        }
    )


def _reference_apprentice_counts(df: pd.DataFrame, as_of: str, by: list[str], h: int = 9) -> pd.DataFrame:
    """The apprentice-unit counts by ``by`` (among cfa, start_year), from the definition, in pandas."""
    ts = pd.Timestamp(as_of)
    d = df.loc[df["start_date"].notna()].reset_index(drop=True)
    end = d["start_date"] + pd.DateOffset(months=h)
    observed = (d["rupture_date"] <= ts) & (d["rupture_date"] < d["planned_end_date"])
    after = d["rupture_after_diploma"].fillna(False).astype(bool)
    within = observed & (d["rupture_date"] < end)
    own = "contract:" + d["contract_id"].astype(object).where(
        d["contract_id"].notna(), [f"row:{i}" for i in d.index]
    )
    flags = pd.DataFrame(
        {
            "cfa": d["cfa_uai"].astype(object).where(d["cfa_uai"].notna(), "inconnu"),
            "start_year": d["start_date"].dt.year.astype("int64"),
            "all_groups": 0,
            "person": d["apprentice_key"].astype(object).where(d["apprentice_key"].notna(), own),
            "all": True,
            "eligible": end <= ts,
            "broken": (end <= ts) & within & ~after,
            "after": (end <= ts) & within & after,
        }
    )
    keys = by or ["all_groups"]
    pairs = flags.groupby([*keys, "person"])[["all", "eligible", "broken", "after"]].any()
    counts = pairs.groupby(keys).sum().astype("int64")
    return pd.DataFrame(
        {
            "n_contracts": counts["eligible"],
            "n_ruptures": counts["broken"],
            "n_ruptures_after_diploma": counts["after"],
            "n_excluded_not_observed": counts["all"] - counts["eligible"],
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_apprentice_unit_matches_a_plain_pandas_computation(seed):
    df = _random_apprentice_table(seed)
    before = df.copy()
    columns = ["n_contracts", "n_ruptures", "n_ruptures_after_diploma", "n_excluded_not_observed"]
    for by in (["cfa", "start_year"], []):
        out = rupture_rate_within(df, as_of=AS_OF, by=by, unit="apprentice", min_n=0)
        want = _reference_apprentice_counts(df, AS_OF, by)
        got = out[columns].to_numpy()
        if by:
            keys = list(zip(out["cfa"], out["start_year"].astype("int64"), strict=True))
            assert sorted(keys) == sorted(want.index)  # the same groups
            want = want.loc[keys]
        assert got[:, 0].sum() > 0 and got[:, 1].sum() > 0
        np.testing.assert_array_equal(got, want[columns].to_numpy())
    pd.testing.assert_frame_equal(df, before)  # input not modified
