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

Modules: :mod:`.style` (colours, layout, shared pieces), :mod:`.rates` (rates and shares by group),
:mod:`.comparison` (funnel plot, the CFAs compared at equal case-mix), :mod:`.periods` (survival curves,
months of the year).
"""

from aioa_analysis.reporting.figures.comparison import (
    FLAG_LABELS,
    FUNNEL_CLASSES,
    casemix_forest,
    default_limit_columns,
    funnel_plot,
    spread_labels,
)
from aioa_analysis.reporting.figures.periods import (
    backtest_chart,
    forecast_bars,
    monthly_hazard,
    monthly_oe,
    survival_curves,
)
from aioa_analysis.reporting.figures.rates import (
    paired_rate_bars,
    rate_bars,
    rate_lines,
    rate_trend,
    share_bars,
)
from aioa_analysis.reporting.figures.style import (
    COLORS,
    NNBSP,
    PALETTE,
    PCT,
    PLOTLY_CONFIG,
    SEPARATORS,
)

__all__ = [
    "COLORS",
    "FLAG_LABELS",
    "FUNNEL_CLASSES",
    "NNBSP",
    "PALETTE",
    "PCT",
    "PLOTLY_CONFIG",
    "SEPARATORS",
    "backtest_chart",
    "casemix_forest",
    "default_limit_columns",
    "forecast_bars",
    "funnel_plot",
    "monthly_hazard",
    "monthly_oe",
    "paired_rate_bars",
    "rate_bars",
    "rate_lines",
    "rate_trend",
    "share_bars",
    "spread_labels",
    "survival_curves",
]
