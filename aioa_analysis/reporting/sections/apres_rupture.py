"""« Après la rupture »: new contracts within 60 and 180 days of a rupture, and the contracts broken with
no new contract known in these files (the « rupture nette » of DARES, worded for what the files can see)."""

from __future__ import annotations

from aioa_analysis.reporting import figures
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import chart_with_table, heading, show_table


def show_apres_rupture(ctx: ReportContext) -> None:
    """Re-contracting within 60 and 180 days; broken with no new contract known in these files."""
    heading("apres-rupture")
    res = ctx.results
    rc = res.recontract
    rc = rc.assign(
        label=[f"Dans les {w} jours" for w in rc["window_days"]], suppressed=rc["n_ruptures"] < ctx.min_n
    )
    fig = figures.share_bars(
        rc,
        label="label",
        share="rate",
        ci_low="ci_low",
        ci_high="ci_high",
        count="n_ruptures",
        ytitle="Part des contrats rompus",
        xtitle="Nouveau contrat",
        min_n=ctx.min_n,
    )
    chart_with_table(
        ctx,
        fig,
        fig_id="fig-apres",
        caption="Part des contrats rompus suivis d'un nouveau contrat d'apprentissage",
        table=rc,
        columns=[
            ("label", "Nouveau contrat", "text"),
            ("n_ruptures", "Ruptures suivies", "number"),
            ("n_recontracted", "Avec nouveau contrat", "number"),
            ("rate", "Part", "percent"),
            ("ci", "IC 95 %", "interval"),
            ("n_window_open", "Ruptures trop récentes", "number"),
        ],
        suppress=["rate", "ci", "n_recontracted"],
        table_id="tab-apres",
        table_caption="Nouveau contrat après une rupture",
        note="Seules les ruptures dont la fenêtre est entièrement écoulée à la date d'observation sont comptées.",
    )
    net = res.net
    if len(net):
        net = net.assign(label="Ensemble", suppressed=net["n_contracts"] < ctx.min_n)
        show_table(
            ctx,
            net,
            [
                ("label", "Périmètre", "text"),
                ("n_contracts", "Contrats observés", "number"),
                ("gross_rate", f"Rupture brute à {ctx.horizon} mois", "percent"),
                ("recontract_share", "dont nouveau contrat en 180 jours", "percent"),
                ("rate", "Rompus sans nouveau contrat connu", "percent"),
                ("ci", "IC 95 %", "interval"),
            ],
            suppress=["gross_rate", "recontract_share", "rate", "ci"],
            table_id="tab-nette",
            caption="Contrats rompus, et rompus sans nouveau contrat connu dans ces fichiers",
            note=f"Rompus sans nouveau contrat connu : contrat rompu dans les {ctx.horizon} mois, sans nouveau "
            "contrat d'apprentissage dans les 180 jours dans les fichiers reçus. Un nouveau contrat hors du "
            "département, dans un autre CFA non transmis ou hors apprentissage n'y figure pas : cette part "
            "surestime les sorties sans suite. La « rupture nette » de la DARES (12 % des contrats commencés en "
            "2021) voit tous les contrats de France ; elle n'est donc pas directement comparable.",
        )
