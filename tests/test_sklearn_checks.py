"""scikit-learn's estimator checks (``parametrize_with_checks``) over every public daskgd
estimator, with default parameters, on the session LocalCluster."""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from daskgd.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)

ESTIMATORS = [
    LinearRegression(), Ridge(), Lasso(), ElasticNet(), LogisticRegression(),
    PoissonRegressor(), SGDRegressor(), SGDClassifier(),
]

_SGD_WEIGHTS = (
    "SGD takes one step per weighted row but one per copy of a repeated row: the step "
    "sequences differ (scikit-learn's SGD estimators fail this check too)"
)


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """The checks an estimator is known to fail, each with the reason."""
    if isinstance(estimator, SGDRegressor | SGDClassifier):
        return {
            "check_sample_weight_equivalence_on_dense_data": _SGD_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _SGD_WEIGHTS,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator: Any, check: Any) -> None:
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_tags(estimator: Any) -> None:
    """Estimator type, required y and target range as scikit-learn reads them."""
    tags = estimator.__sklearn_tags__()
    classifier = isinstance(estimator, LogisticRegression | SGDClassifier)
    assert tags.estimator_type == ("classifier" if classifier else "regressor")
    assert tags.target_tags.required
    assert tags.input_tags.sparse
    assert tags.target_tags.positive_only == isinstance(estimator, PoissonRegressor)
    assert not tags.input_tags.allow_nan
    assert hasattr(estimator, "decision_function") == classifier
