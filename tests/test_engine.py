"""The engine's summation tree and shards: sums do not depend on which worker holds what."""

from __future__ import annotations

import itertools

import dask.array as da
import numpy as np
import pytest
from distributed import Client, wait
from numpy.testing import assert_allclose, assert_array_equal

from daskgd import _kernels
from daskgd._data import as_fit_input
from daskgd._engine import Engine
from daskgd.losses import BinomialLogLoss


def _results(n: int) -> list[tuple[float, np.ndarray]]:
    rng = np.random.default_rng(n)
    # Magnitudes over many decades: a change of summation order shows in the last bits.
    return [(float(rng.normal() * 10.0 ** rng.integers(-8, 8)),
             rng.normal(size=3) * 10.0 ** rng.integers(-8, 8, size=3)) for _ in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 100])
def test_any_split_of_the_chunks_gives_the_same_bits(n: int) -> None:
    """Partial sums from any assignment of chunks to holders complete to the same total,
    bit for bit, and that total is the sum to rounding."""
    results = _results(n)
    whole = _kernels.tree_total(_kernels.tree_partials(range(n), results, n), n)
    rng = np.random.default_rng(0)
    for holders in (1, 2, 3, 5):
        owner = rng.integers(0, holders, size=n)
        partials: dict[tuple[int, int], object] = {}
        for h in range(holders):
            ids = [i for i in range(n) if owner[i] == h]
            partials.update(_kernels.tree_partials(ids, [results[i] for i in ids], n))
        total = _kernels.tree_total(partials, n)
        assert total[0] == whole[0]
        assert_array_equal(total[1], whole[1])
    assert_allclose(whole[0], sum(r[0] for r in results), rtol=1e-12, atol=1e-300)


def test_a_contiguous_run_sends_few_partial_sums() -> None:
    """A worker holding chunks 0..49 of 100 sends one node; 10..59 a handful."""
    values = list(range(100))
    assert list(_kernels.tree_partials(range(50), values[:50], 100)) == [(0, 50)]
    run = _kernels.tree_partials(range(10, 60), values[10:60], 100)
    assert len(run) <= 2 * 7
    assert sum(run.values()) == sum(range(10, 60))


def test_a_missing_chunk_is_an_error() -> None:
    partials = _kernels.tree_partials([0, 2], [1.0, 2.0], 3)
    with pytest.raises(KeyError, match="chunk 1"):
        _kernels.tree_total(partials, 3)


def test_sums_are_the_same_wherever_the_blocks_are(client: Client) -> None:
    """The same chunks persisted on one worker, on the other, or spread: the engine's
    loss-and-gradient sums are identical to the last bit; one task per shard."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, 6)) * 10.0 ** rng.integers(-3, 3, size=6)
    y = (rng.random(900) < 0.4).astype(float)
    B, b = rng.normal(size=(6, 1)) * 1e-2, np.array([0.3])
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    sums = []
    for where in ([workers[0]], [workers[-1]], None):
        Xd, yd = client.persist([da.from_array(X, chunks=(70, 6)), da.from_array(y, chunks=70)],
                                workers=where)
        data = as_fit_input(Xd, yd, None, classify=False)
        engine, summary = Engine.place(client, data, classify=False)
        try:
            assert engine.n_chunks == 13 and summary.chunk_sizes[-1] == 60
            assert len(engine.shards) <= len(workers)
            sums.append(engine.reduce(_kernels.loss_grad, (BinomialLogLoss(), B, b),
                                      name="grad", passes=1))
        finally:
            engine.close()
    for other in sums[1:]:
        for a, e in zip(other, sums[0]):
            assert_array_equal(a, e)
    chunk = _kernels.make_chunk(X, y, None)
    for a, e in zip(sums[0], _kernels.loss_grad(chunk, BinomialLogLoss(), B, b)):
        assert_allclose(a, e, rtol=1e-12)


def _offset_problem(
    n: int, seed: int, offsets: tuple[float, ...] = (1e6, -3e5, 0.0, 7e7)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares data whose features sit on large offsets (catastrophic for X'X - n mu mu')."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) + np.array(offsets)
    y = X @ np.array([1.0, -2.0, 0.5, 1e-3]) + rng.normal(size=n) + 1e5
    return X, y, rng.uniform(0.0, 2.0, size=n)


def test_moments_add_up_to_the_centred_gram_of_all_rows() -> None:
    """Per-chunk Moments, each about its own means, merged in any grouping (with an empty
    and an all-zero-weight chunk) give the Gram statistics of the whole, centred on its
    means, to rounding: nothing like X'X - n mu mu' cancels away."""
    X, y, w = _offset_problem(1000, 2)
    w[300:350] = 0.0
    bounds = [0, 120, 120, 300, 350, 777, 1000]  # one empty chunk, one of zero weights
    pieces = [_kernels.make_chunk(X[a:b], y[a:b], w[a:b]) for a, b in itertools.pairwise(bounds)]
    moments = [_kernels.chunk_moments(c, _kernels.chunk_stats(c, False)) for c in pieces]
    x_mean, y_mean = np.average(X, axis=0, weights=w), np.average(y, weights=w)
    want = _kernels.centred_gram(_kernels.make_chunk(X, y, w), x_mean, y_mean)
    left_to_right = moments[0]
    for m in moments[1:]:
        left_to_right = left_to_right + m
    tree = _kernels.tree_total(_kernels.tree_partials(range(6), moments, 6), 6)
    for total in (left_to_right, tree):
        assert total.weight == pytest.approx(w.sum(), rel=1e-14)
        assert_allclose(total.x_mean, x_mean, rtol=1e-14, atol=1e-12)
        # Normwise, to the precision of the data: a value near 7e7 is stored to ~1.5e-8,
        # of a spread of 1; the chunk means carry that rounding into the between-chunk terms
        # (X'X - n mu mu' would lose everything: 7e7**2 / 1 ~ 1e16).
        for got, expected in zip(total.about(x_mean, y_mean), want):
            assert_allclose(got, expected, rtol=0, atol=1e-8 * np.abs(expected).max())
    # About the origin (no intercept): the uncentred statistics.
    uncentred = _kernels.centred_gram(_kernels.make_chunk(X, y, w), np.zeros(4), 0.0)
    for got, expected in zip(tree.about(np.zeros(4), 0.0), uncentred):
        assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lstsq_reads_dask_data_once(fit_intercept: bool) -> None:
    """lstsq on dask data takes its Gram statistics from the validation pass: one pass in
    all, and the coefficients of the two-pass NumPy path (and of scikit-learn)."""
    from sklearn.linear_model import Ridge as SkRidge

    from daskgd import Ridge

    X, y, w = _offset_problem(3000, 3, offsets=(1e3, -3e2, 0.0, 5e4))
    Xd, yd, wd = (da.from_array(a, chunks=(400, *a.shape[1:])) for a in (X, y, w))
    dask_fit = Ridge(alpha=2.0, solver="lstsq", fit_intercept=fit_intercept).fit(
        Xd, yd, sample_weight=wd)
    numpy_fit = Ridge(alpha=2.0, solver="lstsq", fit_intercept=fit_intercept).fit(
        X, y, sample_weight=w)
    assert dask_fit.history_[-1]["passes"] == 1
    assert numpy_fit.history_[-1]["passes"] == 1  # validated on the driver
    # Without an intercept the 5e4 column stands in for y's offset: a condition number
    # of ~1e9, so the two summation orders agree to ~1e-7 only.
    assert_allclose(dask_fit.coef_, numpy_fit.coef_, rtol=1e-9 if fit_intercept else 1e-6)
    assert_allclose(dask_fit.intercept_, numpy_fit.intercept_, rtol=1e-12)
    reference = SkRidge(alpha=2.0, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    assert_allclose(dask_fit.coef_, reference.coef_, rtol=1e-6)


def test_a_fit_lets_go_of_what_it_placed_without_waiting_for_the_garbage_collector(
    client: Client,
) -> None:
    """The engine's rebuild closure held the blocks the fit persisted, in a reference cycle:
    they stayed on the cluster until Python's cycle collector ran. With it off, the
    scheduler must still be back to the keys it had before the fits."""
    import gc
    import time

    from daskgd import LinearRegression, LogisticRegression

    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 4))
    Xd = client.persist(da.from_array(X, chunks=(500, 4)))
    y = da.from_array(X @ [1.0, 2.0, 0.0, -1.0], chunks=500) * 2.0  # a graph the fit persists

    def task_keys(dask_scheduler: object) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks]  # type: ignore[attr-defined]

    wait(Xd)
    before = set(client.run_on_scheduler(task_keys))
    gc.disable()
    try:
        LinearRegression().fit(Xd, y)
        LogisticRegression().fit(Xd, y > 0)
        deadline = time.monotonic() + 10
        while (left := set(client.run_on_scheduler(task_keys)) - before) and (
                time.monotonic() < deadline):
            time.sleep(0.1)
    finally:
        gc.enable()
    assert not left, sorted(left)[:5]
