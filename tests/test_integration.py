"""daskgd estimators inside scikit-learn's meta-estimators and in any dask deployment.

- Meta-estimators: ``clone``, ``get_params``/``set_params``, pickling, a pandas-output
  ``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` with scoring strings, all against the
  same thing done with scikit-learn's estimators.
- Several fits sharing one cluster at once: threads sharing the session client, fits run as
  tasks on the cluster (``joblib.parallel_backend("dask")``), and loky worker processes that
  reach the cluster through ``DASK_SCHEDULER_ADDRESS``, or start a thread-based cluster of
  their own without it; all give the results of ``n_jobs=1``. A process with no client but
  that address connects for each fit and closes what it connected; a daemonic process,
  which cannot start worker processes, fits on worker threads.
- A cluster started from the ``dask`` command line, used through a ``Client`` daskgd did not
  create and must never close.
- Lazy predictions on a dask DataFrame for the models ``test_cluster.py`` does not cover.

Everything runs on real clusters: the session ``LocalCluster`` of ``conftest.py`` and
scheduler and worker processes started here.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask.array as da
import dask.dataframe as dd
import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sklm
from _cli_cluster import cli_cluster
from distributed import Client, LocalCluster, default_client, get_task_stream
from distributed.utils import key_split
from joblib.externals.loky import get_reusable_executor
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import daskgd

REPO = Path(__file__).resolve().parents[1]
#: Agreement with scikit-learn where the objectives match (fits run to tight tolerances).
RTOL = 1e-5


# ---------------------------------------------------------------- data


def _standardised(X: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(X)


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return _standardised(X), y


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised(X), y


def _logistic(C: float = 1.0) -> daskgd.LogisticRegression:
    return daskgd.LogisticRegression(C=C, tol=1e-10)


def _sk_logistic(C: float = 1.0) -> sklm.LogisticRegression:
    return sklm.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000)


def _sgd() -> daskgd.SGDClassifier:
    return daskgd.SGDClassifier(loss="log_loss", max_iter=5, tol=None, random_state=0)


def _fit_tokens(stream: list[dict], name: str | None = None) -> set[str]:
    """The fits (their tokens) that ran ``daskgd-<name>`` tasks (any daskgd task if no
    ``name``) in a task stream: daskgd's keys are ``daskgd-<name>-<token>-...``."""
    keys = [t["key"] for t in stream if isinstance(t["key"], str)]
    return {k.split("-")[2] for k in keys if key_split(k).startswith("daskgd-")
            and (name is None or key_split(k) == f"daskgd-{name}")}


def _n_clients(client: Client, expected: int | None = None) -> int:
    """How many clients the scheduler has; waits up to 10 s for it to become ``expected``
    (a closed client leaves the scheduler asynchronously)."""
    deadline = time.monotonic() + 10
    while True:
        n = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.clients))
        if expected is None or n == expected or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


# ================================================================ meta-estimators


@pytest.mark.parametrize("make", [daskgd.Ridge, _logistic, _sgd], ids=["ridge", "logistic",
                                                                        "sgd"])
def test_clone_copies_parameters_and_nothing_fitted(make: Any, cancer: Any) -> None:
    X, y = cancer
    model = make().set_params(max_iter=57, random_state=3)
    model.fit(X, y)
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "coef_")
    assert type(copy) is type(model)


def test_set_params_solver_takes_effect(diabetes: Any, cancer: Any) -> None:
    X, y = diabetes
    model = daskgd.Ridge(alpha=2.0, solver="lstsq", tol=1e-10)
    assert model.fit(X, y).solver_ == "lstsq"
    assert model.set_params(solver="lbfgs") is model
    assert model.get_params()["solver"] == "lbfgs"
    model.fit(X, y)
    assert model.solver_ == "lbfgs"
    fresh = daskgd.Ridge(alpha=2.0, solver="lbfgs", tol=1e-10).fit(X, y)
    assert_array_equal(model.coef_, fresh.coef_)
    assert model.intercept_ == fresh.intercept_

    Xc, yc = cancer
    clf = _logistic().fit(Xc, yc)
    assert clf.solver_ == "newton"  # solver="auto" on few parameters
    clf.set_params(solver="gd", tol=1e-4, C=0.5).fit(Xc, yc)
    fresh_clf = daskgd.LogisticRegression(C=0.5, solver="gd", tol=1e-4).fit(Xc, yc)
    assert clf.solver_ == fresh_clf.solver_ == "gd"
    assert_array_equal(clf.coef_, fresh_clf.coef_)
    assert_array_equal(clf.intercept_, fresh_clf.intercept_)


@pytest.mark.parametrize("make", [daskgd.Ridge, _logistic, _sgd], ids=["ridge", "logistic",
                                                                        "sgd"])
def test_pickled_fitted_model_predicts_the_same(make: Any, cancer: Any) -> None:
    X, y = cancer
    model = make().fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    assert_array_equal(copy.predict(X), model.predict(X))
    assert_array_equal(copy.coef_, model.coef_)
    if hasattr(model, "predict_proba"):
        assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


def test_pipeline_with_pandas_output_passes_a_dataframe() -> None:
    frame = load_breast_cancer(as_frame=True)
    X, y = frame.data, frame.target
    ours = Pipeline([("scale", StandardScaler().set_output(transform="pandas")),
                     ("model", _logistic(C=0.5))]).fit(X, y)
    reference = Pipeline([("scale", StandardScaler().set_output(transform="pandas")),
                          ("model", _sk_logistic(C=0.5))]).fit(X, y)
    model = ours.named_steps["model"]
    assert_array_equal(model.feature_names_in_, np.asarray(X.columns))
    assert_allclose(model.coef_, reference.named_steps["model"].coef_, rtol=RTOL, atol=1e-8)
    assert_allclose(model.intercept_, reference.named_steps["model"].intercept_, rtol=RTOL)
    assert_array_equal(ours.predict(X), reference.predict(X))

    diabetes = load_diabetes(as_frame=True)
    ridge = Pipeline([("scale", StandardScaler().set_output(transform="pandas")),
                      ("model", daskgd.Ridge(alpha=3.0))]).fit(diabetes.data, diabetes.target)
    sk_ridge = make_pipeline(StandardScaler(), sklm.Ridge(alpha=3.0)).fit(
        diabetes.data, diabetes.target)
    assert_array_equal(ridge.named_steps["model"].feature_names_in_,
                       np.asarray(diabetes.data.columns))
    assert_allclose(ridge.named_steps["model"].coef_, sk_ridge[-1].coef_, rtol=RTOL)
    assert_allclose(ridge.predict(diabetes.data), sk_ridge.predict(diabetes.data), rtol=RTOL)


def test_grid_search_matches_scikit_learn(diabetes: Any, cancer: Any) -> None:
    X, y = diabetes
    grid = {"alpha": [0.1, 3.0, 30.0, 300.0]}
    ours = GridSearchCV(daskgd.Ridge(), grid, cv=KFold(3)).fit(X, y)
    theirs = GridSearchCV(sklm.Ridge(), grid, cv=KFold(3)).fit(X, y)
    assert ours.best_params_ == theirs.best_params_
    assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"],
                    rtol=RTOL)
    assert_allclose(ours.best_estimator_.coef_, theirs.best_estimator_.coef_, rtol=RTOL)

    Xc, yc = cancer
    grid = {"C": [0.01, 0.1, 1.0]}
    ours = GridSearchCV(_logistic(), grid, cv=StratifiedKFold(3), scoring="neg_log_loss")
    theirs = GridSearchCV(_sk_logistic(), grid, cv=StratifiedKFold(3), scoring="neg_log_loss")
    ours.fit(Xc, yc)
    theirs.fit(Xc, yc)
    assert ours.best_params_ == theirs.best_params_
    assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"],
                    rtol=RTOL)


@pytest.mark.parametrize("scoring", ["r2", "neg_mean_squared_error", "accuracy",
                                     "neg_log_loss", "roc_auc"])
def test_cross_val_score_with_scoring_strings(scoring: str, diabetes: Any, cancer: Any) -> None:
    if scoring in ("r2", "neg_mean_squared_error"):
        (X, y), ours, theirs = diabetes, daskgd.Ridge(alpha=1.0), sklm.Ridge(alpha=1.0)
    else:
        (X, y), ours, theirs = cancer, _logistic(C=0.1), _sk_logistic(C=0.1)
    got = cross_val_score(ours, X, y, cv=3, scoring=scoring)
    expected = cross_val_score(theirs, X, y, cv=3, scoring=scoring)
    assert got.shape == (3,)
    assert_allclose(got, expected, rtol=RTOL)


# ================================================================ several fits, one cluster


def _search(make: Any, grid: dict, X: np.ndarray, y: np.ndarray, n_jobs: int) -> GridSearchCV:
    return GridSearchCV(make(), grid, cv=KFold(3), n_jobs=n_jobs).fit(X, y)


def _assert_same_search(a: GridSearchCV, b: GridSearchCV) -> None:
    assert a.best_params_ == b.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        assert_array_equal(a.cv_results_[key], b.cv_results_[key], err_msg=key)
    assert_array_equal(a.best_estimator_.coef_, b.best_estimator_.coef_)


SHARED_CASES: dict[str, tuple[Callable[[], Any], dict[str, list[float]], str]] = {
    # deterministic solvers: lstsq, newton, seeded sgd
    "ridge": (daskgd.Ridge, {"alpha": [0.1, 10.0, 100.0, 1000.0]}, "diabetes"),
    "logistic": (_logistic, {"C": [0.01, 0.1, 1.0, 10.0]}, "cancer"),
    "sgd": (_sgd, {"alpha": [1e-4, 1e-2]}, "cancer"),
}


@pytest.mark.parametrize("case", list(SHARED_CASES))
def test_threads_sharing_the_client_give_the_sequential_results(
    case: str, request: pytest.FixtureRequest, client: Client
) -> None:
    make, grid, data = SHARED_CASES[case]
    X, y = request.getfixturevalue(data)
    sequential = _search(make, grid, X, y, n_jobs=1)
    scores = cross_val_score(make(), X, y, cv=4, n_jobs=1)
    with get_task_stream(client) as stream, joblib.parallel_backend("threading"):
        threaded = _search(make, grid, X, y, n_jobs=4)
        threaded_scores = cross_val_score(make(), X, y, cv=4, n_jobs=4)
    _assert_same_search(sequential, threaded)
    assert_array_equal(scores, threaded_scores)
    n_fits = len(threaded.cv_results_["params"]) * 3 + 1 + 4
    assert len(_fit_tokens(stream.data)) == n_fits, "every fit ran on the session cluster"


def test_fits_as_tasks_on_the_cluster_under_the_dask_backend(
    diabetes: Any, cancer: Any, client: Client
) -> None:
    X, y = diabetes
    sequential = _search(daskgd.Ridge, SHARED_CASES["ridge"][1], X, y, n_jobs=1)
    Xc, yc = cancer
    scores = cross_val_score(_logistic(), Xc, yc, cv=3, n_jobs=1)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_tasks = _search(daskgd.Ridge, SHARED_CASES["ridge"][1], X, y, n_jobs=-1)
        task_scores = cross_val_score(_logistic(), Xc, yc, cv=3, n_jobs=-1)
    _assert_same_search(sequential, on_tasks)
    assert_array_equal(scores, task_scores)
    # The fits ran inside tasks (joblib's batches) and submitted their own tasks from there;
    # with single-threaded workers this only finishes because those fits seceded.
    names = {key_split(t["key"]) for t in stream.data}
    assert any(n.startswith("batch_of__fit_and_score") for n in names), names
    assert len(_fit_tokens(stream.data, "gram")) == 4 * 3 + 1  # the refit runs here
    assert len(_fit_tokens(stream.data, "hess")) == 3
    assert client.status == "running"
    assert default_client() is client


@pytest.fixture
def fresh_loky_workers() -> Iterator[None]:
    """New loky worker processes before and after the test: they read the environment (and
    dask's configuration from it) when they start, and are otherwise reused across calls."""
    get_reusable_executor().shutdown(wait=True, kill_workers=True)
    yield
    get_reusable_executor().shutdown(wait=True, kill_workers=True)


def test_loky_workers_reach_the_cluster_through_the_scheduler_address(
    fresh_loky_workers: None, monkeypatch: pytest.MonkeyPatch, cluster: LocalCluster,
    client: Client, diabetes: Any, cancer: Any,
) -> None:
    X, y = diabetes
    sequential = _search(daskgd.Ridge, SHARED_CASES["ridge"][1], X, y, n_jobs=1)
    Xc, yc = cancer
    scores = cross_val_score(_logistic(), Xc, yc, cv=3, n_jobs=1)
    n_clients = _n_clients(client)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    with get_task_stream(client) as stream:
        in_processes = _search(daskgd.Ridge, SHARED_CASES["ridge"][1], X, y, n_jobs=2)
        process_scores = cross_val_score(_logistic(), Xc, yc, cv=3, n_jobs=2)
    _assert_same_search(sequential, in_processes)
    assert_array_equal(scores, process_scores)
    # Every fit in the loky processes ran its tasks on the session scheduler: none started
    # a LocalCluster of its own. (The refit of the best model runs here, in this process.)
    assert len(_fit_tokens(stream.data, "gram")) == 4 * 3 + 1
    assert len(_fit_tokens(stream.data, "hess")) == 3
    # Each fit closed the client it connected; the cluster and this client are untouched.
    assert _n_clients(client, expected=n_clients) == n_clients
    assert client.status == "running"


def test_loky_workers_without_an_address_start_a_thread_cluster(
    fresh_loky_workers: None, monkeypatch: pytest.MonkeyPatch, client: Client, cancer: Any
) -> None:
    """Loky processes cannot start worker processes; each fit there starts worker threads."""
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    X, y = cancer
    scores = cross_val_score(_logistic(), X, y, cv=3, n_jobs=1)
    with get_task_stream(client) as stream:
        process_scores = cross_val_score(_logistic(), X, y, cv=3, n_jobs=2)
    assert_allclose(process_scores, scores, rtol=1e-12)
    assert not _fit_tokens(stream.data), "the fits must not reach this cluster"


_ADDRESS_SCRIPT = textwrap.dedent("""
    import json, logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="LOG %(name)s %(message)s")
    import dask.array as da
    import numpy as np
    from distributed import default_client
    from daskgd import LinearRegression

    def has_client():
        try:
            default_client()
        except ValueError:
            return False
        return True

    X = np.random.default_rng(0).standard_normal((300, 3))
    coef = LinearRegression().fit(X, X @ [1.0, 2.0, 3.0] + 1.0).coef_.tolist()
    after_fit = has_client()
    try:
        # dask data: the NaN is found by tasks on the cluster, inside the connected client
        LinearRegression().fit(da.from_array(X, chunks=(100, 3)),
                               da.from_array(np.full(300, np.nan), chunks=100))
        error = None
    except ValueError as e:
        error = str(e)
    print(json.dumps({"coef": coef, "after_fit": after_fit, "after_error": has_client(),
                      "error": error}))
""")


def test_no_client_but_a_scheduler_address_connects_for_the_fit_only(
    client: Client, cluster: LocalCluster
) -> None:
    n_clients = _n_clients(client)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env.update(PYTHONPATH=str(REPO), DASK_SCHEDULER_ADDRESS=cluster.scheduler_address)
    with get_task_stream(client) as stream:
        result = subprocess.run([sys.executable, "-c", _ADDRESS_SCRIPT], capture_output=True,
                                text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert_allclose(out["coef"], [1.0, 2.0, 3.0], rtol=1e-8)
    assert out["error"] and "NaN" in out["error"]
    # Each fit connected its own client and closed it, also when the fit raised.
    assert out["after_fit"] is False and out["after_error"] is False
    assert result.stderr.count(f"connected to {cluster.scheduler_address}") == 2
    assert "LocalCluster" not in result.stderr
    assert len(_fit_tokens(stream.data, "gram")) == 1
    assert len(_fit_tokens(stream.data, "validate")) == 1
    assert _n_clients(client, expected=n_clients) == n_clients
    assert client.status == "running"


_DAEMON_SCRIPT = textwrap.dedent("""
    import json, logging, multiprocessing, sys
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="LOG %(name)s %(message)s")
    import numpy as np

    def fit(queue):
        from daskgd import LinearRegression
        X = np.random.default_rng(0).standard_normal((300, 3))
        model = LinearRegression().fit(X, X @ [1.0, 2.0, 3.0] + 1.0)
        queue.put(model.coef_.tolist())

    if __name__ == "__main__":
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=fit, args=(queue,), daemon=True)
        child.start()
        coef = queue.get(timeout=240)
        child.join(60)
        print(json.dumps({"coef": coef, "exitcode": child.exitcode}))
""")


def test_fit_in_a_daemonic_process_uses_worker_threads(tmp_path: Path) -> None:
    script = tmp_path / "daemon_fit.py"
    script.write_text(_DAEMON_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["exitcode"] == 0
    assert_allclose(out["coef"], [1.0, 2.0, 3.0], rtol=1e-8)
    assert "cannot start worker processes (it is daemonic)" in result.stderr
    assert "started a LocalCluster for this fit" in result.stderr


# ================================================================ a cluster from the CLI


@pytest.fixture(scope="module")
def cli_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with cli_cluster(tmp_path_factory.mktemp("cli-cluster"), n_workers=2) as address:
        yield address


CLI_MODELS = {
    "ridge": (lambda: daskgd.Ridge(alpha=3.0, solver="lbfgs", tol=1e-10), "diabetes"),
    "logistic": (lambda: _logistic(C=0.5), "cancer"),
    "sgd": (_sgd, "cancer"),
}


@pytest.mark.parametrize("kind", list(CLI_MODELS))
def test_an_existing_client_is_used_and_never_closed(
    kind: str, cli_address: str, client: Client, request: pytest.FixtureRequest
) -> None:
    make, data = CLI_MODELS[kind]
    X, y = request.getfixturevalue(data)
    on_session = make().fit(X, y)
    Xd = da.from_array(X, chunks=(X.shape[0] // 4 + 1, X.shape[1]))
    with Client(cli_address) as external:
        assert default_client() is external
        assert all(a.startswith("tcp://127.0.0.1:") for a in external.scheduler_info(
            n_workers=-1)["workers"])
        with get_task_stream(external) as stream:
            model = make().fit(X, y)
        assert len(_fit_tokens(stream.data)) == 1, "the fit ran on the CLI-started cluster"
        assert external.status == "running"
        assert_allclose(model.coef_, on_session.coef_, rtol=1e-12, atol=1e-14)
        assert_allclose(model.intercept_, on_session.intercept_, rtol=1e-12, atol=1e-14)

        lazy = model.predict(Xd)
        assert isinstance(lazy, da.Array)
        assert_allclose(lazy.compute(), on_session.predict(X), rtol=1e-12)
        assert model.score(Xd, da.from_array(y, chunks=Xd.chunks[0])) == pytest.approx(
            on_session.score(X, y), rel=1e-12)

        # Found by the validation tasks on the cluster, after the data was placed there.
        bad = np.where(np.arange(len(y)) == 7, np.nan, y)
        with pytest.raises(ValueError, match="NaN"):
            make().fit(Xd, da.from_array(bad, chunks=Xd.chunks[0]))
        assert external.status == "running"
        assert default_client() is external
        assert external.submit(sum, [1, 2]).result() == 3
    assert default_client() is client


# ================================================================ lazy prediction


LAZY_MODELS = {
    "sgd_regressor": (daskgd.SGDRegressor, [0.0]),
    "sgd_classifier": (_sgd, [0.0]),
    "multinomial": (lambda: daskgd.LogisticRegression(max_iter=50), [-0.5, 0.5]),
}


@pytest.mark.parametrize("kind", list(LAZY_MODELS))
def test_predictions_on_a_dask_dataframe_are_lazy(
    kind: str, client: Client, cluster: LocalCluster
) -> None:
    """test_cluster.py covers LinearRegression and binary LogisticRegression; these are the
    other prediction paths (SGD, multinomial), on a dask DataFrame."""
    make, thresholds = LAZY_MODELS[kind]
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 3))
    y = X @ [1.0, -1.0, 0.5]
    model = make()
    model.fit(X, np.digitize(y, thresholds) if is_classifier(model) else y)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4)
    methods = ["predict"]
    if is_classifier(model):
        methods += ["decision_function", "predict_proba", "predict_log_proba"]
    with get_task_stream(client) as stream:
        lazy = {method: getattr(model, method)(frame) for method in methods}
    assert stream.data == [], "building the predictions must compute nothing"
    for method, value in lazy.items():
        assert isinstance(value, da.Array), method
        expected = getattr(model, method)(X)
        computed = value.compute()
        assert computed.shape == expected.shape, method
        if expected.dtype.kind in "iuUO":
            assert_array_equal(computed, expected, err_msg=method)
        else:
            assert_allclose(computed, expected, rtol=1e-12, atol=1e-12, err_msg=method)
