"""Vectorised value parsers: raw strings as read -> typed, normalised values.

Every parser takes a Series of raw strings (dtype ``string``, as the readers produce them) and
returns an aligned Series; nothing is modified in place. Parsing is done once per *distinct* value
(``pd.factorize``) and broadcast back, so a million-row column with a few thousand distinct dates
costs a few thousand parses.

Accepted forms (FORMATS.md §5):

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

from aioa_analysis import referential

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


def _via_uniques(s: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply the vectorised ``fn`` to the distinct non-missing values of ``s`` and broadcast back."""
    codes, uniques = pd.factorize(_as_string(s), use_na_sentinel=True)
    parsed = fn(pd.Series(np.asarray(uniques, dtype=object), dtype="string"))
    padded = pd.concat([parsed.reset_index(drop=True), parsed.iloc[:0].reindex([len(parsed)])])
    out = padded.iloc[codes]  # -1 (missing) picks the trailing NA
    return out.set_axis(s.index)


def per_distinct(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """Decorate a vectorised string parser so that it runs once per distinct value of its input."""

    @functools.wraps(fn)
    def wrapper(s: pd.Series) -> pd.Series:
        out = _via_uniques(s, fn)
        return out.rename(s.name)

    return wrapper


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
    codes, uniques = pd.factorize(_as_string(s), use_na_sentinel=True)
    parsed = _parse_date_uniques(pd.Series(np.asarray(uniques, dtype=object), dtype="string"))
    tail = pd.DataFrame({"value": [pd.NaT], "status": [DATE_MISSING]}).astype(
        {"value": "datetime64[ns]", "status": "string"}
    )
    full = pd.concat([parsed.reset_index(drop=True), tail], ignore_index=True)
    return full.iloc[codes].set_axis(s.index)


def parse_dates(s: pd.Series) -> pd.Series:
    """Parse raw date strings to ``datetime64[ns]`` (NaT when missing, impossible or unreadable).

    >>> parse_dates(pd.Series(["05011987", "2024-02-29", "29/02/2023"], dtype="string")).tolist()
    [Timestamp('1987-01-05 00:00:00'), Timestamp('2024-02-29 00:00:00'), NaT]
    """
    return parse_dates_detailed(s)["value"].rename(s.name)  # type: ignore[call-overload]


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


def parse_integers(s: pd.Series) -> pd.Series:
    """Parse counts such as ``74``, ``74.0``, ``1 234`` (nbsp/thin spaces too) to ``Int64``; negatives NA.

    >>> parse_integers(pd.Series(["74", "74.0", "1\u202f234", "-3", "beaucoup"], dtype="string")).tolist()
    [74, 74, 1234, <NA>, <NA>]
    """

    def fn(u: pd.Series) -> pd.Series:
        t = u.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(r"[.,]0+$", "", regex=True)
        num = pd.to_numeric(t.where(t.str.fullmatch(r"-?\d+").fillna(False)), errors="coerce")
        return num.where(num >= 0).astype("Int64")

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

    return _via_uniques(s, fn).astype("string").rename(s.name)


@per_distinct
def normalise_uai(s: pd.Series) -> pd.Series:
    """UAI: spaces removed, upper-cased; a 7-char ``410590U`` (lost leading zero) gets its ``0`` back.

    >>> normalise_uai(pd.Series(["0410590u", " 0410590U ", "410590U", None], dtype="string")).tolist()
    ['0410590U', '0410590U', '0410590U', <NA>]
    """
    t = _blank_to_na(s).str.replace(r"\s", "", regex=True).str.upper()
    return t.mask(t.str.fullmatch(r"\d{6}[A-Z]").fillna(False), "0" + t).astype("string")


@per_distinct
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


def siret_is_valid(s: pd.Series) -> pd.Series:
    """SIRET validity (Luhn, La Poste exception) via python-stdnum; NA stays NA.

    >>> siret_is_valid(pd.Series(["44492238900010", "80478874200011", None], dtype="string")).tolist()
    [True, False, <NA>]
    """
    from stdnum.fr import siret

    def fn(u: pd.Series) -> pd.Series:
        vals = u.to_numpy(dtype=object)
        return pd.Series([bool(siret.is_valid(v)) for v in vals], index=u.index, dtype="boolean")

    return _via_uniques(s, fn).astype("boolean").rename(s.name)  # type: ignore[call-overload]


@per_distinct
def normalise_naf(s: pd.Series) -> pd.Series:
    """NAF: dot and spaces removed, upper-cased (``56.10a`` -> ``5610A``).

    >>> normalise_naf(pd.Series(["56.10a", "5610A", " 96.02 A "], dtype="string")).tolist()
    ['5610A', '5610A', '9602A']
    """
    return _blank_to_na(s).str.replace(r"[.\s]", "", regex=True).str.upper().astype("string")


@per_distinct
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


@per_distinct
def normalise_postcode(s: pd.Series) -> pd.Series:
    """Postcode: 5 characters (``1000`` -> ``01000``; ``41000.0`` -> ``41000``).

    >>> normalise_postcode(pd.Series(["41000", "1000", "41000.0", " 41 000 "], dtype="string")).tolist()
    ['41000', '01000', '41000', '41000']
    """
    t = _strip_float_suffix(_blank_to_na(s).str.replace(r"\s", "", regex=True))
    digits = t.str.fullmatch(r"\d{1,4}").fillna(False)
    return t.mask(digits, t.str.zfill(5)).str.upper().astype("string")


@per_distinct
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


@per_distinct
def normalise_rncp(s: pd.Series) -> pd.Series:
    """RNCP code with its ``RNCP`` prefix (``35400`` -> ``RNCP35400``).

    >>> normalise_rncp(pd.Series(["35400", "rncp 35400", "RNCP35400"], dtype="string")).tolist()
    ['RNCP35400', 'RNCP35400', 'RNCP35400']
    """
    t = _blank_to_na(s).str.replace(r"\s", "", regex=True).str.upper()
    return t.mask(t.str.fullmatch(r"\d{2,6}").fillna(False), "RNCP" + t).astype("string")


@per_distinct
def normalise_text(s: pd.Series) -> pd.Series:
    """Trim and collapse inner whitespace; empty -> NA."""
    return _blank_to_na(s).str.replace(r"\s+", " ", regex=True).astype("string")
