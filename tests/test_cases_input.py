"""Input cases from ``../shared/cases/`` (C-02, C-03, C-04, C-09, C-13, C-18).

A bad input must give a clear ``ValueError`` that names the argument, raised before any
cluster work (the ``watch`` fixture of ``conftest.py``), and must leave the user's arrays
unchanged. The catalogue of every bad input for every estimator is ``test_bad_input.py``
(C-06 is there too).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model
from sklearn.exceptions import ConvergenceWarning

from daskgd import LinearRegression, LogisticRegression, Ridge

pytestmark = pytest.mark.usefixtures("session_client_stays_default")

# ---------------------------------------------------------------- data


def regression_data(n: int = 60, d: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ (4.0 * (-0.5) ** np.arange(d)) + 1.0
    return X, y


def labels_for(X: np.ndarray) -> np.ndarray:
    """0/1 labels, not separable (so unpenalised fits stay finite)."""
    rng = np.random.default_rng(1)
    return (X[:, 0] + 0.8 * rng.standard_normal(len(X)) > 0).astype(np.int64)


def target_for(est_cls: type, X: np.ndarray) -> np.ndarray:
    if est_cls is LogisticRegression:
        return labels_for(X)
    return regression_data(len(X), X.shape[1])[1] if X.ndim == 2 else np.zeros(len(X))


def snapshot(obj: Any) -> Any:
    return obj.copy() if isinstance(obj, np.ndarray | pd.DataFrame | pd.Series) else obj


def assert_unchanged(original: Any, kept: Any) -> None:
    if isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(original, kept)
    elif isinstance(original, pd.Series):
        pd.testing.assert_series_equal(original, kept)
    elif isinstance(original, np.ndarray):
        assert original.dtype == kept.dtype and original.shape == kept.shape
        np.testing.assert_array_equal(original, kept)


def dask_chunks(a: np.ndarray, rows: int = 20) -> da.Array:
    return da.from_array(a, chunks=(rows, *a.shape[1:]))


# ================================================================ C-02: any two labels


@pytest.fixture(scope="module")
def c02_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(2).standard_normal((400, 3))
    return X, X[:, 0] > 0


def _c02_fit(X: Any, y: Any) -> LogisticRegression:
    return LogisticRegression(tol=1e-8).fit(X, y)


@pytest.fixture(scope="module")
def c02_reference(c02_data: tuple[np.ndarray, np.ndarray]) -> dict[str, LogisticRegression]:
    """The 0/1-label models on NumPy and on 100-row dask chunks."""
    X, pos = c02_data
    y01 = pos.astype(np.int64)
    return {
        "numpy": _c02_fit(X, y01),
        "dask": _c02_fit(da.from_array(X, chunks=(100, 3)), da.from_array(y01, chunks=100)),
    }


def _assert_same_model(model: LogisticRegression, ref: LogisticRegression, rtol: float) -> None:
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_c02_string_labels(container: str, c02_data: Any, c02_reference: Any) -> None:
    X, pos = c02_data
    y = np.where(pos, "yes", "no")
    if container == "dask":
        model = _c02_fit(da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100))
    else:
        model = _c02_fit(X, y)
    assert list(model.classes_) == ["no", "yes"]
    assert model.coef_.shape == (1, 3)
    _assert_same_model(model, c02_reference[container], rtol=1e-12)
    _assert_same_model(model, c02_reference["numpy"], rtol=1e-6)

    predicted = model.predict(X)
    assert isinstance(predicted, np.ndarray)
    assert predicted.dtype.kind in "UO"
    assert set(predicted) <= {"yes", "no"}
    expected = np.where(model.decision_function(X) > 0, "yes", "no")
    np.testing.assert_array_equal(predicted, expected)
    assert np.mean(predicted == y) > 0.95
    # Column 1 of predict_proba is classes_[1] = "yes".
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(np.where(proba[:, 1] > 0.5, "yes", "no"), predicted)

    lazy = model.predict(da.from_array(X, chunks=(100, 3)))
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), predicted)


def _label_kinds(pos: np.ndarray) -> dict[str, tuple[Callable[[], Any], list[Any]]]:
    """name -> (make y, expected classes_). Dask variants are fitted on dask X."""
    strings = np.where(pos, "yes", "no")
    return {
        "minus1_plus1": (lambda: np.where(pos, 1, -1), [-1, 1]),
        "one_two": (lambda: np.where(pos, 2, 1), [1, 2]),
        "bool": (lambda: pos.copy(), [False, True]),
        "float_0_1": (lambda: pos.astype(np.float64), [0.0, 1.0]),
        "object_strings": (lambda: strings.astype(object), ["no", "yes"]),
        "pandas_series_str": (lambda: pd.Series(strings, name="target"), ["no", "yes"]),
        "pandas_categorical": (lambda: pd.Series(pd.Categorical(strings)), ["no", "yes"]),
        "dask_series_str": (
            lambda: dd.from_pandas(pd.Series(strings), npartitions=4), ["no", "yes"]
        ),
        "dask_series_int": (
            lambda: dd.from_pandas(pd.Series(np.where(pos, 2, 1)), npartitions=4), [1, 2]
        ),
        "dask_array_minus1_plus1": (
            lambda: da.from_array(np.where(pos, 1, -1), chunks=100), [-1, 1]
        ),
    }


LABEL_KINDS = list(_label_kinds(np.zeros(1, dtype=bool)))


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_c02_label_kinds_give_the_same_model(
    kind: str, c02_data: Any, c02_reference: Any
) -> None:
    X, pos = c02_data
    make_y, classes = _label_kinds(pos)[kind]
    y = make_y()
    kept = snapshot(y)
    is_dask = kind.startswith("dask")
    Xfit = da.from_array(X, chunks=(100, 3)) if is_dask else X
    model = _c02_fit(Xfit, y)
    assert list(model.classes_) == classes
    _assert_same_model(model, c02_reference["dask" if is_dask else "numpy"], rtol=1e-6)
    predicted = model.predict(X)
    expected = np.asarray(classes, dtype=object)[(model.decision_function(X) > 0).astype(int)]
    assert list(predicted) == list(expected)
    assert_unchanged(y, kept)


@pytest.mark.parametrize(
    "make_y",
    [
        pytest.param(lambda pos: np.where(pos, 1, -1), id="int_minus1_plus1"),
        pytest.param(lambda pos: np.where(pos, 2, 1).astype(np.int32), id="int32_one_two"),
        pytest.param(lambda pos: pos.copy(), id="bool"),
        pytest.param(lambda pos: da.from_array(np.where(pos, 2, 1), chunks=100), id="dask_int"),
    ],
)
def test_c02_labels_keep_their_dtype(make_y: Callable, c02_data: Any) -> None:
    """As in scikit-learn, ``classes_`` and ``predict`` keep the labels' own dtype: integer
    labels are predicted as integers, booleans as booleans (not as floats)."""
    X, pos = c02_data
    y = make_y(pos)
    model = _c02_fit(da.from_array(X, chunks=(100, 3)) if isinstance(y, da.Array) else X, y)
    reference = sklearn.linear_model.LogisticRegression().fit(X, np.asarray(y))
    assert model.classes_.dtype == reference.classes_.dtype
    assert model.predict(X).dtype == reference.predict(X).dtype


# ================================================================ C-03: non-finite y


def _c03_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).standard_normal((60, 2))
    return X, 4 * X[:, 0] - 2 * X[:, 1] + 1


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("est_cls", [LinearRegression, Ridge])
def test_c03_non_finite_y(
    est_cls: type, container: str, bad: float, watch: Any
) -> None:
    X, y = _c03_data()
    y[[25, 47]] = bad  # the second chunk of 20 holds the first bad row
    X_kept, y_kept = X.copy(), y.copy()
    if container == "dask":
        Xf, yf = dask_chunks(X), dask_chunks(y)
    else:
        Xf, yf = X, y
    model = est_cls()
    with watch(), pytest.raises(ValueError, match=r"\by\b.*(NaN|inf).*row 25"):
        model.fit(Xf, yf)
    if container == "numpy":
        assert watch.new_keys == []
    assert watch.solver_keys() == []
    assert not watch.started_a_cluster()
    assert not hasattr(model, "coef_")
    assert_unchanged(X, X_kept)
    assert_unchanged(y, y_kept)


@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_c03_non_finite_labels(container: str, watch: Any) -> None:
    X, _ = _c03_data()
    y = labels_for(X).astype(np.float64)
    y[33] = np.nan
    Xf, yf = (dask_chunks(X), dask_chunks(y)) if container == "dask" else (X, y)
    with watch(), pytest.raises(ValueError, match=r"\by\b.*(NaN|inf).*row 33"):
        LogisticRegression().fit(Xf, yf)
    if container == "numpy":
        assert watch.new_keys == []
    assert watch.solver_keys() == []


# ================================================================ C-04: non-finite X


def _c04_X(bad: Any, container: str) -> tuple[Any, Any]:
    """100x2 X with one bad cell at row 37, column 1, in the given container."""
    X = np.random.default_rng(4).standard_normal((100, 2))
    if container == "pandas_nullable":
        frame = pd.DataFrame(X, columns=["a", "b"]).astype("Float64")
        frame.iloc[37, 1] = pd.NA
        return frame, frame.copy()
    X[37, 1] = bad
    if container == "numpy":
        return X, X.copy()
    if container == "pandas":
        frame = pd.DataFrame(X, columns=["a", "b"])
        return frame, frame.copy()
    if container == "dask":
        return dask_chunks(X), X.copy()
    if container == "dask_dataframe":
        return dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=5), X.copy()
    raise AssertionError(container)


C04_CASES = [
    (bad, container)
    for container in ["numpy", "pandas", "dask", "dask_dataframe"]
    for bad in ["nan", "inf", "-inf"]
] + [("NA", "pandas_nullable")]


@pytest.mark.parametrize(("bad", "container"), C04_CASES)
def test_c04_non_finite_X(
    bad: str, container: str, watch: Any
) -> None:
    value = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "NA": None}[bad]
    X, kept = _c04_X(value, container)
    y = regression_data(100)[1]
    model = LinearRegression()
    with watch(), pytest.raises(
        ValueError, match=r"\bX\b.*(NaN|inf).*row 37\b.*column 1\b"
    ):
        model.fit(X, y)
    if not container.startswith("dask"):
        assert watch.new_keys == []
    assert watch.solver_keys() == []
    assert not watch.started_a_cluster()
    assert not hasattr(model, "coef_")
    if container.startswith("dask"):
        np.testing.assert_array_equal(np.asarray(X.compute()), kept)
    else:
        assert_unchanged(X, kept)


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("est_cls", [Ridge, LogisticRegression])
def test_c04_non_finite_X_other_estimators(
    est_cls: type, container: str, watch: Any
) -> None:
    X, _ = _c04_X(np.nan, container)
    y = target_for(est_cls, np.zeros((100, 2)))
    with watch(), pytest.raises(ValueError, match=r"\bX\b.*NaN.*row 37\b.*column 1\b"):
        est_cls().fit(X, y)
    if container == "numpy":
        assert watch.new_keys == []
    assert watch.solver_keys() == []


def test_c04_non_finite_X_at_predict() -> None:
    X, y = regression_data(100)
    model = LinearRegression().fit(X, y)
    bad = X.copy()
    bad[5, 0] = np.inf
    with pytest.raises(ValueError, match=r"\bX\b.*(NaN|inf)"):
        model.predict(bad)


# ================================================================ C-09: unknown chunk sizes


@pytest.fixture(scope="module")
def c09() -> dict[str, Any]:
    rng = np.random.default_rng(9)
    X = rng.standard_normal((400, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.5 + 0.1 * rng.standard_normal(400)
    w = rng.uniform(0.5, 2.0, 400)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    return {"X": X, "y": y, "w": w, "frame": frame}


@pytest.fixture(scope="module")
def c09_known(c09: dict[str, Any]) -> LinearRegression:
    """Known chunk sizes: the same four 100-row blocks the DataFrame has."""
    return LinearRegression(tol=1e-10).fit(da.from_array(c09["X"], chunks=(100, 3)), c09["y"])


def _c09_inputs(c09: dict[str, Any], variant: str) -> tuple[Any, Any]:
    ddf = dd.from_pandas(c09["frame"], npartitions=4)
    y_series = dd.from_pandas(pd.Series(c09["y"], name="y"), npartitions=4)
    return {
        "to_dask_array": lambda: (ddf.to_dask_array(), c09["y"]),
        "to_dask_array_both": lambda: (ddf.to_dask_array(), y_series.to_dask_array()),
        "dataframe": lambda: (ddf, c09["y"]),
        "dataframe_and_series": lambda: (ddf, y_series),
        "dataframe_and_series_3_partitions": lambda: (
            ddf, dd.from_pandas(pd.Series(c09["y"]), npartitions=3)
        ),
    }[variant]()


@pytest.mark.parametrize(
    "variant",
    [
        "to_dask_array",
        "to_dask_array_both",
        "dataframe",
        "dataframe_and_series",
        "dataframe_and_series_3_partitions",
    ],
)
def test_c09_unknown_chunk_sizes(variant: str, c09: Any, c09_known: LinearRegression) -> None:
    X, y = _c09_inputs(c09, variant)
    if variant.startswith("to_dask_array"):
        assert any(np.isnan(c) for c in X.chunks[0])  # really unknown
    model = LinearRegression(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, c09_known.coef_, rtol=1e-10)
    np.testing.assert_allclose(model.intercept_, c09_known.intercept_, rtol=1e-10)
    np.testing.assert_allclose(model.coef_, [1, 2, 3], atol=0.05)
    if variant.startswith("dataframe"):
        assert list(model.feature_names_in_) == ["a", "b", "c"]
    else:
        assert not hasattr(model, "feature_names_in_")
    assert model.n_features_in_ == 3
    predicted = model.predict(X)
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), c09_known.predict(c09["X"]), rtol=1e-10)


def test_c09_unknown_chunks_with_sample_weight(c09: Any) -> None:
    ddf = dd.from_pandas(c09["frame"], npartitions=4)
    w_series = dd.from_pandas(pd.Series(c09["w"]), npartitions=4)
    known = LinearRegression(tol=1e-10).fit(
        da.from_array(c09["X"], chunks=(100, 3)), c09["y"], sample_weight=c09["w"]
    )
    for w in (w_series, w_series.to_dask_array(), c09["w"]):
        model = LinearRegression(tol=1e-10).fit(ddf.to_dask_array(), c09["y"], sample_weight=w)
        np.testing.assert_allclose(model.coef_, known.coef_, rtol=1e-10)
        np.testing.assert_allclose(model.intercept_, known.intercept_, rtol=1e-10)


def test_c09_filtered_dataframe_with_an_empty_partition(c09: Any) -> None:
    """A filter leaves unknown sizes and one empty partition: same as the filtered NumPy."""
    frame = c09["frame"].assign(y=c09["y"], i=np.arange(400))
    ddf = dd.from_pandas(frame, npartitions=4)
    keep = (frame.i < 100) | (frame.i >= 200)  # partition 2 becomes empty
    filtered = ddf[(ddf.i < 100) | (ddf.i >= 200)]
    assert filtered.map_partitions(len).compute().tolist() == [100, 0, 100, 100]
    reference = LinearRegression(tol=1e-10).fit(frame.loc[keep, ["a", "b", "c"]],
                                                frame.loc[keep, "y"])
    for y in (filtered["y"], filtered["y"].to_dask_array(), frame.loc[keep, "y"].to_numpy()):
        model = LinearRegression(tol=1e-10).fit(filtered[["a", "b", "c"]], y)
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)
        np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-8)
        assert list(model.feature_names_in_) == ["a", "b", "c"]


def test_c09_classifier_on_dataframe_and_series(c09: Any) -> None:
    labels = np.where(c09["X"][:, 0] + c09["X"][:, 1] > 0.3, "late", "on time")
    ddf = dd.from_pandas(c09["frame"], npartitions=4)
    y_series = dd.from_pandas(pd.Series(labels), npartitions=4)
    model = LogisticRegression(tol=1e-8).fit(ddf, y_series)
    known = LogisticRegression(tol=1e-8).fit(
        da.from_array(c09["X"], chunks=(100, 3)), da.from_array(labels, chunks=100)
    )
    assert list(model.classes_) == ["late", "on time"]
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(model.coef_, known.coef_, rtol=1e-8)
    np.testing.assert_array_equal(model.predict(ddf).compute(), known.predict(c09["X"]))


# ================================================================ C-13: one class


def _sklearn_message(X: np.ndarray, y: np.ndarray) -> str:
    with pytest.raises(ValueError) as info:
        sklearn.linear_model.LogisticRegression().fit(X, y)
    return str(info.value)


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param(np.ones(60, dtype=np.int64), id="all_1"),
        pytest.param(np.zeros(60, dtype=np.int64), id="all_0"),
        pytest.param(np.ones(60), id="all_1.0"),
        pytest.param(np.full(60, "yes"), id="all_yes"),
    ],
)
@pytest.mark.parametrize("container", ["numpy", "pandas", "dask", "dask_series"])
def test_c13_one_class(
    labels: np.ndarray, container: str, watch: Any
) -> None:
    X = np.random.default_rng(13).standard_normal((60, 2))
    y: Any = {
        "numpy": lambda: labels,
        "pandas": lambda: pd.Series(labels),
        "dask": lambda: dask_chunks(labels),
        "dask_series": lambda: dd.from_pandas(pd.Series(labels), npartitions=3),
    }[container]()
    Xf = dask_chunks(X) if container.startswith("dask") else X
    kept = labels.copy()
    with watch(), pytest.raises(ValueError, match="at least 2 classes") as info:
        LogisticRegression().fit(Xf, y)
    assert "only one class" in str(info.value)
    # scikit-learn's message, for the same labels as scikit-learn would receive them.
    in_memory = np.asarray(y.compute() if container.startswith("dask") else y)
    assert str(info.value) == _sklearn_message(X, in_memory)
    if not container.startswith("dask"):
        assert watch.new_keys == []
    assert watch.solver_keys() == []
    assert not watch.started_a_cluster()
    assert_unchanged(labels, kept)


def test_c13_two_classes_in_different_chunks_is_fine() -> None:
    """Each chunk holds one class, the data two: the classes are found over all chunks."""
    X = np.random.default_rng(13).standard_normal((60, 2))
    y = (np.arange(60) >= 30).astype(np.int64)
    model = LogisticRegression().fit(dask_chunks(X, 30), dask_chunks(y, 30))
    assert list(model.classes_) == [0, 1]
    assert np.isfinite(model.coef_).all()


# ================================================================ C-18: extreme margins


def _model_with_margin() -> LogisticRegression:
    """A fitted classifier, then coef_ = [1], intercept_ = 0: decision value = x."""
    rng = np.random.default_rng(18)
    X = rng.standard_normal((40, 1))
    model = LogisticRegression().fit(X, (X[:, 0] + rng.standard_normal(40) > 0).astype(int))
    model.coef_ = np.array([[1.0]])
    model.intercept_ = np.array([0.0])
    return model


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("margin", [1000.0, 745.2, 710.0, 40.0, 1e6, 1e300])
def test_c18_binary_extreme_margins(margin: float, container: str) -> None:
    model = _model_with_margin()
    X = np.array([[-margin], [margin], [0.0]])
    Xf = da.from_array(X, chunks=(2, 1)) if container == "dask" else X
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        z = model.decision_function(Xf)
        proba = model.predict_proba(Xf)
        log_proba = model.predict_log_proba(Xf)
        labels = model.predict(Xf)
        if container == "dask":
            assert isinstance(proba, da.Array) and isinstance(log_proba, da.Array)
            z, proba, log_proba, labels = da.compute(z, proba, log_proba, labels,
                                                    scheduler="sync")
    np.testing.assert_array_equal(z, [-margin, margin, 0.0])
    assert proba.shape == (3, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    if margin >= 710:
        np.testing.assert_array_equal(proba[:2], [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(proba[2], [0.5, 0.5])
    assert np.isfinite(log_proba).all()
    # log P(other class) = -margin (to rounding); log P(predicted class) ~ 0.
    np.testing.assert_allclose(log_proba[0], [0.0, -margin], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(log_proba[1], [-margin, 0.0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-12, atol=1e-300)
    assert list(labels[:2]) == [0, 1]


def test_c18_separable_data_without_penalty() -> None:
    """Separable data, penalty=None: margins grow large in the fit itself, never overflow."""
    x = np.linspace(-3, 3, 40)
    X = np.column_stack([x, np.ones_like(x)])
    y = (x > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(penalty=None, max_iter=300).fit(X, y)
        Xbig = X * 1000.0
        z = model.decision_function(Xbig)
        proba = model.predict_proba(Xbig)
        log_proba = model.predict_log_proba(Xbig)
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
    assert np.abs(z).max() > 1000
    assert np.isfinite(proba).all() and np.isfinite(log_proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_array_equal(model.predict(X), y)
