"""The follow-up's restricted store: returned files, outcome history, journal, and the purge.

Layout under ``<restricted>/followup/``::

    YYYY-MM/                        the month's workbooks and manifest (core.commit output set)
    retours/                        copies of the returned files (``<sha12>_<name>``), 0600
    retours/outcomes_history.parquet  every imported value with structure, file, date (restricted)
    retours/import_rejected.csv     the last import's rejected rows (file, sheet, row, reason)
    retours/import_conflicts.csv    keys with two outcomes on the same latest date
    journal.json                    imports and purges, counts only (no names)

and, when given, the fiches parcours of ``aioa fiche`` (``<restricted>/fiches/YYYY-MM/``).

Every write is atomic and owner-only, under the lock of :func:`core.commit.run_lock` on the
``followup`` folder, so two imports or an import and a purge never lose an entry.
:func:`purge` removes month folders (lists and fiches), returned files and history rows older than
the retention period, and the identities of young people whose contracts all ended before it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import safe
from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.commit import remove_stale, run_lock
from aioa_analysis.core.schema import C
from aioa_analysis.followup.returns import HISTORY_FILE, empty_history

RETURNS_DIR: Final = "retours"
JOURNAL: Final = "journal.json"


def private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700 (and its missing parents); return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def read_history(root: Path) -> pd.DataFrame:
    """The outcome history (empty when nothing was imported yet)."""
    path = root / RETURNS_DIR / HISTORY_FILE
    return pd.read_parquet(path) if path.is_file() else empty_history()


def write_history(root: Path, history: pd.DataFrame) -> None:
    """Replace the outcome history atomically (0600)."""
    with atomic_path(private_dir(root / RETURNS_DIR) / HISTORY_FILE, mode=0o600) as tmp:
        history.to_parquet(tmp, index=False)


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """A spreadsheet-safe CSV, atomically, 0600."""
    with atomic_path(path, mode=0o600) as tmp:
        safe.neutralise_frame(table).to_csv(tmp, index=False, encoding="utf-8")


def keep_copy(root: Path, path: Path, sha: str) -> Path:
    """Copy a returned file into ``retours/`` (0600) so that the purge can delete it in time."""
    dest = private_dir(root / RETURNS_DIR) / f"{sha[:12]}_{safe.safe_stem(Path(path).stem)}.xlsx"
    if not dest.exists():
        with atomic_path(dest, mode=0o600) as tmp:
            shutil.copyfile(path, tmp)
    return dest


def journal(root: Path) -> dict[str, Any]:
    """The journal of imports and purges (``{"imports": [...], "purges": [...]}``)."""
    try:
        data = json.loads((root / JOURNAL).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return {"imports": list(data.get("imports", [])), "purges": list(data.get("purges", []))}
    except (OSError, ValueError):
        pass
    return {"imports": [], "purges": []}


def record(root: Path, kind: str, entry: dict[str, Any]) -> None:
    """Append ``entry`` (counts only) to the journal's ``kind`` list, atomically."""
    data = journal(root)
    data[kind].append(entry)
    with atomic_path(private_dir(root) / JOURNAL, mode=0o600) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def imported_hashes(root: Path) -> set[str]:
    """SHA-256 of every file already imported."""
    h = read_history(root)
    logged = {str(f.get("sha256")) for imp in journal(root)["imports"] for f in imp.get("files", [])}
    return set(h["file_sha256"].dropna()) | logged


def cutoff_date(today: pd.Timestamp, months: int) -> pd.Timestamp:
    """The first day kept: ``today`` minus ``months`` months.

    >>> cutoff_date(pd.Timestamp("2026-11-15"), 12)
    Timestamp('2025-11-15 00:00:00')
    """
    return (pd.Timestamp(today).normalize() - pd.DateOffset(months=months)).normalize()


def _old_months(root: Path, cutoff: pd.Timestamp) -> list[Path]:
    out = []
    for p in sorted(root.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]")):
        if p.is_dir() and pd.Period(p.name, "M").end_time.normalize() < cutoff:
            out.append(p)
    return out


def _old_returns(root: Path, cutoff: pd.Timestamp) -> list[Path]:
    folder = root / RETURNS_DIR
    if not folder.is_dir():
        return []
    limit = cutoff.timestamp()
    return sorted(p for p in folder.glob("*.xlsx") if p.stat().st_mtime < limit)


def stale_identities(identities: pd.DataFrame, contracts: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Whether each identity belongs to a young person whose every contract ended before ``cutoff``.

    A contract ends at its rupture date, else its actual end, else its planned end; a young person
    without any contract in the table is stale too.
    """
    end = contracts[C.rupture_date]
    for col in (C.actual_end_date, C.planned_end_date):
        if col in contracts:
            end = end.fillna(contracts[col])
    last = end.groupby(contracts[C.apprentice_key]).max()
    last_end = identities[C.apprentice_key].map(last)
    return (last_end.isna() | (last_end < cutoff)).fillna(True).astype(bool)


def purge(
    root: Path,
    identity_file: Path,
    contracts: pd.DataFrame | None,
    *,
    today: pd.Timestamp,
    months: int,
    dry_run: bool,
    fiches_root: Path | None = None,
) -> dict[str, Any]:
    """Delete what is older than ``months``: month folders, returned files, history rows, identities,
    and the month folders of fiches parcours under ``fiches_root`` (``aioa fiche``).

    Returns the counts (recorded in the journal unless ``dry_run``).
    """
    cutoff = cutoff_date(today, months)
    folders, files = _old_months(root, cutoff), _old_returns(root, cutoff)
    fiches = _old_months(fiches_root, cutoff) if fiches_root is not None and fiches_root.is_dir() else []
    history = read_history(root)
    old_rows = (history["imported_at"] < cutoff).fillna(False).astype(bool)
    ids = pd.read_parquet(identity_file) if identity_file.is_file() else None
    stale = (
        stale_identities(ids, contracts, cutoff)
        if ids is not None and contracts is not None
        else pd.Series(dtype=bool)
    )
    counts = {
        "date": pd.Timestamp(today).date().isoformat(),
        "retention_months": months,
        "cutoff": cutoff.date().isoformat(),
        "dry_run": dry_run,
        "month_folders": len(folders),
        "returned_files": len(files),
        "history_rows": int(old_rows.sum()),
        "identities": int(stale.sum()),
        "fiche_folders": len(fiches),
    }
    if dry_run:
        return counts
    for p in folders + fiches:
        shutil.rmtree(p)
    for p in files:
        p.unlink()
    if old_rows.any():
        write_history(root, history.loc[~old_rows].reset_index(drop=True))
    if ids is not None and stale.any():
        with atomic_path(identity_file, mode=0o600) as tmp:
            ids.loc[~stale.to_numpy()].reset_index(drop=True).to_parquet(tmp, index=False)
    for month in root.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]"):
        if (month / ".aioa").is_dir():
            with run_lock(month, wait=60):
                remove_stale(month)  # staging left by a killed run
    record(root, "purges", counts)
    return counts
