"""Adversarial cases for sparse input that are known faults, kept as strict xfails."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as skl

from daskgd import LinearRegression


@pytest.mark.xfail(
    strict=True,
    reason="sparse lstsq forms the uncentred Gram XᵀX and subtracts n·mean·meanᵀ: a column "
    "with a large mean (here 1e7) loses most digits to cancellation (dense input is exact)",
)
def test_sparse_lstsq_with_a_large_mean_column_matches_dense() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    X[rng.random(X.shape) < 0.5] = 0
    y = X @ rng.normal(size=4)
    X[:, 0] += 1e7
    reference = skl.LinearRegression().fit(X, y)
    dense = LinearRegression(solver="lstsq").fit(X, y)
    np.testing.assert_allclose(dense.coef_, reference.coef_, atol=1e-8)
    sparse = LinearRegression(solver="lstsq").fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, reference.coef_, atol=1e-6)
