"""French display formats for reports: numbers, shares, intervals, dates, and display tables.

Everything a report reader sees goes through these functions so that the whole report agrees:

* numbers use a **narrow no-break space** (U+202F, :data:`SPACE`) as the thousands separator and a
  comma as the decimal mark: ``fr_number(1234) == "1\u202f234"``;
* shares are written ``28,4\u202f%`` (the same narrow no-break space before ``%``);
* intervals are written ``[24,1\u202f% ; 32,9\u202f%]`` (French list separator ``;``);
* dates are ``JJ/MM/AAAA``, months ``septembre`` (or ``sept.`` on a chart axis);
* a missing value is an en dash ``–`` and a suppressed rate (denominator under ``min_n``) reads
  ``n < 20`` instead of the rate.

Plotly charts get the same marks through ``layout.separators = ", "`` (decimal comma, space for
thousands), see :mod:`aioa_analysis.reporting.figures`.

These functions only format: they never compute a statistic.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Final

import pandas as pd

SPACE: Final = "\u202f"
"""Narrow no-break space: thousands separator and space before ``%`` (one choice, used everywhere)."""

MISSING: Final = "–"
"""What a missing value shows (en dash)."""

PLOTLY_SEPARATORS: Final = ", "
"""``layout.separators`` for plotly: decimal comma, space as thousands separator."""

MONTHS_FR: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
"""Month names, January first (:func:`fr_month`)."""

MONTHS_FR_SHORT: Final = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
"""Their usual abbreviations, for chart axes and narrow table columns (:func:`fr_month` ``short=True``)."""


_BEFORE = re.compile(r"(?<=\S)[ \u00a0]?([:;!?%»])(?=\s|$|[<.,)\]])")
_AFTER = re.compile(r"«[ \u00a0]?(?=\S)")


def french_spaces(text: str) -> str:
    """French typography for running text: a narrow no-break space before ``: ; ! ? % »`` and after
    ``«`` (in place of an ordinary space, or where none was), so no line breaks inside them.

    Times, ratios and URLs (``12:30``, ``3:1``, ``https://``) are left alone: the sign must be
    followed by a space, the end of the text, a tag or punctuation.

    >>> french_spaces("Taux : 28,4 % ; « rupture » ! Voir aussi: 12:30")
    'Taux\u202f: 28,4\u202f%\u202f; «\u202frupture\u202f»\u202f! Voir aussi\u202f: 12:30'
    """
    return _AFTER.sub("«" + SPACE, _BEFORE.sub(SPACE + r"\1", text))


def _is_missing(x: object) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def fr_number(x: object, decimals: int = 0) -> str:
    """Format a number the French way: ``1 234`` or ``1 234,5`` (narrow no-break space, comma).

    >>> fr_number(1234).replace(SPACE, " ")
    '1 234'
    >>> fr_number(-1234567.891, 2).replace(SPACE, " ")
    '-1 234 567,89'
    >>> fr_number(0.5), fr_number(None)
    ('0', '–')
    """
    if _is_missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", SPACE)


def fr_percent(x: object, decimals: int = 1) -> str:
    """Format a share (0.284) as a French percentage: ``28,4 %``.

    >>> fr_percent(0.284).replace(SPACE, " ")
    '28,4 %'
    >>> fr_percent(0.5, 0).replace(SPACE, " "), fr_percent(float("nan"))
    ('50 %', '–')
    """
    if _is_missing(x):
        return MISSING
    return f"{fr_number(float(x) * 100, decimals)}{SPACE}%"  # type: ignore[arg-type]


def fr_points(x: object, decimals: int = 1) -> str:
    """Format a difference of shares as signed percentage points: ``+3,2 pts``.

    >>> fr_points(0.032).replace(SPACE, " "), fr_points(-0.01).replace(SPACE, " ")
    ('+3,2 pts', '-1,0 pt')
    """
    if _is_missing(x):
        return MISSING
    value = float(x) * 100  # type: ignore[arg-type]
    text = fr_number(value, decimals)
    sign = "+" if value > 0 and not text.startswith("-") else ""
    unit = "pts" if abs(round(value, decimals)) >= 2 else "pt"
    return f"{sign}{text}{SPACE}{unit}"


def fr_ratio(x: object, decimals: int = 2) -> str:
    """Format a ratio (observed/expected, hazard ratio): ``1,23``.

    >>> fr_ratio(1.2345), fr_ratio(None)
    ('1,23', '–')
    """
    return fr_number(x, decimals)


def fr_interval(low: object, high: object, *, kind: str = "percent", decimals: int | None = None) -> str:
    """Format an interval ``[low ; high]`` as shares (``kind="percent"``) or ratios (``"ratio"``).

    >>> fr_interval(0.241, 0.329).replace(SPACE, " ")
    '[24,1 % ; 32,9 %]'
    >>> fr_interval(0.8, 1.25, kind="ratio")
    '[0,80 ; 1,25]'
    >>> fr_interval(None, 0.3)
    '–'
    """
    if _is_missing(low) or _is_missing(high):
        return MISSING
    if kind == "percent":
        d = 1 if decimals is None else decimals
        return f"[{fr_percent(low, d)} ; {fr_percent(high, d)}]"
    d = 2 if decimals is None else decimals
    return f"[{fr_number(low, d)} ; {fr_number(high, d)}]"


def fr_pvalue(p: object) -> str:
    """Format a p-value: ``p = 0,032``, ``p < 0,001``.

    >>> fr_pvalue(0.0321), fr_pvalue(0.00001), fr_pvalue(None)
    ('p = 0,032', 'p < 0,001', '–')
    """
    if _is_missing(p):
        return MISSING
    value = float(p)  # type: ignore[arg-type]
    if value < 0.001:
        return "p < 0,001"
    return f"p = {fr_number(value, 3)}"


def fr_date(x: object) -> str:
    """Format a date as ``JJ/MM/AAAA`` (accepts Timestamps, dates and ISO strings).

    >>> fr_date("2025-11-30"), fr_date(pd.Timestamp("2024-09-02 13:00")), fr_date(None)
    ('30/11/2025', '02/09/2024', '–')
    """
    if _is_missing(x) or (isinstance(x, str) and not x.strip()):
        return MISSING
    ts = pd.Timestamp(x) if isinstance(x, _dt.date | pd.Timestamp) else pd.Timestamp(str(x))
    return ts.strftime("%d/%m/%Y")


def fr_datetime(x: object) -> str:
    """Format a date and time as ``JJ/MM/AAAA à HH:MM``.

    >>> fr_datetime("2025-12-01T08:05:00")
    '01/12/2025 à 08:05'
    """
    if _is_missing(x):
        return MISSING
    ts = pd.Timestamp(x)  # type: ignore[arg-type]
    return f"{ts.strftime('%d/%m/%Y')} à {ts.strftime('%H:%M')}"


def fr_month(month: object, *, short: bool = False) -> str:
    """French name of a calendar month number (1..12), abbreviated with ``short``.

    >>> fr_month(8), fr_month("9"), fr_month(None)
    ('août', 'septembre', '–')
    >>> fr_month(1, short=True), fr_month(6, short=True), fr_month(7.0, short=True)
    ('janv.', 'juin', 'juil.')
    """
    if _is_missing(month):
        return MISSING
    return (MONTHS_FR_SHORT if short else MONTHS_FR)[int(month) - 1]  # type: ignore[call-overload]


def suppressed_label(min_n: int = 20) -> str:
    """What a suppressed rate shows instead of its value: ``n < 20``.

    >>> suppressed_label(), suppressed_label(30)
    ('n < 20', 'n < 30')
    """
    return f"n < {int(min_n)}"


# --- display tables --------------------------------------------------------------------------------

FORMATTERS: Final = {
    "number": fr_number,
    "percent": fr_percent,
    "ratio": fr_ratio,
    "date": fr_date,
    "pvalue": fr_pvalue,
    "month": fr_month,
    "text": lambda x: MISSING if _is_missing(x) else str(x),
}
"""Column kinds understood by :func:`format_table`."""


def format_table(
    df: pd.DataFrame,
    columns: Sequence[tuple[str, str, str]],
    *,
    suppressed: str | None = "suppressed",
    suppress: Sequence[str] = (),
    min_n: int = 20,
    intervals: Mapping[str, tuple[str, str, str]] | None = None,
) -> pd.DataFrame:
    """Turn a result table into a display table of French strings.

    Parameters
    ----------
    df
        A tidy result table (dimensions, counts, rates, ...).
    columns
        ``(column, French header, kind)`` triples, in display order; ``kind`` is one of
        :data:`FORMATTERS` (``number``, ``percent``, ``ratio``, ``date``, ``pvalue``, ``month``,
        ``text``) or ``"interval"`` for a computed column declared in ``intervals``.
    suppressed
        Name of the boolean column that flags suppressed rows (``None``: nothing is suppressed).
    suppress
        Columns (source names, or interval names) replaced by ``n < min_n`` on suppressed rows.
    min_n
        The threshold shown in the suppression label.
    intervals
        ``name -> (low column, high column, "percent"|"ratio")`` for interval columns.

    Examples
    --------
    >>> t = pd.DataFrame({"cfa": ["A", "B"], "n_contracts": [1200, 12], "rate": [0.284, 0.5],
    ...                   "ci_low": [0.26, 0.25], "ci_high": [0.31, 0.75], "suppressed": [False, True]})
    >>> out = format_table(t, [("cfa", "CFA", "text"), ("n_contracts", "Contrats", "number"),
    ...                        ("rate", "Taux", "percent"), ("ci", "IC 95 %", "interval")],
    ...                    suppress=["rate", "ci"], intervals={"ci": ("ci_low", "ci_high", "percent")})
    >>> out.map(lambda s: s.replace(SPACE, " ")).values.tolist()
    [['A', '1 200', '28,4 %', '[26,0 % ; 31,0 %]'], ['B', '12', 'n < 20', 'n < 20']]
    """
    intervals = dict(intervals or {})
    mask = (
        df[suppressed].astype("boolean").fillna(False).to_numpy()
        if suppressed and suppressed in df.columns
        else None
    )
    out: dict[str, list[str]] = {}
    for col, header, kind in columns:
        if kind == "interval":
            lo, hi, ikind = intervals[col]
            values = [fr_interval(a, b, kind=ikind) for a, b in zip(df[lo], df[hi], strict=True)]
        else:
            fmt = FORMATTERS[kind]
            values = [fmt(v) for v in df[col]]
        if mask is not None and col in suppress:
            label = suppressed_label(min_n)
            values = [label if m else v for v, m in zip(values, mask, strict=True)]
        out[header] = values
    return pd.DataFrame(out, index=range(len(df)), dtype=object)


def table_html(
    table: pd.DataFrame,
    *,
    table_id: str,
    caption: str,
    note: str | None = None,
    numeric: Sequence[str] | None = None,
) -> str:
    """Render a display table (strings, see :func:`format_table`) as accessible HTML.

    Every cell is escaped. Columns named in ``numeric`` (default: every column but the first) are
    right-aligned. ``table_id`` becomes the anchor the findings point to.

    >>> t = pd.DataFrame({"CFA": ["A & B"], "Taux": ["28,4 %"]})
    >>> print(table_html(t, table_id="tab-x", caption="Exemple"))  # doctest: +NORMALIZE_WHITESPACE
    <figure class="table" id="tab-x"><figcaption>Exemple</figcaption><table>
    <thead><tr><th scope="col">CFA</th><th scope="col" class="num">Taux</th></tr></thead>
    <tbody><tr><td>A &amp; B</td><td class="num">28,4 %</td></tr></tbody></table></figure>
    """
    cols = list(table.columns)
    num = set(cols[1:] if numeric is None else numeric)
    num_attr = ' class="num"'
    head = "".join(f'<th scope="col"{num_attr if c in num else ""}>{html.escape(str(c))}</th>' for c in cols)
    rows = []
    for row in table.itertuples(index=False):
        cells = "".join(
            f"<td{num_attr if c in num else ''}>{html.escape(str(v))}</td>"
            for c, v in zip(cols, row, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(cols)}" class="empty">Aucune donnée.</td></tr>')
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (
        f'<figure class="table" id="{html.escape(table_id)}"><figcaption>{html.escape(caption)}</figcaption>'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{''.join(rows)}</tbody></table>{note_html}</figure>"
    )
