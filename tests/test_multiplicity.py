"""Benjamini-Hochberg and Holm adjusted p-values against a direct loop."""

from __future__ import annotations

import numpy as np

from aioa_analysis.stats.multiplicity import bh_qvalues, holm_adjusted


def _bh_direct(p):
    m = len(p)
    return [
        min(1.0, min(m * p[j] / (sorted(p).index(p[j]) + 1) for j in range(m) if p[j] >= p[i]))
        for i in range(m)
    ]


def _holm_direct(p):
    m, order = len(p), np.argsort(p)
    adj, running = np.empty(m), 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adj[i] = min(1.0, running)
    return adj


def test_against_direct_computations():
    rng = np.random.default_rng(0)
    p = list(rng.uniform(size=25) ** 3)
    np.testing.assert_allclose(bh_qvalues(p), _bh_direct(p))
    np.testing.assert_allclose(holm_adjusted(p), _holm_direct(p))


def test_missing_values_are_not_in_the_family():
    assert np.isnan(bh_qvalues([0.01, np.nan])[1])
    assert bh_qvalues([0.01, np.nan])[0] == 0.01
    assert holm_adjusted([0.01, np.nan, 0.02]).tolist()[::2] == [0.02, 0.02]


def test_holm_is_never_below_bh():
    p = np.random.default_rng(1).uniform(size=40) ** 2
    assert (holm_adjusted(p) >= bh_qvalues(p) - 1e-12).all()
