"""Faults found by a break-it pass on the callbacks; each test failed before the fix."""

from __future__ import annotations

import io

import dask.array as da
import numpy as np
import pytest

from daskgd.callbacks import Callback, ProgressBar
from daskgd.linear_model import LogisticRegression


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    return X, y


class _FailsAtBegin(Callback):
    def on_fit_begin(self, info):
        raise RuntimeError("boom in on_fit_begin")


class _Recorder(Callback):
    def __init__(self):
        self.begun = self.ended = 0

    def on_fit_begin(self, info):
        self.begun += 1

    def on_fit_end(self, info):
        self.ended += 1


def test_progress_bar_closed_when_a_later_callback_fails_in_on_fit_begin(client):
    """CallbackList.begin runs outside the try of _observed_solve: when a callback's
    on_fit_begin raises, the callbacks already begun (a ProgressBar's tqdm bar) never get
    on_fit_end, so the bar stays open, against the documented 'on_fit_end is called
    whenever on_fit_begin was'."""
    X, y = _data()
    bar, rec = ProgressBar(file=io.StringIO()), _Recorder()
    with pytest.raises(RuntimeError, match="boom in on_fit_begin"):
        LogisticRegression(solver="lbfgs").fit(
            da.from_array(X, chunks=50), y, callbacks=[bar, rec, _FailsAtBegin()]
        )
    assert rec.begun == 1
    assert rec.ended == 1, "on_fit_end not called although on_fit_begin was"
    assert bar._bar is None, "the progress bar was left open"


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd", "sgd"])
def test_callback_returning_numpy_true_stops_the_fit(client, solver):
    """A callback like ``lambda r: np.abs(r["grad_norm"]) < tol`` returns numpy.True_, not
    True; CallbackList checks ``is True``, so the stop is silently ignored and the fit runs
    on to convergence / max_iter."""
    X, y = _data()
    model = LogisticRegression(solver=solver, max_iter=20).fit(
        da.from_array(X, chunks=50), y, callbacks=lambda record: np.bool_(True)
    )
    assert model.stop_reason_ is not None
    assert len(model.history_) == 1


