"""Pseudonymisation: key management, normalisation, HMAC known answers, namespaces."""

from __future__ import annotations

import hashlib
import stat

import pandas as pd
import pytest

from aioa_analysis.core.errors import KeyFileError
from aioa_analysis.ingest import pseudonym

KEY = b"0123456789abcdef0123456789abcdef"


def _hmac_by_hand(key: bytes, msg: str) -> str:
    """RFC 2104 written out, independent of the hmac module."""
    block = 64
    k = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k) + msg.encode()).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in k) + inner).hexdigest()


def test_key_created_on_first_use_with_owner_only_modes(tmp_path, monkeypatch):
    path = tmp_path / "conf" / "aioa" / "pseudonym.key"
    monkeypatch.setenv("AIOA_KEY_FILE", str(path))
    key = pseudonym.load_or_create_key()
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(key) == 64
    assert pseudonym.load_or_create_key() == key  # stable


def test_short_or_unreadable_key_is_a_key_error(tmp_path):
    bad = tmp_path / "k"
    bad.write_text("short")
    with pytest.raises(KeyFileError, match="too short") as err:
        pseudonym.load_or_create_key(bad)
    assert err.value.exit_code == 5


def test_key_readable_by_others_is_refused_unless_insecure(tmp_path):
    p = tmp_path / "k"
    p.write_text("a" * 64)
    p.chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        pseudonym.load_or_create_key(p)
    assert pseudonym.load_or_create_key(p, insecure=True) == b"a" * 64


def test_a_missing_key_is_not_created_when_pseudonyms_exist(tmp_path):
    with pytest.raises(KeyFileError, match="missing"):
        pseudonym.load_or_create_key(tmp_path / "k", create=False)
    assert not (tmp_path / "k").exists()


def test_a_key_that_cannot_be_written_leaves_no_empty_file(tmp_path, monkeypatch):
    """Case 15: a full disk left a 0-byte key, and the next run failed on it or made a new one."""
    import os as os_module

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os_module, "fsync", full_disk)
    with pytest.raises(KeyFileError, match="No space left"):
        pseudonym.load_or_create_key(tmp_path / "k")
    assert list(tmp_path.iterdir()) == []


def test_known_answer_matches_rfc2104():
    msgs = pd.Series(["DUPONT|LEA|2007-03-02"], dtype="string")
    assert pseudonym.hmac_hex(msgs, KEY).iloc[0] == _hmac_by_hand(KEY, "DUPONT|LEA|2007-03-02")


def test_same_person_spelled_differently_gets_the_same_key():
    df = pd.DataFrame(
        {
            "surname": ["Dupont-Léger", "DUPONT LEGER", " dupont  léger ", "Dupont'Leger", "DUPONT-LÉGER"],
            "first_name": ["Léa", "LEA", "léa", "Lea ", "LÉA"],
            "birth_date": ["2007-03-02", "02/03/2007", "02032007", "02/03/07", "39143"],
        },
        dtype="string",
    )
    keys = pseudonym.apprentice_keys(df, KEY)
    assert (keys == keys.iloc[0]).all()
    assert keys.iloc[0] == _hmac_by_hand(KEY, "DUPONTLEGER|LEA|2007-03-02")


def test_different_people_and_keys_differ():
    df = pd.DataFrame(
        {
            "surname": ["Dupont", "Dupont", "Dupond"],
            "first_name": ["Léa", "Léa", "Léa"],
            "birth_date": ["2007-03-02", "2007-03-03", "2007-03-02"],
        },
        dtype="string",
    )
    assert pseudonym.apprentice_keys(df, KEY).nunique() == 3
    assert (
        pseudonym.apprentice_keys(df.iloc[:1], KEY).iloc[0]
        != pseudonym.apprentice_keys(df.iloc[:1], b"x" * 32).iloc[0]
    )


def test_fallbacks_ine_then_apprentice_id_in_their_own_namespaces():
    df = pd.DataFrame(
        {
            "surname": ["Roy", None, None, None, "Roy"],
            "first_name": ["Zoé", None, None, None, "Zoé"],
            "birth_date": [None, None, None, None, "31/02/2007"],  # impossible birth date: not usable
            "ine": ["1234567890A", "1234567890a", None, None, None],
            "apprentice_id": [None, None, "1234567890A", None, None],
        },
        dtype="string",
    )
    msgs = pseudonym.identity_messages(df)
    assert msgs.tolist() == ["INE|1234567890A", "INE|1234567890A", "ID|1234567890A", pd.NA, pd.NA]
    keys = pseudonym.apprentice_keys(df, KEY)
    assert keys.iloc[0] == keys.iloc[1] != keys.iloc[2]
    assert keys.iloc[3:].isna().all()


def test_add_apprentice_key_does_not_mutate_input():
    df = pd.DataFrame({"surname": ["A"], "first_name": ["B"], "birth_date": ["2000-01-01"]}, dtype="string")
    before = df.copy()
    out = pseudonym.add_apprentice_key(df, key=KEY)
    pd.testing.assert_frame_equal(df, before)
    assert "apprentice_key" in out and "apprentice_key" not in df


def _naive_messages(df: pd.DataFrame) -> list:
    """The documented message, row by row, with plain Python (independent of the vectorised code)."""
    import unicodedata

    def name(v):
        if v is None or pd.isna(v):
            return None
        t = v.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("ß", "ss")
        t = "".join(c for c in unicodedata.normalize("NFKD", t) if not 0x300 <= ord(c) <= 0x36F).upper()
        t = "".join(c for c in t if c.isascii() and c.isalnum())
        return t or None

    births = pd.to_datetime(df["birth_date"], format="%Y-%m-%d", errors="coerce")
    out = []
    for (s, f, i), b in zip(
        df[["surname", "first_name", "ine"]].itertuples(index=False), births, strict=True
    ):
        s, f = name(s), name(f)
        if s and f and not pd.isna(b):
            out.append(f"{s}|{f}|{b:%Y-%m-%d}")
        elif i is not None and not pd.isna(i) and i.strip():
            out.append("INE|" + "".join(i.split()).upper())
        else:
            out.append(None)
    return out


def test_messages_match_a_row_by_row_reference_on_many_rows():
    import random

    rnd = random.Random(3)
    surnames = ["Dupont", "DUPONT", "Lefèvre", "d'Arc", "Œil", "", None, "Nguyễn", "  roy "]
    firsts = ["Léa", "LEA", "Zoé", None, "Jean-Marc"]
    births = ["2007-03-02", "2006-12-31", None, "2007-02-30", "2005-01-01"]
    ines = [None, "123456789ab", " 1234567890A ", ""]
    rows = [
        (rnd.choice(surnames), rnd.choice(firsts), rnd.choice(births), rnd.choice(ines)) for _ in range(2000)
    ]
    df = pd.DataFrame(rows, columns=["surname", "first_name", "birth_date", "ine"], dtype="string")
    got = pseudonym.identity_messages(df).tolist()
    assert [None if pd.isna(m) else m for m in got] == _naive_messages(df)
    keys = pseudonym.apprentice_keys(df, KEY)
    expected = [None if m is None else _hmac_by_hand(KEY, m) for m in _naive_messages(df)]
    assert [None if pd.isna(k) else k for k in keys] == expected


def test_long_keys_hash_with_the_same_digest():
    key = b"z" * 100  # longer than the SHA-256 block: hashed first (RFC 2104)
    import hmac

    got = pseudonym.hmac_hex(pd.Series(["A|B|2000-01-01"], dtype="string"), key).iloc[0]
    assert got == hmac.new(key, b"A|B|2000-01-01", "sha256").hexdigest()


def test_hmac_matches_the_hmac_module_on_random_messages():
    import hmac
    import random

    rnd = random.Random(11)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|-é€😀 "
    msgs = ["", "A" * 55, "B" * 56, "C" * 64, "D" * 200]  # around the SHA-256 padding boundaries
    msgs += ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 90))) for _ in range(500)]
    key = bytes(rnd.randrange(256) for _ in range(32)).hex().encode()
    got = pseudonym.hmac_hex(pd.Series([*msgs, None, msgs[7]], dtype="string"), key).tolist()
    expected = [hmac.new(key, m.encode(), "sha256").hexdigest() for m in msgs]
    assert got[: len(msgs)] == expected
    assert pd.isna(got[len(msgs)]) and got[-1] == expected[7]
