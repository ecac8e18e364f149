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


PLOTLY_CONFIG: Final = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
"""Plotly ``config`` used when the report embeds a figure."""


def layout(
    fig: go.Figure, *, xtitle: str = "", ytitle: str = "", height: int = 420, **kwargs: object
) -> go.Figure:
    """The common layout: French separators, white template, legend on top, axis titles."""
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
