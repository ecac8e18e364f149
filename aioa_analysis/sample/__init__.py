"""Deterministic, realistic synthetic sample of Loir-et-Cher apprenticeship contracts.

``generate_sample(out_dir, seed=41)`` writes, in the REAL input formats (docs/reference/FORMATS.md):

* ``Export_Init_TBA_<YYYYMMDDhhmm>.csv``: DECA flat extract (every contract, amendments as extra
  rows, cancelled/deleted contracts, a few defects);
* ``deca_api_contrats_<YYYYMMDD>.json``: DECA API response (contracts started or broken during the
  last 30 days: duplicates of extract rows, same values; strict JSON, null for missing);
* ``tba_televersement_<YYYYMMDD>.xlsx``: Tableau de bord upload workbook ("Lisez-moi" sheet first,
  wide rows with up to 4 contracts) for two CFAs;
* ``SIFA_<UAI>_<JJMMAAAA>.csv``: SIFA file of one CFA (47 columns, no header, photograph at 31/12);
* ``cma41_contrats_<YYYYMMDD>.csv``: consular-chamber spreadsheet (cp1252, ``;``, two title rows);
* ``resultats_examens_<YYYYMMDD>.csv``: exam results of the closed sessions;
* ``retours/suivi_<structure>_<YYYY-MM>_retour.xlsx``: follow-up workbooks returned by the
  Missions Locales (adviser columns filled, a few invalid rows), for ``aioa followup --import``;
* ``_ground_truth.json``: the parameters (with the docs/reference/DOMAIN.md figures they cite), the true counts,
  the expected duplicates and defects (file, row, expected outcome) and the TRUE model
  probabilities (expected 9-month rupture probability by cohort and group).

Same seed and arguments give byte-identical files. See ``docs/sample.md``.

Modules: ``_catalog`` and ``_params`` (static inputs, with their citations); ``_population``
(starts, programmes, apprentices, employers), ``_hazard`` (rupture model) and ``_simulate`` (the true
contracts, exams and ruptures, in memory); one writer per file format (``_deca``, ``_tba``, ``_sifa``,
``_chamber``, ``_exams``, ``_returns``; shared cell formatting in ``_format``); ``_truth`` (the
ground truth).

Examples
--------
>>> import tempfile, pathlib
>>> truth = generate_sample(pathlib.Path(tempfile.mkdtemp()), seed=1, years=1, contracts_per_year=200)
>>> truth["generator"]["seed"], 0.15 < truth["expected_rupture_9m"]["overall_all"]["p"] < 0.28
(1, True)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aioa_analysis.core.atomic import AtomicDir
from aioa_analysis.core.errors import OutputError, ParameterError
from aioa_analysis.sample import _catalog as cat
from aioa_analysis.sample._chamber import build_chamber
from aioa_analysis.sample._deca import DECA_COLUMNS, build_deca_api, build_deca_extract, deca_extract_frame
from aioa_analysis.sample._exams import build_exams
from aioa_analysis.sample._format import to_csv_bytes
from aioa_analysis.sample._returns import build_returns
from aioa_analysis.sample._sifa import build_sifa
from aioa_analysis.sample._simulate import Simulation, simulate
from aioa_analysis.sample._tba import build_tba
from aioa_analysis.sample._truth import GENERATOR_VERSION, ground_truth

__all__ = [
    "DEFAULT_EXTRACTION_DATE",
    "GENERATOR_VERSION",
    "Simulation",
    "generate_sample",
    "ground_truth",
    "simulate",
    "simulate_contracts",
    "write_deca_extract",
]

DEFAULT_EXTRACTION_DATE = "2025-11-30"
TBA_CFAS = (cat.BTP, cat.SAN)
SIFA_CFA = cat.AGRI
CHAMBER_CFA = cat.CMA


def _check_args(seed: int, years: int, contracts_per_year: int, extraction_date: str) -> pd.Timestamp:
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"--seed {seed!r} is not a non-negative integer", hint="e.g. --seed 41")
    if not 1 <= int(years) <= 15:
        raise ParameterError(f"--years {years} is out of range", hint="use 1 to 15 school years")
    if not 10 <= int(contracts_per_year) <= 2_000_000:
        raise ParameterError(
            f"--contracts-per-year {contracts_per_year} is out of range", hint="use 10 to 2,000,000"
        )
    try:
        ext = pd.Timestamp(str(extraction_date))
    except ValueError as exc:
        raise ParameterError(
            f"--extraction-date {extraction_date!r} is not a date", hint="use YYYY-MM-DD"
        ) from exc
    if pd.isna(ext) or not 2015 <= ext.year <= 2100:
        raise ParameterError(
            f"--extraction-date {extraction_date!r} is not a plausible date", hint="use YYYY-MM-DD"
        )
    return ext.normalize()


def simulate_contracts(
    *,
    seed: int,
    years: int = 4,
    contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> pd.DataFrame:
    """The true contracts (one row per contract, apprentice identity joined), without file defects.

    Columns include ``contract_id``, ``contract_type``, ``generation`` (0 = first contract of the
    training, 1+ = signed after a rupture), ``cfa_uai``, ``diploma_code``, ``start_date``,
    ``planned_end_date``, ``rupture_date`` (known at ``extraction_date``), ``rupture_after_diploma``,
    ``employer_naf``, ``sector``, ``employer_size_band``, ``age_band``, ``sex``, ``p9`` (TRUE model
    probability of a rupture within 9 months) and the identity columns (``surname``, ``first_name``,
    ``birth_date``, ...). Use :func:`write_deca_extract` to write it as a DECA flat extract.

    >>> df = simulate_contracts(seed=3, years=1, contracts_per_year=100, extraction_date="2025-07-31")
    >>> bool(df["contract_id"].is_unique), bool((df["start_date"] <= "2025-07-31").all())
    (True, True)
    """
    _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=extraction_date
    )
    per = sim.persons.set_index("person_id").drop(columns="sex")
    return sim.contracts.join(per, on="person_id")


def write_deca_extract(
    path: str | os.PathLike[str], *, seed: int, years: int = 4, contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> Path:  # fmt: skip
    """Write ONLY a clean DECA flat extract (one row per true contract) to ``path``; for benchmarks.

    >>> import tempfile, pathlib
    >>> p = write_deca_extract(pathlib.Path(tempfile.mkdtemp()) / "x.csv", seed=1, years=1, contracts_per_year=50)
    >>> p.read_text(encoding="utf-8").splitlines()[0].startswith("nom,prenom,sexe")
    True
    """
    _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=extraction_date
    )
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(12)[-1]))
    frame = deca_extract_frame(sim, rng)[list(DECA_COLUMNS)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_csv_bytes(frame, sep=",", encoding="utf-8"))
    return path


# --- generation -----------------------------------------------------------------------------------------------------


def generate_sample(
    out_dir: str | os.PathLike[str],
    *,
    seed: int,
    years: int = 4,
    contracts_per_year: int = 3000,
    extraction_date: str = DEFAULT_EXTRACTION_DATE,
) -> dict[str, Any]:
    """Write the sample files and ``_ground_truth.json`` into ``out_dir``; return the ground truth.

    The files are written together (atomically): a failure leaves the previous sample untouched.
    Existing sample files of another extraction date are not removed.
    """
    ext = _check_args(seed, years, contracts_per_year, extraction_date)
    sim = simulate(
        seed=seed, years=years, contracts_per_year=contracts_per_year, extraction_date=str(ext.date())
    )
    children = np.random.SeedSequence(seed).spawn(12)
    frng = [np.random.Generator(np.random.PCG64(c)) for c in children[6:12]]
    stamp = ext.strftime("%Y%m%d")
    outputs: dict[str, bytes] = {}
    files: dict[str, dict] = {}

    name = f"Export_Init_TBA_{stamp}0600.csv"
    outputs[name], files[name], _ = build_deca_extract(sim, frng[0], name)
    name = f"deca_api_contrats_{stamp}.json"
    outputs[name], files[name] = build_deca_api(sim, frng[1])
    name = f"tba_televersement_{stamp}.xlsx"
    outputs[name], files[name] = build_tba(sim, frng[2], TBA_CFAS, seed)
    data, truth, name = build_sifa(sim, frng[3], SIFA_CFA)
    outputs[name], files[name] = data, truth
    name = f"cma41_contrats_{stamp}.csv"
    outputs[name], files[name] = build_chamber(sim, frng[4], CHAMBER_CFA)
    name = f"resultats_examens_{stamp}.csv"
    sessions = sorted(int(s) for s in sim.exams.loc[sim.exams["closed"], "exam_session"].unique())
    outputs[name], files[name] = build_exams(sim, frng[5], sessions)

    evidence = {n_: files[n_].pop("_evidence") for n_ in list(files) if "_evidence" in files[n_]}
    for n_, data in outputs.items():
        files[n_]["bytes"] = len(data)
        files[n_]["sha256"] = hashlib.sha256(data).hexdigest()
    truth = ground_truth(
        sim, files, seed=seed, years=years, contracts_per_year=contracts_per_year, evidence=evidence
    )
    outputs["_ground_truth.json"] = (
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False) + "\n"
    ).encode("utf-8")
    # returned follow-up workbooks: their own random stream, outside the ground truth, so that the
    # other files stay byte-identical
    outputs.update(build_returns(sim, np.random.default_rng(np.random.SeedSequence([seed, 16]))))
    try:
        with AtomicDir(out_dir) as stage:
            for n_, data in sorted(outputs.items()):
                (stage / n_).parent.mkdir(parents=True, exist_ok=True)
                (stage / n_).write_bytes(data)
    except OSError as exc:
        raise OutputError(
            f"cannot write the sample into {out_dir}: {exc.strerror or exc}",
            hint="check the folder and its permissions",
        ) from exc
    return truth
