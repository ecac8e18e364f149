"""The loop back: read the workbooks the structures return, keep the outcomes with their history.

``aioa followup --import FILE [FILE ...]``:

1. :func:`read_returned` reads the adviser columns of every sheet holding the hidden key column
   ("Clé de suivi"), with the structure and month of the workbook (its keywords property, else its
   file name ``suivi_<structure>_<YYYY-MM>.xlsx``);
2. :func:`validate_rows` checks each filled row (known key, contact date present, a date, not in the
   future nor before the rupture, outcome and situations from the shipped lists, comment length):
   a row is imported whole or rejected with file, sheet, row and reason;
3. :func:`merge_history` adds the new rows to the restricted history (structure, file, its SHA-256,
   import date kept with every value). Importing the same file twice changes nothing;
4. :func:`current_outcomes` gives one row per key: for each field the value of the latest contact
   date wins (then the latest import); two different outcomes on the same latest date are listed as
   conflicts;
5. :func:`outcome_table` is the pseudonymised table the report reads (``followup_outcomes.parquet``
   in the processed folder): keys, structure, dates and codes only, never a name nor a comment.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pandas as pd

from aioa_analysis.core.errors import InputFileError
from aioa_analysis.core.schema import C
from aioa_analysis.followup import people
from aioa_analysis.followup.lists import ADVISER, FOLLOWUP_ID, KEY_FIELD, adviser_headers

HISTORY_FILE: Final = "outcomes_history.parquet"
OUTCOME_TABLE: Final = "followup_outcomes.parquet"
MAX_COMMENT: Final = 300
VALUE_FIELDS: Final = ("contact_date", "outcome", "situation_3m", "situation_6m", "comment")
HISTORY_COLUMNS: Final = (
    FOLLOWUP_ID,
    "structure",
    "list_month",
    *VALUE_FIELDS,
    "source_file",
    "file_sha256",
    "sheet",
    "row",
    "imported_at",
)
REJECTED_COLUMNS: Final = ("file", "sheet", "row", "reason")
_NAME = re.compile(r"suivi_([a-z0-9_]+)_(\d{4}-\d{2})")


def _decrypt(data: bytes, password: str | None, path: Path) -> bytes:
    import msoffcrypto

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        if not office.is_encrypted():
            return data
    except Exception:  # not an OLE container: a plain xlsx
        return data
    if not password:
        raise InputFileError(f"{path} is encrypted", hint="give the password with --password-file FILE")
    out = io.BytesIO()
    try:
        office.load_key(password=password)
        office.decrypt(out)
    except Exception as exc:
        raise InputFileError(f"{path} cannot be decrypted with the given password") from exc
    return out.getvalue()


def read_returned(path: Path, *, password: str | None = None) -> tuple[pd.DataFrame, str, str]:
    """Rows of a returned workbook (adviser fields as written, ``sheet``, ``row``), its structure and month."""
    from openpyxl import load_workbook

    path = Path(path)
    try:
        data = _decrypt(path.read_bytes(), password, path)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path} is not a readable workbook ({type(exc).__name__})") from exc
    headers = adviser_headers()
    wanted = {headers[f]: f for f in (KEY_FIELD, *ADVISER)}
    try:
        keywords = str(wb.properties.keywords or "").split(";")
        frames = []
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
            cols = {wanted[h]: j for j, h in enumerate(header) if h in wanted}
            if KEY_FIELD not in cols:
                continue
            records = [
                {"sheet": ws.title, "row": i, **{f: (r[j] if j < len(r) else None) for f, j in cols.items()}}
                for i, r in enumerate(rows, start=2)
            ]
            frames.append(pd.DataFrame(records, columns=["sheet", "row", KEY_FIELD, *ADVISER]))
    finally:
        wb.close()
    if not frames:
        raise InputFileError(
            f"{path} holds no sheet with the column {headers[KEY_FIELD]!r}",
            hint="send back the workbook produced by aioa followup, without removing its hidden column",
        )
    m = _NAME.search(path.name)
    if len(keywords) == 3 and keywords[0] == "aioa-suivi":
        structure, month = keywords[1], keywords[2]
    else:
        structure, month = (m.group(1), m.group(2)) if m else ("inconnue", "")
    return pd.concat(frames, ignore_index=True), structure, month


def _missing(v: object) -> bool:
    """None, NaN, NaT or NA (a frame turns the empty cells of a date column into NaT)."""
    try:
        return v is None or bool(pd.isna(v))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _text(v: object) -> str | None:
    if _missing(v):
        return None
    s = str(v).strip()
    return s or None


def _date(v: object) -> pd.Timestamp | str | None:
    """A date cell as a Timestamp, None when empty, or ``"bad"``."""
    if _missing(v):
        return None
    if isinstance(v, dt.datetime | dt.date):
        return pd.Timestamp(v).normalize()
    s = _text(v)
    if s is None:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d-%m-%Y"):
        try:
            return pd.Timestamp(dt.datetime.strptime(s, fmt))
        except ValueError:
            continue
    return "bad"


def _code(value: str | None, table: pd.DataFrame) -> str | bool | None:
    """The code of a label (or code), case-insensitive; None when empty; False when unknown."""
    if value is None:
        return None
    key = " ".join(value.split()).casefold()
    by = {
        **{c.casefold(): c for c in table["code"]},
        **dict(zip(table["label"].str.casefold(), table["code"], strict=True)),
    }
    return by.get(key, False)


def validate_rows(
    rows: pd.DataFrame, ruptures: pd.DataFrame, *, file: str, today: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the filled rows of a returned workbook into valid rows (codes, dates) and rejections.

    ``ruptures`` maps each known ``followup_id`` to its ``rupture_date``. Rows whose adviser fields
    are all empty are ignored (not rejected).
    """
    outs, sits = people.outcomes(), people.situations()
    known = dict(zip(ruptures[FOLLOWUP_ID], ruptures[C.rupture_date], strict=True))
    valid, rejected = [], []
    for rec in rows.to_dict("records"):
        key = _text(rec.get(KEY_FIELD))
        values = {f: _text(rec.get(f)) if f != "contact_date" else rec.get(f) for f in ADVISER}
        if all(_text(v) is None for v in values.values()):
            continue
        date = _date(values["contact_date"])
        outcome = _code(values["outcome"], outs)
        s3, s6 = _code(values["situation_3m"], sits), _code(values["situation_6m"], sits)
        reason = None
        if key is None:
            reason = "clé de suivi absente"
        elif key not in known:
            reason = f"clé de suivi inconnue : {key[:20]}"
        elif date is None:
            reason = "date de contact manquante"
        elif isinstance(date, str):
            reason = f"date de contact illisible : {str(values['contact_date'])[:20]}"
        elif date > today:
            reason = f"date de contact dans le futur : {date.date()}"
        elif pd.notna(known[key]) and date < known[key]:
            reason = f"date de contact antérieure à la rupture ({pd.Timestamp(known[key]).date()})"
        elif outcome is False:
            reason = f"résultat du contact inconnu : {str(values['outcome'])[:40]}"
        elif s3 is False or s6 is False:
            reason = (
                "situation inconnue : " + str(values["situation_3m" if s3 is False else "situation_6m"])[:40]
            )
        elif values["comment"] is not None and len(values["comment"]) > MAX_COMMENT:
            reason = f"commentaire de plus de {MAX_COMMENT} caractères"
        if reason:
            rejected.append({"file": file, "sheet": rec["sheet"], "row": rec["row"], "reason": reason})
            continue
        valid.append(
            {
                FOLLOWUP_ID: key,
                "contact_date": date,
                "outcome": outcome,
                "situation_3m": s3,
                "situation_6m": s6,
                "comment": values["comment"],
                "sheet": rec["sheet"],
                "row": rec["row"],
            }
        )
    cols = [FOLLOWUP_ID, *VALUE_FIELDS, "sheet", "row"]
    return (
        _typed(pd.DataFrame(valid, columns=cols)),
        pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS)),
    )


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if c == "contact_date" or c == "imported_at":
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        elif c == "row":
            out[c] = out[c].astype("Int64")
        else:
            out[c] = out[c].astype("string")
    return out


def empty_history() -> pd.DataFrame:
    """An empty history table with its columns and types."""
    return _typed(pd.DataFrame(columns=list(HISTORY_COLUMNS)))


def merge_history(history: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``history`` plus the rows of ``new`` it does not hold yet (same key, structure and values).

    >>> h = empty_history()
    >>> row = _typed(pd.DataFrame([{"followup_id": "S1", "structure": "ml_blois", "list_month": "2025-09",
    ...     "contact_date": "2025-10-02", "outcome": "injoignable", "source_file": "a.xlsx",
    ...     "imported_at": "2025-10-05"}])).reindex(columns=list(HISTORY_COLUMNS))
    >>> once = merge_history(h, row)
    >>> twice = merge_history(once, row.assign(source_file="b.xlsx"))
    >>> len(once), len(twice)
    (1, 1)
    """
    same = [FOLLOWUP_ID, "structure", *VALUE_FIELDS]
    both = pd.concat([_typed(history), _typed(new.reindex(columns=list(HISTORY_COLUMNS)))], ignore_index=True)
    return both.drop_duplicates(subset=same, keep="first").reset_index(drop=True)


def current_outcomes(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per key (latest contact date wins, field by field), and the conflicts.

    Returns ``(current, conflicts)``; ``current`` has ``followup_id``, ``structure``, the codes,
    ``contact_date`` (the latest), ``comment`` and ``treated`` / ``contacted`` (from the outcome).
    A conflict is a key with two different outcomes on its latest contact date.
    """
    h = _typed(history).sort_values(["contact_date", "imported_at"], kind="stable")
    conflict_cols = [FOLLOWUP_ID, "structure", "contact_date", "outcome", "source_file", "sheet", "row"]
    if h.empty:
        empty = h.reindex(columns=[FOLLOWUP_ID, "structure", *VALUE_FIELDS])
        return empty.assign(treated=pd.Series(dtype=bool), contacted=pd.Series(dtype=bool)), h[conflict_cols]
    grouped = h.groupby(FOLLOWUP_ID, sort=True)
    current = grouped[[c for c in ("structure", *VALUE_FIELDS) if c != "contact_date"]].last()
    current["contact_date"] = grouped["contact_date"].max()
    latest = h.loc[h["contact_date"] == h[FOLLOWUP_ID].map(current["contact_date"])]
    n = latest.dropna(subset=["outcome"]).groupby(FOLLOWUP_ID)["outcome"].nunique()
    clash = n.index[n > 1]
    conflicts = latest.loc[latest[FOLLOWUP_ID].isin(clash), conflict_cols]
    outs = people.outcomes().set_index("code")
    current = current.reset_index()
    flags = {
        f: current["outcome"].map(outs[f].eq("oui")).astype("boolean").fillna(False).astype(bool)
        for f in ("treated", "contacted")
    }
    return current.assign(**flags), conflicts.reset_index(drop=True)


def with_labels(current: pd.DataFrame) -> pd.DataFrame:
    """The current outcomes with French labels in the adviser fields (for next month's workbooks)."""
    outs = dict(zip(people.outcomes()["code"], people.outcomes()["label"], strict=True))
    sits = dict(zip(people.situations()["code"], people.situations()["label"], strict=True))
    return current.assign(
        outcome=current["outcome"].map(outs).astype("string"),
        situation_3m=current["situation_3m"].map(sits).astype("string"),
        situation_6m=current["situation_6m"].map(sits).astype("string"),
    )


def outcome_table(current: pd.DataFrame, contracts: pd.DataFrame) -> pd.DataFrame:
    """The pseudonymised outcome table for the report: keys, structure, dates, codes; no name, no comment.

    Columns: ``followup_id``, ``contract_id``, ``apprentice_key``, ``structure``, ``rupture_date``,
    ``contact_date``, ``outcome``, ``contacted``, ``treated``, ``outcome_situation`` (the category
    the outcome implies), ``situation_3m``, ``situation_6m`` (categories).
    """
    sits = people.situations().set_index("code")["category"].replace("", pd.NA)
    outs = people.outcomes().set_index("code")["situation"].replace("", pd.NA)
    ruptures = contracts.loc[
        contracts[C.rupture_date].notna(), [C.contract_id, C.apprentice_key, C.rupture_date]
    ]
    ruptures = ruptures.assign(**{FOLLOWUP_ID: people.followup_ids(ruptures[C.contract_id])})
    out = current.merge(ruptures, on=FOLLOWUP_ID, how="left")
    return pd.DataFrame(
        {
            FOLLOWUP_ID: out[FOLLOWUP_ID].astype("string"),
            C.contract_id: out[C.contract_id].astype("string"),
            C.apprentice_key: out[C.apprentice_key].astype("string"),
            "structure": out["structure"].astype("string"),
            C.rupture_date: out[C.rupture_date].astype("datetime64[ns]"),
            "contact_date": out["contact_date"].astype("datetime64[ns]"),
            "outcome": out["outcome"].astype("string"),
            "contacted": out["contacted"].astype(bool),
            "treated": out["treated"].astype(bool),
            "outcome_situation": out["outcome"].map(outs).astype("string"),
            "situation_3m": out["situation_3m"].map(sits).astype("string"),
            "situation_6m": out["situation_6m"].map(sits).astype("string"),
        }
    )


def known_ruptures(contracts: pd.DataFrame) -> pd.DataFrame:
    """``followup_id`` and ``rupture_date`` of every rupture of the contract table."""
    r = contracts.loc[contracts[C.rupture_date].notna(), [C.contract_id, C.rupture_date]]
    return pd.DataFrame(
        {
            FOLLOWUP_ID: people.followup_ids(r[C.contract_id]).to_numpy(),
            C.rupture_date: r[C.rupture_date].to_numpy(),
        }
    )


def import_rows(
    paths: Sequence[Path],
    contracts: pd.DataFrame,
    *,
    today: pd.Timestamp,
    imported_at: pd.Timestamp,
    password: str | None = None,
    sha256: dict[Path, str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate every file (all files read before anything is stored): (new rows, rejections)."""
    ruptures = known_ruptures(contracts)
    new, rejected = [], []
    for path in paths:
        rows, structure, month = read_returned(path, password=password)
        ok, bad = validate_rows(rows, ruptures, file=Path(path).name, today=today)
        new.append(
            ok.assign(
                structure=structure,
                list_month=month,
                source_file=Path(path).name,
                file_sha256=sha256[path],
                imported_at=imported_at,
            )
        )
        rejected.append(bad)
    return (
        _typed(pd.concat(new, ignore_index=True).reindex(columns=list(HISTORY_COLUMNS))),
        pd.concat(rejected, ignore_index=True),
    )
