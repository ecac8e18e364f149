"""A CFA report's rates beside the département's for the same categories (sector, diploma level, type of
diploma): one table of two columns per category, one chart of two bars per category.

Both sides come from the family's suppression pattern (:mod:`.publication`): the CFA's cells are its
row of the pattern, the département's cells are the département row, exactly as the département report
publishes them. A cell hidden in one report is therefore hidden here too, and no difference between
the two columns reveals a hidden cell (the pattern protects every line of the CFA x category table).
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import format_table, table_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import short_label
from aioa_analysis.reporting.sections.layout import CI, HIDDEN
from aioa_analysis.stats import publication as family

DEPT_NAME: Final = "Département"
"""The comparison base's name in the legends and table headers of a CFA report."""

SIDE_COLUMNS: Final = ("n_contracts", "n_ruptures", "rate", "ci_low", "ci_high", "suppressed")
"""The columns of each side of a paired table (the département's with the prefix ``dept_``)."""


def is_cfa_report(ctx: ReportContext) -> bool:
    """Whether the report is a CFA's (``cfa`` parameter given)."""
    return bool(str(ctx.params.get("cfa") or ""))


def cfa_name(ctx: ReportContext) -> str:
    """The CFA's short name (legends, column headers), « CFA » when it has none."""
    return short_label(ctx.cfa_label) if ctx.cfa_label else "CFA"


def published_departement(ctx: ReportContext, table: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The département's rate table by ``dimension`` with the family's suppression (the département
    row of the pattern: the cells the département report publishes)."""
    t = table.loc[table["n_contracts"] > 0].reset_index(drop=True)
    return family.apply_pattern(
        t, publication.family_pattern(ctx), dimension=dimension, cfa=family.DEPARTEMENT
    )


def beside_departement(
    ctx: ReportContext, own: pd.DataFrame, dept: pd.DataFrame, dimension: str
) -> pd.DataFrame:
    """The report's published rates by ``dimension`` (``own``, already published) with the département's
    published cells of the same categories as ``dept_*`` columns (only the categories the CFA has)."""
    d = published_departement(ctx, dept, dimension)
    d = d[[dimension, *SIDE_COLUMNS]].rename(columns={c: f"dept_{c}" for c in SIDE_COLUMNS})
    d = d.assign(**{dimension: d[dimension].astype(str)})
    out = own.assign(_key=own[dimension].astype(str)).merge(
        d.rename(columns={dimension: "_key"}), on="_key", how="left"
    )
    return out.drop(columns="_key").assign(
        dept_suppressed=out["dept_suppressed"].astype("boolean").fillna(True).astype(bool)
    )


def paired_rate_table(
    ctx: ReportContext,
    t: pd.DataFrame,
    dim_header: str,
    *,
    table_id: str,
    caption: str,
    note: str,
    extra: list[tuple[str, str, str]] | None = None,
) -> str:
    """Two columns per category: the CFA's contracts, ruptures, rate and interval, then the
    département's; every value of a hidden cell reads « secret » (either side, the same mark)."""
    me = cfa_name(ctx)
    own = [
        ("n_contracts", f"{me} : contrats observés"),
        ("n_ruptures", f"{me} : ruptures"),
        ("rate", f"{me} : taux"),
        ("ci", f"{me} : IC 95 %"),
    ]
    dept = [
        ("dept_n_contracts", f"{DEPT_NAME} : contrats observés"),
        ("dept_rate", f"{DEPT_NAME} : taux"),
        ("dept_ci", f"{DEPT_NAME} : IC 95 %"),
    ]
    kinds = {"n_contracts": "number", "n_ruptures": "number", "rate": "percent"}
    columns = [("label", dim_header, "text")]
    columns += [
        (c, h, "interval" if c.endswith("ci") else kinds[c.removeprefix("dept_")]) for c, h in own + dept
    ]
    intervals = {**CI, "dept_ci": ("dept_ci_low", "dept_ci_high", "percent")}
    disp = format_table(t, columns + (extra or []), suppressed=None, intervals=intervals)
    for side, hidden_col in ((own, "suppressed"), (dept, "dept_suppressed")):
        hidden = t[hidden_col].astype("boolean").fillna(False).to_numpy(dtype=bool)
        disp.loc[hidden, [h for _, h in side]] = HIDDEN
    return table_html(disp, table_id=table_id, caption=caption, note=note)


PAIRED_NOTE: Final = (
    " Colonnes « {dept} » : le taux du département pour la même catégorie, tel que le rapport "
    "départemental le publie (mêmes règles de secret : une case masquée dans un rapport l'est dans tous)."
)
"""What the département's columns of a CFA report's table are."""
