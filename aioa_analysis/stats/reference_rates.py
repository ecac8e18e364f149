"""Published national and regional reference rates, joined onto our rate tables.

The shipped table :func:`aioa_analysis.core.referential.reference_rates` (docs/reference/DOMAIN.md §1) holds one row
per published figure: ``indicator`` (``rupture_rate``, ``net_rupture_share``,
``recontract_share_180d``, ``exam_pass_rate``...), ``dimension`` / ``category`` (``overall``, or e.g.
``sector`` / ``hebergement_restauration``), ``value`` (a share), ``geography``, ``population``,
``year``, ``horizon_months`` (empty for whole-contract figures), ``source``, ``confidence``.

* :func:`reference_lines` selects the figures for reference lines on a chart;
* :func:`compare_with_reference` adds a "compared with France" block to a rate table: the reference
  value and its provenance, the difference in percentage points and whether the reference lies
  outside the unit's confidence interval.

A reference is only a benchmark: national figures use other cohorts and years, and the DARES
figures come from secondary sources (``confidence`` S); reports always show source and year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.referential import reference_rates
from aioa_analysis.core.schema import DIMENSIONS

REFERENCE_DIMENSIONS: dict[str, str] = {
    **dict(DIMENSIONS),
    "level_group": "level_group",  # secondaire (levels 3-4) / superieur (5+), a published grouping
}
"""Reference ``dimension`` value -> contract-table column (a rate table may carry either name)."""

COMPARISONS = ("higher", "lower", "not_different")
"""Machine values of ``comparison`` (the unit's interval entirely above / below the reference, or
containing it); reports translate them ("supérieur", "inférieur", "pas de différence nette")."""

REF_COLUMNS = (
    "ref_id",
    "ref_value",
    "ref_geography",
    "ref_population",
    "ref_year",
    "ref_horizon_months",
    "ref_source",
    "ref_confidence",
)


def _public_dimension(dimension: str | None) -> str:
    if dimension is None or dimension == "overall":
        return "overall"
    if dimension in REFERENCE_DIMENSIONS:
        return dimension
    for name, col in REFERENCE_DIMENSIONS.items():
        if col == dimension:
            return name
    raise ParameterError(
        f"unknown dimension {dimension!r}",
        hint=f"choose among: overall, {', '.join(sorted(REFERENCE_DIMENSIONS))}",
    )


def _references() -> pd.DataFrame:
    ref = reference_rates()
    horizon = pd.to_numeric(ref["horizon_months"].replace("", pd.NA), errors="coerce").astype("Int64")
    year = pd.to_numeric(ref["year"].replace("", pd.NA), errors="coerce").astype("Int64")
    return ref.assign(horizon_months=horizon, year=year, category=ref["category"].astype("string"))


def _select(
    ref: pd.DataFrame,
    *,
    indicator: str,
    dimension: str,
    horizon_months: int | None,
    geography: str | None,
    year: int | None,
) -> pd.DataFrame:
    sel = ref.loc[(ref["indicator"] == indicator) & (ref["dimension"] == dimension)]
    if horizon_months is None:
        sel = sel.loc[sel["horizon_months"].isna()]
    else:
        sel = sel.loc[(sel["horizon_months"] == int(horizon_months)).fillna(False)]
    if geography is not None:
        sel = sel.loc[sel["geography"] == geography]
    if year is not None:
        sel = sel.loc[(sel["year"] == int(year)).fillna(False)]
    return sel


def reference_lines(
    *,
    indicator: str = "rupture_rate",
    dimension: str | None = None,
    horizon_months: int | None = 9,
    geography: str | None = None,
    latest_only: bool = True,
) -> pd.DataFrame:
    """Published figures for reference lines on a chart, latest year per geography and category.

    ``dimension`` is a public dimension name (``"sector"``), its column (``"employer_size_band"``),
    ``"level_group"`` or ``None`` / ``"overall"``; ``horizon_months=None`` selects whole-contract
    figures. Returns the reference columns (``ref_id``, ``indicator``, ``dimension``, ``category``,
    ``value``, ``geography``, ``population``, ``year``, ``horizon_months``, ``unit``, ``source``,
    ``confidence``), one row per figure.

    Examples
    --------
    >>> reference_lines()[["ref_id", "value", "geography", "year"]]
      ref_id  value            geography  year
    0      1  0.210               France  2022
    1     71  0.178  Centre-Val de Loire  2022
    """
    dim = _public_dimension(dimension)
    sel = _select(
        _references(),
        indicator=indicator,
        dimension=dim,
        horizon_months=horizon_months,
        geography=geography,
        year=None,
    )
    if latest_only and len(sel):
        sel = sel.sort_values("year", ascending=False, kind="stable").drop_duplicates(
            ["geography", "category"], keep="first"
        )
        sel = sel.sort_index()
    return sel.reset_index(drop=True)


def compare_with_reference(
    rates: pd.DataFrame,
    *,
    dimension: str | None = None,
    indicator: str = "rupture_rate",
    horizon_months: int | None = 9,
    geography: str = "France",
    year: int | None = None,
    rate_col: str = "rate",
) -> pd.DataFrame:
    """Add the matching published figure and a "compared with France" block to each row of ``rates``.

    Matching: reference rows with the same ``indicator``, the same ``dimension`` and ``category``
    (the row's value in the dimension's column; every row is compared with the ``overall`` figure
    when ``dimension`` is None), the same horizon (``horizon_months``; if the table has a
    ``horizon_months`` column and ``horizon_months`` is None, row by row; None = whole-contract
    figures) and ``geography``; among several years the latest (or ``year``) is kept.

    Adds ``ref_id``, ``ref_value``, ``ref_geography``, ``ref_population``, ``ref_year``,
    ``ref_horizon_months``, ``ref_source``, ``ref_confidence`` (NA where nothing matches),
    ``diff_points`` (``(rate - ref_value) × 100``, percentage points), ``ref_outside_ci`` (the
    reference lies outside ``[ci_low, ci_high]``; NA without an interval or a reference) and
    ``comparison`` (``higher`` when ``ci_low > ref_value``, ``lower`` when ``ci_high < ref_value``,
    else ``not_different``; NA when unknown).

    Examples
    --------
    >>> rates = pd.DataFrame({"sector": ["hebergement_restauration", "autre"],
    ...                       "rate": [0.45, 0.20], "ci_low": [0.38, 0.15], "ci_high": [0.52, 0.26]})
    >>> out = compare_with_reference(rates, dimension="sector")
    >>> out[["ref_value", "ref_year", "diff_points", "ref_outside_ci", "comparison"]].round(2)
       ref_value  ref_year  diff_points  ref_outside_ci comparison
    0       0.36      2022          9.0            True     higher
    1        NaN      <NA>          NaN            <NA>       <NA>
    """
    dim = _public_dimension(dimension)
    if rate_col not in rates:
        raise ParameterError(f"the rate table has no column {rate_col!r}", hint="pass rate_col=")
    ref = _references()
    if geography is not None:
        ref = ref.loc[ref["geography"] == geography]
    ref = ref.loc[(ref["indicator"] == indicator) & (ref["dimension"] == dim)]
    if year is not None:
        ref = ref.loc[(ref["year"] == int(year)).fillna(False)]
    ref = ref.sort_values("year", ascending=False, kind="stable").drop_duplicates(
        ["category", "horizon_months"], keep="first"
    )
    joined = _matching(rates, ref, dim, horizon_months)
    refv = joined["ref_value"].to_numpy(dtype="float64")
    rate = rates[rate_col].to_numpy(dtype="float64", na_value=np.nan)
    out = rates.assign(
        ref_id=pd.array(joined["ref_id"].to_numpy(), dtype="string"),
        ref_value=refv,
        ref_geography=pd.array(joined["ref_geography"].to_numpy(), dtype="string"),
        ref_population=pd.array(joined["ref_population"].to_numpy(), dtype="string"),
        ref_year=pd.array(joined["ref_year"].to_numpy(), dtype="Int64"),
        ref_horizon_months=pd.array(joined["ref_horizon_months"].to_numpy(), dtype="Int64"),
        ref_source=pd.array(joined["ref_source"].to_numpy(), dtype="string"),
        ref_confidence=pd.array(joined["ref_confidence"].to_numpy(), dtype="string"),
        diff_points=(rate - refv) * 100,
    )
    return out.assign(**_ci_comparison(rates, refv))


def _matching(rates: pd.DataFrame, ref: pd.DataFrame, dim: str, horizon_months: int | None) -> pd.DataFrame:
    """The reference figure of each row of ``rates`` (same category and horizon), in row order."""
    row_horizon = (
        rates["horizon_months"].astype("Int64")
        if horizon_months is None and "horizon_months" in rates
        else pd.Series(pd.array([horizon_months] * len(rates), dtype="Int64"), index=rates.index)
    )
    if dim == "overall":
        category = pd.Series(pd.NA, index=rates.index, dtype="string")
        ref = ref.assign(category=pd.Series(pd.NA, index=ref.index, dtype="string"))
    else:
        # rate tables name dimension columns by the public name (aioa_analysis.stats.dimensions);
        # a table keyed by the contract-table column (cfa_uai, employer_size_band) is accepted too
        col = dim if dim in rates else REFERENCE_DIMENSIONS[dim]
        if col not in rates:
            raise ParameterError(
                f"the rate table has no column {dim!r} for dimension {dim!r}", hint="pass dimension="
            )
        category = rates[col].astype("string")
    keys = pd.DataFrame(
        {
            "_pos": np.arange(len(rates)),
            "_cat": category.fillna("\x00").to_numpy(),
            "_h": row_horizon.fillna(-1).to_numpy(),
        }
    )
    right = pd.DataFrame(
        {
            "_cat": ref["category"].fillna("\x00").to_numpy(),
            "_h": ref["horizon_months"].fillna(-1).to_numpy(),
            "ref_id": ref["ref_id"].astype("string").to_numpy(),
            "ref_value": ref["value"].to_numpy(dtype="float64"),
            "ref_geography": ref["geography"].astype("string").to_numpy(),
            "ref_population": ref["population"].astype("string").to_numpy(),
            "ref_year": ref["year"].to_numpy(),
            "ref_horizon_months": ref["horizon_months"].to_numpy(),
            "ref_source": ref["source"].astype("string").to_numpy(),
            "ref_confidence": ref["confidence"].astype("string").to_numpy(),
        }
    )
    keys = keys.astype({"_h": "int64"})
    right = right.astype({"_h": "int64"})
    return keys.merge(right, how="left", on=["_cat", "_h"]).sort_values("_pos")


def _ci_comparison(rates: pd.DataFrame, refv: np.ndarray) -> dict[str, pd.api.extensions.ExtensionArray]:
    """``ref_outside_ci`` and ``comparison`` of each row's interval with its reference value."""
    if "ci_low" not in rates or "ci_high" not in rates:
        return {
            "ref_outside_ci": pd.array([pd.NA] * len(rates), dtype="boolean"),
            "comparison": pd.array([pd.NA] * len(rates), dtype="string"),
        }
    lo = rates["ci_low"].to_numpy(dtype="float64", na_value=np.nan)
    hi = rates["ci_high"].to_numpy(dtype="float64", na_value=np.nan)
    known = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(refv)
    higher, lower = lo > refv, hi < refv
    comp = np.where(higher, "higher", np.where(lower, "lower", "not_different"))
    return {
        "ref_outside_ci": pd.Series(higher | lower, dtype="boolean").where(known).array,
        "comparison": pd.Series(comp, dtype="string").where(known).array,
    }
