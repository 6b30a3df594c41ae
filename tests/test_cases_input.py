"""Input cases from ``../shared/cases/`` (C-02, C-03, C-04, C-09, C-13, C-18) and a catalogue
of bad inputs.

Every bad input must give a clear ``ValueError`` (``TypeError`` for wrong types) that names
the argument, raised before any cluster work, and must leave the user's arrays unchanged.
"Before any cluster work" is checked on the session scheduler with a plugin that records every
key it sees: for NumPy / pandas input nothing at all may reach the scheduler; for dask input
the validation pass is cluster work by necessity, so there no solver task (``daskgd-grad``,
``daskgd-linesearch``, ``daskgd-sgd``) may run.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import sklearn.linear_model
from distributed import Client, default_client
from distributed.diagnostics.plugin import SchedulerPlugin
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from daskgd import LinearRegression, LogisticRegression, Ridge

ESTIMATORS = [LinearRegression, Ridge, LogisticRegression]
SOLVER_PREFIXES = ("daskgd-grad", "daskgd-hess", "daskgd-gram", "daskgd-linesearch", "daskgd-sgd")

# ---------------------------------------------------------------- watching the scheduler


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) else str(key[0]) if isinstance(key, tuple) else str(key)


class KeyRecorder(SchedulerPlugin):
    """Records every key that enters the scheduler or changes state (runs in the scheduler)."""

    name = "daskgd-tests-key-recorder"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def update_graph(self, scheduler: Any, *, keys: Any = (), tasks: Any = (), **kwargs: Any):
        self.keys.extend(_key_name(k) for k in list(keys) + list(tasks))

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        self.keys.append(_key_name(key))


def _task_keys(dask_scheduler: Any) -> list[str]:
    return [_key_name(k) for k in list(dask_scheduler.tasks)]


class ClusterWatch:
    """What reached the session scheduler inside ``with watch():``."""

    def __init__(self, client: Client, recorder: KeyRecorder) -> None:
        self.client = client
        self.recorder = recorder
        self.new_keys: list[str] = []

    @contextlib.contextmanager
    def __call__(self) -> Iterator[ClusterWatch]:
        # A round trip through the scheduler first, so earlier messages are processed.
        before = set(self.client.run_on_scheduler(_task_keys))
        mark = len(self.recorder.keys)
        self.new_keys = []
        try:
            yield self
        finally:
            after = self.client.run_on_scheduler(_task_keys)
            seen = self.recorder.keys[mark:] + after
            self.new_keys = sorted({k for k in seen if k not in before})

    def solver_keys(self) -> list[str]:
        return [k for k in self.new_keys if k.startswith(SOLVER_PREFIXES)]


@pytest.fixture(scope="module")
def recorder(cluster: Any) -> Iterator[KeyRecorder]:
    plugin = KeyRecorder()

    async def add() -> None:
        cluster.scheduler.add_plugin(plugin, name=KeyRecorder.name)

    async def remove() -> None:
        cluster.scheduler.remove_plugin(name=KeyRecorder.name)

    cluster.sync(add)
    yield plugin
    cluster.sync(remove)


@pytest.fixture
def watch(client: Client, recorder: KeyRecorder) -> ClusterWatch:
    return ClusterWatch(client, recorder)


@pytest.fixture(autouse=True)
def session_client_stays_default(client: Client) -> Iterator[None]:
    """After each test the session client must still be the default one.

    A stray client (e.g. one a fit started and failed to close) would make every later test
    run elsewhere; it is closed here so one failure does not cascade.
    """
    yield
    stray = default_client()
    for _ in range(10):
        if stray is client:
            break
        cluster = getattr(stray, "cluster", None)
        stray.close()
        if cluster is not None:
            cluster.close()
        stray = default_client()
    assert stray is client


@pytest.fixture
def daskgd_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="daskgd")
    return caplog


def started_a_cluster(caplog: pytest.LogCaptureFixture) -> bool:
    return any("started a LocalCluster" in r.getMessage() for r in caplog.records)


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
    copyable = isinstance(obj, np.ndarray | pd.DataFrame | pd.Series)
    return obj.copy() if copyable or scipy.sparse.issparse(obj) else obj


def assert_unchanged(original: Any, kept: Any) -> None:
    if isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(original, kept)
    elif isinstance(original, pd.Series):
        pd.testing.assert_series_equal(original, kept)
    elif isinstance(original, np.ndarray):
        assert original.dtype == kept.dtype and original.shape == kept.shape
        np.testing.assert_array_equal(original, kept)
    elif scipy.sparse.issparse(original):
        assert original.format == kept.format and original.dtype == kept.dtype
        for part in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(original, part), getattr(kept, part))


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
    est_cls: type, container: str, bad: float, watch: ClusterWatch, daskgd_log: Any
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
    assert not started_a_cluster(daskgd_log)
    assert not hasattr(model, "coef_")
    assert_unchanged(X, X_kept)
    assert_unchanged(y, y_kept)


@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_c03_non_finite_labels(container: str, watch: ClusterWatch) -> None:
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
    bad: str, container: str, watch: ClusterWatch, daskgd_log: Any
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
    assert not started_a_cluster(daskgd_log)
    assert not hasattr(model, "coef_")
    if container.startswith("dask"):
        np.testing.assert_array_equal(np.asarray(X.compute()), kept)
    else:
        assert_unchanged(X, kept)


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("est_cls", [Ridge, LogisticRegression])
def test_c04_non_finite_X_other_estimators(
    est_cls: type, container: str, watch: ClusterWatch
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
    labels: np.ndarray, container: str, watch: ClusterWatch, daskgd_log: Any
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
    assert not started_a_cluster(daskgd_log)
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


# ================================================================ bad-input catalogue
#
# Each case: (id, estimators it applies to, make(est_cls) -> (X, y, sample_weight),
#             expected exception type(s), regex the message must match).


def _X(n: int = 60, d: int = 2) -> np.ndarray:
    return regression_data(n, d)[0]


def _y(est_cls: type, n: int = 60) -> np.ndarray:
    return target_for(est_cls, _X(n))


def _with_cell(value: float) -> Callable[[type], tuple]:
    def make(est_cls: type) -> tuple:
        X = _X()
        X[11, 0] = value
        return X, _y(est_cls), None
    return make


def _as_csr(make: Callable[[type], tuple]) -> Callable[[type], tuple]:
    def wrapped(est_cls: type) -> tuple:
        X, y, w = make(est_cls)
        return scipy.sparse.csr_matrix(X), y, w
    return wrapped


def _y_with(value: float) -> Callable[[type], tuple]:
    def make(est_cls: type) -> tuple:
        y = _y(est_cls).astype(np.float64)
        y[9] = value
        return _X(), y, None
    return make


def _weights(w: np.ndarray) -> Callable[[type], tuple]:
    return lambda est_cls: (_X(), _y(est_cls), w.copy())


_neg_w = np.ones(60)
_neg_w[17] = -1.0
_nan_w = np.ones(60)
_nan_w[17] = np.nan
_inf_w = np.ones(60)
_inf_w[17] = np.inf

NUMPY_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("X_nan", ESTIMATORS, _with_cell(np.nan), ValueError, r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_inf", ESTIMATORS, _with_cell(np.inf), ValueError, r"\bX\b.*inf.*row 11.*column 0"),
    ("X_minus_inf", ESTIMATORS, _with_cell(-np.inf), ValueError, r"\bX\b.*inf.*row 11"),
    ("y_nan", ESTIMATORS, _y_with(np.nan), ValueError, r"\by\b.*NaN.*row 9"),
    ("y_inf", ESTIMATORS, _y_with(np.inf), ValueError, r"\by\b.*inf.*row 9"),
    ("y_short", ESTIMATORS, lambda e: (_X(), _y(e)[:-1], None), ValueError,
     r"\bX\b.*\by\b.*60.*59"),
    ("y_long", ESTIMATORS, lambda e: (_X(), np.r_[_y(e), _y(e)[:1]], None), ValueError,
     r"\bX\b.*\by\b.*60.*61"),
    ("sample_weight_short", ESTIMATORS, lambda e: (_X(), _y(e), np.ones(59)), ValueError,
     r"\bX\b.*sample_weight.*60.*59"),
    ("X_empty", ESTIMATORS, lambda e: (np.empty((0, 2)), np.empty(0), None), ValueError,
     r"\bX\b.*0 samples"),
    ("X_no_features", ESTIMATORS, lambda e: (np.empty((60, 0)), _y(e), None), ValueError,
     r"\bX\b.*0 features"),
    ("X_1d", ESTIMATORS, lambda e: (_X()[:, 0], _y(e), None), ValueError,
     r"\bX\b.*2-D.*reshape"),
    ("X_3d", ESTIMATORS, lambda e: (_X().reshape(60, 2, 1), _y(e), None), ValueError,
     r"\bX\b.*2-D.*\(60, 2, 1\)"),
    ("X_scalar", ESTIMATORS, lambda e: (np.float64(3.0), _y(e), None), ValueError,
     r"\bX\b.*2-D"),
    ("y_two_columns", ESTIMATORS, lambda e: (_X(), np.column_stack([_y(e), _y(e)]), None),
     ValueError, r"\by\b.*1-D.*\(60, 2\)"),
    ("y_none", ESTIMATORS, lambda e: (_X(), None, None), ValueError, r"\by\b.*None"),
    ("sample_weight_2d", ESTIMATORS, lambda e: (_X(), _y(e), np.ones((60, 2))), ValueError,
     r"sample_weight.*1-D"),
    ("X_object_strings", ESTIMATORS,
     lambda e: (np.array([["a", 1.0]] * 60, dtype=object), _y(e), None), ValueError,
     r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_unicode_strings", ESTIMATORS, lambda e: (np.array([["a", "b"]] * 60), _y(e), None),
     ValueError, r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_object_column", ESTIMATORS,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": ["x", "y"] * 30}).astype(
         {"city": object}), _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_str_column", ESTIMATORS,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": ["x", "y"] * 30}), _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_category_column", ESTIMATORS,
     lambda e: (pd.DataFrame({"num": _X()[:, 0], "city": pd.Categorical(["x", "y"] * 30)}),
                _y(e), None),
     ValueError, r"\bX\b.*'city'.*category.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_pandas_series", ESTIMATORS, lambda e: (pd.Series(_X()[:, 0]), _y(e), None),
     ValueError, r"\bX\b.*2-D.*to_frame"),
    ("X_sparse_nan", ESTIMATORS, _as_csr(_with_cell(np.nan)), ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("y_strings_for_regression", [LinearRegression, Ridge],
     lambda e: (_X(), np.array(["1.5"] * 60), None), ValueError, r"\by\b.*numeric"),
    ("sample_weight_negative", ESTIMATORS, _weights(_neg_w), ValueError,
     r"sample_weight.*negative.*row 17"),
    ("sample_weight_nan", ESTIMATORS, _weights(_nan_w), ValueError,
     r"sample_weight.*(non-finite|NaN).*row 17"),
    ("sample_weight_inf", ESTIMATORS, _weights(_inf_w), ValueError,
     r"sample_weight.*(non-finite|inf).*row 17"),
    ("sample_weight_all_zero", ESTIMATORS, _weights(np.zeros(60)), ValueError,
     r"sample_weight.*zero"),
    ("sample_weight_strings", ESTIMATORS, _weights(np.array(["1"] * 60)), ValueError,
     r"sample_weight.*numeric"),
    ("continuous_labels", [LogisticRegression], lambda e: (_X(), _X()[:, 0], None),
     ValueError, r"continuous"),
]

NUMPY_CATALOGUE = [
    pytest.param(est_cls, make, exc, match, id=f"{case}-{est_cls.__name__}")
    for case, estimators, make, exc, match in NUMPY_CASES
    for est_cls in estimators
]


def _run_bad_fit(est_cls: type, make: Callable, exc: Any, match: str, watch: ClusterWatch,
                 kwargs: dict[str, Any] | None = None) -> None:
    X, y, w = make(est_cls)
    kept = [snapshot(a) for a in (X, y, w)]
    model = est_cls(**(kwargs or {}))
    with watch(), pytest.raises(exc, match=match):
        model.fit(X, y, sample_weight=w)
    assert watch.new_keys == [], "the error must come before anything reaches the cluster"
    assert not hasattr(model, "coef_")
    for original, copied in zip((X, y, w), kept):
        assert_unchanged(original, copied)


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), NUMPY_CATALOGUE)
def test_bad_input_in_memory(
    est_cls: type, make: Callable, exc: Any, match: str, watch: ClusterWatch, daskgd_log: Any
) -> None:
    _run_bad_fit(est_cls, make, exc, match, watch)
    assert not started_a_cluster(daskgd_log)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize("est_cls", ESTIMATORS)
def test_bad_input_in_memory_other_solvers(
    est_cls: type, solver: str, watch: ClusterWatch
) -> None:
    """The checks do not depend on the solver."""
    _run_bad_fit(est_cls, _with_cell(np.nan), ValueError, r"\bX\b.*row 11", watch,
                 {"solver": solver})
    _run_bad_fit(est_cls, _weights(np.zeros(60)), ValueError, r"sample_weight", watch,
                 {"solver": solver})


# ---------------------------------------------------------------- dask input


def _dask(make: Callable, *, rows: int = 20) -> Callable[[type], tuple]:
    def wrapped(est_cls: type) -> tuple:
        X, y, w = make(est_cls)
        return tuple(None if a is None else dask_chunks(np.asarray(a), rows) for a in (X, y, w))
    return wrapped


def _frame_of(n: int, npartitions: int = 3) -> dd.DataFrame:
    return dd.from_pandas(pd.DataFrame(_X(n), columns=["a", "b"]), npartitions=npartitions)


# Cases whose error is found without reading the data: nothing may reach the scheduler.
DASK_STATIC_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("y_short", ESTIMATORS, _dask(lambda e: (_X(), _y(e)[:-1], None)), ValueError,
     r"\bX\b.*\by\b.*60.*59"),
    ("sample_weight_short", ESTIMATORS, _dask(lambda e: (_X(), _y(e), np.ones(59))),
     ValueError, r"\bX\b.*sample_weight.*60.*59"),
    ("X_empty", ESTIMATORS, _dask(lambda e: (np.empty((0, 2)), np.empty(0), None)),
     ValueError, r"\bX\b.*0 samples"),
    ("X_no_features", ESTIMATORS, _dask(lambda e: (np.empty((60, 0)), _y(e), None)),
     ValueError, r"\bX\b.*0 features"),
    ("X_1d", ESTIMATORS, _dask(lambda e: (_X()[:, 0], _y(e), None)), ValueError,
     r"\bX\b.*2-D"),
    ("X_3d", ESTIMATORS, _dask(lambda e: (_X().reshape(60, 2, 1), _y(e), None)), ValueError,
     r"\bX\b.*2-D"),
    ("y_two_columns", ESTIMATORS,
     _dask(lambda e: (_X(), np.column_stack([_y(e), _y(e)]), None)), ValueError,
     r"\by\b.*1-D"),
    ("X_strings", ESTIMATORS, _dask(lambda e: (np.array([["a", "b"]] * 60), _y(e), None)),
     ValueError, r"\bX\b.*numeric.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_dataframe_category_column", ESTIMATORS,
     lambda e: (dd.from_pandas(pd.DataFrame(
         {"num": _X()[:, 0], "city": pd.Categorical(["x", "y"] * 30)}), npartitions=3),
         _y(e), None),
     ValueError, r"\bX\b.*'city'.*(OneHotEncoder|OrdinalEncoder)"),
    ("X_dask_series", ESTIMATORS,
     lambda e: (dd.from_pandas(pd.Series(_X()[:, 0]), npartitions=3), _y(e), None),
     ValueError, r"\bX\b.*2-D"),
]

# Cases found by the validation pass: no solver task may run.
DASK_DATA_CASES: list[tuple[str, list[type], Callable[[type], tuple], Any, str]] = [
    ("X_nan", ESTIMATORS, _dask(_with_cell(np.nan)), ValueError,
     r"\bX\b.*NaN.*row 11.*column 0"),
    ("X_inf", ESTIMATORS, _dask(_with_cell(np.inf)), ValueError, r"\bX\b.*inf.*row 11"),
    ("y_nan", ESTIMATORS, _dask(_y_with(np.nan)), ValueError, r"\by\b.*NaN.*row 9"),
    ("sample_weight_negative", ESTIMATORS, _dask(_weights(_neg_w)), ValueError,
     r"sample_weight.*negative.*row 17"),
    ("sample_weight_nan", ESTIMATORS, _dask(_weights(_nan_w)), ValueError,
     r"sample_weight.*row 17"),
    ("sample_weight_all_zero", ESTIMATORS, _dask(_weights(np.zeros(60))), ValueError,
     r"sample_weight.*zero"),
    ("one_class", [LogisticRegression], _dask(lambda e: (_X(), np.ones(60, int), None)),
     ValueError, r"at least 2 classes"),
    ("y_short_unknown_chunks", ESTIMATORS,
     lambda e: (_frame_of(60), dd.from_pandas(pd.Series(_y(e)[:-1]), npartitions=3), None),
     ValueError, r"\bX\b.*\by\b.*60.*59"),
    ("sample_weight_long_unknown_chunks", ESTIMATORS,
     lambda e: (_frame_of(60), _y(e), dd.from_pandas(pd.Series(np.ones(61)), npartitions=3)),
     ValueError, r"\bX\b.*sample_weight.*60.*61"),
    ("X_filtered_to_no_rows", ESTIMATORS,
     lambda e: ((f := _frame_of(60))[f.a > 100], np.zeros(0), None), ValueError,
     r"\bX\b.*0 samples"),
]


def _dask_params(cases: list) -> list:
    return [
        pytest.param(est_cls, make, exc, match, id=f"{case}-{est_cls.__name__}")
        for case, estimators, make, exc, match in cases
        for est_cls in estimators
    ]


def _check_dask_inputs_unchanged(before: list[Any], args: tuple) -> None:
    for kept, a in zip(before, args):
        if isinstance(a, da.Array):
            assert kept is not None
            np.testing.assert_array_equal(a.compute(), kept)


def _dask_bad_fit(est_cls: type, make: Callable, exc: Any, match: str, watch: ClusterWatch,
                  caplog: Any, client: Client) -> ClusterWatch:
    args = make(est_cls)
    kept = [a.compute() if isinstance(a, da.Array) else None for a in args]
    model = est_cls()
    with watch(), pytest.raises(exc, match=match):
        model.fit(*args)
    assert watch.solver_keys() == [], "no solver task may run before the data are checked"
    assert not hasattr(model, "coef_")
    assert not started_a_cluster(caplog), "a failed check must not start another cluster"
    assert default_client() is client
    _check_dask_inputs_unchanged(kept, args)
    return watch


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), _dask_params(DASK_STATIC_CASES))
def test_bad_dask_input_found_without_reading_data(
    est_cls: type, make: Callable, exc: Any, match: str, watch: ClusterWatch,
    daskgd_log: Any, client: Client,
) -> None:
    _dask_bad_fit(est_cls, make, exc, match, watch, daskgd_log, client)
    assert watch.new_keys == []


@pytest.mark.parametrize(("est_cls", "make", "exc", "match"), _dask_params(DASK_DATA_CASES))
def test_bad_dask_input_found_by_the_validation_pass(
    est_cls: type, make: Callable, exc: Any, match: str, watch: ClusterWatch,
    daskgd_log: Any, client: Client,
) -> None:
    _dask_bad_fit(est_cls, make, exc, match, watch, daskgd_log, client)


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


# ---------------------------------------------------------------- hyper-parameters


HYPER_CASES: list[tuple[list[type], dict[str, Any], Any, str]] = [
    (ESTIMATORS, {"solver": "nope"}, ValueError, r"solver.*'nope'"),
    (ESTIMATORS, {"solver": None}, (ValueError, TypeError), r"solver"),
    (ESTIMATORS, {"max_iter": 0}, ValueError, r"max_iter.*0"),
    (ESTIMATORS, {"max_iter": -5}, ValueError, r"max_iter"),
    (ESTIMATORS, {"max_iter": 1.5}, (ValueError, TypeError), r"max_iter"),
    (ESTIMATORS, {"max_iter": "10"}, (ValueError, TypeError), r"max_iter"),
    (ESTIMATORS, {"tol": -1}, ValueError, r"tol.*-1"),
    (ESTIMATORS, {"tol": np.nan}, ValueError, r"tol"),
    (ESTIMATORS, {"tol": "small"}, (ValueError, TypeError), r"tol"),
    (ESTIMATORS, {"learning_rate": "bogus"}, ValueError, r"learning_rate.*'bogus'"),
    (ESTIMATORS, {"learning_rate": -0.1}, ValueError, r"learning_rate"),
    (ESTIMATORS, {"learning_rate": 0.0}, ValueError, r"learning_rate"),
    (ESTIMATORS, {"solver": "gd", "learning_rate": "invscaling"}, ValueError,
     r"learning_rate.*invscaling"),
    (ESTIMATORS, {"batch_size": 0}, ValueError, r"batch_size.*0"),
    (ESTIMATORS, {"batch_size": 2.5}, (ValueError, TypeError), r"batch_size"),
    (ESTIMATORS, {"eta0": 0}, ValueError, r"eta0"),
    (ESTIMATORS, {"eta0": -1.0}, ValueError, r"eta0"),
    (ESTIMATORS, {"power_t": -1.0}, ValueError, r"power_t"),
    (ESTIMATORS, {"local_steps": 0}, ValueError, r"local_steps"),
    (ESTIMATORS, {"fit_intercept": "yes"}, (ValueError, TypeError), r"fit_intercept"),
    ([Ridge], {"alpha": -1}, ValueError, r"alpha.*-1"),
    ([Ridge], {"alpha": np.nan}, ValueError, r"alpha"),
    ([Ridge], {"alpha": "strong"}, (ValueError, TypeError), r"alpha"),
    ([LogisticRegression], {"C": 0}, ValueError, r"\bC\b.*0"),
    ([LogisticRegression], {"C": -1.0}, ValueError, r"\bC\b"),
    ([LogisticRegression], {"C": np.nan}, ValueError, r"\bC\b"),
    ([LogisticRegression], {"penalty": "bogus"}, ValueError, r"penalty.*'bogus'"),
    ([LogisticRegression], {"penalty": "l3"}, ValueError, r"penalty.*'l3'"),
    ([LogisticRegression], {"penalty": "elasticnet"}, ValueError, r"l1_ratio"),
    ([LogisticRegression], {"solver": "newton", "penalty": "l1"}, ValueError,
     r"newton.*smooth penalty.*proximal"),
]

HYPER_PARAMS = [
    pytest.param(est_cls, params, exc, match,
                 id=f"{est_cls.__name__}-" + "-".join(f"{k}={v!r}" for k, v in params.items()))
    for estimators, params, exc, match in HYPER_CASES
    for est_cls in estimators
]


@pytest.mark.parametrize(("est_cls", "params", "exc", "match"), HYPER_PARAMS)
@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_invalid_hyper_parameters(
    est_cls: type, params: dict[str, Any], exc: Any, match: str, container: str,
    watch: ClusterWatch,
) -> None:
    X = _X()
    y = _y(est_cls)
    model = est_cls(**params)  # scikit-learn convention: constructing never fails
    assert model.get_params()[next(iter(params))] is params[next(iter(params))]
    Xf, yf = (dask_chunks(X), dask_chunks(y)) if container == "dask" else (X, y)
    with watch(), pytest.raises(exc, match=match):
        model.fit(Xf, yf)
    assert watch.new_keys == []
    assert not hasattr(model, "coef_")


# ---------------------------------------------------------------- prediction input


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    X = _X()
    frame = pd.DataFrame(X, columns=["a", "b"])
    return {
        est_cls.__name__: (
            est_cls().fit(X, _y(est_cls)),
            est_cls().fit(frame, _y(est_cls)),
        )
        for est_cls in ESTIMATORS
    }


def _methods(model: Any) -> list[str]:
    names = ["predict", "decision_function"] if hasattr(model, "decision_function") else [
        "predict"]
    if hasattr(model, "predict_proba"):
        names += ["predict_proba", "predict_log_proba"]
    return names


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
    ],
)
@pytest.mark.parametrize("est_name", [c.__name__ for c in ESTIMATORS])
def test_predict_with_wrong_input(
    est_name: str, make_X: Callable, match: str, fitted: Any, watch: ClusterWatch
) -> None:
    model, _ = fitted[est_name]
    X = make_X()
    kept = X.compute() if isinstance(X, da.Array) else snapshot(X)
    for method in _methods(model):
        with watch(), pytest.raises(ValueError, match=match):
            getattr(model, method)(X)
        assert watch.new_keys == [], method
    if isinstance(X, da.Array):
        np.testing.assert_array_equal(X.compute(), kept)
    else:
        assert_unchanged(X, kept)


@pytest.mark.parametrize("est_name", [c.__name__ for c in ESTIMATORS])
def test_predict_with_missing_or_renamed_column(est_name: str, fitted: Any) -> None:
    _, model = fitted[est_name]
    assert list(model.feature_names_in_) == ["a", "b"]
    X = _X()
    renamed = pd.DataFrame(X, columns=["a", "B"])
    with pytest.raises(ValueError, match=r"feature names.*'b'"):
        model.predict(renamed)
    with pytest.raises(ValueError, match=r"'b'"):
        model.predict(pd.DataFrame(X[:, :1], columns=["a"]))
    # Reordered columns are matched by name.
    reordered = pd.DataFrame(X[:, ::-1], columns=["b", "a"])
    np.testing.assert_array_equal(model.predict(reordered),
                                  model.predict(pd.DataFrame(X, columns=["a", "b"])))


@pytest.mark.parametrize("est_cls", ESTIMATORS)
def test_predict_before_fit(est_cls: type) -> None:
    model = est_cls()
    for method in _methods(model):
        with pytest.raises(NotFittedError):
            getattr(model, method)(_X())


def test_rejected_refit_keeps_the_previous_model(fitted: Any) -> None:
    """A fit that fails validation leaves an already fitted model as it was."""
    model = copy.deepcopy(fitted["LinearRegression"][0])
    coef, intercept = model.coef_.copy(), model.intercept_
    X = _X()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.fit(X, _y(LinearRegression))
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.intercept_ == intercept
