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
from daskgd.penalties import ElasticNet


class Chunk(NamedTuple):
    """One block of rows, as held by a worker.

    X : (n_rows, n_features) float32 or float64, C-contiguous
    y : (n_rows,) float64 (class codes for classifiers; raw labels before encoding)
    w : (n_rows,) float64 sample weights, or None for unit weights
    """

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray | None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Re-align on arrival: a chunk sent to another process lands at any byte offset.
        return (_aligned_chunk, (self.X, self.y, self.w))


def _aligned_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Chunk:
    return Chunk(_aligned(X), _aligned(y), None if w is None else _aligned(w))


def make_chunk(X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Chunk:
    """Assemble a chunk from aligned blocks, fixing dtypes and memory layout once."""
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    # y keeps its dtype: regression targets arrive as float64, labels are encoded later.
    y = np.asarray(y).reshape(-1)
    if w is not None:
        w = np.asarray(w, dtype=np.float64).reshape(-1)
    return _aligned_chunk(X, y, w)


#: Byte alignment of chunk arrays (a cache line; covers every SIMD width).
ALIGNMENT = 64


def _aligned(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-contiguous array starting on an ``ALIGNMENT``-byte boundary.

    Blocks deserialised by dask may start at any byte, and NumPy/BLAS kernels split their
    vector loops by alignment, so the same numbers would round differently depending on
    where a chunk lies in memory (after a transfer or a re-placement). One copy at placement
    keeps every sum identical wherever the chunk lives.
    """
    if a.flags.c_contiguous and a.ctypes.data % ALIGNMENT == 0:
        return a
    buffer = np.empty(a.nbytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    out = buffer[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


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


def encode_labels(
    chunk: Chunk, classes: np.ndarray, factors: np.ndarray | None = None
) -> Chunk:
    """Replace the labels of a chunk by their float64 index in the sorted ``classes``.

    With ``factors`` (one per class, from ``class_weight``) the sample weights are
    multiplied by the factor of each row's class.
    """
    index = np.searchsorted(classes, chunk.y)
    w = chunk.w
    if factors is not None:
        w = factors[index] if w is None else w * factors[index]
    return Chunk(chunk.X, _aligned(index.astype(np.float64)), None if w is None else _aligned(w))


# ---------------------------------------------------------------- oracle kernels
#
# Signature: kernel(chunk, *args) -> additive result (numbers, arrays or tuples of them).
# Coefficients travel as ``B`` of shape (n_features, n_outputs) and intercepts as ``b`` of
# shape (n_outputs,); single-output losses see ``eta`` of shape (n_rows,).


def _weighted(chunk: Chunk, values: np.ndarray) -> np.ndarray:
    if chunk.w is None:
        return values
    return values * (chunk.w if values.ndim == 1 else chunk.w[:, None])


def linear_predictor(chunk: Chunk, B: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``eta = X @ B + b`` in the chunk's dtype; (n_rows,) for one output, else (n_rows, K)."""
    eta = chunk.X @ B.astype(chunk.X.dtype, copy=False)
    eta += b.astype(chunk.X.dtype, copy=False)
    return eta[:, 0] if B.shape[1] == 1 else eta


def _as_columns(values: np.ndarray) -> np.ndarray:
    return values[:, None] if values.ndim == 1 else values


def loss_grad(
    chunk: Chunk, loss: Loss, B: np.ndarray, b: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(sum w*l, X.T @ (w*g), sum w*g)`` at ``(B, b)``, in float64.

    ``g`` is the derivative of the loss with respect to ``eta``; the gradients of the
    coefficients (n_features, K) and intercepts (K,) follow from these sums.
    """
    eta = linear_predictor(chunk, B, b)
    values, gradient = loss.loss_gradient(chunk.y, eta)
    gradient = _as_columns(_weighted(chunk, gradient))
    grad_B = (chunk.X.T @ gradient.astype(chunk.X.dtype, copy=False)).astype(np.float64)
    return (
        float(_weighted(chunk, values).sum(dtype=np.float64)),
        grad_B,
        gradient.sum(axis=0, dtype=np.float64),
    )


def loss_grad_hess(
    chunk: Chunk, loss: Loss, B: np.ndarray, b: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``loss_grad`` plus the Hessian of the weighted loss sum in the raw parameters.

    The raw parameters are ``[B; b]`` of shape (n_features + 1, K); the Hessian is returned
    as shape (n_features + 1, K, n_features + 1, K): ``sum_i w_i * z_i z_i' (x) h_i`` with
    ``z_i = [x_i, 1]`` and ``h_i`` the (K, K) second derivative of the loss in ``eta``.
    """
    X = chunk.X
    eta = linear_predictor(chunk, B, b)
    values, _ = loss.loss_gradient(chunk.y, eta)
    gradient, hessian = loss.gradient_hessian(chunk.y, eta)
    gradient = _as_columns(_weighted(chunk, gradient))
    n, d = X.shape
    K = B.shape[1]
    hessian = hessian.reshape(n, 1, 1) if hessian.ndim == 1 else hessian
    if chunk.w is not None:
        hessian = hessian * chunk.w[:, None, None]
    H = np.empty((d + 1, K, d + 1, K))
    for a in range(K):
        for c in range(a, K):
            D = hessian[:, a, c]
            XD = X * D.astype(X.dtype, copy=False)[:, None]
            block = np.empty((d + 1, d + 1))
            block[:d, :d] = X.T @ XD
            block[:d, d] = block[d, :d] = XD.sum(axis=0, dtype=np.float64)
            block[d, d] = D.sum(dtype=np.float64)
            H[:, a, :, c] = block
            H[:, c, :, a] = block.T
    grad_B = (X.T @ gradient.astype(X.dtype, copy=False)).astype(np.float64)
    return (
        float(_weighted(chunk, values).sum(dtype=np.float64)),
        grad_B,
        gradient.sum(axis=0, dtype=np.float64),
        H,
    )


def loss_grads_on_line(
    chunk: Chunk, loss: Loss, start: tuple[np.ndarray, np.ndarray],
    end: tuple[np.ndarray, np.ndarray], fractions: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss sums and gradient sums at several points on the line from ``start`` to ``end``.

    The points are ``start + f * (end - start)`` for ``f`` in ``fractions`` (any real, e.g.
    1 and 1 + momentum for an accelerated method). One product of X with both coefficient
    blocks gives every predictor, and one product of X' with all the gradient columns gives
    every gradient. Returns ``(losses (m,), X' G (n_features, K, m), G sums (K, m))``.
    """
    K = start[0].shape[1]
    m = len(fractions)
    X = chunk.X
    etas = X @ np.hstack([start[0], end[0]]).astype(X.dtype, copy=False)
    eta0 = etas[:, :K] + start[1]
    delta = etas[:, K:] + end[1] - eta0
    losses = np.empty(m)
    gradients = np.empty((X.shape[0], K, m))
    for i, f in enumerate(fractions):
        eta = eta0 + f * delta
        values, g = loss.loss_gradient(chunk.y, eta[:, 0] if K == 1 else eta)
        losses[i] = _weighted(chunk, values).sum(dtype=np.float64)
        gradients[:, :, i] = _as_columns(_weighted(chunk, g))
    flat = gradients.reshape(X.shape[0], K * m).astype(X.dtype, copy=False)
    grad_B = (X.T @ flat).astype(np.float64).reshape(-1, K, m)
    return losses, grad_B, gradients.sum(axis=0)


def centred_gram(
    chunk: Chunk, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sufficient statistics of weighted least squares about given means, in float64.

    Returns ``(Xc' W Xc, Xc' W yc, yc' W yc)`` with ``Xc = X - x_mean`` and
    ``yc = y - y_mean``, shapes (d, d), (d,), scalar. Centring here, on each chunk, keeps
    the statistics exact for features with a large offset (no ``X'X - n mu mu'``).
    """
    Xc = chunk.X.astype(np.float64) - x_mean
    yc = chunk.y - y_mean
    wX = Xc if chunk.w is None else Xc * chunk.w[:, None]
    wy = yc if chunk.w is None else yc * chunk.w
    return wX.T @ Xc, wX.T @ yc, float(wy @ yc)


def line_losses(
    chunk: Chunk, loss: Loss, start: tuple[np.ndarray, np.ndarray],
    end: tuple[np.ndarray, np.ndarray], fractions: np.ndarray,
) -> np.ndarray:
    """Loss sums at the points a fraction ``f`` of the way from ``start`` to ``end``.

    ``start`` and ``end`` are ``(B, b)``. Both linear predictors come from one read of X
    (one product with the two coefficient blocks side by side); since ``eta`` is linear in
    the parameters, every trial point's predictor is then ``eta0 + f * (eta1 - eta0)`` and
    scoring any number of trial steps reads X no more. Returns shape (len(fractions),).
    """
    K = start[0].shape[1]
    coefs = np.hstack([start[0], end[0]]).astype(chunk.X.dtype, copy=False)
    etas = chunk.X @ coefs
    eta0 = etas[:, :K] + start[1]
    delta = etas[:, K:] + end[1] - eta0
    if K == 1:
        eta0, delta = eta0[:, 0], delta[:, 0]
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
    step the result is a synchronous mini-batch step on the union of the chunks' batches;
    with several, each chunk steps on its own and the driver averages the models.
    """

    seed: int
    epoch: int
    round: int
    n_rounds: int
    learning_rates: tuple[float, ...]
    penalty: ElasticNet  # on the mean-loss scale; its prox is applied after each step
    feature_mean: np.ndarray | None  # centring used by the parametrisation, or None
    fit_intercept: bool
    n_outputs: int


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
    """Local (proximal) SGD steps on this chunk's share of the round's mini-batch.

    ``theta`` is the flat parameter vector of shape ((n_features + fit_intercept) * K,)
    (see ``Objective``). Returns ``(weight * theta_local, weight, weighted loss sum)`` where
    ``weight`` is the total sample weight the chunk used and the loss is taken before each
    local step; the driver divides the sums to average the local models.
    """
    rows = _batch_rows(chunk, chunk_id, spec)
    Theta = theta.reshape(-1, spec.n_outputs).copy()
    total_weight = 0.0
    total_loss = 0.0
    d = chunk.X.shape[1]
    for batch, lr in zip(np.array_split(rows, len(spec.learning_rates)), spec.learning_rates):
        if batch.size == 0:
            continue
        X = chunk.X[batch]
        w = np.ones(batch.size) if chunk.w is None else chunk.w[batch]
        B = Theta[:d]
        b = np.zeros(spec.n_outputs)
        if spec.fit_intercept:
            shift = 0.0 if spec.feature_mean is None else spec.feature_mean @ B
            b = Theta[d] - shift
        eta = X @ B.astype(X.dtype, copy=False) + b
        values, gradient = loss.loss_gradient(chunk.y[batch], eta[:, 0] if B.shape[1] == 1
                                              else eta)
        batch_weight = float(w.sum())
        total_weight += batch_weight
        total_loss += float(w @ values)
        v = _as_columns(gradient) * (w / batch_weight)[:, None]
        grad = np.empty_like(Theta)
        grad[:d] = (X.T @ v.astype(X.dtype)).astype(np.float64)
        if spec.fit_intercept:
            grad_b = v.sum(axis=0)
            if spec.feature_mean is not None:
                grad[:d] -= np.outer(spec.feature_mean, grad_b)
            grad[d] = grad_b
        Theta -= lr * grad
        Theta[:d] = spec.penalty.prox(Theta[:d], lr)
    return total_weight * Theta.reshape(-1), total_weight, total_loss


def predict_linear(X: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Decision values ``X @ coef.T + intercept`` of a block of rows, in float64.

    ``coef`` is (K, n_features) and ``intercept`` (K,); the result is (n_rows,) when K == 1
    and (n_rows, K) otherwise (used by ``map_blocks``).
    """
    eta = np.asarray(X, dtype=np.float64) @ coef.T + intercept
    return eta[:, 0] if coef.shape[0] == 1 else eta


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
