"""The building blocks every section uses: headings and paragraphs, a chart followed by its table,
rate tables in French formats with small cells suppressed, and the published references shown
beside the rates.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Final

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis.core.formatting import (
    format_table,
    fr_date,
    fr_percent,
    table_html,
)
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.terms import term as term  # re-exported for the sections
from aioa_analysis.reporting.sections.terms import with_terms

SECTIONS: Final = (
    ("essentiel", "L'essentiel"),
    ("synthese", "Synthèse en chiffres"),
    ("par-cfa", "Par CFA"),
    ("par-secteur", "Par secteur"),
    ("par-diplome", "Par diplôme"),
    ("par-periode", "Par période"),
    ("profils", "Profils"),
    ("motifs", "Motifs de rupture"),
    ("premiers-jours", "Les 45 premiers jours"),
    ("tendance", "Tendance"),
    ("apres-rupture", "Après la rupture"),
    ("accompagnement", "Accompagnement après la rupture"),
    ("resultat-diplome", "Résultat au diplôme"),
    ("vigilance", "Points de vigilance"),
    ("qualite", "Qualité des données"),
    ("glossaire", "Glossaire"),
    ("methodologie", "Méthodologie"),
    ("provenance", "Provenance"),
)
"""Section anchors and French titles, in the order of the plenary's agenda."""

QUESTIONS: Final = {
    "essentiel": "Que faut-il retenir de ce rapport, en une page ?",
    "synthese": "Combien de contrats sont rompus, et comment se situe-t-on par rapport aux chiffres publiés ?",
    "par-cfa": "Quels CFA rompent le plus, à public comparable ?",
    "par-secteur": "Dans quels secteurs d'employeurs les contrats sont-ils le plus souvent rompus ?",
    "par-diplome": "Quels niveaux et quels types de diplôme sont les plus touchés ?",
    "par-periode": "Le taux change-t-il d'une année à l'autre, et à quel moment du contrat et de l'année "
    "les ruptures ont-elles lieu ?",
    "profils": "Le risque de rupture diffère-t-il selon le territoire, l'âge de l'apprenti et la taille "
    "de l'entreprise ?",
    "motifs": "Pour quels motifs les contrats sont-ils rompus, et que sait-on de ces motifs ?",
    "premiers-jours": "Combien de ruptures surviennent dans les 45 premiers jours, où et pourquoi ?",
    "tendance": "Qu'est-ce qui a changé d'une année scolaire à l'autre, pour le département et pour chaque CFA ?",
    "apres-rupture": "Après une rupture, l'apprenti retrouve-t-il un contrat d'apprentissage ?",
    "accompagnement": "Les jeunes dont le contrat a été rompu ont-ils été contactés, et que sont-ils devenus ?",
    "resultat-diplome": "Les apprentis dont le contrat a été rompu obtiennent-ils leur diplôme ?",
    "vigilance": "Quels écarts sont assez nets pour ne pas être dus au hasard ?",
    "qualite": "Les fichiers reçus sont-ils complets et fiables ?",
    "glossaire": "Que veulent dire les termes techniques du rapport ?",
    "methodologie": "Comment chaque chiffre est-il calculé ?",
    "provenance": "De quels fichiers et de quels paramètres ce rapport est-il issu ?",
}
"""The question each section answers (anchor -> French question), printed under its title."""

NOT_OBSERVABLE: Final = "pas encore observable"
"""What a rate table shows for a group whose contracts are all too recent for the horizon."""

FRANCE_SECTOR: Final = "France (DARES, 2022)"
"""Legend and column header of the national rate of each group."""

ORDER_NOTE: Final = (
    " Groupes classés du taux le plus élevé au plus bas ; les taux non publiés puis « Non renseigné » "
    "(valeur manquante dans les fichiers) en fin de liste. Losange : taux national du groupe."
)
"""How the groups of a rate table are ordered (see :func:`.labels.order_groups`)."""

HIDDEN: Final = "secret"
"""What a rate table shows in every cell of a hidden row (the same mark, whatever the reason)."""

CI: Final = {"ci": ("ci_low", "ci_high", "percent")}
"""The 95 % interval column of a rate table (:func:`aioa_analysis.core.formatting.format_table`)."""


def heading_html(anchor: str) -> str:
    """The section's title (:data:`SECTIONS`) with its anchor, then the question it answers (:data:`QUESTIONS`).

    >>> heading_html("par-cfa")
    '<h2 id="par-cfa">Par CFA</h2><p class="question">Quels CFA rompent le plus, à public comparable ?</p>'
    """
    title = dict(SECTIONS)[anchor]
    question = QUESTIONS.get(anchor, "")
    q = f'<p class="question">{html.escape(question, quote=False)}</p>' if question else ""
    return f'<h2 id="{anchor}">{html.escape(title, quote=False)}</h2>{q}'


def heading(anchor: str) -> None:
    """Display the section's title and its question (:func:`heading_html`)."""
    show_html(heading_html(anchor))


def paragraph(text: str, cls: str = "", *, terms: tuple[str, ...] | list[str] = ()) -> str:
    """A paragraph of escaped text (HTML); the first occurrence of each of ``terms`` is wrapped by
    :func:`~.terms.term` (its definition on hover, a link to the glossary).

    >>> paragraph("Taux < 20 %", "note")
    '<p class="note">Taux &lt; 20 %</p>'
    """
    c = f' class="{cls}"' if cls else ""
    return f"<p{c}>{with_terms(text, terms)}</p>"


def unavailable(what: str) -> None:
    """Say that ``what`` cannot be shown: too few contracts in the report's scope."""
    show_html(paragraph(f"{what} : pas assez de données dans le périmètre du rapport.", "unavailable"))


def rate_columns(dim_header: str, label: str = "label") -> list[tuple[str, str, str]]:
    """The columns of a rate table: group, contracts, ruptures, rate, interval."""
    return [
        (label, dim_header, "text"),
        ("n_contracts", "Contrats observés", "number"),
        ("n_ruptures", "Ruptures", "number"),
        ("rate", "Taux", "percent"),
        ("ci", "IC 95 %", "interval"),
    ]


def rate_table(
    t: pd.DataFrame,
    dim_header: str,
    *,
    table_id: str,
    caption: str,
    ctx: ReportContext,
    extra: list[tuple[str, str, str]] | None = None,
    note: str | None = None,
    not_observable: bool = False,
) -> str:
    """A rate table in French formats; every count, rate and interval of a hidden row reads « secret ».

    The same mark for every hidden row (primary or secondary suppression), so that the reader cannot
    tell which rows have few contracts; counts of 1 or 2 are never printed.
    """
    counts = ["n_contracts", "n_ruptures", "rate", "ci"]
    disp = format_table(
        t, rate_columns(dim_header) + (extra or []), suppress=counts, min_n=ctx.min_n, intervals=CI
    )
    headers = ("Contrats observés", "Ruptures", "Taux", "IC 95 %")
    hidden = t["suppressed"].astype("boolean").fillna(False).to_numpy() if "suppressed" in t else None
    if hidden is not None:
        disp.loc[hidden, list(headers)] = HIDDEN
    if not_observable:  # a group with no contract observable yet (too recent for the horizon)
        empty = (pd.to_numeric(t["n_contracts"], errors="coerce").fillna(0) == 0).to_numpy()
        disp.loc[empty, "Contrats observés"] = "0"
        for header in headers[1:]:
            disp.loc[empty, header] = NOT_OBSERVABLE
    return table_html(disp, table_id=table_id, caption=caption, note=note or suppression_note(ctx))


def show_table(
    ctx: ReportContext,
    table: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    *,
    suppress: list[str],
    table_id: str,
    caption: str,
    note: str | None = None,
    intervals: Mapping[str, tuple[str, str, str]] = CI,
) -> None:
    """Display ``table`` in French formats, cells of groups under ``ctx.min_n`` suppressed."""
    disp = format_table(table, columns, suppress=suppress, min_n=ctx.min_n, intervals=intervals)
    show_html(table_html(disp, table_id=table_id, caption=caption, note=note))


def chart_with_table(
    ctx: ReportContext,
    fig: go.Figure,
    *,
    fig_id: str,
    caption: str,
    table: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    suppress: list[str],
    table_id: str,
    table_caption: str,
    note: str | None = None,
    intervals: Mapping[str, tuple[str, str, str]] = CI,
) -> None:
    """Display a chart followed by its table (see :func:`show_table`)."""
    show_figure(fig, fig_id=fig_id, caption=caption)
    show_table(
        ctx,
        table,
        columns,
        suppress=suppress,
        table_id=table_id,
        caption=table_caption,
        note=note,
        intervals=intervals,
    )


def suppression_note(ctx: ReportContext) -> str:
    """The note under a rate table: what « secret » means and how the rate is defined."""
    return (
        f"« {HIDDEN} » : valeur non publiée (secret statistique) : moins de {ctx.min_n} contrats observés, "
        "ou 1 ou 2 ruptures (ou 1 ou 2 contrats non rompus), ou valeur masquée pour qu'aucune différence "
        "entre les tableaux des rapports (département et CFA) ne permette de retrouver une valeur cachée. "
        f"Taux de rupture à {ctx.horizon} mois : contrats commencés au moins {ctx.horizon} mois avant le "
        f"{fr_date(ctx.as_of)}, rompus dans les {ctx.horizon} mois suivant leur début."
    )


def published_references(
    ctx: ReportContext, *, dimension: str = "overall", category: str = ""
) -> pd.DataFrame:
    """Published rupture rates at the report's horizon, the latest year of each geography, labelled."""
    ref = ctx.results.references
    sel = ref.loc[
        (ref["indicator"] == "rupture_rate")
        & (ref["dimension"] == dimension)
        & (ref["category"].fillna("") == category)
        & (ref["horizon_months"].astype(str) == str(ctx.horizon))
    ]
    sel = sel.sort_values("year", ascending=False).drop_duplicates("geography")
    return sel.assign(
        label=[
            f"{g} {y} : {fr_percent(v)}"
            for g, y, v in zip(sel["geography"], sel["year"], sel["value"], strict=True)
        ]
    )


def category_references(ctx: ReportContext, dimension: str) -> dict[str, float]:
    """Published rate per category of ``dimension`` at the report's horizon (the latest year)."""
    ref = ctx.results.references
    sel = ref.loc[
        (ref["indicator"] == "rupture_rate")
        & (ref["dimension"] == dimension)
        & (ref["geography"] == "France")
        & (ref["horizon_months"].astype(str) == str(ctx.horizon))
    ].sort_values("year", ascending=False)
    sel = sel.drop_duplicates("category")
    return {str(c): float(v) for c, v in zip(sel["category"], sel["value"], strict=True)}


def overall_references(ctx: ReportContext, overall: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reference lines of a rate chart: the scope's own rate (when published), then the published ones.

    ``overall``: the scope's overall rate with its suppression (default ``ctx.results.overall``).
    """
    ov = ctx.results.overall if overall is None else overall
    rows = []
    if len(ov) and pd.notna(ov["rate"].iloc[0]) and not bool(ov["suppressed"].iloc[0]):
        rows.append(
            {"value": float(ov["rate"].iloc[0]), "label": f"Ensemble : {fr_percent(ov['rate'].iloc[0])}"}
        )
    nat = published_references(ctx)
    for r in nat.itertuples(index=False):
        rows.append({"value": float(r.value), "label": f"{r.geography} {r.year} : {fr_percent(r.value)}"})
    return pd.DataFrame(rows, columns=["value", "label"])
