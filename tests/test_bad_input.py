"""The bad-input catalogue: every estimator fed every bad input, table-driven.

Each bad input must give a clear ``ValueError`` (``TypeError`` for wrong types) whose
message names the argument and what was expected, raised before any cluster work, and must
leave the user's arrays unchanged (values, dtype, shape and flags). "Before any cluster
work" is checked with the ``watch`` fixture (a scheduler plugin, see ``conftest.py``): for
NumPy / pandas input nothing may reach the scheduler; for dask input the validation pass is
cluster work by necessity, so there no solver task (``daskgd-grad``, ``daskgd-hess``,
``daskgd-sgd``, ...) may run. Mismatched chunk boundaries between dask X and y are not bad
input: they are aligned (case C-06).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from distributed import Client, default_client
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from test_cases_input import dask_chunks, labels_for, regression_data

from daskgd import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)

pytestmark = pytest.mark.usefixtures("session_client_stays_default")

CLASSIFIERS: list[type] = [LogisticRegression, SGDClassifier]
REGRESSORS: list[type] = [LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor]
ALL: list[type] = [*REGRESSORS, PoissonRegressor, *CLASSIFIERS]
# Kept small so the fitted fixtures stay fast; the results are never compared.
FAST = {SGDRegressor: {"max_iter": 20}, SGDClassifier: {"max_iter": 20}}

# ---------------------------------------------------------------- data


def _X(n: int = 60, d: int = 2) -> np.ndarray:
    return regression_data(n, d)[0]


def _sparse_with_nan() -> scipy.sparse.csr_matrix:
    """A CSR X with a stored NaN at row 11, column 0."""
    X = _X()
    X[11, 0] = np.nan
    return scipy.sparse.csr_matrix(X)


def _y(est_cls: type, n: int = 60) -> np.ndarray:
    X = _X(n)
    if est_cls in CLASSIFIERS:
        return labels_for(X)
    if est_cls is PoissonRegressor:
        return np.round(np.exp(0.5 * X[:, 0]))
    return regression_data(n)[1]


def _flags(a: np.ndarray) -> dict[str, bool]:
    return {name: bool(a.flags[name]) for name in ("C_CONTIGUOUS", "F_CONTIGUOUS", "WRITEABLE")}


class Kept:
    """A copy of a user's argument, with its flags, to prove a call left it as it was."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        copyable = isinstance(obj, np.ndarray | pd.DataFrame | pd.Series)
        self.copy = obj.copy() if copyable or scipy.sparse.issparse(obj) else obj
        self.flags = _flags(obj) if isinstance(obj, np.ndarray) else None
        self.values = obj.compute() if isinstance(obj, da.Array) else None

    def check(self) -> None:
        obj = self.obj
        if isinstance(obj, pd.DataFrame):
            pd.testing.assert_frame_equal(obj, self.copy)
        elif isinstance(obj, pd.Series):
            pd.testing.assert_series_equal(obj, self.copy)
        elif isinstance(obj, np.ndarray):
            assert _flags(obj) == self.flags
            assert obj.dtype == self.copy.dtype and obj.shape == self.copy.shape
            # repr: NaN equals NaN, also in object arrays.
            assert list(map(repr, obj.ravel())) == list(map(repr, self.copy.ravel()))
        elif isinstance(obj, da.Array):
            np.testing.assert_array_equal(obj.compute(), self.values)
        elif scipy.sparse.issparse(obj):
            assert obj.format == self.copy.format and obj.dtype == self.copy.dtype
            for part in ("data", "indices", "indptr"):
                # repr: NaN equals NaN.
                assert list(map(repr, getattr(obj, part))) == list(
                    map(repr, getattr(self.copy, part)))


def _with_cell(value: float) -> Callable[[type], tuple]:
    def make(est_cls: type) -> tuple:
        X = _X()
        X[11, 0] = value
        return X, _y(est_cls), None
    return make


def _y_with(value: float) -> Callable[[type], tuple]:
    def make(est_cls: type) -> tuple:
        y = _y(est_cls).astype(np.float64)
        y[9] = value
        return _X(), y, None
    return make


def _weights(w: np.ndarray) -> Callable[[type], tuple]:
    return lambda est_cls: (_X(), _y(est_cls), w.copy())


def _weights_with(row: int, value: float) -> np.ndarray:
    w = np.ones(60)
    w[row] = value
    return w


def _nullable_X(dtype: str) -> Callable[[type], tuple]:
    def make(est_cls: type) -> tuple:
        frame = pd.DataFrame(np.round(_X() * 10), columns=["a", "b"]).astype(dtype)
        frame.iloc[11, 0] = pd.NA
        return frame, _y(est_cls), None
    return make


def _nullable_y(est_cls: type) -> tuple:
    y = pd.Series(_y(est_cls), dtype="Int64" if est_cls in CLASSIFIERS else "Float64")
    y.iloc[9] = pd.NA
    return _X(), y, None


def _labels(values: list[Any], container: str = "object") -> Callable[[type], tuple]:
    """60 labels cycling through ``values``, as a list, an object array or a pandas Series."""
    def make(est_cls: type) -> tuple:
        cycled = [values[i % len(values)] for i in range(60)]
        y = {
            "list": lambda: cycled,
            "object": lambda: np.array(cycled, dtype=object),
            "string": lambda: pd.Series(cycled, dtype="string"),
        }[container]()
        return _X(), y, None
    return make


def _fortran_readonly_nan(est_cls: type) -> tuple:
    X = np.asfortranarray(_X())
    X[11, 0] = np.nan
    X.flags.writeable = False
    return X, _y(est_cls), None


# ---------------------------------------------------------------- NumPy / pandas input
#
# Each case: (id, estimators, make(est_cls) -> (X, y, sample_weight), exception, message).

MISSING_LABEL = r"\by\b contains missing labels"
MIXED_LABELS = r"\by\b mixes strings and numbers"

NUMPY_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("X_nan", ALL, _with_cell(np.nan), ValueError, r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_inf", ALL, _with_cell(np.inf), ValueError, r"\bX\b.*inf.*row 11.*column 0"),
    ("X_minus_inf", ALL, _with_cell(-np.inf), ValueError, r"\bX\b.*inf.*row 11"),
    ("X_nan_fortran_readonly", ALL, _fortran_readonly_nan, ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_pandas_Float64_NA", ALL, _nullable_X("Float64"), ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_pandas_Int64_NA", ALL, _nullable_X("Int64"), ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("y_nan", ALL, _y_with(np.nan), ValueError, r"\by\b.*NaN.*row 9"),
    ("y_inf", ALL, _y_with(np.inf), ValueError, r"\by\b.*inf.*row 9"),
    ("y_pandas_nullable_NA", ALL, _nullable_y, ValueError, r"\by\b.*NaN.*row 9"),
    ("y_short", ALL, lambda e: (_X(), _y(e)[:-1], None), ValueError,
     r"\bX\b.*\by\b.*60.*59"),
    ("y_long", ALL, lambda e: (_X(), np.r_[_y(e), _y(e)[:1]], None), ValueError,
     r"\bX\b.*\by\b.*60.*61"),
    ("sample_weight_short", ALL, lambda e: (_X(), _y(e), np.ones(59)), ValueError,
     r"\bX\b.*sample_weight.*60.*59"),
    ("sample_weight_long", ALL, lambda e: (_X(), _y(e), np.ones(61)), ValueError,
     r"\bX\b.*sample_weight.*60.*61"),
    ("X_empty", ALL, lambda e: (np.empty((0, 2)), np.empty(0), None), ValueError,
     r"\bX\b.*0 samples.*minimum of 1"),
    ("X_no_features", ALL, lambda e: (np.empty((60, 0)), _y(e), None), ValueError,
     r"\bX\b.*0 feature\(s\).*minimum of 1"),
    ("X_1d", ALL, lambda e: (_X()[:, 0], _y(e), None), ValueError, r"\bX\b.*2-D.*reshape"),
    ("X_3d", ALL, lambda e: (_X().reshape(60, 2, 1), _y(e), None), ValueError,
     r"\bX\b.*2-D.*\(60, 2, 1\)"),
    ("X_scalar", ALL, lambda e: (np.float64(3.0), _y(e), None), ValueError, r"\bX\b.*2-D"),
    ("y_two_columns", ALL, lambda e: (_X(), np.column_stack([_y(e), _y(e)]), None),
     ValueError, r"\by\b.*1-D.*\(60, 2\)"),
    ("y_none", ALL, lambda e: (_X(), None, None), ValueError, r"requires y.*\by\b is None"),
    ("sample_weight_2d", ALL, lambda e: (_X(), _y(e), np.ones((60, 2))), ValueError,
     r"sample_weight.*1-D"),
    ("X_complex", ALL, lambda e: (_X() + 1j, _y(e), None), ValueError,
     r"Complex data not supported.*\bX\b"),
    ("X_object_strings", ALL,
     lambda e: (np.array([["a", 1.0]] * 60, dtype=object), _y(e), None), ValueError,
     r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_object_dicts", ALL,
     lambda e: (np.array([[{"a": 1}, 1.0]] * 60, dtype=object), _y(e), None), TypeError,
     r"\bX\b must be numeric.*dict"),
    ("X_unicode_strings", ALL, lambda e: (np.array([["a", "b"]] * 60), _y(e), None),
     ValueError, r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_object_column", ALL,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": ["x", "y"] * 30}).astype(
         {"city": object}), _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_str_column", ALL,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": ["x", "y"] * 30}), _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_category_column", ALL,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": pd.Categorical(["x", "y"] * 30)}),
                _y(e), None),
     ValueError, r"\bX\b.*'city'.*category.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_mixed_column_names", ALL,
     lambda e: (pd.DataFrame(_X(), columns=["a", 1]), _y(e), None), TypeError,
     r"string names.*\['int', 'str'\].*astype\(str\)"),
    ("X_pandas_series", ALL, lambda e: (pd.Series(_X()[:, 0]), _y(e), None), ValueError,
     r"\bX\b.*2-D.*to_frame"),
    ("X_sparse_nan", ALL, lambda e: (_sparse_with_nan(), _y(e), None), ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("y_strings_for_regression", [*REGRESSORS, PoissonRegressor],
     lambda e: (_X(), np.array(["1.5"] * 60), None), ValueError, r"\by\b.*numeric"),
    ("y_complex", [*REGRESSORS, PoissonRegressor], lambda e: (_X(), _y(e) + 1j, None),
     ValueError, r"Complex data not supported.*\by\b"),
    ("y_negative_poisson", [PoissonRegressor],
     lambda e: (_X(), np.where(np.arange(60) == 5, -1.0, 1.0), None), ValueError,
     r"\by\b must be >= 0.*-1\.0"),
    ("sample_weight_negative", ALL, _weights(_weights_with(17, -1.0)), ValueError,
     r"sample_weight.*negative.*row 17.*>= 0"),
    ("sample_weight_nan", ALL, _weights(_weights_with(17, np.nan)), ValueError,
     r"sample_weight.*(non-finite|NaN).*row 17"),
    ("sample_weight_inf", ALL, _weights(_weights_with(17, np.inf)), ValueError,
     r"sample_weight.*(non-finite|inf).*row 17"),
    ("sample_weight_all_zero", ALL, _weights(np.zeros(60)), ValueError,
     r"sample_weight.*zero.*positive weight"),
    ("sample_weight_strings", ALL, _weights(np.array(["1"] * 60)), ValueError,
     r"sample_weight.*numeric"),
    ("continuous_labels", CLASSIFIERS, lambda e: (_X(), _X()[:, 0], None), ValueError,
     r"continuous"),
    ("one_class", CLASSIFIERS, lambda e: (_X(), np.ones(60, dtype=int), None), ValueError,
     r"(at least 2 classes|greater than one).*(only one class|1 class)"),
    ("labels_mixed_list", CLASSIFIERS, _labels([1, "a"], "list"), ValueError, MIXED_LABELS),
    ("labels_mixed_object", CLASSIFIERS, _labels([1, "a"]), ValueError, MIXED_LABELS),
    ("labels_none", CLASSIFIERS, _labels(["a", "b", None]), ValueError, MISSING_LABEL),
    ("labels_nan_with_strings", CLASSIFIERS, _labels(["a", "b", np.nan]), ValueError,
     MISSING_LABEL),
    ("labels_nan_with_numbers", CLASSIFIERS, _labels([0.0, 1.0, np.nan]), ValueError,
     MISSING_LABEL),
    ("labels_pandas_string_NA", CLASSIFIERS, _labels(["a", "b", None], "string"), ValueError,
     MISSING_LABEL),
]


def _params(cases: list) -> list:
    return [
        pytest.param(est_cls, make, exc, match, id=f"{case}-{est_cls.__name__}")
        for case, estimators, make, exc, match in cases
        for est_cls in estimators
    ]


def _fit(model: Any, X: Any, y: Any, w: Any) -> None:
    # By keyword: SGD's third positional argument is coef_init.
    model.fit(X, y, sample_weight=w)


def _bad_fit_in_memory(model: Any, args: tuple, exc: Any, match: str, watch: Any) -> None:
    kept = [Kept(a) for a in args]
    with watch(), pytest.raises(exc, match=match):
        _fit(model, *args)
    assert watch.new_keys == [], "the error must come before anything reaches the cluster"
    assert not watch.started_a_cluster()
    assert not hasattr(model, "coef_")
    for k in kept:
        k.check()


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), _params(NUMPY_CASES))
def test_bad_input_in_memory(
    est_cls: type, make: Callable, exc: Any, match: str, watch: Any
) -> None:
    _bad_fit_in_memory(est_cls(), make(est_cls), exc, match, watch)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize("est_cls", [LinearRegression, Ridge, LogisticRegression])
def test_bad_input_in_memory_other_solvers(est_cls: type, solver: str, watch: Any) -> None:
    """The checks do not depend on the solver."""
    _bad_fit_in_memory(est_cls(solver=solver), _with_cell(np.nan)(est_cls), ValueError,
                       r"\bX\b.*row 11", watch)
    _bad_fit_in_memory(est_cls(solver=solver), _weights(np.zeros(60))(est_cls), ValueError,
                       r"sample_weight", watch)


# ---------------------------------------------------------------- dask input


def _dask(make: Callable, *, rows: int = 20) -> Callable[[type], tuple]:
    def wrapped(est_cls: type) -> tuple:
        X, y, w = make(est_cls)
        return tuple(None if a is None else dask_chunks(np.asarray(a), rows) for a in (X, y, w))
    return wrapped


def _frame_of(n: int, npartitions: int = 3) -> dd.DataFrame:
    return dd.from_pandas(pd.DataFrame(_X(n), columns=["a", "b"]), npartitions=npartitions)


def _labels_by_chunk(est_cls: type) -> tuple:
    """Strings in the first chunk, numbers in the others: each chunk holds one type."""
    y = np.array(["a", "b"] * 10 + [0, 1] * 20, dtype=object)
    return dask_chunks(_X()), dask_chunks(y), None


# Cases whose error is found without reading the data: nothing may reach the scheduler.
DASK_STATIC_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("y_short", ALL, _dask(lambda e: (_X(), _y(e)[:-1], None)), ValueError,
     r"\bX\b.*\by\b.*60.*59"),
    ("sample_weight_short", ALL, _dask(lambda e: (_X(), _y(e), np.ones(59))),
     ValueError, r"\bX\b.*sample_weight.*60.*59"),
    ("X_empty", ALL, _dask(lambda e: (np.empty((0, 2)), np.empty(0), None)),
     ValueError, r"\bX\b.*0 samples"),
    ("X_no_features", ALL, _dask(lambda e: (np.empty((60, 0)), _y(e), None)),
     ValueError, r"\bX\b.*0 feature\(s\)"),
    ("X_1d", ALL, _dask(lambda e: (_X()[:, 0], _y(e), None)), ValueError, r"\bX\b.*2-D"),
    ("X_3d", ALL, _dask(lambda e: (_X().reshape(60, 2, 1), _y(e), None)), ValueError,
     r"\bX\b.*2-D"),
    ("y_two_columns", ALL,
     _dask(lambda e: (_X(), np.column_stack([_y(e), _y(e)]), None)), ValueError,
     r"\by\b.*1-D"),
    ("X_strings", ALL, _dask(lambda e: (np.array([["a", "b"]] * 60), _y(e), None)),
     ValueError, r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_dataframe_category_column", ALL,
     lambda e: (dd.from_pandas(pd.DataFrame(
         {"num": _X()[:, 0], "city": pd.Categorical(["x", "y"] * 30)}), npartitions=3),
         _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_dask_series", ALL,
     lambda e: (dd.from_pandas(pd.Series(_X()[:, 0]), npartitions=3), _y(e), None),
     ValueError, r"\bX\b.*2-D"),
]

# Cases found by the validation pass: no solver task may run.
DASK_DATA_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("X_nan", ALL, _dask(_with_cell(np.nan)), ValueError, r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_inf", ALL, _dask(_with_cell(np.inf)), ValueError, r"\bX\b.*inf.*row 11"),
    ("y_nan", ALL, _dask(_y_with(np.nan)), ValueError, r"\by\b.*NaN.*row 9"),
    ("sample_weight_negative", ALL, _dask(_weights(_weights_with(17, -1.0))), ValueError,
     r"sample_weight.*negative.*row 17"),
    ("sample_weight_nan", ALL, _dask(_weights(_weights_with(17, np.nan))), ValueError,
     r"sample_weight.*row 17"),
    ("sample_weight_all_zero", ALL, _dask(_weights(np.zeros(60))), ValueError,
     r"sample_weight.*zero"),
    ("y_negative_poisson", [PoissonRegressor],
     _dask(lambda e: (_X(), np.where(np.arange(60) == 5, -1.0, 1.0), None)), ValueError,
     r"\by\b must be >= 0"),
    ("one_class", CLASSIFIERS, _dask(lambda e: (_X(), np.ones(60, int), None)),
     ValueError, r"(at least 2 classes|greater than one)"),
    ("labels_mixed_in_a_chunk", CLASSIFIERS, _dask(_labels([1, "a"])), ValueError,
     MIXED_LABELS),
    ("labels_mixed_across_chunks", CLASSIFIERS, _labels_by_chunk, ValueError, MIXED_LABELS),
    ("labels_none", CLASSIFIERS, _dask(_labels(["a", "b", None])), ValueError, MISSING_LABEL),
    ("y_short_unknown_chunks", ALL,
     lambda e: (_frame_of(60), dd.from_pandas(pd.Series(_y(e)[:-1]), npartitions=3), None),
     ValueError, r"\bX\b.*\by\b.*60.*59"),
    ("sample_weight_long_unknown_chunks", ALL,
     lambda e: (_frame_of(60), _y(e), dd.from_pandas(pd.Series(np.ones(61)), npartitions=3)),
     ValueError, r"\bX\b.*sample_weight.*60.*61"),
    ("X_filtered_to_no_rows", ALL,
     lambda e: ((f := _frame_of(60))[f.a > 100], np.zeros(0), None), ValueError,
     r"\bX\b.*0 samples"),
]


def _dask_bad_fit(est_cls: type, make: Callable, exc: Any, match: str, watch: Any,
                  client: Client) -> None:
    args = make(est_cls)
    kept = [Kept(a) for a in args]
    model = est_cls()
    with watch(), pytest.raises(exc, match=match):
        _fit(model, *args)
    assert watch.solver_keys() == [], "no solver task may run before the data are checked"
    assert not hasattr(model, "coef_")
    assert not watch.started_a_cluster(), "a failed check must not start another cluster"
    assert default_client() is client
    for k in kept:
        k.check()


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), _params(DASK_STATIC_CASES))
def test_bad_dask_input_found_without_reading_data(
    est_cls: type, make: Callable, exc: Any, match: str, watch: Any, client: Client,
) -> None:
    _dask_bad_fit(est_cls, make, exc, match, watch, client)
    assert watch.new_keys == []


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), _params(DASK_DATA_CASES))
def test_bad_dask_input_found_by_the_validation_pass(
    est_cls: type, make: Callable, exc: Any, match: str, watch: Any, client: Client,
) -> None:
    _dask_bad_fit(est_cls, make, exc, match, watch, client)


def test_cluster_is_usable_after_a_rejected_dask_fit(client: Client) -> None:
    """A rejected fit leaves nothing behind: the next fit on the same client works."""
    X, y = regression_data(60)
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"\by\b"):
        LinearRegression().fit(dask_chunks(X), dask_chunks(bad))
    assert default_client() is client
    model = LinearRegression().fit(dask_chunks(X), dask_chunks(y))
    np.testing.assert_allclose(model.coef_, [4.0, -2.0], atol=1e-5)


# ---------------------------------------------------------------- C-06: chunks aligned


def test_c06_y_column_with_other_automatic_chunks_is_aligned(watch: Any) -> None:
    """Integer X (n, 2) and y (n, 1), each auto-chunked: the chunks differ (shown), y is
    raveled with scikit-learn's warning and aligned to X's rows, and the fit is the one with
    aligned chunks and the in-memory one. The case's n = 10^7 is replaced by a small chunk
    size (2 KiB) so that n = 1000 gives different automatic chunks."""
    rng = np.random.default_rng(6)
    X = rng.integers(-50, 50, size=(1000, 2))
    y = (X @ [1.5, -2.0] + 3.0 + rng.standard_normal(1000))[:, None]
    with dask.config.set({"array.chunk-size": "2KiB"}):
        Xd, yd = da.from_array(X), da.from_array(y)
    assert Xd.chunks[0] != yd.chunks[0] and len(Xd.chunks[0]) > 1
    with watch(), pytest.warns(DataConversionWarning, match="column-vector y"):
        model = LinearRegression().fit(Xd, yd)
    # lstsq's Gram statistics come with the validation pass: no solver task after it.
    assert any(k.startswith("daskgd-validate") for k in watch.new_keys), "ran on the cluster"
    aligned = LinearRegression().fit(Xd, da.from_array(y[:, 0], chunks=(Xd.chunks[0],)))
    in_memory = LinearRegression().fit(X, y[:, 0])
    assert model.coef_.shape == (2,)
    np.testing.assert_allclose(model.coef_, aligned.coef_, rtol=1e-12)
    np.testing.assert_allclose(model.intercept_, aligned.intercept_, rtol=1e-12)
    np.testing.assert_allclose(model.coef_, in_memory.coef_, rtol=1e-8)
    np.testing.assert_allclose(model.coef_, [1.5, -2.0], atol=0.01)


# ---------------------------------------------------------------- hyper-parameters
#
# Each case applies to every estimator that has all its parameters.

HYPER_CASES: list[tuple[dict[str, Any], Any, str]] = [
    ({"solver": "nope"}, ValueError, r"solver must be one of.*got 'nope'"),
    ({"solver": None}, (ValueError, TypeError), r"solver"),
    ({"max_iter": 0}, ValueError, r"max_iter must be an integer >= 1; got 0"),
    ({"max_iter": -5}, ValueError, r"max_iter"),
    ({"max_iter": 1.5}, (ValueError, TypeError), r"max_iter.*integer"),
    ({"max_iter": "10"}, (ValueError, TypeError), r"max_iter"),
    ({"tol": -1}, ValueError, r"tol must be a number >= 0; got -1"),
    ({"tol": np.nan}, ValueError, r"tol"),
    ({"tol": "small"}, (ValueError, TypeError), r"tol"),
    ({"learning_rate": "bogus"}, ValueError, r"learning_rate.*'bogus'"),
    ({"learning_rate": -0.1}, ValueError, r"learning_rate"),
    ({"learning_rate": 0.0}, ValueError, r"learning_rate"),
    ({"solver": "gd", "learning_rate": "invscaling"}, ValueError,
     r"learning_rate.*invscaling"),
    ({"batch_size": 0}, ValueError, r"batch_size.*0"),
    ({"batch_size": 2.5}, (ValueError, TypeError), r"batch_size"),
    ({"eta0": 0}, ValueError, r"eta0"),
    ({"eta0": -1.0}, ValueError, r"eta0"),
    ({"power_t": -1.0}, ValueError, r"power_t"),
    ({"local_steps": 0}, ValueError, r"local_steps"),
    ({"fit_intercept": "yes"}, (ValueError, TypeError), r"fit_intercept"),
    ({"warm_start": "yes"}, ValueError, r"warm_start must be True or False; got 'yes'"),
    ({"warm_start": 1}, ValueError, r"warm_start must be True or False; got 1"),
    ({"verbose": -1}, ValueError, r"verbose must be an integer >= 0; got -1"),
    ({"verbose": "loud"}, ValueError, r"verbose must be an integer >= 0; got 'loud'"),
    ({"verbose": 1.5}, ValueError, r"verbose must be an integer"),
    ({"alpha": -1}, ValueError, r"alpha must be a number >= 0; got -1"),
    ({"alpha": np.nan}, ValueError, r"alpha"),
    ({"alpha": "strong"}, (ValueError, TypeError), r"alpha"),
    ({"C": 0}, ValueError, r"\bC\b must be a number > 0; got 0"),
    ({"C": -1.0}, ValueError, r"\bC\b"),
    ({"C": np.nan}, ValueError, r"\bC\b"),
    ({"C": 1e-320}, ValueError, r"\bC\b must be at least 2.2\d*e-308.*got 1e-320"),
    ({"penalty": "bogus"}, ValueError, r"penalty must be one of.*'bogus'"),
    ({"penalty": "l3"}, ValueError, r"penalty.*'l3'"),
    ({"l1_ratio": 1.5}, ValueError, r"l1_ratio must be in \[0, 1\]; got 1.5"),
    ({"l1_ratio": -0.1}, ValueError, r"l1_ratio must be a number >= 0; got -0.1"),
    ({"penalty": "elasticnet", "l1_ratio": 1.5}, ValueError, r"l1_ratio.*\[0, 1\].*1.5"),
    ({"penalty": "elasticnet", "l1_ratio": None}, ValueError, r"l1_ratio"),
    ({"solver": "newton", "penalty": "l1"}, ValueError, r"newton.*smooth penalty.*proximal"),
    ({"loss": "bogus"}, ValueError, r"loss must be one of.*'bogus'"),
    ({"epsilon": -1.0}, ValueError, r"epsilon.*-1"),
    ({"validation_fraction": 1.0}, ValueError, r"validation_fraction.*\(0, 1\)"),
    ({"n_iter_no_change": 0}, ValueError, r"n_iter_no_change"),
    ({"class_weight": "bogus"}, ValueError, r"class_weight.*'bogus'"),
]


def _applies(est_cls: type, params: dict[str, Any]) -> bool:
    names = est_cls().get_params()
    # LogisticRegression reads l1_ratio only with penalty="elasticnet" (its own cases).
    if est_cls is LogisticRegression and set(params) == {"l1_ratio"}:
        return False
    return set(params) <= set(names)


HYPER_PARAMS = [
    pytest.param(est_cls, params, exc, match,
                 id=f"{est_cls.__name__}-" + "-".join(f"{k}={v!r}" for k, v in params.items()))
    for params, exc, match in HYPER_CASES
    for est_cls in ALL
    if _applies(est_cls, params)
]


@pytest.mark.parametrize(("est_cls", "params", "exc", "match"), HYPER_PARAMS)
@pytest.mark.parametrize("container", ["numpy", "pandas", "dask"])
def test_invalid_hyper_parameters(
    est_cls: type, params: dict[str, Any], exc: Any, match: str, container: str, watch: Any,
) -> None:
    X, y = _X(), _y(est_cls)
    model = est_cls(**params)  # scikit-learn convention: constructing never fails
    assert all(model.get_params()[k] is v for k, v in params.items())
    Xf, yf = {
        "numpy": lambda: (X, y),
        "pandas": lambda: (pd.DataFrame(X, columns=["a", "b"]), pd.Series(y)),
        "dask": lambda: (dask_chunks(X), dask_chunks(y)),
    }[container]()
    with watch(), pytest.raises(exc, match=match):
        model.fit(Xf, yf)
    assert watch.new_keys == []
    assert not hasattr(model, "coef_")


def test_smallest_accepted_C_gives_a_finite_model() -> None:
    """Just above the refused range the penalty is huge but finite: coefficients ~ 0 and the
    intercept that of the class frequencies, never NaN."""
    X, y = _X(), _y(LogisticRegression)
    model = LogisticRegression(C=1e-300).fit(X, y)
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, np.log(y.mean() / (1 - y.mean())), rtol=1e-6)


# ---------------------------------------------------------------- prediction input


def _fitted(est_cls: type, X: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est_cls(**FAST.get(est_cls, {})).fit(X, _y(est_cls))


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    """Each estimator fitted on a NumPy X and on a DataFrame with columns "a", "b"."""
    X = _X()
    frame = pd.DataFrame(X, columns=["a", "b"])
    return {est_cls.__name__: (_fitted(est_cls, X), _fitted(est_cls, frame)) for est_cls in ALL}


def _methods(model: Any) -> list[str]:
    names = ["predict", "score"]
    for name in ("decision_function", "predict_proba", "predict_log_proba"):
        if hasattr(model, name):
            names.append(name)
    return names


def _call(model: Any, method: str, X: Any) -> Any:
    if method == "score":
        return model.score(X, np.zeros(np.shape(X)[0]))
    return getattr(model, method)(X)


@pytest.mark.parametrize(
    ("make_X", "match"),
    [
        pytest.param(lambda: _X()[:, :1], r"X has 1 features.*expecting 2", id="numpy_fewer"),
        pytest.param(lambda: np.c_[_X(), _X()], r"X has 4 features.*expecting 2",
                     id="numpy_more"),
        pytest.param(lambda: pd.DataFrame(np.c_[_X(), _X()[:, :1]]),
                     r"X has 3 features.*expecting 2", id="pandas_more"),
        pytest.param(lambda: dask_chunks(_X()[:, :1]), r"X has 1 features.*expecting 2",
                     id="dask_fewer"),
        pytest.param(lambda: _X()[:, 0], r"\bX\b.*2-D", id="numpy_1d"),
        pytest.param(lambda: _X()[None], r"\bX\b.*2-D", id="numpy_3d"),
        pytest.param(lambda: np.array([["a", "b"]] * 3), r"\bX\b.*numeric", id="strings"),
        pytest.param(lambda: _with_cell(np.inf)(LinearRegression)[0], r"\bX\b.*(NaN|inf)",
                     id="inf"),
    ],
)
@pytest.mark.parametrize("est_cls", ALL, ids=lambda c: c.__name__)
def test_predict_with_wrong_input(
    est_cls: type, make_X: Callable, match: str, fitted: Any, watch: Any
) -> None:
    model, _ = fitted[est_cls.__name__]
    X = make_X()
    kept = Kept(X)
    for method in _methods(model):
        with watch(), pytest.raises(ValueError, match=match):
            _call(model, method, X)
        assert watch.new_keys == [], method
    kept.check()


@pytest.mark.parametrize("est_cls", ALL, ids=lambda c: c.__name__)
def test_predict_with_missing_or_renamed_column(est_cls: type, fitted: Any) -> None:
    _, model = fitted[est_cls.__name__]
    assert list(model.feature_names_in_) == ["a", "b"]
    X = _X()
    with pytest.raises(ValueError, match=r"feature names.*'b'"):
        model.predict(pd.DataFrame(X, columns=["a", "B"]))
    with pytest.raises(ValueError, match=r"'b'"):
        model.predict(pd.DataFrame(X[:, :1], columns=["a"]))
    # Reordered columns are matched by name.
    reordered = pd.DataFrame(X[:, ::-1], columns=["b", "a"])
    np.testing.assert_array_equal(model.predict(reordered),
                                  model.predict(pd.DataFrame(X, columns=["a", "b"])))


@pytest.mark.parametrize("est_cls", ALL, ids=lambda c: c.__name__)
def test_feature_names_given_at_only_one_of_fit_and_predict_warn(
    est_cls: type, fitted: Any
) -> None:
    """As scikit-learn: columns then go by position, with a warning saying so."""
    plain, named = fitted[est_cls.__name__]
    X = _X()
    with pytest.warns(UserWarning, match=r"X does not have valid feature names, but "
                      f"{est_cls.__name__} was fitted with feature names"):
        by_position = named.predict(pd.DataFrame(X))  # integer column names
    np.testing.assert_array_equal(by_position, named.predict(pd.DataFrame(X, columns=["a", "b"])))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        named.predict(X)
    with pytest.warns(UserWarning, match=f"X has feature names, but {est_cls.__name__} was "
                      "fitted without feature names"):
        plain.predict(pd.DataFrame(X, columns=["a", "b"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        plain.predict(X)
        named.predict(pd.DataFrame(X, columns=["b", "a"]))


@pytest.mark.parametrize("est_cls", ALL, ids=lambda c: c.__name__)
def test_predict_before_fit(est_cls: type) -> None:
    model = est_cls()
    for method in _methods(model):
        with pytest.raises(NotFittedError):
            _call(model, method, _X())


@pytest.mark.parametrize("est_cls", ALL, ids=lambda c: c.__name__)
def test_rejected_refit_keeps_the_previous_model(est_cls: type, fitted: Any) -> None:
    """A fit that fails validation leaves an already fitted model as it was."""
    model = copy.deepcopy(fitted[est_cls.__name__][0])
    coef, intercept = np.copy(model.coef_), np.copy(model.intercept_)
    X = _X()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.fit(X, _y(est_cls))
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)
