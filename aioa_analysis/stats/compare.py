"""Comparing CFAs and sectors fairly: funnel plots, indirect standardisation, chi-square test.

* :func:`funnel_data` / :func:`funnel_curve`: each unit's rate against its size, with exact binomial
  control limits at 95 % and 99.8 % around the overall rate (Spiegelhalter 2005, *Stat Med*
  24:1185-1202), optional over-dispersion adjustment (multiplicative phi or additive tau², 10 %
  Winsorised z-scores, as in FunnelPlotR) and a flag above / within / below. No league table.
* :func:`indirect_standardisation`: case-mix adjusted comparison on diploma level × sector group
  (× age band): expected ruptures from the population's stratum rates, observed / expected ratio with
  its exact Poisson (Garwood) interval, adjusted rate = O/E × overall rate.
* :func:`chi_square_test`: Pearson chi-square test of homogeneity of rates across groups.

The log-rank test between survival curves lives in :mod:`aioa_analysis.stats.survival`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import DIMENSIONS, C
from aioa_analysis.stats.dimensions import DERIVED, dimension_values, parse_dimensions, with_dimensions
from aioa_analysis.stats.intervals import arcsine_limits, binomial_limits, poisson_interval, scaled_limits
from aioa_analysis.stats.linking import check_count, horizon_eligible, horizon_end
from aioa_analysis.stats.outcomes import OUTCOME, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT
from aioa_analysis.stats.tables import share, with_rate

FUNNEL_FLAGS = ("above_998", "above_95", "within", "below_95", "below_998")
"""Machine values of ``flag`` for the default levels; reports translate them (e.g. "au-dessus
99,8 %", "au-dessus 95 %", "dans les limites", "en dessous 95 %", "en dessous 99,8 %")."""

OVERDISPERSION_METHODS = (None, "multiplicative", "additive")

UNKNOWN_STRATUM = "inconnu"
"""Stratum value used for a missing stratification variable (its own stratum)."""


def level_tag(level: float) -> str:
    """Column suffix of a confidence level: ``0.95 -> "95"``, ``0.998 -> "998"``.

    >>> level_tag(0.95), level_tag(0.998), level_tag(0.9)
    ('95', '998', '90')
    """
    return f"{round(level * 100, 6):g}".replace(".", "")


def _check_levels(levels: Iterable[float]) -> list[float]:
    lv = sorted({float(x) for x in levels})
    if not lv or any(not 0 < x < 1 for x in lv):
        raise ParameterError(f"levels {list(levels)!r} must be between 0 and 1", hint="e.g. (0.95, 0.998)")
    return lv


def _winsorised_phi(z: np.ndarray, trim: float) -> tuple[float, int]:
    """Spiegelhalter's phi: mean of squared z-scores Winsorised at the trim / 1-trim quantiles."""
    z = z[np.isfinite(z)]
    if len(z) == 0:
        return np.nan, 0
    lo, hi = np.quantile(z, [trim, 1 - trim])  # linear interpolation, as R's default quantile
    zw = np.clip(z, lo, hi)
    return float(np.mean(zw**2)), len(z)


def funnel_data(
    table: pd.DataFrame,
    *,
    target: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    overdispersion: str | None = None,
    n_col: str = "n_contracts",
    k_col: str = "n_ruptures",
    trim: float = 0.1,
) -> pd.DataFrame:
    """Funnel-plot data: rate, z-score, exact binomial limits around a target, and a flag per unit.

    Unit: a row of ``table`` (a CFA, a sector...) with ``n_col`` contracts and ``k_col`` ruptures,
    computed upstream with its own cohort, horizon and censoring rules (e.g. the H-month rate).
    Target: the pooled rate ``sum(k) / sum(n)`` unless given. Limits: exact binomial
    (:func:`aioa_analysis.stats.intervals.binomial_limits`, Spiegelhalter 2005 interpolation) at each
    level, as proportions (``lower_95``, ``upper_95``, ``lower_998``, ``upper_998``).
    ``z = (rate - target) / sqrt(target (1 - target) / n)``.

    Over-dispersion (optional): ``phi`` is the mean of the squared z-scores Winsorised at 10 % at
    each end; ``I·phi`` is tested against chi-square with ``I - 1`` degrees of freedom
    (``phi_p_value``). ``"multiplicative"``: when ``phi > 1`` the limits are widened around the target
    by ``sqrt(phi)`` (``target + sqrt(phi) (limit - target)``) and ``z_adj = z / sqrt(phi)``.
    ``"additive"`` (random effects, DerSimonian-Laird, as FunnelPlotR for proportions): on the
    arcsine-square-root scale ``y = asin(sqrt(rate))``, ``s = 1 / (2 sqrt(n))``, phi from the Winsorised
    transformed z-scores, ``tau2 = max(0, (I phi - (I - 1)) / (sum(w) - sum(w²) / sum(w)))`` with
    ``w = 1/s²``; limits ``sin²(asin(sqrt(target)) ± z_level sqrt(s² + tau2))``. When no
    over-dispersion is found (``phi <= 1`` / ``tau2 = 0``) the ``_adj`` limits equal the exact ones.
    The flag uses the adjusted limits when an adjustment is requested.

    Returns ``table`` with ``rate``, ``target``, ``z``, the limit columns and ``flag`` (one of
    ``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998`` for the default levels —
    outermost limit crossed first; a rate exactly on a limit is ``within``; NA when ``n == 0``). With
    over-dispersion also: ``overdispersion``, ``phi``, ``phi_chi2``, ``phi_dof``, ``phi_p_value``,
    ``tau2`` (additive), ``z_adj``, ``lower_95_adj``, ``upper_95_adj``, ...

    Examples
    --------
    >>> t = pd.DataFrame({"cfa": ["A", "B", "C"], "n_contracts": [100, 100, 200],
    ...                   "n_ruptures": [10, 35, 35]})
    >>> funnel_data(t)[["cfa", "rate", "target", "lower_95", "upper_95", "flag"]].round(3)
      cfa   rate  target  lower_95  upper_95       flag
    0   A  0.100     0.2     0.120     0.276   below_95
    1   B  0.350     0.2     0.120     0.276  above_998
    2   C  0.175     0.2     0.143     0.254     within
    """
    if overdispersion not in OVERDISPERSION_METHODS:
        raise ParameterError(
            f"overdispersion {overdispersion!r} is not known", hint="use None, 'multiplicative' or 'additive'"
        )
    for col in (n_col, k_col):
        if col not in table:
            raise ParameterError(
                f"the rate table has no column {col!r}",
                hint=f"pass n_col= / k_col= (has {list(table.columns)})",
            )
    lv = _check_levels(levels)
    n = table[n_col].to_numpy(dtype="float64", na_value=np.nan)
    k = table[k_col].to_numpy(dtype="float64", na_value=np.nan)
    valid = n > 0
    if target is None:
        target = float(k[valid].sum() / n[valid].sum()) if valid.any() and n[valid].sum() > 0 else np.nan
    t = float(target)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(valid, k / np.where(valid, n, 1), np.nan)
        z = np.where(valid, (rate - t) / np.sqrt(t * (1 - t) / np.where(valid, n, 1)), np.nan)
    cols: dict[str, Any] = {"rate": rate, "target": t, "z": z}
    limits: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for level in lv:
        lo, hi = binomial_limits(t, n, level=level) if np.isfinite(t) else (np.full(len(n), np.nan),) * 2
        limits[level] = (lo, hi)
        cols[f"lower_{level_tag(level)}"] = lo
        cols[f"upper_{level_tag(level)}"] = hi
    used = limits
    if overdispersion is not None:
        used, adjusted = _overdispersed(overdispersion, t, n, rate, z, valid, limits, trim)
        cols.update(adjusted)
    cols["flag"] = _funnel_flags(rate, used, valid & np.isfinite(t))
    return table.assign(**cols)


def _overdispersed(
    method: str,
    t: float,
    n: np.ndarray,
    rate: np.ndarray,
    z: np.ndarray,
    valid: np.ndarray,
    limits: dict[float, tuple[np.ndarray, np.ndarray]],
    trim: float,
) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """The limits of :func:`funnel_data` adjusted for over-dispersion, and the columns that say how."""
    if method == "multiplicative":
        phi, i = _winsorised_phi(z[valid], trim)
        tau2 = np.nan
        used = {lv_: scaled_limits(t, lo, hi, phi) for lv_, (lo, hi) in limits.items()}
        z_adj = z / (np.sqrt(phi) if phi > 1 else 1.0)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(valid, 1 / (2 * np.sqrt(np.where(valid, n, 1))), np.nan)
            y = np.arcsin(np.sqrt(rate))
            t_tr = np.arcsin(np.sqrt(t))
            zt = (y - t_tr) / s
        phi, i = _winsorised_phi(zt[valid], trim)
        w = 1 / s[valid] ** 2
        denom = w.sum() - (w**2).sum() / w.sum() if len(w) else np.nan
        tau2 = max(0.0, (i * phi - (i - 1)) / denom) if i > 1 and denom > 0 else 0.0
        used = {}
        for lv_, (lo, hi) in limits.items():
            lo_a, hi_a = arcsine_limits(t, s**2, tau2, level=lv_)
            used[lv_] = (
                (np.where(valid, lo_a, np.nan), np.where(valid, hi_a, np.nan)) if tau2 > 0 else (lo, hi)
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            z_adj = (y - t_tr) / np.sqrt(s**2 + tau2)
    chi2_stat = i * phi if i else np.nan
    cols: dict[str, Any] = {
        "overdispersion": method,
        "phi": phi,
        "phi_chi2": chi2_stat,
        "phi_dof": max(i - 1, 0),
        "phi_p_value": float(stats.chi2.sf(chi2_stat, i - 1)) if i > 1 else np.nan,
        "tau2": tau2,
        "z_adj": z_adj,
    }
    for level, (lo, hi) in used.items():
        cols[f"lower_{level_tag(level)}_adj"] = lo
        cols[f"upper_{level_tag(level)}_adj"] = hi
    return used, cols


def _funnel_flags(
    rate: np.ndarray, limits: dict[float, tuple[np.ndarray, np.ndarray]], known: np.ndarray
) -> pd.arrays.StringArray:
    """``above_998`` ... ``below_998``: the outermost limit crossed (``within`` when none); NA
    where not ``known``."""
    flag = np.full(len(rate), "within", dtype=object)
    for level in sorted(limits):  # inner levels first, outer ones overwrite
        lo, hi = limits[level]
        tag = level_tag(level)
        flag = np.where(rate > hi, f"above_{tag}", flag)
        flag = np.where(rate < lo, f"below_{tag}", flag)
    return pd.Series(flag, dtype="string").where(known).array


def funnel_curve(
    target: float,
    n_max: int,
    *,
    n_min: int = 1,
    levels: Sequence[float] = (0.95, 0.998),
    points: int = 200,
    phi: float | None = None,
    tau2: float | None = None,
) -> pd.DataFrame:
    """Smooth control-limit lines for drawing a funnel plot, one row per size ``n``.

    ``n`` runs over every integer from ``n_min`` to ``n_max`` when there are at most ``points`` of
    them, else over about ``points`` integers spaced geometrically (denser for small n, where the
    funnel bends). Limits as in :func:`funnel_data`: exact binomial ``lower_95`` ... and, when ``phi``
    (multiplicative, applied if > 1) or ``tau2`` (additive, arcsine scale) is given, the adjusted
    ``lower_95_adj`` ... columns.

    Examples
    --------
    >>> funnel_curve(0.2, 100, n_min=98, levels=(0.95,))
         n  target  lower_95  upper_95
    0   98     0.2  0.118333  0.276940
    1   99     0.2  0.118955  0.276853
    2  100     0.2  0.119742  0.276476
    """
    if phi is not None and tau2 is not None:
        raise ParameterError("give phi (multiplicative) or tau2 (additive), not both", hint="drop one")
    lv = _check_levels(levels)
    n_min, n_max = max(int(n_min), 1), int(n_max)
    if n_max < n_min:
        raise ParameterError(
            f"n_max={n_max} is below n_min={n_min}", hint="pass the largest unit size as n_max"
        )
    if n_max - n_min + 1 <= points:
        n = np.arange(n_min, n_max + 1)
    else:
        n = np.unique(np.round(np.geomspace(n_min, n_max, points)).astype(int))
    t = float(target)
    cols: dict[str, Any] = {"n": n, "target": t}
    nf = n.astype("float64")
    for level in lv:
        lo, hi = binomial_limits(t, nf, level=level)
        cols[f"lower_{level_tag(level)}"] = lo
        cols[f"upper_{level_tag(level)}"] = hi
    for level in lv:
        lo, hi = cols[f"lower_{level_tag(level)}"], cols[f"upper_{level_tag(level)}"]
        if phi is not None:
            lo, hi = scaled_limits(t, lo, hi, phi)
        elif tau2 is not None and tau2 > 0:
            lo, hi = arcsine_limits(t, 1 / (4 * nf), tau2, level=level)
        if phi is not None or tau2 is not None:
            cols[f"lower_{level_tag(level)}_adj"] = lo
            cols[f"upper_{level_tag(level)}_adj"] = hi
    return pd.DataFrame(cols)


def _h_month_frame(contracts: pd.DataFrame, *, as_of: pd.Timestamp, horizon_months: int, cols: list[str]):
    horizon_months = check_count("horizon_months", horizon_months, minimum=1)
    missing = [c for c in cols if c not in DERIVED and DIMENSIONS[c] not in contracts]
    if missing:
        raise ParameterError(
            f"the contract table has no column for {', '.join(missing)}",
            hint="rebuild it with `aioa clean` or choose other strata",
        )
    frame, _ = with_dimensions(contracts, cols)
    base = with_outcome(frame, as_of=as_of)
    eligible = horizon_eligible(base, as_of=as_of, horizon_months=horizon_months).to_numpy()
    needed = [*cols, OUTCOME, C.start_date, C.rupture_date]
    base = base[list(dict.fromkeys(needed))].loc[eligible]  # the columns used below: a narrow copy
    rupt = (base[OUTCOME] == "ruptured").fillna(False) & (
        base[C.rupture_date] < horizon_end(base[C.start_date], horizon_months)
    ).fillna(False)
    return base, rupt.to_numpy(dtype=bool)


def _stratum_key(base: pd.DataFrame, strata: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {s: base[s].astype("string").fillna(UNKNOWN_STRATUM).to_numpy() for s in strata}, index=base.index
    )


def stratum_rates(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    strata: str | Iterable[str] = ("diploma_level", "sector_group"),
    horizon_months: int = 9,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Reference H-month rupture rate of each stratum over the whole population.

    Unit: the contract. Cohort: ``start_date + H months <= as_of``. Event: outcome ``ruptured``
    with ``rupture_date < start_date + H months`` (ruptures after the diploma are not counted).
    A missing stratum value is its own stratum ``"inconnu"``. Interval: Wilson.

    Returns strata columns, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``, ``ci_high``,
    ``suppressed``, ``suppression_reason`` (``n_contracts < min_n``).

    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 3),
    ...     "planned_end_date": pd.to_datetime(["2026-01-01"] * 3),
    ...     "rupture_date": pd.to_datetime(["2024-02-01", None, None]),
    ...     "diploma_level": ["3", "3", None],
    ... })
    >>> stratum_rates(df, as_of="2025-06-30", strata="diploma_level").iloc[:, :6].round(4)
      diploma_level  n_contracts  n_ruptures  rate  ci_low  ci_high
    0             3            2           1   0.5  0.0945   0.9055
    1       inconnu            1           0   0.0  0.0000   0.7935
    """
    ts = parse_as_of(as_of)
    cols = parse_dimensions(strata)
    base, rupt = _h_month_frame(contracts, as_of=ts, horizon_months=horizon_months, cols=cols)
    key = _stratum_key(base, cols).assign(_n=1, _k=rupt.astype("int64"))
    out = key.groupby(cols, sort=True).agg(n_contracts=("_n", "sum"), n_ruptures=("_k", "sum")).reset_index()
    return with_rate(out, k="n_ruptures", n="n_contracts", level=level, min_n=min_n)


def indirect_standardisation(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    unit: str = "cfa",
    strata: str | Iterable[str] = ("diploma_level", "sector_group"),
    horizon_months: int = 9,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Case-mix adjusted H-month rupture rates by indirect standardisation.

    Unit of comparison: ``unit`` (a public dimension name, default ``"cfa"``); unit of count: the
    contract. Cohort: contracts with ``start_date + H months <= as_of`` (as the H-month rate).
    Event: outcome ``ruptured`` with ``rupture_date < start_date + H months``. Reference: the
    stratum-specific rates ``r_s`` of the whole eligible population (:func:`stratum_rates`; a
    missing stratum value is its own stratum). ``expected = sum over the unit's contracts of
    r_s``; ``oe_ratio = observed / expected`` with the exact Poisson (Garwood, chi-square) interval
    (:func:`aioa_analysis.stats.intervals.poisson_interval`); ``adjusted_rate = oe_ratio × overall_rate`` (and its
    interval), where ``overall_rate`` is the crude rate of the whole population. The crude rate and
    its Wilson interval are kept beside it.

    Returns one row per unit (every unit of ``contracts``, those without eligible contracts with
    zero counts): the unit column (public name, e.g. ``cfa``; missing values as ``"inconnu"``),
    ``n_contracts``, ``n_ruptures`` (observed), ``rate``, ``ci_low``, ``ci_high`` (crude),
    ``suppressed``, ``suppression_reason`` (``n_contracts < min_n``), ``expected``, ``oe_ratio``, ``oe_low``, ``oe_high``,
    ``overall_rate``, ``adjusted_rate``, ``adjusted_low``, ``adjusted_high``, ``horizon_months``,
    ``strata`` (the stratification, e.g. ``"diploma_level×sector_group"``).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "cfa_uai": ["A", "A", "A", "B", "B", "B"],
    ...     "diploma_level": ["3", "3", "5", "3", "5", "5"],
    ...     "start_date": pd.to_datetime(["2024-01-01"] * 6),
    ...     "planned_end_date": pd.to_datetime(["2026-01-01"] * 6),
    ...     "rupture_date": pd.to_datetime(["2024-02-01", "2024-03-01", None, "2024-02-01", None, None]),
    ... })
    >>> indirect_standardisation(df, as_of="2025-06-30", strata="diploma_level")[
    ...     ["cfa", "n_ruptures", "expected", "oe_ratio", "adjusted_rate"]]
      cfa  n_ruptures  expected  oe_ratio  adjusted_rate
    0   A           2       2.0       1.0            0.5
    1   B           1       1.0       1.0            0.5
    """
    ts = parse_as_of(as_of)
    unit_cols = parse_dimensions(unit)
    if len(unit_cols) != 1:
        raise ParameterError(f"unit {unit!r} must name exactly one dimension", hint="e.g. unit='cfa'")
    ucol = unit_cols[0]
    cols = parse_dimensions(strata)
    if ucol in cols:
        raise ParameterError(f"unit {unit!r} cannot also be a stratum", hint="remove it from strata")
    base, rupt = _h_month_frame(contracts, as_of=ts, horizon_months=horizon_months, cols=[ucol, *cols])
    out = _observed_expected(contracts, base, rupt, ucol, cols)
    overall = float(rupt.sum() / len(rupt)) if len(rupt) else np.nan
    lo, hi = poisson_interval(out["n_ruptures"], out["expected"], level=level)
    oe = share(out["n_ruptures"], out["expected"])
    out = with_rate(out, k="n_ruptures", n="n_contracts", level=level, min_n=min_n).assign(
        oe_ratio=oe,
        oe_low=lo,
        oe_high=hi,
        overall_rate=overall,
        adjusted_rate=oe * overall,
        adjusted_low=lo * overall,
        adjusted_high=hi * overall,
        horizon_months=int(horizon_months),
        strata="×".join(cols),
    )
    head = [
        ucol,
        "n_contracts",
        "n_ruptures",
        "rate",
        "ci_low",
        "ci_high",
        "suppressed",
        "suppression_reason",
    ]
    tail = ["overall_rate", "adjusted_rate", "adjusted_low", "adjusted_high", "horizon_months", "strata"]
    return out[[*head, "expected", "oe_ratio", "oe_low", "oe_high", *tail]]


def _observed_expected(
    contracts: pd.DataFrame, base: pd.DataFrame, rupt: np.ndarray, ucol: str, cols: list[str]
) -> pd.DataFrame:
    """Per unit of ``contracts`` (sorted, zeros for a unit without eligible contract): the eligible
    contracts, their ruptures and the ruptures expected from the stratum rates of ``base``."""
    key = _stratum_key(base, cols).assign(_n=1, _k=rupt.astype("int64"))
    ref = key.groupby(cols, sort=False).agg(_N=("_n", "sum"), _K=("_k", "sum")).reset_index()
    ref = ref.assign(_r=ref["_K"] / ref["_N"])
    expected = key.merge(ref[[*cols, "_r"]], how="left", on=cols)["_r"].to_numpy()
    frame = pd.DataFrame({ucol: base[ucol].to_numpy(), "_n": 1, "_k": rupt.astype("int64"), "_e": expected})
    out = (
        frame.groupby(ucol, dropna=False, sort=True)
        .agg(n_contracts=("_n", "sum"), n_ruptures=("_k", "sum"), expected=("_e", "sum"))
        .reset_index()
    )
    all_units = pd.DataFrame({ucol: dimension_values(contracts, ucol).drop_duplicates().to_numpy()})
    out = all_units.merge(out.astype({ucol: all_units[ucol].dtype}), how="left", on=ucol)
    out = out.assign(
        n_contracts=out["n_contracts"].fillna(0).astype("int64"),
        n_ruptures=out["n_ruptures"].fillna(0).astype("int64"),
        expected=out["expected"].fillna(0.0).astype("float64"),
    ).sort_values(ucol, na_position="last", kind="stable")
    return out.reset_index(drop=True)


def chi_square_test(
    table: pd.DataFrame, *, n_col: str = "n_contracts", k_col: str = "n_ruptures"
) -> pd.DataFrame:
    """Pearson chi-square test that the rupture rate is the same in every row (group) of ``table``.

    The contingency table is groups × (ruptured, not ruptured) built from ``k_col`` and
    ``n_col - k_col``; groups with ``n == 0`` are dropped (counted in ``n_groups_empty``). No
    continuity correction (:func:`scipy.stats.chi2_contingency` with ``correction=False``). The
    approximation is doubtful when expected counts are small: ``low_expected`` is True when any cell
    expects fewer than 5, and ``warning`` says so in French (empty string otherwise).

    Returns one row: ``statistic``, ``dof``, ``p_value``, ``n_groups``, ``n_groups_empty``,
    ``n_total``, ``min_expected``, ``n_cells_expected_lt5``, ``low_expected``, ``warning``.

    Examples
    --------
    >>> t = pd.DataFrame({"n_contracts": [100, 100], "n_ruptures": [10, 30]})
    >>> chi_square_test(t)[["statistic", "dof", "p_value", "low_expected"]].round(5)
       statistic  dof  p_value  low_expected
    0       12.5    1  0.00041         False
    """
    for col in (n_col, k_col):
        if col not in table:
            raise ParameterError(f"the rate table has no column {col!r}", hint="pass n_col= / k_col=")
    n = table[n_col].to_numpy(dtype="float64", na_value=0)
    k = table[k_col].to_numpy(dtype="float64", na_value=0)
    keep = n > 0
    obs = np.column_stack([k[keep], n[keep] - k[keep]])
    row: dict[str, object] = {
        "statistic": np.nan,
        "dof": pd.NA,
        "p_value": np.nan,
        "n_groups": int(keep.sum()),
        "n_groups_empty": int((~keep).sum()),
        "n_total": int(n[keep].sum()),
        "min_expected": np.nan,
        "n_cells_expected_lt5": pd.NA,
        "low_expected": pd.NA,
        "warning": "",
    }
    if keep.sum() < 2:
        row["warning"] = "moins de deux groupes non vides : test impossible"
    elif obs[:, 0].sum() == 0 or obs[:, 1].sum() == 0:
        row["warning"] = "aucune rupture (ou que des ruptures) : test sans objet"
    else:
        res = stats.chi2_contingency(obs, correction=False)
        lt5 = int((res.expected_freq < 5).sum())
        row.update(
            statistic=float(res.statistic),
            dof=int(res.dof),
            p_value=float(res.pvalue),
            min_expected=float(res.expected_freq.min()),
            n_cells_expected_lt5=lt5,
            low_expected=lt5 > 0,
        )
        if lt5:
            row["warning"] = (
                f"effectifs attendus inférieurs à 5 dans {lt5} cellule(s) sur {obs.size} : test approximatif"
            )
    out = pd.DataFrame([row])
    return out.astype(
        {"dof": "Int64", "n_cells_expected_lt5": "Int64", "low_expected": "boolean", "warning": "string"}
    )
