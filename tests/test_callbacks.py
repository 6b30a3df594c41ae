"""fit(callbacks=...): progress bar, logging, early stop by a callback, bad callbacks, the
dashboard link in the log and the fitted estimator's HTML repr (issue 6)."""

from __future__ import annotations

import io
import logging
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from daskgd import (
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from daskgd.callbacks import Callback, FitInfo, LogIterations, ProgressBar


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def classification() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    return X, y


def stop_at(k: int):
    def stop(record: dict[str, Any]) -> bool:
        return record["iteration"] >= k
    return stop


class Spy(Callback):
    """Remembers everything it is told, and the live solver state at each iteration."""

    def __init__(self) -> None:
        self.begun: list[FitInfo] = []
        self.ended: list[FitInfo] = []
        self.records: list[dict[str, Any]] = []
        self.thetas: list[np.ndarray] = []

    def on_fit_begin(self, info: FitInfo) -> None:
        self.begun.append(info)

    def on_iteration(self, record: Any) -> None:
        self.records.append(dict(record))
        self.thetas.append(np.array(self.begun[-1].state["theta"]))

    def on_fit_end(self, info: FitInfo) -> None:
        self.ended.append(info)


# ---------------------------------------------------------------- progress bar


def test_progress_bar_shows_iterations_objective_grad_norm_and_passes(regression):
    X, y = regression
    buffer = io.StringIO()
    model = Ridge(solver="gd", tol=1e-6, max_iter=50).fit(
        X, y, callbacks=ProgressBar(file=buffer, mininterval=0, ascii=True))
    text = buffer.getvalue()
    assert "Ridge (gd)" in text
    assert f"{model.n_iter_}/50" in text  # the bar ends at the iterations run, of max_iter
    final = model.history_[-1]
    assert f"objective={final['objective']:.6g}" in text
    assert f"grad_norm={final['grad_norm']:.3g}" in text
    assert f"passes={final['passes']:.1f}" in text
    assert (f"objective={final['objective']:.6g}, grad_norm={final['grad_norm']:.3g}, "
            f"passes=") in text  # in this order


def test_verbose_1_draws_a_bar_on_stderr_and_logs_nothing_per_iteration(
    regression, capsys, caplog
):
    X, y = regression
    caplog.set_level(logging.INFO, logger="daskgd")
    model = LinearRegression(solver="lbfgs", verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "LinearRegression (lbfgs)" in err and "objective=" in err
    assert "/1000 " in err  # counts towards max_iter while it runs
    assert "100%|" in err and f" {model.n_iter_}/{model.n_iter_} " in err  # ends full
    assert not any("iteration" in r.getMessage() for r in caplog.records)


def test_progress_bar_is_closed_when_the_fit_fails(regression):
    X, y = regression
    buffer = io.StringIO()
    bar, spy = ProgressBar(file=buffer), Spy()

    def explode(record: dict[str, Any]) -> None:
        if record["iteration"] == 2:
            raise RuntimeError("callback failed on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        Ridge(solver="gd").fit(X, y, callbacks=[bar, spy, explode])
    assert bar._bar is None  # closed
    assert "Ridge (gd)" in buffer.getvalue()
    assert len(spy.ended) == 1 and isinstance(spy.ended[0].error, RuntimeError)


# ---------------------------------------------------------------- stopping early


CASES = [
    (LinearRegression, {"solver": "gd"}, "regression", 3),
    (Ridge, {"solver": "lbfgs", "alpha": 10.0}, "regression", 3),
    (LogisticRegression, {"solver": "newton"}, "classification", 2),
    (Lasso, {"solver": "proximal", "alpha": 0.5}, "regression", 3),
    (SGDRegressor, {"random_state": 0, "tol": None}, "regression", 2),
    (SGDClassifier, {"random_state": 0, "loss": "log_loss"}, "classification", 2),
    (PoissonRegressor, {"solver": "lbfgs"}, "poisson", 2),
]


def _data(kind: str, regression, classification):
    if kind == "regression":
        return regression
    if kind == "classification":
        return classification
    X, _ = regression
    X = X / X.std(axis=0)
    rng = np.random.default_rng(0)
    return X, rng.poisson(np.exp(0.3 * X[:, 0]))


@pytest.mark.parametrize(("cls", "params", "kind", "k"), CASES,
                         ids=[f"{c[0].__name__}-{c[1].get('solver', 'sgd')}" for c in CASES])
def test_a_callback_stops_every_solver_after_iteration_k(
    cls, params, kind, k, regression, classification
):
    X, y = _data(kind, regression, classification)
    params = {"tol": 1e-12, **params}
    spy = Spy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the user asked: no warning
        stopped = cls(**params, max_iter=100).fit(X, y, callbacks=[stop_at(k), spy])
    assert stopped.n_iter_ == k
    full_batch = not cls.__name__.startswith("SGD")
    assert len(stopped.history_) == k + 1 if full_batch else k
    assert stopped.converged_ is False
    assert stopped.stop_reason_ == f"stopped by callback stop_at.<locals>.stop at iteration {k}"
    # Every callback saw every record, up to the stop; the last state is the iterate kept.
    assert [r["iteration"] for r in spy.records] == [r["iteration"] for r in stopped.history_]
    assert spy.ended[0].stop_reason == stopped.stop_reason_
    # The same iterate as a fit allowed k iterations (each of these fits is deterministic).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        capped = cls(**params, max_iter=k).fit(X, y)
    assert capped.stop_reason_ is None
    np.testing.assert_array_equal(stopped.coef_, capped.coef_)
    np.testing.assert_array_equal(stopped.intercept_, capped.intercept_)


def test_a_stop_at_the_starting_point_keeps_it(regression):
    X, y = regression
    model = LinearRegression(solver="gd").fit(X, y, callbacks=stop_at(0))
    assert model.n_iter_ == 0 and len(model.history_) == 1 and not model.converged_
    np.testing.assert_array_equal(model.coef_, np.zeros(X.shape[1]))
    assert model.intercept_ == pytest.approx(y.mean())


def test_lstsq_makes_its_one_iteration_whatever_the_callback_says(regression):
    X, y = regression
    spy = Spy()
    model = LinearRegression(solver="lstsq").fit(X, y, callbacks=[stop_at(1), spy])
    assert model.n_iter_ == 1 and model.converged_ and model.stop_reason_ is None
    assert [r["iteration"] for r in spy.records] == [1]


def test_callbacks_see_the_live_iterate(regression):
    X, y = regression
    spy = Spy()
    model = Ridge(solver="gd", max_iter=500).fit(X, y, callbacks=spy)
    info = spy.begun[0]
    assert (info.estimator, info.solver, info.max_iter) == ("Ridge", "gd", 500)
    assert (info.n_samples, info.n_features, info.n_params) == (300, 5, 6)
    assert info.placement == "persist"
    assert spy.ended[0] is info and info.n_iter == model.n_iter_ and info.error is None
    assert len(spy.thetas) == len(model.history_)
    np.testing.assert_allclose(spy.thetas[-1][:5], model.coef_, rtol=1e-12)
    assert not np.array_equal(spy.thetas[0], spy.thetas[-1])


def test_sgd_records_are_complete_when_callbacks_see_them(regression):
    X, y = regression
    spy = Spy()
    model = SGDRegressor(early_stopping=True, random_state=0, max_iter=8).fit(
        X, y, callbacks=spy)
    assert spy.records == model.history_
    assert all({"steps", "validation_score"} <= set(r) for r in spy.records)


# ---------------------------------------------------------------- logging


def test_log_iterations_writes_each_record_to_a_logger(classification, caplog):
    X, y = classification
    caplog.set_level(logging.DEBUG, logger="my.fits")
    model = LogisticRegression(solver="lbfgs").fit(
        X, y, callbacks=LogIterations("my.fits", level=logging.DEBUG))
    messages = [r.getMessage() for r in caplog.records if r.name == "my.fits"]
    assert messages[0].startswith("daskgd lbfgs: fitting LogisticRegression, 300 samples")
    iterations = [m for m in messages if ": iteration " in m]
    assert len(iterations) == len(model.history_)
    last = model.history_[-1]
    assert f"iteration {last['iteration']} objective {last['objective']:.10g}" in iterations[-1]
    assert messages[-1].startswith(
        f"daskgd lbfgs: {model.n_iter_[0]} iterations, converged {model.converged_}: ")


def test_verbose_2_logs_each_iteration_to_daskgd(regression, caplog, capsys):
    X, y = regression
    caplog.set_level(logging.INFO, logger="daskgd")
    model = Ridge(solver="gd", verbose=2).fit(X, y)
    iterations = [r for r in caplog.records if ": iteration " in r.getMessage()]
    assert len(iterations) == len(model.history_)
    assert "Ridge (gd)" in capsys.readouterr().err  # and the bar


# ---------------------------------------------------------------- bad callbacks


@pytest.mark.parametrize(("callbacks", "match"), [
    (3, r"callbacks must be a daskgd.callbacks.Callback, a callable f\(record\) or a list "
        r"of them; got int"),
    ("progress", r"callbacks must be .* got str"),
    ([print, "x"], r"callbacks\[1\] must be a daskgd.callbacks.Callback or a callable "
                   r"f\(record\); got str: 'x'"),
    ([ProgressBar], r"callbacks\[0\] is the class ProgressBar; pass an instance, e.g. "
                    r"ProgressBar\(\)"),
    ({"a": print}, r"got dict"),
])
def test_bad_callbacks_are_refused_before_cluster_work(regression, watch, callbacks, match):
    X, y = regression
    with watch(), pytest.raises(TypeError, match=match):
        Ridge().fit(X, y, callbacks=callbacks)
    assert watch.new_keys == []


# ---------------------------------------------------------------- in scikit-learn tools


def test_callbacks_pass_through_grid_search_and_pipelines(regression):
    X, y = regression
    records: list[dict[str, Any]] = []
    search = GridSearchCV(Ridge(solver="gd"), {"alpha": [0.1, 10.0]}, cv=2)
    search.fit(X, y, callbacks=[records.append])
    starts = [r for r in records if r["iteration"] == 0]
    assert len(starts) == 2 * 2 + 1  # every fold of every candidate, and the refit
    assert search.best_estimator_.stop_reason_ is None

    pipe = make_pipeline(StandardScaler(), Ridge(solver="gd", max_iter=100))
    pipe.fit(X, y, ridge__callbacks=stop_at(2))
    assert pipe[-1].n_iter_ == 2 and pipe[-1].stop_reason_ is not None


# ---------------------------------------------------------------- dashboard and HTML


def test_the_fit_logs_the_dashboard_link(regression, client, caplog):
    X, y = regression
    caplog.set_level(logging.INFO, logger="daskgd")
    Ridge().fit(X, y)
    lines = [r.getMessage() for r in caplog.records if "dashboard" in r.getMessage()]
    assert lines == [f"daskgd: fitting Ridge on the cluster at {client.scheduler.address}; "
                     f"dashboard: {client.dashboard_link}"]
    assert all(r.levelno == logging.INFO for r in caplog.records if "dashboard" in
               r.getMessage())


def test_html_repr_adds_the_fit_summary_once_fitted(classification):
    X, y = classification
    model = LogisticRegression(solver="lbfgs")
    unfitted = model._repr_html_()
    assert "daskgd-fit-summary" not in unfitted and "LogisticRegression" in unfitted
    model.fit(X, y)
    html = model._repr_html_()
    assert html.startswith(unfitted[:20])  # scikit-learn's own HTML comes first
    table = html[html.index('<table class="daskgd-fit-summary"'):]
    for label, value in [("solver", "lbfgs"), ("iterations", str(model.n_iter_[0])),
                         ("converged", "True"), ("fit time", f"{model.fit_time_:.2f} s"),
                         ("passes over X", f"{model.history_[-1]['passes']:.1f}"),
                         ("placement", "persist")]:
        assert f">{label}</th>" in table
        assert f"<td style=\"text-align:left\">{value}</td>" in table
    bundle = model._repr_mimebundle_()
    assert "daskgd-fit-summary" in bundle["text/html"]
    assert bundle["text/plain"] == repr(model)
    assert 0 < model.fit_time_ < 600


def test_html_repr_says_why_a_fit_was_stopped(regression):
    X, y = regression
    model = Ridge(solver="gd").fit(X, y, callbacks=stop_at(1))
    assert "False (stopped by callback stop_at.&lt;locals&gt;.stop at iteration 1)" in \
        model._repr_html_()
