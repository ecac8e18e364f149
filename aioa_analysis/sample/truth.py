"""Clean contract tables whose truth is known, for testing comparisons, alerts and estimators.

Unlike :mod:`aioa_analysis.sample` (raw files in every source format), this generator writes the
*clean* table directly, with a few extra ``true_*`` columns: what happened to each contract over its
whole planned duration, whatever ``as_of`` hides. It is built to test the statistics:

* centres (CFA) **specialised** in trades of different risk (a generalist covering every stratum of
  levels 3-5, a large centre mostly in high-risk trades, specialists, and a school alone in its
  strata that nothing can be compared with);
* an optional **centre effect** (a hazard multiplier for one centre, at equal case-mix);
* mixed planned durations (12, 24, 36 months), competing completion at the planned end, ruptures
  after the diploma in the last eight weeks (some not marked as such), censoring at ``as_of``;
* a calendar summer effect (hazard times ``summer_ratio`` in ``summer_months``), successor contracts
  at relative risk ``successor_rr``.

The rupture hazard is piecewise constant by day: baseline by contract month x sector x level x age
band x contract kind x centre x summer. Every multiplier is returned in ``generated.parameters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import C, coerce_contracts
from aioa_analysis.sample._params import TARGETS_9M

__all__ = ["Generated", "cfa_design", "generate_contracts"]

HIGH = ["hebergement_restauration", "coiffure_esthetique", "industries_alimentaires"]
MID = ["commerce", "construction", "agriculture", "transports", "autres_services"]
LOW = ["industrie_autre", "public_enseignement_sante", "services_entreprises", "finance_assurance"]
SECTORS = [*HIGH, *MID, *LOW, "information_communication"]
"""The 13 published sectors."""

_SECTOR_RR = {s: TARGETS_9M["sector"][s][0] / 0.21 for s in SECTORS}
_LEVEL_RR = {"3": 1.35, "4": 1.05, "5": 1.2, "6": 0.7, "7": 0.65}
_AGE_RR = {"15-17": 1.2, "18-19": 1.1, "20-25": 0.9, "26+": 0.85}
_AGE_BY_LEVEL = {"3": (0.6, 0.25, 0.13, 0.02), "4": (0.35, 0.4, 0.22, 0.03), "5": (0.0, 0.35, 0.55, 0.1)}
_AGE_HIGHER = (0.0, 0.05, 0.75, 0.2)
#: relative hazard by contract month (0, 1, 2-5, 6-8, 9-11, 12+)
_MONTH_SHAPE = np.array([2.5, 1.8, *[1.1] * 4, *[0.8] * 3, *[0.6] * 3, *[0.25] * 24])
_BASE_MONTHLY = 0.18 / _MONTH_SHAPE[:9].sum()  # 9-month rate ~ 21-23 % with this design


@dataclass(frozen=True)
class Generated:
    """A generated clean table and what was used to make it."""

    contracts: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)


def _strata(sectors: list[str], levels: list[str]) -> list[tuple[str, str]]:
    return [(s, lv) for s in sectors for lv in levels]


def cfa_design(n_cfas: int = 7) -> list[dict[str, Any]]:
    """The centres: UAI, name, share of contracts and the (sector, level) strata they train in.

    The first seven are fixed: ``G`` generalist (every sector at levels 3-5, construction and commerce weighing
    three times the others), ``H`` the largest,
    85 % in high-risk trades, ``B`` construction, ``A`` agriculture, ``I`` industry, ``T`` low-risk
    tertiary, ``E`` an engineering school alone at level 7 (not comparable). Further centres take a
    few random strata of levels 3-5.

    >>> [c["uai"] for c in cfa_design(3)]
    ['0419000A', '0419001B', '0419002C']
    """
    universe = _strata([s for s in SECTORS if s != "information_communication"], ["3", "4", "5"])
    fixed = [
        ("generaliste", 0.22, {st: 3.0 if st[0] in ("construction", "commerce") else 1.0 for st in universe}),
        (
            "grand CFA metiers a risque",
            0.30,
            {
                **{st: 85 / 6 for st in _strata(HIGH, ["3", "4"])},
                **dict.fromkeys(_strata(["commerce"], ["3", "4"]), 7.5),
            },
        ),
        ("CFA du batiment", 0.14, dict.fromkeys(_strata(["construction"], ["3", "4", "5"]), 1.0)),
        (
            "CFA agricole",
            0.10,
            {
                **dict.fromkeys(_strata(["agriculture"], ["3", "4", "5"]), 1.0),
                ("services_entreprises", "5"): 0.5,
            },
        ),
        (
            "CFA industrie",
            0.10,
            {**dict.fromkeys(_strata(["industrie_autre"], ["4", "5", "6"]), 1.0), ("construction", "5"): 0.5},
        ),
        (
            "CFA tertiaire",
            0.10,
            dict.fromkeys(
                [*_strata(["public_enseignement_sante"], ["3", "4"]), *_strata(LOW[2:], ["5", "6"])], 1.0
            ),
        ),
        (
            "ecole d'ingenieurs",
            0.06,
            dict.fromkeys(_strata(["information_communication", "industrie_autre"], ["7"]), 1.0),
        ),
    ]
    rng = np.random.default_rng(1000 + n_cfas)
    design = []
    for i in range(n_cfas):
        if i < len(fixed):
            name, share, strata = fixed[i]
        else:
            picks = rng.choice(len(universe), size=4, replace=False)
            name, share, strata = f"CFA {i}", 0.05, {universe[j]: 1.0 for j in picks}
        design.append(
            {
                "uai": f"04190{i:02d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[i % 23]}",
                "name": name,
                "share": share,
                "strata": strata,
            }
        )
    return design


def _draw_contracts(
    rng: np.random.Generator, n: int, design: list[dict[str, Any]], as_of: pd.Timestamp
) -> pd.DataFrame:
    shares = np.array([c["share"] for c in design])
    cfa = rng.choice(len(design), size=n, p=shares / shares.sum())
    sector = np.empty(n, dtype=object)
    level = np.empty(n, dtype=object)
    for i, c in enumerate(design):
        rows = np.flatnonzero(cfa == i)
        strata = list(c["strata"])
        w = np.array([c["strata"][s] for s in strata])
        pick = rng.choice(len(strata), size=len(rows), p=w / w.sum())
        sector[rows] = [strata[j][0] for j in pick]
        level[rows] = [strata[j][1] for j in pick]
    # starts: 60 % from mid-August to October, the rest over the year; over four school years
    first = as_of - pd.DateOffset(years=4)
    days = int((as_of - first).days)
    season = rng.random(n) < 0.6
    year = rng.integers(0, 4, size=n)
    sept = pd.Timestamp(year=first.year, month=8, day=15)
    sept = sept if sept >= first else sept + pd.DateOffset(years=1)
    offsets = np.where(
        season, (sept - first).days + 365 * year + rng.integers(0, 77, size=n), rng.integers(0, days, size=n)
    )
    start = first + pd.to_timedelta(np.clip(offsets, 0, days), unit="D")
    return pd.DataFrame({"cfa_i": cfa, C.sector: sector, C.diploma_level: level, C.start_date: start})


def _add_months(start: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``start + months`` calendar months (day clipped to the month's length), as DateOffset does.

    >>> _add_months(np.array(["2024-01-31"], dtype="datetime64[D]"), np.array([1])).tolist()
    [datetime.date(2024, 2, 29)]
    """
    first = start.astype("datetime64[M]")
    day = (start - first.astype("datetime64[D]")).astype(np.int64)
    target = first + months.astype("timedelta64[M]")
    length = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, length - 1).astype("timedelta64[D]")


def _hazards(frame: pd.DataFrame, cfa_rr: np.ndarray, successor_rr: float) -> np.ndarray:
    rr = (
        frame[C.sector].map(_SECTOR_RR).to_numpy(float)
        * frame[C.diploma_level].map(_LEVEL_RR).to_numpy(float)
        * frame[C.age_band].map(_AGE_RR).to_numpy(float)
        * np.where(frame[C.contract_kind].eq("succession"), successor_rr, 1.0)
        * cfa_rr[frame["cfa_i"].to_numpy()]
    )
    return rr


def _rupture_days(
    rng: np.random.Generator,
    start: np.ndarray,
    length: np.ndarray,
    rr: np.ndarray,
    summer_months: tuple[int, ...],
    summer_ratio: float,
) -> np.ndarray:
    """Day (from the start) of the first rupture under the daily hazard, or ``length`` if none."""
    out = np.empty(len(start), dtype=np.int64)
    target = rng.exponential(size=len(start))
    day = np.arange(int(length.max()))
    shape = (
        _MONTH_SHAPE[np.minimum(day // 30.4375, len(_MONTH_SHAPE) - 1).astype(int)] * _BASE_MONTHLY / 30.4375
    )
    first = start.min()
    grid = first + np.arange(int((start.max() - first).astype(np.int64)) + len(day)).astype("timedelta64[D]")
    calendar = np.where(
        np.isin(grid.astype("datetime64[M]").astype(np.int64) % 12 + 1, summer_months), summer_ratio, 1.0
    )
    offset = (start - first).astype(np.int64)
    for lo in range(0, len(start), 4000):
        sl = slice(lo, lo + 4000)
        h = shape[None, :] * rr[sl, None] * calendar[offset[sl, None] + day[None, :]]
        h[day[None, :] >= length[sl, None]] = 0.0
        cum = np.cumsum(h, axis=1)
        hit = cum >= target[sl, None]
        out[sl] = np.where(hit.any(axis=1), hit.argmax(axis=1), length[sl])
    return out


def generate_contracts(
    n_contracts: int = 6000,
    *,
    seed: int = 0,
    as_of: str = "2025-11-30",
    n_cfas: int = 7,
    effect_cfa: int | None = None,
    effect_ratio: float = 1.8,
    durations: tuple[int, ...] = (12, 24, 36),
    duration_probs: tuple[float, ...] = (0.25, 0.55, 0.2),
    successor_share: float = 0.2,
    successor_rr: float = 1.3,
    summer_months: tuple[int, ...] = (7, 8),
    summer_ratio: float = 1.8,
    after_diploma_rate: float = 0.04,
    after_diploma_marked: float = 0.5,
) -> Generated:
    """A clean contract table with known truth (see the module docstring).

    ``effect_cfa`` is the position in :func:`cfa_design` of the centre whose hazard is multiplied
    by ``effect_ratio`` (2 = the construction centre, which shares all its strata with the
    generalist). Extra columns: ``true_outcome`` (``ruptured``, ``ruptured_after_diploma``,
    ``completed``: over the whole planned duration) and ``true_rupture_date``.

    >>> g = generate_contracts(300, seed=1)
    >>> sorted(g.contracts["true_outcome"].unique())
    ['completed', 'ruptured', 'ruptured_after_diploma']
    """
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp(as_of)
    design = cfa_design(n_cfas)
    frame = _draw_contracts(rng, n_contracts, design, ts)
    lv = frame[C.diploma_level].to_numpy()
    ages = np.array(["15-17", "18-19", "20-25", "26+"])
    age = np.empty(n_contracts, dtype=object)
    for v in np.unique(lv):
        rows = np.flatnonzero(lv == v)
        age[rows] = ages[rng.choice(4, size=len(rows), p=_AGE_BY_LEVEL.get(v, _AGE_HIGHER))]
    frame[C.age_band] = age
    frame[C.contract_kind] = np.where(rng.random(n_contracts) < successor_share, "succession", "initial")
    frame[C.sex] = np.where(rng.random(n_contracts) < 0.35, "F", "M")
    months = rng.choice(
        np.asarray(durations), size=n_contracts, p=np.asarray(duration_probs) / sum(duration_probs)
    )
    start = frame[C.start_date].to_numpy().astype("datetime64[D]")
    end = _add_months(start, months) - np.timedelta64(1, "D")
    length = (end - start).astype(np.int64) + 1
    cfa_rr = np.ones(len(design))
    if effect_cfa is not None:
        cfa_rr[effect_cfa] = effect_ratio
    rr = _hazards(frame, cfa_rr, successor_rr)
    t1 = _rupture_days(rng, start, length, rr, summer_months, summer_ratio)
    after = rng.random(n_contracts) < after_diploma_rate
    t2 = np.where(after, length - 1 - rng.integers(0, 56, size=n_contracts), length)
    genuine = t1 < np.minimum(t2, length)
    post = ~genuine & (t2 < length)
    true_day = np.where(genuine, t1, np.where(post, t2, -1))
    true_date = np.where(true_day >= 0, start + true_day.astype("timedelta64[D]"), np.datetime64("NaT"))
    known = true_date <= np.datetime64(ts.date())
    marked = post & (rng.random(n_contracts) < after_diploma_marked)
    school = frame[C.start_date].dt.year - (frame[C.start_date].dt.month < 8)
    out = frame.assign(
        **{
            C.contract_id: [f"G{seed:03d}{i:07d}" for i in range(n_contracts)],
            C.apprentice_key: [f"k{seed:03d}{i:07d}" for i in range(n_contracts)],
            C.cfa_uai: [design[i]["uai"] for i in frame["cfa_i"]],
            C.cfa_name: [design[i]["name"] for i in frame["cfa_i"]],
            C.planned_end_date: pd.to_datetime(end),
            C.rupture_date: pd.to_datetime(np.where(known, true_date, np.datetime64("NaT"))),
            C.rupture_after_diploma: pd.array(np.where(known, marked, pd.NA), dtype="boolean"),
            C.school_year: [f"{y}-{y + 1}" for y in school],
        }
    )
    clean = coerce_contracts(out)
    clean["true_outcome"] = np.where(
        genuine, "ruptured", np.where(post, "ruptured_after_diploma", "completed")
    )
    clean["true_rupture_date"] = pd.to_datetime(true_date)
    params = {
        "cfas": design,
        "effect_cfa": None if effect_cfa is None else design[effect_cfa]["uai"],
        "effect_ratio": effect_ratio if effect_cfa is not None else 1.0,
        "summer_ratio": summer_ratio,
        "summer_months": summer_months,
        "successor_rr": successor_rr,
        "as_of": ts,
    }
    return Generated(contracts=clean, parameters=params)
