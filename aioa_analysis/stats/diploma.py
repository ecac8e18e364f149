"""Diploma outcome and rupture: pass rates by contract outcome class, rupture rates by exam result.

Definitions (unit: the contract; ``as_of`` always explicit):

* **outcome class** (:func:`with_outcome_class`), as of ``as_of``:
  ``completed`` (planned end passed, no rupture); ``ruptured_recontracted`` (broken, then a new
  contract of the same apprentice within ``window_days``, default 180); ``ruptured_no_new_contract``
  (broken, no new contract within the window); ``ruptured_pending`` (broken less than
  ``window_days`` before ``as_of``: not classified); ``ruptured_after_diploma`` (L6222-19);
  ``ongoing`` (censored). Ruptured contracts without ``apprentice_key`` cannot be linked:
  ``ruptured_unlinkable``. The new-contract link is the one of
  :func:`aioa_analysis.stats.transitions.link_new_contracts` (same rule, via
  :func:`aioa_analysis.stats.linking.days_to_new_contract`).
* **pass rate**: ``admis / (admis + ajourne)`` among contracts whose ``diploma_outcome`` is known;
  ``absent`` is left out of the denominator by default (no result) and counted as a failure with
  ``absent_as_failure=True``; ``inconnu`` / missing results are always left out (counted beside).
  The result is the contract's own ``diploma_outcome`` (cleaning attaches exam results by
  apprentice and diploma code, so a re-contracted apprentice sitting the same diploma carries the
  result on both contracts).
* **rupture rate by diploma outcome**: ruptures over contracts, by ``diploma_outcome``, either over
  contracts whose planned end has passed (``horizon_months=None``, whole contract) or within H months
  (``start + H months <= as_of``, ``rupture_date < start + H months``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import DIPLOMA_OUTCOMES, C
from aioa_analysis.stats.dimensions import with_dimensions
from aioa_analysis.stats.linking import (
    RECONTRACT_TOLERANCE_DAYS,
    RuptureLinks,
    check_count,
    days_to_new_contract,
    horizon_eligible,
    horizon_end,
)
from aioa_analysis.stats.outcomes import OUTCOME, observation_limit, parse_as_of, with_outcome
from aioa_analysis.stats.suppression import MIN_N_DEFAULT
from aioa_analysis.stats.tables import count_by, with_rate

OUTCOME_CLASS = "outcome_class"

OUTCOME_CLASSES = (
    "completed",
    "ruptured_recontracted",
    "ruptured_no_new_contract",
    "ruptured_pending",
    "ruptured_unlinkable",
    "ruptured_after_diploma",
    "ongoing",
)
"""Every value of ``outcome_class``."""

PASS_RATE_CLASSES = ("completed", "ruptured_recontracted", "ruptured_no_new_contract")
"""Classes reported by :func:`pass_rates_by_outcome_class` by default (ongoing ones excluded)."""


def with_outcome_class(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    window_days: int = 180,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Add ``outcome``, ``event_date``, ``duration_days``, ``days_to_new_contract`` and ``outcome_class``.

    Unit: the contract. A broken contract is classified re-contracted / no new contract only once
    its window has fully passed (``rupture_date + window_days <= as_of``); before that it is
    ``ruptured_pending``. A new contract exactly ``window_days`` after the rupture counts.
    ``links`` (:func:`aioa_analysis.stats.linking.link_ruptures` on the same table) reuses links computed
    once; the result is the same.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1", "c1", "d1"],
    ...     "apprentice_key": ["A", "A", "B", "C", "D"],
    ...     "start_date": pd.to_datetime(["2022-09-01", "2023-01-02", "2022-09-01", "2022-09-01",
    ...                                   "2025-01-01"]),
    ...     "planned_end_date": pd.to_datetime(["2024-06-30", "2024-06-30", "2024-06-30",
    ...                                         "2024-06-30", "2026-06-30"]),
    ...     "rupture_date": pd.to_datetime(["2022-12-01", None, "2023-01-10", None, "2025-06-01"]),
    ... })
    >>> with_outcome_class(df, as_of="2025-06-30")["outcome_class"].tolist()
    ['ruptured_recontracted', 'completed', 'ruptured_no_new_contract', 'completed', 'ruptured_pending']
    """
    ts = parse_as_of(as_of)
    window_days = check_count("window_days", window_days)
    check_count("tolerance_days", tolerance_days)
    df = with_outcome(contracts, as_of=ts)
    ruptured = (df[OUTCOME] == "ruptured").fillna(False)
    found = days_to_new_contract(df, ruptured=ruptured, as_of=ts, tolerance_days=tolerance_days, links=links)
    days = found["days_to_new_contract"]
    passed = (df[C.rupture_date] + pd.Timedelta(days=int(window_days)) <= ts).fillna(False)
    linkable = df[C.apprentice_key].notna()
    recontracted = (days <= window_days).fillna(False)
    r, k, p, n = (x.to_numpy(dtype=bool) for x in (ruptured, linkable, passed, recontracted))
    # the broken contracts' classes (disjoint cases, codes into _RUPTURE_CLASSES); the outcome elsewhere
    code = np.full(len(df), -1, dtype="int64")
    code[r & k & p & n] = 0
    code[r & k & p & ~n] = 1
    code[r & k & ~p] = 2
    code[r & ~k] = 3
    broken = _RUPTURE_CLASSES.take(pa.array(code, mask=code < 0))
    outcome = pa.chunked_array(pa.array(df[OUTCOME].astype("string[pyarrow]").array))
    cls = pd.Series(
        pd.array(pc.coalesce(broken, outcome.cast(pa.large_string())), dtype="string"), index=df.index
    )
    return df.assign(days_to_new_contract=days, **{OUTCOME_CLASS: cls.astype("string")})


_RUPTURE_CLASSES = pa.array(
    ["ruptured_recontracted", "ruptured_no_new_contract", "ruptured_pending", "ruptured_unlinkable"],
    pa.large_string(),
)


def _diploma_outcome(df: pd.DataFrame) -> pd.Series:
    if C.diploma_outcome not in df:
        return pd.Series("inconnu", index=df.index, dtype="string")
    s = df[C.diploma_outcome].astype("string").str.strip().str.lower()
    return s.where(s.isin(DIPLOMA_OUTCOMES[:3]), "inconnu").fillna("inconnu").astype("string")


def pass_rates_by_outcome_class(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    classes: Iterable[str] = PASS_RATE_CLASSES,
    window_days: int = 180,
    tolerance_days: int = RECONTRACT_TOLERANCE_DAYS,
    absent_as_failure: bool = False,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
    links: RuptureLinks | None = None,
) -> pd.DataFrame:
    """Exam pass rate by contract outcome class, with Wilson intervals.

    Unit: the contract (its own ``diploma_outcome``). Cohort: contracts in ``classes`` as of
    ``as_of`` (:func:`with_outcome_class`; ongoing and pending ruptures are not classified).
    Rate: ``n_admis / n_exam`` with ``n_exam = n_admis + n_ajourne`` (``+ n_absent`` when
    ``absent_as_failure``); unknown results are counted in ``n_unknown`` and left out. Interval:
    Wilson at ``level``. Suppression flag: ``n_exam < min_n``. ``links`` as in
    :func:`with_outcome_class`.

    Returns one row per group and class (empty ones kept with zero counts): dimension columns,
    ``outcome_class``, ``n_contracts``, ``n_admis``, ``n_ajourne``, ``n_absent``, ``n_unknown``,
    ``n_exam`` (denominator), ``rate``, ``ci_low``, ``ci_high``, ``suppressed``,
    ``suppression_reason``.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "contract_id": ["a1", "a2", "b1", "c1", "e1"],
    ...     "apprentice_key": ["A", "A", "B", "C", "E"],
    ...     "start_date": pd.to_datetime(["2022-09-01", "2023-01-02", "2022-09-01", "2022-09-01",
    ...                                   "2022-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2024-06-30"] * 5),
    ...     "rupture_date": pd.to_datetime(["2022-12-01", None, "2023-01-10", None, None]),
    ...     "diploma_outcome": ["admis", "admis", "ajourne", "admis", "absent"],
    ... })
    >>> pass_rates_by_outcome_class(df, as_of="2025-06-30")[["outcome_class", "n_contracts",
    ...     "n_exam", "rate"]]
                  outcome_class  n_contracts  n_exam  rate
    0                 completed            3       2   1.0
    1     ruptured_recontracted            1       1   1.0
    2  ruptured_no_new_contract            1       1   0.0
    """
    wanted = list(dict.fromkeys(classes))
    unknown = sorted(set(wanted) - set(OUTCOME_CLASSES))
    if unknown:
        raise ParameterError(
            f"unknown outcome class(es): {', '.join(unknown)}",
            hint=f"choose among: {', '.join(OUTCOME_CLASSES)}",
        )
    frame, dims = with_dimensions(contracts, by)
    df = with_outcome_class(
        frame, as_of=as_of, window_days=window_days, tolerance_days=tolerance_days, links=links
    )
    res = _diploma_outcome(df)
    keep = df[OUTCOME_CLASS].isin(wanted).fillna(False).to_numpy()
    df, res = df[list(dict.fromkeys([*dims, OUTCOME_CLASS]))].loc[keep], res.loc[keep]
    exam = res.isin(["admis", "ajourne", "absent"] if absent_as_failure else ["admis", "ajourne"])
    group_cols = [*dims, OUTCOME_CLASS]
    base_groups = frame[dims].drop_duplicates() if dims else pd.DataFrame(index=[0])
    universe = base_groups.merge(pd.DataFrame({OUTCOME_CLASS: wanted}), how="cross")
    out = count_by(
        df,
        group_cols,
        {
            "n_contracts": pd.Series(True, index=df.index),
            "n_admis": res == "admis",
            "n_ajourne": res == "ajourne",
            "n_absent": res == "absent",
            "n_unknown": res == "inconnu",
            "n_exam": exam,
        },
        universe=universe.astype({OUTCOME_CLASS: "string"}),
    )
    order = {c: i for i, c in enumerate(wanted)}
    out = out.assign(_o=out[OUTCOME_CLASS].map(order)).sort_values([*dims, "_o"], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    out = with_rate(out, k="n_admis", n="n_exam", level=level, min_n=min_n)
    cols = [*group_cols, "n_contracts", "n_admis", "n_ajourne", "n_absent", "n_unknown", "n_exam"]
    return out[[*cols, "rate", "ci_low", "ci_high", "suppressed", "suppression_reason"]]


def rupture_rates_by_diploma_outcome(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    by: str | Sequence[str] | None = None,
    horizon_months: int | None = None,
    level: float = 0.95,
    min_n: int = MIN_N_DEFAULT,
) -> pd.DataFrame:
    """Rupture rate by exam result (admis / ajourne / absent / inconnu), with Wilson intervals.

    Unit: the contract. With ``horizon_months=None`` (default), the whole-contract share: cohort =
    contracts whose planned end has passed (``planned_end_date <= as_of``, full follow-up),
    numerator = outcome ``ruptured``. With ``horizon_months=H``: cohort = contracts with
    ``start_date + H months <= as_of``, numerator = ``ruptured`` with
    ``rupture_date < start_date + H months``. Ruptures after the diploma (L6222-19) stay in the
    denominator, not in the numerator, and are counted in ``n_ruptures_after_diploma``. No
    censoring inside the cohort. Interval: Wilson at ``level``. Suppression flag:
    ``n_contracts < min_n``.

    Returns one row per group and diploma outcome (all four kept): dimension columns,
    ``diploma_outcome``, ``n_contracts``, ``n_ruptures``, ``rate``, ``ci_low``, ``ci_high``,
    ``suppressed``, ``suppression_reason``, ``n_ruptures_after_diploma``, ``horizon_months`` (NA
    for the whole contract).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "start_date": pd.to_datetime(["2022-09-01"] * 4),
    ...     "planned_end_date": pd.to_datetime(["2024-06-30"] * 4),
    ...     "rupture_date": pd.to_datetime(["2023-03-01", None, None, "2023-01-01"]),
    ...     "diploma_outcome": ["ajourne", "ajourne", "admis", None],
    ... })
    >>> rupture_rates_by_diploma_outcome(df, as_of="2025-06-30")[["diploma_outcome", "n_contracts",
    ...     "n_ruptures", "rate"]]
      diploma_outcome  n_contracts  n_ruptures  rate
    0           admis            1           0   0.0
    1         ajourne            2           1   0.5
    2          absent            0           0   NaN
    3         inconnu            1           1   1.0
    """
    ts = parse_as_of(as_of)
    if horizon_months is not None:
        horizon_months = check_count("horizon_months", horizon_months, minimum=1)
    frame, dims = with_dimensions(contracts, by)
    dims = [d for d in dims if d != C.diploma_outcome]  # the rows already split by diploma outcome
    base = with_outcome(frame, as_of=ts)
    base = base.assign(**{C.diploma_outcome: _diploma_outcome(base)})
    if horizon_months is None:
        cohort = pd.Series(
            base[C.planned_end_date].to_numpy() <= observation_limit(base, ts), index=base.index
        )
        within = pd.Series(True, index=base.index)
    else:
        cohort = horizon_eligible(base, as_of=ts, horizon_months=horizon_months)
        within = (base[C.rupture_date] < horizon_end(base[C.start_date], horizon_months)).fillna(False)
    rupt = cohort & (base[OUTCOME] == "ruptured").fillna(False) & within
    after = cohort & (base[OUTCOME] == "ruptured_after_diploma").fillna(False) & within
    group_cols = [*dims, C.diploma_outcome]
    base_groups = base[dims].drop_duplicates() if dims else pd.DataFrame(index=[0])
    universe = base_groups.merge(
        pd.DataFrame({C.diploma_outcome: pd.array(DIPLOMA_OUTCOMES, dtype="string")}), how="cross"
    )
    out = count_by(
        base,
        group_cols,
        {"n_contracts": cohort, "n_ruptures": rupt, "n_ruptures_after_diploma": after},
        universe=universe,
    )
    order = {c: i for i, c in enumerate(DIPLOMA_OUTCOMES)}
    out = out.assign(_o=out[C.diploma_outcome].map(order)).sort_values([*dims, "_o"], kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    out = with_rate(out, k="n_ruptures", n="n_contracts", level=level, min_n=min_n)
    out = out.assign(horizon_months=pd.array([horizon_months] * len(out), dtype="Int64"))
    cols = [*group_cols, "n_contracts", "n_ruptures", "rate", "ci_low", "ci_high", "suppressed"]
    return out[[*cols, "suppression_reason", "n_ruptures_after_diploma", "horizon_months"]]
