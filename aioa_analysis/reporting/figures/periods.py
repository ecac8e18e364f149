"""Charts over time: the cumulative probability of rupture by month since start, and the months of
the year (crude monthly hazard, observed/expected at equal contract age)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from aioa_analysis.reporting.figures.style import (
    COLORS,
    DASHES,
    PALETTE,
    PCT,
    error_bars,
    interval_color,
    layout,
    pct,
    status_marker,
)


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
                    y=pct(sub[ci_high]) + pct(sub[ci_low])[::-1],
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
                y=pct(sub[estimate]),
                mode="lines+markers",
                line={"shape": "linear", "color": color, "width": 2.5, "dash": DASHES[i % len(DASHES)]},
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
    layout(
        fig,
        xtitle=xtitle,
        ytitle=ytitle,
        yaxis={"ticksuffix": PCT, "rangemode": "tozero"},
        xaxis={"dtick": 3, "rangemode": "tozero"},
    )
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
    ('#0072B2', '#D55E00')
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
            marker=status_marker([COLORS["alert"] if f else COLORS["main"] for f in flags]),
            error_y=error_bars(y, table[ci_low], table[ci_high], scale=100),
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
    layout(
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
    (('#D55E00', '#0072B2'), (1.8, 0.9))
    """
    hidden = (
        table[suppressed].astype("boolean").fillna(False).to_numpy()
        if suppressed in table.columns
        else [False] * len(table)
    )
    r = [None if h or pd.isna(v) else float(v) for v, h in zip(table[ratio], hidden, strict=True)]
    colors = [interval_color(lo, hi) for lo, hi in zip(table[ci_low], table[ci_high], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=[str(v) for v in table[month_label]],
            y=r,
            marker=status_marker(colors),
            error_y=error_bars(r, table[ci_low], table[ci_high]),
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
    layout(
        fig,
        xtitle="Mois calendaire de la rupture",
        ytitle=ytitle,
        showlegend=False,
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero"},
    )
    return fig


def forecast_bars(
    table: pd.DataFrame,
    *,
    month_label: str = "month_label",
    expected: str = "expected",
    pi_low: str = "pi_low",
    pi_high: str = "pi_high",
    risk: str | None = "risk100",
) -> go.Figure:
    """Expected ruptures per future month (bars) with their prediction interval, beside the monthly
    risk of the same calendar month (line, right axis, per 100 contract-months) when ``risk`` is given.

    >>> t = pd.DataFrame({"month_label": ["déc. 2025"], "expected": [76.7], "pi_low": [56], "pi_high": [100],
    ...                   "risk100": [2.1]})
    >>> fig = forecast_bars(t)
    >>> fig.data[0].y, round(fig.data[0].error_y.array[0], 1), fig.data[1].y
    ((76.7,), 23.3, (2.1,))
    """
    xs = [str(v) for v in table[month_label]]
    y = table[expected].astype(float).round(1).tolist()
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=y,
            name="Ruptures attendues (intervalle à 90 %)",
            marker={"color": COLORS["main"]},
            error_y=error_bars(y, table[pi_low], table[pi_high]),
            hovertemplate="%{x}<br>%{y:,.1f} rupture(s) attendue(s)<extra></extra>",
        )
    )
    extra: dict[str, Any] = {}
    if risk and risk in table.columns:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=table[risk].astype(float).round(2).tolist(),
                name="Risque mensuel du même mois (pour 100 contrats-mois)",
                mode="lines+markers",
                yaxis="y2",
                line={"color": COLORS["alert"], "dash": "dot"},
                hovertemplate="%{x}<br>%{y:.2f} pour 100 contrats-mois<extra></extra>",
            )
        )
        extra["yaxis2"] = {
            "title": {"text": "Risque (pour 100 contrats-mois)"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        }
    layout(
        fig,
        xtitle="Mois",
        ytitle="Ruptures attendues",
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero"},
        **extra,
    )
    return fig


def backtest_chart(
    table: pd.DataFrame,
    *,
    month_label: str = "month_label",
    expected: str = "expected",
    pi_low: str = "pi_low",
    pi_high: str = "pi_high",
    observed: str = "observed",
) -> go.Figure:
    """The forecast made a year earlier (line and its interval band) against the observed ruptures
    (markers): months outside their interval in the alert colour.

    >>> t = pd.DataFrame({"month_label": ["a", "b"], "expected": [80.0, 50.0], "pi_low": [60, 35],
    ...                   "pi_high": [100, 65], "observed": [77, 70]})
    >>> backtest_chart(t).data[-1].marker.color
    ('#0072B2', '#D55E00')
    """
    xs = [str(v) for v in table[month_label]]
    lo, hi = table[pi_low].astype(float), table[pi_high].astype(float)
    obs = table[observed].astype(float)
    inside = (obs >= lo) & (obs <= hi)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=xs, y=hi.tolist(), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=lo.tolist(),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=COLORS["band"],
            name="Intervalle de prévision à 90 %",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=table[expected].astype(float).round(1).tolist(),
            mode="lines",
            line={"color": COLORS["main"], "dash": "dash"},
            name="Prévu 12 mois avant",
            hovertemplate="%{x}<br>Prévu : %{y:,.1f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=obs.tolist(),
            mode="markers",
            marker={
                "size": 9,
                "color": [COLORS["main"] if i else COLORS["alert"] for i in inside],
                "symbol": ["circle" if i else "triangle-up" for i in inside],
            },
            name="Ruptures observées",
            hovertemplate="%{x}<br>Observé : %{y:,.0f}<extra></extra>",
        )
    )
    layout(fig, xtitle="Mois", ytitle="Ruptures", xaxis={"type": "category"}, yaxis={"rangemode": "tozero"})
    return fig
