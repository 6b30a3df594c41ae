"""``score`` for dask inputs: scikit-learn's metrics on predictions computed in one graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dask
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score

from daskgd._data import _is_dask_frame


def score_predictions(
    predict: Callable[[Any], Any], X: Any, y: Any, sample_weight: Any,
    metric: Callable[..., float],
) -> float:
    """``metric(y, predict(X), sample_weight=...)``; dask inputs (arrays, DataFrames, also
    with unknown chunk sizes) are computed together in one graph first."""
    values = [predict(X), y, sample_weight]
    values = [v.to_dask_array() if _is_dask_frame(v) else v for v in values]
    if any(dask.is_dask_collection(v) for v in values):
        values = list(dask.compute(*values))
    prediction, y, sample_weight = values
    return float(metric(y, prediction, sample_weight=sample_weight))


class DaskRegressorMixin(RegressorMixin):
    """scikit-learn's regressor mixin; ``score`` (R²) also takes dask inputs."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y`` (dask inputs computed on the cluster)."""
        return score_predictions(self.predict, X, y, sample_weight, r2_score)


class DaskClassifierMixin(ClassifierMixin):
    """scikit-learn's classifier mixin; ``score`` (accuracy) also takes dask inputs."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of ``predict(X)`` against ``y`` (dask inputs computed on the cluster)."""
        return score_predictions(self.predict, X, y, sample_weight, accuracy_score)
