"""After-rupture estimators: linking, re-contracting shares, net rupture rate, time to a new contract.

Every expected value below is computed by hand from the named fixture rows (as_of = 2025-06-30).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.stats.linking import days_to_new_contract, link_ruptures
from aioa_analysis.stats.transitions import (
    link_new_contracts,
    net_rupture_rates,
    recontract_rates,
    time_to_new_contract,
    time_to_new_contract_summary,
)
from tests.frames import typed_contracts

AS_OF = "2025-06-30"
FAR = "2027-06-30"
D = pd.Timedelta


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (contract_id, apprentice_key, start, rupture, [after_diploma], [sector_group], [end])."""
    out = []
    for r in rows:
        cid, key, start, rupt, *rest = r
        after = rest[0] if len(rest) > 0 else False
        group = rest[1] if len(rest) > 1 else "tertiaire"
        end = rest[2] if len(rest) > 2 else FAR
        out.append((cid, key, start, end, rupt, after, group))
    return typed_contracts(
        out,
        [
            "contract_id",
            "apprentice_key",
            "start_date",
            "planned_end_date",
            "rupture_date",
            "rupture_after_diploma",
            "sector_group",
        ],
    )


R = pd.Timestamp("2024-03-01")
d = lambda n: (R + D(days=n)).strftime("%Y-%m-%d")  # noqa: E731

RECONTRACT_ROWS = [
    # exactly 60 days after the rupture: inside both windows
    ("A1", "A", "2024-01-01", "2024-03-01"),
    ("A2", "A", d(60), None),
    # 61 days: outside 60, inside 180
    ("B1", "B", "2024-01-01", "2024-03-01"),
    ("B2", "B", d(61), None),
    # exactly 180 days
    ("C1", "C", "2024-01-01", "2024-03-01"),
    ("C2", "C", d(180), None),
    # 181 days: outside both
    ("D1", "D", "2024-01-01", "2024-03-01"),
    ("D2", "D", d(181), None),
    # no new contract
    ("E1", "E", "2024-01-01", "2024-03-01"),
    # new contract dated 5 days before the rupture (within the 7-day tolerance): day -5
    ("F1", "F", "2024-01-01", "2024-03-01"),
    ("F2", "F", d(-5), None),
    # overlapping contract started 29 days before the rupture: not a new contract
    ("G1", "G", "2023-09-01", "2024-03-01"),
    ("G2", "G", d(-29), None),
    # apprentice with 3 contracts: H1 -> H2 after 17 days, H2 -> H3 after 143 days
    ("H1", "H", "2023-09-01", "2023-10-15"),
    ("H2", "H", "2023-11-01", "2024-01-10"),
    ("H3", "H", "2024-06-01", None),
    # window not passed (46 days before as_of), no new contract
    ("I1", "I", "2024-09-01", "2025-05-15"),
    # 90 days before as_of: 60-day window passed, 180 not
    ("J1", "J", "2024-09-01", "2025-04-01"),
    # rupture exactly 60 days before as_of, new contract on as_of (60 days): window just passed
    ("K1", "K", "2024-09-01", "2025-05-01"),
    ("K2", "K", "2025-06-30", None),
    # rupture after as_of: not a rupture yet
    ("L1", "L", "2024-09-01", "2025-07-15"),
    # no apprentice key: cannot be linked
    ("M1", None, "2024-01-01", "2024-03-01"),
    # new contract starting after as_of: not known
    ("N1", "N", "2024-09-01", "2025-04-15"),
    ("N2", "N", "2025-07-01", None),
    # rupture after the diploma: excluded by default
    ("O1", "O", "2022-09-01", "2024-06-30", True),
    ("O2", "O", "2024-09-01", None),
    # rupture on the start day, new contract 4 days later
    ("P1", "P", "2024-01-01", "2024-01-01"),
    ("P2", "P", "2024-01-05", None),
    # a group with no rupture at all
    ("Q1", "Q", "2024-01-01", None, False, "construction"),
]


@pytest.fixture
def recontract_df() -> pd.DataFrame:
    return _frame(RECONTRACT_ROWS)


def test_link_new_contracts_named_cases(recontract_df):
    links = link_new_contracts(recontract_df, as_of=AS_OF).set_index("contract_id")
    expected_days = {
        "A1": 60,
        "B1": 61,
        "C1": 180,
        "D1": 181,
        "E1": None,
        "F1": -5,
        "G1": None,
        "H1": 17,
        "H2": 143,
        "I1": None,
        "J1": None,
        "K1": 60,
        "M1": None,
        "N1": None,
        "P1": 4,
    }
    assert sorted(links.index) == sorted(expected_days)  # L1, O1 and non-ruptured contracts absent
    for cid, days in expected_days.items():
        got = links.loc[cid, "days_to_new_contract"]
        assert (pd.isna(got) and days is None) or got == days, cid
    assert links.loc["H1", "next_contract_id"] == "H2"
    assert links.loc["H2", "next_contract_id"] == "H3"
    assert links.loc["F1", "next_contract_id"] == "F2"
    assert not links.loc["M1", "linkable"]
    assert links.loc["I1", "followup_days"] == 46


def test_link_includes_after_diploma_on_request(recontract_df):
    links = link_new_contracts(recontract_df, as_of=AS_OF, include_after_diploma=True).set_index(
        "contract_id"
    )
    assert links.loc["O1", "next_contract_id"] == "O2"
    assert (
        links.loc["O1", "days_to_new_contract"]
        == (pd.Timestamp("2024-09-01") - pd.Timestamp("2024-06-30")).days
    )


def test_link_tolerance_parameter(recontract_df):
    links = link_new_contracts(recontract_df, as_of=AS_OF, tolerance_days=0).set_index("contract_id")
    assert pd.isna(links.loc["F1", "days_to_new_contract"])  # F2 is 5 days early: no longer counted
    links = link_new_contracts(recontract_df, as_of=AS_OF, tolerance_days=30).set_index("contract_id")
    assert links.loc["G1", "days_to_new_contract"] == -29


def test_recontract_rates_hand_counts(recontract_df):
    out = recontract_rates(recontract_df, as_of=AS_OF).set_index("window_days")
    # 60 days: passed = A1 B1 C1 D1 E1 F1 G1 H1 H2 J1 K1 N1 P1 (13); re-contracted A1 F1 H1 K1 P1 (5)
    assert out.loc[60, ["n_ruptures", "n_recontracted", "n_window_open", "n_unlinkable"]].tolist() == [
        13,
        5,
        1,
        1,
    ]
    assert out.loc[60, "rate"] == pytest.approx(5 / 13)
    # 180 days: passed = ruptures up to 2025-01-01: A1 B1 C1 D1 E1 F1 G1 H1 H2 P1 (10);
    # re-contracted A1 B1 C1 F1 H1 H2 P1 (7); open: I1 J1 K1 N1
    assert out.loc[180, ["n_ruptures", "n_recontracted", "n_window_open"]].tolist() == [10, 7, 4]
    assert out.loc[180, "rate"] == pytest.approx(0.7)
    ci = stats.binomtest(7, 10).proportion_ci(method="wilson")
    assert out.loc[180, "ci_low"] == pytest.approx(ci.low)
    assert out.loc[180, "ci_high"] == pytest.approx(ci.high)


def test_recontract_rates_by_group_keeps_empty_group(recontract_df):
    out = recontract_rates(recontract_df, as_of=AS_OF, by="sector_group", windows=[180])
    assert out["sector_group"].tolist() == ["construction", "tertiaire"]
    empty = out.iloc[0]
    assert (empty["n_ruptures"], empty["n_recontracted"]) == (0, 0)
    assert np.isnan(empty["rate"]) and np.isnan(empty["ci_low"])
    assert out.iloc[1]["n_ruptures"] == 10


def test_recontract_rates_unknown_dimension(recontract_df):
    with pytest.raises(ParameterError, match="unknown dimension"):
        recontract_rates(recontract_df, as_of=AS_OF, by="colour")
    with pytest.raises(ParameterError, match="as_of is required"):
        recontract_rates(recontract_df, as_of=None)


def test_recontract_rates_does_not_mutate(recontract_df):
    before = recontract_df.copy()
    recontract_rates(recontract_df, as_of=AS_OF, by="start_year")
    pd.testing.assert_frame_equal(recontract_df, before)


NET_ROWS = [
    # broken within 9 months, new contract 45 days later: re-contracted
    ("n1", "N1", "2023-09-01", "2023-12-01"),
    ("n1b", "N1", "2024-01-15", None),
    # rupture exactly at 9 months: not within 9 months
    ("n2", "N2", "2023-09-01", "2024-06-01"),
    # one day before 9 months, no new contract: net rupture
    ("n3", "N3", "2023-09-01", "2024-05-31"),
    # new contract 181 days after the rupture: net rupture
    ("n4", "N4", "2023-09-01", "2023-10-01"),
    ("n4b", "N4", (pd.Timestamp("2023-10-01") + D(days=181)).strftime("%Y-%m-%d"), None),
    # start + 9 months + 180 days one day after as_of: not eligible
    ("n5", "N5", "2024-04-02", "2024-05-01"),
    # start + 9 months + 180 days == as_of: eligible
    ("n6", "N6", "2024-04-01", None),
    # rupture after the diploma: in the denominator, not a rupture
    ("n7", "N7", "2023-09-01", "2024-03-01", True),
]


def test_net_rupture_rate_hand_counts():
    out = net_rupture_rates(_frame(NET_ROWS), as_of=AS_OF).iloc[0]
    # eligible: n1 n1b n2 n3 n4 n4b n6 n7 = 8; within 9 months: n1 n3 n4; re-contracted: n1
    assert out[["n_contracts", "n_ruptures", "n_recontracted", "n_net_ruptures"]].tolist() == [8, 3, 1, 2]
    assert out["rate"] == pytest.approx(2 / 8)
    assert out["gross_rate"] == pytest.approx(3 / 8)
    assert out["recontract_share"] == pytest.approx(1 / 3)
    ci = stats.binomtest(2, 8).proportion_ci(method="wilson")
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (out["horizon_months"], out["window_days"]) == (9, 180)


def test_net_rupture_rate_nothing_eligible():
    out = net_rupture_rates(_frame(NET_ROWS), as_of="2024-01-01").iloc[0]
    assert out["n_contracts"] == 0 and np.isnan(out["rate"]) and np.isnan(out["gross_rate"])


KM_ROWS = [
    ("t1", "T1", "2024-09-01", "2025-01-01"),
    ("t1b", "T1", "2025-01-11", None),  # +10 days
    ("t2", "T2", "2024-09-01", "2025-01-01"),
    ("t2b", "T2", "2025-01-31", None),  # +30 days
    ("t3", "T3", "2024-09-01", "2025-06-10"),  # censored at 20 days
    ("t4", "T4", "2024-09-01", "2025-01-01"),  # censored at 180 days
    ("t5", "T5", "2024-09-01", "2025-01-01"),
    ("t5b", "T5", "2024-12-29", None),  # 3 days before the rupture: day 0
]


def _greenwood_loglog(s: float, terms: list[tuple[int, int]], level=0.95) -> tuple[float, float]:
    """Independent log-log interval for the cumulative share 1 - S (Kalbfleisch-Prentice)."""
    z = stats.norm.ppf(0.5 + level / 2)
    v = sum(dd / (nn * (nn - dd)) for nn, dd in terms)
    se = np.sqrt(v) / abs(np.log(s))
    s_lo, s_hi = s ** np.exp(z * se), s ** np.exp(-z * se)
    return 1 - s_hi, 1 - s_lo


def test_time_to_new_contract_km_by_hand():
    out = time_to_new_contract(_frame(KM_ROWS), as_of=AS_OF, days=[0, 10, 29, 30, 60, 365]).set_index("day")
    # times: 0 (event), 10 (event), 20 (censored), 30 (event), 180 (censored)
    # S(0) = 4/5, S(10) = 3/5, S(30) = 3/5 * 1/2 = 3/10
    assert out["cum_share"].tolist() == pytest.approx([0.2, 0.4, 0.4, 0.7, 0.7, 0.7])
    assert out["n_at_risk"].tolist() == [5, 4, 2, 2, 1, 0]
    assert out["n_recontracted"].tolist() == [1, 2, 2, 3, 3, 3]
    assert (out["n_ruptures"] == 5).all()
    lo, hi = _greenwood_loglog(0.3, [(5, 1), (4, 1), (2, 1)])
    assert (out.loc[30, "ci_low"], out.loc[30, "ci_high"]) == pytest.approx((lo, hi))
    lo, hi = _greenwood_loglog(0.8, [(5, 1)])
    assert (out.loc[0, "ci_low"], out.loc[0, "ci_high"]) == pytest.approx((lo, hi))


def test_time_to_new_contract_summary_by_hand():
    out = time_to_new_contract_summary(_frame(KM_ROWS), as_of=AS_OF).iloc[0]
    assert out[["n_ruptures", "n_recontracted", "n_censored"]].tolist() == [5, 3, 2]
    assert out["median_days_km"] == 30
    assert out[["q1_days", "median_days", "q3_days"]].tolist() == [5.0, 10.0, 20.0]


def test_time_to_new_contract_empty_and_all_censored_groups():
    rows = [
        *KM_ROWS,
        ("x1", "X1", "2024-09-01", "2025-01-01", False, "construction"),  # censored only
        ("y1", "Y1", "2024-09-01", None, False, "industrie"),  # no rupture at all
    ]
    out = time_to_new_contract(_frame(rows), as_of=AS_OF, by="sector_group", days=[30])
    out = out.set_index("sector_group")
    assert out.loc["construction", "cum_share"] == 0.0 and out.loc["construction", "n_ruptures"] == 1
    assert out.loc["industrie", "n_ruptures"] == 0 and np.isnan(out.loc["industrie", "cum_share"])
    assert out.loc["tertiaire", "cum_share"] == pytest.approx(0.7)
    summ = time_to_new_contract_summary(_frame(rows), as_of=AS_OF, by="sector_group").set_index(
        "sector_group"
    )
    assert np.isnan(summ.loc["construction", "median_days_km"])
    assert summ.loc["industrie", "n_ruptures"] == 0


def test_linking_is_sort_based_and_scales():
    """200 000 contracts link in well under a few seconds and agree with a naive per-apprentice scan."""
    rng = np.random.default_rng(1)
    n = 200_000
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1400, n), unit="D")
    rupt = pd.Series(start + pd.to_timedelta(rng.integers(0, 400, n), unit="D")).where(rng.random(n) < 0.3)
    df = pd.DataFrame(
        {
            "contract_id": pd.array(np.arange(n).astype(str), dtype="string"),
            "apprentice_key": pd.array(rng.integers(0, 120_000, n).astype(str), dtype="string"),
            "start_date": start,
            "rupture_date": rupt,
        }
    )
    t0 = time.perf_counter()
    links = days_to_new_contract(
        df, ruptured=df["rupture_date"].notna(), as_of=pd.Timestamp("2025-06-30"), tolerance_days=7
    )
    assert time.perf_counter() - t0 < 10
    # naive check on a sample of ruptures
    sample = df.loc[df["rupture_date"].notna()].sample(300, random_state=0)
    sub = df.loc[df["apprentice_key"].isin(sample["apprentice_key"])]
    for idx, row in sample.iterrows():
        g = sub.loc[sub["apprentice_key"] == row["apprentice_key"]]
        cand = g.loc[
            (g["start_date"] > row["start_date"])
            & (g["start_date"] >= row["rupture_date"] - D(days=7))
            & (g["start_date"] <= pd.Timestamp("2025-06-30"))
        ]
        got = links.loc[idx, "days_to_new_contract"]
        if cand.empty:
            assert pd.isna(got)
        else:
            assert got == (cand["start_date"].min() - row["rupture_date"]).days


def test_public_dimension_names_missing_values_and_suppression(recontract_df):
    df = recontract_df.assign(cfa_uai=pd.array(["0410590U"] * 20 + [None] * 9, dtype="string"))
    out = recontract_rates(df, as_of=AS_OF, by="cfa", windows=[60], min_n=5)
    assert out["cfa"].tolist() == ["0410590U", "inconnu"]
    # rows L1..Q1 have no CFA: among them N1 and P1 are 60-day-passed ruptures (M1 unlinkable)
    assert out["n_ruptures"].tolist() == [11, 2]
    assert out["n_unlinkable"].tolist() == [0, 1]
    assert out["suppressed"].tolist() == [False, True]
    assert out["suppression_reason"].tolist() == ["", "effectif < 5"]


def test_parameter_validation(recontract_df):
    with pytest.raises(ParameterError, match="window_days"):
        recontract_rates(recontract_df, as_of=AS_OF, windows=[-1])
    with pytest.raises(ParameterError, match="horizon_months"):
        net_rupture_rates(recontract_df, as_of=AS_OF, horizon_months=0)
    with pytest.raises(ParameterError, match="tolerance_days"):
        link_new_contracts(recontract_df, as_of=AS_OF, tolerance_days=-3)


def test_shared_links_give_the_same_tables(recontract_df):
    """Links computed once (link_ruptures) and passed as links= change no number of any table."""
    df = recontract_df.assign(school_year=pd.array(["2023-2024", "2024-2025"] * 14 + [None], dtype="string"))
    links = link_ruptures(df, as_of=AS_OF)
    for fn, kwargs in (
        (link_new_contracts, {}),
        (link_new_contracts, {"include_after_diploma": True}),
        (recontract_rates, {"by": "cohort"}),
        (net_rupture_rates, {"by": "cohort"}),
        (time_to_new_contract, {}),
        (time_to_new_contract_summary, {"by": "cohort"}),
    ):
        pd.testing.assert_frame_equal(
            fn(df, as_of=AS_OF, links=links, **kwargs), fn(df, as_of=AS_OF, **kwargs), check_exact=True
        )
    within = df["rupture_date"].notna() & (df["rupture_date"] < pd.Timestamp("2024-06-01"))
    pd.testing.assert_frame_equal(
        days_to_new_contract(df, ruptured=within, as_of=pd.Timestamp(AS_OF), links=links),
        days_to_new_contract(df, ruptured=within, as_of=pd.Timestamp(AS_OF)),
        check_exact=True,
    )


def test_shared_links_must_match_the_table_and_the_date(recontract_df):
    links = link_ruptures(recontract_df, as_of=AS_OF)
    with pytest.raises(ParameterError, match="as_of"):
        recontract_rates(recontract_df, as_of="2025-07-31", links=links)
    with pytest.raises(ParameterError, match="tolerance_days"):
        recontract_rates(recontract_df, as_of=AS_OF, tolerance_days=0, links=links)
    with pytest.raises(ParameterError, match="another contract table"):
        net_rupture_rates(recontract_df.iloc[1:], as_of=AS_OF, links=links)


def test_linking_ignores_keys_of_apprentices_without_rupture():
    """Keys are coded only among the ruptures' keys: other apprentices never link, whatever their key."""
    df = typed_contracts(
        [
            ("a1", "A", "2024-01-01", FAR, "2024-03-01"),
            ("a2", "A", "2024-04-01", FAR, None),
            ("b1", "B", "2024-01-01", FAR, None),
            ("b2", "B", "2024-04-01", FAR, None),
            ("n1", None, "2024-01-01", FAR, "2024-03-01"),
            ("n2", None, "2024-04-01", FAR, None),
        ],
        ["contract_id", "apprentice_key", "start_date", "planned_end_date", "rupture_date"],
    )
    out = days_to_new_contract(df, ruptured=df["rupture_date"].notna(), as_of=pd.Timestamp(AS_OF))
    assert out["next_contract_id"].tolist() == ["a2", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA]
    assert out["days_to_new_contract"].tolist() == [31, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA]
