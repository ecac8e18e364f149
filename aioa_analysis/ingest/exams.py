"""Exam results: clean the exam-results file, and give each contract its diploma outcome.

:func:`clean_exam_results` keeps one row per (apprentice, diploma, session, result) record;
:func:`join_exam_results` matches each contract to the latest session whose results fall after
its start (on ``apprentice_key`` and the diploma code, or the diploma level when the contract has
no code).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.schema import C
from aioa_analysis.ingest.derive import diploma_prefix
from aioa_analysis.ingest.parsing import normalise_cfd, parse_dates_detailed
from aioa_analysis.ingest.rules import set_reason
from aioa_analysis.ingest.values import (
    DUP_OF,
    PRIMARY,
    REASON,
    REASON_COLUMN,
    ROW,
    column_or_na,
    fold,
    na_strings,
    on_distinct,
)

EXAM_RESULTS_DAY: Final = (7, 1)
"""(month, day) used as the results date of a session when the exam file gives only the year: 1 July
(results of CAP/bac/BTS sessions are published in early July). A documented proxy."""

_RESULT_MAP: Final = {
    "ADMIS": "admis",
    "AJOURNE": "ajourne",
    "ABSENT": "absent",
    "REFUSE": "ajourne",
    "ECHEC": "ajourne",
}


def normalise_exam_result(s: pd.Series) -> pd.Series:
    """``Admis mention B`` -> ``admis``; ``Ajourné``/``ajourne`` -> ``ajourne``; ``Absent`` -> ``absent``.

    >>> normalise_exam_result(pd.Series(["Admis mention TB", "Ajourné", "absent", "?"], dtype="string")).tolist()
    ['admis', 'ajourne', 'absent', <NA>]
    """
    first = fold(s).str.extract(r"^([A-Z]+)", expand=False)
    return first.map(_RESULT_MAP).astype("string")


def exam_session_year(s: pd.Series) -> pd.Series:
    """The exam year of a session (``2024``, ``juin 2024``, ``2023-2024`` -> ``2024``) as a string."""
    return (
        s.astype("string").str.extract(r"((?:19|20)\d{2})(?!.*(?:19|20)\d{2})", expand=False).astype("string")
    )


def contract_level(df: pd.DataFrame) -> pd.Series:
    """Diploma level of each contract: from the CFD prefix, else from the CERFA diploma type.

    >>> contract_level(pd.DataFrame({"diploma_code": ["32031102", None, None],
    ...                              "diploma_type_cerfa": [None, "33", "35"]})).tolist()
    ['5', '3', <NA>]
    """
    level = on_distinct(diploma_prefix(column_or_na(df, C.diploma_code)), referential.diploma_attributes)[
        "diploma_level"
    ]
    table = referential.diploma_prefixes()
    table = table.loc[table["level"] != ""]
    by_type = table.groupby("diploma_type_cerfa")["level"].agg(  # type: ignore[type-var]
        lambda s: s.iloc[0] if (s == s.iloc[0]).all() else pd.NA
    )
    return level.fillna(column_or_na(df, C.diploma_type_cerfa).map(by_type.dropna()).astype("string")).astype(
        "string"
    )


def join_exam_results(contracts: pd.DataFrame, exams: pd.DataFrame | None) -> pd.DataFrame:
    """Give each contract ``diploma_outcome``, ``diploma_obtained``, ``diploma_obtained_date``, ``exam_session``.

    Match on ``apprentice_key`` + ``diploma_code`` (or, when the contract has no code, + the same
    diploma level), keeping the latest session whose results date (1 July of the session year) falls
    after the contract start. Unmatched contracts keep the source's ``diploma_obtained`` (TBA,
    chamber): ``True`` gives the outcome ``admis``; otherwise ``inconnu``.

    >>> c = pd.DataFrame({"apprentice_key": ["k", "k2"], "diploma_code": ["50022109", None],
    ...     "start_date": pd.to_datetime(["2023-09-01", "2023-09-01"])})
    >>> e = pd.DataFrame({"apprentice_key": ["k", "k", "k2"], "diploma_code": ["50022109"] * 2 + ["50033401"],
    ...     "exam_session": ["2024", "2025", "2025"], "exam_result": ["ajourne", "admis", "admis"],
    ...     "diploma_obtained_date": pd.to_datetime([None, "2025-07-01", "2025-07-01"])})
    >>> join_exam_results(c, e)[["diploma_outcome", "exam_session", "diploma_obtained"]]
      diploma_outcome exam_session  diploma_obtained
    0           admis         2025              True
    1         inconnu         <NA>              <NA>
    """
    n = contracts.index
    src_obtained = column_or_na(contracts, C.diploma_obtained, "boolean").astype("boolean")
    src_date = column_or_na(contracts, C.diploma_obtained_date, "datetime64[ns]")
    outcome = pd.Series("inconnu", index=n, dtype="string").mask(
        src_obtained.fillna(False).astype(bool), "admis"
    )
    session = na_strings(n)
    obtained = src_obtained
    obtained_date = src_date.where(src_obtained.fillna(True).astype(bool))
    if exams is not None and len(exams):
        ex = exams.loc[exams[C.apprentice_key].notna() & exams[C.exam_result].notna()]
        ex = ex.assign(
            _year=pd.to_numeric(ex[C.exam_session], errors="coerce"),
            _level=referential.diploma_attributes(ex[C.diploma_code])["diploma_level"],
        )
        left = pd.DataFrame(
            {
                "_i": np.arange(len(contracts)),
                C.apprentice_key: column_or_na(contracts, C.apprentice_key).to_numpy(),
                C.diploma_code: column_or_na(contracts, C.diploma_code).to_numpy(),
                "_level": contract_level(contracts).to_numpy(),
                "_start": contracts[C.start_date].to_numpy(),
            }
        )
        by_code = left.dropna(subset=[C.apprentice_key, C.diploma_code]).merge(
            ex[[C.apprentice_key, C.diploma_code, "_year", C.exam_result, C.diploma_obtained_date]],
            on=[C.apprentice_key, C.diploma_code],
        )
        no_code = left.loc[left[C.diploma_code].isna()].dropna(subset=[C.apprentice_key, "_level"])
        wanted = ex.dropna(subset=["_level"])[
            [C.apprentice_key, "_level", "_year", C.exam_result, C.diploma_obtained_date]
        ]
        by_level = no_code.merge(wanted, on=[C.apprentice_key, "_level"])
        cand = pd.concat([by_code, by_level], ignore_index=True)
        results_day = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": cand["_year"].fillna(1900).astype(int),
                    "month": EXAM_RESULTS_DAY[0],
                    "day": EXAM_RESULTS_DAY[1],
                }
            )
        )
        cand = cand.loc[(results_day > cand["_start"]).to_numpy() & cand["_year"].notna().to_numpy()]
        rank = cand[C.exam_result].map({"absent": 0, "ajourne": 1, "admis": 2})
        best = (
            cand.assign(_r=rank)
            .sort_values(["_i", "_year", "_r"], kind="stable")
            .drop_duplicates("_i", keep="last")
        )
        pos = best["_i"].to_numpy()
        res = best[C.exam_result].astype("string").to_numpy()
        outcome.iloc[pos] = res  # type: ignore[call-overload]
        session.iloc[pos] = best["_year"].astype(int).astype(str).to_numpy()
        matched_obtained = pd.Series(res == "admis", index=n[pos], dtype="boolean")
        obtained = obtained.copy()
        obtained.iloc[pos] = matched_obtained.to_numpy()  # type: ignore[call-overload]
        odate = obtained_date.copy()
        odate.iloc[pos] = pd.to_datetime(best[C.diploma_obtained_date]).where(res == "admis").to_numpy()
        obtained_date = odate
    return contracts.assign(
        **{
            C.diploma_outcome: outcome,
            C.exam_session: session,
            C.diploma_obtained: obtained.astype("boolean"),
            C.diploma_obtained_date: obtained_date.astype("datetime64[ns]"),
        }
    )


def clean_exam_results(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean a raw exam-results frame that already has ``apprentice_key``; return ``(exams, rows)``.

    ``rows`` carries ``_reason`` (no apprentice identity, no exam session, unknown result) and
    ``_dup_of`` (exact duplicates: merged). ``exams`` has one row per kept record with
    ``diploma_obtained_date`` = the file's date when given, else 1 July of the session year for
    ``admis`` (a documented proxy), NA otherwise.
    """
    df = raw.assign(**{ROW: np.arange(len(raw))})
    df = df.assign(
        **{
            C.diploma_code: normalise_cfd(column_or_na(df, C.diploma_code)),
            C.exam_session: exam_session_year(column_or_na(df, C.exam_session)),
            C.exam_result: normalise_exam_result(column_or_na(df, C.exam_result)),
            REASON: na_strings(df.index),
            REASON_COLUMN: na_strings(df.index),
        }
    )
    df = set_reason(df, df[C.apprentice_key].isna(), "no apprentice identity", C.surname)
    df = set_reason(df, df[C.exam_session].isna(), "no exam session", C.exam_session)
    df = set_reason(df, df[C.exam_result].isna(), "unknown exam result", C.exam_result)
    keep_cols = [C.apprentice_key, C.diploma_code, C.exam_session, C.exam_result]
    alive = df[REASON].isna()
    dup = alive & df[keep_cols].duplicated() & alive
    df = df.assign(
        **{DUP_OF: pd.array(np.where(dup, 0, pd.NA), dtype="Int64"), PRIMARY: (alive & ~dup).to_numpy()}  # type: ignore[call-overload]
    )
    kept = df.loc[alive & ~dup]
    given = (
        parse_dates_detailed(column_or_na(kept, C.diploma_obtained_date))["value"]
        if C.diploma_obtained_date in raw
        else None
    )
    year = pd.to_numeric(kept[C.exam_session], errors="coerce").astype("Int64")
    proxy = pd.to_datetime(
        pd.DataFrame(
            {"year": year.fillna(1900).astype(int), "month": EXAM_RESULTS_DAY[0], "day": EXAM_RESULTS_DAY[1]}
        )
    ).set_axis(kept.index)
    date = (given.fillna(proxy) if given is not None else proxy).where(kept[C.exam_result] == "admis")
    exams = pd.DataFrame(
        {
            C.apprentice_key: kept[C.apprentice_key].astype("string"),
            C.diploma_code: kept[C.diploma_code],
            C.exam_session: kept[C.exam_session],
            C.exam_result: kept[C.exam_result],
            C.diploma_obtained_date: date.astype("datetime64[ns]"),
            C.source_file: kept[C.source_file].astype("string"),
            C.source_row: pd.to_numeric(kept[C.source_row], errors="coerce").astype("Int64"),
        }
    )
    return exams.reset_index(drop=True), df
