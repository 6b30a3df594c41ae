"""Adversarial cases for sparse input: a column with a large mean (a constant offset)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as skl

from daskgd import LinearRegression


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_lstsq_with_a_large_mean_column_matches_dense(weighted: bool) -> None:
    """The offset column is stored densely-centred in the Gram statistics: no cancellation
    of ``XᵀX - n·mean·meanᵀ``, so sparse input is as exact as dense."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    X[rng.random(X.shape) < 0.5] = 0
    y = X @ rng.normal(size=4)
    X[:, 0] += 1e7
    w = rng.uniform(0.2, 3.0, size=100) if weighted else None
    reference = skl.LinearRegression().fit(X, y, sample_weight=w)
    dense = LinearRegression(solver="lstsq").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(dense.coef_, reference.coef_, atol=1e-8)
    sparse = LinearRegression(solver="lstsq").fit(sp.csr_matrix(X), y, sample_weight=w)
    np.testing.assert_allclose(sparse.coef_, reference.coef_, atol=1e-6)
