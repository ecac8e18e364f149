"""aioa_analysis: apprenticeship contract ruptures in Loir-et-Cher.

Read the files the working group's members hold (DECA extracts, Tableau de bord workbooks, SIFA files,
consular-chamber spreadsheets, exam results), clean them into one pseudonymised contract table, compute
rupture statistics as official statisticians do, and render offline French HTML reports.

The package is layered; each folder may import only from the folders before it::

    core/       errors, config, schema, dates, atomic writes, referential tables, French formats
    ingest/     readers, parsing, pseudonym, identity store, cleaning, the clean pipeline
    sample/     the synthetic sample (raw files whose truth is known)
    stats/      outcomes, rates, survival, seasonality, transitions, diploma, comparisons, suppression
    reporting/  parameters, figures, findings, report sections, papermill runner, templates
    followup/   the restricted monthly follow-up lists
    commands/   one module per ``aioa`` subcommand; ``cli.py`` dispatches

Importing the package does no work: every module is imported on demand. The statistics modules are
also reachable from the package's face (``from aioa_analysis import rates``), as notebooks use them, and
so are the analyst's helpers (``from aioa_analysis import explore, cross, contracts_behind``).
"""

import importlib
from typing import Any

__version__ = "0.1.0"

_FACE = {
    name: f"aioa_analysis.stats.{name}"
    for name in (
        "age_period",
        "compare",
        "diploma",
        "dimensions",
        "exposure",
        "intervals",
        "linking",
        "outcomes",
        "rates",
        "reference_rates",
        "seasonality",
        "suppression",
        "survival",
        "tables",
        "transitions",
    )
}
_FACE["explore"] = "aioa_analysis.reporting.explore"  # the analyst's helpers (notebooks)
_FUNCTIONS = {"contracts_behind": "explore", "cross": "explore", "french": "explore"}
"""``from aioa_analysis import cross``: the analyst's functions, from the module of the face named here."""
__all__ = ["__version__", *sorted(_FACE), *sorted(_FUNCTIONS)]


def __getattr__(name: str) -> Any:
    """``from aioa_analysis import rates``: the statistics modules (and the analyst's helpers,
    :mod:`aioa_analysis.reporting.explore`), imported on first use."""
    if name in _FACE:
        return importlib.import_module(_FACE[name])
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FACE[_FUNCTIONS[name]]), name)
    raise AttributeError(f"module 'aioa_analysis' has no attribute {name!r}")
