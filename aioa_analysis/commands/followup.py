"""``aioa followup``: monthly follow-up lists for the Missions Locales and the MLDS, and their loop back.

* ``--month YYYY-MM``: reads ``contracts.parquet``, ``exam_results.parquet`` (optional) and
  ``quality.json`` (``as_of``) from the processed folder, the restricted identity store and the
  outcomes already imported; writes one workbook per structure and a manifest (counts only) into
  ``<restricted>/followup/YYYY-MM/`` (or ``--out DIR``/``YYYY-MM``) as one unit, folder 0700,
  files 0600; ``--password-file`` encrypts the workbooks;
* ``--import FILE [FILE ...]``: reads returned workbooks, stores valid rows with their history,
  lists the rejected rows and the conflicts, writes ``followup_outcomes.parquet`` (pseudonymised);
* ``--purge``: deletes what is older than the retention period of the Lisez-moi settings, the
  fiches parcours of ``aioa fiche`` (``<restricted>/fiches/YYYY-MM/``) included.

``--out`` and ``AIOA_RESTRICTED_DIR`` inside the processed or reports folder are refused (exit 5).
``--dry-run`` prints the counts and writes nothing.
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
from aioa_analysis.core.atomic import atomic_path, sha256_of
from aioa_analysis.core.commit import run_lock
from aioa_analysis.core.errors import DataError, InputFileError, KeyFileError, ParameterError
from aioa_analysis.core.schema import validate_contracts
from aioa_analysis.followup import people, returns, store

log = logging.getLogger(__name__)

RUN_CLEAN = "run `aioa clean` first to build the clean tables and the identity store"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``followup`` subcommand."""
    p = subparsers.add_parser(
        "followup",
        help="listes mensuelles de suivi pour les Missions Locales et la MLDS (données personnelles)",
        description=(
            "Écrit, pour un mois, un classeur par structure (Missions Locales, MLDS) : ruptures à traiter, "
            "déjà traités, ruptures après diplôme, contrats signés, résultats diplôme, dans un dossier à accès "
            "restreint, avec un manifeste (effectifs seuls). --import relit les classeurs retournés ; "
            "--purge supprime ce qui dépasse la durée de conservation."
        ),
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--month", metavar="YYYY-MM", help="mois à traiter, ex. 2025-09")
    what.add_argument(
        "--import",
        dest="import_files",
        nargs="+",
        metavar="FILE",
        help="classeurs retournés par les structures (colonnes du conseiller remplies)",
    )
    what.add_argument(
        "--purge",
        action="store_true",
        help="supprime listes, retours, fiches parcours et identités plus anciens que la durée de conservation",
    )
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
    p.add_argument(
        "--password-file",
        metavar="FILE",
        help="fichier (0600) contenant le mot de passe : chiffre chaque classeur (ou déchiffre à l'import)",
    )
    p.add_argument("--dry-run", action="store_true", help="affiche les effectifs sans rien écrire")
    p.set_defaults(handler=run)


def read_password(path: str | None) -> str | None:
    """The password in ``--password-file`` (first line), refused unless the file is owner-only."""
    if not path:
        return None
    p = Path(path)
    try:
        mode = p.stat().st_mode & 0o077
        text = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ParameterError(f"--password-file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"--password-file {path} cannot be read") from exc
    if mode:
        raise KeyFileError(f"--password-file {path} is readable by others", hint=f"chmod 600 {path}")
    if not text or not text[0].strip():
        raise ParameterError(f"--password-file {path} is empty", hint="write the password on its first line")
    return text[0].strip()


def read_inputs(
    processed: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.Timestamp]:
    """What the lists and the fiches are built from: the clean contracts, the identity store, the exam
    results when there are some, and the extraction date ``as_of``."""
    contracts = _contracts(processed)
    identities = _read_parquet(
        config.restricted_dir() / "identities.parquet", "identity store identities.parquet"
    )
    exams_path = processed / "exam_results.parquet"
    exams = _read_parquet(exams_path, "exam_results.parquet") if exams_path.is_file() else None
    return contracts, identities, exams, read_as_of(processed)


def month_lists(
    contracts: pd.DataFrame,
    identities: pd.DataFrame,
    exams: pd.DataFrame | None,
    *,
    month: pd.Period,
    as_of: pd.Timestamp,
    structures: pd.DataFrame,
    all_structures: pd.DataFrame,
    history: Path,
) -> followup.FollowupLists:
    """The month's lists as the structures receive them, with the outcomes recorded in ``history``
    (the follow-up folder): what the workbooks and the fiches are both built from."""
    current, _ = returns.current_outcomes(store.read_history(history))
    return followup.build_followup(
        contracts,
        identities,
        exams,
        month=month,
        as_of=as_of,
        structures=structures,
        all_structures=all_structures,
        outcomes=returns.with_labels(current),
        cfa_contacts=people.cfa_contacts(),
    )


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


def followup_root(args: argparse.Namespace) -> Path:
    """The follow-up folder (``--out`` or ``<restricted>/followup``), refused in shared folders."""
    if args.out:  # restricted_dir() itself is refused inside a shared folder
        return config.check_restricted_place(Path(args.out).expanduser())
    return config.restricted_dir() / "followup"


def _contracts(processed: Path) -> pd.DataFrame:
    contracts = _read_parquet(processed / "contracts.parquet", "contracts.parquet")
    try:
        validate_contracts(contracts)
    except DataError as exc:
        raise DataError(f"contracts.parquet: {exc.message}", hint=RUN_CLEAN) from exc
    return contracts


def run(args: argparse.Namespace) -> int:
    """Dispatch: the month's lists, the import of returned files, or the purge."""
    if args.import_files:
        return run_import(args)
    if args.purge:
        return run_purge(args)
    return run_lists(args)


def run_lists(args: argparse.Namespace) -> int:
    """Build the month's lists, then print the counts (--dry-run) or write workbooks and manifest."""
    month = followup.parse_month(args.month)
    all_structures = followup.load_structures()
    structures = followup.select_structures(all_structures, args.structure)
    root = followup_root(args)
    out_dir = root / str(month)
    password = read_password(args.password_file)
    processed = config.processed_dir()
    contracts, identities, exams, as_of = read_inputs(processed)
    lists = month_lists(
        contracts, identities, exams, month=month, as_of=as_of, structures=structures,
        all_structures=all_structures, history=root,
    )  # fmt: skip
    lists = dataclasses.replace(lists, synthetic=read_sample_used(processed), readme=people.readme_config())
    if args.dry_run:
        print(followup.counts_table(lists))
        print(f"dry run: nothing written (would write to {out_dir})")
        return 0
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    written = followup.write_followup(lists, out_dir, generated_at=generated, password=password)
    print(followup.counts_table(lists))
    log.info("wrote %d workbook(s) and %s into %s", len(written) - 1, followup.MANIFEST_NAME, out_dir)
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import returned workbooks: validate every row, store the outcomes, write the pseudonymised table."""
    root = followup_root(args)
    password = read_password(args.password_file)
    paths = [Path(f) for f in args.import_files]
    for p in paths:
        if not p.is_file():
            raise InputFileError(f"{p}: no such file", hint="name the returned workbooks")
    processed = config.processed_dir()
    contracts = _contracts(processed)
    now = pd.Timestamp.now().normalize()
    with run_lock(store.private_dir(root), wait=60):
        done = store.imported_hashes(root)
        sha = {p: sha256_of(p) for p in paths}
        fresh = [p for p in paths if sha[p] not in done]
        for p in paths:
            if p not in fresh:
                print(f"{p.name}: déjà importé, ignoré")
        if not fresh:
            print("rien de nouveau : aucun fichier à importer")
            return 0
        new, rejected = returns.import_rows(
            fresh, contracts, today=now, imported_at=now, password=password, sha256=sha
        )
        history = store.read_history(root)
        merged = returns.merge_history(history, new)
        added = len(merged) - len(history)
        current, conflicts = returns.current_outcomes(merged)
        if args.dry_run:
            print(
                f"dry run: {added} ligne(s) à importer, {len(rejected)} rejetée(s), {len(conflicts)} conflit(s)"
            )
            return 0
        store.write_history(root, merged)
        for p in fresh:
            store.keep_copy(root, p, sha[p])
        store.write_csv(root / store.RETURNS_DIR / "import_rejected.csv", rejected)
        store.write_csv(root / store.RETURNS_DIR / "import_conflicts.csv", conflicts)
        table = returns.outcome_table(current, contracts)
        with atomic_path(processed / returns.OUTCOME_TABLE, mode=0o640) as tmp:
            table.to_parquet(tmp, index=False)
        store.record(
            root,
            "imports",
            {
                "date": now.date().isoformat(),
                "files": [{"name": p.name, "sha256": sha[p]} for p in fresh],
                "rows_added": added,
                "rows_rejected": len(rejected),
                "conflicts": int(conflicts[returns.FOLLOWUP_ID].nunique()) if len(conflicts) else 0,
            },
        )
    for r in rejected.head(20).itertuples(index=False):
        print(f"rejeté : {r.file}, feuille {r.sheet}, ligne {r.row} : {r.reason}")
    print(
        f"{added} ligne(s) importée(s), {len(rejected)} rejetée(s) "
        f"(liste : {root / store.RETURNS_DIR / 'import_rejected.csv'}), "
        f"{len(conflicts)} ligne(s) en conflit ; {len(table)} suivi(s) connus"
    )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    """Delete lists, returned files, history rows and identities older than the retention period."""
    root = followup_root(args)
    months = people.retention_months(people.readme_config())
    contracts_path = config.processed_dir() / "contracts.parquet"
    contracts = _read_parquet(contracts_path, "contracts.parquet") if contracts_path.is_file() else None
    with run_lock(store.private_dir(root), wait=60):
        counts = store.purge(
            root,
            config.restricted_dir() / "identities.parquet",
            contracts,
            today=pd.Timestamp.now().normalize(),
            months=months,
            dry_run=args.dry_run,
            fiches_root=config.restricted_dir() / "fiches",
        )
    verb = "seraient supprimés" if args.dry_run else "supprimés"
    print(
        f"conservation {months} mois (avant le {counts['cutoff']}) — {verb} : "
        f"{counts['month_folders']} mois de listes, {counts['returned_files']} fichier(s) retourné(s), "
        f"{counts['history_rows']} ligne(s) d'historique, {counts['identities']} identité(s), "
        f"{counts['fiche_folders']} mois de fiches parcours"
    )
    return 0
