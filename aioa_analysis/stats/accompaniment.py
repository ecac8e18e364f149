"""Accompaniment after a rupture ("Accompagnement après la rupture"): what the follow-up led to.

Pure functions over the clean contract table and the pseudonymised outcome table that
``aioa followup --import`` writes (``followup_outcomes.parquet``: one row per followed rupture,
keyed by ``followup_id`` / ``contract_id``; codes and dates only, never a name). Every table is tidy,
with numerator ``k``, denominator ``n``, the share, its Wilson interval and the report's suppression.

* :func:`followed_ruptures`: the denominator: ruptures since the follow-up started (``since``),
  excluding ruptures after the diploma and young people living outside Loir-et-Cher, joined to
  their outcome;
* :func:`accompaniment_indicators`: share contacted within 30 days of the rupture, share with a
  known situation at 3 months and at 6 months, each among the ruptures old enough at ``as_of``;
* :func:`situations_by`: the latest known situation (new contract, training, job, searching,
  unreachable, declined, other) by structure or by territory, among ruptures with a known situation.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, secondary_suppression
from aioa_analysis.stats.tables import with_rate

CONTACT_DAYS: Final = 30
HORIZONS: Final = {"situation_3m": 91, "situation_6m": 183}
SITUATIONS: Final = ("nouveau_contrat", "formation", "emploi", "recherche", "injoignable", "refus", "autre")
INDICATOR_LABELS: Final = {
    "contact_30j": "Contactés dans les 30 jours suivant la rupture",
    "situation_3m": "Situation connue à 3 mois",
    "situation_6m": "Situation connue à 6 mois",
}
OUTCOME_COLUMNS: Final = (
    "followup_id",
    "contract_id",
    "structure",
    "contact_date",
    "contacted",
    "outcome_situation",
    "situation_3m",
    "situation_6m",
)


def followed_ruptures(
    contracts: pd.DataFrame, outcomes: pd.DataFrame, *, as_of: pd.Timestamp, since: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Ruptures from ``since`` (default: the month of the earliest followed rupture) to ``as_of``, with outcomes.

    Excluded: ruptures after the diploma, young people outside Loir-et-Cher or without territory.
    Added columns: ``structure`` (the structure that answered; NA when none did), ``contact_date``,
    ``contacted``, ``situation`` (latest known category: 6 months, else 3 months, else the outcome's).
    """
    out = outcomes.reindex(columns=list(OUTCOME_COLUMNS))
    r = contracts.loc[contracts[C.rupture_date].notna() & (contracts[C.rupture_date] <= pd.Timestamp(as_of))]
    if C.rupture_after_diploma in r:
        r = r.loc[~r[C.rupture_after_diploma].astype("boolean").fillna(False).astype(bool)]
    if C.territory in r:
        r = r.loc[r[C.territory].notna() & (r[C.territory] != "hors_41")]
    if since is None:
        followed = r.loc[r[C.contract_id].isin(out["contract_id"]), C.rupture_date]
        since = followed.min().to_period("M").start_time if len(followed) else pd.Timestamp(as_of)
    r = r.loc[r[C.rupture_date] >= pd.Timestamp(since)]
    keep = [C.contract_id, C.rupture_date, *([C.territory] if C.territory in r else [])]
    merged = r[keep].merge(out.drop(columns="followup_id"), on=C.contract_id, how="left")
    situation = merged["situation_6m"].fillna(merged["situation_3m"]).fillna(merged["outcome_situation"])
    return merged.assign(
        contacted=merged["contacted"].astype("boolean").fillna(False).astype(bool),
        situation=situation.astype("string"),
    )


def accompaniment_indicators(
    followed: pd.DataFrame, *, as_of: pd.Timestamp, min_n: int = MIN_N_DEFAULT
) -> pd.DataFrame:
    """The three headline shares, each among the ruptures old enough at ``as_of``.

    >>> f = pd.DataFrame({"rupture_date": pd.to_datetime(["2025-01-10"] * 3 + ["2025-11-20"]),
    ...     "contact_date": pd.to_datetime(["2025-01-20", "2025-03-01", None, None]),
    ...     "contacted": [True, True, False, False], "situation_3m": ["emploi", None, None, None],
    ...     "situation_6m": [None, None, None, None]})
    >>> accompaniment_indicators(f, as_of=pd.Timestamp("2025-11-30"), min_n=2)[["indicator", "k", "n"]]
          indicator  k  n
    0   contact_30j  1  3
    1  situation_3m  1  3
    2  situation_6m  0  3
    """
    as_of = pd.Timestamp(as_of)
    age = (as_of - followed[C.rupture_date]).dt.days
    delay = (followed["contact_date"] - followed[C.rupture_date]).dt.days
    rows = []
    eligible = age >= CONTACT_DAYS
    hit = followed["contacted"].astype(bool) & (delay <= CONTACT_DAYS).fillna(False)
    rows.append(("contact_30j", int((eligible & hit).sum()), int(eligible.sum())))
    for col, days in HORIZONS.items():
        eligible = age >= days
        known = followed[col].notna() & (followed[col] != "")
        rows.append((col, int((eligible & known).sum()), int(eligible.sum())))
    table = pd.DataFrame(rows, columns=["indicator", "k", "n"])
    table = with_rate(table, k="k", n="n", min_n=min_n)
    return table.assign(label=table["indicator"].map(INDICATOR_LABELS))


def situations_by(followed: pd.DataFrame, by: str, *, min_n: int = MIN_N_DEFAULT) -> pd.DataFrame:
    """Share of each situation among the ruptures of each ``by`` group (``structure`` or ``territory``)
    whose situation is known: columns ``by``, ``situation``, ``k``, ``n``, ``rate``, ``ci_low``,
    ``ci_high``, ``suppressed``, ``suppression_reason`` (denominator below ``min_n``, then
    secondary suppression of the counts within each group).

    >>> f = pd.DataFrame({"structure": ["a"] * 3, "situation": ["emploi", "emploi", "refus"]})
    >>> situations_by(f, "structure", min_n=1).query("k > 0")[["situation", "k", "n"]]
      situation  k  n
    2    emploi  2  3
    5     refus  1  3
    """
    known = followed.loc[followed["situation"].notna() & followed[by].notna(), [by, "situation"]]
    counts = (
        known.assign(situation=pd.Categorical(known["situation"], categories=list(SITUATIONS)))
        .groupby([by, "situation"], observed=False)
        .size()
        .rename("k")
        .reset_index()
    )
    counts = counts.assign(situation=counts["situation"].astype("string"), k=counts["k"].astype("int64"))
    counts["n"] = counts.groupby(by)["k"].transform("sum").astype("int64")
    table = with_rate(counts, k="k", n="n", min_n=min_n)
    small = table["suppressed"].to_numpy()
    counts_flag = (table["k"] >= 1) & (table["k"] <= 2)
    table = table.assign(
        suppressed=small | counts_flag.to_numpy(),
        suppression_reason=table["suppression_reason"].mask(~small & counts_flag, "effectif 1-2"),
    )
    return secondary_suppression(table, by=[by, "situation"], value_col="k")
