"""The charts' common style: colours, French separators, layout, interval bars, reference lines and
the note that counts the groups not drawn (suppressed)."""

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
    "main": "#0072B2",  # observed rates (Okabe-Ito blue)
    "alert": "#D55E00",  # above the upper limit / significantly high (Okabe-Ito vermillion)
    "good": "#009E73",  # below the lower limit (Okabe-Ito bluish green)
    "muted": "#595959",  # notes, reference lines, suppressed (7:1 on white)
    "limit95": "#8C8C8C",
    "limit998": "#333333",
    "band": "rgba(0, 114, 178, 0.15)",
    "national": "#CC79A7",  # Okabe-Ito reddish purple
    "regional": "#000000",
    "text": "#1b2631",  # text written on a chart (the page's text colour)
}
"""The charts' colours: the Okabe-Ito palette, safe for the common colour-blindnesses. Colour never
carries a meaning alone: an alert is also a triangle pointing up (points) or a hatched bar, a
« below » a triangle pointing down or a dotted bar (:func:`status_marker`, :func:`status_symbols`)."""


PALETTE: Final = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#000000",
    "#E69F00",
    "#56B4E9",
)
"""Series colours, in order: the Okabe-Ito palette (darkest first; its yellow, 1.2:1 on white, left out). A series also has its own dash
(:data:`DASHES`) or bar pattern (:data:`PATTERNS`), so that it can be told apart without colour."""

DASHES: Final = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
"""Line dash of the i-th series (with :data:`PALETTE`)."""

PATTERNS: Final = ("", "/", ".", "x", "\\", "+", "-", "|")
"""Bar fill pattern of the i-th series (with :data:`PALETTE`)."""

_STATUS_SYMBOL: Final = {COLORS["alert"]: "triangle-up", COLORS["good"]: "triangle-down"}
_STATUS_PATTERN: Final = {COLORS["alert"]: "/", COLORS["good"]: "."}


def status_symbols(colors: Sequence[str], default: str = "circle") -> list[str]:
    """Marker symbol of each point, from its status colour: alert ▲, good ▼, else ``default``.

    >>> status_symbols([COLORS["alert"], COLORS["main"], COLORS["good"]])
    ['triangle-up', 'circle', 'triangle-down']
    """
    return [_STATUS_SYMBOL.get(c, default) for c in colors]


def status_marker(colors: Sequence[str]) -> dict[str, Any]:
    """A bar ``marker``: the status colours, and a pattern on alert (hatched) and good (dotted) bars.

    >>> status_marker([COLORS["main"], COLORS["alert"]])["pattern"]["shape"]
    ['', '/']
    """
    return {
        "color": list(colors),
        "pattern": {"shape": [_STATUS_PATTERN.get(c, "") for c in colors], "fillmode": "overlay"},
    }


PLOTLY_CONFIG: Final = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
"""Plotly ``config`` used when the report embeds a figure."""


_AXIS: Final = {
    "automargin": True,
    "gridcolor": "#E5E8EB",
    "linecolor": "#8C8C8C",
    "zerolinecolor": "#BFC5CA",
    "ticks": "",
    "title": {"standoff": 12},
}

TEMPLATE: Final = go.layout.Template(
    layout={
        "colorway": list(PALETTE),
        "font": {"color": COLORS["text"]},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
)
"""A minimal layout template (white, light grid, Okabe-Ito colourway): plotly's ``plotly_white``
repeated its ~8 KB of JSON (every trace type's defaults) in each figure of the page."""


def layout(
    fig: go.Figure, *, xtitle: str = "", ytitle: str = "", height: int = 420, **kwargs: object
) -> go.Figure:
    """The common layout: French separators, the minimal :data:`TEMPLATE`, legend on top, axis titles,
    no fixed width (the chart follows its box: ``autosize``)."""
    fig.update_layout(
        separators=SEPARATORS,
        template=TEMPLATE,
        height=height,
        autosize=True,
        margin={"l": 60, "r": 30, "t": 30, "b": 60},
        font={"family": "Marianne, Arial, Helvetica, sans-serif", "size": 13},
        hoverlabel={"font": {"family": "Arial, Helvetica, sans-serif"}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        xaxis_title=xtitle,
        yaxis_title=ytitle,
        **kwargs,
    )
    return fig


def pct(s: pd.Series) -> list[float | None]:
    """Shares as percentages for plotting (None where missing)."""
    return [None if pd.isna(v) else float(v) * 100 for v in s]


def visible(table: pd.DataFrame, suppressed: str) -> pd.DataFrame:
    """The rows of ``table`` that may be drawn (not flagged in its ``suppressed`` column)."""
    if suppressed in table.columns:
        return table.loc[~table[suppressed].astype("boolean").fillna(False).to_numpy()]
    return table


def add_note(fig: go.Figure, text: str) -> None:
    """A small grey note under the chart."""
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


def hidden_note(table: pd.DataFrame, label: str, suppressed: str, min_n: int) -> str | None:
    """How many groups are not drawn (suppressed), or ``None`` when every group is.

    >>> hidden_note(pd.DataFrame({"g": ["A", "B"], "suppressed": [True, False]}), "g", "suppressed", 20)
    'Non affichés (secret statistique) : 1 groupe(s).'
    """
    if suppressed not in table.columns:
        return None
    hidden = table.loc[table[suppressed].astype("boolean").fillna(False).to_numpy(), label]
    if hidden.empty:
        return None
    return f"Non affichés (secret statistique) : {len(hidden)} groupe(s)."


def add_hidden_note(fig: go.Figure, table: pd.DataFrame, label: str, suppressed: str, min_n: int) -> None:
    """Count the suppressed groups of ``table`` in a note under the chart (when there are any)."""
    note = hidden_note(table, label, suppressed, min_n)
    if note:
        add_note(fig, note)


def error_bars(
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


def interval_color(lo: Any, hi: Any) -> str:
    """Alert colour for an interval entirely above 1, green entirely below 1, else the main colour."""
    if pd.notna(lo) and float(lo) > 1:
        return COLORS["alert"]
    if pd.notna(hi) and float(hi) < 1:
        return COLORS["good"]
    return COLORS["main"]


def reference_lines(
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


def category_references(
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
            x=pct(ref[reference]),
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
