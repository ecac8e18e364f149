"""What the reader sees for the values of the data: French labels, and the display order of groups.

Nothing here computes a statistic: the dictionaries translate codes of the clean table (diploma
levels, input profiles, rupture phases...) into French, and :func:`order_groups` only sorts a result
table for display and names its « unknown » group.
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from aioa_analysis.core.schema import AGE_BANDS, DIPLOMA_OUTCOMES, SIZE_BANDS, C

LEVEL_LABELS: Final = {
    "3": "Niveau 3 (CAP, BEP)",
    "4": "Niveau 4 (bac pro, BP)",
    "5": "Niveau 5 (bac+2, BTS)",
    "6": "Niveau 6 (bac+3, licence)",
    "7": "Niveau 7 (bac+5, master)",
    "8": "Niveau 8 (doctorat)",
    "inconnu": "Non renseigné",
}


UNKNOWN_LABEL: Final = "Non renseigné"
"""What the reader sees for a missing value of a dimension (the computation's « inconnu » group)."""


UNKNOWN_VALUES: Final = frozenset({"inconnu", "", "nan", "<NA>", "None", "NaN"})


FAMILY_LABELS: Final = {
    "CAP": "CAP",
    "BAC PRO": "Bac professionnel",
    "BP": "Brevet professionnel (BP)",
    "BTS": "BTS",
    "BUT/DUT": "BUT / DUT",
    "MC": "Mention complémentaire",
    "TITRE": "Titre professionnel",
    "LICENCE PRO": "Licence professionnelle",
    "INGENIEUR": "Diplôme d'ingénieur",
    "MASTER": "Master",
}


OUTCOME_LABELS: Final = {
    "admis": "Admis",
    "ajourne": "Ajourné",
    "absent": "Absent à l'examen",
    "inconnu": "Résultat inconnu",
}


SOURCE_LABELS: Final = {
    "deca_extract": "Extraction DECA",
    "deca_api": "API DECA",
    "tba_upload": "Tableau de bord (téléversement)",
    "sifa": "SIFA",
    "chamber": "Tableur chambre consulaire",
    "exam_results": "Résultats d'examen",
}
"""French names of the input profiles (schema.SOURCES) for the reader."""


PHASE_LABELS: Final = {
    "0-45j": "0 à 45 jours",
    "46j-3m": "46 jours à 3 mois",
    "3-6m": "3 à 6 mois",
    "6-12m": "6 à 12 mois",
    "12m+": "Plus de 12 mois",
    "apres_diplome": "Après le diplôme",
}


CLASS_LABELS: Final = {
    "completed": "Contrat mené à son terme",
    "ruptured_recontracted": "Rompu, puis nouveau contrat (180 jours)",
    "ruptured_no_new_contract": "Rompu, sans nouveau contrat (180 jours)",
}


NATURAL_ORDERS: Final[dict[str, tuple[str, ...]]] = {
    "employer_size": SIZE_BANDS,
    C.employer_size_band: SIZE_BANDS,
    "age_band": AGE_BANDS,
    C.age_band: AGE_BANDS,
    "diploma_outcome": DIPLOMA_OUTCOMES,
}
"""Dimensions with a natural order (sizes, ages...): their groups are shown in that order."""


NUMERIC_DIMS: Final = frozenset({"diploma_level", C.diploma_level})


CHRONOLOGICAL_DIMS: Final = frozenset({"cohort", C.school_year, "start_year", "start_month"})


def source_label(profile: object) -> str:
    """French name of an input profile (« Extraction DECA » for ``deca_extract``)."""
    return SOURCE_LABELS.get(str(profile), str(profile).replace("_", " "))


def short_label(label: str) -> str:
    """A CFA's short name for a chart label: its name without the UAI, never cut (a long name is
    wrapped on several lines by the chart: :func:`aioa_analysis.reporting.display.wrap_label`).

    >>> short_label("CFA interprofessionnel CMA 41 (0410590U)"), short_label("0419999Z")
    ('CFA interprofessionnel CMA 41', '0419999Z')
    >>> short_label("CENTRE DE FORMATION-CFSA CAMPUS CENTRE (0411088K)")
    'CENTRE DE FORMATION-CFSA CAMPUS CENTRE'
    """
    return re.sub(r"\s*\([0-9]{7}[A-Z]\)$", "", str(label)).strip() or str(label)


def is_unknown(value: object) -> bool:
    """Whether a group value is the « unknown » group (missing value of the dimension).

    >>> is_unknown("inconnu"), is_unknown(None), is_unknown("CAP")
    (True, True, False)
    """
    return value is None or value is pd.NA or str(value) in UNKNOWN_VALUES


def order_groups(
    table: pd.DataFrame,
    dim: str,
    *,
    rate: str = "rate",
    label: str = "label",
    suppressed: str = "suppressed",
) -> pd.DataFrame:
    """Display order of a table of groups, and « Non renseigné » as the unknown group's label.

    Dimensions with a natural order keep it (employer size bands as :data:`schema.SIZE_BANDS`,
    age bands as :data:`schema.AGE_BANDS`, diploma levels numerically, cohorts chronologically);
    the others are sorted by ``rate``, highest first. Suppressed rows come after the published
    ones, in label order (sorting them by their hidden rate would reveal it). The unknown group
    always comes last. Adds nothing but the label; never changes a value.

    >>> t = pd.DataFrame({"sector": ["commerce", "inconnu", "construction", "coiffure"],
    ...                   "rate": [0.2, 0.5, 0.3, 0.9], "suppressed": [False, False, False, True]})
    >>> order_groups(t.assign(label=t["sector"]), "sector")["label"].tolist()
    ['construction', 'commerce', 'coiffure', 'Non renseigné']
    >>> b = pd.DataFrame({"employer_size": ["250+", "0-4", "10-49", "5-9"], "rate": [0.1, 0.3, 0.2, 0.25]})
    >>> order_groups(b, "employer_size")["employer_size"].tolist()
    ['0-4', '5-9', '10-49', '250+']
    """
    if table.empty or dim not in table.columns:
        return table
    values = table[dim].astype("object")
    unknown = values.map(is_unknown).astype(bool)
    hidden = (
        table[suppressed].astype("boolean").fillna(False).astype(bool)
        if suppressed in table.columns
        else pd.Series(False, index=table.index)
    )
    texts = values.astype(str)
    if dim in NATURAL_ORDERS:
        order = {v: i for i, v in enumerate(NATURAL_ORDERS[dim])}
        key = texts.map(order).fillna(len(order)).astype(float)
        hidden = pd.Series(False, index=table.index)  # a fixed order reveals nothing
        secondary = texts
    elif dim in NUMERIC_DIMS:
        key = pd.to_numeric(texts, errors="coerce").fillna(1e9).astype(float)
        hidden = pd.Series(False, index=table.index)
        secondary = texts
    elif dim in CHRONOLOGICAL_DIMS:
        key = pd.Series(0.0, index=table.index)
        hidden = pd.Series(False, index=table.index)
        secondary = texts
    else:
        r = pd.to_numeric(table[rate], errors="coerce") if rate in table.columns else None
        key = (-r).fillna(0.0).astype(float) if r is not None else pd.Series(0.0, index=table.index)
        key = key.where(~hidden, 0.0)
        secondary = (table[label] if label in table.columns else values).astype(str).str.casefold()
    sorter = pd.DataFrame(
        {"_u": unknown.to_numpy(), "_h": hidden.to_numpy(), "_k": key.to_numpy(), "_s": secondary.to_numpy()},
        index=table.index,
    )
    idx = sorter.sort_values(["_u", "_h", "_k", "_s"], kind="stable").index
    out = table.loc[idx].reset_index(drop=True)
    if label in out.columns:
        out = out.assign(
            **{label: [UNKNOWN_LABEL if u else v for u, v in zip(unknown.loc[idx], out[label], strict=True)]}
        )
    return out
