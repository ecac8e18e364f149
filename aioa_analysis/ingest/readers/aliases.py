"""Header normalisation and the column-alias map (shipped CSV, extended by user files).

The alias map is a CSV with three columns ``profile,canonical,alias``: one line per header spelling
a source may use. The shipped map is ``aioa_analysis/core/data/aliases.csv``; users add their own
export's headers, without touching the code, in

* the file named by the environment variable ``AIOA_ALIASES_FILE`` (several files may be given,
  separated by ``os.pathsep``), and
* ``aliases.csv`` in the raw-data folder (:func:`aioa_analysis.core.config.raw_dir`), if present.

``profile`` is one of :data:`aioa_analysis.core.schema.SOURCES` (or ``*`` for every header-based
profile); ``canonical`` is a canonical raw column name (see :data:`RAW_NAMES`). User lines come after
the shipped ones: for a header spelling already known, the user's canonical name wins.

Headers and aliases are compared through :func:`normalise_header`. When several columns of one file
map to the same canonical column, their values are combined in the order the aliases are listed:
``address`` joins the non-empty parts with a space (number then street), any other column takes the
first non-empty value (e.g. ``courrielalternant`` before ``courriel``).
"""

from __future__ import annotations

import csv
import functools
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from aioa_analysis.core import config
from aioa_analysis.core.errors import ConfigError
from aioa_analysis.core.schema import ALL_NAMES, LINEAGE_COLUMNS, SOURCES, C

APPRENTICE_ID = "apprentice_id"
"""Raw column holding a pre-pseudonymised apprentice identifier (chamber/exam profiles)."""

CONTRACT_INDEX = "contract_index"
"""Raw column of the TBA upload: which of the 1..4 contracts of the row the record is ("1".."4")."""

RAW_NAMES: frozenset[str] = frozenset(ALL_NAMES - set(LINEAGE_COLUMNS) - {C.sources}) | {APPRENTICE_ID}
"""Canonical names an alias may map to."""

JOINED_COLUMNS: frozenset[str] = frozenset({C.address})
"""Canonical columns whose several source columns are joined with a space (others: first non-empty)."""

HEADER_PROFILES: tuple[str, ...] = ("deca_extract", "tba_upload", "chamber", "exam_results")
"""Profiles recognised from a header row (CSV or workbook)."""

CANONICAL_NAME_PROFILES: tuple[str, ...] = ("chamber", "exam_results")
"""Profiles that also accept every canonical name (``start_date``, ``cfa_uai``...) as a header."""

_SEPARATORS = re.compile(r"[^0-9a-z]+")


def normalise_header(text: object) -> str:
    """Return the matching key of a header cell.

    NFKD accent stripping, lower-case, typographic apostrophe ``’`` -> ``'``, ``*`` removed, then
    every run of characters other than ``a-z0-9`` (spaces, ``_``, ``.``, ``-``, apostrophes, ``°``...)
    removed, so that ``date_debut_contrat``, ``Date début contrat`` and ``datedebutcontrat`` match.

    Examples
    --------
    >>> normalise_header("SIRET de l’employeur*")
    'siretdelemployeur'
    >>> normalise_header(" Date_de   naissance ") == normalise_header("date-de-naissance")
    True
    >>> normalise_header(None)
    ''
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.lower().replace("\u2019", "'").replace("*", "")
    return _SEPARATORS.sub("", s)


@dataclass(frozen=True)
class AliasMap:
    """Alias lookups per profile.

    Attributes
    ----------
    entries
        ``profile -> list of (normalised alias, canonical, alias as written)``, in priority order.
    files
        The alias files that were loaded, shipped one first.
    """

    entries: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def lookup(self, profile: str) -> dict[str, str]:
        """``normalised header -> canonical`` for ``profile`` (later entries override earlier ones)."""
        out: dict[str, str] = {}
        if profile in CANONICAL_NAME_PROFILES:
            out.update({normalise_header(n): n for n in RAW_NAMES})
        for key, canonical, _alias in self.entries.get(profile, []):
            out[key] = canonical
        return out

    def priority(self, profile: str, key: str) -> int:
        """Rank of the alias ``key`` in ``profile`` (lower = preferred when combining columns)."""
        for i, (k, _canonical, _alias) in enumerate(self.entries.get(profile, [])):
            if k == key:
                return i
        return 10_000

    def example(self, profile: str, canonical: str) -> str:
        """A header spelling of ``canonical`` in ``profile`` (for error messages)."""
        for _key, can, alias in self.entries.get(profile, []):
            if can == canonical:
                return alias
        return canonical

    def known_keys(self) -> set[str]:
        """Every normalised alias of every header-based profile."""
        keys: set[str] = set()
        for profile in HEADER_PROFILES:
            keys.update(self.lookup(profile))
        return keys


def _shipped_path() -> Path:
    return Path(str(resources.files("aioa_analysis.core") / "data" / "aliases.csv"))


def user_alias_files() -> list[Path]:
    """User alias files that exist: ``$AIOA_ALIASES_FILE`` entries, then ``<raw dir>/aliases.csv``."""
    out: list[Path] = []
    env = os.environ.get("AIOA_ALIASES_FILE")
    if env:
        for part in env.split(os.pathsep):
            if part.strip():
                p = Path(part.strip())
                if not p.is_file():
                    raise ConfigError(
                        f"alias file {p} (AIOA_ALIASES_FILE) does not exist",
                        hint="fix the variable or create the file with columns profile,canonical,alias",
                    )
                out.append(p)
    raw = config.raw_dir() / "aliases.csv"
    if raw.is_file():
        out.append(raw)
    return out


def _parse_alias_file(path: Path) -> list[tuple[str, str, str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("cp1252", errors="replace")
    except OSError as exc:
        raise ConfigError(f"alias file {path} cannot be read: {exc.strerror or exc}") from exc
    rows = list(csv.reader(text.splitlines(), delimiter=";" if text.split("\n", 1)[0].count(";") else ","))
    if not rows or [normalise_header(c) for c in rows[0][:3]] != ["profile", "canonical", "alias"]:
        raise ConfigError(
            f"alias file {path} must start with the header profile,canonical,alias",
            hint="one line per header spelling, e.g. chamber,start_date,Début du contrat",
        )
    out: list[tuple[str, str, str]] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise ConfigError(
                f"alias file {path}, line {lineno}: expected 3 fields profile,canonical,alias",
                hint="quote an alias that contains a comma",
            )
        profile, canonical, alias = row[0].strip(), row[1].strip(), row[2]
        if profile != "*" and profile not in SOURCES:
            raise ConfigError(
                f"alias file {path}, line {lineno}: unknown profile {profile!r}",
                hint=f"use one of {', '.join(SOURCES)} or *",
            )
        if canonical not in RAW_NAMES:
            raise ConfigError(
                f"alias file {path}, line {lineno}: unknown canonical column {canonical!r}",
                hint="use a column name of aioa_analysis.core.schema (e.g. start_date, cfa_uai)",
            )
        out.append((profile, canonical, alias))
    return out


@functools.lru_cache(maxsize=16)
def _load(files: tuple[tuple[str, float], ...]) -> AliasMap:
    entries: dict[str, list[tuple[str, str, str]]] = {p: [] for p in SOURCES}
    for name, _mtime in files:
        for profile, canonical, alias in _parse_alias_file(Path(name)):
            targets: Iterable[str] = HEADER_PROFILES if profile == "*" else (profile,)
            for target in targets:
                key = normalise_header(alias)
                if key:
                    entries[target].append((key, canonical, alias))
    return AliasMap(entries=entries, files=tuple(n for n, _ in files))


def load_aliases(extra_files: Sequence[Path] = ()) -> AliasMap:
    """Load the shipped alias map plus the user files (see the module docstring).

    Examples
    --------
    >>> amap = load_aliases()
    >>> amap.lookup("deca_extract")["datedebutcontrat"]
    'start_date'
    >>> amap.lookup("chamber")[normalise_header("Date de début du contrat")]
    'start_date'
    """
    paths = [_shipped_path(), *user_alias_files(), *extra_files]
    key = []
    for p in paths:
        try:
            mtime = p.stat().st_mtime
        except OSError as exc:
            raise ConfigError(f"alias file {p} cannot be read: {exc.strerror or exc}") from exc
        key.append((str(p), mtime))
    return _load(tuple(key))
