"""In-memory simulation of the true contracts (no file formats, no defects).

The rupture model is a piecewise-constant hazard per day:

``h_i(u) = scale * RR_i * base(u) * summer(month of start_i + u)``

where ``u`` is the number of days since the start, ``base`` the duration profile
(:data:`~aioa_analysis.sample._params.HAZARD_BASE_PER_DAY`), ``summer`` the calendar multiplier
(June-August) and ``RR_i`` the product of the relative risks of the contract's level group, sector,
employer size band, age band and sex (and of a prior rupture for a follow-up contract). The relative
risks are calibrated by raking so that the expected 9-month probabilities of the groups keep the
published RATIOS; ``scale`` sets the overall expected 9-month probability to 21 % (DOMAIN #1).

The pieces: ``_population`` (starts, programmes, apprentices, employers), ``_hazard`` (the hazard
table and its calibration); this module runs them in order (:func:`simulate`) and adds the
follow-up contracts after a rupture, the exam sittings, the ruptures after the diploma, the
rupture reasons and the contract numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P
from aioa_analysis.sample._hazard import HazardTable, apply_rr, calibrate
from aioa_analysis.sample._population import (
    choice,
    draw_starts,
    employers,
    last_class_of,
    make_persons,
    planned_end,
    programme_frame,
    school_years,
)

STREAMS = (
    "starts",
    "programmes",
    "persons",
    "employers",
    "hazard",
    "recontract",
    "exam",
    "postdiploma",
    "reasons",
    "files",
)


def rng_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent PCG64 generator per component, all derived from ``seed`` (stable order)."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(ss)) for name, ss in zip(STREAMS, children, strict=True)
    }


@dataclass
class Simulation:
    """Result of :func:`simulate`: true contracts, apprentices, exam sittings and the fitted model."""

    contracts: pd.DataFrame
    persons: pd.DataFrame
    exams: pd.DataFrame
    model: dict = field(default_factory=dict)
    extraction_date: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2025-11-30"))
    school_years: tuple[str, ...] = ()


def school_year_of(dates: pd.Series) -> pd.Series:
    """``"YYYY-YYYY+1"`` with a 1 August cut-off (BRIEF convention)."""
    y = dates.dt.year - (dates.dt.month < 8).astype(int)
    return y.astype(str) + "-" + (y + 1).astype(str)


def age_band_of(age: np.ndarray) -> np.ndarray:
    """Age band at start (schema.AGE_BANDS)."""
    return np.select([age <= 17, age <= 19, age <= 25], ["15-17", "18-19", "20-25"], "26+")


def size_band_of(headcount: np.ndarray) -> np.ndarray:
    """Employer size band (schema.SIZE_BANDS)."""
    return np.select(
        [headcount <= 4, headcount <= 9, headcount <= 49, headcount <= 249],
        ["0-4", "5-9", "10-49", "50-249"],
        "250+",
    )


# --- first contracts of each training -----------------------------------------------------------------


def _programmes(rng: np.random.Generator, progs: pd.DataFrame, n: int) -> np.ndarray:
    """Programme (row of ``progs``) of ``n`` first contracts: a CFA by its share, then a programme of
    the CFA by its weight."""
    cfa = choice(rng, list(P.CFA_SHARES), list(P.CFA_SHARES.values()), n)
    prog_idx = np.empty(n, dtype=int)
    for uai in P.CFA_SHARES:
        m = cfa == uai
        cand = progs.index[progs["cfa_uai"] == uai].to_numpy()
        w = progs.loc[cand, "weight"].to_numpy(dtype=float)
        prog_idx[m] = cand[rng.choice(len(cand), size=int(m.sum()), p=w / w.sum())]
    return prog_idx


def _apprentices(rp: np.random.Generator, pr: pd.DataFrame, start: pd.Series) -> pd.DataFrame:
    """One apprentice per first contract (programme rows ``pr``): sex by the programme's share, age
    by level group, identity and one "last class" (so that every file says the same)."""
    n = len(start)
    sex = np.where(rp.random(n) < pr["female_share"].to_numpy(), "F", "M")
    ages = np.arange(15, 31)
    age = np.empty(n, dtype=int)
    for g, w in P.AGE_WEIGHTS.items():
        m = pr["level_group"].to_numpy() == g
        age[m] = ages[rp.choice(len(ages), size=int(m.sum()), p=np.asarray(w) / np.sum(w))]
    birth = start - pd.to_timedelta((age * 365.25 + rp.integers(1, 364, n)).astype(int), unit="D")
    persons = make_persons(rp, sex, birth.dt.normalize())
    return persons.assign(last_class=last_class_of(rp, pr["level_group"].to_numpy()))


def _first_contracts(
    rng: dict[str, np.random.Generator],
    progs: pd.DataFrame,
    sy_list: list[int],
    contracts_per_year: int,
    ext: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first contract of each training (dates, programme, employer) and the apprentices."""
    start = draw_starts(
        rng["starts"], sy_list, max(1, round(contracts_per_year * P.FIRST_CONTRACT_SHARE)), ext
    )
    n = len(start)
    if n < 20:
        raise ParameterError(
            f"only {n} contracts start before the extraction date {ext.date()}",
            hint="raise --contracts-per-year or --years, or move --extraction-date later",
        )
    prog_idx = _programmes(rng["programmes"], progs, n)
    pr = progs.loc[prog_idx].reset_index(drop=True)
    persons = _apprentices(rng["persons"], pr, start)
    emp = employers(rng["employers"], progs, prog_idx)
    end, session = planned_end(rng["starts"], start, pr["years"].to_numpy())
    sy = start.dt.year - (start.dt.month < 8).astype(int)
    rentree = pd.to_datetime({"year": sy, "month": 9, "day": 1}) + pd.to_timedelta(
        rng["starts"].integers(0, 12, n), unit="D"
    )
    early = start <= pd.to_datetime({"year": sy, "month": 10, "day": 31})
    train_start = rentree.where(early, start)
    ctype = np.where(
        pr["level_group"].isin(["3"]).to_numpy(),
        "11",
        choice(rng["programmes"], ["11", "21", "22"], [0.75, 0.10, 0.15], n),
    )
    c0 = pd.DataFrame(
        {
            "chain_id": np.arange(n),
            "person_id": np.arange(n),
            "generation": 0,
            "contract_type": ctype,
            "prev_index": -1,
            "programme": prog_idx,
            "start_date": start,
            "planned_end_date": end,
            "exam_session": session,
            "training_start_date": train_start,
        }
    )
    return pd.concat([c0, emp.drop(columns="employer_id")], axis=1), persons


# --- ruptures (hazard model) and follow-up contracts ------------------------------------------------------


def _hazard_table(c0: pd.DataFrame, first_year: int, ext: pd.Timestamp) -> HazardTable:
    """The cumulative baseline hazard for every start day from 1 August of ``first_year`` to ``ext``."""
    horizon = int((c0["planned_end_date"] - c0["start_date"]).dt.days.max()) + 400
    first_day = np.datetime64(f"{first_year}-08-01")
    n_start_days = int((np.datetime64(ext.date(), "D") - first_day) // np.timedelta64(1, "D")) + 1
    return HazardTable(first_day, n_start_days, horizon, summer=P.SUMMER_MULTIPLIER)


def _enrich(df: pd.DataFrame, progs: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Contracts with their programme's attributes, sector, size band, sex, age and school year."""
    p = progs.loc[df["programme"].to_numpy()]
    naf = referential.naf_attributes(pd.Series(df["employer_naf"].to_numpy(), dtype="string"))
    bd = persons.loc[df["person_id"].to_numpy(), "birth_date"].to_numpy()
    st = df["start_date"].to_numpy()
    # completed years at start
    bdt = pd.DatetimeIndex(bd)
    sdt = pd.DatetimeIndex(st)
    age_years = (
        sdt.year - bdt.year - ((sdt.month < bdt.month) | ((sdt.month == bdt.month) & (sdt.day < bdt.day)))
    )
    return df.assign(
        cfa_uai=p["cfa_uai"].to_numpy(),
        diploma_code=p["cfd"].to_numpy(),
        diploma_title=p["title"].to_numpy(),
        diploma_family=p["family"].to_numpy(),
        diploma_level=p["level"].to_numpy(),
        diploma_type_cerfa=p["cerfa_type"].to_numpy(),
        level_group=p["level_group"].to_numpy(),
        employer_idcc=p["idcc"].to_numpy(),
        size_profile=p["size_profile"].to_numpy(),
        sector=naf["sector"].to_numpy(dtype=object),
        sector_group=naf["sector_group"].to_numpy(dtype=object),
        employer_size_band=size_band_of(df["employer_headcount"].to_numpy()),
        sex=persons.loc[df["person_id"].to_numpy(), "sex"].to_numpy(),
        age_at_start=np.asarray(age_years),
        age_band=age_band_of(np.asarray(age_years)),
        school_year=school_year_of(df["start_date"]).to_numpy(),
    )


def _window_days(df: pd.DataFrame, months: int) -> np.ndarray:
    """Days in the first ``months`` months of each contract, capped at its planned length."""
    d = ((df["start_date"] + pd.DateOffset(months=months)) - df["start_date"]).dt.days.to_numpy()
    dur = (df["planned_end_date"] - df["start_date"]).dt.days.to_numpy()
    return np.minimum(d, dur)


FACTORS = ("level_group", "sector", "employer_size_band", "age_band", "sex")
"""Factors of the relative risk, calibrated on the published 9-month ratios (``_params.TARGETS_9M``)."""


def _calibrate(c0: pd.DataFrame, table: HazardTable) -> dict:
    """The rupture model fitted on the first contracts (``scale`` and relative risks)."""
    base9 = table.cumulative(table.start_index(c0["start_date"]), _window_days(c0, 9))
    return calibrate(base9, {f: c0[f].to_numpy() for f in FACTORS})


def _draw_ruptures(
    df: pd.DataFrame, rng_h: np.random.Generator, model: dict, table: HazardTable
) -> pd.DataFrame:
    """Latent rupture date of each contract (NaT: none before the planned end) and the TRUE model
    probabilities of a rupture within 45 days, 3, 6, 9 and 12 months."""
    rr = apply_rr(model, df) * model["scale"]
    s_idx = table.start_index(df["start_date"])
    e = rng_h.exponential(1.0, len(df))
    day = table.draw(s_idx, rr, e)
    dur = (df["planned_end_date"] - df["start_date"]).dt.days.to_numpy()
    broke = (day >= 0) & (day < dur)
    latent = df["start_date"] + pd.to_timedelta(np.where(broke, day, 0), unit="D")
    p = {f"p{h}": 1 - np.exp(-rr * table.cumulative(s_idx, _window_days(df, h))) for h in (3, 6, 9, 12)}
    p["p45d"] = 1 - np.exp(-rr * table.cumulative(s_idx, np.minimum(46, dur)))
    return df.assign(rr=rr, latent_rupture_date=latent.where(broke), **p)


def _follow_ups(
    prev: pd.DataFrame,
    rng_r: np.random.Generator,
    rng_e: np.random.Generator,
    progs: pd.DataFrame,
    ext: pd.Timestamp,
) -> pd.DataFrame | None:
    """Contracts signed after the ruptures of ``prev`` (same apprentice and training, new employer),
    before enrichment; None when nobody signs again."""
    broke = prev["latent_rupture_date"].notna().to_numpy()
    u = rng_r.random(len(prev))
    within2 = rng_r.random(len(prev)) < P.RECONTRACT_WITHIN_2M_SHARE
    gap = np.where(
        u < P.RECONTRACT_6M,
        np.where(within2, rng_r.integers(7, 61, len(prev)), rng_r.integers(61, 181, len(prev))),
        rng_r.integers(183, 366, len(prev)),
    )
    signs = broke & (u < P.RECONTRACT_6M + P.RECONTRACT_6_12M)
    new_start = prev["latent_rupture_date"] + pd.to_timedelta(gap, unit="D")
    train_end = pd.to_datetime({"year": prev["exam_session"], "month": 6, "day": 15})
    ok = signs & (new_start <= ext).to_numpy() & (new_start < train_end).to_numpy()
    if not ok.any():
        return None
    sub = prev.loc[ok]
    k = len(sub)
    new_emp = employers(rng_e, progs, sub["programme"].to_numpy())
    ns = new_start[ok].reset_index(drop=True)
    old_end = sub["planned_end_date"].reset_index(drop=True)
    nend = old_end.where(old_end >= ns + pd.DateOffset(months=6), ns + pd.DateOffset(months=6))
    nxt = pd.DataFrame(
        {
            "chain_id": sub["chain_id"].to_numpy(),
            "person_id": sub["person_id"].to_numpy(),
            "generation": sub["generation"].to_numpy() + 1,
            "contract_type": np.where(rng_r.random(k) < P.RECONTRACT_TYPE_23_SHARE, "23", "22"),
            "prev_index": sub.index.to_numpy(),  # index within the previous generation (resolved below)
            "programme": sub["programme"].to_numpy(),
            "start_date": ns,
            "planned_end_date": nend,
            "exam_session": sub["exam_session"].to_numpy(),
            "training_start_date": sub["training_start_date"].to_numpy(),
        }
    )
    return pd.concat([nxt, new_emp.drop(columns="employer_id")], axis=1)


def _stack(gens: list[pd.DataFrame]) -> pd.DataFrame:
    """Every generation in one frame; ``prev_row`` is the row of the contract broken before (-1: none)."""
    offsets = np.cumsum([0] + [len(g) for g in gens[:-1]])
    parts = []
    for gen, prev_off in zip(gens, [0, *offsets[:-1]], strict=True):
        parts.append(gen.assign(prev_row=np.where(gen["prev_index"] >= 0, gen["prev_index"] + prev_off, -1)))
    return pd.concat(parts, ignore_index=True).drop(columns="prev_index")


def _number(ct: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Signature date and contract number (dep 041 + year-month of signature + sequence: 15 digits),
    and the number of the contract broken before (``prev_contract_id``)."""
    sig = ct["start_date"] - pd.to_timedelta(rng.integers(0, 31, len(ct)), unit="D")
    order = np.lexsort((np.arange(len(ct)), sig.to_numpy()))
    seq = np.empty(len(ct), dtype=int)
    seq[order] = np.arange(len(ct)) + 1
    ct = ct.assign(
        signature_date=sig,
        contract_id=["041" + d.strftime("%Y%m") + f"{s:06d}" for d, s in zip(sig, seq, strict=True)],
    )
    return ct.assign(
        prev_contract_id=np.where(ct["prev_row"] >= 0, ct["contract_id"].to_numpy()[ct["prev_row"]], None)  # type: ignore[call-overload]
    )


# --- main simulation --------------------------------------------------------------------------------


def simulate(
    *, seed: int, years: int = 4, contracts_per_year: int = 3000, extraction_date: str = "2025-11-30"
) -> Simulation:
    """Simulate the true contracts of ``years`` school years ending with the one in progress.

    Returns contracts of every generation (the first contract of a training, then contracts signed
    after a rupture), the apprentices, the exam sittings and the fitted model. Ruptures are drawn
    from the hazard model without censoring (``latent_rupture_date``); ``rupture_date`` keeps those
    known at ``extraction_date``.
    """
    ext = pd.Timestamp(extraction_date).normalize()
    rng = rng_streams(seed)
    sy_list = school_years(ext, years)
    progs = programme_frame()
    c0, persons = _first_contracts(rng, progs, sy_list, contracts_per_year, ext)
    table = _hazard_table(c0, sy_list[0], ext)
    c0 = _enrich(c0, progs, persons)
    model = _calibrate(c0, table)
    gens = [_draw_ruptures(c0, rng["hazard"], model, table)]
    while len(gens) < 4:  # follow-up contracts after a rupture
        nxt = _follow_ups(gens[-1], rng["recontract"], rng["employers"], progs, ext)
        if nxt is None:
            break
        gens.append(_draw_ruptures(_enrich(nxt, progs, persons), rng["hazard"], model, table))
    ct = _stack(gens)
    # exams (one sitting per training) and ruptures after the diploma
    ct, exams = _exams_and_post_diploma(ct, persons, ext, rng["exam"], rng["postdiploma"])
    # observed at the extraction date
    ct = ct.assign(rupture_date=ct["latent_rupture_date"].where(ct["latent_rupture_date"] <= ext))
    ct = _number(_reasons(ct, rng["reasons"]), rng["starts"])
    model = {
        **model,
        "summer_multiplier": P.SUMMER_MULTIPLIER,
        "summer_months": list(P.SUMMER_MONTHS),
        "prior_rupture_rr": P.PRIOR_RUPTURE_RR,
        "hazard_breaks_days": list(P.HAZARD_BREAKS_DAYS),
        "hazard_base_per_day": list(P.HAZARD_BASE_PER_DAY),
    }
    return Simulation(
        contracts=ct,
        persons=persons,
        exams=exams,
        model=model,
        extraction_date=ext,
        school_years=tuple(f"{y}-{y + 1}" for y in sy_list),
    )


def _exams_and_post_diploma(
    ct: pd.DataFrame,
    persons: pd.DataFrame,
    ext: pd.Timestamp,
    rng: np.random.Generator,
    rng_pd: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One exam sitting per training (chain) and ruptures after the results of a passed exam.

    ``rupture_for_diploma``: the L6222-19 ruptures drawn here (reason "Obtention du diplôme");
    ``rupture_after_diploma``: every rupture of a passed apprentice's last contract on or after the
    results day (those, plus hazard ruptures that happen after the results).
    """
    last = ct.sort_values(["chain_id", "generation"]).groupby("chain_id").tail(1).set_index("chain_id")
    first = ct.loc[ct["generation"] == 0].set_index("chain_id")
    exam_day = pd.to_datetime({"year": last["exam_session"], "month": 6, "day": 15})
    month, day = P.RESULTS_MONTH_DAY
    result_day = pd.to_datetime({"year": last["exam_session"], "month": month, "day": day})
    n_rupt = ct["latent_rupture_date"].notna().groupby(ct["chain_id"]).sum()
    dry = (last["latent_rupture_date"] < exam_day).to_numpy()
    recontracted = (n_rupt.reindex(last.index).to_numpy() > 0) & ~dry
    fam = first["diploma_family"].to_numpy()
    sex = first["sex"].to_numpy()
    p = np.array([P.PASS_RATES.get(f, (0.8, ""))[0] for f in fam]) + np.vectorize(P.PASS_SEX_SHIFT.get)(sex)
    p = np.where(recontracted, p + P.PASS_SHIFT_AFTER_RECONTRACT, p)
    p = np.where(dry, p * P.PASS_AFTER_DRY_RUPTURE, p)
    p = np.clip(p, 0.0, 0.98)
    absent = dry & (rng.random(len(last)) < P.ABSENT_AFTER_DRY_RUPTURE)
    passed = ~absent & (rng.random(len(last)) < p)
    mention = rng.choice(4, size=len(last), p=[0.55, 0.25, 0.15, 0.05])
    result = np.where(
        absent,
        "Absent",
        np.where(
            passed,
            np.array(["Admis", "Admis mention AB", "Admis mention B", "Admis mention TB"])[mention],
            "Ajourné",
        ),
    )
    exams = pd.DataFrame(
        {
            "chain_id": last.index.to_numpy(),
            "person_id": first["person_id"].to_numpy(),
            "diploma_code": first["diploma_code"].to_numpy(),
            "diploma_title": first["diploma_title"].to_numpy(),
            "diploma_family": fam,
            "cfa_uai": first["cfa_uai"].to_numpy(),
            "sex": sex,
            "exam_session": last["exam_session"].to_numpy(),
            "result_date": result_day.to_numpy(),
            "pass_probability": np.where(absent, 0.0, p),
            "presented": ~absent,
            "any_rupture": n_rupt.reindex(last.index).to_numpy() > 0,
            "dry_rupture": dry,
            "passed": passed,
            "result": result,
            "closed": (result_day <= ext).to_numpy(),
        }
    )
    # L6222-19: the last contract of an admitted apprentice, still running after the results
    res = pd.Series(result_day.to_numpy(), index=last.index)
    lr = ct["chain_id"].map(res)
    is_last = ct.index.isin(ct.sort_values(["chain_id", "generation"]).groupby("chain_id").tail(1).index)
    ok = (
        is_last
        & ct["chain_id"].map(pd.Series(passed, index=last.index)).to_numpy()
        & (ct["latent_rupture_date"].isna() | (ct["latent_rupture_date"] > lr)).to_numpy()
        & (ct["planned_end_date"] > lr + pd.Timedelta(days=14)).to_numpy()
    )
    u = rng_pd.random(len(ct))
    gap = rng_pd.integers(3, 45, len(ct))
    pd_date = lr + pd.to_timedelta(gap, unit="D")
    pd_date = pd_date.where(pd_date < ct["planned_end_date"], ct["planned_end_date"] - pd.Timedelta(days=1))
    drawn = ok & (u < P.POST_DIPLOMA_RUPTURE)
    latent = ct["latent_rupture_date"].where(~drawn, pd_date)
    passed_ct = ct["chain_id"].map(pd.Series(passed, index=last.index)).to_numpy(dtype=bool)
    after = is_last & passed_ct & (latent >= lr).to_numpy()
    ct = ct.assign(
        latent_rupture_date=latent,
        rupture_for_diploma=drawn,
        rupture_after_diploma=after,
        diploma_obtained=ct["chain_id"].map(pd.Series(passed, index=last.index)).to_numpy(),
        diploma_obtained_date=lr.where(ct["chain_id"].map(pd.Series(passed, index=last.index)).astype(bool)),
        training_end_date=pd.to_datetime({"year": ct["exam_session"], "month": 6, "day": 30}),
    )
    return ct, exams


def _reasons(ct: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    days = (ct["latent_rupture_date"] - ct["start_date"]).dt.days
    other = ["commun_accord", "demission", "faute", "inaptitude", "force_majeure", "liquidation"]
    w = [cat.RUPTURE_REASONS[k][1] for k in other]
    drawn = choice(rng, other, w, len(ct))
    reason = np.where(ct["rupture_for_diploma"], "diplome", np.where(days.to_numpy() < 46, "essai", drawn))
    return ct.assign(rupture_reason=np.where(ct["latent_rupture_date"].notna(), reason, None))  # type: ignore[call-overload]
