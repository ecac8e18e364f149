"""Expected ruptures per month for the months after ``as_of``: workload for a mediation service.

The forecast adds two parts, each month:

* **running contracts**: the contracts in force at ``as_of`` (started by ``as_of``, neither broken,
  completed nor broken after the diploma by then), followed day by day from ``as_of + 1`` to their
  planned end;
* **new starts**: the contracts expected to start after ``as_of``. For each future month, the
  contracts that started in the same calendar month in the last :data:`START_YEARS` years (complete
  months before ``as_of``, from the first month of the data) are repeated, shifted by whole years,
  each weighted ``1 / number of years``: the average monthly volume, with its mix of CFA, territory,
  diploma level, sector and planned duration.

Each contract follows the **fitted hazard** (:func:`fit_hazard`), a piecewise-constant monthly
rupture hazard (piecewise-exponential Poisson model on contract-months, :mod:`~aioa_analysis.stats.exposure`)::

    log h = intercept + age band of the contract + calendar month + diploma level + sector group
            + CFA + territory

with ridge shrinkage (:func:`~aioa_analysis.stats.poisson.fit_poisson`), fitted on the history up to
``as_of``. A contract's expected ruptures in a month are its probability of breaking that month
(``S(d - 1) * (1 - exp(-h_d))`` summed over its days at risk, ``S`` its survival from the start
of its follow-up); the planned end stops its exposure. Ruptures after the diploma (L6222-19) are
**not** counted: they are not ruptures a mediation service can prevent (they end their follow-up).

**Prediction interval** (90 %): each monthly count is negative binomial with the forecast as mean
and variance ``mu + alpha * mu**2``; ``alpha`` (over-dispersion: year-to-year changes the model does
not see) is estimated by moments on the monthly totals of the history against the fitted model
(:func:`fit_hazard`), 0 (Poisson) when the history shows none. Uncertainty of the coefficients and
of the future volumes is only carried by that dispersion.

:func:`backtest` makes the same forecast with a cut 12 months before ``as_of``, from the data known
then, and sets it beside the ruptures observed at ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.stats.dimensions import category_rank, dimension_values
from aioa_analysis.stats.exposure import DAYS_PER_MONTH, age_calendar
from aioa_analysis.stats.outcomes import EVENT_DATE, OUTCOME, with_outcome
from aioa_analysis.stats.poisson import design_matrix, fit_poisson

__all__ = [
    "BY_CHOICES",
    "CASE_MIX",
    "DEFAULT_MONTHS",
    "LEVEL",
    "START_YEARS",
    "HazardModel",
    "backtest",
    "backtest_dispersion",
    "backtest_summary",
    "expected_ruptures",
    "fit_hazard",
    "forecast_ruptures",
    "group_totals",
    "known_at",
    "observed_ruptures",
    "prediction_interval",
]

DEFAULT_MONTHS = 12
"""Months forecast after ``as_of`` (``aioa forecast --months``)."""

LEVEL = 0.90
"""Coverage of the prediction intervals."""

START_YEARS = 3
"""Past years averaged for the expected starts of each calendar month."""

CASE_MIX = ("diploma_level", "sector_group", "cfa", "territory")
"""Dimensions (public names) of the case-mix terms of the hazard."""

BY_CHOICES = ("territory", "cfa")
"""Groups of ``aioa forecast --by``."""

PENALTIES = {
    "age": 0.1,
    "month": 0.1,
    "diploma_level": 1.0,
    "sector_group": 1.0,
    "cfa": 1.0,
    "territory": 1.0,
}
"""Ridge penalty per term: light on age and calendar month (many ruptures), a shrinkage of the
case-mix effects towards the average (prior standard deviation 1 on the log scale)."""

MAX_AGE = 48
"""Age months beyond this share the last band."""


def _age_bands() -> np.ndarray:
    """Band label of each age month 0..MAX_AGE: months 0-11 alone, then quarters to 24, half-years
    to 36, then one band."""
    labels = []
    for k in range(MAX_AGE + 1):
        if k < 12:
            labels.append(f"{k:02d}")
        elif k < 24:
            lo = 12 + (k - 12) // 3 * 3
            labels.append(f"{lo}-{lo + 2}")
        elif k < 36:
            lo = 24 + (k - 24) // 6 * 6
            labels.append(f"{lo}-{lo + 5}")
        else:
            labels.append("36+")
    return np.asarray(labels)


AGE_BAND = _age_bands()
"""Label of the age band of each age month (``AGE_BAND[min(k, MAX_AGE)]``)."""


@dataclass(frozen=True)
class HazardModel:
    """A fitted monthly rupture hazard: ``exp(intercept + sum of the effects)`` per contract-month.

    ``effects`` maps ``"term=level"`` (terms ``age``, ``month`` and :data:`CASE_MIX`) to its
    coefficient; a level absent from the fit counts 0 (the average, given the ridge penalty).
    ``alpha`` is the negative-binomial dispersion of a monthly count (0: Poisson).

    >>> m = HazardModel(intercept=float(np.log(0.02)), effects={"month=7": float(np.log(2))})
    >>> round(float(np.exp(m.intercept + m.effect("month", 7))), 3), m.effect("month", 8)
    (0.04, 0.0)
    """

    intercept: float
    effects: dict[str, float] = field(default_factory=dict)
    alpha: float = 0.0
    history: pd.DataFrame | None = None

    def effect(self, term: str, level: object) -> float:
        """Coefficient of ``term=level`` (0 when unseen)."""
        return self.effects.get(f"{term}={level}", 0.0)

    def effects_of(self, term: str, levels: pd.Series | np.ndarray) -> np.ndarray:
        """Coefficients of ``term`` for each value of ``levels``."""
        prefix = f"{term}="
        table = {k[len(prefix) :]: v for k, v in self.effects.items() if k.startswith(prefix)}
        values = pd.Series(np.asarray(levels, dtype=object)).astype("string").fillna("inconnu")
        return values.map(table).fillna(0.0).to_numpy(dtype=float)


_BAND_LABELS, _BAND_OF_AGE = np.unique(AGE_BAND, return_inverse=True)  # band labels, band of each age month
_MONTH_LABELS = np.array([str(m) for m in range(1, 13)])


@dataclass(frozen=True)
class _History:
    """The history a hazard is fitted on: ``cells`` (case-mix × age band × calendar month of year,
    with ruptures and exposure in days) and ``fine``, one row per group × age month × calendar month
    with exposure, in integer codes (``group``: row of ``keys``; ``band``: of :data:`_BAND_LABELS`;
    ``month``: 0-11; ``year_month``: of ``months``)."""

    cells: pd.DataFrame
    fine: pd.DataFrame
    keys: pd.DataFrame
    months: np.ndarray


def _history_cells(contracts: pd.DataFrame, as_of: pd.Timestamp) -> _History:
    """The :class:`_History` of ``contracts`` up to ``as_of``. The cells are summed on integer codes
    and labelled once per cell (a national table has over a million fine rows)."""
    cal = age_calendar(contracts, as_of=as_of, by=list(CASE_MIX))
    g, k, m = np.nonzero((cal.exposure > 0) | (cal.ruptures > 0))
    fine = pd.DataFrame(
        {
            "group": g,
            "band": _BAND_OF_AGE[np.minimum(k, MAX_AGE)],
            "month": cal.months[m].astype("int64") % 12,
            "year_month": m,
            "events": cal.ruptures[g, k, m].astype(float),
            "exposure": cal.exposure[g, k, m],
        }
    )
    sums = fine.groupby(["group", "band", "month"], as_index=False)[["events", "exposure"]].sum()
    sums = sums.loc[sums["exposure"] > 0].reset_index(drop=True)
    cells = (
        cal.keys.iloc[sums["group"].to_numpy()]
        .reset_index(drop=True)
        .assign(
            age=_BAND_LABELS[sums["band"].to_numpy()],
            month=_MONTH_LABELS[sums["month"].to_numpy()],
            events=sums["events"].to_numpy(),
            exposure=sums["exposure"].to_numpy(),
        )
    )
    return _History(cells=cells, fine=fine, keys=cal.keys, months=cal.months)


def _dispersion(history: _History, model: HazardModel, as_of: pd.Timestamp) -> tuple[float, pd.DataFrame]:
    """Negative-binomial ``alpha`` from the history's complete monthly totals, and those totals."""
    fine = history.fine
    group_eta = sum(
        (model.effects_of(term, history.keys[term]) for term in CASE_MIX), np.zeros(len(history.keys))
    )
    eta = (
        model.intercept
        + group_eta[fine["group"].to_numpy()]
        + model.effects_of("age", _BAND_LABELS)[fine["band"].to_numpy()]
        + model.effects_of("month", _MONTH_LABELS)[fine["month"].to_numpy()]
    )
    mu = np.exp(eta) * fine["exposure"].to_numpy() / DAYS_PER_MONTH
    totals = (
        fine.assign(expected=mu)
        .groupby("year_month", as_index=False)[["events", "expected"]]
        .sum()
        .rename(columns={"events": "observed"})
    )
    totals["year_month"] = history.months[totals["year_month"].to_numpy()].astype(str)
    complete = (pd.PeriodIndex(totals["year_month"], freq="M").end_time.normalize() <= as_of) & (
        totals["expected"] > 0
    )
    o, e = totals.loc[complete, "observed"].to_numpy(), totals.loc[complete, "expected"].to_numpy()
    n, p = len(o), 12  # the calendar-month effects are fitted on these totals
    if n <= p or e.sum() <= 0:
        return 0.0, totals
    alpha = ((o - e) ** 2).sum() * n / (n - p) - e.sum()
    return max(float(alpha / (e**2).sum()), 0.0), totals


def fit_hazard(contracts: pd.DataFrame, *, as_of: object) -> HazardModel:
    """Fit the monthly rupture hazard on the contracts' history up to ``as_of``.

    Piecewise-exponential Poisson model on contract-months (:func:`~aioa_analysis.stats.exposure.age_calendar`,
    headline ruptures: not after the diploma), terms ``age`` (band of the contract's age month, see
    :data:`AGE_BAND`), ``month`` (calendar month 1-12) and :data:`CASE_MIX`, ridge penalties
    :data:`PENALTIES`. The dispersion ``alpha`` comes from the monthly totals of the history
    (``model.history``: ``year_month``, ``observed``, ``expected`` in sample).
    """
    ts = parse_as_of(as_of)
    history = _history_cells(contracts, ts)
    cells = history.cells
    if cells.empty or cells["events"].sum() == 0:
        raise ParameterError(
            f"no rupture before {ts.date()} to fit the hazard on", hint="choose a later --as-of"
        )
    # the report fits the same history several times (forecast, by territory, backtest and their
    # dispersions): a fit is reused for identical cells (sample report 49 -> about 25 s)
    # the fine rows count months from the history's first one: the months themselves are in the key
    key = (
        ts,
        *(int(pd.util.hash_pandas_object(f, index=False).sum()) for f in (cells, history.fine)),
        len(cells),
        str(history.months[0]) if len(history.months) else "",
        len(history.months),
    )
    if key not in _FITS:
        if len(_FITS) > 16:
            _FITS.clear()
        _FITS[key] = _fit_cells(history, ts)
    return _FITS[key]


_FITS: dict[tuple[object, ...], HazardModel] = {}


def _fit_cells(history: _History, ts: pd.Timestamp) -> HazardModel:
    cells = history.cells
    terms = ["age", "month", *CASE_MIX]
    x, names, lam = design_matrix(cells, terms, penalties=PENALTIES)
    fit = fit_poisson(
        x, cells["events"].to_numpy(), cells["exposure"].to_numpy() / DAYS_PER_MONTH, lam, names
    )
    effects = {name: float(c) for name, c in zip(fit.names[1:], fit.coef[1:], strict=True)}
    model = HazardModel(intercept=float(fit.coef[0]), effects=effects)
    alpha, totals = _dispersion(history, model, ts)
    return HazardModel(intercept=model.intercept, effects=effects, alpha=alpha, history=totals)


# --------------------------------------------------------------------------------------------------
# contracts followed after as_of


def _spell_frame(frame: pd.DataFrame, *, start, end, risk_from, weight, model: HazardModel) -> pd.DataFrame:
    """Spells to follow: start, planned end (exclusive), first day at risk, weight, case-mix effect."""
    eta = np.zeros(len(frame))
    for term in CASE_MIX:
        eta += model.effects_of(term, dimension_values(frame, term))
    return pd.DataFrame(
        {
            "start": np.asarray(start, dtype="datetime64[D]"),
            "end": np.asarray(end, dtype="datetime64[D]"),
            "risk_from": np.asarray(risk_from, dtype="datetime64[D]"),
            "weight": np.asarray(weight, dtype=float),
            "eta": eta,
        },
        index=frame.index,
    )


def _running(contracts: pd.DataFrame, as_of: pd.Timestamp, model: HazardModel) -> pd.DataFrame:
    """The contracts in force at ``as_of`` as spells at risk from ``as_of + 1 day``."""
    known = contracts.loc[contracts[C.start_date].notna() & (contracts[C.start_date] <= as_of)]
    known = known.loc[known[C.planned_end_date].notna()]
    frame = with_outcome(known, as_of=as_of)
    frame = frame.loc[frame[OUTCOME].eq("ongoing").to_numpy()]
    day = np.datetime64(as_of.date(), "D") + np.timedelta64(1, "D")
    return _spell_frame(
        frame,
        start=frame[C.start_date],
        end=frame[C.planned_end_date],
        risk_from=np.full(len(frame), day),
        weight=np.ones(len(frame)),
        model=model,
    ).assign(**{k: frame[k] for k in (C.territory, C.cfa_uai) if k in frame})


def _source_months(first: pd.Period, last: pd.Period, target: pd.Period) -> list[pd.Period]:
    """The last :data:`START_YEARS` months of ``target``'s calendar month within ``[first, last]``."""
    out: list[pd.Period] = []
    p = target - 12
    while p >= first and len(out) < START_YEARS:
        if p <= last:
            out.append(p)
        p -= 12
    return out


def _new_starts(
    contracts: pd.DataFrame, as_of: pd.Timestamp, horizon: pd.PeriodIndex, model: HazardModel
) -> pd.DataFrame:
    """Template spells for the starts expected in each month of ``horizon`` (see the module)."""
    known = contracts.loc[
        contracts[C.start_date].notna()
        & (contracts[C.start_date] <= as_of)
        & contracts[C.planned_end_date].notna()
    ]
    if known.empty:
        return _spell_frame(known, start=[], end=[], risk_from=[], weight=[], model=model)
    period = known[C.start_date].dt.to_period("M")
    first = period.min()
    last = pd.Period(as_of, freq="M") - (0 if (as_of + pd.Timedelta(days=1)).day == 1 else 1)
    parts = []
    for target in horizon:
        sources = _source_months(first, last, target)
        for src in sources:
            rows = known.loc[(period == src).to_numpy()]
            years = (target.year - src.year) * 12
            start = rows[C.start_date] + pd.DateOffset(months=years)
            parts.append(
                rows.assign(
                    _start=start,
                    _end=start + (rows[C.planned_end_date] - rows[C.start_date]),
                    _weight=1.0 / len(sources),
                )
            )
    if not parts:
        return _spell_frame(known.iloc[:0], start=[], end=[], risk_from=[], weight=[], model=model)
    frame = pd.concat(parts)
    frame = frame.loc[(frame["_start"] > as_of).to_numpy()]
    return _spell_frame(
        frame,
        start=frame["_start"],
        end=frame["_end"],
        risk_from=frame["_start"],
        weight=frame["_weight"],
        model=model,
    ).assign(**{k: frame[k] for k in (C.territory, C.cfa_uai) if k in frame})


def _age_months(start: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
    """Age month (``start + k months <= day``, DateOffset semantics) of each spell on each day."""
    s = pd.DatetimeIndex(start)
    k = (days.year.to_numpy()[None, :] - s.year.to_numpy()[:, None]) * 12 + (
        days.month.to_numpy()[None, :] - s.month.to_numpy()[:, None]
    )
    anniversary = np.minimum(s.day.to_numpy()[:, None], days.days_in_month.to_numpy()[None, :])
    return k - (days.day.to_numpy()[None, :] < anniversary)


def _expected_by_month(
    spells: pd.DataFrame, model: HazardModel, days: pd.DatetimeIndex, month_pos: np.ndarray
) -> np.ndarray:
    """Expected ruptures of each spell in each month of the horizon, shape ``(spells, months)``."""
    n_months = int(month_pos.max()) + 1
    out = np.zeros((len(spells), n_months))
    month_eta = model.effects_of("month", days.month.to_numpy())
    age_eta = model.effects_of("age", AGE_BAND)
    first_of_month = np.flatnonzero(np.r_[True, np.diff(month_pos) > 0])
    day_v = days.to_numpy().astype("datetime64[D]")
    chunk = max(1, 2_000_000 // max(len(days), 1))
    for lo in range(0, len(spells), chunk):
        part = spells.iloc[lo : lo + chunk]
        age = _age_months(part["start"].to_numpy(), days)
        at_risk = (
            (day_v[None, :] >= part["risk_from"].to_numpy()[:, None])
            & (day_v[None, :] < part["end"].to_numpy()[:, None])
            & (age >= 0)
        )
        eta = model.intercept + part["eta"].to_numpy()[:, None] + month_eta[None, :]
        eta = eta + age_eta[np.clip(age, 0, MAX_AGE)]
        h = np.where(at_risk, np.exp(eta) / DAYS_PER_MONTH, 0.0)
        cum = np.cumsum(h, axis=1)
        p = np.exp(-(cum - h)) * -np.expm1(-h)  # survival to the day before x rupture that day
        out[lo : lo + len(part)] = (
            np.add.reduceat(p, first_of_month, axis=1) * part["weight"].to_numpy()[:, None]
        )
    return out


# --------------------------------------------------------------------------------------------------
# forecast, intervals, backtest


def _horizon(as_of: pd.Timestamp, months: int) -> tuple[pd.PeriodIndex, pd.DatetimeIndex, np.ndarray]:
    """The forecast months (from the month of ``as_of + 1 day``), their days after ``as_of`` and
    each day's position in the months."""
    if not 1 <= months <= 60:
        raise ParameterError(f"--months {months} must be from 1 to 60", hint="e.g. 12")
    first_day = as_of + pd.Timedelta(days=1)
    horizon = pd.period_range(pd.Period(first_day, freq="M"), periods=months, freq="M")
    days = pd.date_range(first_day, horizon[-1].end_time.normalize(), freq="D")
    month_pos = (days.year - horizon[0].year) * 12 + (days.month - horizon[0].month)
    return horizon, days, np.asarray(month_pos)


def prediction_interval(
    expected: np.ndarray, alpha: float, *, level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``level`` interval of a negative-binomial count (mean ``expected``, variance
    ``expected + alpha * expected**2``; Poisson when ``alpha`` is 0).

    >>> lo, hi = prediction_interval(np.array([100.0]), 0.0)
    >>> int(lo[0]), int(hi[0])
    (84, 117)
    """
    mu = np.maximum(np.asarray(expected, dtype=float), 1e-12)
    q = ((1 - level) / 2, (1 + level) / 2)
    if alpha <= 0:
        return stats.poisson.ppf(q[0], mu), stats.poisson.ppf(q[1], mu)
    n = 1.0 / alpha
    return stats.nbinom.ppf(q[0], n, n / (n + mu)), stats.nbinom.ppf(q[1], n, n / (n + mu))


def _group_column(by: str | None) -> str | None:
    if by is None:
        return None
    if by not in BY_CHOICES:
        raise ParameterError(
            f"--by {by!r} is not a forecast group", hint=f"choose among: {', '.join(BY_CHOICES)}"
        )
    return by


def _by_group(spells: pd.DataFrame, expected: np.ndarray, by: str | None) -> tuple[list[str], np.ndarray]:
    """Sum the spells' monthly expectations per group (one group without ``by``)."""
    if by is None:
        return ["all"], expected.sum(axis=0, keepdims=True)
    labels = dimension_values(spells, by).to_numpy(dtype=object)
    out = pd.DataFrame(expected).groupby(labels, sort=False).sum()
    return [str(v) for v in out.index], out.to_numpy()


def expected_ruptures(
    contracts: pd.DataFrame, as_of: object, months: int, by: str | None, model: HazardModel
) -> pd.DataFrame:
    """Expected ruptures under ``model`` per month after ``as_of`` (and group): ``month``, ``group``
    (``"all"`` without ``by``), ``from_running``, ``from_new_starts``, ``expected`` (no interval).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-01"]),
    ...                    "planned_end_date": pd.to_datetime(["2027-08-31"]),
    ...                    "rupture_date": pd.to_datetime([None])})
    >>> flat = HazardModel(intercept=float(np.log(0.05)))  # 5 % a month, whatever the contract
    >>> out = expected_ruptures(df, "2025-01-31", 1, None, flat)
    >>> bool(np.isclose(out["expected"].iloc[0], 1 - np.exp(-0.05 * 28 / 30.4375)))
    True
    """
    as_of = parse_as_of(as_of)
    by = _group_column(by)
    horizon, days, month_pos = _horizon(as_of, months)
    month_labels = np.asarray(horizon.astype(str))
    parts = []
    for name, spells in (
        ("from_running", _running(contracts, as_of, model)),
        ("from_new_starts", _new_starts(contracts, as_of, horizon, model)),
    ):
        labels, sums = _by_group(spells, _expected_by_month(spells, model, days, month_pos), by)
        parts.append(
            pd.DataFrame(
                {
                    "group": np.repeat(labels, len(month_labels)),
                    "month": np.tile(month_labels, len(labels)),
                    name: sums.reshape(-1),
                }
            ).set_index(["group", "month"])
        )
    table = pd.concat(parts, axis=1).fillna(0.0).reset_index()
    table["expected"] = table["from_running"] + table["from_new_starts"]
    rank = category_rank(table["group"], by) if by else pd.Series(0, index=table.index)
    order = np.lexsort((rank.to_numpy(), table["month"].to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def known_at(contracts: pd.DataFrame, cut: object) -> pd.DataFrame:
    """The table as it could be known at ``cut``: the contracts started by then, their ruptures
    dated after it blanked (with the flag of a rupture after the diploma)."""
    ts = parse_as_of(cut)
    known = contracts.loc[contracts[C.start_date].notna() & (contracts[C.start_date] <= ts)]
    late = (known[C.rupture_date] > ts).to_numpy()
    blank = {C.rupture_date: known[C.rupture_date].mask(late)}
    if C.rupture_after_diploma in known:
        blank[C.rupture_after_diploma] = known[C.rupture_after_diploma].mask(late, False)
    return known.assign(**blank)


def observed_ruptures(
    contracts: pd.DataFrame, *, as_of: object, after: object, months: int, by: str | None = None
) -> pd.DataFrame:
    """Ruptures (not after the diploma) dated in each of the ``months`` months after ``after``, as
    known at ``as_of``: ``month``, the group column with ``by``, ``observed`` (months without
    rupture are left out)."""
    ts, cut = parse_as_of(as_of), parse_as_of(after)
    group = _group_column(by)
    horizon, _, _ = _horizon(cut, months)
    frame = with_outcome(contracts, as_of=ts)
    date = frame[EVENT_DATE]
    hit = (
        frame[OUTCOME].eq("ruptured").to_numpy()
        & (date > cut).to_numpy()
        & (date <= horizon[-1].end_time).to_numpy()
    )
    frame = frame.loc[hit]
    keys = [frame[EVENT_DATE].dt.to_period("M").astype(str).rename("month")]
    if group:
        keys.append(dimension_values(frame, group))
    counts = frame.groupby(keys).size().rename("observed").reset_index()
    return counts.astype({"month": "string", "observed": "int64"})


def _with_observed(table: pd.DataFrame, observed: pd.DataFrame, by: str | None) -> pd.DataFrame:
    out = table.merge(observed, on=["month", *([by] if by else [])], how="left")
    return out.assign(observed=out["observed"].fillna(0).astype("int64"))


def backtest_dispersion(contracts: pd.DataFrame, *, as_of: object, by: str | None = None) -> float | None:
    """Negative-binomial ``alpha`` of the one-year-ahead errors known at ``as_of``.

    The forecast made 12 months before ``as_of`` (data known then, :func:`known_at`) against the
    ruptures observed since (monthly counts, per group with ``by``); method of moments
    ``sum((o - e)**2 - e) / sum(e**2)``, floored at 0. ``None`` when there is less than 12 months of
    history before that cut, or no rupture to fit on.
    """
    ts = parse_as_of(as_of)
    group = _group_column(by)
    cut = ts - pd.DateOffset(months=12)
    known = known_at(contracts, cut)
    if known.empty or known[C.start_date].min() > cut - pd.DateOffset(months=12):
        return None
    try:
        model = fit_hazard(known, as_of=cut)
    except ParameterError:
        return None
    table = expected_ruptures(known, cut, 12, group, model).rename(columns={"group": group or "group"})
    seen = observed_ruptures(contracts, as_of=ts, after=cut, months=12, by=group)
    merged = _with_observed(table, seen, group)
    o, e = merged["observed"].to_numpy(dtype=float), merged["expected"].to_numpy()
    return max(float((((o - e) ** 2) - e).sum() / (e**2).sum()), 0.0) if (e**2).sum() > 0 else None


def forecast_ruptures(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    months: int = DEFAULT_MONTHS,
    by: str | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Expected ruptures (not after the diploma) per month after ``as_of``, with prediction intervals.

    One row per month (``"YYYY-MM"``, from the month of ``as_of + 1 day``) and, with ``by``
    (``"territory"`` or ``"cfa"``), per group: ``month``, the group column, ``expected``,
    ``pi_low``, ``pi_high`` (``level`` interval), ``from_running`` and ``from_new_starts`` (the two
    parts of ``expected``). The hazard is :func:`fit_hazard` on the same table and ``as_of``; the
    dispersion is :func:`backtest_dispersion` (the history's in-sample one when there is not enough
    history for it). ``attrs``: ``alpha`` and ``dispersion_from`` (``"backtest"`` or ``"history"``).
    """
    ts = parse_as_of(as_of)
    group = _group_column(by)
    model = fit_hazard(contracts, as_of=ts)
    table = expected_ruptures(contracts, ts, months, group, model)
    alpha = backtest_dispersion(contracts, as_of=ts, by=group)
    source = "history" if alpha is None else "backtest"
    alpha = model.alpha if alpha is None else alpha
    low, high = prediction_interval(table["expected"].to_numpy(), alpha, level=level)
    table = table.assign(pi_low=low.astype("int64"), pi_high=high.astype("int64"))
    table = table.rename(columns={"group": group or "group"})
    columns = [
        "month",
        *([group] if group else []),
        "expected",
        "pi_low",
        "pi_high",
        "from_running",
        "from_new_starts",
    ]
    out = table[columns].astype({"month": "string"})
    out.attrs.update(alpha=alpha, dispersion_from=source)
    return out


def backtest(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    months: int = 12,
    by: str | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """The forecast made at a cut ``months`` months before ``as_of`` beside what happened.

    The forecast uses only what was known at the cut (:func:`known_at`, its dispersion included);
    the observed ruptures are those dated in each month after the cut, among all contracts, as known
    at ``as_of`` (not after the diploma). Columns: those of :func:`forecast_ruptures` plus
    ``observed`` and ``inside`` (observed within the interval); ``attrs``: ``cut`` (ISO date),
    ``alpha``, ``dispersion_from``.
    """
    ts = parse_as_of(as_of)
    group = _group_column(by)
    cut = ts - pd.DateOffset(months=months)
    table = forecast_ruptures(known_at(contracts, cut), as_of=cut, months=months, by=group, level=level)
    seen = observed_ruptures(contracts, as_of=ts, after=cut, months=months, by=group)
    out = _with_observed(table, seen, group)
    out["inside"] = (out["observed"] >= out["pi_low"]) & (out["observed"] <= out["pi_high"])
    out.attrs.update(table.attrs, cut=cut.date().isoformat())
    return out


def backtest_summary(table: pd.DataFrame) -> dict[str, object]:
    """The backtest's headline figures: months inside their interval, the year's expected and
    observed totals and their relative gap (``observed / expected - 1``)."""
    expected, observed = float(table["expected"].sum()), int(table["observed"].sum())
    return {
        "cut": table.attrs.get("cut"),
        "months": len(table),
        "inside": int(table["inside"].sum()),
        "expected_total": round(expected, 1),
        "observed_total": observed,
        "relative_gap": round(observed / expected - 1, 4) if expected else float("nan"),
    }


def group_totals(forecast: pd.DataFrame, by: str, *, level: float = LEVEL) -> pd.DataFrame:
    """Per group of a :func:`forecast_ruptures` table (``by``: its group column), the expected
    ruptures over all its months, their ``level`` interval and the month expected to have the most.

    The months are independent negative-binomial counts (mean ``mu``, variance ``mu + alpha mu**2``,
    ``alpha`` from ``forecast.attrs``): their sum has mean ``sum(mu)`` and variance
    ``sum(mu + alpha mu**2)``, the interval is that of the negative binomial with the same mean and
    variance (``alpha_total = alpha * sum(mu**2) / sum(mu)**2``). Adding the monthly bounds instead
    would overstate the spread.

    >>> f = pd.DataFrame({"month": ["2026-01", "2026-02"] * 2, "cfa": ["A", "A", "B", "B"],
    ...                   "expected": [60.0, 40.0, 1.0, 3.0]})
    >>> f.attrs["alpha"] = 0.0
    >>> group_totals(f, "cfa")[["cfa", "expected", "pi_low", "pi_high", "peak_month"]]
      cfa  expected  pi_low  pi_high peak_month
    0   A     100.0      84      117    2026-01
    1   B       4.0       1        8    2026-02
    """
    alpha = float(forecast.attrs.get("alpha", 0.0) or 0.0)
    frame = forecast.assign(_sq=forecast["expected"].astype(float) ** 2)
    grouped = frame.groupby(by, sort=False)
    mu = grouped["expected"].sum().astype(float)
    sq = grouped["_sq"].sum()
    peak = frame.loc[grouped["expected"].idxmax(), [by, "month"]].set_index(by)["month"]
    low, high = [], []
    for m, q in zip(mu.to_numpy(), sq.to_numpy(), strict=True):
        lo, hi = prediction_interval(np.array([m]), alpha * q / m**2 if m > 0 else 0.0, level=level)
        low.append(int(lo[0]))
        high.append(int(hi[0]))
    return pd.DataFrame(
        {
            by: mu.index,
            "expected": mu.to_numpy(),
            "pi_low": low,
            "pi_high": high,
            "peak_month": peak.reindex(mu.index).to_numpy(),
        }
    )
