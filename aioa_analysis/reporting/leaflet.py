"""The employer leaflet (« plaquette »): one French A4 sheet, recto verso, per employer sector.

Handed to employers when a contract is signed (working group's minutes: « faire connaître la
médiation aux entreprises lors de la signature du contrat »). Each leaflet has:

* **Les chiffres de votre secteur en Loir-et-Cher**: the sector's 9-month rupture rate beside the
  département's and France's published reference, in plain words (« environ 1 contrat sur 3 »), the
  share of ruptures in the first 45 days and the months when running contracts break most often;
* **Les 45 premiers jours** (L6222-18) and what changes after them;
* **La médiation**: the consular mediator, D6222-21-1, and the contacts of the chambers' mediators
  and of the CFAs' referents (:mod:`aioa_analysis.core.contacts`);
* **Ce qui aide**: the working group's advice, an editable Markdown file
  (``plaquette_conseils.md``, :func:`advice_html`);
* the date of the figures and their sources, and « DONNÉES FICTIVES » on each page of a leaflet
  built from the synthetic sample.

Statistics come from :mod:`aioa_analysis.stats` with the report's rules: the rate by sector gets the
report's primary and secondary suppression (:func:`aioa_analysis.stats.suppression.suppress_rates`);
a sector whose figure is not published falls back to the département's figure, and the leaflet says
so. The page is offline HTML (inline CSS and SVG, no script, no URL); :mod:`.pdf` prints it.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import mistune
import pandas as pd

from aioa_analysis import __version__
from aioa_analysis.core import contacts, referential
from aioa_analysis.core.atomic import atomic_path
from aioa_analysis.core.commit import output_set
from aioa_analysis.core.errors import ReportError
from aioa_analysis.core.formatting import MONTHS_FR, fr_date, fr_number, fr_percent
from aioa_analysis.core.schema import C
from aioa_analysis.stats import rates, seasonality
from aioa_analysis.stats.reference_rates import reference_lines
from aioa_analysis.stats.suppression import MIN_N_DEFAULT, suppress_rates

log = logging.getLogger(__name__)

HORIZON_MONTHS = 9
"""The DARES headline horizon, the one the leaflet shows."""

MONTHS_MIN_RUPTURES = 100
"""Fewest ruptures for a sector's own « mois les plus sensibles »: below that the top three months
are mostly noise (about 8 ruptures a month), so the département's months are shown instead."""

DEPARTEMENT = "departement"
SECTEUR = "secteur"
NBSP = "\u00a0"
SCHOOL_YEAR_MONTHS = (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)
"""Month order of the small chart: the school year, from September."""

SOURCE_LABELS = {
    "deca_extract": "DECA",
    "deca_api": "DECA",
    "tba_upload": "Tableau de bord de l'apprentissage",
    "sifa": "SIFA",
    "chamber": "chambres consulaires",
    "exam_results": "résultats d'examens",
}


def sector_keys() -> list[str]:
    """The employer sectors of the report (``sectors.csv``), in the table's order.

    >>> len(sector_keys()), sector_keys()[0]
    (13, 'agriculture')
    """
    return list(dict.fromkeys(referential.load_table("sectors.csv")["sector"]))


def in_plain_words(rate: float) -> str:
    """A share said the way a reader remembers it: « environ 1 contrat sur 3 ».

    The closest of « 1 sur N » (N = 2..100) and « k sur 10 » (k = 1..9, reduced: 2 sur 10 is 1 sur 5);
    « 1 sur N » wins unless « k sur 10 » is closer by more than half a point.

    >>> [in_plain_words(r) for r in (0.33, 0.224, 0.28, 0.36, 0.40, 0.178, 0.0)]
    ['environ 1 contrat sur 3', 'environ 1 contrat sur 5', 'environ 3 contrats sur 10', \
'environ 1 contrat sur 3', 'environ 4 contrats sur 10', 'environ 1 contrat sur 6', 'aucun contrat']
    """
    if not rate or rate <= 0:
        return "aucun contrat"
    if rate < 0.01:
        return "moins d'1 contrat sur 100"
    if rate >= 0.95:
        return "presque tous les contrats"
    n = min(range(2, 101), key=lambda d: abs(1 / d - rate))
    k = min(range(1, 10), key=lambda t: abs(t / 10 - rate))
    if abs(k / 10 - rate) + 0.005 < abs(1 / n - rate):  # « k sur 10 » clearly closer
        return f"environ 1 contrat sur {10 // k}" if k in (2, 5) else f"environ {k} contrats sur 10"
    return f"environ 1 contrat sur {n}"


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectorFigures:
    """What one leaflet shows; a ``*_scope`` is :data:`SECTEUR` or :data:`DEPARTEMENT`."""

    sector: str
    label: str
    rate: float  # the sector's rate, or the département's when rate_scope is "departement"
    rate_scope: str
    rate_reason: str  # why the sector's rate is not published ('' when it is)
    dept_rate: float
    france_rate: float
    france_label: str  # « France, hébergement-restauration » or « France, tous secteurs »
    france_note: str  # population and source of the reference
    early_share: float
    early_scope: str
    month_rates: pd.Series  # ruptures per contract-month, index 1..12
    months_scope: str
    peak_months: tuple[int, ...] = field(default_factory=tuple)


def _published_rates(contracts: pd.DataFrame, as_of: pd.Timestamp, min_n: int) -> pd.DataFrame:
    """Rate by sector with the report's suppression (empty groups dropped first), indexed by sector."""
    t = rates.rupture_rate_within(
        contracts, as_of=as_of, by="sector", horizon_months=HORIZON_MONTHS, min_n=min_n
    )
    t = t.loc[t["n_contracts"] > 0].reset_index(drop=True)
    t = suppress_rates(t, by=["sector"], min_n=min_n)
    return t.assign(sector=t["sector"].astype(str)).set_index("sector")


def _early_shares(contracts: pd.DataFrame, as_of: pd.Timestamp, min_n: int, by: str | None) -> pd.DataFrame:
    """Share of the observed ruptures in the first 45 days (phase ``0-45j``) and whether it is shown."""
    ph = rates.rupture_phases(contracts, as_of=as_of, by=by, min_n=min_n)
    ph = ph.loc[ph["phase"] == "0-45j"]
    key = ph[by].astype(str) if by else pd.Series(DEPARTEMENT, index=ph.index)
    return pd.DataFrame(
        {"share": ph["share_of_ruptures"].to_numpy(), "hidden": ph["share_suppressed"].to_numpy(dtype=bool)},
        index=key.to_numpy(),
    )


def _month_rates(contracts: pd.DataFrame, as_of: pd.Timestamp, min_n: int, by: str | None) -> pd.DataFrame:
    """Monthly rupture hazard by calendar month (rows: sector or département; columns 1..12) and
    the total ruptures of each row (column ``total``)."""
    s = seasonality.rupture_seasonality(contracts, as_of=as_of, by=by, min_n=min_n)
    key = s[by].astype(str) if by else pd.Series(DEPARTEMENT, index=s.index)
    s = s.assign(_key=key.to_numpy())
    wide = s.pivot_table(index="_key", columns="month", values="rate", aggfunc="first")
    wide = wide.reindex(columns=range(1, 13))
    total = s.groupby("_key")["n_ruptures"].sum()
    hidden = s.groupby("_key")["suppressed"].any()
    return wide.assign(total=total, hidden=hidden)


def _france_reference(sector: str) -> tuple[float, str, str]:
    """France's published 9-month rate for ``sector`` (else all sectors): value, label, note."""
    for dimension in ("sector", None):
        ref = reference_lines(dimension=dimension, horizon_months=HORIZON_MONTHS, geography="France")
        if dimension:
            ref = ref.loc[ref["category"] == sector]
        if len(ref):
            row = ref.iloc[0]
            what = referential.sector_labels().get(sector, sector).lower() if dimension else "tous secteurs"
            return float(row["value"]), f"France, {what}", f"{row['population']} ; {row['source']}"
    return float("nan"), "France", ""


def _peak_months(month_rates: pd.Series, k: int = 3) -> tuple[int, ...]:
    """The ``k`` calendar months with the highest hazard (ties: calendar order).

    >>> _peak_months(pd.Series([1, 5, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0], index=range(1, 13)))
    (2, 4, 3)
    """
    valid = month_rates.dropna()
    return tuple(int(m) for m in valid.sort_values(ascending=False, kind="stable").index[:k])


def compute_figures(
    contracts: pd.DataFrame, *, as_of: object, min_n: int = MIN_N_DEFAULT
) -> dict[str, SectorFigures]:
    """The figures of every sector's leaflet, computed once for all sectors (key: sector).

    A sector whose rate is suppressed (report's rules) shows the département's rate, 45-day share
    and months; one whose rate is shown but whose ruptures are too few for the 45-day share
    (fewer than ``min_n``) or the months (fewer than :data:`MONTHS_MIN_RUPTURES`) falls back for
    that figure only.
    """
    ts = pd.Timestamp(as_of)
    by_sector = _published_rates(contracts, ts, min_n)
    overall = rates.rupture_rate_within(contracts, as_of=ts, horizon_months=HORIZON_MONTHS, min_n=min_n)
    if overall.empty or bool(overall["suppressed"].iloc[0]):
        raise ReportError(
            f"trop peu de contrats observés {HORIZON_MONTHS} mois (moins de {min_n}) pour une plaquette",
            hint="vérifiez --data et --as-of",
        )
    dept_rate = float(overall["rate"].iloc[0])
    early = pd.concat(
        [_early_shares(contracts, ts, min_n, "sector"), _early_shares(contracts, ts, min_n, None)]
    )
    months = pd.concat(
        [_month_rates(contracts, ts, min_n, "sector"), _month_rates(contracts, ts, min_n, None)]
    )
    labels = referential.sector_labels()
    out: dict[str, SectorFigures] = {}
    for sector in sector_keys():
        shown = sector in by_sector.index and not bool(by_sector.loc[sector, "suppressed"])
        reason = "" if shown else _reason(by_sector, sector, min_n)
        own_early = shown and sector in early.index and not bool(early.loc[sector, "hidden"])
        own_months = (
            shown
            and sector in months.index
            and months.loc[sector, "total"] >= MONTHS_MIN_RUPTURES
            and not bool(months.loc[sector, "hidden"])
        )
        month_key = sector if own_months else DEPARTEMENT
        month_rates = months.loc[month_key, list(range(1, 13))].astype(float)
        france_rate, france_label, france_note = _france_reference(sector)
        out[sector] = SectorFigures(
            sector=sector,
            label=labels.get(sector, sector),
            rate=float(by_sector.loc[sector, "rate"]) if shown else dept_rate,
            rate_scope=SECTEUR if shown else DEPARTEMENT,
            rate_reason=reason,
            dept_rate=dept_rate,
            france_rate=france_rate,
            france_label=france_label,
            france_note=france_note,
            early_share=float(early.loc[sector if own_early else DEPARTEMENT, "share"]),
            early_scope=SECTEUR if own_early else DEPARTEMENT,
            month_rates=month_rates,
            months_scope=SECTEUR if own_months else DEPARTEMENT,
            peak_months=_peak_months(month_rates),
        )
    return out


def _reason(by_sector: pd.DataFrame, sector: str, min_n: int) -> str:
    if sector not in by_sector.index:
        return "aucun contrat de ce secteur observé sur 9 mois"
    reason = str(by_sector.loc[sector, "suppression_reason"])
    if reason.startswith("effectif"):
        return f"moins de {min_n} contrats observés sur 9 mois"
    return "règle de secret statistique des rapports (masquage secondaire)"


# --- editable texts and contacts ----------------------------------------------------------------


class _PlainLinks(mistune.HTMLRenderer):
    """Markdown renderer printing links and images as text: the leaflet fetches and links nothing."""

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return text

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return html.escape(text)


def advice_html(path: Path | None = None) -> str:
    """The working group's advice (``plaquette_conseils.md``, user copy first) as HTML.

    HTML comments are dropped (they explain how to edit the file); raw HTML is escaped; links and
    images become plain text.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "c.md"
    >>> _ = p.write_text("<!-- note -->\\n- **Parler tôt** : voir [le site](https://x.fr)\\n", encoding="utf-8")
    >>> advice_html(p)
    '<ul>\\n<li><strong>Parler tôt</strong>\\xa0: voir le site</li>\\n</ul>\\n'
    """
    path = path or contacts.user_file("plaquette_conseils.md")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"conseils de la plaquette {path} illisibles : {exc}") from exc
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    md = mistune.create_markdown(escape=True, renderer=_PlainLinks(escape=True))
    return _nbsp(str(md(text)))


def _nbsp(text: str) -> str:
    """French typography: a no-break space before « : ; ? ! » (ordinary space replaced).

    >>> _nbsp("Contacts : CMA ; CCI") == "Contacts\\xa0: CMA\\xa0; CCI"
    True
    """
    return re.sub(r" ([:;?!])", NBSP + r"\1", text)


def _t(text: object) -> str:
    """Escaped text with French no-break spaces."""
    return _nbsp(html.escape(str(text), quote=False))


def cfas_of_sector(contracts: pd.DataFrame, sector: str, limit: int = 6) -> list[str]:
    """UAIs of the CFAs training the sector's apprentices, most contracts first (at most ``limit``)."""
    if C.cfa_uai not in contracts or "sector" not in contracts:
        return []
    uai = contracts.loc[contracts["sector"].astype("string") == sector, C.cfa_uai].dropna().astype(str)
    return list(uai.value_counts().index[:limit])


# --- page ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeafletContext:
    """What every leaflet of a run shares: date, sample flag, sources, contacts, advice."""

    as_of: pd.Timestamp
    sample: bool
    sources: str
    first_start: pd.Timestamp | None
    mediators: pd.DataFrame
    cfa_contacts: pd.DataFrame
    advice: str


def sources_label(quality: dict) -> str:
    """The data sources named in quality.json (« DECA, SIFA »), or a generic wording.

    >>> sources_label({"files": [{"profile": "deca_extract"}, {"profile": "sifa"}, {"profile": "deca_api"}]})
    'DECA, SIFA'
    >>> sources_label({})
    'fichiers des membres du groupe de travail'
    """
    names = [
        SOURCE_LABELS.get(str(f.get("profile")), "") for f in quality.get("files", []) if isinstance(f, dict)
    ]
    names = list(dict.fromkeys(n for n in names if n))
    return ", ".join(names) if names else "fichiers des membres du groupe de travail"


def _css() -> str:
    return (resources.files("aioa_analysis.reporting") / "templates" / "plaquette.css").read_text(
        encoding="utf-8"
    )


def _where(scope: str) -> str:
    return "votre secteur en Loir-et-Cher" if scope == SECTEUR else "l'ensemble du Loir-et-Cher"


def _bars(fig: SectorFigures) -> str:
    """Three horizontal CSS bars: the sector (or département), the département, France."""
    rows = []
    if fig.rate_scope == SECTEUR:
        rows.append(("Votre secteur en Loir-et-Cher", fig.rate, "bar-sector"))
    rows.append(("Tous secteurs en Loir-et-Cher", fig.dept_rate, "bar-dept"))
    if fig.france_rate == fig.france_rate:  # not NaN
        rows.append((f"{fig.france_label} (référence publiée)", fig.france_rate, "bar-france"))
    scale = max(max(r[1] for r in rows), 0.01) * 1.15
    items = "".join(
        f'<div class="bar-row"><span class="bar-label">{_t(label)}</span>'
        f'<span class="bar-track"><span class="bar {cls}" style="width:{100 * value / scale:.1f}%"></span></span>'
        f'<span class="bar-value">{_t(fr_percent(value, 0))}</span></div>'
        for label, value, cls in rows
    )
    return f'<div class="bars" role="img" aria-label="Taux de rupture à 9 mois">{items}</div>'


def _months_svg(fig: SectorFigures) -> str:
    """A small inline SVG: the monthly hazard from September to August, the peak months darker."""
    values = [float(fig.month_rates.get(m, float("nan"))) for m in SCHOOL_YEAR_MONTHS]
    top = max([v for v in values if v == v] or [1.0]) or 1.0
    width, height, bar_w, gap, base = 240, 74, 16, 4, 60
    parts = []
    for i, (m, v) in enumerate(zip(SCHOOL_YEAR_MONTHS, values, strict=True)):
        x = 4 + i * (bar_w + gap)
        h = 0.0 if v != v else 52 * v / top
        cls = "peak" if m in fig.peak_months else "month"
        parts.append(
            f'<rect class="{cls}" x="{x}" y="{base - h:.1f}" width="{bar_w}" height="{h:.1f}"></rect>'
            f'<text x="{x + bar_w / 2}" y="{base + 11}" text-anchor="middle">{MONTHS_FR[m - 1][0].upper()}</text>'
        )
    label = "Ruptures pour 100 contrats en cours, par mois, de septembre à août"
    return (
        f'<svg class="months" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(label)}">{"".join(parts)}</svg>'
    )


def _months_sentence(fig: SectorFigures) -> str:
    """« Dans votre secteur, les contrats en cours sont le plus souvent rompus en ... »."""
    if not fig.peak_months:
        return ""
    ordered = [m for m in SCHOOL_YEAR_MONTHS if m in fig.peak_months]
    names = [MONTHS_FR[m - 1] for m in ordered]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
    top = fig.peak_months[0]
    peak = float(fig.month_rates.get(top, float("nan")))
    where = "Dans votre secteur" if fig.months_scope == SECTEUR else "Dans l'ensemble du Loir-et-Cher"
    return (
        f"{where}, les contrats en cours sont le plus souvent rompus en <strong>{_t(listed)}</strong>. "
        f"Au plus haut, en {_t(MONTHS_FR[top - 1])}, environ {_t(fr_number(100 * peak, 1))} contrats en cours "
        "sur 100 sont rompus dans le mois."
    )


def _fallback_notes(fig: SectorFigures) -> list[str]:
    notes = []
    if fig.rate_scope == DEPARTEMENT:
        notes.append(
            f"Pour votre secteur, pas de chiffre publié en Loir-et-Cher ({fig.rate_reason}) : "
            "les chiffres ci-dessous sont ceux de l'ensemble du département."
        )
    else:
        if fig.early_scope == DEPARTEMENT:
            notes.append(
                "Trop peu de ruptures dans votre secteur pour la part des 45 jours : chiffre du département."
            )
        if fig.months_scope == DEPARTEMENT:
            notes.append("Trop peu de ruptures dans votre secteur pour les mois : mois du département.")
    return notes


def _figures_section(fig: SectorFigures) -> str:
    where = _where(fig.rate_scope)
    notes = "".join(f'<p class="fallback">{_t(n)}</p>' for n in _fallback_notes(fig))
    words = in_plain_words(fig.rate)
    verb = (
        "n'est rompu" if words.startswith("aucun") else "sont rompus" if "contrats" in words else "est rompu"
    )
    headline = (
        f'<p class="headline">Dans {_t(where)}, <strong>{_t(words)}</strong> {_t(verb)} '
        f'dans les 9 premiers mois <span class="rate">({_t(fr_percent(fig.rate, 0))})</span>.</p>'
    )
    early = (
        f'<div class="card"><h3>Dans les 45 premiers jours</h3><p class="big">{_t(fr_percent(fig.early_share, 0))}</p>'
        f"<p>des ruptures observées dans {_t(_where(fig.early_scope))} ont lieu dans les 45 jours qui suivent "
        "le début du contrat.</p></div>"
    )
    months = (
        f'<div class="card"><h3>Les mois les plus sensibles</h3>{_months_svg(fig)}'
        f"<p>{_nbsp(_months_sentence(fig))}</p></div>"
    )
    return (
        f'<section class="figures"><h2>Les chiffres de votre secteur en Loir-et-Cher</h2>{notes}{headline}'
        f'{_bars(fig)}<p class="small">Taux de rupture à 9 mois : part des contrats rompus dans les 9 mois qui '
        f"suivent leur début.</p>"
        f'<div class="cards">{early}{months}</div></section>'
    ).replace(" : ", f"{NBSP}: ")


LEGAL_45_DAYS = (
    "<p>Pendant les <strong>45 premiers jours de formation pratique en entreprise</strong>, consécutifs ou "
    "non, l'employeur comme l'apprenti peuvent rompre le contrat seuls, sans motif ni préavis (article "
    "L6222-18 du Code du travail). Seuls les jours passés dans l'entreprise comptent : les jours au CFA ne "
    "comptent pas et les absences suspendent le décompte. La rupture se fait par écrit et est notifiée au "
    "directeur du CFA et à l'organisme qui a enregistré le contrat (l'OPCO).</p>"
    '<div class="cols"><div><h3>Après les 45 jours</h3><p>Le contrat ne peut plus être rompu que :</p><ul>'
    "<li>d'un commun accord, par écrit ;</li>"
    "<li>par un licenciement pour faute grave, force majeure, inaptitude constatée par le médecin du "
    "travail, ou décès de l'employeur maître d'apprentissage dans une entreprise unipersonnelle ;</li>"
    "<li>par la démission de l'apprenti, <strong>après avoir saisi le médiateur consulaire</strong>.</li>"
    "</ul></div><div><h3>Le bon moment pour faire le point</h3><p>Ces 45 jours servent à vérifier que le "
    "métier, l'équipe et le rythme de l'alternance conviennent à chacun. Un entretien avec l'apprenti et "
    "le CFA avant leur fin permet d'ajuster ce qui doit l'être.</p></div></div>"
)

MEDIATION = (
    "<p>Le <strong>médiateur consulaire</strong> est désigné par la chambre dont relève l'entreprise : "
    "chambre de métiers et de l'artisanat (entreprises artisanales), chambre d'agriculture (exploitations et "
    "entreprises agricoles), chambre de commerce et d'industrie (les autres entreprises). L'employeur comme "
    "l'apprenti (ou sa famille) peuvent le solliciter pour résoudre un désaccord sur l'exécution ou la "
    "rupture du contrat, de préférence avant que la situation ne se bloque.</p>"
    '<p class="key">Après les 45 premiers jours, un apprenti qui veut démissionner doit d\'abord saisir le '
    "médiateur. Il informe ensuite l'employeur, au moins 5 jours calendaires après cette saisine, et la "
    "rupture prend effet au moins 7 jours calendaires après cette information (article D6222-21-1 du Code "
    "du travail).</p>"
)


def _cell(value: object) -> str:
    if contacts.is_placeholder(value):
        return '<span class="todo">à compléter</span>'
    return _t(value)


def _mediators_table(mediators: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td><strong>{_t(r.chambre)}</strong><br>{_t(r.service)}"
        f"{'' if contacts.is_placeholder(r.territoire) else ' — ' + _t(r.territoire)}</td>"
        f"<td>{_cell(r.adresse)}</td><td>{_cell(r.telephone)}<br>{_cell(r.courriel)}</td>"
        f"<td>{_cell(r.site)}</td></tr>"
        for r in mediators.itertuples(index=False)
    )
    return (
        '<table class="contacts"><caption>Les médiateurs consulaires</caption><thead><tr><th scope="col">Chambre</th>'
        '<th scope="col">Adresse</th><th scope="col">Téléphone, courriel</th><th scope="col">Site</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _cfa_block(cfa_contacts: pd.DataFrame, cfas: list[str]) -> str:
    """Referents of the CFAs training the sector (no personal name printed: the CFA and its numbers)."""
    generic = (
        "<p>Au CFA, <strong>le référent de votre CFA</strong> (suivi des apprentis, médiation) peut aussi "
        "intervenir dès les premières difficultés : ses coordonnées vous sont données par le CFA à la "
        "signature du contrat.</p>"
    )
    if cfa_contacts.empty:
        return generic
    known = cfa_contacts.drop_duplicates("uai").set_index("uai")
    shown = [u for u in cfas if u in known.index] or list(known.index[:6])
    if not shown:
        return generic
    rows = "".join(
        f"<tr><td>{_t(known.loc[u, 'nom'] or u)}</td><td>{_cell(known.loc[u, 'telephone'])}</td>"
        f"<td>{_cell(known.loc[u, 'courriel'])}</td></tr>"
        for u in shown
    )
    return (
        "<p>Au CFA, le référent (suivi des apprentis, médiation) peut aussi intervenir dès les premières "
        "difficultés.</p>"
        '<table class="contacts"><caption>Les référents des CFA de votre secteur</caption><thead><tr>'
        '<th scope="col">CFA</th><th scope="col">Téléphone</th><th scope="col">Courriel</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _method_note(fig: SectorFigures, ctx: LeafletContext) -> str:
    cutoff = ctx.as_of - pd.DateOffset(months=HORIZON_MONTHS)
    since = (
        f"entre le {fr_date(ctx.first_start)} et le {fr_date(cutoff)}"
        if ctx.first_start is not None
        else (f"avant le {fr_date(cutoff)}")
    )
    france = f" Référence France : {fig.france_note}." if fig.france_note else ""
    return (
        f'<section class="method"><h3>D\'où viennent ces chiffres</h3><p>Chiffres au {fr_date(ctx.as_of)}, '
        f"contrats d'apprentissage d'employeurs du Loir-et-Cher commencés {since} (suivis au moins 9 mois). "
        f"Sources : {_t(ctx.sources)}, traitées par le groupe de travail AIOA (aioa_analysis {__version__}). "
        "Les ruptures après l'obtention du diplôme ne sont pas comptées dans le taux. Les 45 jours sont comptés "
        "en jours de calendrier depuis le début du contrat (approximation des 45 jours de formation pratique). "
        "Les mois : ruptures rapportées aux contrats en cours dans le mois, toutes années confondues. Aucun "
        f"taux n'est publié pour moins de {MIN_N_DEFAULT} contrats.{_t(france)}</p></section>"
    ).replace(" : ", f"{NBSP}: ")


def _sheet(body: str, fig: SectorFigures, ctx: LeafletContext, number: int) -> str:
    banner = (
        '<div class="fictif">DONNÉES FICTIVES — échantillon synthétique, ne décrit pas le Loir-et-Cher</div>'
        if ctx.sample
        else ""
    )
    return (
        f'<section class="sheet">{banner}{body}<footer>{_t(fig.label)} · chiffres au {fr_date(ctx.as_of)} · '
        f"groupe de travail AIOA, Loir-et-Cher · {number}/2</footer></section>"
    )


def render_leaflet(fig: SectorFigures, ctx: LeafletContext, cfas: list[str] | None = None) -> str:
    """The leaflet of one sector as a complete offline HTML page (two A4 sheets)."""
    header = (
        '<header><p class="over">Apprentissage en Loir-et-Cher · pour les employeurs</p>'
        f'<h1>{_t(fig.label)}</h1><p class="sub">Bien démarrer un contrat d\'apprentissage{NBSP}: les chiffres '
        "de votre secteur, les 45 premiers jours, la médiation</p></header>"
    )
    recto = (
        header
        + _figures_section(fig)
        + (f'<section class="legal"><h2>Les 45 premiers jours</h2>{_nbsp(LEGAL_45_DAYS)}</section>')
    )
    verso = (
        f'<section class="mediation"><h2>La médiation</h2>{_nbsp(MEDIATION)}'
        f"{_mediators_table(ctx.mediators)}{_nbsp(_cfa_block(ctx.cfa_contacts, cfas or []))}</section>"
        f'<section class="advice"><h2>Ce qui aide</h2>{ctx.advice}</section>{_method_note(fig, ctx)}'
    )
    title = f"Plaquette employeurs — {fig.label}" + (" (DONNÉES FICTIVES)" if ctx.sample else "")
    page = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_t(title)}</title><style>{_css()}</style></head><body>"
        f"{_sheet(recto, fig, ctx, 1)}{_sheet(verso, fig, ctx, 2)}</body></html>\n"
    )
    check_offline(page)
    return page


_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?\s*(?:https?:)?//)""", re.I
)


def check_offline(page: str) -> None:
    """Raise :class:`ReportError` if the page refers to anything outside itself.

    >>> check_offline('<img src="https://x.fr/a.png">')
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ReportError: la plaquette ferait appel au réseau : « src="https:// »
    """
    found = _EXTERNAL.search(page)
    if found:
        raise ReportError(f"la plaquette ferait appel au réseau : « {found.group(0)} »")


# --- run -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeafletResult:
    """One written leaflet: its HTML, and its PDF and page count with ``--pdf``."""

    sector: str
    html_path: Path
    pdf_path: Path | None = None
    pages: int | None = None


def build_context(contracts: pd.DataFrame, *, as_of: object, quality: dict, sample: bool) -> LeafletContext:
    """The shared part of every leaflet of a run (contacts and advice read once)."""
    start = (
        contracts[C.start_date].dropna() if C.start_date in contracts else pd.Series(dtype="datetime64[ns]")
    )
    mediators = contacts.mediators()
    if mediators[["adresse", "telephone", "courriel"]].map(contacts.is_placeholder).to_numpy().any():
        log.warning(
            "coordonnées des médiateurs « à compléter » : copiez mediateurs.csv dans "
            "data/raw/referentiels/ et complétez-la (docs/plaquette.md)"
        )
    return LeafletContext(
        as_of=pd.Timestamp(as_of),
        sample=sample,
        sources=sources_label(quality),
        first_start=pd.Timestamp(start.min()) if len(start) else None,
        mediators=mediators,
        cfa_contacts=contacts.cfa_contacts(),
        advice=advice_html(),
    )


def leaflet_name(sector: str) -> str:
    """File stem of a sector's leaflet.

    >>> leaflet_name("hebergement_restauration")
    'plaquette-hebergement_restauration'
    """
    return f"plaquette-{sector}"


def write_leaflets(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    out_dir: str | Path,
    sectors: list[str] | None = None,
    quality: dict | None = None,
    sample: bool = False,
    pdf: bool = False,
) -> list[LeafletResult]:
    """Write ``plaquette-<sector>.html`` (and ``.pdf`` with ``pdf=True``) for each sector into ``out_dir``.

    With every sector, the whole set is published at once (a reader never sees leaflets of two runs);
    with some sectors, each file is written atomically beside the others. With ``pdf=True`` a missing Chromium is reported before any
    computation (:class:`~aioa_analysis.reporting.pdf.ChromiumMissingError`), and a PDF of more
    than two pages is logged as a warning (the advice or the contacts are too long).
    """
    from aioa_analysis.reporting import pdf as pdf_mod

    if pdf:
        pdf_mod.require_chromium()  # before any work
    wanted = sectors or sector_keys()
    figures = compute_figures(contracts, as_of=as_of)
    ctx = build_context(contracts, as_of=as_of, quality=quality or {}, sample=sample)
    out = Path(out_dir)
    # every sector: the whole set is published with one rename (core.commit); some sectors: each
    # file atomically, beside the others
    with contextlib.ExitStack() as stack:
        stage = stack.enter_context(output_set(out, wait=60)) if sectors is None else out
        results: list[LeafletResult] = []
        pages: list[Path] = []
        for sector in wanted:
            page = render_leaflet(figures[sector], ctx, cfas_of_sector(contracts, sector))
            html_path = stage / f"{leaflet_name(sector)}.html"
            with atomic_path(html_path, mode=0o644) as tmp:  # aggregates only: for the group
                tmp.write_text(page, encoding="utf-8")
            pages.append(html_path)
        if not pdf:
            return [LeafletResult(sector, out / h.name) for sector, h in zip(wanted, pages, strict=True)]
        # every PDF in one batch: two Chromium processes at a time (reporting.pdf.print_many)
        pdfs = pdf_mod.print_many([(h, h.with_suffix(".pdf")) for h in pages])
        for sector, html_path, pdf_path in zip(wanted, pages, pdfs, strict=True):
            n_pages = pdf_mod.pdf_page_count(pdf_path)
            if n_pages > 2:
                log.warning(
                    "%s : %d pages au lieu de 2 au plus (raccourcissez les conseils ou les contacts)",
                    pdf_path.name,
                    n_pages,
                )
            results.append(LeafletResult(sector, out / html_path.name, out / pdf_path.name, n_pages))
    return results
