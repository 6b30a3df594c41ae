"""daskgd.plotting.plot_convergence on real fits (Agg backend: no display needed)."""

from __future__ import annotations

import warnings

import dask.array as da
import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from daskgd import LinearRegression
from daskgd.plotting import plot_convergence

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(scope="module")
def fits() -> dict[str, LinearRegression]:
    """One small least-squares problem fitted by four solvers on the session cluster."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.0 + rng.normal(scale=0.5, size=2000)
    dX, dy = da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500)
    models = {
        "lstsq": LinearRegression(solver="lstsq"),
        "gd": LinearRegression(solver="gd", learning_rate=0.1, max_iter=20),
        "lbfgs": LinearRegression(solver="lbfgs"),
        "sgd": LinearRegression(solver="sgd", max_iter=4, tol=None, batch_size=256,
                                random_state=0),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the fixed-rate gd stops early
        return {name: model.fit(dX, dy) for name, model in models.items()}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def objectives(model: LinearRegression) -> np.ndarray:
    return np.array([record["objective"] for record in model.history_])


def test_history_is_a_table(fits):
    frame = pd.DataFrame(fits["gd"].history_)
    assert list(frame.columns) == ["iteration", "objective", "grad_norm", "step", "elapsed",
                                   "passes"]
    assert len(frame) == len(fits["gd"].history_) == fits["gd"].n_iter_ + 1
    assert frame["passes"].is_monotonic_increasing
    sgd = pd.DataFrame(fits["sgd"].history_)
    assert {"steps"} <= set(sgd.columns) and sgd["grad_norm"].isna().all()


def test_one_line_per_model_with_solver_labels(fits):
    models = [fits["gd"], fits["lbfgs"], fits["sgd"]]
    ax = plot_convergence(models, x="passes")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["gd", "lbfgs", "sgd"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gd", "lbfgs", "sgd"]
    assert ax.get_yscale() == "log"
    for line, model in zip(lines, models):
        np.testing.assert_array_equal(line.get_xdata(), [r["passes"] for r in model.history_])


def test_gap_against_the_best_exact_objective(fits):
    gd, lbfgs, sgd = fits["gd"], fits["lbfgs"], fits["sgd"]
    ax = plot_convergence([gd, lbfgs, sgd])
    # SGD's epoch objectives are estimates along the way: they do not set the reference.
    f_star = min(objectives(gd).min(), objectives(lbfgs).min())
    for line, model in zip(ax.get_lines(), [gd, lbfgs, sgd]):
        expected = (objectives(model) - f_star) / abs(f_star)
        drawn = np.asarray(line.get_ydata(), dtype=float)
        shown = expected > 0  # a gap of zero (the best fit's own point) is not drawable
        np.testing.assert_allclose(drawn[shown], expected[shown], rtol=1e-12)
        assert np.isnan(drawn[~shown]).all()
        np.testing.assert_array_equal(line.get_xdata(), [r["iteration"] for r in model.history_])


def test_reference_model_number_and_dict_labels(fits):
    f_star = fits["lstsq"].history_[-1]["objective"]
    ax = plot_convergence({"fixed rate": fits["gd"]}, reference=fits["lstsq"], x="time")
    (line,) = ax.get_lines()
    assert line.get_label() == "fixed rate"
    np.testing.assert_allclose(line.get_ydata(), (objectives(fits["gd"]) - f_star) / f_star)
    np.testing.assert_array_equal(line.get_xdata(), [r["elapsed"] for r in fits["gd"].history_])
    ax2 = plot_convergence(fits["gd"].history_, reference=f_star / 2)
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(),
                               (objectives(fits["gd"]) - f_star / 2) / (f_star / 2))


def test_histories_frames_and_duplicate_labels(fits):
    frame = pd.DataFrame(fits["gd"].history_)
    ax = plot_convergence([frame, fits["gd"].history_], y="objective")
    assert [line.get_label() for line in ax.get_lines()] == ["run 1", "run 2"]
    assert ax.get_yscale() == "linear"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), objectives(fits["gd"]))
    ax = plot_convergence([fits["gd"], fits["gd"]], labels=None, y="objective")
    assert [line.get_label() for line in ax.get_lines()] == ["gd", "gd #2"]


def test_onto_a_given_axes_and_grad_norm_leaves_sgd_out(fits):
    _, (left, right) = plt.subplots(1, 2)
    assert plot_convergence([fits["gd"]], ax=left) is left
    with pytest.warns(UserWarning, match="sgd"):
        out = plot_convergence([fits["gd"], fits["sgd"]], y="grad_norm", ax=right)
    assert out is right
    (line,) = right.get_lines()
    np.testing.assert_array_equal(line.get_ydata(),
                                  [r["grad_norm"] for r in fits["gd"].history_])


def test_the_fit_at_the_reference_is_left_out_with_a_warning(fits):
    with pytest.warns(UserWarning, match="lstsq"):
        ax = plot_convergence([fits["lstsq"], fits["gd"]])
    assert [line.get_label() for line in ax.get_lines()] == ["gd"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": "epoch"}, ValueError, "x must be one of"),
        ({"y": "loss"}, ValueError, "y must be one of"),
        ({"labels": ["one"]}, ValueError, "labels must be a sequence of 2"),
        ({"labels": "ab"}, ValueError, "labels must be a sequence"),
        ({"reference": float("nan")}, ValueError, "reference must be finite"),
        ({"reference": "best"}, TypeError, "reference must be a fitted daskgd estimator"),
        ({"reference": True}, TypeError, "reference must be a number"),
        ({"ax": "left"}, TypeError, "ax must be a matplotlib Axes"),
    ],
)
def test_bad_arguments(fits, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_convergence([fits["gd"], fits["lbfgs"]], **kwargs)


def test_bad_models(fits):
    with pytest.raises(NotFittedError, match="not fitted"):
        plot_convergence(LinearRegression())
    with pytest.raises(TypeError, match=r"models\[1\] must be a fitted daskgd estimator"):
        plot_convergence([fits["gd"], 3.0])
    with pytest.raises(ValueError, match="empty"):
        plot_convergence([])
    with pytest.raises(ValueError, match="empty"):
        plot_convergence({"a": []})
    with pytest.raises(ValueError, match="dict's keys are the labels"):
        plot_convergence({"a": fits["gd"]}, labels=["b"])
    with pytest.raises(ValueError, match="no 'objective' entry"):
        plot_convergence([{"iteration": 0, "value": 1.0}])
    with pytest.raises(ValueError, match="Nothing to draw for y='grad_norm'"):
        plot_convergence(fits["sgd"], y="grad_norm")


def test_missing_matplotlib_names_the_extra(monkeypatch, fits):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install 'daskgd\[plot\]'"):
        plot_convergence(fits["gd"])


def test_sgd_alone_is_its_own_reference(fits):
    ax = plot_convergence(fits["sgd"], x="passes")
    values = objectives(fits["sgd"])
    drawn = np.asarray(ax.get_lines()[0].get_ydata(), dtype=float)
    best = int(np.argmin(values))
    assert np.isnan(drawn[best])
    others = np.arange(len(values)) != best
    np.testing.assert_allclose(drawn[others],
                               (values[others] - values[best]) / abs(values[best]))
