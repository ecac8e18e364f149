"""Writing the month's lists: one xlsx workbook per structure ("Lisez-moi" first) and a manifest.

Text cells a spreadsheet would execute are neutralised (:func:`neutralise_cell`). A workbook is built
in memory (:func:`workbook_bytes`: the adviser columns carry drop-down lists, the row key is a hidden
column), optionally encrypted (:func:`encrypt`), and the month's workbooks and manifest (counts only,
no names) are committed together with mode 0600 into a 0700 folder (:func:`write_followup`);
:func:`counts_table` prints the same counts for ``--dry-run``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import referential, safe
from aioa_analysis.core.commit import output_set
from aioa_analysis.core.errors import OutputError, ParameterError
from aioa_analysis.core.formatting import fr_month
from aioa_analysis.followup import lists as lists_mod
from aioa_analysis.followup import people
from aioa_analysis.followup.lists import (
    CONTACT_SHEETS,
    DATA_SHEETS,
    SHEET_AFTER_DIPLOMA,
    SHEET_DIPLOMA,
    SHEET_DONE,
    SHEET_SIGNED,
    SHEET_TODO,
    FollowupLists,
)

SHEET_README: Final = "Lisez-moi"
KEYWORD: Final = "aioa-suivi"
"""First field of the workbook's keywords property (``aioa-suivi;<structure>;<YYYY-MM>``)."""
MANIFEST_NAME: Final = "manifest.json"


def neutralise_cell(value: object) -> object:
    """Make a text value inert in a spreadsheet: strip XML-illegal characters, and prefix ``'`` when
    it starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP CSV injection).

    Non-text values are returned unchanged.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("+33 6 12 34 56 78"), neutralise_cell("Léa"), neutralise_cell(3)
    ("'+33 6 12 34 56 78", 'Léa', 3)
    >>> neutralise_cell("\\x01@SUM(A1)")
    "'@SUM(A1)"
    """
    if not isinstance(value, str):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return safe.neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def _py(value: object) -> object:
    """A pandas scalar as a value openpyxl writes (dates as dates, NA as empty)."""
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if hasattr(value, "item"):
        return value.item()  # numpy scalar
    return neutralise_cell(value)


def fr_date(ts: object) -> str:
    """``JJ/MM/AAAA`` (empty when missing).

    >>> fr_date(pd.Timestamp("2025-09-30"))
    '30/09/2025'
    """
    return "" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%d/%m/%Y")  # type: ignore[arg-type,call-overload]


def month_label(month: pd.Period) -> str:
    """``septembre 2025``.

    >>> month_label(pd.Period("2025-09", "M"))
    'septembre 2025'
    """
    return f"{fr_month(month.month)} {month.year}"


def readme_lines(lists: FollowupLists, structure: Mapping[Any, Any]) -> list[tuple[str, str]]:
    """The "Lisez-moi" sheet as (label, text) rows, in French (settings from ``lists.readme``)."""
    ref = fr_date(lists.ref_date)
    conf = lists.readme or people.readme_config()
    labels = referential.territory_labels()
    counts = lists.counts()[structure["structure"]]
    terr = ", ".join(labels.get(t, t) for t in structure["territories"])
    fictive = [
        ("DONNÉES FICTIVES", "Liste produite à partir de l'échantillon synthétique : personnes inventées.")
    ]
    lines: list[tuple[str, str]] = [
        ("", f"Liste de suivi mensuel — {structure['label']} — {month_label(lists.month)}"),
        *(fictive if lists.synthetic else []),
        (
            "Confidentialité",
            "NE PAS DIFFUSER. Données personnelles réservées aux conseillers de la structure "
            "destinataire : conserver dans un espace protégé, ne pas transmettre, supprimer à l'échéance.",
        ),
        ("Responsable du traitement", conf["responsable"]),
        ("Contact", conf["contact"]),
        ("Finalité", conf["finalite"]),
        ("Base légale", conf["base_legale"]),
        (
            "Durée de conservation",
            f"{conf['duree_conservation_mois']} mois : les listes, les fichiers retournés "
            "et les identités plus anciens sont supprimés (aioa followup --purge). Supprimez aussi vos copies.",
        ),
        ("Renvoyer le fichier", conf["retour"]),
        ("Structure destinataire", f"{structure['label']} ({structure['structure']})"),
        ("Territoire couvert", terr),
    ]
    if structure["kind"] == "mlds":
        lines.append(("Règle MLDS", str(structure.get("rule", "") or "")))
        lines.append(("", "Ces jeunes figurent aussi sur la liste de la Mission Locale de leur territoire."))
    lines += [
        ("Mois", f"{month_label(lists.month)} ({lists.month})"),
        ("Date d'extraction des données", fr_date(lists.as_of)),
        ("Situation arrêtée au", ref),
        *[(f"Nombre de lignes — {s}", str(counts[s])) for s in DATA_SHEETS],
        ("", ""),
        *[(sheet, text.format(ref=ref)) for sheet, text in SHEET_HELP.items()],
        ("Âge", f"Âge en années révolues au {ref}."),
        (
            "Colonnes du conseiller",
            "Date de contact, Résultat du contact, Situation à 3 mois, Situation à 6 mois "
            "(listes déroulantes) et Commentaire. Le commentaire ne doit contenir AUCUN détail de santé, de "
            "handicap, judiciaire ou familial. La colonne cachée « Clé de suivi » ne contient pas le nom : "
            "ne pas la modifier, elle permet de relire le fichier retourné.",
        ),
        (
            "Hors territoire",
            "Les jeunes résidant hors du Loir-et-Cher, ou dont le code postal est absent ou "
            "inconnu de la table des territoires, ne figurent sur aucune liste de Mission Locale ; ils sont "
            "dénombrés dans le manifeste.",
        ),
        (
            "Sources",
            "Contrats : DECA, Tableau de bord, SIFA, chambres consulaires ; résultats d'examen ; "
            "contacts des CFA : contacts_cfa.csv.",
        ),
    ]
    return lines


SHEET_HELP: Final = {
    SHEET_TODO: "Liste de travail : ruptures du mois d'abord, puis ruptures antérieures toujours dans la fenêtre "
    "de 180 jours, sans nouveau contrat ni résultat de contact enregistré ; triées par priorité (un point "
    "chacun : mineur, RQTH, rupture dans les 45 premiers jours, pas encore contacté), puis de la plus récente "
    "à la plus ancienne. Les jours depuis la rupture sont comptés au {ref}. La fenêtre de 180 jours "
    "(article L6222-18-2 du Code du travail : le CFA garde le jeune en formation et l'aide à trouver un "
    "employeur) se ferme 180 jours après la rupture.",
    SHEET_DONE: "Ruptures dont un résultat de contact a été renvoyé (hors « contacté sans réponse » et "
    "« coordonnées incorrectes », qui restent à traiter), avec ce résultat ; mettez à jour les situations "
    "à 3 et 6 mois.",
    SHEET_AFTER_DIPLOMA: "Ruptures après obtention du diplôme (article L6222-19) : pour information, hors liste "
    "de travail, sans coordonnées.",
    SHEET_SIGNED: "Contrats dont la date de début tombe dans le mois, et contrats signés dans le mois qui "
    "commencent plus tard (sans coordonnées).",
    SHEET_DIPLOMA: "Résultats de la session d'examen close dans le mois : admis, et ajournés ou absents "
    "seulement s'ils n'ont plus de contrat au {ref} (sans coordonnées).",
}


def _data_sheet(wb: Any, name: str, df: pd.DataFrame, n_lists: Mapping[str, int]) -> None:
    """One data sheet: bold headers, dates as dates, filters; adviser columns with drop-down lists."""
    from openpyxl.styles import Font, PatternFill

    sh = wb.create_sheet(name)
    headers = lists_mod.adviser_headers()
    adviser = {headers[f] for f in lists_mod.ADVISER}
    for j, header in enumerate(df.columns, start=1):
        cell = sh.cell(row=1, column=j, value=neutralise_cell(header))
        cell.font = Font(bold=True)
        if header in adviser:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        sh.column_dimensions[cell.column_letter].width = max(12, min(40, len(header) + 2))
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            cell = sh.cell(row=i, column=j, value=_py(value))
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    sh.freeze_panes = "A2"
    if len(df.columns):
        last = sh.cell(row=1, column=len(df.columns)).column_letter
        sh.auto_filter.ref = f"A1:{last}{max(1, len(df) + 1)}"
    if name in CONTACT_SHEETS:
        _adviser_columns(sh, list(df.columns), headers, max(len(df) + 1, 2), n_lists)


LISTS_SHEET: Final = "Listes"


def _adviser_columns(
    sh: Any, columns: list[str], headers: Mapping[str, str], last_row: int, n_lists: Mapping[str, int]
) -> None:
    """Drop-down validation on the adviser columns, the comment warning, the hidden key column."""
    from openpyxl.comments import Comment
    from openpyxl.worksheet.datavalidation import DataValidation

    def col(field: str) -> str:
        return str(sh.cell(row=1, column=columns.index(headers[field]) + 1).column_letter)

    rng = {f: f"{col(f)}2:{col(f)}{last_row}" for f in (*lists_mod.ADVISER, lists_mod.KEY_FIELD)}
    rules = [
        DataValidation(
            type="date",
            operator="greaterThan",
            formula1="36526",
            sqref=rng["contact_date"],
            showErrorMessage=True,
            error="Saisir une date JJ/MM/AAAA",
            errorTitle="Date de contact",
        ),
        DataValidation(
            type="list",
            formula1=f"={LISTS_SHEET}!$A$2:$A${n_lists['outcome'] + 1}",
            sqref=rng["outcome"],
            showErrorMessage=True,
            error="Choisir un résultat dans la liste",
        ),
        *[
            DataValidation(
                type="list",
                formula1=f"={LISTS_SHEET}!$B$2:$B${n_lists['situation'] + 1}",
                sqref=rng[f],
                showErrorMessage=True,
                error="Choisir une situation dans la liste",
            )
            for f in ("situation_3m", "situation_6m")
        ],
        DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1="300",
            sqref=rng["comment"],
            showInputMessage=True,
            promptTitle="Attention",
            prompt="Aucun détail de santé, de handicap, judiciaire ou familial.",
            showErrorMessage=True,
            error="300 caractères au plus",
        ),
    ]
    for dv in rules:
        dv.allow_blank = True
        sh.add_data_validation(dv)
    sh[f"{col('comment')}1"].comment = Comment(
        "Attention : aucun détail de santé, de handicap, judiciaire ou familial dans ce commentaire.", "aioa"
    )
    sh.column_dimensions[col(lists_mod.KEY_FIELD)].hidden = True


def workbook_bytes(
    sheets: Mapping[str, pd.DataFrame], readme: Sequence[tuple[str, str]], *, keywords: str = ""
) -> bytes:
    """One follow-up workbook ("Lisez-moi" first, drop-down lists in a hidden "Listes" sheet), in memory.

    ``keywords`` (document property) names the structure and the month: ``aioa-suivi;ml_blois;2025-09``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.properties.keywords = keywords
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_README
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 110
    for i, (label, text) in enumerate(readme, start=1):
        ws.cell(row=i, column=1, value=neutralise_cell(label)).font = Font(bold=True)
        cell = ws.cell(row=i, column=2, value=neutralise_cell(text))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1:
            cell.font = Font(bold=True, size=13)
    outcome_labels = people.outcomes()["label"].tolist()
    situation_labels = people.situations()["label"].tolist()
    n_lists = {"outcome": len(outcome_labels), "situation": len(situation_labels)}
    for name in DATA_SHEETS:
        _data_sheet(wb, name, sheets[name], n_lists)
    ls = wb.create_sheet(LISTS_SHEET)
    ls["A1"], ls["B1"] = "Résultat du contact", "Situation"
    for i, v in enumerate(outcome_labels, start=2):
        ls.cell(row=i, column=1, value=v)
    for i, v in enumerate(situation_labels, start=2):
        ls.cell(row=i, column=2, value=v)
    ls.sheet_state = "hidden"
    buf = io.BytesIO()
    try:
        wb.save(buf)  # in memory: a full disk cannot leave a half-written zip (nor ZipFile.__del__ noise)
    finally:
        wb.close()
    return buf.getvalue()


def encrypt(data: bytes, password: str) -> bytes:
    """``data`` (an xlsx) encrypted with ``password`` (Office standard encryption, msoffcrypto-tool)."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise ParameterError(
            "--password-file needs msoffcrypto-tool", hint="pip install msoffcrypto-tool"
        ) from exc
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def write_workbook(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    readme: Sequence[tuple[str, str]],
    *,
    password: str | None = None,
    keywords: str = "",
) -> Path:
    """Write one follow-up workbook (encrypted with ``password`` if given) with mode 0600; return ``path``."""
    data = workbook_bytes(sheets, readme, keywords=keywords)
    if password:
        data = encrypt(data, password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def workbook_name(structure: str, month: pd.Period) -> str:
    """File name of a structure's workbook.

    >>> workbook_name("ml_blois", pd.Period("2025-09", "M"))
    'suivi_ml_blois_2025-09.xlsx'
    """
    return f"suivi_{structure}_{month}.xlsx"


def default_out_dir(restricted: Path, month: pd.Period) -> Path:
    """``<restricted>/followup/YYYY-MM``."""
    return Path(restricted) / "followup" / str(month)


def manifest_dict(lists: FollowupLists, *, files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The manifest of a month: which list went to which structure, with counts only (no names)."""
    files = files or {}
    return {
        "month": str(lists.month),
        "as_of": lists.as_of.date().isoformat(),
        "reference_date": lists.ref_date.date().isoformat(),
        "lists": [
            {
                "structure": s["structure"],
                "label": s["label"],
                "kind": s["kind"],
                "territories": list(s["territories"]),
                "file": files.get(s["structure"]),
                "counts": lists.counts()[s["structure"]],
            }
            for s in lists.structures.to_dict("records")
        ],
        "rows_before_routing": dict(lists.totals),
        "not_in_any_mission_locale_list": lists.not_routed,
        "rows_without_identity": dict(lists.without_identity),
    }


def _ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with mode 0700; enforce 0700 on ``path`` itself."""
    try:
        missing = [p for p in [path, *path.parents] if not p.exists()]
        for p in reversed(missing):
            p.mkdir(mode=0o700)
            os.chmod(p, 0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise OutputError(
            f"cannot create the private folder {path}: {exc.strerror}", hint="check --out"
        ) from exc


def write_followup(
    lists: FollowupLists,
    out_dir: Path,
    *,
    generated_at: str | None = None,
    password: str | None = None,
    wait: float = 60.0,
) -> list[Path]:
    """Write one workbook per structure and the month's manifest as one unit; return the paths.

    The month folder ``out_dir`` (mode 0700) is committed with :func:`core.commit.output_set`: the
    new set is staged in a generation folder and published by one rename, under a lock (a second run
    waits up to ``wait`` seconds, then stops with a one-line error). Workbooks of structures not
    written by this run are carried over from the published set, and their manifest entries kept.
    """
    out_dir = Path(out_dir)
    _ensure_private_dir(out_dir.parent)
    files: dict[str, str] = {}
    with output_set(out_dir, mode=0o600, wait=wait) as stage:
        os.chmod(out_dir, 0o700)
        for struct in lists.structures.to_dict("records"):
            name = workbook_name(struct["structure"], lists.month)
            write_workbook(
                stage / name,
                lists.sheets[struct["structure"]],
                readme_lines(lists, struct),
                password=password,
                keywords=f"{KEYWORD};{struct['structure']};{lists.month}",
            )
            files[struct["structure"]] = name
        manifest = manifest_dict(lists, files=files)
        if generated_at:
            manifest["generated_at"] = generated_at
        if password:
            manifest["encrypted"] = True
        previous = _previous_manifest(out_dir / MANIFEST_NAME, manifest["month"])
        kept = [e for e in previous if e.get("structure") not in files]
        for entry in kept:  # the other structures' workbooks of an earlier run stay in the set
            if entry.get("file") and (out_dir / entry["file"]).is_file():
                shutil.copyfile(out_dir / entry["file"], stage / entry["file"])
        manifest["lists"] = sorted(kept + manifest["lists"], key=lambda e: str(e.get("structure")))
        (stage / MANIFEST_NAME).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    for folder in (out_dir / ".aioa", *(out_dir / ".aioa").rglob("*")):
        if folder.is_dir() and not folder.is_symlink():
            os.chmod(folder, 0o700)
    return sorted(out_dir / n for n in [*files.values(), MANIFEST_NAME])


def _previous_manifest(path: Path, month: str) -> list[dict[str, Any]]:
    """The ``lists`` entries of the published manifest of the same month (none when damaged)."""
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous.get("month") == month:
            return [e for e in previous.get("lists", []) if isinstance(e, dict)]
    except (OSError, ValueError, AttributeError):
        pass
    return []


def counts_table(lists: FollowupLists) -> str:
    """The counts of every list (and of rows in no Mission Locale list) as plain text, for --dry-run."""
    header = f"{'structure':<16}" + "".join(f"{s:>20}" for s in DATA_SHEETS)
    lines = [
        f"aioa followup {lists.month} (data as of {lists.as_of.date()}, reference date {lists.ref_date.date()})",
        header,
    ]
    for s, c in lists.counts().items():
        lines.append(f"{s:<16}" + "".join(f"{c[k]:>20}" for k in DATA_SHEETS))
    for sheet in DATA_SHEETS:
        nr = lists.not_routed.get(sheet, {})
        detail = ", ".join(f"{k}: {v}" for k, v in nr.items()) or "0"
        lines.append(f"not in any Mission Locale list — {sheet}: {detail}")
    lines.append(
        "rows without identity — " + ", ".join(f"{k}: {v}" for k, v in lists.without_identity.items())
    )
    return "\n".join(lines)
