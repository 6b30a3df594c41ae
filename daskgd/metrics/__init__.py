"""Metrics computed where the data are: scikit-learn's scores on dask inputs.

Every function takes scikit-learn's arguments and returns scikit-learn's value for the same
data. The inputs may be NumPy arrays, pandas objects, dask arrays (any row chunking, also
unknown chunk sizes) or dask Series/DataFrames, mixed freely. When one of them is a dask
collection the metric is **one dask computation**: a task per row block computes partial
statistics of its rows (weighted sums, a moment triple, or a small table keyed by label or
score), a tree of tasks combines them on the cluster, and only the combined statistics reach
the driver. In-memory inputs go through the same per-block code on the driver.

Combined statistics and their size (see ``docs/metrics.md``):

- regression (``mean_squared_error``, ``mean_absolute_error``, ``r2_score``): total weight,
  weighted sums of squared and absolute errors, and the weighted mean and centred sum of
  squares of ``y_true`` (merged pairwise, Chan et al.), so R² needs one pass and stays exact;
- classification (``accuracy_score``, ``precision_score``, ``recall_score``, ``f1_score``):
  the weighted confusion table, one row per (true label, predicted label) pair that occurs;
- ``log_loss``: per true label, its weight and the weighted sums of ``-log p`` per column;
- ``roc_auc_score``: per (label, distinct score), the count and weight: O(number of distinct
  scores) memory, which for continuous scores is up to one row per sample.

The class-based metrics finish by calling scikit-learn on the combined table (one sample per
table row, its weight as ``sample_weight``), so labels, averaging, ``zero_division``,
warnings and errors are scikit-learn's own.
"""

from daskgd.metrics._classification import (
    accuracy_score,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
)
from daskgd.metrics._ranking import roc_auc_score
from daskgd.metrics._regression import (
    d2_tweedie_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)

__all__ = [
    "accuracy_score",
    "d2_tweedie_score",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
]
