"""The report's content: load and compute once (:func:`prepare_report`), then one ``show_*`` call per
section, in the order of the plenary's agenda (:data:`SECTIONS`, :data:`ALL_SECTIONS`).

Each ``show_*`` function displays HTML fragments and figures (see :mod:`aioa_analysis.reporting.display`);
every chart is followed by its table (French formats, small cells suppressed). One module per concept:

* :mod:`.context` -- :func:`prepare_report`: parameters, loading, the report's scope -> :class:`ReportContext`;
* :mod:`.results` -- :func:`compute_results` -> :class:`ReportResults` (every result table, computed
  once, the points de vigilance included);
* :mod:`.labels` -- French labels of the data's codes, display order of groups;
* :mod:`.layout` -- headings, a chart with its table, rate tables, published references;
* one module per section: :mod:`.header`, :mod:`.essentiel`, :mod:`.synthese`, :mod:`.par_cfa`, :mod:`.par_secteur`,
  :mod:`.par_diplome`, :mod:`.par_periode`, :mod:`.apres_rupture`, :mod:`.accompagnement`, :mod:`.resultat_diplome`,
  :mod:`.vigilance`, :mod:`.qualite`, :mod:`.glossaire` (its terms: :mod:`.terms`), :mod:`.methodologie`,
  :mod:`.provenance`; issue 18: :mod:`.profils`, :mod:`.motifs`, :mod:`.premiers_jours`, :mod:`.tendance`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aioa_analysis.reporting.sections.accompagnement import show_accompagnement
from aioa_analysis.reporting.sections.apres_rupture import show_apres_rupture
from aioa_analysis.reporting.sections.context import ReportContext, prepare_report
from aioa_analysis.reporting.sections.essentiel import show_essentiel
from aioa_analysis.reporting.sections.glossaire import show_glossaire
from aioa_analysis.reporting.sections.header import show_header
from aioa_analysis.reporting.sections.layout import QUESTIONS, SECTIONS
from aioa_analysis.reporting.sections.methodologie import show_methodologie
from aioa_analysis.reporting.sections.motifs import show_motifs
from aioa_analysis.reporting.sections.par_cfa import show_par_cfa
from aioa_analysis.reporting.sections.par_diplome import show_par_diplome
from aioa_analysis.reporting.sections.par_periode import show_par_periode
from aioa_analysis.reporting.sections.par_secteur import show_par_secteur
from aioa_analysis.reporting.sections.premiers_jours import show_premiers_jours
from aioa_analysis.reporting.sections.profils import show_profils
from aioa_analysis.reporting.sections.provenance import show_provenance
from aioa_analysis.reporting.sections.qualite import show_qualite
from aioa_analysis.reporting.sections.resultat_diplome import show_resultat_diplome
from aioa_analysis.reporting.sections.results import ReportResults, compute_results
from aioa_analysis.reporting.sections.synthese import show_synthese
from aioa_analysis.reporting.sections.tendance import show_tendance
from aioa_analysis.reporting.sections.vigilance import show_vigilance

ALL_SECTIONS: Final[tuple[Callable[[ReportContext], None], ...]] = (
    show_header,
    show_essentiel,
    show_synthese,
    show_par_cfa,
    show_par_secteur,
    show_par_diplome,
    show_par_periode,
    show_profils,
    show_motifs,
    show_premiers_jours,
    show_tendance,
    show_apres_rupture,
    show_accompagnement,
    show_resultat_diplome,
    show_vigilance,
    show_qualite,
    show_glossaire,
    show_methodologie,
    show_provenance,
)
"""Every section, in the order of the template notebook."""

__all__ = [
    "ALL_SECTIONS",
    "QUESTIONS",
    "SECTIONS",
    "ReportContext",
    "ReportResults",
    "compute_results",
    "prepare_report",
    "show_accompagnement",
    "show_apres_rupture",
    "show_essentiel",
    "show_glossaire",
    "show_header",
    "show_methodologie",
    "show_motifs",
    "show_par_cfa",
    "show_par_diplome",
    "show_par_periode",
    "show_par_secteur",
    "show_premiers_jours",
    "show_profils",
    "show_provenance",
    "show_qualite",
    "show_resultat_diplome",
    "show_synthese",
    "show_tendance",
    "show_vigilance",
]
