"""The follow-up loop on the synthetic sample: lists -> advisers fill -> import -> next month (issue 16).

Also: data minimisation per sheet, owner-only files, the purge, encryption, the places refused for
restricted data, a full disk and a concurrent run (issue 15, items 3, 7, 9, 10).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import stat
from pathlib import Path

import msoffcrypto
import openpyxl
import pandas as pd
import pytest

from aioa_analysis import cli, followup
from aioa_analysis.core.commit import run_lock
from aioa_analysis.core.errors import OutputError
from aioa_analysis.followup import people, returns, store
from aioa_analysis.followup.lists import adviser_headers
from aioa_analysis.stats import accompaniment

pytestmark = pytest.mark.slow
H = adviser_headers()
KEY, DATE, OUTCOME, S3 = H["key"], H["contact_date"], H["outcome"], H["situation_3m"]
PHONE = re.compile(r"^0\d( \d\d){4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]+$")


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """A small sample, cleaned once for the module (processed tables and identity store)."""
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.sample import generate_sample

    root = tmp_path_factory.mktemp("loop")
    env = {
        "AIOA_KEY_FILE": str(root / "key"),
        "AIOA_RAW_DIR": str(root / "none"),
        "AIOA_SAMPLE_DIR": str(root / "raw"),
        "AIOA_RESTRICTED_DIR": str(root / "restricted"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        generate_sample(root / "raw", seed=41, years=2, contracts_per_year=500)
        run_clean(None, out_dir=root / "processed", restricted_dir=root / "restricted")
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return root


@pytest.fixture
def project(sample_build, tmp_path, monkeypatch):
    """A fresh copy of the cleaned sample, wired through the config variables."""
    for name in ("processed", "restricted"):
        shutil.copytree(sample_build / name, tmp_path / name, symlinks=True)
    os.chmod(tmp_path / "restricted", 0o700)
    monkeypatch.setenv("AIOA_PROCESSED_DIR", str(tmp_path / "processed"))
    monkeypatch.setenv("AIOA_RESTRICTED_DIR", str(tmp_path / "restricted"))
    monkeypatch.setenv("AIOA_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("AIOA_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("AIOA_KEY_FILE", str(sample_build / "key"))
    return tmp_path


def month_dir(project: Path, month: str) -> Path:
    return project / "restricted" / "followup" / month


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def fill(path: Path, out: Path, values: list[dict]) -> list[dict]:
    """Fill the adviser columns of the first rows of "Ruptures à traiter"; return the rows filled."""
    wb = openpyxl.load_workbook(path)
    ws = wb[followup.SHEET_TODO]
    col = {c.value: c.column for c in ws[1]}
    filled = []
    for i, v in enumerate(values, start=2):
        row = {h: ws.cell(row=i, column=c).value for h, c in col.items()}
        for header, value in v.items():
            value = value(row) if callable(value) else value
            ws.cell(row=i, column=col[header], value=value)
        filled.append({**row, **{h: ws.cell(row=i, column=col[h]).value for h in v}})
    wb.save(out)
    wb.close()
    return filled


def after(days: int):
    return lambda row: row["Date de rupture"] + dt.timedelta(days=days)


def test_advisers_fill_import_twice_and_next_month_shows_them_as_treated(project, capsys):
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    book = month_dir(project, "2025-10") / "suivi_ml_blois_2025-10.xlsx"
    filled = fill(
        book,
        project / "retour.xlsx",
        [
            {DATE: after(3), OUTCOME: "Rendez-vous pris", S3: "En recherche (emploi ou contrat)"},
            {DATE: after(5), OUTCOME: "Nouveau contrat"},
            {DATE: after(4), OUTCOME: "Contacté sans réponse"},  # an attempt: stays to be treated
            {DATE: after(2), OUTCOME: "Appelé, rappeler"},  # not in the list
            {DATE: "31/02/2025", OUTCOME: "Injoignable après plusieurs essais"},  # no such date
            {DATE: after(-10), OUTCOME: "Rendez-vous pris"},  # before the rupture
            {DATE: after(3), OUTCOME: "Rendez-vous pris", KEY: "S0123456789ABCDEF"},  # unknown key
        ],
    )
    assert cli.main(["followup", "--import", str(project / "retour.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "3 ligne(s) importée(s), 4 rejetée(s)" in printed
    rejected = pd.read_csv(project / "restricted/followup/retours/import_rejected.csv")
    assert rejected["file"].eq("retour.xlsx").all()
    assert rejected["row"].tolist() == [5, 6, 7, 8]
    reasons = rejected["reason"].tolist()
    assert reasons[0].startswith("résultat du contact inconnu") and reasons[1].startswith(
        "date de contact illisible"
    )
    assert reasons[2].startswith("date de contact antérieure") and reasons[3].startswith(
        "clé de suivi inconnue"
    )
    history = project / "restricted/followup/retours" / returns.HISTORY_FILE
    table = project / "processed" / returns.OUTCOME_TABLE
    before = (
        history.read_bytes(),
        table.read_bytes(),
        (project / "restricted/followup/journal.json").read_bytes(),
    )

    # the same file again, under another name too: nothing changes
    shutil.copy(project / "retour.xlsx", project / "retour_bis.xlsx")
    assert cli.main(["followup", "--import", str(project / "retour.xlsx")]) == 0
    assert "déjà importé" in capsys.readouterr().out
    assert cli.main(["followup", "--import", str(project / "retour_bis.xlsx")]) == 0
    assert pd.read_parquet(history).shape[0] == 3
    after_twice = (history.read_bytes(), table.read_bytes())
    assert after_twice == before[:2] or pd.read_parquet(history).drop(
        columns=["source_file", "file_sha256"]
    ).equals(pd.read_parquet(io.BytesIO(before[0])).drop(columns=["source_file", "file_sha256"]))

    assert cli.main(["followup", "--month", "2025-11"]) == 0
    nov = month_dir(project, "2025-11") / "suivi_ml_blois_2025-11.xlsx"
    done = {r[KEY]: r for r in sheet_rows(nov, followup.SHEET_DONE)}
    todo = {r[KEY]: r for r in sheet_rows(nov, followup.SHEET_TODO)}
    assert done[filled[0][KEY]][OUTCOME] == "Rendez-vous pris"
    assert done[filled[0][KEY]][S3] == "En recherche (emploi ou contrat)"
    assert done[filled[1][KEY]][OUTCOME] == "Nouveau contrat"
    assert filled[0][KEY] not in todo and filled[1][KEY] not in todo
    assert todo[filled[2][KEY]][OUTCOME] == "Contacté sans réponse"
    assert "pas encore contacté" not in (todo[filled[2][KEY]]["Motifs de priorité"] or "")

    # the report's table: pseudonymous keys and codes, never a name nor a comment
    t = pd.read_parquet(table)
    assert set(t["followup_id"]) == {filled[i][KEY] for i in range(3)}
    assert not {"surname", "first_name", "comment", "phone", "email"} & set(t.columns)


def test_later_dates_win_and_conflicts_are_listed(project, capsys):
    assert cli.main(["followup", "--month", "2025-10", "--structure", "ml_blois"]) == 0
    book = month_dir(project, "2025-10") / "suivi_ml_blois_2025-10.xlsx"
    first = fill(
        book,
        project / "a.xlsx",
        [
            {DATE: after(3), OUTCOME: "Injoignable après plusieurs essais"},
            {DATE: after(3), OUTCOME: "Rendez-vous pris"},
        ],
    )
    fill(
        book,
        project / "b.xlsx",
        [{DATE: after(9), OUTCOME: "Nouveau contrat"}, {DATE: after(3), OUTCOME: "Déjà accompagné"}],
    )
    assert cli.main(["followup", "--import", str(project / "b.xlsx"), str(project / "a.xlsx")]) == 0
    assert "2 ligne(s) en conflit" in capsys.readouterr().out
    current, conflicts = returns.current_outcomes(store.read_history(project / "restricted" / "followup"))
    by = current.set_index("followup_id")["outcome"]
    assert by[first[0][KEY]] == "nouveau_contrat"  # the later date wins, whatever the file order
    assert set(conflicts["followup_id"]) == {first[1][KEY]}
    assert sorted(conflicts["outcome"]) == ["deja_accompagne", "rendez_vous_pris"]


def test_only_the_rupture_lists_carry_contacts_and_every_file_is_owner_only(project):
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    out = month_dir(project, "2025-10")
    books = sorted(out.glob("suivi_*.xlsx"))
    assert len(books) == 4
    seen_contact = 0
    for book in books:
        wb = openpyxl.load_workbook(book, read_only=True)
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            cells = [str(v) for r in rows for v in r if v is not None]
            contacts = [v for v in cells if PHONE.match(v) or EMAIL.match(v)]
            if ws.title in followup.CONTACT_SHEETS:
                seen_contact += len(contacts)
            else:
                assert not contacts, (book.name, ws.title, contacts[:2])
                assert not {"Téléphone", "E-mail", "Date de naissance"} & set(rows[0] if rows else ()), (
                    ws.title
                )
        wb.close()
    assert seen_contact > 0  # the rupture lists do carry them (the check above is not vacuous)
    for p in [out, *out.rglob("*")]:
        if not p.is_symlink():
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p


def test_work_list_is_ordered_month_first_then_priority_and_diploma_ruptures_are_apart(project):
    # the small sample has no rupture after the diploma: mark three of July's ruptures as such
    path = project / "processed" / "contracts.parquet"
    contracts = pd.read_parquet(path)
    july = contracts.index[contracts["rupture_date"].dt.to_period("M") == pd.Period("2025-07", "M")][:3]
    assert len(july) == 3
    contracts.loc[july, "rupture_after_diploma"] = True
    contracts.to_parquet(path)
    assert cli.main(["followup", "--month", "2025-07"]) == 0
    books = sorted(month_dir(project, "2025-07").glob("suivi_*.xlsx"))
    after_diploma = 0
    for book in books:
        todo = pd.DataFrame(sheet_rows(book, followup.SHEET_TODO))
        month = (todo["Motif de la ligne"] == followup.REASON_RUPTURE_MONTH).astype(int)
        key = list(
            zip(-month, -todo["Priorité"], [-d.toordinal() for d in todo["Date de rupture"]], strict=True)
        )
        assert key == sorted(key) and month.iloc[0] == 1 and month.iloc[-1] == 0
        assert ((todo["Âge"] < 18) == todo["Motifs de priorité"].str.contains("mineur")).all()
        assert todo["Téléphone"].dropna().str.match(PHONE).all()
        assert (todo["NOM"] == todo["NOM"].str.upper()).all()
        diploma = sheet_rows(book, followup.SHEET_AFTER_DIPLOMA)
        after_diploma += len(diploma)
        work = set(zip(todo["NOM"], todo["Prénom"], todo["Date de rupture"], strict=True))
        assert not {(r["NOM"], r["Prénom"], r["Date de rupture"]) for r in diploma} & work
    assert after_diploma > 0


def test_sample_returned_workbooks_import_and_feed_the_statistics(project, sample_build, capsys):
    files = sorted((sample_build / "raw" / "retours").glob("*.xlsx"))
    assert len(files) == 3
    assert cli.main(["followup", "--import", *map(str, files)]) == 0
    rejected = pd.read_csv(project / "restricted/followup/retours/import_rejected.csv")
    assert rejected.groupby("file").size().ge(3).all()  # the generator's three invalid rows per file
    assert rejected["reason"].str.contains("clé de suivi inconnue").sum() == 3
    table = pd.read_parquet(project / "processed" / returns.OUTCOME_TABLE)
    assert len(table) > 20 and table["contract_id"].notna().all()
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    as_of = pd.Timestamp("2025-11-30")
    followed = accompaniment.followed_ruptures(contracts, table, as_of=as_of)
    ind = accompaniment.accompaniment_indicators(followed, as_of=as_of).set_index("indicator")
    # independent count of the first indicator
    old_enough = followed.loc[(as_of - followed["rupture_date"]).dt.days >= 30]
    quick = old_enough["contacted"] & (
        (old_enough["contact_date"] - old_enough["rupture_date"]).dt.days <= 30
    )
    assert (ind.loc["contact_30j", "k"], ind.loc["contact_30j", "n"]) == (quick.sum(), len(old_enough))
    assert 0 < ind.loc["contact_30j", "rate"] < 1
    by = accompaniment.situations_by(followed, "structure")
    assert set(by["structure"]) == {"ml_blois", "ml_vendomois", "ml_romorantin"}
    assert (by.groupby("structure")["k"].sum() == by.groupby("structure")["n"].first()).all()


def test_purge_leaves_nothing_older_than_the_retention_period(project, sample_build, capsys):
    root = project / "restricted" / "followup"
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    files = sorted((sample_build / "raw" / "retours").glob("*.xlsx"))
    assert cli.main(["followup", "--import", *map(str, files)]) == 0
    # age everything: an old month, old returned copies, old history rows
    shutil.copytree(root / "2025-10", root / "2023-01", symlinks=True)
    recent = str(pd.Timestamp.now().to_period("M"))
    shutil.copytree(root / "2025-10", root / recent, symlinks=True, dirs_exist_ok=True)
    cutoff = store.cutoff_date(pd.Timestamp.now(), people.retention_months())
    n_old = sum(pd.Period(p.name, "M").end_time < cutoff for p in root.glob("20*-*"))
    old = pd.Timestamp("2023-02-01").timestamp()
    for p in (root / "retours").glob("*.xlsx"):
        os.utime(p, (old, old))
    h = store.read_history(root)
    aged = h.assign(imported_at=pd.Timestamp("2023-02-01")).iloc[: len(h) // 2]
    store.write_history(root, pd.concat([aged, h.iloc[len(h) // 2 :]], ignore_index=True))
    n_ids = len(pd.read_parquet(project / "restricted" / "identities.parquet"))
    capsys.readouterr()

    assert cli.main(["followup", "--purge", "--dry-run"]) == 0
    assert f"seraient supprimés : {n_old} mois de listes, 3 fichier(s)" in capsys.readouterr().out
    assert (root / "2023-01").exists() and len(list((root / "retours").glob("*.xlsx"))) == 3

    assert cli.main(["followup", "--purge"]) == 0
    assert not (root / "2023-01").exists() and (root / recent).exists()
    assert not [p for p in root.glob("20*-*") if pd.Period(p.name, "M").end_time < cutoff]
    assert not [p for p in (root / "retours").glob("*.xlsx") if p.stat().st_mtime < cutoff.timestamp()]
    assert (store.read_history(root)["imported_at"] >= cutoff).all()
    ids = pd.read_parquet(project / "restricted" / "identities.parquet")
    contracts = pd.read_parquet(project / "processed" / "contracts.parquet")
    assert not store.stale_identities(ids, contracts, cutoff).any() and len(ids) < n_ids
    entry = json.loads((root / "journal.json").read_text(encoding="utf-8"))["purges"][-1]
    assert entry["month_folders"] == n_old and entry["returned_files"] == 3 and not entry["dry_run"]
    assert all(isinstance(v, int | bool | str) for v in entry.values())  # counts only


def test_password_file_encrypts_the_workbooks_and_decrypts_a_return(project, capsys):
    pw = project / "pw.txt"
    pw.write_text("s3cret-Blois\n", encoding="utf-8")
    pw.chmod(0o644)
    assert cli.main(["followup", "--month", "2025-10", "--password-file", str(pw)]) == 5
    assert "chmod 600" in capsys.readouterr().err
    pw.chmod(0o600)
    assert (
        cli.main(["followup", "--month", "2025-10", "--structure", "ml_blois", "--password-file", str(pw)])
        == 0
    )
    book = month_dir(project, "2025-10") / "suivi_ml_blois_2025-10.xlsx"
    office = msoffcrypto.OfficeFile(io.BytesIO(book.read_bytes()))
    assert office.is_encrypted()
    plain = io.BytesIO()
    office.load_key(password="s3cret-Blois")
    office.decrypt(plain)
    assert followup.SHEET_TODO in openpyxl.load_workbook(plain, read_only=True).sheetnames
    # sent back encrypted: the import needs the password
    shutil.copy(book, project / "back.xlsx")
    assert cli.main(["followup", "--import", str(project / "back.xlsx")]) == 2
    assert "--password-file" in capsys.readouterr().err
    assert cli.main(["followup", "--import", str(project / "back.xlsx"), "--password-file", str(pw)]) == 0


@pytest.mark.parametrize("where", ["out_processed", "restricted_processed", "restricted_reports"])
def test_restricted_data_is_refused_in_shared_folders(project, monkeypatch, capsys, where):
    argv = ["followup", "--month", "2025-10"]
    if where == "out_processed":
        argv += ["--out", str(project / "processed" / "suivi")]
    else:
        shared = project / ("processed" if where == "restricted_processed" else "reports")
        monkeypatch.setenv("AIOA_RESTRICTED_DIR", str(shared / "restricted"))
    assert cli.main(argv) == 5
    err = capsys.readouterr().err
    assert "shared folder" in err and "Traceback" not in err
    assert not list((project / "processed").glob("**/suivi_*.xlsx"))


def test_full_disk_gives_exit_3_one_line_and_keeps_the_previous_set(project, monkeypatch, capsys):
    assert cli.main(["followup", "--month", "2025-10"]) == 0
    out = month_dir(project, "2025-10")
    before = {p.name: p.read_bytes() for p in out.glob("suivi_*.xlsx")}
    capsys.readouterr()
    real = followup.workbook.workbook_bytes
    calls = []

    def full_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(followup.workbook, "workbook_bytes", full_disk)
    assert cli.main(["followup", "--month", "2025-10"]) == 3
    err = capsys.readouterr().err
    assert "No space left" in err and "Traceback" not in err and "ZipFile" not in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.glob("suivi_*.xlsx")} == before
    assert len(list((out / ".aioa" / "generations").iterdir())) == 1  # the half-written set is gone
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_second_run_on_the_same_month_waits_or_refuses_clearly(project):
    assert cli.main(["followup", "--month", "2025-10", "--dry-run"]) == 0
    lists = followup.build_followup(
        pd.read_parquet(project / "processed" / "contracts.parquet"),
        pd.read_parquet(project / "restricted" / "identities.parquet"),
        None,
        month=pd.Period("2025-10", "M"),
        as_of=pd.Timestamp("2025-11-30"),
        structures=followup.load_structures(),
    )
    out = project / "restricted" / "followup" / "2025-10"
    followup.write_followup(lists, out)
    with run_lock(out), pytest.raises(OutputError, match="une autre exécution"):
        followup.write_followup(lists, out, wait=0.3)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["lists"]) == 4


def test_lisez_moi_names_controller_purpose_legal_basis_and_retention(project, capsys):
    (project / "raw").mkdir()
    (project / "raw" / people.README_FILE).write_text(
        "key,value\nresponsable,Chambre de métiers 41\nduree_conservation_mois,18\n", encoding="utf-8"
    )
    assert cli.main(["followup", "--month", "2025-10", "--structure", "mlds"]) == 0
    book = month_dir(project, "2025-10") / "suivi_mlds_2025-10.xlsx"
    readme = dict(openpyxl.load_workbook(book, read_only=True)["Lisez-moi"].iter_rows(values_only=True))
    assert readme["Responsable du traitement"] == "Chambre de métiers 41"
    assert readme["Durée de conservation"].startswith("18 mois")
    assert readme["Base légale"].startswith("À compléter")  # the default says what to fill in
    assert "Finalité" in readme and "Renvoyer le fichier" in readme
    mlds = sheet_rows(book, followup.SHEET_SIGNED)
    assert all(r["Âge"] is None or r["Âge"] <= 18 for r in mlds)
