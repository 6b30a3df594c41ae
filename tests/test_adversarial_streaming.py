"""Adversarial cases for streamed placement, the one-pass least squares and the Zarr
generator: inputs a hostile user would try, on the session's real cluster and real files.

Each test holds a problem that was found and fixed (see the commit message for the story):

- the one-pass least squares lost digits on multi-chunk dask input with a feature of large
  offset (the chunk means, stored as absolute numbers, differ by less than they can hold);
- a bad ``daskgd.auto-stream-fraction`` was refused only after a read of the data;
- ``make_zarr(..., overwrite=True)`` wiped any directory, not only a Zarr store, left a
  half-written store behind when interrupted, and started writing stores larger than the
  disk;
- a Zarr store deleted (or a chunk of it) after ``open_zarr`` was read as zeros and fitted
  without a word.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model as sk

from daskgd import ElasticNet, Lasso, LinearRegression, Ridge
from daskgd._kernels import Chunk, Moments, chunk_moments, chunk_stats
from daskgd.datasets import make_zarr, open_zarr


def _offset_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    y = X @ np.array([1.0, -2.0, 3.0, 0.5]) + 3.0 + 0.1 * rng.standard_normal(200)
    X[:, 0] += 1e8  # a feature with a large offset (a timestamp, an id, a raw reading)
    w = rng.random(200) * 3
    w[50:100] = 0.0  # a chunk of zero weights
    return X, y, w


# ---------------------------------------------------------------- one-pass least squares


@pytest.mark.parametrize("placement", ["stream", "persist"])
@pytest.mark.parametrize(("make", "reference"), [
    (LinearRegression, sk.LinearRegression),
    (lambda: Ridge(1.0), lambda: sk.Ridge(1.0)),
    (lambda: Lasso(0.01), lambda: sk.Lasso(0.01, tol=1e-14, max_iter=100_000)),
    (lambda: ElasticNet(0.01, l1_ratio=0.3),
     lambda: sk.ElasticNet(0.01, l1_ratio=0.3, tol=1e-14, max_iter=100_000)),
], ids=["ols", "ridge", "lasso", "enet"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lstsq_with_a_large_offset_feature_over_many_chunks(
    placement: str, make: Any, reference: Any, weighted: bool
) -> None:
    # The chunk means of the 1e8 column differ by ~0.1 but are held to ~1e-8 each: merged
    # as absolute numbers they lost ~1e-7 of the between-chunk spread, and the intercept
    # (about -1e8 * coef) was off by ~0.06, 6e-10 of it; the fit on NumPy input is exact.
    X, y, w = _offset_problem()
    sw = w if weighted else None
    expected = reference().fit(X, y, sample_weight=sw)
    for rows in (50, 7, 1):
        with dask.config.set({"daskgd.placement": placement}):
            model = make().fit(da.from_array(X, chunks=(rows, 4)), da.from_array(y, chunks=rows),
                               sample_weight=None if sw is None else da.from_array(sw, chunks=rows))
        assert model.solver_ == "lstsq"
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9, atol=1e-12)
        assert model.intercept_ == pytest.approx(expected.intercept_, rel=1e-11)


def test_moments_merge_is_exact_for_large_offsets() -> None:
    # The merge itself, without a cluster: two halves against the whole.
    X, y, w = _offset_problem()

    def moments(lo: int, hi: int) -> Moments:
        chunk = Chunk(X[lo:hi], y[lo:hi], w[lo:hi])
        return chunk_moments(chunk, chunk_stats(chunk, False))

    whole = moments(0, 200)
    merged = moments(0, 30) + moments(30, 50) + moments(50, 100) + moments(100, 200)
    centre = np.average(X, axis=0, weights=w)
    for got, want in zip(merged.about(centre, 3.0), whole.about(centre, 3.0)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_moments_of_an_offset_target() -> None:
    # The same for y: a target of large offset (a price in cents since an epoch).
    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 3))
    y = X @ np.array([0.5, 1.0, -1.0]) + 1e9 + rng.standard_normal(120)
    expected = sk.LinearRegression().fit(X, y)
    model = LinearRegression().fit(da.from_array(X, chunks=(10, 3)), da.from_array(y, chunks=10))
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-8)
    assert model.intercept_ == pytest.approx(expected.intercept_, rel=1e-14)


# ---------------------------------------------------------------- settings


def test_bad_auto_stream_fraction_fails_before_reading_the_data(watch: Any, tmp_path: Path) -> None:
    # Unknown chunk sizes: "auto" reads the block lengths first, which used to come before
    # the fraction was checked.
    frame = pd.DataFrame({"a": np.arange(20.0), "y": np.arange(20.0)})
    dd.from_pandas(frame, npartitions=2).to_parquet(tmp_path / "pq")
    df = dd.read_parquet(tmp_path / "pq")
    df = df[df.a > 3]
    for bad in (0, -1, 2.0, "0.5", float("nan"), True):
        with dask.config.set({"daskgd.placement": "auto", "daskgd.auto-stream-fraction": bad}):
            with watch() as seen, pytest.raises(ValueError,
                                                match=r"daskgd\.auto-stream-fraction must be"):
                LinearRegression().fit(df[["a"]], df.y)
        assert seen.new_keys == []


# ---------------------------------------------------------------- make_zarr / open_zarr


def test_make_zarr_overwrite_refuses_a_directory_that_is_not_a_zarr_store(
    tmp_path: Path,
) -> None:
    home = tmp_path / "mydata"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError, match="not a Zarr store"):
        make_zarr(home, 10, 2, overwrite=True)
    assert (home / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    with pytest.raises(FileExistsError, match="not a Zarr store"):
        make_zarr(a_file, 10, 2, overwrite=True)
    assert a_file.read_text() == "keep"


def test_make_zarr_refuses_a_store_larger_than_the_free_disk(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"needs about .* bytes.*free"):
        make_zarr(tmp_path / "huge.zarr", 10**15, 2)
    assert not (tmp_path / "huge.zarr").exists()


def test_make_zarr_leaves_nothing_behind_when_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "big.zarr"

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            make_zarr(path, 5_000_000, 10, chunk_rows=20_000)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert os.listdir(tmp_path) == []


def test_make_zarr_into_an_unwritable_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            make_zarr(parent / "s.zarr", 10, 2)
        assert os.listdir(parent) == []
    finally:
        parent.chmod(0o700)


def test_make_zarr_overwrite_replaces_a_store_only_once_the_new_one_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.zarr"
    make_zarr(path, 10, 2, random_state=1)
    make_zarr(path, 30, 3, random_state=2, overwrite=True)
    X, y = open_zarr(path)
    assert X.shape == (30, 3) and y.shape == (30,)
    assert sorted(os.listdir(tmp_path)) == ["s.zarr"]


@pytest.mark.parametrize("damage", ["store", "chunk"])
def test_a_deleted_zarr_store_or_chunk_is_an_error_not_zeros(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "s.zarr"
    make_zarr(path, 4000, 3, kind="regression", chunk_rows=1000)
    X, y = open_zarr(path)
    with dask.config.set({"daskgd.placement": "stream"}):
        LinearRegression().fit(X, y)
        if damage == "store":
            shutil.rmtree(path)
            match = r"NaN or infinity \(first at row 0,"
        else:
            os.remove(path / "X" / "c" / "3" / "0")
            match = r"NaN or infinity \(first at row 3000,"
        with pytest.raises(ValueError, match=match):
            LinearRegression().fit(X, y)


def test_a_deleted_source_file_fails_at_once_without_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # FileNotFoundError is an OSError, which the engine took for a lost connection: it
    # warned of lost data and re-read the missing file five more times before failing.
    rng = np.random.default_rng(0)
    blocks = []
    for i in range(3):
        np.save(tmp_path / f"x{i}.npy", rng.standard_normal((30, 2)))
        blocks.append(da.from_delayed(dask.delayed(np.load)(str(tmp_path / f"x{i}.npy")),
                                      shape=(30, 2), dtype=np.float64))
    X = da.concatenate(blocks)
    y = X[:, 0] - X[:, 1]
    with dask.config.set({"daskgd.placement": "stream"}):
        LinearRegression().fit(X, y)
        os.remove(tmp_path / "x2.npy")
        with caplog.at_level("WARNING", logger="daskgd"), pytest.raises(FileNotFoundError):
            LinearRegression().fit(X, y)
    assert not [r for r in caplog.records if "re-placing lost data" in r.getMessage()]
