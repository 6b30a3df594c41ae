"""daskgd.metrics against sklearn.metrics on real data, for every input layout.

Every metric is computed from NumPy inputs and from dask inputs chunked in 1, 3 and 7
blocks, ragged blocks with empty ones, unknown chunk sizes (from dask DataFrames), y_true and
y_pred chunked differently, and mixed NumPy/dask, and must equal scikit-learn's value on the
same data (rtol 1e-12; class counts exactly).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as skl
from distributed import get_task_stream
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import StandardScaler

from daskgd import LinearRegression, LogisticRegression, PoissonRegressor
from daskgd import metrics as dm

# dask's note when a DataFrame's string column becomes an object array (y_true as strings)
pytestmark = pytest.mark.filterwarnings("ignore:Dask currently has limited support:UserWarning")

RTOL = 1e-12
LAYOUTS = ["numpy", "pandas", "1", "3", "7", "ragged", "different", "unknown", "unknown-different",
           "unknown-twins", "mixed"]
# The metrics with several reductions per case: every kind of layout once.
SHORT = ["numpy", "7", "ragged", "different", "unknown", "mixed"]


def _cases(layouts: list[str], unweighted: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Every layout with sample weights, and some also without (to keep the file quick)."""
    return [(layout, True) for layout in layouts] + [(layout, False) for layout in unweighted]


def _blocks(n: int, k: int) -> tuple[int, ...]:
    return tuple(len(part) for part in np.array_split(np.arange(n), k))


def _frame(columns: dict[str, np.ndarray], **repartition: Any) -> dd.DataFrame:
    frame = dd.from_pandas(pd.DataFrame(columns), npartitions=4)
    return frame.repartition(**repartition) if repartition else frame


def _layout(layout: str, *arrays: np.ndarray | None) -> list[Any]:
    """The arrays (first y_true, then y_pred or scores, then weights) in one input layout."""
    n = len(arrays[0])  # type: ignore[arg-type]
    if layout == "numpy":
        return list(arrays)
    if layout == "pandas":
        return [None if a is None else pd.Series(a) if a.ndim == 1 else pd.DataFrame(a)
                for a in arrays]
    if layout in ("1", "3", "7"):
        rows = _blocks(n, int(layout))
        return [None if a is None else da.from_array(a, chunks=(rows, *a.shape[1:]))
                for a in arrays]
    if layout == "ragged":  # empty blocks at both ends and inside, one of a single row
        rows = (0, 5, 0, 1, n - 106, 100, 0)
        return [None if a is None else da.from_array(a, chunks=(rows, *a.shape[1:]))
                for a in arrays]
    if layout == "different":  # every input its own chunking: rechunked to the first's
        return [None if a is None else da.from_array(a, chunks=(_blocks(n, k), *a.shape[1:]))
                for a, k in zip(arrays, (3, 7, 2))]
    if layout.startswith("unknown"):
        return _unknown(layout, n, arrays)
    assert layout == "mixed"  # NumPy y_true, dask y_pred, weights of unknown chunk sizes
    y, p, w = (*arrays, None)[:3]
    return [y, da.from_array(p, chunks=(_blocks(n, 5), *p.shape[1:])),
            None if w is None else _frame({"w": w})["w"]]


def _unknown(layout: str, n: int, arrays: tuple[np.ndarray | None, ...]) -> list[Any]:
    """Dask Series and arrays from DataFrames: NaN chunk sizes in ``.chunks``."""
    columns = {f"c{i}": a for i, a in enumerate(arrays) if a is not None and a.ndim == 1}
    frame = _frame(columns)
    if layout == "unknown-different":  # 3 and 4 partitions
        other = _frame(columns, npartitions=3)
    elif layout == "unknown-twins":  # 4 partitions each, at other rows: checked in the tasks
        other = _frame(columns, divisions=[0, n // 10, n // 3, 2 * n // 3, n - 1])
    else:
        other = frame
    out: list[Any] = []
    for i, a in enumerate(arrays):
        if a is None:
            out.append(None)
        elif a.ndim == 2:
            out.append(dd.from_pandas(pd.DataFrame(a), npartitions=4).to_dask_array())
        else:
            out.append(frame[f"c{i}"] if i == 0 else other[f"c{i}"].to_dask_array())
    return out


def _weights(n: int, seed: int = 0) -> np.ndarray:
    w = np.random.default_rng(seed).uniform(0, 3, n)
    w[::17] = 0.0  # zero weights still make a label present
    return w


# ---------------------------------------------------------------- data


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return y, skl.Ridge(alpha=0.1).fit(X, y).predict(X)


@pytest.fixture(scope="module")
def binary() -> dict[str, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["malignant", "benign"])[y]  # string labels; "malignant" sorts last
    clf = skl.LogisticRegression(C=0.05).fit(X, names)
    return {"y": names, "pred": clf.predict(X), "proba": clf.predict_proba(X),
            "score": clf.decision_function(X), "y01": y}


@pytest.fixture(scope="module")
def wine() -> dict[str, np.ndarray]:
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["barbera", "barolo", "grignolino"])[y]
    clf = skl.LogisticRegression(C=0.01).fit(X, names)
    return {"y": names, "pred": clf.predict(X), "proba": clf.predict_proba(X), "yint": y}


def _same(ours: Any, theirs: Any, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)


# ---------------------------------------------------------------- regression


@pytest.mark.parametrize(("layout", "weighted"),
                         _cases(LAYOUTS, ("numpy", "3", "unknown", "unknown-twins")))
def test_regression_metrics_equal_sklearn(layout: str, weighted: bool, regression) -> None:
    y, p = regression
    w = _weights(len(y)) if weighted else None
    args = _layout(layout, y, p, w)
    for name in ("mean_squared_error", "mean_absolute_error", "r2_score"):
        ours = getattr(dm, name)(*args[:2], sample_weight=args[2])
        assert isinstance(ours, float)
        _same(ours, getattr(skm, name)(y, p, sample_weight=w))


@pytest.mark.parametrize(("layout", "weighted"), [("numpy", True), ("ragged", False),
                                                  ("unknown-twins", True)])
def test_d2_poisson_equals_sklearn(layout: str, weighted: bool, regression) -> None:
    y, p = regression
    counts = np.round(y / 10)  # non-negative counts, and positive predicted means
    mean = np.exp(np.log(np.clip(p, 1, None) / 10))
    w = _weights(len(y)) if weighted else None
    args = _layout(layout, counts, mean, w)
    for power in (0, 1):
        _same(dm.d2_tweedie_score(*args[:2], sample_weight=args[2], power=power),
              skm.d2_tweedie_score(counts, mean, sample_weight=w, power=power))


def test_r2_stays_exact_far_from_zero() -> None:
    # A large offset cancels in naive sums of squares; the pairwise centred merge keeps R².
    rng = np.random.default_rng(1)
    y = 1e7 + rng.normal(size=5000)
    p = y + 0.5 * rng.normal(size=5000)
    ours = dm.r2_score(da.from_array(y, chunks=(_blocks(5000, 7),)), p)
    _same(ours, skm.r2_score(y, p), rtol=1e-9)  # sklearn's own two-pass value has ~1e-10


@pytest.mark.parametrize("y_true", [np.full(4, 3.0), np.array([1.0])])
@pytest.mark.parametrize("force_finite", [True, False])
def test_r2_constant_and_single_sample_as_sklearn(y_true: np.ndarray, force_finite: bool) -> None:
    for y_pred in (y_true, y_true + 1):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            theirs = skm.r2_score(y_true, y_pred, force_finite=force_finite)
            ours = dm.r2_score(da.from_array(y_true, chunks=2), y_pred, force_finite=force_finite)
        _same(ours, theirs)


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize(("layout", "weighted"),
                         _cases([*SHORT, "unknown-twins"], ("numpy", "7", "unknown-twins")))
def test_label_metrics_equal_sklearn_multiclass_strings(layout: str, weighted: bool, wine) -> None:
    y, pred = wine["y"], wine["pred"]
    w = _weights(len(y)) if weighted else None
    args = _layout(layout, y, pred, w)
    exact = 0 if not weighted else RTOL  # unweighted: ratios of the same integer counts
    _same(dm.accuracy_score(*args[:2], sample_weight=args[2]),
          skm.accuracy_score(y, pred, sample_weight=w), exact)
    cases = [("f1_score", "macro"), ("precision_score", "weighted"), ("recall_score", None)]
    if layout in ("numpy", "7"):  # every metric and average
        cases = [(name, average) for name in ("precision_score", "recall_score", "f1_score")
                 for average in ("micro", "macro", "weighted", None)]
        _same(dm.accuracy_score(*args[:2], sample_weight=args[2], normalize=False),
              skm.accuracy_score(y, pred, sample_weight=w, normalize=False), exact)
    for name, average in cases:
        _same(getattr(dm, name)(*args[:2], sample_weight=args[2], average=average),
              getattr(skm, name)(y, pred, sample_weight=w, average=average), exact)


@pytest.mark.parametrize("layout", ["numpy", "3", "ragged", "unknown"])
def test_binary_label_metrics_with_pos_label(layout: str, binary) -> None:
    y, pred = binary["y"], binary["pred"]
    w = _weights(len(y), seed=2)
    args = _layout(layout, y, pred, w)
    for name in ("precision_score", "recall_score", "f1_score"):
        for pos_label in ("malignant", "benign"):
            _same(getattr(dm, name)(*args[:2], sample_weight=args[2], pos_label=pos_label),
                  getattr(skm, name)(y, pred, sample_weight=w, pos_label=pos_label))


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
def test_labels_and_zero_division_as_sklearn(zero_division: float, wine) -> None:
    y, pred = wine["y"], wine["pred"]
    # "nebbiolo" is never true nor predicted: its precision and recall are 0/0.
    labels = ["nebbiolo", "barolo", "barbera"]
    dy = da.from_array(y, chunks=50)
    for name in ("precision_score", "recall_score", "f1_score"):
        for average in ("macro", "weighted", None):
            kwargs = {"labels": labels, "average": average, "zero_division": zero_division}
            _same(getattr(dm, name)(dy, pred, **kwargs), getattr(skm, name)(y, pred, **kwargs))


def test_binary_average_on_multiclass_raises_as_sklearn(wine) -> None:
    with pytest.raises(ValueError, match="average='binary'"):
        dm.f1_score(da.from_array(wine["y"], chunks=50), wine["pred"])


# ---------------------------------------------------------------- log loss and ROC AUC


@pytest.mark.parametrize("layout", SHORT)
@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_equals_sklearn(layout: str, weighted: bool, binary, wine) -> None:
    for data in (binary, wine):
        y, proba = data["y"], data["proba"]
        w = _weights(len(y)) if weighted else None
        args = _layout(layout, y, proba, w)
        _same(dm.log_loss(*args[:2], sample_weight=args[2]),
              skm.log_loss(y, proba, sample_weight=w))
    # binary as the probability of the greater class, (n,); sums instead of means
    y, proba = binary["y"], binary["proba"][:, 1]
    args = _layout(layout, y, proba, None)
    _same(dm.log_loss(*args[:2], normalize=False), skm.log_loss(y, proba, normalize=False))


def test_log_loss_labels_clipping_and_float32(wine) -> None:
    y, proba = wine["y"], wine["proba"].copy()
    proba[:3] = [[1.0, 0.0, 0.0]] * 3  # log 0 without clipping
    keep = y != "grignolino"
    labels = ["barbera", "barolo", "grignolino"]
    dy = da.from_array(y[keep], chunks=40)
    dp = da.from_array(proba[keep], chunks=(40, 3))
    _same(dm.log_loss(dy, dp, labels=labels), skm.log_loss(y[keep], proba[keep], labels=labels))
    p32 = proba.astype(np.float32)
    _same(dm.log_loss(da.from_array(y, chunks=40), p32), skm.log_loss(y, p32), rtol=1e-6)


@pytest.mark.parametrize("layout", SHORT)
@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_equals_sklearn_with_ties(layout: str, weighted: bool, binary) -> None:
    y = binary["y"]
    w = _weights(len(y)) if weighted else None
    # rounded scores: many ties, including ties across the two classes
    for score in (binary["score"], np.round(binary["score"]), binary["proba"][:, 1]):
        args = _layout(layout, y, score, w)
        _same(dm.roc_auc_score(*args[:2], sample_weight=args[2]),
              skm.roc_auc_score(y, score, sample_weight=w))
    args = _layout(layout, binary["y01"], np.round(binary["score"]), w)
    _same(dm.roc_auc_score(*args[:2], sample_weight=args[2], max_fpr=0.2),
          skm.roc_auc_score(binary["y01"], np.round(binary["score"]), sample_weight=w,
                            max_fpr=0.2))


@pytest.mark.parametrize("layout", ["numpy", "ragged", "unknown"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_roc_auc_ovr_equals_sklearn(layout: str, weighted: bool, wine) -> None:
    y, proba = wine["y"], wine["proba"]
    w = _weights(len(y)) if weighted else None
    args = _layout(layout, y, proba, w)
    for average in ("macro", "weighted", "micro", None):
        kwargs = {"average": average, "multi_class": "ovr"}
        _same(dm.roc_auc_score(*args[:2], sample_weight=args[2], **kwargs),
              skm.roc_auc_score(y, proba, sample_weight=w, **kwargs))
    kwargs = {"multi_class": "ovr", "labels": ["barbera", "barolo", "grignolino"]}
    _same(dm.roc_auc_score(*args[:2], **kwargs), skm.roc_auc_score(y, proba, **kwargs))


def test_multiclass_roc_auc_errors_as_sklearn(wine) -> None:
    dy = da.from_array(wine["y"], chunks=50)
    proba = wine["proba"]
    for kwargs, match in (({}, "multi_class must be 'ovr'"),
                          ({"multi_class": "ovr", "max_fpr": 0.5}, "Partial AUC"),
                          ({"multi_class": "ovr", "labels": ["b", "a", "c"]}, "must be ordered")):
        with pytest.raises(ValueError, match=match):
            dm.roc_auc_score(dy, proba, **kwargs)
        with pytest.raises(ValueError, match=match.replace("must be 'ovr'", "must be in")):
            skm.roc_auc_score(wine["y"], proba, **kwargs)
    with pytest.raises(ValueError, match=r"should sum up to 1\.0 over classes"):
        dm.roc_auc_score(dy, proba * 0.5, multi_class="ovr")
    with pytest.raises(ValueError, match="not equal to the number of columns"):
        dm.roc_auc_score(dy[wine["y"] != "barolo"], proba[wine["y"] != "barolo"],
                         multi_class="ovr")


def test_roc_auc_one_class_warns_nan_as_sklearn(binary) -> None:
    y = np.zeros(50, dtype=int)
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(skm.roc_auc_score(y, binary["score"][:50]))
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(dm.roc_auc_score(da.from_array(y, chunks=20), binary["score"][:50]))


# ---------------------------------------------------------------- errors


def _no_tasks(client, call: Callable[[], Any], match: str, error: type = ValueError) -> None:
    """``call`` raises ``error`` before any task runs on the cluster."""
    with get_task_stream(client) as stream:
        with pytest.raises(error, match=match):
            call()
    assert not _metric_tasks(stream)


def test_bad_input_fails_before_cluster_work(client, regression, wine) -> None:
    y, p = regression
    dy = da.from_array(y, chunks=100)
    _no_tasks(client, lambda: dm.mean_squared_error(dy, p[:-1]),
              "y_true and y_pred have different numbers of samples: y_true has 442, y_pred has 441")
    _no_tasks(client, lambda: dm.r2_score(dy, p, sample_weight=np.ones(3)),
              "sample_weight has 3")
    _no_tasks(client, lambda: dm.r2_score(dy, np.c_[p, p]), "y_pred must be 1-D; got 2-D")
    _no_tasks(client, lambda: dm.r2_score(wine["y"], dy[:178]), "y_true must be numeric")
    _no_tasks(client, lambda: dm.log_loss(wine["y"], da.from_array(wine["proba"]),
                                          labels=["barbera"]), "at least two labels")
    _no_tasks(client, lambda: dm.log_loss(wine["y"], da.from_array(wine["proba"]),
                                          labels=["a", "b"]), "number of classes in labels")
    _no_tasks(client, lambda: dm.roc_auc_score(dy, p, max_fpr=1.5), r"max_fpr must be in \(0, 1\]")
    _no_tasks(client, lambda: dm.d2_tweedie_score(dy, p, power=2), "power must be 0")


@pytest.mark.parametrize("where", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_named(where: str, bad: float, regression) -> None:
    y, p = regression
    values = {"y_true": y.copy(), "y_pred": p.copy(), "sample_weight": np.ones(len(y))}
    values[where][300] = bad
    chunked = {k: da.from_array(v, chunks=100) for k, v in values.items()}
    with pytest.raises(ValueError, match=f"Input {where} contains NaN or infinity"):
        dm.mean_squared_error(chunked["y_true"], chunked["y_pred"],
                              sample_weight=chunked["sample_weight"])
    with pytest.raises(ValueError, match=r"NaN|infinity"):  # scikit-learn's refuses them too
        skm.mean_squared_error(values["y_true"], values["y_pred"],
                               sample_weight=values["sample_weight"])


def test_unknown_lengths_that_differ_are_reported(regression) -> None:
    y, p = regression
    frame = _frame({"y": y})
    short = _frame({"p": p[:-5]})
    with pytest.raises(ValueError, match="different numbers of samples"):
        dm.r2_score(frame["y"], short["p"].to_dask_array())


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning")
def test_probability_and_label_errors(binary, wine) -> None:
    y, proba = binary["y"], binary["proba"]
    dy = da.from_array(y, chunks=100)
    with pytest.raises(ValueError, match="y_proba contains values greater than 1"):
        dm.log_loss(dy, proba * 1.5)
    with pytest.raises(ValueError, match="y_proba contains values lower than 0"):
        dm.log_loss(dy, proba - 0.5)
    with pytest.raises(ValueError, match="only one label"):
        dm.log_loss(da.from_array(np.full(10, "a"), chunks=3), np.full(10, 0.3))
    with pytest.raises(ValueError, match="different number of classes: 3 vs 2"):
        dm.log_loss(da.from_array(wine["y"], chunks=50), wine["proba"][:, :2])
    with pytest.raises(ValueError, match="not belonging to the passed labels"):
        dm.log_loss(da.from_array(wine["y"], chunks=50), wine["proba"][:, :2],
                    labels=["barbera", "barolo"])
    with pytest.warns(UserWarning, match="do not sum to one"):
        dm.log_loss(dy, proba * 0.9)
    with pytest.raises(ValueError, match="y_pred has non-integer values"):
        dm.accuracy_score(binary["y01"], da.from_array(binary["score"], chunks=100))
    with pytest.raises(ValueError, match="y_true has 3 classes: pass y_score of shape"):
        dm.roc_auc_score(da.from_array(wine["yint"], chunks=50), wine["proba"][:, 0])


def test_inputs_are_left_as_they_were(regression) -> None:
    y, p = regression
    frame = _frame({"y": y, "p": p}, npartitions=3)
    dy, dp = frame["y"].to_dask_array(), _frame({"p": p})["p"].to_dask_array()
    copy = p.copy()
    _same(dm.r2_score(dy, dp), skm.r2_score(y, p))
    assert np.isnan(dy.chunks[0]).all() and np.isnan(dp.chunks[0]).all()
    np.testing.assert_array_equal(p, copy)


# ---------------------------------------------------------------- on the cluster


def _metric_tasks(stream: Any) -> list[str]:
    return [str(t["key"]) for t in stream.data if "daskgd-metrics" in str(t["key"])]


def test_dask_input_is_reduced_on_the_cluster(client, binary) -> None:
    y, score = binary["y"], binary["score"]
    with get_task_stream(client) as stream:
        auc = dm.roc_auc_score(da.from_array(y, chunks=20), da.from_array(score, chunks=20))
    keys = _metric_tasks(stream)
    assert sum("-block-" in k for k in keys) == 29  # 569 rows in blocks of 20
    assert sum("-combine-" in k for k in keys) == 4 + 1  # a tree: 29 -> 4 -> 1
    _same(auc, skm.roc_auc_score(y, score))
    with get_task_stream(client) as stream:
        dm.accuracy_score(y, binary["pred"])  # in memory: nothing on the cluster
    assert not _metric_tasks(stream)


def test_without_a_client_dask_default_scheduler_is_used(client, regression) -> None:
    y, p = regression
    with dask.config.set(scheduler="sync"), get_task_stream(client) as stream:
        ours = dm.r2_score(da.from_array(y, chunks=50), da.from_array(p, chunks=70))
    assert not _metric_tasks(stream)
    _same(ours, skm.r2_score(y, p))


def test_estimator_score_on_dask_input_runs_on_the_cluster(client, regression, wine) -> None:
    X, y = load_diabetes(return_X_y=True)
    dX, dy = da.from_array(X, chunks=(100, -1)), da.from_array(y, chunks=100)
    model = LinearRegression().fit(X, y)
    with get_task_stream(client) as stream:
        score = model.score(dX, dy)
    assert _metric_tasks(stream)
    _same(score, skm.r2_score(y, model.predict(X)))
    assert model.score(X, y) == skm.r2_score(y, model.predict(X))  # NumPy: scikit-learn's

    counts = np.round(y / 50)
    Xs = StandardScaler().fit_transform(X)
    poisson = PoissonRegressor(alpha=1.0).fit(Xs, counts)
    frame = dd.from_pandas(pd.DataFrame(Xs), npartitions=3)
    _same(poisson.score(frame, _frame({"c": counts})["c"]),
          skm.d2_tweedie_score(counts, poisson.predict(Xs), power=1))

    Xw = StandardScaler().fit_transform(load_wine().data)
    clf = LogisticRegression(C=0.01).fit(Xw, wine["y"])
    w = _weights(len(Xw))
    with get_task_stream(client) as stream:
        accuracy = clf.score(da.from_array(Xw, chunks=(50, -1)), wine["y"], sample_weight=w)
    assert _metric_tasks(stream)
    _same(accuracy, skm.accuracy_score(wine["y"], clf.predict(Xw), sample_weight=w))
