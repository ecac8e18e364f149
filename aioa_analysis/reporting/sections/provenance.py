"""« Provenance »: the files the report read with their SHA-256, its parameters, version and generation time."""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis import __version__
from aioa_analysis.core import referential
from aioa_analysis.core.formatting import MISSING, fr_date, fr_datetime, fr_number, table_html
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import source_label
from aioa_analysis.reporting.sections.layout import heading
from aioa_analysis.reporting.sections.qualite import count_of

PARAMETER_LABELS: Final = {
    "data_file": "Table des contrats",
    "quality_file": "Fichier de contrôle de qualité",
    "as_of": "Date d'observation",
    "cohorts": "Années scolaires retenues",
    "territory": "Territoire",
    "cfa": "CFA",
    "horizon": "Horizon du taux de rupture",
    "min_n": "Effectif minimal pour publier un taux",
    "title": "Titre",
    "meeting_date": "Date de la séance plénière",
    "sample": "Bandeau « Données fictives »",
}
"""French names of the report parameters, as the provenance table shows them."""


def parameter_rows(ctx: ReportContext) -> list[tuple[str, str]]:
    """The report's parameters as (French name, human-readable value) pairs."""
    p = ctx.params
    territories = referential.territory_labels()
    sample = {"auto": "automatique", "oui": "forcé", "non": "retiré"}.get(str(p["sample"]), str(p["sample"]))
    values = {
        "data_file": Path(str(p["data_file"])).name,
        "quality_file": Path(str(p["quality_file"])).name
        if p["quality_file"]
        else "quality.json, à côté de la table des contrats",
        "as_of": fr_date(p["as_of"]),
        "cohorts": str(p["cohorts"]).replace(",", ", ") if p["cohorts"] else "toutes",
        "territory": territories.get(str(p["territory"]), str(p["territory"]))
        if p["territory"]
        else "tout le département",
        "cfa": ctx.cfa_label or "tous (rapport départemental)",
        "horizon": f"{p['horizon']} mois",
        "min_n": f"{fr_number(p['min_n'])} contrats",
        "title": str(p["title"]),
        "meeting_date": fr_date(p["meeting_date"]) if p["meeting_date"] else "non renseignée",
        "sample": f"{sample} (affiché : {'oui' if ctx.sample else 'non'})",
    }
    return [(PARAMETER_LABELS.get(k, k), values.get(k, str(v))) for k, v in p.items()]


def provenance_files(ctx: ReportContext) -> pd.DataFrame:
    """Every file the report depends on, with its SHA-256: the clean tables and the input files."""
    rows: list[tuple[str, str, str, str]] = []
    for name, digest in ctx.inputs.items():
        if name.endswith(".parquet"):
            what, n = "Table des contrats nettoyée", fr_number(ctx.results.n_table_rows)
        else:
            what, n = "Contrôle de qualité du nettoyage", MISSING
        rows.append((name, what, n, digest))
    files = ctx.quality.get("files") if isinstance(ctx.quality.get("files"), list) else []
    for f in files or []:
        if not isinstance(f, dict):
            continue
        rows.append(
            (
                Path(str(f.get("file", f.get("path", "?")))).name,
                f"Fichier source : {source_label(f.get('profile', ''))}",
                fr_number(count_of(f, "rows_read")),
                str(f.get("sha256") or MISSING),
            )
        )
    return pd.DataFrame(rows, columns=["Fichier", "Rôle", "Enregistrements", "Empreinte SHA-256"])


def show_provenance(ctx: ReportContext, *, generated_at: str | None = None) -> None:
    """Input file hashes, parameters, package version and generation time."""
    heading("provenance")
    now = generated_at or _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    items = [("Généré le", fr_datetime(now)), ("Version du logiciel d'analyse", __version__)]
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
    files = provenance_files(ctx)
    params = pd.DataFrame(parameter_rows(ctx), columns=["Paramètre", "Valeur"])
    show_html(
        f'<dl class="provenance">{dl}</dl>'
        + table_html(
            files,
            table_id="tab-provenance-fichiers",
            caption="Fichiers utilisés et leur empreinte",
            numeric=["Enregistrements"],
            note="L'empreinte SHA-256 identifie le contenu exact d'un fichier : le même fichier donne toujours la "
            "même empreinte, et la moindre modification la change. Enregistrements : lignes de contrat ou de "
            "résultat d'examen lues dans le fichier source ; contrats dans la table nettoyée.",
        )
        + table_html(params, table_id="tab-parametres", caption="Paramètres du rapport", numeric=[])
    )
