"""Charts comparing units (CFAs) with one another: the funnel plot and the observed/expected forest plot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis.reporting.figures.style import (
    COLORS,
    PCT,
    add_hidden_note,
    error_bars,
    interval_color,
    layout,
    pct,
    visible,
)

FUNNEL_CLASSES: Final = (
    ("above", "Au-dessus des limites", COLORS["alert"]),
    ("within", "Dans les limites", COLORS["main"]),
    ("below", "En dessous des limites", COLORS["good"]),
)
"""Funnel-plot point series: flag prefix, legend name, colour."""


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
    limit_columns: Sequence[tuple[str, str, str]] = (
        ("lower_998", "upper_998", "Limites 99,8" + PCT),
        ("lower_95", "upper_95", "Limites 95" + PCT),
    ),
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
    curves on a grid of sizes (``limit_n`` and the columns named in ``limit_columns``, shares).
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
                    "symbol": ["diamond" if v in hl else "circle" for v in names],
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
            text=text,
            xanchor=anchor,
            showarrow=True,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor=color,
            standoff=6,
            font={"size": 11, "color": color},
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


def oe_forest(
    table: pd.DataFrame,
    *,
    label: str,
    ratio: str = "oe_ratio",
    ci_low: str = "oe_ci_low",
    ci_high: str = "oe_ci_high",
    observed: str = "n_ruptures",
    expected: str = "expected",
    suppressed: str = "suppressed",
    highlight: Sequence[str] = (),
    min_n: int = 20,
) -> go.Figure:
    """Forest plot of observed/expected ratios (indirect standardisation) with their 95 % interval.

    A vertical line marks 1 (as many ruptures as expected given the case mix). An interval entirely
    above 1 is drawn in the alert colour, entirely below 1 in green.

    >>> t = pd.DataFrame({"label": ["A"], "oe_ratio": [1.5], "oe_ci_low": [1.1], "oe_ci_high": [2.0],
    ...                   "n_ruptures": [30], "expected": [20.0]})
    >>> oe_forest(t, label="label").data[0].marker.color
    ('#c0392b',)
    """
    vis = visible(table, suppressed)
    colors = []
    for lo, hi, name in zip(vis[ci_low], vis[ci_high], vis[label], strict=True):
        colors.append(COLORS["national"] if str(name) in set(map(str, highlight)) else interval_color(lo, hi))
    r = [None if pd.isna(v) else float(v) for v in vis[ratio]]
    fig = go.Figure(
        go.Scatter(
            x=r,
            y=[str(v) for v in vis[label]],
            mode="markers",
            marker={"color": colors, "size": 11, "symbol": "square"},
            error_x=error_bars(r, vis[ci_low], vis[ci_high]),
            customdata=list(
                zip(vis[observed].astype(float).tolist(), vis[expected].astype(float).tolist(), strict=True)
            ),
            hovertemplate=(
                "%{y}<br>Observé / attendu : %{x:.2f}<br>Ruptures observées : %{customdata[0]:,.0f}"
                "<br>Ruptures attendues : %{customdata[1]:,.1f}<extra></extra>"
            ),
            name="",
        )
    )
    fig.add_vline(x=1, line={"color": COLORS["muted"], "dash": "dash"})
    layout(
        fig,
        xtitle="Ruptures observées / attendues (1 = comme attendu)",
        height=max(260, 36 * len(vis) + 120),
        showlegend=False,
        xaxis={"rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    add_hidden_note(fig, table, label, suppressed, min_n)
    return fig
