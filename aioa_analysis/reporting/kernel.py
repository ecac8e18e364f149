"""Execute the report template for several reports in one kernel: :class:`KernelSession`.

``aioa report --per-cfa`` renders the département report and one report per CFA from the same
template. Starting a kernel per report (papermill's way) costs the kernel start and every import
(pandas, plotly, the package) each time, and the CFA reports cannot reuse the family-wide results
the département report computed. A session starts one kernel (lazily, at the first report), and for
each report: clears the user namespace (``%reset -f``: no variable of a report reaches the next),
injects the parameters exactly as papermill does (:func:`papermill.parameterize.parameterize_notebook`)
and runs the cells one by one with :mod:`nbclient`. Imported modules stay loaded, and so does the
family memo of :func:`aioa_analysis.reporting.sections.context.family_memo` (keyed by the data
file's digest and the parameters, so nothing crosses from one data file to another).

The executed notebooks have the same cells and outputs as papermill's (the outputs are what the
HTML is built from); only papermill's own metadata (timings, status) is absent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from aioa_analysis.core.errors import ParameterError, ReportError

log = logging.getLogger(__name__)

RESET = "get_ipython().run_line_magic('reset', '-f')"
"""Run (without history) before each report: the namespace of the previous report is dropped."""

QUIET = logging.getLogger("aioa_analysis.reporting.kernel.nbclient")
QUIET.setLevel(logging.ERROR)  # nbclient's chatter (kernel start, transport) stays out of the logs


def cell_error(label: str, ename: str, evalue: str, cell: str) -> Exception:
    """The one-line error of a report whose ``cell`` raised ``ename: evalue`` in the kernel: the
    library's own parameter and data errors keep their message; anything else names the cell."""
    evalue = " ".join(str(evalue).split())[:300]
    if ename.endswith("ParameterError"):
        return ParameterError(evalue)
    if ename.endswith(("DataError", "InputFileError", "ConfigError")):
        return ReportError(f"{label}: {evalue}")
    return ReportError(
        f"{label}: {cell} failed with {ename}: {evalue}",
        hint="rerun with --verbose --log-file FILE; the executed notebook is not kept",
    )


class KernelSession:
    """One kernel kept alive across the reports of a run (a context manager).

    >>> with KernelSession() as s:  # no report executed: no kernel started
    ...     s.started
    False
    """

    def __init__(self, *, kernel_name: str = "python3", timeout: int = 600, cwd: Path | None = None):
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.cwd = cwd
        self._client: Any = None
        self._setup: Any = None

    @property
    def started(self) -> bool:
        """Whether the kernel runs."""
        return self._client is not None

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Shut the kernel down (if it was started)."""
        if self._setup is not None:
            setup, self._setup, self._client = self._setup, None, None
            setup.__exit__(None, None, None)

    def _start(self, nb: Any) -> Any:
        from nbclient import NotebookClient

        client = NotebookClient(
            nb,
            kernel_name=self.kernel_name,
            timeout=self.timeout,
            allow_errors=False,
            record_timing=False,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            log=QUIET,
        )
        setup = client.setup_kernel(cwd=str(self.cwd) if self.cwd else None)
        setup.__enter__()
        self._client, self._setup = client, setup
        return client

    def execute(self, template_nb: Any, parameters: Mapping[str, object], *, label: str) -> Any:
        """Execute a copy of ``template_nb`` with ``parameters`` injected; return the executed notebook.

        A failing cell raises :class:`ReportError` (or :class:`ParameterError` for a parameter the
        template refused), naming the report and the cell, as the papermill path does.
        """
        import nbformat  # deferred: the kernel imports this module and never needs it (1 to 2 s)
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(nbformat.from_dict(template_nb), dict(parameters))
        client = self._client or self._start(nb)
        client.nb = nb
        try:
            reply = client.wait_for_reply(client.kc.execute(RESET, silent=True, store_history=False))
            if not reply or reply["content"].get("status") != "ok":
                raise RuntimeError("the kernel did not clear the previous report's namespace")
            client.reset_execution_trackers()
            code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
            for pos, index in enumerate(code, start=1):
                cell = nb.cells[index]
                log.debug("%s: cell %d/%d %s", label, pos, len(code), _first_line(cell.source))
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except Exception as exc:
            self._fail(exc, label)
        return nb

    def _fail(self, exc: Exception, label: str) -> None:
        from nbclient.exceptions import CellExecutionError

        if isinstance(exc, CellExecutionError):
            raise cell_error(label, str(exc.ename), str(exc.evalue), "a cell") from None
        self.close()  # a dead or stuck kernel is not reused
        raise ReportError(
            f"{label}: notebook execution failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        ) from exc


def _first_line(source: str) -> str:
    """The first line of a cell that is neither blank nor a comment (for the debug log).

    >>> _first_line("# a comment\\n\\nctx = prepare()")
    'ctx = prepare()'
    """
    return next((ln for ln in source.splitlines() if ln.strip() and not ln.startswith("#")), "")[:70]
