"""How long each contract is observed: the extraction dates of the files and ``observed_until``.

Each source is a photograph taken on its own date: a DECA or Tableau de bord export of
30 November 2025 reports the ruptures known that day, a SIFA file is the photograph of
31 December of its year. A contract that only a December 2024 SIFA file reports is *not* known to be
in force in 2025: counting it as ongoing until the run's ``as_of`` would add months of exposure
without ruptures, and bias every rate down.

* :func:`extraction_dates`: the date each file name carries (``..._202511300600.csv``,
  ``..._20251130.csv``, ``..._2025-11-30.xlsx``, SIFA's ``SIFA_<UAI>_<DDMMYYYY>.csv``).
* :func:`observed_until`: per contract, the **latest** extraction date among the files that report
  it, missing when one of them carries no date (then the contract is observed up to ``as_of``).
  The statistics observe each contract up to ``min(as_of, observed_until)``
  (:func:`aioa_analysis.stats.outcomes.observation_limit`): it is censored there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core.schema import C

_YMD: Final = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])([0-3]\d)(?:[0-2]\d[0-5]\d)?(?!\d)")
"""``YYYYMMDD`` or ``YYYYMMDDhhmm`` (the Tableau de bord's ``Export_Init_TBA_202511300600.csv``)."""
_ISO: Final = re.compile(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])-([0-3]\d)(?!\d)")
"""``YYYY-MM-DD``."""
_DMY: Final = re.compile(r"(?<!\d)([0-3]\d)(0[1-9]|1[0-2])(20\d{2})(?!\d)")
"""``DDMMYYYY`` (SIFA file names, as the DEPP's instructions date them: ``SIFA_0410955R_31122024``).
No 8-digit ``DDMMYYYY`` of this century reads as a valid ``YYYYMMDD`` (its month would be ``20``)."""


def date_in_name(name: str) -> pd.Timestamp | None:
    """The extraction date a file name carries (the latest when it carries several), else ``None``.

    >>> date_in_name("SIFA_0410955R_31122024.csv"), date_in_name("cma41_contrats_20251130.csv")
    (Timestamp('2024-12-31 00:00:00'), Timestamp('2025-11-30 00:00:00'))
    >>> date_in_name("Export_Init_TBA_202511300600.csv"), date_in_name("x_2025-10-31.xlsx"), date_in_name("x.csv")
    (Timestamp('2025-11-30 00:00:00'), Timestamp('2025-10-31 00:00:00'), None)
    """
    found: list[pd.Timestamp] = []
    for rx, order in ((_YMD, (1, 2, 3)), (_ISO, (1, 2, 3)), (_DMY, (3, 2, 1))):
        for m in rx.finditer(name):
            try:
                found.append(pd.Timestamp(*(int(m.group(i)) for i in order)))
            except ValueError:  # 31 February
                continue
    return max(found) if found else None


def extraction_dates(paths: Sequence[Path]) -> dict[str, pd.Timestamp]:
    """The extraction date found in each file name, for the files that carry one.

    >>> extraction_dates([Path("Export_Init_TBA_202511300600.csv"), Path("x.csv"), Path("cma_2025-10-31.xlsx")])
    {'Export_Init_TBA_202511300600.csv': Timestamp('2025-11-30 00:00:00'), 'cma_2025-10-31.xlsx': Timestamp('2025-10-31 00:00:00')}
    """
    out: dict[str, pd.Timestamp] = {}
    for p in paths:
        ts = date_in_name(p.name)
        if ts is not None:
            out[p.name] = ts
    return out


def observed_until(sources: pd.Series, dates: Mapping[str, pd.Timestamp]) -> pd.Series:
    """Per contract: the latest extraction date of the files in its ``sources`` (``source:file:row``
    tags, ``;``-joined); missing (NaT) when one of its files has no date or ``sources`` is missing.

    >>> s = pd.Series(["sifa:SIFA_1_31122024.csv:3", "deca:d.json:2;sifa:SIFA_1_31122024.csv:4", "x:y.csv:1", None])
    >>> observed_until(s, {"SIFA_1_31122024.csv": pd.Timestamp("2024-12-31"), "d.json": pd.Timestamp("2025-11-30")})
    0   2024-12-31
    1   2025-11-30
    2          NaT
    3          NaT
    Name: observed_until, dtype: datetime64[ns]
    """
    arr = pa.array(sources.astype("string[pyarrow]").array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    lists = pc.split_pattern(arr, ";")
    tags = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    known = pa.array(list(dates), pa.string())
    days = np.array([np.datetime64(dates[n], "D") for n in dates], dtype="datetime64[D]").view("int64")
    pos = _file_positions(tags, known)
    undated = np.iinfo(np.int64).max  # an undated file: observed up to as_of, it wins the max
    per_tag = np.where(pos >= 0, days[np.clip(pos, 0, None)] if len(days) else undated, undated)
    none = np.iinfo(np.int64).min  # no tag at all (missing sources): observed up to as_of too
    latest = np.full(len(sources), none, dtype="int64")
    np.maximum.at(latest, parent, per_tag)
    out = latest.astype("datetime64[D]").astype("datetime64[ns]")
    out[(latest == undated) | (latest == none)] = np.datetime64("NaT")
    return pd.Series(out, index=sources.index, name=C.observed_until)


def _file_positions(tags: pa.Array, known: pa.Array) -> np.ndarray:
    """Per ``source:file:row`` tag, the position of its file in ``known`` (-1 when not there).

    The file is what lies between the first and the last ``:`` (a file name may hold ':'; the
    profile and the row do not). The trailing row digits are trimmed first, so the pattern runs
    on the few distinct ``source:file:`` stems, not on every tag (1 M contracts: 0.8 -> 0.1 s); a
    tag whose stem does not match it stands for itself, as the replace leaves it.

    >>> tags = pa.array(["s:a.csv:12", "s:b:c.csv:3", "s:x.csv:4", "a.csv", "t:a.csv:"])
    >>> _file_positions(tags, pa.array(["a.csv", "b:c.csv"])).tolist()
    [0, 1, -1, 0, 0]
    """
    pattern = r"^[^:]*:(.*):[^:]*$"
    stems = pc.dictionary_encode(pc.utf8_rtrim(tags, characters="0123456789"))
    words = stems.dictionary
    found = pc.index_in(pc.replace_substring_regex(words, pattern, r"\1"), value_set=known)
    found = found.to_numpy(zero_copy_only=False)
    per_word = np.nan_to_num(found.astype("float64"), nan=-1).astype("int64")
    per_word[~np.asarray(pc.match_substring_regex(words, pattern).to_numpy(zero_copy_only=False), bool)] = -2
    codes = pc.fill_null(stems.indices, len(words)).to_numpy(zero_copy_only=False)
    pos = np.append(per_word, -1)[codes]
    itself = np.flatnonzero(pos == -2)  # no match: the whole tag is the name looked up
    if len(itself):
        looked = pc.index_in(tags.take(pa.array(itself)), value_set=known).to_numpy(zero_copy_only=False)
        pos[itself] = np.nan_to_num(looked.astype("float64"), nan=-1).astype("int64")
    return pos


def ending_early(contracts: pd.DataFrame, as_of: pd.Timestamp) -> list[dict[str, object]]:
    """quality.json ``observation.ending_early``: per date before ``as_of``, the contracts observed
    only until then (every file that reports them was extracted then or earlier)."""
    if C.observed_until not in contracts:
        return []
    until = contracts[C.observed_until]
    early = until.loc[until.notna() & (until < as_of)]
    counts = early.value_counts().sort_index()
    return [{"observed_until": f"{ts:%Y-%m-%d}", "n_contracts": int(n)} for ts, n in counts.items()]


__all__ = ["date_in_name", "ending_early", "extraction_dates", "observed_until"]
