"""One alerting policy for every point de vigilance.

Every finding is a hypothesis test with a p-value; the q-values (Benjamini-Hochberg) are computed over
the **whole family** of findings (centres, sectors, diploma levels, summer) and a finding is an
**alert** when its q-value is at most ``level`` (false discovery rate 5 % by default). Other rows are
informative notes (``alert`` False): tests that found nothing, and centres that cannot be compared.

* ``cfa``: each comparable centre against a typical comparable centre at equal case-mix
  (:func:`~aioa_analysis.stats.casemix.cfa_comparison`: joint Poisson model, Wald test);
  non comparable centres get a note, never an alert;
* ``sector`` and ``diploma_level``: the group's 9-month rupture rate (contracts observed 9 months)
  against the rest of the département: two-sided two-proportion z-test with pooled variance (the
  Pearson chi-square test of the 2 x 2 table); groups or rests with fewer than ``min_n`` contracts and
  unknown values are not tested. These are raw rates: they describe where ruptures happen, not a
  fault of anyone;
* ``season``: July-August against the other months, adjusted
  (:func:`~aioa_analysis.stats.summer.summer_effect`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import ParameterError
from aioa_analysis.core.formatting import fr_interval, fr_number, fr_percent, fr_ratio
from aioa_analysis.core.referential import sector_labels
from aioa_analysis.core.schema import C
from aioa_analysis.stats.casemix import CfaModel, compare_cfas, fit_cfa_model
from aioa_analysis.stats.intervals import wilson_interval
from aioa_analysis.stats.multiplicity import bh_qvalues, holm_adjusted
from aioa_analysis.stats.rates import rupture_rate_within
from aioa_analysis.stats.summer import summer_effect

__all__ = ["FINDING_COLUMNS", "vigilance_findings"]

FINDING_COLUMNS = [
    "kind",
    "dimension",
    "group",
    "direction",
    "value",
    "ci_low",
    "ci_high",
    "reference",
    "p_value",
    "q_value",
    "alert",
    "sentence",
]
_INPUT_COLUMNS = ["kind", "dimension", "group", "value", "ci_low", "ci_high", "reference", "p_value"]
ADJUSTMENTS = {"holm": holm_adjusted, "bh": bh_qvalues}
_PROFILE = "à profil de contrats égal (niveau × secteur, premier contrat ou successeur, âge, année de début)"


def _direction(value: float, reference: float) -> object:
    if np.isnan(value) or np.isnan(reference) or value == reference:
        return pd.NA
    return "above" if value > reference else "below"


def _cfa_names(contracts: pd.DataFrame) -> dict[str, str]:
    if C.cfa_name not in contracts:
        return {}
    pairs = contracts[[C.cfa_uai, C.cfa_name]].dropna()
    return pairs.groupby(C.cfa_uai, observed=True)[C.cfa_name].agg(lambda s: s.mode().iloc[0]).to_dict()


def _cfa_rows(
    model: CfaModel, names: dict[str, str], *, reference: list[str] | None, min_overlap: float
) -> list[dict]:
    table = compare_cfas(model, reference=reference)
    versus = (
        "des autres CFA comparables"
        if reference is None
        else "des autres CFA comparables (hors CFA déjà signalés)"
    )
    rows = []
    for r in table.itertuples(index=False):
        if r.cfa == "inconnu":
            continue
        who = f"{names.get(r.cfa, 'CFA')} ({r.cfa})"
        base = {"dimension": "cfa", "group": r.cfa, "reference": 1.0}
        if not r.comparable:
            text = (
                f"{who} : non comparable. Ses contrats sont presque seuls dans leurs niveaux et secteurs "
                f"(recouvrement {fr_number(r.n_overlap)} contrats équivalents, seuil {fr_number(min_overlap)}) ; "
                "aucun autre CFA ne forme assez de publics semblables pour juger son taux par comparaison."
            )
            rows.append(
                {
                    **base,
                    "kind": "non_comparable",
                    "value": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "text": text,
                }
            )
            continue
        text = (
            f"{who} : {_PROFILE}, le rythme de rupture des 9 premiers mois est {fr_ratio(r.ratio)} fois "
            f"celui {versus} (moyenne ; intervalle à 95 % {fr_interval(r.ci_low, r.ci_high, kind='ratio')} ; "
            f"{fr_number(r.events)} ruptures observées pour {fr_number(r.expected, 1)} attendues)."
        )
        rows.append(
            {
                **base,
                "kind": "cfa_casemix",
                "value": r.ratio,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_value": r.p_value,
                "text": text,
            }
        )
    return rows


def _group_rows(contracts: pd.DataFrame, *, as_of: pd.Timestamp, dimension: str, min_n: int) -> list[dict]:
    table = rupture_rate_within(contracts, as_of=as_of, by=dimension, min_n=0)
    total_k, total_n = table["n_ruptures"].sum(), table["n_contracts"].sum()
    labels = sector_labels() if dimension == "sector" else {}
    rows = []
    for group, k, n in zip(table[dimension], table["n_ruptures"], table["n_contracts"], strict=True):
        rest_k, rest_n = total_k - k, total_n - n
        if str(group) == "inconnu" or n < min_n or rest_n < min_n:
            continue
        pooled = total_k / total_n
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        rate, ref = k / n, rest_k / rest_n
        p = float(2 * stats.norm.sf(abs(rate - ref) / se)) if se > 0 else np.nan
        lo, hi = wilson_interval([k], [n])
        name = (
            f"Secteur « {labels.get(str(group), str(group))} »"
            if dimension == "sector"
            else f"Diplômes de niveau {group}"
        )
        rows.append(
            {
                "kind": "rate_vs_rest",
                "dimension": dimension,
                "group": str(group),
                "value": rate,
                "ci_low": float(lo[0]),
                "ci_high": float(hi[0]),
                "reference": ref,
                "p_value": p,
                "text": f"{name} : {fr_percent(rate)} des contrats rompus dans les 9 premiers mois "
                f"(intervalle à 95 % {fr_interval(lo[0], hi[0])}, {fr_number(n)} contrats), contre "
                f"{fr_percent(ref)} dans le reste du département (taux bruts : ils décrivent où les "
                "ruptures ont lieu, sans ajustement).",
            }
        )
    return rows


def _summer_row(contracts: pd.DataFrame, *, as_of: pd.Timestamp) -> list[dict]:
    s = summer_effect(contracts, as_of=as_of)
    if np.isnan(s["ratio"]):
        return []
    text = (
        "Été : à ancienneté du contrat, type de contrat (premier ou successeur), niveau et secteur égaux, "
        f"le risque de rupture en juillet-août est de {fr_number(s['ci_low'], 1)} à "
        f"{fr_number(s['ci_high'], 1)} fois celui des autres mois (estimation {fr_number(s['ratio'], 2)}). "
        "L'été est aussi la fin de l'année de formation : les ruptures après l'obtention du diplôme "
        f"({s['n_after_diploma']}, dont {s['n_after_diploma_summer']} en juillet-août) et celles des "
        f"8 dernières semaines avant la fin prévue ({s['n_last_weeks']}, dont {s['n_last_weeks_summer']} "
        "en juillet-août) sont comptées à part."
    )
    return [
        {
            "kind": "summer_ratio",
            "dimension": "season",
            "group": "juillet-août",
            "value": s["ratio"],
            "ci_low": s["ci_low"],
            "ci_high": s["ci_high"],
            "reference": 1.0,
            "p_value": s["p_value"],
            "text": text,
        }
    ]


def _sentence(row: pd.Series, level: float, method: str) -> str:
    if pd.isna(row["p_value"]):
        return row["text"]
    q = f"p ajusté = {fr_number(row['q_value'], 3)}" if row["q_value"] >= 0.001 else "p ajusté < 0,001"
    if row["alert"]:
        verdict = "Écart établi" + (" (au-dessus)" if row["direction"] == "above" else " (en dessous)")
    else:
        verdict = "Pas d'écart établi"
    policy = "d'erreur sur l'ensemble des constats" if method == "holm" else "de fausses découvertes"
    return f"{row['text']} {verdict} au seuil de {fr_percent(level, 0)} {policy} ({q})."


def _assemble(rows: list[dict], *, level: float, method: str) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=[*_INPUT_COLUMNS, "text"])
    out["direction"] = pd.array(
        [_direction(v, r) for v, r in zip(out["value"], out["reference"], strict=True)], dtype="string"
    )
    out["q_value"] = ADJUSTMENTS[method](out["p_value"])
    out["alert"] = (out["q_value"] <= level).fillna(False).astype(bool)
    return out


def vigilance_findings(
    contracts: pd.DataFrame,
    *,
    as_of: object,
    cfa: str | None = None,
    level: float = 0.05,
    method: str = "holm",
    min_n: int = 20,
    min_overlap: float = 50.0,
) -> pd.DataFrame:
    """Every finding of the points de vigilance, tested, with adjusted p-values over the whole family.

    Columns :data:`FINDING_COLUMNS`. ``q_value`` is the adjusted p-value of ``method`` (``"holm"``:
    family-wise error, the default; ``"bh"``: Benjamini-Hochberg false discovery rate); ``alert`` is
    ``q_value <= level``. Centres are compared with the average of the other comparable centres;
    then, one at a time, the most significant alerted centre is left out of that reference and the
    comparisons are redone, until no new centre is alerted (a deviant centre must not move the
    others' reference; one at a time, so that a centre alerted only because of a deviant neighbour
    is not itself left out).
    With ``cfa`` (a UAI): the rows about that centre and the département-wide ones, adjusted over
    the whole family.
    """
    if method not in ADJUSTMENTS:
        raise ParameterError(
            f"method {method!r} is not one of {', '.join(ADJUSTMENTS)}", hint="use holm or bh"
        )
    ts = parse_as_of(as_of)
    if cfa is not None and cfa not in set(contracts[C.cfa_uai].dropna().astype(str)):
        raise ParameterError(f"--cfa {cfa} is not a CFA of the data", hint="give a UAI present in cfa_uai")
    model = fit_cfa_model(contracts, as_of=ts, min_overlap=min_overlap, min_n=min_n)
    names = _cfa_names(contracts)
    rest = [
        *_group_rows(contracts, as_of=ts, dimension="sector", min_n=min_n),
        *_group_rows(contracts, as_of=ts, dimension="diploma_level", min_n=min_n),
        *_summer_row(contracts, as_of=ts),
    ]
    comparable = model.table.loc[model.table["comparable"], "cfa"].tolist()
    excluded: list[str] = []
    for _ in range(max(len(comparable), 1)):  # once at least, when no CFA is comparable
        reference = None if not excluded else [c for c in comparable if c not in excluded]
        out = _assemble(
            [*_cfa_rows(model, names, reference=reference, min_overlap=min_overlap), *rest],
            level=level,
            method=method,
        )
        alerted = out[(out["dimension"] == "cfa") & out["alert"] & ~out["group"].isin(excluded)]
        if alerted.empty or len(comparable) - len(excluded) <= 2:
            break
        excluded.append(str(alerted.sort_values("p_value")["group"].iloc[0]))
    out["sentence"] = [_sentence(r, level, method) for _, r in out.iterrows()]
    if cfa is not None:
        out = out[(out["dimension"] != "cfa") | (out["group"] == cfa)]
    return out[FINDING_COLUMNS].reset_index(drop=True)
