"""Text files: kind sniffing, encoding, separator and header-row detection, fast CSV reading.

Encodings are tried in the order UTF-8 (with or without BOM) -> cp1252 -> latin-1 (UTF-16 with a
BOM is accepted too: Excel's "Texte Unicode" export). Separators ``;`` ``,`` ``|`` and tab. The
header row is the line, among the first :data:`HEADER_SCAN_LINES`, whose cells match the most known
header aliases (title rows above it are skipped).

Large files go through pyarrow's CSV reader (every column as a string); a file pyarrow cannot read
cleanly (a line with the wrong number of fields, a quoted line break, stray quotes) falls back to
Python's C-implemented :mod:`csv` reader, which keeps exact line numbers and rejects bad lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from aioa_analysis.core.errors import InputFileError

SEPARATORS: tuple[str, ...] = (";", ",", "|", "\t")
HEADER_SCAN_LINES = 30
HEAD_BYTES = 256 * 1024
STRING = pd.StringDtype()

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_BINARY_MAGICS = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PAR1": "a Parquet file",
    b"7z\xbc\xaf": "a 7-zip archive",
    b"Rar!": "a RAR archive",
}


def sniff_kind(head: bytes) -> str:
    """Classify a file from its first bytes.

    Returns one of ``"zip"`` (xlsx or another ZIP container), ``"ole"`` (legacy .xls or an encrypted
    workbook), ``"json"``, ``"text"``, or ``"binary:<what>"``.

    Examples
    --------
    >>> sniff_kind(b"PK\\x03\\x04...")
    'zip'
    >>> sniff_kind(b'\\xef\\xbb\\xbf  {"contrats": []}')
    'json'
    >>> sniff_kind(b"nocontrat,datedebutcontrat\\n")
    'text'
    >>> sniff_kind(b"\\x00\\x01\\x02binary")
    'binary:binary data'
    """
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    for magic, what in _BINARY_MAGICS.items():
        if head.startswith(magic):
            return f"binary:{what}"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            stripped = head.decode("utf-16", errors="ignore").lstrip()
        except UnicodeError:  # pragma: no cover - errors="ignore"
            stripped = ""
        return "json" if stripped[:1] in ("{", "[") else "text"
    sample = head[:65536]
    if b"\x00" in sample:
        return "binary:binary data"
    controls = sum(sample.count(bytes([b])) for b in (*range(0, 9), 11, 12, *range(14, 32), 127))
    if sample and controls / len(sample) > 0.01:
        return "binary:binary data"
    stripped_b = sample.removeprefix(codecs.BOM_UTF8).lstrip()
    if stripped_b[:1] in (b"{", b"["):
        return "json"
    return "text"


class Decoded:
    """A decoded text file: ``data`` are the bytes to parse (possibly trimmed), ``text`` their text.

    ``text`` is decoded on first use only: the CSV path parses ``data`` itself, so a large UTF-8 file
    is never turned into one Python string.
    """

    __slots__ = ("_text", "data", "encoding", "note")

    def __init__(self, encoding: str, data: bytes, text: str | None = None, note: str = "") -> None:
        self.encoding = encoding  # python codec name: utf-8, utf-8-sig, cp1252, latin-1, utf-16
        self.data = data
        self.note = note
        self._text = text

    @property
    def codec(self) -> str:
        """The codec of ``data`` (UTF-16 input is transcoded to UTF-8 bytes)."""
        return "utf-8" if self.encoding == "utf-16" else self.encoding

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode(self.codec)
        return self._text

    def details(self) -> dict[str, str]:
        """What every reader reports of the decoding: ``encoding``, and ``encoding_note`` when
        something was dropped (e.g. an incomplete last character)."""
        return {"encoding": self.encoding, **({"encoding_note": self.note} if self.note else {})}

    def is_blank(self) -> bool:
        """Whether the text holds only whitespace (a non-blank start answers without decoding it all)."""
        if self._text is None and self.data[:HEAD_BYTES].decode(self.codec, errors="ignore").strip():
            return False
        return not self.text.strip()

    def __repr__(self) -> str:
        return f"Decoded({self.encoding!r}, <{len(self.data)} bytes>, note={self.note!r})"


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (what ``data.decode("utf-8")`` accepts), checked by Arrow
    without building a Python string.

    >>> is_utf8("Prénom".encode("utf-8")), is_utf8("Prénom".encode("cp1252")), is_utf8(b"\\xed\\xa0\\x80")
    (True, False, False)
    """
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def decode_bytes(data: bytes) -> Decoded:
    """Decode ``data`` trying UTF-8 (with or without BOM), then cp1252, then latin-1.

    A UTF-8 file, with or without BOM, cut in the middle of its last character (a truncated download,
    or the head read for detection) stays UTF-8: the incomplete character is dropped and noted.

    Examples
    --------
    >>> decode_bytes("Prénom;Nom".encode("utf-8")).encoding
    'utf-8'
    >>> decode_bytes("\\ufeffPrénom".encode("utf-8")).text
    'Prénom'
    >>> d = decode_bytes("Prénom’".encode("cp1252")); d.encoding, d.text
    ('cp1252', 'Prénom’')
    >>> decode_bytes(b"\\x81\\xe9").encoding
    'latin-1'
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
        return Decoded("utf-16", text.encode("utf-8"), text, "transcoded from UTF-16")
    if b"\n" not in data and b"\r" in data:  # old Mac line ends: make them \n (one byte for one)
        data = data.replace(b"\r", b"\n")
    enc = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    if is_utf8(data):
        return Decoded(enc, data)
    try:
        return Decoded(enc, data, data.decode(enc))
    except UnicodeDecodeError as exc:
        # exc.start counts from the start of exc.object, which for utf-8-sig is data without its BOM
        start = exc.start + len(data) - len(exc.object)
        if exc.reason == "unexpected end of data" and start >= len(data) - 3:
            trimmed = data[:start]
            return Decoded(enc, trimmed, trimmed.decode(enc), "incomplete last character dropped")
    mixed = _decode_mixed(data)
    if mixed is not None:
        return mixed
    try:
        return Decoded("cp1252", data, data.decode("cp1252"))
    except UnicodeDecodeError:
        return Decoded("latin-1", data, data.decode("latin-1"))


#: A multi-byte UTF-8 character ("é" is C3 A9): in a real cp1252 file this reads "Ã©", which no
#: French export writes, so its presence in a file that is not valid UTF-8 means mixed encodings.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_LINE_END = re.compile(rb"(?<=\n)")


def _decode_mixed(data: bytes) -> Decoded | None:
    """A file whose lines are partly UTF-8 and partly cp1252 (two exports pasted together), repaired
    line by line and said in the note (first line in cp1252 named); ``None`` if not mixed.

    Decoding the whole file as cp1252 would turn every UTF-8 "Léa" into "LÃ©a" (and give her a new
    pseudonym) without a word.

    >>> d = _decode_mixed("Nom;Prénom\\nMARTIN;Léa\\n".encode("utf-8") + "DURAND;Éloïse\\n".encode("cp1252"))
    >>> d.text.splitlines()[1:], d.note
    (['MARTIN;Léa', 'DURAND;Éloïse'], 'encodages mélangés : 1 ligne(s) en cp1252 (la première : ligne 3), les autres en UTF-8')
    >>> _decode_mixed("Prénom;Nom".encode("cp1252")) is None
    True
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    if not _UTF8_MULTIBYTE.search(body):
        return None
    parts: list[str] = []
    bad: list[int] = []
    for i, line in enumerate(_LINE_END.split(body), start=1):
        try:
            parts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            bad.append(i)
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                parts.append(line.decode("latin-1"))
    text = "".join(parts)
    note = f"encodages mélangés : {len(bad)} ligne(s) en cp1252 (la première : ligne {bad[0]}), les autres en UTF-8"
    return Decoded("utf-8", text.encode("utf-8"), text, note)


def head_text(data: bytes, encoding: str) -> str:
    """Decode the first :data:`HEAD_BYTES` of ``data`` (cut at a line end) with ``encoding``."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if len(data) <= HEAD_BYTES:
        chunk = data
    else:
        chunk = data[:HEAD_BYTES]
        cut = chunk.rfind(b"\n")
        if cut > 0:
            chunk = chunk[: cut + 1]
    return chunk.decode(encoding, errors="replace")


def split_records(text: str, sep: str, limit: int = HEADER_SCAN_LINES) -> list[tuple[int, int, list[str]]]:
    """The first ``limit`` CSV records of ``text`` as ``(first line, last line, cells)`` (1-based)."""
    out: list[tuple[int, int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    line = 0
    try:
        for row in reader:
            out.append((line + 1, reader.line_num, row))
            line = reader.line_num
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


@dataclass
class HeaderGuess:
    """Where the header is: separator, 1-based physical line (first and last), and its cells."""

    sep: str
    line: int
    end_line: int
    cells: list[str]
    score: int


def find_header(text: str, known_keys: set[str], normalise) -> HeaderGuess | None:  # type: ignore[no-untyped-def]
    """Find the header row: the (separator, line) whose cells match the most known aliases.

    Needs at least two matching cells; ties go to the earliest line, then to the separator giving
    more cells.
    """
    best: HeaderGuess | None = None
    for sep in SEPARATORS:
        if sep not in text[:HEAD_BYTES]:
            continue
        for line, end_line, cells in split_records(text, sep):
            keys = {normalise(c) for c in cells} - {""}
            score = len(keys & known_keys)
            if score < 2:
                continue
            if (
                best is None
                or score > best.score
                or (score == best.score and line < best.line)
                or (score == best.score and line == best.line and len(cells) > len(best.cells))
            ):
                best = HeaderGuess(sep, line, end_line, cells, score)
    return best


@dataclass
class RawTable:
    """A table as read, before mapping: positional string columns ``0..n-1`` under ``header``."""

    header: list[str]
    frame: pd.DataFrame
    source_row: np.ndarray
    lines_read: int
    rejected: list[dict[str, object]] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


def _line_starts_after(data: bytes, n_lines: int) -> int:
    """Byte offset of the start of physical line ``n_lines + 1`` (``len(data)`` if beyond the end)."""
    pos = 0
    for _ in range(n_lines):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return len(data)
        pos = nl + 1
    return pos


def count_newlines(data: bytes, start: int = 0, *, step: int = 1 << 20) -> int:
    """``data.count(b"\\n", start)``, counted by numpy one cache-sized slice at a time (several times
    faster than ``bytes.count`` on a large file).

    >>> count_newlines(b"a\\nb\\n\\nc", 2), count_newlines(b"a\\nb\\n\\nc", 1, step=2)
    (2, 3)
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    return sum(int(np.count_nonzero(arr[i : i + step] == 10)) for i in range(max(start, 0), len(arr), step))


def _nonblank_line_numbers(buf: memoryview) -> np.ndarray:
    """1-based numbers (relative to ``buf``) of the lines of ``buf`` that are not empty."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [arr.size]))
    lengths = ends - starts
    if starts[-1] >= arr.size:  # trailing newline: no last line
        starts, lengths = starts[:-1], lengths[:-1]
    blank = lengths == 0
    one = lengths == 1
    blank[one] = arr[starts[one]] == 13
    return np.flatnonzero(~blank).astype(np.int64) + 1


def _empty_rows(table: pa.Table) -> np.ndarray:
    """Positions of the rows of ``table`` where every field is null (a line of separators only).

    A column without nulls answers at once; otherwise only the rows still all-null are looked at.
    """
    if table.num_columns == 0 or any(col.null_count == 0 for col in table.columns):
        return np.zeros(0, dtype=np.int64)
    rows = np.arange(table.num_rows, dtype=np.int64)
    for col in table.columns:
        nulls = col.take(pa.array(rows)).is_null() if len(rows) < table.num_rows else col.is_null()
        rows = rows[np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool)]
        if len(rows) == 0:
            break
    return rows


def _fast_read(dec: Decoded, sep: str, header_line: int, n_cols: int) -> RawTable | None:
    """pyarrow path; ``None`` when the file is not clean enough (then use :func:`_slow_read`)."""
    offset = _line_starts_after(dec.data, header_line)
    body = memoryview(dec.data)[offset:]
    names = [str(i) for i in range(n_cols)]
    encoding = "utf8" if dec.encoding in ("utf-8", "utf-8-sig", "utf-16") else dec.encoding
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            # Arrow's default blocks: one block for the whole file (one chunk per column) cost more
            # CPU (1 M contracts: 3.0-3.4 s against 1.7-2.1 s); its threads: 1.5 -> 1.1 s wall (+0.15 s CPU)
            read_options=pacsv.ReadOptions(column_names=names, encoding=encoding, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),  # what pandas' string dtype holds
                # the whole buffer is valid UTF-8 (checked or transcoded by decode_bytes, or by Arrow
                # from cp1252/latin-1) and fields are cut at ASCII bytes: no need to check each one
                check_utf8=False,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeError, ValueError):
        return None
    # With newlines_in_values=False pyarrow cannot read a quoted line break silently (the row's
    # field count breaks), so every row is one physical line; if there are as many lines as rows,
    # there is no blank line either and line numbers are consecutive.
    n_lines = count_newlines(dec.data, offset) + (
        0 if dec.data.endswith(b"\n") or offset >= len(dec.data) else 1
    )
    if n_lines == table.num_rows:
        lines = np.arange(1, n_lines + 1, dtype=np.int64)
    else:
        lines = _nonblank_line_numbers(body)
        if len(lines) != table.num_rows:
            return None
    # the chunks are not combined here: the columns kept are made contiguous once parsed
    # (values.parse_contract_values, identity.build_identities), most are new arrays by then
    frame = table.to_pandas(types_mapper={pa.string(): STRING, pa.large_string(): STRING}.get)
    frame.columns = range(n_cols)
    rows = lines + header_line
    empty = _empty_rows(table)
    if len(empty):
        keep = np.ones(len(frame), dtype=bool)
        keep[empty] = False
        frame, rows = frame.loc[keep].reset_index(drop=True), rows[keep]
    return RawTable([], frame, rows, len(frame), details={"csv_engine": "pyarrow"})


def _slow_read(dec: Decoded, sep: str, header_line: int, n_cols: int, file_name: str) -> RawTable:
    """csv-module path: exact line numbers, lines with the wrong number of fields rejected."""
    offset = _line_starts_after(dec.data, header_line)
    text = dec.data[offset:].decode(dec.encoding if dec.encoding != "utf-16" else "utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    records: list[list[str | None]] = []
    rows: list[int] = []
    rejected: list[dict[str, object]] = []
    prev = 0
    try:
        for row in reader:
            start = prev + 1 + header_line
            prev = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) > n_cols and not any(c.strip() for c in row[n_cols:]):
                row = row[:n_cols]
            if len(row) != n_cols:
                rejected.append(
                    {
                        "source_row": start,
                        "column": "",
                        "reason": f"nombre de champs : {len(row)} au lieu de {n_cols}",
                        "value": str(len(row)),
                    }
                )
                continue
            records.append([c if c != "" else None for c in row])
            rows.append(start)
    except csv.Error as exc:
        raise InputFileError(
            f"{file_name}: malformed CSV near line {prev + 1 + header_line} ({exc})",
            hint="check the quotes on that line or re-export the file as CSV",
        ) from exc
    frame = pd.DataFrame(
        {i: pd.Series([r[i] for r in records], dtype=STRING) for i in range(n_cols)},
        index=pd.RangeIndex(len(records)),
    )
    return RawTable(
        [],
        frame,
        np.asarray(rows, dtype=np.int64),
        len(records) + len(rejected),
        rejected,
        {"csv_engine": "python"},
    )


def read_delimited(dec: Decoded, guess: HeaderGuess, path: Path) -> RawTable:
    """Read the records below the header described by ``guess``.

    Returns a :class:`RawTable` whose ``frame`` has one string column per header cell, empty cells
    as ``<NA>``, blank lines skipped, ``source_row`` the 1-based physical line of each record.
    """
    n_cols = len(guess.cells)
    raw = _fast_read(dec, guess.sep, guess.end_line, n_cols)
    if raw is None:
        raw = _slow_read(dec, guess.sep, guess.end_line, n_cols, path.name)
    raw.header = list(guess.cells)
    raw.details.update(
        {
            **dec.details(),
            "separator": guess.sep,
            "header_row": guess.line,
        }
    )
    return raw
