"""Report charts: each function takes a result table and returns a :class:`plotly.graph_objects.Figure`.

The functions compute nothing: every value drawn is a column of the table they receive (rates,
interval bounds, funnel limits, Kaplan-Meier estimates...), so that the table printed beside each
chart is the chart's exact audit trail. They only rescale shares to percentages for the axes
(``0.284`` is drawn at ``28.4`` with a ``" %"`` suffix, the French way) and choose labels.

Conventions: French labels; ``layout.separators = ", "`` (decimal comma, space for thousands, also
used by hover labels); a fixed colour for each role (:data:`COLORS`); suppressed rows (denominator
under ``min_n``) are not drawn, a note says so; no title inside the chart (the report's caption is
the title), so that the same figure reads well on screen and in print.

The figures are deterministic: the same table gives the same JSON (no random ids, no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

NNBSP: Final = "\u202f"
SEPARATORS: Final = ", "
"""plotly ``layout.separators``: decimal comma, space as thousands separator."""

PCT: Final = f"{NNBSP}%"

COLORS: Final = {
    "main": "#1f5fa8",  # observed rates
    "alert": "#c0392b",  # above the upper limit / significantly high
    "good": "#1e8449",  # below the lower limit
    "muted": "#7f8c8d",  # reference lines, suppressed
    "limit95": "#95a5a6",
    "limit998": "#34495e",
    "band": "rgba(31, 95, 168, 0.15)",
    "national": "#8e44ad",
    "regional": "#d35400",
}

PALETTE: Final = (
    "#1f5fa8",
    "#d35400",
    "#1e8449",
    "#8e44ad",
    "#c0392b",
    "#16a085",
    "#7f8c8d",
    "#b7950b",
    "#2c3e50",
    "#e84393",
)
"""Series colours, in order (colour-blind friendly enough for up to ~6 series)."""

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

PLOTLY_CONFIG: Final = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
"""Plotly ``config`` used when the report embeds a figure."""


def _layout(
    fig: go.Figure, *, xtitle: str = "", ytitle: str = "", height: int = 420, **kwargs: object
) -> go.Figure:
    fig.update_layout(
        separators=SEPARATORS,
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 30, "t": 30, "b": 60},
        font={"family": "Marianne, Arial, Helvetica, sans-serif", "size": 13},
        hoverlabel={"font": {"family": "Arial, Helvetica, sans-serif"}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        xaxis_title=xtitle,
        yaxis_title=ytitle,
        **kwargs,
    )
    return fig


def _pct(s: pd.Series) -> list[float | None]:
    """Shares as percentages for plotting (None where missing)."""
    return [None if pd.isna(v) else float(v) * 100 for v in s]


def _visible(table: pd.DataFrame, suppressed: str) -> pd.DataFrame:
    if suppressed in table.columns:
        return table.loc[~table[suppressed].astype("boolean").fillna(False).to_numpy()]
    return table


def _note(fig: go.Figure, text: str) -> None:
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=-0.18,
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11, "color": COLORS["muted"]},
    )


def _hidden_note(table: pd.DataFrame, label: str, suppressed: str, min_n: int) -> str | None:
    if suppressed not in table.columns:
        return None
    hidden = table.loc[table[suppressed].astype("boolean").fillna(False).to_numpy(), label]
    if hidden.empty:
        return None
    return f"Non affichés (effectif n < {min_n}) : {len(hidden)} groupe(s)."


def _add_hidden_note(fig: go.Figure, table: pd.DataFrame, label: str, suppressed: str, min_n: int) -> None:
    """Count the suppressed groups of ``table`` in a note under the chart (when there are any)."""
    note = _hidden_note(table, label, suppressed, min_n)
    if note:
        _note(fig, note)


def _error_bars(
    values: Sequence[float | None], ci_low: pd.Series, ci_high: pd.Series, *, scale: float = 1
) -> dict[str, Any]:
    """Asymmetric error bars from the interval bounds (× ``scale``) around the plotted ``values``."""
    return {
        "type": "data",
        "symmetric": False,
        "color": "#444",
        "array": [
            None if pd.isna(h) or v is None else float(h) * scale - v
            for h, v in zip(ci_high, values, strict=True)
        ],
        "arrayminus": [
            None if pd.isna(lo) or v is None else v - float(lo) * scale
            for lo, v in zip(ci_low, values, strict=True)
        ],
    }


def _interval_color(lo: Any, hi: Any) -> str:
    """Alert colour for an interval entirely above 1, green entirely below 1, else the main colour."""
    if pd.notna(lo) and float(lo) > 1:
        return COLORS["alert"]
    if pd.notna(hi) and float(hi) < 1:
        return COLORS["good"]
    return COLORS["main"]


def _reference_lines(
    fig: go.Figure,
    references: pd.DataFrame | None,
    *,
    orientation: str,
    value: str = "value",
    label: str = "label",
) -> None:
    """Add dashed reference lines (``value`` share, ``label`` text) to ``fig``, named in the legend.

    The labels go to the legend (never written on the chart), so that close values such as a
    national 21 % and a regional 17,8 % cannot overlap.
    """
    if references is None or references.empty:
        return
    for i, row in enumerate(references.itertuples(index=False)):
        v = getattr(row, value)
        if pd.isna(v):
            continue
        color = (COLORS["national"], COLORS["regional"], COLORS["muted"])[min(i, 2)]
        dash = ("dash", "dot", "dashdot")[min(i, 2)]
        line = {"dash": dash, "color": color, "width": 1.5}
        text = str(getattr(row, label))
        if orientation == "h":
            fig.add_hline(y=float(v) * 100, line=line, name=text, showlegend=True, layer="above")
        else:
            fig.add_vline(x=float(v) * 100, line=line, name=text, showlegend=True, layer="above")


def _category_references(
    fig: go.Figure, table: pd.DataFrame, *, label: str, reference: str, name: str
) -> None:
    """One marker per group at its own published reference (e.g. the national rate of its sector)."""
    if not reference or reference not in table.columns:
        return
    ref = table.loc[table[reference].notna()]
    if ref.empty:
        return
    fig.add_trace(
        go.Scatter(
            x=_pct(ref[reference]),
            y=[str(v) for v in ref[label]],
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 11,
                "color": COLORS["national"],
                "line": {"color": "white", "width": 1},
            },
            name=name,
            hovertemplate="%{y}<br>" + name + " : %{x:.1f}" + PCT + "<extra></extra>",
        )
    )


# --- rates by group -----------------------------------------------------------------------------


def rate_bars(
    table: pd.DataFrame,
    *,
    label: str,
    rate: str = "rate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    n: str = "n_contracts",
    suppressed: str = "suppressed",
    highlight: Sequence[str] = (),
    references: pd.DataFrame | None = None,
    reference: str = "",
    reference_name: str = "France",
    xtitle: str = "Taux de rupture",
    min_n: int = 20,
) -> go.Figure:
    """Horizontal bars of a rate by group with its 95 % interval, in the table's order.

    ``table`` holds one row per group: the text ``label`` column, ``rate``, ``ci_low``, ``ci_high``
    (shares), ``n`` and ``suppressed``. Suppressed rows are not drawn (a note counts them).
    ``references`` (columns ``value``, ``label``) adds dashed vertical lines, e.g. the
    département's overall rate and the national rate, named in the legend. ``reference`` names a
    column of per-group reference shares (e.g. the national rate of each sector), drawn as a
    diamond on the group's bar and named ``reference_name`` in the legend. Groups named in
    ``highlight`` are drawn in the alert colour (e.g. the CFA of a CFA report).

    >>> t = pd.DataFrame({"label": ["A", "B"], "rate": [0.2, 0.3], "ci_low": [0.1, 0.2],
    ...                   "ci_high": [0.3, 0.4], "n_contracts": [50, 60], "suppressed": [False, False]})
    >>> fig = rate_bars(t, label="label")
    >>> fig.data[0].x, fig.layout.separators
    ((20.0, 30.0), ', ')
    """
    vis = _visible(table, suppressed)
    x = _pct(vis[rate])
    colors = [COLORS["alert"] if str(v) in set(map(str, highlight)) else COLORS["main"] for v in vis[label]]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[str(v) for v in vis[label]],
            orientation="h",
            marker={"color": colors},
            error_x=_error_bars(x, vis[ci_low], vis[ci_high], scale=100),
            customdata=list(
                zip(_pct(vis[ci_low]), _pct(vis[ci_high]), vis[n].astype("float").tolist(), strict=True)
            ),
            hovertemplate=(
                "%{y}<br>Taux : %{x:.1f}"
                + PCT
                + "<br>IC 95"
                + PCT
                + " : [%{customdata[0]:.1f}"
                + PCT
                + " ; %{customdata[1]:.1f}"
                + PCT
                + "]<br>Contrats : %{customdata[2]:,.0f}<extra></extra>"
            ),
            name="Taux observé",
            showlegend=False,
        )
    )
    _category_references(fig, vis, label=label, reference=reference, name=reference_name)
    _reference_lines(fig, references, orientation="v")
    _layout(
        fig,
        xtitle=xtitle,
        height=max(260, 36 * len(vis) + 150),
        showlegend=True,
        xaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    _add_hidden_note(fig, table, label, suppressed, min_n)
    return fig


# --- funnel plot --------------------------------------------------------------------------------


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
    for (lo, hi, name), dash, color in zip(
        limit_columns, ("solid", "dash"), (COLORS["limit998"], COLORS["limit95"]), strict=False
    ):
        if lo not in lim.columns or hi not in lim.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=lim[limit_n].astype(float).tolist(),
                y=_pct(lim[hi]),
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
                y=_pct(lim[lo]),
                mode="lines",
                name="",
                line={"color": color, "dash": dash, "width": 1.5},
                hoverinfo="skip",
                legendgroup=name,
                showlegend=False,
            )
        )
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
    vis = _visible(units, suppressed)
    flags = (
        vis[flag].astype("string").fillna("")
        if flag and flag in vis.columns
        else pd.Series("", index=vis.index)
    )
    hl = set(map(str, highlight))
    short = vis[text_label] if text_label and text_label in vis.columns else vis[label]
    position = [f.split("_")[0] if f.startswith(("above", "below")) else "within" for f in flags]
    labelled: list[tuple[float, float, str, str]] = []  # (x, y, text, colour) of the named points
    for key, name, color in FUNNEL_CLASSES:
        keep = [p == key for p in position]
        sub = vis.loc[keep]
        sub_flags = [f for f, k in zip(flags, keep, strict=True) if k]
        sub_short = [str(v) for v, k in zip(short, keep, strict=True) if k]
        names = [str(v) for v in sub[label]]
        xs, ys = sub[n].astype(float).tolist(), _pct(sub[rate])
        # a text label for the units outside the 95 % limits, and for the highlighted unit
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
    shown = [v for v in _pct(vis[rate]) if v is not None] + [target * 100]
    top = min(100.0, max(shown) * 1.6 + 5) if shown else 100.0  # keep the units readable, not the n=1 limits
    for x, y, text, color, lx, ly, anchor in spread_labels(labelled, xmax=xmax, top=top):
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
    _layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        height=500,
        yaxis={"ticksuffix": PCT, "range": [0, top]},
        xaxis={"rangemode": "tozero", "tickformat": ",d", "separatethousands": True},
    )
    _add_hidden_note(fig, units, label, suppressed, min_n)
    return fig


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


# --- observed / expected ------------------------------------------------------------------------


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
    vis = _visible(table, suppressed)
    colors = []
    for lo, hi, name in zip(vis[ci_low], vis[ci_high], vis[label], strict=True):
        colors.append(
            COLORS["national"] if str(name) in set(map(str, highlight)) else _interval_color(lo, hi)
        )
    r = [None if pd.isna(v) else float(v) for v in vis[ratio]]
    fig = go.Figure(
        go.Scatter(
            x=r,
            y=[str(v) for v in vis[label]],
            mode="markers",
            marker={"color": colors, "size": 11, "symbol": "square"},
            error_x=_error_bars(r, vis[ci_low], vis[ci_high]),
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
    _layout(
        fig,
        xtitle="Ruptures observées / attendues (1 = comme attendu)",
        height=max(260, 36 * len(vis) + 120),
        showlegend=False,
        xaxis={"rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    _add_hidden_note(fig, table, label, suppressed, min_n)
    return fig


# --- trends and curves ----------------------------------------------------------------------------


def rate_trend(
    table: pd.DataFrame,
    *,
    x: str,
    rate: str = "rate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    n: str = "n_contracts",
    suppressed: str = "suppressed",
    references: pd.DataFrame | None = None,
    xtitle: str = "Année scolaire de début du contrat",
    ytitle: str = "Taux de rupture",
    min_n: int = 20,
) -> go.Figure:
    """A rate over ordered periods (cohorts) with its 95 % interval band; reference lines optional.

    >>> t = pd.DataFrame({"cohort": ["2022-2023", "2023-2024"], "rate": [0.2, 0.25],
    ...                   "ci_low": [0.15, 0.2], "ci_high": [0.25, 0.3], "n_contracts": [100, 120]})
    >>> rate_trend(t, x="cohort").data[-1].y
    (20.0, 25.0)
    """
    vis = _visible(table, suppressed)
    xs = [str(v) for v in vis[x]]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs + xs[::-1],
            y=_pct(vis[ci_high]) + _pct(vis[ci_low])[::-1],
            fill="toself",
            fillcolor=COLORS["band"],
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            name="IC 95" + PCT,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=_pct(vis[rate]),
            mode="lines+markers",
            name="Taux observé",
            line={"color": COLORS["main"], "width": 2.5},
            marker={"size": 9},
            customdata=list(
                zip(_pct(vis[ci_low]), _pct(vis[ci_high]), vis[n].astype(float).tolist(), strict=True)
            ),
            hovertemplate=(
                "%{x}<br>Taux : %{y:.1f}"
                + PCT
                + "<br>IC 95"
                + PCT
                + " : [%{customdata[0]:.1f}"
                + PCT
                + " ; %{customdata[1]:.1f}"
                + PCT
                + "]<br>Contrats : %{customdata[2]:,.0f}<extra></extra>"
            ),
        )
    )
    _reference_lines(fig, references, orientation="h")
    _layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        yaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        xaxis={"type": "category"},
    )
    _add_hidden_note(fig, table, x, suppressed, min_n)
    return fig


def survival_curves(
    table: pd.DataFrame,
    *,
    time: str = "month",
    estimate: str = "cum_rupture",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    group: str | None = None,
    at_risk: str = "n_at_risk",
    xtitle: str = "Mois depuis le début du contrat",
    ytitle: str = "Probabilité cumulée de rupture",
) -> go.Figure:
    """Kaplan-Meier cumulative probability of rupture by month since start, one line per group.

    ``table``: one row per (group, time) with the cumulative probability ``estimate`` (a share) and
    its interval; the interval is drawn as a band for a single group only (readability). The value
    at month *m* is the probability of a rupture within *m* months. The monthly points are joined
    by straight lines (markers on the points), not steps: on a monthly grid a step would show 0 %
    during the whole first month although many ruptures happen in the first 45 days.

    >>> t = pd.DataFrame({"month": [0, 1, 2], "cum_rupture": [0.0, 0.05, 0.08],
    ...                   "ci_low": [0.0, 0.03, 0.06], "ci_high": [0.0, 0.07, 0.1], "n_at_risk": [100, 95, 90]})
    >>> survival_curves(t).data[-1].line.shape, survival_curves(t).data[-1].mode
    ('linear', 'lines+markers')
    """
    fig = go.Figure()
    groups = [(None, table)] if group is None else list(table.groupby(group, sort=False, observed=True))
    for i, (name, sub) in enumerate(groups):
        sub = sub.sort_values(time)
        color = PALETTE[i % len(PALETTE)]
        xs = sub[time].astype(float).tolist()
        if len(groups) == 1 and ci_low in sub.columns and ci_high in sub.columns:
            fig.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=_pct(sub[ci_high]) + _pct(sub[ci_low])[::-1],
                    fill="toself",
                    fillcolor=COLORS["band"],
                    mode="lines",
                    line={"width": 0, "shape": "linear"},
                    hoverinfo="skip",
                    name="IC 95" + PCT,
                )
            )
        risk = sub[at_risk].astype(float).tolist() if at_risk in sub.columns else [None] * len(sub)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=_pct(sub[estimate]),
                mode="lines+markers",
                line={"shape": "linear", "color": color, "width": 2.5},
                marker={"size": 5},
                name="Ensemble" if name is None else str(name),
                customdata=risk,
                hovertemplate=(
                    "Rupture dans les %{x} premiers mois : %{y:.1f}"
                    + PCT
                    + "<br>Contrats encore suivis : %{customdata:,.0f}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    _layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        yaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        xaxis={"dtick": 3, "rangemode": "tozero"},
    )
    return fig


def share_bars(
    table: pd.DataFrame,
    *,
    label: str,
    share: str = "share",
    ci_low: str | None = None,
    ci_high: str | None = None,
    count: str | None = "n_ruptures",
    group: str | None = None,
    suppressed: str = "suppressed",
    xtitle: str = "",
    ytitle: str = "Part",
    min_n: int = 20,
) -> go.Figure:
    """Vertical bars of shares by ordered category (phases, re-contracting windows, diploma outcome).

    With ``group``, one series per group (grouped bars). Intervals are drawn when given.

    >>> t = pd.DataFrame({"phase": ["0-45j", "46j-3m"], "share": [0.3, 0.2], "n_ruptures": [30, 20]})
    >>> share_bars(t, label="phase").data[0].y
    (30.0, 20.0)
    """
    vis = _visible(table, suppressed)
    fig = go.Figure()
    groups = [(None, vis)] if group is None else list(vis.groupby(group, sort=False, observed=True))
    for i, (name, sub) in enumerate(groups):
        y = _pct(sub[share])
        err = _error_bars(y, sub[ci_low], sub[ci_high], scale=100) if ci_low and ci_high else None
        counts = sub[count].astype(float).tolist() if count and count in sub.columns else [None] * len(sub)
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in sub[label]],
                y=y,
                error_y=err,
                name="" if name is None else str(name),
                marker={"color": PALETTE[i % len(PALETTE)]},
                customdata=counts,
                hovertemplate="%{x}<br>%{y:.1f}"
                + PCT
                + "<br>Effectif : %{customdata:,.0f}<extra>%{fullData.name}</extra>",
            )
        )
    _layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        barmode="group",
        showlegend=group is not None,
        yaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        xaxis={"type": "category"},
    )
    _add_hidden_note(fig, table, label, suppressed, min_n)
    return fig


def monthly_hazard(
    table: pd.DataFrame,
    *,
    month_label: str = "month_label",
    hazard: str = "hazard",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    ruptures: str = "n_ruptures",
    exposure: str = "contract_months",
    highlight: str | None = "critical",
    ytitle: str = "Ruptures pour 100 contrats-mois",
) -> go.Figure:
    """Monthly rupture hazard by calendar month (bars with 95 % interval) and raw ruptures (line).

    The hazard (ruptures in the month over contract-months at risk in the month) is drawn per 100
    contract-months; months flagged in the boolean ``highlight`` column (e.g. significantly above
    the average) are drawn in the alert colour. The raw counts go on a second axis, so that a
    September peak of starts is not mistaken for a peak of risk.

    >>> t = pd.DataFrame({"month_label": ["janv.", "févr."], "hazard": [0.02, 0.03], "ci_low": [0.01, 0.02],
    ...                   "ci_high": [0.03, 0.04], "n_ruptures": [10, 15], "contract_months": [500, 500],
    ...                   "critical": [False, True]})
    >>> monthly_hazard(t).data[0].marker.color
    ('#1f5fa8', '#c0392b')
    """
    y = [None if pd.isna(v) else float(v) * 100 for v in table[hazard]]
    flags = (
        table[highlight].astype("boolean").fillna(False).tolist()
        if highlight and highlight in table.columns
        else [False] * len(table)
    )
    xs = [str(v) for v in table[month_label]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=xs,
            y=y,
            name="Risque mensuel (pour 100 contrats-mois)",
            marker={"color": [COLORS["alert"] if f else COLORS["main"] for f in flags]},
            error_y=_error_bars(y, table[ci_low], table[ci_high], scale=100),
            customdata=table[exposure].astype(float).tolist() if exposure in table.columns else None,
            hovertemplate="%{x}<br>%{y:.2f} rupture(s) pour 100 contrats-mois<br>Contrats-mois : %{customdata:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=table[ruptures].astype(float).tolist(),
            name="Ruptures (nombre brut)",
            mode="lines+markers",
            yaxis="y2",
            line={"color": COLORS["muted"], "dash": "dot"},
            hovertemplate="%{x}<br>%{y:,.0f} rupture(s)<extra></extra>",
        )
    )
    _layout(
        fig,
        xtitle="Mois calendaire de la rupture",
        ytitle=ytitle,
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero"},
        yaxis2={
            "title": {"text": "Ruptures (nombre)"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
    )
    return fig


def monthly_oe(
    table: pd.DataFrame,
    *,
    month_label: str = "month_label",
    ratio: str = "oe_ratio",
    ci_low: str = "oe_low",
    ci_high: str = "oe_high",
    observed: str = "n_ruptures",
    expected: str = "expected",
    suppressed: str = "suppressed",
    ytitle: str = "Ruptures observées / attendues",
) -> go.Figure:
    """Observed/expected ruptures by calendar month at equal contract age, with 95 % intervals.

    ``expected`` are the ruptures the ages of the contracts in force predict
    (:func:`aioa_analysis.stats.seasonality.age_adjusted_seasonality`); a horizontal line marks 1 (the
    average month). A month whose interval lies entirely above 1 is drawn in the alert colour,
    entirely below 1 in green. Suppressed months are left empty.

    >>> t = pd.DataFrame({"month_label": ["juin", "sept."], "oe_ratio": [1.8, 0.9], "oe_low": [1.5, 0.8],
    ...                   "oe_high": [2.1, 1.01], "n_ruptures": [230, 300], "expected": [128.0, 333.0]})
    >>> fig = monthly_oe(t)
    >>> fig.data[0].marker.color, fig.data[0].y
    (('#c0392b', '#1f5fa8'), (1.8, 0.9))
    """
    hidden = (
        table[suppressed].astype("boolean").fillna(False).to_numpy()
        if suppressed in table.columns
        else [False] * len(table)
    )
    r = [None if h or pd.isna(v) else float(v) for v, h in zip(table[ratio], hidden, strict=True)]
    colors = [_interval_color(lo, hi) for lo, hi in zip(table[ci_low], table[ci_high], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=[str(v) for v in table[month_label]],
            y=r,
            marker={"color": colors},
            error_y=_error_bars(r, table[ci_low], table[ci_high]),
            customdata=list(
                zip(
                    table[observed].astype(float).tolist(),
                    table[expected].astype(float).tolist(),
                    strict=True,
                )
            ),
            hovertemplate=(
                "%{x}<br>Observé / attendu : %{y:.2f}<br>Ruptures observées : %{customdata[0]:,.0f}"
                "<br>Ruptures attendues (ancienneté des contrats) : %{customdata[1]:,.1f}<extra></extra>"
            ),
            name="Observé / attendu",
        )
    )
    fig.add_hline(y=1, line={"color": COLORS["muted"], "dash": "dash"})
    _layout(
        fig,
        xtitle="Mois calendaire de la rupture",
        ytitle=ytitle,
        showlegend=False,
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero"},
    )
    return fig
