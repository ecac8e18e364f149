"""Points de vigilance: short French sentences written only from statistically supported findings.

Each function reads one result table and returns :class:`Finding` objects; it never computes a
statistic itself. A sentence is produced only when the table says the finding is significant:

* **funnel plot**: a unit flagged above the 99.8 % control limit (Spiegelhalter's "alarm" level:
  with 20 units, fewer than one false alarm in 25 reports by chance) — :func:`funnel_findings`;
* **indirect standardisation**: an observed/expected ratio whose 95 % interval excludes 1 from
  above — :func:`oe_findings`;
* **seasonality**: a period (summer) whose hazard-ratio 95 % interval lies entirely above 1 (or,
  as information, below 1); the report passes the ratio **at equal contract age**
  (:func:`aioa_analysis.stats.seasonality.age_adjusted_summer_effect`) — :func:`hazard_ratio_findings`;
* **groups against the département**: a group (sector, diploma level) whose own 95 % interval lies
  entirely above the département's rate, or that a table flags as significantly above —
  :func:`above_overall_findings`;
* **global test**: a chi-square or log-rank test across groups with p < 0.05 —
  :func:`global_test_findings`.

Suppressed rows (denominator under ``min_n``) never produce a sentence. Every finding carries the
anchor of the chart or table it comes from, so the report links to it.

The French number formats are those of :mod:`aioa_analysis.core.formatting` (``28,4 %``, ``1,45``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_number, fr_percent

NNBSP: Final = "\u202f"
SEVERITIES: Final = ("alerte", "attention", "information")


@dataclass(frozen=True)
class Finding:
    """One point de vigilance: a French sentence and the anchor of its evidence."""

    text: str
    anchor: str
    kind: str
    severity: str = "alerte"
    subject: str = ""

    def sort_key(self) -> tuple[int, str, str]:
        return (SEVERITIES.index(self.severity), self.kind, self.subject)


_num = fr_number
_pct = fr_percent


def _visible(table: pd.DataFrame, suppressed: str = "suppressed") -> pd.DataFrame:
    if suppressed in table.columns:
        return table.loc[~table[suppressed].astype("boolean").fillna(False).to_numpy()]
    return table


def funnel_findings(
    table: pd.DataFrame,
    *,
    label: str,
    anchor: str,
    target: float,
    flag: str = "flag",
    above: str = "above_998",
    n: str = "n_contracts",
    rate: str = "rate",
    unit_word: str = "Le CFA",
    rate_name: str = "taux de rupture",
) -> list[Finding]:
    """Units flagged above the 99.8 % funnel limit (``flag == above``).

    >>> t = pd.DataFrame({"label": ["CFA A", "CFA B"], "n_contracts": [120, 80], "rate": [0.34, 0.2],
    ...                   "flag": ["above_998", "within"]})
    >>> for f in funnel_findings(t, label="label", anchor="fig-funnel", target=0.21):
    ...     print(f.text.replace(NNBSP, " "))
    Le CFA CFA A a un taux de rupture de 34,0 % (120 contrats), au-dessus de la limite à 99,8 % du \
graphique en entonnoir (taux d'ensemble 21,0 %) : un écart aussi grand est très improbable par le \
seul hasard.
    """
    out: list[Finding] = []
    if flag not in table.columns:
        return out
    for row in _visible(table).itertuples(index=False):
        if str(getattr(row, flag)) != above:
            continue
        name = getattr(row, label)
        out.append(
            Finding(
                text=(
                    f"{unit_word} {name}".strip() + f" a un {rate_name} de {_pct(getattr(row, rate))} "
                    f"({_num(getattr(row, n))} contrats), au-dessus de la limite à 99,8{NNBSP}% du graphique "
                    f"en entonnoir (taux d'ensemble {_pct(target)}) : un écart aussi grand est très "
                    "improbable par le seul hasard."
                ),
                anchor=anchor,
                kind="funnel",
                subject=str(name),
            )
        )
    return out


def oe_findings(
    table: pd.DataFrame,
    *,
    label: str,
    anchor: str,
    ratio: str = "oe_ratio",
    ci_low: str = "oe_ci_low",
    ci_high: str = "oe_ci_high",
    adjusted_for: str = "du niveau de diplôme et du secteur de ses contrats",
    unit_word: str = "Le CFA",
) -> list[Finding]:
    """Units whose observed/expected ratio interval lies entirely above 1 (alert) or below 1 (info).

    >>> t = pd.DataFrame({"label": ["X", "Y"], "oe_ratio": [1.45, 0.9], "oe_ci_low": [1.1, 0.7],
    ...                   "oe_ci_high": [1.9, 1.1]})
    >>> [f.text.replace(NNBSP, " ") for f in oe_findings(t, label="label", anchor="tab-oe")]
    ['Le CFA X compte 1,45 fois les ruptures attendues compte tenu du niveau de diplôme et du \
secteur de ses contrats (IC 95 % [1,10 ; 1,90]).']
    """
    out = []
    for row in _visible(table).itertuples(index=False):
        lo, hi, r = getattr(row, ci_low), getattr(row, ci_high), getattr(row, ratio)
        if pd.isna(lo) or pd.isna(hi) or pd.isna(r):
            continue
        interval = f"IC 95{NNBSP}% [{_num(lo, 2)} ; {_num(hi, 2)}]"
        name = getattr(row, label)
        if float(lo) > 1:
            text = f"{unit_word} {name}".strip() + (
                f" compte {_num(r, 2)} fois les ruptures attendues compte tenu {adjusted_for} ({interval})."
            )
            out.append(Finding(text=text, anchor=anchor, kind="oe", subject=str(name)))
        elif float(hi) < 1:
            text = f"{unit_word} {name}".strip() + (
                f" compte moins de ruptures qu'attendu compte tenu {adjusted_for} "
                f"(observé/attendu {_num(r, 2)}, {interval})."
            )
            out.append(
                Finding(text=text, anchor=anchor, kind="oe", severity="information", subject=str(name))
            )
    return out


def hazard_ratio_findings(
    table: pd.DataFrame,
    *,
    anchor: str,
    label: str = "period",
    ratio: str = "hazard_ratio",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    reference_label: str = "du reste de l'année",
    qualifier: str = "",
) -> list[Finding]:
    """Periods whose hazard ratio interval excludes 1: above (alert, a critical period) or below
    (information).

    ``qualifier`` states what the ratio is adjusted for (e.g. ``"à ancienneté de contrat égale"``);
    it is inserted after the reference.

    >>> t = pd.DataFrame({"period": ["l'été (juin à août)"], "hazard_ratio": [1.6], "ci_low": [1.2],
    ...                   "ci_high": [2.1]})
    >>> [f.text.replace(NNBSP, " ") for f in hazard_ratio_findings(t, anchor="fig-hazard")]
    ["Le risque mensuel de rupture pendant l'été (juin à août) est 1,60 fois celui du reste de \
l'année (IC 95 % [1,20 ; 2,10]) : c'est une période critique."]
    >>> t2 = t.assign(hazard_ratio=[0.8], ci_low=[0.7], ci_high=[0.9])
    >>> [f.severity for f in hazard_ratio_findings(t2, anchor="fig-hazard", qualifier="à ancienneté égale")]
    ['information']
    """
    out = []
    extra = f", {qualifier}" if qualifier else ""
    for row in _visible(table).itertuples(index=False):
        lo, hi, r = getattr(row, ci_low), getattr(row, ci_high), getattr(row, ratio)
        if pd.isna(lo) or pd.isna(hi) or pd.isna(r):
            continue
        name = getattr(row, label)
        interval = f"IC 95{NNBSP}% [{_num(lo, 2)} ; {_num(hi, 2)}]"
        if float(lo) > 1:
            out.append(
                Finding(
                    text=(
                        f"Le risque mensuel de rupture pendant {name} est {_num(r, 2)} fois celui "
                        f"{reference_label}{extra} ({interval}) : c'est une période critique."
                    ),
                    anchor=anchor,
                    kind="seasonality",
                    subject=str(name),
                )
            )
        elif float(hi) < 1:
            out.append(
                Finding(
                    text=(
                        f"Le risque mensuel de rupture pendant {name} est plus faible que celui "
                        f"{reference_label}{extra} ({_num(r, 2)} fois, {interval})."
                    ),
                    anchor=anchor,
                    kind="seasonality",
                    severity="information",
                    subject=str(name),
                )
            )
    return out


def above_overall_findings(
    table: pd.DataFrame,
    *,
    label: str,
    anchor: str,
    overall: float,
    what: str = "Le secteur",
    scope: str = "du département",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    rate: str = "rate",
    flag: str | None = None,
    above: str = "above",
) -> list[Finding]:
    """Groups significantly above the overall rate: their 95 % interval lies above ``overall``.

    When ``flag`` names a column, a row counts when its value starts with ``above`` (e.g. a funnel
    flag) instead.

    >>> t = pd.DataFrame({"label": ["HR", "BTP"], "rate": [0.36, 0.22], "ci_low": [0.28, 0.15],
    ...                   "ci_high": [0.44, 0.30]})
    >>> [f.text.replace(NNBSP, " ") for f in above_overall_findings(t, label="label", anchor="t", overall=0.21)]
    ['Le secteur HR a un taux de rupture de 36,0 % (IC 95 % [28,0 % ; 44,0 %]), significativement \
au-dessus du taux du département (21,0 %).']
    """
    out = []
    for row in _visible(table).itertuples(index=False):
        lo, hi, r = getattr(row, ci_low), getattr(row, ci_high), getattr(row, rate)
        if pd.isna(r) or pd.isna(lo):
            continue
        significant = str(getattr(row, flag)).startswith(above) if flag else float(lo) > float(overall)
        if not significant:
            continue
        name = getattr(row, label)
        out.append(
            Finding(
                text=(
                    f"{what} {name} a un taux de rupture de {_pct(r)} (IC 95{NNBSP}% [{_pct(lo)} ; {_pct(hi)}]), "
                    f"significativement au-dessus du taux {scope} ({_pct(overall)})."
                ),
                anchor=anchor,
                kind="group",
                severity="attention",
                subject=str(name),
            )
        )
    return out


def global_test_findings(
    p_value: float, *, anchor: str, groups: str, test: str = "test du khi-deux"
) -> list[Finding]:
    """A global test across groups with ``p < 0.05``: the differences are not due to chance alone.

    >>> [f.text for f in global_test_findings(0.003, anchor="tab-cfa", groups="les CFA")]
    ['Les taux de rupture diffèrent entre les CFA plus que le hasard ne l’expliquerait (test du khi-deux, p = 0,003).']
    >>> global_test_findings(0.2, anchor="x", groups="les CFA")
    []
    """
    if p_value is None or pd.isna(p_value) or float(p_value) >= 0.05:
        return []
    p = "p < 0,001" if p_value < 0.001 else f"p = {_num(p_value, 3)}"
    return [
        Finding(
            text=(
                f"Les taux de rupture diffèrent entre {groups} plus que le hasard ne l’expliquerait ({test}, {p})."
            ),
            anchor=anchor,
            kind="test",
            severity="information",
            subject=groups,
        )
    ]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Alerts first, then points of attention, then information; stable within each level."""
    return sorted(findings, key=Finding.sort_key)
