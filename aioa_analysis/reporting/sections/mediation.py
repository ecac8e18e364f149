"""« Périodes critiques et médiation » (part of « Par période », issue 18): the ruptures expected in each
of the 12 months after ``as_of`` (total and by territory, 90 % prediction intervals), beside the monthly
risk already shown, and the backtest: the forecast made 12 months earlier against what happened
(:mod:`aioa_analysis.stats.forecast`). A CFA report shows the CFA's own expected ruptures (the
département's forecast by CFA, ``ReportResults.forecast_cfa``).
"""

from __future__ import annotations

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.formatting import fr_date, fr_month, fr_number, fr_percent, table_html
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import paragraph, show_table
from aioa_analysis.reporting.sections.results import column_of
from aioa_analysis.stats import forecast
from aioa_analysis.stats.forecast import backtest_summary


def month_label(month: object) -> str:
    """« déc. 2025 » for ``"2025-12"``.

    >>> month_label("2025-12")
    'déc. 2025'
    """
    p = pd.Period(str(month), freq="M")
    return f"{fr_month(p.month, short=True)} {p.year}"


def with_risk(forecast: pd.DataFrame, hazard: pd.DataFrame) -> pd.DataFrame:
    """The forecast with the crude monthly risk of the same calendar month (``risk100``, per 100
    contract-months; NA for a month whose risk is not published) and its month label."""
    mcol = column_of(hazard, "month", "month_of_year", "period_value")
    shown = hazard.loc[~hazard["suppressed"].astype("boolean").fillna(False).to_numpy()]
    risk = dict(zip(shown[mcol].astype(int), shown["rate"].astype(float) * 100, strict=True))
    months = [pd.Period(str(m), freq="M") for m in forecast["month"]]
    return forecast.assign(
        month_label=[month_label(m) for m in forecast["month"]],
        risk100=[risk.get(p.month, float("nan")) for p in months],
    )


def interval_text(lo: object, hi: object) -> str:
    """« 56 à 100 ».

    >>> interval_text(56, 100)
    '56 à 100'
    """
    return f"{fr_number(lo)} à {fr_number(hi)}"


def interval_texts(t: pd.DataFrame) -> list[str]:
    """:func:`interval_text` of each row's ``pi_low`` and ``pi_high``."""
    return [interval_text(a, b) for a, b in zip(t["pi_low"], t["pi_high"], strict=True)]


def backtest_sentence(summary: dict[str, object]) -> str:
    """The backtest in one French sentence (:func:`aioa_analysis.stats.forecast.backtest_summary`).

    >>> backtest_sentence({"cut": "2024-11-30", "months": 12, "inside": 11, "expected_total": 880.6,
    ...     "observed_total": 886, "relative_gap": 0.0061})[:60]
    'Prévision faite au 30/11/2024 avec les seules données connue'
    """
    gap = summary["relative_gap"]
    gap_text = fr_percent(abs(float(gap)), 1) if pd.notna(gap) else "–"  # type: ignore[arg-type]
    direction = "de plus" if pd.notna(gap) and float(gap) >= 0 else "de moins"  # type: ignore[arg-type]
    return (
        f"Prévision faite au {fr_date(pd.Timestamp(str(summary['cut'])))} avec les seules données connues "
        f"à cette date : {summary['inside']} mois sur {summary['months']} dans leur intervalle à 90 % ; "
        f"sur l'année, {fr_number(summary['observed_total'])} ruptures observées pour "
        f"{fr_number(summary['expected_total'], 0)} prévues ({gap_text} {direction})."
    )


def show_mediation(ctx: ReportContext) -> None:
    """Expected ruptures for the next 12 months (total, by territory) and the backtest."""
    res = ctx.results
    show_html(
        "<h3>Périodes critiques et médiation : ruptures attendues dans les 12 prochains mois</h3>"
        + paragraph(
            "Le risque mensuel (ci-dessus) dit quand un contrat en cours est le plus fragile ; la charge de "
            "travail dépend aussi du nombre de contrats en cours. Ruptures attendues : les contrats en cours au "
            f"{fr_date(ctx.as_of)} et ceux qui devraient commencer (le volume moyen des mêmes mois des trois "
            "dernières années), suivis mois par mois avec le risque estimé sur l'historique (ancienneté du "
            "contrat, mois de l'année, niveau, secteur, CFA, territoire). Hors ruptures après l'obtention du "
            "diplôme. Intervalle à 90 % : le nombre de ruptures du mois a 9 chances sur 10 d'y tomber si "
            "l'avenir ressemble au passé."
        )
    )
    if ctx.cfa_label:
        _show_cfa_forecast(ctx)
        return
    if res.forecast.empty:
        show_html(paragraph("Ruptures attendues : non présentées (pas assez d'historique).", "unavailable"))
        return
    _show_months(
        ctx,
        with_risk(res.forecast, res.hazard),
        chart="Ruptures attendues par mois (intervalle à 90 %) et risque mensuel du même mois de l'année",
        table="Ruptures attendues par mois : le risque et la charge de travail",
        risk="Risque (pour 100 contrats-mois)",
        note="Risque : taux brut du même mois de l'année sur l'historique (« – » : non publié). Prévision "
        "de charge : elle ne désigne aucun contrat ni aucun jeune.",
    )
    _show_territories(ctx)
    _show_cfa_totals(ctx)
    _show_backtest(ctx)


def _show_cfa_forecast(ctx: ReportContext) -> None:
    """A CFA report: the CFA's expected ruptures per month (the département's forecast by CFA, one
    model for every CFA), beside the CFA's own monthly risk of the same calendar month."""
    fc = ctx.results.forecast_cfa
    if fc.empty:
        show_html(
            paragraph("Ruptures attendues du CFA : non présentées (pas assez d'historique).", "unavailable")
        )
        return
    fc = with_risk(fc, ctx.results.hazard)
    total = float(fc["expected"].sum())
    show_html(
        paragraph(
            f"{ctx.cfa_label} : environ {fr_number(total, 0)} ruptures attendues sur les 12 mois suivant le "
            f"{fr_date(ctx.as_of)}, hors ruptures après l'obtention du diplôme. La prévision est celle du "
            "département, détaillée par CFA (un seul modèle pour tous les CFA : le risque propre du CFA est "
            "rapproché de la moyenne quand il a peu de contrats). Pour un petit CFA, les nombres attendus sont "
            "faibles et leurs intervalles larges : ils disent quels mois préparer, pas combien de jeunes."
        )
    )
    _show_months(
        ctx,
        fc,
        chart="Ruptures attendues par mois dans le CFA (intervalle à 90 %) et risque mensuel du même mois",
        table="Ruptures attendues par mois dans le CFA",
        risk="Risque dans le CFA (pour 100 contrats-mois)",
        note="Risque : taux brut du même mois de l'année dans le CFA, sur l'historique (« – » : non publié). "
        "Prévision de charge : elle ne désigne aucun contrat ni aucun jeune. La rétro-prévision et le détail "
        "par territoire sont dans le rapport départemental.",
    )


def _show_months(
    ctx: ReportContext, fc: pd.DataFrame, *, chart: str, table: str, risk: str, note: str
) -> None:
    """The expected ruptures month by month (with ``with_risk``'s columns): a chart, then its table."""
    show_figure(figures.forecast_bars(fc), fig_id="fig-prevision", caption=chart)
    show_table(
        ctx,
        fc.assign(pi=interval_texts(fc)),
        [
            ("month_label", "Mois", "text"),
            ("risk100", risk, "ratio"),
            ("expected", "Ruptures attendues", "ratio"),
            ("pi", "Intervalle à 90 %", "text"),
            ("from_running", "dont contrats en cours", "ratio"),
            ("from_new_starts", "dont contrats à venir", "ratio"),
        ],
        suppress=[],
        table_id="tab-prevision",
        caption=table,
        note=note,
    )


def _show_territories(ctx: ReportContext) -> None:
    """Expected ruptures per month and territory (one column per territory)."""
    ft = ctx.results.forecast_territory
    if ft.empty:
        return
    labels = referential.territory_labels()
    col = column_of(ft, "territory", "group")
    cells = ft.assign(
        text=[
            f"{fr_number(e, 1)} ({interval_text(a, b)})"
            for e, a, b in zip(ft["expected"], ft["pi_low"], ft["pi_high"], strict=True)
        ],
        terr=ft[col].astype(str).map(labels).fillna(ft[col].astype(str)),
    )
    wide = cells.pivot_table(index="month", columns="terr", values="text", aggfunc="first")
    wide = wide[[t for t in dict.fromkeys(cells["terr"]) if t in wide.columns]]
    wide.index = [month_label(m) for m in wide.index]
    show_html(
        table_html(
            wide.reset_index(names="Mois"),
            table_id="tab-prevision-territoires",
            caption="Ruptures attendues par mois et territoire de résidence (intervalle à 90 %)",
            note="Territoire des Missions Locales selon le code postal de résidence de l'apprenti. Les "
            "intervalles ne s'additionnent pas : chaque territoire est prévu séparément.",
        )
    )


def _show_cfa_totals(ctx: ReportContext) -> None:
    """The département report: each CFA's expected ruptures over the 12 months, its interval and the
    month expected to have the most (the CFA reports show the months)."""
    fc = ctx.results.forecast_cfa
    if fc.empty or "cfa" not in fc:
        return
    totals = forecast.group_totals(fc, "cfa").sort_values("expected", ascending=False, kind="stable")
    labels = ctx.results.cfa_labels
    show_table(
        ctx,
        totals.assign(
            label=totals["cfa"].astype(str).map(labels).fillna(totals["cfa"].astype(str)),
            pi=interval_texts(totals),
            peak=[month_label(m) for m in totals["peak_month"]],
        ),
        [
            ("label", "CFA", "text"),
            ("expected", "Ruptures attendues sur 12 mois", "ratio"),
            ("pi", "Intervalle à 90 %", "text"),
            ("peak", "Mois le plus chargé", "text"),
        ],
        suppress=[],
        table_id="tab-prevision-cfa",
        caption="Ruptures attendues sur les 12 prochains mois, par CFA",
        note="Un seul modèle pour tous les CFA ; les intervalles ne s'additionnent pas (chaque CFA est prévu "
        "séparément). Le détail mois par mois est dans le rapport de chaque CFA. Prévision de charge : "
        "elle ne désigne aucun contrat ni aucun jeune.",
    )


def _show_backtest(ctx: ReportContext) -> None:
    """The forecast made 12 months before ``as_of`` beside the observed ruptures, and its summary."""
    bt = ctx.results.backtest
    if bt.empty:
        return
    bt = bt.assign(month_label=[month_label(m) for m in bt["month"]])
    sentence = backtest_sentence(backtest_summary(ctx.results.backtest))
    show_html("<h4>La prévision à l'épreuve : la même méthode, un an plus tôt</h4>" + paragraph(sentence))
    fig = figures.backtest_chart(bt)
    show_figure(
        fig, fig_id="fig-retroprevision", caption="Ruptures prévues 12 mois avant et ruptures observées"
    )
    show_table(
        ctx,
        bt.assign(
            pi=interval_texts(bt),
            inside_text=["oui" if v else "non" for v in bt["inside"]],
        ),
        [
            ("month_label", "Mois", "text"),
            ("expected", "Ruptures prévues", "ratio"),
            ("pi", "Intervalle à 90 %", "text"),
            ("observed", "Ruptures observées", "number"),
            ("inside_text", "Dans l'intervalle", "text"),
        ],
        suppress=[],
        table_id="tab-retroprevision",
        caption="Rétro-prévision : ruptures prévues 12 mois avant et observées",
        note=sentence,
    )
