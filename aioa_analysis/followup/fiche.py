"""The fiche parcours (issue 17): what one record says about a young person whose contract broke.

The working group's « outil de traitement des ruptures » values the young person's experience and
skills after a rupture: the adviser uses it in the first meeting, the young person shows it to a new
employer. This module gathers the facts (pure: nothing read or written); :mod:`.fiche_html` turns
each :class:`Fiche` into one printable French page.

**Which ruptures.** For a month, exactly the rows of the follow-up workbooks' rupture sheets
("Ruptures à traiter" and "Déjà traités", :data:`FICHE_SHEETS`) of the chosen structures: the
follow-up lists are built by :func:`~aioa_analysis.followup.lists.build_followup` and each row's
hidden key (``followup_id``) is mapped back to its contract (:func:`listed_keys`). A rupture listed
by two structures (its Mission Locale and the MLDS) gets one fiche. Or one contract
(:func:`contract_rows`), by its contract number or its follow-up key.

**What a fiche holds** (:func:`build_fiches`):

* the young person (restricted identity store): name, birth date, commune;
* every contract of the same ``apprentice_key`` in the clean table (:func:`experience`): employer,
  sector, employer's commune, diploma, dates, months in the company and months of training, and
  the totals (overlaps counted once);
* the diploma prepared, its RNCP code (:func:`.rncp.rncp_by_diploma`) and blocks
  (:mod:`.rncp`), the exam results already known by the reference date (:func:`exam_results`);
* the rights after the rupture: training at the CFA for :data:`RIGHT_MONTHS` months as a stagiaire
  de la formation professionnelle, until ``rupture_date + 6 months`` (L6222-18-2, L6231-2); the
  Mission Locale of the territory, the CFA's referent, the chambers' mediators (editable tables of
  :mod:`aioa_analysis.core.contacts`);
* the outcome the follow-up loop recorded (:mod:`.returns`), without the adviser's comment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from aioa_analysis.core import contacts, referential
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.schema import C
from aioa_analysis.followup import people, rncp
from aioa_analysis.followup.lists import (
    FOLLOWUP_ID,
    KEY_FIELD,
    RUPTURE_REASONS,
    SHEET_DONE,
    SHEET_TODO,
    FollowupLists,
    adviser_headers,
)
from aioa_analysis.followup.route import AGE, COMMUNE, HAS_IDENTITY, TERRITORY, attach_identity
from aioa_analysis.followup.select import EVENT_DATE, RESULT_LABELS, _active, result_dates

RIGHT_MONTHS: Final = 6
"""Months a rupturant may keep training at the CFA (L6222-18-2, L6231-2)."""
DAYS_PER_MONTH: Final = 30.4375
FICHE_SHEETS: Final = (SHEET_TODO, SHEET_DONE)
"""The follow-up sheets whose rows get a fiche."""
STATE_LABELS: Final = {
    "rompu": "rompu",
    "termine": "terminé",
    "en_cours": "en cours",
    "a_venir": "à venir",
}


@dataclass(frozen=True)
class Fiche:
    """Everything one fiche shows (values ready to print; NA where unknown)."""

    followup_id: str
    person: dict[str, Any]
    rupture: dict[str, Any]
    experience: pd.DataFrame
    totals: dict[str, float]
    diploma: dict[str, Any]
    blocks: pd.DataFrame | None  # None: no RNCP export; empty: no block known for this diploma
    exams: pd.DataFrame
    mission_locale: dict[str, str] | None
    cfa: dict[str, str]
    outcome: dict[str, Any] | None
    listed_by: tuple[str, ...] = field(default_factory=tuple)  # structure labels
    status: str | None = None  # SHEET_TODO, SHEET_DONE or None (one contract, not on a list)


# --------------------------------------------------------------------------------------------------
# which ruptures
# --------------------------------------------------------------------------------------------------
def listed_keys(lists: FollowupLists) -> pd.DataFrame:
    """Every rupture row of the rupture sheets: ``followup_id``, ``structure``, ``sheet``.

    The rows are read from the workbook frames themselves (hidden key column), so a fiche exists for
    exactly the rows an adviser sees.
    """
    header = adviser_headers()[KEY_FIELD]
    frames = [
        pd.DataFrame(
            {FOLLOWUP_ID: sheets[sheet][header].astype("string"), "structure": struct, "sheet": sheet}
        )
        for struct, sheets in lists.sheets.items()
        for sheet in FICHE_SHEETS
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in (FOLLOWUP_ID, "structure", "sheet")})
    return pd.concat(frames, ignore_index=True).dropna(subset=[FOLLOWUP_ID])


def rupture_rows(
    contracts: pd.DataFrame, identities: pd.DataFrame, keys: pd.Series, *, ref_date: pd.Timestamp
) -> pd.DataFrame:
    """The contracts whose follow-up key is in ``keys``, with identity, commune and territory."""
    active = _active(contracts)
    ids = people.followup_ids(active[C.contract_id])
    rows = active.loc[ids.isin(set(keys.dropna())).to_numpy()]
    rows = rows.assign(
        **{FOLLOWUP_ID: people.followup_ids(rows[C.contract_id]), EVENT_DATE: rows[C.rupture_date]}
    )
    out = attach_identity(rows, identities, ref_date=ref_date)
    out = out.assign(  # the workbooks' spelling: NOM in capitals, Prénom capitalised
        **{
            C.surname: people.normalise_surname(out[C.surname]),
            C.first_name: people.normalise_first_name(out[C.first_name]),
        }
    )
    return _sorted(out)


def contract_rows(
    contracts: pd.DataFrame, identities: pd.DataFrame, ident: str, *, ref_date: pd.Timestamp
) -> pd.DataFrame:
    """The one rupture named by ``--contract`` (contract number or follow-up key), with identity.

    Unknown, or not broken by ``ref_date``: :class:`ParameterError`.
    """
    active = _active(contracts)
    text = str(ident).strip()
    hit = (active[C.contract_id].astype("string") == text) | (
        people.followup_ids(active[C.contract_id]) == text.upper()
    )
    rows = active.loc[hit.fillna(False).to_numpy()]
    if rows.empty:
        raise ParameterError(
            f"--contract {text!r} : contrat inconnu de la table nettoyée",
            hint="donnez le numéro du contrat ou sa clé de suivi (colonne cachée des listes)",
        )
    rupture = rows[C.rupture_date].iloc[0]
    if pd.isna(rupture) or rupture > ref_date:
        raise ParameterError(
            f"--contract {text!r} : aucune rupture connue au {ref_date.date().isoformat()}",
            hint="la fiche parcours concerne un contrat rompu ; vérifiez le contrat ou --month",
        )
    return rupture_rows(contracts, identities, people.followup_ids(rows[C.contract_id]), ref_date=ref_date)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.sort_values(
        [C.surname, C.first_name, C.rupture_date], na_position="last", kind="stable"
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# experience
# --------------------------------------------------------------------------------------------------
def _months(start: pd.Series, end: pd.Series) -> pd.Series:
    days = (end - start).dt.days.clip(lower=0)
    return (days / DAYS_PER_MONTH).round(1)


def union_months(starts: pd.Series, ends: pd.Series) -> float:
    """Months covered by the intervals ``[start, end)``, overlaps counted once.

    >>> s = pd.to_datetime(pd.Series(["2024-01-01", "2024-03-01", "2025-01-01"]))
    >>> e = pd.to_datetime(pd.Series(["2024-05-01", "2024-07-01", "2025-01-01"]))
    >>> union_months(s, e)  # Jan-Jul 2024 (182 days), the empty interval adds nothing
    6.0
    """
    iv = sorted((s, e) for s, e in zip(starts, ends, strict=True) if pd.notna(s) and pd.notna(e) and e > s)
    total = 0
    cur_start, cur_end = None, None
    for s, e in iv:
        if cur_end is None or s > cur_end:
            total += (cur_end - cur_start).days if cur_end is not None else 0
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    total += (cur_end - cur_start).days if cur_end is not None else 0
    return round(total / DAYS_PER_MONTH, 1)


def _employer(c: pd.DataFrame) -> pd.Series:
    name = c[C.employer_name] if C.employer_name in c else pd.Series(pd.NA, index=c.index, dtype="string")
    siret = c[C.employer_siret] if C.employer_siret in c else pd.Series(pd.NA, index=c.index, dtype="string")
    siret = siret.astype("string").str.replace(r"^(\d{3})(\d{3})(\d{3})(\d{5})$", r"\1 \2 \3 \4", regex=True)
    label = name.astype("string").fillna("Entreprise SIRET " + siret)
    return label.fillna("Employeur non renseigné")


def experience(contracts: pd.DataFrame, *, ref_date: pd.Timestamp) -> pd.DataFrame:
    """Every contract known at ``ref_date`` (started or signed), by apprentice, oldest first, with months.

    Columns: ``apprentice_key``, ``contract_id``, ``employer``, ``sector``, ``commune`` (of the
    employer), ``diploma``, ``diploma_code``, ``start``, ``end``, ``state`` (:data:`STATE_LABELS`),
    ``months_firm`` (start to end, or to ``ref_date`` while running), ``months_training`` (months
    of training during the contract: from the later of the training's and the contract's start to
    the earlier of their ends), ``rupture_date``, ``reason``; and the intervals behind the months
    (``stop``, ``train_start``, ``train_stop``), which :func:`totals` adds up.
    """
    c = _active(contracts)
    known = c[C.start_date] <= ref_date
    if C.signature_date in c:
        known |= c[C.signature_date] <= ref_date
    c = c.loc[known.fillna(False).to_numpy()].sort_values([C.apprentice_key, C.start_date], kind="stable")
    col = lambda name: c[name] if name in c else pd.Series(pd.NaT, index=c.index)  # noqa: E731
    rupture = c[C.rupture_date].where(c[C.rupture_date] <= ref_date)
    ended = col(C.actual_end_date).fillna(col(C.planned_end_date))
    ended = ended.where(ended <= ref_date)
    end = rupture.fillna(ended)
    state = pd.Series("en_cours", index=c.index).mask(ended.notna(), "termine").mask(rupture.notna(), "rompu")
    state = state.mask(c[C.start_date] > ref_date, "a_venir")
    stop = end.fillna(pd.Timestamp(ref_date)).where(state != "a_venir", c[C.start_date])
    train_start = col(C.training_start_date).fillna(c[C.start_date])
    train_stop = pd.concat([stop, col(C.training_end_date)], axis=1).min(axis=1)
    in_contract = pd.concat([train_start, c[C.start_date]], axis=1).max(axis=1)
    table = referential.territories().drop_duplicates("postcode").set_index("postcode")["commune"]
    emp_pc = c[C.employer_postcode] if C.employer_postcode in c else pd.Series(pd.NA, index=c.index)
    sector = c["sector"] if "sector" in c else pd.Series(pd.NA, index=c.index)
    reason = (
        c[C.rupture_reason_category] if C.rupture_reason_category in c else pd.Series(pd.NA, index=c.index)
    )
    return pd.DataFrame(
        {
            "apprentice_key": c[C.apprentice_key],
            "contract_id": c[C.contract_id].astype("string"),
            "employer": _employer(c),
            "sector": sector.astype("string").map(referential.sector_labels()).astype("string"),
            "commune": emp_pc.astype("string").map(table).astype("string"),
            "diploma": col(C.diploma_title).astype("string"),
            "diploma_code": col(C.diploma_code).astype("string"),
            "start": c[C.start_date],
            "end": end,
            "state": state.map(STATE_LABELS),
            "months_firm": _months(c[C.start_date], stop),
            "months_training": _months(in_contract, train_stop),
            "train_start": in_contract,
            "train_stop": train_stop,
            "stop": stop,
            "rupture_date": rupture,
            "reason": reason.astype("string").where(rupture.notna()).map(RUPTURE_REASONS).astype("string"),
        }
    ).reset_index(drop=True)


def totals(exp: pd.DataFrame) -> dict[str, float]:
    """Months in companies and months of training over every contract (overlaps once)."""
    return {
        "months_firm": union_months(exp["start"], exp["stop"]),
        "months_training": union_months(exp["train_start"], exp["train_stop"]),
        "contracts": float(len(exp)),
    }


# --------------------------------------------------------------------------------------------------
# skills: exam results already known
# --------------------------------------------------------------------------------------------------
def diploma_titles(contracts: pd.DataFrame) -> pd.Series:
    """Diploma code -> training title (the first one met)."""
    if C.diploma_title not in contracts:
        return pd.Series(dtype="string")
    t = contracts.dropna(subset=[C.diploma_code, C.diploma_title]).drop_duplicates(C.diploma_code)
    return t.set_index(C.diploma_code)[C.diploma_title].astype("string")


def exam_results(
    exams: pd.DataFrame | None,
    contracts: pd.DataFrame,
    *,
    ref_date: pd.Timestamp,
    titles: pd.Series | None = None,
) -> pd.DataFrame:
    """Exam results known by ``ref_date``: ``apprentice_key``, ``session``, ``diploma``, ``result`` (French).

    From ``exam_results.parquet``, then the contracts' outcome columns for sessions the file lacks;
    ``titles`` (default: from ``contracts``) names the diplomas.

    >>> exams = pd.DataFrame({"apprentice_key": ["k1", "k1"], "diploma_code": ["500", "500"],
    ...     "exam_session": ["2025", "2026"], "exam_result": ["ajourne", "admis"],
    ...     "diploma_obtained_date": pd.to_datetime([None, None])})
    >>> c = pd.DataFrame({"apprentice_key": ["k1"], "diploma_code": ["500"], "diploma_title": ["CAP X"]})
    >>> exam_results(exams, c, ref_date=pd.Timestamp("2025-09-30")).values.tolist()
    [['k1', '2025', 'CAP X', 'Ajourné']]
    """
    cols = [C.apprentice_key, C.diploma_code, C.exam_session, C.exam_result, C.diploma_obtained_date]
    frames = []
    if exams is not None and len(exams):
        frames.append(exams.reindex(columns=cols))
    if C.diploma_outcome in contracts and C.exam_session in contracts:
        known = contracts.loc[contracts[C.diploma_outcome].isin(list(RESULT_LABELS)).fillna(False).to_numpy()]
        frames.append(known.rename(columns={C.diploma_outcome: C.exam_result}).reindex(columns=cols))
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype="string") for c in (C.apprentice_key, "session", "diploma", "result")}
        )
    res = pd.concat(
        [f.astype({C.diploma_obtained_date: "datetime64[ns]"}) for f in frames], ignore_index=True
    )
    res = res.assign(**{C.exam_result: res[C.exam_result].astype("string").str.lower()})
    res = res.drop_duplicates([C.apprentice_key, C.diploma_code, C.exam_session], keep="first")
    res = res.loc[(result_dates(res) <= ref_date).fillna(False).to_numpy()]
    titles = diploma_titles(contracts) if titles is None else titles
    code = res[C.diploma_code].astype("string")
    return (
        pd.DataFrame(
            {
                C.apprentice_key: res[C.apprentice_key],
                "session": res[C.exam_session].astype("string"),
                "diploma": code.map(titles).astype("string").fillna("Diplôme " + code),
                "result": res[C.exam_result].map(lambda v: RESULT_LABELS.get(v, v)).astype("string"),
            }
        )
        .sort_values([C.apprentice_key, "session"], kind="stable")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------------
# the fiches
# --------------------------------------------------------------------------------------------------
def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) or not str(value).strip() else str(value).strip()  # type: ignore[call-overload]


@dataclass(frozen=True)
class Tables:
    """The shared tables a run reads once (editable contacts, referentials, outcomes)."""

    missions_locales: pd.DataFrame
    cfa_contacts: pd.DataFrame
    cfa_addresses: pd.Series
    cfa_names: pd.Series
    structure_labels: dict[str, str]
    rncp_by_diploma: pd.Series
    diploma_titles: pd.Series
    blocks: rncp.Blocks | None
    outcomes: pd.DataFrame | None

    @classmethod
    def load(
        cls,
        contracts: pd.DataFrame,
        *,
        structures: pd.DataFrame,
        blocks: rncp.Blocks | None,
        outcomes: pd.DataFrame | None,
    ) -> Tables:
        org = referential.load_table("organismes_41.csv", sep=";").drop_duplicates("uai")
        ref = referential.cfa_referential()
        return cls(
            missions_locales=contacts.missions_locales().set_index("territoire"),
            cfa_contacts=contacts.cfa_contacts().drop_duplicates("uai", keep="last").set_index("uai"),
            cfa_addresses=org.set_index("uai")["adresse"],
            cfa_names=ref.set_index("uai")["name"],
            structure_labels=dict(zip(structures["structure"], structures["label"], strict=True)),
            rncp_by_diploma=rncp.rncp_by_diploma(contracts),
            diploma_titles=diploma_titles(contracts),
            blocks=blocks,
            outcomes=outcomes,
        )


def _cfa(row: pd.Series, t: Tables) -> dict[str, str]:
    uai = _text(row.get(C.cfa_uai))
    uai = uai.upper() if uai else None
    out = {"uai": uai or "", "nom": _text(row.get(C.cfa_name)) or "", "adresse": ""}
    if uai and uai in t.cfa_names.index:
        out["nom"] = out["nom"] or str(t.cfa_names.loc[uai])
    if uai and uai in t.cfa_addresses.index:
        out["adresse"] = str(t.cfa_addresses.loc[uai])
    if uai and uai in t.cfa_contacts.index:
        known = t.cfa_contacts.loc[uai]
        out.update({k: str(known[k]) for k in ("contact", "telephone", "courriel")})
        out["nom"] = str(known["nom"]) or out["nom"]
    return out


def _outcome(followup_id: str, t: Tables) -> dict[str, Any] | None:
    if t.outcomes is None or t.outcomes.empty:
        return None
    hit = t.outcomes.loc[t.outcomes[FOLLOWUP_ID].astype("string") == followup_id]
    if hit.empty:
        return None
    r = hit.iloc[-1]
    return {k: r.get(k) for k in ("contact_date", "outcome", "situation_3m", "situation_6m", "structure")}


def _diploma(row: pd.Series, t: Tables) -> dict[str, Any]:
    code = _text(row.get(C.diploma_code))
    own = rncp.normalise_rncp(pd.Series([row.get(C.rncp_code)], dtype="string")).iloc[0]
    derived = t.rncp_by_diploma.get(code) if code else None
    return {
        "title": _text(row.get(C.diploma_title)),
        "code": code,
        "level": _text(row.get(C.diploma_level)),
        "rncp": own if pd.notna(own) else derived,
        "rncp_derived": pd.isna(own) and derived is not None,
    }


def _fiche(row: pd.Series, exp: pd.DataFrame, exams: pd.DataFrame, t: Tables) -> Fiche:
    rupture = pd.Timestamp(row[C.rupture_date])
    territory = _text(row.get(TERRITORY)) or ""
    ml = t.missions_locales.loc[territory].to_dict() if territory in t.missions_locales.index else None
    diploma = _diploma(row, t)
    after = row.get(C.rupture_after_diploma)
    this = exp.loc[exp["contract_id"] == str(row[C.contract_id])]
    return Fiche(
        followup_id=str(row[FOLLOWUP_ID]),
        person={
            "surname": _text(row.get(C.surname)),
            "first_name": _text(row.get(C.first_name)),
            "birth_date": row.get(C.birth_date),
            "commune": _text(row.get(COMMUNE)),
            "age": row.get(AGE),
            "has_identity": bool(row.get(HAS_IDENTITY)),
        },
        rupture={
            "date": rupture,
            "reason": _text(this["reason"].iloc[0]) if len(this) else None,
            "employer": _text(this["employer"].iloc[0]) if len(this) else None,
            "start": row.get(C.start_date),
            "after_diploma": bool(after) if after is not None and not pd.isna(after) else False,
            "right_end": rupture + pd.DateOffset(months=RIGHT_MONTHS),
            "territory": territory,
        },
        experience=exp.reset_index(drop=True),
        totals=totals(exp),
        diploma=diploma,
        blocks=rncp.blocks_of(t.blocks, diploma["rncp"]),
        exams=exams.reset_index(drop=True),
        mission_locale=ml,
        cfa=_cfa(row, t),
        outcome=_outcome(str(row[FOLLOWUP_ID]), t),
    )


def build_fiches(
    rows: pd.DataFrame,
    contracts: pd.DataFrame,
    exams: pd.DataFrame | None,
    tables: Tables,
    *,
    ref_date: pd.Timestamp,
    listed: pd.DataFrame | None = None,
) -> list[Fiche]:
    """One :class:`Fiche` per row of ``rows`` (from :func:`rupture_rows` or :func:`contract_rows`).

    ``listed`` (from :func:`listed_keys`) names the structures whose lists show each rupture.
    """
    ref = pd.Timestamp(ref_date).normalize()
    keys = set(rows[C.apprentice_key].dropna())
    mine = contracts.loc[contracts[C.apprentice_key].isin(keys).fillna(False).to_numpy()]
    theirs = None if exams is None else exams.loc[exams[C.apprentice_key].isin(keys).fillna(False).to_numpy()]
    exp = experience(mine, ref_date=ref)
    res = exam_results(theirs, mine, ref_date=ref, titles=tables.diploma_titles)
    exp_by = dict(tuple(exp.groupby(C.apprentice_key, sort=False)))
    res_by = dict(tuple(res.groupby(C.apprentice_key, sort=False)))
    out = []
    for _, row in rows.iterrows():
        key = row[C.apprentice_key]
        fiche = _fiche(row, exp_by.get(key, exp.iloc[0:0]), res_by.get(key, res.iloc[0:0]), tables)
        if listed is not None:
            mine_rows = listed.loc[listed[FOLLOWUP_ID] == fiche.followup_id]
            labels = tuple(tables.structure_labels.get(s, s) for s in dict.fromkeys(mine_rows["structure"]))
            done = (mine_rows["sheet"] == SHEET_DONE).any()
            fiche = dataclasses.replace(
                fiche, listed_by=labels, status=SHEET_DONE if done else SHEET_TODO if len(mine_rows) else None
            )
        out.append(fiche)
    return out
