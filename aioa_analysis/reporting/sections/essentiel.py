"""« L'essentiel »: the report on its first page, in plain French, for a reader who reads nothing else.

Five to eight sentences written from ``ctx.results`` (the main rate with its interval and the published
references, the share of ruptures in the first 45 days, when the ruptures happen, what follows them,
the diploma), a row of key figures, and the points de vigilance (the alerts of
:func:`aioa_analysis.stats.vigilance.vigilance_findings`, the records ``aioa vigilance`` prints), one
sentence each with a link to its evidence. In a CFA report (``ctx.params["cfa"]``) it speaks of that
CFA, the département's rate beside.

Nothing is computed here but comparisons of numbers already in the results, and every sentence says only
what its numbers support: « plus élevé que » a reference only when the 95 % interval excludes it; a
number the report hides (secret statistique, too few contracts) is left out with its sentence. The
rules (which sentence when, the thresholds) are in docs/methodology.md, part « L'essentiel ».
"""

from __future__ import annotations

import html
from typing import Final, TypeGuard

import pandas as pd

from aioa_analysis.core.formatting import fr_month, fr_number, fr_percent
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.findings import POLICY_LEVEL, evidence_of, ordered
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import heading_html, published_references, term
from aioa_analysis.reporting.sections.par_periode import hazard_by_month
from aioa_analysis.reporting.sections.results import column_of
from aioa_analysis.reporting.sections.vigilance import group_label
from aioa_analysis.stats import publication, suppression

FIRST_YEAR: Final = 12
"""Months of the « first year » in the sentence on when ruptures happen."""

MIN_CURVE_MONTHS: Final = 3
"""The curve must be published up to at least this month for that sentence to be written."""


def _ci(lo: object, hi: object, kind: str = "percent") -> str:
    """« IC 95 % : a à b » with the term's definition on hover."""

    def fmt(x: object) -> str:
        return fr_percent(x) if kind == "percent" else fr_number(x, 2)

    return f"{term('IC 95 %')} : {html.escape(fmt(lo))} à {html.escape(fmt(hi))}"


def _see(anchor: str) -> str:
    return f' <a class="voir" href="#{anchor}">voir</a>'


def published_row(row: pd.Series | None) -> TypeGuard[pd.Series]:
    return row is not None and not bool(row.get("suppressed", False)) and pd.notna(row.get("rate"))


def scope_rate(ctx: ReportContext) -> pd.Series | None:
    """The report's rate within the horizon, as the family may publish it (``None``: nothing computed)."""
    ov = RP.published_overall(ctx)
    return ov.iloc[0] if len(ov) else None


def departement_rate(ctx: ReportContext) -> pd.Series | None:
    """The département's rate within the horizon, with the family's suppression of the département row."""
    dept = ctx.results.overall_dept
    if dept.empty:
        return None
    pattern = RP.family_pattern(ctx)
    return publication.apply_pattern(dept, pattern, dimension=publication.TOTAL).iloc[0]


def position(low: float, high: float, reference: float) -> str:
    """Where a reference lies against a 95 % interval: ``above`` (the rate is higher), ``below``, ``within``.

    >>> position(0.215, 0.233, 0.21), position(0.215, 0.233, 0.24), position(0.215, 0.233, 0.22)
    ('above', 'below', 'within')
    """
    if low > reference:
        return "above"
    if high < reference:
        return "below"
    return "within"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def comparison_sentence(
    low: float, high: float, refs: list[tuple[str, float]], subject: str = "Ce taux"
) -> str:
    """« Ce taux est plus élevé que ... ; proche de ... » against each ``(name, value)`` reference.

    >>> refs = [("celui de la France (21 %)", 0.21), ("celui du département (22 %)", 0.22)]
    >>> print(comparison_sentence(0.215, 0.233, refs))
    Ce taux est plus élevé que celui de la France (21 %) ; il ne s'écarte pas nettement de celui du département (22 %), valeur comprise dans son intervalle.
    >>> print(comparison_sentence(0.215, 0.233, refs[1:], "Ce taux brut"))
    Ce taux brut ne s'écarte pas nettement de celui du département (22 %), valeur comprise dans son intervalle.
    """
    groups: dict[str, list[str]] = {"above": [], "below": [], "within": []}
    for name, value in refs:
        groups[position(low, high, value)].append(name)
    clauses = []
    if groups["above"]:
        clauses.append(f"est plus élevé que {_join(groups['above'])}")
    if groups["below"]:
        clauses.append(f"est plus bas que {_join(groups['below'])}")
    if groups["within"]:
        plural = "s" if len(groups["within"]) > 1 else ""
        clauses.append(
            f"ne s'écarte pas nettement de {_join(groups['within'])}, valeur{plural} comprise{plural} dans "
            "son intervalle"
        )
    return f"{subject} " + " ; il ".join(clauses) + "."


def _references(ctx: ReportContext) -> list[tuple[str, float]]:
    """The published references at the report's horizon, named for a sentence."""
    names = {"France": "celui de la France", "Centre-Val de Loire": "celui du Centre-Val de Loire"}
    ref = published_references(ctx)
    return [
        (f"{names.get(str(g), str(g))} ({fr_percent(v)} en {y})", float(v))
        for g, y, v in zip(ref["geography"], ref["year"], ref["value"], strict=True)
    ]


def rate_sentences(ctx: ReportContext) -> list[str]:
    """The main rate with its interval, the département's beside (CFA report), the comparisons (HTML)."""
    h, row, dept = ctx.horizon, scope_rate(ctx), departement_rate(ctx)
    rate_term = term(f"taux de rupture à {h} mois", "taux-de-rupture")
    who = f"{html.escape(ctx.cfa_label)} : s" if ctx.cfa_label else "S"
    dept_text = (
        f" Département : {fr_percent(dept['rate'])} ({_ci(dept['ci_low'], dept['ci_high'])})."
        if ctx.cfa_label and published_row(dept)
        else ""
    )
    if not published_row(row):
        where = f"pour {html.escape(ctx.cfa_label)}" if ctx.cfa_label else "pour ce périmètre"
        return [f"Le {rate_term} n'est pas publié {where} ({term('secret statistique')}).{dept_text}"]
    first = (
        f"{who}ur les {fr_number(row['n_contracts'])} contrats commencés depuis au moins {h} mois, "
        f"{fr_percent(row['rate'])} ont été rompus dans leurs {h} premiers mois ({_ci(row['ci_low'], row['ci_high'])})"
        f" : c'est le {rate_term}.{_see('tab-references')}"
    )
    refs = _references(ctx)
    if ctx.cfa_label and published_row(dept):
        refs = [(f"celui du département ({fr_percent(dept['rate'])})", float(dept["rate"])), *refs]
    out = [first]
    if refs:
        subject = "Ce taux brut" if ctx.cfa_label else "Ce taux"
        out.append(
            html.escape(comparison_sentence(float(row["ci_low"]), float(row["ci_high"]), refs, subject))
        )
    return out


def cfa_sentence(ctx: ReportContext) -> str:
    """A CFA report: its CFA at equal case-mix against the other CFAs (its vigilance record), in one sentence."""
    v = ctx.results.vigilance
    mine = v.loc[(v["dimension"] == "cfa") & (v["group"].astype(str) == str(ctx.params.get("cfa")))]
    if not ctx.cfa_label or mine.empty:
        return ""
    r = mine.iloc[0]
    if r["kind"] == "non_comparable":
        text = (
            "Ce CFA n'est pas comparé aux autres CFA à public comparable : trop peu d'autres CFA forment des "
            "publics semblables (mêmes niveaux et secteurs)."
        )
        return text + _see(evidence_of("cfa"))
    comparable = term("À public comparable")
    ratio = (
        f"{fr_number(r['value'], 2)} fois celui des autres CFA ({_ci(r['ci_low'], r['ci_high'], 'ratio')})"
    )
    if bool(r["alert"]):
        verdict = "plus élevé" if r["direction"] == "above" else "plus bas"
        text = (
            f"{comparable}, son rythme de rupture est {verdict} que celui des autres CFA ({ratio}) : c'est "
            f"un {term('point de vigilance')}."
        )
    else:
        text = (
            f"{comparable}, son rythme de rupture vaut {ratio} : pas d'écart établi ({term('méthode de Holm')}, "
            f"seuil {fr_percent(POLICY_LEVEL, 0)})."
        )
    return text + _see(evidence_of("cfa"))


def trial_sentence(ctx: ReportContext) -> str:
    """The share of the ruptures observed in the first 45 days (the phases table of « Par période»)."""
    ph = ctx.results.phases
    hidden = suppression.suppress_counts(ph[["phase", "n_ruptures"]], by=["phase"])["suppressed"].astype(bool)
    share_hidden = ph["share_suppressed"] if "share_suppressed" in ph else ph["suppressed"]
    row = ph.loc[(ph["phase"].astype(str) == "0-45j") & ~hidden.to_numpy() & ~share_hidden.astype(bool)]
    if row.empty or pd.isna(row["share_of_ruptures"].iloc[0]):
        return ""
    return (
        f"{fr_percent(row['share_of_ruptures'].iloc[0])} des ruptures observées ont lieu dans les "
        f"{term('45 premiers jours')} du contrat, la période d'essai où l'employeur comme l'apprenti peut "
        f"rompre librement.{_see('tab-phases')}"
    )


def half_month(cif: pd.DataFrame, last: int) -> int:
    """The first month by which half of the ruptures of the first ``last`` months have happened.

    >>> c = pd.DataFrame({"month": [0, 1, 2, 3, 4], "rate": [0.0, 0.04, 0.08, 0.1, 0.12]})
    >>> half_month(c, 4)
    2
    """
    curve = cif.set_index("month")["rate"]
    target = float(curve.loc[last]) / 2
    return int(curve.loc[:last].loc[lambda s: s >= target].index.min())


def when_sentence(ctx: ReportContext) -> str:
    """When ruptures happen: early in the contract (Aalen-Johansen), and the critical months of the year."""
    cif = ctx.results.cif
    shown = cif.loc[~cif["suppressed"].astype(bool)] if len(cif) else cif
    out = ""
    if len(shown) and int(shown["month"].max()) >= MIN_CURVE_MONTHS:
        last = min(FIRST_YEAR, int(shown["month"].max()))
        m = half_month(shown, last)
        period = "de la première année" if last == FIRST_YEAR else f"des {last} premiers mois"
        rate = shown.set_index("month")["rate"]
        out = (
            f"Les ruptures se concentrent au début du contrat : la moitié des ruptures {period} ont lieu dans "
            f"les {m} premiers mois ({fr_percent(rate.loc[m])} des contrats rompus à {m} mois, "
            f"{fr_percent(rate.loc[last])} à {last} mois, estimation d'{term('Aalen-Johansen')}).{_see('tab-survie')}"
        )
    hz = ctx.results.hazard
    if len(hz):
        hz = hazard_by_month(hz)
        months = [fr_month(x) for x in hz.loc[hz["critical"], column_of(hz, "month", "month_of_year")]]
        if months:
            verb = "compte" if len(months) == 1 else "comptent"
            out += (
                f" Dans l'année, {_join(months)} {verb} plus de ruptures qu'attendu "
                f"{term('à ancienneté égale')}.{_see('tab-saison-ajuste')}"
            )
        else:
            out += (
                f" Aucun mois de l'année ne compte plus de ruptures qu'attendu {term('à ancienneté égale')}."
            )
    return out.strip()


def after_sentence(ctx: ReportContext) -> str:
    """New apprenticeship contract within 180 days of a rupture (published from ``min_n`` ruptures)."""
    rc = ctx.results.recontract
    rc = rc.loc[rc["window_days"] == 180]
    if rc.empty or int(rc["n_ruptures"].iloc[0]) < ctx.min_n or pd.isna(rc["rate"].iloc[0]):
        return ""
    return (
        f"Après une rupture, {fr_percent(rc['rate'].iloc[0])} des contrats rompus sont suivis d'un nouveau "
        "contrat d'apprentissage dans les 180 jours (contrats connus dans les fichiers reçus : un contrat hors du "
        f"département n'y figure pas).{_see('tab-apres')}"
    )


DIPLOMA_PATHS: Final = (
    ("completed", "des apprentis dont le contrat est allé à son terme"),
    ("ruptured_recontracted", "après une rupture suivie d'un nouveau contrat"),
    ("ruptured_no_new_contract", "après une rupture sans nouveau contrat connu"),
)
"""The pass rates of the diploma sentence, in its order (outcome class, French wording)."""


def diploma_sentence(ctx: ReportContext) -> str:
    """Pass rate at the exam by the contract's path (published from ``min_n`` known results)."""
    ps = ctx.results.pass_rates
    if ps.empty:
        return ""
    shown = ps.loc[(ps["n_exam"] >= ctx.min_n) & ps["rate"].notna()].set_index("outcome_class")
    parts = [f"{fr_percent(shown.loc[k, 'rate'])} {w}" for k, w in DIPLOMA_PATHS if k in shown.index]
    if len(parts) < 2 or "completed" not in shown.index:
        return ""
    return (
        f"À l'examen, {parts[0]} sont admis, contre {_join(parts[1:])} (absents comptés comme non "
        f"admis).{_see('tab-resultat')}"
    )


def point_sentence(record: pd.Series, label: str) -> str:
    """One point de vigilance on a CFA or on the summer, in one short sentence (HTML), from its own numbers."""
    kind, v = str(record["kind"]), record
    if kind == "cfa_casemix":
        verdict = "plus" if v["direction"] == "above" else "moins"
        return (
            f"{html.escape(label)} rompt {verdict} que les autres CFA {term('à public comparable')} : "
            f"{fr_number(v['value'], 2)} fois leur rythme ({_ci(v['ci_low'], v['ci_high'], 'ratio')})."
        )
    if kind == "summer_ratio":
        return (
            f"Été : {term('à ancienneté égale')}, le risque de rupture en juillet-août est "
            f"{fr_number(v['value'], 2)} fois celui des autres mois ({_ci(v['ci_low'], v['ci_high'], 'ratio')})."
        )
    return html.escape(str(v["sentence"]).split(". ")[0].rstrip(".") + ".")


GROUP_WORDS: Final = {
    "sector": ("Secteur", "Secteurs"),
    "diploma_level": ("Niveau de diplôme", "Niveaux de diplôme"),
}
"""Heads of the grouped sentence of the points on sectors and diploma levels (singular, plural)."""


def group_sentence(points: pd.DataFrame, labels: list[str], horizon: int) -> str:
    """The points on one dimension and direction (sectors above the rest...) in one sentence (HTML).

    >>> t = pd.DataFrame({"dimension": ["sector"], "direction": ["above"], "value": [0.3], "reference": [0.2]})
    >>> print(group_sentence(t, ["« Coiffure »"], 9).replace("\u202f", " "))
    Secteur où les contrats rompent plus que dans le reste du département (part rompue dans les 9 premiers mois) : « Coiffure » (30,0 % contre 20,0 %).
    """
    first = points.iloc[0]
    one, many = GROUP_WORDS.get(str(first["dimension"]), ("Groupe", "Groupes"))
    head = one if len(points) == 1 else many
    verdict = "plus" if first["direction"] == "above" else "moins"
    items = _join(
        [
            f"{lab} ({fr_percent(v)} contre {fr_percent(r)})"
            for lab, v, r in zip(labels, points["value"], points["reference"], strict=True)
        ]
    )
    return html.escape(
        f"{head} où les contrats rompent {verdict} que dans le reste du département (part rompue dans les "
        f"{horizon} premiers mois) : {items}."
    )


def _point_label(dimension: str, group: str, ctx: ReportContext) -> str:
    name = group_label(dimension, group, ctx.results.cfa_labels)
    if dimension == "sector":
        return f"« {name} »"
    if dimension == "diploma_level":
        return f"niveau {group}"
    return name


def vigilance_points(ctx: ReportContext) -> pd.DataFrame:
    """The points de vigilance of this report: the alerts among the published records, in their order."""
    v = ctx.results.vigilance
    names = {
        f"{d}:{g}": group_label(str(d), str(g), ctx.results.cfa_labels)
        for d, g in zip(v["dimension"], v["group"], strict=True)
    }
    published = ordered(RP.published_vigilance(ctx, names)) if len(v) else v
    return (
        published.loc[published["alert"].astype(bool)].reset_index(drop=True) if len(published) else published
    )


def vigilance_html(ctx: ReportContext) -> str:
    """The points de vigilance, one sentence and one link to its evidence each; or that there are none."""
    points = vigilance_points(ctx)
    cfa_report = bool(ctx.cfa_label)
    rule = f"{term('méthode de Holm')}, seuil {fr_percent(POLICY_LEVEL, 0)}"
    title = term("Points de vigilance")
    if points.empty:
        return (
            f'<p class="points none"><strong>{title} : aucun.</strong> Aucun écart n\'est établi : tous les '
            "constats du département (CFA à public comparable, secteurs, niveaux de diplôme, été) ont été "
            f"testés ensemble ({rule}) et aucun ne dépasse ce seuil.{_see('vigilance')}</p>"
        )
    items = []
    for (dim, _), part in points.groupby(["dimension", "direction"], sort=False, dropna=False):
        where = "Département — " if cfa_report and dim != "cfa" else ""
        labels = [_point_label(str(dim), str(g), ctx) for g in part["group"]]
        if (part["kind"] == "rate_vs_rest").all():
            texts = [group_sentence(part, labels, ctx.horizon)]
        else:
            texts = [point_sentence(r, lab) for (_, r), lab in zip(part.iterrows(), labels, strict=True)]
        anchor = evidence_of(str(dim), cfa_report=cfa_report)
        items += [f"<li>{where}{t}{_see(anchor)}</li>" for t in texts]
    n = len(points)
    head = (
        f'<p class="points"><strong>{title} : {n}</strong> écart{"s" if n > 1 else ""} établi{"s" if n > 1 else ""} '
        f"({rule} sur l'ensemble des constats du département ; une question à poser, pas un verdict).{_see('vigilance')}</p>"
    )
    return head + f'<ul class="points">{"".join(items)}</ul>'


def _card(value: str, label: str, detail: str = "") -> str:
    d = f'<span class="detail">{detail}</span>' if detail else ""
    return f'<div class="card"><span class="value">{html.escape(value)}</span><span class="label">{html.escape(label)}</span>{d}</div>'


def key_cards(ctx: ReportContext) -> str:
    """The compact row of key figures (HTML): rate, first 45 days, new contract, points de vigilance."""
    h, row, dept = ctx.horizon, scope_rate(ctx), departement_rate(ctx)
    cards = []
    if published_row(row):
        beside = (
            f" ; département : {fr_percent(dept['rate'])}" if ctx.cfa_label and published_row(dept) else ""
        )
        cards.append(
            _card(
                fr_percent(row["rate"]),
                f"taux de rupture à {h} mois",
                _ci(row["ci_low"], row["ci_high"]) + beside,
            )
        )
    ph = ctx.results.phases
    first = ph.loc[(ph["phase"].astype(str) == "0-45j")]
    if trial_sentence(ctx):
        cards.append(
            _card(fr_percent(first["share_of_ruptures"].iloc[0]), "des ruptures dans les 45 premiers jours")
        )
    rc = ctx.results.recontract.loc[ctx.results.recontract["window_days"] == 180]
    if after_sentence(ctx):
        cards.append(
            _card(fr_percent(rc["rate"].iloc[0]), "des ruptures suivies d'un nouveau contrat en 180 jours")
        )
    points = vigilance_points(ctx)
    mine = f"dont {fr_number(int((points['dimension'] == 'cfa').sum()))} sur ce CFA" if ctx.cfa_label else ""
    cards.append(_card(fr_number(len(points)), "points de vigilance", mine))
    return f'<div class="cards essentiel-cards">{"".join(cards)}</div>'


def sentences(ctx: ReportContext) -> list[str]:
    """The sentences of L'essentiel (HTML), in reading order; empty ones (hidden numbers) left out."""
    out = [
        *rate_sentences(ctx),
        cfa_sentence(ctx),
        trial_sentence(ctx),
        when_sentence(ctx),
        after_sentence(ctx),
        diploma_sentence(ctx),
    ]
    return [s for s in out if s]


def essentiel_html(ctx: ReportContext) -> str:
    """The whole section (HTML): title and question, key figures, sentences, points de vigilance."""
    scope = html.escape(ctx.scope_label) + (", comparé au département" if ctx.cfa_label else "")
    items = "".join(f"<li>{s}</li>" for s in sentences(ctx))
    return (
        f'<section class="essentiel" aria-labelledby="essentiel">{heading_html("essentiel")}'
        f'<p class="scope">Ce qu\'il faut retenir pour {scope}.</p>'
        f'{key_cards(ctx)}<ul class="sentences">{items}</ul>{vigilance_html(ctx)}</section>'
    )


def show_essentiel(ctx: ReportContext) -> None:
    """L'essentiel: the report on its first page (see the module's docstring)."""
    show_html(essentiel_html(ctx))
