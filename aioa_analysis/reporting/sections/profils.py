"""« Profils »: the rupture rate at H months by Mission Locale territory, age band at start and
employer size (tables; in a CFA report, the département's rate beside)."""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections import publication
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import order_groups
from aioa_analysis.reporting.sections.layout import heading, rate_table, suppression_note, unavailable
from aioa_analysis.reporting.sections.results import PROFILE_DIMENSIONS
from aioa_analysis.stats import publication as family

HEADERS: Final = {
    "territory": "Territoire de Mission Locale (résidence)",
    "age_band": "Âge au début du contrat",
    "employer_size": "Taille de l'employeur",
}

SIZE_LABELS: Final = {
    "0-4": "0 à 4 salariés",
    "5-9": "5 à 9 salariés",
    "10-49": "10 à 49 salariés",
    "50-249": "50 à 249 salariés",
    "250+": "250 salariés ou plus",
}


def _labels(t: pd.DataFrame, dim: str) -> pd.Series:
    codes = t[dim].astype(str)
    if dim == "territory":
        names = {**referential.territory_labels(), "hors_41": "Hors Loir-et-Cher"}
    elif dim == "age_band":
        names = {
            c: c.replace("-", " à ").replace("+", " ans ou plus") + (" ans" if "-" in c else "")
            for c in codes
        }
    else:
        names = SIZE_LABELS
    return codes.map(names).fillna(codes)


def published_profile(ctx: ReportContext, dim: str) -> pd.DataFrame:
    """The scope's rate by ``dim`` with the family's suppression, labelled; in a CFA report the
    département's published rate in ``dept_rate`` (NA where hidden)."""
    t = ctx.results.profiles.get(dim, pd.DataFrame())
    t = t.loc[t["n_contracts"] > 0].reset_index(drop=True) if len(t) else t
    if t.empty:
        return t
    t = publication.published(ctx, t, dim)
    if publication.report_row(ctx) != family.DEPARTEMENT:
        d = ctx.results.profiles_dept[dim]
        d = family.apply_pattern(d.loc[d["n_contracts"] > 0], publication.family_pattern(ctx), dimension=dim)
        rate = d["rate"].where(~d["suppressed"].astype(bool))
        t = t.assign(dept_rate=t[dim].astype(str).map(dict(zip(d[dim].astype(str), rate, strict=True))))
    return order_groups(t.assign(label=_labels(t, dim)), dim)


def show_profils(ctx: ReportContext) -> None:
    """Rupture rate at H months by territory, age band and employer size (one table each)."""
    heading("profils")
    shown = 0
    for dim in PROFILE_DIMENSIONS:
        t = published_profile(ctx, dim)
        if t.empty:
            continue
        extra = [("dept_rate", "Département", "percent")] if "dept_rate" in t else None
        show_html(
            rate_table(
                t,
                HEADERS[dim],
                table_id=f"tab-profil-{dim.replace('_', '-')}",
                caption=f"Taux de rupture à {ctx.horizon} mois par {HEADERS[dim][0].lower()}{HEADERS[dim][1:]}",
                ctx=ctx,
                extra=extra,
                note=suppression_note(ctx) + " « Non renseigné » : valeur absente des fichiers.",
            )
        )
        shown += 1
    if not shown:
        unavailable("Profils")
