"""Small shared pieces of the follow-up loop: the row key, phones, names, the shipped and user tables.

* :func:`followup_id`: the pseudonymous key of a rupture row (never the name); the hidden column of
  the workbooks, the key of the outcome store and of the pseudonymised outcome table;
* :func:`format_phone`, :func:`normalise_surname`, :func:`normalise_first_name`: one format each;
* :func:`outcomes`, :func:`situations`: the adviser's drop-down lists (shipped, in French);
* :func:`cfa_contacts`: the user's ``contacts_cfa.csv`` (columns :data:`CFA_CONTACT_COLUMNS`);
* :func:`readme_config`: the Lisez-moi settings (controller, contact, purpose, legal basis,
  retention), the user's ``followup_lisez_moi.csv`` over the shipped defaults.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis.core import config, referential
from aioa_analysis.core.errors import ConfigError

ID_PREFIX: Final = "S"
CFA_CONTACTS_FILE: Final = "contacts_cfa.csv"
CFA_CONTACT_COLUMNS: Final = ("cfa_uai", "cfa_nom", "contact_nom", "contact_telephone", "contact_email")
"""Columns of ``data/raw/contacts_cfa.csv`` (the shipped example: ``core/data/contacts_cfa_modele.csv``)."""
README_FILE: Final = "followup_lisez_moi.csv"
README_KEYS: Final = (
    "responsable",
    "contact",
    "finalite",
    "base_legale",
    "duree_conservation_mois",
    "retour",
)


def followup_id(contract_id: object) -> str | None:
    """The pseudonymous follow-up key of a rupture: ``S`` + 16 hex digits of SHA-256 of the contract id.

    The same formula is used by the sample generator for its returned workbooks.

    >>> followup_id("041202509011234")
    'SE5245C2C3C629F0A'
    >>> followup_id(None) is None, len(followup_id("x"))
    (True, 17)
    """
    if contract_id is None or pd.isna(contract_id):  # type: ignore[call-overload]
        return None
    digest = hashlib.sha256(f"aioa-suivi:{contract_id}".encode()).hexdigest()
    return ID_PREFIX + digest[:16].upper()


def followup_ids(contract_ids: pd.Series) -> pd.Series:
    """:func:`followup_id` of each contract id (NA stays NA)."""
    return contract_ids.map(followup_id).astype("string")


def format_phone(value: object) -> str | None:
    """A French phone number as ``06 12 34 56 78``; other numbers kept as written; empty -> None.

    >>> [format_phone(v) for v in ["0612345678", "+33 6 12 34 56 78", "06.12.34.56.78", "33612345678",
    ...                            "612345678", "+44 20 7946 0958", "", None]]
    ['06 12 34 56 78', '06 12 34 56 78', '06 12 34 56 78', '06 12 34 56 78', '06 12 34 56 78', '+44 20 7946 0958', None, None]
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+33") or (digits.startswith("33") and len(digits) == 11):
        digits = "0" + digits[2:]
    elif len(digits) == 9 and not text.startswith("+"):
        digits = "0" + digits
    if len(digits) == 10 and digits.startswith("0"):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return text or None


def format_phones(s: pd.Series) -> pd.Series:
    """:func:`format_phone` on a Series."""
    return s.map(format_phone).astype("string")


def normalise_surname(s: pd.Series) -> pd.Series:
    """NOM in capitals, inner spaces collapsed.

    >>> normalise_surname(pd.Series(["  le  Roux", "Dupont-moreau", None])).tolist()
    ['LE ROUX', 'DUPONT-MOREAU', <NA>]
    """
    return s.astype("string").str.split().str.join(" ").str.upper()


def normalise_first_name(s: pd.Series) -> pd.Series:
    """Prénom capitalised after a start, space, hyphen or apostrophe.

    >>> normalise_first_name(pd.Series(["JEAN-PIERRE", "léa", "marie  anne", None])).tolist()
    ['Jean-Pierre', 'Léa', 'Marie Anne', <NA>]
    """
    lower = s.astype("string").str.split().str.join(" ").str.lower()
    return lower.str.replace(r"(^|[\s\-'’])(\w)", lambda m: m.group(1) + m.group(2).upper(), regex=True)


def _labels(name: str) -> pd.DataFrame:
    t = referential.load_table(name)
    if t["label"].duplicated().any() or t["code"].duplicated().any():
        raise ConfigError(f"{name}: a code or a label appears twice", hint="keep each once")
    return t


def outcomes() -> pd.DataFrame:
    """The contact outcomes (``code``, ``label``, ``treated``, ``contacted``, ``situation``), shipped.

    ``treated`` (``oui``/``non``) says whether the row moves to "Déjà traités"; ``contacted`` whether
    the young person was reached; ``situation`` the situation category the outcome implies, if any.

    >>> outcomes().loc[lambda t: t["code"] == "injoignable", ["treated", "contacted"]].values.tolist()
    [['oui', 'non']]
    """
    return _labels("followup_outcomes.csv")


def situations() -> pd.DataFrame:
    """The situations at 3 and 6 months (``code``, ``label``, ``category``; empty category = unknown)."""
    return _labels("followup_situations.csv")


def cfa_contacts(path: Path | None = None) -> pd.DataFrame:
    """The user's CFA contacts (``data/raw/contacts_cfa.csv``), one row per UAI; empty when absent.

    Columns: :data:`CFA_CONTACT_COLUMNS`; a missing column is a :class:`ConfigError`.
    """
    path = config.raw_dir() / CFA_CONTACTS_FILE if path is None else Path(path)
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in CFA_CONTACT_COLUMNS})
    try:
        t = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python"
        )
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}", hint="save it as CSV UTF-8") from exc
    missing = [c for c in CFA_CONTACT_COLUMNS if c not in t.columns]
    if missing:
        raise ConfigError(
            f"{path} lacks columns: {', '.join(missing)}",
            hint="copy the header of aioa_analysis/core/data/contacts_cfa_modele.csv",
        )
    t = t[list(CFA_CONTACT_COLUMNS)].astype("string")
    t = t.assign(cfa_uai=t["cfa_uai"].str.strip().str.upper())
    return t.drop_duplicates("cfa_uai", keep="last").reset_index(drop=True)


def contact_text(contacts: pd.DataFrame) -> pd.Series:
    """One "Contact CFA" cell per UAI: ``name — 02 54 .. — mail`` (empty parts left out)."""
    parts = pd.DataFrame(
        {
            "n": contacts["contact_nom"],
            "p": format_phones(contacts["contact_telephone"]),
            "e": contacts["contact_email"],
        }
    ).replace("", pd.NA)
    text = parts.apply(lambda r: " — ".join(str(v).strip() for v in r if pd.notna(v)), axis=1)
    return pd.Series(text.to_numpy(), index=contacts["cfa_uai"], dtype="string")


def readme_config(path: Path | None = None) -> dict[str, str]:
    """The Lisez-moi settings: the shipped defaults of ``followup_lisez_moi.csv``, overridden by the
    user's copy in ``data/raw/`` (same columns ``key,value``; a key left out keeps its default).

    >>> c = readme_config()
    >>> c["duree_conservation_mois"], c["responsable"].startswith("À compléter")
    ('12', True)
    """
    shipped = referential.load_table(README_FILE)
    values = dict(zip(shipped["key"], shipped["value"], strict=True))
    path = config.raw_dir() / README_FILE if path is None else Path(path)
    if path.is_file():
        try:
            user = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} cannot be read: {exc}", hint="save it as CSV UTF-8") from exc
        if not {"key", "value"} <= set(user.columns):
            raise ConfigError(f"{path} lacks the columns key,value", hint=f"copy the shipped {README_FILE}")
        values.update({k: v for k, v in zip(user["key"], user["value"], strict=True) if k in README_KEYS})
    retention_months(values)
    return values


def retention_months(values: dict[str, str] | None = None) -> int:
    """The retention period in months (``duree_conservation_mois``), checked to be 1..120."""
    values = readme_config() if values is None else values
    text = str(values.get("duree_conservation_mois", "")).strip()
    if not text.isdigit() or not 1 <= int(text) <= 120:
        raise ConfigError(
            f"{README_FILE}: duree_conservation_mois {text!r} is not a number of months (1 to 120)",
            hint="e.g. 12",
        )
    return int(text)
