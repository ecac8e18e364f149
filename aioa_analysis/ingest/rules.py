"""Rules that keep a row, or a merged contract, out of the contract table (``rejected.csv``).

Row rules (:func:`flag_invalid_rows`, :func:`flag_cancelled_elsewhere`) set ``_reason`` and
``_reason_column`` on rows that cannot be a contract: no usable start date, an impossible date, a
planned end before the start, no CFA and no diploma at all, and the rows kept out on purpose
(``excluded: ...``: DECA ``Annulé``/``Supprimé``, dispositif other than ``APPR``, a contract DECA
cancelled). Contract rules (:func:`flag_invalid_contracts`, after :func:`impute_planned_end`) do
the same on merged contracts: a rupture before the start, no planned end date. The first reason
wins.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import DECA_EXCLUDED_STATUSES, C
from aioa_analysis.ingest.parsing import DATE_IMPOSSIBLE, DATE_OK
from aioa_analysis.ingest.values import (
    REASON,
    REASON_COLUMN,
    TRAINING_DURATION_MONTHS,
    column_or_na,
    fold,
    na_strings,
)

# --- rejection reasons (rejected.csv ``reason``; quality.json ``rejections_by_reason``) ------------
REASON_NO_START: Final = "no usable start date"
REASON_IMPOSSIBLE_DATE: Final = "impossible date"
REASON_END_BEFORE_START: Final = "planned end before start"
REASON_NO_CFA_NO_DIPLOMA: Final = "no CFA and no diploma"
REASON_NO_END: Final = "no planned end date"
REASON_TOO_LONG: Final = "planned duration over 5 years"
MAX_PLANNED_DAYS: Final = 5 * 366
"""Longest plausible planned duration: 3 years, 4 for a disabled apprentice, with a margin."""
REASON_RUPTURE_BEFORE_START: Final = "excluded: rupture before start"
REASON_CANCELLED_ELSEWHERE: Final = "excluded: contract cancelled in DECA"
REASON_STATUS: Final = "excluded: statut DECA {}"
REASON_DISPOSITIF: Final = "excluded: dispositif {}"

AMENDMENT_TYPES: Final = frozenset({"31", "32", "33", "34", "35", "36", "37", "38"})


def set_reason(
    df: pd.DataFrame, mask: pd.Series | np.ndarray, reason: pd.Series | str, column: str
) -> pd.DataFrame:
    """Set ``reason`` and ``column`` on the rows of ``mask`` that have no reason yet (the first wins)."""
    mask = np.asarray(mask, dtype=bool) & df[REASON].isna().to_numpy()
    if not mask.any():
        return df
    reasons = df[REASON].copy()
    cols = df[REASON_COLUMN].copy()
    new = reason if isinstance(reason, str) else reason.astype("string")
    reasons = reasons.mask(mask, new)
    cols = cols.mask(mask, column)
    return df.assign(**{REASON: reasons, REASON_COLUMN: cols})


def flag_invalid_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Set ``_reason``/``_reason_column`` on rows that cannot be a contract (first reason wins).

    Order: no usable start date; impossible start, planned end or rupture date; planned end before
    start; no CFA and no diploma; dispositif other than APPR; DECA status Annulé/Supprimé.

    >>> from aioa_analysis.ingest.values import parse_contract_values
    >>> df = parse_contract_values(pd.DataFrame({
    ...     "start_date": ["", "31/02/2024", "2024-09-02", "2024-09-02", "2024-09-02"],
    ...     "planned_end_date": ["2026-08-31", "2026-08-31", "2024-08-31", "2026-08-31", "2026-08-31"],
    ...     "cfa_uai": ["0410590U", "0410590U", "0410590U", None, "0410590U"],
    ...     "deca_status": [None, None, None, None, "Annulé"]}, dtype="string"))
    >>> flag_invalid_rows(df)["_reason"].tolist()
    ['no usable start date', 'impossible date', 'planned end before start', 'no CFA and no diploma', \
'excluded: statut DECA Annulé']
    """
    out = df.assign(**{REASON: na_strings(df.index), REASON_COLUMN: na_strings(df.index)})
    start_status = out[f"_status_{C.start_date}"]
    out = set_reason(out, start_status == DATE_IMPOSSIBLE, REASON_IMPOSSIBLE_DATE, C.start_date)
    out = set_reason(out, start_status != DATE_OK, REASON_NO_START, C.start_date)
    for name in (C.planned_end_date, C.rupture_date):
        out = set_reason(out, out[f"_status_{name}"] == DATE_IMPOSSIBLE, REASON_IMPOSSIBLE_DATE, name)
    out = set_reason(
        out,
        (out[C.planned_end_date] < out[C.start_date]).fillna(False),
        REASON_END_BEFORE_START,
        C.planned_end_date,
    )
    nothing = pd.Series(True, index=out.index)
    for name in (C.cfa_uai, C.cfa_siret, C.cfa_name, C.diploma_code, C.diploma_title, C.rncp_code):
        nothing &= column_or_na(out, name).isna()
    out = set_reason(out, nothing, REASON_NO_CFA_NO_DIPLOMA, C.cfa_uai)
    disp = column_or_na(out, C.dispositif)
    out = set_reason(
        out,
        (disp.notna() & (disp != "APPR")).fillna(False),
        REASON_DISPOSITIF.format("") + disp,
        C.dispositif,
    )
    status = fold(column_or_na(out, C.deca_status))
    for label in DECA_EXCLUDED_STATUSES:
        out = set_reason(
            out,
            (status == fold(pd.Series([label])).iloc[0]).fillna(False),
            REASON_STATUS.format(label),
            C.deca_status,
        )
    return out


def flag_cancelled_elsewhere(df: pd.DataFrame) -> pd.DataFrame:
    """Exclude rows of a contract that DECA cancelled (Annulé/Supprimé initial row) with no live DECA row.

    The same contract number in a chamber or Tableau de bord file must not resurrect it.
    """
    cid = column_or_na(df, C.contract_id)
    is_amend = column_or_na(df, C.contract_type).isin(AMENDMENT_TYPES).fillna(False)
    cancelled = df[REASON].str.startswith("excluded: statut DECA").fillna(False) & ~is_amend & cid.notna()
    if not cancelled.any():
        return df
    alive = df[REASON].isna()
    deca = column_or_na(df, C.source).str.startswith("deca").fillna(False)
    cancelled_ids = cid[cancelled].unique()
    live_deca = alive & deca & cid.isin(cancelled_ids).fillna(False)  # only ids that were cancelled matter
    ids = sorted(set(cid[cancelled]) - set(cid[live_deca]))
    return set_reason(df, alive & cid.isin(ids).fillna(False), REASON_CANCELLED_ELSEWHERE, C.contract_id)


def impute_planned_end(contracts: pd.DataFrame) -> pd.DataFrame:
    """Fill a missing planned end date (SIFA has none) and flag it in ``planned_end_imputed``.

    Rule: the training end date when known, else ``start_date + training_duration_months - 1 day``
    (SIFA ``DUR_FORM_THEO``). Otherwise it stays missing (and the contract is rejected unless another
    file gave the date).

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02", "2024-09-02", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31", None, None]),
    ...     "training_duration_months": pd.array([None, 24, None], dtype="Int64")})
    >>> out = impute_planned_end(df)
    >>> out["planned_end_date"].dt.strftime("%Y-%m-%d").tolist(), out["planned_end_imputed"].tolist()
    (['2026-08-31', '2026-09-01', nan], [False, True, False])
    """
    end = contracts[C.planned_end_date]
    missing = end.isna()
    candidate = column_or_na(contracts, C.training_end_date, "datetime64[ns]").where(
        lambda s: s > contracts[C.start_date]
    )
    if TRAINING_DURATION_MONTHS in contracts.columns and missing.any():
        months = contracts[TRAINING_DURATION_MONTHS].astype("Int64")
        ok = missing & months.notna() & (months > 0) & contracts[C.start_date].notna()
        by_dur = pd.Series(pd.NaT, index=contracts.index, dtype="datetime64[ns]")
        if ok.any():
            by_dur.loc[ok] = add_months(contracts.loc[ok, C.start_date], months[ok]) - pd.Timedelta(days=1)
        candidate = candidate.fillna(by_dur)
    filled = end.fillna(candidate.where(missing))
    imputed = missing & filled.notna()
    return contracts.assign(
        **{  # type: ignore[arg-type]
            C.planned_end_date: filled.astype("datetime64[ns]"),
            C.planned_end_imputed: imputed.astype("boolean"),
        }
    )


def add_months(dates: pd.Series, months: pd.Series) -> pd.Series:
    """Vectorised ``date + DateOffset(months=m)`` (day clipped to the month's length; time dropped).

    >>> add_months(pd.Series(pd.to_datetime(["2024-01-31", "2024-08-31", "2023-12-15"])),
    ...             pd.Series([1, 6, 14])).dt.strftime("%Y-%m-%d").tolist()
    ['2024-02-29', '2025-02-28', '2025-02-15']
    """
    out = add_months_days(dates.to_numpy(dtype="datetime64[D]"), months.to_numpy(dtype="int64"))
    return pd.Series(out.astype("datetime64[ns]"), index=dates.index)


def add_months_days(day: np.ndarray, months: int | np.ndarray) -> np.ndarray:
    """``datetime64[D]`` days plus whole months, the day clipped to the target month's length."""
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)


def flag_invalid_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Set ``_reason`` on merged contracts kept out of the table: rupture before start, no planned end.

    >>> df = pd.DataFrame({"start_date": pd.to_datetime(["2024-09-02", "2024-09-02", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-08-31", "2026-08-31", None]),
    ...     "rupture_date": pd.to_datetime(["2024-08-30", None, None])})
    >>> flag_invalid_contracts(df)["_reason"].tolist()
    ['excluded: rupture before start', <NA>, 'no planned end date']
    """
    out = contracts.assign(
        **{REASON: na_strings(contracts.index), REASON_COLUMN: na_strings(contracts.index)}
    )
    before = (out[C.rupture_date] < out[C.start_date]).fillna(False)
    before |= column_or_na(out, C.rupture_before_start, "boolean").fillna(False).astype(bool)
    out = set_reason(out, before, REASON_RUPTURE_BEFORE_START, C.rupture_date)
    out = set_reason(out, out[C.planned_end_date].isna(), REASON_NO_END, C.planned_end_date)
    too_long = ((out[C.planned_end_date] - out[C.start_date]).dt.days > MAX_PLANNED_DAYS).fillna(False)
    return set_reason(out, too_long, REASON_TOO_LONG, C.planned_end_date)
