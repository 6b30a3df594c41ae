"""The engine's summation tree and shards: sums do not depend on which worker holds what."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from distributed import Client
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
