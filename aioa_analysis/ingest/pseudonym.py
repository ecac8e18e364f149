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
from aioa_analysis.core.errors import ConfigError
from aioa_analysis.core.schema import C
from aioa_analysis.ingest import hmac_batch
from aioa_analysis.ingest.parsing import (
    arrow_strings,
    bool_numpy,
    date_codes,
    first_occurrence,
    fixed_width_bytes,
    per_distinct,
    string_series,
)

log = logging.getLogger(__name__)

APPRENTICE_ID: Final = C.apprentice_id
"""Raw canonical column of a pre-pseudonymised identifier (hand-made files; see the BRIEF)."""

_MIN_KEY_CHARS = 32


def load_or_create_key(path: Path | None = None) -> bytes:
    """Return the secret key, creating it (mode 0600, folder 0700) when it does not exist yet.

    Raises :class:`~aioa_analysis.core.errors.ConfigError` when the file exists but is unreadable or too
    short. A warning is logged when the file is readable by group or others.

    >>> import tempfile, pathlib, stat
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "k.key"
    >>> k = load_or_create_key(p)
    >>> len(k), oct(stat.S_IMODE(p.stat().st_mode)), load_or_create_key(p) == k
    (64, '0o600', True)
    """
    path = Path(path) if path is not None else config.key_file()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created concurrently: read it below
        except OSError as exc:
            raise ConfigError(
                f"cannot create the pseudonymisation key {path}: {exc.strerror}",
                hint="set AIOA_KEY_FILE to a writable location outside the repository",
            ) from exc
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            log.info("created pseudonymisation key %s (keep it safe, never commit it)", path)
    try:
        text = path.read_text(encoding="ascii", errors="strict").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"pseudonymisation key {path} cannot be read",
            hint="check its permissions, or point AIOA_KEY_FILE to the right file",
        ) from exc
    if len(text) < _MIN_KEY_CHARS:
        raise ConfigError(
            f"pseudonymisation key {path} is too short ({len(text)} characters, at least {_MIN_KEY_CHARS})",
            hint="restore the original key file (a new key would change every apprentice_key)",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("pseudonymisation key %s is readable by others (mode %o): chmod 600 it", path, mode)
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


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``pd.factorize(s, use_na_sentinel=True)`` of a string Series, straight through Arrow's hashing.

    >>> codes, uniques = _factorize(pd.Series(["b", None, "a", "b"], dtype="string"))
    >>> codes.tolist(), uniques.tolist()
    ([0, -1, 1, 0], ['b', 'a'])
    """
    encoded = pc.dictionary_encode(arrow_strings(s))
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, string_series(encoded.dictionary, pd.RangeIndex(len(encoded.dictionary)))


def _codes_of(raw_codes: np.ndarray, values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Row codes of normalised values: ``values`` holds one normalised value per raw distinct value.

    Raw values that normalise alike share a code; -1 when the raw value is missing or normalises to NA.
    """
    codes, uniques = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    return np.append(codes, -1)[raw_codes], pd.Series(uniques, dtype="string")


def _name_codes(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    raw_codes, uniques = _factorize(s)
    return _codes_of(raw_codes, normalise_name(uniques))


def _birth_codes(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    raw_codes, parsed = date_codes(s.astype("string"))
    return _codes_of(raw_codes, parsed["value"].dt.strftime("%Y-%m-%d").astype("string"))


def _combine(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 code per row for a tuple of codes (-1 when any part is -1); equal tuples, equal codes."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    size = 1
    missing = np.zeros(len(key), dtype=bool)
    for codes, n in parts:
        missing |= codes < 0
        if size * max(n, 1) >= 1 << 62:  # compact before the product could overflow
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key = key * max(n, 1) + np.maximum(codes, 0)
        size *= max(n, 1)
    key[missing] = -1
    return key


def message_codes(df: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """``(codes, messages)``: the message of row ``i`` is ``messages[codes[i]]`` (no message: -1).

    The name-based message is assembled once per distinct (surname, first name, birth date), not per
    row; the INE and apprentice_id fallbacks only for the rows that need them.
    """
    n = len(df)
    na = pd.Series(pd.NA, index=df.index, dtype="string")

    def col(name: str) -> pd.Series:
        return df[name].astype("string") if name in df.columns else na

    parts = [_name_codes(col(C.surname)), _name_codes(col(C.first_name)), _birth_codes(col(C.birth_date))]
    combined = _combine([(codes, len(u)) for codes, u in parts])
    has_name = combined >= 0
    codes = np.full(n, -1, dtype=np.int64)
    name_codes, _ = pd.factorize(combined[has_name])
    codes[has_name] = name_codes
    first = np.flatnonzero(has_name)[first_occurrence(name_codes)]
    pieces = [arrow_strings(u).take(pa.array(c[first])) for c, u in parts]
    messages = [pc.binary_join_element_wise(*pieces, pa.scalar("|", pa.large_string()))]
    rest = ~has_name
    if rest.any():
        sub = df.iloc[np.flatnonzero(rest)]

        def subcol(name: str) -> pd.Series:
            if name in sub.columns:
                return sub[name].astype("string")
            return pd.Series(pd.NA, index=sub.index, dtype="string")

        ine = subcol(C.ine).str.replace(r"\s", "", regex=True).str.upper()
        ine = ine.mask(ine == "")
        pid = subcol(APPRENTICE_ID).str.strip()
        pid = pid.mask(pid == "")
        other = ("INE|" + ine).fillna("ID|" + pid).astype("string")
        other_codes, other_uniques = pd.factorize(other, use_na_sentinel=True)
        codes[rest] = np.where(other_codes < 0, -1, other_codes + len(first))
        messages.append(arrow_strings(pd.Series(other_uniques, dtype="string")))
    return codes, string_series(pa.concat_arrays(messages), pd.RangeIndex(sum(len(m) for m in messages)))


_HEX_VALUES = np.full(256, 255, dtype=np.uint8)
_HEX_VALUES[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def _hex_prefixes(values: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(words, text)`` of non-missing keys that are all 64 lowercase hex characters: the first 16
    characters of each as an unsigned integer, and the ``(n, 64)`` bytes; else ``None``."""
    if len(values) == 0:
        return None
    lengths = pc.min_max(pc.binary_length(values)).as_py()
    if not lengths["min"] == lengths["max"] == 64:
        return None
    text = fixed_width_bytes(values, 64)
    nibbles = _HEX_VALUES[text[:, :16]]
    if (nibbles == 255).any():
        return None
    packed = np.ascontiguousarray((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])
    return packed.view(">u8").ravel().astype(np.uint64), text


def _same_keys(a: np.ndarray, rows_a: np.ndarray, b: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """Whether row ``rows_a[i]`` of ``a`` equals row ``rows_b[i]`` of ``b`` (``(n, 64)`` key bytes),
    compared as eight 8-byte words per key."""
    words_a, words_b = a.view(np.uint64), b.view(np.uint64)
    same = np.ones(len(rows_a), dtype=bool)
    for j in range(words_a.shape[1]):  # word by word: eight 1-D gathers beat one 2-D gather
        same &= words_a[:, j][rows_a] == words_b[:, j][rows_b]
    return same


def _prefix_codes(words: np.ndarray, text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(codes, uniques, first)``: ``pd.factorize`` of the key prefixes ``words`` and, per prefix,
    the row of its first key; ``None`` when two different keys share a prefix (never seen)."""
    codes, uniques = pd.factorize(words)
    first = first_occurrence(codes)
    later = np.flatnonzero(first[codes] != np.arange(len(codes)))
    if not _same_keys(text, later, text, first[codes[later]]).all():
        return None
    return codes, uniques, first


def keys_in(keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Whether each of ``keys`` is one of ``wanted`` (``Series.isin``; a missing key never is).

    Keys made here (64 lowercase hex characters) are looked up through their first 16 characters
    read as an integer, then checked byte for byte against the key found; any other key falls back
    to a string look-up.

    >>> keys_in(pd.Series(["a", None, "b"], dtype="string"), pd.Series(["b", None], dtype="string")).tolist()
    [False, False, True]
    """
    arr, within = arrow_strings(keys), arrow_strings(wanted)
    valid = bool_numpy(pc.is_valid(arr))
    values = arr if valid.all() else arr.filter(pa.array(valid))
    within = within if within.null_count == 0 else within.filter(pc.is_valid(within))
    found = np.zeros(len(arr), dtype=bool)
    mine, theirs = _hex_prefixes(values), _hex_prefixes(within)
    coded = _prefix_codes(*theirs) if mine is not None and theirs is not None else None
    if mine is not None and theirs is not None and coded is not None:
        _, uniques, first = coded  # per prefix: the first wanted key with it
        at = pd.Index(uniques).get_indexer(mine[0])
        hit = np.flatnonzero(at >= 0)
        inside = np.zeros(len(values), dtype=bool)
        inside[hit[_same_keys(mine[1], hit, theirs[1], first[at[hit]])]] = True
        found[valid] = inside
        return found
    found[valid] = bool_numpy(pc.is_in(values, value_set=pc.unique(within)))
    return found


def key_codes(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, order)`` of apprentice keys: equal keys share a code (numbered in order of first
    appearance, -1 when missing); ``order`` lists the codes in ascending key order.

    Keys made here (64 lowercase hex characters) are compared through their first 16 characters
    read as an integer, then checked byte for byte; any other key falls back to a string sort.

    >>> codes, order = key_codes(pd.Series(["b", "a", None, "b"], dtype="string"))
    >>> codes.tolist(), order.tolist()
    ([0, 1, -1, 0], [1, 0])
    """
    arr = arrow_strings(keys)
    valid = bool_numpy(pc.is_valid(arr))
    values = arr.filter(pa.array(valid))
    codes = np.full(len(arr), -1, dtype=np.int64)
    prefixed = _hex_prefixes(values)
    coded = _prefix_codes(*prefixed) if prefixed is not None else None
    if coded is not None:
        found, uniques, _ = coded
        codes[valid] = found
        return codes, np.argsort(uniques, kind="stable")
    found, uniques = pd.factorize(
        pd.Series(values, dtype="string") if len(values) else pd.Series([], dtype="string")
    )
    codes[valid] = found
    return codes, np.asarray(
        pc.sort_indices(arrow_strings(pd.Series(uniques, dtype="string"))).to_numpy(), dtype=np.int64
    )


def key_ranks(keys: pd.Series) -> tuple[np.ndarray, int]:
    """``(ranks, n)``: the rank of each row's key among the ``n`` distinct keys in ascending order
    (``0..n-1``; -1 when missing), so that equal keys share a rank.

    Keys made here (64 lowercase hex characters) are sorted on their first 16 characters read as an
    integer, then checked byte for byte where two rows share them; any other key falls back to a
    string sort.

    >>> ranks, n = key_ranks(pd.Series(["b", "a", None, "b"], dtype="string"))
    >>> ranks.tolist(), n
    ([1, 0, -1, 1], 2)
    """
    arr = arrow_strings(keys)
    valid = bool_numpy(pc.is_valid(arr))
    values = arr if valid.all() else arr.filter(pa.array(valid))
    ranks = np.full(len(arr), -1, dtype=np.int64)
    if len(values) == 0:
        return ranks, 0
    found = _hex_ranks(values)
    if found is None:
        codes, uniques = _factorize(string_series(values, pd.RangeIndex(len(values))))
        rank_of_code = np.empty(len(uniques), dtype=np.int64)
        rank_of_code[pc.sort_indices(arrow_strings(uniques)).to_numpy()] = np.arange(len(uniques))
        found = (rank_of_code[codes], len(uniques))
    ranks[valid] = found[0]
    return ranks, found[1]


def _hex_ranks(values: pa.Array) -> tuple[np.ndarray, int] | None:
    """:func:`key_ranks` of non-missing keys that are all 64 lowercase hex characters, else ``None``."""
    prefixed = _hex_prefixes(values)
    if prefixed is None:
        return None
    words, text = prefixed
    order = np.argsort(words)
    ordered = words[order]
    new = np.empty(len(words), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    again = np.flatnonzero(~new)  # a row whose prefix equals the previous row's (in sorted order)
    if len(again) and not (text[order[again]] == text[order[again - 1]]).all():
        return None  # two different keys share a prefix (never seen): sort the strings
    ranks = np.empty(len(words), dtype=np.int64)
    ranks[order] = np.cumsum(new) - 1
    return ranks, int(new.sum())


def identity_messages(df: pd.DataFrame) -> pd.Series:
    """The normalised message hashed for each row (see the module docstring); NA when nothing usable.

    >>> df = pd.DataFrame({"surname": ["Dupont", None, None], "first_name": ["Léa", None, None],
    ...                    "birth_date": ["02/03/2007", None, None], "ine": [None, "123456789ab", None],
    ...                    "apprentice_id": [None, None, "X-17"]}, dtype="string")
    >>> identity_messages(df).tolist()
    ['DUPONT|LEA|2007-03-02', 'INE|123456789AB', 'ID|X-17']
    """
    codes, messages = message_codes(df)
    return pd.Series(messages.array.take(codes, allow_fill=True), index=df.index, dtype="string")


def _hmac_sha256_hex(messages: pa.Array, key: bytes) -> pa.Array:
    """HMAC-SHA256 (RFC 2104) of each message (a string array without nulls) as 64 lowercase hex
    characters, as an Arrow string array (:func:`aioa_analysis.ingest.hmac_batch.digests`: by a helper
    process for a large batch)."""
    binary = pc.cast(messages, pa.large_binary())
    offsets = np.frombuffer(binary.buffers()[1], dtype=np.int64)[
        binary.offset : binary.offset + len(binary) + 1
    ]
    data = memoryview(binary.buffers()[2] or b"")[int(offsets[0]) : int(offsets[-1])]
    raw = np.frombuffer(hmac_batch.digests(data, offsets - offsets[0], key), dtype=np.uint8).reshape(-1, 32)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.empty((len(raw), 64), dtype=np.uint8)
    text[:, 0::2] = hexdigits[raw >> 4]
    text[:, 1::2] = hexdigits[raw & 15]
    offsets64 = np.arange(0, 64 * (len(raw) + 1), 64, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(len(raw), pa.py_buffer(offsets64), pa.py_buffer(text))


def _keys_of(codes: np.ndarray, messages: pd.Series, key: bytes, index: pd.Index) -> pd.Series:
    table = _hmac_sha256_hex(arrow_strings(messages), key)
    idx = pa.array(codes, mask=codes < 0)
    return string_series(table.take(idx), index)


def hmac_hex(messages: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each message as 64 hex characters (computed once per distinct message).

    >>> hmac_hex(pd.Series(["A|B|2000-01-01", None], dtype="string"), b"k" * 32).str.len().tolist()
    [64, <NA>]
    """
    codes, uniques = pd.factorize(messages.astype("string"), use_na_sentinel=True)
    return _keys_of(codes, pd.Series(uniques, dtype="string"), key, messages.index)


def apprentice_keys(df: pd.DataFrame, key: bytes) -> pd.Series:
    """``apprentice_key`` for every row of a raw frame (NA when no identity at all)."""
    codes, messages = message_codes(df)
    return _keys_of(codes, messages, key, df.index).rename(C.apprentice_key)


def add_apprentice_key(df: pd.DataFrame, *, key: bytes) -> pd.DataFrame:
    """Return ``df`` with an ``apprentice_key`` column computed from its identity columns.

    >>> df = pd.DataFrame({"surname": ["Éloïse"], "first_name": ["Anne"], "birth_date": ["2006-05-04"]},
    ...                   dtype="string")
    >>> a = add_apprentice_key(df, key=b"0" * 32)
    >>> b = add_apprentice_key(df.assign(surname="  ELOISE "), key=b"0" * 32)
    >>> a["apprentice_key"].equals(b["apprentice_key"])
    True
    """
    return df.assign(**{C.apprentice_key: apprentice_keys(df, key)})
