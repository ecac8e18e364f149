"""The cleaning pipeline: discover and read the inputs, clean, write every output atomically.

:func:`run_clean` is what ``aioa clean`` runs. Outputs (in ``out_dir``, default
``config.processed_dir()``), published together by one rename or not at all (:func:`~aioa_analysis.core.commit.output_set`):

* ``contracts.parquet``: exactly :data:`~aioa_analysis.core.schema.CONTRACT_DTYPES`, sorted by
  ``contract_id``, no personal data;
* ``exam_results.parquet`` when an exam-results file was given (:data:`~aioa_analysis.core.schema.EXAM_DTYPES`);
* ``rejected.csv`` (:data:`~aioa_analysis.core.schema.REJECTED_COLUMNS`; the value is blank when the
  column is personal);
* ``conflicts.csv`` (``contract_id, column, source, source_file, value``);
* ``quality.json``: per file and in total ``rows_read``, ``rows_clean``, ``rows_merged``,
  ``rows_rejected`` (``rows_read == rows_clean + rows_merged + rows_rejected``), rejections by
  reason, profile, lines read, sha256, the ``as_of`` used and how it was chosen, whether the
  synthetic sample was used, coverage per CFA, the package version.

The identity store goes to ``config.restricted_dir()`` (see :mod:`aioa_analysis.ingest.identity`).
Parquet files are written deterministically: same inputs and key, byte-identical outputs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import is_integer_dtype

from aioa_analysis import __version__
from aioa_analysis.core import config
from aioa_analysis.core.atomic import sha256_of
from aioa_analysis.core.commit import output_set
from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import DataError, InputFileError, KeyFileError, ParameterError
from aioa_analysis.core.safe import neutralise_frame
from aioa_analysis.core.schema import (
    ALL_NAMES,
    CONTRACT_DTYPES,
    EXAM_DTYPES,
    FORBIDDEN_IN_CONTRACTS,
    LINEAGE_COLUMNS,
    REJECTED_COLUMNS,
    SOURCES,
    C,
    coerce_contracts,
    validate_contracts,
)
from aioa_analysis.ingest import readers
from aioa_analysis.ingest.cleaning import clean_contracts
from aioa_analysis.ingest.exams import clean_exam_results
from aioa_analysis.ingest.identity import (
    build_identities,
    commit_identities,
    discard_identities,
    stage_identities,
)
from aioa_analysis.ingest.observation import ending_early, extraction_dates, observed_until
from aioa_analysis.ingest.pseudonym import add_apprentice_key, key_fingerprint, load_or_create_key
from aioa_analysis.ingest.values import PERSON, PRIMARY, REASON, REASON_COLUMN, identity_rows

log = logging.getLogger(__name__)

CONTRACTS_FILE = "contracts.parquet"
EXAMS_FILE = "exam_results.parquet"
REJECTED_FILE = "rejected.csv"
CONFLICTS_FILE = "conflicts.csv"
QUALITY_FILE = "quality.json"
CONFLICT_COLUMNS = ("contract_id", "column", "source", "source_file", "value")

EXAM_PROFILE = "exam_results"
_FILE = "_file"  # index of the input file a row came from (file names may repeat across folders)


@dataclass
class CleanRun:
    """What :func:`run_clean` did (the command prints a summary of it)."""

    out_dir: Path
    quality: dict[str, Any]
    n_contracts: int
    sample_used: bool
    outputs: list[Path] = field(default_factory=list)
    identity_path: Path | None = None


# ------------------------------------------------------------------------------------------------
# inputs


def resolve_inputs(inputs: Sequence[str | Path] | None) -> tuple[list[Path], bool]:
    """The files to read and whether they are the synthetic sample.

    Explicit inputs (files, or folders whose top-level files are taken) win; else the real files in
    ``config.raw_dir()``; else the sample in ``config.sample_dir()``.
    """
    if inputs:
        paths: list[Path] = []
        for item in inputs:
            p = Path(item)
            if p.is_dir():
                found = readers.discover_inputs(p)
                if not found:
                    raise InputFileError(
                        f"{p}: folder holds no input file", hint="put your exports in it, or name the files"
                    )
                paths.extend(found)
            elif p.is_file():
                paths.append(p)
            else:
                raise InputFileError(f"{p}: no such file", hint="check the path (quote names with spaces)")
        sample_dir = config.sample_dir().resolve()
        sample_used = all(sample_dir in q.resolve().parents for q in paths)
        return paths, sample_used
    raw = config.raw_dir()
    real = readers.discover_inputs(raw) if raw.is_dir() else []
    if real:
        return real, False
    sample = config.sample_dir()
    found = readers.discover_inputs(sample) if sample.is_dir() else []
    if not found:
        raise InputFileError(
            f"no input file in {raw} nor in the sample folder {sample}",
            hint="copy your exports into data/raw/ or run `aioa sample` (or `make sample`)",
        )
    return found, True


def as_of_from_names(paths: Sequence[Path]) -> tuple[pd.Timestamp, str] | None:
    """The LATEST extraction date among the dated file names, and the file that sets it.

    No source is treated as observed after its own extraction date: each contract is observed up to
    the latest extraction date of the files that report it (``observed_until``, see
    :mod:`~aioa_analysis.ingest.observation`), so an older file (a SIFA photograph of 31 December)
    censors its own contracts early instead of pulling ``as_of`` back for every source.

    >>> as_of_from_names([Path("Export_Init_TBA_202511300600.csv"), Path("SIFA_0410955R_31122024.csv")])
    (Timestamp('2025-11-30 00:00:00'), 'Export_Init_TBA_202511300600.csv')
    """
    dates = extraction_dates(paths)
    if not dates:
        return None
    name = max(dates, key=lambda n: (dates[n], n))
    return dates[name], name


def choose_as_of(
    as_of: object, paths: Sequence[Path], contracts: pd.DataFrame
) -> tuple[pd.Timestamp, str, str | None]:
    """``(as_of, how, detail)``: the argument; else a timestamp in a file name; else the latest event date.

    Never the wall clock. ``how`` is ``argument``, ``file_name`` or ``latest_event_date``.
    """
    if as_of is not None and str(as_of).strip():
        return parse_as_of(as_of), "argument", None
    named = as_of_from_names(paths)
    if named is not None:
        return named[0], "file_name", named[1]
    events = [
        contracts[c].max()
        for c in (C.start_date, C.signature_date, C.rupture_date, C.rupture_reported_date)
        if c in contracts.columns and contracts[c].notna().any()
    ]
    if not events:
        raise ParameterError(
            "cannot infer the observation date (no date in file names nor in the data)",
            hint="pass --as-of YYYY-MM-DD (the extraction date of your files)",
        )
    latest = max(events)
    return pd.Timestamp(latest).normalize(), "latest_event_date", f"{pd.Timestamp(latest):%Y-%m-%d}"


# ------------------------------------------------------------------------------------------------
# writers


_UNCOMPRESSED: Final = frozenset({C.apprentice_key})
"""Columns of keyed hashes: random hex that zstd only shrinks by its 4 bits of entropy per character,
at a quarter of the whole file's encoding time; stored as they are."""


def write_parquet(df: pd.DataFrame, path: Path | pa.BufferOutputStream) -> None:
    """Deterministic parquet (no index, fixed compression, no timestamps in metadata): zstd level 1
    (level 3 took a fifth more time, for no smaller a file), except the columns of :data:`_UNCOMPRESSED`.

    Min/max statistics are written for the dates, numbers and flags only: the readers of these files
    read whole columns, and the string statistics were a fifth of the encoding time (0.3 of 1.5 s
    for a million contracts)."""
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    names = table.column_names
    pq.write_table(
        table,
        path,
        compression={c: "none" if c in _UNCOMPRESSED else "zstd" for c in names},
        compression_level={c: 1 for c in names if c not in _UNCOMPRESSED},
        use_dictionary=True,
        write_statistics=[f.name for f in table.schema if not _is_text(f.type)],
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, ``,`` separator, ``\\n`` line ends, no index; cells a spreadsheet would evaluate
    (``=HYPERLINK(...)``, ``+cmd``, ``@SUM``) are neutralised (:func:`~aioa_analysis.core.safe.neutralise_frame`)."""
    neutralise_frame(df).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _json_default(o: object) -> object:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (pd.Timestamp,)):
        return o.strftime("%Y-%m-%d")
    if isinstance(o, Path):
        return str(o)
    return str(o)


# ------------------------------------------------------------------------------------------------
# the run


def _as_raw(frame: pd.DataFrame, file_index: int) -> pd.DataFrame:
    cols = {}
    for c in frame.columns:
        if c == C.source_row:
            cols[c] = pd.to_numeric(frame[c], errors="coerce").astype("Int64")
        else:
            cols[c] = frame[c].astype("string")  # type: ignore[assignment]
    return pd.DataFrame(cols, index=frame.index).assign(**{_FILE: file_index}).reset_index(drop=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in LINEAGE_COLUMNS}).assign(
            **{_FILE: pd.Series(dtype="int64")}
        )
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c not in (C.source_row, _FILE) and out[c].dtype != "string":
            out[c] = out[c].astype("string")
    return out


def _safe_value(column: pd.Series, value: pd.Series) -> pd.Series:
    """Blank the value unless the column is a known, non-personal canonical column."""
    allowed = column.isin(sorted(ALL_NAMES - set(FORBIDDEN_IN_CONTRACTS))).fillna(False)
    return value.astype("string").where(allowed, "").fillna("")


MAX_SHRINK: Final = 0.5
"""Largest share of the previous run's contracts a run may lose before it is refused."""
LOCK_WAIT_S: Final = 60.0
"""Seconds a run waits for another run writing the same folder."""


def _previous_run(out: Path) -> dict[str, Any]:
    """What the previous run in ``out`` recorded (its contract count and key fingerprint), or ``{}``."""
    try:
        quality = json.loads((out / QUALITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(quality, dict):
        return {}
    n = (
        (quality.get("contracts") or {}).get("n_contracts")
        if isinstance(quality.get("contracts"), dict)
        else None
    )
    return {
        "n_contracts": n if isinstance(n, int) else None,
        "key_fingerprint": quality.get("key_fingerprint"),
    }


def _check_same_key(key: bytes, previous: dict[str, Any], *, new_key: bool) -> None:
    """Refuse a key other than the previous run's: every pseudonym would change without a word."""
    before = previous.get("key_fingerprint")
    if before and not new_key and key_fingerprint(key) != before:
        raise KeyFileError(
            f"the pseudonymisation key ({config.key_file()}) is not the one of the previous run "
            f"(fingerprint {key_fingerprint(key)} instead of {before}): every pseudonym would change",
            hint="restore the previous key (AIOA_KEY_FILE), or pass --new-key on purpose",
        )


def _check_not_shrinking(
    n_new: int, previous: dict[str, Any], *, allow_shrink: bool, max_shrink: float, out: Path
) -> None:
    """Refuse to replace good outputs with nothing, or with far fewer contracts, unless asked."""
    if allow_shrink:
        return
    if n_new == 0:
        raise DataError(
            "no contract is left after cleaning (every row was rejected): the previous outputs are kept",
            hint="see the rejection reasons with --verbose, check --source; --allow-shrink writes an empty table on purpose",
        )
    n_old = previous.get("n_contracts")
    if n_old and n_new < (1 - max_shrink) * n_old:
        raise DataError(
            f"{n_new} contracts instead of {n_old} in the previous run of {out} "
            f"(more than {max_shrink:.0%} fewer): the previous outputs are kept",
            hint="check that every input file is there; --allow-shrink accepts it on purpose",
        )


def run_clean(
    inputs: Sequence[str | Path] | None = None,
    *,
    out_dir: str | Path | None = None,
    as_of: object = None,
    source: str | None = None,
    restricted_dir: str | Path | None = None,
    new_key: bool = False,
    insecure_key: bool = False,
    allow_shrink: bool = False,
    max_shrink: float = MAX_SHRINK,
) -> CleanRun:
    """Read, clean and write; return what was done. Raises :class:`~aioa_analysis.core.errors.AioaError`.

    The previous outputs in ``out_dir`` are kept (and the run stops with a one-line error) when the
    new contract table would be empty or lose more than ``max_shrink`` of the previous run's
    contracts (``allow_shrink`` accepts it on purpose), and when the key is missing or is not the
    one of the previous run (``new_key`` starts new pseudonyms on purpose)."""
    if source is not None and source not in SOURCES:
        raise ParameterError(
            f"--source {source!r} is not a known profile", hint=f"use one of: {', '.join(SOURCES)}"
        )
    out = Path(out_dir) if out_dir is not None else config.processed_dir()
    rdir = Path(restricted_dir) if restricted_dir is not None else config.restricted_dir()
    if out.resolve() == rdir.resolve():
        raise ParameterError(f"--out {out} is the restricted folder", hint="write processed tables elsewhere")
    paths, sample_used = resolve_inputs(inputs)
    if sample_used:
        log.info(
            "!! NO REAL INPUT: cleaning the SYNTHETIC SAMPLE in %s — figures are not real !!",
            config.sample_dir(),
        )
    results = _read_inputs(paths, source)
    previous = _previous_run(out)
    # pseudonyms exist once a previous run wrote contracts: a missing key is then never recreated silently
    key = load_or_create_key(create=new_key or not previous.get("n_contracts"), insecure=insecure_key)
    _check_same_key(key, previous, new_key=new_key)
    contract_frames = [_as_raw(r.frame, i) for i, r in enumerate(results) if r.profile != EXAM_PROFILE]
    exam_frames = [_as_raw(r.frame, i) for i, r in enumerate(results) if r.profile == EXAM_PROFILE]
    if not contract_frames:
        raise InputFileError(
            f"no contract file among the inputs ({', '.join(p.name for p in paths)})",
            hint="add a DECA, Tableau de bord, SIFA or chamber file; exam results alone cannot be cleaned",
        )
    raw = add_apprentice_key(_concat(contract_frames), key=key, codes=PERSON)
    exams_raw = add_apprentice_key(_concat(exam_frames), key=key) if exam_frames else None
    exams, exam_rows = clean_exam_results(exams_raw) if exams_raw is not None else (None, None)
    res = clean_contracts(raw, exams=exams)
    dates = extraction_dates(paths)
    contracts = coerce_contracts(
        res.contracts.assign(**{C.observed_until: observed_until(res.contracts[C.sources], dates)})
    )
    if not contracts[C.contract_id].is_monotonic_increasing:  # clean_contracts already sorts them
        contracts = contracts.sort_values(C.contract_id, kind="stable")
    contracts = contracts.reset_index(drop=True)
    validate_contracts(contracts)
    _check_not_shrinking(len(contracts), previous, allow_shrink=allow_shrink, max_shrink=max_shrink, out=out)
    as_of_ts, as_of_how, as_of_detail = choose_as_of(as_of, paths, contracts)

    status = _row_status(res.rows, raw[_FILE], exam_rows, exams_raw)
    files = _file_entries(paths, results, status)
    rejected = _rejected_table(res.rejected, raw[_FILE], res.rows, exam_rows, exams_raw, results, paths)
    quality: dict[str, Any] = {
        "package_version": __version__,
        **_observation(as_of_ts, as_of_how, as_of_detail, dates, contracts),
        "sample_used": sample_used,
        "key_fingerprint": key_fingerprint(key),
        "files": files,
        "total": _totals(files),
        "contracts": {
            **_contract_counts(contracts, as_of_ts),
            **res.stats,
            "merge_conflicts": len(res.conflicts),
        },
        "exam_results": None if exams is None else {"n_records": len(exams)},
        "coverage": {"by_cfa": _coverage(contracts)},
    }
    # data minimisation: only people with a clean contract or exam result; staged, moved after the outputs
    wanted = [contracts[C.apprentice_key], *([exams[C.apprentice_key]] if exams is not None else [])]
    identity_rows_all = pd.concat(
        [identity_rows(raw), *([exams_raw] if exams_raw is not None else [])], ignore_index=True
    )
    staged = stage_identities(
        _identity_store(identity_rows_all, wanted, res.people if exams is None else None),
        restricted_dir=rdir,
        forbidden=[out, config.reports_dir()],
    )
    try:
        written = _write_outputs(out, contracts, exams, rejected, res.conflicts, quality)
    except BaseException:
        discard_identities(staged)
        raise
    return CleanRun(
        out_dir=out,
        quality=quality,
        n_contracts=len(contracts),
        sample_used=sample_used,
        outputs=[out / n for n in written],
        identity_path=commit_identities(staged),
    )


def _observation(
    as_of: pd.Timestamp, how: str, detail: str | None, dates: dict[str, pd.Timestamp], contracts: pd.DataFrame
) -> dict[str, Any]:
    """quality.json's observation keys: ``as_of``, how it was chosen, each file's extraction date, and
    the contracts whose every file was extracted before ``as_of`` (censored there: ``observed_until``)."""
    return {
        "as_of": f"{as_of:%Y-%m-%d}",
        "as_of_source": how,
        "as_of_detail": detail,
        "extraction_dates": {name: f"{ts:%Y-%m-%d}" for name, ts in dates.items()},
        "observed_until_before_as_of": ending_early(contracts, as_of),
    }


def _read_inputs(paths: list[Path], source: str | None) -> list[readers.ReadResult]:
    """Read every input file; refuse a file with a header and no data row."""
    results = [readers.read_file(p, source=source) for p in paths]
    for r in results:
        if r.rows_read == 0:  # never replace good outputs with an empty table
            raise InputFileError(
                f"{r.path.name}: the file has a header but no data row ({r.profile})",
                hint="export it again with its rows, or remove it from the inputs",
            )
    return results


def _row_status(
    rows: pd.DataFrame, file_of_row: pd.Series, exam_rows: pd.DataFrame | None, exams_raw: pd.DataFrame | None
) -> pd.DataFrame:
    """Every input row (contracts, then exam results): its file, status and rejection reason."""
    parts = [pd.DataFrame({_FILE: file_of_row.to_numpy(), "_status": rows["_status"], REASON: rows[REASON]})]
    if exam_rows is not None and exams_raw is not None:
        status = pd.Series("merged", index=exam_rows.index, dtype="string")
        status = status.mask(exam_rows[PRIMARY].to_numpy(), "clean").mask(
            exam_rows[REASON].notna(), "rejected"
        )
        parts.append(
            pd.DataFrame({_FILE: exams_raw[_FILE].to_numpy(), "_status": status, REASON: exam_rows[REASON]})
        )
    return pd.concat(parts, ignore_index=True)


def _file_entries(paths: list[Path], results: list[readers.ReadResult], status: pd.DataFrame) -> list[dict]:
    """quality.json ``files``: per input file, what was read and what became of each row."""
    files: list[dict[str, Any]] = []
    for i, (p, r) in enumerate(zip(paths, results, strict=True)):
        rr = r.rejected
        st = status.loc[status[_FILE] == i]
        by_reason = st.loc[st["_status"] == "rejected", REASON].value_counts()
        reader_reasons = rr["reason"].value_counts() if len(rr) else pd.Series(dtype="int64")
        all_reasons = by_reason.add(reader_reasons, fill_value=0).astype(int).sort_index()
        entry = {
            "file": p.name,
            "path": str(p),
            "profile": r.profile,
            "sha256": sha256_of(p),
            "size_bytes": p.stat().st_size,
            "lines_read": int(r.lines_read),
            "rows_read": int(r.rows_read),
            "rows_clean": int((st["_status"] == "clean").sum()),
            "rows_merged": int((st["_status"] == "merged").sum()),
            "rows_rejected": int((st["_status"] == "rejected").sum()) + len(rr),
            "rejections_by_reason": {str(k): int(v) for k, v in all_reasons.items()},
            "details": r.details,
        }
        entry["accounting_ok"] = _balanced(entry)
        if not entry["accounting_ok"]:
            log.error("accounting mismatch for %s: %s", p.name, entry)
        files.append(entry)
    return files


def _balanced(counts: dict[str, Any]) -> bool:
    return bool(counts["rows_read"] == counts["rows_clean"] + counts["rows_merged"] + counts["rows_rejected"])


def _totals(files: list[dict[str, Any]]) -> dict[str, Any]:
    """quality.json ``total``: the per-file counts summed, rejections by reason merged."""
    total_keys = ("lines_read", "rows_read", "rows_clean", "rows_merged", "rows_rejected")
    total: dict[str, Any] = {k: sum(f[k] for f in files) for k in total_keys}
    reasons: dict[str, int] = {}
    for f in files:
        for k, v in f["rejections_by_reason"].items():
            reasons[k] = reasons.get(k, 0) + v
    total["rejections_by_reason"] = dict(sorted(reasons.items()))
    total["accounting_ok"] = _balanced(total)
    return total


def _rejected_table(
    rejected: pd.DataFrame,
    file_of_row: pd.Series,
    rows: pd.DataFrame,
    exam_rows: pd.DataFrame | None,
    exams_raw: pd.DataFrame | None,
    results: list[readers.ReadResult],
    paths: list[Path],
) -> pd.DataFrame:
    """rejected.csv: the rows the cleaning rejected, the exam rows, the rows the readers rejected;
    in file order, then by row and reason; personal values blanked."""
    parts = [rejected.assign(**{_FILE: file_of_row[rows[REASON].notna().to_numpy()].to_numpy()})]
    if exam_rows is not None and exams_raw is not None:
        er = exam_rows.loc[exam_rows[REASON].notna()]
        parts.append(
            pd.DataFrame(
                {
                    "source_file": er[C.source_file].astype("string"),
                    "source_row": pd.to_numeric(er[C.source_row], errors="coerce").astype("Int64"),
                    "column": er[REASON_COLUMN].astype("string"),
                    "reason": er[REASON].astype("string"),
                    "value": pd.Series("", index=er.index, dtype="string"),
                    _FILE: exams_raw.loc[er.index, _FILE].to_numpy(),
                }
            )
        )
    for i, (p, r) in enumerate(zip(paths, results, strict=True)):
        rr = r.rejected
        if len(rr):
            parts.append(
                pd.DataFrame(
                    {
                        "source_file": rr["source_file"].astype("string").fillna(p.name),
                        "source_row": pd.to_numeric(rr["source_row"], errors="coerce").astype("Int64"),
                        "column": rr["column"].astype("string").fillna(""),
                        "reason": rr["reason"].astype("string"),
                        "value": rr["value"].astype("string"),
                        _FILE: i,
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(value=_safe_value(out["column"], out["value"]))
    return out.sort_values([_FILE, "source_row", "reason"], kind="stable")[list(REJECTED_COLUMNS)]


def _contract_counts(contracts: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, Any]:
    """quality.json ``contracts``: how many, how many ruptures, what lies after ``as_of``, by source."""
    rupt = contracts[C.rupture_date]
    return {
        "n_contracts": len(contracts),
        "n_ruptures": int((rupt.notna() & (rupt < contracts[C.planned_end_date])).sum()),
        "ruptures_after_as_of": int((rupt > as_of).sum()),
        "starts_after_as_of": int((contracts[C.start_date] > as_of).sum()),
        "by_source": {str(k): int(v) for k, v in contracts[C.source].value_counts().sort_index().items()},
    }


def _coverage(contracts: pd.DataFrame) -> list[dict[str, Any]]:
    """quality.json ``coverage.by_cfa``: contracts per CFA and source."""
    if not len(contracts):
        return []
    coverage = contracts.assign(_n=1).pivot_table(
        index=C.cfa_uai, columns=C.source, values="_n", aggfunc="sum", fill_value=0, dropna=False
    )
    names = contracts.drop_duplicates(C.cfa_uai).set_index(C.cfa_uai)[C.cfa_name]
    sources = [str(k) for k in coverage.columns]
    return [
        {
            "cfa_uai": None if pd.isna(uai) else str(uai),  # type: ignore[call-overload]
            "cfa_name": None if pd.isna(names.get(uai, pd.NA)) else str(names.get(uai)),
            "n_contracts": int(row.sum()),
            "by_source": {k: int(v) for k, v in zip(sources, row, strict=True) if v},
        }
        for uai, row in zip(coverage.index, coverage.to_numpy(dtype=np.int64), strict=True)
    ]


def _write_outputs(
    out: Path,
    contracts: pd.DataFrame,
    exams: pd.DataFrame | None,
    rejected: pd.DataFrame,
    conflicts: pd.DataFrame,
    quality: dict[str, Any],
) -> list[str]:
    """Write every output into ``out`` as one set published by one rename (a reader never sees files
    of two runs side by side; a failed run leaves the previous set); return their names."""
    written = [CONTRACTS_FILE, REJECTED_FILE, CONFLICTS_FILE, QUALITY_FILE]
    with output_set(out, wait=LOCK_WAIT_S) as stage:
        write_parquet(contracts, stage / CONTRACTS_FILE)
        if exams is not None:
            write_parquet(_coerce_exams(exams), stage / EXAMS_FILE)
            written.append(EXAMS_FILE)
        write_csv(rejected, stage / REJECTED_FILE)
        write_csv(conflicts.reindex(columns=list(CONFLICT_COLUMNS)), stage / CONFLICTS_FILE)
        (stage / QUALITY_FILE).write_text(
            json.dumps(quality, ensure_ascii=False, indent=2, sort_keys=False, default=_json_default) + "\n",
            encoding="utf-8",
        )
    if exams is None and (out / EXAMS_FILE).is_file() and not (out / EXAMS_FILE).is_symlink():
        (out / EXAMS_FILE).unlink()  # a plain file of an earlier version would not match these contracts
    return written


def _identity_store(
    rows: pd.DataFrame, wanted: list[pd.Series], people: np.ndarray | None = None
) -> pd.DataFrame:
    """The identity store of the people in ``wanted`` only, built from their rows. ``people``: the
    ``_person`` codes of ``wanted`` when its keys are all in ``rows`` and ``rows`` carry their codes
    (then the keys are not hashed again)."""
    if people is not None and PERSON in rows.columns and is_integer_dtype(rows[PERSON].dtype):
        codes = rows[PERSON].to_numpy()
        chosen = np.zeros(int(codes.max(initial=-1)) + 2, dtype=bool)  # the last slot: code -1
        chosen[people[people >= 0]] = True
        return build_identities(rows, keep=chosen[codes])
    keys = pa.array(pd.concat(wanted, ignore_index=True).dropna().astype("string").array)
    # Arrow's own is_in: pandas' isin between two pyarrow string columns is ten times slower, and
    # through object arrays three times (1 M rows: 0.73 -> 0.26 s)
    kept = pc.is_in(pa.array(rows[C.apprentice_key].astype("string").array), value_set=keys)
    kept = kept.to_numpy(zero_copy_only=False)
    return build_identities(rows, keep=kept)  # the rows left out are not copied out


def _coerce_exams(exams: pd.DataFrame) -> pd.DataFrame:
    cols = {name: exams[name].astype(dtype) for name, dtype in EXAM_DTYPES.items()}  # type: ignore[call-overload]
    return pd.DataFrame(cols).sort_values([C.apprentice_key, C.diploma_code, C.exam_session], kind="stable")


def summary_lines(run: CleanRun) -> list[str]:
    """A one-screen French summary of a run (what the command prints)."""
    q = run.quality
    t = q["total"]
    c = q["contracts"]
    lines = [
        f"aioa clean : {c['n_contracts']} contrats ({c['n_ruptures']} ruptures) écrits dans {run.out_dir}",
        f"  observation (as_of) : {q['as_of']} ({q['as_of_source']}{': ' + q['as_of_detail'] if q['as_of_detail'] else ''})",
        f"  lignes lues {t['rows_read']} = retenues {t['rows_clean']} + fusionnées {t['rows_merged']}"
        f" + rejetées {t['rows_rejected']}",
    ]
    for f in q["files"]:
        lines.append(
            f"  - {f['file']} [{f['profile']}] : lues {f['rows_read']}, retenues {f['rows_clean']},"
            f" fusionnées {f['rows_merged']}, rejetées {f['rows_rejected']}"
        )
    for reason, n in t["rejections_by_reason"].items():
        lines.append(f"    rejet « {reason} » : {n}")
    lines.append(
        f"  doublons exacts {c['exact_duplicates']}, avenants repliés {c['amendment_rows']},"
        f" contrats avec conflits {c['contracts_with_conflicts']}, fins prévues imputées {c['planned_end_imputed']}"
    )
    if q["sample_used"]:
        lines.append("  ATTENTION : données SYNTHÉTIQUES (échantillon), pas de vraies données")
    return lines


__all__ = [
    "CONTRACT_DTYPES",
    "CleanRun",
    "as_of_from_names",
    "choose_as_of",
    "resolve_inputs",
    "run_clean",
    "summary_lines",
]
