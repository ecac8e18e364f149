"""Pseudonymisation: ``apprentice_key`` = HMAC-SHA256(secret, normalised identity), as hex.

The message hashed for a person is, in order of preference:

1. ``"SURNAME|FIRSTNAME|YYYY-MM-DD"`` when surname, first name and a readable birth date are present
   (names: NFKD accents stripped, upper-cased, ``Œ``/``Æ``/``ß`` spelled out, every character other
   than A-Z and 0-9 removed, so apostrophes, hyphens and spaces never split one person in two);
2. ``"INE|<INE>"`` when the names or the birth date are missing and an INE is present;
3. ``"ID|<apprentice_id>"`` for a hand-made file that only carries an already pseudonymised
   identifier (column ``apprentice_id``), hashed with the same secret in its own namespace.

The secret lives in :func:`aioa_analysis.core.config.key_file` (``AIOA_KEY_FILE``; default
``~/.config/aioa/pseudonym.key``), outside the repository. It is created on first use (32 random
bytes, hex) with mode 0600 in a 0700 folder. Losing it means keys can no longer be linked to new
files; sharing it lets anyone holding names recompute keys, so it is never committed.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aioa_analysis.core import config
from aioa_analysis.core.errors import KeyFileError
from aioa_analysis.core.schema import C
from aioa_analysis.ingest.parsing import arrow_strings, date_codes, per_distinct, string_series

log = logging.getLogger(__name__)

APPRENTICE_ID: Final = C.apprentice_id
"""Raw canonical column of a pre-pseudonymised identifier (hand-made files; see the BRIEF)."""

_MIN_KEY_CHARS = 32


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of the key (recorded in ``quality.json``), which tells whether two
    runs used the same key without revealing it.

    >>> key_fingerprint(b"0" * 64) == key_fingerprint(b"0" * 64), len(key_fingerprint(b"0" * 64))
    (True, 16)
    """
    return hmac.new(key, b"aioa key fingerprint", "sha256").hexdigest()[:16]


def _create_key(path: Path) -> None:
    """Write a new key atomically: a complete 0600 file appears under ``path``, or nothing (a full
    disk leaves no empty key behind)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)  # fails if another run created it meanwhile: that key is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise KeyFileError(
            f"cannot create the pseudonymisation key {path}: {exc.strerror or exc}",
            hint="set AIOA_KEY_FILE to a writable location outside the repository",
        ) from exc
    log.warning("created a NEW pseudonymisation key %s (keep it safe and backed up, never commit it)", path)


def load_or_create_key(path: Path | None = None, *, create: bool = True, insecure: bool = False) -> bytes:
    """Return the secret key, creating it (mode 0600, folder 0700) when it does not exist and ``create``.

    Raises :class:`~aioa_analysis.core.errors.KeyFileError` (exit code 5) when the key is missing and
    must not be created (pseudonyms already exist: a new key would change every one of them), when
    it is unreadable or too short, or when group or others may read it (unless ``insecure``).

    >>> import tempfile, pathlib, stat
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "k.key"
    >>> k = load_or_create_key(p)
    >>> len(k), oct(stat.S_IMODE(p.stat().st_mode)), load_or_create_key(p) == k
    (64, '0o600', True)
    >>> os.chmod(p, 0o644); load_or_create_key(p)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.KeyFileError: pseudonymisation key ... is readable by others (mode 644) — \
chmod 600 the file (or pass --insecure-key on purpose)
    """
    path = Path(path) if path is not None else config.key_file()
    if not path.exists():
        if not create:
            raise KeyFileError(
                f"pseudonymisation key {path} is missing, but pseudonyms made with a key already exist",
                hint="restore the key from its backup (or set AIOA_KEY_FILE); --new-key starts new pseudonyms on purpose",
            )
        _create_key(path)
    try:
        text = path.read_text(encoding="ascii", errors="strict").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(
            f"pseudonymisation key {path} cannot be read",
            hint="check its permissions, or point AIOA_KEY_FILE to the right file",
        ) from exc
    if len(text) < _MIN_KEY_CHARS:
        raise KeyFileError(
            f"pseudonymisation key {path} is too short ({len(text)} characters, at least {_MIN_KEY_CHARS})",
            hint="restore the original key file (a new key would change every apprentice_key)",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and not insecure:
        raise KeyFileError(
            f"pseudonymisation key {path if path.is_absolute() else path.name} is readable by others (mode {mode:o})",
            hint="chmod 600 the file (or pass --insecure-key on purpose)",
        )
    return text.encode("ascii")


def _is_name_like(arr: pa.Array) -> pa.Array:
    """``^[A-Z0-9]+$``: already what :func:`normalise_name` produces."""
    return pc.and_(pc.ascii_is_alnum(arr), pc.equal(pc.ascii_upper(arr), arr))


@per_distinct(canonical=_is_name_like)
def normalise_name(s: pd.Series) -> pd.Series:
    """Names for hashing: accents stripped, upper-cased, only A-Z/0-9 kept; empty -> NA.

    >>> normalise_name(pd.Series(["  Hélène-Marie ", "HELENE MARIE", "d'Œuvre", "", None], dtype="string")).tolist()
    ['HELENEMARIE', 'HELENEMARIE', 'DOEUVRE', <NA>, <NA>]
    """
    t = (
        s.astype("string")
        .str.replace("œ", "oe")
        .str.replace("Œ", "OE")
        .str.replace("æ", "ae")
        .str.replace("Æ", "AE")
        .str.replace("ß", "ss")
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.upper()
        .str.replace(r"[^A-Z0-9]", "", regex=True)
    )
    return t.mask(t == "")


def _birth_text(s: pd.Series) -> pd.Series:
    """Readable birth dates as ``YYYY-MM-DD`` (NA otherwise), formatted once per distinct raw value."""
    codes, parsed = date_codes(s.astype("string"))
    text = parsed["value"].dt.strftime("%Y-%m-%d").astype("string")
    return pd.Series(text.array.take(codes, allow_fill=True), index=s.index, dtype="string")


def identity_messages(df: pd.DataFrame) -> pd.Series:
    """The normalised message hashed for each row (see the module docstring); NA when nothing usable.

    >>> df = pd.DataFrame({"surname": ["Dupont", None, None], "first_name": ["Léa", None, None],
    ...                    "birth_date": ["02/03/2007", None, None], "ine": [None, "123456789ab", None],
    ...                    "apprentice_id": [None, None, "X-17"]}, dtype="string")
    >>> identity_messages(df).tolist()
    ['DUPONT|LEA|2007-03-02', 'INE|123456789AB', 'ID|X-17']
    """
    na = pd.Series(pd.NA, index=df.index, dtype="string")

    def col(name: str) -> pd.Series:
        return df[name].astype("string") if name in df.columns else na

    # one Arrow join (missing when a part is), not four concatenations of a million strings each
    parts = [
        normalise_name(col(C.surname)),
        normalise_name(col(C.first_name)),
        _birth_text(col(C.birth_date)),
    ]
    joined = pc.binary_join_element_wise(
        *(arrow_strings(p) for p in parts), pa.scalar("|", pa.large_string())
    )
    by_name = string_series(joined, df.index)
    ine = col(C.ine).str.replace(r"\s", "", regex=True).str.upper()
    pid = col(APPRENTICE_ID).str.strip()
    return by_name.fillna("INE|" + ine.mask(ine == "")).fillna("ID|" + pid.mask(pid == "")).astype("string")


def hmac_hex(messages: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each message as 64 hex characters (computed once per distinct message).

    >>> hmac_hex(pd.Series(["A|B|2000-01-01", None], dtype="string"), b"k" * 32).str.len().tolist()
    [64, <NA>]
    """
    return _hmac_hex_codes(messages, key)[0]


def _hmac_hex_codes(messages: pd.Series, key: bytes) -> tuple[pd.Series, np.ndarray]:
    """:func:`hmac_hex`, and each row's person as an integer (the distinct messages in order of
    first appearance, -1 for none): the factorisation of the keys, made here once."""
    codes, uniques = pd.factorize(messages.astype("string"), use_na_sentinel=True)
    digests = pa.array(_hmac_hex_list(uniques.to_numpy(dtype=object), key), pa.large_string())
    values = pd.arrays.ArrowStringArray(digests)  # type: ignore[attr-defined]
    return pd.Series(values.take(codes, allow_fill=True), index=messages.index, dtype="string"), codes


def _hmac_hex_list(messages: np.ndarray, key: bytes) -> list[str]:
    """The HMAC-SHA256 of each message (str) as 64 lowercase hex characters (the standard library's
    ``hmac``; the keyed state is set up once and copied for each message).

    >>> _hmac_hex_list(np.array(["m"], dtype=object), b"k") == [hmac.new(b"k", b"m", "sha256").hexdigest()]
    True
    """
    keyed = hmac.new(key, digestmod="sha256")
    out = []
    for m in messages:
        h = keyed.copy()
        h.update(m.encode("utf-8"))
        out.append(h.hexdigest())
    return out


def apprentice_keys(df: pd.DataFrame, key: bytes) -> pd.Series:
    """``apprentice_key`` for every row of a raw frame (NA when no identity at all)."""
    return hmac_hex(identity_messages(df), key).rename(C.apprentice_key)


def add_apprentice_key(df: pd.DataFrame, *, key: bytes, codes: str | None = None) -> pd.DataFrame:
    """Return ``df`` with an ``apprentice_key`` column computed from its identity columns, and with
    ``codes`` a column of that name: each row's person as an integer, -1 without a key (the keys
    factorised in order of first appearance, for free here: grouping need not hash them again).

    >>> df = pd.DataFrame({"surname": ["Éloïse"], "first_name": ["Anne"], "birth_date": ["2006-05-04"]},
    ...                   dtype="string")
    >>> a = add_apprentice_key(df, key=b"0" * 32)
    >>> b = add_apprentice_key(df.assign(surname="  ELOISE "), key=b"0" * 32)
    >>> a["apprentice_key"].equals(b["apprentice_key"])
    True
    """
    keys, person = _hmac_hex_codes(identity_messages(df), key)
    return df.assign(**{C.apprentice_key: keys, **({codes: person} if codes else {})})
