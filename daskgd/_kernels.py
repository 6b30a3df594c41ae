"""Per-chunk NumPy code run inside the engine's tasks. No dask here.

Every kernel takes one row chunk and returns *additive* partial results: the engine adds them
up across chunks in a fixed (chunk) order, so the total does not depend on which worker held
which chunk. Sums are accumulated in float64 even when X is float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from daskgd.losses import Loss


class Chunk(NamedTuple):
    """One block of rows, as held by a worker.

    X : (n_rows, n_features) float32 or float64, C-contiguous
    y : (n_rows,) float64 (class codes for classifiers; raw labels before encoding)
    w : (n_rows,) float64 sample weights, or None for unit weights
    """

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray | None


def make_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Chunk:
    """Assemble a chunk from aligned blocks, fixing dtypes and memory layout once."""
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X = np.ascontiguousarray(X)
    # y keeps its dtype: regression targets arrive as float64, labels are encoded later.
    y = np.asarray(y).reshape(-1)
    if w is not None:
        w = np.asarray(w, dtype=np.float64).reshape(-1)
    return Chunk(X, y, w)


# ---------------------------------------------------------------- validation and summaries


@dataclass
class ChunkStats:
    """What a fit needs to know about one chunk, computed in the validation pass."""

    n_rows: int
    bad_X: tuple[int, int] | None  # (row, column) of the first non-finite value
    bad_y: int | None  # first row with a non-finite target
    bad_w: tuple[int, str] | None  # (row, "negative" | "non-finite")
    weight_sum: float
    n_positive: int  # rows with a positive weight
    weighted_X_sum: np.ndarray  # (n_features,) float64: sum_i w_i * x_i
    weighted_X_sq_sum: np.ndarray  # (n_features,) float64: sum_i w_i * x_i**2
    weighted_y_sum: float  # sum_i w_i * y_i (regression only)
    y_min: float  # smallest target (regression only)
    labels: np.ndarray | None  # sorted distinct labels (classification only)
    label_weights: np.ndarray | None  # total weight of each label


def chunk_stats(chunk: Chunk, classify: bool) -> ChunkStats:
    """Check one chunk for non-finite or invalid values and sum what the fit needs."""
    X, y, w = chunk
    n, d = X.shape
    bad_X = None
    finite = np.isfinite(X)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        bad_X = (int(row), int(col))
    bad_y = None
    if not classify or y.dtype.kind == "f":
        y_finite = np.isfinite(y) if y.dtype.kind == "f" else np.ones(n, dtype=bool)
        if not y_finite.all():
            bad_y = int(np.flatnonzero(~y_finite)[0])
    bad_w = None
    if w is not None:
        w_finite = np.isfinite(w)
        if not w_finite.all():
            bad_w = (int(np.flatnonzero(~w_finite)[0]), "non-finite")
        elif (w < 0).any():
            bad_w = (int(np.flatnonzero(w < 0)[0]), "negative")
    weights = np.ones(n) if w is None else w
    usable = bad_X is None and bad_y is None and bad_w is None
    if usable and n:
        weight_sum = float(weights.sum())
        w_x = weights.astype(X.dtype)
        weighted_X_sum = (w_x @ X).astype(np.float64)
        weighted_X_sq_sum = np.einsum("i,ij,ij->j", w_x, X, X, dtype=np.float64)
    else:
        weight_sum, weighted_X_sum, weighted_X_sq_sum = 0.0, np.zeros(d), np.zeros(d)
    labels = label_weights = None
    weighted_y_sum, y_min = 0.0, np.inf
    if classify:
        labels, inverse = np.unique(y, return_inverse=True)
        label_weights = np.bincount(inverse.reshape(-1), weights=weights, minlength=labels.size)
    elif usable and n:
        weighted_y_sum = float(weights @ y)
        y_min = float(y.min())
    return ChunkStats(
        n_rows=n,
        bad_X=bad_X,
        bad_y=bad_y,
        bad_w=bad_w,
        weight_sum=weight_sum,
        n_positive=int(np.count_nonzero(weights > 0)),
        weighted_X_sum=weighted_X_sum,
        weighted_X_sq_sum=weighted_X_sq_sum,
        weighted_y_sum=weighted_y_sum,
        y_min=y_min,
        labels=labels,
        label_weights=label_weights,
    )


def encode_labels(chunk: Chunk, classes: np.ndarray) -> Chunk:
    """Replace the labels of a chunk by their float64 index in the sorted ``classes``."""
    codes = np.searchsorted(classes, chunk.y).astype(np.float64)
    return Chunk(chunk.X, codes, chunk.w)


# ---------------------------------------------------------------- oracle kernels
#
# Signature: kernel(chunk, *args) -> additive result (numbers, arrays or tuples of them).


def _weighted(chunk: Chunk, values: np.ndarray) -> np.ndarray:
    return values if chunk.w is None else values * chunk.w


def linear_predictor(chunk: Chunk, coef: np.ndarray, intercept: float) -> np.ndarray:
    """``eta = X @ coef + intercept`` in the chunk's dtype, shape (n_rows,)."""
    eta = chunk.X @ coef.astype(chunk.X.dtype, copy=False)
    eta += intercept
    return eta


def loss_grad(
    chunk: Chunk, loss: Loss, coef: np.ndarray, intercept: float
) -> tuple[float, np.ndarray, float]:
    """``(sum w*l, X.T @ (w*g), sum w*g)`` at ``(coef, intercept)``, in float64.

    ``g`` is the derivative of the loss with respect to ``eta``: the gradient of the
    coefficients and of the intercept follow from these sums.
    """
    eta = linear_predictor(chunk, coef, intercept)
    values, gradient = loss.loss_gradient(chunk.y, eta)
    values = _weighted(chunk, values)
    gradient = _weighted(chunk, gradient)
    grad_coef = (chunk.X.T @ gradient.astype(chunk.X.dtype, copy=False)).astype(np.float64)
    return (
        float(values.sum(dtype=np.float64)),
        grad_coef,
        float(gradient.sum(dtype=np.float64)),
    )


def line_losses(
    chunk: Chunk, loss: Loss, start: tuple[np.ndarray, float], end: tuple[np.ndarray, float],
    fractions: np.ndarray,
) -> np.ndarray:
    """Loss sums at the points a fraction ``f`` of the way from ``start`` to ``end``.

    ``start`` and ``end`` are ``(coef, intercept)``. Both linear predictors come from one
    read of X (a two-column product); since ``eta`` is linear in the parameters, every trial
    point's predictor is then ``eta0 + f * (eta1 - eta0)`` and scoring any number of trial
    steps reads X no more. Returns shape (len(fractions),).
    """
    coefs = np.column_stack([start[0], end[0]]).astype(chunk.X.dtype, copy=False)
    etas = chunk.X @ coefs
    eta0 = etas[:, 0] + start[1]
    delta = etas[:, 1] + end[1] - eta0
    out = np.empty(len(fractions))
    for i, f in enumerate(fractions):
        out[i] = _weighted(chunk, loss.loss(chunk.y, eta0 + f * delta)).sum(dtype=np.float64)
    return out


@dataclass(frozen=True)
class SGDRound:
    """One round of distributed SGD, the same for every chunk.

    Each chunk permutes its positive-weight rows with a generator seeded by
    ``(seed, epoch, chunk_id)``, takes the ``round``-th of ``n_rounds`` equal slices of that
    permutation and splits it into ``len(learning_rates)`` local mini-batches. With one local
    step the chunk returns its gradient sums; with several it returns its locally updated
    parameters, weighted for model averaging.
    """

    seed: int
    epoch: int
    round: int
    n_rounds: int
    learning_rates: tuple[float, ...]
    l2: float  # penalty strength on the mean-loss scale
    feature_mean: np.ndarray | None  # centring used by the parametrisation, or None
    fit_intercept: bool


def _batch_rows(chunk: Chunk, chunk_id: int, spec: SGDRound) -> np.ndarray:
    positive = (
        np.arange(chunk.X.shape[0]) if chunk.w is None else np.flatnonzero(chunk.w > 0)
    )
    rng = np.random.default_rng([spec.seed, spec.epoch, chunk_id])
    order = positive[rng.permutation(positive.size)]
    m = order.size
    return order[spec.round * m // spec.n_rounds : (spec.round + 1) * m // spec.n_rounds]


def sgd_round(
    chunk: Chunk, chunk_id: int, loss: Loss, theta: np.ndarray, spec: SGDRound
) -> tuple[np.ndarray, float, float]:
    """Local SGD steps on this chunk's share of the round's mini-batch.

    Returns ``(weight * theta_local, weight, weighted loss sum)`` where ``weight`` is the total
    sample weight the chunk used and the loss is taken before each local step; the driver
    divides the sums to average the local models. With one step this is exactly a
    synchronous mini-batch SGD step on the union of the chunks' batches.
    """
    rows = _batch_rows(chunk, chunk_id, spec)
    theta = theta.copy()
    total_weight = 0.0
    total_loss = 0.0
    d = chunk.X.shape[1]
    for batch, lr in zip(np.array_split(rows, len(spec.learning_rates)), spec.learning_rates):
        if batch.size == 0:
            continue
        X = chunk.X[batch]
        w = np.ones(batch.size) if chunk.w is None else chunk.w[batch]
        coef = theta[:d]
        intercept = 0.0
        if spec.fit_intercept:
            shift = 0.0 if spec.feature_mean is None else float(spec.feature_mean @ coef)
            intercept = float(theta[d]) - shift
        eta = X @ coef.astype(X.dtype, copy=False) + intercept
        values, gradient = loss.loss_gradient(chunk.y[batch], eta)
        batch_weight = float(w.sum())
        total_weight += batch_weight
        total_loss += float(w @ values)
        v = (w * gradient) / batch_weight
        grad = np.empty_like(theta)
        grad[:d] = (X.T @ v.astype(X.dtype)).astype(np.float64) + spec.l2 * coef
        if spec.fit_intercept:
            grad_intercept = float(v.sum())
            if spec.feature_mean is not None:
                grad[:d] -= spec.feature_mean * grad_intercept
            grad[d] = grad_intercept
        theta -= lr * grad
    return total_weight * theta, total_weight, total_loss


def predict_linear(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """Decision values of a block of rows, in float64 (used by ``map_blocks``)."""
    return np.asarray(X, dtype=np.float64) @ coef + intercept


# ---------------------------------------------------------------- the per-worker task


def run_group(
    kernel: Callable[..., Any], chunk_ids: Sequence[int], chunks: Sequence[Chunk], args: tuple,
    pass_chunk_id: bool = False,
) -> list[Any]:
    """Run ``kernel`` over the chunks one worker holds; their results, in order.

    With ``pass_chunk_id`` the kernel is called as ``kernel(chunk, chunk_id, *args)`` (for
    per-chunk random streams), else as ``kernel(chunk, *args)``.
    """
    if pass_chunk_id:
        return [kernel(c, i, *args) for i, c in zip(chunk_ids, chunks)]
    return [kernel(c, *args) for c in chunks]


def chunk_stats_kernel(chunk: Chunk, classify: bool) -> ChunkStats:
    """``chunk_stats`` as a kernel: the validation pass on the cluster."""
    return chunk_stats(chunk, classify)
