"""« Par période »: the trend by school year, the time to rupture, the phase of the contract and the
critical months of the year (crude, then at equal contract age)."""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import fr_month, fr_number, fr_pvalue, suppressed_label
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import LEVEL_LABELS, PHASE_LABELS
from aioa_analysis.reporting.sections.layout import (
    chart_with_table,
    heading,
    paragraph,
    published_references,
    unavailable,
)
from aioa_analysis.reporting.sections.mediation import show_mediation
from aioa_analysis.reporting.sections.results import column_of
from aioa_analysis.stats import suppression

SURVIVAL_MONTHS: Final = (1, 2, 3, 6, 9, 12, 18, 24, 36)


def show_par_periode(ctx: ReportContext) -> None:
    """Cohort trend, time-to-rupture curves, phases and the monthly hazard (critical periods)."""
    heading("par-periode")
    _show_cohorts(ctx)
    _show_survival(ctx)
    _show_phases(ctx)
    hazard = hazard_by_month(ctx.results.hazard)
    _show_crude_hazard(ctx, hazard)
    _show_age_adjusted_hazard(ctx, hazard)
    show_mediation(ctx)


def hazard_by_month(hazard: pd.DataFrame) -> pd.DataFrame:
    """The monthly hazard table with its month's short name and the critical months flagged.

    A month is critical when it has more ruptures than the age of its contracts explains (the
    interval of its observed/expected ratio lies above 1) and is published.
    """
    mcol = column_of(hazard, "month", "month_of_year", "period_value")
    hz = hazard.assign(month_label=[fr_month(m, short=True) for m in hazard[mcol]])
    critical = hz["oe_low"].gt(1).fillna(False) if "oe_low" in hz else pd.Series(False, index=hz.index)
    return hz.assign(critical=critical.astype(bool) & ~hz["suppressed"].astype("boolean").fillna(False))


def _show_cohorts(ctx: ReportContext) -> None:
    """Rupture rate by school year of start, with the family's suppression, partial years marked and
    the DARES-comparable calendar-year line (years too recent for the horizon say so)."""
    show_html("<h3>Évolution par année scolaire de début</h3>")
    coh = RP.cohort_table(ctx)
    observable = coh.loc[(coh["n_contracts"] > 0) & coh["cohort"].notna()]
    fig = figures.rate_trend(observable, x="cohort", references=published_references(ctx), min_n=ctx.min_n)
    show_figure(
        fig,
        fig_id="fig-cohortes",
        caption=f"Taux de rupture à {ctx.horizon} mois par année scolaire de début du contrat",
    )
    show_html(RP.cohort_rate_table(ctx))


def curve_end(curve: pd.DataFrame) -> int | None:
    """The last month of a curve still published (at least ``min_n`` contracts followed), ``None``
    when the curve goes on to its last month.

    >>> curve_end(pd.DataFrame({"month": [0, 1, 2], "suppressed": [False, False, True]}))
    1
    """
    shown = curve.loc[~curve["suppressed"].astype(bool), "month"]
    if shown.empty or len(shown) == len(curve):
        return None
    return int(shown.max())


def _show_survival(ctx: ReportContext) -> None:
    """Cumulative incidence of rupture (Aalen-Johansen) by month since start, by diploma level."""
    show_html(
        "<h3>Délai avant la rupture</h3>"
        + paragraph(
            "Part des contrats rompus selon le nombre de mois écoulés depuis le début du contrat (estimation "
            "d'Aalen-Johansen : un contrat qui arrive à sa fin prévue, ou qui est rompu après l'obtention du "
            "diplôme, sort du suivi sans être une rupture ; un contrat en cours est suivi jusqu'à la date "
            "d'observation). La valeur au mois m est la part des contrats rompus dans leurs m premiers mois. "
            f"Une courbe s'arrête quand moins de {ctx.min_n} contrats restent suivis.",
            terms=("Aalen-Johansen",),
        )
    )
    res = ctx.results
    lv = res.cif_level
    lv = lv.loc[~lv["suppressed"].astype(bool).to_numpy()] if len(lv) else lv
    if len(lv):
        lv = lv.assign(
            group=lv["diploma_level"].astype(str).map(LEVEL_LABELS).fillna(lv["diploma_level"].astype(str))
        )
    overall = res.cif.loc[~res.cif["suppressed"].astype(bool).to_numpy()] if len(res.cif) else res.cif
    curves = pd.concat([overall.assign(group="Ensemble"), lv], ignore_index=True)
    if curves.empty:
        unavailable("Courbes de rupture")
        return
    fig = figures.survival_curves(curves, time="month", estimate="rate", group="group")
    tab = res.cif.loc[res.cif["month"].isin(SURVIVAL_MONTHS)]
    end = curve_end(res.cif)
    stop = (
        f" La courbe de l'ensemble s'arrête au mois {end} : au-delà, moins de {ctx.min_n} contrats restent suivis."
        if end is not None
        else ""
    )
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-survie",
        caption="Part des contrats rompus dans leurs m premiers mois (valeur au mois m), par niveau de diplôme",
        table=tab.assign(
            month_label=[
                f"Dans les {m} premiers mois" if m > 1 else "Dans le premier mois" for m in tab["month"]
            ]
        ),
        columns=[
            ("month_label", "Rupture", "text"),
            ("n_at_risk", "Contrats encore suivis", "number"),
            ("cum_ruptures", "Ruptures cumulées", "number"),
            ("rate", "Part des contrats rompus", "percent"),
            ("ci", "IC 95 %", "interval"),
        ],
        suppress=["rate", "ci"],
        table_id="tab-survie",
        table_caption="Part cumulée des contrats rompus (ensemble du périmètre, Aalen-Johansen)",
        note=f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} contrats encore suivis, la courbe "
        f"s'arrête.{stop}",
    )


def _show_phases(ctx: ReportContext) -> None:
    """Share of the ruptures in each phase of the contract."""
    show_html("<h3>Moment de la rupture</h3>")
    ph = ctx.results.phases
    ph = ph.assign(label=ph["phase"].astype(str).map(PHASE_LABELS).fillna(ph["phase"].astype(str)))
    share_supp = ph["share_suppressed"] if "share_suppressed" in ph else ph["suppressed"]
    counts = suppression.suppress_counts(ph[["phase", "n_ruptures"]], by=["phase"])
    ph = ph.assign(
        suppressed=share_supp.astype(bool).to_numpy() | counts["suppressed"].astype(bool).to_numpy()
    )
    fig = figures.share_bars(
        ph,
        label="label",
        share="share_of_ruptures",
        ci_low="share_ci_low",
        ci_high="share_ci_high",
        ytitle="Part des ruptures",
        xtitle="Période du contrat",
        min_n=ctx.min_n,
    )
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-phases",
        caption="Répartition des ruptures selon le moment du contrat",
        table=ph,
        columns=[
            ("label", "Période", "text"),
            ("n_ruptures", "Ruptures", "number"),
            ("share_of_ruptures", "Part des ruptures", "percent"),
            ("share_ci", "IC 95 %", "interval"),
        ],
        suppress=["n_ruptures", "share_of_ruptures", "share_ci"],
        intervals={"share_ci": ("share_ci_low", "share_ci_high", "percent")},
        table_id="tab-phases",
        table_caption="Ruptures par période du contrat",
        note="0 à 45 jours : approximation calendaire des 45 premiers jours en entreprise (rupture libre). "
        f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} ruptures au total.",
    )


def _show_crude_hazard(ctx: ReportContext, hz: pd.DataFrame) -> None:
    """Crude monthly hazard by calendar month, critical months in red."""
    show_html(
        "<h3>Périodes critiques de l'année</h3>"
        + paragraph(
            "Risque mensuel de rupture : ruptures du mois rapportées aux contrats en cours ce mois-là (en contrats-mois). "
            "Le nombre brut de ruptures, en pointillé, dépend aussi du nombre de contrats en cours (beaucoup commencent en septembre).",
            terms=("contrats-mois",),
        )
    )
    fig = figures.monthly_hazard(hz, hazard="rate", exposure="exposure_months")
    note = (
        "Taux brut : il ne tient pas compte de l'ancienneté des contrats en cours (les premiers mois d'un contrat "
        "sont les plus risqués, et la plupart des contrats commencent en septembre). Mois en rouge : plus de "
        "ruptures qu'attendu à ancienneté égale (voir ci-dessous)."
    )
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-saison",
        caption="Risque mensuel de rupture par mois de l'année (taux brut)",
        table=hz.assign(per100=hz["rate"] * 100, lo100=hz["ci_low"] * 100, hi100=hz["ci_high"] * 100),
        columns=[
            ("month_label", "Mois", "text"),
            ("n_ruptures", "Ruptures", "number"),
            ("exposure_months", "Contrats-mois", "number"),
            ("per100", "Pour 100 contrats-mois", "ratio"),
            ("ci100", "IC 95 %", "interval"),
        ],
        suppress=["per100", "ci100"],
        intervals={"ci100": ("lo100", "hi100", "ratio")},
        table_id="tab-saison",
        table_caption="Risque mensuel de rupture par mois de l'année (taux brut)",
        note=note,
    )


def summer_sentence(summer: pd.DataFrame) -> str:
    """The summer effect (:func:`aioa_analysis.stats.summer.summer_effect`) as a range, in French,
    saying that summer is also the end of the training year."""
    if summer.empty or pd.isna(summer["ratio"].iloc[0]):
        return ""
    s = summer.iloc[0]
    return (
        "Été : à ancienneté du contrat, type de contrat (premier ou successeur), niveau et secteur égaux, le "
        f"risque de rupture en juillet-août est de {fr_number(s['ci_low'], 1)} à {fr_number(s['ci_high'], 1)} "
        f"fois celui des autres mois (intervalle à 95 %, {fr_pvalue(s['p_value'])}). L'été est aussi la fin de "
        "l'année de formation : examens passés, contrats qui arrivent à 10-11 ou 22-23 mois, fins de contrat. "
        f"Sont donc comptées à part : les ruptures après l'obtention du diplôme ({fr_number(s['n_after_diploma'])}, "
        f"dont {fr_number(s['n_after_diploma_summer'])} en juillet-août) et celles des 8 dernières semaines avant "
        f"la fin prévue ({fr_number(s['n_last_weeks'])}, dont {fr_number(s['n_last_weeks_summer'])} en "
        "juillet-août), souvent des ruptures après le diplôme que rien ne signale. Ce rapport ne dit pas pourquoi "
        "l'été est plus risqué."
    )


def _show_age_adjusted_hazard(ctx: ReportContext, hz: pd.DataFrame) -> None:
    """Observed/expected ruptures by calendar month at equal contract age, and the adjusted summer effect."""
    show_html(
        paragraph(
            "À ancienneté égale : pour chaque mois, les ruptures observées sont comparées aux ruptures attendues "
            "compte tenu de l'ancienneté des contrats en cours ce mois-là (risque de chaque mois de contrat estimé "
            "sur l'ensemble de la période). Un rapport supérieur à 1 signale un mois plus risqué que la moyenne, "
            "à ancienneté égale ; ce graphique décrit, il ne produit pas d'alerte.",
            terms=("ruptures attendues",),
        )
        + paragraph(summer_sentence(ctx.results.summer))
    )
    fig = figures.monthly_oe(hz)
    note = f"« {suppressed_label(ctx.min_n)} » : moins de {ctx.min_n} contrats en cours dans le mois."
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-saison-ajuste",
        caption="Ruptures observées / attendues par mois de l'année, à ancienneté de contrat égale",
        table=hz,
        columns=[
            ("month_label", "Mois", "text"),
            ("n_ruptures", "Ruptures observées", "number"),
            ("expected", "Ruptures attendues", "ratio"),
            ("oe_ratio", "Observé / attendu", "ratio"),
            ("oe_ci", "IC 95 %", "interval"),
        ],
        suppress=["expected", "oe_ratio", "oe_ci"],
        intervals={"oe_ci": ("oe_low", "oe_high", "ratio")},
        table_id="tab-saison-ajuste",
        table_caption="Ruptures observées et attendues par mois de l'année, à ancienneté de contrat égale",
        note=note,
    )
