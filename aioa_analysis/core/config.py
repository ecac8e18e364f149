"""Default locations, overridable by environment variables (one place for every path).

=====================  ====================================  ==========================================
what                   default                               override
=====================  ====================================  ==========================================
raw inputs             ``data/raw/``                         ``AIOA_RAW_DIR``
synthetic sample       ``data/raw/sample/``                  ``AIOA_SAMPLE_DIR``
processed tables       ``data/processed/``                   ``AIOA_PROCESSED_DIR``
reports                ``reports/``                          ``AIOA_REPORTS_DIR``
restricted store       ``data/restricted/`` (mode 0700)      ``AIOA_RESTRICTED_DIR``
pseudonymisation key   ``~/.config/aioa/pseudonym.key``      ``AIOA_KEY_FILE``
=====================  ====================================  ==========================================

Relative defaults are resolved against the project root: ``AIOA_PROJECT_DIR`` if set, else the
current directory. The key lives outside the repository by default and is created on first use
with owner-only permissions (see :mod:`aioa_analysis.ingest.pseudonym`).
"""

from __future__ import annotations

import os
from pathlib import Path

from aioa_analysis.core.errors import KeyFileError


def project_dir() -> Path:
    """The project root used to resolve relative default paths."""
    return Path(os.environ.get("AIOA_PROJECT_DIR", os.getcwd()))


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else project_dir() / default


def raw_dir() -> Path:
    """Folder of the real input files (``data/raw/``)."""
    return _dir("AIOA_RAW_DIR", "data/raw")


def sample_dir() -> Path:
    """Folder of the committed synthetic sample (``data/raw/sample/``)."""
    return _dir("AIOA_SAMPLE_DIR", "data/raw/sample")


def processed_dir() -> Path:
    """Folder of the clean tables (``data/processed/``)."""
    return _dir("AIOA_PROCESSED_DIR", "data/processed")


def reports_dir() -> Path:
    """Folder of the rendered reports (``reports/``)."""
    return _dir("AIOA_REPORTS_DIR", "reports")


def restricted_dir() -> Path:
    """Folder of the restricted identity store and follow-up lists (``data/restricted/``); refused
    (exit code 5) when ``AIOA_RESTRICTED_DIR`` points inside the processed tables or the reports."""
    return check_restricted_place(_dir("AIOA_RESTRICTED_DIR", "data/restricted"))


def key_file() -> Path:
    """File holding the pseudonymisation secret (outside the repository by default)."""
    value = os.environ.get("AIOA_KEY_FILE")
    return Path(value) if value else Path.home() / ".config" / "aioa" / "pseudonym.key"


def is_within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (links resolved)."""
    p, f = Path(path).resolve(), Path(folder).resolve()
    return p == f or f in p.parents


def check_restricted_place(path: str | os.PathLike[str]) -> Path:
    """``path`` if personal data may be written there: never inside the shared folders (processed
    tables, reports), which are read, copied and mailed by the whole working group.

    >>> check_restricted_place("data/restricted/followup").name
    'followup'
    >>> check_restricted_place("data/processed/listes")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.KeyFileError: refusing to write personal data in data/processed/listes: \
it is inside the shared folder of processed tables — use the restricted folder (data/restricted/, AIOA_RESTRICTED_DIR)
    """
    target = Path(path)
    for what, folder in (("processed tables", processed_dir()), ("reports", reports_dir())):
        if is_within(target, folder):
            raise KeyFileError(
                f"refusing to write personal data in {target}: it is inside the shared folder of {what}",
                hint="use the restricted folder (data/restricted/, AIOA_RESTRICTED_DIR)",
            )
    return target


def check_shared_place(path: str | os.PathLike[str]) -> Path:
    """``path`` if shared outputs (tables, reports) may be written there: never inside the restricted
    folder, whose content must stay owner-only."""
    target = Path(path)
    if is_within(target, restricted_dir()):
        raise KeyFileError(
            f"refusing to write shared outputs in {target}: it is inside the restricted folder",
            hint="write processed tables and reports outside data/restricted/ (AIOA_RESTRICTED_DIR)",
        )
    return target
