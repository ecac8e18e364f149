"""``aioa followup``: monthly follow-up lists for the Missions Locales and the MLDS.

Reads ``contracts.parquet``, ``exam_results.parquet`` (optional) and ``quality.json`` (the extraction
date ``as_of``) from the processed folder, and the restricted identity store; writes one workbook per
structure and a manifest (counts only) into ``<restricted>/followup/YYYY-MM/`` (or ``--out DIR`` /
``YYYY-MM``), folder 0700, files 0600. ``--dry-run`` prints the counts and writes nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd

from aioa_analysis import followup
from aioa_analysis.core import config
from aioa_analysis.core.errors import DataError, InputFileError, ParameterError
from aioa_analysis.core.schema import validate_contracts

log = logging.getLogger(__name__)

RUN_CLEAN = "run `aioa clean` first to build the clean tables and the identity store"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``followup`` subcommand."""
    p = subparsers.add_parser(
        "followup",
        help="listes mensuelles de suivi pour les Missions Locales et la MLDS (données personnelles)",
        description=(
            "Écrit, pour un mois, un classeur par structure (Missions Locales, MLDS) : contrats signés, "
            "ruptures, résultats diplôme, dans un dossier à accès restreint, avec un manifeste (effectifs seuls)."
        ),
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="mois à traiter, ex. 2025-09")
    p.add_argument(
        "--structure",
        default="all",
        metavar="NAME|all",
        help="une structure de followup_structures.csv (ml_blois, ml_vendomois, ml_romorantin, mlds) ou all",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="dossier de base (défaut : <restricted>/followup) ; les fichiers vont dans DIR/YYYY-MM/",
    )
    p.add_argument("--dry-run", action="store_true", help="affiche les effectifs sans rien écrire")
    p.set_defaults(handler=run)


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(f"{what} not found at {path}", hint=RUN_CLEAN)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # any pyarrow failure means a damaged file
        raise InputFileError(
            f"{what} at {path} cannot be read ({type(exc).__name__})", hint=RUN_CLEAN
        ) from exc


def read_as_of(processed: Path) -> pd.Timestamp:
    """The extraction date recorded by ``aioa clean`` in ``quality.json`` (key ``as_of``)."""
    path = processed / "quality.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError(f"quality.json not found at {path}", hint=RUN_CLEAN) from exc
    except (OSError, ValueError) as exc:
        raise InputFileError(f"quality.json at {path} cannot be read", hint=RUN_CLEAN) from exc
    value = data.get("as_of") if isinstance(data, dict) else None
    if isinstance(value, dict):
        value = value.get("date") or value.get("value") or value.get("as_of")
    try:
        ts = pd.Timestamp(value) if value else pd.NaT
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise InputFileError(f"quality.json at {path} records no valid as_of date", hint=RUN_CLEAN)
    return pd.Timestamp(ts).normalize()


def read_sample_used(processed: Path) -> bool:
    """Whether ``aioa clean`` ran on the synthetic sample (``sample_used`` in ``quality.json``)."""
    try:
        data = json.loads((processed / "quality.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(isinstance(data, dict) and data.get("sample_used"))


def _out_dir(args: argparse.Namespace, month: pd.Period) -> Path:
    if args.out:
        out = Path(args.out).expanduser() / str(month)
    else:
        out = followup.default_out_dir(config.restricted_dir(), month)
    reports = config.reports_dir().resolve()
    resolved = out.resolve()
    if resolved == reports or reports in resolved.parents:
        raise ParameterError(
            f"--out {args.out} is inside the reports folder {reports}",
            hint="follow-up lists hold personal data: write them to a restricted folder (default data/restricted)",
        )
    return out


def run(args: argparse.Namespace) -> int:
    """Build the month's lists, then print the counts (--dry-run) or write workbooks and manifest."""
    month = followup.parse_month(args.month)
    all_structures = followup.load_structures()
    structures = followup.select_structures(all_structures, args.structure)
    out_dir = _out_dir(args, month)
    processed = config.processed_dir()
    contracts = _read_parquet(processed / "contracts.parquet", "contracts.parquet")
    try:
        validate_contracts(contracts)
    except DataError as exc:
        raise DataError(f"contracts.parquet: {exc.message}", hint=RUN_CLEAN) from exc
    identities = _read_parquet(
        config.restricted_dir() / "identities.parquet", "identity store identities.parquet"
    )
    exams_path = processed / "exam_results.parquet"
    exams = _read_parquet(exams_path, "exam_results.parquet") if exams_path.is_file() else None
    as_of = read_as_of(processed)
    lists = followup.build_followup(
        contracts,
        identities,
        exams,
        month=month,
        as_of=as_of,
        structures=structures,
        all_structures=all_structures,
    )
    lists = dataclasses.replace(lists, synthetic=read_sample_used(processed))
    if args.dry_run:
        print(followup.counts_table(lists))
        print(f"dry run: nothing written (would write to {out_dir})")
        return 0
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    written = followup.write_followup(lists, out_dir, generated_at=generated)
    print(followup.counts_table(lists))
    log.info("wrote %d workbook(s) and %s into %s", len(written) - 1, followup.MANIFEST_NAME, out_dir)
    return 0
