"""« Accompagnement après la rupture »: what the follow-up of the ruptures by the Missions Locales and the
MLDS led to (issue 16): share of ruptures contacted within 30 days, situation known at 3 and 6 months,
the latest known situation by structure and by territory (:mod:`aioa_analysis.stats.accompaniment`).

The section reads only the pseudonymised outcome table (codes and dates, never a name); every count
of 1 or 2 and every share on fewer than ``min_n`` ruptures reads « secret ».
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.formatting import format_table, fr_date, table_html
from aioa_analysis.core.schema import C
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import CI, HIDDEN, heading, paragraph
from aioa_analysis.stats.publication import primary_reasons

HOW_TO: Final = (
    "Aucun classeur de suivi retourné par les Missions Locales ou la MLDS n'a encore été importé : cette "
    "section sera remplie quand les structures auront renvoyé leurs classeurs. Chaque mois, la chambre "
    "prépare les listes de suivi, les transmet aux structures, puis relit les classeurs complétés qu'elles "
    "renvoient ; le tableau pseudonymisé des suites (sans aucun nom) est alors écrit à côté du tableau des "
    "contrats, et le rapport suivant remplit cette section (voir la notice « Listes mensuelles de suivi »)."
)

SHARE_COLUMNS: Final = [
    ("k", "Ruptures concernées", "number"),
    ("n", "Ruptures", "number"),
    ("rate", "Part", "percent"),
    ("ci", "IC 95 %", "interval"),
]


def _labels(name: str, key: str) -> dict[str, str]:
    t = referential.load_table(name)
    return dict(zip(t[key].astype(str), t["label"].astype(str), strict=True))


def with_secret(table: pd.DataFrame, *, min_n: int) -> pd.DataFrame:
    """``table`` (``k``, ``n``, ``suppressed``) with every primary-secret row hidden too: fewer than
    ``min_n`` ruptures, 1 or 2 ruptures concerned, or 1 or 2 not concerned.

    >>> t = pd.DataFrame({"k": [1, 10, 30], "n": [40, 40, 31], "suppressed": [False, False, False]})
    >>> with_secret(t, min_n=20)["suppressed"].tolist()
    [True, False, True]
    """
    reasons = primary_reasons(table["n"], table["k"], min_n=min_n)
    hidden = table["suppressed"].astype("boolean").fillna(False).to_numpy() | (reasons != "").to_numpy()
    return table.assign(suppressed=hidden)


def share_table(
    table: pd.DataFrame,
    first: list[tuple[str, str, str]],
    *,
    table_id: str,
    caption: str,
    note: str,
    min_n: int,
) -> str:
    """The HTML table of shares: every count, share and interval of a hidden row reads « secret »."""
    disp = format_table(
        table, first + SHARE_COLUMNS, suppress=["k", "n", "rate", "ci"], min_n=min_n, intervals=CI
    )
    hidden = table["suppressed"].astype("boolean").fillna(False).to_numpy()
    disp.loc[hidden, [h for _, h, _ in SHARE_COLUMNS]] = HIDDEN
    return table_html(disp, table_id=table_id, caption=caption, note=note)


def show_accompagnement(ctx: ReportContext) -> None:
    """Contact within 30 days, situation known at 3 and 6 months, situations by structure and territory."""
    heading("accompagnement")
    res = ctx.results
    scope = (
        f"les ruptures des contrats de {ctx.cfa_label}" if ctx.cfa_label else "les ruptures du département"
    )
    show_html(
        paragraph(
            f"Ce que cela mesure : parmi {scope} transmises chaque mois aux Missions Locales et à la MLDS "
            "(jeunes résidant en Loir-et-Cher, hors ruptures après l'obtention du diplôme), la part des "
            "jeunes contactés dans les 30 jours suivant la rupture, et la part dont la situation est connue "
            "3 mois et 6 mois après. Chaque part porte sur les ruptures assez anciennes au "
            f"{fr_date(ctx.as_of)} (30 jours, 3 mois, 6 mois)."
        )
        + paragraph(
            "Ce que cela ne montre pas : l'effet de l'accompagnement (un jeune non contacté a pu retrouver un "
            "contrat seul) ; ce rapport ne contient aucun nom.",
            "note",
        )
    )
    if not res.followup_imported:
        show_html(paragraph(HOW_TO, "unavailable"))
        return
    ind = with_secret(res.accompaniment, min_n=ctx.min_n)
    fig = figures.share_bars(
        ind,
        label="label",
        share="rate",
        ci_low="ci_low",
        ci_high="ci_high",
        count="k",
        ytitle="Part des ruptures",
        min_n=ctx.min_n,
    )
    show_figure(fig, fig_id="fig-accompagnement", caption="Contact et situation connue après la rupture")
    note = (
        f"« {HIDDEN} » : valeur non publiée (secret statistique) : moins de {ctx.min_n} ruptures, ou 1 ou "
        "2 jeunes concernés (ou non concernés)."
    )
    show_html(
        share_table(
            ind,
            [("label", "Indicateur", "text")],
            table_id="tab-accompagnement",
            caption="Contact et situation connue après la rupture",
            note=note,
            min_n=ctx.min_n,
        )
    )
    _show_situations(ctx, note)


def _show_situations(ctx: ReportContext, note: str) -> None:
    """The latest known situation, by structure that answered and by territory of residence."""
    situations = _labels("followup_situations.csv", "code")
    groups = {
        "structure": (
            "Structure",
            _labels("followup_structures.csv", "structure"),
            ctx.results.situations_structure,
        ),
        "territory": ("Territoire", referential.territory_labels(), ctx.results.situations_territory),
    }
    show_html(
        "<h3>Situation des jeunes après la rupture</h3>"
        + paragraph(
            "Dernière situation connue (à 6 mois, sinon à 3 mois, sinon au contact), parmi les ruptures dont "
            "la situation est connue : nouveau contrat d'apprentissage, formation, emploi, recherche, "
            "injoignable, refus de l'accompagnement, autre."
        )
    )
    for key, (header, labels, table) in groups.items():
        if table.empty:
            show_html(paragraph(f"{header} : aucune situation connue.", "unavailable"))
            continue
        col = "structure" if key == "structure" else C.territory
        t = table  # suppression of situations_by: n < min_n, counts of 1 or 2, then secondary
        t = t.assign(
            group=t[col].astype(str).map(labels).fillna(t[col].astype(str)),
            situation_label=t["situation"].astype(str).map(situations).fillna(t["situation"].astype(str)),
        )
        show_html(
            share_table(
                t,
                [("group", header, "text"), ("situation_label", "Situation", "text")],
                table_id=f"tab-situations-{key}",
                caption=f"Dernière situation connue après la rupture, par {header.lower()}",
                note=note + " Part : parmi les ruptures du groupe dont la situation est connue.",
                min_n=ctx.min_n,
            )
        )
