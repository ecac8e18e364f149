"""Run the report template with papermill and export one offline HTML file per report.

:func:`render_report` validates the parameters (before any kernel starts), executes the template
notebook (package data ``aioa_analysis/reporting/templates/rapport.ipynb``) with papermill, logging one line per
cell, assembles the HTML from the executed notebook's report outputs (:mod:`.display`) and writes the
HTML (and the executed notebook) atomically. :func:`render_reports` renders the département report,
optionally one report per CFA, and an ``index.html`` linking them, all staged in a temporary folder
and moved into place only when every report succeeded: a failed or interrupted run never replaces
the last good reports, and a reader never sees reports of two runs side by side.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.commit import output_set
from aioa_analysis.core.errors import AioaError, ParameterError, ReportError
from aioa_analysis.core.safe import inside, safe_stem
from aioa_analysis.core.schema import C
from aioa_analysis.reporting.display import count_figures, notebook_fragments, page_html
from aioa_analysis.reporting.index_page import bundle_html, index_html
from aioa_analysis.reporting.kernel import KernelSession, cell_error
from aioa_analysis.reporting.key_figures import read_key_figures
from aioa_analysis.reporting.parameters import (
    PARAMETERS,
    is_sample,
    quality_path,
    read_quality,
    template_parameters,
    validate_parameters,
)
from aioa_analysis.reporting.pdf import print_many, require_chromium

log = logging.getLogger(__name__)

KERNEL_NAME = "python3"
DEPARTEMENT_NAME = "rapport-departement"


def default_template() -> Path:
    """The report template shipped with the package."""
    return Path(str(resources.files("aioa_analysis.reporting") / "templates" / "rapport.ipynb"))


@dataclass(frozen=True)
class ReportResult:
    """What :func:`render_report` produced."""

    html_path: Path
    notebook_path: Path | None
    n_figures: int
    size_bytes: int
    seconds: float
    parameters: dict[str, object]
    key_figures: dict[str, Any] | None = None  # what the template's last cell handed over (index.html)
    fragments: tuple[str, ...] = field(default=(), repr=False)  # the page's body (the bundle)


def check_template(template: Path) -> None:
    """The template's parameters cell must declare exactly :data:`PARAMETERS` (guards against drift)."""
    declared = template_parameters(template)
    if set(declared) != set(PARAMETERS):
        missing = sorted(set(PARAMETERS) - set(declared))
        extra = sorted(set(declared) - set(PARAMETERS))
        raise ReportError(
            f"template {template} parameters differ from the specification (missing {missing}, extra {extra})"
        )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(text: object, limit: int = 300) -> str:
    return " ".join(_ANSI.sub("", str(text)).split())[:limit]


def _make_engine(label: str, on_cell: Callable[[int, int], None] | None) -> str:
    """Register (once per label) a papermill engine that logs one line per cell."""
    from papermill.engines import NBClientEngine, papermill_engines

    class _LoggingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):  # type: ignore[no-untyped-def]
            original = nb_man.cell_start
            code_cells = [i for i, c in enumerate(nb_man.nb.cells) if c.cell_type == "code"]
            total = len(code_cells)

            def cell_start(cell, cell_index=None, **kw):  # type: ignore[no-untyped-def]
                if cell_index in code_cells:
                    pos = code_cells.index(cell_index) + 1
                    first = next(
                        (ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), ""
                    )
                    log.debug("%s: cell %d/%d %s", label, pos, total, first[:70])
                    if on_cell:
                        on_cell(pos, total)
                return original(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    name = f"aioa-{os.getpid()}-{id(_LoggingEngine)}"
    papermill_engines.register(name, _LoggingEngine)
    return name


def execute_template(
    parameters: Mapping[str, object],
    *,
    template: Path | None = None,
    label: str = "rapport",
    cwd: Path | None = None,
    timeout: int = 600,
    on_cell: Callable[[int, int], None] | None = None,
) -> Any:
    """Validate ``parameters`` then execute the template; return the executed notebook node."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    template = template or default_template()
    check_template(template)
    params = validate_parameters(parameters)
    # absolute paths: the kernel may run in another working directory
    for key in ("data_file", "quality_file"):
        if params[key]:
            params[key] = str(
                Path(str(params[key])).absolute()
            )  # not resolve(): the published name, not its generation
    engine = _make_engine(label, on_cell)
    papermill_logger = logging.getLogger("papermill")
    previous = papermill_logger.level
    # failures come back as one ReportError line below; papermill's and the kernel's own logs
    # (TCP warning, tracebacks after a timeout) would only repeat them on stderr
    papermill_logger.setLevel(logging.CRITICAL)
    try:
        nb = pm.execute_notebook(
            str(template),
            None,
            parameters=params,
            engine_name=engine,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            cwd=str(cwd) if cwd else None,
            execution_timeout=timeout,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as exc:
        raise cell_error(label, str(exc.ename), str(exc.evalue), f"cell {exc.exec_count}") from None
    except AioaError:
        raise
    except Exception as exc:  # kernel death, timeout, nbclient errors
        raise ReportError(
            f"{label}: notebook execution failed: {type(exc).__name__}: {_one_line(exc)}"
        ) from exc
    finally:
        papermill_logger.setLevel(previous)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                log.warning("%s: %s", label, _one_line(out.get("text", "")))
    return nb


def export_html(nb: Any, *, title: str) -> tuple[str, int]:
    """The report page of an executed notebook and its number of figures."""
    fragments = notebook_fragments(nb)
    if not fragments:
        raise ReportError("the executed notebook produced no report output")
    return page_html(fragments, title=title), count_figures(fragments)


def _execute(
    parameters: Mapping[str, object],
    *,
    template: Path | None,
    label: str,
    timeout: int,
    session: KernelSession | None,
) -> Any:
    """The executed notebook: in ``session``'s kernel, else in a kernel of its own (papermill)."""
    if session is None:
        return execute_template(parameters, template=template, label=label, timeout=timeout)
    template = template or default_template()
    check_template(template)
    params = validate_parameters(parameters)
    for key in ("data_file", "quality_file"):  # as execute_template: the published name, absolute
        if params[key]:
            params[key] = str(Path(str(params[key])).absolute())
    return session.execute(_template_node(template), params, label=label)


def _template_node(template: Path) -> Any:
    """The template notebook as papermill loads it."""
    from papermill.iorw import load_notebook_node

    return load_notebook_node(str(template))


def render_report(
    parameters: Mapping[str, object],
    html_path: str | os.PathLike[str],
    *,
    template: Path | None = None,
    notebook_path: str | os.PathLike[str] | None = None,
    label: str | None = None,
    timeout: int = 600,
    session: KernelSession | None = None,
) -> ReportResult:
    """Validate, execute and export one report; the HTML (and notebook) are written atomically.

    With ``session``, the template runs in its kernel (kept alive across the reports of a run);
    without, in a kernel of its own (papermill).
    """
    t0 = time.monotonic()
    html_path = Path(html_path)
    label = label or html_path.stem
    nb = _execute(parameters, template=template, label=label, timeout=timeout, session=session)
    params = validate_parameters(parameters)
    fragments = notebook_fragments(nb)
    page, n_figures = export_html(nb, title=str(params["title"]))
    with atomic_path(html_path, mode=0o644) as tmp:  # aggregates only: readable by the group
        tmp.write_text(page, encoding="utf-8")
    nb_path = Path(notebook_path) if notebook_path else None
    if nb_path:
        import nbformat  # deferred: the kernel imports this module and never needs it (1 to 2 s)

        with atomic_path(nb_path, mode=0o644) as tmp:
            nbformat.write(nb, str(tmp))
    size = html_path.stat().st_size
    seconds = time.monotonic() - t0
    log.info("%s: rendered (%d figures, %.1f MB, %.1f s)", label, n_figures, size / 1e6, seconds)
    figures = read_key_figures(nb)
    return ReportResult(html_path, nb_path, n_figures, size, seconds, params, figures, tuple(fragments))


def cfa_list(data_file: str | os.PathLike[str]) -> list[str]:
    """UAIs of the CFAs present in the contract table, sorted."""
    uai = pd.read_parquet(data_file, columns=[C.cfa_uai])[C.cfa_uai].dropna().astype(str)
    return sorted(set(uai))


def render_reports(
    parameters: Mapping[str, object],
    out_dir: str | os.PathLike[str],
    *,
    per_cfa: bool = False,
    template: Path | None = None,
    keep_notebooks: bool = True,
    timeout: int = 600,
    wait: float = 0.0,
    pdf: bool = False,
    bundle: bool = False,
) -> list[ReportResult]:
    """Render the département report (and one per CFA), plus ``index.html``, all-or-nothing.

    Files: ``rapport-departement.html``, ``rapport-cfa-<UAI>.html``, ``index.html`` and, with
    ``keep_notebooks``, the executed notebooks in ``notebooks/``. The whole set is staged and published
    with one rename (:func:`aioa_analysis.core.commit.output_set`) only when every report succeeded;
    a second run on the same ``out_dir`` waits ``wait`` seconds for the first, then stops. With
    ``pdf``, each report is also printed to ``<name>.pdf`` by the system's Chromium (checked before
    anything runs). With ``bundle``, :data:`BUNDLE_NAME` holds every report in one self-contained
    file (:func:`~aioa_analysis.reporting.index_page.bundle_html`).

    Every report runs in one kernel (:class:`~aioa_analysis.reporting.kernel.KernelSession`), started
    at the first report and stopped at the end: the CFA reports reuse the imports and the
    family-wide results of the département report. One line per report is logged.
    """
    from aioa_analysis.core.referential import cfa_names

    base = validate_parameters(parameters)  # fails before anything runs
    if pdf:
        require_chromium()
    if base["cfa"] and per_cfa:
        raise ParameterError(
            "--per-cfa renders every CFA: do not also set the cfa parameter", hint="drop -p cfa=..."
        )
    out_dir = Path(out_dir)
    jobs: list[tuple[str, dict[str, object], str]] = []
    dept_name = f"rapport-cfa-{safe_stem(base['cfa'])}" if base["cfa"] else DEPARTEMENT_NAME
    jobs.append(
        (dept_name, dict(base), "Rapport départemental" if not base["cfa"] else f"Rapport CFA {base['cfa']}")
    )
    if per_cfa:
        uais = cfa_list(str(base["data_file"]))
        names = cfa_names(pd.Series(uais))
        for uai, name in zip(uais, names, strict=True):
            label = f"{name} ({uai})" if isinstance(name, str) else uai
            # a code from the data names a file only if it is a well-formed UAI (else a digest)
            jobs.append((f"rapport-cfa-{safe_stem(uai)}", {**base, "cfa": uai}, label))
    results: list[ReportResult] = []
    with output_set(out_dir, wait=wait) as stage, KernelSession(timeout=timeout) as session:
        for i, (name, params, label) in enumerate(jobs, start=1):
            log.debug("report %d/%d: %s", i, len(jobs), label)
            nb_path = inside(stage, stage / "notebooks" / f"{name}.ipynb") if keep_notebooks else None
            res = render_report(
                params,
                inside(stage, stage / f"{name}.html"),
                template=template,
                notebook_path=nb_path,
                label=name,
                timeout=timeout,
                session=session,
            )
            results.append(res)
        session.close()
        if pdf:  # every PDF in one batch: two Chromium processes at a time (reporting.pdf.print_many)
            print_many([(r.html_path, r.html_path.with_suffix(".pdf")) for r in results])
        _write_gathering_pages(stage, base, jobs, results, bundle=bundle)
    final = [
        ReportResult(
            out_dir / r.html_path.name,
            (out_dir / "notebooks" / r.notebook_path.name) if r.notebook_path else None,
            r.n_figures,
            r.size_bytes,
            r.seconds,
            r.parameters,
            r.key_figures,
        )
        for r in results
    ]
    log.info("%d report(s) and index.html written to %s", len(final), out_dir)
    return final


BUNDLE_NAME = "rapports-ensemble.html"
"""The file of ``--bundle``: every report of the run in one self-contained page."""


def _write_gathering_pages(
    stage: Path,
    base: Mapping[str, object],
    jobs: list[tuple[str, dict[str, object], str]],
    results: list[ReportResult],
    *,
    bundle: bool,
) -> None:
    """``index.html`` (a card per report, its key figures) and, with ``bundle``, :data:`BUNDLE_NAME`."""
    from aioa_analysis.core.formatting import fr_date

    quality = read_quality(quality_path(str(base["data_file"]), str(base["quality_file"]) or None))
    sample = is_sample(quality, str(base["sample"]))
    title, subtitle = str(base["title"]), f"Rapports au {fr_date(base['as_of'])}"
    # the card's name: the one the report prints (its key figures), else the run's label
    labels = [
        str((r.key_figures or {}).get("label") or label) if name != DEPARTEMENT_NAME else label
        for (name, _p, label), r in zip(jobs, results, strict=True)
    ]
    entries = [
        (f"{name}.html", lbl, f"{r.n_figures} graphiques")
        for (name, _p, _l), lbl, r in zip(jobs, labels, results, strict=True)
    ]
    if bundle:
        entries.append((BUNDLE_NAME, "Tous les rapports en un seul fichier", "à joindre à un courriel"))
    page = index_html(
        entries,
        title=title,
        subtitle=subtitle,
        sample=sample,
        figures=[r.key_figures for r in results] + ([None] if bundle else []),
    )
    (stage / "index.html").write_text(page, encoding="utf-8")
    if bundle:
        parts = [
            (name, lbl, list(r.fragments))
            for (name, _p, _l), lbl, r in zip(jobs, labels, results, strict=True)
        ]
        with atomic_path(stage / BUNDLE_NAME, mode=0o644) as tmp:
            tmp.write_text(
                bundle_html(parts, title=title, subtitle=subtitle, sample=sample), encoding="utf-8"
            )
        log.info(
            "%s: %d reports, %.1f MB", BUNDLE_NAME, len(parts), (stage / BUNDLE_NAME).stat().st_size / 1e6
        )
