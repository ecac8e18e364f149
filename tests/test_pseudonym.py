"""Pseudonymisation: key management, normalisation, HMAC known answers, namespaces."""

from __future__ import annotations

import hashlib
import stat

import pandas as pd
import pytest

from aioa_analysis.core.errors import ConfigError
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


def test_key_codes_on_made_keys_and_on_other_strings():
    msgs = pd.Series([f"P{i % 7}|X|2000-01-0{1 + i % 3}" for i in range(50)] + [None], dtype="string")
    keys = pseudonym.hmac_hex(msgs, KEY)
    codes, order = pseudonym.key_codes(keys)
    assert codes[-1] == -1
    # equal keys share a code, numbered in order of first appearance
    expected, uniques = pd.factorize(keys.iloc[:-1])
    assert codes[:-1].tolist() == expected.tolist()
    # order lists the codes by ascending key
    assert [uniques[i] for i in order] == sorted(uniques)
    # any other string falls back to a plain sort
    codes, order = pseudonym.key_codes(pd.Series(["b", "a", "b", "c"], dtype="string"))
    assert codes.tolist() == [0, 1, 0, 2] and order.tolist() == [1, 0, 2]


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


def test_factorize_is_pandas_factorize():
    s = pd.Series(["b", None, "a", "b", "é", None, "a"], dtype="string")
    codes, uniques = pseudonym._factorize(s)
    expected_codes, expected_uniques = pd.factorize(s, use_na_sentinel=True)
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.tolist() == list(expected_uniques)


def test_key_ranks_sort_made_keys_and_other_strings():
    msgs = pd.Series([f"P{i % 7}|X|2000-01-0{1 + i % 3}" for i in range(50)] + [None], dtype="string")
    keys = pseudonym.hmac_hex(msgs, KEY)
    ranks, n = pseudonym.key_ranks(keys)
    distinct = sorted(set(keys.dropna()))
    assert n == len(distinct)
    assert ranks.tolist() == [distinct.index(k) for k in keys.iloc[:-1]] + [-1]
    # two made-looking keys sharing their first 16 characters: the full strings decide
    a, b = "0" * 16 + "f" * 48, "0" * 16 + "e" * 48
    ranks, n = pseudonym.key_ranks(pd.Series([a, b, a, "1" * 64], dtype="string"))
    assert ranks.tolist() == [1, 0, 1, 2] and n == 3
    ranks, n = pseudonym.key_ranks(pd.Series(["b", "a", None, "b", "c"], dtype="string"))
    assert ranks.tolist() == [1, 0, -1, 1, 2] and n == 3
    ranks, n = pseudonym.key_ranks(pd.Series([None], dtype="string"))
    assert ranks.tolist() == [-1] and n == 0


def test_keys_in_is_isin_on_made_keys_collisions_and_other_strings():
    import random

    rnd = random.Random(5)
    msgs = pd.Series([f"P{rnd.randrange(400)}|X|2000-01-01" for _ in range(600)] + [None], dtype="string")
    keys = pseudonym.hmac_hex(msgs, KEY)
    wanted = pd.concat([keys.sample(150, random_state=1), pd.Series([None], dtype="string")])
    expected = keys.isin(wanted.dropna()).to_numpy() & keys.notna().to_numpy()
    assert pseudonym.keys_in(keys, wanted).tolist() == expected.tolist()
    assert 0 < expected.sum() < keys.notna().sum()  # some found, some not: the test can fail
    # a key sharing its first 16 characters with a wanted key is not that key
    a, b, c = "0" * 16 + "f" * 48, "0" * 16 + "e" * 48, "1" * 64
    assert pseudonym.keys_in(
        pd.Series([a, b, c], dtype="string"), pd.Series([a], dtype="string")
    ).tolist() == [
        True,
        False,
        False,
    ]
    # two wanted keys sharing a prefix, or keys that are not made here: the string look-up answers
    got = pseudonym.keys_in(pd.Series([a, b, c, "x"], dtype="string"), pd.Series([a, b, "x"], dtype="string"))
    assert got.tolist() == [True, True, False, True]
    assert pseudonym.keys_in(pd.Series([a], dtype="string"), pd.Series([], dtype="string")).tolist() == [
        False
    ]
