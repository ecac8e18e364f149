"""« Par CFA »: the CFAs compared at equal case-mix (the only comparison that can raise an alert), then
the raw funnel plot of their rates, a descriptive chart with over-dispersion-aware limits."""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_date, fr_interval, fr_number, fr_percent, fr_pvalue
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.findings import p_text
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import (
    chart_with_table,
    heading,
    paragraph,
    rate_table,
    suppression_note,
    unavailable,
)


def show_par_cfa(ctx: ReportContext) -> None:
    """The adjusted comparison (forest plot and table), then the raw funnel plot and its table."""
    heading("par-cfa")
    if ctx.results.funnel.empty or pd.isna(ctx.results.funnel_target):
        unavailable("Comparaison des CFA")
        return
    if ctx.cfa_label:
        show_html(paragraph(cfa_position(ctx)))
    _show_casemix(ctx)
    _show_funnel(ctx)


def cfa_position(ctx: ReportContext) -> str:
    """A CFA report's one paragraph on its own CFA: its place in the two charts below (highlighted).

    The raw rate is the one the funnel table publishes (the family's suppression); the comparison at
    equal case-mix is the CFA's row of the points de vigilance.
    """
    uai = str(ctx.params.get("cfa") or "")
    res = ctx.results
    funnel = RP.published_cfas(ctx, res.funnel, column="cfa")
    row = funnel.loc[funnel["cfa"].astype(str) == uai]
    if row.empty or bool(row["suppressed"].iloc[0]):
        raw = f"son taux brut à {ctx.horizon} mois n'est pas publié (secret statistique)"
    else:
        r = row.iloc[0]
        flag = FLAG_LABELS.get(str(r.get("flag", "")), "–")
        raw = (
            f"son taux brut à {ctx.horizon} mois est de {fr_percent(r['rate'])} "
            f"({fr_number(r['n_contracts'])} contrats observés), position dans l'entonnoir : {flag}"
        )
    cm = res.cfa_casemix.loc[res.cfa_casemix["cfa"].astype(str) == uai]
    if cm.empty:
        adjusted = "il n'entre pas dans la comparaison à profil égal"
    else:
        c = cm.iloc[0]
        adjusted = f"à profil de contrats égal : {verdict(c['kind'], c['alert'], c['direction'])}"
        if c["kind"] == "cfa_casemix" and pd.notna(c["value"]):
            adjusted += f" (rapport {fr_number(c['value'], 2)}, IC 95 % {fr_interval(c['ci_low'], c['ci_high'], kind='ratio')})"
    return (
        f"{ctx.cfa_label} (mis en évidence et nommé dans les deux graphiques ci-dessous) : {raw} ; "
        f"{adjusted}."
    )


FLAG_LABELS: Final = {
    "above_998": "au-dessus (99,8 %)",
    "above_95": "au-dessus (95 %)",
    "within": "dans les limites",
    "below_95": "en dessous (95 %)",
    "below_998": "en dessous (99,8 %)",
}
"""Position of a CFA against the (over-dispersion-aware) funnel limits, in the table under the plot."""


def _highlight(ctx: ReportContext) -> list[str]:
    """The CFA of a CFA report, drawn apart on the charts."""
    return [ctx.cfa_label] if ctx.cfa_label else []


def verdict(kind: object, alert: object, direction: object) -> str:
    """What the comparison concludes for one CFA, in French.

    >>> verdict("cfa_casemix", True, "above"), verdict("non_comparable", False, None)
    ('écart établi (au-dessus)', 'non comparable')
    """
    if kind != "cfa_casemix":
        return "non comparable"
    if bool(alert):
        return "écart établi (au-dessus)" if direction == "above" else "écart établi (en dessous)"
    return "pas d'écart établi"


def _show_casemix(ctx: ReportContext) -> None:
    """Each CFA against the other comparable CFAs at equal case-mix: forest plot, then its table."""
    cm = ctx.results.cfa_casemix
    show_html(
        "<h3>Les CFA comparés à profil de contrats égal</h3>"
        + paragraph(
            "Ce que cela mesure : pour chaque CFA, son rythme de rupture pendant les 9 premiers mois des contrats, "
            "rapporté à celui des autres CFA comparables, à niveau de diplôme, secteur, type de contrat (premier "
            "ou successeur), tranche d'âge et année de début égaux. Les CFA sont estimés tous ensemble dans un "
            "seul modèle : un CFA n'est pas jugé sur les métiers qu'il forme, ni sur un voisin différent de lui. "
            "Un rapport de 1 : comme les autres. Un CFA dont les publics ne se retrouvent presque pas ailleurs "
            "(moins de 50 contrats équivalents en commun) est « non comparable » : aucun rapport n'est calculé."
        )
        + paragraph(
            "Ce que cela ne montre pas : ce que les fichiers ne contiennent pas (parcours scolaire, employeurs "
            "au-delà de leur secteur, bassin d'emploi) ; ni la cause d'un écart. Un écart établi est une "
            "question à poser, pas un verdict ; l'alerte suit la règle unique des points de vigilance.",
            "note",
            terms=("points de vigilance",),
        )
    )
    if cm.empty:
        unavailable("Comparaison des CFA à profil égal")
        return
    fig = figures.casemix_forest(cm, highlight=_highlight(ctx))
    table = cm.assign(
        verdict=[verdict(k, a, d) for k, a, d in zip(cm["kind"], cm["alert"], cm["direction"], strict=True)],
        q=[p_text(q) for q in cm["q_value"]],
        suppressed=cm["n_contracts"] < ctx.min_n,
    )
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-cfa-ajuste",
        caption="Rythme de rupture de chaque CFA rapporté aux autres CFA comparables, à profil de contrats égal",
        table=table,
        columns=[
            ("label", "CFA", "text"),
            ("n_contracts", "Contrats", "number"),
            ("events", "Ruptures (9 premiers mois)", "number"),
            ("expected", "Ruptures attendues", "ratio"),
            ("value", "Rapport à profil égal", "ratio"),
            ("ci", "IC 95 %", "interval"),
            ("q", "p ajusté (Holm)", "text"),
            ("verdict", "Conclusion", "text"),
        ],
        suppress=["events", "expected", "value", "ci"],
        intervals={"ci": ("ci_low", "ci_high", "ratio")},
        table_id="tab-cfa-ajuste",
        table_caption="Les CFA comparés à profil de contrats égal (modèle de Poisson, tous les CFA ensemble)",
        note="Ruptures attendues : si le CFA rompait au rythme des autres CFA comparables, avec ses propres "
        "contrats. Contrats suivis de leur début jusqu'à la rupture, 9 mois, la fin prévue ou le "
        f"{fr_date(ctx.as_of)} (les contrats en cours comptent pour le temps observé). p ajusté : correction "
        "de Holm sur l'ensemble des constats du département ; alerte quand il est au plus 5 %.",
    )


def _funnel_note(funnel: pd.DataFrame) -> str:
    """The over-dispersion sentence under the funnel table."""
    if "phi" not in funnel or funnel.empty or pd.isna(funnel["phi"].iloc[0]):
        return ""
    f = funnel.iloc[0]
    return (
        f" Sur-dispersion : φ = {fr_number(f['phi'], 1)} ({fr_pvalue(f['phi_p_value'])}) ; les écarts entre CFA "
        "dépassent le hasard, surtout parce qu'ils ne forment pas les mêmes publics. Les limites en tiennent "
        "compte (effets aléatoires, Spiegelhalter 2005)."
    )


def _show_funnel(ctx: ReportContext) -> None:
    """Funnel plot of the CFAs' raw rates (over-dispersion-aware limits), then its table."""
    res = ctx.results
    funnel = RP.published_cfas(ctx, res.funnel, column="cfa")
    show_html(
        "<h3>Taux bruts par CFA (graphique en entonnoir)</h3>"
        + paragraph(
            f"Chaque point est un CFA : son taux de rupture à {ctx.horizon} mois selon son nombre de contrats. "
            "Les courbes sont les limites à 95 % et 99,8 % autour du taux d'ensemble, élargies pour la "
            "sur-dispersion (les CFA ne forment pas les mêmes publics).",
            terms=("taux de rupture",),
        )
        + paragraph(
            "Ce que cela ne montre pas : le taux brut d'un CFA reflète d'abord les diplômes et les métiers qu'il "
            "prépare. Ce graphique décrit ; il ne produit aucune alerte et n'est pas un classement : seule la "
            "comparaison à profil égal ci-dessus le peut.",
            "note",
        )
    )
    fig = figures.funnel_plot(
        funnel,
        res.funnel_curve,
        label="label",
        target=res.funnel_target,
        highlight=_highlight(ctx),
        text_label="short",
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-cfa-funnel",
        caption=f"Taux de rupture brut à {ctx.horizon} mois par CFA (graphique en entonnoir, limites "
        "tenant compte de la sur-dispersion)",
    )
    lo, hi = ("lower_95_adj", "upper_95_adj") if "lower_95_adj" in funnel else ("lower_95", "upper_95")
    ft = funnel.assign(position=funnel["flag"].astype("string").map(FLAG_LABELS).fillna("–"))
    ft = ft.assign(limits=[fr_interval(a, b) for a, b in zip(ft[lo], ft[hi], strict=True)])
    show_html(
        rate_table(
            ft,
            "CFA",
            table_id="tab-cfa-funnel",
            caption=f"Taux de rupture brut à {ctx.horizon} mois par CFA",
            ctx=ctx,
            extra=[("limits", "Limites 95 % attendues", "text"), ("position", "Position", "text")],
            note=suppression_note(ctx) + _funnel_note(funnel),
        )
    )
