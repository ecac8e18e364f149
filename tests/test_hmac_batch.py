"""Batch HMAC-SHA256: the helper process and the in-process loop give RFC 2104's digests."""

from __future__ import annotations

import hmac
import random

import numpy as np
import pandas as pd
import pytest

from aioa_analysis import hmac_batch, pseudonym


def _batch(n: int, seed: int = 3) -> tuple[list[bytes], bytes, np.ndarray, bytes]:
    rnd = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|-é€😀 "
    msgs = [b"", b"A" * 55, b"B" * 56, b"C" * 64, b"D" * 200]  # around the SHA-256 padding boundaries
    msgs += ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 90))).encode() for _ in range(n)]
    key = bytes(rnd.randrange(256) for _ in range(32)).hex().encode()
    offsets = np.concatenate([[0], np.cumsum([len(m) for m in msgs])]).astype(np.int64)
    return msgs, b"".join(msgs), offsets, key


def _expected(msgs: list[bytes], key: bytes) -> bytes:
    return b"".join(hmac.new(key, m, "sha256").digest() for m in msgs)


@pytest.mark.parametrize("child", [True, False])
def test_digests_match_the_hmac_module(child):
    msgs, data, offsets, key = _batch(400)
    assert hmac_batch.digests(data, offsets, key, child=child) == _expected(msgs, key)


def test_a_long_key_is_hashed_first_as_rfc_2104_says():
    msgs, data, offsets, _ = _batch(20)
    key = b"x" * 100
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)


def test_the_helper_process_runs_from_the_threshold_on(monkeypatch):
    calls = []
    real = hmac_batch._start_child

    def spy(data, offsets, key):
        calls.append(len(offsets) - 1)
        return real(data, offsets, key)

    monkeypatch.setattr(hmac_batch, "_start_child", spy)
    monkeypatch.setattr(hmac_batch, "CHILD_MIN_MESSAGES", 50)
    msgs, data, offsets, key = _batch(100)
    assert hmac_batch.digests(data, offsets, key) == _expected(msgs, key)
    assert calls == [len(msgs) // 2]  # the child hashes the first half
    small = offsets[:11]
    assert hmac_batch.digests(data, small, key) == _expected(msgs[:10], key)
    assert calls == [len(msgs) // 2]  # 10 messages: all in this process


def test_the_child_hashes_a_slice_that_does_not_start_at_zero():
    msgs, data, offsets, key = _batch(40)
    proc = hmac_batch._start_child(memoryview(data), offsets[10:31], key)
    assert proc is not None
    assert hmac_batch._child_result(proc, 20) == _expected(msgs[10:30], key)
    assert hmac_batch.hmac_loop(memoryview(data), offsets[10:31], key) == _expected(msgs[10:30], key)


def test_a_failing_helper_falls_back_to_this_process(monkeypatch):
    msgs, data, offsets, key = _batch(30)
    monkeypatch.setattr(hmac_batch.sys, "executable", "/nonexistent/python")
    assert hmac_batch._start_child(data, offsets, key) is None
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    monkeypatch.setattr(hmac_batch.sys, "executable", "/bin/false")  # starts, answers nothing
    proc = hmac_batch._start_child(data, offsets, key)
    assert proc is None or hmac_batch._child_result(proc, len(msgs)) is None
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)


def test_keys_through_the_helper_process_equal_keys_computed_here(monkeypatch):
    msgs = pd.Series(
        [f"NOM{i % 97}|PRENOM{i % 13}|2005-01-{1 + i % 28:02d}" for i in range(3000)], dtype="string"
    )
    here = pseudonym.hmac_hex(msgs, b"k" * 32)
    monkeypatch.setattr(hmac_batch, "CHILD_MIN_MESSAGES", 10)
    child = pseudonym.hmac_hex(msgs, b"k" * 32)
    assert child.tolist() == here.tolist()
    assert here.iloc[5] == hmac.new(b"k" * 32, msgs.iloc[5].encode(), "sha256").hexdigest()
