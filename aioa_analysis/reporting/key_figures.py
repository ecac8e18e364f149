"""The key figures of a report, handed from the executed notebook to the runner (``index.html``).

The template's last cell calls :func:`glue_key_figures`: it displays one small JSON output (MIME
type :data:`KEY_FIGURES_MIME`, no report marker, so it is not part of the page) holding the figures
the report itself shows: the contracts started in the scope (the synthesis card), the rate of rupture
within the horizon with its interval and its counts (the published overall rate, after the family's
suppression: a hidden rate is handed over as hidden, with no count), the points de vigilance (alerts
and all, as the vigilance section publishes them), the observation date and the generation time.
The runner reads it back with :func:`read_key_figures`: the index never recomputes a figure.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Final

import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext

KEY_FIGURES_MIME: Final = "application/vnd.aioa.key-figures+json"


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def key_figures(ctx: ReportContext, *, generated_at: str | None = None) -> dict[str, Any]:
    """The report's key figures as plain JSON values (see the module docstring)."""
    ov = RP.published_overall(ctx)
    row = ov.iloc[0] if len(ov) else None
    hidden = row is None or bool(row.get("suppressed", False)) or pd.isna(row["rate"])
    findings = RP.published_vigilance(ctx)
    return {
        "label": ctx.cfa_label or ctx.scope_label,
        "cfa": str(ctx.params.get("cfa") or ""),
        "as_of": ctx.as_of.date().isoformat(),
        "generated_at": generated_at or _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "horizon_months": ctx.horizon,
        "min_n": ctx.min_n,
        "contracts": int((ctx.contracts[C.start_date] <= ctx.as_of).sum()),
        "rate_hidden": hidden,
        "observed": None if hidden else int(row["n_contracts"]),  # type: ignore[index]
        "ruptures": None if hidden else int(row["n_ruptures"]),  # type: ignore[index]
        "rate": None if hidden else _number(row["rate"]),  # type: ignore[index]
        "ci_low": None if hidden else _number(row["ci_low"]),  # type: ignore[index]
        "ci_high": None if hidden else _number(row["ci_high"]),  # type: ignore[index]
        "alerts": int(findings["alert"].astype(bool).sum()) if len(findings) else 0,
        "findings": len(findings),
    }


def glue_key_figures(ctx: ReportContext) -> None:
    """Display the key figures as a JSON output of the notebook (not part of the report page)."""
    from IPython.display import display

    display({KEY_FIGURES_MIME: key_figures(ctx)}, raw=True)


def read_key_figures(nb: Any) -> dict[str, Any] | None:
    """The key figures an executed notebook carries (the last such output), or ``None``.

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
    ...     "display_data", data={KEY_FIGURES_MIME: {"contracts": 3}})])
    >>> read_key_figures(nbformat.v4.new_notebook(cells=[cell]))
    {'contracts': 3}
    """
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
            if KEY_FIGURES_MIME in data:
                found = dict(data[KEY_FIGURES_MIME])
    return found
