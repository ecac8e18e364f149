"""Shipped referential tables (nomenclatures, CFAs, territories, published reference rates).

The tables are small CSV files in ``aioa_analysis/core/data/``; users may override one by putting a file
of the same name in the folder named by the environment variable ``AIOA_REFERENTIAL_DIR`` (for
example to redraw Mission Locale territories) without touching the code. Every loader returns a
fresh copy, so callers may modify what they get.

Lookups are vectorised: they take a Series of codes and return aligned Series.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis.core.errors import ConfigError

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
"""The 23 check letters of a UAI (no I, O, Q), indexed by ``int(first 7 digits) % 23``."""


def _path(name: str) -> Path:
    override = os.environ.get("AIOA_REFERENTIAL_DIR")
    if override and (Path(override) / name).is_file():
        return Path(override) / name
    return Path(str(resources.files("aioa_analysis.core") / "data" / name))


@functools.cache
def _read(name: str, sep: str = ",") -> pd.DataFrame:
    path = _path(name)
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"referential table {path} cannot be read: {exc}") from exc


def load_table(name: str, *, sep: str = ",") -> pd.DataFrame:
    """Return a copy of the shipped (or overridden) table ``name`` with every value as a string."""
    return _read(name, sep).copy()


def cfa_referential() -> pd.DataFrame:
    """Training organisations of Loir-et-Cher, one row per UAI.

    Columns: ``uai``, ``siret``, ``name`` (short name for the working group's CFAs, else the readable
    name of ``organismes_41_noms.csv``, else trading name, else legal name), ``commune``,
    ``working_group`` (bool: a CFA the group names). The readable names are written in ordinary case
    with their accents (« MFR DU VENDOMOIS » -> « MFR du Vendômois »), for the reports and the index.

    >>> ref = cfa_referential()
    >>> ref.loc[ref["uai"] == "0410590U", "name"].item()
    'CFA interprofessionnel CMA 41'
    >>> ref.loc[ref["uai"] == "0410957T", "name"].item()
    'MFR du Vendômois'
    """
    org = load_table("organismes_41.csv", sep=";")
    wg = load_table("cfa_working_group.csv")
    name = org["enseigne"].where(org["enseigne"].str.strip() != "", org["raison_sociale"]).str.strip()
    readable = load_table("organismes_41_noms.csv")
    name = org["uai"].map(dict(zip(readable["uai"], readable["nom"], strict=True))).fillna(name)
    out = pd.DataFrame(
        {"uai": org["uai"], "siret": org["siret"], "name": name, "commune": org["commune"]}
    ).drop_duplicates("uai")
    short = dict(zip(wg["uai"], wg["short_name"], strict=True))
    out = out.assign(
        name=out["uai"].map(short).fillna(out["name"]),
        working_group=out["uai"].isin(short),
    )
    missing = wg.loc[~wg["uai"].isin(out["uai"])]
    if len(missing):
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "uai": missing["uai"],
                        "siret": "",
                        "name": missing["short_name"],
                        "commune": missing["city"],
                        "working_group": True,
                    }
                ),
            ],
            ignore_index=True,
        )
    return out.reset_index(drop=True)


def working_group_cfas() -> pd.DataFrame:
    """The CFAs the working group names (``uai``, ``short_name``, ``city``), in the group's order."""
    return load_table("cfa_working_group.csv")


def uai_check_letter(first7: str) -> str:
    """Check letter of a UAI from its first 7 digits.

    >>> uai_check_letter("0751234")
    'J'
    """
    return UAI_LETTERS[int(first7) % 23]


def uai_is_valid(uai: pd.Series) -> pd.Series:
    """Vectorised UAI check: 7 digits then the right check letter (NA stays NA).

    >>> uai_is_valid(pd.Series(["0410590U", "0410590A", "x", None])).tolist()
    [True, False, False, <NA>]
    """
    s = uai.astype("string").str.strip().str.upper()
    shape = s.str.fullmatch(r"[0-9]{7}[A-Z]")
    digits = pd.to_numeric(s.str.slice(0, 7).where(shape.fillna(False)), errors="coerce")
    expected = (digits % 23).map(lambda i: UAI_LETTERS[int(i)] if pd.notna(i) else pd.NA)
    ok = (s.str.slice(7, 8) == expected.astype("string")).fillna(False) & shape.fillna(False)
    return ok.astype("boolean").mask(s.isna())


def cfa_names(uai: pd.Series) -> pd.Series:
    """CFA name for each UAI from :func:`cfa_referential` (NA when unknown)."""
    ref = cfa_referential()
    return uai.astype("string").map(dict(zip(ref["uai"], ref["name"], strict=True))).astype("string")


def diploma_prefixes() -> pd.DataFrame:
    """CFD prefix table: ``prefix`` (3 chars), ``diploma_type_cerfa``, ``family``, ``level``, ``label``."""
    return load_table("cfd_prefix.csv")


def diploma_attributes(code: pd.Series) -> pd.DataFrame:
    """Level (``"3"``..``"8"``), family and CERFA type of each diploma code (CFD), from its prefix.

    Mentions complémentaires (``010``, ``013``) have no level in the code: NA.

    >>> diploma_attributes(pd.Series(["50022109", "32031102", "01023401", None]))
      diploma_level diploma_family diploma_type_cerfa
    0             3            CAP                 33
    1             5            BTS                 54
    2          <NA>             MC                 35
    3          <NA>           <NA>               <NA>
    """
    table = diploma_prefixes().set_index("prefix")
    prefix = code.astype("string").str.strip().str.upper().str.slice(0, 3)
    level = prefix.map(table["level"].replace("", pd.NA).to_dict()).astype("string")
    family = prefix.map(table["family"].to_dict()).astype("string")
    ctype = prefix.map(table["diploma_type_cerfa"].to_dict()).astype("string")
    return pd.DataFrame(
        {"diploma_level": level, "diploma_family": family, "diploma_type_cerfa": ctype}, index=code.index
    )


def naf_sections() -> pd.DataFrame:
    """NAF rév. 2 sections: ``section``, ``division_from``, ``division_to``, ``label``, ``sector_group``."""
    return load_table("naf_sections.csv")


def sector_labels() -> dict[str, str]:
    """Finer published sector key -> French label (for reports)."""
    t = load_table("sectors.csv")
    return dict(zip(t["sector"], t["label"], strict=True))


def naf_attributes(naf: pd.Series) -> pd.DataFrame:
    """Division, section, DARES 4-group and finer published sector of each NAF code.

    Accepts ``5610A``, ``56.10A``, ``56.10a``. The finer sector takes the longest matching prefix in
    ``sectors.csv`` (``9602`` coiffure before ``96`` autres services).

    >>> naf_attributes(pd.Series(["56.10A", "9602A", "4120A", "bad"]))
      naf_division naf_section  sector_group                    sector
    0           56           I     tertiaire  hebergement_restauration
    1           96           S     tertiaire       coiffure_esthetique
    2           41           F  construction              construction
    3         <NA>        <NA>          <NA>                      <NA>
    """
    s = naf.astype("string").str.replace(".", "", regex=False).str.strip().str.upper()
    ok = s.str.fullmatch(r"[0-9]{4}[A-Z]?").fillna(False)
    s = s.where(ok)
    division = s.str.slice(0, 2)
    sections = naf_sections()
    div_to_sec: dict[str, str] = {}
    div_to_group: dict[str, str] = {}
    for row in sections.itertuples():
        for d in range(int(row.division_from), int(row.division_to) + 1):
            div_to_sec[f"{d:02d}"] = str(row.section)
            div_to_group[f"{d:02d}"] = str(row.sector_group)
    sectors = load_table("sectors.csv")
    by4 = {p: sec for p, sec in zip(sectors["naf_prefix"], sectors["sector"], strict=True) if len(p) == 4}
    by2 = {p: sec for p, sec in zip(sectors["naf_prefix"], sectors["sector"], strict=True) if len(p) == 2}
    sector = s.str.slice(0, 4).map(by4).fillna(division.map(by2))
    section = division.map(div_to_sec)
    return pd.DataFrame(
        {
            "naf_division": division.where(section.notna()).astype("string"),
            "naf_section": section.astype("string"),
            "sector_group": division.map(div_to_group).astype("string"),
            "sector": sector.where(section.notna()).astype("string"),
        },
        index=naf.index,
    )


REASON_LABELS: Final = {
    "commun_accord": "Commun accord",
    "decision_administrative": "Décision administrative",
    "exclusion_cfa": "Exclusion du CFA",
    "initiative_apprenti": "À l'initiative de l'apprenti",
    "licenciement": "Licenciement",
    "liquidation_judiciaire": "Liquidation ou fermeture de l'entreprise",
    "obtention_diplome": "Obtention du diplôme",
    "periode_essai_45j": "Pendant les 45 premiers jours",
}
"""French names of the rupture reason categories (the categories of ``rupture_reasons.csv``), for
every reader: the reports' reason tables, the follow-up lists and the fiches."""


def territories() -> pd.DataFrame:
    """Postcode -> Mission Locale territory table (``postcode``, ``commune``, ``territory``)."""
    return load_table("territories.csv")


def territory_labels() -> dict[str, str]:
    """Territory key -> French label."""
    t = load_table("territory_labels.csv")
    return dict(zip(t["territory"], t["label"], strict=True))


def territory_of(postcode: pd.Series) -> pd.Series:
    """Mission Locale territory of each residence postcode.

    A 41xxx postcode missing from the table is ``inconnu``; outside Loir-et-Cher ``hors_41``; NA
    stays NA.

    >>> territory_of(pd.Series(["41000", "41100", "41200", "75001", "41999", None])).tolist()
    ['ml_blois', 'ml_vendomois', 'ml_romorantin', 'hors_41', 'inconnu', <NA>]
    """
    t = territories()
    s = postcode.astype("string").str.strip().str.zfill(5)
    mapped = s.map(dict(zip(t["postcode"], t["territory"], strict=True)))
    out = mapped.where(mapped.notna(), s.str.startswith("41").map({True: "inconnu", False: "hors_41"}))
    return out.where(s.notna()).astype("string")


def reference_rates() -> pd.DataFrame:
    """Published national and regional reference figures (docs/reference/DOMAIN.md §1), one row per figure.

    Columns: ``ref_id``, ``indicator``, ``dimension``, ``category``, ``value`` (float, a share),
    ``geography``, ``population``, ``year``, ``horizon_months``, ``unit``, ``source``, ``confidence``.
    """
    t = load_table("reference_rates.csv")
    return t.assign(value=t["value"].astype(float))
