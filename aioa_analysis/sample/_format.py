"""Cell formatting shared by the sample's file writers (names, dates, codes, CSV bytes).

Each ``build_*`` writer (``_deca``, ``_tba``, ``_sifa``, ``_chamber``, ``_exams``) returns the file's
bytes plus its part of the ground truth (``records``, defect rows). Row numbers follow the BRIEF
lineage convention: CSV = physical line number with the header counted (line 1), SIFA (no header) =
line number, xlsx = sheet row number, JSON = index in the ``contrats`` array + 1.
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
import pandas as pd

from aioa_analysis.core import referential
from aioa_analysis.sample._simulate import Simulation


def strip_accents(s: pd.Series) -> pd.Series:
    """Remove diacritics (NFKD), keep everything else."""
    return s.astype("string").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")


def name_variant(s: pd.Series, style: str, rng: np.random.Generator) -> pd.Series:
    """How a source types a name: ``typed`` (as is, a few upper-cased / doubled spaces / no accents),
    ``cfa`` (often without accents, surname sometimes upper), ``upper`` (upper-case without accents:
    SIFA, exam boards), ``chamber`` (upper-case with accents, typographic apostrophe)."""
    s = s.astype("string")
    u = rng.random(len(s))
    if style == "typed":
        s = s.where(~(u < 0.03), s.str.upper())
        s = s.where(~((u >= 0.03) & (u < 0.05)), " " + s + "  ")
        s = s.where(~((u >= 0.05) & (u < 0.08)), strip_accents(s))
    elif style == "cfa":
        s = s.where(~(u < 0.4), strip_accents(s))
        s = s.where(~((u >= 0.2) & (u < 0.5)), s.str.upper())
    elif style == "upper":
        s = strip_accents(s).str.upper()
    elif style == "chamber":
        s = s.str.upper().str.replace("'", "’", regex=False)
        s = s.where(~(u < 0.03), s + " ")
    return s


def fmt_date(d: pd.Series, fmt: str) -> pd.Series:
    """Format dates; NaT -> empty string."""
    return d.dt.strftime(fmt).fillna("").astype(object)


def mixed_dates(
    d: pd.Series, rng: np.random.Generator, weights=(0.70, 0.15, 0.15)
) -> tuple[pd.Series, np.ndarray]:
    """JJ/MM/AAAA, JJ/MM/AA or ISO, chosen per cell; returns the strings and the format index."""
    k = rng.choice(3, size=len(d), p=list(weights))
    out = np.select(
        [k == 0, k == 1],
        [fmt_date(d, "%d/%m/%Y").to_numpy(), fmt_date(d, "%d/%m/%y").to_numpy()],
        fmt_date(d, "%Y-%m-%d").to_numpy(),
    )
    return pd.Series(out, index=d.index, dtype=object), np.where(d.notna().to_numpy(), k, -1)


def to_csv_bytes(df: pd.DataFrame, *, sep: str, encoding: str, header: bool = True, lineterminator: str = "\n",
                 quoting: Literal[0, 1, 2, 3] = 0, preamble: str = "") -> bytes:  # fmt: skip
    """``df`` as CSV bytes in ``encoding``, after ``preamble`` (title rows), without the index."""
    buf = io.StringIO()
    buf.write(preamble)
    df.to_csv(buf, sep=sep, index=False, header=header, lineterminator=lineterminator, quoting=quoting)
    return buf.getvalue().encode(encoding)


def naf_dotted(naf: pd.Series) -> pd.Series:
    """``4322A`` -> ``43.22A`` (as some spreadsheets type NAF codes)."""
    return naf.str.slice(0, 2) + "." + naf.str.slice(2)


def phone_spaced(p: pd.Series) -> pd.Series:
    """``0612345678`` -> ``06 12 34 56 78``."""
    return p.str.replace(r"(\d{2})(?=\d)", r"\1 ", regex=True)


def contracts_with_persons(sim: Simulation) -> pd.DataFrame:
    """The true contracts with their apprentice's identity columns (the contract's ``sex`` kept)."""
    per = sim.persons.set_index("person_id")
    ct = sim.contracts
    return ct.join(per.drop(columns="sex"), on="person_id")


def rncp_of(cfd: pd.Series) -> pd.Series:
    """A stable, fictitious RNCP code per diploma (``RNCP3xxxx``)."""
    digits = cfd.str.replace(r"[^0-9]", "", regex=True).str.slice(-4).str.zfill(4)
    return "RNCP3" + digits


def cfa_sirets() -> dict[str, str]:
    """SIRET of each CFA (UAI -> SIRET) from the shipped CFA referential."""
    return dict(
        zip(referential.cfa_referential()["uai"], referential.cfa_referential()["siret"], strict=True)
    )
