"""« Résultat au diplôme »: the pass rate by contract outcome, then the rupture rate by exam result."""

from __future__ import annotations

from aioa_analysis.core.formatting import suppressed_label
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
        label=ps["outcome_class"].astype(str).map(CLASS_LABELS).fillna(ps["outcome_class"].astype(str)),
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
            ("n_exam", "Résultat connu", "number"),
            ("n_admis", "Admis", "number"),
            ("rate", "Taux de réussite", "percent"),
            ("ci", "IC 95 %", "interval"),
        ],
        suppress=["rate", "ci", "n_admis"],
        table_id="tab-resultat",
        table_caption="Résultat au diplôme selon le parcours du contrat",
        note=f"Taux de réussite : admis / (admis + ajournés). « {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} résultats connus.",
    )
    _show_rupture_by_exam_result(ctx)


def _show_rupture_by_exam_result(ctx: ReportContext) -> None:
    """Whole-contract rupture rate by exam result (contracts whose planned end has passed)."""
    bo = ctx.results.by_outcome
    show_html(
        "<h3>Taux de rupture selon le résultat à l'examen</h3>"
        + paragraph(
            "Parmi les contrats dont la fin prévue est passée à la date d'observation (suivi complet), part des "
            "contrats rompus avant leur terme, selon le résultat de l'apprenti à l'examen du diplôme préparé."
        )
    )
    bo = bo.loc[bo["n_contracts"] > 0]
    if bo.empty:
        unavailable("Taux de rupture selon le résultat à l'examen")
        return
    col = C.diploma_outcome
    bo = order_groups(
        bo.assign(label=bo[col].astype(str).map(OUTCOME_LABELS).fillna(bo[col].astype(str))), col
    )
    fig = figures.rate_bars(
        bo, label="label", xtitle="Taux de rupture sur la durée du contrat", min_n=ctx.min_n
    )
    show_figure(
        fig,
        fig_id="fig-rupture-examen",
        caption="Taux de rupture sur la durée du contrat selon le résultat à l'examen",
    )
    show_html(
        rate_table(
            bo,
            "Résultat à l'examen",
            table_id="tab-rupture-examen",
            caption="Taux de rupture selon le résultat à l'examen (contrats arrivés à leur fin prévue)",
            ctx=ctx,
            extra=[("n_ruptures_after_diploma", "Ruptures après le diplôme (à part)", "number")],
            note=f"« {suppressed_label(ctx.min_n)} » : taux non publié, moins de {ctx.min_n} contrats. Les ruptures "
            "après l'obtention du diplôme restent au dénominateur et sont comptées à part. « Non renseigné » : "
            "aucun résultat d'examen rapproché du contrat.",
        )
    )
