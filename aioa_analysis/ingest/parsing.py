"""Vectorised value parsers: raw strings as read -> typed, normalised values.

Every parser takes a Series of raw strings (dtype ``string``, as the readers produce them) and
returns an aligned Series; nothing is modified in place. Parsing is done once per *distinct* value
(``pd.factorize``) and broadcast back, so a million-row column with a few thousand distinct dates
costs a few thousand parses.

Accepted forms (docs/reference/FORMATS.md §5):

* dates: ISO ``AAAA-MM-JJ`` (with an optional time part), ``JJ/MM/AAAA``, ``JJ/MM/AA`` (``AA <= 40``
  -> 20AA, else 19AA, the Tableau de bord rule), ``JJMMAAAA`` (SIFA; ``AAAAMMJJ`` when the day-first
  reading is impossible and the year-first one is not), Excel serial numbers (``45537``);
  ``31/02/2024`` is recognised as an **impossible** date, not confused with an unreadable one;
* booleans: oui/non, vrai/faux, 1/0, true/false, O/N, yes/no;
* sex: H/F, M/F, 1/2, Mme/M., Masculin/Féminin, Homme/Femme -> ``M``/``F``;
* codes: UAI, SIRET (spaces, dots, dashes, Excel float and scientific text), NAF (dot removed), CFD
  (lost leading zeros restored when the prefix is known), postcodes (5 chars), contract numbers
  (15 digits when all-digit), RNCP (``RNCP`` prefix), fixed-width numeric codes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core import referential

DATE_OK: Final = "ok"
DATE_MISSING: Final = "missing"
DATE_IMPOSSIBLE: Final = "impossible"
DATE_UNPARSEABLE: Final = "unparseable"

_MIN_YEAR, _MAX_YEAR = 1900, 2100

_TRUE = frozenset({"oui", "o", "vrai", "v", "true", "t", "1", "1.0", "yes", "y", "x"})
_FALSE = frozenset({"non", "n", "faux", "false", "f", "0", "0.0", "no"})

_MALE = frozenset({"m", "h", "1", "homme", "masculin", "masc", "monsieur", "mr", "garcon", "male"})
_FEMALE = frozenset(
    {"f", "2", "femme", "feminin", "fem", "madame", "mme", "mlle", "mademoiselle", "fille", "female"}
)


def _as_string(s: pd.Series) -> pd.Series:
    return s if s.dtype == "string" else s.astype("string")


# ------------------------------------------------------------------------------------------------
# Arrow helpers: the string columns are pyarrow-backed, so cheap checks run as Arrow kernels


def arrow_strings(s: pd.Series) -> pa.Array:
    """The values of a string Series as one contiguous Arrow ``large_string`` array (no copy when possible).

    >>> arrow_strings(pd.Series(["a", None], dtype="string")).to_pylist()
    ['a', None]
    """
    arr = pa.array(_as_string(s).array)  # type: ignore[call-overload]
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def string_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index, name: object = None) -> pd.Series:
    """A ``string`` Series (pyarrow storage) over an Arrow string array, aligned on ``index``."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(arr), index=index, name=name)  # type: ignore[attr-defined]


def contiguous(s: pd.Series) -> pd.Series:
    """``s`` itself, or for a string column read in several Arrow chunks the same values in one chunk.

    (Taking rows out of a many-chunk column is several times slower; combining costs one copy.)
    """
    if s.dtype != "string":
        return s
    arr = pa.array(s.array)  # type: ignore[call-overload]
    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks > 1:
        return string_series(arr.combine_chunks(), s.index, s.name)
    return s


def bool_numpy(mask: pa.Array | pa.ChunkedArray, *, null: bool = False) -> np.ndarray:
    """An Arrow boolean array as a numpy ``bool`` array, nulls replaced by ``null``."""
    return np.asarray(pc.fill_null(mask, null).to_numpy(zero_copy_only=False), dtype=bool)


def _digits(arr: pa.Array, width: int) -> pa.Array:
    """``^[0-9]{width}$`` without a regex (null stays null)."""
    return pc.and_(pc.ascii_is_decimal(arr), pc.equal(pc.binary_length(arr), width))


def _alnum_upper(arr: pa.Array) -> pa.Array:
    """``^[0-9A-Z]+$`` without a regex (null stays null)."""
    return pc.and_(pc.ascii_is_alnum(arr), pc.equal(pc.ascii_upper(arr), arr))


def _broadcast(parsed: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``parsed`` (one row per distinct value) taken back to the rows; code -1 (missing) gives NA."""
    values = parsed.array.take(codes, allow_fill=True)
    return pd.Series(values, index=index, name=parsed.name)


def _via_uniques(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply the vectorised ``fn`` to the distinct non-missing values of ``s`` and broadcast back."""
    codes, uniques = pd.factorize(_as_string(s), use_na_sentinel=True)
    parsed = fn(pd.Series(uniques, dtype="string"))
    return _broadcast(parsed.reset_index(drop=True), codes, s.index)


def _few_distinct(arr: pa.Array, sample: int = 2000) -> bool:
    """Whether an evenly spaced sample of a long column repeats itself a lot (< 5 % distinct)."""
    if len(arr) < 20 * sample:
        return False
    picked = arr.take(pa.array(np.linspace(0, len(arr) - 1, sample).astype(np.int64)))
    return (pc.count_distinct(picked).as_py() or 0) < sample // 20


def _via_uniques_where_needed(
    s: pd.Series, fn: Callable[[pd.Series], pd.Series], canonical: Callable[[pa.Array], pa.Array]
) -> pd.Series:
    """Like :func:`_via_uniques` for a string normaliser, skipping the values already in canonical form.

    ``canonical(arr)`` is a cheap Arrow test that must imply ``fn(v) == v`` (checked by the tests
    on every normaliser): such values are kept as they are, the others go through ``fn`` once per
    distinct value. A million well-formed SIRETs then cost one pass of two Arrow kernels.
    """
    arr = arrow_strings(s)
    if _few_distinct(arr):  # a label column: parsing each distinct value is cheaper than checking all
        return _via_uniques(s, fn).astype("string")
    todo = pc.invert(pc.fill_null(canonical(arr), True))
    n_todo = pc.sum(todo).as_py() or 0
    if n_todo == 0:
        return string_series(arr, s.index, s.name)
    if n_todo * 2 > len(arr):
        return _via_uniques(s, fn).astype("string")
    sub = s.iloc[bool_numpy(todo)]
    fixed = arrow_strings(_via_uniques(sub, fn).astype("string"))
    return string_series(pc.replace_with_mask(arr, todo, fixed), s.index, s.name)


def per_distinct(
    fn: Callable[[pd.Series], pd.Series] | None = None,
    *,
    canonical: Callable[[pa.Array], pa.Array] | None = None,
) -> Callable:
    """Decorate a vectorised string parser so that it runs once per distinct value of its input.

    With ``canonical`` (a cheap Arrow test of "already normalised", for which the parser is the
    identity), only the other values are parsed.
    """

    def decorate(f: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
        @functools.wraps(f)
        def wrapper(s: pd.Series) -> pd.Series:
            if canonical is not None:
                return _via_uniques_where_needed(s, f, canonical).rename(s.name)
            return _via_uniques(s, f).rename(s.name)

        wrapper.canonical = canonical  # type: ignore[attr-defined]
        wrapper.slow = f  # type: ignore[attr-defined]
        return wrapper

    return decorate(fn) if fn is not None else decorate


def _blank_to_na(s: pd.Series) -> pd.Series:
    t = _as_string(s).str.strip()
    return t.mask(t == "")


# ------------------------------------------------------------------------------------------------
# dates


_RX_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][0-9:.]*Z?)?$")
_RX_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: [0-9:.]*)?$")
_RX_DMY2 = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2})$")
_RX_COMPACT = re.compile(r"^\d{7,8}$")
_RX_SERIAL = re.compile(r"^(\d{4,5})(?:[.,]\d+)?$")
_EXCEL_ORDINAL = dt.date(1899, 12, 30).toordinal()


def _ymd_ok(y: int, m: int, d: int) -> bool:
    return _MIN_YEAR <= y <= _MAX_YEAR and 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


def _parse_one_date(text: str) -> tuple[dt.date | None, str]:
    """Parse one distinct raw value (called once per distinct value, never per row)."""
    t = text.strip()
    if not t:
        return None, DATE_MISSING
    ymd: tuple[int, int, int] | None = None
    if m := _RX_ISO.match(t):
        ymd = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _RX_DMY.match(t):
        ymd = (int(m[3]), int(m[2]), int(m[1]))
    elif m := _RX_DMY2.match(t):
        yy = int(m[3])
        ymd = (2000 + yy if yy <= 40 else 1900 + yy, int(m[2]), int(m[1]))
    elif _RX_COMPACT.match(t):
        z = t.zfill(8)
        dmy = (int(z[4:]), int(z[2:4]), int(z[:2]))
        ymd_alt = (int(z[:4]), int(z[4:6]), int(z[6:]))
        ymd = ymd_alt if not _ymd_ok(*dmy) and _ymd_ok(*ymd_alt) else dmy
    elif m := _RX_SERIAL.match(t):
        ordinal = _EXCEL_ORDINAL + int(m[1])
        d = dt.date.fromordinal(ordinal)
        ymd = (d.year, d.month, d.day)
    if ymd is None:
        return None, DATE_UNPARSEABLE
    if not _ymd_ok(*ymd):
        return None, DATE_IMPOSSIBLE
    return dt.date(*ymd), DATE_OK


def _parse_date_uniques(u: pd.Series) -> pd.DataFrame:
    parsed = [_parse_one_date(str(v)) for v in u.to_numpy(dtype=object)]
    values = pd.to_datetime(pd.Series([p[0] for p in parsed], dtype=object)).astype("datetime64[ns]")
    return pd.DataFrame(
        {"value": values.to_numpy(), "status": pd.array([p[1] for p in parsed], dtype="string")},
        index=u.index,
    ).astype({"value": "datetime64[ns]"})


def parse_dates_detailed(s: pd.Series) -> pd.DataFrame:
    """Parse raw date strings; return ``value`` (datetime64[ns]) and ``status`` per row.

    ``status`` is ``ok``, ``missing`` (empty cell), ``impossible`` (a recognised form whose day or
    month cannot exist, e.g. 31/02, or a year outside 1900-2100) or ``unparseable``.

    Examples
    --------
    >>> raw = pd.Series(["2024-09-02", "02/09/2024", "02/09/24", "02091999", "45537", "31/02/2024", "bientôt", None],
    ...                 dtype="string")
    >>> out = parse_dates_detailed(raw)
    >>> out["value"].dt.strftime("%Y-%m-%d").tolist()[:5]
    ['2024-09-02', '2024-09-02', '2024-09-02', '1999-09-02', '2024-09-02']
    >>> out["status"].tolist()[5:]
    ['impossible', 'unparseable', 'missing']
    """
    codes, parsed = date_codes(s)
    status = pd.array([*parsed["status"].tolist(), DATE_MISSING], dtype="string")
    return pd.DataFrame(
        {
            "value": parsed["value"].array.take(codes, allow_fill=True),
            "status": status.take(np.where(codes < 0, len(parsed), codes)),
        },
        index=s.index,
    )


def date_codes(s: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """Factorise raw date strings and parse each distinct value once: ``(codes, parsed uniques)``."""
    codes, uniques = pd.factorize(_as_string(s), use_na_sentinel=True)
    return codes, _parse_date_uniques(pd.Series(uniques, dtype="string")).reset_index(drop=True)


def parse_dates(s: pd.Series) -> pd.Series:
    """Parse raw date strings to ``datetime64[ns]`` (NaT when missing, impossible or unreadable).

    >>> parse_dates(pd.Series(["05011987", "2024-02-29", "29/02/2023"], dtype="string")).tolist()
    [Timestamp('1987-01-05 00:00:00'), Timestamp('2024-02-29 00:00:00'), NaT]
    """
    codes, parsed = date_codes(s)
    return pd.Series(parsed["value"].array.take(codes, allow_fill=True), index=s.index, name=s.name)


# ------------------------------------------------------------------------------------------------
# booleans and sex


def _norm_token(u: pd.Series) -> pd.Series:
    return (
        u.str.strip()
        .str.lower()
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.rstrip(".")
        .str.strip()
    )


def parse_booleans(s: pd.Series) -> pd.Series:
    """Parse oui/non, vrai/faux, 1/0, true/false, O/N, yes/no to a nullable ``boolean``.

    Anything else (empty, "?", "peut-être") is NA.

    >>> parse_booleans(pd.Series(["Oui", "non", "VRAI", "0", "O", "N", "true", "?", None], dtype="string")).tolist()
    [True, False, True, False, True, False, True, <NA>, <NA>]
    """

    def fn(u: pd.Series) -> pd.Series:
        t = _norm_token(u)
        return t.isin(_TRUE).astype("boolean").mask(~t.isin(_TRUE | _FALSE))

    return _via_uniques(s, fn).astype("boolean").rename(s.name)  # type: ignore[call-overload]


def parse_sex(s: pd.Series) -> pd.Series:
    """Normalise the many spellings of sex to ``M``/``F`` (NA when unknown).

    >>> parse_sex(pd.Series(["H", "F", "1", "2", "Mme", "M.", "Masculin", "Féminin", "x"], dtype="string")).tolist()
    ['M', 'F', 'M', 'F', 'F', 'M', 'M', 'F', <NA>]
    """

    def fn(u: pd.Series) -> pd.Series:
        t = _norm_token(u)
        out = pd.Series(pd.NA, index=u.index, dtype="string")
        return out.mask(t.isin(_MALE).fillna(False), "M").mask(t.isin(_FEMALE).fillna(False), "F")

    return _via_uniques(s, fn).astype("string").rename(s.name)  # type: ignore[call-overload]


def parse_integers(s: pd.Series, *, maximum: int | None = None) -> pd.Series:
    """Parse counts such as ``74``, ``74.0``, ``1 234`` (nbsp/thin spaces too) to ``Int64``; negatives
    NA, and values above ``maximum`` NA (never an overflow: ``10^23`` used to become ``-2^63``).

    >>> parse_integers(pd.Series(["74", "74.0", "1\u202f234", "-3", "beaucoup"], dtype="string")).tolist()
    [74, 74, 1234, <NA>, <NA>]
    >>> parse_integers(pd.Series(["1" + "0" * 23, "120"], dtype="string"), maximum=100).tolist()
    [<NA>, <NA>]
    """

    def fn(u: pd.Series) -> pd.Series:
        t = u.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(r"[.,]0+$", "", regex=True)
        ok = t.str.fullmatch(r"\d{1,15}").fillna(False)  # 15 digits: exact as int64 and float
        num = pd.to_numeric(t.where(ok), errors="coerce")
        if maximum is not None:
            num = num.where(num <= maximum)
        return num.astype("Int64")

    return _via_uniques(s, fn).astype("Int64").rename(s.name)  # type: ignore[call-overload]


# ------------------------------------------------------------------------------------------------
# codes


def _strip_float_suffix(t: pd.Series) -> pd.Series:
    """``"1234.0"`` -> ``"1234"`` (a number Excel turned into a float)."""
    is_float = t.str.fullmatch(r"\d+[.,]0+").fillna(False)
    if not is_float.any():
        return t
    return t.mask(is_float, t.str.replace(r"[.,]0+$", "", regex=True))


def _scientific_to_digits(t: pd.Series, *, min_significant: int) -> pd.Series:
    """Recover digits from Excel scientific text (``4.4492238900010E+13``) when precise enough.

    Recovery needs at least ``min_significant`` significant digits in the mantissa; otherwise the
    value cannot be trusted and becomes NA.
    """
    is_sci = t.str.fullmatch(r"\d+(?:[.,]\d+)?[eE]\+?\d+").fillna(False)
    if not is_sci.any():
        return t

    def one(v: str) -> str | None:
        mantissa = v.lower().split("e")[0].replace(",", ".")
        sig = len(mantissa.replace(".", "").lstrip("0").rstrip("0"))
        try:
            num = Decimal(v.replace(",", "."))
        except InvalidOperation:
            return None
        if num != num.to_integral_value():
            return None
        if sig < min_significant:
            return None
        return str(int(num))

    sci = t[is_sci]
    uniq = {v: one(v) for v in pd.unique(sci.to_numpy(dtype=object))}
    return t.mask(is_sci, sci.map(uniq).astype("string"))


def normalise_code(s: pd.Series, *, width: int | None = None) -> pd.Series:
    """Generic code: trimmed, upper-cased, ``"7.0"`` -> ``"7"``; all-digit codes left-padded to ``width``.

    >>> normalise_code(pd.Series([" 16", "1.0", "9999", "ab", ""], dtype="string"), width=4).tolist()
    ['0016', '0001', '9999', 'AB', <NA>]
    """

    def fn(u: pd.Series) -> pd.Series:
        t = _strip_float_suffix(_blank_to_na(u).str.upper())
        if width is not None:
            digits = t.str.fullmatch(r"\d+").fillna(False) & (t.str.len() < width)
            t = t.mask(digits, t.str.zfill(width))
        return t.astype("string")

    def canonical(arr: pa.Array) -> pa.Array:
        ok = _alnum_upper(arr)
        if width is None:
            return ok
        return pc.and_(
            ok, pc.or_(pc.invert(pc.ascii_is_decimal(arr)), pc.greater_equal(pc.binary_length(arr), width))
        )

    return _via_uniques_where_needed(s, fn, canonical).rename(s.name)


def _uai_like(arr: pa.Array) -> pa.Array:
    """``^[0-9]{7}[A-Z]$`` without a regex."""
    return pc.and_(
        pc.and_(pc.equal(pc.binary_length(arr), 8), pc.ascii_is_decimal(pc.utf8_slice_codeunits(arr, 0, 7))),
        pc.ascii_is_upper(pc.utf8_slice_codeunits(arr, 7, 8)),
    )


def _naf_like(arr: pa.Array) -> pa.Array:
    """``^[0-9]{4}[A-Z]$`` without a regex."""
    return pc.and_(
        pc.and_(pc.equal(pc.binary_length(arr), 5), pc.ascii_is_decimal(pc.utf8_slice_codeunits(arr, 0, 4))),
        pc.ascii_is_upper(pc.utf8_slice_codeunits(arr, 4, 5)),
    )


def _rncp_like(arr: pa.Array) -> pa.Array:
    """``^RNCP[0-9]+$`` without a regex."""
    return pc.and_(pc.starts_with(arr, "RNCP"), pc.ascii_is_decimal(pc.utf8_slice_codeunits(arr, 4, 1 << 30)))


def _text_like(arr: pa.Array) -> pa.Array:
    """Printable ASCII, non-empty, no surrounding or double space: what :func:`normalise_text` leaves.

    (Other values, accented ones included, simply go through the parser.)
    """
    ok = pc.and_(
        pc.and_(pc.ascii_is_printable(arr), pc.greater(pc.binary_length(arr), 0)),
        pc.invert(pc.or_(pc.starts_with(arr, " "), pc.ends_with(arr, " "))),
    )
    data = arr.buffers()[2] if len(arr) else None
    if data is not None and b"  " in data.to_pybytes():  # rare: only then look for it row by row
        ok = pc.and_(ok, pc.invert(pc.match_substring(arr, "  ")))
    return ok


@per_distinct(canonical=_uai_like)
def normalise_uai(s: pd.Series) -> pd.Series:
    """UAI: spaces removed, upper-cased; a 7-char ``410590U`` (lost leading zero) gets its ``0`` back.

    >>> normalise_uai(pd.Series(["0410590u", " 0410590U ", "410590U", None], dtype="string")).tolist()
    ['0410590U', '0410590U', '0410590U', <NA>]
    """
    t = _blank_to_na(s).str.replace(r"\s", "", regex=True).str.upper()
    return t.mask(t.str.fullmatch(r"\d{6}[A-Z]").fillna(False), "0" + t).astype("string")


@per_distinct(canonical=lambda a: _digits(a, 14))
def normalise_siret(s: pd.Series) -> pd.Series:
    """SIRET: spaces, dots and dashes removed; Excel float/scientific text recovered where possible.

    A scientific value with fewer than 12 significant digits (``4.4492E+13``) cannot be recovered and
    becomes NA. All-digit values of 10 to 13 digits get their lost leading zeros back. Validity is
    a separate flag (see :func:`siret_is_valid`).

    >>> normalise_siret(pd.Series(["444 922 389 00010", "444.922.389-00010", "44492238900010.0",
    ...                            "4.4492238900010E+13", "4.4492E+13"], dtype="string")).tolist()
    ['44492238900010', '44492238900010', '44492238900010', '44492238900010', <NA>]
    """
    t = _strip_float_suffix(_blank_to_na(s).str.replace(r"[\s\u00a0]", "", regex=True))
    t = _scientific_to_digits(t, min_significant=12)
    t = t.str.replace(r"[.\-]", "", regex=True).str.upper()
    short = t.str.fullmatch(r"\d{10,13}").fillna(False)
    return t.mask(short, t.str.zfill(14)).astype("string")


def fixed_width_bytes(arr: pa.Array, width: int) -> np.ndarray:
    """``(n, width)`` uint8 view of a string array whose values all have ``width`` bytes (no nulls)."""
    if len(arr) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offset_type = np.int64 if arr.type in (pa.large_string(), pa.large_binary()) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[0] + width * len(arr)].reshape(len(arr), width)


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)  # digit sum of 2 * d


def _luhn_ok(digits: np.ndarray) -> np.ndarray:
    """Luhn check of each row of a ``(n, k)`` digit matrix (what ``stdnum.luhn`` computes)."""
    from_right = digits.shape[1] - 1 - np.arange(digits.shape[1])
    plain = digits[:, from_right % 2 == 0].sum(axis=1, dtype=np.int32)
    doubled = _DOUBLED[digits[:, from_right % 2 == 1]].sum(axis=1, dtype=np.int32)
    return (plain + doubled) % 10 == 0


_LA_POSTE = np.frombuffer(b"356000000", dtype=np.uint8) - 48
_LA_POSTE_HEAD_OFFICE = np.frombuffer(b"35600000000048", dtype=np.uint8) - 48


def _siret_digits_valid(digits: np.ndarray) -> np.ndarray:
    """``stdnum.fr.siret.is_valid`` on a ``(n, 14)`` digit matrix: Luhn (La Poste: digit sum % 5), SIREN Luhn."""
    la_poste = (digits[:, :9] == _LA_POSTE).all(axis=1) & ~(digits == _LA_POSTE_HEAD_OFFICE).all(axis=1)
    body_ok = np.where(la_poste, digits.sum(axis=1, dtype=np.int64) % 5 == 0, _luhn_ok(digits))
    return body_ok & _luhn_ok(digits[:, :9])


def siret_is_valid(s: pd.Series) -> pd.Series:
    """SIRET validity (Luhn, La Poste exception) as python-stdnum computes it; NA stays NA.

    Plain 14-digit values are checked vectorised; any other value goes through
    ``stdnum.fr.siret.is_valid`` (once per distinct value).

    >>> siret_is_valid(pd.Series(["44492238900010", "80478874200011", "35600000000048", None],
    ...                          dtype="string")).tolist()
    [True, False, True, <NA>]
    """
    from stdnum.fr import siret

    arr = arrow_strings(s)
    plain = bool_numpy(_digits(arr, 14))
    valid = np.zeros(len(arr), dtype=bool)
    if plain.any():
        digits = fixed_width_bytes(arr.filter(pa.array(plain)), 14) - np.uint8(48)
        valid[plain] = _siret_digits_valid(digits)
    other = ~plain & bool_numpy(pc.is_valid(arr))
    if other.any():

        def fn(u: pd.Series) -> pd.Series:
            vals = u.to_numpy(dtype=object)
            return pd.Series([bool(siret.is_valid(v)) for v in vals], index=u.index, dtype="boolean")

        valid[other] = _via_uniques(s.iloc[other], fn).to_numpy(dtype=bool)
    out = pd.array(valid, dtype="boolean")
    out[bool_numpy(pc.is_null(arr))] = pd.NA
    return pd.Series(out, index=s.index, name=s.name)


@per_distinct(canonical=_naf_like)
def normalise_naf(s: pd.Series) -> pd.Series:
    """NAF: dot and spaces removed, upper-cased (``56.10a`` -> ``5610A``).

    >>> normalise_naf(pd.Series(["56.10a", "5610A", " 96.02 A "], dtype="string")).tolist()
    ['5610A', '5610A', '9602A']
    """
    return _blank_to_na(s).str.replace(r"[.\s]", "", regex=True).str.upper().astype("string")


@per_distinct(canonical=lambda a: pc.and_(_alnum_upper(a), pc.equal(pc.binary_length(a), 8)))
def normalise_cfd(s: pd.Series) -> pd.Series:
    """CFD (diploma code): trimmed, upper-cased; lost leading zeros restored when the padded prefix is known.

    >>> normalise_cfd(pd.Series(["50022109", "1023401", "500221", "36t23301"], dtype="string")).tolist()
    ['50022109', '01023401', '500221', '36T23301']
    """
    t = _strip_float_suffix(_blank_to_na(s).str.replace(r"\s", "", regex=True).str.upper())
    known = set(referential.diploma_prefixes()["prefix"].str.upper())
    padded = t.str.zfill(8)
    fix = t.str.fullmatch(r"\d{5,7}").fillna(False) & padded.str.slice(0, 3).isin(known).fillna(False)
    return t.mask(fix, padded).astype("string")


@per_distinct(canonical=lambda a: _digits(a, 5))
def normalise_postcode(s: pd.Series) -> pd.Series:
    """Postcode: 5 characters (``1000`` -> ``01000``; ``41000.0`` -> ``41000``).

    >>> normalise_postcode(pd.Series(["41000", "1000", "41000.0", " 41 000 "], dtype="string")).tolist()
    ['41000', '01000', '41000', '41000']
    """
    t = _strip_float_suffix(_blank_to_na(s).str.replace(r"\s", "", regex=True))
    digits = t.str.fullmatch(r"\d{1,4}").fillna(False)
    return t.mask(digits, t.str.zfill(5)).str.upper().astype("string")


@per_distinct(canonical=lambda a: _digits(a, 15))
def normalise_contract_id(s: pd.Series) -> pd.Series:
    """Contract number: kept as a string; all-digit numbers restored to 15 digits (lost leading zeros).

    >>> normalise_contract_id(pd.Series(["031202310001351", "31202310001351", "31202310001351.0", "CMA-12"],
    ...                                 dtype="string")).tolist()
    ['031202310001351', '031202310001351', '031202310001351', 'CMA-12']
    """
    t = _strip_float_suffix(_blank_to_na(s).str.replace(r"\s", "", regex=True))
    t = _scientific_to_digits(t, min_significant=15)
    short = t.str.fullmatch(r"\d{1,14}").fillna(False)
    return t.mask(short, t.str.zfill(15)).astype("string")


@per_distinct(canonical=_rncp_like)
def normalise_rncp(s: pd.Series) -> pd.Series:
    """RNCP code with its ``RNCP`` prefix (``35400`` -> ``RNCP35400``).

    >>> normalise_rncp(pd.Series(["35400", "rncp 35400", "RNCP35400"], dtype="string")).tolist()
    ['RNCP35400', 'RNCP35400', 'RNCP35400']
    """
    t = _blank_to_na(s).str.replace(r"\s", "", regex=True).str.upper()
    return t.mask(t.str.fullmatch(r"\d{2,6}").fillna(False), "RNCP" + t).astype("string")


@per_distinct(canonical=_text_like)
def normalise_text(s: pd.Series) -> pd.Series:
    """Trim and collapse inner whitespace; empty -> NA."""
    return _blank_to_na(s).str.replace(r"\s+", " ", regex=True).astype("string")
