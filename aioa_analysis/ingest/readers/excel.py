"""Excel workbooks (.xlsx): opening with clear errors, sheet choice, cells as text.

Cells are turned into text without losing codes: an integral number becomes its integer text
(``44492238900010.0`` -> ``"44492238900010"``, an Excel serial date typed as a number stays
``"45536"``), a date-formatted cell becomes ISO ``YYYY-MM-DD``, a boolean ``true``/``false``.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aioa_analysis.core.errors import InputFileError
from aioa_analysis.ingest.readers.aliases import normalise_header

HEADER_SCAN_ROWS = 30
MAX_PART_BYTES = 1 << 30
"""Largest uncompressed part (a sheet, the shared strings) read from a workbook: 1 GiB."""
MAX_PART_RATIO = 200
"""Largest compression ratio of a part over 16 MiB: XML compresses 5-20 times, a "zip bomb" 1,000."""

README_SHEETS: tuple[str, ...] = (
    "lisezmoi",
    "lisez",
    "readme",
    "notice",
    "instructions",
    "aide",
    "modedemploi",
    "documentation",
    "legende",
    "informations",
    "sommaire",
)
"""Normalised sheet-name prefixes of sheets that hold explanations, not data."""


def is_readme_sheet(title: str) -> bool:
    """True for a sheet such as "Lisez-moi", "Read me", "Notice".

    Examples
    --------
    >>> is_readme_sheet("Lisez-moi"), is_readme_sheet("Read me"), is_readme_sheet("Contrats 2024")
    (True, True, False)
    """
    key = normalise_header(title)
    return any(key.startswith(p) for p in README_SHEETS)


def cell_text(value: Any) -> str | None:
    """The text of a cell value as openpyxl gives it.

    Examples
    --------
    >>> cell_text(44492238900010.0), cell_text(45536), cell_text(12.5)
    ('44492238900010', '45536', '12.5')
    >>> cell_text(dt.datetime(2024, 9, 2, 0, 0)), cell_text(True), cell_text(""), cell_text(None)
    ('2024-09-02', 'true', None, None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def ole_message(data: bytes, name: str) -> InputFileError:
    """The error for an OLE/CFB file: a password-protected workbook or a legacy .xls file."""
    if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data:
        return InputFileError(
            f"{name}: the workbook is password-protected (protégé par mot de passe)",
            hint="open it in Excel and save a copy without a password (enregistrez une copie sans mot de passe)",
        )
    return InputFileError(
        f"{name}: legacy Excel 97-2003 (.xls) or other OLE file, which is not supported",
        hint="open it in Excel or LibreOffice and save it as .xlsx (Classeur Excel) or as CSV",
    )


def open_workbook(path: Path) -> Any:
    """Open ``path`` read-only with cached values, or raise a one-line :class:`InputFileError`."""
    import openpyxl  # local import: openpyxl is slow to import and only needed for workbooks

    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            _check_part_sizes(path, zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise InputFileError(
            f"{path.name}: corrupt or truncated workbook ({type(exc).__name__})",
            hint="re-save it from Excel as .xlsx, or export the data sheet as CSV",
        ) from exc
    if "mimetype" in names and "content.xml" in names:
        raise InputFileError(
            f"{path.name}: OpenDocument spreadsheet (.ods), which is not supported",
            hint="save it as .xlsx or as CSV (séparateur point-virgule)",
        )
    if "xl/workbook.xml" not in names and not any(n.startswith("xl/") for n in names):
        raise InputFileError(
            f"{path.name}: a ZIP archive, not an Excel workbook",
            hint="extract the data file from the archive and give that file",
        )
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files
        raise InputFileError(
            f"{path.name}: corrupt workbook, openpyxl cannot open it ({type(exc).__name__})",
            hint="re-save it from Excel as .xlsx, or export the data sheet as CSV",
        ) from exc


def _check_part_sizes(path: Path, parts: list[zipfile.ZipInfo]) -> None:
    """Refuse, before reading, a workbook whose parts would take far more memory than its size says.

    >>> ok = zipfile.ZipInfo("xl/sharedStrings.xml"); ok.file_size, ok.compress_size = 40 << 20, 4 << 20
    >>> _check_part_sizes(Path("a.xlsx"), [ok])
    >>> bomb = zipfile.ZipInfo("xl/sharedStrings.xml"); bomb.file_size, bomb.compress_size = 200 << 20, 200 << 10
    >>> _check_part_sizes(Path("a.xlsx"), [bomb])
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.InputFileError: a.xlsx: the part xl/sharedStrings.xml would take 200 MiB for 200 KiB \
in the file (more than 200 times its size): refused — re-save the workbook from Excel, or export the data sheet as CSV
    """
    for part in parts:
        big = part.file_size > 16 << 20
        if part.file_size > MAX_PART_BYTES or (
            big and part.file_size > MAX_PART_RATIO * max(part.compress_size, 1)
        ):
            raise InputFileError(
                f"{path.name}: the part {part.filename} would take {part.file_size >> 20} MiB for "
                f"{max(part.compress_size >> 10, 1)} KiB in the file (more than "
                + (
                    f"{MAX_PART_BYTES >> 30} GiB"
                    if part.file_size > MAX_PART_BYTES
                    else f"{MAX_PART_RATIO} times its size"
                )
                + "): refused",
                hint="re-save the workbook from Excel, or export the data sheet as CSV",
            )


def iter_sheet_rows(ws: Any, max_row: int | None = None) -> Iterator[tuple[int, list[str | None]]]:
    """``(sheet row number, cells as text)`` for each row of ``ws`` (1-based row numbers)."""
    for rownum, row in enumerate(ws.iter_rows(min_row=1, max_row=max_row, values_only=True), start=1):
        yield rownum, [cell_text(v) for v in row]
