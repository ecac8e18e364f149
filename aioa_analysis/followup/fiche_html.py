"""The fiche parcours as a printable French page, the index of a run, and the owner-only output set.

:func:`render_fiche` writes one offline HTML page (inline stylesheet ``templates/fiche.css``, no
script, no image, no link outside the folder) laid out for one or two A4 pages: the print
stylesheet's page margins carry a footer with the page number and, for the synthetic sample,
« DONNÉES FICTIVES » at the top of every page. :func:`write_fiches` commits every fiche, the index
(:func:`render_index`) and a manifest (counts only) as one set, files 0600 in 0700 folders
(:func:`aioa_analysis.core.commit.output_set`); a ``printer`` (the command's PDF printer) adds a PDF
next to each page before the set is published.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pandas as pd

from aioa_analysis import __version__
from aioa_analysis.core import contacts
from aioa_analysis.core.commit import output_set
from aioa_analysis.core.errors import OutputError
from aioa_analysis.core.formatting import fr_date, fr_number, french_spaces
from aioa_analysis.followup import rncp
from aioa_analysis.followup.fiche import RIGHT_MONTHS, Fiche
from aioa_analysis.followup.lists import SHEET_DONE

INDEX_NAME: Final = "index.html"
MANIFEST_NAME: Final = "manifest.json"
MISSING: Final = "–"
GRID: Final = ("Acquis", "En cours", "Non abordé")
"""The columns of the grid the CFA completes by hand for each block."""
BLANK_BLOCKS: Final = 4
"""Empty rows of the grid when the diploma's blocks are not known."""
BOX = "\u2610"


def fiche_name(fiche: Fiche) -> str:
    """The file stem of a fiche: ``fiche-<follow-up key>`` (pseudonymous, never the name)."""
    return f"fiche-{fiche.followup_id}"


@dataclass(frozen=True)
class FicheContext:
    """What every fiche of a run shares."""

    month: pd.Period
    ref_date: pd.Timestamp
    as_of: pd.Timestamp
    synthetic: bool
    mediators: pd.DataFrame
    blocks_files: tuple[str, ...] | None  # None: no RNCP export found
    generated: pd.Timestamp


_MARKUP = re.compile(r"(<style\b.*?</style>|<[^>]+>|&[#A-Za-z0-9]+;)", re.S | re.I)


def typeset(page: str) -> str:
    """French typography on the visible text only (tags, entities and the stylesheet untouched).

    >>> typeset('<p title="a : b">Droits : 6 mois</p>')
    '<p title="a : b">Droits\u202f: 6 mois</p>'
    """
    parts = _MARKUP.split(page)
    return "".join(part if i % 2 else french_spaces(part) for i, part in enumerate(parts))


def _t(value: object, default: str = MISSING) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return default
    text = str(value).strip()
    return html.escape(text, quote=False) if text else default


def _cell(value: object) -> str:
    """A contact detail, or a red « à compléter » when the editable table still says so."""
    return '<span class="todo">à compléter</span>' if contacts.is_placeholder(value) else _t(value)


def _months(x: object) -> str:
    return MISSING if x is None or pd.isna(x) else fr_number(x, 1)  # type: ignore[call-overload]


def _css() -> str:
    return (resources.files("aioa_analysis.followup") / "templates" / "fiche.css").read_text(encoding="utf-8")


def _page_style(fiche: Fiche | None, ctx: FicheContext) -> str:
    """The margin boxes: footer on every page, « DONNÉES FICTIVES » on top of every page of the sample."""
    what = f"Fiche parcours · {fiche.followup_id}" if fiche else f"Fiches parcours · {ctx.month}"
    top = (
        '@top-center { content: "DONNÉES FICTIVES — échantillon synthétique"; color: #a00020; '
        'font: 700 8.5pt "DejaVu Sans", Arial, sans-serif; letter-spacing: .08em; }'
        if ctx.synthetic
        else ""
    )
    foot = 'font: 7pt "DejaVu Sans", Arial, sans-serif; color: #6b7782;'
    return (
        f'@page {{ {top} @bottom-left {{ content: "{what} · document personnel, ne pas diffuser"; {foot} }} '
        f'@bottom-right {{ content: "page " counter(page) " / " counter(pages); {foot} }} }}'
    )


def _document(title: str, body: str, style: str, ctx: FicheContext) -> str:
    banner = (
        '<div class="banner screen-only">DONNÉES FICTIVES — échantillon synthétique, personnes inventées</div>'
        if ctx.synthetic
        else ""
    )
    title = title + (" (DONNÉES FICTIVES)" if ctx.synthetic else "")
    page = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{_t(title)}</title><style>{_css()}\n{style}</style></head>"
        f"<body><main>{banner}{body}</main></body></html>\n"
    )
    return typeset(page)


# --------------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------------
def _header(f: Fiche, ctx: FicheContext) -> str:
    p = f.person
    name = f"{_t(p['surname'], '')} {_t(p['first_name'], '')}".strip() or "Identité non trouvée"
    status = {SHEET_DONE: "déjà traité par la structure"}.get(f.status or "", "à traiter")
    listed = (
        f"<p>Liste de suivi : {_t(', '.join(f.listed_by))} ({status})</p>"
        if f.listed_by
        else "<p>Fiche établie pour un contrat</p>"
    )
    return (
        '<header><div><p class="over">Fiche parcours · après une rupture de contrat d\'apprentissage</p>'
        f"<h1>{name}</h1></div>"
        f'<div class="meta"><p class="private">Document personnel · ne pas diffuser</p>'
        f"<p>Établie le {fr_date(ctx.generated)}, données au {fr_date(ctx.as_of)}</p>{listed}</div></header>"
    )


def _person(f: Fiche) -> str:
    p = f.person
    age = "" if p["age"] is None or pd.isna(p["age"]) else f" ({int(p['age'])} ans)"
    missing = (
        ""
        if p["has_identity"]
        else '<p class="missing">Identité absente du registre restreint : compléter à la main.</p>'
    )
    return (
        '<section class="keep"><h2>Le jeune</h2><dl class="person">'
        f"<dt>Nom</dt><dd>{_t(p['surname'])}</dd><dt>Prénom</dt><dd>{_t(p['first_name'])}</dd>"
        f"<dt>Né(e) le</dt><dd>{fr_date(p['birth_date'])}{age}</dd><dt>Commune</dt><dd>{_t(p['commune'])}</dd>"
        f"</dl>{missing}</section>"
    )


def _experience(f: Fiche) -> str:
    rows = []
    for r in f.experience.itertuples(index=False):
        where = ", ".join(_t(v) for v in (r.sector, r.commune) if isinstance(v, str) and v.strip())
        issue = _t(r.state) + (f" le {fr_date(r.rupture_date)}" if pd.notna(r.rupture_date) else "")
        if isinstance(r.reason, str) and r.reason:
            issue += f" ({_t(r.reason.lower())})"
        cls = ' class="this"' if pd.notna(r.rupture_date) and r.rupture_date == f.rupture["date"] else ""
        rows.append(
            f"<tr{cls}><td><strong>{_t(r.employer)}</strong>{'<br>' + where if where else ''}</td>"
            f"<td>{_t(r.diploma)}{' (' + _t(r.diploma_code) + ')' if isinstance(r.diploma_code, str) else ''}</td>"
            f'<td class="dates">du {fr_date(r.start)}<br>{"au " + fr_date(r.end) if pd.notna(r.end) else _t(r.state)}</td>'
            f'<td class="num">{_months(r.months_firm)}</td><td class="num">{_months(r.months_training)}</td>'
            f"<td>{issue}</td></tr>"
        )
    n = int(f.totals["contracts"])
    total = (
        f'<tr class="total"><td colspan="3">Total ({n} contrat{"s" if n > 1 else ""}, périodes communes comptées '
        f'une fois)</td><td class="num">{_months(f.totals["months_firm"])}</td>'
        f'<td class="num">{_months(f.totals["months_training"])}</td><td></td></tr>'
    )
    reason = f.rupture["reason"] if isinstance(f.rupture["reason"], str) else "non renseigné"
    return (
        "<section><h2>Son expérience</h2>"
        f'<p class="key">Contrat rompu le <strong>{fr_date(f.rupture["date"])}</strong> chez '
        f"{_t(f.rupture['employer'])} ; motif de la rupture : {_t(reason.lower())}.</p>"
        '<table><thead><tr><th scope="col" class="w-emp">Employeur (secteur, commune)</th>'
        '<th scope="col" class="w-dip">Formation préparée</th><th scope="col">Dates</th><th scope="col" class="num">Mois en entreprise</th>'
        '<th scope="col" class="num">Mois de formation</th><th scope="col">Issue</th></tr></thead>'
        f"<tbody>{''.join(rows)}{total}</tbody></table>"
        '<p class="small">Mois en entreprise : du début du contrat à sa fin (ou à la date des données s\'il '
        "est en cours). Mois de formation : formation suivie au CFA pendant le contrat. Sources : contrats enregistrés (DECA, SIFA, chambres "
        "consulaires).</p></section>"
    )


def _blocks(f: Fiche, ctx: FicheContext) -> str:
    head = (
        '<thead><tr><th scope="col">Bloc</th><th scope="col">Intitulé</th>'
        + "".join(f'<th scope="col" class="box">{g}</th>' for g in GRID)
        + "</tr></thead>"
    )
    boxes = "".join(f'<td class="box">{BOX}</td>' for _ in GRID)
    if f.blocks is not None and len(f.blocks):
        body = "".join(
            f"<tr><td>{_t(b.code)}</td><td>{_t(b.label)}</td>{boxes}</tr>" for b in f.blocks.itertuples()
        )
        note = f'<p class="small">Blocs de compétences : {_t(", ".join(ctx.blocks_files or ()))} (France Compétences).</p>'
    else:
        body = "".join(f'<tr><td class="blank"></td><td></td>{boxes}</tr>' for _ in range(BLANK_BLOCKS))
        if f.blocks is None:
            why = "Blocs de compétences non disponibles : " + rncp.WHERE + "."
        elif not f.diploma["rncp"]:
            why = "Code RNCP du diplôme inconnu : le CFA recopie les blocs de la fiche RNCP du diplôme."
        else:
            why = f"Aucun bloc pour {f.diploma['rncp']} dans l'export RNCP : le CFA recopie ceux de la fiche du diplôme."
        note = f'<p class="missing">{_t(why)}</p>'
    return (
        "<h3>Grille à compléter par le CFA</h3>"
        "<p class=\"small\">Pour chaque bloc, cocher une case d'après le livret d'apprentissage et les évaluations.</p>"
        f'<table class="grid">{head}<tbody>{body}</tbody></table>{note}'
    )


def _skills(f: Fiche, ctx: FicheContext) -> str:
    d = f.diploma
    rncp_text = _t(d["rncp"], "code RNCP inconnu") + (
        " (d'après les autres contrats du même diplôme)" if d["rncp_derived"] else ""
    )
    exams = (
        "<ul>"
        + "".join(
            f"<li>Session {_t(e.session)} : {_t(e.diploma)} — {_t(e.result)}</li>"
            for e in f.exams.itertuples()
        )
        + "</ul>"
        if len(f.exams)
        else "<p>Aucun résultat d'examen connu à cette date.</p>"
    )
    return (
        "<section><h2>Ses compétences</h2>"
        f"<p>Diplôme préparé : <strong>{_t(d['title'])}</strong> — code diplôme {_t(d['code'])}, "
        f"{rncp_text}{', niveau ' + _t(d['level']) if d['level'] else ''}.</p>"
        f"<h3>Résultats d'examen déjà obtenus</h3>{exams}"
        '<p class="small">CAP et baccalauréat professionnel : chaque unité obtenue avec au moins 10/20 est un '
        "bloc de compétences acquis, conservé 5 ans ; le recteur délivre une attestation par bloc (Code de "
        "l'éducation, D337-5). Demander le relevé de notes au CFA.</p>"
        f"{_blocks(f, ctx)}</section>"
    )


def _contact_box(title: str, lines: list[str]) -> str:
    return f'<div class="contact"><h3>{title}</h3>' + "".join(f"<p>{x}</p>" for x in lines if x) + "</div>"


def _rights(f: Fiche, ctx: FicheContext) -> str:
    ml = f.mission_locale
    ml_box = (
        _contact_box(
            _t(ml["nom"]), [_cell(ml["adresse"]), f"{_cell(ml['telephone'])} · {_cell(ml['courriel'])}"]
        )
        if ml
        else _contact_box(
            "Mission Locale", ["Celle du lieu de résidence du jeune (hors des territoires de la table)."]
        )
    )
    cfa = f.cfa
    referent = (
        f"Référent : {_cell(cfa.get('contact'))} · {_cell(cfa.get('telephone'))} · {_cell(cfa.get('courriel'))}"
        if "contact" in cfa
        else '<span class="todo">référent à compléter (data/raw/contacts_cfa.csv)</span>'
    )
    cfa_box = _contact_box(f"CFA : {_t(cfa['nom'], 'non renseigné')}", [_t(cfa.get("adresse"), ""), referent])
    mediators = "".join(
        f"<p><strong>{_t(m.chambre)}</strong> : {_cell(m.telephone)} · {_cell(m.courriel)}</p>"
        for m in ctx.mediators.itertuples(index=False)
    )
    return (
        "<section><h2>Ses droits et les prochaines étapes</h2>"
        f'<p class="key"><strong>Jusqu\'au {fr_date(f.rupture["right_end"])}</strong> ({RIGHT_MONTHS} mois après '
        "la rupture), le jeune peut poursuivre sa formation au CFA sous le statut de stagiaire de la formation "
        "professionnelle, avec une protection sociale ; le CFA l'aide à trouver un nouvel employeur, avec la "
        "Mission Locale et France Travail (Code du travail, L6222-18-2 et L6231-2).</p>"
        "<ul><li>Un nouveau contrat signé pour achever la formation peut être plus court que la durée minimale "
        "habituelle, sans convention de réduction de durée (R6222-23-1) ; l'expérience acquise est prise en "
        "compte.</li><li>Les blocs et unités d'examen obtenus restent acquis : les montrer au futur employeur et au "
        "CFA.</li><li>En cas de désaccord avec l'employeur sur la rupture ou ses suites : le médiateur de la "
        "chambre consulaire.</li></ul>"
        f'<div class="cols keep">{ml_box}{cfa_box}</div>'
        f'<div class="contact keep"><h3>Médiateurs des chambres consulaires</h3>{mediators}</div></section>'
    )


def _followup(f: Fiche) -> str:
    o = f.outcome
    if o:
        known = (
            f"<p>Dernier contact le {fr_date(o.get('contact_date'))} : <strong>{_t(o.get('outcome'))}</strong>"
            f" ; situation à 3 mois : {_t(o.get('situation_3m'))} ; à 6 mois : {_t(o.get('situation_6m'))}.</p>"
        )
    else:
        known = "<p>Aucun résultat de contact enregistré par la boucle de suivi à ce jour.</p>"
    return (
        '<section class="keep"><h2>Suivi</h2>'
        f"{known}<h3>Notes (conseiller, CFA)</h3>" + '<div class="lines"></div>' * 4 + "</section>"
    )


def render_fiche(fiche: Fiche, ctx: FicheContext) -> str:
    """One fiche as a complete offline HTML page."""
    body = (
        _header(fiche, ctx)
        + _person(fiche)
        + _experience(fiche)
        + _skills(fiche, ctx)
        + _rights(fiche, ctx)
        + _followup(fiche)
        + f'<p class="small">Produit par aioa_analysis {__version__} pour le groupe de travail AIOA (Loir-et-Cher).</p>'
    )
    p = fiche.person
    title = f"Fiche parcours — {p['surname'] or ''} {p['first_name'] or ''}".strip()
    return _document(title, body, _page_style(fiche, ctx), ctx)


def render_index(fiches: list[Fiche], ctx: FicheContext, *, pdf: bool) -> str:
    """The run's index: one row per fiche (name, rupture, diploma, lists), linking the local files."""

    def link(f: Fiche, ext: str) -> str:
        return f'<a href="{fiche_name(f)}.{ext}">{ext.upper()}</a>'

    rows = "".join(
        f"<tr><td>{_t(f.person['surname'])} {_t(f.person['first_name'], '')}</td><td>{fr_date(f.rupture['date'])}</td>"
        f"<td>{_t(f.diploma['title'])}</td><td>{_t(', '.join(f.listed_by))}</td>"
        f"<td>{link(f, 'html')}{' · ' + link(f, 'pdf') if pdf else ''}</td></tr>"
        for f in fiches
    )
    body = (
        '<header><div><p class="over">Fiches parcours · après une rupture de contrat d\'apprentissage</p>'
        f'<h1>Fiches du mois {_t(str(ctx.month))}</h1></div><div class="meta">'
        '<p class="private">Données personnelles · accès restreint</p>'
        f"<p>{len(fiches)} fiche(s), données au {fr_date(ctx.as_of)}</p></div></header>"
        '<nav class="index"><table><thead><tr><th scope="col">Jeune</th><th scope="col">Rupture</th>'
        '<th scope="col">Formation</th><th scope="col">Listes de suivi</th><th scope="col">Fiche</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></nav>"
    )
    return _document(f"Fiches parcours {ctx.month}", body, _page_style(None, ctx), ctx)


# --------------------------------------------------------------------------------------------------
# the output set
# --------------------------------------------------------------------------------------------------
_EXTERNAL = re.compile(r"""(?:\b(?:src|href|action)\s*=\s*["']?\s*[a-z][a-z0-9+.-]*:|@import|url\()""", re.I)


def external_references(page: str) -> list[str]:
    """Every reference of the page to something outside its folder (scheme in a link, import, url()).

    >>> external_references('<a href="fiche-S1.html">x</a><img src="https://x.fr/a.png">')
    ['src="https:']
    """
    return [m.group(0) for m in _EXTERNAL.finditer(page)]


def _private_dir(path: Path) -> None:
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o700)
    os.chmod(path, 0o700)


def manifest(fiches: list[Fiche], ctx: FicheContext, *, selection: str, pdf: bool) -> dict[str, Any]:
    """The run's manifest: counts only (no name, no key)."""
    by_structure: dict[str, int] = {}
    for f in fiches:
        for s in f.listed_by:
            by_structure[s] = by_structure.get(s, 0) + 1
    return {
        "month": str(ctx.month),
        "as_of": ctx.as_of.date().isoformat(),
        "reference_date": ctx.ref_date.date().isoformat(),
        "selection": selection,
        "fiches": len(fiches),
        "by_structure": dict(sorted(by_structure.items())),
        "treated": sum(f.status == SHEET_DONE for f in fiches),
        "with_blocks": sum(f.blocks is not None and len(f.blocks) > 0 for f in fiches),
        "rncp_export": ctx.blocks_files is not None,
        "pdf": pdf,
        "synthetic": ctx.synthetic,
        "generated_at": ctx.generated.isoformat(),
        "aioa_analysis": __version__,
    }


def write_fiches(
    fiches: list[Fiche],
    out_dir: Path,
    ctx: FicheContext,
    *,
    selection: str,
    printer: Callable[[Path, Path], object] | None = None,
    wait: float = 60.0,
) -> list[Path]:
    """Write every fiche, the index and the manifest into ``out_dir`` as one owner-only set.

    ``printer(html_path, pdf_path)`` (optional) prints each page to PDF inside the staged set.
    Returns the published paths of the fiches (HTML).
    """
    out_dir = Path(out_dir)
    try:
        _private_dir(out_dir)
    except OSError as exc:
        raise OutputError(f"dossier {out_dir} impossible à créer : {exc.strerror or exc}") from exc
    with output_set(out_dir, mode=0o600, wait=wait) as stage:
        for f in fiches:
            page = render_fiche(f, ctx)
            found = external_references(page)
            if found:  # never expected: every text is escaped
                raise OutputError(f"la fiche ferait appel à l'extérieur : « {found[0]} »")
            (stage / f"{fiche_name(f)}.html").write_text(page, encoding="utf-8")
            if printer is not None:
                printer(stage / f"{fiche_name(f)}.html", stage / f"{fiche_name(f)}.pdf")
        (stage / INDEX_NAME).write_text(render_index(fiches, ctx, pdf=printer is not None), encoding="utf-8")
        data = manifest(fiches, ctx, selection=selection, pdf=printer is not None)
        (stage / MANIFEST_NAME).write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    for folder in (out_dir / ".aioa", *(out_dir / ".aioa").rglob("*")):
        if folder.is_dir() and not folder.is_symlink():
            os.chmod(folder, 0o700)
    return [out_dir / f"{fiche_name(f)}.html" for f in fiches]
