"""Issue 18's tables: the first 45 days, the reasons, the trend by school year, the profiles; their
suppression families; the sections on the sample."""

from __future__ import annotations

import re
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.stats import breakdowns as B
from aioa_analysis.stats import publication as P
from aioa_analysis.stats import rates
from tests.test_publication import AS_OF, SAMPLE, attack, leaks


def small() -> pd.DataFrame:
    """Six contracts started 2024-09-01 (observed 9 months at 2025-06-30) and one too recent."""
    return pd.DataFrame(
        {
            "cfa_uai": ["A", "A", "A", "B", "B", "B", "B"],
            "sector": ["x", "x", "y", "x", "y", "y", "x"],
            "school_year": ["2024-2025"] * 7,
            "start_date": pd.to_datetime(["2024-09-01"] * 6 + ["2025-06-01"]),
            "planned_end_date": pd.to_datetime(["2026-08-31"] * 7),
            # day 45 (early), day 46 (not early), day 150, none, day 0 (early), day 273 = 9 months exactly
            "rupture_date": pd.to_datetime(
                ["2024-10-16", "2024-10-17", "2025-01-29", None, "2024-09-01", "2025-06-01", "2025-06-02"]
            ),
            "rupture_reason_category": pd.array(
                [
                    "periode_essai_45j",
                    None,
                    "commun_accord",
                    None,
                    "periode_essai_45j",
                    "commun_accord",
                    None,
                ],
                dtype="string",
            ),
        }
    )


def test_early_ruptures_by_hand() -> None:
    t = B.early_ruptures(small(), as_of="2025-06-30", by="sector", min_n=0)
    got = t.set_index("sector")[["n_contracts", "n_ruptures", "n_early"]].to_dict("index")
    # x: a (day 45), b (day 46), d (none) observed; the last one is not; y: c (day 150), e (day 0), f (9 m)
    assert got == {
        "x": {"n_contracts": 3, "n_ruptures": 2, "n_early": 1},
        "y": {"n_contracts": 3, "n_ruptures": 2, "n_early": 1},
    }
    assert t["share_early"].tolist() == [0.5, 0.5]
    assert (t["early_days"] == 45).all() and (t["horizon_months"] == 9).all()


def test_reason_shares_by_hand() -> None:
    t = B.reason_shares(small(), as_of="2025-06-30", min_n=0).set_index("rupture_reason")
    # ruptures within 9 months: a (essai), b (unknown), c (accord), e (essai); f is exactly 9 months
    assert t["n_ruptures"].to_dict() == {"commun_accord": 1, "periode_essai_45j": 2, "inconnu": 1}
    assert t["n_early"].to_dict() == {"commun_accord": 0, "periode_essai_45j": 2, "inconnu": 0}
    assert (t["n_ruptures_total"] == 4).all() and t.loc["periode_essai_45j", "share"] == 0.5
    by_cfa = B.reason_shares(small(), as_of="2025-06-30", by="cfa", min_n=0)
    assert by_cfa.groupby("cfa")["n_ruptures"].sum().to_dict() == {"A": 3, "B": 1}


def test_cohort_trend_by_hand() -> None:
    t = B.cohort_trend(small(), as_of="2025-06-30", min_n=0)
    got = {(r.cfa, r.cohort): (r.n_contracts, r.n_ruptures) for r in t.itertuples()}
    assert got == {
        ("A", "2024-2025"): (3, 3),
        ("B", "2024-2025"): (3, 1),
        (P.DEPARTEMENT, "2024-2025"): (6, 4),
    }
    assert not t["complete"].any() and t["coverage"].iloc[0] == pytest.approx(6 / 7)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    if not SAMPLE.is_file():
        pytest.skip(f"{SAMPLE} missing")
    from aioa_analysis.reporting.sections.context import read_contracts

    return read_contracts(SAMPLE)


def _independent(sample: pd.DataFrame) -> pd.DataFrame:
    """The 9-month cohort and its ruptures, computed with plain pandas."""
    c = sample.loc[sample["start_date"].notna()].copy()
    end = c["start_date"] + pd.DateOffset(months=9)
    c = c.loc[end <= AS_OF]
    end = c["start_date"] + pd.DateOffset(months=9)
    real = (
        c["rupture_date"].notna() & (c["rupture_date"] <= AS_OF) & (c["rupture_date"] < c["planned_end_date"])
    )
    after = c["rupture_after_diploma"].astype("boolean").fillna(False).astype(bool)
    c["broken"] = real & ~after & (c["rupture_date"] < end)
    c["early"] = c["broken"] & ((c["rupture_date"] - c["start_date"]).dt.days <= 45)
    return c


def test_early_ruptures_on_the_sample_match_a_plain_groupby(sample: pd.DataFrame) -> None:
    c = _independent(sample)
    want = c.groupby(c["sector"].fillna("inconnu"))[["broken", "early"]].sum()
    got = B.early_ruptures(sample, as_of=AS_OF, by="sector").set_index("sector")
    assert got["n_ruptures"].to_dict() == want["broken"].to_dict()
    assert got["n_early"].to_dict() == want["early"].to_dict()
    # the same ruptures as the headline rate
    head = rates.rupture_rate_within(sample, as_of=AS_OF, by="sector").set_index("sector")
    assert got["n_ruptures"].to_dict() == head["n_ruptures"].to_dict()


def test_reasons_on_the_sample_match_value_counts(sample: pd.DataFrame) -> None:
    c = _independent(sample)
    broken = c.loc[c["broken"]]
    want = broken["rupture_reason_category"].fillna("inconnu").value_counts().to_dict()
    got = B.reason_shares(sample, as_of=AS_OF).set_index("rupture_reason")
    assert got["n_ruptures"].to_dict() == want
    assert got["share"].sum() == pytest.approx(1.0)


def test_cohort_trend_on_the_sample_matches_a_plain_groupby(sample: pd.DataFrame) -> None:
    c = _independent(sample)
    want = c.groupby(["cfa_uai", "school_year"])["broken"].agg(["size", "sum"])
    t = B.cohort_trend(sample, as_of=AS_OF)
    cfa = t.loc[~t["cfa"].isin([P.DEPARTEMENT, "inconnu"])].set_index(["cfa", "cohort"])
    for key, row in cfa.iterrows():
        assert (row["n_contracts"], row["n_ruptures"]) == tuple(want.loc[key]), key
    dept = t.loc[t["cfa"] == P.DEPARTEMENT].set_index("cohort")
    per_year = c.groupby("school_year")["broken"].agg(["size", "sum"])
    for cohort, row in dept.iterrows():
        assert (row["n_contracts"], row["n_ruptures"]) == tuple(per_year.loc[cohort])
    assert dept["complete"].tolist()[:-1] == [True] * (len(dept) - 1) and not dept["complete"].iloc[-1]


def test_count_family_hides_ones_and_twos_and_protects_its_lines() -> None:
    inner = pd.DataFrame(
        {"cfa": ["A", "A", "B", "B"], "category": ["x", "y", "x", "y"], "n": [1, 30, 40, 50], "k": 0}
    ).assign(dimension="r")
    dept = inner.groupby("category", as_index=False)["n"].sum().assign(cfa=P.DEPARTEMENT, dimension="r", k=0)
    tot = inner.groupby("cfa", as_index=False)["n"].sum().assign(category=P.TOTAL, dimension=P.TOTAL, k=0)
    grand = pd.DataFrame(
        {"dimension": [P.TOTAL], "cfa": [P.DEPARTEMENT], "category": [P.TOTAL], "n": [121], "k": [0]}
    )
    cells = pd.concat([inner, dept, tot, grand], ignore_index=True)
    out = P.family_pattern(cells, min_n=0, count=True)
    hidden = set(out.loc[out["suppressed"], ["cfa", "category"]].itertuples(index=False, name=None))
    assert ("A", "x") in hidden and out.loc[
        (out["cfa"] == "A") & (out["category"] == "x"), "reason"
    ].item() == (P.PRIMARY_COUNT)
    for idx, _ in P.family_lines(out):  # no line with exactly one hidden cell
        assert out["suppressed"].to_numpy()[idx].sum() != 1


@pytest.fixture(scope="module")
def patterns(sample: pd.DataFrame) -> dict[str, pd.DataFrame]:
    rate = P.publication_pattern(sample, as_of=AS_OF, horizon=9, min_n=20)
    reasons = B.reason_pattern(sample, as_of=AS_OF, horizon=9, rate_pattern=rate)
    early = B.early_pattern(sample, as_of=AS_OF, horizon=9, min_n=20, hidden_elsewhere=[rate, reasons])
    return {"rate": rate, "reasons": reasons, "early": early}


@pytest.mark.slow
def test_the_45_days_family_reveals_no_hidden_cell(patterns: dict[str, pd.DataFrame]) -> None:
    early = patterns["early"]
    truth = early[["dimension", "cfa", "category", "n", "k"]]
    hidden = early["suppressed"].to_numpy()
    published = truth.assign(
        n=truth["n"].astype("Float64").mask(hidden), k=truth["k"].astype("Float64").mask(hidden)
    )
    found = attack(published)
    assert len(found) == int(hidden.sum()) > 0
    assert leaks(found, truth.rename(columns={"n": "n_true", "k": "k_true"})).empty

    # a cell the rate family (or the reason family) hides stays hidden here: it would print its ruptures
    def keys(t: pd.DataFrame) -> set[tuple[object, ...]]:
        return set(
            t.loc[t["suppressed"], ["dimension", "cfa", "category"]].itertuples(index=False, name=None)
        )

    mine = set(truth[["dimension", "cfa", "category"]].itertuples(index=False, name=None))
    assert ((keys(patterns["rate"]) | keys(patterns["reasons"])) & mine) <= keys(early)


def test_profile_dimensions_are_in_the_family(patterns: dict[str, pd.DataFrame]) -> None:
    dims = set(patterns["rate"]["dimension"])
    assert {"territory", "age_band", "employer_size"} <= dims
    for idx, _ in P.family_lines(patterns["reasons"]):
        assert patterns["reasons"]["suppressed"].to_numpy()[idx].sum() != 1
    r = patterns["reasons"]
    assert not (r.loc[~r["suppressed"], "n"].between(1, 2)).any()


@pytest.fixture(scope="module")
def rendered(sample: pd.DataFrame) -> dict[str, str]:
    import aioa_analysis.reporting.display as D
    from aioa_analysis.reporting import sections as S
    from aioa_analysis.reporting.sections.context import prepare_report

    pages = {}
    for cfa in ("", "0410957T"):
        ctx = prepare_report(data_file=str(SAMPLE), as_of="2025-11-30", cfa=cfa)
        out: list[str] = []

        def keep(bundle: object, kind: str, out: list[str] = out) -> None:
            out.append(bundle.get("text/html", "") if isinstance(bundle, dict) else str(bundle))

        with mock.patch.object(D, "_display", keep):
            for show in (S.show_profils, S.show_motifs, S.show_premiers_jours, S.show_tendance):
                show(ctx)
        pages[cfa] = "\n".join(out)
    return pages


@pytest.mark.slow
def test_sections_render_with_their_headings(rendered: dict[str, str]) -> None:
    for page in rendered.values():
        for anchor, title in (
            ("profils", "Profils"),
            ("motifs", "Motifs de rupture"),
            ("premiers-jours", "Les 45 premiers jours"),
            ("tendance", "Tendance"),
        ):
            assert f'id="{anchor}"' in page and title in page
        for table in (
            "tab-profil-territory",
            "tab-profil-age-band",
            "tab-profil-employer-size",
            "tab-motifs",
        ):
            assert f'id="{table}"' in page
        assert page.count('<figure class="chart"') == 2  # fig-45-jours, fig-tendance
        assert not re.search(r"<td[^>]*>\s*[12]\s*</td>", page)  # counts of 1 or 2 are never printed
    dept = rendered[""]
    assert re.search(r"Le motif est inconnu pour \d+\u202f% des ruptures", dept)
    assert "Département" in rendered["0410957T"]  # the département's figure beside the CFA's
    assert np.all([c in dept for c in ("2022-2023", "2024-2025 (partielle)")])
