"""``sample_weight`` equivalences for every full-batch solver of every model kind.

- Integer weights equal row repetition: weight ``k`` on a row is the row repeated ``k`` times.
- Zero weights equal row removal.

Each holds for least squares with an L2 penalty (Ridge) and an elastic-net penalty
(ElasticNet), multinomial and L1 binary logistic regression and Poisson regression, with every
full-batch solver that accepts the model (``sgd`` has its own tests). The weighted fit gets
dask input in uneven chunks (weights aligned with X's chunks); the expanded / reduced data is
passed as NumPy.
"""

from __future__ import annotations

import functools
from typing import Any

import dask.array as da
import numpy as np
import pytest
from _models_common import (
    EQUIVALENCE_RTOL,
    EQUIVALENCE_TOL,
    FIRST_ORDER,
    assert_rel,
    no_convergence_warning,
)

from daskgd import ElasticNet, LogisticRegression, PoissonRegressor, Ridge

MODELS: dict[str, tuple[type, dict[str, Any], str, tuple[str, ...]]] = {
    "ridge": (Ridge, {"alpha": 1.0}, "regression",
              ("lstsq", "lbfgs", "newton", "gd", "proximal")),
    "enet": (ElasticNet, {"alpha": 0.05, "l1_ratio": 0.5}, "regression", ("lstsq", "proximal")),
    "multinomial": (LogisticRegression, {}, "multiclass", ("lbfgs", "newton", "gd", "proximal")),
    "logistic-l1": (LogisticRegression, {"penalty": "l1", "C": 0.5}, "binary", ("proximal",)),
    "poisson": (PoissonRegressor, {"alpha": 0.1}, "counts", ("lbfgs", "newton", "gd", "proximal")),
}

CHUNKS = (17, 23, 20)


@functools.cache
def data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    eta = X @ np.array([0.7, -0.4, 0.25])
    if kind == "regression":
        y = eta + 2.0 + 0.3 * rng.standard_normal(60)
    elif kind == "binary":
        y = (eta + rng.logistic(size=60) > 0).astype(np.int64)
    elif kind == "multiclass":
        y = np.argmax(X @ rng.standard_normal((3, 3)) + rng.gumbel(size=(60, 3)), axis=1)
    else:
        y = rng.poisson(np.exp(eta + 0.5)).astype(np.float64)
    return X, y


def _cases() -> list[Any]:
    # gd / proximal on the GLMs take 30-60 round trips a fit: in the slow run.
    return [
        pytest.param(m, s, id=f"{m}-{s}", marks=[pytest.mark.slow] if (
            m in ("multinomial", "poisson") and s in FIRST_ORDER) else [])
        for m, spec in MODELS.items() for s in spec[3]
    ]


def _fit(model: str, solver: str, X: Any, y: Any, w: Any = None) -> Any:
    cls, params, _, _ = MODELS[model]
    with no_convergence_warning():
        est = cls(**params, solver=solver, tol=EQUIVALENCE_TOL[solver], max_iter=5000)
        return est.fit(X, y, sample_weight=w)


def _weighted_fit(model: str, solver: str, w: np.ndarray) -> Any:
    X, y = data(MODELS[model][2])
    return _fit(model, solver, da.from_array(X, chunks=(CHUNKS, 3)),
                da.from_array(y, chunks=(CHUNKS,)), da.from_array(w, chunks=(CHUNKS,)))


def _assert_same(est: Any, ref: Any, solver: str) -> None:
    rtol = EQUIVALENCE_RTOL[solver]
    assert_rel(est.coef_, ref.coef_, rtol, "coef_")
    assert_rel(est.intercept_, ref.intercept_, rtol, "intercept_")
    if hasattr(ref, "classes_"):
        np.testing.assert_array_equal(est.classes_, ref.classes_)


@pytest.mark.parametrize(("model", "solver"), _cases())
def test_integer_weights_equal_repeated_rows(model: str, solver: str) -> None:
    X, y = data(MODELS[model][2])
    w = np.random.default_rng(1).integers(1, 4, size=60).astype(np.float64)
    weighted = _weighted_fit(model, solver, w)
    repeats = w.astype(int)
    repeated = _fit(model, solver, np.repeat(X, repeats, axis=0), np.repeat(y, repeats))
    _assert_same(weighted, repeated, solver)


@pytest.mark.parametrize(("model", "solver"), _cases())
def test_zero_weights_equal_removed_rows(model: str, solver: str) -> None:
    X, y = data(MODELS[model][2])
    w = (np.random.default_rng(2).random(60) > 0.35).astype(np.float64)
    assert 0 < w.sum() < 60
    weighted = _weighted_fit(model, solver, w)
    keep = w > 0
    removed = _fit(model, solver, X[keep], y[keep])
    _assert_same(weighted, removed, solver)
