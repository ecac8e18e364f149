"""In-memory simulation of the true contracts (no file formats, no defects).

The rupture model is a piecewise-constant hazard per day:

``h_i(u) = scale * RR_i * base(u) * summer(month of start_i + u)``

where ``u`` is the number of days since the start, ``base`` the duration profile
(:data:`~aioa_analysis.sample._params.HAZARD_BASE_PER_DAY`), ``summer`` the calendar multiplier
(June-August) and ``RR_i`` the product of the relative risks of the contract's level group, sector,
employer size band, age band and sex (and of a prior rupture for a follow-up contract). The relative
risks are calibrated by raking so that the expected 9-month probabilities of the groups keep the
published RATIOS; ``scale`` sets the overall expected 9-month probability to 21 % (DOMAIN #1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P

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


def _choice(rng: np.random.Generator, keys: list, weights, size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=size, p=w / w.sum())]


def _luhn_complete(body: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of digit arrays (n, k) -> (n, k+1)."""
    k = body.shape[1]
    digits = body.copy()
    # positions from the right, once the check digit is appended: check is position 0 (not doubled)
    dbl = (np.arange(k)[::-1] % 2) == 0  # rightmost body digit is doubled
    d = np.where(dbl, digits * 2, digits)
    d = np.where(d > 9, d - 9, d)
    check = (10 - d.sum(axis=1) % 10) % 10
    return np.column_stack([digits, check])


def make_sirets(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fake SIRETs valid for the Luhn check on both the SIREN and the full SIRET."""
    siren = _luhn_complete(np.column_stack([rng.integers(1, 10, n), rng.integers(0, 10, (n, 7))]))
    nic = np.column_stack(
        [np.zeros((n, 2), dtype=int), rng.integers(0, 10, (n, 1)), rng.integers(1, 10, (n, 1))]
    )
    full = _luhn_complete(np.column_stack([siren, nic]))
    return np.array(["".join(map(str, row)) for row in full], dtype=object)


# --- hazard table ---------------------------------------------------------------------------------------


class HazardTable:
    """Cumulative baseline hazard ``L[s, d]`` for every start day ``s`` and duration ``d`` (days).

    ``L[s, d]`` sums the daily baseline hazard (duration profile x summer multiplier) over days
    ``0..d-1`` after start day ``s``; a contract with relative risk ``rr`` breaks before day ``d``
    with probability ``1 - exp(-rr * L[s, d])``.
    """

    def __init__(self, first_day: np.datetime64, n_start_days: int, horizon: int, *, summer: float) -> None:
        self.first_day = np.asarray(first_day).astype("datetime64[D]")[()]
        self.horizon = horizon
        u = np.arange(horizon)
        piece = np.searchsorted(np.asarray(P.HAZARD_BREAKS_DAYS), u, side="right") - 1
        base = np.asarray(P.HAZARD_BASE_PER_DAY)[piece]
        days = self.first_day + np.arange(n_start_days + horizon)
        months = days.astype("datetime64[M]").astype(int) % 12 + 1
        mult = np.where(np.isin(months, P.SUMMER_MONTHS), summer, 1.0)
        idx = np.arange(n_start_days)[:, None] + u[None, :]
        daily = base[None, :] * mult[idx]
        self.cum = np.zeros((n_start_days, horizon + 1))
        np.cumsum(daily, axis=1, out=self.cum[:, 1:])

    def start_index(self, start: pd.Series) -> np.ndarray:
        """Row of the table for each start date."""
        return (start.to_numpy().astype("datetime64[D]") - self.first_day).astype(int)

    def cumulative(self, s_idx: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``L[s, min(d, horizon)]`` element-wise."""
        return self.cum[s_idx, np.clip(d, 0, self.horizon)]

    def draw(self, s_idx: np.ndarray, rr: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Day of rupture (days since start) given unit-exponential draws ``e``; -1 beyond horizon."""
        target = e / rr
        rows = self.cum[s_idx, 1:]  # (n, horizon): cumulative at the END of each day
        # vectorised row-wise searchsorted: offset every row so the flattened array is increasing
        width = float(self.cum[:, -1].max()) + 1.0
        offs = np.arange(len(s_idx)) * width
        flat = (rows + offs[:, None]).ravel()
        pos = np.searchsorted(flat, target + offs, side="left") - np.arange(len(s_idx)) * self.horizon
        return np.where(target <= rows[:, -1], pos, -1)


# --- population ----------------------------------------------------------------------------------------


def _school_years(extraction: pd.Timestamp, years: int) -> list[int]:
    current = extraction.year if extraction.month >= 8 else extraction.year - 1
    return list(range(current - years + 1, current + 1))


def _draw_starts(
    rng: np.random.Generator, sy_list: list[int], per_year: int, extraction: pd.Timestamp
) -> pd.Series:
    months_order = [8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7]
    w = np.array([P.MONTHLY_STARTS_2024[m] for m in months_order], dtype=float)
    out = []
    for sy in sy_list:
        mi = rng.choice(12, size=per_year, p=w / w.sum())
        month = np.array(months_order)[mi]
        year = np.where(month >= 8, sy, sy + 1)
        first = pd.to_datetime({"year": year, "month": month, "day": np.ones(per_year, dtype=int)})
        dim = first.dt.days_in_month.to_numpy()
        # September starts cluster in the first fortnight (school rentrée) [D]
        frac = np.where(month == 9, rng.beta(1.2, 2.5, per_year), rng.random(per_year))
        day = np.minimum((frac * dim).astype(int), dim - 1)
        out.append(first + pd.to_timedelta(day, unit="D"))
    starts = pd.concat(out, ignore_index=True)
    return starts[starts <= extraction].reset_index(drop=True)


def _programme_frame() -> pd.DataFrame:
    progs = pd.DataFrame([p._asdict() for p in cat.PROGRAMMES])
    attrs = referential.diploma_attributes(progs["cfd"])
    level = attrs["diploma_level"]
    group = np.where(
        attrs["diploma_family"] == "MC",
        "MC",
        np.where(level.isin(["6", "7", "8"]).fillna(False), "6+", level.fillna("3").astype(str)),
    )
    return progs.assign(
        family=attrs["diploma_family"].astype(str),
        level=level,
        cerfa_type=attrs["diploma_type_cerfa"].astype(str),
        level_group=group,
    )


def _names(rng: np.random.Generator, sex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(sex)
    sw = 1.0 / np.arange(1, len(cat.SURNAMES) + 1) ** 0.5  # Zipf-like: homonyms exist, as in reality
    surname = _choice(rng, list(cat.SURNAMES), sw, n)
    fm = _choice(rng, list(cat.FIRST_NAMES_M), 1.0 / np.arange(1, len(cat.FIRST_NAMES_M) + 1) ** 0.4, n)
    ff = _choice(rng, list(cat.FIRST_NAMES_F), 1.0 / np.arange(1, len(cat.FIRST_NAMES_F) + 1) ** 0.4, n)
    return surname, np.where(sex == "F", ff, fm)


def _ascii_lower(s: pd.Series) -> pd.Series:
    return (
        s.str.normalize("NFKD")
        .str.encode("ascii", "ignore")
        .str.decode("ascii")
        .str.lower()
        .str.replace(r"[^a-z]", "", regex=True)
    )


def _residence(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    terr = referential.territories()
    terr = terr.assign(commune=terr["commune"].str.split(" / ").str[0])
    zone = _choice(rng, list(P.TERRITORY_SHARES), list(P.TERRITORY_SHARES.values()), n)
    postcode = np.empty(n, dtype=object)
    for z in P.TERRITORY_SHARES:
        m = zone == z
        if z == "hors_41":
            postcode[m] = _choice(
                rng, list(P.OUTSIDE_POSTCODES), np.ones(len(P.OUTSIDE_POSTCODES)), int(m.sum())
            )
            continue
        codes = terr.loc[terr["territory"] == z, "postcode"].tolist()
        main, share = P.MAIN_TOWN_SHARE[z]
        w = np.array([share if c == main else (1 - share) / (len(codes) - 1) for c in codes])
        postcode[m] = _choice(rng, codes, w, int(m.sum()))
    names = dict(zip(terr["postcode"], terr["commune"], strict=True)) | P.OUTSIDE_POSTCODES
    commune = np.array([names[c] for c in postcode], dtype=object)
    return postcode, commune


def last_class_of(rng: np.random.Generator, level_group: np.ndarray) -> np.ndarray:
    """CERFA "dernière classe" code before the apprenticeship, by level group [D] (FORMATS §2)."""
    n = len(level_group)
    young = _choice(rng, ["40", "41", "01", "12", "22"], [0.35, 0.2, 0.15, 0.15, 0.15], n)
    older = _choice(rng, ["01", "21", "22", "12", "31"], [0.6, 0.15, 0.1, 0.1, 0.05], n)
    return np.where(level_group == "3", young, older)


def _make_persons(rng: np.random.Generator, sex: np.ndarray, birth: pd.Series) -> pd.DataFrame:
    n = len(sex)
    surname, first = _names(rng, sex)
    postcode, commune = _residence(rng, n)
    phone_prefix = np.where(rng.random(n) < 0.7, "06", "07")
    phone = [p + f"{x:08d}" for p, x in zip(phone_prefix, rng.integers(0, 10**8, n), strict=True)]
    fl = _ascii_lower(pd.Series(first, dtype="string"))
    sl = _ascii_lower(pd.Series(surname, dtype="string"))
    style = rng.integers(0, 4, n)
    num = rng.integers(1, 100, n).astype(str)
    local = np.select(
        [style == 0, style == 1, style == 2],
        [fl + "." + sl, fl + sl + num, fl.str.slice(0, 1) + sl],
        sl + "." + fl + num,
    )
    domain = _choice(rng, list(cat.EMAIL_DOMAINS), [0.45, 0.15, 0.1, 0.08, 0.1, 0.06, 0.06], n)
    email = pd.Series(local, dtype="string") + "@" + pd.Series(domain, dtype="string")
    email = email.where(rng.random(n) > 0.04)  # a few without e-mail
    ine = [f"{a:09d}{chr(65 + b)}{chr(65 + c)}" for a, b, c in zip(
        rng.integers(0, 10**9, n), rng.integers(0, 26, n), rng.integers(0, 26, n), strict=True)]  # fmt: skip
    return pd.DataFrame(
        {
            "person_id": np.arange(n),
            "surname": surname,
            "first_name": first,
            "birth_date": birth.to_numpy(),
            "sex": sex,
            "birth_departement": _choice(
                rng, list(cat.BIRTH_DEPARTEMENTS), list(cat.BIRTH_DEPARTEMENTS.values()), n
            ),
            "nationality": _choice(rng, ["1", "2", "3"], [0.93, 0.03, 0.04], n),
            "rqth": rng.random(n) < 0.03,
            "ine": np.where(rng.random(n) < 0.9, np.array(ine, dtype=object), None),  # type: ignore[call-overload]
            "phone": phone,
            "email": email.to_numpy(dtype=object, na_value=None),  # type: ignore[call-overload]
            "address_number": np.where(rng.random(n) < 0.85, rng.integers(1, 120, n).astype(str), None),  # type: ignore[call-overload]
            "street": _choice(rng, list(cat.STREETS), np.ones(len(cat.STREETS)), n),
            "postcode": postcode,
            "commune": commune,
        }
    )


def _employers(rng: np.random.Generator, progs: pd.DataFrame, prog_idx: np.ndarray) -> pd.DataFrame:
    """Employer of each contract: NAF by programme, size by trade profile, SIRET pool per NAF x size."""
    n = len(prog_idx)
    naf = np.empty(n, dtype=object)
    band = np.empty(n, dtype=object)
    for i, row in progs.iterrows():
        m = prog_idx == i
        k = int(m.sum())
        if not k:
            continue
        naf[m] = _choice(rng, list(row["naf"]), list(row["naf"].values()), k)
        band[m] = _choice(rng, list(P.SIZE_BAND_BOUNDS), P.SIZE_PROFILES[row["size_profile"]], k)
    # employer pools: about 1.4 contracts per employer within (NAF, size band) [D]
    key = pd.Series(naf, dtype="string") + "|" + pd.Series(band, dtype="string")
    codes, uniq = pd.factorize(key, sort=True)
    pool_size = np.maximum(1, np.ceil(np.bincount(codes) / 1.4).astype(int))
    offset = np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    emp = offset[codes] + (rng.random(n) * pool_size[codes]).astype(int)
    n_emp = int(pool_size.sum())
    siret = make_sirets(rng, n_emp)
    lo = np.array([P.SIZE_BAND_BOUNDS[b.split("|")[1]][0] for b in uniq])
    hi = np.array([P.SIZE_BAND_BOUNDS[b.split("|")[1]][1] for b in uniq])
    emp_group = np.repeat(np.arange(len(uniq)), pool_size)
    u = rng.random(n_emp)
    head = np.where(
        hi[emp_group] > 1000,
        np.minimum(250 * np.exp(rng.exponential(1.0, n_emp)), 4999).astype(int),
        lo[emp_group] + (u * (hi[emp_group] - lo[emp_group] + 1)).astype(int),
    )
    terr = referential.territories()
    emp_pc = _choice(rng, terr["postcode"].tolist(), np.ones(len(terr)), n_emp)
    emp_surname = _choice(rng, list(cat.SURNAMES), np.ones(len(cat.SURNAMES)), n_emp)
    uniq_keys = [str(k) for k in uniq]
    word = np.array([cat.EMPLOYER_WORD.get(uniq_keys[g][:4], "ETS") for g in emp_group], dtype=object)
    form = _choice(rng, ["SARL ", "SAS ", "", "EURL "], [0.35, 0.3, 0.25, 0.1], n_emp)
    name = pd.Series(form + word + " " + pd.Series(emp_surname).str.upper().to_numpy(), dtype=object)
    return pd.DataFrame(
        {
            "employer_id": emp,
            "employer_siret": siret[emp],
            "employer_naf": naf,
            "employer_headcount": head[emp],
            "employer_postcode": emp_pc[emp],
            "employer_name": name.to_numpy()[emp],
        }
    )


def _planned_end(
    rng: np.random.Generator, start: pd.Series, n_years: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    sy = (start.dt.year - (start.dt.month < 8).astype(int)).to_numpy()
    end_year = sy + n_years
    alt = rng.choice(3, size=len(start), p=[0.6, 0.25, 0.15])  # 31/08, 31/07, 30/06 [D]
    month = np.array([8, 7, 6])[alt]
    day = np.array([31, 31, 30])[alt]
    end = pd.to_datetime({"year": end_year, "month": month, "day": day})
    short = (end < start + pd.DateOffset(months=6)).to_numpy()  # legal minimum: 6 months
    end_year = np.where(short, end_year + 1, end_year)
    end = pd.to_datetime({"year": end_year, "month": month, "day": day})
    return end, end_year


# --- calibration -------------------------------------------------------------------------------------


def calibrate(base9: np.ndarray, factors: dict[str, np.ndarray], *, iterations: int = 60) -> dict:
    """Rake multiplicative relative risks so group 9-month probabilities keep the published ratios.

    ``base9`` is each contract's baseline cumulative hazard over its first 9 months; ``factors``
    maps a factor name to each contract's category. Returns ``{"scale": s, "rr": {factor: {cat: rr}}}``
    such that ``P9_i = 1 - exp(-s * prod(rr) * base9_i)`` averages TARGET_9M_OVERALL.
    """
    codes = {}
    logm = {}
    rel = {}
    for f, values in factors.items():
        cats = sorted(P.TARGETS_9M[f])
        idx = pd.Categorical(values, categories=cats).codes
        if (idx < 0).any():
            raise ValueError(f"calibration: unknown {f} categories {sorted(set(values) - set(cats))}")
        codes[f] = (cats, idx)
        logm[f] = np.zeros(len(cats))
        ht = np.array([-np.log1p(-P.TARGETS_9M[f][c][0]) for c in cats])
        n = np.bincount(idx, minlength=len(cats))
        rel[f] = ht / (ht * n).sum() * n.sum()

    def rr_of() -> np.ndarray:
        return np.exp(sum(logm[f][codes[f][1]] for f in factors))

    def scale_for(rr: np.ndarray) -> float:
        lo, hi = 1e-3, 1e3
        for _ in range(80):
            mid = np.sqrt(lo * hi)
            p = 1 - np.exp(-mid * rr * base9)
            lo, hi = (mid, hi) if p.mean() < P.TARGET_9M_OVERALL else (lo, mid)
        return float(np.sqrt(lo * hi))

    scale = scale_for(rr_of())
    for _ in range(iterations):
        for f in factors:
            cats, idx = codes[f]
            p = 1 - np.exp(-scale * rr_of() * base9)
            n = np.bincount(idx, minlength=len(cats))
            pg = np.bincount(idx, weights=p, minlength=len(cats)) / np.maximum(n, 1)
            hg = -np.log1p(-pg)
            hall = -np.log1p(-p.mean())
            upd = np.where(n > 0, np.log(hall * rel[f] / np.where(hg > 0, hg, 1)), 0.0)
            logm[f] = logm[f] + upd
            # identifiability: weighted mean log-RR of each factor is 0
            logm[f] = logm[f] - (logm[f] * n).sum() / n.sum()
        scale = scale_for(rr_of())
    return {
        "scale": scale,
        "rr": {f: {c: float(np.exp(v)) for c, v in zip(codes[f][0], logm[f], strict=True)} for f in factors},
    }


def apply_rr(model: dict, frame: pd.DataFrame) -> np.ndarray:
    """Relative risk of each contract (without ``scale``) under a calibrated model."""
    rr = np.ones(len(frame))
    for f, table in model["rr"].items():
        rr = rr * frame[f].map(table).to_numpy(dtype=float)
    return rr * np.where(frame["generation"].to_numpy() > 0, P.PRIOR_RUPTURE_RR, 1.0)


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
    sy_list = _school_years(ext, years)
    progs = _programme_frame()

    # 1. starts, CFA and programme of the first contract of each training
    start = _draw_starts(
        rng["starts"], sy_list, max(1, round(contracts_per_year * P.FIRST_CONTRACT_SHARE)), ext
    )
    n = len(start)
    if n < 20:
        raise ParameterError(
            f"only {n} contracts start before the extraction date {ext.date()}",
            hint="raise --contracts-per-year or --years, or move --extraction-date later",
        )
    cfa = _choice(rng["programmes"], list(P.CFA_SHARES), list(P.CFA_SHARES.values()), n)
    prog_idx = np.empty(n, dtype=int)
    for uai in P.CFA_SHARES:
        m = cfa == uai
        cand = progs.index[progs["cfa_uai"] == uai].to_numpy()
        w = progs.loc[cand, "weight"].to_numpy(dtype=float)
        prog_idx[m] = cand[rng["programmes"].choice(len(cand), size=int(m.sum()), p=w / w.sum())]
    pr = progs.loc[prog_idx].reset_index(drop=True)

    # 2. apprentices
    rp = rng["persons"]
    sex = np.where(rp.random(n) < pr["female_share"].to_numpy(), "F", "M")
    ages = np.arange(15, 31)
    age = np.empty(n, dtype=int)
    for g, w in P.AGE_WEIGHTS.items():
        m = pr["level_group"].to_numpy() == g
        age[m] = ages[rp.choice(len(ages), size=int(m.sum()), p=np.asarray(w) / np.sum(w))]
    birth = start - pd.to_timedelta((age * 365.25 + rp.integers(1, 364, n)).astype(int), unit="D")
    persons = _make_persons(rp, sex, birth.dt.normalize())
    # one "last class" per apprentice, so that every file (DECA extract and API) says the same
    persons = persons.assign(last_class=last_class_of(rp, pr["level_group"].to_numpy()))

    # 3. employers, dates
    emp = _employers(rng["employers"], progs, prog_idx)
    end, session = _planned_end(rng["starts"], start, pr["years"].to_numpy())
    sy = start.dt.year - (start.dt.month < 8).astype(int)
    rentree = pd.to_datetime({"year": sy, "month": 9, "day": 1}) + pd.to_timedelta(
        rng["starts"].integers(0, 12, n), unit="D"
    )
    early = start <= pd.to_datetime({"year": sy, "month": 10, "day": 31})
    train_start = rentree.where(early, start)
    ctype = np.where(
        pr["level_group"].isin(["3"]).to_numpy(),
        "11",
        _choice(rng["programmes"], ["11", "21", "22"], [0.75, 0.10, 0.15], n),
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
    c0 = pd.concat([c0, emp.drop(columns="employer_id")], axis=1)

    # 4. hazard model
    horizon = int((c0["planned_end_date"] - c0["start_date"]).dt.days.max()) + 400
    first_day = np.datetime64(f"{sy_list[0]}-08-01")
    n_start_days = int((np.datetime64(ext.date(), "D") - first_day) // np.timedelta64(1, "D")) + 1
    table = HazardTable(first_day, n_start_days, horizon, summer=P.SUMMER_MULTIPLIER)

    def enrich(df: pd.DataFrame) -> pd.DataFrame:
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

    def window_days(df: pd.DataFrame, months: int) -> np.ndarray:
        d = ((df["start_date"] + pd.DateOffset(months=months)) - df["start_date"]).dt.days.to_numpy()
        dur = (df["planned_end_date"] - df["start_date"]).dt.days.to_numpy()
        return np.minimum(d, dur)

    c0 = enrich(c0)
    factor_names = ["level_group", "sector", "employer_size_band", "age_band", "sex"]
    base9 = table.cumulative(table.start_index(c0["start_date"]), window_days(c0, 9))
    model = calibrate(base9, {f: c0[f].to_numpy() for f in factor_names})

    def draw_ruptures(df: pd.DataFrame, rng_h: np.random.Generator) -> pd.DataFrame:
        rr = apply_rr(model, df) * model["scale"]
        s_idx = table.start_index(df["start_date"])
        e = rng_h.exponential(1.0, len(df))
        day = table.draw(s_idx, rr, e)
        dur = (df["planned_end_date"] - df["start_date"]).dt.days.to_numpy()
        broke = (day >= 0) & (day < dur)
        latent = df["start_date"] + pd.to_timedelta(np.where(broke, day, 0), unit="D")
        p = {f"p{h}": 1 - np.exp(-rr * table.cumulative(s_idx, window_days(df, h))) for h in (3, 6, 9, 12)}
        p["p45d"] = 1 - np.exp(-rr * table.cumulative(s_idx, np.minimum(46, dur)))
        return df.assign(rr=rr, latent_rupture_date=latent.where(broke), **p)

    gens = [draw_ruptures(c0, rng["hazard"])]

    # 5. follow-up contracts after a rupture (same apprentice, same training, new employer)
    rr_ = rng["recontract"]
    while len(gens) < 4:
        prev = gens[-1]
        broke = prev["latent_rupture_date"].notna().to_numpy()
        u = rr_.random(len(prev))
        within2 = rr_.random(len(prev)) < P.RECONTRACT_WITHIN_2M_SHARE
        gap = np.where(
            u < P.RECONTRACT_6M,
            np.where(within2, rr_.integers(7, 61, len(prev)), rr_.integers(61, 181, len(prev))),
            rr_.integers(183, 366, len(prev)),
        )
        signs = broke & (u < P.RECONTRACT_6M + P.RECONTRACT_6_12M)
        new_start = prev["latent_rupture_date"] + pd.to_timedelta(gap, unit="D")
        train_end = pd.to_datetime({"year": prev["exam_session"], "month": 6, "day": 15})
        ok = signs & (new_start <= ext).to_numpy() & (new_start < train_end).to_numpy()
        if not ok.any():
            break
        sub = prev.loc[ok]
        k = len(sub)
        new_emp = _employers(rng["employers"], progs, sub["programme"].to_numpy())
        ns = new_start[ok].reset_index(drop=True)
        old_end = sub["planned_end_date"].reset_index(drop=True)
        nend = old_end.where(old_end >= ns + pd.DateOffset(months=6), ns + pd.DateOffset(months=6))
        nxt = pd.DataFrame(
            {
                "chain_id": sub["chain_id"].to_numpy(),
                "person_id": sub["person_id"].to_numpy(),
                "generation": sub["generation"].to_numpy() + 1,
                "contract_type": np.where(rr_.random(k) < P.RECONTRACT_TYPE_23_SHARE, "23", "22"),
                "prev_index": sub.index.to_numpy(),  # index within the previous generation (resolved below)
                "programme": sub["programme"].to_numpy(),
                "start_date": ns,
                "planned_end_date": nend,
                "exam_session": sub["exam_session"].to_numpy(),
                "training_start_date": sub["training_start_date"].to_numpy(),
            }
        )
        nxt = pd.concat([nxt, new_emp.drop(columns="employer_id")], axis=1)
        gens.append(draw_ruptures(enrich(nxt), rng["hazard"]))

    # global ordering and ids
    offsets = np.cumsum([0] + [len(g) for g in gens[:-1]])
    parts = []
    for gen, prev_off in zip(gens, [0, *offsets[:-1]], strict=True):
        parts.append(gen.assign(prev_row=np.where(gen["prev_index"] >= 0, gen["prev_index"] + prev_off, -1)))
    ct = pd.concat(parts, ignore_index=True).drop(columns="prev_index")

    # 6. exams (one sitting per training) and ruptures after the diploma
    ct, exams = _exams_and_post_diploma(ct, persons, ext, rng["exam"], rng["postdiploma"])

    # observed at the extraction date
    ct = ct.assign(rupture_date=ct["latent_rupture_date"].where(ct["latent_rupture_date"] <= ext))
    ct = _reasons(ct, rng["reasons"])
    # signature date, contract number (dep 041 + year-month of signature + sequence: 15 digits)
    sig = ct["start_date"] - pd.to_timedelta(rng["starts"].integers(0, 31, len(ct)), unit="D")
    order = np.lexsort((np.arange(len(ct)), sig.to_numpy()))
    seq = np.empty(len(ct), dtype=int)
    seq[order] = np.arange(len(ct)) + 1
    ct = ct.assign(
        signature_date=sig,
        contract_id=["041" + d.strftime("%Y%m") + f"{s:06d}" for d, s in zip(sig, seq, strict=True)],
    )
    ct = ct.assign(
        prev_contract_id=np.where(ct["prev_row"] >= 0, ct["contract_id"].to_numpy()[ct["prev_row"]], None)  # type: ignore[call-overload]
    )
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
    drawn = _choice(rng, other, w, len(ct))
    reason = np.where(ct["rupture_for_diploma"], "diplome", np.where(days.to_numpy() < 46, "essai", drawn))
    return ct.assign(rupture_reason=np.where(ct["latent_rupture_date"].notna(), reason, None))  # type: ignore[call-overload]
