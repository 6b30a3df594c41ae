"""``score`` for dask inputs: the metric reduced on the cluster by ``daskgd.metrics``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask
from sklearn import metrics as sklearn_metrics
from sklearn.base import ClassifierMixin, RegressorMixin

from daskgd import metrics


def score_predictions(
    predict: Callable[[Any], Any], X: Any, y: Any, sample_weight: Any, metric: str,
    **kwargs: Any,
) -> float:
    """``metric(y, predict(X), sample_weight=..., **kwargs)``.

    ``metric`` names a function of both ``sklearn.metrics`` and ``daskgd.metrics``. In-memory
    inputs are scored by scikit-learn's (so ``score`` is scikit-learn's exactly); when any
    input or the prediction is a dask collection, by daskgd's, one reduction on the cluster
    that never gathers the predictions.
    """
    prediction = predict(X)
    distributed = any(dask.is_dask_collection(v) for v in (prediction, y, sample_weight))
    module = metrics if distributed else sklearn_metrics
    return float(getattr(module, metric)(y, prediction, sample_weight=sample_weight, **kwargs))


class DaskRegressorMixin(RegressorMixin):
    """scikit-learn's regressor mixin; ``score`` (R²) also takes dask inputs."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y`` (dask inputs reduced on the cluster)."""
        return score_predictions(self.predict, X, y, sample_weight, "r2_score")


class DaskClassifierMixin(ClassifierMixin):
    """scikit-learn's classifier mixin; ``score`` (accuracy) also takes dask inputs."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of ``predict(X)`` against ``y`` (dask inputs reduced on the cluster)."""
        return score_predictions(self.predict, X, y, sample_weight, "accuracy_score")
