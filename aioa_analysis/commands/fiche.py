"""``aioa fiche``: the fiche parcours of each young person whose contract broke (personal data).

    aioa fiche --month YYYY-MM [--structure NAME|all] [--contract ID] [--out DIR] [--pdf]

For every rupture on the month's follow-up lists of ``--structure`` ("Ruptures à traiter" and
"Déjà traités", the same selection as ``aioa followup``), or for the one contract ``--contract``
(its number or its follow-up key), writes one French HTML page (and a PDF with ``--pdf``), an index
and a manifest (counts only) into ``<restricted>/fiches/YYYY-MM/<all|structure|contrat-KEY>/``
(``--out DIR`` replaces ``<restricted>/fiches``), files 0600 in 0700 folders, as one set. See
:mod:`aioa_analysis.followup.fiche` and ``docs/fiche.md``.

Reads ``contracts.parquet``, ``exam_results.parquet`` (optional) and ``quality.json`` from the
processed folder, the restricted identity store, the outcomes imported by ``aioa followup --import``,
the editable contact tables and the RNCP export dropped in ``data/raw/referentiels/`` (optional: the
fiche then says where to get it). Exit codes: 2 bad parameter, unknown contract or structure, a
month without rupture, a damaged table; 3 an output cannot be written; 4 no Chromium for ``--pdf``;
5 ``--out`` or the restricted folder inside a shared folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

import pandas as pd

from aioa_analysis import followup
from aioa_analysis.commands.followup import month_lists, read_inputs, read_sample_used
from aioa_analysis.core import config, contacts
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.followup import fiche, fiche_html, returns, rncp, store
from aioa_analysis.followup.lists import FOLLOWUP_ID

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``fiche`` subcommand."""
    p = subparsers.add_parser(
        "fiche",
        help="fiches parcours des jeunes en rupture de contrat (données personnelles)",
        description=(
            "Écrit une fiche parcours (HTML imprimable, PDF avec --pdf) pour chaque rupture des listes de suivi "
            "du mois (ruptures à traiter et déjà traitées) ou pour un contrat : le jeune, son expérience, ses "
            "compétences, ses droits (6 mois au CFA), les contacts, le suivi. Dossier à accès restreint."
        ),
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="mois des listes de suivi, ex. 2025-09")
    p.add_argument(
        "--structure",
        default="all",
        metavar="NAME|all",
        help="une structure de followup_structures.csv (ml_blois, ml_vendomois, ml_romorantin, mlds) ou all",
    )
    p.add_argument("--contract", metavar="ID", help="un seul contrat : son numéro ou sa clé de suivi")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="dossier de base (défaut : <restricted>/fiches) ; les fiches vont dans DIR/YYYY-MM/<sélection>/",
    )
    p.add_argument("--pdf", action="store_true", help="imprimer aussi chaque fiche en PDF (Chromium)")
    p.set_defaults(handler=run)


def fiches_base(out: str | None) -> Path:
    """``--out`` or ``<restricted>/fiches``, refused inside the processed or the reports folder (exit 5)."""
    restricted = config.restricted_dir()
    return config.check_restricted_place(Path(out).expanduser()) if out else restricted / "fiches"


def run(args: argparse.Namespace) -> int:
    """Handler of ``aioa fiche``."""
    month = followup.parse_month(args.month)
    all_structures = followup.load_structures()
    structures = followup.select_structures(all_structures, args.structure)
    base = fiches_base(args.out)
    printer = None
    if args.pdf:
        from aioa_analysis.reporting import pdf

        pdf.require_chromium()  # before anything is read or written
        printer = pdf.print_to_pdf
    processed = config.processed_dir()
    contracts, identities, exams, as_of = read_inputs(processed)
    ref = followup.reference_date(month, as_of)
    current, _ = returns.current_outcomes(store.read_history(config.restricted_dir() / "followup"))
    outcomes = returns.with_labels(current)
    blocks = rncp.load_blocks()
    listed = None
    if args.contract:
        rows = fiche.contract_rows(contracts, identities, args.contract, ref_date=ref)
        selection = f"contrat-{rows[FOLLOWUP_ID].iloc[0]}"
    else:
        lists = month_lists(
            contracts, identities, exams, month=month, as_of=as_of, structures=structures,
            all_structures=all_structures, history=config.restricted_dir() / "followup",
        )  # fmt: skip
        listed = fiche.listed_keys(lists)
        if listed.empty:
            raise ParameterError(
                f"aucune rupture sur les listes de suivi de {month} ({args.structure})",
                hint="choisissez un autre mois ou une autre structure, ou --contract ID",
            )
        rows = fiche.rupture_rows(contracts, identities, listed[FOLLOWUP_ID], ref_date=ref)
        selection = "all" if args.structure.strip().lower() == "all" else structures["structure"].iloc[0]
    if blocks is None:
        log.warning("pas d'export RNCP des blocs de compétences : %s", rncp.WHERE)
    tables = fiche.Tables.load(contracts, structures=all_structures, blocks=blocks, outcomes=outcomes)
    fiches = fiche.build_fiches(rows, contracts, exams, tables, ref_date=ref, listed=listed)
    ctx = fiche_html.FicheContext(
        month=month,
        ref_date=ref,
        as_of=as_of,
        synthetic=read_sample_used(processed),
        mediators=contacts.mediators(),
        blocks_files=blocks.files if blocks is not None else None,
        generated=pd.Timestamp(dt.datetime.now()).normalize(),
    )
    out_dir = base / str(month) / selection
    fiche_html.write_fiches(fiches, out_dir, ctx, selection=selection, printer=printer)
    print(f"{len(fiches)} fiche(s) parcours écrite(s) dans {out_dir} (index : {fiche_html.INDEX_NAME})")
    log.info("fiches: %d written for %s, selection %s", len(fiches), month, selection)
    return 0
