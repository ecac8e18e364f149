"""Points de vigilance: a sentence only for a statistically supported finding, never for a hidden cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.reporting import findings as F

NN = "\u202f"


def funnel_rows():
    return pd.DataFrame(
        {
            "label": ["Alarme", "Alerte95", "Dedans", "Petit", "Bas"],
            "n_contracts": [150, 120, 100, 12, 90],
            "rate": [0.40, 0.30, 0.21, 0.70, 0.05],
            "flag": ["above_998", "above_95", "within", "above_998", "below_998"],
            "suppressed": [False, False, False, True, False],
        }
    )


def test_funnel_only_above_998_and_visible():
    out = F.funnel_findings(funnel_rows(), label="label", anchor="fig-cfa-funnel", target=0.21)
    assert [f.subject for f in out] == ["Alarme"]  # not the 95 % alert, not the suppressed unit, not "below"
    f = out[0]
    assert f.anchor == "fig-cfa-funnel" and f.severity == "alerte"
    assert f"40,0{NN}%" in f.text and "150 contrats" in f.text and f"21,0{NN}%" in f.text


def test_funnel_without_flag_column_says_nothing():
    assert F.funnel_findings(funnel_rows().drop(columns="flag"), label="label", anchor="a", target=0.2) == []


def test_oe_interval_must_exclude_one():
    t = pd.DataFrame(
        {
            "label": ["haut", "limite", "bas", "cache", "inconnu"],
            "oe_ratio": [1.5, 1.3, 0.6, 3.0, np.nan],
            "oe_ci_low": [1.01, 1.0, 0.4, 1.5, np.nan],  # exactly 1: not excluded
            "oe_ci_high": [2.0, 1.7, 0.95, 5.0, np.nan],
            "suppressed": [False, False, False, True, False],
        }
    )
    out = F.oe_findings(t, label="label", anchor="tab-cfa-oe")
    assert [(f.subject, f.severity) for f in out] == [("haut", "alerte"), ("bas", "information")]
    assert "1,50 fois" in out[0].text and "[1,01 ; 2,00]" in out[0].text


def test_hazard_ratio_needs_lower_bound_above_one():
    t = pd.DataFrame(
        {
            "period": ["l'été", "l'hiver"],
            "hazard_ratio": [1.6, 1.4],
            "ci_low": [1.2, 0.95],
            "ci_high": [2.1, 2.0],
        }
    )
    out = F.hazard_ratio_findings(t, anchor="fig-saison")
    assert [f.subject for f in out] == ["l'été"]
    assert out[0].anchor == "fig-saison" and "1,60 fois" in out[0].text


def test_hazard_ratio_below_one_is_information_and_qualifier_is_stated():
    t = pd.DataFrame(
        {
            "period": ["l'été", "l'hiver", "le printemps"],
            "rate_ratio": [2.02, 0.8, 1.1],
            "ci_low": [1.83, 0.7, float("nan")],  # missing bound: no sentence
            "ci_high": [2.23, 0.9, 1.3],
        }
    )
    out = F.hazard_ratio_findings(
        t, anchor="fig-saison-ajuste", ratio="rate_ratio", qualifier="à ancienneté égale"
    )
    assert [(f.subject, f.severity) for f in out] == [("l'été", "alerte"), ("l'hiver", "information")]
    assert "2,02 fois celui du reste de l'année, à ancienneté égale (IC 95" in out[0].text
    assert "plus faible" in out[1].text and "0,80 fois" in out[1].text


def test_above_overall_by_interval_or_by_flag():
    t = pd.DataFrame(
        {
            "label": ["HR", "BTP", "Coiffure"],
            "rate": [0.36, 0.25, 0.40],
            "ci_low": [0.28, 0.2101, 0.21],  # BTP: 0.2101 > 0.21 (just significant); Coiffure: equal, not
            "ci_high": [0.44, 0.30, 0.6],
            "flag": ["above_998", "within", "above_95"],
        }
    )
    by_ci = F.above_overall_findings(t, label="label", anchor="tab-secteur", overall=0.21)
    assert [f.subject for f in by_ci] == ["HR", "BTP"]
    by_flag = F.above_overall_findings(
        t, label="label", anchor="tab-secteur", overall=0.21, flag="flag", above="above_998"
    )
    assert [f.subject for f in by_flag] == ["HR"]
    assert "significativement au-dessus du taux du département" in by_flag[0].text


@pytest.mark.parametrize(("p", "n"), [(0.049, 1), (0.05, 0), (0.5, 0), (np.nan, 0), (1e-9, 1)])
def test_global_test_threshold(p, n):
    out = F.global_test_findings(p, anchor="tab", groups="les CFA")
    assert len(out) == n
    if n and p < 0.001:
        assert "p < 0,001" in out[0].text


def test_sort_findings_alerts_first():
    a = F.Finding("a", "x", "oe", "information")
    b = F.Finding("b", "x", "funnel", "alerte")
    c = F.Finding("c", "x", "group", "attention")
    assert [f.text for f in F.sort_findings([a, c, b])] == ["b", "c", "a"]
