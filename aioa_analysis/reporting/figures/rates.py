"""Charts of rates and shares by group: horizontal rate bars, a rate over cohorts, vertical share bars."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis.reporting.figures.style import (
    COLORS,
    PALETTE,
    PATTERNS,
    PCT,
    add_hidden_note,
    category_references,
    error_bars,
    layout,
    pct,
    reference_lines,
    status_marker,
    visible,
)


def _rate_hover(head: str, value: str) -> str:
    """The hover text of a rate with its 95 % interval and its contracts (``customdata``: interval
    low, high, number of contracts); ``value``: the axis of the rate (``"x"`` or ``"y"``)."""
    return (
        f"{head}<br>Taux : %{{{value}:.1f}}{PCT}<br>IC 95{PCT} : [%{{customdata[0]:.1f}}{PCT}"
        f" ; %{{customdata[1]:.1f}}{PCT}]<br>Contrats : %{{customdata[2]:,.0f}}<extra></extra>"
    )


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
    vis = visible(table, suppressed)
    x = pct(vis[rate])
    colors = [COLORS["alert"] if str(v) in set(map(str, highlight)) else COLORS["main"] for v in vis[label]]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[str(v) for v in vis[label]],
            orientation="h",
            marker=status_marker(colors),
            error_x=error_bars(x, vis[ci_low], vis[ci_high], scale=100),
            customdata=list(
                zip(pct(vis[ci_low]), pct(vis[ci_high]), vis[n].astype("float").tolist(), strict=True)
            ),
            hovertemplate=_rate_hover("%{y}", "x"),
            name="Taux observé",
            showlegend=False,
        )
    )
    category_references(fig, vis, label=label, reference=reference, name=reference_name)
    reference_lines(fig, references, orientation="v")
    layout(
        fig,
        xtitle=xtitle,
        height=max(260, 36 * len(vis) + 150),
        showlegend=True,
        xaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    add_hidden_note(fig, table, label, suppressed, min_n)
    return fig


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
    vis = visible(table, suppressed)
    xs = [str(v) for v in vis[x]]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs + xs[::-1],
            y=pct(vis[ci_high]) + pct(vis[ci_low])[::-1],
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
            y=pct(vis[rate]),
            mode="lines+markers",
            name="Taux observé",
            line={"color": COLORS["main"], "width": 2.5},
            marker={"size": 9},
            customdata=list(
                zip(pct(vis[ci_low]), pct(vis[ci_high]), vis[n].astype(float).tolist(), strict=True)
            ),
            hovertemplate=_rate_hover("%{x}", "y"),
        )
    )
    reference_lines(fig, references, orientation="h")
    return _percent_by_category(
        fig, table, at=x, suppressed=suppressed, min_n=min_n, xtitle=xtitle, ytitle=ytitle
    )


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
    vis = visible(table, suppressed)
    fig = go.Figure()
    groups = [(None, vis)] if group is None else list(vis.groupby(group, sort=False, observed=True))
    for i, (name, sub) in enumerate(groups):
        y = pct(sub[share])
        err = error_bars(y, sub[ci_low], sub[ci_high], scale=100) if ci_low and ci_high else None
        counts = sub[count].astype(float).tolist() if count and count in sub.columns else [None] * len(sub)
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in sub[label]],
                y=y,
                error_y=err,
                name="" if name is None else str(name),
                marker={
                    "color": PALETTE[i % len(PALETTE)],
                    "pattern": {"shape": PATTERNS[i % len(PATTERNS)]},
                },
                customdata=counts,
                hovertemplate="%{x}<br>%{y:.1f}"
                + PCT
                + "<br>Effectif : %{customdata:,.0f}<extra>%{fullData.name}</extra>",
            )
        )
    return _percent_by_category(
        fig,
        table,
        at=label,
        suppressed=suppressed,
        min_n=min_n,
        xtitle=xtitle,
        ytitle=ytitle,
        barmode="group",
        showlegend=group is not None,
    )


def rate_lines(
    table: pd.DataFrame,
    *,
    x: str,
    group: str,
    main: str,
    rate: str = "rate",
    n: str = "n_contracts",
    suppressed: str = "suppressed",
    xtitle: str = "Année scolaire de début du contrat",
    ytitle: str = "Taux de rupture",
    min_n: int = 20,
) -> go.Figure:
    """One line per group over ordered periods (cohorts); the group ``main`` (e.g. the département)
    drawn thick in the main colour, the others thin. Suppressed points are not drawn (a note counts them).

    >>> t = pd.DataFrame({"who": ["Dép.", "Dép.", "CFA A", "CFA A"], "cohort": ["2022", "2023"] * 2,
    ...                   "rate": [0.2, 0.25, 0.3, 0.1], "n_contracts": [100, 120, 40, 50],
    ...                   "suppressed": [False, False, False, True]})
    >>> [(d.name, d.y) for d in rate_lines(t, x="cohort", group="who", main="Dép.").data]
    [('Dép.', (20.0, 25.0)), ('CFA A', (30.0,))]
    """
    vis = visible(table, suppressed)
    fig = go.Figure()
    names = [main] + [g for g in dict.fromkeys(vis[group].astype(str)) if g != main]
    for i, name in enumerate(names):
        sub = vis.loc[vis[group].astype(str) == name]
        if sub.empty:
            continue
        first = name == main
        fig.add_trace(
            go.Scatter(
                x=[str(v) for v in sub[x]],
                y=pct(sub[rate]),
                mode="lines+markers",
                name=name,
                line={
                    "color": COLORS["main"] if first else PALETTE[1 + i % (len(PALETTE) - 1)],
                    "width": 4 if first else 1.5,
                },
                marker={"size": 9 if first else 5},
                customdata=sub[n].astype(float).tolist(),
                hovertemplate="%{x}<br>Taux : %{y:.1f}"
                + PCT
                + "<br>Contrats : %{customdata:,.0f}<extra>%{fullData.name}</extra>",
            )
        )
    return _percent_by_category(
        fig, table, at=x, suppressed=suppressed, min_n=min_n, xtitle=xtitle, ytitle=ytitle, height=460
    )


def _percent_by_category(
    fig: go.Figure,
    table: pd.DataFrame,
    *,
    at: str,
    suppressed: str,
    min_n: int,
    xtitle: str,
    ytitle: str,
    **kwargs: object,
) -> go.Figure:
    """The layout of percentages (from 0) over categories (the column ``at``: groups or ordered
    periods), and the note counting the rows of ``table`` not drawn; ``kwargs`` go to :func:`layout`."""
    layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        yaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        xaxis={"type": "category"},
        **kwargs,  # type: ignore[arg-type]  # layout types height as int
    )
    add_hidden_note(fig, table, at, suppressed, min_n)
    return fig


def paired_rate_bars(
    table: pd.DataFrame,
    *,
    label: str,
    names: tuple[str, str],
    prefix: str = "dept_",
    references: pd.DataFrame | None = None,
    xtitle: str = "Taux de rupture",
    min_n: int = 20,
) -> go.Figure:
    """Two horizontal bars per group: the report's own rate (a CFA's, main colour) and the comparison
    base's for the same group (the département's, grey), each with its 95 % interval.

    ``table`` holds one row per group: ``label``, the own columns ``rate``, ``ci_low``, ``ci_high``,
    ``n_contracts``, ``suppressed`` and the same columns with ``prefix`` for the comparison base.
    ``names``: the legend names of the two series. A hidden cell (either side) is not drawn: its bar
    is missing, and the note under the chart counts the groups whose own rate is hidden.

    >>> t = pd.DataFrame({"label": ["A", "B"], "rate": [0.2, 0.3], "ci_low": [0.1, 0.2],
    ...     "ci_high": [0.3, 0.4], "n_contracts": [50, 60], "suppressed": [False, True],
    ...     "dept_rate": [0.25, 0.28], "dept_ci_low": [0.2, 0.24], "dept_ci_high": [0.3, 0.32],
    ...     "dept_n_contracts": [500, 600], "dept_suppressed": [False, False]})
    >>> fig = paired_rate_bars(t, label="label", names=("CFA", "Département"))
    >>> [tr.name for tr in fig.data], fig.data[0].x, [round(v, 1) for v in fig.data[1].x]
    (['CFA', 'Département'], (20.0, None), [25.0, 28.0])
    """
    fig = go.Figure()
    ys = [str(v) for v in table[label]]
    for (pre, name), color in zip(
        ((("", names[0])), (prefix, names[1])), (COLORS["main"], COLORS["muted"]), strict=True
    ):
        hidden = table[f"{pre}suppressed"].astype("boolean").fillna(False).to_numpy()
        rate = table[f"{pre}rate"].astype("float64").where(~hidden)
        x = pct(rate)
        lo = table[f"{pre}ci_low"].astype("float64").where(~hidden)
        hi = table[f"{pre}ci_high"].astype("float64").where(~hidden)
        n = table[f"{pre}n_contracts"].astype("float64").where(~hidden)
        fig.add_trace(
            go.Bar(
                x=x,
                y=ys,
                orientation="h",
                name=name,
                marker={"color": color},
                error_x=error_bars(x, lo, hi, scale=100),
                customdata=list(zip(pct(lo), pct(hi), n.tolist(), strict=True)),
                hovertemplate=_rate_hover("%{y}<br>%{fullData.name}", "x"),
            )
        )
    reference_lines(fig, references, orientation="v")
    layout(
        fig,
        xtitle=xtitle,
        height=max(280, 52 * len(table) + 150),
        showlegend=True,
        barmode="group",
        xaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    add_hidden_note(fig, table, label, "suppressed", min_n)
    return fig
