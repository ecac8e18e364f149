"""Synthetic DECA flat extracts at national scale, for the benchmarks.

Writes ``Export_Init_TBA_<YYYYMMDDhhmm>.csv`` in the real DECA "stock" format (docs/reference/FORMATS.md §1.2 c):
delimiter ``,``, lowercase glued headers, ISO dates, booleans ``true``/``false``, codes as text with
their leading zeros — the TBA columns plus the LBA columns ``typediplome``, ``siretemployeur``,
``naf``, ``nombredesalaries``, ``dispositif`` (no ``courrielemployeur``/``denomination``, so
``adressecodepostal``/``telephone`` are the apprentice's), exactly like the synthetic sample.

The simulator is vectorised (numpy) and the file is written in chunks (pyarrow CSV writer), so
5 million contracts take a few minutes and a bounded amount of memory (one chunk at a time). Each
chunk is simulated from its own seed (``seed``, chunk index), so the file is deterministic.

What it simulates, per chunk of contracts (national scale, not Loir-et-Cher):

* starts over ``years`` school years before ``as_of``, with the national monthly start profile
  (docs/reference/DOMAIN.md row 53: September peak); planned duration 12, 24 or 36 months by diploma level;
* diploma level/family from the shipped CFD prefix table, sector from the shipped NAF table, employer
  size, age, sex; a rupture hazard that depends on level, sector and size, concentrated early in the
  contract (a third of ruptures within 45 days), with a summer bump; ruptures after ``as_of`` are not
  known (blank, as in a real extract);
* about 4 in 10 broken contracts followed by a new contract (``typecontrat`` 21-23) of the same
  apprentice (same name and birth date) within 6 months, so the apprentice linking has work to do;
* a pool of CFAs (UAIs with valid check letters) that grows with the size, and employer SIRETs
  (mostly valid Luhn numbers);
* defects at known rates: exact duplicate rows (~1 %), amendments as extra rows (``typecontrat`` 3x,
  ~5 %), missing NAF (~2 %), ``Annulé`` contracts (~0.5 %), ruptures before start (~0.2 %).

``n_contracts`` counts distinct contracts; the file has about 6 % more data lines (duplicates and
amendments).

Example
-------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     res = generate_extract(Path(d), 300, seed=1)
...     header = res.path.read_text(encoding="utf-8").splitlines()[0]
>>> res.path.name, res.n_contracts, res.n_rows > res.n_contracts, header.split(",")[:3]
('Export_Init_TBA_202511300600.csv', 300, True, ['nom', 'prenom', 'sexe'])
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from aioa_analysis.core.referential import diploma_prefixes, load_table, territories
from benchmarks.measure import write_info

#: Columns of the extract, in file order (TBA columns, then the LBA ones the sample also writes).
HEADER: tuple[str, ...] = (
    "nom",
    "prenom",
    "sexe",
    "datenaissance",
    "departementnaissance",
    "nationalite",
    "handicap",
    "courriel",
    "telephone",
    "adressenumero",
    "adressevoie",
    "adressecodepostal",
    "derniereclasse",
    "datedebutformation",
    "datefinformation",
    "codediplome",
    "intituleouqualification",
    "rncp",
    "siret",
    "uaicfa",
    "siretcfa",
    "dateeffetrupture",
    "nocontrat",
    "datedebutcontrat",
    "datefincontrat",
    "dateeffetavenant",
    "noavenant",
    "statut",
    "flagcorrection",
    "typecontrat",
    "datesuppression",
    "rupture_avant_debut",
    "codeidcc",
    "typediplome",
    "siretemployeur",
    "naf",
    "nombredesalaries",
    "dispositif",
)

GENERATOR_VERSION = 2  # 2: diploma and NAF codes drawn from realistic pools
"""Bumped when the simulated content changes (invalidates cached files)."""

DEFAULT_AS_OF = "2025-11-30"

# National starts by calendar month, 2024 (docs/reference/DOMAIN.md row 53, POEM), Jan..Dec.
_MONTHLY_STARTS = np.array(
    [27323, 18731, 15570, 13566, 9071, 12503, 49463, 110446, 458061, 89397, 47545, 38529], dtype=float
)
# Diploma levels: share of starts, duration in months, 9-month-ish rupture propensity (docs/reference/DOMAIN.md
# rows 13-15: CAP ~29 %, bac ~22 %, bac+2 ~26 %, higher ed ~18 %), scaled to a whole-contract hazard.
_LEVELS = {
    "3": (0.30, 24, 0.34),
    "4": (0.20, 24, 0.27),
    "5": (0.25, 24, 0.25),
    "6": (0.15, 12, 0.19),
    "7": (0.10, 24, 0.15),
}
# Sector multipliers on the rupture propensity (hotel-restaurant and hairdressing highest).
_SECTOR_RISK = {
    "hebergement_restauration": 1.45,
    "coiffure_esthetique": 1.35,
    "commerce": 1.1,
    "construction": 1.05,
    "industries_alimentaires": 1.15,
    "agriculture": 1.0,
    "public_enseignement_sante": 0.75,
    "finance_assurance": 0.7,
    "information_communication": 0.8,
}
_SIZES = np.array([2, 7, 25, 120, 800])  # representative headcount of each size band
_DIPLOMAS_PER_PREFIX = 300  # distinct diploma codes per CFD prefix
_SIZE_P = np.array([0.35, 0.18, 0.22, 0.12, 0.13])
_SIZE_RISK = np.array([1.15, 1.05, 1.0, 0.9, 0.85])
_FIRST_NAMES = np.array(
    "LUCAS HUGO LOUIS GABRIEL ARTHUR JULES ADAM RAPHAEL LEO NATHAN TOM THEO MAEL ETHAN NOAH PAUL ENZO "  # noqa: SIM905 (a word list)
    "MATHIS SACHA MOHAMED YANIS AXEL KYLIAN ROMAIN THOMAS MAXIME ALEXIS CLEMENT VALENTIN QUENTIN EMMA "
    "JADE LOUISE ALICE CHLOE LINA LEA MILA ROSE ANNA INES JULIA ZOE AMBRE LENA MANON CAMILLE SARAH "
    "LOLA EVA CLARA LOU NINA JEANNE OCEANE MARIE LAURA PAULINE MARGAUX ELISA JUSTINE ANAIS".split()
)
_SYLLABLES = np.array(
    "MAR TIN BER NARD DU BOIS LE ROY MO REAU FOU RNI GI RAR LAM BERT BON NET FRAN COIS MER CIER BLAN "  # noqa: SIM905
    "CHARD GAR NIER FAU RE ROUS SEL CHE VAL LIER PE TIT DAV ID VIN CENT GUE RIN BOU CHER RO BIN LAN "
    "GLOIS CAR PEN TIER RI VIE BAR BIER AN DRE LEF EBVRE".split()
)
_VOIES = np.array(
    [
        "RUE DE LA REPUBLIQUE",
        "AVENUE JEAN JAURES",
        "RUE VICTOR HUGO",
        "PLACE DE LA MAIRIE",
        "CHEMIN DES VIGNES",
        "RUE DU MOULIN",
        "ALLEE DES TILLEULS",
        "BOULEVARD GAMBETTA",
    ]
)
_DEPTS = np.array([f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B", "971", "972", "974"])
_NUM_DEPTS = np.array([f"{d:02d}" for d in range(1, 96)])  # postcodes and contract numbers
_UAI_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))


@dataclass(frozen=True)
class GeneratedExtract:
    """A generated extract: where it is and what it holds."""

    path: Path
    n_contracts: int
    n_rows: int
    seed: int
    as_of: str
    seconds: float
    bytes: int


def extract_name(as_of: str) -> str:
    """DECA extract file name for an extraction on ``as_of`` at 06:00.

    >>> extract_name("2025-11-30")
    'Export_Init_TBA_202511300600.csv'
    """
    return f"Export_Init_TBA_{pd.Timestamp(as_of):%Y%m%d}0600.csv"


def _zfill(a: np.ndarray, width: int) -> np.ndarray:
    """``np.strings.zfill`` that also accepts an empty array."""
    a = np.asarray(a)
    if a.dtype.kind not in "US":
        a = a.astype(str)
    return np.strings.zfill(a, width) if a.size else a.astype(f"U{width}")


def _luhn_complete(body: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of a (n, k) digit matrix -> (n, k + 1)."""
    k = body.shape[1]
    # weights from the right of the full 14-digit number: check digit weight 1, then 2, 1, ...
    double = np.arange(k)[::-1] % 2 == 0  # positions doubled (rightmost body digit is doubled)
    d = body.copy()
    d[:, double] *= 2
    d = np.where(d > 9, d - 9, d)
    check = (10 - d.sum(axis=1) % 10) % 10
    return np.concatenate([body, check[:, None]], axis=1)


def _digits_to_str(mat: np.ndarray) -> np.ndarray:
    """(n, k) digit matrix -> array of k-character strings."""
    return mat.astype(np.uint8).__add__(ord("0")).view(f"S{mat.shape[1]}").ravel().astype(str)


def _sirets(rng: np.random.Generator, n: int, *, valid_share: float = 0.99) -> np.ndarray:
    """SIRETs: a Luhn-valid SIREN (9 digits), a NIC, a Luhn check digit; ``1 - valid_share`` broken."""
    siren = _luhn_complete(
        np.concatenate([rng.integers(1, 10, size=(n, 1)), rng.integers(0, 10, size=(n, 7))], 1)
    )
    full = _luhn_complete(np.concatenate([siren, rng.integers(0, 10, size=(n, 4))], axis=1))
    bad = rng.random(n) > valid_share
    full[bad, -1] = (full[bad, -1] + 1) % 10
    return _digits_to_str(full)


def _uais(rng: np.random.Generator, n: int) -> np.ndarray:
    dept = rng.integers(1, 96, size=n)
    serial = rng.integers(0, 100_000, size=n)
    num = dept * 100_000 + serial
    first7 = _zfill(num.astype(str), 7)
    return np.strings.add(first7, _UAI_LETTERS[num % 23])


def _iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar month addition on datetime64[D] (day clipped to the month's end)."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m).astype(int)
    target = m + months.astype("timedelta64[M]")
    last = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(int)
    return target.astype("datetime64[D]") + np.minimum(dom, last - 1).astype("timedelta64[D]")


class _Tables:
    """Shipped referential tables, prepared once."""

    def __init__(self) -> None:
        cfd = diploma_prefixes()
        cfd = cfd[cfd["level"].isin(list(_LEVELS))]
        self.cfd_by_level = {lvl: cfd.loc[cfd["level"] == lvl] for lvl in _LEVELS}
        sectors = load_table("sectors.csv")
        div = sectors[sectors["naf_prefix"].str.len() == 2]
        self.naf_div = div["naf_prefix"].to_numpy()
        self.naf_sector = div["sector"].to_numpy()
        risk = np.array([_SECTOR_RISK.get(s, 1.0) for s in self.naf_sector])
        # weights: tertiary and construction dominate apprenticeship
        w = np.ones(len(self.naf_div))
        for i, s in enumerate(self.naf_sector):
            w[i] = {
                "commerce": 8,
                "hebergement_restauration": 10,
                "construction": 12,
                "industries_alimentaires": 8,
                "services_entreprises": 3,
                "autres_services": 2,
            }.get(s, 1)
        self.naf_p = w / w.sum()
        self.naf_risk = risk
        self.postcodes_41 = territories()["postcode"].to_numpy()


@dataclass
class _Contracts:
    """The simulated contracts of one chunk (first contracts, then follow-ups), one value each."""

    m: int  # first contracts, one per person; the follow-ups come after them
    level: np.ndarray
    start: np.ndarray
    planned_end: np.ndarray
    rdate: np.ndarray
    known: np.ndarray  # rupture known on as_of (or a rupture before start)
    rbs: np.ndarray  # rupture before start (defect)
    naf_i: np.ndarray
    size_i: np.ndarray
    person: np.ndarray
    ctype: np.ndarray

    @property
    def total(self) -> int:
        return len(self.start)


def _rupture(rng: np.random.Generator, tables: _Tables, start_d, level_a, naf_a, size_a):
    """Planned duration and end, whether a rupture happens before the planned end, and its date."""
    k = len(start_d)
    dur = np.select([level_a == lv for lv in _LEVELS], [v[1] for v in _LEVELS.values()], 24)
    base = np.select([level_a == lv for lv in _LEVELS], [v[2] for v in _LEVELS.values()], 0.3)
    p = np.clip(base * tables.naf_risk[naf_a] * _SIZE_RISK[size_a], 0, 0.9)
    planned_end = _add_months(start_d, dur) - np.timedelta64(1, "D")
    will = rng.random(k) < p
    early = rng.random(k) < 0.33
    t = np.where(early, rng.integers(0, 46, size=k), 46 + rng.exponential(170, size=k).astype(int))
    rdate = start_d + t.astype("timedelta64[D]")
    # summer bump: some late-spring ruptures slide into July/August
    month = rdate.astype("datetime64[M]").astype(int) % 12
    slide = (month == 5) & (rng.random(k) < 0.5)
    rdate = np.where(slide, rdate + np.timedelta64(30, "D"), rdate)
    happened = will & (rdate < planned_end)
    return dur, planned_end, happened, rdate


def _contracts(
    rng: np.random.Generator, n: int, *, offset: int, as_of: np.datetime64, years: int, tables: _Tables
) -> _Contracts:
    """First contracts, then the follow-ups of 40 % of the ruptures, with their dates."""
    p_recontract = 0.4
    m = int(np.ceil(n / (1 + 0.3 * p_recontract)))
    level_keys = np.array(list(_LEVELS))
    level_p = np.array([v[0] for v in _LEVELS.values()])
    level = rng.choice(level_keys, size=m, p=level_p / level_p.sum())
    as_of_m = as_of.astype("datetime64[M]")
    # start month: years*12 months before as_of, weighted by the national monthly profile
    months_back = np.arange(years * 12, 0, -1)
    month_list = as_of_m - months_back.astype("timedelta64[M]")
    mw = _MONTHLY_STARTS[(month_list.astype(int) % 12)]
    start_m = rng.choice(month_list, size=m, p=mw / mw.sum())
    mdays = (
        (start_m + np.timedelta64(1, "M")).astype("datetime64[D]") - start_m.astype("datetime64[D]")
    ).astype(int)
    start = start_m.astype("datetime64[D]") + (rng.random(m) * mdays).astype("timedelta64[D]")
    person = np.arange(m) + offset
    naf_i = rng.choice(len(tables.naf_div), size=m, p=tables.naf_p)
    size_i = rng.choice(len(_SIZES), size=m, p=_SIZE_P)
    _, planned_end, happened, rdate = _rupture(rng, tables, start, level, naf_i, size_i)
    # --- follow-ups: 40 % of ruptures (known or not yet) give a new contract within 180 days --------
    fu = np.flatnonzero(happened & (rng.random(m) < p_recontract))
    fu = fu[: max(0, n - m)]
    f_start = rdate[fu] + rng.integers(1, 181, size=len(fu)).astype("timedelta64[D]")
    keep = f_start <= as_of
    fu, f_start = fu[keep], f_start[keep]
    k = len(fu)
    total = m + k
    level = np.concatenate([level, level[fu]])
    naf_f = np.where(rng.random(k) < 0.6, naf_i[fu], rng.choice(len(tables.naf_div), size=k, p=tables.naf_p))
    size_f = rng.choice(len(_SIZES), size=k, p=_SIZE_P)
    _, pe_f, hap_f, rd_f = _rupture(rng, tables, f_start, level[m:], naf_f, size_f)
    start = np.concatenate([start, f_start])
    happened = np.concatenate([happened, hap_f])
    rdate = np.concatenate([rdate, rd_f])
    same_employer = naf_f == naf_i[fu]
    known = happened & (rdate <= as_of)
    # rupture before start (defect, ~0.2 %)
    rbs = rng.random(total) < 0.002
    rdate = np.where(rbs, start - rng.integers(1, 20, size=total).astype("timedelta64[D]"), rdate)
    return _Contracts(
        m=m,
        level=level,
        start=start,
        planned_end=np.concatenate([planned_end, pe_f]),
        rdate=rdate,
        known=known | rbs,
        rbs=rbs,
        naf_i=np.concatenate([naf_i, naf_f]),
        size_i=np.concatenate([size_i, size_f]),
        person=np.concatenate([person, person[fu]]),
        ctype=np.concatenate([np.full(m, "11"), np.where(same_employer, "21", "23")]),
    )


def _people(prng: np.random.Generator, first_start: np.ndarray, tables: _Tables) -> dict[str, np.ndarray]:
    """Identities, one per person (the follow-ups carry the same name and birth date)."""
    n_people = len(first_start)
    syl = len(_SYLLABLES)
    sur_idx = prng.integers(0, syl, size=(n_people, 3))
    two = prng.random(n_people) < 0.5
    surname = np.strings.add(
        np.strings.add(_SYLLABLES[sur_idx[:, 0]], _SYLLABLES[sur_idx[:, 1]]),
        np.where(two, "", _SYLLABLES[sur_idx[:, 2]]),
    )
    sex = prng.random(n_people) < 0.33  # True = F (about a third of apprentices are women)
    fn = np.where(
        sex, prng.integers(30, len(_FIRST_NAMES), size=n_people), prng.integers(0, 30, size=n_people)
    )
    first = _FIRST_NAMES[fn]
    age = np.where(
        prng.random(n_people) < 0.55,
        prng.integers(15, 20, size=n_people),
        prng.integers(20, 30, size=n_people),
    )
    birth = first_start - (age * 365.25 + prng.integers(0, 365, size=n_people)).astype("timedelta64[D]")
    in41 = prng.random(n_people) < 0.02
    postcode = np.where(
        in41,
        tables.postcodes_41[prng.integers(0, len(tables.postcodes_41), size=n_people)],
        np.strings.add(
            _NUM_DEPTS[prng.integers(0, 95, size=n_people)],
            _zfill((prng.integers(0, 100, size=n_people) * 10).astype(str), 3),
        ),
    )
    phone = np.strings.add("06", _zfill(prng.integers(0, 10**8, size=n_people).astype(str), 8))
    email = np.strings.add(
        np.strings.add(np.strings.lower(first), "."), np.strings.add(np.strings.lower(surname), "@exemple.fr")
    )
    return {
        "nom": surname,
        "prenom": first,
        "sexe": np.where(sex, "F", "H"),
        "datenaissance": _iso(birth),
        "courriel": email,
        "telephone": phone,
        "adressecodepostal": postcode,
    }


def _diplomas(rng: np.random.Generator, level: np.ndarray, tables: _Tables) -> tuple[np.ndarray, ...]:
    """Diploma code, CERFA diploma type and title of each contract, from its level."""
    total = len(level)
    code = np.empty(total, dtype="U8")
    tdip = np.empty(total, dtype="U2")
    title = np.empty(total, dtype=object)
    for lv, tab in tables.cfd_by_level.items():
        idx = np.flatnonzero(level == lv)
        j = rng.integers(0, len(tab), size=len(idx))
        pref = tab["prefix"].to_numpy()[j].astype("U3")
        # a few hundred diplomas per prefix (France has ~15,000 CFD codes in use, not one per contract)
        suffix = (rng.integers(0, _DIPLOMAS_PER_PREFIX, size=len(idx)) * 331) % 100_000
        code[idx] = np.strings.add(pref, _zfill(suffix.astype(str), 5))
        tdip[idx] = tab["diploma_type_cerfa"].to_numpy()[j]
        title[idx] = tab["label"].to_numpy()[j]
    return code, tdip, title.astype(str)


def _simulate(
    rng: np.random.Generator,
    n: int,
    *,
    offset: int,
    as_of: np.datetime64,
    years: int,
    tables: _Tables,
    n_cfa: int,
    cfa_seed: int,
) -> tuple[dict[str, np.ndarray], int]:
    """Simulate ``n`` contracts (first contracts plus follow-ups); returns columns and the row count."""
    c = _contracts(rng, n, offset=offset, as_of=as_of, years=years, tables=tables)
    people = _people(np.random.default_rng([cfa_seed, 99, offset]), c.start[: c.m], tables)
    pid = c.person - offset  # index of the person (= of the person's first contract) in this chunk
    total = c.total
    # --- CFAs, diplomas, employers -------------------------------------------------------------------
    cfa_pool = _uais(np.random.default_rng([cfa_seed, 7]), n_cfa)
    cfa_siret_pool = _sirets(np.random.default_rng([cfa_seed, 8]), n_cfa, valid_share=1.0)
    cfa_w = np.random.default_rng([cfa_seed, 9]).pareto(1.5, size=n_cfa) + 1
    cfa_i = rng.choice(n_cfa, size=total, p=cfa_w / cfa_w.sum())
    code, tdip, title = _diplomas(rng, c.level, tables)
    naf = np.strings.add(
        tables.naf_div[c.naf_i].astype("U2"),
        np.strings.add(
            # ~10 classes per division (NAF rev. 2 has 732 sub-classes; ~4,000 codes here)
            _zfill((rng.integers(1, 10, size=total) * 10).astype(str), 2),
            _UAI_LETTERS[rng.integers(0, 5, size=total)],
        ),
    )
    naf = np.where(rng.random(total) < 0.02, "", naf)
    headcount = (_SIZES[c.size_i] * rng.uniform(0.5, 1.5, size=total)).astype(int).clip(1)
    emp_siret = _sirets(rng, total)
    # 15 digits like DECA's: département (3) + year of start (4) + serial (8)
    dept3 = _zfill(_NUM_DEPTS[rng.integers(0, 95, size=total)], 3)
    serial = _zfill((np.arange(total) + offset).astype(str), 8)
    contract_no = np.strings.add(np.strings.add(dept3, c.start.astype("datetime64[Y]").astype(str)), serial)
    status = np.where(c.known & ~c.rbs, "Rompu", "")
    status = np.where(rng.random(total) < 0.005, "Annulé", status)
    empty = np.full(total, "", dtype="U1")
    person = {k: v[pid] for k, v in people.items()}
    cols: dict[str, np.ndarray] = {
        **{k: person[k] for k in ("nom", "prenom", "sexe", "datenaissance")},
        "departementnaissance": _zfill(_DEPTS[rng.integers(0, len(_DEPTS), size=total)].astype("U3"), 3),
        "nationalite": rng.choice(np.array(["1", "2", "3"]), size=total, p=[0.93, 0.03, 0.04]),
        "handicap": np.where(rng.random(total) < 0.02, "true", "false"),
        "courriel": person["courriel"],
        "telephone": person["telephone"],
        "adressenumero": rng.integers(1, 120, size=total).astype(str),
        "adressevoie": _VOIES[rng.integers(0, len(_VOIES), size=total)],
        "adressecodepostal": person["adressecodepostal"],
        "derniereclasse": rng.choice(np.array(["01", "11", "12", "21", "22", "31", "40"]), size=total),
        "datedebutformation": _iso(c.start - rng.integers(0, 30, size=total).astype("timedelta64[D]")),
        "datefinformation": _iso(c.planned_end - rng.integers(0, 60, size=total).astype("timedelta64[D]")),
        "codediplome": code,
        "intituleouqualification": title,
        "rncp": np.strings.add("RNCP", rng.integers(10000, 40000, size=total).astype(str)),
        "siret": cfa_siret_pool[cfa_i],
        "uaicfa": cfa_pool[cfa_i],
        "siretcfa": cfa_siret_pool[cfa_i],
        "dateeffetrupture": np.where(c.known, _iso(c.rdate), ""),
        "nocontrat": contract_no,
        "datedebutcontrat": _iso(c.start),
        "datefincontrat": _iso(c.planned_end),
        "dateeffetavenant": empty,
        "noavenant": empty,
        "statut": status,
        "flagcorrection": np.where(rng.random(total) < 0.01, "true", "false"),
        "typecontrat": c.ctype,
        "datesuppression": empty,
        "rupture_avant_debut": np.where(c.rbs, "true", "false"),
        "codeidcc": _zfill(rng.integers(1, 3000, size=total).astype(str), 4),
        "typediplome": tdip,
        "siretemployeur": emp_siret,
        "naf": naf,
        "nombredesalaries": headcount.astype(str),
        "dispositif": np.full(total, "APPR"),
    }
    return _with_defects(rng, cols, c.start), total


def _with_defects(
    rng: np.random.Generator, cols: dict[str, np.ndarray], start: np.ndarray
) -> dict[str, np.ndarray]:
    """Amendment rows (~5 %) and exact duplicate rows (~1 %) added, then the rows shuffled."""
    total = len(start)
    amend = np.flatnonzero(rng.random(total) < 0.05)
    dup = np.flatnonzero(rng.random(total) < 0.01)
    if len(amend):
        eff = start[amend] + rng.integers(30, 200, size=len(amend)).astype("timedelta64[D]")
        extra = {c: v[amend] for c, v in cols.items()}
        extra["typecontrat"] = rng.choice(np.array(["31", "33", "35", "36", "37"]), size=len(amend))
        extra["dateeffetavenant"] = _iso(eff)
        extra["noavenant"] = np.strings.add(cols["nocontrat"][amend], "01")
    order = np.concatenate([np.arange(total), dup])
    out = {c: v[order] for c, v in cols.items()}
    if len(amend):
        out = {c: np.concatenate([out[c].astype(str), extra[c].astype(str)]) for c in out}
    # shuffle rows so duplicates and amendments are not adjacent to their contract
    perm = rng.permutation(len(out["nom"]))
    return {c: v[perm] for c, v in out.items()}


def _write_chunk(cols: dict[str, np.ndarray], fh) -> int:
    table = pa.table({c: pa.array(cols[c].astype(str)) for c in HEADER})
    pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return table.num_rows


def generate_extract(
    out_dir: Path,
    n_contracts: int,
    *,
    seed: int = 41,
    as_of: str = DEFAULT_AS_OF,
    years: int = 5,
    chunk_size: int = 100_000,
    reuse: bool = False,
) -> GeneratedExtract:
    """Write a synthetic DECA extract of ``n_contracts`` contracts into ``out_dir``.

    Parameters
    ----------
    out_dir : folder created if needed; the file is ``Export_Init_TBA_<as_of>0600.csv`` (see
        :func:`extract_name`) and a ``_generated.json`` sidecar describes it.
    n_contracts : distinct contracts (the file has ~6 % more lines: duplicates and amendments).
    seed : base seed; chunk ``i`` is simulated from ``(seed, i)``.
    as_of : extraction date (starts are before it; ruptures after it are blank).
    years : school years of starts before ``as_of``.
    chunk_size : contracts simulated and written at a time (bounds the memory).
    reuse : when the sidecar says the same file (same n, seed, as_of, years, chunk size, version)
        already exists, return it without regenerating.
    """
    if n_contracts < 1:
        raise ValueError("n_contracts must be positive")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / extract_name(as_of)
    meta_path = out_dir / "_generated.json"
    wanted = {
        "n_contracts": n_contracts,
        "seed": seed,
        "as_of": as_of,
        "years": years,
        "chunk_size": chunk_size,
        "version": GENERATOR_VERSION,
    }
    if reuse and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in wanted} == wanted:
            return GeneratedExtract(
                path=path,
                n_contracts=n_contracts,
                n_rows=int(meta["n_rows"]),
                seed=seed,
                as_of=as_of,
                seconds=float(meta["seconds"]),
                bytes=path.stat().st_size,
            )
    t0 = time.perf_counter()
    tables = _Tables()
    as_of_d = np.datetime64(pd.Timestamp(as_of).date(), "D")
    n_cfa = int(max(30, min(3000, n_contracts // 300)))
    tmp = path.with_suffix(".csv.tmp")
    n_rows = 0
    done = 0
    with open(tmp, "wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode("utf-8"))
        chunk = 0
        while done < n_contracts:
            want = min(chunk_size, n_contracts - done)
            rng = np.random.default_rng([seed, chunk])
            cols, made = _simulate(
                rng, want, offset=done, as_of=as_of_d, years=years, tables=tables, n_cfa=n_cfa, cfa_seed=seed
            )
            n_rows += _write_chunk(cols, fh)
            done += made
            chunk += 1
    tmp.replace(path)
    seconds = time.perf_counter() - t0
    meta_path.write_text(
        json.dumps({**wanted, "n_contracts_made": done, "n_rows": n_rows, "seconds": seconds}, indent=2),
        encoding="utf-8",
    )
    return GeneratedExtract(
        path=path,
        n_contracts=done,
        n_rows=n_rows,
        seed=seed,
        as_of=as_of,
        seconds=seconds,
        bytes=path.stat().st_size,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.generate --n 100000 --out benchmarks/_data/n100000``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of contracts")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep an identical existing file")
    args = parser.parse_args(argv)
    res = generate_extract(
        args.out,
        args.n,
        seed=args.seed,
        as_of=args.as_of,
        years=args.years,
        chunk_size=args.chunk_size,
        reuse=args.reuse,
    )
    info = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(res).items()}
    write_info(info)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
