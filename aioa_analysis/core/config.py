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
    """Folder of the restricted identity store and follow-up lists (``data/restricted/``)."""
    return _dir("AIOA_RESTRICTED_DIR", "data/restricted")


def key_file() -> Path:
    """File holding the pseudonymisation secret (outside the repository by default)."""
    value = os.environ.get("AIOA_KEY_FILE")
    return Path(value) if value else Path.home() / ".config" / "aioa" / "pseudonym.key"
