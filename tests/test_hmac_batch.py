"""Batch HMAC-SHA256: the helper process and the in-process loop give RFC 2104's digests."""

from __future__ import annotations

import hmac
import os
import random

import numpy as np
import pandas as pd
import pytest

from aioa_analysis.ingest import hmac_batch, pseudonym


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


@pytest.fixture
def children(monkeypatch):
    """The helper processes started (and what each delivered), to check that the child path ran."""
    made: list = []
    real = hmac_batch._Child.result

    def result(self):
        out = real(self)
        made.append(out)
        return out

    monkeypatch.setattr(hmac_batch._Child, "result", result)
    return made


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_digests_match_the_hmac_module(children):
    msgs, data, offsets, key = _batch(400)
    assert hmac_batch.digests(data, offsets, key, child=False) == _expected(msgs, key)
    assert children == []
    before = _open_files()
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    assert len(children) == 1 and children[0] == _expected(msgs[: len(msgs) // 2], key)  # the child's half
    assert _open_files() == before  # no pipe or in-memory file left open


def test_the_pipe_way_where_there_is_no_memfd(monkeypatch, children):
    monkeypatch.delattr(hmac_batch.os, "memfd_create", raising=False)
    msgs, data, offsets, key = _batch(300)
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    assert children and children[0] is not None


@pytest.mark.parametrize("key", [b"", b"k" * 64, b"k" * 65, b"x" * 100])
def test_keys_of_any_length_as_rfc_2104_says(children, key):
    msgs, data, offsets, _ = _batch(20)
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    assert children and children[0] is not None  # hashed by the child, not by the fallback


def test_the_helper_process_runs_from_the_threshold_on(monkeypatch, children):
    monkeypatch.setattr(hmac_batch, "CHILD_MIN_MESSAGES", 50)
    msgs, data, offsets, key = _batch(100)
    assert hmac_batch.digests(data, offsets, key) == _expected(msgs, key)
    assert len(children) == 1 and children[0] is not None
    small = offsets[:11]
    assert hmac_batch.digests(data, small, key) == _expected(msgs[:10], key)
    assert len(children) == 1  # 10 messages: all in this process


def test_the_child_hashes_a_slice_that_does_not_start_at_zero():
    msgs, data, offsets, key = _batch(40)
    helper = hmac_batch._start_child(memoryview(data), offsets[10:31], key)
    assert helper is not None
    assert helper.result() == _expected(msgs[10:30], key)
    assert hmac_batch.hmac_loop(memoryview(data), offsets[10:31], key) == _expected(msgs[10:30], key)


def test_a_failing_or_stuck_helper_falls_back_to_this_process(monkeypatch, tmp_path):
    msgs, data, offsets, key = _batch(30)
    for executable in ("/nonexistent/python", "", None):
        monkeypatch.setattr(hmac_batch.sys, "executable", executable)
        assert hmac_batch._start_child(data, offsets, key) is None
        assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    monkeypatch.setattr(hmac_batch.sys, "executable", "/bin/false")  # starts, answers nothing
    helper = hmac_batch._start_child(data, offsets, key)
    assert helper is not None and helper.result() is None
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)
    stuck = tmp_path / "stuck"
    stuck.write_text("#!/bin/sh\nexec sleep 30\n")
    stuck.chmod(0o755)
    monkeypatch.setattr(hmac_batch.sys, "executable", str(stuck))
    monkeypatch.setattr(hmac_batch, "CHILD_TIMEOUT_S", 0.5)
    helper = hmac_batch._start_child(data, offsets, key)
    assert helper is not None and helper.result() is None
    assert helper.proc.poll() is not None  # killed and reaped, not left behind
    assert hmac_batch.digests(data, offsets, key, child=True) == _expected(msgs, key)


def test_the_child_never_outlives_a_failed_call(monkeypatch):
    started = []
    real_start = hmac_batch._start_child

    def start(*args):
        started.append(real_start(*args))
        return started[-1]

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(hmac_batch, "_start_child", start)
    monkeypatch.setattr(hmac_batch, "hmac_loop", boom)
    _, data, offsets, key = _batch(30)
    with pytest.raises(KeyboardInterrupt):
        hmac_batch.digests(data, offsets, key, child=True)
    assert started[0] is not None and started[0].proc.poll() is not None


def test_keys_through_the_helper_process_equal_keys_computed_here(monkeypatch):
    msgs = pd.Series(
        [f"NOM{i % 97}|PRENOM{i % 13}|2005-01-{1 + i % 28:02d}" for i in range(3000)], dtype="string"
    )
    here = pseudonym.hmac_hex(msgs, b"k" * 32)
    monkeypatch.setattr(hmac_batch, "CHILD_MIN_MESSAGES", 10)
    child = pseudonym.hmac_hex(msgs, b"k" * 32)
    assert child.tolist() == here.tolist()
    assert here.iloc[5] == hmac.new(b"k" * 32, msgs.iloc[5].encode(), "sha256").hexdigest()
