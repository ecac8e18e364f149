"""Pseudonymisation: key management, normalisation, HMAC known answers, namespaces."""

from __future__ import annotations

import hashlib
import stat

import pandas as pd
import pytest

from aioa_analysis import pseudonym
from aioa_analysis.errors import ConfigError

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


def test_short_or_unreadable_key_is_a_config_error(tmp_path):
    bad = tmp_path / "k"
    bad.write_text("short")
    with pytest.raises(ConfigError, match="too short"):
        pseudonym.load_or_create_key(bad)


def test_key_readable_by_others_warns(tmp_path, caplog):
    p = tmp_path / "k"
    p.write_text("a" * 64)
    p.chmod(0o644)
    pseudonym.load_or_create_key(p)
    assert "readable by others" in caplog.text


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
