"""Row placement for SGD (``row_placement``): C-16 on sorted labels, the permutation it
applies, independence of the input container and chunking, seeding, validation before the
rows move, and its use with class weights, early stopping and partial_fit. Bad values are
in ``test_sgd.py``'s ``BAD_PARAMS``, worker loss in ``test_cluster.py``.

All fits run on the session's real LocalCluster.
"""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as skl
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from daskgd import SGDClassifier, SGDRegressor
from daskgd._engine import row_permutation

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def sorted_labels() -> tuple[np.ndarray, ...]:
    """C-16: a seeded binary problem, standardised, 600 training rows of each class sorted
    by label (with 100-row chunks, every chunk holds a single class) and a test split."""
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=5, flip_y=0.02,
                               class_sep=1.0, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(Xtr)
    rows = np.concatenate([np.flatnonzero(ytr == 0)[:600], np.flatnonzero(ytr == 1)[:600]])
    return scaler.transform(Xtr)[rows], ytr[rows], scaler.transform(Xte), yte


def _in_chunks(X: np.ndarray, y: np.ndarray, rows: int) -> tuple[da.Array, da.Array]:
    return da.from_array(X, chunks=(rows, -1)), da.from_array(y, chunks=rows)


@pytest.mark.parametrize(
    "params",
    [{"shuffle": False, "local_steps": 16, "batch_size": 32},
     {"local_steps": 8, "batch_size": 64}],
    ids=["in-order", "local-steps"],
)
def test_c16_shuffled_placement_matches_shuffled_in_memory_sgd(
    sorted_labels: tuple[np.ndarray, ...], params: dict
) -> None:
    Xs, ys, Xte, yte = sorted_labels
    chunks = [ys[a:a + 100] for a in range(0, ys.size, 100)]
    assert all(np.unique(c).size == 1 for c in chunks)  # one class per chunk
    mixed = np.random.default_rng(0).permutation(ys.size)
    # Averaged SGD, so that one fit's accuracy is stable to ~0.01 (scikit-learn: 0.841 with
    # a spread of 0.001 over seeds).
    reference = np.mean([
        skl.SGDClassifier(loss="log_loss", average=True, random_state=s)
        .fit(Xs[mixed], ys[mixed]).score(Xte, yte) for s in range(5)
    ])
    model = SGDClassifier(loss="log_loss", average=True, random_state=0,
                          row_placement="shuffled", **params)
    shuffled = clone(model).fit(*_in_chunks(Xs, ys, 100))
    assert_array_equal(shuffled.classes_, [0, 1])
    assert abs(shuffled.score(Xte, yte) - reference) <= 0.02


def test_c16_contiguous_sorted_chunks_hurt_sgd_in_row_order(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    """Without averaging, rows in order: each round of the contiguous layout draws from one
    or two single-class chunks, and the model swings between the classes. (Averaging the
    iterates, or the default shuffle=True, which draws every round from every chunk, hide
    this on these data.)"""
    Xs, ys, Xte, yte = sorted_labels
    mixed = np.random.default_rng(0).permutation(ys.size)
    model = SGDClassifier(loss="log_loss", shuffle=False, local_steps=16, batch_size=32,
                          random_state=0)
    unsorted = clone(model).fit(*_in_chunks(Xs[mixed], ys[mixed], 100)).score(Xte, yte)
    contiguous = clone(model).fit(*_in_chunks(Xs, ys, 100)).score(Xte, yte)
    shuffled = clone(model).set_params(row_placement="shuffled").fit(*_in_chunks(Xs, ys, 100))
    assert contiguous < unsorted - 0.1
    assert shuffled.score(Xte, yte) > contiguous + 0.1


def test_shuffled_placement_is_the_seeded_row_permutation(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    """Shuffled placement of the sorted rows is contiguous placement of the permuted rows."""
    rows = np.r_[0:300, 900:1200]  # 300 of each class, sorted
    Xs, ys = sorted_labels[0][rows], sorted_labels[1][rows]
    model = SGDClassifier(shuffle=False, local_steps=4, batch_size=32, max_iter=3, tol=None,
                          random_state=7)
    X_copy, y_copy = Xs.copy(), ys.copy()
    seed = check_random_state(7).randint(np.iinfo(np.int32).max)  # the estimator's draw
    perm = row_permutation(600, seed)
    given = clone(model).set_params(row_placement="shuffled").fit(Xs, ys)
    permuted = clone(model).fit(Xs[perm], ys[perm])
    # Equal up to rounding: the column means are summed in the given row order.
    assert_allclose(given.coef_, permuted.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(given.intercept_, permuted.intercept_, rtol=1e-10, atol=1e-12)
    assert_array_equal(Xs, X_copy)  # the user's arrays are not reordered in place
    assert_array_equal(ys, y_copy)


def test_shuffled_placement_is_the_same_for_every_container_and_chunking(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    rows = np.r_[0:315, 885:1200]
    X, y = sorted_labels[0][rows, :4], sorted_labels[1][rows]
    w = np.random.default_rng(1).uniform(0.5, 2.0, y.size)
    for model, chunkings in (
        (SGDClassifier(batch_size=48, max_iter=2, tol=None, random_state=3,
                       row_placement="shuffled"), (1, 3, 7)),
        (SGDRegressor(batch_size=48, max_iter=2, tol=None, random_state=3,
                      row_placement="shuffled"), (7,)),
    ):
        target = y if isinstance(model, SGDClassifier) else X @ [1.0, -2.0, 0.5, 0.0] + y
        expected = clone(model).fit(X, target, sample_weight=w)
        for n_chunks in chunkings:
            size = -(-y.size // n_chunks)
            Xd, yd = _in_chunks(X, target, size)
            fit = clone(model).fit(Xd, yd, sample_weight=da.from_array(w, chunks=size))
            assert_allclose(fit.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
            assert_allclose(fit.intercept_, expected.intercept_, rtol=1e-10, atol=1e-12)
        frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
        fit = clone(model).fit(frame, dd.from_pandas(pd.Series(target), npartitions=3),
                               sample_weight=w)
        assert_allclose(fit.coef_, expected.coef_, rtol=1e-10, atol=1e-12)


def test_the_placement_is_seeded_by_random_state(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    """With shuffle=False and steps below the stability cap (so the cap's sampled estimate
    plays no part), the placement is the only use of random_state."""
    rows = np.r_[0:200, 1000:1200]
    X, y = sorted_labels[0][rows], sorted_labels[1][rows]
    model = SGDClassifier(shuffle=False, batch_size=40, max_iter=2, tol=None,
                          learning_rate="constant", eta0=0.001)
    coefs = {
        (placement, seed): clone(model).set_params(
            row_placement=placement, random_state=seed).fit(X, y).coef_
        for placement in ("contiguous", "shuffled") for seed in (0, 1)
    }
    assert_array_equal(coefs["contiguous", 0], coefs["contiguous", 1])
    again = clone(model).set_params(row_placement="shuffled", random_state=0).fit(X, y)
    assert_array_equal(again.coef_, coefs["shuffled", 0])
    assert not np.allclose(coefs["shuffled", 0], coefs["shuffled", 1])
    assert not np.allclose(coefs["shuffled", 0], coefs["contiguous", 0])


def test_dask_errors_name_the_rows_as_given() -> None:
    """Shuffled dask input is validated before the rows move."""
    X = np.random.default_rng(0).standard_normal((300, 3))
    X[250, 1] = np.nan
    model = SGDRegressor(row_placement="shuffled", random_state=0)
    with pytest.raises(ValueError, match="first at row 250, column 1"):
        model.fit(*_in_chunks(X, np.zeros(300), 100))


def test_shuffled_placement_with_empty_partitions_class_weights_and_early_stopping(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    """A filtered dask DataFrame (one partition left empty) with balanced class weights and
    early stopping is placed as its rows are as one NumPy array."""
    rows = np.r_[0:300, 1100:1200]  # 300 of class 0, 100 of class 1
    X, y = sorted_labels[0][rows, :4], sorted_labels[1][rows]
    keep = np.r_[0:200, 300:400]
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=y, keep=np.isin(range(400), keep))
    parts = dd.from_pandas(frame, npartitions=4)
    parts = parts[parts["keep"]]  # partition 3 of 4 is left empty
    model = SGDClassifier(class_weight="balanced", early_stopping=True, batch_size=32,
                          max_iter=4, tol=None, random_state=5, row_placement="shuffled")
    expected = clone(model).fit(frame.loc[keep, list("abcd")], y[keep])
    fit = clone(model).fit(parts[list("abcd")], parts["label"])
    assert_allclose(fit.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose([h["validation_score"] for h in fit.history_],
                    [h["validation_score"] for h in expected.history_])


def test_partial_fit_places_each_batch_by_the_same_permutation(
    sorted_labels: tuple[np.ndarray, ...],
) -> None:
    Xs, ys = sorted_labels[0], sorted_labels[1]
    batches = [np.r_[0:150, 600:750], np.r_[150:300, 750:900]]
    model = SGDClassifier(shuffle=False, local_steps=4, batch_size=32, random_state=2,
                          row_placement="shuffled")
    in_memory, in_chunks = clone(model), clone(model)
    for rows in batches:
        in_memory.partial_fit(Xs[rows], ys[rows], classes=[0, 1])
        in_chunks.partial_fit(*_in_chunks(Xs[rows], ys[rows], 150), classes=[0, 1])
    # local_steps=4 depends on the chunking: NumPy input gives one chunk per worker (2), as
    # do these dask batches; the permuted rows are the same.
    assert_allclose(in_chunks.coef_, in_memory.coef_, rtol=1e-10, atol=1e-12)
