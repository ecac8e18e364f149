"""Points de vigilance as the report shows them: the records of
:func:`aioa_analysis.stats.vigilance.vigilance_findings` (the ones ``aioa vigilance`` prints), each with
the test it comes from and the anchor of its evidence in the report.

Nothing is computed here: every number is in the record (its ``sentence`` already says the value, the
interval, the adjusted p-value and the verdict). This module only orders the records (alerts first,
then informative notes) and names, in French, the test and the error control behind each one.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_percent, fr_pvalue

POLICY_METHOD: Final = "holm"
"""The adjustment of :func:`~aioa_analysis.stats.vigilance.vigilance_findings` the report uses (its default)."""

POLICY_LEVEL: Final = 0.05
"""The level of the alerts (family-wise error), the default of ``vigilance_findings``."""

TESTS: Final = {
    "cfa_casemix": "test de Wald sur le rapport des rythmes de rupture, modèle de Poisson à profil de "
    "contrats égal ajusté pour tous les CFA à la fois",
    "rate_vs_rest": "test du khi-deux de deux proportions (le groupe contre le reste du département)",
    "summer_ratio": "test de Wald, modèle de Poisson à ancienneté du contrat, type de contrat, niveau et "
    "secteur égaux",
    "non_comparable": "aucun test : pas assez de contrats semblables dans les autres CFA",
}
"""French name of the test behind each ``kind`` of finding."""

EVIDENCE: Final = {
    "cfa": "fig-cfa-ajuste",
    "sector": "tab-secteur",
    "diploma_level": "tab-diplome",
    "season": "fig-saison-ajuste",
}
"""Anchor of the chart or table each ``dimension`` of finding is read on."""

SCOPED: Final = frozenset({"sector", "diploma_level", "season"})
"""Dimensions whose chart shows the report's scope: in a CFA report, the CFA's own contracts, not the
département's the finding is about (its evidence is then the findings table itself)."""


def policy_sentence(level: float = POLICY_LEVEL, method: str = POLICY_METHOD) -> str:
    """The alerting policy in plain French (the heading of the section).

    >>> print(policy_sentence().replace("\u202f", " "))  # doctest: +ELLIPSIS
    Une seule règle pour tous les constats : chaque constat est un test statistique ; ...
    """
    if method == "holm":
        control = (
            "les p-values de tous les constats du département (CFA, secteurs, niveaux de diplôme, été) sont "
            "ajustées ensemble par la méthode de Holm, et un constat est une alerte quand sa p-value ajustée "
            f"est au plus {fr_percent(level, 0)} : la probabilité qu'une seule des alertes de ce rapport soit "
            f"due au hasard est au plus {fr_percent(level, 0)}"
        )
    else:
        control = (
            "les p-values de tous les constats sont ajustées ensemble (Benjamini-Hochberg), et un constat est "
            f"une alerte quand sa p-value ajustée est au plus {fr_percent(level, 0)} : en moyenne, au plus "
            f"{fr_percent(level, 0)} des alertes sont dues au hasard"
        )
    return f"Une seule règle pour tous les constats : chaque constat est un test statistique ; {control}."


def test_of(kind: str) -> str:
    """The test behind a finding of ``kind`` (French).

    >>> test_of("rate_vs_rest")
    'test du khi-deux de deux proportions (le groupe contre le reste du département)'
    """
    return TESTS.get(str(kind), str(kind))


def evidence_of(dimension: str, *, cfa_report: bool = False) -> str:
    """The anchor where the evidence of a finding about ``dimension`` is shown.

    >>> evidence_of("cfa"), evidence_of("sector"), evidence_of("sector", cfa_report=True)
    ('fig-cfa-ajuste', 'tab-secteur', 'tab-vigilance')
    """
    if cfa_report and dimension in SCOPED:
        return "tab-vigilance"
    return EVIDENCE.get(str(dimension), "tab-vigilance")


def ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """Alerts first, then informative notes; within each, the order of the records (stable).

    >>> t = pd.DataFrame({"alert": [False, True, False], "sentence": ["a", "b", "c"]})
    >>> ordered(t)["sentence"].tolist()
    ['b', 'a', 'c']
    """
    return findings.sort_values("alert", ascending=False, kind="stable").reset_index(drop=True)


def p_text(p: object) -> str:
    """A p-value in a table cell whose header already says « p »: ``0,032``, ``< 0,001``, ``–``.

    >>> p_text(0.0321), p_text(1e-9), p_text(float("nan"))
    ('0,032', '< 0,001', '–')
    """
    return fr_pvalue(p).removeprefix("p = ").removeprefix("p ")
