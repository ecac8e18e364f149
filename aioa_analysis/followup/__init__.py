"""Monthly follow-up lists for the Missions Locales and the MLDS (personal data: handle as such).

Each month, every structure that follows young people receives one workbook for the young people of
its territory: "Ruptures à traiter" (the work list, by priority), "Déjà traités" (rows whose outcome
came back), "Ruptures après diplôme", "Contrats signés" and "Résultats diplôme" (see
:mod:`~aioa_analysis.followup.lists`; phone and e-mail only on the first two). The advisers' columns
come back through ``aioa followup --import`` (:mod:`~aioa_analysis.followup.returns`, stored by
:mod:`~aioa_analysis.followup.store`, which also purges). The first version's three lists:

* **Contrats signés**: contracts whose start date falls in the month, plus contracts *signed* in the
  month that start later (they appear again in the month they start);
* **Ruptures**: ruptures that took effect in the month, plus earlier ruptures still without a new
  contract at the reference date, with the days since the rupture and the date the 180-day window
  closes (``rupture_date + 180 days``: from that day on, without a new contract, the young person
  counts as having left apprenticeship, the Tableau de bord's ``ABANDON`` status). An earlier rupture
  is listed while its window is open at the reference date (day 0..179); a later contract of the
  same apprentice starting on or after the rupture date, and started or signed by the reference
  date, closes the case;
* **Résultats diplôme**: results of the exam session that closed in the month (the month of the
  result date when known, else July of the session year), admitted or not.

The **reference date** is the last day of the month, or the extraction date ``as_of`` when the data
stop earlier. Ages are full years at the reference date.

**Routing.** The territory of a young person comes from the residence postcode of the identity
store (latest known), else of the contract, through the shipped ``territories.csv``. Structures and
the territories they cover come from the shipped, editable ``followup_structures.csv``: a Mission
Locale lists the young people of its territories; the MLDS lists, **in addition to** the Mission
Locale of the territory, the young people living in Loir-et-Cher under 18 at the contract start (editable
``mlds_max_age``/``mlds_age_at``), or who were at school just before the contract (situation before
the contract "scolaire": CERFA code 1, SIFA codes 11/12/21/31), i.e. who left school less than a
year before it. Young people living outside Loir-et-Cher (``hors_41``), with a Loir-et-Cher postcode
missing from ``territories.csv`` (``inconnu``: the MLDS list may include them) or without any postcode
(``sans_code_postal``) appear in no Mission Locale list; they are counted in the manifest.

**Identities** come only from the restricted identity store, joined on ``apprentice_key``; the
contract table never holds them. Text cells a spreadsheet would execute are neutralised
(:func:`neutralise_cell`). Workbooks and the manifest are written atomically with mode 0600 into a
0700 folder (:func:`write_followup`).

Modules, in reading order: :mod:`~aioa_analysis.followup.select` (which contracts, ruptures and
results go on the lists of a month), :mod:`~aioa_analysis.followup.route` (structures, identities,
territories, the MLDS rule), :mod:`~aioa_analysis.followup.lists` (every list of a month per
structure, French headers), :mod:`~aioa_analysis.followup.workbook` (workbooks, "Lisez-moi",
manifest). The fiche parcours of each listed rupture (``aioa fiche``):
:mod:`~aioa_analysis.followup.fiche` (what a fiche says), :mod:`~aioa_analysis.followup.rncp` (the
blocs de compétences of France Compétences' export), :mod:`~aioa_analysis.followup.fiche_html` (the
printable page, the owner-only set).
"""

from aioa_analysis.followup.lists import (
    CONTACT_SHEETS,
    DATA_SHEETS,
    SHEET_AFTER_DIPLOMA,
    SHEET_COLUMNS,
    SHEET_DIPLOMA,
    SHEET_DONE,
    SHEET_RUPTURES,
    SHEET_SIGNED,
    SHEET_TODO,
    FollowupLists,
    build_followup,
    sheet_frame,
)
from aioa_analysis.followup.route import (
    COMMUNE,
    attach_identity,
    load_structures,
    select_structures,
    structure_mask,
)
from aioa_analysis.followup.select import (
    REASON_RUPTURE_MONTH,
    REASON_RUPTURE_OPEN,
    month_bounds,
    parse_month,
    reference_date,
    select_diploma_results,
    select_ruptures,
    select_signed,
)
from aioa_analysis.followup.workbook import (
    MANIFEST_NAME,
    counts_table,
    default_out_dir,
    neutralise_cell,
    readme_lines,
    workbook_bytes,
    write_followup,
    write_workbook,
)

__all__ = [
    "COMMUNE",
    "CONTACT_SHEETS",
    "DATA_SHEETS",
    "MANIFEST_NAME",
    "REASON_RUPTURE_MONTH",
    "REASON_RUPTURE_OPEN",
    "SHEET_AFTER_DIPLOMA",
    "SHEET_COLUMNS",
    "SHEET_DIPLOMA",
    "SHEET_DONE",
    "SHEET_RUPTURES",
    "SHEET_SIGNED",
    "SHEET_TODO",
    "FollowupLists",
    "attach_identity",
    "build_followup",
    "counts_table",
    "default_out_dir",
    "load_structures",
    "month_bounds",
    "neutralise_cell",
    "parse_month",
    "readme_lines",
    "reference_date",
    "select_diploma_results",
    "select_ruptures",
    "select_signed",
    "select_structures",
    "sheet_frame",
    "structure_mask",
    "workbook_bytes",
    "write_followup",
    "write_workbook",
]
