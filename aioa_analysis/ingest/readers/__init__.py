"""Read the input files into raw canonical frames (structure only, no value parsing).

Each supported source is a *profile* (:data:`aioa_analysis.core.schema.SOURCES`):

==============  ==========================================================================
profile         what it reads
==============  ==========================================================================
deca_extract    DECA flat CSV extract (``,``, lowercase glued headers ``datedebutcontrat``)
deca_api        DECA API JSON response (``contrats`` array of nested camelCase objects)
tba_upload      Tableau de bord upload workbook (wide: contracts 1..4 on one row, melted)
sifa            SIFA file (47 fixed columns, no header, ``;`` or ``|``)
chamber         consular-chamber / hand-made table (French labels or canonical names)
exam_results    exam results (identity or id, diploma code, session, result)
==============  ==========================================================================

The profile is detected from the content (xlsx / JSON / text, then the header row) and can be
forced with ``source=``. Header cells are matched through the alias map
(:mod:`aioa_analysis.ingest.readers.aliases`); unmapped columns are left out of the frame and listed in
``details["unmapped_columns"]``.

The **raw canonical frame** has the lineage columns ``source``, ``source_file``, ``source_row``
(``Int64``: CSV physical line counting the header line, sheet row for workbooks, array position + 1
for JSON) and canonical columns holding the text exactly as read, dtype ``string``. Workbook cells
are turned into text without losing codes (see :func:`aioa_analysis.ingest.readers.excel.cell_text`);
code columns written by a spreadsheet as numbers (``41000.0``, ``4,4492238900010E+13``) are turned
back into their integer text when that is exact. Records that cannot be read structurally (a line
with the wrong number of fields, a TBA row with no contract) go to ``rejected``, so that
``rows_read == len(frame) + len(rejected)`` always holds.

Every problem a user can cause raises an :class:`~aioa_analysis.core.errors.AioaError` with a one-line
message naming the file: :class:`~aioa_analysis.core.errors.InputFileError` (missing, empty, binary,
corrupt or password-protected, legacy .xls) or :class:`~aioa_analysis.core.errors.UnknownFormatError`
(the profiles tried and, for the closest one, the required columns missing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.core.errors import AioaError, InputFileError, ParameterError, UnknownFormatError
from aioa_analysis.core.schema import SOURCES
from aioa_analysis.ingest.readers.aliases import (
    APPRENTICE_ID,
    CONTRACT_INDEX,
    HEADER_PROFILES,
    AliasMap,
    load_aliases,
    normalise_header,
)
from aioa_analysis.ingest.readers.deca import (
    DuplicateKeyError,
    apply_extract_variant,
    extract_records,
    json_constant,
    map_records,
    unique_keys,
)
from aioa_analysis.ingest.readers.excel import (
    HEADER_SCAN_ROWS,
    is_readme_sheet,
    iter_sheet_rows,
    ole_message,
    open_workbook,
)
from aioa_analysis.ingest.readers.profiles import (
    REQUIREMENTS,
    HeaderMatch,
    ProfileScore,
    match_header,
    missing_columns,
    missing_groups,
    score_profiles,
)
from aioa_analysis.ingest.readers.sifa import N_FIELDS, map_sifa, read_sifa_lines, sifa_separator
from aioa_analysis.ingest.readers.tabular import (
    STRING,
    canonical_frame,
    combine_columns,
    rejected_frame,
)
from aioa_analysis.ingest.readers.tba import melt_contracts
from aioa_analysis.ingest.readers.text import (
    HEAD_BYTES,
    Decoded,
    RawTable,
    decode_bytes,
    find_header,
    head_text,
    read_delimited,
    sniff_kind,
    split_records,
)

__all__ = [
    "APPRENTICE_ID",
    "CONTRACT_INDEX",
    "REQUIREMENTS",
    "ReadResult",
    "UnexpectedReadError",
    "detect_profile",
    "discover_inputs",
    "read_file",
]

IGNORED_NAMES: tuple[str, ...] = ("aliases.csv", "contacts_cfa.csv", "followup_lisez_moi.csv")
"""File names in an input folder that are configuration, not inputs (the user alias file, the CFA
contacts the follow-up lists and leaflets print); sub-folders (``referentiels/``) are never read."""

_ML_SHEETS = {"atraiter", "dejatraites", "injoignable", "arecontacter"}
_ML_HEADER_KEYS = {"datetransmissiondonnees", "collaborationcfa", "disponiblewhatsapp"}
_EFFECTIFS_KEYS = {"indicateur", "anneedelaformation"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadResult:
    """One input file read into a raw canonical frame.

    Attributes
    ----------
    path
        The file read.
    profile
        One of :data:`aioa_analysis.core.schema.SOURCES`.
    frame
        Raw canonical frame, dtype ``string`` (``source_row``: ``Int64``), one row per record
        (contract, or exam line).
    rejected
        :data:`aioa_analysis.core.schema.REJECTED_COLUMNS`: records that could not be read structurally.
    lines_read
        Physical data lines / sheet rows / JSON objects read (header, title and blank lines excluded).
    rows_read
        Records: ``len(frame) + len(rejected)`` (a TBA row melts into 1..4 records).
    details
        ``encoding``, ``separator``, ``sheet``, ``header_row``, ``variant``, ``unmapped_columns``...
    """

    path: Path
    profile: str
    frame: pd.DataFrame
    rejected: pd.DataFrame
    lines_read: int
    rows_read: int
    details: dict[str, Any] = field(default_factory=dict)


class UnexpectedReadError(InputFileError):
    """A file triggered an error the readers did not anticipate (reported as one line, not a traceback)."""


# --------------------------------------------------------------------------------------------------
# public API


def discover_inputs(folder: Path) -> list[Path]:
    """Input files of ``folder``: top-level regular files, sorted by name.

    Ignored: names starting with ``_`` or ``.`` (the sample's ``_ground_truth.json``), Excel lock
    files ``~$*``, ``README*``, ``*.md`` and the configuration files :data:`IGNORED_NAMES`.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for n in ("b.csv", "a.xlsx", "_ground_truth.json", ".hidden", "README.txt", "notes.md", "aliases.csv",
    ...           "contacts_cfa.csv"):
    ...     _ = (d / n).write_text("x")
    >>> (d / "sub").mkdir()
    >>> [p.name for p in discover_inputs(d)]
    ['a.xlsx', 'b.csv']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(
            f"input folder {folder} does not exist or is not a folder",
            hint="put the input files in data/raw/ or name the files on the command line",
        )
    out = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        name = p.name
        if name.startswith(("_", ".", "~$")) or name.upper().startswith("README"):
            continue
        if name.lower().endswith(".md") or name.lower() in IGNORED_NAMES:
            continue
        if p.is_file():
            out.append(p)
    return out


def detect_profile(path: Path) -> str:
    """The profile of ``path`` (one of :data:`~aioa_analysis.core.schema.SOURCES`), from its content.

    Reads only the beginning of a text file (the header), the first rows of each sheet of a workbook,
    or the whole JSON document. Raises :class:`~aioa_analysis.core.errors.UnknownFormatError` when no
    profile fits, :class:`~aioa_analysis.core.errors.InputFileError` when the file cannot be read.
    """
    path = Path(path)
    try:
        return _dispatch(path, None, detect_only=True)  # type: ignore[return-value]
    except AioaError:
        raise
    except Exception as exc:
        raise _unexpected(path, exc) from exc


def read_file(path: Path, *, source: str | None = None) -> ReadResult:
    """Read ``path`` into a :class:`ReadResult` (raw canonical frame + rejected records).

    Parameters
    ----------
    path
        The input file (CSV/TXT, XLSX or JSON; the kind is taken from the content, not the name).
    source
        Force the profile (one of :data:`~aioa_analysis.core.schema.SOURCES`) instead of detecting it.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = p.write_bytes("Extraction;;\\nN° de contrat;Date de début du contrat;Code postal\\n"
    ...                   "001;02/09/2024;01000\\n".encode("cp1252"))
    >>> r = read_file(p)
    >>> r.profile, r.frame[["contract_id", "start_date", "residence_postcode"]].iloc[0].tolist()
    ('chamber', ['001', '02/09/2024', '01000'])
    >>> r.frame["source_row"].tolist(), r.rows_read, r.details["header_row"]
    ([3], 1, 2)
    """
    path = Path(path)
    if source is not None and source not in SOURCES:
        raise ParameterError(f"unknown source {source!r}", hint=f"use one of {', '.join(SOURCES)}")
    try:
        result = _dispatch(path, source, detect_only=False)
    except AioaError:
        raise
    except MemoryError as exc:
        raise InputFileError(
            f"{path.name}: not enough memory to read this file", hint="split the file or use a larger machine"
        ) from exc
    except Exception as exc:
        raise _unexpected(path, exc) from exc
    assert isinstance(result, ReadResult)
    return result


# --------------------------------------------------------------------------------------------------
# dispatch


def _unexpected(path: Path, exc: BaseException) -> UnexpectedReadError:
    return UnexpectedReadError(
        f"{path.name}: could not be read ({type(exc).__name__}: {str(exc)[:200]})",
        hint="check that it is a CSV, XLSX or JSON export of a supported source; "
        "if it is, report this message to the maintainers",
    )


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    if not path.exists():
        raise InputFileError(f"{path}: file not found", hint="check the path (run `ls` on the folder)")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a file", hint="name the files inside it")
    try:
        with path.open("rb") as fh:
            data = fh.read() if limit is None else fh.read(limit)
    except OSError as exc:
        raise InputFileError(
            f"{path.name}: cannot be read ({exc.strerror or exc})", hint="check the file permissions"
        ) from exc
    if not data:
        raise InputFileError(f"{path.name}: the file is empty (0 bytes)", hint="re-export the data")
    return data


def _dispatch(path: Path, source: str | None, *, detect_only: bool) -> ReadResult | str:
    head = _read_bytes(path, HEAD_BYTES)
    kind = sniff_kind(head)
    if kind == "zip":
        return _read_workbook(path, source, detect_only=detect_only)
    if kind == "ole":
        raise ole_message(_read_bytes(path), path.name)
    if kind.startswith("binary:"):
        raise InputFileError(
            f"{path.name}: {kind.split(':', 1)[1]}, not a CSV, XLSX or JSON data file",
            hint="give the CSV/XLSX/JSON export itself",
        )
    if kind == "json" and source not in (None, "deca_api"):
        raise UnknownFormatError(
            f"{path.name}: JSON file, but source {source!r} expects a table",
            hint="use --source deca_api for a DECA API response, or give the CSV/XLSX export",
        )
    data = head if (detect_only and kind != "json") or len(head) < HEAD_BYTES else _read_bytes(path)
    dec = decode_bytes(data)
    if dec.note and not detect_only:
        log.warning("%s : %s", path.name, dec.note)
    if dec.is_blank():
        raise InputFileError(f"{path.name}: the file holds only blank lines", hint="re-export the data")
    if kind == "json":
        return _read_json(path, dec, detect_only=detect_only)
    if source == "deca_api":
        raise UnknownFormatError(
            f"{path.name}: not a JSON document, but source 'deca_api' expects the API's JSON response",
            hint="drop --source to detect the format, or give the JSON file",
        )
    return _read_text(path, dec, source, detect_only=detect_only)


# --------------------------------------------------------------------------------------------------
# errors


def _tried(profiles: tuple[str, ...] | None = None) -> str:
    return ", ".join(profiles or SOURCES)


def _missing_text(score: ProfileScore, amap: AliasMap) -> str:
    def one(c: str) -> str:
        ex = amap.example(score.profile, c)
        return f"{c} (e.g. '{ex}')" if ex != c else c

    groups = []
    for alts in missing_groups(score.present, score.profile):
        texts = [" + ".join(one(c) for c in alt) for alt in alts]
        groups.append(texts[0] if len(texts) == 1 else "one of " + " or ".join(texts))
    return ", ".join(groups)


def _unknown_format(
    path: Path, score: ProfileScore | None, amap: AliasMap, *, what: str, note: str = "", tried: str = ""
) -> UnknownFormatError:
    parts = [f"{path.name}: {what}"]
    if note:
        parts.append(note)
    parts.append(f"profiles tried: {tried or _tried()}")
    if score is not None and score.missing:
        parts.append(f"closest profile {score.profile} lacks required columns {_missing_text(score, amap)}")
    return UnknownFormatError(
        "; ".join(parts),
        hint="give a file with these columns, force the profile with --source, or add your own header "
        "names to an aliases.csv (columns profile,canonical,alias) in the raw-data folder",
    )


def _refuse_ml(path: Path) -> UnknownFormatError:
    return UnknownFormatError(
        f"{path.name}: a Mission Locale list of young people in rupture (Tableau de bord "
        "'Rupturants'), not a contract file: it has no contract number, CFA or diploma code",
        hint="use the DECA extract or the Tableau de bord upload workbook for the contracts",
    )


def _special_note(keys: set[str]) -> str:
    if keys >= _EFFECTIFS_KEYS:
        return (
            "this looks like a Tableau de bord 'effectifs' export (one row per learner, training "
            "years, no contract dates), which cannot give contract ruptures"
        )
    return ""


# --------------------------------------------------------------------------------------------------
# text files (CSV, TXT, SIFA)


def _known_keys(amap: AliasMap, profiles: tuple[str, ...]) -> set[str]:
    keys: set[str] = set()
    for p in profiles:
        keys.update(amap.lookup(p))
    return keys


def _read_text(path: Path, dec: Decoded, source: str | None, *, detect_only: bool) -> ReadResult | str:
    amap = load_aliases()
    head = head_text(dec.data, "utf-8" if dec.encoding == "utf-16" else dec.encoding)
    head_lines = head.split("\n")[:60]
    if source == "sifa":
        sep = sifa_separator(head_lines) or ("|" if head.count("|") > head.count(";") else ";")
        return "sifa" if detect_only else _read_sifa(path, dec, sep, amap)
    profiles = (source,) if source else HEADER_PROFILES
    guess = find_header(head, _known_keys(amap, profiles), normalise_header)
    if guess is not None:
        keys = {normalise_header(c) for c in guess.cells}
        if source is None and len(keys & _ML_HEADER_KEYS) >= 1:
            raise _refuse_ml(path)
        scores = score_profiles(guess.cells, amap, profiles)
        if scores[0].complete:
            profile = scores[0].profile
            if detect_only:
                return profile
            raw = read_delimited(dec, guess, path)
            return _finish_table(path, raw, profile, amap)
    sifa_sep = sifa_separator(head_lines) if source is None else None
    if sifa_sep is not None:
        return "sifa" if detect_only else _read_sifa(path, dec, sifa_sep, amap)
    if guess is not None:
        keys = {normalise_header(c) for c in guess.cells}
        raise _unknown_format(
            path,
            score_profiles(guess.cells, amap, profiles)[0],
            amap,
            what=f"format not recognised (header found on line {guess.line})",
            note=_special_note(keys),
            tried=_tried((*profiles, "sifa") if source is None else profiles),
        )
    first = next(
        ((ln, cells) for ln, _e, cells in _first_records(head) if any(c.strip() for c in cells)), None
    )
    score = score_profiles(first[1], amap, profiles)[0] if first else None
    raise _unknown_format(
        path,
        score,
        amap,
        what=f"no header row recognised in the first 30 lines (read as {dec.encoding}) and not a SIFA "
        f"file ({N_FIELDS} fields separated by ; or |)",
        tried=_tried((*profiles, "sifa") if source is None else profiles),
    )


def _first_records(head: str) -> list[tuple[int, int, list[str]]]:
    best: list[tuple[int, int, list[str]]] = []
    for sep in (";", ",", "|", "\t"):
        recs = split_records(head, sep, limit=5)
        if recs and (not best or max(len(r[2]) for r in recs) > max(len(r[2]) for r in best)):
            best = recs
    return best


def _read_sifa(path: Path, dec: Decoded, sep: str, amap: AliasMap) -> ReadResult:
    raw = read_sifa_lines(dec.text, sep)
    raw.details.update(dec.details())
    match, columns = map_sifa(raw, amap)
    return _result(path, "sifa", raw, match, columns, raw.source_row, [])


# --------------------------------------------------------------------------------------------------
# mapping a table


def _finish_table(path: Path, raw: RawTable, profile: str, amap: AliasMap) -> ReadResult:
    match = match_header(raw.header, profile, amap)
    extra_rejected: list[dict[str, object]] = []
    if profile == "deca_extract":
        match, variant = apply_extract_variant(raw.header, match)
        raw.details["variant"] = variant
    if profile == "tba_upload":
        columns, source_row, extra_rejected = melt_contracts(raw, match, amap)
    else:
        columns = {c: combine_columns(raw.frame, p, c) for c, p in match.columns.items()}
        source_row = raw.source_row
    return _result(path, profile, raw, match, columns, source_row, extra_rejected)


def _result(
    path: Path,
    profile: str,
    raw: RawTable,
    match: HeaderMatch,
    columns: dict[str, pd.Series],
    source_row: np.ndarray,
    extra_rejected: list[dict[str, object]],
) -> ReadResult:
    frame = canonical_frame(columns, profile=profile, path=path, source_row=source_row)
    rejected = rejected_frame(raw.rejected + extra_rejected, path)
    if len(rejected) > 1:
        rejected = rejected.sort_values("source_row", kind="stable").reset_index(drop=True)
    details = {**raw.details, "unmapped_columns": list(match.unmapped)}
    return ReadResult(
        path=path,
        profile=profile,
        frame=frame,
        rejected=rejected,
        lines_read=raw.lines_read,
        rows_read=len(frame) + len(rejected),
        details=details,
    )


# --------------------------------------------------------------------------------------------------
# JSON (DECA API)


def _read_json(path: Path, dec: Decoded, *, detect_only: bool) -> ReadResult | str:
    import json

    try:
        # NaN / Infinity -> missing; a key named twice is refused (the last one would win silently)
        doc = json.loads(dec.text, parse_constant=json_constant, object_pairs_hook=unique_keys)
    except DuplicateKeyError as exc:
        raise InputFileError(
            f"{path.name}: the JSON key {str(exc)!r} appears twice in one object (only the last would be read)",
            hint="download the API response again, or fix the file so that each key appears once",
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path.name}: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})",
            hint="the file may be truncated: download the API response again",
        ) from exc
    except RecursionError as exc:
        raise InputFileError(
            f"{path.name}: JSON nested too deeply", hint="give the DECA API response"
        ) from exc
    recs = extract_records(doc)
    if recs is None:
        raise UnknownFormatError(
            f"{path.name}: JSON without a 'contrats' array of contract objects; profiles tried: deca_api",
            hint='give the DECA API response ({"contrats": [...]}) or a CSV/XLSX export',
        )
    amap = load_aliases()
    match, columns = map_records(recs, amap)
    if recs.records:
        present = frozenset(match.present)
        score = ProfileScore(
            "deca_api", match.n_matched, tuple(missing_columns(present, "deca_api")), present
        )
        if not score.complete:
            raise _unknown_format(
                path, score, amap, what="JSON contracts without the DECA API fields", tried="deca_api"
            )
    if detect_only:
        return "deca_api"
    raw = RawTable(
        header=[],
        frame=pd.DataFrame(),
        source_row=np.asarray(recs.positions, dtype=np.int64),
        lines_read=recs.lines_read,
        rejected=recs.rejected,
        details={**dec.details(), "container": recs.container},
    )
    return _result(path, "deca_api", raw, match, columns, raw.source_row, [])


# --------------------------------------------------------------------------------------------------
# workbooks


def _sheet_header(rows: list[tuple[int, list[str | None]]], known: set[str]) -> tuple[int, list[str]] | None:
    best: tuple[int, int, list[str]] | None = None
    for rownum, cells in rows:
        texts = [c.strip() if c else "" for c in cells]
        score = len({normalise_header(c) for c in texts} & known)
        if score >= 2 and (best is None or score > best[0]):
            while texts and not texts[-1]:
                texts.pop()
            best = (score, rownum, texts)
    return (best[1], best[2]) if best else None


def _read_workbook(path: Path, source: str | None, *, detect_only: bool) -> ReadResult | str:
    if source in ("deca_api", "sifa"):
        raise UnknownFormatError(
            f"{path.name}: a workbook, but source {source!r} expects a "
            + ("JSON document" if source == "deca_api" else "text file"),
            hint="drop --source to detect the format",
        )
    amap = load_aliases()
    profiles = (source,) if source else HEADER_PROFILES
    known = _known_keys(amap, profiles)
    wb = open_workbook(path)
    try:
        titles = [ws.title for ws in wb.worksheets]
        if source is None and len({normalise_header(t) for t in titles} & _ML_SHEETS) >= 2:
            raise _refuse_ml(path)
        closest: tuple[ProfileScore, str, int, set[str]] | None = None
        # visible sheets first: a stale hidden sheet placed first must not be read instead
        hidden = [ws.title for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") != "visible"]
        for ws in sorted(wb.worksheets, key=lambda w: w.title in hidden):
            if is_readme_sheet(ws.title):
                continue
            found = _sheet_header(list(iter_sheet_rows(ws, HEADER_SCAN_ROWS)), known)
            if found is None:
                continue
            header_row, header = found
            keys = {normalise_header(c) for c in header}
            if source is None and keys & _ML_HEADER_KEYS:
                raise _refuse_ml(path)
            score = score_profiles(header, amap, profiles)[0]
            if not score.complete:
                if closest is None or (len(score.missing), -score.n_matched) < (
                    len(closest[0].missing),
                    -closest[0].n_matched,
                ):
                    closest = (score, ws.title, header_row, keys)
                continue
            if detect_only:
                return score.profile
            raw = _sheet_table(ws, header_row, header)
            raw.details.update(
                {
                    "sheet": ws.title,
                    "sheets": titles,
                    "hidden_sheets": hidden,
                    "header_row": header_row,
                    "skipped_sheets": [t for t in titles if t != ws.title],
                }
            )
            if ws.title in hidden:
                log.warning(
                    "%s : feuille masquée « %s » lue (aucune feuille visible reconnue)", path.name, ws.title
                )
            elif len(titles) > 1:
                log.info("%s : feuille « %s » lue", path.name, ws.title)
            return _finish_table(path, raw, score.profile, amap)
        if closest is None:
            raise _unknown_format(
                path,
                None,
                amap,
                what=f"no sheet with a recognised header row (sheets: {', '.join(titles)})",
                tried=_tried(profiles),
            )
        score, title, header_row, keys = closest
        raise _unknown_format(
            path,
            score,
            amap,
            what=f"format not recognised (sheet '{title}', header on row {header_row})",
            note=_special_note(keys),
            tried=_tried(profiles),
        )
    except AioaError as exc:
        if path.name in exc.message:
            raise
        raise type(exc)(f"{path.name}: {exc.message}", hint=exc.hint) from exc
    except Exception as exc:  # openpyxl may fail lazily while parsing a damaged sheet
        raise InputFileError(
            f"{path.name}: corrupt workbook, a sheet cannot be read ({type(exc).__name__})",
            hint="re-save it from Excel as .xlsx, or export the data sheet as CSV",
        ) from exc
    finally:
        wb.close()


def _sheet_table(ws: Any, header_row: int, header: list[str]) -> RawTable:
    n = len(header)
    records: list[list[str | None]] = []
    rows: list[int] = []
    for rownum, cells in iter_sheet_rows(ws):
        if rownum <= header_row:
            continue
        if not any(c is not None and c.strip() for c in cells):
            continue
        cells = cells[:n] + [None] * (n - len(cells))
        records.append(cells)
        rows.append(rownum)
    frame = pd.DataFrame(
        {i: pd.Series([r[i] for r in records], dtype=STRING) for i in range(n)},
        index=pd.RangeIndex(len(records)),
    )
    return RawTable(header, frame, np.asarray(rows, dtype=np.int64), len(records), [], {})
