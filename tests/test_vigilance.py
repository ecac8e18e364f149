"""The one alerting policy: no CFA accused by chance or by case-mix, a real deviant found.

Acceptance tests of issue 14 on generated data whose truth is known (``sample.truth``): CFAs
specialised in trades of different risk; one optional CFA effect shared with a generalist.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pandas as pd
import pytest

from aioa_analysis import cli
from aioa_analysis.core.formatting import SPACE
from aioa_analysis.core.schema import coerce_contracts
from aioa_analysis.sample.truth import cfa_design, generate_contracts
from aioa_analysis.stats.vigilance import FINDING_COLUMNS, vigilance_findings

AS_OF = "2025-11-30"


def _cfa_alerts(findings: pd.DataFrame) -> set[str]:
    return set(findings.loc[(findings["dimension"] == "cfa") & findings["alert"], "group"])


@pytest.fixture(scope="module")
def generated():
    return generate_contracts(5000, seed=41, effect_cfa=2)


def test_columns_directions_and_french_sentences(generated):
    f = vigilance_findings(generated.contracts, as_of=AS_OF)
    assert list(f.columns) == FINDING_COLUMNS
    assert set(f["dimension"]) == {"cfa", "sector", "diploma_level", "season"}
    tested = f[f["p_value"].notna()]
    assert set(tested["direction"]) <= {"above", "below"}
    assert (tested["q_value"] >= tested["p_value"]).all()
    assert (f["alert"] == (f["q_value"] <= 0.05)).all()
    rate = f[f["kind"] == "rate_vs_rest"].iloc[0]
    assert f"{SPACE}%" in rate["sentence"] and "," in rate["sentence"]
    school = cfa_design()[6]["uai"]
    note = f[f["group"] == school].iloc[0]
    assert note["kind"] == "non_comparable" and not note["alert"] and "non comparable" in note["sentence"]
    summer = f[f["dimension"] == "season"].iloc[0]
    assert "fin de l'année de formation" in summer["sentence"]


def test_one_cfa_keeps_the_whole_family_for_its_adjustment(generated):
    full = vigilance_findings(generated.contracts, as_of=AS_OF)
    uai = generated.parameters["effect_cfa"]
    one = vigilance_findings(generated.contracts, as_of=AS_OF, cfa=uai)
    assert set(one.loc[one["dimension"] == "cfa", "group"]) == {uai}
    merged = one.merge(full, on=["dimension", "group"], suffixes=("", "_full"))
    assert len(merged) == len(one)
    np.testing.assert_allclose(merged["q_value"], merged["q_value_full"])


def test_no_comparable_cfa_still_gives_the_other_findings(generated):
    """One CFA alone is never comparable (nothing to compare it with): no CFA test, the sectors,
    levels and season still tested (this crashed before: the loop over comparable CFAs never ran)."""
    c = generated.contracts
    alone = c[c["cfa_uai"] == c["cfa_uai"].value_counts().index[0]]
    f = vigilance_findings(alone, as_of=AS_OF)
    cfa = f[f["dimension"] == "cfa"]
    assert len(cfa) == 1 and cfa["p_value"].isna().all() and not cfa["alert"].any()
    assert f.loc[f["dimension"] == "sector", "p_value"].notna().any()


def test_bh_is_available_and_never_stricter_than_holm(generated):
    holm = vigilance_findings(generated.contracts, as_of=AS_OF)
    bh = vigilance_findings(generated.contracts, as_of=AS_OF, method="bh")
    assert bh["alert"].sum() >= holm["alert"].sum()


@pytest.mark.slow
def test_no_cfa_alert_without_cfa_effect_in_19_of_20_data_sets():
    with_alert = [
        bool(_cfa_alerts(vigilance_findings(generate_contracts(6000, seed=2000 + s).contracts, as_of=AS_OF)))
        for s in range(20)
    ]
    assert sum(with_alert) <= 1


@pytest.mark.slow
def test_a_cfa_breaking_1_8_times_more_is_flagged_and_no_other():
    found, others = 0, 0
    for s in range(5):
        g = generate_contracts(8000, seed=3000 + s, effect_cfa=2, effect_ratio=1.8)
        alerts = _cfa_alerts(vigilance_findings(g.contracts, as_of=AS_OF))
        found += g.parameters["effect_cfa"] in alerts
        others += len(alerts - {g.parameters["effect_cfa"]})
    assert found >= 4
    assert others == 0


@pytest.mark.slow
def test_the_committed_sample_does_not_name_cma_41(tmp_path, monkeypatch):
    from aioa_analysis.ingest.pipeline import run_clean

    monkeypatch.setenv("AIOA_KEY_FILE", str(tmp_path / "pseudonym.key"))
    raw = pathlib.Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
    run_clean([raw], out_dir=tmp_path / "processed", restricted_dir=tmp_path / "restricted")
    f = vigilance_findings(pd.read_parquet(tmp_path / "processed" / "contracts.parquet"), as_of=AS_OF)
    assert "0410590U" not in _cfa_alerts(f)


def _write(tmp_path, frame):
    path = tmp_path / "contracts.parquet"
    coerce_contracts(frame.drop(columns=["true_outcome", "true_rupture_date"])).to_parquet(path)
    return path


def test_cli_json_and_csv(capsys, tmp_path, generated):
    path = _write(tmp_path, generated.contracts)
    assert cli.main(["vigilance", "--data", str(path), "--as-of", AS_OF, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert isinstance(records, list) and set(records[0]) == set(FINDING_COLUMNS)
    uai = generated.parameters["effect_cfa"]
    assert cli.main(["vigilance", "--data", str(path), "--as-of", AS_OF, "--cfa", uai]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(FINDING_COLUMNS)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2025-02-30"], "not a valid date"),
        (["--as-of", AS_OF, "--cfa", "0000000Z"], "not a CFA of the data"),
        (["--as-of", AS_OF, "--level", "2"], "--level"),
    ],
)
def test_cli_errors_are_one_line_exit_2(capsys, tmp_path, generated, args, message):
    path = _write(tmp_path, generated.contracts)
    assert cli.main(["vigilance", "--data", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_rates_measure_whole_contract(capsys, tmp_path, generated):
    path = _write(tmp_path, generated.contracts)
    base = ["rates", "--data", str(path), "--as-of", AS_OF, "--by", "cfa"]
    assert cli.main(base) == 0
    default = capsys.readouterr().out
    assert cli.main([*base, "--measure", "within_horizon"]) == 0
    assert capsys.readouterr().out == default
    assert cli.main([*base, "--measure", "whole_contract"]) == 0
    whole = capsys.readouterr().out.splitlines()
    header = whole[0].split(",")
    assert set(default.splitlines()[0].split(",")) < set(header)
    assert "estimator" in header and "curve_stopped" in header
    assert cli.main([*base, "--measure", "whole_contract", "--unit", "apprentice"]) == 2
