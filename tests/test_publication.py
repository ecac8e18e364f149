"""The family's publication pass: an attacker who subtracts the CFA reports' tables from the
département's recovers no hidden cell (exactly, nor as a narrower interval than the suppression implies).

The attacker here is independent of the pass: it reads only the published tables (counts blanked
where suppressed), writes every sum the reports make visible (a CFA's categories add up to its
overall rate; the CFAs add up to the département), and solves a linear programme for the smallest
and largest value of every hidden count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from aioa_analysis.stats import publication as P
from aioa_analysis.stats import rates, suppression

SAMPLE = Path("/tmp/out-suppr14/sample/contracts.parquet")
AS_OF = pd.Timestamp("2025-11-30")


def attack(published: pd.DataFrame) -> pd.DataFrame:
    """Bounds an attacker derives for every blanked cell of ``published``.

    ``published``: ``dimension``, ``cfa``, ``category``, ``n``, ``k`` (NA when blanked); the total
    column has ``dimension == category == TOTAL``, the département row ``cfa == DEPARTEMENT``. Every
    blanked cell was shown as a row, so it has at least one contract.
    """
    cells = published.reset_index(drop=True)
    hid = np.flatnonzero(cells["n"].isna().to_numpy())
    var = {c: i for i, c in enumerate(hid)}
    nv = 2 * len(hid)  # n then k of each blanked cell
    rows_a, rows_b = [], []
    key = {
        (d, c, g): i
        for i, (d, c, g) in enumerate(zip(cells["dimension"], cells["cfa"], cells["category"], strict=True))
    }

    def equation(members: list[int], margin: int) -> None:
        for q, off in (("n", 0), ("k", len(hid))):
            a, b = np.zeros(nv), 0.0
            for i, s in [(m, 1.0) for m in members] + [(margin, -1.0)]:
                if i in var:
                    a[var[i] + off] += s
                else:
                    b -= s * float(cells.loc[i, q])
            if a.any():
                rows_a.append(a)
                rows_b.append(b)

    for (_dim, cfa), g in cells.loc[cells["dimension"] != P.TOTAL].groupby(["dimension", "cfa"]):
        equation(list(g.index), key[(P.TOTAL, cfa, P.TOTAL)])
    inner = cells.loc[(cells["dimension"] != P.TOTAL) & (cells["cfa"] != P.DEPARTEMENT)]
    for (dim, cat), g in inner.groupby(["dimension", "category"]):
        equation(list(g.index), key[(dim, P.DEPARTEMENT, cat)])
    tot = cells.loc[(cells["dimension"] == P.TOTAL) & (cells["cfa"] != P.DEPARTEMENT)]
    equation(list(tot.index), key[(P.TOTAL, P.DEPARTEMENT, P.TOTAL)])
    a_ub = np.zeros((len(hid), nv))  # k <= n
    for j in range(len(hid)):
        a_ub[j, j], a_ub[j, len(hid) + j] = -1.0, 1.0
    bounds = [(1, None)] * len(hid) + [(0, None)] * len(hid)
    a_eq, b_eq = np.array(rows_a), np.array(rows_b)

    def extent(vec: np.ndarray) -> tuple[float, float]:
        lo, hi = (
            linprog(sense * vec, A_ub=a_ub, b_ub=np.zeros(len(hid)), A_eq=a_eq, b_eq=b_eq, bounds=bounds)
            for sense in (1, -1)
        )
        return (lo.fun if lo.status == 0 else -np.inf), (-hi.fun if hi.status == 0 else np.inf)

    eye = np.eye(nv)
    out = []
    for j, c in enumerate(hid):
        n_vec, k_vec = eye[j], eye[len(hid) + j]
        out.append((c, *extent(n_vec), *extent(k_vec), *extent(n_vec - k_vec)))
    found = pd.DataFrame(out, columns=["cell", "n_lo", "n_hi", "k_lo", "k_hi", "nk_lo", "nk_hi"])
    return cells.loc[hid].reset_index(drop=True).join(found.drop(columns="cell"))


def published_family(
    contracts: pd.DataFrame, pattern: pd.DataFrame | None, *, min_n: int = 20
) -> pd.DataFrame:
    """The cells every report prints, counts blanked where suppressed.

    With ``pattern``: the family pass (:func:`P.apply_pattern`); without: the naive rule, each
    table suppressed on its own (:func:`suppression.suppress_rates`).
    """
    rows = []
    scopes = [(P.DEPARTEMENT, contracts)] + [(u, g) for u, g in contracts.groupby("cfa_uai")]
    for cfa, scope in scopes:
        for dim in P.PUBLICATION_DIMENSIONS:
            t = rates.rupture_rate_within(scope, as_of=AS_OF, by=dim, horizon_months=9)
            t = t.loc[t["n_contracts"] > 0].reset_index(drop=True)
            if pattern is not None:
                t = P.apply_pattern(t, pattern, dimension=dim, cfa=cfa)
            else:
                t = suppression.suppress_rates(t, by=[dim], min_n=min_n)
            rows.append(as_cells(suppression.mask_suppressed(t), dim, cfa, t[dim]))
    t = rates.rupture_rate_within(contracts, as_of=AS_OF, by="cfa", horizon_months=9)  # funnel table
    t = (
        P.apply_pattern(t, pattern, dimension=P.TOTAL, column="cfa")
        if pattern is not None
        else (suppression.suppress_rates(t, by=["cfa"], min_n=min_n))
    )
    rows.append(as_cells(suppression.mask_suppressed(t), P.TOTAL, t["cfa"], P.TOTAL))
    t = rates.rupture_rate_within(contracts, as_of=AS_OF, horizon_months=9)
    t = P.apply_pattern(t, pattern, dimension=P.TOTAL) if pattern is not None else suppression.flag_rates(t)
    rows.append(as_cells(suppression.mask_suppressed(t), P.TOTAL, P.DEPARTEMENT, P.TOTAL))
    return pd.concat(rows, ignore_index=True)


def as_cells(t: pd.DataFrame, dim: str, cfa: object, cat: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension": dim,
            "cfa": np.asarray(cfa, dtype=object) if not isinstance(cfa, str) else cfa,
            "category": np.asarray(cat, dtype=str) if not isinstance(cat, str) else cat,
            "n": t["n_contracts"].astype("Float64").to_numpy(),
            "k": t["n_ruptures"].astype("Float64").to_numpy(),
        }
    )


def leaks(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Hidden cells the attacker recovers exactly, or narrows to what the suppression hides.

    A hidden count of contracts, of ruptures or of contracts without rupture is recovered when its
    interval is one value; a count of 1-2 (ruptures or non-ruptures) when the attacker can tell it is
    1 or 2; a rate on fewer than ``min_n`` contracts when the attacker can tell it has under 3 contracts.
    """
    t = found.merge(truth, on=["dimension", "cfa", "category"], suffixes=("", "_true"))
    eps = 1e-6
    exact = (t["n_hi"] - t["n_lo"] < eps) | (t["k_hi"] - t["k_lo"] < eps) | (t["nk_hi"] - t["nk_lo"] < eps)
    k_small = t["k_true"].between(1, 2) & (t["k_lo"] > eps) & (t["k_hi"] < 3 - eps)
    nk_true = t["n_true"] - t["k_true"]
    nk_small = nk_true.between(1, 2) & (t["nk_lo"] > eps) & (t["nk_hi"] < 3 - eps)
    n_small = t["n_true"].between(1, 2) & (t["n_hi"] < 3 - eps)
    return t.loc[exact | k_small | nk_small | n_small]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    if not SAMPLE.is_file():
        pytest.skip(f"{SAMPLE} missing: run `bash /tmp/run_outputs.sh $PWD /tmp/out-suppr14`")
    from aioa_analysis.reporting.sections.context import read_contracts

    return read_contracts(SAMPLE)


@pytest.mark.slow
def test_family_of_reports_reveals_no_hidden_cell(sample: pd.DataFrame) -> None:
    truth = P.family_cells(sample, as_of=AS_OF, horizon=9)
    pattern = P.family_pattern(truth, min_n=20)
    published = published_family(sample, pattern)
    found = attack(published)
    assert len(found) == int(pattern["suppressed"].sum()) > 0  # every hidden cell is blanked somewhere
    assert leaks(found, truth.rename(columns={"n": "n_true", "k": "k_true"})).empty
    naive = attack(published_family(sample, None))  # the measured attack: the old rule leaks
    assert not leaks(naive, truth.rename(columns={"n": "n_true", "k": "k_true"})).empty


def hand_made() -> pd.DataFrame:
    """Three CFAs x two sectors; CFA A has 5 contracts in sector X (rate not published)."""
    inner = pd.DataFrame(
        {
            "cfa": ["A", "A", "B", "B", "C", "C"],
            "category": ["X", "Y", "X", "Y", "X", "Y"],
            "n": [5, 30, 40, 60, 50, 80],
            "k": [1, 6, 8, 12, 10, 20],
        }
    ).assign(dimension="sector")
    dept = (
        inner.groupby("category", as_index=False)[["n", "k"]]
        .sum()
        .assign(cfa=P.DEPARTEMENT, dimension="sector")
    )
    tot = inner.groupby("cfa", as_index=False)[["n", "k"]].sum().assign(category=P.TOTAL, dimension=P.TOTAL)
    grand = pd.DataFrame(
        {
            "dimension": [P.TOTAL],
            "cfa": [P.DEPARTEMENT],
            "category": [P.TOTAL],
            "n": [int(inner["n"].sum())],
            "k": [int(inner["k"].sum())],
        }
    )
    return pd.concat([inner, dept, tot, grand], ignore_index=True)[["dimension", "cfa", "category", "n", "k"]]


def blank(cells: pd.DataFrame, hidden: pd.Series) -> pd.DataFrame:
    return cells.assign(
        n=cells["n"].astype("Float64").mask(hidden.to_numpy()),
        k=cells["k"].astype("Float64").mask(hidden.to_numpy()),
    )


def test_hand_made_naive_rule_leaks_family_pass_does_not() -> None:
    cells = hand_made()
    truth = cells.rename(columns={"n": "n_true", "k": "k_true"})
    # naive: each report's table on its own (A's table hides X and its complement Y; the others nothing)
    naive = pd.Series(False, index=cells.index)
    for _cfa, g in cells.loc[cells["dimension"] == "sector"].groupby("cfa"):
        s = suppression.suppress_rates(g.rename(columns={"n": "n_contracts"}), by=["category"])
        naive.loc[g.index] = s["suppressed"].to_numpy()
    found = attack(blank(cells, naive))
    assert set(leaks(found, truth)["cfa"]) == {"A"}  # A's X recovered: département X - B's X - C's X
    pattern = P.family_pattern(cells, min_n=20)
    assert (
        pattern.loc[(pattern["cfa"] == "A") & (pattern["category"] == "X"), "reason"].item()
        == "effectif < 20"
    )
    secondary = pattern.loc[pattern["kind"] == "secondary", ["cfa", "category"]].agg(" ".join, axis=1)
    assert sorted(secondary) == ["A Y", "B X", "B Y"]  # A's row, column X (smaller than C's), B's row
    found = attack(blank(cells, pattern["suppressed"]))
    assert leaks(found, truth).empty


def test_counts_one_two_are_primary_and_zero_alone_is_not() -> None:
    n, k = pd.Series([20, 20, 20, 20, 19]), pd.Series([0, 2, 3, 18, 0])
    assert P.primary_reasons(n, k, min_n=20).tolist() == ["", P.PRIMARY_K, "", P.PRIMARY_NK, "effectif < 20"]


def test_pattern_is_pure_and_tidy() -> None:
    cells = hand_made()
    before = cells.copy()
    out = P.family_pattern(cells, min_n=20)
    pd.testing.assert_frame_equal(cells, before)
    assert list(out.columns) == list(P.PATTERN_COLUMNS)
    assert set(out["kind"]) <= {"", "primary", "secondary"}
    # no line of the table has exactly one hidden cell
    for idx, _ in P.family_lines(out):
        assert out["suppressed"].to_numpy()[idx].sum() != 1


def test_a_cfa_with_one_category_keeps_its_total() -> None:
    """A CFA whose row is one cell equal to its total is not chosen as a complement when another is."""
    cells = hand_made()
    extra = pd.DataFrame(
        {
            "dimension": ["sector", P.TOTAL],
            "cfa": ["D", "D"],
            "category": ["X", P.TOTAL],
            "n": [35, 35],
            "k": [7, 7],
        }
    )  # the smallest X
    cells = pd.concat([cells, extra], ignore_index=True)
    sums = (
        cells.loc[(cells["dimension"] == "sector") & (cells["cfa"] != P.DEPARTEMENT)]
        .groupby("category")[["n", "k"]]
        .sum()
    )
    for cat, (n_, k_) in sums.iterrows():
        sel = (cells["cfa"] == P.DEPARTEMENT) & (cells["category"] == cat)
        cells.loc[sel, ["n", "k"]] = [n_, k_]
    cells.loc[(cells["cfa"] == P.DEPARTEMENT) & (cells["dimension"] == P.TOTAL), ["n", "k"]] = [
        int(sums["n"].sum()),
        int(sums["k"].sum()),
    ]
    out = P.family_pattern(cells, min_n=20)
    assert not out.loc[out["cfa"] == "D", "suppressed"].any()
    assert leaks(
        attack(blank(cells, out["suppressed"])), cells.rename(columns={"n": "n_true", "k": "k_true"})
    ).empty


def test_apply_pattern_refuses_other_counts() -> None:
    pattern = P.family_pattern(hand_made(), min_n=20)
    t = pd.DataFrame(
        {"sector": ["X", "Y"], "n_contracts": [5, 31], "n_ruptures": [1, 6], "suppressed": [True, False]}
    )
    with pytest.raises(Exception, match="differ"):
        P.apply_pattern(t, pattern, dimension="sector", cfa="A")
    ok = P.apply_pattern(t.assign(n_contracts=[5, 30]), pattern, dimension="sector", cfa="A")
    assert ok["suppressed"].tolist() == [True, True]


@pytest.fixture(scope="module")
def cfa_ctx(sample: pd.DataFrame):
    from aioa_analysis.reporting.sections.context import prepare_report

    return prepare_report(data_file=str(SAMPLE), as_of="2025-11-30", cfa="0410957T")


def test_a_cfa_report_publishes_what_the_family_allows(cfa_ctx) -> None:
    import re

    from aioa_analysis.reporting.sections import layout
    from aioa_analysis.reporting.sections import publication as RP

    t = RP.published(cfa_ctx, cfa_ctx.results.sector_funnel, "sector")
    pattern = RP.family_pattern(cfa_ctx)
    cells = pattern.loc[(pattern["dimension"] == "sector") & (pattern["cfa"] == "0410957T")]
    assert dict(zip(t["sector"], t["suppressed"], strict=True)) == dict(
        zip(cells["category"], cells["suppressed"], strict=True)
    )
    html = layout.rate_table(t, "Secteur", table_id="t", caption="c", ctx=cfa_ctx)
    unknown = re.search(r"<tr><td>inconnu</td>(.*?)</tr>", html).group(1)  # 2 contracts, 0 rupture
    assert unknown.count("secret") == 4 and not re.search(r">\s*[0-2]\s*<", unknown)


def test_cohort_table_marks_partial_years_and_adds_the_dares_line(cfa_ctx) -> None:
    from aioa_analysis.core.schema import C
    from aioa_analysis.reporting.sections import publication as RP

    t = RP.cohort_table(cfa_ctx)
    c = cfa_ctx.contracts
    year = c.loc[c[C.school_year].astype(str) == "2024-2025"]
    observed = (year[C.start_date] + pd.DateOffset(months=9) <= AS_OF).mean()
    row = t.loc[t["cohort"].astype(str) == "2024-2025"].iloc[0]
    assert row["partial"] and row["coverage"] == pytest.approx(observed)
    assert "partielle" in row["label"] and "2023-2024" in set(t["label"])  # complete years unmarked
    last = t.iloc[-1]
    assert RP.dares_year(AS_OF, 9) == 2024 and last["label"].startswith("Contrats commencés en 2024")
    in_2024 = c.loc[c[C.start_date].dt.year == 2024]
    assert last["n_contracts"] == len(in_2024)  # every 2024 start is observed 9 months at as_of
    assert pd.isna(last["dares"])  # the reference table stops at 2022: said in the note
    assert "dernier chiffre : 21\u202f% (2022)" in RP.cohort_note(cfa_ctx, t)
