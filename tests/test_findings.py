"""Points de vigilance as the report shows them: ordered, each with its test and its evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.reporting import findings as F
from aioa_analysis.stats.vigilance import ADJUSTMENTS


def test_alerts_come_first_and_keep_their_order():
    t = pd.DataFrame({"alert": [False, True, False, True], "sentence": ["n1", "a1", "n2", "a2"]})
    assert F.ordered(t)["sentence"].tolist() == ["a1", "a2", "n1", "n2"]
    assert t["sentence"].tolist() == ["n1", "a1", "n2", "a2"]  # the input is not touched


def test_every_kind_and_dimension_of_the_policy_has_a_test_and_an_evidence():
    # the kinds and dimensions vigilance_findings produces (stats.vigilance)
    for kind in ("cfa_casemix", "non_comparable", "rate_vs_rest", "summer_ratio"):
        assert F.test_of(kind) != kind
    for dim in ("cfa", "sector", "diploma_level", "season"):
        assert F.evidence_of(dim).startswith(("fig-", "tab-"))
    # in a CFA report, the charts of sectors, levels and months show the CFA's own contracts: the
    # evidence of a département-wide finding is then the findings table itself
    assert F.evidence_of("sector", cfa_report=True) == "tab-vigilance"
    assert F.evidence_of("cfa", cfa_report=True) == "fig-cfa-ajuste"


def test_policy_states_one_level_and_the_error_it_controls():
    assert F.POLICY_METHOD in ADJUSTMENTS
    holm = F.policy_sentence()
    assert "Holm" in holm and "5\u202f%" in holm and "une seule des alertes" in holm
    assert "99,8" not in holm and "95" not in holm  # one level, not the old mix of thresholds
    bh = F.policy_sentence(0.1, "bh")
    assert "Benjamini-Hochberg" in bh and "10\u202f%" in bh


def test_p_text_in_a_cell_headed_p():
    assert [F.p_text(p) for p in (0.0321, 1e-9, np.nan)] == ["0,032", "< 0,001", "–"]
