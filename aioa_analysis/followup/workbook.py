"""Writing the month's lists: one xlsx workbook per structure ("Lisez-moi" first) and a manifest.

Text cells a spreadsheet would execute are neutralised (:func:`neutralise_cell`). Workbooks and the
manifest (counts only, no names) are written atomically with mode 0600 into a 0700 folder
(:func:`write_followup`); :func:`counts_table` prints the same counts for ``--dry-run``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import referential, safe
from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.errors import OutputError
from aioa_analysis.core.formatting import fr_month
from aioa_analysis.followup.lists import (
    DATA_SHEETS,
    SHEET_DIPLOMA,
    SHEET_RUPTURES,
    SHEET_SIGNED,
    FollowupLists,
)

SHEET_README: Final = "Lisez-moi"
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
    """The "Lisez-moi" sheet as (label, text) rows, in French."""
    ref = fr_date(lists.ref_date)
    labels = referential.territory_labels()
    counts = lists.counts()[structure["structure"]]
    terr = ", ".join(labels.get(t, t) for t in structure["territories"])
    lines: list[tuple[str, str]] = [
        ("", f"Liste de suivi mensuel — {structure['label']} — {month_label(lists.month)}"),
        *(
            [
                (
                    "DONNÉES FICTIVES",
                    "Liste produite à partir de l'échantillon synthétique : personnes inventées.",
                )
            ]
            if lists.synthetic
            else []
        ),
        (
            "À quoi sert cette liste",
            "Chaque mois, les jeunes de votre territoire qui ont signé un contrat d'apprentissage, dont le "
            "contrat a été rompu, ou qui ont obtenu (ou non) leur diplôme, pour qu'aucun jeune en rupture "
            "ne reste sans accompagnement.",
        ),
        (
            "Confidentialité",
            "Merci de ne pas diffuser ces listes. Elles contiennent des données personnelles réservées aux "
            "conseillers de la structure destinataire : ne pas les transmettre, les conserver dans un espace "
            "protégé et les supprimer dès qu'elles ne sont plus utiles.",
        ),
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
        (
            SHEET_SIGNED,
            "Contrats dont la date de début tombe dans le mois, et contrats signés dans le mois qui "
            "commencent plus tard (ils réapparaissent le mois de leur début).",
        ),
        (
            SHEET_RUPTURES,
            "Ruptures prenant effet dans le mois, et ruptures antérieures toujours sans nouveau contrat au "
            f"{ref}. Les jours depuis la rupture sont comptés au {ref}. La fenêtre de 180 jours se ferme "
            "180 jours après la date de rupture : à partir de cette date, sans nouveau contrat, le jeune est "
            "compté comme sorti de l'apprentissage (statut « abandon » du Tableau de bord de "
            "l'apprentissage) et ne figure plus dans cette liste.",
        ),
        (
            SHEET_DIPLOMA,
            "Résultats de la session d'examen close dans le mois (date du résultat, à défaut juillet de "
            "l'année de session) : « Oui » = diplôme obtenu (admis), « Non » = ajourné ou absent.",
        ),
        ("Age", f"Âge en années révolues au {ref}."),
        (
            "Hors territoire",
            "Les jeunes résidant hors du Loir-et-Cher, ou dont le code postal est absent ou inconnu de la "
            "table des territoires, ne figurent sur aucune liste de Mission Locale ; ils sont dénombrés "
            "dans le manifeste.",
        ),
        ("Sources", "Contrats : DECA, Tableau de bord, SIFA, chambres consulaires ; résultats d'examen."),
    ]
    return lines


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], readme: Sequence[tuple[str, str]]) -> Path:
    """Write one follow-up workbook ("Lisez-moi" first) atomically with mode 0600; return ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
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
    for name in DATA_SHEETS:
        df = sheets[name]
        sh = wb.create_sheet(name)
        for j, header in enumerate(df.columns, start=1):
            sh.cell(row=1, column=j, value=neutralise_cell(header)).font = Font(bold=True)
            sh.column_dimensions[sh.cell(row=1, column=j).column_letter].width = max(
                12, min(40, len(header) + 2)
            )
        for i, row in enumerate(df.itertuples(index=False), start=2):
            for j, value in enumerate(row, start=1):
                cell = sh.cell(row=i, column=j, value=_py(value))
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
        sh.freeze_panes = "A2"
        if len(df.columns):
            sh.auto_filter.ref = (
                f"A1:{sh.cell(row=1, column=len(df.columns)).column_letter}{max(1, len(df) + 1)}"
            )
    with atomic_path(path, mode=0o600) as tmp:
        wb.save(tmp)
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


def write_followup(lists: FollowupLists, out_dir: Path, *, generated_at: str | None = None) -> list[Path]:
    """Write one workbook per structure and update the month's manifest; return the paths written.

    ``out_dir`` (the month folder) is created with mode 0700; files get mode 0600. The manifest keeps
    the entries of structures written by earlier runs for the same month and replaces the others.
    """
    out_dir = Path(out_dir)
    _ensure_private_dir(out_dir)
    written: list[Path] = []
    files: dict[str, str] = {}
    for struct in lists.structures.to_dict("records"):
        name = workbook_name(struct["structure"], lists.month)
        path = write_workbook(out_dir / name, lists.sheets[struct["structure"]], readme_lines(lists, struct))
        files[struct["structure"]] = name
        written.append(path)
    manifest = manifest_dict(lists, files=files)
    if generated_at:
        manifest["generated_at"] = generated_at
    mpath = out_dir / MANIFEST_NAME
    if mpath.is_file():
        try:
            previous = json.loads(mpath.read_text(encoding="utf-8"))
            if previous.get("month") == manifest["month"]:
                kept = [e for e in previous.get("lists", []) if e.get("structure") not in files]
                manifest["lists"] = sorted(kept + manifest["lists"], key=lambda e: str(e.get("structure")))
        except (OSError, ValueError, AttributeError):
            pass  # a damaged manifest is replaced
    with atomic_path(mpath, mode=0o600) as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(mpath)
    return written


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
