"""A small penalised Poisson regression (IRLS with numpy) on aggregated cells.

The models of :mod:`~aioa_analysis.stats.casemix` and :mod:`~aioa_analysis.stats.summer` have only
categorical covariates, so the Poisson likelihood of contract-time pieces is the likelihood of their
cells (sums of events and exposure per combination of categories): the fit runs on a few thousand
rows whatever the size of the contract table.

Every categorical term is coded with one indicator per level (no reference level) and a ridge
penalty ``lam / 2 * beta**2`` per coefficient; the intercept is not penalised. With a small penalty
the estimable contrasts are the maximum-likelihood ones, and the penalty only pins what the data
cannot identify (a stratum with no event, a centre alone in its strata). Standard errors come from
the inverse of the penalised information ``X'WX + diag(lam)``.

The design is a sparse matrix (one 1 per term in each row): with a national table the cells number
tens of thousands and the levels hundreds (centres), and a dense ``X'WX`` cost minutes and gigabytes
where the sparse product costs a fraction of a second (100 k contracts: the report's statistics
several minutes and 3.7 GB before).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["PoissonFit", "design_matrix", "fit_poisson"]


@dataclass(frozen=True)
class PoissonFit:
    """Coefficients (log rate ratios), their covariance, and the column names of the design."""

    names: list[str]
    coef: np.ndarray
    cov: np.ndarray
    iterations: int
    deviance: float

    def index(self, name: str) -> int:
        """Position of the coefficient ``name``."""
        return self.names.index(name)

    def contrast(self, weights: Mapping[str, float]) -> tuple[float, float]:
        """Estimate and standard error of ``sum(w * coef)``."""
        c = np.zeros(len(self.names))
        for name, w in weights.items():
            c[self.index(name)] += w
        return float(c @ self.coef), float(np.sqrt(max(c @ self.cov @ c, 0.0)))


def design_matrix(
    cells: pd.DataFrame, terms: Sequence[str], *, penalties: Mapping[str, float] | None = None
) -> tuple[sparse.csr_array, list[str], np.ndarray]:
    """Indicator columns of every level of each term in ``terms`` (plus an intercept), as a sparse
    matrix, their names ``term=level`` and the ridge penalty of each column (``penalties[term]``,
    default 0.1).

    >>> x, names, lam = design_matrix(pd.DataFrame({"a": ["u", "v", "u"]}), ["a"])
    >>> names, x.toarray().tolist(), lam.tolist()
    (['(intercept)', 'a=u', 'a=v'], [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]], [0.0, 0.1, 0.1])
    """
    penalties = penalties or {}
    n = len(cells)
    columns = [np.zeros(n, dtype=np.int64)]  # per term, the column of each row's level
    names = ["(intercept)"]
    lams = [0.0]
    for term in terms:
        codes, levels = pd.factorize(cells[term].astype("string").fillna("inconnu"), sort=True)
        columns.append(codes + len(names))
        names += [f"{term}={level}" for level in levels]
        lams += [penalties.get(term, 0.1)] * len(levels)
    rows = np.tile(np.arange(n), len(columns))
    x = sparse.csr_array((np.ones(len(rows)), (rows, np.concatenate(columns))), shape=(n, len(names)))
    return x, names, np.asarray(lams)


def fit_poisson(
    x: np.ndarray | sparse.sparray,
    events: np.ndarray,
    exposure: np.ndarray,
    lam: np.ndarray,
    names: list[str],
    *,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> PoissonFit:
    """Penalised Poisson regression ``log E[events] = log(exposure) + x @ beta`` by Newton (IRLS).

    >>> x = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> fit = fit_poisson(x, np.array([10.0, 20.0]), np.array([100.0, 100.0]), np.zeros(2), ["a", "b"])
    >>> round(float(np.exp(fit.coef[1])), 6)
    2.0
    """
    x = sparse.csr_array(x)  # a dense design works too
    y = np.asarray(events, dtype=float)
    offset = np.log(np.asarray(exposure, dtype=float))
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.sum(), 0.5) / np.exp(offset).sum())
    pen = np.diag(lam)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        mu = np.exp(np.clip(offset + x @ beta, -700, 700))
        grad = x.T @ (y - mu) - lam * beta
        info = (x.T @ sparse.diags_array(mu) @ x).toarray() + pen
        step = np.linalg.solve(info, grad)
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    mu = np.exp(np.clip(offset + x @ beta, -700, 700))
    info = (x.T @ sparse.diags_array(mu) @ x).toarray() + pen
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = 2 * np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu))
    return PoissonFit(
        names=names,
        coef=beta,
        cov=np.linalg.inv(info),
        iterations=it,
        deviance=float(dev),
    )
