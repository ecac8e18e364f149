"""The analyst's helpers for the notebooks: the contracts behind a figure, a rate by two dimensions,
French labels on a result table, and interactive tables that work offline.

* :func:`contracts_behind` -- the contracts counted in a figure (a denominator, or its ruptures), with
  an explicit whitelist of pseudonymised columns (:data:`SHOWN_COLUMNS`): nothing of the identity
  store, no SIRET, no exact age;
* :func:`cross` -- the rupture rate at ``horizon`` months by one or two dimensions, with numerators,
  denominators, 95 % intervals and suppression: the library's estimator
  (:func:`aioa_analysis.stats.rates.rupture_rate_within`), the family's primary rule
  (:func:`aioa_analysis.stats.publication.primary_reasons`) and the secondary suppression of
  :mod:`aioa_analysis.stats.suppression`; no estimator of its own;
* :func:`dimensions` -- the dimensions one can group by, and what each means, in French;
* :func:`french` -- a result table with the report's French column names and labels;
* :func:`init_notebook` -- every DataFrame shown as an interactive table (sort, search, pages), with
  the table library embedded in the notebook (``itables`` offline mode: no network needed).

Example (one call per notebook cell)::

    from aioa_analysis import explore
    explore.init_notebook()
    t = explore.cross(contracts, "sector", "diploma_level", as_of="2025-11-30")
    explore.french(t)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import DIMENSIONS, C
from aioa_analysis.reporting.sections.labels import (
    LEVEL_LABELS,
    OUTCOME_LABELS,
    PHASE_LABELS,
    UNKNOWN_LABEL,
)
from aioa_analysis.stats import publication, rates, suppression
from aioa_analysis.stats.dimensions import UNKNOWN, dimension_values, parse_dimensions, valid_dimensions
from aioa_analysis.stats.outcomes import OUTCOME, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT

__all__ = [
    "DIMENSION_MEANINGS",
    "SHOWN_COLUMNS",
    "contracts_behind",
    "cross",
    "dimensions",
    "french",
    "init_notebook",
]

SHOWN_COLUMNS: Final = (
    C.contract_id,
    C.cfa_uai,
    C.cfa_name,
    C.school_year,
    C.start_date,
    C.planned_end_date,
    C.rupture_date,
    C.rupture_phase,
    C.days_to_rupture,
    C.rupture_after_diploma,
    C.rupture_reason_category,
    C.contract_kind,
    C.sector,
    C.sector_group,
    C.naf_section,
    C.employer_size_band,
    C.diploma_level,
    C.diploma_family,
    C.diploma_code,
    C.diploma_outcome,
    C.age_band,
    C.territory,
)
"""The columns :func:`contracts_behind` returns (those present): the contract, its dates and what the
report groups by. Nothing of the identity store (not even the pseudonym ``apprentice_key``, the sex or
the postcode), no SIRET, no exact age; filters may still use every dimension."""

DIMENSION_MEANINGS: Final[dict[str, str]] = {
    "cfa": "CFA de l'apprenti (numéro UAI de l'établissement)",
    "sector": "Secteur de l'employeur, en groupes publiés (hôtellerie-restauration, coiffure-esthétique…)",
    "sector_group": "Grand secteur de la DARES : agriculture, industrie, construction, tertiaire",
    "naf_section": "Section de la nomenclature d'activités (NAF) de l'employeur, lettre A à U",
    "diploma_level": "Niveau du diplôme préparé : 3 (CAP) à 7 (master)",
    "diploma_family": "Type de diplôme : CAP, bac professionnel, BP, BTS, licence professionnelle…",
    "diploma": "Diplôme préparé (code CFD à 8 caractères)",
    "cohort": "Année scolaire de début du contrat (d'août à juillet, par exemple 2024-2025)",
    "start_month": "Mois de début du contrat (1 à 12)",
    "start_year": "Année civile de début du contrat (comme les chiffres de la DARES)",
    "territory": "Territoire de Mission Locale, d'après le code postal de résidence de l'apprenti",
    "employer_size": "Taille de l'employeur en salariés : 0-4, 5-9, 10-49, 50-249, 250+",
    "age_band": "Âge au début du contrat : 15-17, 18-19, 20-25, 26 ans et plus",
    "sex": "Sexe de l'apprenti",
    "diploma_outcome": "Résultat à l'examen : admis, ajourné, absent, inconnu",
    "contract_kind": "Nature du contrat : initial, succession (après un autre contrat), avenant",
}
"""What each public dimension (``by=``, :func:`cross`, filters of :func:`contracts_behind`) means."""

DIMENSION_HEADERS: Final[dict[str, str]] = {
    "cfa": "CFA",
    "sector": "Secteur",
    "sector_group": "Grand secteur",
    "naf_section": "Section NAF",
    "diploma_level": "Niveau de diplôme",
    "diploma_family": "Type de diplôme",
    "diploma": "Diplôme (CFD)",
    "cohort": "Année scolaire",
    "start_month": "Mois de début",
    "start_year": "Année de début",
    "territory": "Territoire",
    "employer_size": "Taille de l'employeur",
    "age_band": "Âge au début",
    "sex": "Sexe",
    "diploma_outcome": "Résultat à l'examen",
    "contract_kind": "Nature du contrat",
}
"""French column header of each public dimension."""

COLUMN_LABELS: Final[dict[str, str]] = {
    **DIMENSION_HEADERS,
    **{DIMENSIONS[d]: h for d, h in DIMENSION_HEADERS.items() if DIMENSIONS[d] not in DIMENSION_HEADERS},
    "n_contracts": "Contrats observés",
    "n_ruptures": "Ruptures",
    "rate": "Taux (%)",
    "ci_low": "IC 95\u00a0% bas (%)",
    "ci_high": "IC 95\u00a0% haut (%)",
    "suppressed": "Secret",
    "suppression_reason": "Motif du secret",
    "n_ruptures_after_diploma": "Ruptures après le diplôme",
    "n_excluded_not_observed": "Contrats trop récents (exclus)",
    "horizon_months": "Horizon (mois)",
    "unit": "Unité",
    "as_of": "Date d'observation",
    "ci_method": "Méthode de l'intervalle",
    "label": "Libellé",
    "phase": "Phase",
    "share_of_ruptures": "Part des ruptures (%)",
    "share_ci_low": "Part\u00a0: IC 95\u00a0% bas (%)",
    "share_ci_high": "Part\u00a0: IC 95\u00a0% haut (%)",
    "share_suppressed": "Part secrète",
    "n_ruptures_total": "Ruptures du groupe",
    "month": "Mois",
    "month_label": "Mois (libellé)",
    "exposure_months": "Contrats-mois",
    "expected": "Ruptures attendues",
    "observed": "Ruptures observées",
    "oe_ratio": "Observé / attendu",
    "oe_low": "Observé / attendu\u00a0: IC bas",
    "oe_high": "Observé / attendu\u00a0: IC haut",
    "critical": "Mois critique",
    "pi_low": "Intervalle 90\u00a0% bas",
    "pi_high": "Intervalle 90\u00a0% haut",
    "from_running": "dont contrats en cours",
    "from_new_starts": "dont contrats à venir",
    "risk100": "Risque (pour 100 contrats-mois)",
    "inside": "Dans l'intervalle",
    C.contract_id: "N° de contrat",
    C.cfa_name: "Nom du CFA",
    C.start_date: "Début",
    C.planned_end_date: "Fin prévue",
    C.rupture_date: "Rupture",
    C.rupture_phase: "Phase de la rupture",
    C.days_to_rupture: "Jours avant la rupture",
    C.rupture_after_diploma: "Rupture après le diplôme",
    C.rupture_reason_category: "Motif de la rupture",
    OUTCOME: "Situation à la date d'observation",
    "ruptured_within_horizon": "Rompu dans l'horizon",
}
"""French column names of :func:`french` (columns not listed keep their name)."""

PERCENT_COLUMNS: Final = ("rate", "ci_low", "ci_high", "share_of_ruptures", "share_ci_low", "share_ci_high")
"""Shares shown as percentages (one decimal) by :func:`french`."""

CONTRACT_OUTCOME_LABELS: Final = {
    "ruptured": "Rompu",
    "ruptured_after_diploma": "Rompu après le diplôme",
    "completed": "Mené à son terme",
    "ongoing": "En cours",
}


def dimensions() -> pd.DataFrame:
    """The dimensions one can group by, with their meaning in French (one row each).

    >>> d = dimensions()
    >>> list(d.columns), d.iloc[0].tolist()[:2]
    (['dimension', 'nom', 'signification', 'colonne'], ['cfa', 'CFA'])
    """
    names = valid_dimensions()
    return pd.DataFrame(
        {
            "dimension": names,
            "nom": [DIMENSION_HEADERS[n] for n in names],
            "signification": [DIMENSION_MEANINGS[n] for n in names],
            "colonne": [DIMENSIONS[n] for n in names],
        }
    )


def _matches(values: pd.Series, wanted: object) -> np.ndarray:
    """Whether each value is ``wanted`` (or one of them), compared as text; missing -> « inconnu »."""
    many = wanted if isinstance(wanted, list | tuple | set | frozenset) else [wanted]
    texts = values.astype("string").fillna(UNKNOWN)
    return texts.isin([str(w) for w in many]).to_numpy(dtype=bool)


def _filter_values(frame: pd.DataFrame, name: str) -> pd.Series:
    """The values a filter ``name`` reads: a public dimension, else a shown column."""
    if name in DIMENSIONS:
        return dimension_values(frame, name)
    if name in SHOWN_COLUMNS and name in frame.columns:
        return frame[name]
    raise ParameterError(
        f"cannot filter on {name!r}",
        hint=f"use a dimension ({', '.join(DIMENSIONS)}) or a shown column ({', '.join(SHOWN_COLUMNS)})",
    )


def contracts_behind(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    horizon: int | None = rates.DEFAULT_HORIZON_MONTHS,
    ruptured: bool | None = None,
    **filters: object,
) -> pd.DataFrame:
    """The contracts counted in a figure: a group's denominator, or its ruptures (``ruptured=True``).

    * ``filters``: public dimensions (:func:`dimensions`) or shown columns, each equal to a value or
      to one of a list of values, compared as text (``cohort="2024-2025"``, ``start_month=[7, 8]``;
      ``"inconnu"`` selects the missing values), e.g. ``cfa="0410590U", sector="commerce"``;
    * ``horizon`` (months, default 9): the contracts of a rupture rate at ``horizon`` months
      (:func:`aioa_analysis.stats.rates.rupture_rate_within`): started at least ``horizon`` months
      before ``as_of``; ``ruptured=True`` keeps those broken within ``horizon`` months of their start
      (not after the diploma), ``False`` the others. ``horizon=None``: every contract started by
      ``as_of``, ``ruptured=True`` those whose rupture is observed by ``as_of``.

    Unit: the contract. Returns the columns of :data:`SHOWN_COLUMNS` present in ``contracts``, then
    ``outcome`` (situation at ``as_of``) and ``ruptured_within_horizon``, sorted by start date. The
    input is not modified.

    >>> df = pd.DataFrame({
    ...     "contract_id": ["a", "b", "c"], "sector": ["commerce", "commerce", "btp"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2025-03-01", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-10-01", None, None]),
    ...     "apprentice_key": ["k1", "k2", "k3"]})
    >>> contracts_behind(df, as_of="2025-06-30", sector="commerce")[["contract_id", "outcome"]]
      contract_id   outcome
    0           a  ruptured
    """
    ts = parse_as_of(as_of)
    frame = contracts.loc[contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)]
    keep = np.ones(len(frame), dtype=bool)
    for name, wanted in filters.items():
        keep &= _matches(_filter_values(frame, name), wanted)
    frame = with_outcome(frame.loc[keep], as_of=ts)
    broken = frame[OUTCOME].eq("ruptured").to_numpy(dtype=bool)
    if horizon is not None:
        h = rates.check_horizon(horizon)
        horizon_end = frame[C.start_date] + pd.DateOffset(months=h)
        observed = (horizon_end <= ts).to_numpy(dtype=bool)
        broken &= observed & (frame[C.rupture_date] < horizon_end).fillna(False).to_numpy(dtype=bool)
        frame, broken = frame.loc[observed], broken[observed]
    if ruptured is not None:
        frame, broken = frame.loc[broken == bool(ruptured)], broken[broken == bool(ruptured)]
    shown = [c for c in SHOWN_COLUMNS if c in frame.columns]
    out = frame[shown].assign(**{OUTCOME: frame[OUTCOME], "ruptured_within_horizon": broken})
    order = [c for c in (C.start_date, C.contract_id) if c in out.columns]
    return out.sort_values(order, kind="stable").reset_index(drop=True)


def cross(
    contracts: pd.DataFrame,
    dim1: str,
    dim2: str | None = None,
    *,
    as_of: object,
    horizon: int = rates.DEFAULT_HORIZON_MONTHS,
    min_n: int = MIN_N_DEFAULT,
    masked: bool = True,
) -> pd.DataFrame:
    """The rupture rate at ``horizon`` months by one or two dimensions, ready to publish.

    Unit: the contract; cohort: the contracts of ``contracts`` started at least ``horizon`` months
    before ``as_of`` (no censoring: the more recent ones are counted in ``n_excluded_not_observed``);
    a rupture counts when it falls within ``horizon`` months of the start, ruptures after the diploma
    excepted (:func:`aioa_analysis.stats.rates.rupture_rate_within`, the report's estimator: the rate
    by one dimension is the report's table). 95 % Wilson interval.

    Suppression: groups with no observed contract are dropped; a cell is hidden when it has fewer than
    ``min_n`` contracts, or 1 or 2 ruptures, or 1 or 2 contracts not broken (the reports' primary rule,
    :func:`aioa_analysis.stats.publication.primary_reasons`), then in every row and column of the cross
    table a second cell is hidden where one hidden cell would show by difference
    (:func:`aioa_analysis.stats.suppression.secondary_suppression`). ``masked`` (default): the counts,
    rate and interval of hidden cells are blanked (:func:`~aioa_analysis.stats.suppression.mask_suppressed`);
    ``masked=False`` keeps them, for the analyst's eyes only.

    Columns: the dimensions, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``, ``ci_high``,
    ``suppressed``, ``suppression_reason``, then those of the estimator (``horizon_months``, ``as_of``...).
    """
    by = parse_dimensions([d for d in (dim1, dim2) if d])
    t = rates.rupture_rate_within(contracts, as_of=as_of, by=by, horizon_months=horizon, min_n=min_n)
    t = t.loc[t["n_contracts"] > 0].reset_index(drop=True)
    reason = publication.primary_reasons(t["n_contracts"], t["n_ruptures"], min_n=min_n)
    t = t.assign(suppressed=(reason != "").to_numpy(), suppression_reason=pd.array(reason, dtype="string"))
    t = suppression.secondary_suppression(t, by=by, value_col="n_contracts")
    return suppression.mask_suppressed(t) if masked else t


def _value_labels(cfa_labels: Mapping[str, str] | None) -> dict[str, Mapping[str, str]]:
    """French labels of the values of the columns that have them."""
    sectors, territories = referential.sector_labels(), referential.territory_labels()
    cfas: Mapping[str, str] = cfa_labels or {}
    return {
        "sector": sectors,
        C.sector: sectors,
        "territory": territories,
        C.territory: territories,
        "cfa": cfas,
        C.cfa_uai: cfas,
        "diploma_level": LEVEL_LABELS,
        C.diploma_level: LEVEL_LABELS,
        "phase": PHASE_LABELS,
        C.rupture_phase: PHASE_LABELS,
        "diploma_outcome": OUTCOME_LABELS,
        C.diploma_outcome: OUTCOME_LABELS,
        OUTCOME: CONTRACT_OUTCOME_LABELS,
        "unit": {"contract": "contrat", "apprentice": "apprenti"},
    }


def french(table: pd.DataFrame, cfa_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` as the report's reader sees it: French column names, French labels of the codes
    (sector, territory, diploma level, phase, exam result; CFAs by ``cfa_labels``, e.g.
    ``ctx.results.cfa_labels``), « Non renseigné » for missing groups, shares in percent (one
    decimal). A view for reading: keep the original table for computing. The input is not modified.

    >>> t = pd.DataFrame({"diploma_level": ["3", "inconnu"], "n_contracts": [40, 25], "rate": [0.2512, 0.1]})
    >>> f = french(t)
    >>> list(f.columns), f["Niveau de diplôme"].tolist(), f["Taux (%)"].tolist()
    (['Niveau de diplôme', 'Contrats observés', 'Taux (%)'], ['Niveau 3 (CAP, BEP)', 'Non renseigné'], [25.1, 10.0])
    """
    labels = _value_labels(cfa_labels)
    updates: dict[str, Any] = {}
    for col in table.columns:
        if col in PERCENT_COLUMNS and pd.api.types.is_numeric_dtype(table[col]):
            updates[col] = (table[col].astype("float64") * 100).round(1)
        elif col in labels or col in DIMENSIONS or col in DIMENSIONS.values():
            texts = table[col].astype("string")
            names = labels.get(col, {})
            mapped = texts.map(names).astype("string").fillna(texts) if names else texts
            unknown = texts.isna() | texts.isin([UNKNOWN, ""])
            updates[col] = mapped.mask(unknown, UNKNOWN_LABEL)
    return table.assign(**updates).rename(columns=COLUMN_LABELS)


FRENCH_DATATABLES: Final = {
    "search": "Rechercher\u00a0:",
    "lengthMenu": "_MENU_ lignes par page",
    "info": "Lignes _START_ à _END_ sur _TOTAL_",
    "infoEmpty": "Aucune ligne",
    "infoFiltered": "(filtrées parmi _MAX_)",
    "zeroRecords": "Aucune ligne ne correspond",
    "emptyTable": "Tableau vide",
}
"""The interactive tables' messages in French."""


def init_notebook() -> None:
    """Show every DataFrame of the notebook as an interactive table (sort, search, pages), offline.

    ``itables`` in offline mode: the table library is embedded in the notebook's output, so the tables
    work without network (keep the output of this cell). Also shows every column of a wide table.
    """
    import itables
    import itables.options as opt

    pd.set_option("display.max_columns", None)
    pd.set_option("display.width", None)
    opt.language = FRENCH_DATATABLES
    opt.lengthMenu = [10, 25, 100]
    opt.maxBytes = "2MB"  # whole tables of a département (a few thousand contracts), not a sample
    opt.classes = "display compact"
    itables.init_notebook_mode(all_interactive=True, connected=False)
