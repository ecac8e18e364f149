"""Every command under every fault class: the documented exit code, one French line, no traceback.

Each case runs the real ``aioa`` console script in a fresh process (what cron runs), with its own
places and key, on a small fake data set (``tests.report_fakes``) or the committed sample. Exit codes
are those of ``aioa --help`` (``aioa_analysis.cli.EXIT_CODES``): 2 input or parameter, 3 writing,
4 report execution, 5 key or restricted place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from aioa_analysis.core.errors import OutputError
from aioa_analysis.reporting import runner
from tests.report_fakes import AS_OF, write_fake_inputs

ROOT = Path(__file__).resolve().parents[1]
AIOA = [sys.executable, "-c", "from aioa_analysis.cli import entry; entry()"]  # what the `aioa` script runs


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("faults")
    processed = write_fake_inputs(root / "processed").parent
    return {"root": root, "processed": processed, "data": processed / "contracts.parquet"}


def _env(place: dict[str, Path], **extra: str) -> dict[str, str]:
    root = place["root"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOA_")}
    env.update(
        AIOA_PROJECT_DIR=str(root),
        AIOA_KEY_FILE=str(root / "key" / "pseudonym.key"),
        AIOA_RESTRICTED_DIR=str(root / "restricted"),
        AIOA_PROCESSED_DIR=str(place["processed"]),
        AIOA_REPORTS_DIR=str(root / "reports"),
        AIOA_RAW_DIR=str(root / "raw"),
        AIOA_SAMPLE_DIR=str(ROOT / "data" / "raw" / "sample"),
    )
    env.update(extra)
    return env


def _run(place, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AIOA, *args],
        cwd=cwd or place["root"],
        env=_env(place, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_french_line(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    err = proc.stderr
    assert proc.returncode == code, (proc.returncode, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in proc.stdout
    last = err.strip().splitlines()[-1]
    assert " : erreur" in last and needle in last, last


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("rates", "--by", "cfa", "--as-of", AS_OF, "--horizon-months", "100000"), 2, "from 1 to 120"),
        (("rates", "--by", "cfa", "--as-of", "2025-13-45"), 2, "--as-of"),
        (("rates", "--by", "no_such_dimension", "--as-of", AS_OF), 2, "no_such_dimension"),
        (("report", "--as-of", "1990-01-01"), 2, "before the first contract"),
        (("report", "-p", "horizon=100000"), 2, "horizon"),
        (("report", "-p", "cfa=../../etc"), 2, "unknown CFA"),
    ],
)
def test_bad_parameters_are_input_errors(place, args, code, needle):
    data = ["--data", str(place["data"])]
    _one_french_line(_run(place, *args[:1], *data, *args[1:]), code, needle)


@pytest.mark.parametrize(("chosen", "expected"), [(None, "system"), ("jemalloc", "jemalloc")])
def test_the_console_script_gives_arrow_its_allocator_unless_the_environment_names_one(
    place, chosen, expected
):
    """`aioa` runs with ``cli.ARROW_POOL`` (the C library's malloc: the guard of issue 13 in
    docs/benchmarks.md), set before pyarrow's first allocation; ``ARROW_DEFAULT_MEMORY_POOL`` wins."""
    code = (
        "import sys\nfrom aioa_analysis import cli\nsys.argv = ['aioa', '--version']\n"
        "try:\n    cli.entry()\nexcept SystemExit:\n    pass\n"
        "import pyarrow as pa\nprint(pa.default_memory_pool().backend_name)\n"
    )
    env = _env(place)
    env.pop("ARROW_DEFAULT_MEMORY_POOL", None)
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == expected


def test_a_missing_data_file_is_an_input_error(place):
    _one_french_line(
        _run(place, "rates", "--data", "nope.parquet", "--by", "cfa", "--as-of", AS_OF), 2, "nope"
    )


def test_report_timeout_is_a_report_error_without_kernel_noise(place):
    out = place["root"] / "timeout-reports"
    proc = _run(place, "report", "--data", str(place["data"]), "--out", str(out), "--timeout", "1")
    _one_french_line(proc, 4, "timed out")
    assert "ZMQError" not in proc.stderr and "without encryption" not in proc.stderr
    assert not (out / "index.html").exists()


def test_an_output_folder_that_cannot_be_made_is_a_writing_error(place):
    blocker = place["root"] / "a_file"
    blocker.write_text("x")
    proc = _run(place, "report", "--data", str(place["data"]), "--out", str(blocker / "reports"))
    _one_french_line(proc, 3, "a_file")


def test_a_log_file_that_cannot_be_opened_is_a_writing_error(place):
    blocker = place["root"] / "a_file2"
    blocker.write_text("x")
    proc = _run(place, "--log-file", str(blocker / "aioa.log"), "rates", "--data", str(place["data"]), "--by",
                "cfa", "--as-of", AS_OF)  # fmt: skip
    _one_french_line(proc, 3, "journal")


def test_a_log_file_in_a_missing_folder_is_created(place):
    log = place["root"] / "logs" / "aioa.log"
    proc = _run(place, "-q", "--log-file", str(log), "rates", "--data", str(place["data"]), "--by", "cfa",
                "--as-of", AS_OF)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert log.is_file()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("clean", "--out", "{restricted}/processed"), {}),
        (("report", "--out", "{restricted}/reports"), {}),
        (("clean", "--out", "{root}/shared"), {"AIOA_RESTRICTED_DIR": "{processed}/restricted"}),
    ],
)
def test_personal_and_shared_places_never_mix(place, args, env):
    """Case 9: restricted data refused under data/processed/ and reports/, and the reverse."""
    fill = {k: str(v) for k, v in place.items()}
    fill["restricted"] = str(place["root"] / "restricted")
    args = tuple(a.format(**fill) for a in args)
    env = {k: v.format(**fill) for k, v in env.items()}
    extra = ["--data", str(place["data"])] if args[0] == "report" else []
    proc = _run(place, *args, *extra, **env)
    _one_french_line(proc, 5, "refusing to write")


def test_cfa_codes_from_the_data_never_build_a_path_outside_the_output(place, tmp_path, monkeypatch):
    """Case 2: a UAI with ``/`` or ``../`` in a chamber file."""
    table = pd.read_parquet(place["data"])
    table.loc[table.index[:30], "cfa_uai"] = "../../evil"
    data = tmp_path / "processed" / "contracts.parquet"
    data.parent.mkdir()
    table.to_parquet(data)
    shutil.copy(place["processed"] / "quality.json", data.parent / "quality.json")
    written: list[Path] = []

    def fake_render(params, html_path, **kwargs):
        written.append(Path(html_path))
        Path(html_path).write_text("ok", encoding="utf-8")
        return runner.ReportResult(Path(html_path), None, 1, 2, 0.1, dict(params))

    monkeypatch.setattr(runner, "render_report", fake_render)
    out = tmp_path / "reports"
    runner.render_reports({"data_file": str(data)}, out, per_cfa=True)
    assert len(written) == 1 + table["cfa_uai"].nunique()
    for path in written:
        assert path.resolve().is_relative_to(out.resolve() / ".aioa" / "generations"), path
        assert ".." not in path.name and "/" not in path.name
    assert not (tmp_path / "evil").exists() and not list(tmp_path.glob("**/evil*"))


def test_a_second_report_run_on_the_same_folder_is_refused_while_the_first_holds_the_lock(place, tmp_path):
    from aioa_analysis.core.commit import run_lock

    out = tmp_path / "reports"
    with run_lock(out), pytest.raises(OutputError, match="une autre exécution"):
        runner.render_reports({"data_file": str(place["data"])}, out)


# --- kill -9 during each command's commit: the old or the new complete set, never a mix ------------

_SLOW_COMMIT = (
    "import os, sys, time\n"
    "real = os.replace\n"
    "def slow(a, b, *k, **kw):\n"
    "    if '.current-' in str(a) or '.link-' in str(a):  # the publication of the set\n"
    "        sys.stderr.write('COMMIT\\n'); sys.stderr.flush()\n"
    "    time.sleep(0.15)\n"
    "    return real(a, b, *k, **kw)\n"
    "os.replace = slow\n"
    "from aioa_analysis.cli import main\n"
    "sys.exit(main())\n"
)


def _killed_during_commit(place, args: list[str], delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_COMMIT, *args], cwd=place["root"], env=_env(place),
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("COMMIT"):
            break
    time.sleep(delay)
    proc.kill()
    proc.wait()


def _chamber_rows(n: int) -> str:
    head = "N° de contrat;Date de début du contrat;Date de fin prévue;Nom;Prénom;Date de naissance;UAI du CFA;Code diplôme\n"
    body = "".join(
        f"{i:03d};02/09/2024;31/08/2026;NOM{i};P{i};0{1 + i % 9}/01/2006;0410590U;50022109\n"
        for i in range(n)
    )
    return head + body


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.1, 0.2, 0.35, 0.5])
def test_clean_killed_during_its_commit_leaves_one_complete_set(place, tmp_path, delay):
    out = tmp_path / "processed"
    for name, n in (("old", 30), ("new", 25)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "chambre_20251130.csv").write_text(_chamber_rows(n), encoding="utf-8")
    first = _run(place, "-q", "clean", str(tmp_path / "old"), "--out", str(out))
    assert first.returncode == 0, first.stderr
    _killed_during_commit(place, ["-q", "clean", str(tmp_path / "new"), "--out", str(out)], delay)
    n_table = len(pd.read_parquet(out / "contracts.parquet"))
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    assert n_table == quality["contracts"]["n_contracts"] in (30, 25)  # one run's table and counts
    again = _run(place, "-q", "clean", str(tmp_path / "new"), "--out", str(out))  # the next run cleans up
    assert again.returncode == 0, again.stderr
    assert len(list((out / ".aioa" / "generations").iterdir())) == 1


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.4])
def test_report_killed_during_its_commit_leaves_one_complete_set(place, tmp_path, delay):
    out = tmp_path / "reports"
    data = ["--data", str(place["data"]), "--out", str(out)]
    first = _run(place, "-q", "report", *data, "-p", "title=ANCIEN")
    assert first.returncode == 0, first.stderr
    _killed_during_commit(place, ["-q", "report", *data, "-p", "title=NOUVEAU"], delay)
    titles = {
        name: ("NOUVEAU" if "NOUVEAU" in (out / name).read_text(encoding="utf-8") else "ANCIEN")
        for name in ("index.html", "rapport-departement.html")
    }
    assert len(set(titles.values())) == 1, titles


# --- every command, every fault class it can meet -------------------------------------------------

COMMAND_FAULTS = [
    # (command line with {data} {blocker} {processed} placeholders, exit code, words of the message)
    ("sample --out {blocker}/sample --years 1 --contracts-per-year 50", 3, ""),
    ("sample --out {root}/s --years 0", 2, ""),
    ("clean {root}/no_such_folder --out {root}/fresh", 2, "no_such_folder"),
    ("clean --source sifa {root}/in_deca --out {root}/fresh", 2, ""),
    ("rates --data {data} --by cfa --as-of {as_of} --unit nobody", 2, ""),
    ("report --data {data} --out {blocker}/reports", 3, "a_file3"),
    ("followup --month 2025-13", 2, ""),
    ("followup --month 2025-09 --out {processed}/listes", 5, "personal data"),
    ("vigilance --data {root}/missing.parquet --as-of {as_of}", 2, "missing"),
    ("vigilance --data {data} --as-of 2025-02-30", 2, ""),
    ("forecast --data {data} --as-of {as_of} --months 0", 2, ""),
    ("forecast --data {root}/missing.parquet --as-of {as_of}", 2, "missing"),
    ("plaquette --data {data} --sector nulle_part", 2, "nulle_part"),
    ("plaquette --data {data} --out {blocker}/plaquettes", 3, ""),
    ("plaquette --data {data} --out {root}/restricted/plaquettes", 5, ""),
    ("fiche --month 2025-09 --structure nulle_part", 2, "nulle_part"),
    ("fiche --month 2025-09 --out {processed}/fiches", 5, ""),
]


@pytest.mark.parametrize(
    ("line", "code", "words"),
    COMMAND_FAULTS,
    ids=[c[0].split()[0] + str(i) for i, c in enumerate(COMMAND_FAULTS)],
)
def test_every_command_fault_gives_its_code_and_one_line(place, line, code, words):
    root = place["root"]
    blocker = root / "a_file3"
    blocker.write_text("x")
    deca = root / "in_deca"
    deca.mkdir(exist_ok=True)
    (deca / "Export_Init_TBA_202511300600.csv").write_text(
        "nocontrat,datedebutcontrat\n1,2024-09-02\n", encoding="utf-8"
    )
    args = line.format(
        data=place["data"], blocker=blocker, processed=place["processed"], root=root, as_of=AS_OF
    )
    proc = _run(place, *args.split())
    assert proc.returncode == code, (args, proc.returncode, proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert lines and ("erreur" in lines[-1] or "error" in lines[-1]), lines[-3:]
    assert words.lower() in lines[-1].lower()


@pytest.fixture(scope="module")
def sample_place(tmp_path_factory) -> dict[str, Path]:
    """The committed sample cleaned, with its identity store: what `aioa followup` needs."""
    root = tmp_path_factory.mktemp("faults-sample")
    place = {"root": root, "processed": root / "processed", "data": root / "processed" / "contracts.parquet"}
    (root / "raw").mkdir()
    done = _run(place, "-q", "clean")
    assert done.returncode == 0, done.stderr
    return place


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.2])
def test_followup_killed_during_its_commit_leaves_one_complete_month(sample_place, delay):
    month = sample_place["root"] / "restricted" / "followup" / "2025-09"
    first = _run(sample_place, "-q", "followup", "--month", "2025-09")
    assert first.returncode == 0, first.stderr
    _killed_during_commit(sample_place, ["-q", "followup", "--month", "2025-09"], delay)
    visible = sorted(p for p in month.iterdir() if not p.name.startswith("."))
    generations = {p.resolve().parent for p in visible}
    assert len(generations) == 1, generations  # every file of one run
    manifest = json.loads((month / "manifest.json").read_text(encoding="utf-8"))
    listed = {f for entry in json.dumps(manifest).split('"') for f in [entry] if f.endswith(".xlsx")}
    assert listed == {p.name for p in visible if p.suffix == ".xlsx"}
    assert not list(month.rglob("*.tmp"))
