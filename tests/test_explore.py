"""The analyst's helpers (:mod:`aioa_analysis.reporting.explore`) against plain pandas.

Every count is recomputed here from the definitions (a contract followed ``H`` months, broken within
``H`` months of its start before its planned end and by ``as_of``, not after the diploma) with plain
pandas, on the fake table of the report tests and on the committed sample cleaned in a tmp dir.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import aioa_analysis
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import DIMENSIONS, FORBIDDEN_IN_CONTRACTS, IDENTITY_DTYPES, C
from aioa_analysis.reporting import explore
from aioa_analysis.stats.dimensions import valid_dimensions
from tests.report_fakes import AS_OF, make_contracts

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"


def plain(contracts: pd.DataFrame, as_of: str, horizon: int | None = 9) -> pd.DataFrame:
    """Each contract's ``eligible`` and ``broken`` flags, from the definitions, in plain pandas."""
    ts = pd.Timestamp(as_of)
    start, rupture = contracts["start_date"], contracts["rupture_date"]
    after = contracts["rupture_after_diploma"].astype("boolean").fillna(False).astype(bool)
    seen = rupture.notna() & (rupture <= ts) & (rupture < contracts["planned_end_date"]) & ~after
    if horizon is None:
        eligible = start.notna() & (start <= ts)
        broken = eligible & seen
    else:
        end = start + pd.DateOffset(months=horizon)
        eligible = start.notna() & (end <= ts)
        broken = eligible & seen & (rupture < end)
    return contracts.assign(eligible=eligible, broken=broken)


@pytest.fixture(scope="module")
def fake() -> pd.DataFrame:
    return make_contracts(600)


def test_contracts_behind_each_sector_and_cfa_are_the_plain_counts(fake):
    flags = plain(fake, AS_OF)
    for (cfa, sector), g in flags.groupby([C.cfa_uai, C.sector]):
        every = explore.contracts_behind(fake, as_of=AS_OF, cfa=cfa, sector=sector)
        broken = explore.contracts_behind(fake, as_of=AS_OF, ruptured=True, cfa=cfa, sector=sector)
        intact = explore.contracts_behind(fake, as_of=AS_OF, ruptured=False, cfa=cfa, sector=sector)
        assert sorted(every[C.contract_id]) == sorted(g.loc[g["eligible"], C.contract_id])
        assert sorted(broken[C.contract_id]) == sorted(g.loc[g["broken"], C.contract_id])
        assert len(broken) + len(intact) == len(every)
        assert broken["ruptured_within_horizon"].all() and not intact["ruptured_within_horizon"].any()


def test_contracts_behind_other_horizons_lists_and_unknown_values(fake):
    for h in (6, 12):
        flags = plain(fake, AS_OF, h)
        got = explore.contracts_behind(fake, as_of=AS_OF, horizon=h, ruptured=True)
        assert sorted(got[C.contract_id]) == sorted(flags.loc[flags["broken"], C.contract_id])
    flags = plain(fake, AS_OF, None)  # every contract started by as_of, ruptures observed so far
    got = explore.contracts_behind(fake, as_of=AS_OF, horizon=None, ruptured=True, start_month=[7, 8])
    summer = flags["broken"] & flags["start_date"].dt.month.isin([7, 8])
    assert sorted(got[C.contract_id]) == sorted(flags.loc[summer, C.contract_id])
    holes = fake.assign(sector=fake[C.sector].where(fake.index % 7 != 0))
    unknown = explore.contracts_behind(holes, as_of=AS_OF, horizon=None, sector="inconnu")
    assert sorted(unknown[C.contract_id]) == sorted(holes.loc[holes.index % 7 == 0, C.contract_id])
    with pytest.raises(ParameterError):
        explore.contracts_behind(fake, as_of=AS_OF, surname="X")


def test_contracts_behind_shows_no_identity_column_and_leaves_the_input(fake):
    assert not set(explore.SHOWN_COLUMNS) & (set(IDENTITY_DTYPES) | set(FORBIDDEN_IN_CONTRACTS))
    leaky = fake.assign(
        surname="DUPONT",
        birth_date=pd.Timestamp("2005-01-01"),
        phone="0601020304",
        apprentice_key="k",
        residence_postcode="41000",
        employer_siret="12345678900011",
        age_at_start=17,
    )
    before = leaky.copy()
    out = explore.contracts_behind(leaky, as_of=AS_OF, sex="F")
    assert set(out.columns) <= set(explore.SHOWN_COLUMNS) | {"outcome", "ruptured_within_horizon"}
    assert len(out) == int(plain(leaky.loc[leaky[C.sex] == "F"], AS_OF)["eligible"].sum())
    pd.testing.assert_frame_equal(leaky, before)


def test_cross_is_the_plain_two_way_table_with_wilson_intervals(fake):
    t = explore.cross(fake, "sector", "diploma_level", as_of=AS_OF, min_n=0, masked=False)
    flags = plain(fake, AS_OF)
    flags = flags.loc[flags["eligible"]]
    expected = flags.groupby([C.sector, C.diploma_level]).agg(n=("broken", "size"), k=("broken", "sum"))
    got = t.set_index(["sector", "diploma_level"]).sort_index()
    assert got.index.tolist() == expected.sort_index().index.tolist()
    assert got["n_contracts"].tolist() == expected.sort_index()["n"].tolist()
    assert got["n_ruptures"].tolist() == expected.sort_index()["k"].tolist()
    assert np.allclose(got["rate"], got["n_ruptures"] / got["n_contracts"])
    for r in t.itertuples():
        ci = stats.binomtest(int(r.n_ruptures), int(r.n_contracts)).proportion_ci(0.95, method="wilson")
        assert r.ci_low == pytest.approx(ci.low, abs=1e-9) and r.ci_high == pytest.approx(ci.high, abs=1e-9)


def test_cross_suppresses_small_cells_and_their_complements(fake):
    t = explore.cross(fake, "cfa", "sector", as_of=AS_OF, min_n=20, masked=False)
    shown = t.loc[~t["suppressed"]]
    assert (shown["n_contracts"] >= 20).all()
    assert not shown["n_ruptures"].between(1, 2).any()
    assert not (shown["n_contracts"] - shown["n_ruptures"]).between(1, 2).any()
    small = (t["n_contracts"] < 20) | t["n_ruptures"].between(1, 2)
    assert t.loc[small, "suppressed"].all()
    for dim in ("cfa", "sector"):  # a line with a single hidden cell says its margin must be hidden
        single = t.groupby(dim)["suppressed"].transform("sum").eq(1) & t["suppressed"]
        assert t.loc[single, "suppression_reason"].str.contains("marge à masquer").all(), dim
    assert (t["suppression_reason"] == "secondaire").any()  # the complements are there
    masked = explore.cross(fake, "cfa", "sector", as_of=AS_OF, min_n=20)
    assert masked["suppressed"].tolist() == t["suppressed"].tolist()
    assert masked.loc[masked["suppressed"], ["n_contracts", "n_ruptures", "rate"]].isna().all().all()


def test_dimensions_cover_every_public_name_in_french():
    d = explore.dimensions()
    assert d["dimension"].tolist() == valid_dimensions()
    assert d["colonne"].tolist() == [DIMENSIONS[n] for n in valid_dimensions()]
    assert d["signification"].str.len().gt(10).all()


def test_french_labels_a_rate_table_without_touching_it(fake):
    t = explore.cross(fake, "diploma_level", as_of=AS_OF, min_n=0, masked=False)
    before = t.copy()
    f = explore.french(t)
    assert {"Niveau de diplôme", "Contrats observés", "Ruptures", "Taux (%)"} <= set(f.columns)
    assert f["Niveau de diplôme"].str.startswith("Niveau ").all()
    assert np.allclose(f["Taux (%)"], (t["rate"] * 100).round(1))
    pd.testing.assert_frame_equal(t, before)


def test_the_helpers_are_on_the_package_face():
    assert aioa_analysis.explore is explore
    assert aioa_analysis.cross is explore.cross
    assert aioa_analysis.contracts_behind is explore.contracts_behind


# --- on the committed sample, cleaned in a tmp dir, against the report's own tables -------------


@pytest.fixture(scope="module")
def report_ctx(tmp_path_factory):
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.reporting import prepare_report

    tmp = tmp_path_factory.mktemp("explore")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIOA_KEY_FILE", str(tmp / "pseudonym.key"))
        mp.setenv("AIOA_RESTRICTED_DIR", str(tmp / "restricted"))
        run = run_clean([SAMPLE], out_dir=tmp / "processed", restricted_dir=tmp / "restricted")
    return prepare_report(data_file=str(run.out_dir / "contracts.parquet"))


@pytest.mark.slow
@pytest.mark.parametrize(("dim", "field"), [("sector", "by_sector"), ("diploma_level", "by_level")])
def test_cross_by_one_dimension_is_the_report_table(report_ctx, dim, field):
    ctx = report_ctx
    t = explore.cross(ctx.contracts, dim, as_of=ctx.as_of, horizon=ctx.horizon, min_n=ctx.min_n, masked=False)
    report = getattr(ctx.results, field)
    merged = t.merge(report, on=dim, suffixes=("", "_report"), validate="one_to_one")
    assert len(merged) == len(t) == len(report)
    for col in ("n_contracts", "n_ruptures", "rate", "ci_low", "ci_high"):
        assert np.allclose(merged[col], merged[f"{col}_report"], equal_nan=True), col


@pytest.mark.slow
def test_sample_cross_and_contracts_behind_against_plain_pandas(report_ctx):
    ctx = report_ctx
    as_of = str(ctx.as_of.date())
    flags = plain(ctx.contracts, as_of)
    t = explore.cross(ctx.contracts, "cfa", "cohort", as_of=ctx.as_of, min_n=0, masked=False)
    eligible = flags.loc[flags["eligible"]]
    expected = eligible.groupby([C.cfa_uai, C.school_year]).agg(n=("broken", "size"), k=("broken", "sum"))
    got = t.set_index(["cfa", "cohort"]).sort_index()
    assert got["n_contracts"].tolist() == expected.sort_index()["n"].tolist()
    assert got["n_ruptures"].tolist() == expected.sort_index()["k"].tolist()
    # the ruptures behind each published CFA x sector x cohort cell are the plain ones
    keys = eligible[[C.cfa_uai, C.sector, C.school_year]].drop_duplicates().head(12)
    for cfa, sector, cohort in keys.itertuples(index=False):
        behind = explore.contracts_behind(
            ctx.contracts, as_of=ctx.as_of, ruptured=True, cfa=cfa, sector=sector, cohort=cohort
        )
        mine = flags["broken"] & (flags[C.cfa_uai] == cfa) & (flags[C.sector] == sector)
        mine &= flags[C.school_year] == cohort
        assert sorted(behind[C.contract_id]) == sorted(flags.loc[mine, C.contract_id])
