"""Tests of the synthetic sample generator (aioa_analysis.sample) and `aioa sample`."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from stdnum.fr import siret as stdnum_siret

from aioa_analysis.cli import main
from aioa_analysis.core import referential
from aioa_analysis.ingest.pseudonym import normalise_name
from aioa_analysis.sample import _params as P
from aioa_analysis.sample import generate_sample, simulate, simulate_contracts
from aioa_analysis.sample._chamber import CHAMBER_HEADER
from aioa_analysis.sample._deca import DECA_COLUMNS
from aioa_analysis.sample._exams import EXAM_HEADER
from aioa_analysis.sample._hazard import HazardTable
from aioa_analysis.sample._population import make_sirets
from aioa_analysis.sample._sifa import SIFA_COLUMNS
from aioa_analysis.sample._tba import TBA_KEYS

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "raw" / "sample"
SMALL = {"seed": 7, "years": 2, "contracts_per_year": 600, "extraction_date": "2025-11-30"}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small")
    return out, generate_sample(out, **SMALL)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The default sample (seed 41), freshly generated."""
    out = tmp_path_factory.mktemp("full")
    return out, generate_sample(out, seed=41)


def _by_name(folder: Path, truth: dict, profile: str) -> Path:
    return folder / next(n for n, t in truth["files"].items() if t["profile"] == profile)


# --- determinism ----------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(small: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = small
    generate_sample(tmp_path, **SMALL)
    a, b = _files(folder), _files(tmp_path)
    assert list(a) == list(b) and len(a) == 7
    for name in a:
        assert a[name] == b[name], name


def test_different_seed_gives_different_files(small: tuple[Path, dict], tmp_path: Path) -> None:
    generate_sample(tmp_path, **{**SMALL, "seed": 8})
    a, b = _files(small[0]), _files(tmp_path)
    assert all(a[name] != b[name] for name in a)


def test_xlsx_has_fixed_zip_dates_and_core_timestamps(small: tuple[Path, dict]) -> None:
    folder, truth = small
    z = zipfile.ZipFile(_by_name(folder, truth, "tba_upload"))
    assert {i.date_time for i in z.infolist()} == {(2020, 1, 1, 0, 0, 0)}
    assert z.namelist()[0] == "[Content_Types].xml"
    assert b"2020-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_committed_sample_equals_a_fresh_generation(full: tuple[Path, dict]) -> None:
    assert COMMITTED.is_dir(), "regenerate with: aioa sample --out data/raw/sample --seed 41"
    fresh, committed = _files(full[0]), _files(COMMITTED)
    assert sorted(fresh) == sorted(n for n in committed if not n.startswith(".") and n != "README.md")
    for name, data in fresh.items():
        assert committed[name] == data, f"{name} differs: run `aioa sample --out data/raw/sample --seed 41`"


def test_committed_sample_is_under_5_mb(full: tuple[Path, dict]) -> None:
    assert sum(len(b) for b in _files(full[0]).values()) < 5_000_000


# --- formats ---------------------------------------------------------------------------------------------------


def test_deca_extract_format(small: tuple[Path, dict]) -> None:
    folder, truth = small
    path = _by_name(folder, truth, "deca_extract")
    assert path.name == "Export_Init_TBA_202511300600.csv"
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(path, sep=",", dtype=str, keep_default_na=False)
    assert tuple(df.columns) == DECA_COLUMNS
    assert set(df["handicap"]) <= {"true", "false"} and set(df["rupture_avant_debut"]) <= {"true", "false"}
    assert df["nocontrat"].str.fullmatch(r"[0-9]{15}").all()
    assert set(df["statut"]) <= {"", "Rompu", "Annulé", "Corrigé", "Supprimé"}
    assert {"Annulé", "Supprimé", "Rompu"} <= set(df["statut"])
    assert set(df["dispositif"]) == {"APPR"}
    # amendments: same contract number, CERFA types 31-38, beside an initial/succession row
    am = df.loc[df["typecontrat"].str.fullmatch(r"3[1-8]")]
    assert len(am) > 0
    init = set(df.loc[df["typecontrat"].isin(["11", "21", "22", "23"]), "nocontrat"])
    assert set(am["nocontrat"]) <= init
    assert (am["noavenant"] == am["nocontrat"]).all() and (am["dateeffetavenant"] != "").all()
    assert {"22", "23"} <= set(df["typecontrat"])


def test_deca_extract_defect_rows_are_where_the_truth_says(small: tuple[Path, dict]) -> None:
    folder, truth = small
    path = _by_name(folder, truth, "deca_extract")
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(lines))
    col = {c: i for i, c in enumerate(rows[0])}
    d = truth["files"][path.name]["defects"]

    def row(line: int) -> list[str]:
        return rows[line - 1]

    assert [row(r)[col["datedebutcontrat"]] for r in d["invalid_date"]["rows"]] == ["2024-02-31"]
    (r,) = d["end_before_start"]["rows"]
    assert row(r)[col["datefincontrat"]] < row(r)[col["datedebutcontrat"]]
    assert len(d["rupture_before_start"]["rows"]) == P.RUPTURE_BEFORE_START_N
    for r in d["rupture_before_start"]["rows"]:
        assert row(r)[col["rupture_avant_debut"]] == "true"
        assert row(r)[col["dateeffetrupture"]] < row(r)[col["datedebutcontrat"]]
    for r in d["missing_cfa_and_diploma"]["rows"]:
        assert row(r)[col["uaicfa"]] == "" and row(r)[col["codediplome"]] == ""
    for r in d["cancelled"]["rows"]:
        assert row(r)[col["statut"]] == "Annulé"
    for r in d["deleted"]["rows"]:
        assert row(r)[col["statut"]] == "Supprimé" and row(r)[col["datesuppression"]] != ""
    assert d["exact_duplicate_row"]["rows"]
    for r in d["exact_duplicate_row"]["rows"]:
        assert lines[r - 1] == lines[r - 2]
    for r in d["missing_naf"]["rows"]:
        assert row(r)[col["naf"]] == ""
    lost = [row(r) for r in d["lost_leading_zero"]["rows"]]
    assert lost and all(
        x[col["derniereclasse"]] == "1"
        or len(x[col["codediplome"]]) == 7
        or len(x[col["adressecodepostal"]]) == 4
        or x[col["departementnaissance"]] == "41"
        for x in lost
    )


def test_deca_api_json_structure(small: tuple[Path, dict]) -> None:
    folder, truth = small
    payload = json.loads(_by_name(folder, truth, "deca_api").read_text(encoding="utf-8"))
    assert set(payload) == {"metadonnees", "contrats"}
    assert payload["metadonnees"]["totalElements"] == len(payload["contrats"]) > 0
    c = payload["contrats"][0]
    assert {"alternant", "formation", "organismeFormationResponsable", "employeur", "detailsContrat"} <= set(
        c
    )
    assert {"nom", "prenom", "sexe", "dateNaissance", "adresse", "derniereClasse"} <= set(c["alternant"])
    assert {"noContrat", "typeContrat", "statut", "dateDebutContrat", "dateFinContrat"} <= set(
        c["detailsContrat"]
    )
    broken = [x for x in payload["contrats"] if x["detailsContrat"]["statut"] == "Rompu"]
    assert broken and all("dateEffetRupture" in x["rupture"] for x in broken)
    # cross-file duplicates: every API contract is also in the DECA extract
    deca = pd.read_csv(_by_name(folder, truth, "deca_extract"), dtype=str, keep_default_na=False)
    assert {x["detailsContrat"]["noContrat"] for x in payload["contrats"]} <= set(deca["nocontrat"])


def _strict_json(data: bytes) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"invalid JSON token {token}")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def test_deca_api_is_strict_json_with_null_for_missing(small: tuple[Path, dict]) -> None:
    folder, truth = small
    payload = _strict_json(_by_name(folder, truth, "deca_api").read_bytes())  # no NaN / Infinity
    for c in payload["contrats"]:
        broken = c["detailsContrat"]["statut"] == "Rompu"
        assert broken == ("rupture" in c)  # a rupture block only for a broken contract
        if broken:
            r = c["rupture"]
            assert isinstance(r["dateEffetRupture"], str) and isinstance(r["codeMotifRupture"], str)
            assert r["dateSignalement"] >= r["dateEffetRupture"]


def test_deca_api_agrees_with_the_extract(small: tuple[Path, dict]) -> None:
    """Same contract in both DECA files: same values (the API is a later view of the same record);
    only the documented format defects differ (``derniereClasse`` as a number, lost zeros, no NAF)."""
    folder, truth = small
    payload = _strict_json(_by_name(folder, truth, "deca_api").read_bytes())
    deca = pd.read_csv(_by_name(folder, truth, "deca_extract"), dtype=str, keep_default_na=False)
    deca = deca.loc[~deca["typecontrat"].str.fullmatch(r"3[1-8]")].drop_duplicates("nocontrat")
    ext = deca.set_index("nocontrat")
    n_class_as_number = 0
    for c in payload["contrats"]:
        d, a = c["detailsContrat"], c["alternant"]
        row = ext.loc[d["noContrat"]]
        n_class_as_number += isinstance(a["derniereClasse"], int)
        assert str(a["derniereClasse"]).zfill(2) == row["derniereclasse"].zfill(2), d["noContrat"]
        assert (d["dateDebutContrat"], d["dateFinContrat"], str(d["typeContrat"])) == (
            row["datedebutcontrat"],
            row["datefincontrat"],
            row["typecontrat"],
        )
        assert (c.get("rupture") or {}).get("dateEffetRupture", "") == row["dateeffetrupture"]
        e = c["employeur"]
        assert (e["siret"], str(e["nombreDeSalaries"]), e["codeIdcc"]) == (
            row["siretemployeur"],
            row["nombredesalaries"],
            row["codeidcc"],
        )
        assert row["naf"] in ("", e["naf"])  # missing NAF defect on the extract side only
        assert c["formation"]["codeDiplome"].lstrip("0") == row["codediplome"].lstrip("0")
        assert c["organismeFormationResponsable"]["uaiCfa"] == row["uaicfa"]
        assert (a["dateNaissance"], a["adresse"]["codePostal"].lstrip("0")) == (
            row["datenaissance"],
            row["adressecodepostal"].lstrip("0"),
        )
    name = _by_name(folder, truth, "deca_api").name
    assert n_class_as_number == len(truth["files"][name]["defects"]["derniereclasse_as_number"]["rows"]) > 0


def test_sifa_establishment_headcount_is_the_only_conflict(full: tuple[Path, dict]) -> None:
    folder, truth = full
    path = _by_name(folder, truth, "sifa")
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")[:-1]
    sifa = pd.DataFrame([line.split(";") for line in lines], columns=list(SIFA_COLUMNS))
    d = truth["files"][path.name]["defects"]["establishment_headcount"]
    assert d["expected"] == "conflict:employer_headcount" and d["rows"]
    deca = pd.read_csv(_by_name(folder, truth, "deca_extract"), dtype=str, keep_default_na=False)
    company = deca.drop_duplicates("nocontrat").set_index("nocontrat")["nombredesalaries"].astype(int)
    listed = sifa.iloc[[r - 1 for r in d["rows"]]]
    assert (listed["NBSAL_EMP"].astype(int).to_numpy() < company[d["contract_ids"]].to_numpy()).all()
    assert (company[d["contract_ids"]] >= 50).all()
    t = truth["truth"]["expected_conflicts"]
    assert t["contracts_with_conflicts"] == len(set(d["contract_ids"])) == len(t["contract_ids"])
    assert t["by_column"] == {"employer_headcount": len(d["rows"])}
    # every other SIFA row gives the company headcount of some DECA contract of the same employer
    others = sifa.drop(index=[r - 1 for r in d["rows"]])
    by_siret = deca.drop_duplicates("siretemployeur").set_index("siretemployeur")["nombredesalaries"]
    assert (others["NBSAL_EMP"].to_numpy() == by_siret[others["SIRET_EMP"]].to_numpy()).all()


def test_tba_workbook_format(small: tuple[Path, dict]) -> None:
    folder, truth = small
    wb = openpyxl.load_workbook(_by_name(folder, truth, "tba_upload"))
    assert wb.sheetnames == ["Lisez-moi", "Effectifs"]
    ws = wb["Effectifs"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert [h.rstrip("*") for h in header] == list(TBA_KEYS)
    assert "nom_apprenant*" in header and "contrat_date_debut_4" in header and "ine_apprenant" in header
    col = {h.rstrip("*"): i for i, h in enumerate(header)}
    values = list(ws.iter_rows(min_row=2, values_only=True))
    starts = [r[col["contrat_date_debut"]] for r in values]
    assert any(isinstance(v, str) for v in starts) and any(not isinstance(v, str) for v in starts)
    assert any(r[col["contrat_date_debut_2"]] is not None for r in values)  # wide rows
    assert {r[col["obtention_diplome_formation"]] for r in values} <= {"oui", "non", None}


def test_sifa_format(small: tuple[Path, dict]) -> None:
    folder, truth = small
    path = _by_name(folder, truth, "sifa")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").split("\r\n")[:-1]
    fields = [line.split(";") for line in lines]
    assert len(SIFA_COLUMNS) == 47 and {len(f) for f in fields} == {47}
    df = pd.DataFrame(fields, columns=list(SIFA_COLUMNS))
    assert not (df["NOM"] == "NOM").any()  # no header line
    assert df["DATE_NAIS"].str.fullmatch(r"[0-3][0-9][01][0-9](19|20)[0-9]{2}").all()
    assert set(df["SEXE"]) <= {"1", "2"}
    assert (df["NOM"] == df["NOM"].str.upper()).all() and df["NOM"].map(str.isascii).all()
    assert (df["NUMERO_UAI"] == "0410955R").all()


def test_chamber_format(small: tuple[Path, dict]) -> None:
    folder, truth = small
    path = _by_name(folder, truth, "chamber")
    text = path.read_bytes().decode("cp1252")
    lines = text.split("\r\n")
    assert lines[0].startswith("Chambre de métiers et de l'artisanat de Loir-et-Cher")
    assert lines[1].startswith("Extraction du 30/11/2025")
    assert tuple(lines[2].split(";")) == CHAMBER_HEADER
    assert "SIRET de l’employeur" in lines[2] and "Effectif de l'entreprise" in lines[2]
    df = pd.read_csv(io.StringIO(text), sep=";", skiprows=2, dtype=str, keep_default_na=False)
    assert set(df["Sexe"]) <= {"H", "F", "Masculin", "Féminin"} and len(set(df["Sexe"])) == 4
    assert set(df["Diplôme obtenu"]) <= {"oui", "non", ""}
    dates = df["Date de début du contrat"]
    assert dates.str.fullmatch(r"\d{2}/\d{2}/\d{4}").any() and dates.str.fullmatch(r"\d{2}/\d{2}/\d{2}").any()
    assert dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").any() and (dates == "31/02/2025").sum() == 1
    assert set(df["UAI du CFA"]) == {"0410590U", ""}


def test_exam_results_format(full: tuple[Path, dict]) -> None:
    folder, truth = full
    path = _by_name(folder, truth, "exam_results")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert tuple(df.columns) == EXAM_HEADER
    allowed = {"Admis", "Admis mention AB", "Admis mention B", "Admis mention TB", "Ajourné", "Absent"}
    assert set(df["Résultat"]) <= allowed and {"Admis", "Ajourné", "Absent"} <= set(df["Résultat"])
    assert (df["Session"].astype(int) <= 2025).all()


def test_identifiers_are_valid(small: tuple[Path, dict]) -> None:
    folder, truth = small
    deca = pd.read_csv(_by_name(folder, truth, "deca_extract"), dtype=str, keep_default_na=False)
    assert deca["siretemployeur"].map(stdnum_siret.is_valid).all()
    uai = deca.loc[deca["uaicfa"] != "", "uaicfa"]
    assert referential.uai_is_valid(uai).all()
    assert set(uai) <= set(referential.cfa_referential()["uai"])
    assert set(referential.working_group_cfas()["uai"]) <= set(uai)


def test_make_sirets_pass_luhn() -> None:
    s = make_sirets(np.random.default_rng(0), 200)
    assert all(stdnum_siret.is_valid(x) for x in s)


# --- the model ----------------------------------------------------------------------------------------------------


def test_hazard_table_hand_computed() -> None:
    # start on 2024-09-01, no summer in the first 9 months: 46 days at 1.345e-3, 45 at 1.113e-3
    t = HazardTable(np.datetime64("2024-09-01"), 1, 400, summer=1.8)
    assert t.cumulative(np.array([0]), np.array([46]))[0] == pytest.approx(46 * 1.345e-3)
    assert t.cumulative(np.array([0]), np.array([91]))[0] == pytest.approx(46 * 1.345e-3 + 45 * 1.113e-3)
    # day 273 = 2025-06-01: from then on the summer multiplier applies (June): 1.8 * 2.5e-4 per day
    d = t.cumulative(np.array([0]), np.array([274]))[0] - t.cumulative(np.array([0]), np.array([273]))[0]
    assert d == pytest.approx(1.8 * 2.5e-4)


def test_hazard_draw_matches_brute_force_search() -> None:
    t = HazardTable(np.datetime64("2023-08-01"), 30, 500, summer=1.8)
    rng = np.random.default_rng(1)
    s = rng.integers(0, 30, 2000)
    rr = rng.uniform(0.5, 3.0, 2000)
    e = rng.exponential(1.0, 2000)
    got = t.draw(s, rr, e)
    want = [
        int(np.searchsorted(t.cum[si, 1:], ei / ri, side="left")) if ei / ri <= t.cum[si, -1] else -1
        for si, ri, ei in zip(s, rr, e, strict=True)
    ]
    assert got.tolist() == want


def test_p9_matches_an_independent_day_by_day_computation() -> None:
    sim = simulate(seed=5, years=1, contracts_per_year=300, extraction_date="2025-11-30")
    ct = sim.contracts.head(40)
    breaks, base = P.HAZARD_BREAKS_DAYS, P.HAZARD_BASE_PER_DAY
    for row in ct.itertuples():
        end9 = min(row.start_date + pd.DateOffset(months=9), row.planned_end_date)
        h = 0.0
        day = row.start_date
        u = 0
        while day < end9:
            piece = max(i for i, b in enumerate(breaks) if u >= b)
            h += base[piece] * (P.SUMMER_MULTIPLIER if day.month in (6, 7, 8) else 1.0)
            day += pd.Timedelta(days=1)
            u += 1
        assert row.p9 == pytest.approx(1 - np.exp(-row.rr * h), rel=1e-9)


def test_simulate_contracts_frame() -> None:
    df = simulate_contracts(seed=2, years=2, contracts_per_year=500)
    assert df["contract_id"].is_unique
    assert (df["start_date"] <= pd.Timestamp("2025-11-30")).all()
    assert (df["planned_end_date"] > df["start_date"]).all()
    r = df["rupture_date"].dropna()
    assert (r <= pd.Timestamp("2025-11-30")).all()
    assert (df.loc[r.index, "rupture_date"] >= df.loc[r.index, "start_date"]).all()
    succ = df.loc[df["generation"] > 0]
    assert (
        set(succ["contract_type"]) <= {"22", "23"} and succ["prev_contract_id"].isin(df["contract_id"]).all()
    )


# --- ground truth: realism against docs/reference/DOMAIN.md ----------------------------------------------------------------------


def test_ground_truth_keys(full: tuple[Path, dict]) -> None:
    truth = full[1]
    on_disk = json.loads((full[0] / "_ground_truth.json").read_text(encoding="utf-8"))
    assert on_disk == truth
    assert set(truth) >= {
        "generator",
        "parameters",
        "truth",
        "expected_rupture_9m",
        "exams",
        "duplicates",
        "files",
    }
    assert truth["parameters"]["summer_multiplier"]["value"] == 1.8
    assert "DOMAIN #55" in truth["parameters"]["summer_multiplier"]["cite"]


def test_ground_truth_counts_match_the_deca_extract(full: tuple[Path, dict]) -> None:
    """Counts the cleaner must find, recomputed from the DECA extract itself (independently of the
    generator): contract kinds from the CERFA type, distinct pseudonyms from normalised identities."""
    folder, truth = full
    path = _by_name(folder, truth, "deca_extract")
    defects = truth["files"][path.name]["defects"]
    assert defects["exact_duplicate_row"]["expected"] == "merged:duplicate_row"  # merged, not rejected
    extra = {r for d in defects.values() if d.get("expected", "").startswith("rejected:") for r in d["rows"]}
    deca = pd.read_csv(path, dtype=str, keep_default_na=False)
    deca.index = deca.index + 2  # physical line number (header = line 1)
    true_rows = deca.loc[~deca.index.isin(extra) & ~deca["typecontrat"].str.fullmatch(r"3[1-8]")]
    contracts = true_rows.drop_duplicates("nocontrat")
    t = truth["truth"]
    assert len(contracts) == t["n_contracts"]
    kind = np.where(contracts["typecontrat"] == "11", "initial", "succession")
    assert pd.Series(kind).value_counts().to_dict() == t["n_contracts_by_contract_kind"]
    assert t["n_initial_contracts"] + t["n_successor_contracts"] == t["n_contracts"]
    keys = (
        normalise_name(contracts["nom"].astype("string"))
        + "|"
        + normalise_name(contracts["prenom"].astype("string"))
        + "|"
        + contracts["datenaissance"]
    )
    assert keys.nunique() == t["n_apprentice_keys"]
    assert t["n_apprentices"] - t["n_apprentice_keys"] == sum(
        len(c["person_ids"]) - 1 for c in t["identity_collisions"]
    )
    for c in t["identity_collisions"]:  # the colliding people's contracts share one key
        mine = keys[contracts["nocontrat"].isin(c["contract_ids"]).to_numpy()]
        assert len(mine) == len(c["contract_ids"]) and (mine == mine.iloc[0]).all()
    assert 0 < t["n_ruptures_after_diploma_recoverable"] <= t["n_ruptures_after_diploma"]
    assert t["n_ruptures_after_diploma_drawn"] <= t["n_ruptures_after_diploma"]


def test_volumes_and_mixes(full: tuple[Path, dict]) -> None:
    t = full[1]["truth"]
    per_year = t["n_contracts_by_school_year"]
    assert list(per_year) == ["2022-2023", "2023-2024", "2024-2025", "2025-2026"]
    assert all(2700 <= per_year[y] <= 3300 for y in list(per_year)[:3])  # ~3,000 a year (DOMAIN §3)
    assert 0.33 <= t["share_women"] <= 0.40  # Insee CVL ~38 %, craft-heavy mix
    cfa = full[1]["expected_rupture_9m"]["by"]["cfa"]
    assert max(cfa, key=lambda k: cfa[k]["n"]) == "0410590U"
    assert cfa["0410590U"]["n"] > 2 * cfa["0410592W"]["n"] / 1.2 > cfa["0411066L"]["n"]
    months = full[1]["expected_rupture_9m"]["by"]["start_month"]
    assert max(months, key=lambda k: months[k]["n"]) == "09"  # DOMAIN #53


def test_nine_month_rates_match_published_figures(full: tuple[Path, dict]) -> None:
    e = full[1]["expected_rupture_9m"]
    assert 0.19 <= e["overall_eligible"]["p"] <= 0.23  # DOMAIN #1
    lv = {k: v["p"] for k, v in e["by"]["level_group"].items()}
    assert lv["3"] > lv["5"] > lv["4"] > lv["MC"] > lv["6+"]  # DOMAIN #14, #15
    sec = {k: v["p"] for k, v in e["by"]["sector"].items()}
    order = [
        "hebergement_restauration",
        "coiffure_esthetique",
        "industries_alimentaires",
        "commerce",
        "construction",
    ]
    assert [sec[k] for k in order] == sorted((sec[k] for k in order), reverse=True)  # DOMAIN #19-#23
    assert abs(sec["hebergement_restauration"] - 0.36) < 0.04
    size = {k: v["p"] for k, v in e["by"]["employer_size"].items()}
    assert size["0-4"] > size["5-9"] > size["10-49"] > size["50-249"] > size["250+"]  # DOMAIN #30, #32
    sex = {k: v["p"] for k, v in e["by"]["sex"].items()}
    assert 0.02 < sex["F"] - sex["M"] < 0.06  # DOMAIN #37
    age = {k: v["p"] for k, v in e["by"]["age_band"].items()}
    assert age["15-17"] > age["20-25"] and age["18-19"] > age["20-25"]  # DOMAIN #35
    inc = full[1]["expected_cumulative_incidence"]
    assert 0.09 < inc["3m"] < 0.12 and 0.14 < inc["6m"] < 0.18  # DOMAIN #46, #8
    # the realised rate is within a 99.9 % binomial margin of the model expectation
    n, p, r = e["overall_eligible"]["n"], e["overall_eligible"]["p"], e["overall_eligible"]["realised"]
    assert abs(r - p) < 3.3 * np.sqrt(p * (1 - p) / n) + 0.01


def test_recontracting_post_diploma_and_pass_rates(full: tuple[Path, dict]) -> None:
    truth = full[1]
    t = truth["truth"]
    assert 0.33 <= t["recontract_within_6m_realised"] <= 0.47  # DOMAIN #61 (~4 in 10)
    assert 0.03 <= t["share_ruptures_after_diploma"] <= 0.09  # DOMAIN #44 (7 %), #45 (3.4 %)
    ex = truth["exams"]
    assert abs(ex["expected_pass_rate_presented"]["CAP"] - 0.849) < 0.05  # DOMAIN #63
    assert abs(ex["expected_pass_rate_presented"]["BTS"] - 0.75) < 0.05  # DOMAIN #64
    by = ex["realised_pass_rate_by_rupture"]
    assert by["no_rupture"] > by["rupture_then_new_contract"] > by["rupture_no_new_contract"]


def test_summer_effect_is_in_the_data(full: tuple[Path, dict]) -> None:
    """Ruptures per contract-day at risk, months 3-12 of contracts: June-August vs the other months."""
    sim = simulate(seed=41)
    ct = sim.contracts
    r = ct["rupture_date"]
    mid = r.notna() & ~ct["rupture_after_diploma"] & (r >= ct["start_date"] + pd.Timedelta(days=182))
    mid &= r < ct["start_date"] + pd.Timedelta(days=273)
    summer = mid & r.dt.month.isin([6, 7, 8])
    # days at risk in the window [182, 273) after start, split by calendar month type, counted on a
    # day grid (independent of the hazard table)
    grid = pd.date_range("2022-01-01", "2027-12-31")
    summer_before = np.concatenate([[0], np.cumsum(grid.month.isin([6, 7, 8]))])
    lo = ct["start_date"] + pd.Timedelta(days=182)
    hi = (
        pd.concat(
            [
                ct["start_date"] + pd.Timedelta(days=273),
                ct["planned_end_date"],
                r.fillna(pd.Timestamp.max.normalize()),
            ],
            axis=1,
        )
        .min(axis=1)
        .clip(upper=sim.extraction_date)
    )
    hi = hi.where(hi > lo, lo)
    pos = lambda d: (d - grid[0]).dt.days.to_numpy()  # noqa: E731
    n_summer = summer_before[pos(hi)] - summer_before[pos(lo)]
    at_risk = {"summer": int(n_summer.sum()), "other": int(((hi - lo).dt.days.to_numpy() - n_summer).sum())}
    ratio = (summer.sum() / at_risk["summer"]) / ((mid & ~summer).sum() / at_risk["other"])
    assert 1.3 < ratio < 2.6  # true multiplier 1.8 (design assumption, DOMAIN #55)


# --- command line -----------------------------------------------------------------------------------------------


def test_cli_writes_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["-q", "sample", "--out", str(tmp_path), "--seed", "3", "--years", "1", "--contracts-per-year", "80"]
    )
    assert rc == 0
    assert (tmp_path / "_ground_truth.json").is_file() and (
        tmp_path / "Export_Init_TBA_202511300600.csv"
    ).is_file()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed", "-4"], "--seed"),
        (["--seed", "1", "--years", "0"], "--years"),
        (["--seed", "1", "--contracts-per-year", "3"], "--contracts-per-year"),
        (["--seed", "1", "--extraction-date", "2025-02-30"], "--extraction-date"),
    ],
)
def test_cli_rejects_bad_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    rc = main(["sample", "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_extraction_date_names_the_deca_file(tmp_path: Path) -> None:
    truth = generate_sample(tmp_path, seed=1, years=1, contracts_per_year=60, extraction_date="2024-03-15")
    assert "Export_Init_TBA_202403150600.csv" in truth["files"]
    assert truth["generator"]["school_years"] == ["2023-2024"]
