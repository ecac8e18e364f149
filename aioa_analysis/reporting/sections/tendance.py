"""« Tendance »: each CFA's and the département's rupture rate at H months over the last school years
(one chart, one CFA x school year table), so that a meeting sees what changed."""

from __future__ import annotations

import pandas as pd

from aioa_analysis.core.formatting import fr_date, fr_number, fr_percent, table_html
from aioa_analysis.reporting import figures
from aioa_analysis.reporting.display import show_figure, show_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import short_label
from aioa_analysis.reporting.sections.layout import HIDDEN, heading, suppression_note, unavailable
from aioa_analysis.stats import publication as family

DEPARTEMENT_LABEL = "Département"


def published_trend(ctx: ReportContext) -> pd.DataFrame:
    """The trend rows the report publishes (every CFA and the département; a CFA report: its CFA and
    the département), each with the family's suppression of its (CFA, school year) cell, labelled."""
    t = ctx.results.trend
    if t.empty:
        return t
    row = publication.report_row(ctx)
    keep = [family.DEPARTEMENT] if row == family.DEPARTEMENT else [row, family.DEPARTEMENT]
    cfas = t["cfa"].astype(str)
    if row == family.DEPARTEMENT:
        keep += sorted(set(cfas) - {family.DEPARTEMENT, "inconnu"})
    pattern = publication.family_pattern(ctx)
    parts = [
        family.apply_pattern(g.reset_index(drop=True), pattern, dimension="cohort", cfa=str(cfa))
        for cfa, g in t.loc[cfas.isin(keep)].groupby("cfa", sort=False)
    ]
    out = pd.concat(parts, ignore_index=True)
    labels = {c: short_label(ctx.results.cfa_labels.get(c, c)) for c in keep}
    labels[family.DEPARTEMENT] = DEPARTEMENT_LABEL
    order = {c: i for i, c in enumerate(keep)}
    out = out.assign(label=out["cfa"].astype(str).map(labels), _o=out["cfa"].astype(str).map(order))
    return out.sort_values(["_o", "cohort"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _cell(rate: float, n: int, hidden: bool) -> str:
    return HIDDEN if hidden else f"{fr_percent(rate)} (n\u202f=\u202f{fr_number(n)})"


def trend_grid(t: pd.DataFrame) -> pd.DataFrame:
    """The CFA x school year display table: « 22,1 % (n = 255) » or « secret »; a partial school year's
    column header says it."""
    partial = dict(zip(t["cohort"].astype(str), ~t["complete"].astype(bool), strict=False))
    cells = t.assign(
        cell=[
            _cell(r, int(n), bool(h))
            for r, n, h in zip(t["rate"], t["n_contracts"], t["suppressed"], strict=True)
        ],
        col=[f"{c} (partielle)" if partial[str(c)] else str(c) for c in t["cohort"].astype(str)],
    )
    grid = cells.pivot_table(index="label", columns="col", values="cell", aggfunc="first").fillna("—")
    grid = grid.reindex(list(dict.fromkeys(cells["label"])))
    return grid.reset_index().rename(columns={"label": "CFA"})


def show_tendance(ctx: ReportContext) -> None:
    """Rupture rate at H months by school year: département line and CFAs (chart), CFA x year (table)."""
    heading("tendance")
    t = published_trend(ctx)
    if t.empty:
        unavailable("Tendance")
        return
    fig = figures.rate_lines(
        t.assign(cohort=t["cohort"].astype(str)),
        x="cohort",
        group="label",
        main=DEPARTEMENT_LABEL,
        min_n=ctx.min_n,
    )
    show_figure(
        fig,
        fig_id="fig-tendance",
        caption=f"Taux de rupture à {ctx.horizon} mois par année scolaire de début : département et CFA",
    )
    last = fr_date(ctx.as_of - pd.DateOffset(months=ctx.horizon))
    note = (
        suppression_note(ctx)
        + f" « partielle » : tous les contrats de l'année n'ont pas encore {ctx.horizon} mois d'ancienneté ; "
        f"le taux ne porte que sur ceux commencés au plus tard le {last} et peut encore changer. "
        "« — » : aucun contrat du CFA suivi sur la période cette année-là."
    )
    show_html(
        table_html(
            trend_grid(t),
            table_id="tab-tendance",
            caption=f"Taux de rupture à {ctx.horizon} mois par CFA et par année scolaire de début",
            note=note,
        )
    )
