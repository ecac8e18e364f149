"""The report's technical terms, defined once in plain French: the glossary (:data:`GLOSSARY`, shown by
:mod:`.glossaire`) and :func:`term`, which wraps a term of a section's text so that its definition
shows on hover and the term links to its glossary entry.

Nothing is computed here. A definition may name the report's horizon as ``{h}`` (9 months by default) and its threshold of
small cells as ``{n}``;
the hover text never does, since it is written before the report's parameters are known.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

from aioa_analysis.core.formatting import french_spaces


@dataclass(frozen=True)
class Term:
    """A glossary entry: its anchor key, title, the forms the text uses, hover text and definition."""

    key: str
    title: str
    forms: tuple[str, ...]
    hover: str
    definition: str


GLOSSARY: Final = (
    Term(
        "taux-de-rupture",
        "Taux de rupture à {h} mois",
        ("taux de rupture à 9 mois", "taux de rupture", "rompus dans les 9 premiers mois"),
        "Part des contrats rompus avant l'horizon du rapport (9 mois par défaut), parmi les contrats "
        "assez anciens pour avoir été suivis jusqu'à cet horizon.",
        "Part des contrats rompus dans leurs {h} premiers mois, parmi les contrats commencés au moins {h} "
        "mois avant la date d'observation : les contrats plus récents ne sont pas encore comptés, car on ne "
        "sait pas encore s'ils seront rompus. C'est l'indicateur de la DARES (ministère du Travail). Une "
        "rupture après l'obtention du diplôme n'est pas comptée comme une rupture.",
    ),
    Term(
        "intervalle",
        "IC 95 %, intervalle de confiance",
        ("IC 95 %", "intervalle à 95 %", "intervalle de confiance", "intervalle"),
        "Fourchette de valeurs compatibles avec les données : avec d'autres apprentis dans les mêmes "
        "conditions, le taux aurait pu être un peu différent.",
        "Le taux observé dépend en partie du hasard (quels apprentis, quels employeurs, cette année-là). "
        "L'intervalle de confiance à 95 % (« IC 95 % ») donne la fourchette des valeurs compatibles avec les "
        "données. Plus il y a de contrats, plus la fourchette est étroite. Deux taux dont les intervalles se "
        "chevauchent largement ne sont pas clairement différents ; ce rapport ne dit « plus élevé » que "
        "quand l'intervalle exclut la valeur de comparaison.",
    ),
    Term(
        "contrats-mois",
        "Contrats-mois, exposition",
        ("contrats-mois", "exposition"),
        "Unité de temps passé en contrat : un contrat en cours pendant un mois compte pour un contrat-mois.",
        "Pour comparer des mois ou des groupes qui n'ont pas le même nombre de contrats en cours, on compte "
        "le temps passé en contrat : un contrat en cours pendant tout un mois compte pour un contrat-mois, "
        "pendant un demi-mois pour un demi. Un risque « pour 100 contrats-mois » est le nombre de ruptures "
        "pour 100 contrats suivis pendant un mois.",
    ),
    Term(
        "observe-attendu",
        "Standardisation indirecte, rapport observé / attendu",
        (
            "standardisation indirecte",
            "observé / attendu",
            "observées / attendues",
            "ruptures attendues",
            "à profil de contrats égal",
            "à profil égal",
            "à public comparable",
            "à ancienneté égale",
        ),
        "Ruptures observées comparées à celles qu'on attendrait si le groupe rompait au même rythme que les "
        "autres, avec ses propres contrats (niveau, secteur, âge...).",
        "Un CFA qui forme surtout à des métiers où les ruptures sont fréquentes a un taux brut élevé sans "
        "en être responsable. On calcule donc le nombre de ruptures « attendues » : celles qu'il aurait si "
        "ses contrats (mêmes niveaux, secteurs, âges, ancienneté...) rompaient au rythme des autres. Le "
        "rapport observé / attendu vaut 1 quand le groupe rompt comme les autres à profil égal, 1,2 quand il "
        "rompt 20 % de plus. C'est la standardisation indirecte.",
    ),
    Term(
        "aalen-johansen",
        "Kaplan-Meier, Aalen-Johansen",
        ("Aalen-Johansen", "Kaplan-Meier"),
        "Méthodes qui estiment la part des contrats rompus au fil des mois en tenant compte des contrats "
        "encore en cours.",
        "Méthodes qui estiment, mois après mois, la part des contrats rompus, en utilisant aussi les contrats "
        "encore en cours (suivis jusqu'à la date d'observation, voir « censure »). Kaplan-Meier traite un "
        "contrat arrivé à sa fin prévue comme un contrat dont on ne sait plus rien ; Aalen-Johansen, retenue "
        "dans ce rapport, le traite comme une issue à part entière (un contrat mené à terme ne peut plus "
        "être rompu), ce qui évite de surestimer les ruptures.",
    ),
    Term(
        "censure",
        "Censure",
        ("censure", "censuré", "censurés"),
        "Un contrat encore en cours à la date d'observation est « censuré » : on sait seulement qu'il n'est "
        "pas rompu jusque-là.",
        "À la date d'observation, beaucoup de contrats sont encore en cours : on ne sait pas s'ils seront "
        "rompus. Ils sont « censurés » à cette date : ils comptent tant qu'ils sont suivis, puis sortent du "
        "calcul. Les ignorer, ou les compter comme non rompus, fausserait les taux.",
    ),
    Term(
        "periode-essai",
        "Période d'essai (45 jours)",
        ("période d'essai", "45 premiers jours", "45 jours"),
        "Les 45 premiers jours de formation pratique en entreprise : l'employeur ou l'apprenti peut rompre "
        "le contrat librement.",
        "Pendant les 45 premiers jours, consécutifs ou non, de formation pratique en entreprise, l'employeur "
        "comme l'apprenti peut rompre le contrat sans motif (article L6222-18 du code du travail). Les "
        "fichiers ne disent pas quels jours l'apprenti était en entreprise : le rapport compte les 45 premiers "
        "jours du calendrier, une approximation.",
    ),
    Term(
        "cohorte",
        "Cohorte",
        ("cohorte", "cohortes", "année scolaire de début"),
        "Les contrats commencés la même année scolaire (d'août à juillet).",
        "Groupe de contrats commencés pendant la même période, ici la même année scolaire (d'août à juillet) ; "
        "suivre une cohorte permet de comparer les années entre elles à durée de suivi égale.",
    ),
    Term(
        "secret-statistique",
        "Secret statistique (cellules masquées)",
        ("secret statistique", "secret"),
        "Valeur non publiée : trop peu de contrats, ou une valeur qui permettrait de retrouver une autre "
        "valeur cachée.",
        "Une case « secret » n'est pas publiée : moins de {n} contrats, une ou deux "
        "ruptures, ou une valeur qui, rapprochée des autres tableaux (du département et des CFA), "
        "permettrait de retrouver une case cachée. Il protège les apprentis et les employeurs d'être "
        "reconnus.",
    ),
    Term(
        "points-de-vigilance",
        "Points de vigilance (méthode de Holm)",
        ("points de vigilance", "point de vigilance", "méthode de Holm", "Holm", "alerte"),
        "Écarts assez nets pour ne pas être dus au hasard : tous les constats sont testés ensemble (méthode "
        "de Holm, seuil 5 %).",
        "Chaque écart signalé (un CFA, un secteur, un niveau, l'été) est un test statistique. Comme on en "
        "fait beaucoup, certains sembleraient significatifs par hasard : la méthode de Holm ajuste tous les "
        "tests ensemble, et un écart devient un point de vigilance (une « alerte ») quand le risque qu'une "
        "seule des alertes du rapport soit due au hasard est au plus 5 %. Une alerte est une question à "
        "poser, pas un verdict ; l'absence d'alerte ne prouve pas l'absence d'écart.",
    ),
)
"""The glossary, in the order it is shown."""

_SPACES: Final = "[ \u00a0\u202f]"


def _norm(text: str) -> str:
    return re.sub(_SPACES, " ", text).casefold()


_BY_FORM: Final = {_norm(f): t for t in GLOSSARY for f in t.forms}


def lookup(text: str) -> Term:
    """The glossary entry whose forms include ``text`` (case and spaces ignored).

    >>> lookup("IC 95\u202f%").key, lookup("Contrats-mois").key
    ('intervalle', 'contrats-mois')
    """
    try:
        return _BY_FORM[_norm(text)]
    except KeyError:
        raise KeyError(f"{text!r} is not a form of any glossary term") from None


def anchor(key: str) -> str:
    """The anchor of a glossary entry.

    >>> anchor("censure")
    'glossaire-censure'
    """
    return f"glossaire-{key}"


def _wrap(shown_html: str, entry: Term) -> str:
    hover = html.escape(french_spaces(entry.hover))
    return f'<abbr class="term" title="{hover}"><a href="#{anchor(entry.key)}">{shown_html}</a></abbr>'


def term(text: str, key: str | None = None) -> str:
    """``text`` (escaped) as a technical term: its definition shows on hover, it links to the glossary.

    ``key``: the entry's key when ``text`` is not one of its forms.

    >>> term("contrats-mois")  # doctest: +ELLIPSIS
    '<abbr class="term" title="Unité de temps ..."><a href="#glossaire-contrats-mois">contrats-mois</a></abbr>'
    """
    entry = next(t for t in GLOSSARY if t.key == key) if key else lookup(text)
    return _wrap(html.escape(text), entry)


def with_terms(text: str, terms: tuple[str, ...] | list[str]) -> str:
    """``text`` escaped, the first occurrence of each of ``terms`` wrapped by :func:`term`.

    Each item of ``terms`` must be a form of a glossary entry and must occur in ``text`` (spaces and case
    may differ): a missing one raises ``ValueError``, so that a reworded text cannot lose its term silently.

    >>> with_terms("Risque en contrats-mois.", ["contrats-mois"]).count('class="term"')
    1
    """
    slots: list[str] = []
    out = text
    for form in terms:
        entry = lookup(form)
        pattern = r"(?<!\w)" + _SPACES.join(re.escape(w) for w in form.split(" ")) + r"(?!\w)"
        m = re.search(pattern, out, flags=re.IGNORECASE)
        if m is None:
            raise ValueError(f"term {form!r} not found in the text")
        slots.append(_wrap(html.escape(m.group(0)), entry))
        out = out[: m.start()] + f"\x00{len(slots) - 1}\x00" + out[m.end() :]
    escaped = html.escape(out)
    return re.sub("\x00(\\d+)\x00", lambda m: slots[int(m.group(1))], escaped)
