"""« Motifs de rupture »: the ruptures within H months by reason, the unknown share said in a sentence.

Also the family patterns of the reason and first-45-days tables (computed once per report context,
like :func:`aioa_analysis.reporting.sections.publication.family_pattern`) and the table helper these
sections share: every count, share and interval of a hidden row reads « secret ».
"""

from __future__ import annotations

from typing import Final
from weakref import WeakKeyDictionary

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.formatting import format_table, fr_number, fr_percent, table_html
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import CI, HIDDEN, heading, paragraph, unavailable
from aioa_analysis.stats import breakdowns
from aioa_analysis.stats import publication as family

REASON_LABELS: Final = {**referential.REASON_LABELS, "inconnu": "Motif inconnu"}
"""French names of the reason categories, with the unknown one (:data:`~aioa_analysis.core.referential.REASON_LABELS`)."""

_PATTERNS: WeakKeyDictionary[ReportContext, dict[str, pd.DataFrame]] = WeakKeyDictionary()


def breakdown_patterns(ctx: ReportContext) -> dict[str, pd.DataFrame]:
    """The family's patterns of the reason tables (``"reasons"``) and the 45 days' (``"early"``),
    computed once per family (``ctx.family``: they depend on the département and the parameters
    only); each report gets its own copies."""
    if ctx not in _PATTERNS:
        if "breakdown_patterns" not in ctx.family:
            rate = publication.family_pattern(ctx)
            kw = {"as_of": ctx.as_of, "horizon": ctx.horizon}
            reasons = breakdowns.reason_pattern(ctx.departement, rate_pattern=rate, **kw)  # type: ignore[arg-type]
            early = breakdowns.early_pattern(
                ctx.departement,
                min_n=ctx.min_n,
                hidden_elsewhere=[rate, reasons],
                **kw,  # type: ignore[arg-type]
            )
            ctx.family["breakdown_patterns"] = {"reasons": reasons, "early": early}
        _PATTERNS[ctx] = {k: t.copy() for k, t in ctx.family["breakdown_patterns"].items()}
    return _PATTERNS[ctx]


def secret_table(
    ctx: ReportContext,
    t: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    *,
    masks: dict[str, list[str]],
    table_id: str,
    caption: str,
    note: str,
) -> str:
    """``t`` in French formats; for each ``mask column -> headers`` of ``masks``, the headers of the
    rows flagged in that column read « secret » (the same mark whatever the reason)."""
    disp = format_table(t, columns, suppressed=None, min_n=ctx.min_n, intervals=CI)
    for flag, headers in masks.items():
        rows = t[flag].astype("boolean").fillna(False).to_numpy(dtype=bool)
        disp.loc[rows, headers] = HIDDEN
    return table_html(disp, table_id=table_id, caption=caption, note=note)


def published_reasons(ctx: ReportContext) -> pd.DataFrame:
    """The scope's ruptures by reason with the family's suppression (``suppressed``: the count;
    ``share_hidden``: the share, hidden too when the scope's total of ruptures is)."""
    t = ctx.results.reasons
    if t.empty:
        return t
    t = family.apply_pattern(
        t.assign(suppressed=False, _k=0),
        breakdown_patterns(ctx)["reasons"],
        dimension=breakdowns.REASON,
        cfa=publication.report_row(ctx),
        n_col="n_ruptures",
        k_col="_k",
    ).drop(columns="_k")
    total_hidden = bool(publication.published_overall(ctx)["suppressed"].astype(bool).iloc[0])
    label = t[breakdowns.REASON].astype(str).map(REASON_LABELS).fillna(t[breakdowns.REASON].astype(str))
    return t.assign(label=label, share_hidden=t["suppressed"].astype(bool) | total_hidden)


UNKNOWN_SENTENCE: Final = (
    "Le motif est inconnu pour {share} des ruptures ({n} sur {total}) : les fichiers reçus ne le "
    "renseignent pas (ou pas sous une forme reconnue), et la répartition ci-dessous ne porte que sur les "
    "ruptures dont le motif est connu. Elle ne décrit donc pas toutes les ruptures."
)


def unknown_sentence(t: pd.DataFrame) -> str:
    """The sentence on the share of ruptures without a known reason (empty when it is hidden)."""
    row = t.loc[t[breakdowns.REASON].astype(str) == "inconnu"]
    if row.empty:
        return "Le motif est connu pour toutes les ruptures."
    r = row.iloc[0]
    if bool(r["share_hidden"]):
        return ""
    return UNKNOWN_SENTENCE.format(
        share=fr_percent(r["share"], 0),
        n=fr_number(r["n_ruptures"]),
        total=fr_number(r["n_ruptures_total"]),
    )


def show_motifs(ctx: ReportContext) -> None:
    """Ruptures within H months by reason: count, share of the ruptures, the unknown share first."""
    heading("motifs")
    t = published_reasons(ctx)
    if t.empty or int(t["n_ruptures"].sum()) == 0:
        unavailable("Motifs de rupture")
        return
    sentence = unknown_sentence(t)
    if sentence:
        show_html(paragraph(sentence, "lead"))
    known = t.loc[t[breakdowns.REASON].astype(str) != "inconnu"].sort_values(
        ["suppressed", "n_ruptures"], ascending=[True, False], kind="stable"
    )
    t = pd.concat([known, t.loc[t[breakdowns.REASON].astype(str) == "inconnu"]], ignore_index=True)
    t = t.assign(ci_low=t["share_ci_low"], ci_high=t["share_ci_high"])
    cols = [
        ("label", "Motif", "text"),
        ("n_ruptures", "Ruptures", "number"),
        ("share", "Part des ruptures", "percent"),
        ("ci", "IC 95 %", "interval"),
    ]
    html = secret_table(
        ctx,
        t,
        cols,
        masks={"suppressed": ["Ruptures"], "share_hidden": ["Part des ruptures", "IC 95 %"]},
        table_id="tab-motifs",
        caption=f"Ruptures dans les {ctx.horizon} mois par motif",
        note=reasons_note(ctx),
    )
    show_html(html)


def reasons_note(ctx: ReportContext) -> str:
    """The note under the reason table: definition and suppression."""
    return (
        f"Ruptures dans les {ctx.horizon} mois suivant le début du contrat, contrats commencés au moins "
        f"{ctx.horizon} mois avant la date d'observation (les mêmes que le taux de rupture). Motif : la cause "
        "de rupture des fichiers, classée par les règles de la table des motifs ; « Motif inconnu » : cause "
        f"absente ou non reconnue. « {HIDDEN} » : valeur non publiée (secret statistique : effectif de 1 ou 2, "
        "ou valeur masquée pour qu'aucune différence entre les tableaux des rapports ne la révèle)."
    )
