"""Which contracts, ruptures and exam results go on a month's follow-up lists (pure, no identities).

* :func:`select_signed`: contracts starting in the month, plus contracts signed in the month that
  start later;
* :func:`select_ruptures`: ruptures of the month, plus earlier ruptures still without a new contract
  whose 180-day window is open at the reference date;
* :func:`select_diploma_results`: results of the exam session that closed in the month.

The **reference date** (:func:`reference_date`) is the month's last day, or the extraction date
``as_of`` when the data stop earlier. Each selected row carries ``event_date`` (the date that puts
it on the list) and, for the first two lists, ``reason`` (the French "Motif de la ligne").
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import DECA_EXCLUDED_STATUSES, C

WINDOW_DAYS: Final = 180
"""Days after a rupture without a new contract before the Tableau de bord counts an ABANDON."""
SESSION_CLOSE_MONTH: Final = 7
"""Month an exam session closes when a result carries no date (results are published in July)."""

# internal (English) working columns added to the selected rows
EVENT_DATE = "event_date"
REASON = "reason"
DAYS_SINCE = "days_since_rupture"
WINDOW_CLOSE = "window_close_date"
NEW_CONTRACT = "new_contract_start"
RESULT_DATE = "result_date"
WINDOW_OPEN = "window_open"

RESULT_LABELS: Final = {"admis": "Admis", "ajourne": "Ajourné", "absent": "Absent"}
REASON_START = "Début du contrat dans le mois"
REASON_SIGNED = "Contrat signé dans le mois, début ultérieur"
REASON_RUPTURE_MONTH = "Rupture du mois"
REASON_RUPTURE_OPEN = "Rupture antérieure, toujours sans nouveau contrat"


# --------------------------------------------------------------------------------------------------
# the month and its reference date
# --------------------------------------------------------------------------------------------------
def parse_month(text: object) -> pd.Period:
    """Parse a ``YYYY-MM`` month, or raise a one-line :class:`ParameterError`.

    >>> parse_month("2025-09")
    Period('2025-09', 'M')
    >>> parse_month("2025-13")
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: --month '2025-13' is not a month — use the form YYYY-MM, e.g. --month 2025-09
    """
    s = str(text).strip() if text is not None else ""
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise ParameterError(
            f"--month {s!r} is not a month", hint="use the form YYYY-MM, e.g. --month 2025-09"
        )
    return pd.Period(s, freq="M")


def month_bounds(month: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``month`` (both included).

    >>> month_bounds(pd.Period("2024-02", "M"))
    (Timestamp('2024-02-01 00:00:00'), Timestamp('2024-02-29 00:00:00'))
    """
    return month.start_time.normalize(), month.end_time.normalize()


def reference_date(month: pd.Period, as_of: pd.Timestamp) -> pd.Timestamp:
    """The date the lists are computed at: the month's last day, or ``as_of`` if the data stop earlier.

    A month that starts after ``as_of`` is not covered by the data: :class:`ParameterError`.

    >>> reference_date(pd.Period("2025-09", "M"), pd.Timestamp("2025-11-30"))
    Timestamp('2025-09-30 00:00:00')
    >>> reference_date(pd.Period("2025-11", "M"), pd.Timestamp("2025-11-15"))
    Timestamp('2025-11-15 00:00:00')
    """
    first, last = month_bounds(month)
    as_of = pd.Timestamp(as_of).normalize()
    if first > as_of:
        raise ParameterError(
            f"--month {month} starts after the data extraction date {as_of.date()}",
            hint="choose an earlier month or rerun `aioa clean` on a newer extract",
        )
    return min(last, as_of)


# --------------------------------------------------------------------------------------------------
# the three lists
# --------------------------------------------------------------------------------------------------
def _active(contracts: pd.DataFrame) -> pd.DataFrame:
    """Contracts that are real contracts (no cancelled/deleted DECA rows, no amendment rows)."""
    keep = pd.Series(True, index=contracts.index)
    if C.deca_status in contracts:
        keep &= ~contracts[C.deca_status].isin(DECA_EXCLUDED_STATUSES).fillna(False)
    if C.contract_kind in contracts:
        keep &= (contracts[C.contract_kind] != "avenant").fillna(True)
    return contracts.loc[keep.to_numpy()]


def select_signed(contracts: pd.DataFrame, *, month: pd.Period) -> pd.DataFrame:
    """Contracts for the "Contrats signés" sheet of ``month``.

    A contract is listed when its start date falls in the month (``reason`` = start), or when it was
    signed in the month and starts after it (``reason`` = signed; it is listed again the month it
    starts). ``event_date`` is the start date (the MLDS "at the event" age is taken then).

    >>> df = pd.DataFrame({
    ...     "contract_id": ["a", "b", "c", "d"],
    ...     "start_date": pd.to_datetime(["2025-09-01", "2025-09-30", "2025-10-01", "2025-10-06"]),
    ...     "signature_date": pd.to_datetime([None, "2025-08-20", "2025-08-25", "2025-09-12"]),
    ... })
    >>> select_signed(df, month=pd.Period("2025-09", "M"))[["contract_id", "reason"]]
      contract_id                                       reason
    0           a                Début du contrat dans le mois
    1           b                Début du contrat dans le mois
    3           d  Contrat signé dans le mois, début ultérieur
    """
    first, last = month_bounds(month)
    df = _active(contracts)
    start = df[C.start_date]
    by_start = (start >= first) & (start <= last)
    if C.signature_date in df:
        sig = df[C.signature_date]
        by_sig = (sig >= first) & (sig <= last) & (start > last)
    else:
        by_sig = pd.Series(False, index=df.index)
    by_start = by_start.fillna(False).astype(bool)
    by_sig = by_sig.fillna(False).astype(bool)
    out = df.loc[by_start | by_sig]
    reason = pd.Series(REASON_START, index=out.index, dtype="string").mask(by_sig[out.index], REASON_SIGNED)
    return out.assign(**{REASON: reason, EVENT_DATE: out[C.start_date]})


def select_ruptures(
    contracts: pd.DataFrame,
    *,
    month: pd.Period,
    ref_date: pd.Timestamp,
    keep_days: int | None = None,
) -> pd.DataFrame:
    """Ruptures for the "Ruptures" sheet of ``month``, computed at ``ref_date``.

    A rupture is a contract with ``rupture_date <= ref_date`` and before its planned end. Listed:

    * every rupture that took effect in the month (first to last day included);
    * every earlier rupture without a new contract and whose 180-day window is still open at
      ``ref_date``: ``days_since_rupture = ref_date - rupture_date`` is 0..179 days. The window closes
      on ``rupture_date + 180 days`` (``window_close_date``), the day the Tableau de bord counts the
      young person as having left apprenticeship (ABANDON).

    A new contract is another contract of the same ``apprentice_key`` starting on or after the
    rupture date and started (or signed) by ``ref_date``; ``new_contract_start`` is its start date.
    ``window_open`` is True for the rows above. With ``keep_days`` (e.g. 210), earlier ruptures less
    than ``keep_days`` old are kept too, new contract or not, with ``window_open`` False (the
    follow-up keeps the rows whose outcome is recorded).

    >>> df = pd.DataFrame({
    ...     "contract_id": ["m1", "old_open", "old_closed", "new", "old_late"],
    ...     "apprentice_key": ["k1", "k2", "k3", "k3", "k4"],
    ...     "start_date": pd.to_datetime(["2025-01-06", "2025-01-06", "2025-01-06", "2025-08-01", "2024-09-02"]),
    ...     "planned_end_date": pd.to_datetime(["2026-06-30"] * 5),
    ...     "rupture_date": pd.to_datetime(["2025-09-01", "2025-06-01", "2025-06-01", None, "2025-04-03"]),
    ... })
    >>> out = select_ruptures(df, month=pd.Period("2025-09", "M"), ref_date=pd.Timestamp("2025-09-30"))
    >>> out[["contract_id", "days_since_rupture"]].to_string(index=False)
    'contract_id  days_since_rupture\\n         m1                  29\\n   old_open                 121'
    """
    first, last = month_bounds(month)
    ref = pd.Timestamp(ref_date).normalize()
    df = _active(contracts)
    rupt = df[C.rupture_date]
    before_end = (rupt < df[C.planned_end_date]).fillna(True) if C.planned_end_date in df else True
    is_rupture = (rupt.notna() & (rupt <= ref) & before_end).fillna(False).astype(bool)
    r = df.loc[is_rupture]
    new_start = _next_contract_start(df, r, ref)
    days = (ref - r[C.rupture_date]).dt.days.astype("Int64")
    close = r[C.rupture_date] + pd.Timedelta(days=WINDOW_DAYS)
    in_month = ((r[C.rupture_date] >= first) & (r[C.rupture_date] <= last)).astype(bool)
    open_earlier = (r[C.rupture_date] < first) & new_start.isna() & (days < WINDOW_DAYS)
    is_open = (in_month | open_earlier.fillna(False)).astype(bool)
    keep = is_open if keep_days is None else (is_open | (days < keep_days).fillna(False)).astype(bool)
    reason = pd.Series(REASON_RUPTURE_OPEN, index=r.index, dtype="string").mask(
        in_month, REASON_RUPTURE_MONTH
    )
    return r.assign(
        **{
            REASON: reason,
            DAYS_SINCE: days,
            WINDOW_CLOSE: close,
            NEW_CONTRACT: new_start,
            EVENT_DATE: r[C.rupture_date],
            WINDOW_OPEN: is_open,
        }
    ).loc[keep.to_numpy()]


def _next_contract_start(all_contracts: pd.DataFrame, ruptures: pd.DataFrame, ref: pd.Timestamp) -> pd.Series:
    """Earliest start of another contract of the same apprentice on/after each rupture, known at ``ref``."""
    empty = pd.Series(pd.NaT, index=ruptures.index, dtype="datetime64[ns]")
    if ruptures.empty or C.apprentice_key not in all_contracts:
        return empty
    cols = [C.contract_id, C.apprentice_key, C.start_date]
    other = all_contracts[cols + ([C.signature_date] if C.signature_date in all_contracts else [])]
    known = other[C.start_date] <= ref
    if C.signature_date in other:
        known = known | (other[C.signature_date] <= ref)
    other = other.loc[known.fillna(False).astype(bool) & other[C.apprentice_key].notna()]
    left = ruptures[[C.contract_id, C.apprentice_key, C.rupture_date]].assign(_row=ruptures.index)
    pairs = left.merge(other, on=C.apprentice_key, suffixes=("", "_next"))
    pairs = pairs.loc[
        (pairs[C.contract_id] != pairs[f"{C.contract_id}_next"])
        & (pairs[C.start_date] >= pairs[C.rupture_date])
    ]
    first_next = pairs.groupby("_row")[C.start_date].min()
    return empty.fillna(first_next.reindex(ruptures.index)).astype("datetime64[ns]")


def result_dates(results: pd.DataFrame, *, close_month: int = SESSION_CLOSE_MONTH) -> pd.Series:
    """Date each exam result became known: ``diploma_obtained_date``, else day 1 of ``close_month``.

    >>> r = pd.DataFrame({"exam_session": ["2025", "2025", "x"],
    ...                   "diploma_obtained_date": pd.to_datetime(["2025-06-27", None, None])})
    >>> result_dates(r).dt.strftime("%Y-%m-%d").tolist()
    ['2025-06-27', '2025-07-01', nan]
    """
    year = results[C.exam_session].astype("string").str.slice(0, 4)
    year = year.where(year.str.fullmatch(r"\d{4}").fillna(False))
    fallback = pd.to_datetime(year + f"-{close_month:02d}-01", errors="coerce").astype("datetime64[ns]")
    if C.diploma_obtained_date in results:
        return results[C.diploma_obtained_date].astype("datetime64[ns]").fillna(fallback)
    return fallback


def select_diploma_results(
    exams: pd.DataFrame | None,
    contracts: pd.DataFrame,
    *,
    month: pd.Period,
    ref_date: pd.Timestamp,
    close_month: int = SESSION_CLOSE_MONTH,
) -> pd.DataFrame:
    """Exam results of the session that closed in ``month`` (result date in the month, up to ``ref_date``).

    Results come from ``exam_results.parquet`` (``exams``) and, for results not found there, from the
    outcome columns of the contract table (``exam_session``, ``diploma_outcome``). Each result is
    joined to the apprentice's contract for that diploma (else the latest contract) for training,
    CFA and contract dates. ``diploma_obtained`` is True for ``admis``.

    >>> exams = pd.DataFrame({"apprentice_key": ["k1", "k2"], "diploma_code": ["50022109"] * 2,
    ...     "exam_session": ["2025", "2025"], "exam_result": ["admis", "ajourne"],
    ...     "diploma_obtained_date": pd.to_datetime(["2025-07-04", None])})
    >>> contracts = pd.DataFrame({"contract_id": ["c1"], "apprentice_key": ["k1"],
    ...     "diploma_code": ["50022109"], "start_date": pd.to_datetime(["2023-09-04"])})
    >>> out = select_diploma_results(exams, contracts, month=pd.Period("2025-07", "M"),
    ...                              ref_date=pd.Timestamp("2025-07-31"))
    >>> out[["apprentice_key", "exam_result", "diploma_obtained", "contract_id"]]
      apprentice_key exam_result  diploma_obtained contract_id
    0             k1       admis              True          c1
    1             k2     ajourne             False        <NA>
    """
    first, last = month_bounds(month)
    cols = [C.apprentice_key, C.diploma_code, C.exam_session, C.exam_result, C.diploma_obtained_date]
    frames = []
    if exams is not None and len(exams):
        e = exams.reindex(columns=cols)
        frames.append(e.assign(**{C.exam_result: e[C.exam_result].astype("string").str.lower()}))
    if C.diploma_outcome in contracts and C.exam_session in contracts:
        dated = (
            contracts[C.diploma_obtained_date].notna()
            if C.diploma_obtained_date in contracts
            else pd.Series(False, index=contracts.index)
        )
        known = contracts[C.diploma_outcome].isin(list(RESULT_LABELS)) & (
            contracts[C.exam_session].notna() | dated
        )
        c = contracts.loc[known.fillna(False).astype(bool)]
        if frames:  # the results file wins: contract outcomes only for sessions it does not cover
            seen = pd.MultiIndex.from_frame(frames[0][[C.apprentice_key, C.exam_session]].astype("string"))
            mine = pd.MultiIndex.from_frame(c[[C.apprentice_key, C.exam_session]].astype("string"))
            c = c.loc[~mine.isin(seen)]
        frames.append(
            c.reindex(columns=[*cols[:3], C.diploma_outcome, C.diploma_obtained_date]).rename(
                columns={C.diploma_outcome: C.exam_result}
            )
        )
    if not frames:
        res = pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    else:
        res = pd.concat(
            [f.astype({C.diploma_obtained_date: "datetime64[ns]"}) for f in frames], ignore_index=True
        )
        res = res.drop_duplicates([C.apprentice_key, C.diploma_code, C.exam_session], keep="first")
    res = res.assign(**{RESULT_DATE: result_dates(res, close_month=close_month)})
    in_month = (res[RESULT_DATE] >= first) & (res[RESULT_DATE] <= min(last, ref_date))
    res = res.loc[in_month.fillna(False).astype(bool)].reset_index(drop=True)
    res = res.assign(
        **{
            C.diploma_obtained: (res[C.exam_result] == "admis").astype("boolean"),
            EVENT_DATE: res[RESULT_DATE],
        }
    )
    return _attach_contract(res, contracts)


def _attach_contract(results: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """Join each result to the apprentice's contract for the diploma, else the latest contract.

    The contract's training title is kept only when its diploma code matches the result's.
    """
    ctr = _active(contracts).sort_values(C.start_date, na_position="first", kind="stable")
    key, code, cid = C.apprentice_key, C.diploma_code, C.contract_id
    same = ctr.drop_duplicates([key, code], keep="last")[[key, code, cid]]
    latest = ctr.drop_duplicates(key, keep="last")[[key, cid]]
    by_code = results[[key, code]].merge(same, on=[key, code], how="left")[cid]
    by_key = results[[key]].merge(latest, on=key, how="left")[cid]
    chosen = by_code.fillna(by_key).to_numpy()
    extra = ctr.drop(columns=[c for c in ctr.columns if c in results.columns and c != cid])
    chosen_ids = pd.array(chosen, dtype="string")
    out = results.assign(**{cid: chosen_ids}).merge(extra.astype({cid: "string"}), on=cid, how="left")
    if C.diploma_title in out:
        out = out.assign(**{C.diploma_title: out[C.diploma_title].where(by_code.notna().to_numpy())})
    return out


def under_contract(contracts: pd.DataFrame, keys: pd.Series, ref_date: pd.Timestamp) -> pd.Series:
    """Whether each apprentice of ``keys`` holds a contract at ``ref_date`` (started, not ended).

    >>> c = pd.DataFrame({"contract_id": ["a", "b"], "apprentice_key": ["k1", "k2"],
    ...     "start_date": pd.to_datetime(["2024-09-01", "2023-09-01"]),
    ...     "planned_end_date": pd.to_datetime(["2026-06-30", "2025-06-30"]),
    ...     "rupture_date": pd.to_datetime([None, None])})
    >>> under_contract(c, pd.Series(["k1", "k2", "k3"]), pd.Timestamp("2025-07-31")).tolist()
    [True, False, False]
    """
    ref = pd.Timestamp(ref_date).normalize()
    df = _active(contracts)
    end = (
        df[C.rupture_date].fillna(df[C.planned_end_date]) if C.planned_end_date in df else df[C.rupture_date]
    )
    running = (df[C.start_date] <= ref) & ~(end <= ref).fillna(False)
    holders = set(df.loc[running.fillna(False).astype(bool), C.apprentice_key].dropna())
    return keys.isin(holders).fillna(False).astype(bool)
