"""« Synthèse en chiffres »: the key figures of the scope, and the published references beside them."""

from __future__ import annotations

import html
from typing import Final

import pandas as pd

from aioa_analysis.core.formatting import (
    fr_date,
    fr_interval,
    fr_number,
    fr_percent,
    suppressed_label,
    table_html,
)
from aioa_analysis.core.schema import C
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections import publication as RP
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.labels import short_label
from aioa_analysis.reporting.sections.layout import HIDDEN, heading, paragraph
from aioa_analysis.stats import publication

INDICATOR_ORDER: Final = (
    "rupture_rate",
    "rupture_rate_whole_contract",
    "rupture_rate_person",
    "net_rupture_share",
    "recontract_share_180d",
    "exam_pass_rate",
)


GEOGRAPHY_ORDER: Final = ("France", "Centre-Val de Loire")


def _card(value: str, label: str, detail: str = "") -> str:
    d = f'<span class="detail">{html.escape(detail)}</span>' if detail else ""
    return f'<div class="card"><span class="value">{html.escape(value)}</span><span class="label">{html.escape(label)}</span>{d}</div>'


def show_synthese(ctx: ReportContext) -> None:
    """Key figures with the national and regional references."""
    heading("synthese")
    show_html(
        f'<div class="cards">{"".join(key_figures(ctx))}</div>'
        + paragraph(f"{fr_number(len(ctx.contracts))} contrats dans le périmètre du rapport.")
    )
    if ctx.cfa_label:
        show_html(
            table_html(
                cfa_beside_table(ctx),
                table_id="tab-cfa-departement",
                caption="Les chiffres clés du CFA et ceux du département",
                note="Mêmes définitions, même date d'observation, mêmes règles de secret dans les deux colonnes ; "
                "le département compte tous les CFA, celui-ci compris. « secret » : valeur non publiée "
                f"(moins de {ctx.min_n} contrats, 1 ou 2 ruptures ou contrats non rompus, ou masquée pour protéger "
                "une autre case).",
            )
        )
    show_html(
        table_html(
            references_table(ctx),
            table_id="tab-references",
            caption="Le périmètre du rapport et les références publiées",
            numeric=["Valeur"],
            note="Les références nationales et régionales sont des chiffres publiés (source et année indiquées) ; leurs définitions peuvent différer (voir la méthodologie).",
        )
    )


def _overall_row(ctx: ReportContext) -> pd.Series | None:
    """The scope's rupture rate within the horizon (``None`` when nothing could be computed)."""
    ov = RP.published_overall(ctx)
    return ov.iloc[0] if len(ov) else None


def key_figures(ctx: ReportContext) -> list[str]:
    """The cards of the synthesis (HTML): contracts, rupture rates, re-contracting, after the diploma."""
    res, h = ctx.results, ctx.horizon
    ov = _overall_row(ctx)
    started = ctx.contracts[C.start_date] <= ctx.as_of
    cards = [_card(fr_number(int(started.sum())), "contrats commencés dans le périmètre")]
    if ov is not None and not bool(ov.get("suppressed", False)) and pd.notna(ov["rate"]):
        cards.append(
            _card(
                fr_percent(ov["rate"]),
                f"taux de rupture à {h} mois",
                f"IC 95 % {fr_interval(ov['ci_low'], ov['ci_high'])}, {fr_number(ov['n_contracts'])} contrats observés",
            )
        )
    elif ov is not None:
        cards.append(_card(suppressed_label(ctx.min_n), f"taux de rupture à {h} mois"))
    cards += _whole_card(ctx)
    net = res.net
    if len(net) and pd.notna(net["rate"].iloc[0]) and int(net["n_contracts"].iloc[0]) >= ctx.min_n:
        cards.append(
            _card(
                fr_percent(net["rate"].iloc[0]),
                f"des contrats rompus dans les {h} mois, sans nouveau contrat connu dans ces fichiers",
                "aucun nouveau contrat d'apprentissage dans les 180 jours dans les fichiers reçus "
                "(un contrat hors du département ou hors apprentissage n'y figure pas)",
            )
        )
    rc = res.recontract
    rc180 = rc.loc[rc["window_days"] == 180]
    if len(rc180) and int(rc180["n_ruptures"].iloc[0]) >= ctx.min_n:
        cards.append(
            _card(
                fr_percent(rc180["rate"].iloc[0]),
                "des contrats rompus suivis d'un nouveau contrat en 180 jours",
            )
        )
    cards.append(
        _card(
            fr_number(res.n_after_diploma),
            "ruptures après l'obtention du diplôme",
            f"tous les contrats du périmètre, jusqu'au {fr_date(ctx.as_of)} ; comptées à part, pas comme "
            "des ruptures (L6222-19)",
        )
    )
    return cards


def _whole_card(ctx: ReportContext) -> list[str]:
    """The probability of a rupture before the planned end (Aalen-Johansen), with its interval."""
    whole = ctx.results.whole
    if not len(whole) or pd.isna(whole["rate"].iloc[0]) or bool(whole["suppressed"].iloc[0]):
        return []
    w = whole.iloc[0]
    return [
        _card(
            fr_percent(w["rate"]),
            "des contrats rompus avant leur fin prévue",
            f"IC 95 % {fr_interval(w['ci_low'], w['ci_high'])} ; estimation d'Aalen-Johansen sur "
            f"{fr_number(w['horizon_months'], 0)} mois de contrat : la fin normale du contrat est un "
            f"« risque concurrent », les contrats en cours au {fr_date(ctx.as_of)} sont suivis jusqu'à cette "
            f"date ; au-delà de cette durée, moins de {ctx.min_n} contrats restent suivis",
        )
    ]


def references_table(ctx: ReportContext) -> pd.DataFrame:
    """The scope's rate, then the published national and regional references (display strings)."""
    res, h = ctx.results, ctx.horizon
    ov = _overall_row(ctx)
    ref = sort_references(res.references.loc[res.references["dimension"] == "overall"], horizon=h)
    rows = pd.DataFrame(
        {
            "Indicateur": [
                _indicator_label(i, hm) for i, hm in zip(ref["indicator"], ref["horizon_months"], strict=True)
            ],
            "Territoire": ref["geography"],
            "Valeur": [fr_percent(v) for v in ref["value"]],
            "Population": ref["population"],
            "Source": ref["source"],
        }
    )
    if ov is not None:
        mine = pd.DataFrame(
            {
                "Indicateur": [f"Taux de rupture à {h} mois"],
                "Territoire": [ctx.scope_label],
                "Valeur": [suppressed_label(ctx.min_n) if bool(ov["suppressed"]) else fr_percent(ov["rate"])],
                "Population": [f"contrats commencés avant le {fr_date(ctx.as_of - pd.DateOffset(months=h))}"],
                "Source": ["ce rapport"],
            }
        )
        rows = pd.concat([mine, rows], ignore_index=True)
    return rows


def sort_references(ref: pd.DataFrame, *, horizon: int = 9) -> pd.DataFrame:
    """Published references in reading order: by indicator (the report's horizon first among the
    rupture rates), then France before Centre-Val de Loire, then the most recent year first.

    >>> r = pd.DataFrame({"indicator": ["rupture_rate"] * 4 + ["rupture_rate_whole_contract"],
    ...     "horizon_months": ["9", "6", "9", "9", ""], "geography": ["France", "France",
    ...     "Centre-Val de Loire", "France", "France"], "year": [2018, 2022, 2022, 2022, 2021]})
    >>> sort_references(r)[["horizon_months", "geography", "year"]].values.tolist()
    [['9', 'France', 2022], ['9', 'France', 2018], ['9', 'Centre-Val de Loire', 2022], ['6', 'France', 2022], ['', 'France', 2021]]
    """
    ind = {v: i for i, v in enumerate(INDICATOR_ORDER)}
    geo = {v: i for i, v in enumerate(GEOGRAPHY_ORDER)}
    hz = ref["horizon_months"].astype(str).str.strip()
    keys = pd.DataFrame(
        {
            "_i": ref["indicator"].map(ind).fillna(len(ind)).to_numpy(),
            "_h": (hz != str(horizon)).to_numpy(),
            "_hn": pd.to_numeric(hz, errors="coerce").fillna(0).to_numpy(),
            "_g": ref["geography"].map(geo).fillna(len(geo)).to_numpy(),
            "_y": -pd.to_numeric(ref["year"], errors="coerce").fillna(0).to_numpy(),
        },
        index=ref.index,
    )
    order = keys.sort_values(["_i", "_h", "_hn", "_g", "_y"], kind="stable").index
    return ref.loc[order].reset_index(drop=True)


def _indicator_label(indicator: str, horizon: object) -> str:
    h = str(horizon).strip()
    return {
        "rupture_rate": f"Taux de rupture à {h} mois",
        "rupture_rate_whole_contract": "Taux de rupture sur tout le contrat",
        "rupture_rate_person": f"Part des apprentis ayant rompu (sur {h} mois)",
        "net_rupture_share": "Rompus sans nouveau contrat d'apprentissage en 6 mois",
        "recontract_share_180d": "Nouveau contrat dans les 6 mois",
        "exam_pass_rate": "Taux de réussite à l'examen",
    }.get(indicator, indicator)


def _rate_text(table: pd.DataFrame, min_n: int, *, window: int | None = None, n: str = "n_contracts") -> str:
    """A rate of a one-row result table in French, « secret » when hidden or on fewer than ``min_n``."""
    if window is not None and len(table):
        table = table.loc[table["window_days"] == window]
    if not len(table) or pd.isna(table["rate"].iloc[0]):
        return "–"
    r = table.iloc[0]
    hidden = bool(r.get("suppressed", False)) or int(r[n]) < min_n
    return HIDDEN if hidden else f"{fr_percent(r['rate'])} {fr_interval(r['ci_low'], r['ci_high'])}"


def _count_text(n: int) -> str:
    """A count in French; 1 or 2 are never printed."""
    return HIDDEN if n in (1, 2) else fr_number(n)


def cfa_beside_table(ctx: ReportContext) -> pd.DataFrame:
    """A CFA report's key figures beside the département's (display strings): contracts started, rate
    within the horizon (the family's suppression), rupture before the planned end, broken with no new
    contract known, new contract within 180 days, ruptures after the diploma."""
    res, h, m = ctx.results, ctx.horizon, ctx.min_n
    pattern = RP.family_pattern(ctx)
    own = RP.published_overall(ctx)
    dept = publication.apply_pattern(res.overall_dept, pattern, dimension=publication.TOTAL)
    dept_after = int(res.dept_whole["n_ruptures_after_diploma"].iloc[0]) if len(res.dept_whole) else 0
    started = (
        (ctx.contracts[C.start_date] <= ctx.as_of).sum(),
        (ctx.departement[C.start_date] <= ctx.as_of).sum(),
    )
    rows = [
        ("Contrats commencés", fr_number(int(started[0])), fr_number(int(started[1]))),
        (f"Taux de rupture à {h} mois (IC 95 %)", _rate_text(own, m), _rate_text(dept, m)),
        ("Rompus avant leur fin prévue (IC 95 %)", _rate_text(res.whole, m), _rate_text(res.dept_whole, m)),
        (
            f"Rompus dans les {h} mois sans nouveau contrat connu (IC 95 %)",
            _rate_text(res.net, m),
            _rate_text(res.dept_net, m),
        ),
        (
            "Contrats rompus suivis d'un nouveau contrat en 180 jours (IC 95 %)",
            _rate_text(res.recontract, m, window=180, n="n_ruptures"),
            _rate_text(res.dept_recontract, m, window=180, n="n_ruptures"),
        ),
        ("Ruptures après l'obtention du diplôme", _count_text(res.n_after_diploma), _count_text(dept_after)),
    ]
    return pd.DataFrame(rows, columns=["Indicateur", short_label(ctx.cfa_label), "Département"])
