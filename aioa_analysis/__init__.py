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
also reachable from the package's face (``from aioa_analysis import rates``), as notebooks use them.
"""

import importlib
from types import ModuleType

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
__all__ = ["__version__", *sorted(_FACE)]


def __getattr__(name: str) -> ModuleType:
    """``from aioa_analysis import rates``: the statistics modules, imported on first use."""
    if name in _FACE:
        return importlib.import_module(_FACE[name])
    raise AttributeError(f"module 'aioa_analysis' has no attribute {name!r}")
