"""Charts comparing units (CFAs) with one another: the raw funnel plot (over-dispersion-aware limits) and
the forest plot of the CFAs compared at equal case-mix (non comparable CFAs shown as such)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Final

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis.reporting.figures.style import (
    COLORS,
    PCT,
    add_hidden_note,
    error_bars,
    layout,
    pct,
    status_symbols,
    visible,
)

FUNNEL_CLASSES: Final = (
    ("above", "Au-dessus des limites", COLORS["alert"]),
    ("within", "Dans les limites", COLORS["main"]),
    ("below", "En dessous des limites", COLORS["good"]),
)
"""Funnel-plot point series: flag prefix, legend name, colour."""

FUNNEL_SYMBOLS: Final = {"above": "triangle-up", "within": "circle", "below": "triangle-down"}
"""Marker of each funnel class: the position is never told by colour alone."""


FLAG_LABELS: Final = {
    "above_998": "Au-dessus de la limite à 99,8" + PCT,
    "above_95": "Au-dessus de la limite à 95" + PCT,
    "within": "Dans les limites",
    "below_95": "En dessous de la limite à 95" + PCT,
    "below_998": "En dessous de la limite à 99,8" + PCT,
}
"""French wording of the funnel flags (:func:`aioa_analysis.stats.compare.funnel_data`)."""


def funnel_plot(
    units: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    label: str,
    target: float,
    n: str = "n_contracts",
    rate: str = "rate",
    flag: str | None = "flag",
    suppressed: str = "suppressed",
    limit_n: str = "n",
    limit_columns: Sequence[tuple[str, str, str]] | None = None,
    highlight: Sequence[str] = (),
    text_label: str | None = None,
    xtitle: str = "Nombre de contrats (dénominateur)",
    ytitle: str = "Taux de rupture",
    min_n: int = 20,
) -> go.Figure:
    """Funnel plot (Spiegelhalter 2005): each unit's rate against its size, with control limits.

    ``units``: one row per unit (``label``, ``n``, ``rate``, optional ``flag`` in
    ``{"above_998", "above_95", "below_95", "below_998", "within"}``-like values: any value starting
    with ``"above"`` is drawn in the alert colour, ``"below"`` in green). ``limits``: the limit
    curves on a grid of sizes (``limit_n`` and the columns named in ``limit_columns``, shares). By
    default the over-dispersion-aware limits (``lower_998_adj`` ..., see
    :func:`aioa_analysis.stats.compare.funnel_curve`) when ``limits`` has them, else the binomial ones.
    ``target`` is the overall rate the limits are built around (a share).

    The units are drawn as three series named in the legend (:data:`FUNNEL_CLASSES`: above the
    95 % limit, within, below); the units outside the 95 % limits (and the ``highlight`` ones) are
    labelled on the chart with their ``text_label`` column (default ``label``, e.g. a short CFA
    name); every point's hover gives its full ``label``. The size axis uses French thousands
    (``1 000``).

    >>> u = pd.DataFrame({"label": ["A"], "n_contracts": [100], "rate": [0.3], "flag": ["within"]})
    >>> lim = pd.DataFrame({"n": [10, 100], "lower_95": [0.0, 0.12], "upper_95": [0.5, 0.28],
    ...                     "lower_998": [0.0, 0.08], "upper_998": [0.6, 0.33]})
    >>> [t.name for t in funnel_plot(u, lim, label="label", target=0.2).data][4:]
    ['Taux global', 'Au-dessus des limites', 'Dans les limites', 'En dessous des limites']
    """
    fig = go.Figure()
    lim = limits.sort_values(limit_n)
    if limit_columns is None:
        limit_columns = default_limit_columns(lim)
    _add_limit_curves(fig, lim, limit_n=limit_n, limit_columns=limit_columns)
    xmax = float(lim[limit_n].max()) if len(lim) else float(units[n].max() if len(units) else 1)
    fig.add_trace(
        go.Scatter(
            x=[0, xmax],
            y=[target * 100, target * 100],
            mode="lines",
            name="Taux global",
            line={"color": COLORS["muted"], "width": 1},
            hoverinfo="skip",
        )
    )
    vis = visible(units, suppressed)
    labelled = _add_units(
        fig, vis, label=label, n=n, rate=rate, flag=flag, highlight=highlight, text_label=text_label
    )
    shown = [v for v in pct(vis[rate]) if v is not None] + [target * 100]
    top = min(100.0, max(shown) * 1.6 + 5) if shown else 100.0  # keep the units readable, not the n=1 limits
    _add_point_labels(fig, labelled, xmax=xmax, top=top)
    layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        height=500,
        yaxis={"ticksuffix": PCT, "range": [0, top]},
        xaxis={"rangemode": "tozero", "tickformat": ",d", "separatethousands": True},
    )
    add_hidden_note(fig, units, label, suppressed, min_n)
    return fig


def default_limit_columns(limits: pd.DataFrame) -> tuple[tuple[str, str, str], ...]:
    """The limit columns drawn by default: the over-dispersion-aware ones (``_adj``) when present.

    >>> default_limit_columns(pd.DataFrame(columns=["lower_95_adj"]))[1][:2]
    ('lower_95_adj', 'upper_95_adj')
    """
    if "lower_95_adj" in limits.columns:
        return (
            ("lower_998_adj", "upper_998_adj", "Limites 99,8" + PCT + " (sur-dispersion)"),
            ("lower_95_adj", "upper_95_adj", "Limites 95" + PCT + " (sur-dispersion)"),
        )
    return (("lower_998", "upper_998", "Limites 99,8" + PCT), ("lower_95", "upper_95", "Limites 95" + PCT))


def _add_limit_curves(
    fig: go.Figure, lim: pd.DataFrame, *, limit_n: str, limit_columns: Sequence[tuple[str, str, str]]
) -> None:
    """The upper and lower control limits (99.8 % solid, 95 % dashed), one legend entry per level."""
    for (lo, hi, name), dash, color in zip(
        limit_columns, ("solid", "dash"), (COLORS["limit998"], COLORS["limit95"]), strict=False
    ):
        if lo not in lim.columns or hi not in lim.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=lim[limit_n].astype(float).tolist(),
                y=pct(lim[hi]),
                mode="lines",
                name=name,
                line={"color": color, "dash": dash, "width": 1.5},
                hoverinfo="skip",
                legendgroup=name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=lim[limit_n].astype(float).tolist(),
                y=pct(lim[lo]),
                mode="lines",
                name="",
                line={"color": color, "dash": dash, "width": 1.5},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
            )
        )


def _add_units(
    fig: go.Figure,
    vis: pd.DataFrame,
    *,
    label: str,
    n: str,
    rate: str,
    flag: str | None,
    highlight: Sequence[str],
    text_label: str | None,
) -> list[tuple[float, float, str, str]]:
    """The units as three series (:data:`FUNNEL_CLASSES`); returns the points to label on the chart,
    ``(x, y, text, colour)``: the units outside the 95 % limits and the highlighted ones."""
    flags = (
        vis[flag].astype("string").fillna("")
        if flag and flag in vis.columns
        else pd.Series("", index=vis.index)
    )
    hl = set(map(str, highlight))
    short = vis[text_label] if text_label and text_label in vis.columns else vis[label]
    position = [f.split("_")[0] if f.startswith(("above", "below")) else "within" for f in flags]
    labelled: list[tuple[float, float, str, str]] = []
    for key, name, color in FUNNEL_CLASSES:
        keep = [p == key for p in position]
        sub = vis.loc[keep]
        sub_flags = [f for f, k in zip(flags, keep, strict=True) if k]
        sub_short = [str(v) for v, k in zip(short, keep, strict=True) if k]
        names = [str(v) for v in sub[label]]
        xs, ys = sub[n].astype(float).tolist(), pct(sub[rate])
        labelled += [
            (x, y, short_name, color)
            for x, y, short_name, full in zip(xs, ys, sub_short, names, strict=True)
            if y is not None and (key != "within" or full in hl)
        ]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={
                    "color": color,
                    "size": [16 if v in hl else 10 for v in names],
                    "symbol": ["diamond" if v in hl else FUNNEL_SYMBOLS[key] for v in names],
                    "line": {"color": "white", "width": 1},
                },
                customdata=[[v, FLAG_LABELS.get(f, name)] for v, f in zip(names, sub_flags, strict=True)],
                name=name,
                hovertemplate="%{customdata[0]}<br>Contrats : %{x:,.0f}<br>Taux : %{y:.1f}"
                + PCT
                + "<br>%{customdata[1]}<extra></extra>",
            )
        )
    return labelled


def _add_point_labels(
    fig: go.Figure, points: Sequence[tuple[float, float, str, str]], *, xmax: float, top: float
) -> None:
    """Write each point's text beside it, joined by a thin line, without overlaps (:func:`spread_labels`)."""
    for x, y, text, color, lx, ly, anchor in spread_labels(points, xmax=xmax, top=top):
        fig.add_annotation(
            x=x,
            y=y,
            ax=lx,
            ay=ly,
            axref="x",
            ayref="y",
            text="<br>".join(textwrap.wrap(text, 24, break_long_words=False)),  # wrapped, never cut
            xanchor=anchor,
            showarrow=True,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor=color,
            standoff=6,
            font={"size": 11, "color": COLORS["text"]},  # coloured text would fall under 4.5:1
            bgcolor="rgba(255, 255, 255, 0.8)",
        )


def spread_labels(
    points: Sequence[tuple[float, float, str, str]], *, xmax: float, top: float, gap: float = 0.055
) -> list[tuple[float, float, str, str, float, float, str]]:
    """Place point labels so that none overlaps: ``(x, y, text, colour, label_x, label_y, xanchor)``.

    The labels keep the vertical order of their points and are at least ``gap`` × ``top`` apart
    (about 20 pixels on a 400-pixel plot), shifted up if the lowest would leave the axis; each sits
    beside its point (on its left in the right third of the plot), joined to it by a thin line.

    >>> out = spread_labels([(100, 20.0, "A", "red"), (120, 20.5, "B", "red")], xmax=1000, top=50)
    >>> [(o[2], round(o[5], 2), o[6]) for o in out]  # text, label height, anchor
    [('B', 20.5, 'left'), ('A', 17.75, 'left')]
    """
    if not points:
        return []
    step = gap * top
    ordered = sorted(points, key=lambda p: (-p[1], p[0], p[2]))
    ys: list[float] = []
    for _x, y, _t, _c in ordered:
        ys.append(min(y, ys[-1] - step) if ys else y)
    low = step / 2
    if ys[-1] < low:  # shift everything up so that the lowest label stays on the chart
        ys = [v + (low - ys[-1]) for v in ys]
    out = []
    for (x, y, text, color), ly in zip(ordered, ys, strict=True):
        right_side = x > 0.66 * xmax
        lx = x - 0.03 * xmax if right_side else x + 0.03 * xmax
        out.append((x, y, text, color, lx, ly, "right" if right_side else "left"))
    return out


def casemix_forest(
    table: pd.DataFrame,
    *,
    label: str = "label",
    ratio: str = "value",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    comparable: str = "comparable",
    alert: str = "alert",
    highlight: Sequence[str] = (),
) -> go.Figure:
    """Forest plot of the CFAs compared at equal case-mix: each comparable CFA's rate ratio against
    the other comparable CFAs with its 95 % interval; a non comparable CFA has a row that says so,
    with no point.

    Colour: alert colour (above) or green (below) only for an **alert** (``alert`` true: the adjusted
    p-value of the whole report), the main colour otherwise, whatever the interval; the highlighted
    CFA (a CFA report's) in the national colour.

    >>> t = pd.DataFrame({"label": ["A", "B"], "value": [1.5, float("nan")], "ci_low": [1.1, float("nan")],
    ...                   "ci_high": [2.0, float("nan")], "comparable": [True, False], "alert": [False, False]})
    >>> fig = casemix_forest(t)
    >>> fig.data[0].marker.color, fig.layout.annotations[0].text
    (('#0072B2',), 'non comparable')
    """
    hl = set(map(str, highlight))
    comp = table.loc[table[comparable].astype(bool)]
    other = table.loc[~table[comparable].astype(bool)]
    colors = []
    for r, a, name in zip(comp[ratio], comp[alert], comp[label], strict=True):
        if str(name) in hl:
            colors.append(COLORS["national"])
        elif bool(a):
            colors.append(COLORS["alert"] if float(r) > 1 else COLORS["good"])
        else:
            colors.append(COLORS["main"])
    r = [None if pd.isna(v) else float(v) for v in comp[ratio]]
    fig = go.Figure(
        go.Scatter(
            x=r,
            y=[str(v) for v in comp[label]],
            mode="markers",
            marker={"color": colors, "size": 11, "symbol": status_symbols(colors, "square")},
            error_x=error_bars(r, comp[ci_low], comp[ci_high]),
            hovertemplate="%{y}<br>Rapport à profil égal : %{x:.2f}<extra></extra>",
            name="",
        )
    )
    names = [str(v) for v in other[label]]
    if names:  # the rows exist on the axis, with no point
        fig.add_trace(
            go.Scatter(x=[1.0] * len(names), y=names, mode="markers", marker={"opacity": 0}, hoverinfo="skip")
        )
    for name in names:
        fig.add_annotation(
            x=1.0, y=name, text="non comparable", showarrow=False, font={"color": COLORS["muted"], "size": 11}
        )
    fig.add_vline(x=1, line={"color": COLORS["muted"], "dash": "dash"})
    layout(
        fig,
        xtitle="Rythme de rupture / celui des autres CFA comparables, à profil égal (1 = pareil)",
        height=max(260, 36 * len(table) + 120),
        showlegend=False,
        xaxis={"type": "log"},
        yaxis={
            "automargin": True,
            "autorange": "reversed",
            "categoryorder": "array",
            "categoryarray": [str(v) for v in table[label]],
        },
    )
    return fig
