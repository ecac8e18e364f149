"""``aioa plaquette``: employer leaflets built from a cleaned synthetic sample.

The sample is generated and cleaned once per module (no report rendering). Figures are checked
against independent computations on the contract table; the PDF tests use Debian's Chromium.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.cli import main
from aioa_analysis.core import contacts
from aioa_analysis.core.formatting import fr_percent
from aioa_analysis.reporting import leaflet, pdf

CHROMIUM = pdf.find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium")
AS_OF = "2025-11-30"


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory) -> dict[str, Path]:
    """Synthetic sample -> clean tables (contracts.parquet, quality.json) and the identity store."""
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.sample import generate_sample

    root = tmp_path_factory.mktemp("leaflet")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIOA_KEY_FILE", str(root / "pseudonym.key"))
    mp.setenv("AIOA_RESTRICTED_DIR", str(root / "restricted"))
    mp.setenv("AIOA_RAW_DIR", str(root / "no_real_files"))  # as on a fresh clone: the sample fallback
    mp.setenv("AIOA_SAMPLE_DIR", str(root / "raw"))
    (root / "no_real_files").mkdir()
    try:
        generate_sample(root / "raw", seed=41, years=3, contracts_per_year=900)
        run = run_clean(None, out_dir=root / "processed", restricted_dir=root / "restricted")
        assert run.sample_used
    finally:
        mp.undo()
    return {
        "data": root / "processed" / "contracts.parquet",
        "identities": root / "restricted" / "identities.parquet",
        "root": root,
    }


@pytest.fixture(scope="module")
def contracts(cleaned) -> pd.DataFrame:
    return pd.read_parquet(cleaned["data"])


@pytest.fixture(scope="module")
def figures(contracts) -> dict[str, leaflet.SectorFigures]:
    return leaflet.compute_figures(contracts, as_of=AS_OF)


@pytest.fixture(autouse=True)
def _no_user_tables(monkeypatch, tmp_path):
    """Shipped tables only, unless a test puts its own in the raw folder."""
    monkeypatch.delenv("AIOA_REFERENTIAL_DIR", raising=False)
    monkeypatch.setenv("AIOA_RAW_DIR", str(tmp_path / "raw"))


def _nine_month_rate(df: pd.DataFrame) -> tuple[int, float]:
    """Independent 9-month rate: started >= 9 months before AS_OF, broken (not after the diploma,
    before the planned end) strictly within 9 months."""
    ts = pd.Timestamp(AS_OF)
    df = df.loc[df["start_date"].notna() & (df["start_date"] + pd.DateOffset(months=9) <= ts)]
    limit = df["start_date"] + pd.DateOffset(months=9)
    rup = df["rupture_date"]
    broken = (
        rup.notna()
        & (rup < limit)
        & (rup <= ts)
        & (rup < df["planned_end_date"])
        & ~df["rupture_after_diploma"].astype("boolean").fillna(False)
    )
    return len(df), float(broken.sum()) / len(df) if len(df) else float("nan")


# --- figures -------------------------------------------------------------------------------------


def test_every_sector_has_figures(figures):
    assert list(figures) == leaflet.sector_keys()
    assert len(figures) == 13


def test_sector_rate_matches_an_independent_computation(contracts, figures):
    checked = 0
    for sector, fig in figures.items():
        n, rate = _nine_month_rate(contracts.loc[contracts["sector"].astype("string") == sector])
        if fig.rate_scope == leaflet.SECTEUR:
            assert n >= 20
            assert fig.rate == pytest.approx(rate)
            checked += 1
    assert checked >= 8
    _, dept = _nine_month_rate(contracts)
    assert all(f.dept_rate == pytest.approx(dept) for f in figures.values())


def test_small_or_empty_sectors_fall_back_to_the_departement(contracts, figures):
    fig = figures["autres_services"]  # no contract in the sample
    assert (contracts["sector"].astype("string") == "autres_services").sum() == 0
    assert fig.rate_scope == leaflet.DEPARTEMENT
    assert fig.rate == fig.dept_rate
    assert fig.early_scope == leaflet.DEPARTEMENT and fig.months_scope == leaflet.DEPARTEMENT
    assert fig.rate_reason


def test_a_sector_under_min_n_is_not_published(contracts):
    """Keep 12 contracts of one sector: its rate is hidden (n < 20) and the leaflet says so."""
    keep = contracts.loc[contracts["sector"].astype("string") == "transports"].head(12)
    small = pd.concat([contracts.loc[contracts["sector"].astype("string") != "transports"], keep])
    fig = leaflet.compute_figures(small, as_of=AS_OF)["transports"]
    assert fig.rate_scope == leaflet.DEPARTEMENT
    assert "moins de 20" in fig.rate_reason or "secret" in fig.rate_reason
    html = leaflet.render_leaflet(fig, _context())
    assert "pas de chiffre publié" in html


def test_early_share_is_the_share_of_ruptures_within_45_days(contracts, figures):
    ts = pd.Timestamp(AS_OF)
    rup = contracts["rupture_date"]
    observed = (
        contracts["start_date"].notna()
        & (contracts["start_date"] <= ts)
        & rup.notna()
        & (rup <= ts)
        & (rup < contracts["planned_end_date"])
    )
    early = observed & (rup < contracts["start_date"] + pd.Timedelta(days=46))
    dept = [f for f in figures.values() if f.early_scope == leaflet.DEPARTEMENT]
    assert dept, "the empty sector falls back"
    assert dept[0].early_share == pytest.approx(early.sum() / observed.sum(), abs=0.02)


def test_peak_months_are_the_highest_hazards(figures):
    for fig in figures.values():
        top = fig.month_rates.sort_values(ascending=False).iloc[:3]
        assert set(fig.peak_months) == set(top.index)
        assert np.isfinite(fig.month_rates).all()


def test_france_reference_is_the_sector_one_when_published(figures):
    assert figures["hebergement_restauration"].france_rate == pytest.approx(0.36)
    assert "hébergement" in figures["hebergement_restauration"].france_label
    assert figures["transports"].france_rate == pytest.approx(0.21)
    assert figures["transports"].france_label == "France, tous secteurs"


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        (0.33, "1 contrat sur 3"),
        (0.21, "1 contrat sur 5"),
        (0.3, "3 contrats sur 10"),
        (0.5, "1 contrat sur 2"),
    ],
)
def test_plain_words(rate, words):
    assert leaflet.in_plain_words(rate) == f"environ {words}"


# --- page ----------------------------------------------------------------------------------------


def _context(**kw) -> leaflet.LeafletContext:
    base = dict(
        as_of=pd.Timestamp(AS_OF),
        sample=True,
        sources="DECA",
        first_start=pd.Timestamp("2022-09-01"),
        mediators=contacts.mediators(),
        cfa_contacts=contacts.cfa_contacts(),
        advice=leaflet.advice_html(),
    )
    return leaflet.LeafletContext(**{**base, **kw})


def test_page_is_offline_and_names_the_essentials(figures):
    fig = figures["construction"]
    page = leaflet.render_leaflet(fig, _context())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|<script""", page, re.I)
    assert "45 premiers jours" in page and "L6222-18" in page and "D6222-21-1" in page
    assert "médiateur" in page
    assert fr_percent(fig.rate, 0) in page
    assert "\u202f%" in fr_percent(fig.rate, 0)
    assert page.count('class="sheet"') == 2
    assert page.count("DONNÉES FICTIVES —") == 2  # one banner per sheet
    assert "DONNÉES FICTIVES" not in leaflet.render_leaflet(fig, _context(sample=False))


def test_user_copies_override_the_shipped_tables(monkeypatch, tmp_path, figures):
    raw = tmp_path / "raw"
    (raw / "referentiels").mkdir(parents=True)
    (raw / "referentiels" / "mediateurs.csv").write_text(
        "Chambre;Territoire;Nom du service;Adresse;Téléphone;Courriel;Site\n"
        "CMA test;Loir-et-Cher;Médiation;1 rue X 41000 Blois;02 00 00 00 01;mediation@example.org;\n",
        encoding="utf-8",
    )
    (raw / "referentiels" / "plaquette_conseils.md").write_text(
        "- **Conseil maison** : tester\n", encoding="utf-8"
    )
    (raw / "contacts_cfa.csv").write_text(
        "UAI,Nom,Contact,Téléphone,E-mail\n0410590U,CFA test,Camille Exemple,02 00 00 00 02,referent@example.org\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AIOA_RAW_DIR", str(raw))
    page = leaflet.render_leaflet(
        figures["commerce"],
        _context(
            mediators=contacts.mediators(), cfa_contacts=contacts.cfa_contacts(), advice=leaflet.advice_html()
        ),
        ["0410590U"],
    )
    assert "CMA test" in page and "02 00 00 00 01" in page and "Conseil maison" in page
    assert "CFA test" in page and "referent@example.org" in page
    assert "Camille Exemple" not in page  # the referent's personal name is not printed
    assert "CCI Loir-et-Cher" not in page


def test_shipped_mediators_are_marked_to_complete():
    m = contacts.mediators()
    assert {"CCI Loir-et-Cher", "Chambre d'agriculture de Loir-et-Cher"} <= set(m["chambre"])
    assert m["telephone"].map(contacts.is_placeholder).all()


# --- command -------------------------------------------------------------------------------------


def test_unknown_sector_is_exit_2(cleaned, tmp_path, capsys):
    code = main(
        ["plaquette", "--data", str(cleaned["data"]), "--sector", "boulangerie", "--out", str(tmp_path)]
    )
    assert code == 2
    assert "secteur inconnu" in capsys.readouterr().err


def test_no_chromium_is_one_line_and_exit_4(cleaned, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIOA_CHROMIUM", "")
    code = main(
        ["plaquette", "--data", str(cleaned["data"]), "--sector", "commerce", "--out", str(tmp_path), "--pdf"]
    )
    err = capsys.readouterr().err
    assert code == 4
    assert "Chromium introuvable" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written before the check


def _identity_names(path: Path) -> set[str]:
    ids = pd.read_parquet(path, columns=["surname", "first_name"])
    full = (ids["first_name"].astype(str) + " " + ids["surname"].astype(str)).str.strip()
    return {n.lower() for n in pd.concat([full, ids["surname"].astype(str)]) if len(n) >= 4}


def _words(text: str) -> set[str]:
    plain = re.sub(r"<[^>]+>", " ", text).lower()
    tokens = re.findall(r"[\w'’-]+", plain)
    return set(tokens) | {f"{a} {b}" for a, b in itertools.pairwise(tokens)}


@pytest.mark.slow
@needs_chromium
def test_all_sectors_with_pdf(cleaned, tmp_path):
    out = tmp_path / "plaquettes"
    code = main(
        [
            "plaquette",
            "--data",
            str(cleaned["data"]),
            "--as-of",
            AS_OF,
            "--sector",
            "all",
            "--out",
            str(out),
            "--pdf",
        ]
    )
    assert code == 0
    keys = leaflet.sector_keys()
    assert sorted(p.stem for p in out.glob("*.html")) == sorted(leaflet.leaflet_name(k) for k in keys)
    assert sorted(p.stem for p in out.glob("*.pdf")) == sorted(leaflet.leaflet_name(k) for k in keys)
    figs = leaflet.compute_figures(pd.read_parquet(cleaned["data"]), as_of=AS_OF)
    names = _identity_names(cleaned["identities"])
    assert len(names) > 100
    for key in keys:
        page = (out / f"{leaflet.leaflet_name(key)}.html").read_text(encoding="utf-8")
        pages = pdf.pdf_page_count(out / f"{leaflet.leaflet_name(key)}.pdf")
        assert 1 <= pages <= 2, key
        assert page.count('class="sheet"') == pages == 2  # each sheet is one page: a banner on each
        assert "45 premiers jours" in page and "médiateur" in page
        assert fr_percent(figs[key].rate, 0) in page
        assert not (_words(page) & names), key
