"""Figures draw exactly the table they receive, in French, deterministically."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from aioa_analysis.reporting import figures


def rate_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Hôtellerie", "Bâtiment", "Petit groupe"],
            "n_contracts": [200, 150, 8],
            "n_ruptures": [70, 30, 4],
            "rate": [0.35, 0.20, 0.5],
            "ci_low": [0.29, 0.14, 0.2],
            "ci_high": [0.42, 0.27, 0.8],
            "suppressed": [False, False, True],  # n < 20: must not be drawn
        }
    )


def hz_oe() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month_label": ["juin", "juil.", "sept.", "oct."],
            "n_ruptures": [230, 12, 300, 318],
            "expected": [128.0, 10.0, 330.0, 392.0],
            "oe_ratio": [230 / 128, 1.2, 300 / 330, 318 / 392],
            "oe_low": [1.57, 0.6, 0.81, 0.72],
            "oe_high": [2.05, 2.1, 1.02, 0.9],
            "suppressed": [False, True, False, False],  # July: fewer than min_n contracts, not drawn
        }
    )


def casemix_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["haut", "normal", "bas", "seul", "écart non retenu"],
            "value": [1.5, 1.0, 0.6, float("nan"), 1.4],
            "ci_low": [1.1, 0.8, 0.4, float("nan"), 1.05],
            "ci_high": [2.0, 1.2, 0.9, float("nan"), 1.9],
            "comparable": [True, True, True, False, True],
            "alert": [True, False, True, False, False],  # the last: interval above 1, not an alert
        }
    )


def _all_figures() -> list[go.Figure]:
    limits = pd.DataFrame(
        {
            "n": [10, 100, 200],
            "lower_95": [0.0, 0.15, 0.17],
            "upper_95": [0.5, 0.3, 0.28],
            "lower_998": [0.0, 0.1, 0.13],
            "upper_998": [0.6, 0.35, 0.31],
        }
    )
    units = rate_table().assign(flag=["above_998", "within", "within"])
    km = pd.DataFrame(
        {
            "month": [0, 1, 2],
            "rate": [0.0, 0.05, 0.08],
            "ci_low": [0.0, 0.03, 0.06],
            "ci_high": [0.0, 0.07, 0.1],
            "n_at_risk": [100, 95, 90],
        }
    )
    hz = pd.DataFrame(
        {
            "month_label": ["juin", "juil."],
            "hazard": [0.02, 0.05],
            "ci_low": [0.01, 0.03],
            "ci_high": [0.03, 0.07],
            "n_ruptures": [10, 25],
            "contract_months": [500, 500],
            "critical": [False, True],
        }
    )
    cm = casemix_rows()
    return [
        figures.rate_bars(rate_table(), label="label"),
        figures.funnel_plot(units, limits, label="label", target=0.22),
        figures.casemix_forest(cm),
        figures.rate_trend(rate_table().assign(cohort=["2022-2023", "2023-2024", "2024-2025"]), x="cohort"),
        figures.survival_curves(km, estimate="rate"),
        figures.share_bars(rate_table().rename(columns={"rate": "share"}), label="label"),
        figures.monthly_hazard(hz),
        figures.monthly_oe(hz_oe()),
    ]


@pytest.mark.parametrize(
    "fig", _all_figures(), ids=["bars", "funnel", "casemix", "trend", "km", "shares", "hazard", "hazard_oe"]
)
def test_every_figure_is_french_and_has_no_inner_title(fig):
    assert isinstance(fig, go.Figure)
    assert fig.layout.separators == ", "
    assert fig.layout.title.text is None  # the report's caption is the title
    text = json.dumps(fig.to_plotly_json()["layout"], ensure_ascii=False, default=str)
    for english in ("Rate", "Month", "Count", "Observed", "Expected"):
        assert f'"{english}' not in text


def test_figures_are_deterministic():
    a = [f.to_json() for f in _all_figures()]
    b = [f.to_json() for f in _all_figures()]
    assert a == b


def test_rate_bars_draw_the_table_values_and_skip_suppressed_rows():
    fig = figures.rate_bars(rate_table(), label="label")
    bar = fig.data[0]
    assert list(bar.y) == ["Hôtellerie", "Bâtiment"]  # suppressed "Petit groupe" not drawn
    assert list(bar.x) == pytest.approx([35.0, 20.0])
    assert list(bar.error_x.array) == pytest.approx([7.0, 7.0])  # 42 - 35, 27 - 20
    assert list(bar.error_x.arrayminus) == pytest.approx([6.0, 6.0])
    assert fig.layout.xaxis.ticksuffix == "\u202f%"
    assert any("secret statistique" in (a.text or "") for a in fig.layout.annotations)


def test_rate_bars_reference_lines_are_named_in_the_legend_not_on_the_chart():
    refs = pd.DataFrame(
        {
            "value": [0.224, 0.21, 0.178],
            "label": ["Ensemble : 22,4 %", "France 2022 : 21,0 %", "CVL : 17,8 %"],
        }
    )
    fig = figures.rate_bars(rate_table(), label="label", references=refs)
    assert [s.x0 for s in fig.layout.shapes] == pytest.approx([22.4, 21.0, 17.8])
    assert [s.name for s in fig.layout.shapes] == list(refs["label"])
    assert all(s.showlegend for s in fig.layout.shapes)
    assert len({s.line.dash for s in fig.layout.shapes}) == 3  # told apart in the legend
    # no reference label written over the bars (nothing can overlap): the only text is the note
    assert [a.text for a in fig.layout.annotations] == ["Non affichés (secret statistique) : 1 groupe(s)."]
    assert fig.layout.showlegend is True and fig.data[0].showlegend is False


def test_rate_bars_per_group_reference_markers():
    t = rate_table().assign(france=[0.36, None, 0.3])
    fig = figures.rate_bars(t, label="label", reference="france", reference_name="France (DARES, 2022)")
    marks = fig.data[1]
    assert marks.name == "France (DARES, 2022)" and marks.marker.symbol == "diamond"
    # only visible groups that have a reference: "Petit groupe" is suppressed, Bâtiment has none
    assert list(marks.y) == ["Hôtellerie"] and list(marks.x) == pytest.approx([36.0])


def test_funnel_plot_colours_by_flag_and_draws_the_limit_columns():
    units = rate_table().assign(flag=["above_998", "within", "within"])
    limits = pd.DataFrame(
        {
            "n": [10, 200],
            "lower_95": [0.0, 0.17],
            "upper_95": [0.5, 0.28],
            "lower_998": [0.0, 0.13],
            "upper_998": [0.6, 0.31],
        }
    )
    fig = figures.funnel_plot(units, limits, label="label", target=0.22, highlight=["Bâtiment"])
    above, within, below = fig.data[-3:]
    assert [above.name, within.name, below.name] == [
        "Au-dessus des limites",
        "Dans les limites",
        "En dessous des limites",
    ]  # the legend explains the colours
    assert list(above.x) == [200.0] and list(within.x) == [150.0] and list(below.x) == []
    assert above.marker.color == figures.COLORS["alert"] and below.marker.color == figures.COLORS["good"]
    assert list(within.marker.symbol) == ["diamond"]  # the highlighted unit
    assert above.customdata[0][1] == "Au-dessus de la limite à 99,8\u202f%"  # in the hover
    upper998 = fig.data[0]
    assert list(upper998.y) == pytest.approx([60.0, 31.0])
    target = next(t for t in fig.data if t.name == "Taux global")
    assert list(target.y) == pytest.approx([22.0, 22.0])


def test_funnel_plot_labels_outliers_and_uses_french_thousands():
    units = pd.DataFrame(
        {
            "label": ["CFA A (0410001A)", "CFA B (0410002B)", "CFA C (0410003C)", "CFA D (0410004D)"],
            "short": ["CFA A", "CFA B", "CFA C", "CFA D"],
            "n_contracts": [1200, 1250, 3000, 400],
            "rate": [0.10, 0.105, 0.30, 0.2],
            "flag": ["below_998", "below_95", "above_95", "within"],
        }
    )
    limits = pd.DataFrame({"n": [10, 3300], "lower_95": [0.0, 0.18], "upper_95": [0.5, 0.22]})
    fig = figures.funnel_plot(
        units,
        limits,
        label="label",
        target=0.2,
        text_label="short",
        limit_columns=[("lower_95", "upper_95", "95")],
    )
    notes = {a.text: a for a in fig.layout.annotations}
    assert set(notes) == {"CFA A", "CFA B", "CFA C"}  # outside the 95 % limits; CFA D is within
    heights = sorted(a.ay for a in fig.layout.annotations)
    top = fig.layout.yaxis.range[1]
    assert min(b - a for a, b in itertools.pairwise(heights)) >= 0.05 * top  # labels never overlap
    assert notes["CFA C"].xanchor == "right"  # near the right edge: written on the left of its point
    hover = next(t for t in fig.data if t.name == "Dans les limites")
    assert hover.customdata[0][0] == "CFA D (0410004D)" and "Contrats : %{x:,.0f}" in hover.hovertemplate
    assert fig.layout.separators == ", " and fig.layout.xaxis.tickformat == ",d"
    assert fig.layout.xaxis.separatethousands is True


def test_spread_labels_keeps_order_and_stays_on_the_chart():
    pts = [(100.0, 1.0, "bas", "g"), (110.0, 1.2, "haut", "g"), (120.0, 1.1, "milieu", "g")]
    out = figures.spread_labels(pts, xmax=1000, top=40)
    assert [o[2] for o in out] == ["haut", "milieu", "bas"]
    ys = [o[5] for o in out]
    assert ys[0] - ys[1] >= 0.055 * 40 - 1e-9 and ys[1] - ys[2] >= 0.055 * 40 - 1e-9
    assert min(ys) > 0  # shifted up rather than below the axis
    assert figures.spread_labels([], xmax=1, top=1) == []


def test_casemix_forest_colours_alerts_only_and_names_non_comparable_cfas():
    fig = figures.casemix_forest(casemix_rows(), highlight=["normal"])
    # colour follows the alert of the whole report, not the interval: "écart non retenu" stays blue
    assert list(fig.data[0].marker.color) == [
        figures.COLORS["alert"],
        figures.COLORS["national"],
        figures.COLORS["good"],
        figures.COLORS["main"],
    ]
    assert list(fig.data[0].y) == ["haut", "normal", "bas", "écart non retenu"]
    # the non comparable CFA has its row, with no visible point, and says so
    assert list(fig.data[1].y) == ["seul"] and fig.data[1].marker.opacity == 0
    assert [a.text for a in fig.layout.annotations] == ["non comparable"]
    assert list(fig.layout.yaxis.categoryarray) == list(casemix_rows()["label"])
    assert [s.x0 for s in fig.layout.shapes] == [1]


def test_funnel_plot_draws_the_over_dispersion_limits_by_default():
    limits = pd.DataFrame(
        {
            "n": [10, 100],
            "lower_95": [0.0, 0.15],
            "upper_95": [0.5, 0.3],
            "lower_998": [0.0, 0.1],
            "upper_998": [0.6, 0.35],
            "lower_95_adj": [0.0, 0.1],
            "upper_95_adj": [0.6, 0.4],
            "lower_998_adj": [0.0, 0.05],
            "upper_998_adj": [0.7, 0.45],
        }
    )
    units = rate_table().assign(flag=["within", "within", "within"])
    fig = figures.funnel_plot(units, limits, label="label", target=0.22)
    upper = [t for t in fig.data if t.name and t.name.startswith("Limites")]
    assert [t.name for t in upper] == [
        "Limites 99,8\u202f% (sur-dispersion)",
        "Limites 95\u202f% (sur-dispersion)",
    ]
    assert list(upper[0].y) == [70.0, 45.0]
    plain = figures.funnel_plot(
        units, limits.filter(regex="^(n|lower_95|upper_95|lower_998|upper_998)$"), label="label", target=0.22
    )
    assert [t.name for t in plain.data if t.name and t.name.startswith("Limites")] == [
        "Limites 99,8\u202f%",
        "Limites 95\u202f%",
    ]


def test_survival_curves_one_line_per_group_joining_the_monthly_points():
    t = pd.DataFrame(
        {
            "g": ["A", "A", "B", "B"],
            "month": [0, 1, 0, 1],
            "rate": [0, 0.1, 0, 0.2],
            "ci_low": [0, 0.05, 0, 0.1],
            "ci_high": [0, 0.15, 0, 0.3],
            "n_at_risk": [50, 45, 60, 48],
        }
    )
    fig = figures.survival_curves(t, estimate="rate", group="g")
    assert [tr.name for tr in fig.data] == ["A", "B"]  # no band with several groups
    # not steps: on a monthly grid a step shows 0 % during the whole first month
    assert all(tr.line.shape == "linear" and tr.mode == "lines+markers" for tr in fig.data)
    assert "premiers mois" in fig.data[0].hovertemplate
    assert list(fig.data[1].y) == pytest.approx([0.0, 20.0])


def test_monthly_hazard_has_raw_counts_on_second_axis():
    fig = _all_figures()[-2]
    assert fig.data[0].y == pytest.approx((2.0, 5.0))  # per 100 contract-months
    assert fig.data[1].yaxis == "y2" and list(fig.data[1].y) == [10.0, 25.0]
    assert list(fig.data[0].marker.color) == [figures.COLORS["main"], figures.COLORS["alert"]]


def test_monthly_oe_draws_the_ratios_with_a_line_at_one():
    fig = figures.monthly_oe(hz_oe())
    bar = fig.data[0]
    assert list(bar.x) == ["juin", "juil.", "sept.", "oct."]
    assert bar.y[0] == pytest.approx(230 / 128) and bar.y[1] is None  # suppressed month left empty
    assert list(bar.marker.color) == [
        figures.COLORS["alert"],  # interval above 1
        figures.COLORS["main"],
        figures.COLORS["main"],  # interval covers 1
        figures.COLORS["good"],  # interval below 1
    ]
    assert bar.error_y.array[0] == pytest.approx(2.05 - 230 / 128)
    assert bar.error_y.arrayminus[3] == pytest.approx(318 / 392 - 0.72)
    assert list(bar.customdata[0]) == [230.0, 128.0]  # observed and expected in the hover
    assert [sh.y0 for sh in fig.layout.shapes] == [1]


def test_share_bars_grouped():
    t = pd.DataFrame(
        {
            "label": ["60 j", "180 j", "60 j", "180 j"],
            "g": ["A", "A", "B", "B"],
            "share": [0.2, 0.4, 0.1, 0.3],
            "n_ruptures": [50, 50, 40, 40],
        }
    )
    fig = figures.share_bars(t, label="label", group="g")
    assert [tr.name for tr in fig.data] == ["A", "B"]
    assert fig.layout.barmode == "group"
