"""The restricted identity store: ``apprentice_key`` -> name, birth date, contact details.

Cleaning writes it to ``config.restricted_dir()/identities.parquet`` (folder mode 0700, file mode
0600, written atomically) with the columns of :data:`aioa_analysis.core.schema.IDENTITY_DTYPES`; one row
per ``apprentice_key``, each field taking the **latest** non-missing value (rows ordered by contract
start date, then by file and line, so a newer contract's phone number wins). Only ``aioa followup``
reads it back. It must never land in ``data/processed`` or ``reports`` (checked on write).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import is_integer_dtype

from aioa_analysis.core import config
from aioa_analysis.core.errors import ConfigError, DataError, OutputError
from aioa_analysis.core.schema import IDENTITY_DTYPES, C
from aioa_analysis.ingest.parsing import (
    contiguous,
    normalise_postcode,
    normalise_text,
    parse_dates,
    parse_sex,
)
from aioa_analysis.ingest.values import PERSON, first_per_group

log = logging.getLogger(__name__)

IDENTITY_FILE: Final = "identities.parquet"

_ORDER: Final = "_order_date"


def identity_path(restricted_dir: Path | None = None) -> Path:
    """Where the identity store lives (``restricted_dir()/identities.parquet``)."""
    return Path(restricted_dir if restricted_dir is not None else config.restricted_dir()) / IDENTITY_FILE


def build_identities(raw: pd.DataFrame, keep: np.ndarray | None = None) -> pd.DataFrame:
    """One row per ``apprentice_key`` with the latest non-missing identity values.

    ``raw`` is a raw canonical frame that already has ``apprentice_key`` (and optionally a parsed
    ``start_date``, used to order rows). Rows without a key are ignored, and so are the rows
    outside ``keep`` (a mask; they are left out of the grouping, not copied out of the frame).

    >>> raw = pd.DataFrame({"apprentice_key": ["k1", "k1", "k2"], "surname": ["Roy", "Roy", "Lin"],
    ...                     "phone": ["0600000001", "0600000002", None],
    ...                     "start_date": pd.to_datetime(["2023-09-01", "2024-09-01", "2024-01-01"]),
    ...                     "source_file": ["a.csv", "b.csv", "a.csv"], "source_row": [2, 2, 3]})
    >>> build_identities(raw)[["apprentice_key", "phone", "source_file"]]
      apprentice_key       phone source_file
    0             k1  0600000002       b.csv
    1             k2        <NA>       a.csv
    """
    # rows without a key have no person (code -1 below): no copy of the frame without them
    df = raw if C.apprentice_key in raw else raw.iloc[:0]

    def col(name: str) -> pd.Series:
        return (
            contiguous(df[name].astype("string"))
            if name in df.columns
            else pd.Series(pd.NA, index=df.index, dtype="string")
        )

    order = (
        pd.to_datetime(df[C.start_date]) if C.start_date in df.columns else pd.Series(pd.NaT, index=df.index)
    )
    birth = df[C.birth_date] if C.birth_date in df.columns else col(C.birth_date)
    ident = pd.DataFrame(
        {
            C.apprentice_key: col(C.apprentice_key),
            C.surname: normalise_text(col(C.surname)),
            C.first_name: normalise_text(col(C.first_name)),
            C.birth_date: birth if str(birth.dtype).startswith("datetime") else parse_dates(birth),
            C.sex: parse_sex(col(C.sex)) if str(col(C.sex).dtype) == "string" else col(C.sex),
            C.ine: normalise_text(col(C.ine)),
            C.phone: normalise_text(col(C.phone)),
            C.email: normalise_text(col(C.email)),
            C.address: normalise_text(col(C.address)),
            C.residence_postcode: normalise_postcode(col(C.residence_postcode)),
            C.commune: normalise_text(col(C.commune)),
            C.source_file: col(C.source_file),
            _ORDER: order,
            "_file": col(C.source_file),
            "_row": pd.to_numeric(df[C.source_row], errors="coerce")
            if C.source_row in df.columns
            else pd.Series(0, index=df.index),
        },
        index=df.index,
        copy=False,
    )
    person = df[PERSON].to_numpy() if PERSON in df.columns and is_integer_dtype(df[PERSON].dtype) else None
    return coerce_identities(_latest_per_key(ident, None if keep is None or not len(df) else keep, person))


def _key_codes(
    keys: pd.Series, person: np.ndarray | None
) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """``pd.factorize(keys)``, from ``person`` when it already is that factorisation (the codes
    made with the keys by ``pseudonym.add_apprentice_key``): the keys are then not hashed again."""
    if person is not None and len(person) == len(keys):
        at = np.flatnonzero(person >= 0)
        first = np.full(int(person.max(initial=-1)) + 1, -1, dtype=np.int64)
        first[person[at[::-1]]] = at[::-1]
        if bool((first >= 0).all()) and bool((np.diff(first) > 0).all()):  # dense, in first-row order
            return person.astype(np.intp), keys.array.take(first)
    return pd.factorize(keys)


def _latest_per_key(
    ident: pd.DataFrame, keep: np.ndarray | None = None, person: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per ``apprentice_key`` (sorted), each column its last non-missing value in the order
    ``(_order_date, _file, _row)`` (missing first, ties in frame order); only the rows in ``keep``.
    ``person``: the keys' codes when known (see :func:`_key_codes`)."""
    columns = [c for c in IDENTITY_DTYPES if c in ident.columns and c != C.apprentice_key]
    codes, uniques = _key_codes(ident[C.apprentice_key], person)
    if keep is not None:  # the people of the kept rows only, codes renumbered
        codes = np.where(keep, codes, -1)
        present = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
        codes = np.where(codes >= 0, (np.cumsum(present) - 1)[np.maximum(codes, 0)], -1)
        uniques = uniques[present]
    if not len(uniques):  # nobody: the empty table
        ident, codes = ident.iloc[:0], codes[:0]
    # people sorted by key: Arrow sorts the distinct keys, without the second pass over every row's
    # 64 characters that pandas' factorize(sort=True) makes (1 M rows: 1.1 -> 0.6 s)
    by_key = pc.sort_indices(pa.array(uniques)).to_numpy()
    rank = np.empty(len(by_key), dtype=np.int64)
    rank[by_key] = np.arange(len(by_key))
    keys, people = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), uniques.take(by_key)
    # a person with one row takes every value from it (a missing one stays missing): the rows are
    # only ordered for the people who have several (1 M rows: 0.9 M people, ~5 % of them)
    sizes = np.bincount(keys[keys >= 0], minlength=len(people))
    several = (keys >= 0) & (sizes[np.maximum(keys, 0)] > 1)
    only = np.full(len(people), -1, dtype=np.int64)
    single_rows = np.flatnonzero((keys >= 0) & ~several)
    only[keys[single_rows]] = single_rows
    # sort integer codes, then one take per column: sorting the frame then grouping it gathered
    # every column twice (0.9 M people, loaded host: 7.5 -> 4.8 s)
    sub = np.flatnonzero(several)
    order = sub[
        np.lexsort(
            (
                ident["_row"].to_numpy(dtype="float64", na_value=-np.inf)[sub],
                pd.factorize(ident["_file"], sort=True)[0][sub],
                ident[_ORDER].to_numpy(dtype="datetime64[ns]").view(np.int64)[sub],  # NaT first
                keys[sub],
            )
        )
    ]
    latest_first = order[::-1]

    def latest(name: str) -> np.ndarray:
        found = first_per_group(latest_first, keys, len(people), ident[name].notna().to_numpy())
        return np.where(only >= 0, only, found)

    return pd.DataFrame(
        {
            C.apprentice_key: people,
            **{c: ident[c].array.take(latest(c), allow_fill=True) for c in columns},
        }
    )


def coerce_identities(df: pd.DataFrame) -> pd.DataFrame:
    """Restrict ``df`` to :data:`IDENTITY_DTYPES` (missing columns added empty), typed."""
    cols = {}
    for name, dtype in IDENTITY_DTYPES.items():
        if name in df.columns:
            cols[name] = df[name].astype(dtype)  # type: ignore[call-overload]
        else:
            cols[name] = pd.Series(pd.NA if dtype != "datetime64[ns]" else pd.NaT, index=df.index).astype(  # type: ignore[call-overload]
                dtype
            )
    return pd.DataFrame(cols, index=df.index).reset_index(drop=True)


def _check_location(path: Path, forbidden: list[Path]) -> None:
    for folder in forbidden:
        if config.is_within(path, folder):
            raise ConfigError(
                f"the identity store {path} would be written inside {folder}",
                hint="set AIOA_RESTRICTED_DIR to a folder outside data/processed and reports",
            )


_NEARLY_UNIQUE: Final = frozenset({C.apprentice_key, C.phone, C.email})
"""Columns with about one value per person: no dictionary (Arrow would build one, then give it up),
and the keyed hash (random hex) uncompressed. Encoding 0.9 M people: 0.63 → 0.35 s, 78 → 89 MB."""


def _write_store(identities: pd.DataFrame, where: Path) -> None:
    table = pa.Table.from_pandas(coerce_identities(identities), preserve_index=False)
    pq.write_table(
        table,
        where,
        compression={c: "none" if c == C.apprentice_key else "snappy" for c in table.column_names},
        use_dictionary=[c for c in table.column_names if c not in _NEARLY_UNIQUE],
        write_statistics=False,  # no min/max of names or birth dates in the file's metadata
    )


@dataclass(frozen=True)
class StagedIdentities:
    """An identity store written beside its final place, not yet in it (see :func:`stage_identities`)."""

    path: Path
    staged: Path


def stage_identities(
    identities: pd.DataFrame, *, restricted_dir: Path | None = None, forbidden: list[Path] | None = None
) -> StagedIdentities:
    """Write the identity store to a temporary file (0600) in its restricted folder (0700), for
    :func:`commit_identities` to move into place, or :func:`discard_identities` to remove.

    ``aioa clean`` stages the store while it writes the contract table, and commits it right after
    the table: a rename, so the two are replaced together as nearly as files allow.
    ``forbidden`` lists folders the store must not be inside (default: processed and reports dirs).
    """
    path = identity_path(restricted_dir)
    _check_location(
        path, forbidden if forbidden is not None else [config.processed_dir(), config.reports_dir()]
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        _remove_stale_stages(path)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
        os.close(fd)
    except OSError as exc:
        raise OutputError(
            f"cannot write in the restricted folder {path.parent}: {exc.strerror or exc}"
        ) from exc
    staged = Path(name)
    try:
        os.chmod(staged, 0o600)
        _write_store(identities, staged)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            staged.unlink()
        if isinstance(exc, OSError):
            raise OutputError(
                f"cannot write the identity store in {path.parent}: {exc.strerror or exc}"
            ) from exc
        raise
    return StagedIdentities(path, staged)


STALE_STAGE_S: Final = 3600.0
"""A staged store older than this was left by a run that was killed: it is removed."""


def _remove_stale_stages(path: Path) -> None:
    """Remove staged copies of the store left by killed runs (identities in a forgotten file)."""
    now = time.time()
    for old in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > STALE_STAGE_S:
                old.unlink()
                log.warning("removed %s, an identity store staged by a run that did not finish", old)


def commit_identities(staged: StagedIdentities) -> Path:
    """Move a staged identity store into place (an atomic rename) and return its path."""
    try:
        os.replace(staged.staged, staged.path)
    except OSError as exc:
        discard_identities(staged)
        raise OutputError(f"cannot replace the identity store {staged.path}: {exc.strerror or exc}") from exc
    return staged.path


def discard_identities(staged: StagedIdentities) -> None:
    """Remove a staged identity store that will not be committed."""
    with contextlib.suppress(OSError):
        staged.staged.unlink()


def write_identities(
    identities: pd.DataFrame, *, restricted_dir: Path | None = None, forbidden: list[Path] | None = None
) -> Path:
    """Write the identity store atomically (folder 0700, file 0600) and return its path.

    ``forbidden`` lists folders the store must not be inside (default: processed and reports dirs).
    """
    return commit_identities(stage_identities(identities, restricted_dir=restricted_dir, forbidden=forbidden))


def read_identities(restricted_dir: Path | None = None) -> pd.DataFrame:
    """Read the identity store (for ``aioa followup`` only).

    Raises :class:`~aioa_analysis.core.errors.DataError` when it does not exist yet.
    """
    path = identity_path(restricted_dir)
    if not path.is_file():
        raise DataError(f"identity store {path} not found", hint="run `aioa clean` first")
    return coerce_identities(pd.read_parquet(path))
