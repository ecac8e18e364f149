"""The working group's breakdowns of the rupture rate at H months: the ruptures of the first 45 days
(the free-rupture period), the reasons of the ruptures, each CFA's rate by school year, and the
suppression family of the 45 days' tables.

Every table counts the same contracts and ruptures as the headline rate
(:func:`aioa_analysis.stats.rates.rupture_rate_within`, unit the contract): contracts started at least
H months before ``as_of`` (``start_date + H months <= as_of``, no censoring), broken within H months of
their start (``rupture_date < start_date + H months``, not after the diploma).

**First 45 days.** A rupture is *in the first 45 days* when ``rupture_date < start_date + 46 days``
(days 0 to 45 of the contract, calendar days): the project's calendar proxy for the 45 days of
practical training in the firm of L6222-18 (phase ``0-45j`` of
:func:`aioa_analysis.stats.rates.phase_from_dates`). The files have no alternance calendar, so the
legal period (2 to 3 calendar months) is understated. Such a rupture is a rupture within H months
(H >= 2), so ``n_early <= n_ruptures``.

**Reason.** The reason of a rupture is ``rupture_reason_category`` (the rules of the shipped
``rupture_reasons.csv``); a rupture without a recognised reason is ``"inconnu"``. The dimension
:data:`REASON` (``"rupture_reason"``) may be given in ``by`` beside the public dimensions; it groups
the contracts with a recorded rupture only (a contract without a rupture has no reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.stats import publication, rates
from aioa_analysis.stats.dimensions import UNKNOWN, group_codes, parse_dimensions, with_dimensions
from aioa_analysis.stats.outcomes import parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT
from aioa_analysis.stats.tables import share, with_rate

REASON: Final = "rupture_reason"
"""The grouping by reason of the rupture (not a public dimension: it only groups ruptures)."""

EARLY_DAYS: Final = 45
"""The free-rupture period of L6222-18, in (calendar) days: days 0 to 45 of the contract."""

EARLY_DIMENSIONS: Final = ("sector", "diploma_level", REASON)
"""Dimensions of the 45 days' tables the reports publish (by CFA and for the département)."""

__all__ = [
    "EARLY_DAYS",
    "EARLY_DIMENSIONS",
    "REASON",
    "cohort_trend",
    "early_pattern",
    "early_ruptures",
    "reason_pattern",
    "reason_shares",
    "reason_values",
]


def reason_values(contracts: pd.DataFrame) -> pd.Series:
    """The reason of each contract's rupture: the category, ``"inconnu"`` for a rupture without one,
    NA for a contract without a rupture date.

    >>> df = pd.DataFrame({"rupture_date": pd.to_datetime(["2024-10-01", "2024-11-01", None]),
    ...                    "rupture_reason_category": pd.array(["commun_accord", None, None], dtype="string")})
    >>> reason_values(df).tolist()
    ['commun_accord', 'inconnu', <NA>]
    """
    if C.rupture_reason_category in contracts:
        s = contracts[C.rupture_reason_category].astype("string").str.strip()
    else:
        s = pd.Series(pd.NA, index=contracts.index, dtype="string")
    s = s.mask(s.isna() | (s == ""), UNKNOWN)
    return s.where(contracts[C.rupture_date].notna().to_numpy()).astype("string").rename(REASON)


def _grouped(contracts: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """``contracts`` with the columns of ``by`` (public dimensions and :data:`REASON`), and the names."""
    items = by.split(",") if isinstance(by, str) else list(by or [])
    names = [str(n).strip() for n in items if str(n).strip()]
    frame, _ = with_dimensions(contracts, [n for n in names if n != REASON])
    if REASON in names:
        frame = frame.assign(**{REASON: reason_values(frame)})
        frame = frame.loc[frame[REASON].notna()]
    parse_dimensions([n for n in names if n != REASON])
    return frame, names


def early_ruptures(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    horizon_months: int = rates.DEFAULT_HORIZON_MONTHS,
    early_days: int = EARLY_DAYS,
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Ruptures within ``horizon_months`` and, among them, those of the first ``early_days`` days.

    * **Unit**: the contract. **Cohort**: the contracts of the input started at least H months before
      ``as_of`` (grouped by ``by``; :data:`REASON` allowed), exactly those of the headline rate.
    * **Horizon**: H months for ``n_ruptures`` (as :func:`~aioa_analysis.stats.rates.rupture_rate_within`);
      ``n_early``: ruptures with ``rupture_date < start_date + (early_days + 1) days`` (days 0 to
      ``early_days``, calendar days; see the module's note on the 45 practical days).
    * **Censoring**: none (complete follow-up over H months); ruptures after the diploma are not counted.
    * ``share_early = n_early / n_ruptures`` (``ci_low`` / ``ci_high``, interval ``method``) is the share
      of the ruptures that happen in the first days; ``rate_early = n_early / n_contracts`` the share of
      the contracts. ``suppressed`` flags ``n_ruptures < min_n`` (primary flag only).

    Grouped by :data:`REASON`, ``n_contracts`` counts the contracts with a recorded rupture date of
    that reason (some broke after H months): read ``n_ruptures`` and ``n_early`` only.

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 4 + ["2025-06-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 5),
    ...     "rupture_date": pd.to_datetime(["2024-10-16", "2024-10-17", "2025-01-10", None, "2025-06-02"]),
    ... })
    >>> early_ruptures(df, as_of="2025-06-30", min_n=0)[["n_contracts", "n_ruptures", "n_early", "share_early"]]
       n_contracts  n_ruptures  n_early  share_early
    0            4           3        1     0.333333

    (day 45 is in the first 45 days, day 46 is not; the last contract is not observed 9 months.)
    """
    ts = parse_as_of(as_of)
    h = rates.check_horizon(horizon_months)
    frame, names = _grouped(contracts, by)
    frame = with_outcome(frame.loc[frame[C.start_date].notna()], as_of=ts)
    start, rupture = frame[C.start_date], frame[C.rupture_date]
    flags = rates.horizon_flags(frame, ts, h)  # the headline rate's cohort and ruptures, exactly
    eligible, broken = flags["eligible"], flags["broken"]
    early = broken & (rupture < start + pd.Timedelta(days=early_days + 1)).fillna(False).to_numpy(dtype=bool)
    codes_s, keys = group_codes(frame, names)
    codes, g = codes_s.to_numpy(), len(keys)
    n, k, e = (np.bincount(codes[m], minlength=g)[:g].astype("int64") for m in (eligible, broken, early))
    out = keys.assign(n_contracts=n, n_ruptures=k, n_early=e)
    out = with_rate(
        out, k="n_early", n="n_ruptures", rate="share_early", method=method, level=level, min_n=min_n
    )
    return out.assign(
        rate_early=share(e, n),
        early_days=int(early_days),
        horizon_months=h,
        unit="contract",
        as_of=ts,
        ci_method=method,
    )


def reason_shares(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    horizon_months: int = rates.DEFAULT_HORIZON_MONTHS,
    early_days: int = EARLY_DAYS,
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """The ruptures within H months (as :func:`early_ruptures`) by reason, and each reason's share.

    One row per group of ``by`` and reason (:data:`REASON`): ``n_ruptures`` (ruptures of that reason),
    ``n_ruptures_total`` (the group's ruptures), ``share`` = their ratio with ``share_ci_low`` /
    ``share_ci_high``, ``share_suppressed`` (``n_ruptures_total < min_n``), and ``n_early`` /
    ``share_early`` (ruptures of the first ``early_days`` days among that reason's).

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2024-09-20", "2024-12-01", "2025-01-10", None]),
    ...     "rupture_reason_category": pd.array(["periode_essai_45j", None, None, None], dtype="string"),
    ... })
    >>> reason_shares(df, as_of="2025-06-30", min_n=0)[["rupture_reason", "n_ruptures", "share", "n_early"]]
          rupture_reason  n_ruptures     share  n_early
    0  periode_essai_45j           1  0.333333        1
    1            inconnu           2  0.666667        0
    """
    dims = [n for n in (by.split(",") if isinstance(by, str) else list(by or [])) if n.strip()]
    t = early_ruptures(
        contracts,
        as_of=as_of,
        by=[*dims, REASON],
        horizon_months=horizon_months,
        early_days=early_days,
        method=method,
        level=level,
        min_n=min_n,
    )
    total = t.groupby(dims, sort=False)["n_ruptures"].transform("sum") if dims else t["n_ruptures"].sum()
    shares = with_rate(
        t.assign(n_ruptures_total=np.asarray(total, dtype="int64") * np.ones(len(t), dtype="int64")),
        k="n_ruptures",
        n="n_ruptures_total",
        rate="share",
        method=method,
        level=level,
    )
    return t.assign(
        n_ruptures_total=shares["n_ruptures_total"],
        share=shares["share"],
        share_ci_low=shares["ci_low"],
        share_ci_high=shares["ci_high"],
        share_suppressed=(shares["n_ruptures_total"] < min_n).to_numpy(),
    )


def cohort_trend(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    horizon_months: int = rates.DEFAULT_HORIZON_MONTHS,
    last: int = 5,
    method: str = "wilson",
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Each CFA's and the département's rupture rate at H months by school year of start (``cohort``).

    The rate of :func:`~aioa_analysis.stats.rates.rupture_rate_within` (unit the contract, horizon H
    months, no censoring: contracts observed H months only), for the ``last`` school years with at
    least one contract observed H months. Rows: ``cfa`` (UAI, ``"inconnu"`` for contracts without a
    CFA, :data:`~aioa_analysis.stats.publication.DEPARTEMENT` for the département), ``cohort``, the
    rate table's columns, ``coverage`` (the share of the school year's contracts of the département
    observed H months) and ``complete`` (every contract of the school year observed H months: the
    rate will not change; a partial year's rate covers the earliest starts only).

    >>> df = pd.DataFrame({"cfa_uai": ["A", "A", "B", "B"], "school_year": ["2023-2024"] * 3 + ["2024-2025"],
    ...     "start_date": pd.to_datetime(["2023-09-01", "2023-09-01", "2023-10-01", "2024-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2025-08-31"] * 4),
    ...     "rupture_date": pd.to_datetime(["2023-10-01", None, None, None])})
    >>> cohort_trend(df, as_of="2025-03-15", min_n=0)[["cfa", "cohort", "n_contracts", "rate", "complete"]]
            cfa     cohort  n_contracts      rate  complete
    0         A  2023-2024            2  0.500000      True
    1         B  2023-2024            1  0.000000      True
    2  ensemble  2023-2024            3  0.333333      True

    (2024-2025: no contract observed 9 months yet, no row.)
    """
    kw = {"as_of": as_of, "horizon_months": horizon_months, "method": method, "level": level, "min_n": min_n}
    dept = rates.rupture_rate_within(contracts, by="cohort", **kw)  # type: ignore[arg-type]
    dept = dept.loc[dept["n_contracts"] > 0]
    cohorts = dept["cohort"].astype(str).tolist()[-last:] if last > 0 else []
    total = dept["n_contracts"] + dept["n_excluded_not_observed"]
    coverage = dict(zip(dept["cohort"].astype(str), (dept["n_contracts"] / total).astype(float), strict=True))
    by_cfa = rates.rupture_rate_within(contracts, by=["cfa", "cohort"], **kw)  # type: ignore[arg-type]
    out = pd.concat([by_cfa, dept.assign(cfa=publication.DEPARTEMENT)], ignore_index=True)
    out = out.loc[out["cohort"].astype(str).isin(cohorts) & (out["n_contracts"] > 0)]
    cov = out["cohort"].astype(str).map(coverage).astype(float)
    out = out.assign(coverage=cov.to_numpy(), complete=(cov >= 1.0).to_numpy())
    first = ["cfa", "cohort"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def _hidden_in(cells: pd.DataFrame, patterns: Sequence[pd.DataFrame]) -> list[bool]:
    """Whether each cell (``dimension``, ``cfa``, ``category``) is hidden in one of ``patterns``."""
    keys: set[tuple[object, ...]] = set()
    for pat in patterns:
        hidden = pat.loc[pat["suppressed"].astype(bool), ["dimension", "cfa", "category"]]
        keys |= set(hidden.itertuples(index=False, name=None))
    return [key in keys for key in zip(cells["dimension"], cells["cfa"], cells["category"], strict=True)]


def reason_pattern(
    contracts: pd.DataFrame, *, as_of: pd.Timestamp, horizon: int, rate_pattern: pd.DataFrame
) -> pd.DataFrame:
    """The suppression pattern of the tables of ruptures by reason (:func:`reason_shares`), family-wide.

    Cells: ``n`` = ruptures within H months of one reason, by CFA and for the département; the total
    column is each CFA's ruptures (the ``k`` of the rate family's total). Counts of 1 or 2 are
    hidden, then the family's secondary rule for counts
    (:func:`aioa_analysis.stats.publication.family_pattern` with ``count=True``); a total the rate
    family hides (``rate_pattern``) is hidden here too.
    """

    def counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        t = early_ruptures(frame, as_of=as_of, by=by, horizon_months=horizon)
        return t.rename(columns={"n_ruptures": "n"}).assign(k=0)

    cells = publication.family_cells(
        contracts, as_of=as_of, horizon=horizon, dimensions=[REASON], counts=counts
    )
    forced = _hidden_in(cells, [rate_pattern])
    return publication.family_pattern(cells, min_n=0, forced=forced, count=True)


def early_pattern(
    contracts: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    min_n: int,
    hidden_elsewhere: Sequence[pd.DataFrame] = (),
    dimensions: Sequence[str] = EARLY_DIMENSIONS,
    early_days: int = EARLY_DAYS,
) -> pd.DataFrame:
    """The suppression pattern of the 45 days' tables (:func:`early_ruptures`) of the whole family.

    Cells ``n`` = ruptures within H months, ``k`` = ruptures of the first ``early_days`` days, by CFA
    and for the département (:func:`aioa_analysis.stats.publication.family_cells`), suppressed by the
    family's rule (:func:`aioa_analysis.stats.publication.family_pattern`). A cell hidden in one of
    ``hidden_elsewhere`` (the rate family's pattern, :func:`reason_pattern`: same dimension, CFA and
    category) is hidden from the start: otherwise it would print that hidden number of ruptures.
    """

    def counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        t = early_ruptures(frame, as_of=as_of, by=by, horizon_months=horizon, early_days=early_days)
        return t.rename(columns={"n_ruptures": "n", "n_early": "k"})

    cells = publication.family_cells(
        contracts, as_of=as_of, horizon=horizon, dimensions=dimensions, counts=counts
    )
    return publication.family_pattern(cells, min_n=min_n, forced=_hidden_in(cells, hidden_elsewhere))
