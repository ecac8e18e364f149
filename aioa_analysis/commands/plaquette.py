"""``aioa plaquette``: the employer leaflets, one per sector, as offline HTML (and PDF with ``--pdf``).

    aioa plaquette [--data FILE] [--as-of YYYY-MM-DD] [--sector KEY|all] [--out DIR] [--pdf]

Writes ``plaquette-<sector>.html`` (and ``.pdf``) into ``--out`` (default ``reports/plaquettes/``),
see :mod:`aioa_analysis.reporting.leaflet` and ``docs/plaquette.md``. Without ``--as-of`` the
observation date is the one ``aioa clean`` recorded in quality.json next to the data file; the
« DONNÉES FICTIVES » banner follows quality.json too. Exit codes: 2 bad parameter or data, 3 an
output cannot be written, 4 the leaflet or its PDF cannot be produced (no Chromium for ``--pdf``).
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import pandas as pd

from aioa_analysis.core import config
from aioa_analysis.core.errors import InputFileError, ParameterError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plaquette`` subcommand."""
    p = subparsers.add_parser(
        "plaquette",
        help="plaquettes employeurs par secteur (HTML hors ligne, PDF avec --pdf)",
        description=(
            "Produit une plaquette A4 recto verso par secteur d'employeur : les chiffres du secteur en "
            "Loir-et-Cher, les 45 premiers jours, la médiation, les conseils du groupe de travail. "
            "Code de sortie 4 si un PDF ne peut pas être produit (Chromium absent avec --pdf)."
        ),
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        help="table des contrats nettoyée (défaut : data/processed/contracts.parquet)",
    )
    p.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="date d'observation (défaut : celle de quality.json)"
    )
    p.add_argument(
        "--sector", default="all", metavar="KEY|all", help="un secteur (clé de sectors.csv) ou all (défaut)"
    )
    p.add_argument("--out", metavar="DIR", help="dossier de sortie (défaut : reports/plaquettes/)")
    p.add_argument("--pdf", action="store_true", help="imprimer aussi chaque plaquette en PDF (Chromium)")
    p.set_defaults(handler=run)


def _read_contracts(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(
            f"table des contrats {path} introuvable",
            hint="lancez d'abord `aioa clean` (ou donnez --data FICHIER)",
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:
        raise InputFileError(
            f"table des contrats {path} illisible ({type(exc).__name__})",
            hint="reconstruisez-la avec `aioa clean`",
        ) from exc


def _as_of(value: str | None, quality: dict, data: Path) -> pd.Timestamp:
    from aioa_analysis.reporting.parameters import quality_as_of

    text = (value or quality_as_of(quality) or "").strip()
    if not text:
        raise ParameterError(
            f"pas de date d'observation : ni --as-of ni quality.json à côté de {data}",
            hint="donnez --as-of AAAA-MM-JJ",
        )
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return pd.Timestamp(text)
    except ValueError as exc:
        raise ParameterError(
            f"--as-of {text!r} n'est pas une date", hint="format AAAA-MM-JJ, ex. 2025-11-30"
        ) from exc


def run(args: argparse.Namespace) -> int:
    """Handler of ``aioa plaquette``."""
    from aioa_analysis.reporting.leaflet import sector_keys, write_leaflets
    from aioa_analysis.reporting.parameters import is_sample, quality_path, read_quality

    keys = sector_keys()
    sector = (args.sector or "all").strip()
    if sector != "all" and sector not in keys:
        raise ParameterError(f"secteur inconnu {sector!r}", hint=f"choisissez all ou : {', '.join(keys)}")
    data = Path(args.data) if args.data else config.processed_dir() / "contracts.parquet"
    contracts = _read_contracts(data)
    quality = read_quality(quality_path(data))
    as_of = _as_of(args.as_of, quality, data)
    out = config.check_shared_place(Path(args.out) if args.out else config.reports_dir() / "plaquettes")
    results = write_leaflets(
        contracts,
        as_of=as_of,
        out_dir=out,
        sectors=None if sector == "all" else [sector],
        quality=quality,
        sample=is_sample(quality),
        pdf=bool(args.pdf),
    )
    for r in results:
        log.info("%s%s", r.html_path, f" + {r.pdf_path.name} ({r.pages} p.)" if r.pdf_path else "")
    log.info("%d plaquette(s) au %s dans %s", len(results), as_of.date().isoformat(), out)
    return 0
