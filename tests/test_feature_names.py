"""Case C-21: columns matched by name at predict time, from DataFrames and files.

A model trained on named columns (pandas, dask DataFrame, Parquet, CSV) predicts on the same
columns in any order; a missing or renamed column is a clear error that names it; plain
arrays are used by position; ``feature_names_in_`` survives pickle and skops.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import skops.io
from numpy.testing import assert_allclose, assert_array_equal

from daskgd.linear_model import LinearRegression, LogisticRegression


def c21_frame(n: int = 300, seed: int = 21) -> pd.DataFrame:
    """Columns a, b, c and y = a + 2b + 3c + 5 exactly."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.uniform(0.0, 1.0, size=(n, 3)), columns=["a", "b", "c"])
    frame["y"] = frame["a"] + 2 * frame["b"] + 3 * frame["c"] + 5
    return frame


def _read(kind: str, frame: pd.DataFrame, tmp_path: Path) -> Any:
    """The frame as the user would load it: pandas, a dask DataFrame, Parquet or CSV."""
    if kind == "pandas":
        return frame
    if kind == "dask":
        return dd.from_pandas(frame, npartitions=3)
    if kind == "parquet":
        dd.from_pandas(frame, npartitions=3).to_parquet(tmp_path / "data.parquet")
        return dd.read_parquet(tmp_path / "data.parquet")
    dd.from_pandas(frame, npartitions=3).to_csv(tmp_path / "part-*.csv", index=False)
    return dd.read_csv(tmp_path / "part-*.csv")


def _values(pred: Any) -> np.ndarray:
    return np.asarray(pred.compute() if hasattr(pred, "compute") else pred)


KINDS = ["pandas", "dask", "parquet", "csv"]


@pytest.fixture(scope="module")
def fitted() -> LinearRegression:
    frame = c21_frame()
    return LinearRegression().fit(dd.from_pandas(frame[["a", "b", "c"]], npartitions=3),
                                  dd.from_pandas(frame["y"], npartitions=3))


@pytest.mark.parametrize("kind", KINDS)
def test_c21_fit_on_files_keeps_names(kind: str, tmp_path: Path) -> None:
    data = _read(kind, c21_frame(), tmp_path)
    model = LinearRegression().fit(data[["a", "b", "c"]], data["y"])
    assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
    assert_allclose(model.coef_, [1.0, 2.0, 3.0], rtol=1e-9)
    assert model.intercept_ == pytest.approx(5.0, rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_c21_reordered_columns_are_matched_by_name(
    fitted: LinearRegression, kind: str, tmp_path: Path
) -> None:
    frame = c21_frame()
    data = _read(kind, frame[["c", "a", "b"]], tmp_path)
    pred = _values(fitted.predict(data))
    assert_allclose(pred, frame["y"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("columns", "named"),
    [(["a", "b"], "'c'"), (["a", "b", "d"], "'d'"), (["a", "B", "c"], "'B'")],
    ids=["missing", "extra-renamed", "renamed"],
)
def test_c21_missing_or_renamed_column_is_named(
    fitted: LinearRegression, kind: str, columns: list[str], named: str, tmp_path: Path
) -> None:
    frame = c21_frame()
    frame["B"], frame["d"] = frame["b"], 0.0
    data = _read(kind, frame[columns], tmp_path)
    with pytest.raises(ValueError, match=f"feature names.*{named}"):
        fitted.predict(data)


def test_c21_plain_arrays_are_used_by_position(fitted: LinearRegression) -> None:
    frame = c21_frame()
    X = frame[["a", "b", "c"]].to_numpy()
    assert_allclose(fitted.predict(X), frame["y"].to_numpy(), rtol=1e-12)
    # By position: the same numbers in another order give other predictions.
    assert not np.allclose(fitted.predict(X[:, [2, 0, 1]]), frame["y"].to_numpy())


def test_c21_names_survive_pickle_and_skops(fitted: LinearRegression) -> None:
    frame = c21_frame()
    reordered = frame[["b", "c", "a"]]
    blob = skops.io.dumps(fitted)
    loaded = [
        pickle.loads(pickle.dumps(fitted)),
        skops.io.loads(blob, trusted=skops.io.get_untrusted_types(data=blob)),
    ]
    for model in loaded:
        assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
        assert_allclose(model.predict(reordered), frame["y"].to_numpy(), rtol=1e-12)


def test_c21_classifier_matches_by_name_too() -> None:
    frame = c21_frame()
    labels = np.where(frame["y"] > frame["y"].median(), "high", "low")
    model = LogisticRegression().fit(frame[["a", "b", "c"]], labels)
    assert_array_equal(model.predict(frame[["c", "b", "a"]]),
                       model.predict(frame[["a", "b", "c"]].to_numpy()))
    assert_allclose(model.predict_proba(frame[["b", "a", "c"]]),
                    model.predict_proba(frame[["a", "b", "c"]].to_numpy()), rtol=1e-12)
