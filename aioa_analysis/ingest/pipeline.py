"""The cleaning pipeline: discover and read the inputs, clean, write every output atomically.

:func:`run_clean` is what ``aioa clean`` runs. Outputs (in ``out_dir``, default
``config.processed_dir()``), all replaced together or not at all (:class:`~aioa_analysis.core.atomic.AtomicDir`):

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

import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aioa_analysis import __version__
from aioa_analysis.core import config
from aioa_analysis.core.atomic import AtomicDir, sha256_of
from aioa_analysis.core.dates import parse_as_of
from aioa_analysis.core.errors import InputFileError, ParameterError
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
from aioa_analysis.ingest.cleaning import (
    PRIMARY,
    REASON,
    REASON_COLUMN,
    clean_exam_results,
    finish_contracts,
    identity_rows,
    parse_contract_values,
    resolve_contracts,
    with_parsed_key,
)
from aioa_analysis.ingest.identity import (
    StagedIdentities,
    build_identities,
    commit_identities,
    discard_identities,
    stage_identities,
)
from aioa_analysis.ingest.pseudonym import add_apprentice_key, apprentice_keys, keys_in, load_or_create_key

log = logging.getLogger(__name__)

CONTRACTS_FILE = "contracts.parquet"
EXAMS_FILE = "exam_results.parquet"
REJECTED_FILE = "rejected.csv"
CONFLICTS_FILE = "conflicts.csv"
QUALITY_FILE = "quality.json"
CONFLICT_COLUMNS = ("contract_id", "column", "source", "source_file", "value")

EXAM_PROFILE = "exam_results"
_FILE = "_file"  # index of the input file a row came from (file names may repeat across folders)

_TS_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])([0-3]\d)(?:[0-2]\d[0-5]\d)?(?!\d)")
_ISO_IN_NAME = re.compile(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])-([0-3]\d)(?!\d)")


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
    from aioa_analysis.ingest import readers

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
    """The latest extraction date found in file names (``..._202511300600.csv``, ``..._2025-11-30.xlsx``).

    >>> as_of_from_names([Path("Export_Init_TBA_202511300600.csv"), Path("x.csv")])
    (Timestamp('2025-11-30 00:00:00'), 'Export_Init_TBA_202511300600.csv')
    """
    best: tuple[pd.Timestamp, str] | None = None
    for p in paths:
        for rx in (_TS_IN_NAME, _ISO_IN_NAME):
            for m in rx.finditer(p.name):
                try:
                    ts = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    continue
                if best is None or ts > best[0]:
                    best = (ts, p.name)
    return best


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
    """Deterministic parquet (no index, fixed compression, no timestamps in metadata): zstd level 3,
    except the columns of :data:`_UNCOMPRESSED`.

    Min/max statistics are written for the dates, numbers and flags only: the readers of these files
    read whole columns, and the string statistics were a fifth of the encoding time (0.3 of 1.5 s
    for a million contracts)."""
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    names = table.column_names
    pq.write_table(
        table,
        path,
        compression={c: "none" if c in _UNCOMPRESSED else "zstd" for c in names},
        compression_level={c: 3 for c in names if c not in _UNCOMPRESSED},
        use_dictionary=True,
        write_statistics=[f.name for f in table.schema if not _is_text(f.type)],
    )


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, ``,`` separator, ``\\n`` line ends, no index."""
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


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


def run_clean(
    inputs: Sequence[str | Path] | None = None,
    *,
    out_dir: str | Path | None = None,
    as_of: object = None,
    source: str | None = None,
    restricted_dir: str | Path | None = None,
) -> CleanRun:
    """Read, clean and write; return what was done. Raises :class:`~aioa_analysis.core.errors.AioaError`."""
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
    # work beside the main thread (see _run_clean): hashing the input files (quality.json), the keyed
    # hashes, the identity store and the parquet encoding of the contracts; two threads, for two cores
    background = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    try:
        return _run_clean(paths, sample_used, out, rdir, as_of, source, background)
    finally:
        background.shutdown(wait=False, cancel_futures=True)


def _run_clean(
    paths: list[Path],
    sample_used: bool,
    out: Path,
    rdir: Path,
    as_of: object,
    source: str | None,
    background: concurrent.futures.Executor,
) -> CleanRun:
    from aioa_analysis.ingest import readers

    digests = [background.submit(sha256_of, p) for p in paths]
    results = [readers.read_file(p, source=source) for p in paths]
    for r in results:
        if r.rows_read == 0:  # a header and nothing else: never replace good outputs with an empty table
            raise InputFileError(
                f"{r.path.name}: the file has a header but no data row ({r.profile})",
                hint="export it again with its rows, or remove it from the inputs",
            )
    key = load_or_create_key()

    contract_frames, exam_frames = [], []  # type: ignore[var-annotated]
    for i, r in enumerate(results):
        (exam_frames if r.profile == EXAM_PROFILE else contract_frames).append(_as_raw(r.frame, i))
    if not contract_frames:
        raise InputFileError(
            f"no contract file among the inputs ({', '.join(p.name for p in paths)})",
            hint="add a DECA, Tableau de bord, SIFA or chamber file; exam results alone cannot be cleaned",
        )
    # the keyed hashes (Python, holding the GIL) are computed on a background thread while this one
    # parses the values (Arrow kernels, which release it)
    unkeyed = _concat(contract_frames)
    keys = background.submit(apprentice_keys, unkeyed, key)
    parsed_values = parse_contract_values(unkeyed)
    raw = unkeyed.assign(**{C.apprentice_key: keys.result()})
    parsed_values = with_parsed_key(parsed_values, unkeyed.columns, raw[C.apprentice_key])
    del unkeyed
    exams_raw = add_apprentice_key(_concat(exam_frames), key=key) if exam_frames else None
    exams, exam_rows = clean_exam_results(exams_raw) if exams_raw is not None else (None, None)
    # every person's identity, built on a background thread during the cleaning; only the people
    # kept in the end are written (see _minimised)
    all_identities = background.submit(
        _identities_of, identity_rows(raw, parsed_values[C.start_date]), exams_raw
    )
    resolved = resolve_contracts(raw, parsed=parsed_values)
    # the raw values are no longer needed (the rejected records are taken, the identity store is
    # being built from identity_rows): let them go before the merged table is built
    file_of_row = raw[_FILE].to_numpy()
    del raw, parsed_values, contract_frames, r  # r: the last file read, from the loops above
    # an empty frame, not a slice: a slice of Arrow-backed columns keeps their buffers alive
    results = [dataclasses.replace(r, frame=pd.DataFrame()) for r in results]
    res = finish_contracts(resolved, exams=exams)
    del resolved

    contracts = coerce_contracts(res.contracts)
    if not contracts[C.contract_id].is_monotonic_increasing:  # clean_contracts already sorts them
        contracts = contracts.sort_values(C.contract_id, kind="stable")
    contracts = contracts.reset_index(drop=True)
    validate_contracts(contracts)
    as_of_ts, as_of_how, as_of_detail = choose_as_of(as_of, paths, contracts)
    # data minimisation: the identity store keeps only people who have a clean contract or an exam
    # result; it is selected and written beside its place by a background thread during the
    # accounting below, then moved into place right after the contract table
    identity_staged = background.submit(
        _stage_identity_store,
        all_identities,
        [contracts[C.apprentice_key], *([exams[C.apprentice_key]] if exams is not None else [])],
        rdir,
        [out, config.reports_dir()],
    )
    with _discarded_on_error(identity_staged):
        with AtomicDir(out) as stage:
            # the final table is written by the other background thread meanwhile, straight into the
            # staging folder (never held whole in memory: 5 M contracts make a 0.5 GB file)
            contracts_written = background.submit(write_parquet, contracts, stage / CONTRACTS_FILE)
            try:
                # ---- per-file accounting --------------------------------------------------------------
                rows = res.rows.assign(**{_FILE: file_of_row})
                status_parts = [rows[[_FILE, "_status", REASON]]]
                if exam_rows is not None:
                    est = pd.Series("merged", index=exam_rows.index, dtype="string")
                    est = est.mask(exam_rows[PRIMARY].to_numpy(), "clean").mask(
                        exam_rows[REASON].notna(), "rejected"
                    )
                    status_parts.append(
                        pd.DataFrame(
                            {
                                _FILE: exams_raw[_FILE].to_numpy(),  # type: ignore[index]
                                "_status": est,
                                REASON: exam_rows[REASON],
                            }
                        )
                    )
                status = pd.concat(status_parts, ignore_index=True)

                rejected_parts = [
                    res.rejected.assign(**{_FILE: rows.loc[rows[REASON].notna(), _FILE].to_numpy()})
                ]
                if exam_rows is not None:
                    er = exam_rows.loc[exam_rows[REASON].notna()]
                    rejected_parts.append(
                        pd.DataFrame(
                            {
                                "source_file": er[C.source_file].astype("string"),
                                "source_row": pd.to_numeric(er[C.source_row], errors="coerce").astype(
                                    "Int64"
                                ),
                                "column": er[REASON_COLUMN].astype("string"),
                                "reason": er[REASON].astype("string"),
                                "value": pd.Series("", index=er.index, dtype="string"),
                                _FILE: exams_raw.loc[er.index, _FILE].to_numpy(),  # type: ignore[union-attr]
                            }
                        )
                    )
                files: list[dict[str, Any]] = []
                for i, (p, r) in enumerate(zip(paths, results, strict=True)):
                    rr = r.rejected
                    if len(rr):
                        rejected_parts.append(
                            pd.DataFrame(
                                {
                                    "source_file": rr["source_file"].astype("string").fillna(p.name),
                                    "source_row": pd.to_numeric(rr["source_row"], errors="coerce").astype(
                                        "Int64"
                                    ),
                                    "column": rr["column"].astype("string").fillna(""),
                                    "reason": rr["reason"].astype("string"),
                                    "value": rr["value"].astype("string"),
                                    _FILE: i,
                                }
                            )
                        )
                    st = status.loc[status[_FILE] == i]
                    by_reason = st.loc[st["_status"] == "rejected", REASON].value_counts()
                    reader_reasons = rr["reason"].value_counts() if len(rr) else pd.Series(dtype="int64")
                    all_reasons = by_reason.add(reader_reasons, fill_value=0).astype(int).sort_index()
                    entry = {
                        "file": p.name,
                        "path": str(p),
                        "profile": r.profile,
                        "sha256": digests[i].result(),
                        "size_bytes": p.stat().st_size,
                        "lines_read": int(r.lines_read),
                        "rows_read": int(r.rows_read),
                        "rows_clean": int((st["_status"] == "clean").sum()),
                        "rows_merged": int((st["_status"] == "merged").sum()),
                        "rows_rejected": int((st["_status"] == "rejected").sum()) + len(rr),
                        "rejections_by_reason": {str(k): int(v) for k, v in all_reasons.items()},
                        "details": r.details,
                    }
                    entry["accounting_ok"] = (
                        entry["rows_read"]
                        == entry["rows_clean"] + entry["rows_merged"] + entry["rows_rejected"]  # type: ignore[operator]
                    )
                    if not entry["accounting_ok"]:
                        log.error("accounting mismatch for %s: %s", p.name, entry)
                    files.append(entry)

                rejected = pd.concat(rejected_parts, ignore_index=True)
                rejected = rejected.assign(value=_safe_value(rejected["column"], rejected["value"]))
                rejected = rejected.sort_values([_FILE, "source_row", "reason"], kind="stable")[
                    list(REJECTED_COLUMNS)
                ]

                total_keys = ("lines_read", "rows_read", "rows_clean", "rows_merged", "rows_rejected")
                total: dict[str, Any] = {k: sum(f[k] for f in files) for k in total_keys}
                reasons: dict[str, int] = {}
                for f in files:
                    for k, v in f["rejections_by_reason"].items():
                        reasons[k] = reasons.get(k, 0) + v
                total["rejections_by_reason"] = dict(sorted(reasons.items()))
                total["accounting_ok"] = (
                    total["rows_read"] == total["rows_clean"] + total["rows_merged"] + total["rows_rejected"]
                )

                coverage = (
                    contracts.assign(_n=1).pivot_table(
                        index=C.cfa_uai,
                        columns=C.source,
                        values="_n",
                        aggfunc="sum",
                        fill_value=0,
                        dropna=False,
                    )
                    if len(contracts)
                    else pd.DataFrame()
                )
                names = (
                    contracts.drop_duplicates(C.cfa_uai).set_index(C.cfa_uai)[C.cfa_name]
                    if len(contracts)
                    else pd.Series()
                )
                counts = coverage.to_numpy(dtype=np.int64)
                coverage_sources = [str(k) for k in coverage.columns]
                by_cfa = [
                    {
                        "cfa_uai": None if pd.isna(uai) else str(uai),  # type: ignore[call-overload]
                        "cfa_name": None if pd.isna(names.get(uai, pd.NA)) else str(names.get(uai)),
                        "n_contracts": int(row.sum()),
                        "by_source": {k: int(v) for k, v in zip(coverage_sources, row, strict=True) if v},
                    }
                    for uai, row in zip(coverage.index, counts, strict=True)
                ]
                rupt = contracts[C.rupture_date]
                quality: dict[str, Any] = {
                    "package_version": __version__,
                    "as_of": f"{as_of_ts:%Y-%m-%d}",
                    "as_of_source": as_of_how,
                    "as_of_detail": as_of_detail,
                    "sample_used": sample_used,
                    "files": files,
                    "total": total,
                    "contracts": {
                        "n_contracts": len(contracts),
                        "n_ruptures": int((rupt.notna() & (rupt < contracts[C.planned_end_date])).sum()),
                        "ruptures_after_as_of": int((rupt > as_of_ts).sum()),
                        "starts_after_as_of": int((contracts[C.start_date] > as_of_ts).sum()),
                        "by_source": {
                            str(k): int(v) for k, v in contracts[C.source].value_counts().sort_index().items()
                        },
                        **res.stats,
                        "merge_conflicts": len(res.conflicts),
                    },
                    "exam_results": None if exams is None else {"n_records": len(exams)},
                    "coverage": {"by_cfa": by_cfa},
                }

                # ---- write ---------------------------------------------------------------------------
                conflicts = res.conflicts.reindex(columns=list(CONFLICT_COLUMNS))
                written = [CONTRACTS_FILE, REJECTED_FILE, CONFLICTS_FILE, QUALITY_FILE]
                if exams is not None:
                    write_parquet(_coerce_exams(exams), stage / EXAMS_FILE)
                    written.append(EXAMS_FILE)
                write_csv(rejected, stage / REJECTED_FILE)
                write_csv(conflicts, stage / CONFLICTS_FILE)
                (stage / QUALITY_FILE).write_text(
                    json.dumps(quality, ensure_ascii=False, indent=2, sort_keys=False, default=_json_default)
                    + "\n",
                    encoding="utf-8",
                )
            finally:  # the threads are done before the staging folder is committed or removed
                pending: list[concurrent.futures.Future[Any]] = [contracts_written, identity_staged]
                concurrent.futures.wait(pending)
            contracts_written.result()  # a write error surfaces here, before anything is replaced
            identity_staged.result()
        if exams is None:  # a stale file from an earlier run would not match these contracts
            with contextlib.suppress(FileNotFoundError):
                (out / EXAMS_FILE).unlink()
        ident_path = commit_identities(identity_staged.result())
    return CleanRun(
        out_dir=out,
        quality=quality,
        n_contracts=len(contracts),
        sample_used=sample_used,
        outputs=[out / n for n in written],
        identity_path=ident_path,
    )


def _identities_of(contract_rows: pd.DataFrame, exam_rows: pd.DataFrame | None) -> pd.DataFrame:
    """The identity store of everyone in the contract (and exam) rows: one row per ``apprentice_key``."""
    rows = (
        pd.concat([contract_rows, exam_rows], ignore_index=True) if exam_rows is not None else contract_rows
    )
    return build_identities(rows)


def _stage_identity_store(
    identities: concurrent.futures.Future[pd.DataFrame],
    wanted: list[pd.Series],
    restricted_dir: Path,
    forbidden: list[Path],
) -> StagedIdentities:
    """The identity store of the people in ``wanted`` (see :func:`_minimised`), staged beside its
    place; ``identities`` is the store of everyone, being built on another thread."""
    kept = _minimised(identities.result(), wanted)
    return stage_identities(kept, restricted_dir=restricted_dir, forbidden=forbidden)


@contextlib.contextmanager
def _discarded_on_error(staged: concurrent.futures.Future[StagedIdentities]) -> Iterator[None]:
    """Remove the staged identity store if the block fails before committing it."""
    try:
        yield
    except BaseException:
        concurrent.futures.wait([staged])
        if not staged.cancelled() and staged.exception() is None:
            discard_identities(staged.result())
        raise


def _minimised(identities: pd.DataFrame, wanted: list[pd.Series]) -> pd.DataFrame:
    """``identities`` of the people in ``wanted`` only (the same rows as building the store from their
    rows alone: each person's row depends on their own rows only)."""
    keep = keys_in(identities[C.apprentice_key], pd.concat(wanted, ignore_index=True))
    return identities.loc[keep].reset_index(drop=True)


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
