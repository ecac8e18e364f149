"""Smoke tests of the benchmark code (benchmarks/): generator format, measurement, rendering.

No timing assertion here: timings belong to docs/benchmarks.md, not to the test suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from stdnum.fr import siret

from aioa_analysis.core.referential import uai_is_valid
from benchmarks import generate, measure, run


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return generate.generate_extract(tmp_path_factory.mktemp("gen"), 2_000, seed=3, chunk_size=700)


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_extract_is_a_deca_flat_extract(extract):
    """Same format as the sample's DECA extract: `,`, lowercase glued headers, codes with their zeros."""
    raw = extract.path.read_bytes()
    assert extract.path.name == "Export_Init_TBA_202511300600.csv"
    header = raw.split(b"\n", 1)[0].decode()
    assert header.split(",") == list(generate.HEADER)
    assert b'"' not in raw  # no quoting, like the plain extract
    df = _read(extract.path)
    assert len(df) == extract.n_rows
    assert df["nocontrat"].str.fullmatch(r"[0-9]{15}").all()
    assert df["codeidcc"].str.fullmatch(r"[0-9]{4}").all()
    assert df["departementnaissance"].str.len().eq(3).all()
    assert df["adressecodepostal"].str.fullmatch(r"[0-9]{5}").all()
    assert set(df["handicap"]) <= {"true", "false"}
    for col in ("datedebutcontrat", "datefincontrat", "datenaissance"):
        assert pd.to_datetime(df[col], format="%Y-%m-%d").notna().all()
    assert uai_is_valid(pd.Series(df["uaicfa"].unique())).all()
    sirets = df["siretemployeur"].drop_duplicates().head(300)
    assert 0.95 <= sirets.map(siret.is_valid).mean() < 1.0  # mostly valid, some invalid on purpose


def test_extract_counts_and_defects(extract):
    df = _read(extract.path)
    contracts = df.loc[df["typecontrat"].isin(["11", "21", "22", "23"])]
    assert contracts["nocontrat"].nunique() == extract.n_contracts == 2_000
    assert contracts.duplicated().sum() > 0  # exact duplicate rows
    assert df["typecontrat"].str.startswith("3").sum() > 0  # amendments as extra rows
    assert (df["statut"] == "Annulé").sum() > 0  # cancelled contracts (~0.5 %)
    # the same apprentice (name + birth date) holds several contracts: re-contracting after a rupture
    person = contracts.drop_duplicates("nocontrat")[["nom", "prenom", "datenaissance"]]
    assert person.duplicated().sum() > 50
    start = pd.to_datetime(contracts["datedebutcontrat"])
    assert start.max() <= pd.Timestamp("2025-11-30")
    assert (start.dt.month == 9).mean() > 0.3  # September peak
    rupt = pd.to_datetime(contracts["dateeffetrupture"].replace("", None))
    assert rupt.max() <= pd.Timestamp("2025-11-30")  # ruptures after the extraction are unknown
    assert 0.15 < rupt.notna().mean() < 0.5


def test_generation_is_deterministic_and_reusable(tmp_path, extract):
    again = generate.generate_extract(tmp_path / "a", 2_000, seed=3, chunk_size=700)
    assert again.path.read_bytes() == extract.path.read_bytes()
    reused = generate.generate_extract(tmp_path / "a", 2_000, seed=3, chunk_size=700, reuse=True)
    assert reused.seconds == again.seconds  # read from the sidecar, not regenerated
    other = generate.generate_extract(tmp_path / "b", 2_000, seed=4)
    assert other.path.read_bytes() != extract.path.read_bytes()


def test_peaks_do_not_mix_between_steps(tmp_path):
    """Each step's peak RSS is its own: a 400 MB step followed by a small one.

    A child's peak cannot go below its parent's RSS at fork time (Linux keeps the pre-exec
    high-water mark), and a pytest-xdist worker may be large: so both steps are launched from a
    small fresh interpreter, as ``benchmarks.run`` keeps its own process light for that reason.
    """
    code = f"""
import json, sys
from benchmarks import measure
from pathlib import Path
log = Path({str(tmp_path)!r})
big = measure.run_step("big", [sys.executable, "-c",
    "b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096])"], log_dir=log)
small = measure.run_step("small", [sys.executable, "-c", "pass"], log_dir=log)
print(json.dumps([big.ok, big.peak_rss_mb, small.ok, small.peak_rss_mb]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=run.ROOT, capture_output=True, text=True, check=True
    ).stdout
    big_ok, big_peak, small_ok, small_peak = json.loads(out.strip().splitlines()[-1])
    assert big_ok and small_ok
    assert big_peak > 300
    assert small_peak < 150
    assert small_peak < big_peak - 200


def test_user_kernel_time_and_page_faults_are_measured(tmp_path):
    """Touching 200 MB of fresh memory: ~51,200 page faults of 4 KB, paid in kernel time."""
    touch = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"
    big = measure.run_step("touch", [sys.executable, "-c", touch], log_dir=tmp_path)
    small = measure.run_step("idle", [sys.executable, "-c", "pass"], log_dir=tmp_path)
    assert big.ok and small.ok
    assert big.minor_faults - small.minor_faults > 40_000  # 51,200 pages (fewer with huge pages)
    assert big.sys_s > 0 and big.user_s > 0
    assert big.cpu_s == pytest.approx(big.user_s + big.sys_s)


def test_failed_step_says_why(tmp_path):
    r = measure.run_step(
        "bad", [sys.executable, "-c", "raise SystemExit('no such file: x.csv')"], log_dir=tmp_path
    )
    assert r.status == "failed" and r.returncode == 1
    assert "no such file: x.csv" in r.message


def test_step_info_round_trip(tmp_path):
    code = "from benchmarks.measure import write_info; write_info({'rows': 3})"
    r = measure.run_step("info", [sys.executable, "-c", code], log_dir=tmp_path, cwd=run.ROOT)
    assert r.info == {"rows": 3}


def _ok_step(wall: float, peak: float = 1000.0, **info: object) -> dict:
    return {
        "status": "ok",
        "wall_s": wall,
        "cpu_s": wall,
        "peak_rss_mb": peak,
        "returncode": 0,
        "message": "",
        "info": info,
    }


def _fake_results(clean_1m: float, floor_1m: float) -> dict:
    step = _ok_step
    sizes = [
        {
            "n": 100_000,
            "rows": 106_000,
            "file_mb": 33.0,
            "steps": {
                "floor": step(1.0),
                "clean": step(2.0),
                "stats": step(3.0, compute_s=2.0),
                "report": {"status": "skipped", "message": "x"},
            },
        },
        {
            "n": 1_000_000,
            "rows": 1_060_000,
            "file_mb": 330.0,
            "steps": {
                "floor": step(floor_1m),
                "clean": step(clean_1m, peak=4000.0),
                "stats": step(12.0, compute_s=10.0),
            },
        },
    ]
    return {
        "started": "2025-01-01 00:00",
        "seconds": 1.0,
        "command": "python -m benchmarks.run",
        "machine": run.machine_info(),
        "sizes": sizes,
    }


def test_targets_are_judged_from_the_measures():
    results = _fake_results(clean_1m=40.0, floor_1m=10.0)
    results["sample_e2e"] = {"steps": {"clean": _ok_step(4.0), "report": _ok_step(20.0)}}
    rows = {t: (m, v) for t, m, v in run.check_targets(results)}
    assert rows["`aioa clean` on 1 M ≤ 5× the floor"] == ("4.00× wall (fastest 40.0 s vs 10.0 s)", "met")
    assert rows["`aioa clean` on 1 M: peak < 4 GB"] == ("40.0 s, 4.19 GB", "**missed**")  # 4000 MiB
    assert rows["département report end to end < 30 s"] == ("24.0 s", "met")
    assert len(rows) == 3  # nothing at 5 M in these results
    rows = {t: v for t, _, v in run.check_targets(_fake_results(clean_1m=60.0, floor_1m=10.0))}
    assert rows["`aioa clean` on 1 M ≤ 5× the floor"] == "**missed**"
    # repeated pairs: the median of the per-pair ratios decides, not the fastest runs' ratio
    title = "`aioa clean` on 1 M ≤ 5× the floor"
    results["sizes"][-1]["steps"]["clean"]["info"] = {"pair_ratios": [3.5, 5.4, 5.2]}
    measured, verdict = {t: (m, v) for t, m, v in run.check_targets(results)}[title]
    assert verdict == "**missed**" and measured.startswith("5.20× wall (medians of 3 interleaved")
    # CPU ratios recorded: wall and CPU time must both hold (either one alone can flatter)
    results["sizes"][-1]["steps"]["clean"]["info"] = {
        "pair_ratios": [3.5, 4.4, 5.2],
        "cpu_pair_ratios": [4.1, 6.0, 4.9],
    }
    measured, verdict = {t: (m, v) for t, m, v in run.check_targets(results)}[title]
    assert verdict == "met" and measured.startswith("4.40× wall, 4.90× CPU (medians of 3 interleaved")
    assert "wall 3.50, 4.40, 5.20; CPU 4.10, 6.00, 4.90" in measured
    results["sizes"][-1]["steps"]["clean"]["info"]["cpu_pair_ratios"] = [5.1, 6.0, 4.9]
    assert {t: v for t, _, v in run.check_targets(results)}[title] == "**missed**"  # CPU median 5.10


def test_5m_target_is_judged_on_clean_and_a_failure_is_missed():
    results = _fake_results(clean_1m=40.0, floor_1m=10.0)
    big = {"n": 5_000_000, "steps": {"clean": _ok_step(300.0, peak=15_000.0)}}
    results["sizes"].append(big)
    title = "`aioa clean` on 5 M: completes, peak < 20 GB"
    assert {t: (m, v) for t, m, v in run.check_targets(results)}[title] == ("300.0 s, 15.73 GB", "met")
    big["steps"]["clean"] = {"status": "failed", "message": "killed above the 20 GB memory cap"}
    measured, verdict = {t: (m, v) for t, m, v in run.check_targets(results)}[title]
    assert verdict == "**missed**" and "memory cap" in measured


def test_docs_block_is_replaced_and_prose_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        f"# Title\n\nProse before.\n\n{run.BEGIN}\nold\n{run.END}\n\nProse after.\n", encoding="utf-8"
    )
    run.write_docs(_fake_results(20.0, 10.0), doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nProse before.") and text.rstrip().endswith("Prose after.")
    assert "old" not in text and text.count(run.BEGIN) == 1
    assert "| 1 000 000 | 1 060 000 |" in text
    assert "2.00×" in text
    assert "| `aioa clean` on 1 M ≤ 5× the floor | 2.00× wall (fastest 20.0 s vs 10.0 s) | met |" in text


@pytest.mark.slow
def test_benchmark_smoke_run_at_10k(tmp_path):
    """The whole harness at 10 k contracts, report excluded (rendered by the report's own tests)."""
    docs = tmp_path / "benchmarks.md"
    code = run.main(
        [
            "--sizes",
            "10000",
            "--steps",
            "floor,clean,stats",
            "--no-sample",
            "--data-dir",
            str(tmp_path / "data"),
            "--work-dir",
            str(tmp_path / "out"),
            "--docs",
            str(docs),
            "--repeat",
            "2",
        ]
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    (size,) = results["sizes"]
    assert size["n"] == 10_000 and size["rows"] > 10_000
    statuses = {k: v["status"] for k, v in size["steps"].items()}
    assert statuses["generate"] == statuses["floor"] == "ok"
    assert size["steps"]["floor"]["info"]["rows"] == size["rows"]
    assert statuses["clean"] == "ok", size["steps"]["clean"]["message"]
    clean, floor = size["steps"]["clean"], size["steps"]["floor"]
    assert len(clean["info"]["pair_ratios"]) == 2  # --repeat 2: two interleaved floor/clean pairs
    assert len(clean["info"]["cpu_pair_ratios"]) == 2
    assert round(clean["wall_s"], 3) == min(clean["info"]["walls_s"])
    assert round(floor["wall_s"], 3) == min(floor["info"]["walls_s"])
    assert statuses["stats"] == "ok"
    assert size["steps"]["stats"]["info"]["n_results"] > 10  # the report's own estimators ran
    assert "rates.rupture_rate_within" in size["steps"]["stats"]["info"]["parts"]
    assert code == 0
    # statistics alone: on the table the clean step above left, and merged over its results
    again = ["--sizes", "10000", "--steps", "stats", "--no-sample", "--data-dir", str(tmp_path / "data")]
    again += ["--work-dir", str(tmp_path / "out"), "--docs", str(docs)]
    assert run.main(again) == 0
    merged = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    stats = merged["sizes"][0]["steps"]["stats"]
    assert stats["status"] == "ok" and "earlier `aioa clean`" in stats["message"]
    assert merged["sizes"][0]["steps"]["clean"]["status"] == "ok"  # kept from the first run
    assert "| 10 000 |" in docs.read_text(encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_cap_is_on_resident_memory(tmp_path):
    """The cap is on what the targets measure, resident memory: a step that touches more is killed
    and says so; one that reserves more address space than the cap but touches little is not."""
    touch = "import time; b = bytearray(int(1.25e9)); b[::4096] = b'x' * len(b[::4096]); time.sleep(1)"
    r = measure.run_step("hog", [sys.executable, "-c", touch], log_dir=tmp_path, mem_limit_bytes=int(1e9))
    assert r.status == "failed"
    assert r.message.startswith("killed above the 1 GB memory cap (resident memory 1.")
    # 1.2 GB of address space mapped, 0.2 GB of it touched: under a 1 GB cap on resident memory
    reserve = "import mmap; m = mmap.mmap(-1, int(1.2e9)); m[: int(2e8)] = b'x' * int(2e8)"
    r = measure.run_step(
        "reserve", [sys.executable, "-c", reserve], log_dir=tmp_path, mem_limit_bytes=int(1e9)
    )
    assert r.ok, r.message
    assert r.peak_rss_mb < 1000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_cap_kills_a_descendant_in_a_session_of_its_own(tmp_path):
    """Above the cap the whole tree goes, also a child in a session of its own (as a Jupyter
    kernel started by papermill), whose memory counts."""
    pid_file = tmp_path / "grandchild.pid"
    grandchild = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
        "b = bytearray(int(4.5e8)); b[::4096] = b'x' * len(b[::4096]); time.sleep(60)"
    )
    step = (
        "import subprocess, sys; "
        f"subprocess.Popen([sys.executable, '-c', {grandchild!r}], start_new_session=True).wait()"
    )
    r = measure.run_step("tree", [sys.executable, "-c", step], log_dir=tmp_path, mem_limit_bytes=int(4e8))
    assert r.status == "failed" and r.message.startswith("killed above the 0.4 GB memory cap")
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rfind(")") + 2 :].split()[0]


def test_address_space_cap_catches_one_huge_allocation(tmp_path):
    """Above 1.5 times the cap, even untouched, the allocation fails at once with a MemoryError."""
    r = measure.run_step(
        "huge", [sys.executable, "-c", "b = bytearray(2 * 2**30)"], log_dir=tmp_path, mem_limit_bytes=int(1e9)
    )
    assert r.status == "failed"
    assert r.message.startswith("out of memory under the 2 GB address-space cap")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_tree_rss_counts_the_descendants():
    """A step's resident memory includes its children's (a report step's Jupyter kernel)."""
    child = "import time; b = bytearray(int(3e8)); b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    proc = subprocess.Popen([sys.executable, "-c", parent], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while measure.tree_rss_bytes(proc.pid) < 3e8 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert measure.tree_rss_bytes(proc.pid) > 3e8  # the parent alone holds ~10 MB
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_merge_keeps_steps_not_remeasured():
    old = {
        "started": "A",
        "sizes": [{"n": 5, "steps": {"clean": {"status": "failed"}, "floor": {"status": "ok"}}}],
    }
    new = {"started": "B", "command": "c", "sizes": [{"n": 5, "steps": {"stats": {"status": "ok"}}}]}
    merged = run.merge_results(old, new)
    assert merged["merged_with"] == "A"
    assert set(merged["sizes"][0]["steps"]) == {"clean", "floor", "stats"}


def test_merge_keeps_a_measure_over_a_skipped_step():
    """A step a run skipped (e.g. statistics without a table) was not measured: the earlier
    measure stays; a new measure replaces it."""
    ok, skip = {"status": "ok", "wall_s": 1.0}, {"status": "skipped", "message": "no table"}
    old = {"started": "A", "sizes": [{"n": 5, "steps": {"stats": ok}}]}
    new = {"started": "B", "sizes": [{"n": 5, "steps": {"stats": skip, "report": skip}}]}
    assert run.merge_results(old, new)["sizes"][0]["steps"] == {"stats": ok, "report": skip}
    again = {"started": "C", "sizes": [{"n": 5, "steps": {"stats": {"status": "ok", "wall_s": 2.0}}}]}
    assert run.merge_results(old, again)["sizes"][0]["steps"]["stats"]["wall_s"] == 2.0
