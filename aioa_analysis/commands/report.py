"""``aioa report``: render the département report (and one per CFA) as offline HTML, plus index.html.

Parameters come, by increasing precedence, from the template's defaults, ``--config FILE`` (TOML,
same names as the template parameters, optionally under a ``[report]`` table, plus ``out`` and
``per_cfa``), ``-p NAME=VALUE`` and the dedicated flags (``--data``, ``--as-of``). Without
``--as-of`` the observation date is the one ``aioa clean`` recorded in quality.json next to the
data file (logged). Everything is validated before a kernel starts.
"""

from __future__ import annotations

import argparse
import logging
import tomllib
from pathlib import Path
from typing import Any

from aioa_analysis.core import config
from aioa_analysis.core.errors import ConfigError, ParameterError

log = logging.getLogger(__name__)

CONFIG_EXTRA = ("out", "per_cfa", "timeout", "bundle")


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="produire les rapports HTML (département, par CFA) et index.html",
        description=(
            "Produit le rapport départemental à partir de la table des contrats nettoyée et, avec "
            "--per-cfa, un rapport par CFA, plus index.html : un fichier HTML autonome (hors ligne) "
            "par rapport, écrit de façon atomique."
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
    p.add_argument("--out", metavar="DIR", help="dossier de sortie (défaut : reports/)")
    p.add_argument("--per-cfa", action="store_true", help="produire aussi un rapport par CFA")
    p.add_argument(
        "--bundle",
        action="store_true",
        help="écrire aussi rapports-ensemble.html : tous les rapports dans un seul fichier (une pièce jointe)",
    )
    p.add_argument(
        "--pdf", action="store_true", help="imprimer aussi chaque rapport en PDF (Chromium du système)"
    )
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="un paramètre du rapport (répétable)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="fichier TOML des paramètres du rapport (et out, per_cfa)"
    )
    p.add_argument(
        "--timeout",
        type=int,
        default=None,
        help="secondes accordées à chaque cellule du notebook (défaut 600)",
    )
    p.add_argument(
        "--list-parameters", action="store_true", help="affiche les paramètres du rapport et quitte"
    )
    p.set_defaults(handler=run)


def read_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML report configuration (top level or a ``[report]`` table)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {p} does not exist", hint="check the --config path") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"config file {p} is not valid TOML ({exc})", hint="see docs/report.md for an example"
        ) from exc
    if isinstance(data.get("report"), dict):
        data = {**{k: v for k, v in data.items() if k != "report"}, **data["report"]}
    return data


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["horizon=6", "title=Plénière"]`` -> ``{"horizon": "6", "title": "Plénière"}``.

    >>> parse_assignments(["horizon=6", "title=A=B"])
    {'horizon': '6', 'title': 'A=B'}
    """
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"-p {item!r} is not NAME=VALUE", hint="e.g. -p horizon=6")
        out[name.strip()] = value
    return out


def collect_parameters(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge config file, ``-p`` and flags; return (report parameters, run options)."""
    params: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if args.config:
        for key, value in read_config(args.config).items():
            (options if key in CONFIG_EXTRA else params)[key] = value
    params.update(parse_assignments(args.parameter))
    if args.data:
        params["data_file"] = args.data
    elif "data_file" not in params:
        params["data_file"] = str(config.processed_dir() / "contracts.parquet")
    if args.as_of:
        params["as_of"] = args.as_of
    if args.out:
        options["out"] = args.out
    if args.per_cfa:
        options["per_cfa"] = True
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if getattr(args, "bundle", False):
        options["bundle"] = True
    return params, options


def run(args: argparse.Namespace) -> int:
    """Handler of ``aioa report``."""
    from aioa_analysis.reporting.parameters import PARAMETERS, validate_parameters
    from aioa_analysis.reporting.runner import render_reports

    if args.list_parameters:
        for p in PARAMETERS.values():
            print(f"{p.name} ({p.type.__name__}, défaut {p.default!r}) : {p.help}")
        return 0
    params, options = collect_parameters(args)
    resolved = validate_parameters(params)
    if not params.get("as_of"):
        log.info(
            "as_of not given: using %s recorded in quality.json next to %s",
            resolved["as_of"],
            resolved["data_file"],
        )
    else:
        log.info("as_of: %s", resolved["as_of"])
    out = config.check_shared_place(Path(options.get("out") or config.reports_dir()))
    per_cfa = bool(options.get("per_cfa", False))
    if not isinstance(options.get("per_cfa", False), bool):
        raise ParameterError("config key per_cfa must be true or false", hint="per_cfa = true")
    timeout = int(options.get("timeout") or 600)
    if not isinstance(options.get("bundle", False), bool):
        raise ParameterError("config key bundle must be true or false", hint="bundle = true")
    results = render_reports(
        resolved,
        out,
        per_cfa=per_cfa,
        timeout=timeout,
        pdf=bool(args.pdf),
        bundle=bool(options.get("bundle", False)),
    )
    for r in results:  # the runner logged one line per report already
        log.debug("%s (%d figures, %.1f MB)", r.html_path, r.n_figures, r.size_bytes / 1e6)
    return 0
