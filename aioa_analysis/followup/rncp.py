"""The blocs de compétences of a diploma, from France Compétences' RNCP open-data export.

France Compétences publishes the Répertoire national des certifications professionnelles as open
data (on data.gouv.fr, data set « Répertoire national des certifications professionnelles et
répertoire spécifique »): a zip of CSV files, one of which lists the blocks of every fiche
(``..._Blocs_De_Compétences_....csv``, columns ``Numero_Fiche``, ``Bloc_Competences_Code``,
``Bloc_Competences_Libelle``). The user drops that CSV, or the whole zip, in
``data/raw/referentiels/`` (or ``$AIOA_REFERENTIAL_DIR``); :func:`load_blocks` finds and reads it.
Nothing is shipped: the export is large and changes every month.

The export has no diploma code (CFD) column: the RNCP code of a diploma comes from the contract
(``rncp_code``), else from the other contracts of the clean table with the same diploma code
(:func:`rncp_by_diploma`).
"""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis.core import config, contacts
from aioa_analysis.core.errors import ConfigError
from aioa_analysis.core.schema import C

COLUMNS: Final = ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle")
"""The columns read from the export's blocks file."""
WHERE: Final = (
    "export open data du RNCP de France Compétences (data.gouv.fr, jeu de données « Répertoire national "
    "des certifications professionnelles et répertoire spécifique ») : déposer le fichier CSV "
    "« Blocs_De_Compétences » (ou l'archive zip entière) dans data/raw/referentiels/"
)
"""Where to get the blocks (printed on a fiche without them, and in the log)."""


@dataclass(frozen=True)
class Blocks:
    """The blocks read: ``table`` (``rncp``, ``code``, ``label``) and the files they came from."""

    table: pd.DataFrame
    files: tuple[str, ...]


def _plain(name: str) -> str:
    """``"export_Blocs_De_Compétences_2025.csv"`` -> ``"export_blocs_de_competences_2025.csv"``."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def is_blocks_name(name: str) -> bool:
    """Whether a file name is the export's blocks file (accents and case ignored).

    >>> is_blocks_name("export-fiches-csv-2025-11-03/export_fiches_CSV_Blocs_De_Compétences_2025_11_03.csv")
    True
    >>> is_blocks_name("export_fiches_CSV_Standard_2025_11_03.csv")
    False
    """
    plain = _plain(Path(name).name)
    return "blocs_de_competences" in plain and plain.endswith(".csv")


def folders() -> list[Path]:
    """Folders searched for the export: ``$AIOA_REFERENTIAL_DIR``, then ``data/raw/referentiels/``."""
    override = os.environ.get("AIOA_REFERENTIAL_DIR")
    return [*([Path(override)] if override else []), config.raw_dir() / contacts.USER_FOLDER]


def find_files(where: list[Path] | None = None) -> list[Path]:
    """The blocks CSV files and the zip archives holding one, in the first folder that has any."""
    for folder in folders() if where is None else where:
        if not folder.is_dir():
            continue
        found = sorted(p for p in folder.iterdir() if p.is_file() and is_blocks_name(p.name))
        for z in sorted(folder.glob("*.zip")):
            try:
                with zipfile.ZipFile(z) as archive:
                    if any(is_blocks_name(n) for n in archive.namelist()):
                        found.append(z)
            except (OSError, zipfile.BadZipFile) as exc:
                raise ConfigError(f"archive RNCP {z} illisible : {exc}", hint=WHERE) from exc
        if found:
            return found
    return []


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(f"export RNCP {name} : encodage illisible", hint="enregistrez-le en CSV UTF-8")


def read_csv_text(text: str, name: str) -> pd.DataFrame:
    """The three columns of one blocks CSV (separator ``;`` or ``,``), as ``rncp``, ``code``, ``label``.

    >>> read_csv_text("Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\\n"
    ...               "RNCP1;RNCP1BC01;Accueillir\\n", "x.csv").values.tolist()
    [['RNCP1', 'RNCP1BC01', 'Accueillir']]
    """
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") >= first.count(",") else ","
    try:
        t = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ConfigError(f"export RNCP {name} illisible : {exc}", hint=WHERE) from exc
    t.columns = [str(c).strip() for c in t.columns]
    missing = [c for c in COLUMNS if c not in t.columns]
    if missing:
        raise ConfigError(f"export RNCP {name} sans colonnes {', '.join(missing)}", hint=WHERE)
    out = t[list(COLUMNS)].set_axis(["rncp", "code", "label"], axis=1)
    return out.apply(lambda s: s.str.strip())


def _texts(path: Path) -> list[tuple[str, str]]:
    if path.suffix.lower() != ".zip":
        return [(path.name, _decode(path.read_bytes(), path.name))]
    with zipfile.ZipFile(path) as archive:
        return [(n, _decode(archive.read(n), n)) for n in archive.namelist() if is_blocks_name(n)]


def load_blocks(where: list[Path] | None = None) -> Blocks | None:
    """The blocks of every RNCP fiche in the export dropped by the user; None when there is none.

    An unreadable file or one without the three columns is a :class:`ConfigError` (exit 2).
    """
    paths = find_files(where)
    if not paths:
        return None
    frames = []
    try:
        for path in paths:
            frames += [read_csv_text(text, name) for name, text in _texts(path)]
    except OSError as exc:
        raise ConfigError(f"export RNCP illisible : {exc.strerror or exc}", hint=WHERE) from exc
    table = pd.concat(frames, ignore_index=True)
    table = table.assign(rncp=normalise_rncp(table["rncp"])).loc[lambda t: t["rncp"].notna()]
    table = table.drop_duplicates(["rncp", "code"], keep="last").reset_index(drop=True)
    return Blocks(table=table, files=tuple(p.name for p in paths))


def normalise_rncp(s: pd.Series) -> pd.Series:
    """``RNCP`` followed by the digits of the fiche number; NA when there are none.

    >>> normalise_rncp(pd.Series(["RNCP32104", " rncp 521", "37862", "", None])).tolist()
    ['RNCP32104', 'RNCP521', 'RNCP37862', <NA>, <NA>]
    """
    digits = s.astype("string").str.upper().str.extract(r"^\s*(?:RNCP)?\s*(\d+)\s*$", expand=False)
    return ("RNCP" + digits).astype("string")


def rncp_by_diploma(contracts: pd.DataFrame) -> pd.Series:
    """Diploma code -> its most frequent RNCP code among the contracts that carry both.

    >>> c = pd.DataFrame({"diploma_code": ["500", "500", "500", "400"],
    ...                   "rncp_code": ["RNCP1", "RNCP1", "RNCP2", None]})
    >>> rncp_by_diploma(c).to_dict()
    {'500': 'RNCP1'}
    """
    if C.rncp_code not in contracts or C.diploma_code not in contracts:
        return pd.Series(dtype="string")
    both = pd.DataFrame(
        {"cfd": contracts[C.diploma_code].astype("string"), "rncp": normalise_rncp(contracts[C.rncp_code])}
    ).dropna()
    if both.empty:
        return pd.Series(dtype="string")
    counts = both.value_counts(["cfd", "rncp"]).reset_index()
    top = counts.sort_values(["cfd", "count", "rncp"], ascending=[True, False, True], kind="stable")
    return top.drop_duplicates("cfd").set_index("cfd")["rncp"].rename(None).astype("string")


def blocks_of(blocks: Blocks | None, rncp: object) -> pd.DataFrame | None:
    """The blocks (``code``, ``label``) of one RNCP fiche, in code order; None without the export."""
    if blocks is None:
        return None
    key = normalise_rncp(pd.Series([rncp])).iloc[0]
    if pd.isna(key):
        return blocks.table.iloc[0:0][["code", "label"]]
    rows = blocks.table.loc[blocks.table["rncp"] == key, ["code", "label"]]
    return rows.sort_values("code", kind="stable").reset_index(drop=True)
