"""Input handling: NumPy, pandas, scipy.sparse, dask arrays and dask DataFrames -> row data.

Sparse input (scipy.sparse matrices and arrays of any format, and dask arrays whose chunks
are scipy.sparse) is kept sparse as canonical CSR (``_kernels.as_csr``). A dask X chunked
along columns keeps its column blocks here; ``join_column_blocks`` joins them per row block
(at placement for a fit, inside the lazy graph for a prediction).

Everything here runs on the driver and does no cluster work. ``as_fit_input`` checks what can
be checked without reading the data (types, shapes, dtypes, lengths), and ``summarise``
turns the per-chunk statistics of the validation pass (see ``_kernels.chunk_stats``) into the
numbers a fit needs, raising a clear ``ValueError`` for non-finite or invalid values.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.exceptions import DataConversionWarning

from daskgd._kernels import ChunkStats, Moments, as_csr, check_labels, feature_dtype, hstack_blocks


def _is_dask_collection(obj: Any) -> bool:
    return (hasattr(obj, "__dask_graph__") and hasattr(obj, "dtype")) or _is_dask_frame(obj)


def _is_dask_frame(obj: Any) -> bool:
    module = type(obj).__module__
    return module.startswith("dask") and hasattr(obj, "to_dask_array")


@dataclass
class FitInput:
    """Validated, aligned fit data.

    X : (n_samples, n_features) float32 or float64: a numpy array, a canonical
        ``scipy.sparse.csr_array``, or a dask array of either (possibly with several column
        blocks, joined per row block at placement)
    y : (n_samples,) numpy or dask array (raw targets or labels)
    sample_weight : (n_samples,) float64 numpy or dask array, or None
    """

    # Typed Any: numpy or dask arrays, as ``is_dask`` says (both sides of the engine use them).
    X: Any
    y: Any
    sample_weight: Any
    feature_names: np.ndarray | None

    @property
    def is_dask(self) -> bool:
        return isinstance(self.X, da.Array)

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def _feature_dtype(dtype: np.dtype, where: str) -> np.dtype:
    """The float dtype features are kept in: float32 stays float32, the rest become float64."""
    if dtype.kind in "biuf":
        return feature_dtype(dtype)
    if dtype.kind == "c":  # as scikit-learn's message for NumPy input (_numeric_array)
        raise ValueError(f"Complex data not supported: {where} has dtype {dtype}.")
    raise ValueError(
        f"{where} must be numeric; got dtype {dtype}. Encode text or categorical features "
        "first (e.g. sklearn.preprocessing.OneHotEncoder or OrdinalEncoder)."
    )


def _frame_to_numpy(frame: pd.DataFrame, name: str) -> np.ndarray:
    bad = [
        f"{col!r} ({dtype})"
        for col, dtype in frame.dtypes.items()
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"{name} has non-numeric columns: {', '.join(bad)}. Encode them first "
            "(e.g. sklearn.preprocessing.OneHotEncoder or OrdinalEncoder)."
        )
    # Nullable dtypes: missing values become NaN and are reported by the validation pass.
    return frame.to_numpy(dtype=np.float64, na_value=np.nan) if frame.shape[1] else np.empty(
        (frame.shape[0], 0)
    )


def dask_frame_values(frame: Any) -> da.Array:
    """A numeric dask DataFrame or Series as a dask array of its values.

    Columns of mixed, boolean or nullable dtypes (``Float64``, ``Int64``, ``boolean``) are
    converted to float64 partition by partition, ``pd.NA`` becoming NaN (reported by the
    validation pass), as ``_frame_to_numpy`` does for pandas input: ``to_dask_array`` alone
    would give an object array. Frames of one NumPy dtype keep it (float32 stays float32).
    """
    meta = frame._meta
    dtypes = list(meta.dtypes) if meta.ndim == 2 else [meta.dtype]
    if len(set(dtypes)) > 1 or not all(isinstance(t, np.dtype) for t in dtypes):
        frame = frame.astype(np.float64)
    return frame.to_dask_array()


def _feature_names(frame: Any) -> np.ndarray | None:
    """The column names when they are all strings, None when none is (as scikit-learn).

    Raises
    ------
    TypeError
        Some column names are strings and some are not.
    """
    columns = list(frame.columns)
    is_str = [isinstance(c, str) for c in columns]
    if columns and all(is_str):
        return np.asarray(columns, dtype=object)
    if any(is_str):
        kinds = sorted({type(c).__name__ for c in columns})
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"the column names have types {kinds}. Convert them all to strings, e.g. "
            "X.columns = X.columns.astype(str)."
        )
    return None


def check_X(X: Any, name: str = "X") -> tuple[Any, np.ndarray | None]:
    """Convert X to a 2-D float array and its feature names, without reading dask data.

    Returns a numpy array, a canonical ``scipy.sparse.csr_array`` (from any scipy.sparse
    input), or a dask array of either kind of chunk (sparse chunks become CSR lazily);
    float32 stays float32 and other numeric dtypes become float64. A dask array keeps its
    column blocks (see ``join_column_blocks``).
    """
    names = None
    if isinstance(X, pd.DataFrame):
        names = _feature_names(X)
        X = _frame_to_numpy(X, name)
    elif _is_dask_frame(X):
        if X.ndim == 1:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features); got a dask Series.")
        names = _feature_names(X)
        _frame_to_numpy(X._meta, name)  # dtype check on the empty meta frame
        X = dask_frame_values(X)
    elif isinstance(X, pd.Series):
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got a pandas Series. "
            "Use series.to_frame() for a single feature."
        )
    if scipy.sparse.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {X.ndim}-D.")
        _feature_dtype(X.dtype, name)
        X = as_csr(X)
    elif isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features); got {X.ndim}-D.")
        dtype = _feature_dtype(X.dtype, name)
        if scipy.sparse.issparse(getattr(X, "_meta", None)):
            meta = scipy.sparse.csr_array((0, 0), dtype=dtype)
            X = da.map_blocks(as_csr, X, dtype=dtype, meta=meta)
        else:
            X = X.astype(dtype)
    else:
        X = _numeric_array(X, name)
        if X.ndim != 2:
            hint = (" Reshape your data with X.reshape(-1, 1) for a single feature."
                    if X.ndim == 1 else "")
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features); got shape {X.shape}.{hint}"
            )
        X = np.ascontiguousarray(X, dtype=_feature_dtype(X.dtype, name))
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )
    if not np.isnan(X.shape[0]) and X.shape[0] == 0:
        raise ValueError(
            f"{name} has 0 samples (shape={X.shape}) while a minimum of 1 is required."
        )
    return X, names


def join_column_blocks(X: da.Array) -> da.Array:
    """A dask X with one column block: each row block's column blocks joined by one task.

    Only the blocks of one row block meet in a task (no rechunk across rows), dense or
    sparse. X is returned as it is when it has one column block already.
    """
    if X.numblocks[1] == 1:
        return X
    return da.blockwise(
        hstack_blocks, "ik", X, "ij", new_axes={"k": X.shape[1]}, concatenate=False,
        dtype=X.dtype, meta=X._meta, name=f"daskgd-join-columns-{X.name}",
    )


def _numeric_array(X: Any, name: str) -> np.ndarray:
    """``np.asarray(X)``, with object arrays of numbers as float64 (as scikit-learn).

    Raises
    ------
    ValueError
        Complex values, or strings that are not numbers (pointing to an encoder).
    TypeError
        Values that are neither strings nor numbers (e.g. dicts).
    """
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    if X.dtype == object:
        try:
            return X.astype(np.float64)
        except ValueError as err:
            raise ValueError(
                f"{name} must be numeric; its object array holds a value that is not a "
                f"number ({err}). Encode text or categorical features first (e.g. "
                "sklearn.preprocessing.OneHotEncoder or OrdinalEncoder)."
            ) from None
        except TypeError as err:
            raise TypeError(
                f"{name} must be numeric; {err} (in its object array)."
            ) from None
    return X


def _check_vector(v: Any, name: str, numeric: bool) -> np.ndarray | da.Array:
    if isinstance(v, pd.DataFrame | pd.Series):
        dtypes = v.dtypes if isinstance(v, pd.DataFrame) else [v.dtype]
        if numeric and all(pd.api.types.is_numeric_dtype(t) for t in dtypes):
            # Nullable dtypes: missing values become NaN, reported by the validation pass.
            v = v.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            v = v.to_numpy()
    elif _is_dask_frame(v):
        meta = v._meta
        dtypes = list(meta.dtypes) if meta.ndim == 2 else [meta.dtype]
        if numeric and all(pd.api.types.is_numeric_dtype(t) for t in dtypes):
            v = dask_frame_values(v)
        else:
            v = v.to_dask_array()
    if isinstance(v, list | tuple) and not numeric:
        # np.asarray would turn [1, "a"] into strings: check the labels as they were given.
        check_labels(np.asarray(v, dtype=object).reshape(-1))
    if not isinstance(v, da.Array):
        v = _numeric_array(v, name) if numeric else np.asarray(v)
    if v.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {v.dtype}.")
    if v.ndim == 2 and v.shape[1] == 1:
        if name == "y":
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change "
                "the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
        v = v.reshape(-1) if not isinstance(v, da.Array) else v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,); got shape {v.shape}.")
    if numeric and v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {v.dtype}.")
    if numeric:
        v = v.astype(np.float64)
    return v


def as_fit_input(X: Any, y: Any, sample_weight: Any, *, classify: bool) -> FitInput:
    """Validate and align X, y and sample_weight without reading the data.

    Raises
    ------
    ValueError, TypeError
        For wrong types, dimensions, dtypes or lengths known before reading the data.
    """
    if y is None:
        raise ValueError("y is required; got None.")
    X, names = check_X(X)
    y = _check_vector(y, "y", numeric=not classify)
    n = X.shape[0]
    if sample_weight is not None and isinstance(sample_weight, numbers.Number):
        sample_weight = _scalar_weights(float(sample_weight), X)  # type: ignore[arg-type]
    w = None if sample_weight is None else _check_vector(sample_weight, "sample_weight", True)
    _check_lengths(n, y, w)
    if isinstance(X, da.Array):
        y = _as_dask_like(y, X)
        w = None if w is None else _as_dask_like(w, X)
    else:
        y = y.compute() if isinstance(y, da.Array) else y
        w = w.compute() if isinstance(w, da.Array) else w
    return FitInput(X, y, w, names)


def _scalar_weights(value: float, X: np.ndarray | da.Array) -> np.ndarray | da.Array:
    if isinstance(X, da.Array):
        return da.full(X.shape[0], value, chunks=X.chunks[0]) if not np.isnan(
            X.shape[0]
        ) else X[:, 0] * 0 + value
    return np.full(X.shape[0], value)


def _check_lengths(n: float, y: Any, w: Any) -> None:
    for name, v in (("y", y), ("sample_weight", w)):
        if v is None:
            continue
        m = v.shape[0]
        if not (np.isnan(n) or np.isnan(m)) and m != n:
            raise ValueError(
                f"X and {name} have different numbers of rows: X has {int(n)}, {name} has "
                f"{int(m)}."
            )


def _as_dask_like(v: np.ndarray | da.Array, X: da.Array) -> da.Array:
    """A dask array for ``v``; numpy vectors get X's row chunks when those are known."""
    if isinstance(v, da.Array):
        return v
    if not any(np.isnan(c) for c in X.chunks[0]):
        return da.from_array(v, chunks=(X.chunks[0],))
    return da.from_array(v, chunks=(len(v),))


def unknown_chunks(a: da.Array) -> bool:
    """Whether a dask array's row chunk sizes are unknown (NaN), e.g. from a DataFrame."""
    return any(np.isnan(c) for c in a.chunks[0])


# ---------------------------------------------------------------- the validation pass


@dataclass
class DataSummary:
    """What a fit needs from the data, from one pass over it.

    feature_mean : (n_features,) weighted column means (for the centred parametrisation)
    feature_var : (n_features,) weighted column variances (for default step sizes)
    classes : sorted labels (classification) or None
    class_weights : total sample weight of each class (classification) or None
    moments : the least-squares statistics of the data (``_kernels.Moments``), when the
        validation pass summed them (``Engine.place(..., gram=True)``), else None
    """

    n_samples: int
    n_positive: int
    weight_sum: float
    feature_mean: np.ndarray
    feature_var: np.ndarray
    y_mean: float
    y_min: float
    classes: np.ndarray | None
    chunk_sizes: tuple[int, ...]
    class_weights: np.ndarray | None = None
    moments: Moments | None = None

    @property
    def target_mean(self) -> np.ndarray:
        """Weighted class frequencies (classification) or ``[mean of y]`` (regression)."""
        if self.class_weights is not None:
            return self.class_weights / self.weight_sum
        return np.array([self.y_mean])


def summarise(stats: Sequence[ChunkStats], classify: bool) -> DataSummary:
    """Merge per-chunk statistics (in chunk order) and raise on any invalid value.

    Raises
    ------
    ValueError
        Non-finite X or y, negative or non-finite weights, weights that are all zero,
        no samples, one class only, or non-integer class labels.
    """
    offset = 0
    for s in stats:
        if s.bad_X is not None:
            row, col = s.bad_X
            raise ValueError(
                f"Input X contains NaN or infinity (first at row {offset + row}, column {col}); "
                "remove or impute those values first."
            )
        if s.bad_y is not None:
            raise ValueError(
                f"Input y contains NaN or infinity (first at row {offset + s.bad_y}); "
                "remove or impute those rows first."
            )
        if s.bad_w is not None:
            row, what = s.bad_w
            raise ValueError(
                f"sample_weight contains {what} values (first at row {offset + row}); "
                "weights must be finite and >= 0."
            )
        offset += s.n_rows
    n = offset
    if n == 0:
        raise ValueError("X has 0 samples while a minimum of 1 is required.")
    weight_sum = float(sum(s.weight_sum for s in stats))
    if not np.isfinite(weight_sum):
        raise ValueError(
            "sample_weight sums to more than the largest float; divide the weights by a "
            "constant (only their ratios matter to the fitted model's shape)."
        )
    if not weight_sum > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight.")
    feature_mean = np.sum([s.weighted_X_sum for s in stats], axis=0) / weight_sum
    mean_sq = np.sum([s.weighted_X_sq_sum for s in stats], axis=0) / weight_sum
    feature_var = np.maximum(mean_sq - feature_mean**2, 0.0)
    classes = class_weights = None
    if classify:
        classes, class_weights = _merge_labels(stats)
        y_mean = float(class_weights[-1] / weight_sum) if classes.size else 0.0
    else:
        y_mean = float(sum(s.weighted_y_sum for s in stats) / weight_sum)
    return DataSummary(
        n_samples=n,
        n_positive=int(sum(s.n_positive for s in stats)),
        weight_sum=weight_sum,
        feature_mean=feature_mean,
        feature_var=feature_var,
        y_mean=y_mean,
        y_min=float(min(s.y_min for s in stats)),
        classes=classes,
        chunk_sizes=tuple(s.n_rows for s in stats),
        class_weights=class_weights,
    )


def _merge_labels(stats: Sequence[ChunkStats]) -> tuple[np.ndarray, np.ndarray]:
    parts = [s.labels for s in stats if s.labels is not None and s.labels.size]
    try:
        labels = np.concatenate(parts)
        check_labels(labels)  # chunks that each hold one type, but not the same one
        classes, inverse = np.unique(labels, return_inverse=True)
    except TypeError as err:
        raise ValueError(f"y mixes label types that cannot be ordered: {err}") from None
    weights = np.concatenate(
        [s.label_weights for s in stats if s.labels is not None and s.labels.size]
    )
    class_weights = np.bincount(inverse.reshape(-1), weights=weights, minlength=classes.size)
    if classes.dtype.kind == "f" and not np.all(classes == np.round(classes)):
        raise ValueError(
            "Unknown label type: continuous. LogisticRegression needs class labels; "
            "for real-valued targets use a regressor."
        )
    return classes, class_weights
