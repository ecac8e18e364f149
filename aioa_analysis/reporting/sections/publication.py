"""What a report may publish: the family's suppression pattern (:mod:`aioa_analysis.stats.publication`)
applied to its tables, and the cohort table with its DARES-comparable line and partial years marked.

Every report of a run (the département's and each CFA's) computes the same pattern from the
département table (``ctx.departement``), once per report (:func:`family_pattern`), and publishes only
what it allows: a cell hidden in one report is hidden in all, with enough other cells hidden that no
difference between published tables reveals it.
"""

from __future__ import annotations

from typing import Final
from weakref import WeakKeyDictionary

import pandas as pd

from aioa_analysis.core.formatting import fr_date, fr_percent
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import (
    FRANCE_SECTOR,
    NOT_OBSERVABLE,
    overall_references,
    rate_table,
    suppression_note,
)
from aioa_analysis.stats import publication, rates

_PATTERNS: WeakKeyDictionary[ReportContext, pd.DataFrame] = WeakKeyDictionary()


def family_pattern(ctx: ReportContext) -> pd.DataFrame:
    """The family's suppression pattern (computed once per family: ``ctx.family``)."""
    if ctx not in _PATTERNS:
        if "pattern" not in ctx.family:
            ctx.family["pattern"] = publication.publication_pattern(
                ctx.departement, as_of=ctx.as_of, horizon=ctx.horizon, min_n=ctx.min_n
            )
        _PATTERNS[ctx] = ctx.family["pattern"].copy()
    return _PATTERNS[ctx]


def report_row(ctx: ReportContext) -> str:
    """The report's row of the family: its CFA's UAI, or the département row."""
    return str(ctx.params.get("cfa") or "") or publication.DEPARTEMENT


def published(
    ctx: ReportContext, table: pd.DataFrame, dimension: str, *, column: str | None = None
) -> pd.DataFrame:
    """``table`` (a rate table of the report's scope by ``dimension``) with the family's suppression.

    ``dimension``: ``sector``, ``diploma_level``, ``diploma_family``, ``cohort``, ``start_year``, or
    :data:`~aioa_analysis.stats.publication.TOTAL` for the report's overall rate.
    """
    return publication.apply_pattern(
        table, family_pattern(ctx), dimension=dimension, cfa=report_row(ctx), column=column
    )


def published_cfas(ctx: ReportContext, table: pd.DataFrame, *, column: str = "cfa") -> pd.DataFrame:
    """A table with one row per CFA of the département (funnel, observed/expected) with the family's
    suppression of each CFA's overall rate (the total column of the pattern)."""
    return publication.apply_pattern(table, family_pattern(ctx), dimension=publication.TOTAL, column=column)


def published_overall(ctx: ReportContext) -> pd.DataFrame:
    """The report's overall rate (``ctx.results.overall``) with the family's suppression."""
    return published(ctx, ctx.results.overall, publication.TOTAL)


def references(ctx: ReportContext) -> pd.DataFrame:
    """The reference lines of a rate chart, the report's own rate only when the family publishes it."""
    return overall_references(ctx, published_overall(ctx))


PARTIAL: Final = "{year} (partielle : {share} des contrats suivis {h} mois)"
DARES_LINE: Final = "Contrats commencés en {year} (année civile, comparable DARES)"


def dares_year(as_of: pd.Timestamp, horizon: int) -> int:
    """The last calendar year of start whose every contract is observed ``horizon`` months at ``as_of``.

    >>> dares_year(pd.Timestamp("2025-11-30"), 9), dares_year(pd.Timestamp("2025-09-30"), 9)
    (2024, 2024)
    >>> dares_year(pd.Timestamp("2025-09-29"), 9)
    2023
    """
    year = pd.Timestamp(as_of).year
    while pd.Timestamp(year=year, month=12, day=31) + pd.DateOffset(months=horizon) > pd.Timestamp(as_of):
        year -= 1
    return int(year)


def _dares_rates(ctx: ReportContext) -> dict[int, float]:
    ref = ctx.results.references
    sel = ref.loc[
        (ref["indicator"] == "rupture_rate")
        & (ref["dimension"] == "overall")
        & (ref["geography"] == "France")
        & (ref["horizon_months"].astype(str) == str(ctx.horizon))
        & ref["source"].astype(str).str.contains("Dares", case=False)
    ]
    return {int(y): float(v) for y, v in zip(sel["year"], sel["value"], strict=True)}


def cohort_table(ctx: ReportContext) -> pd.DataFrame:
    """The cohort table: one row per school year of start, then the DARES-comparable line.

    Columns of the rate table (``label``, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``,
    ``ci_high``, ``suppressed``) plus ``coverage`` (share of the year's contracts observed over the
    horizon), ``partial`` (bool) and ``dares`` (DARES's national rate of the same calendar year, NA
    when the reference table does not have it). School years not fully observed are labelled
    « 2024-2025 (partielle : 62 % des contrats suivis 9 mois) »; the share is shown for published
    rows only. The calendar-year line is the last complete year (:func:`dares_year`).
    """
    h = ctx.horizon
    coh = published(ctx, ctx.results.by_cohort, "cohort")
    total = coh["n_contracts"] + coh["n_excluded_not_observed"]
    coverage = (coh["n_contracts"] / total.where(total > 0)).astype("float64")
    partial = coverage.lt(1).fillna(False) & (coh["n_contracts"] > 0)
    hidden = coh["suppressed"].astype("boolean").fillna(False)
    labels = [
        (PARTIAL.format(year=c, share=fr_percent(v, 0) if not s else "une partie", h=h) if p else str(c))
        for c, v, p, s in zip(coh["cohort"].astype(str), coverage, partial, hidden, strict=True)
    ]
    coh = coh.assign(label=labels, coverage=coverage, partial=partial.astype(bool), dares=float("nan"))
    year = dares_year(ctx.as_of, h)
    scope = ctx.contracts
    by_year = rates.rupture_rate_within(
        scope, as_of=ctx.as_of, by="start_year", horizon_months=h, min_n=ctx.min_n
    )
    by_year = by_year.loc[by_year["n_contracts"] > 0].reset_index(drop=True)
    if len(by_year):
        by_year = published(ctx, by_year, "start_year")
    line = by_year.loc[by_year["start_year"].astype("Int64") == year]
    if line.empty:
        return coh
    line = line.assign(
        label=DARES_LINE.format(year=year),
        coverage=1.0,
        partial=False,
        dares=_dares_rates(ctx).get(year, float("nan")),
    )
    return pd.concat([coh, line[[c for c in coh.columns if c in line.columns]]], ignore_index=True)


def cohort_note(ctx: ReportContext, table: pd.DataFrame) -> str:
    """The note under the cohort table: suppression, partial years, the DARES-comparable line."""
    h = ctx.horizon
    last = fr_date(ctx.as_of - pd.DateOffset(months=h))
    note = (
        suppression_note(ctx)
        + f" « {NOT_OBSERVABLE} » : aucun contrat de l'année n'a encore {h} mois d'ancienneté au "
        f"{fr_date(ctx.as_of)}. « partielle » : seuls les contrats commencés au plus tard le {last} sont "
        f"suivis {h} mois ; le taux de l'année peut encore changer. Les années scolaires regroupent des "
        "contrats commencés d'août à juillet."
    )
    line = table.loc[table["label"].astype(str).str.startswith("Contrats commencés en")]
    if line.empty:
        return note
    year = dares_year(ctx.as_of, h)
    dares = _dares_rates(ctx)
    note += (
        f" Dernière ligne : contrats commencés du 1er janvier au 31 décembre {year}, la dernière année "
        f"civile entièrement suivie {h} mois, comme les chiffres nationaux de la DARES (année de début du contrat)."
    )
    if year not in dares and dares:
        y = max(dares)
        note += f" La DARES n'a pas publié l'année {year} ; son dernier chiffre : {fr_percent(dares[y], 0)} ({y})."
    return note


def cohort_rate_table(ctx: ReportContext) -> str:
    """The HTML table of the cohort section (``tab-cohortes``), from :func:`cohort_table`."""
    t = cohort_table(ctx)
    return rate_table(
        t,
        "Année scolaire",
        table_id="tab-cohortes",
        caption=f"Taux de rupture à {ctx.horizon} mois par année scolaire, et par année civile de début",
        ctx=ctx,
        extra=[("dares", FRANCE_SECTOR.replace("2022", "même année"), "percent")],
        note=cohort_note(ctx, t),
        not_observable=True,
    )


SECRET_FINDING: Final = (
    "{label} : secret statistique ; le constat n'est pas publié dans ce rapport (la case correspondante "
    "des tableaux est masquée)."
)


def published_vigilance(ctx: ReportContext, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The points de vigilance (``ctx.results.vigilance``) as this report may publish them.

    A record on a sector or a diploma level whose département cell the family's pattern hides is
    reworded (« secret statistique »: no rate, no count, no p-value, no alert), so that the section does
    not print what the tables hide. ``labels``: ``(dimension, group)`` -> the group's French name.
    """
    v = ctx.results.vigilance
    if v.empty:
        return v
    pat = family_pattern(ctx)
    dept = pat.loc[(pat["cfa"] == publication.DEPARTEMENT) & pat["suppressed"]]
    hidden_keys = set(zip(dept["dimension"], dept["category"], strict=True))
    hidden = pd.Series(
        [(str(d), str(g)) in hidden_keys for d, g in zip(v["dimension"], v["group"], strict=True)],
        index=v.index,
    )
    if not hidden.any():
        return v
    names = labels or {}
    keys = [f"{d}:{g}" for d, g in zip(v["dimension"], v["group"], strict=True)]
    secret = [SECRET_FINDING.format(label=names.get(k, k.split(":", 1)[1])) for k in keys]
    sentence = v["sentence"].astype(object).where(~hidden, pd.Series(secret, index=v.index))
    out = v.assign(sentence=sentence, alert=v["alert"].astype(bool) & ~hidden)
    for col in ("p_value", "q_value", "value", "ci_low", "ci_high"):
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").where(~hidden)
    if "direction" in out:
        out["direction"] = out["direction"].astype(object).where(~hidden, None)
    return out
