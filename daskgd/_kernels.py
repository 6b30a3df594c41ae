"""Per-chunk NumPy code run inside the engine's tasks. No dask here.

Every kernel takes one row chunk and returns *additive* partial results: the engine adds
them up over a fixed summation tree of the chunks (``tree_partials``), so the total does not
depend on which worker held which chunk. Every product and sum is computed in float64 even
when X is float32: the oracle kernels are wrapped by ``row_blocks``, which runs them a
cache-sized block of rows at a time (X read from memory once per pass) and keeps a float32 X
float32 in memory, converting one block at a time to float64.

X is a dense C-contiguous array or a ``scipy.sparse.csr_array``; the kernels keep a sparse X
sparse (products with it, never a dense copy of it). The helpers ``_scale_rows``,
``_column_sums`` and ``_dense_product`` hide the difference where the two need other calls.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
import ctypes
import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse
import threadpoolctl

from daskgd.losses import Loss
from daskgd.penalties import ElasticNet


class Chunk(NamedTuple):
    """One block of rows, as held by a worker.

    X : (n_rows, n_features) float32 or float64, C-contiguous, or a canonical
        ``scipy.sparse.csr_array`` of float32 or float64
    y : (n_rows,) float64 (class codes for classifiers; raw labels before encoding)
    w : (n_rows,) float64 sample weights, or None for unit weights
    """

    X: Any  # np.ndarray or scipy.sparse.csr_array
    y: np.ndarray
    w: np.ndarray | None

    def load(self) -> Chunk:
        """The chunk itself: it is in memory (a streamed chunk computes its block here)."""
        return self

    def encoded(self, classes: np.ndarray, factors: np.ndarray | None) -> Chunk:
        """The chunk with its labels encoded (:func:`encode_labels`)."""
        return encode_labels(self, classes, factors)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Re-align on arrival: a chunk sent to another process lands at any byte offset.
        return (_aligned_chunk, (self.X, self.y, self.w))


def _aligned_chunk(X: Any, y: np.ndarray, w: np.ndarray | None) -> Chunk:
    # A CSR chunk is left as it is: sparse products are plain loops over the stored
    # entries, whose rounding does not depend on where the arrays start in memory.
    X = X if scipy.sparse.issparse(X) else _aligned(X)
    return Chunk(X, _aligned(y), None if w is None else _aligned(w))


def feature_dtype(dtype: np.dtype) -> np.dtype:
    """The float dtype a numeric X is computed in: float32 stays float32, the rest float64."""
    return np.dtype(dtype) if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def as_csr(X: Any) -> Any:
    """A scipy.sparse matrix or array of any format as a canonical float ``csr_array``.

    Canonical (sorted indices, no duplicates) so that every kernel sees one layout; X itself
    is never modified (a non-canonical input is copied before its duplicates are summed).
    """
    out = scipy.sparse.csr_array(X, dtype=feature_dtype(X.dtype))
    if not out.has_canonical_format:
        out = out.copy()
        out.sum_duplicates()
    return out


def hstack_blocks(blocks: Sequence[Any]) -> Any:
    """Join the column blocks of one row block (dense, or sparse as a canonical CSR)."""
    if any(scipy.sparse.issparse(b) for b in blocks):
        return as_csr(scipy.sparse.hstack(blocks, format="csr"))
    return np.hstack(blocks)


def nbytes(X: Any) -> int:
    """Memory held by a dense X, or by a CSR X's data, indices and indptr."""
    if scipy.sparse.issparse(X):
        return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
    return int(X.nbytes)


def make_chunk(X: Any, y: np.ndarray, w: np.ndarray | None) -> Chunk:
    """Assemble a chunk from aligned blocks, fixing dtypes and memory layout once.

    A sparse block (any scipy.sparse format) becomes a canonical CSR array.
    """
    if scipy.sparse.issparse(X):
        X = as_csr(X)
    elif X.dtype not in (np.float32, np.float64):
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
    if a.dtype.hasobject:
        return np.ascontiguousarray(a)  # raw labels before encoding: no arithmetic on them
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


def _is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA (whose comparisons give neither True nor False)."""
    try:
        return value is None or bool(value != value)
    except TypeError:
        return True


def check_labels(y: np.ndarray) -> None:
    """Raise a ``ValueError`` for object labels that cannot be classes.

    Missing labels (None or NaN) and a mix of strings and numbers are refused, as
    scikit-learn refuses them, instead of failing in ``np.unique`` or being silently turned
    into strings. Only object arrays can hold either, so other dtypes return at once.
    """
    if y.dtype != object:
        return
    is_str = np.fromiter((isinstance(v, str) for v in y), dtype=bool, count=y.size)
    missing = [v for v in y[~is_str] if _is_missing(v)]
    if missing:
        raise ValueError(
            f"y contains missing labels ({missing[0]!r}); remove those rows or give them a "
            "label first."
        )
    if is_str.any() and not is_str.all():
        raise ValueError(
            f"y mixes strings and numbers as labels (e.g. {y[is_str][0]!r} and "
            f"{y[~is_str][0]!r}); give every label the same type."
        )


def chunk_stats(chunk: Chunk, classify: bool) -> ChunkStats:
    """Check one chunk for non-finite or invalid values and sum what the fit needs."""
    X, y, w = chunk
    n, d = X.shape
    bad_X = first_non_finite(X)
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
        weighted_X_sum, weighted_X_sq_sum = _weighted_column_sums(X, weights)
    else:
        weight_sum, weighted_X_sum, weighted_X_sq_sum = 0.0, np.zeros(d), np.zeros(d)
    labels = label_weights = None
    weighted_y_sum, y_min = 0.0, np.inf
    if classify:
        check_labels(y)
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


def first_non_finite(X: Any) -> tuple[int, int] | None:
    """(row, column) of the first non-finite entry of X in row-major order, or None."""
    if scipy.sparse.issparse(X):
        # Only stored entries can be non-finite; canonical CSR stores them in row-major order.
        bad = np.flatnonzero(~np.isfinite(X.data))
        if not bad.size:
            return None
        row = np.searchsorted(X.indptr, bad[0], side="right") - 1
        return int(row), int(X.indices[bad[0]])
    finite = np.isfinite(X)
    if finite.all():
        return None
    row, col = np.argwhere(~finite)[0]
    return int(row), int(col)


def _weighted_column_sums(X: Any, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sum_i w_i x_i, sum_i w_i x_i**2)``, each (n_features,) float64."""
    if scipy.sparse.issparse(X):
        data = X.data.astype(np.float64)
        squares = scipy.sparse.csr_array((data * data, X.indices, X.indptr), shape=X.shape)
        return X.T @ w, squares.T @ w
    w_x = w.astype(X.dtype)
    return (w_x @ X).astype(np.float64), np.einsum("i,ij,ij->j", w_x, X, X, dtype=np.float64)


def _scale_rows(X: Any, v: np.ndarray) -> Any:
    """``diag(v) @ X``, kept sparse (CSR) for a sparse X."""
    if scipy.sparse.issparse(X):
        data = X.data * np.repeat(v, np.diff(X.indptr)).astype(X.data.dtype, copy=False)
        return scipy.sparse.csr_array((data, X.indices, X.indptr), shape=X.shape)
    return X * v[:, None]


def _column_sums(X: Any) -> np.ndarray:
    """Column sums of a dense or sparse X, (n_features,) float64."""
    return np.asarray(X.sum(axis=0, dtype=np.float64)).reshape(-1)


def _dense_product(A: Any, B: Any) -> np.ndarray:
    """``A @ B`` as a dense array; for sparse A and B the small result is densified."""
    out = A @ B
    return out.toarray() if scipy.sparse.issparse(out) else out


def _symmetric_gram(X: np.ndarray) -> np.ndarray:
    """``X' X`` (d, d) of a dense float64 X by BLAS's symmetric rank-k update (one
    triangle computed; ``X.T`` is a Fortran-ordered view that BLAS reads without a copy)."""
    upper = scipy.linalg.blas.dsyrk(1.0, X.T, trans=0)
    return np.triu(upper) + np.triu(upper, 1).T


def _weighted_gram(X: Any, D: np.ndarray) -> np.ndarray:
    """``X' diag(D) X`` (d, d) float64.

    For a dense float64 X and ``D >= 0`` (the Hessian weights of convex losses) BLAS's
    symmetric rank-k update on ``diag(sqrt(D)) X`` computes one triangle: half the
    arithmetic of the general product.
    """
    if scipy.sparse.issparse(X) or X.dtype != np.float64 or not (D >= 0).all():
        return _dense_product(X.T, _scale_rows(X, D.astype(X.dtype, copy=False)))
    return _symmetric_gram(X * np.sqrt(D)[:, None])


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


# ---------------------------------------------------------------- float64 arithmetic on float32 X

#: Bytes of one block of rows of a dense X in a fused kernel: small enough that the block
#: stays in a core's cache between the products that read it (``X @ B``, then ``X' g``), so
#: X is read from memory once per pass. A float32 block is converted to float64 first.
BLOCK_BYTES = 2 * 2**20


def add_results(results: Sequence[Any]) -> Any:
    """Elementwise sum of additive kernel results (numbers, arrays or tuples of them), in order."""
    total = results[0]
    for r in results[1:]:
        total = _add(total, r)
    return total


def _block_rows(X: Any) -> int:
    """Rows per block of a dense X: a multiple of 8, so that every block of an aligned
    chunk starts on an ``ALIGNMENT``-byte boundary (rounding independent of the block)."""
    row_bytes = 8 * max(X.shape[1], 1)  # float64 bytes, also for a float32 X
    return max(8, BLOCK_BYTES // row_bytes // 8 * 8)


def row_blocks(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """Run an additive kernel on a dense chunk a cache-sized block of rows at a time.

    Each block is read from memory once for all the products the kernel makes with it,
    and the block results are added in float64, in order. A float32 X keeps half the
    memory and traffic of float64, but BLAS products of float32 operands also
    *accumulate* in float32 (about 7 digits, lost over long sums): its blocks are
    converted to float64 before the kernel sees them, so a float32 chunk gives the sums
    of its float64 upcast (to rounding) without a float64 copy of the whole chunk.
    A sparse float64 chunk is passed through whole; a sparse float32 one in blocks.
    """

    @functools.wraps(kernel)
    def blocked(chunk: Chunk, *args: Any) -> Any:
        X = chunk.X
        sparse = scipy.sparse.issparse(X)
        n = X.shape[0]
        rows = _block_rows(X)
        if (sparse and X.dtype != np.float32) or (n <= rows and X.dtype == np.float64):
            return kernel(chunk, *args)
        return add_results([
            kernel(
                Chunk(
                    X[start : start + rows].astype(np.float64, copy=False),
                    chunk.y[start : start + rows],
                    None if chunk.w is None else chunk.w[start : start + rows],
                ),
                *args,
            )
            for start in range(0, max(n, 1), rows)
        ])

    return blocked


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


@row_blocks
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


@row_blocks
def loss_grad_hess(
    chunk: Chunk, loss: Loss, B: np.ndarray, b: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``loss_grad`` plus the Hessian of the weighted loss sum in the raw parameters.

    The raw parameters are ``[B; b]`` of shape (n_features + 1, K); the Hessian is returned
    as shape (n_features + 1, K, n_features + 1, K): ``sum_i w_i * z_i z_i' (x) h_i`` with
    ``z_i = [x_i, 1]`` and ``h_i`` the (K, K) second derivative of the loss in ``eta``.
    For a sparse X the blocks ``X' D X`` come from a sparse product and are returned dense.
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
            block = np.empty((d + 1, d + 1))
            if a == c:
                block[:d, :d] = _weighted_gram(X, D)
            else:
                block[:d, :d] = _dense_product(X.T, _scale_rows(X, D.astype(X.dtype, copy=False)))
            # sum_i D_i x_i as a product: no scaled copy of X needed for it.
            block[:d, d] = block[d, :d] = np.asarray(X.T @ D.astype(X.dtype, copy=False),
                                                     dtype=np.float64).reshape(-1)
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


@row_blocks
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


@row_blocks
def centred_gram(
    chunk: Chunk, x_mean: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sufficient statistics of weighted least squares about given means, in float64.

    Returns ``(Xc' W Xc, Xc' W yc, yc' W yc)`` with ``Xc = X - x_mean`` and
    ``yc = y - y_mean``, shapes (d, d), (d,), scalar. Centring a dense X here, on each
    chunk, keeps the statistics exact for features with a large offset (no
    ``X'X - n mu mu'``).

    A sparse X cannot be centred without filling it in. Its mostly non-zero columns are
    centred exactly as dense columns (see ``_split_dense_columns``); the others use the
    uncentred sums corrected with their means, which is exact enough because a column that
    is mostly zero has a mean no larger than its spread.
    """
    yc = chunk.y - y_mean
    wy = yc if chunk.w is None else yc * chunk.w
    if scipy.sparse.issparse(chunk.X):
        X = chunk.X.astype(np.float64)
        w = np.ones(X.shape[0]) if chunk.w is None else chunk.w
        sparse, S, dense, Dc = _split_dense_columns(X, x_mean)
        xy = np.empty(X.shape[1])
        xy[sparse] = S.T @ wy - x_mean[sparse] * wy.sum()
        xy[dense] = Dc.T @ wy
        return _sparse_centred_gram(X, w, x_mean), xy, float(wy @ yc)
    Xc = chunk.X.astype(np.float64) - x_mean
    gram = _symmetric_gram(Xc) if chunk.w is None else _weighted_gram(Xc, chunk.w)
    # Xc' W yc as Xc' (w * yc): no weighted copy of the block.
    return gram, Xc.T @ wy, float(wy @ yc)


@dataclass(frozen=True)
class Moments:
    """Weighted least-squares statistics of a set of rows about a point near their means.

    weight : S, the total sample weight
    x_point : (n_features,) and y_point : the point the rows are centred on, close to their
        weighted means (a chunk's computed means, or a merge of those)
    x_offset : (n_features,) ``sum_i w_i (x_i - x_point)``; y_offset : the same for y
        (near zero: what the point misses of the true means)
    xx : (n_features, n_features) ``Xc' W Xc``; xy : (n_features,) ``Xc' W yc``;
        yy : ``yc' W yc`` (``Xc``, ``yc`` centred on the point)

    ``a + b`` is the statistics of the two sets of rows together, about a point between
    theirs, by the parallel-axis update (Chan, Golub and LeVeque). The offsets carry
    what a rounded mean cannot hold: a feature of offset 1e8 has chunk means that differ
    by ~0.1 but are held to ~1e-8 each, so an update through the means alone loses ~1e-7
    of the between-chunk spread. Here every shift is by the difference of two stored
    points, which is exact, and the offsets make up the rest; the result stays exact for
    features with large offsets, and the summation tree adds Moments like any other
    kernel result.
    """

    weight: float
    x_point: np.ndarray
    y_point: float
    x_offset: np.ndarray
    y_offset: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float

    @classmethod
    def empty(cls, n_features: int) -> Moments:
        """The statistics of no rows (the identity of ``+``)."""
        zeros = np.zeros(n_features)
        return cls(0.0, zeros, 0.0, zeros, 0.0, np.zeros((n_features, n_features)), zeros,
                   0.0)

    def __add__(self, other: Moments) -> Moments:
        if other.weight == 0.0:
            return self
        if self.weight == 0.0:
            return other
        weight = self.weight + other.weight
        share = other.weight / weight
        x_point = self.x_point + share * (other.x_point - self.x_point)
        y_point = self.y_point + share * (other.y_point - self.y_point)
        a, b = self.moved(x_point, y_point), other.moved(x_point, y_point)
        return Moments(weight, x_point, y_point, a[0] + b[0], a[1] + b[1], a[2] + b[2],
                       a[3] + b[3], a[4] + b[4])

    @property
    def x_mean(self) -> np.ndarray:
        """(n_features,) weighted mean of the rows of X (zeros for no rows)."""
        return self.x_point + self.x_offset / self.weight if self.weight else self.x_point

    @property
    def y_mean(self) -> float:
        """Weighted mean of y (zero for no rows)."""
        return self.y_point + self.y_offset / self.weight if self.weight else self.y_point

    def moved(
        self, x_point: np.ndarray, y_point: float
    ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float]:
        """``(x_offset, y_offset, xx, xy, yy)`` about another point."""
        ex, ey = self.x_point - x_point, self.y_point - y_point
        cross = np.outer(self.x_offset, ex)
        return (
            self.x_offset + self.weight * ex,
            self.y_offset + self.weight * ey,
            self.xx + cross + cross.T + self.weight * np.outer(ex, ex),
            self.xy + self.x_offset * ey + ex * self.y_offset + self.weight * ey * ex,
            self.yy + 2.0 * self.y_offset * ey + self.weight * ey * ey,
        )

    def about(self, x_point: np.ndarray, y_point: float) -> tuple[np.ndarray, np.ndarray, float]:
        """``(Xc' W Xc, Xc' W yc, yc' W yc)`` with X and y centred on other points instead
        (``x_point`` zero: not centred), as ``centred_gram`` would give them."""
        return self.moved(x_point, y_point)[2:]


def chunk_moments(chunk: Chunk, stats: ChunkStats) -> Moments:
    """The chunk's :class:`Moments`, about its own weighted means (from ``stats``)."""
    d = chunk.X.shape[1]
    if stats.weight_sum <= 0.0:  # no rows, all weights zero, or invalid values
        return Moments.empty(d)
    x_point = stats.weighted_X_sum / stats.weight_sum
    y_point = stats.weighted_y_sum / stats.weight_sum
    x_offset, y_offset = centred_sums(chunk, x_point, y_point)
    xx, xy, yy = centred_gram(chunk, x_point, y_point)
    return Moments(stats.weight_sum, x_point, y_point, x_offset, y_offset, xx, xy, yy)


@row_blocks
def centred_sums(chunk: Chunk, x_point: np.ndarray, y_point: float) -> tuple[np.ndarray, float]:
    """``(sum_i w_i (x_i - x_point), sum_i w_i (y_i - y_point))`` in float64.

    Summed after the subtraction, so they are exact to the spread of the data, not to its
    offset (for a sparse X, as in ``centred_gram``: exact for its mostly non-zero columns).
    """
    w = np.ones(chunk.X.shape[0]) if chunk.w is None else chunk.w
    y_sum = float(w @ (chunk.y - y_point))
    if scipy.sparse.issparse(chunk.X):
        X = chunk.X.astype(np.float64)
        sparse, S, dense, Dc = _split_dense_columns(X, x_point)
        x_sum = np.empty(X.shape[1])
        x_sum[sparse] = S.T @ w - x_point[sparse] * w.sum()
        x_sum[dense] = w @ Dc
        return x_sum, y_sum
    return w @ (chunk.X.astype(np.float64) - x_point), y_sum


def _split_dense_columns(
    X: Any, mean: np.ndarray
) -> tuple[np.ndarray, Any, np.ndarray, np.ndarray]:
    """The columns of a float64 CSR X: the mostly zero ones, and the others centred densely.

    Only a column stored mostly non-zero can have a mean large against its spread (a
    column with a fraction ``p`` of non-zeros of size ``v`` has ``mean**2 / var`` about
    ``p / (1 - p)``), e.g. a feature with a constant offset, and only there would
    correcting uncentred sums with the mean cancel digits away. Densifying those columns
    costs about what storing them sparsely does.

    Returns ``(sparse index, X[:, sparse] as CSR, dense index, X[:, dense] - mean[dense])``.
    """
    counts = np.bincount(X.indices, minlength=X.shape[1])
    dense = np.flatnonzero(2 * counts > X.shape[0])
    sparse = np.flatnonzero(2 * counts <= X.shape[0])
    centred = X[:, dense].toarray() - mean[dense] if dense.size else np.empty((X.shape[0], 0))
    return sparse, X[:, sparse], dense, centred


def _sparse_centred_gram(X: Any, w: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``sum_i w_i (x_i - mean)(x_i - mean)'`` of a float64 CSR X, shape (d, d).

    Mostly non-zero columns are centred exactly (``_split_dense_columns``); for the sparse
    block ``S' W S - s m' - m s' + (sum w) m m'`` with ``s = S' w``, and the cross block
    ``S' W Dc - m (w' Dc)``.
    """
    sparse, S, dense, Dc = _split_dense_columns(X, mean)
    m = mean[sparse]
    s = S.T @ w
    cross = np.outer(s, m)
    G = np.empty((X.shape[1], X.shape[1]))
    G[np.ix_(sparse, sparse)] = (
        _dense_product(S.T, _scale_rows(S, w)) - cross - cross.T + w.sum() * np.outer(m, m)
    )
    wD = Dc * w[:, None]
    G[np.ix_(dense, dense)] = wD.T @ Dc
    between = np.asarray(S.T @ wD) - np.outer(m, wD.sum(axis=0))
    G[np.ix_(sparse, dense)] = between
    G[np.ix_(dense, sparse)] = between.T
    return G


@row_blocks
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


# ---------------------------------------------------------------- SGD
#
# Rows are addressed by their *global positive-row index*: the rank of a positive-weight row
# among all positive-weight rows, in chunk order. A keyed pseudorandom permutation of those
# indices (a Feistel network) orders each epoch and picks the held-out rows. Every chunk can
# find which of its rows a round takes from the round's ranks alone, so the batches depend
# neither on how the rows are split into chunks, nor on where the chunks live, nor on rows of
# zero weight (which have no index).

FEISTEL_ROUNDS = 6
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _feistel(x: np.ndarray, half: int, keys: Sequence[int], inverse: bool) -> np.ndarray:
    shift, mask = np.uint64(half), np.uint64((1 << half) - 1)
    left, right = x >> shift, x & mask
    if inverse:
        for key in reversed(keys):
            left, right = right ^ (_mix(left ^ np.uint64(key)) & mask), left
    else:
        for key in keys:
            left, right = right, left ^ (_mix(right ^ np.uint64(key)) & mask)
    return (left << shift) | right


def permute(index: np.ndarray, n: int, keys: Sequence[int], inverse: bool = False) -> np.ndarray:
    """A keyed pseudorandom permutation of ``range(n)`` applied to ``index`` (or its inverse).

    A balanced Feistel network on the smallest even number of bits covering ``n``, restricted
    to ``range(n)`` by cycle walking (at most ~4 network passes per element on average). Any
    element is mapped in O(1), so a chunk maps only the indices it needs.

    Parameters
    ----------
    index : ndarray of int, values in [0, n)
    n : int
    keys : sequence of int
        One 64-bit round key per Feistel round.
    inverse : bool, default=False

    Returns
    -------
    ndarray of uint64, index's shape
    """
    out = np.asarray(index, dtype=np.uint64).copy()
    if n <= 1 or out.size == 0:
        return out
    bits = max(2, int(n - 1).bit_length())
    half = (bits + 1) // 2
    out = _feistel(out, half, keys, inverse)
    todo = np.flatnonzero(out >= n)
    while todo.size:
        out[todo] = _feistel(out[todo], half, keys, inverse)
        todo = todo[out[todo] >= n]
    return out


def positive_rows(chunk: Chunk) -> np.ndarray:
    """Local indices of the rows with a positive weight (every row without weights)."""
    return np.arange(chunk.X.shape[0]) if chunk.w is None else np.flatnonzero(chunk.w > 0)


def positive_count(chunk: Chunk) -> int:
    """How many rows of the chunk have a positive weight (the SGD row numbering)."""
    return int(positive_rows(chunk).size)


@dataclass(frozen=True)
class SGDLayout:
    """How the rows of all chunks are numbered, shuffled and held out; the same every round.

    ``offsets[c]`` is the global positive-row index of chunk ``c``'s first positive row
    (``offsets[-1]`` = ``n_rows``, all positive rows). When ``holdout_keys`` is set, the
    rows whose index maps below ``n_holdout`` under that permutation are held out for
    validation: never trained on, scored each epoch.
    """

    offsets: tuple[int, ...]
    holdout_keys: tuple[int, ...] | None = None
    n_holdout: int = 0

    @property
    def n_rows(self) -> int:
        return self.offsets[-1]

    def held_out(self, index: np.ndarray) -> np.ndarray:
        """Whether each global index is a held-out (validation) row."""
        if self.holdout_keys is None:
            return np.zeros(index.shape, dtype=bool)
        return permute(index, self.n_rows, self.holdout_keys) < np.uint64(self.n_holdout)


@dataclass(frozen=True)
class SGDRound:
    """One round of distributed SGD, the same for every chunk.

    The round takes the rows ranked ``start .. stop - 1`` in the epoch's order: the inverse
    of the permutation keyed by ``order_keys`` (or the rows in order, when None), less the
    held-out rows. Each chunk splits its share, in rank order, into ``len(learning_rates)``
    local mini-batches. With one local step the result is one synchronous mini-batch step on
    the union of the chunks' rows; with several, each chunk steps on its own and the driver
    averages the models. The prox of the penalty follows every local step except a chunk's
    last, which the driver applies after averaging.
    """

    layout: SGDLayout
    order_keys: tuple[int, ...] | None
    start: int
    stop: int
    learning_rates: tuple[float, ...]
    penalty: ElasticNet  # on the mean-loss scale
    feature_mean: np.ndarray | None  # centring used by the parametrisation, or None
    fit_intercept: bool
    n_outputs: int


def _round_rows(chunk: Chunk, chunk_id: int, spec: SGDRound) -> np.ndarray:
    """Local indices of the chunk's rows in this round, in rank order."""
    layout = spec.layout
    lo, hi = layout.offsets[chunk_id], layout.offsets[chunk_id + 1]
    if lo == hi:
        return np.empty(0, dtype=np.intp)  # no positive weight: nothing to do
    ranks = np.arange(spec.start, spec.stop, dtype=np.uint64)
    index = ranks if spec.order_keys is None else permute(
        ranks, layout.n_rows, spec.order_keys, inverse=True
    )
    index = index[(index >= lo) & (index < hi)]
    index = index[~layout.held_out(index)]
    return positive_rows(chunk)[(index - np.uint64(lo)).astype(np.intp)]


def _raw(Theta: np.ndarray, d: int, spec: SGDRound) -> tuple[np.ndarray, np.ndarray]:
    """``(B, b)`` of the centred parameters ``Theta`` (see ``Objective``)."""
    B = Theta[:d]
    if not spec.fit_intercept:
        return B, np.zeros(spec.n_outputs)
    shift = 0.0 if spec.feature_mean is None else spec.feature_mean @ B
    return B, Theta[d] - shift


def sgd_round(
    chunk: Chunk, chunk_id: int, loss: Loss, theta: np.ndarray, spec: SGDRound
) -> tuple[np.ndarray, float, float]:
    """Local (proximal) SGD steps on this chunk's share of the round's rows.

    ``theta`` is the flat parameter vector of shape ((n_features + fit_intercept) * K,)
    (see ``Objective``). Returns ``(weight * (theta_local - theta), weight, loss sum)``:
    ``weight`` is the total sample weight of the rows the chunk used and the loss sum is
    weighted, each row's loss taken before the step that uses it. The driver divides the
    first sum by the total weight to average the local models.
    """
    rows = _round_rows(chunk, chunk_id, spec)
    if rows.size == 0:
        return np.zeros_like(theta), 0.0, 0.0
    Theta = theta.reshape(-1, spec.n_outputs).copy()
    total_weight = total_loss = 0.0
    d = chunk.X.shape[1]
    batches = [b for b in np.array_split(rows, len(spec.learning_rates)) if b.size]
    for j, (batch, lr) in enumerate(zip(batches, spec.learning_rates)):
        X = chunk.X[batch]
        w = np.ones(batch.size) if chunk.w is None else chunk.w[batch]
        B, b = _raw(Theta, d, spec)
        eta = X @ B.astype(X.dtype, copy=False) + b
        values, gradient = loss.loss_gradient(
            chunk.y[batch], eta[:, 0] if spec.n_outputs == 1 else eta
        )
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
        if j < len(batches) - 1:
            Theta[:d] = spec.penalty.prox(Theta[:d], lr)
    delta = Theta.reshape(-1) - theta
    return total_weight * delta, total_weight, total_loss


def sgd_sample_gram(
    chunk: Chunk, chunk_id: int, layout: SGDLayout, keys: tuple[int, ...], n_sample: int,
    x_mean: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Weighted Gram matrix about ``x_mean`` of this chunk's share of a uniform row sample.

    The sample is the rows ranked below ``n_sample`` by the permutation keyed by ``keys``
    (found from the ranks, so reading ``n_sample`` rows at most in all). Returns
    ``(sum w (x - x_mean)(x - x_mean)', sum w)``, shapes (n_features, n_features) and scalar.
    """
    d = chunk.X.shape[1]
    lo, hi = layout.offsets[chunk_id], layout.offsets[chunk_id + 1]
    if lo == hi:
        return np.zeros((d, d)), 0.0
    index = permute(np.arange(n_sample, dtype=np.uint64), layout.n_rows, keys, inverse=True)
    index = index[(index >= lo) & (index < hi)]
    rows = positive_rows(chunk)[(index - np.uint64(lo)).astype(np.intp)]
    w = np.ones(rows.size) if chunk.w is None else chunk.w[rows]
    if scipy.sparse.issparse(chunk.X):
        return _sparse_centred_gram(chunk.X[rows].astype(np.float64), w, x_mean), float(w.sum())
    Xc = chunk.X[rows].astype(np.float64) - x_mean
    return (Xc * w[:, None]).T @ Xc, float(w.sum())


def sgd_holdout_score(
    chunk: Chunk, chunk_id: int, B: np.ndarray, b: np.ndarray, layout: SGDLayout,
    classify: bool, y_shift: float,
) -> np.ndarray:
    """Additive sums of the validation score over this chunk's held-out rows.

    Classifiers: ``[sum w, sum w * (prediction == y)]`` (accuracy = ratio). Regressors:
    ``[sum w, sum w * r**2, sum w * y', sum w * y'**2]`` with ``r = y - eta`` and
    ``y' = y - y_shift`` (R² from these; the shift keeps the sums well conditioned).
    """
    size = 2 if classify else 4
    lo, hi = layout.offsets[chunk_id], layout.offsets[chunk_id + 1]
    if lo == hi:
        return np.zeros(size)
    index = np.arange(lo, hi, dtype=np.uint64)
    rows = positive_rows(chunk)[layout.held_out(index)]
    if rows.size == 0:
        return np.zeros(size)
    w = np.ones(rows.size) if chunk.w is None else chunk.w[rows]
    eta = linear_predictor(Chunk(chunk.X[rows], chunk.y[rows], None), B, b)
    y = chunk.y[rows].astype(np.float64)
    if classify:
        predicted = (eta > 0).astype(np.float64) if eta.ndim == 1 else np.argmax(eta, axis=1)
        return np.array([w.sum(), w @ (predicted == y)])
    residual = y - eta
    shifted = y - y_shift
    return np.array([w.sum(), w @ residual**2, w @ shifted, w @ shifted**2])


def predict_linear(X: Any, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Decision values ``X @ coef.T + intercept`` of a block of rows, in float64.

    ``X`` is dense or scipy.sparse (any format; the product keeps it sparse). ``coef`` is
    (K, n_features) and ``intercept`` (K,); the result is a dense (n_rows,) when K == 1 and
    (n_rows, K) otherwise (used by ``map_blocks``).

    Raises
    ------
    ValueError
        If the block holds NaN or infinity (as the in-memory check does; a dask ``X`` is
        only seen here, block by block). ``X`` is scanned only when a decision value is not
        finite, so finite blocks cost nothing extra.
    """
    if not scipy.sparse.issparse(X):
        X = np.asarray(X, dtype=np.float64)  # a sparse product upcasts to float64 itself
    eta = np.asarray(X @ coef.T) + intercept
    if not np.all(np.isfinite(eta)) and first_non_finite(
        X.tocsr() if scipy.sparse.issparse(X) else X
    ) is not None:
        raise ValueError("Input X contains NaN or infinity.")
    return eta[:, 0] if coef.shape[0] == 1 else eta


# ---------------------------------------------------------------- shards: what one task holds


class Shard(NamedTuple):
    """The chunks one worker holds for a fit, with their chunk ids (positions in the fit).

    One future per shard keeps the engine's per-call work (tasks, dependencies, messages)
    proportional to the number of workers, not of chunks.
    """

    ids: tuple[int, ...]
    chunks: tuple[Any, ...]  # Chunk, or a streamed chunk (``load()`` gives the Chunk)


def make_shard(
    ids: Sequence[int], X: Sequence[Any], y: Sequence[np.ndarray],
    w: Sequence[np.ndarray | None],
) -> Shard:
    """A shard from the row blocks of X, y and w (``make_chunk`` on each)."""
    return Shard(tuple(ids), tuple(make_chunk(*block) for block in zip(X, y, w)))


def encode_shard(
    shard: Shard, ids: Sequence[int], keep: Sequence[bool], classes: np.ndarray | None,
    factors: np.ndarray | None,
) -> Shard:
    """The shard's chunks with ``keep``, renumbered ``ids``, labels encoded when ``classes``."""
    chunks = [c for c, k in zip(shard.chunks, keep) if k]
    if classes is not None:
        chunks = [c.encoded(classes, factors) for c in chunks]
    return Shard(tuple(ids), tuple(chunks))


@functools.cache
def _blas_threads() -> threadpoolctl.ThreadpoolController:
    return threadpoolctl.ThreadpoolController()


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_MMAP_THRESHOLD = 128 * 2**10  # its default, fixed once any threshold is set


@functools.cache
def _glibc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_heap_lock = threading.Lock()
_heap_users = 0


#: Allocations from this size on are mapped (and unmapped when freed) while a task runs.
IN_MEMORY_MMAP_THRESHOLD = 32 * 2**20
#: The same for streamed shards: above a block's float64 temporaries (``row_blocks``), so
#: those stay in the heap, but below a typical chunk, so a streamed chunk's memory goes back
#: to the system as soon as it is dropped and a worker's memory stays a few chunks.
STREAMED_MMAP_THRESHOLD = 8 * 2**20


@contextlib.contextmanager
def _heap_kept(mmap_threshold: int = IN_MEMORY_MMAP_THRESHOLD) -> Iterator[None]:
    """Keep freed memory in the heap while kernels run; give it back when the task ends.

    dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes
    glibc's mmap threshold at 128 KiB: every temporary of a block (``X @ B``, ``D X``, ...)
    is then mapped and unmapped and its pages faulted in again, which made the Hessian
    kernel ~2.3x slower on a worker than in a plain process. Inside the task the thresholds
    are raised; at its end they are set back and the heap trimmed, as dask intends. (With
    several tasks at once in one worker, the first one's thresholds hold until all end.)
    """
    global _heap_users
    libc, trim = _glibc(), os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if libc is None or trim is None:
        yield
        return
    with _heap_lock:
        _heap_users += 1
        if _heap_users == 1:
            libc.mallopt(_M_TRIM_THRESHOLD, 256 * 2**20)
            libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                mmap = os.environ.get("MALLOC_MMAP_THRESHOLD_", _GLIBC_MMAP_THRESHOLD)
                libc.mallopt(_M_MMAP_THRESHOLD, int(mmap))
                libc.mallopt(_M_TRIM_THRESHOLD, int(trim))
                libc.malloc_trim(0)


def run_shard(
    kernel: Callable[..., Any], shard: Shard, args: tuple, pass_chunk_id: bool,
    n_chunks: int | None, split: bool = False,
) -> Any:
    """Run ``kernel`` over a shard's chunks, in chunk order.

    With ``pass_chunk_id`` the kernel is called as ``kernel(chunk, chunk_id, *args)`` (for
    per-chunk random streams), else as ``kernel(chunk, *args)``. Returns the per-chunk
    results, or, given the fit's ``n_chunks``, their partial sums over the summation tree
    (``tree_partials``). With ``split`` the kernel returns pairs ``(kept, added)``: the
    result is ``([kept, ...], partial sums of the added)``.

    Each chunk is ``load()``-ed first: a streamed chunk
    (``_streaming.LazyChunk``) is computed from its source there, the next one read while
    the kernel runs on it (``_loaded``), and released after its kernel, so a worker holds
    about two streamed blocks at a time.
    """
    # One BLAS thread per task, as dask's nannies set for worker processes: workers already
    # use every core, and threaded workers (LocalCluster(processes=False)) would otherwise
    # run cores x cores BLAS threads.
    # Streamed chunks themselves are not kept in the heap (their memory bound matters), but
    # their block temporaries are: mapping those afresh tripled a streamed pass's page faults.
    in_memory = all(isinstance(c, Chunk) for c in shard.chunks)
    heap = _heap_kept(IN_MEMORY_MMAP_THRESHOLD if in_memory else STREAMED_MMAP_THRESHOLD)
    with _blas_threads().limit(limits=1, user_api="blas"), heap:
        chunks = _loaded(shard.chunks)
        if pass_chunk_id:
            results = [kernel(c, i, *args) for i, c in zip(shard.ids, chunks)]
        else:
            results = [kernel(c, *args) for c in chunks]
    if n_chunks is None:
        return results
    if split:
        return [kept for kept, _ in results], tree_partials(
            shard.ids, [added for _, added in results], n_chunks)
    return tree_partials(shard.ids, results, n_chunks)


# ---------------------------------------------------------------- the summation tree
#
# Sums over chunks follow one fixed binary tree over the chunk ids 0..n-1 (node [lo, hi)
# = node [lo, mid) + node [mid, hi), mid = (lo + hi) // 2). A worker adds up every node
# whose chunks it holds all of and sends only those; the driver adds the rest of the tree.
# Every node is computed the same way wherever it is computed, so the total is the same to
# the last bit whichever worker holds which chunk, and a worker holding a contiguous run
# of chunks sends O(log n) partial sums instead of one result per chunk.


def _loaded(chunks: Sequence[Any]) -> Iterator[Chunk]:
    """The chunks in memory, in order. Chunks that are loaded from their source (streamed)
    are read one ahead in a thread, so reading the next overlaps the kernel on this one
    (file reads and decompression release the GIL)."""
    if all(isinstance(c, Chunk) for c in chunks):
        yield from chunks
        return
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="daskgd-read") as pool:
        ahead = pool.submit(chunks[0].load) if chunks else None
        for i in range(len(chunks)):
            assert ahead is not None
            current = ahead.result()
            ahead = pool.submit(chunks[i + 1].load) if i + 1 < len(chunks) else None
            yield current
            del current


def _add(a: Any, b: Any) -> Any:
    return tuple(x + y for x, y in zip(a, b)) if isinstance(a, tuple) else a + b


def tree_partials(ids: Sequence[int], results: Sequence[Any], n: int) -> dict[tuple[int, int], Any]:
    """Sums of the largest tree nodes whose chunks are all among ``ids``."""
    held = dict(zip(ids, results))
    ordered = sorted(held)
    partials: dict[tuple[int, int], Any] = {}

    def node_sum(lo: int, hi: int) -> Any:
        if hi - lo == 1:
            return held[lo]
        mid = (lo + hi) // 2
        return _add(node_sum(lo, mid), node_sum(mid, hi))

    def visit(lo: int, hi: int) -> None:
        count = bisect.bisect_left(ordered, hi) - bisect.bisect_left(ordered, lo)
        if count == hi - lo:
            partials[lo, hi] = node_sum(lo, hi)
        elif count:
            mid = (lo + hi) // 2
            visit(lo, mid)
            visit(mid, hi)

    visit(0, n)
    return partials


def tree_total(partials: dict[tuple[int, int], Any], n: int) -> Any:
    """The sum over all ``n`` chunks from the partial sums of every worker."""

    def node(lo: int, hi: int) -> Any:
        if (lo, hi) in partials:
            return partials[lo, hi]
        if hi - lo == 1:
            raise KeyError(f"no result for chunk {lo}")
        mid = (lo + hi) // 2
        return _add(node(lo, mid), node(mid, hi))

    return node(0, n)


def chunk_stats_kernel(chunk: Chunk, classify: bool) -> ChunkStats:
    """``chunk_stats`` as a kernel: the validation pass on the cluster."""
    return chunk_stats(chunk, classify)


def chunk_stats_moments_kernel(chunk: Chunk) -> tuple[ChunkStats, Moments]:
    """The validation pass of a least-squares fit that is solved from its Gram statistics:
    ``chunk_stats`` (regression) and the chunk's :class:`Moments`, from one read of it."""
    stats = chunk_stats(chunk, False)
    return stats, chunk_moments(chunk, stats)
