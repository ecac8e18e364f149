"""The synthetic population: school-year starts, programmes, apprentices (names, addresses, contact
details) and employers (NAF, size, SIRET), drawn from the catalogue (``_catalog``) and the
calibrated parameters (``_params``). No rupture model here (``_hazard``), no file formats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample import _params as P


def choice(rng: np.random.Generator, keys: list, weights, size: int) -> np.ndarray:
    """``size`` draws among ``keys`` with (unnormalised) ``weights``, as an object array."""
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


# --- starts and programmes ---------------------------------------------------------------------


def school_years(extraction: pd.Timestamp, years: int) -> list[int]:
    """First calendar year of the ``years`` school years ending with the one of ``extraction``."""
    current = extraction.year if extraction.month >= 8 else extraction.year - 1
    return list(range(current - years + 1, current + 1))


def draw_starts(
    rng: np.random.Generator, sy_list: list[int], per_year: int, extraction: pd.Timestamp
) -> pd.Series:
    """``per_year`` start dates per school year, by the national monthly profile, up to ``extraction``."""
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


def programme_frame() -> pd.DataFrame:
    """The catalogue's programmes with diploma family, level, CERFA type and level group."""
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


# --- apprentices -------------------------------------------------------------------------------


def _names(rng: np.random.Generator, sex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(sex)
    sw = 1.0 / np.arange(1, len(cat.SURNAMES) + 1) ** 0.5  # Zipf-like: homonyms exist, as in reality
    surname = choice(rng, list(cat.SURNAMES), sw, n)
    fm = choice(rng, list(cat.FIRST_NAMES_M), 1.0 / np.arange(1, len(cat.FIRST_NAMES_M) + 1) ** 0.4, n)
    ff = choice(rng, list(cat.FIRST_NAMES_F), 1.0 / np.arange(1, len(cat.FIRST_NAMES_F) + 1) ** 0.4, n)
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
    zone = choice(rng, list(P.TERRITORY_SHARES), list(P.TERRITORY_SHARES.values()), n)
    postcode = np.empty(n, dtype=object)
    for z in P.TERRITORY_SHARES:
        m = zone == z
        if z == "hors_41":
            postcode[m] = choice(
                rng, list(P.OUTSIDE_POSTCODES), np.ones(len(P.OUTSIDE_POSTCODES)), int(m.sum())
            )
            continue
        codes = terr.loc[terr["territory"] == z, "postcode"].tolist()
        main, share = P.MAIN_TOWN_SHARE[z]
        w = np.array([share if c == main else (1 - share) / (len(codes) - 1) for c in codes])
        postcode[m] = choice(rng, codes, w, int(m.sum()))
    names = dict(zip(terr["postcode"], terr["commune"], strict=True)) | P.OUTSIDE_POSTCODES
    commune = np.array([names[c] for c in postcode], dtype=object)
    return postcode, commune


def last_class_of(rng: np.random.Generator, level_group: np.ndarray) -> np.ndarray:
    """CERFA "dernière classe" code before the apprenticeship, by level group [D] (FORMATS §2)."""
    n = len(level_group)
    young = choice(rng, ["40", "41", "01", "12", "22"], [0.35, 0.2, 0.15, 0.15, 0.15], n)
    older = choice(rng, ["01", "21", "22", "12", "31"], [0.6, 0.15, 0.1, 0.1, 0.05], n)
    return np.where(level_group == "3", young, older)


def make_persons(rng: np.random.Generator, sex: np.ndarray, birth: pd.Series) -> pd.DataFrame:
    """One apprentice per row: name, birth, contact details, address (``person_id`` 0..n-1)."""
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
    domain = choice(rng, list(cat.EMAIL_DOMAINS), [0.45, 0.15, 0.1, 0.08, 0.1, 0.06, 0.06], n)
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
            "birth_departement": choice(
                rng, list(cat.BIRTH_DEPARTEMENTS), list(cat.BIRTH_DEPARTEMENTS.values()), n
            ),
            "nationality": choice(rng, ["1", "2", "3"], [0.93, 0.03, 0.04], n),
            "rqth": rng.random(n) < 0.03,
            "ine": np.where(rng.random(n) < 0.9, np.array(ine, dtype=object), None),  # type: ignore[call-overload]
            "phone": phone,
            "email": email.to_numpy(dtype=object, na_value=None),  # type: ignore[call-overload]
            "address_number": np.where(rng.random(n) < 0.85, rng.integers(1, 120, n).astype(str), None),  # type: ignore[call-overload]
            "street": choice(rng, list(cat.STREETS), np.ones(len(cat.STREETS)), n),
            "postcode": postcode,
            "commune": commune,
        }
    )


# --- employers and planned ends -----------------------------------------------------------------


def employers(rng: np.random.Generator, progs: pd.DataFrame, prog_idx: np.ndarray) -> pd.DataFrame:
    """Employer of each contract: NAF by programme, size by trade profile, SIRET pool per NAF x size."""
    n = len(prog_idx)
    naf = np.empty(n, dtype=object)
    band = np.empty(n, dtype=object)
    for i, row in progs.iterrows():
        m = prog_idx == i
        k = int(m.sum())
        if not k:
            continue
        naf[m] = choice(rng, list(row["naf"]), list(row["naf"].values()), k)
        band[m] = choice(rng, list(P.SIZE_BAND_BOUNDS), P.SIZE_PROFILES[row["size_profile"]], k)
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
    emp_pc = choice(rng, terr["postcode"].tolist(), np.ones(len(terr)), n_emp)
    emp_surname = choice(rng, list(cat.SURNAMES), np.ones(len(cat.SURNAMES)), n_emp)
    uniq_keys = [str(k) for k in uniq]
    word = np.array([cat.EMPLOYER_WORD.get(uniq_keys[g][:4], "ETS") for g in emp_group], dtype=object)
    form = choice(rng, ["SARL ", "SAS ", "", "EURL "], [0.35, 0.3, 0.25, 0.1], n_emp)
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


def planned_end(
    rng: np.random.Generator, start: pd.Series, n_years: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    """Planned end (end of the programme's last school year, at least 6 months) and exam session year."""
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
