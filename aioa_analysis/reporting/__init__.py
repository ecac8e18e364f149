"""Reports: parameters, the report's sections, papermill execution and offline HTML export.

The template notebook (``aioa_analysis/reporting/templates/rapport.ipynb``) calls, one per cell::

    ctx = reporting.prepare_report(data_file=..., as_of=..., ...)   # validate, load, compute
    reporting.show_header(ctx)
    reporting.show_synthese(ctx)
    ...

and :func:`render_report` / :func:`render_reports` run it with papermill and write the HTML.

Submodules: :mod:`.parameters` (specification and validation), :mod:`.sections` (content: one module
per section, plus :mod:`.sections.context` and :mod:`.sections.results` where everything is computed
once), :mod:`.figures` (charts), :mod:`.findings` (points de vigilance), :mod:`.display` (notebook
outputs and page assembly), :mod:`.runner` (execution, export, index).
"""

from aioa_analysis.reporting.display import check_offline, count_figures, notebook_fragments, page_html
from aioa_analysis.reporting.parameters import (
    PARAMETERS,
    Parameter,
    parameter_names,
    template_parameters,
    validate_parameters,
)
from aioa_analysis.reporting.runner import (
    ReportResult,
    default_template,
    execute_template,
    render_report,
    render_reports,
)
from aioa_analysis.reporting.sections import (
    ALL_SECTIONS,
    QUESTIONS,
    SECTIONS,
    ReportContext,
    ReportResults,
    compute_results,
    prepare_report,
    show_accompagnement,
    show_apres_rupture,
    show_essentiel,
    show_glossaire,
    show_header,
    show_methodologie,
    show_motifs,
    show_par_cfa,
    show_par_diplome,
    show_par_periode,
    show_par_secteur,
    show_premiers_jours,
    show_profils,
    show_provenance,
    show_qualite,
    show_resultat_diplome,
    show_synthese,
    show_tendance,
    show_vigilance,
)

__all__ = [
    "ALL_SECTIONS",
    "PARAMETERS",
    "QUESTIONS",
    "SECTIONS",
    "Parameter",
    "ReportContext",
    "ReportResult",
    "ReportResults",
    "check_offline",
    "compute_results",
    "count_figures",
    "default_template",
    "execute_template",
    "notebook_fragments",
    "page_html",
    "parameter_names",
    "prepare_report",
    "render_report",
    "render_reports",
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
    "template_parameters",
    "validate_parameters",
]
