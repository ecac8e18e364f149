"""« Qualité des données »: records read, kept, merged and rejected (by reason, per file and in total),
and the coverage of each CFA."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis.core.formatting import MISSING, fr_date, fr_number, fr_percent, table_html
from aioa_analysis.core.schema import C
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import UNKNOWN_LABEL, source_label
from aioa_analysis.reporting.sections.layout import heading, paragraph

QUALITY_CONTRACTS: Final = (
    ("exact_duplicates", "Doublons exacts (fusionnés)"),
    ("amendment_rows", "Lignes d'avenant (fusionnées avec leur contrat)"),
    ("contracts_from_several_files", "Contrats présents dans plusieurs fichiers"),
    ("contracts_with_conflicts", "Contrats aux sources discordantes"),
    ("planned_end_imputed", "Dates de fin prévue imputées"),
)


AS_OF_SOURCES: Final = {
    "file_name": (
        "la plus récente date d'extraction des fichiers datés ; chaque contrat n'est suivi que "
        "jusqu'à la date d'extraction des fichiers qui le mentionnent"
    ),
    "cli": "fixée à la commande",
    "argument": "fixée à la commande",
    "latest_event": "dernier événement des données",
    "latest_event_date": "dernier événement des données (aucun nom de fichier daté)",
}


REASON_LABELS: Final = {
    "no usable start date": "Pas de date de début exploitable",
    "impossible date": "Date impossible",
    "planned end before start": "Fin prévue avant le début",
    "no CFA and no diploma": "Ni CFA ni diplôme renseigné",
    "no planned end date": "Pas de date de fin prévue",
    "excluded: rupture before start": "Exclu : rupture datée avant le début du contrat",
    "excluded: contract cancelled in DECA": "Exclu : contrat annulé dans DECA",
}


REASON_PATTERNS: Final = (
    (re.compile(r"^excluded: statut DECA\s*(.*)$"), "Exclu : statut DECA « {} »"),
    (re.compile(r"^excluded: dispositif\s*(.*)$"), "Exclu : dispositif « {} »"),
    (re.compile(r"^excluded: (.*)$"), "Exclu : {}"),
)


def reason_label(reason: str) -> str:
    """French wording of a rejection reason of quality.json / rejected.csv.

    >>> reason_label("excluded: statut DECA Annulé"), reason_label("impossible date")
    ('Exclu : statut DECA « Annulé »', 'Date impossible')
    """
    text = str(reason).strip()
    if text in REASON_LABELS:
        return REASON_LABELS[text]
    for pattern, template in REASON_PATTERNS:
        m = pattern.match(text)
        if m:
            return template.format(m.group(1).strip())
    return text[:1].upper() + text[1:]


def count_of(d: dict[str, Any], key: str) -> int | None:
    """The count ``d[key]`` of quality.json, ``None`` when absent or not a number.

    >>> count_of({"rows_read": 12, "flag": True}, "rows_read"), count_of({"flag": True}, "flag")
    (12, None)
    """
    v = d.get(key)
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def dict_of(d: dict[str, Any], key: str) -> dict[str, Any]:
    """The object ``d[key]`` of quality.json, empty when absent or not an object."""
    v = d.get(key)
    return v if isinstance(v, dict) else {}


def _accounting(read: int | None, kept: int | None, merged: int | None, rejected: int | None) -> str:
    """Whether read = kept + merged + rejected, for the reader."""
    if None in (read, kept, merged, rejected):
        return MISSING
    gap = int(read) - int(kept) - int(merged) - int(rejected)  # type: ignore[arg-type]
    return "✓ égalité vérifiée" if gap == 0 else f"écart de {fr_number(gap)}"


def quality_files_table(quality: dict[str, Any]) -> pd.DataFrame:
    """Per-file accounting, plus a total row: read = kept + merged + rejected (display strings)."""
    files = (
        [f for f in quality.get("files", []) if isinstance(f, dict)]
        if isinstance(quality.get("files"), list)
        else []
    )
    rows = []
    for f in files:
        counts = [count_of(f, k) for k in ("rows_read", "rows_clean", "rows_merged", "rows_rejected")]
        rows.append(
            [Path(str(f.get("file", f.get("path", "?")))).name, source_label(f.get("profile", ""))]
            + [fr_number(c) for c in counts]
            + [_accounting(*counts)]
        )
    total = dict_of(quality, "total")
    if total:
        counts = [count_of(total, k) for k in ("rows_read", "rows_clean", "rows_merged", "rows_rejected")]
        rows.append(["Total", ""] + [fr_number(c) for c in counts] + [_accounting(*counts)])
    return pd.DataFrame(
        rows,
        columns=[
            "Fichier",
            "Source",
            "Lus",
            "Retenus",
            "Fusionnés",
            "Rejetés",
            "Lus = retenus + fusionnés + rejetés",
        ],
    )


def show_qualite(ctx: ReportContext) -> None:
    """Rows read, kept, merged, rejected by reason (per file and in total), coverage per CFA."""
    heading("qualite")
    if ctx.cfa_label:
        show_cfa_quality(ctx)
        return
    q = ctx.quality
    if not q:
        show_html(
            paragraph(
                "Aucun fichier de contrôle de qualité n'accompagne la table des contrats : relancer le "
                "nettoyage des données (commande « aioa clean »).",
                "unavailable",
            )
        )
    total = dict_of(q, "total")
    contracts = dict_of(q, "contracts")
    exams = dict_of(q, "exam_results")
    files_table = quality_files_table(q)
    if len(files_table):
        show_html(
            paragraph(
                "Chaque enregistrement lu (un contrat, ou un résultat d'examen) est soit retenu, soit fusionné "
                "avec un autre (doublon, avenant, même contrat présent dans plusieurs fichiers), soit rejeté : "
                "lus = retenus + fusionnés + rejetés, pour chaque fichier et au total."
            )
            + table_html(
                files_table,
                table_id="tab-qualite-fichiers",
                caption="Enregistrements lus, retenus, fusionnés et rejetés, par fichier",
                numeric=["Lus", "Retenus", "Fusionnés", "Rejetés"],
                note="Enregistrements retenus : contrats de la table nettoyée et résultats d'examen. Un contrat "
                "présent dans plusieurs fichiers est retenu une fois (dans la source prioritaire) et fusionné ailleurs.",
            )
        )
    rows: list[tuple[str, str]] = []
    n_contracts = count_of(contracts, "n_contracts")
    if n_contracts is not None:
        rows.append(("Contrats retenus (table des contrats)", fr_number(n_contracts)))
    if count_of(contracts, "n_ruptures") is not None:
        rows.append(("dont contrats rompus", fr_number(count_of(contracts, "n_ruptures"))))
    n_exams = count_of(exams, "n_records")
    if n_exams is not None:
        rows.append(("Résultats d'examen retenus", fr_number(n_exams)))
    kept = count_of(total, "rows_clean")
    if kept is not None:
        rows.append(("Enregistrements retenus (contrats + résultats d'examen)", fr_number(kept)))
    rows += [
        (label, fr_number(count_of(contracts, k)))
        for k, label in QUALITY_CONTRACTS
        if count_of(contracts, k) is not None
    ]
    if q.get("as_of"):
        how = AS_OF_SOURCES.get(str(q.get("as_of_source", "")), "")
        detail = (
            f", fixée par {q['as_of_detail']}"
            if q.get("as_of_source") == "file_name" and q.get("as_of_detail")
            else ""
        )
        rows.append(
            ("Date d'observation", f"{fr_date(q['as_of'])} ({how}{detail})" if how else fr_date(q["as_of"]))
        )
    rows += [
        (
            f"Contrats suivis seulement jusqu'au {fr_date(e['observed_until'])} (fichiers extraits plus tôt)",
            fr_number(e["n_contracts"]),
        )
        for e in q.get("observed_until_before_as_of") or []
    ]
    if rows:
        show_html(
            table_html(
                pd.DataFrame(rows, columns=["Indicateur", "Valeur"]),
                table_id="tab-qualite",
                caption="Table nettoyée : contrats et résultats d'examen",
            )
        )
    show_rejections(q)
    show_coverage(ctx)


def rejections_table(quality: dict[str, Any]) -> pd.DataFrame:
    """Rejections by reason (French), one column per file with rejections, and the total."""
    total = dict_of(dict_of(quality, "total"), "rejections_by_reason")
    files = (
        [f for f in quality.get("files", []) if isinstance(f, dict)]
        if isinstance(quality.get("files"), list)
        else []
    )
    per_file = [(Path(str(f.get("file", "?"))).name, dict_of(f, "rejections_by_reason")) for f in files]
    per_file = [(name, r) for name, r in per_file if r]
    reasons = list(total) or sorted({k for _, r in per_file for k in r})
    data: dict[str, list[str]] = {"Motif": [reason_label(k) for k in reasons]}
    for name, r in per_file:
        data[name] = [fr_number(r.get(k, 0)) for k in reasons]
    data["Total"] = [fr_number(total.get(k, sum(int(r.get(k, 0)) for _, r in per_file))) for k in reasons]
    return pd.DataFrame(data)


def show_rejections(quality: dict[str, Any]) -> None:
    t = rejections_table(quality)
    if len(t):
        show_html(
            table_html(
                t,
                table_id="tab-qualite-rejets",
                caption="Enregistrements rejetés ou exclus, par motif et par fichier",
                note="« Exclu » : contrat lisible mais hors du champ des taux (contrat annulé, rupture datée avant "
                "le début du contrat...). Le détail ligne à ligne est dans le fichier des rejets, réservé aux analystes.",
            )
        )


CFA_QUALITY: Final = (
    "Lecture, fusion et rejet des fichiers : ces comptes portent sur l'ensemble des fichiers reçus pour le "
    "département (voir le rapport départemental) ; les lignes rejetées ne sont pas rattachées à un CFA. "
    "Ci-dessous, les champs renseignés dans les contrats du CFA {cfa}, et dans ceux des autres CFA du département."
)


def show_cfa_quality(ctx: ReportContext) -> None:
    """A CFA report: one line on the file accounting (known département-wide only), then the CFA's own
    coverage (contracts, filled-in fields, source of its contracts) beside the département's."""
    show_html(paragraph(CFA_QUALITY.format(cfa=ctx.cfa_label)))
    show_coverage(ctx, only=str(ctx.params.get("cfa") or ""))


def show_coverage(ctx: ReportContext, *, only: str = "") -> None:
    """Contracts and filled-in fields per CFA, and the sources each CFA's contracts come from."""
    q = ctx.quality
    labels = ctx.results.cfa_labels
    dept = ctx.departement
    uai = dept[C.cfa_uai].astype("string").fillna("inconnu")
    if only:  # a CFA report: its own row, then the département as one row
        uai = uai.where(uai == only, "ensemble")
        labels = {**labels, "ensemble": "Autres CFA du département"}
    grouped = dept.groupby(uai)
    cov = grouped.size().rename("n").reset_index()
    cov = cov.assign(
        label=cov[C.cfa_uai]
        .map(labels)
        .fillna(cov[C.cfa_uai].map({"inconnu": UNKNOWN_LABEL}))
        .fillna(cov[C.cfa_uai])
    )
    t = pd.DataFrame({"CFA": cov["label"], "Contrats": [fr_number(v) for v in cov["n"]]})
    names = {
        C.employer_naf: "Code NAF renseigné",
        C.diploma_code: "Code diplôme renseigné",
        C.residence_postcode: "Code postal renseigné",
    }
    for col, header in names.items():
        if col in dept.columns:
            share = grouped[col].apply(lambda s: s.notna().mean()).reindex(cov[C.cfa_uai]).to_numpy()
            t[header] = [fr_percent(v, 0) for v in share]
    by_cfa = dict_of(q, "coverage").get("by_cfa")
    if isinstance(by_cfa, list):
        sources = {
            str(e.get("cfa_uai")): ", ".join(
                f"{source_label(k)} ({fr_number(v)})" for k, v in (e.get("by_source") or {}).items()
            )
            for e in by_cfa
            if isinstance(e, dict)
        }
        t["Source retenue (contrats)"] = [sources.get(str(u), "") for u in cov[C.cfa_uai]]
    show_html(
        table_html(
            t,
            table_id="tab-couverture",
            caption="Couverture par CFA : contrats et champs renseignés",
            numeric=["Contrats", *names.values()],
            note="Contrats du périmètre du rapport. Source retenue : fichier d'où provient la version retenue de "
            "chaque contrat (la source prioritaire quand un contrat figure dans plusieurs fichiers).",
        )
    )
