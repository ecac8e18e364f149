"""A tiny fake clean contract table (and quality.json) for the report tests.

Deterministic (seeded), a few hundred contracts over 5 real CFAs of the working group, 4 school
years, several sectors and diploma levels, with ruptures, re-contracting and exam results, so that
every report section has something to show. One CFA (index 0) and the summer months get a higher
rupture risk so that the points de vigilance have something to find.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from aioa_analysis.core.schema import C, coerce_contracts

AS_OF = "2025-11-30"
CFAS = ["0410590U", "0410592W", "0410955R", "0411090M", "0410031L"]
SECTORS = [
    ("5610A", "I", "tertiaire", "hebergement_restauration"),
    ("9602A", "S", "tertiaire", "coiffure_esthetique"),
    ("4120A", "F", "construction", "construction"),
    ("4711D", "G", "tertiaire", "commerce"),
    ("2511Z", "C", "industrie", "industrie_autre"),
]
LEVELS = [("50022109", "3", "CAP"), ("40025214", "4", "BAC PRO"), ("32031102", "5", "BTS")]


N_CHARTS = 18
"""Charts of the département report (CFAs at equal case-mix, funnel, sector, level, diploma type, cohorts, survival,
phases, hazard, hazard O/E, expected ruptures, backtest, re-contracting, accompaniment, pass rate, rupture by
exam result; first 45 days by sector, trend by CFA and school year)."""


def make_contracts(n: int = 600, *, seed: int = 7, as_of: str = AS_OF) -> pd.DataFrame:
    """A typed contract table (schema.CONTRACT_DTYPES) without any personal column."""
    rng = np.random.default_rng(seed)
    as_of_ts = pd.Timestamp(as_of)
    years = rng.choice([2021, 2022, 2023, 2024, 2025], size=n, p=[0.15, 0.2, 0.25, 0.25, 0.15])
    month = rng.choice([9, 10, 11, 1, 3, 6, 7, 8], size=n, p=[0.5, 0.12, 0.08, 0.06, 0.06, 0.06, 0.06, 0.06])
    year = np.where(month >= 8, years, years + 1)
    day = rng.integers(1, 28, size=n)
    start = pd.to_datetime({"year": year, "month": month, "day": day})
    keep = start <= as_of_ts - pd.Timedelta(days=1)
    start = start.where(keep, as_of_ts - pd.Timedelta(days=400))
    cfa_idx = rng.integers(0, len(CFAS), size=n)
    sec_idx = rng.integers(0, len(SECTORS), size=n)
    lvl_idx = rng.integers(0, len(LEVELS), size=n)
    duration_months = np.where(lvl_idx == 0, 24, 24)
    planned_end = pd.Series(
        [
            s + pd.DateOffset(months=int(m)) - pd.Timedelta(days=1)
            for s, m in zip(start, duration_months, strict=True)
        ]
    )
    base = 0.25 + 0.25 * (cfa_idx == 0) + 0.1 * (sec_idx == 0)
    ruptured = rng.random(n) < base
    days = rng.exponential(150, size=n).astype(int) + 1
    rupture = pd.Series(start + pd.to_timedelta(days, unit="D"))
    # summer ruptures: push some ruptures into July
    summer = rng.random(n) < 0.25
    rupture = rupture.where(~summer, pd.to_datetime({"year": rupture.dt.year, "month": 7, "day": 10}))
    rupture = rupture.where(ruptured & (rupture > start) & (rupture < planned_end), pd.NaT)
    key = np.array([f"{i:064x}" for i in rng.integers(0, 2**62, size=n)], dtype=object)
    # re-contracting: some broken contracts' apprentice gets a second contract 30-90 days later
    rows = pd.DataFrame(
        {
            C.contract_id: [f"C{i:05d}" for i in range(n)],
            C.apprentice_key: key,
            C.start_date: start,
            C.planned_end_date: planned_end,
            C.rupture_date: rupture,
            C.cfa_uai: [CFAS[i] for i in cfa_idx],
            C.employer_naf: [SECTORS[i][0] for i in sec_idx],
            C.naf_section: [SECTORS[i][1] for i in sec_idx],
            C.sector_group: [SECTORS[i][2] for i in sec_idx],
            C.sector: [SECTORS[i][3] for i in sec_idx],
            C.diploma_code: [LEVELS[i][0] for i in lvl_idx],
            C.diploma_level: [LEVELS[i][1] for i in lvl_idx],
            C.diploma_family: [LEVELS[i][2] for i in lvl_idx],
            C.territory: rng.choice(["ml_blois", "ml_vendomois", "ml_romorantin", "hors_41"], size=n),
            C.sex: rng.choice(["M", "F"], size=n),
            C.age_band: rng.choice(["15-17", "18-19", "20-25"], size=n),
            C.employer_size_band: rng.choice(["0-4", "5-9", "10-49", "50-249"], size=n),
            C.contract_kind: "initial",
            C.rupture_after_diploma: False,
            C.source: "deca_extract",
            C.source_file: "fake.csv",
        }
    )
    broken = rows.loc[rows[C.rupture_date].notna()].sample(frac=0.4, random_state=seed)
    follow = broken.assign(
        **{
            C.contract_id: "N" + broken[C.contract_id].str.slice(1),
            C.start_date: broken[C.rupture_date]
            + pd.to_timedelta(rng.integers(10, 120, len(broken)), unit="D"),
            C.rupture_date: pd.NaT,
            C.contract_kind: "succession",
        }
    )
    follow = follow.assign(**{C.planned_end_date: follow[C.start_date] + pd.DateOffset(months=18)})
    follow = follow.loc[follow[C.start_date] <= as_of_ts]
    out = pd.concat([rows, follow], ignore_index=True)
    month_start = out[C.start_date]
    out = out.assign(
        **{
            C.school_year: [
                f"{y}-{y + 1}" if m >= 8 else f"{y - 1}-{y}"
                for y, m in zip(month_start.dt.year, month_start.dt.month, strict=True)
            ],
            C.days_to_rupture: (out[C.rupture_date] - out[C.start_date]).dt.days,
            C.diploma_outcome: np.where(
                out[C.planned_end_date] <= as_of_ts,
                np.where(rng.random(len(out)) < 0.8, "admis", "ajourne"),
                "inconnu",
            ),
        }
    )
    return coerce_contracts(out)


def write_fake_inputs(folder: Path, *, n: int = 600, sample: bool = True) -> Path:
    """Write contracts.parquet and quality.json into ``folder``; return the parquet path."""
    folder.mkdir(parents=True, exist_ok=True)
    contracts = make_contracts(n)
    path = folder / "contracts.parquet"
    contracts.to_parquet(path, index=False)
    quality = {  # the structure `aioa clean` writes (pipeline.run_clean)
        "as_of": AS_OF,
        "as_of_source": "file_name",
        "sample_used": sample,
        "files": [
            {
                "file": "Export_Init_TBA_202511300600.csv",
                "path": "/x/Export_Init_TBA_202511300600.csv",
                "profile": "deca_extract",
                "sha256": "0" * 64,
                "rows_read": len(contracts) + 12,
                "rows_clean": len(contracts),
                "rows_merged": 9,
                "rows_rejected": 3,
                "rejections_by_reason": {"impossible date": 2, "no CFA and no diploma": 1},
            },
            {
                "file": "resultats_examens_20251130.csv",
                "path": "/x/resultats_examens_20251130.csv",
                "profile": "exam_results",
                "sha256": "e" * 64,
                "rows_read": 40,
                "rows_clean": 40,
                "rows_merged": 0,
                "rows_rejected": 0,
                "rejections_by_reason": {},
            },
        ],
        "total": {  # rows_clean counts contracts AND exam results (as `aioa clean` does)
            "rows_read": len(contracts) + 12 + 40,
            "rows_clean": len(contracts) + 40,
            "rows_merged": 9,
            "rows_rejected": 3,
            "rejections_by_reason": {"impossible date": 2, "no CFA and no diploma": 1},
        },
        "contracts": {
            "n_contracts": len(contracts),
            "n_ruptures": int(contracts[C.rupture_date].notna().sum()),
        },
        "exam_results": {"n_records": 40},
        "coverage": {
            "by_cfa": [{"cfa_uai": u, "n_contracts": 1, "by_source": {"deca_extract": 1}} for u in CFAS]
        },
    }
    (folder / "quality.json").write_text(json.dumps(quality, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# --- the end-to-end build shared by test_reporting and test_report_browser ---------------------------

_BUILT: dict[str, object] = {}


def build_sample_reports(root: Path) -> dict[str, object]:
    """Synthetic sample -> ``run_clean`` -> ``aioa followup --import`` of the sample's returned workbooks
    (the pseudonymised outcome table next to contracts.parquet) -> département report (twice, for
    determinism).

    Cached per process: the two test modules share one build. Returns paths and results.
    """
    if _BUILT:
        return _BUILT
    import os

    from aioa_analysis import cli
    from aioa_analysis.ingest.pipeline import run_clean
    from aioa_analysis.reporting import render_report, render_reports
    from aioa_analysis.sample import generate_sample

    raw = root / "raw"
    processed = root / "processed"
    restricted = root / "restricted"
    names = (
        "AIOA_KEY_FILE",
        "AIOA_RESTRICTED_DIR",
        "AIOA_REPORTS_DIR",
        "AIOA_RAW_DIR",
        "AIOA_SAMPLE_DIR",
        "AIOA_PROCESSED_DIR",
    )
    saved = {k: os.environ.get(k) for k in names}
    (root / "no_real_files").mkdir(parents=True, exist_ok=True)
    # no real file: `aioa clean` falls back to the sample, as on a fresh clone
    os.environ["AIOA_RAW_DIR"] = str(root / "no_real_files")
    os.environ["AIOA_SAMPLE_DIR"] = str(raw)
    os.environ["AIOA_KEY_FILE"] = str(root / "pseudonym.key")
    os.environ["AIOA_RESTRICTED_DIR"] = str(restricted)
    os.environ["AIOA_REPORTS_DIR"] = str(root / "reports")
    os.environ["AIOA_PROCESSED_DIR"] = str(processed)
    try:
        generate_sample(raw, seed=41, years=3, contracts_per_year=600)
        run = run_clean(None, out_dir=processed, restricted_dir=restricted)
        assert run.sample_used, "the build must go through the sample fallback, as `make report` does"
        returned = sorted((raw / "retours").glob("*.xlsx"))
        assert returned, "the sample generator writes returned follow-up workbooks"
        assert cli.main(["-q", "followup", "--import", *map(str, returned)]) == 0
        assert (processed / "followup_outcomes.parquet").is_file()
        params = {"data_file": str(processed / "contracts.parquet"), "meeting_date": "2025-12-11"}
        results = render_reports(params, root / "reports", per_cfa=False)
        again = render_report(params, root / "again" / "rapport-departement.html")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    _BUILT.update(
        raw=raw,
        processed=processed,
        restricted=restricted,
        reports=root / "reports",
        result=results[0],
        again=again,
        data_file=processed / "contracts.parquet",
    )
    return _BUILT
