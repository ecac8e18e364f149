"""``aioa fiche``: the fiche parcours of each rupture on the month's follow-up lists (issue 17).

A small synthetic sample is generated and cleaned once for the module; every test works on a fresh
copy of the processed tables and the restricted store. The fiches are counted against the rupture
rows of the follow-up workbooks ``aioa followup`` writes for the same month.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from aioa_analysis import cli, followup
from aioa_analysis.core.formatting import fr_date
from aioa_analysis.followup import fiche, fiche_html, people, rncp
from aioa_analysis.followup.lists import adviser_headers
from aioa_analysis.reporting import pdf

pytestmark = pytest.mark.slow
KEY = adviser_headers()["key"]
MONTH = "2025-09"
BLOCKS_FILE = "export_fiches_CSV_Blocs_De_Compétences_2025_11_03.csv"


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """A small sample, cleaned once for the module (processed tables and identity store)."""
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.sample import generate_sample

    root = tmp_path_factory.mktemp("fiche")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIOA_KEY_FILE", str(root / "key"))
    mp.setenv("AIOA_RAW_DIR", str(root / "none"))
    mp.setenv("AIOA_SAMPLE_DIR", str(root / "raw"))
    mp.setenv("AIOA_RESTRICTED_DIR", str(root / "restricted"))
    try:
        generate_sample(root / "raw", seed=41, years=2, contracts_per_year=500)
        run_clean(None, out_dir=root / "processed", restricted_dir=root / "restricted")
    finally:
        mp.undo()
    return root


@pytest.fixture
def project(sample_build, tmp_path, monkeypatch):
    """A fresh copy of the cleaned sample, wired through the config variables."""
    for name in ("processed", "restricted"):
        shutil.copytree(sample_build / name, tmp_path / name, symlinks=True)
    os.chmod(tmp_path / "restricted", 0o700)
    (tmp_path / "raw").mkdir()
    monkeypatch.setenv("AIOA_PROCESSED_DIR", str(tmp_path / "processed"))
    monkeypatch.setenv("AIOA_RESTRICTED_DIR", str(tmp_path / "restricted"))
    monkeypatch.setenv("AIOA_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("AIOA_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("AIOA_KEY_FILE", str(sample_build / "key"))
    monkeypatch.delenv("AIOA_REFERENTIAL_DIR", raising=False)
    return tmp_path


def fiches_dir(project: Path, selection: str = "all", month: str = MONTH) -> Path:
    return project / "restricted" / "fiches" / month / selection


def workbook_ruptures(project: Path, month: str = MONTH) -> dict[str, dict]:
    """Key -> row of every "Ruptures à traiter" / "Déjà traités" row of the month's workbooks."""
    out: dict[str, dict] = {}
    for book in sorted((project / "restricted" / "followup" / month).glob("suivi_*.xlsx")):
        wb = openpyxl.load_workbook(book, read_only=True)
        try:
            for sheet in fiche.FICHE_SHEETS:
                rows = list(wb[sheet].iter_rows(values_only=True))
                for r in rows[1:]:
                    row = dict(zip(rows[0], r, strict=True))
                    out[row[KEY]] = row
        finally:
            wb.close()
    return out


def identity_names(project: Path) -> set[str]:
    ids = pd.read_parquet(project / "restricted" / "identities.parquet", columns=["surname"])
    return {s.upper() for s in ids["surname"].dropna().astype(str) if len(s) >= 4}


def test_month_all_one_fiche_per_listed_rupture(project, capsys):
    assert cli.main(["followup", "--month", MONTH]) == 0
    listed = workbook_ruptures(project)
    assert len(listed) > 20
    capsys.readouterr()
    assert cli.main(["fiche", "--month", MONTH, "--structure", "all"]) == 0
    printed = capsys.readouterr()
    out = fiches_dir(project)
    pages = sorted(out.glob("fiche-*.html"))
    assert {p.stem for p in pages} == {f"fiche-{k}" for k in listed}
    assert len(pages) == len(listed)  # one fiche per rupture, even when two structures list it
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    for page in pages:
        assert stat.S_IMODE(page.resolve().stat().st_mode) == 0o600
        text = page.read_text(encoding="utf-8")
        row = listed[page.stem.removeprefix("fiche-")]
        end = pd.Timestamp(row["Date de rupture"]) + pd.DateOffset(months=6)
        assert f"Jusqu'au {fr_date(end)}" in text, page.name
        assert "stagiaire de la formation professionnelle" in text
        assert fiche_html.external_references(text) == [] and "http" not in text
        assert "DONNÉES FICTIVES" in text and "@top-center" in text  # on every printed page
        assert row["NOM"] in text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('href="fiche-') == len(listed)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fiches"] == len(listed) and manifest["synthetic"] is True
    assert all(isinstance(v, int | bool | str | dict) for v in manifest.values())
    blob = json.dumps(manifest) + printed.out + printed.err
    assert not [n for n in identity_names(project) if n in blob.upper()]  # counts only, no name


def test_one_structure_matches_its_workbook(project):
    assert cli.main(["followup", "--month", MONTH, "--structure", "ml_vendomois"]) == 0
    listed = workbook_ruptures(project)
    assert cli.main(["fiche", "--month", MONTH, "--structure", "ml_vendomois"]) == 0
    stems = {p.stem for p in fiches_dir(project, "ml_vendomois").glob("fiche-*.html")}
    assert stems == {f"fiche-{k}" for k in listed} and stems


def _listed_contract(project: Path) -> pd.Series:
    """The listed rupture whose apprentice has the most contracts (the longest fiche)."""
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    ids = pd.read_parquet(project / "restricted" / "identities.parquet")
    lists = followup.build_followup(
        contracts,
        ids,
        None,
        month=pd.Period(MONTH, "M"),
        as_of=pd.Timestamp("2025-11-30"),
        structures=followup.load_structures(),
    )
    keys = fiche.listed_keys(lists)[fiche.FOLLOWUP_ID]
    rows = contracts.assign(fid=people.followup_ids(contracts["contract_id"]))
    rows = rows.loc[rows["fid"].isin(set(keys))]
    n = contracts.groupby("apprentice_key").size()
    return rows.assign(n=rows["apprentice_key"].map(n)).sort_values("n", kind="stable").iloc[-1]


def test_experience_lists_every_contract_of_the_apprentice(project):
    row = _listed_contract(project)
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    assert cli.main(["fiche", "--month", MONTH, "--contract", row["contract_id"]]) == 0
    page = (fiches_dir(project, f"contrat-{row['fid']}") / f"fiche-{row['fid']}.html").read_text(
        encoding="utf-8"
    )
    mine = contracts.loc[
        (contracts["apprentice_key"] == row["apprentice_key"]) & (contracts["start_date"] <= "2025-09-30")
    ]
    assert len(mine) >= 2
    body = page.split("Son expérience", 1)[1].split("Ses compétences", 1)[0]
    assert body.count("<tr") - 1 == len(mine) + 1  # header, one row per contract, the total
    for c in mine.itertuples():
        assert fr_date(c.start_date) in body
    months = round((row["rupture_date"] - row["start_date"]).days / fiche.DAYS_PER_MONTH, 1)
    assert f"{months:.1f}".replace(".", ",") in body
    # the same page through the follow-up key
    assert cli.main(["fiche", "--month", MONTH, "--contract", row["fid"]]) == 0


def _blocks_csv(rows: list[tuple[str, str, str]]) -> str:
    lines = ["Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle"]
    return "\n".join(lines + [";".join(r) for r in rows]) + "\n"


def test_rncp_export_puts_the_diploma_blocks_on_the_fiche(project):
    row = _listed_contract(project)
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    code = rncp.normalise_rncp(pd.Series([row["rncp_code"]])).iloc[0]
    if pd.isna(code):
        code = rncp.rncp_by_diploma(contracts)[row["diploma_code"]]
    page_of = lambda: (  # noqa: E731
        fiches_dir(project, f"contrat-{row['fid']}") / f"fiche-{row['fid']}.html"
    ).read_text(encoding="utf-8")

    assert cli.main(["fiche", "--month", MONTH, "--contract", row["contract_id"]]) == 0
    without = page_of()
    assert "Blocs de compétences non disponibles" in without and "data.gouv.fr" in without
    assert "Blocs_De_Compétences" in without and "data/raw/referentiels/" in without

    folder = project / "raw" / "referentiels"
    folder.mkdir()
    (folder / BLOCKS_FILE).write_text(
        _blocks_csv(
            [
                (code, f"{code}BC02", "Réaliser les productions du métier"),
                (code, f"{code}BC01", "Organiser son poste de travail et appliquer les règles d'hygiène"),
                ("RNCP1", "RNCP1BC01", "Bloc d'un autre diplôme"),
            ]
        ),
        encoding="utf-8",
    )
    assert cli.main(["fiche", "--month", MONTH, "--contract", row["contract_id"]]) == 0
    page = page_of()
    assert "non disponibles" not in page and "autre diplôme" not in page
    first, second = page.index(f"{code}BC01"), page.index(f"{code}BC02")
    assert first < second and "Réaliser les productions du métier" in page
    assert "règles d&#x27;hygiène" in page or "règles d'hygiène" in page
    grid = page.split('class="grid"', 1)[1].split("</table>", 1)[0]
    assert grid.count("\u2610") == 2 * len(fiche_html.GRID)

    (folder / BLOCKS_FILE).unlink()  # the whole zip of the open-data package works too
    with zipfile.ZipFile(folder / "export-fiches-csv-2025-11-03.zip", "w") as z:
        z.writestr(f"export/{BLOCKS_FILE}", _blocks_csv([(code, f"{code}BC03", "Bloc venu du zip")]))
        z.writestr("export/export_fiches_CSV_Standard_2025_11_03.csv", "Numero_Fiche;Intitule\n")
    assert cli.main(["fiche", "--month", MONTH, "--contract", row["contract_id"]]) == 0
    assert "Bloc venu du zip" in page_of()


def test_outcome_recorded_by_the_loop_is_on_the_fiche(project, sample_build):
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    files = sorted((sample_build / "raw" / "retours").glob("*.xlsx"))
    assert cli.main(["followup", "--import", *map(str, files)]) == 0
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    done = {k: r for k, r in workbook_ruptures(project, "2025-10").items() if r[adviser_headers()["outcome"]]}
    assert done
    assert cli.main(["fiche", "--month", "2025-10"]) == 0
    for key, row in done.items():
        page = (fiches_dir(project, month="2025-10") / f"fiche-{key}.html").read_text(encoding="utf-8")
        assert row[adviser_headers()["outcome"]] in page.replace("\u202f", " ")


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--contract", "999999999999"], 2, "contrat inconnu"),
        (["--structure", "ml_tours"], 2, "is unknown"),
        (["--month", "2019-01"], 2, "aucune rupture"),
        (["--month", "2026-03"], 2, "after the data extraction date"),
        (["--month", "2025-13"], 2, "is not a month"),
    ],
)
def test_bad_input_is_one_line(project, capsys, argv, code, words):
    args = ["fiche", "--month", MONTH, *argv] if argv[0] != "--month" else ["fiche", *argv]
    assert cli.main(args) == code
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert not (project / "restricted" / "fiches").exists()


def test_damaged_rncp_export_and_shared_places_are_refused(project, capsys):
    folder = project / "raw" / "referentiels"
    folder.mkdir()
    (folder / BLOCKS_FILE).write_text("Numero_Fiche;Libelle\nRNCP1;x\n", encoding="utf-8")
    assert cli.main(["fiche", "--month", MONTH]) == 2
    err = capsys.readouterr().err
    assert "Bloc_Competences_Code" in err and len(err.strip().splitlines()) == 1
    (folder / BLOCKS_FILE).unlink()
    assert cli.main(["fiche", "--month", MONTH, "--out", str(project / "processed" / "fiches")]) == 5
    assert cli.main(["fiche", "--month", MONTH, "--out", str(project / "reports")]) == 5
    assert not (project / "processed" / "fiches").exists() and not (project / "reports").exists()


def test_pdf_without_chromium_is_one_line_and_exit_4(project, monkeypatch, capsys):
    monkeypatch.setenv("AIOA_CHROMIUM", "")
    assert cli.main(["fiche", "--month", MONTH, "--pdf"]) == 4
    err = capsys.readouterr().err
    assert "Chromium introuvable" in err and len(err.strip().splitlines()) == 1
    assert not (project / "restricted" / "fiches").exists()  # nothing written before the check


def test_purge_removes_fiches_older_than_the_retention_period(project, capsys):
    assert cli.main(["fiche", "--month", MONTH, "--structure", "ml_blois"]) == 0
    base = project / "restricted" / "fiches"
    shutil.copytree(base / MONTH, base / "2023-01", symlinks=True)
    recent = str(pd.Timestamp.now().to_period("M"))
    shutil.copytree(base / MONTH, base / recent, symlinks=True)
    capsys.readouterr()
    assert cli.main(["followup", "--purge", "--dry-run"]) == 0
    assert "mois de fiches parcours" in capsys.readouterr().out and (base / "2023-01").exists()
    assert cli.main(["followup", "--purge"]) == 0
    assert not (base / "2023-01").exists() and (base / recent).exists()
    journal = json.loads((project / "restricted" / "followup" / "journal.json").read_text(encoding="utf-8"))
    cutoff = pd.Timestamp(journal["purges"][-1]["cutoff"])
    expected = 1 + (pd.Period(MONTH, "M").end_time < cutoff)
    assert journal["purges"][-1]["fiche_folders"] == expected


@pytest.mark.browser
@pytest.mark.skipif(pdf.find_chromium() is None, reason="no Chromium: apt-get install chromium")
def test_the_longest_fiche_prints_on_at_most_two_a4_pages(project):
    row = _listed_contract(project)
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    code = rncp.normalise_rncp(pd.Series([row["rncp_code"]])).iloc[0]
    code = rncp.rncp_by_diploma(contracts)[row["diploma_code"]] if pd.isna(code) else code
    folder = project / "raw" / "referentiels"
    folder.mkdir()
    blocks = [
        (code, f"{code}BC0{i}", f"Bloc de compétences numéro {i} du diplôme préparé") for i in range(1, 7)
    ]
    (folder / BLOCKS_FILE).write_text(_blocks_csv(blocks), encoding="utf-8")
    assert cli.main(["fiche", "--month", MONTH, "--contract", row["contract_id"], "--pdf"]) == 0
    out = fiches_dir(project, f"contrat-{row['fid']}")
    printed = out / f"fiche-{row['fid']}.pdf"
    assert stat.S_IMODE(printed.resolve().stat().st_mode) == 0o600
    pages = pdf.pdf_page_count(printed)
    assert 1 <= pages <= 2
    if shutil.which("pdftotext"):
        for page in range(1, pages + 1):
            text = subprocess.run(
                ["pdftotext", "-f", str(page), "-l", str(page), str(printed), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert "DONNÉES FICTIVES" in text, page
        assert re.search(
            r"Jusqu.au \d\d/\d\d/\d{4}",
            subprocess.run(
                ["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True
            ).stdout,
        )


def test_experience_months_and_totals_by_hand():
    """Months in the firm and of training per contract, totals with overlaps once (computed by hand)."""
    c = pd.DataFrame(
        {
            "contract_id": ["a", "b", "c"],
            "apprentice_key": ["k", "k", "k"],
            "start_date": pd.to_datetime(["2024-09-02", "2025-01-06", "2025-10-01"]),
            "planned_end_date": pd.to_datetime(["2026-06-30", "2026-06-30", "2027-06-30"]),
            "rupture_date": pd.to_datetime(["2024-12-20", "2025-09-12", None]),
            "training_start_date": pd.to_datetime(["2024-08-26", "2024-08-26", None]),
            "training_end_date": pd.to_datetime(["2026-06-30", "2026-06-30", None]),
        }
    )
    exp = fiche.experience(c, ref_date=pd.Timestamp("2025-09-30"))
    assert exp["contract_id"].tolist() == ["a", "b"]  # c starts after the reference date
    m = fiche.DAYS_PER_MONTH
    assert exp["months_firm"].tolist() == [round(109 / m, 1), round(249 / m, 1)]
    assert exp["months_training"].tolist() == exp["months_firm"].tolist()  # training inside each contract
    assert exp["state"].tolist() == ["rompu", "rompu"]
    running = fiche.experience(c, ref_date=pd.Timestamp("2025-11-30"))
    assert running["state"].tolist() == ["rompu", "rompu", "en cours"]
    assert running["months_firm"].iloc[-1] == round(60 / m, 1)  # to the reference date
    t = fiche.totals(running)
    assert t["months_firm"] == round((109 + 249 + 60) / m, 1) and t["contracts"] == 3
    overlap = pd.DataFrame(
        {
            "start": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "stop": pd.to_datetime(["2024-03-01", "2024-04-01"]),
        }
    )
    assert fiche.union_months(overlap["start"], overlap["stop"]) == round(91 / m, 1)
