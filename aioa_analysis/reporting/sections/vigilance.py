"""« Points de vigilance »: the records of :func:`aioa_analysis.stats.vigilance.vigilance_findings` (the
ones ``aioa vigilance`` prints), alerts first, then informative notes, each with its sentence, its
test and a link to its evidence; then the same records as a table."""

from __future__ import annotations

import html

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.formatting import table_html
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.findings import evidence_of, ordered, p_text, policy_sentence, test_of
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import heading, paragraph

DIMENSION_LABELS = {
    "cfa": "CFA, à profil égal",
    "sector": "Secteur",
    "diploma_level": "Niveau de diplôme",
    "season": "Été",
}


def _items(findings: pd.DataFrame, *, cfa_report: bool) -> str:
    """One ``<li>`` per record: its sentence, its test and the link to its evidence."""
    out = []
    for r in findings.itertuples(index=False):
        cls = ("alerte" if r.direction == "above" else "attention") if r.alert else "information"
        anchor = evidence_of(str(r.dimension), cfa_report=cfa_report)
        out.append(
            f'<li class="{cls}">{html.escape(str(r.sentence))} '
            f'<span class="test">Test : {html.escape(test_of(str(r.kind)))}.</span> '
            f'<a href="#{anchor}">Voir</a></li>'
        )
    return "".join(out)


def group_label(dimension: str, group: str, cfa_labels: dict[str, str]) -> str:
    """The French name of a finding's group.

    >>> group_label("diploma_level", "3", {}), group_label("cfa", "0410590U", {"0410590U": "CMA (0410590U)"})
    ('Niveau 3', 'CMA (0410590U)')
    """
    if dimension == "cfa":
        return cfa_labels.get(group, group)
    if dimension == "sector":
        return referential.sector_labels().get(group, group)
    if dimension == "diploma_level":
        return f"Niveau {group}"
    return group


def findings_table(findings: pd.DataFrame, cfa_labels: dict[str, str]) -> pd.DataFrame:
    """The records in French display strings (the evidence table of the section)."""
    return pd.DataFrame(
        {
            "Constat": [DIMENSION_LABELS.get(str(d), str(d)) for d in findings["dimension"]],
            "Groupe": [
                group_label(str(d), str(g), cfa_labels)
                for d, g in zip(findings["dimension"], findings["group"], strict=True)
            ],
            "Test": [test_of(str(k)) for k in findings["kind"]],
            "p": [p_text(p) for p in findings["p_value"]],
            "p ajusté (Holm)": [p_text(q) for q in findings["q_value"]],
            "Alerte": ["oui" if a else "non" for a in findings["alert"]],
        }
    )


def show_vigilance(ctx: ReportContext) -> None:
    """Points de vigilance: the tested findings, alerts first, each linked to its evidence."""
    heading("vigilance")
    cfa_report = bool(ctx.cfa_label)
    raw = ctx.results.vigilance
    names = {
        f"{d}:{g}": group_label(str(d), str(g), ctx.results.cfa_labels)
        for d, g in zip(raw["dimension"], raw["group"], strict=True)
    }
    findings = ordered(RP.published_vigilance(ctx, names))
    alerts, notes = findings.loc[findings["alert"]], findings.loc[~findings["alert"]]
    scope = (
        f"Ce rapport montre les constats sur {ctx.cfa_label} et ceux du département (secteurs, niveaux, été) ; "
        "l'ajustement porte toujours sur l'ensemble des constats du département."
        if cfa_report
        else ""
    )
    intro = paragraph(f"{policy_sentence()} {scope}".strip(), terms=("méthode de Holm",)) + paragraph(
        "Une alerte dit qu'un écart est établi, pas pourquoi : c'est une question à poser, pas un verdict. "
        "Une note (« pas d'écart établi ») ne prouve pas l'absence d'écart.",
        "note",
    )
    if alerts.empty:
        body = '<ul class="findings"><li class="none">Aucun écart établi dans le périmètre de ce rapport.</li></ul>'
    else:
        body = f'<ul class="findings">{_items(alerts, cfa_report=cfa_report)}</ul>'
    if len(notes):
        body += (
            "<h3>Notes : constats testés sans écart établi, CFA non comparables</h3>"
            + f'<ul class="findings notes">{_items(notes, cfa_report=cfa_report)}</ul>'
        )
    show_html(intro + body)
    if len(findings):
        show_html(
            table_html(
                findings_table(findings, ctx.results.cfa_labels),
                table_id="tab-vigilance",
                caption="Les constats testés et leurs p-values",
                numeric=["p", "p ajusté (Holm)"],
                note="p : p-value du test seul ; p ajusté : après la correction de Holm sur l'ensemble des "
                "constats du département (alerte quand elle est au plus 5 %). Les mêmes constats que la "
                "commande « aioa vigilance ».",
            )
        )
