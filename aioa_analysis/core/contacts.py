"""Contact tables the working group edits: consular mediators and CFA referents.

Documents handed to employers and apprentices (the employer leaflet, the follow-up lists, the fiche
parcours) print the same contacts, so they are read here, once:

* :func:`mediators`: the chambers' mediators (``mediateurs.csv``: ``chambre``, ``territoire``,
  ``service``, ``adresse``, ``telephone``, ``courriel``, ``site``). A copy is shipped in
  ``core/data/``; the group edits its own copy in ``data/raw/referentiels/mediateurs.csv``
  (:func:`user_file`).
* :func:`missions_locales`: the Missions Locales of the territories of ``territories.csv``
  (``missions_locales.csv``: ``territoire``, ``nom``, ``adresse``, ``telephone``, ``courriel``,
  ``site``), shipped and editable like the mediators;
* :func:`cfa_contacts`: the CFAs' referents, ``data/raw/contacts_cfa.csv`` when it exists (columns
  ``uai``, ``nom``, ``contact``, ``telephone``, ``courriel`` at least; header spellings are
  tolerated, among them those of the follow-up's ``contacts_cfa_modele.csv``, see
  :data:`CFA_CONTACT_ALIASES`), else an empty table.

Which copy is read (:func:`user_file`): ``$AIOA_REFERENTIAL_DIR/NAME`` (as for every referential
table, :mod:`aioa_analysis.core.referential`), then ``<raw dir>/referentiels/NAME``, then the shipped
file. ``data/raw/referentiels/`` is a sub-folder, so ``aioa clean`` never takes it for an input.
"""

from __future__ import annotations

import os
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pandas as pd

from aioa_analysis.core import config
from aioa_analysis.core.errors import ConfigError

USER_FOLDER = "referentiels"
"""Sub-folder of the raw-data folder holding the group's own copies of the editable tables."""

MEDIATOR_COLUMNS = ("chambre", "territoire", "service", "adresse", "telephone", "courriel", "site")
"""Columns of ``mediateurs.csv``, in display order."""

MISSION_LOCALE_COLUMNS = ("territoire", "nom", "adresse", "telephone", "courriel", "site")
"""Columns of ``missions_locales.csv``, in display order (``territoire``: a key of ``territories.csv``)."""

CFA_CONTACT_COLUMNS = ("uai", "nom", "contact", "telephone", "courriel")
"""Columns of the CFA referents table returned by :func:`cfa_contacts`."""

CFA_CONTACT_ALIASES: dict[str, tuple[str, ...]] = {
    "uai": ("uai", "code_uai", "cfa_uai", "numero_uai"),
    "nom": ("nom", "nom_cfa", "cfa_nom", "cfa", "name", "etablissement", "organisme"),
    "contact": ("contact", "referent", "nom_contact", "contact_nom", "personne", "interlocuteur"),
    "telephone": ("telephone", "tel", "phone", "numero_telephone", "tel_contact", "contact_telephone"),
    "courriel": (
        "courriel",
        "email",
        "e_mail",
        "mail",
        "adresse_mail",
        "adresse_electronique",
        "contact_email",
    ),
}
"""Accepted (normalised) header spellings of each column of the CFA referents table."""

MEDIATOR_ALIASES: dict[str, tuple[str, ...]] = {
    **{c: (c,) for c in MEDIATOR_COLUMNS},
    "service": ("service", "nom_du_service", "nom_service"),
    "telephone": ("telephone", "tel", "phone"),
    "courriel": ("courriel", "email", "e_mail", "mail"),
}
"""Accepted (normalised) header spellings of each column of ``mediateurs.csv``."""

PLACEHOLDER = "à compléter"
"""What a shipped cell says when the public contact detail could not be verified."""


def _normalise(header: str) -> str:
    """``"Téléphone "`` -> ``"telephone"``; ``"E-mail"`` -> ``"e_mail"``.

    >>> _normalise(" Téléphone "), _normalise("E-mail"), _normalise("Nom du CFA")
    ('telephone', 'e_mail', 'nom_du_cfa')
    """
    text = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode().lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def shipped_file(name: str) -> Path:
    """The copy of ``name`` shipped in ``aioa_analysis/core/data/``."""
    return Path(str(resources.files("aioa_analysis.core") / "data" / name))


def user_file(name: str) -> Path:
    """The copy of the editable table ``name`` to read: the user's if any, else the shipped one.

    Order: ``$AIOA_REFERENTIAL_DIR/name``, ``<raw dir>/referentiels/name``, ``core/data/name``.
    """
    override = os.environ.get("AIOA_REFERENTIAL_DIR")
    for folder in ([Path(override)] if override else []) + [config.raw_dir() / USER_FOLDER]:
        if (folder / name).is_file():
            return folder / name
    return shipped_file(name)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python"
        )
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"table de contacts {path} illisible : {exc}",
            hint="enregistrez-la en CSV UTF-8 (séparateur virgule ou point-virgule)",
        ) from exc


def _rename(frame: pd.DataFrame, aliases: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Columns renamed to their canonical name (first matching alias wins); missing ones added empty."""
    normalised = {_normalise(c): c for c in frame.columns}
    mapping: dict[str, str] = {}
    for canonical, names in aliases.items():
        found = next((normalised[n] for n in names if n in normalised), None)
        if found is not None and found not in mapping:
            mapping[found] = canonical
    out = frame.rename(columns=mapping)
    for canonical in aliases:
        if canonical not in out.columns:
            out[canonical] = ""
    return out[list(aliases)].apply(lambda s: s.str.strip())


def mediators() -> pd.DataFrame:
    """The chambers' mediators, one row per contact point (columns :data:`MEDIATOR_COLUMNS`).

    >>> m = mediators()
    >>> list(m.columns) == list(MEDIATOR_COLUMNS), len(m) >= 3
    (True, True)
    """
    path = user_file("mediateurs.csv")
    table = _read_csv(path)
    out = _rename(table, MEDIATOR_ALIASES)
    if (out["chambre"] == "").all():
        raise ConfigError(
            f"table des médiateurs {path} sans colonne « chambre » remplie",
            hint=f"colonnes attendues : {', '.join(MEDIATOR_COLUMNS)}",
        )
    return out.loc[out["chambre"] != ""].reset_index(drop=True)


def missions_locales() -> pd.DataFrame:
    """The Missions Locales, one row per territory (columns :data:`MISSION_LOCALE_COLUMNS`).

    >>> m = missions_locales()
    >>> m["territoire"].tolist()
    ['ml_blois', 'ml_vendomois', 'ml_romorantin']
    """
    path = user_file("missions_locales.csv")
    aliases = {
        **{c: (c,) for c in MISSION_LOCALE_COLUMNS},
        "territoire": ("territoire", "territory"),
        "nom": ("nom", "mission_locale", "label"),
        "telephone": ("telephone", "tel", "phone"),
        "courriel": ("courriel", "email", "e_mail", "mail"),
    }
    out = _rename(_read_csv(path), aliases)
    if (out["territoire"] == "").all():
        raise ConfigError(
            f"table des Missions Locales {path} sans colonne « territoire » remplie",
            hint=f"colonnes attendues : {', '.join(MISSION_LOCALE_COLUMNS)}",
        )
    out = out.loc[out["territoire"] != ""]
    return out.drop_duplicates("territoire", keep="last").reset_index(drop=True)


def cfa_contacts_file() -> Path | None:
    """``data/raw/contacts_cfa.csv`` (or ``data/raw/referentiels/contacts_cfa.csv``) if it exists."""
    for path in (config.raw_dir() / "contacts_cfa.csv", config.raw_dir() / USER_FOLDER / "contacts_cfa.csv"):
        if path.is_file():
            return path
    return None


def cfa_contacts() -> pd.DataFrame:
    """The CFAs' referents (columns :data:`CFA_CONTACT_COLUMNS`), empty when no file is provided.

    Rows without a UAI and a name are dropped; the UAI is upper-cased.
    """
    path = cfa_contacts_file()
    if path is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CFA_CONTACT_COLUMNS})
    out = _rename(_read_csv(path), CFA_CONTACT_ALIASES)
    out = out.assign(uai=out["uai"].str.upper())
    return out.loc[(out["uai"] != "") | (out["nom"] != "")].reset_index(drop=True)


def is_placeholder(value: object) -> bool:
    """Whether a cell is empty or still says « à compléter ».

    >>> is_placeholder("à compléter"), is_placeholder(" "), is_placeholder("02 54 00 00 00")
    (True, True, False)
    """
    text = str(value or "").strip().lower()
    return not text or PLACEHOLDER in text
