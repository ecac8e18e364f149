"""« Résultat au diplôme »: the pass rate by contract outcome, then the rupture rate by exam result."""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_percent, suppressed_label
from aioa_analysis.core.schema import C
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import CLASS_LABELS, OUTCOME_LABELS, order_groups
from aioa_analysis.reporting.sections.layout import (
    chart_with_table,
    heading,
    paragraph,
    rate_table,
    unavailable,
)


def show_resultat_diplome(ctx: ReportContext) -> None:
    """Pass rate by contract outcome, then rupture rate by exam result (each chart with its table)."""
    heading("resultat-diplome")
    ps = ctx.results.pass_rates
    ps = ps.assign(
        label=ps["outcome_class"].astype(str).map(PATHS).fillna(ps["outcome_class"].astype(str)),
        suppressed=ps["n_exam"] < ctx.min_n,
    )
    fig = figures.share_bars(
        ps,
        label="label",
        share="rate",
        ci_low="ci_low",
        ci_high="ci_high",
        count="n_exam",
        ytitle="Taux de réussite",
        xtitle="Parcours du contrat",
        min_n=ctx.min_n,
    )
    show_html("<h3>Taux de réussite selon le parcours du contrat</h3>")
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-resultat",
        caption="Taux de réussite à l'examen selon le parcours du contrat",
        table=ps,
        columns=[
            ("label", "Parcours", "text"),
            ("n_contracts", "Contrats", "number"),
            ("n_exam", "Résultat connu (absents compris)", "number"),
            ("n_absent", "dont absents", "number"),
            ("n_admis", "Admis", "number"),
            ("rate", "Taux de réussite", "percent"),
            ("ci", "IC 95 %", "interval"),
        ],
        suppress=["rate", "ci", "n_admis", "n_absent"],
        table_id="tab-resultat",
        table_caption="Résultat au diplôme selon le parcours du contrat",
        note="Taux de réussite : admis / (admis + ajournés + absents). Les absents comptent au dénominateur : "
        "un apprenti parti avant l'examen, souvent après une rupture, ne l'a pas obtenu. Les résultats non "
        f"rapprochés du contrat sont laissés de côté. « {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} "
        "résultats connus.",
    )
    _show_rupture_by_exam_result(ctx)


PATHS: Final = {
    **CLASS_LABELS,
    "ruptured_no_new_contract": "Rompu, sans nouveau contrat connu dans ces fichiers (180 jours)",
}
"""The contract's path, as far as the files received can tell."""

EXAM_GROUPS: Final = {**OUTCOME_LABELS, "absent": "Absents à l'examen"}
"""The exam results as groups of apprentices (« parmi les absents, x % avaient rompu »)."""


def absent_sentence(table: pd.DataFrame, min_n: int) -> str:
    """How to read the absentees' row: the rupture came first, the absence followed.

    >>> t = pd.DataFrame({"diploma_outcome": ["absent"], "n_contracts": [370], "rate": [1.0]})
    >>> absent_sentence(t, 20).endswith("elle n'en est pas la cause.")
    True
    """
    row = table.loc[table[C.diploma_outcome].astype(str) == "absent"]
    if row.empty or int(row["n_contracts"].iloc[0]) < min_n or pd.isna(row["rate"].iloc[0]):
        return ""
    return (
        f"Parmi les apprentis absents à l'examen, {fr_percent(row['rate'].iloc[0])} avaient vu leur contrat rompu "
        "avant son terme : l'absence suit le plus souvent la rupture (l'apprenti a quitté la formation), elle "
        "n'en est pas la cause."
    )


def _show_rupture_by_exam_result(ctx: ReportContext) -> None:
    """Share of contracts broken before their planned end, by exam result (planned end passed)."""
    bo = ctx.results.by_outcome
    bo = bo.loc[bo["n_contracts"] > 0]
    show_html(
        "<h3>Part des contrats rompus selon le résultat à l'examen</h3>"
        + paragraph(
            "Parmi les contrats dont la fin prévue est passée à la date d'observation (suivi complet), part des "
            "contrats rompus avant leur terme, pour les apprentis admis, ajournés ou absents à l'examen du "
            "diplôme préparé. Cela décrit qui a rompu ; l'ordre des événements n'est pas le même pour tous : "
            "l'examen vient après la rupture pour un apprenti parti en cours de formation."
        )
        + (paragraph(absent_sentence(bo, ctx.min_n)) if len(bo) else "")
    )
    if bo.empty:
        unavailable("Part des contrats rompus selon le résultat à l'examen")
        return
    col = C.diploma_outcome
    bo = order_groups(bo.assign(label=bo[col].astype(str).map(EXAM_GROUPS).fillna(bo[col].astype(str))), col)
    fig = figures.rate_bars(
        bo, label="label", xtitle="Part des contrats rompus avant leur terme", min_n=ctx.min_n
    )
    show_figure(
        fig,
        fig_id="fig-rupture-examen",
        caption="Part des contrats rompus avant leur terme, selon le résultat à l'examen",
    )
    show_html(
        rate_table(
            bo,
            "Résultat à l'examen",
            table_id="tab-rupture-examen",
            caption="Part des contrats rompus selon le résultat à l'examen (contrats arrivés à leur fin prévue)",
            ctx=ctx,
            extra=[("n_ruptures_after_diploma", "Ruptures après le diplôme (à part)", "number")],
            note=f"« {suppressed_label(ctx.min_n)} » : taux non publié, moins de {ctx.min_n} contrats. Les ruptures "
            "après l'obtention du diplôme restent au dénominateur et sont comptées à part (ici parmi les seuls "
            "contrats arrivés à leur fin prévue ; le total du rapport, en synthèse et par période, compte tous "
            "les contrats). « Non renseigné » : aucun résultat d'examen rapproché du contrat.",
        )
    )
