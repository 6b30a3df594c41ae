"""One adapter per library: how to fit a :class:`~benchmarks.problems.Problem` with it.

Each adapter maps the problem's regularisation onto its library's parameters so that every
fit minimises the same objective (:func:`benchmarks.problems.objective`); the mapping is
tabulated in benchmarks/README.md. ``fit`` takes ``max_iter`` and ``tol`` (``None`` for the
library's default), which is how the runner builds its ladder of increasingly long fits.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.problems import Problem

#: ``tol`` passed with a ``max_iter`` rung, so that the iteration count is what stops the fit.
TIGHT_TOL = 1e-14


@dataclass
class Data:
    """One problem's data as each library takes it.

    ``X``/``y`` are NumPy on the driver; ``Xd``/``yd`` dask arrays persisted on the cluster.
    """

    X: np.ndarray
    y: np.ndarray
    Xd: Any
    yd: Any
    spark_frame: Any = None


@dataclass
class Fitted:
    """What a fit leaves: coefficients (K, d), intercepts (K,), iterations and passes."""

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int | None
    passes: float | None


class Adapter:
    """Base of the adapters: a library name and the solvers it has for a problem."""

    library = ""

    def unavailable(self) -> str | None:
        """Why this library cannot run here, or None."""
        return None

    def solvers(self, problem: Problem) -> list[str]:
        """The solvers to benchmark on this problem (empty: not supported)."""
        raise NotImplementedError

    def iterative(self, problem: Problem, solver: str) -> bool:
        """Whether ``max_iter`` bounds the work (else one fit is exact: no ladder)."""
        return True

    def prepare(self, problem: Problem, data: Data) -> None:
        """Untimed set-up before a problem's fits: one short fit, so imports on the workers,
        first-call compilation and caches are not charged to the first system timed."""
        solvers = self.solvers(problem)
        if solvers:
            max_iter = 1 if self.iterative(problem, solvers[0]) else None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.fit(problem, data, solvers[0], max_iter, None)

    def fit(
        self, problem: Problem, data: Data, solver: str, max_iter: int | None, tol: float | None
    ) -> Fitted:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the adapter started (a Spark session)."""


def _kwargs(max_iter: int | None, tol: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if max_iter is not None:
        out["max_iter"] = max_iter
    if tol is not None:
        out["tol"] = tol
    return out


def _n_iter(model: Any) -> int | None:
    n_iter = getattr(model, "n_iter_", None)
    return None if n_iter is None else int(np.max(n_iter))


# ---------------------------------------------------------------- daskgd


class DaskgdAdapter(Adapter):
    """daskgd's estimators on the persisted dask arrays; the estimator names match sklearn's,
    so the problem's parameters pass through unchanged."""

    library = "daskgd"

    def solvers(self, problem: Problem) -> list[str]:
        common = ["auto", "lbfgs", "newton", "gd", "proximal", "sgd"]
        if problem.kind in ("lstsq", "ridge"):
            return ["auto", "lstsq", *common[1:]]
        return common

    def iterative(self, problem: Problem, solver: str) -> bool:
        auto_exact = solver == "auto" and problem.kind in ("lstsq", "ridge")
        return solver != "lstsq" and not auto_exact

    def fit(
        self, problem: Problem, data: Data, solver: str, max_iter: int | None, tol: float | None
    ) -> Fitted:
        import daskgd

        kw = _kwargs(max_iter, tol)
        kw["solver"] = solver
        if solver == "sgd":
            kw["random_state"] = 0
        model: Any
        if problem.is_classifier:
            model = daskgd.LogisticRegression(C=problem.C, **kw)
        elif problem.kind == "lstsq":
            model = daskgd.LinearRegression(**kw)
        elif problem.kind == "ridge":
            model = daskgd.Ridge(alpha=problem.alpha, **kw)
        else:
            model = daskgd.PoissonRegressor(alpha=problem.alpha, **kw)
        model.fit(data.Xd, data.yd)
        history = getattr(model, "history_", None) or []
        passes = float(history[-1]["passes"]) if history else None
        return Fitted(np.atleast_2d(model.coef_), np.ravel(model.intercept_), _n_iter(model),
                      passes)


# ---------------------------------------------------------------- scikit-learn


class SklearnAdapter(Adapter):
    """scikit-learn in the driver process on NumPy data: the reference implementation of
    every objective, so no mapping."""

    library = "sklearn"

    def solvers(self, problem: Problem) -> list[str]:
        if problem.kind == "lstsq":
            return ["LinearRegression"]
        if problem.kind == "ridge":
            return ["Ridge"]
        return ["lbfgs", "newton-cholesky"]

    def iterative(self, problem: Problem, solver: str) -> bool:
        return problem.kind not in ("lstsq", "ridge")

    def fit(
        self, problem: Problem, data: Data, solver: str, max_iter: int | None, tol: float | None
    ) -> Fitted:
        from sklearn import linear_model as lm

        model: Any
        if problem.is_classifier:
            model = lm.LogisticRegression(C=problem.C, solver=solver, **_kwargs(max_iter, tol))
        elif problem.kind == "poisson":
            model = lm.PoissonRegressor(alpha=problem.alpha, solver=solver,
                                        **_kwargs(max_iter, tol))
        elif problem.kind == "lstsq":
            model = lm.LinearRegression()
        else:
            model = lm.Ridge(alpha=problem.alpha)
        model.fit(data.X, data.y)
        return Fitted(np.atleast_2d(model.coef_), np.ravel(model.intercept_), _n_iter(model),
                      None)


# ---------------------------------------------------------------- dask-ml


class DaskMLAdapter(Adapter):
    """dask-ml's GLMs (dask-glm solvers) on the persisted dask arrays.

    dask-ml minimises ``sum_i loss_i + lamduh * R(beta)`` with ``lamduh = 1 / C`` and
    ``R = 0.5 ||beta||^2``, where ``beta`` includes the intercept (a column of ones is
    appended to X): the intercept is penalised. Its losses are sums: logistic log-loss,
    squared error without the 1/2, Poisson ``exp(eta) - y eta``. Its ``newton`` and
    ``gradient_descent`` solvers drop the regulariser altogether.
    """

    library = "dask-ml"

    def unavailable(self) -> str | None:
        try:
            import dask_ml.linear_model  # noqa: F401
        except ImportError as error:
            return f"dask-ml not importable ({error})"
        return None

    def solvers(self, problem: Problem) -> list[str]:
        if problem.kind == "multinomial":
            return []  # dask-ml's LogisticRegression is binary only
        return ["lbfgs", "newton", "admm", "gradient_descent", "proximal_grad"]

    def C(self, problem: Problem) -> float:
        """dask-ml's ``C`` (``lamduh = 1 / C``) for the problem's objective."""
        if problem.is_classifier:
            return problem.C  # C * sum(loss) + R  ==  C * (sum(loss) + R / C)
        if problem.kind == "lstsq":
            return np.inf  # lamduh = 0
        if problem.kind == "ridge":
            # 0.5 sum r^2 + 0.5 alpha ||w||^2 = 0.5 (sum r^2 + 2 alpha * 0.5 ||w||^2)
            return 1.0 / (2.0 * problem.alpha)
        # mean half deviance + 0.5 alpha ||w||^2 = (1/n)(sum(exp(eta) - y eta) + n alpha R) + c
        return 1.0 / (problem.n * problem.alpha)

    def fit(
        self, problem: Problem, data: Data, solver: str, max_iter: int | None, tol: float | None
    ) -> Fitted:
        from dask_ml import linear_model as dlm

        kw = _kwargs(max_iter, tol)
        cls: Any = {
            "logistic": dlm.LogisticRegression,
            "lstsq": dlm.LinearRegression,
            "ridge": dlm.LinearRegression,
            "poisson": dlm.PoissonRegression,
        }[problem.kind]
        model = cls(C=self.C(problem), solver=solver, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data.Xd, data.yd)
        coef = np.asarray(model.coef_, dtype=np.float64)
        return Fitted(np.atleast_2d(coef), np.atleast_1d(np.float64(model.intercept_)), None,
                      None)


# ---------------------------------------------------------------- Spark MLlib


class SparkAdapter(Adapter):
    """Spark MLlib on ``local[2]`` (optional: needs pyspark and a Java runtime).

    Spark minimises ``mean(loss) + regParam * 0.5 ||w||^2`` (``elasticNetParam=0``) with an
    unpenalised intercept; ``standardization=False`` so the penalty is on the raw
    coefficients (for least squares Spark divides ``regParam`` by the label's standard
    deviation, which :meth:`reg_param` undoes). The data is written once to Parquet and
    cached in Spark before timing.
    """

    library = "spark"

    def __init__(self) -> None:
        self._spark: Any = None
        self._tmp: str | None = None

    def unavailable(self) -> str | None:
        try:
            import pyspark  # noqa: F401
        except ImportError as error:
            return f"pyspark not importable ({error})"
        if shutil.which("java") is None:
            return "no java on PATH"
        return None

    def solvers(self, problem: Problem) -> list[str]:
        if problem.kind in ("logistic", "multinomial"):
            return ["l-bfgs"]
        if problem.kind in ("lstsq", "ridge"):
            return ["l-bfgs", "normal"]
        return []  # GeneralizedLinearRegression (IRLS) not wired up yet

    def iterative(self, problem: Problem, solver: str) -> bool:
        return solver != "normal"

    def reg_param(self, problem: Problem, y: np.ndarray) -> float:
        """Spark's ``regParam`` for the problem's objective (Spark's loss is a mean)."""
        if problem.is_classifier:
            return 1.0 / (problem.C * problem.n)  # divide C sum(loss) + R by C n
        if problem.kind == "ridge":
            # Divide 0.5 sum r^2 + 0.5 alpha ||w||^2 by n. Spark's LinearRegression always
            # standardises the label and divides regParam by the label's standard deviation
            # (glmnet's convention), so multiply it back.
            return problem.alpha / problem.n * float(np.std(y, ddof=1))
        return 0.0

    def session(self) -> Any:
        if self._spark is None:
            from pyspark.sql import SparkSession

            self._spark = (
                SparkSession.builder.master("local[2]").appName("daskgd-bench")
                .config("spark.driver.memory", "8g").config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate()
            )
            self._spark.sparkContext.setLogLevel("ERROR")
        return self._spark

    def frame(self, data: Data) -> Any:
        """The data as a cached Spark DataFrame (features, label), made once per problem."""
        if data.spark_frame is None:
            import pyarrow as pa
            import pyarrow.parquet as pq
            from pyspark.ml.functions import array_to_vector
            from pyspark.sql.functions import col

            self._tmp = self._tmp or tempfile.mkdtemp(prefix="daskgd-bench-spark-")
            path = f"{self._tmp}/data-{id(data)}.parquet"
            n, d = data.X.shape
            offsets = pa.array(np.arange(0, n * d + 1, d, dtype=np.int32))
            features = pa.ListArray.from_arrays(offsets, pa.array(data.X.ravel()))
            pq.write_table(pa.table({"features": features, "label": data.y}), path)
            frame = self.session().read.parquet(path)
            frame = frame.select(array_to_vector(col("features")).alias("features"), "label")
            data.spark_frame = frame.repartition(2).cache()
            data.spark_frame.count()
        return data.spark_frame

    def prepare(self, problem: Problem, data: Data) -> None:
        """Cache the data in Spark, then warm the JVM up with a short fit."""
        self.frame(data)
        super().prepare(problem, data)

    def fit(
        self, problem: Problem, data: Data, solver: str, max_iter: int | None, tol: float | None
    ) -> Fitted:
        from pyspark.ml import classification, regression

        kw: dict[str, Any] = {"regParam": self.reg_param(problem, data.y), "elasticNetParam": 0.0,
                              "standardization": False, "fitIntercept": True}
        if max_iter is not None:
            kw["maxIter"] = max_iter
        if tol is not None:
            kw["tol"] = tol
        frame = self.frame(data)
        if problem.is_classifier:
            family = "binomial" if problem.kind == "logistic" else "multinomial"
            model = classification.LogisticRegression(family=family, **kw).fit(frame)
            coef = model.coefficientMatrix.toArray()
            intercept = model.interceptVector.toArray()
        else:
            model = regression.LinearRegression(solver=solver, **kw).fit(frame)
            coef = model.coefficients.toArray()
            intercept = np.array([model.intercept])
        return Fitted(np.atleast_2d(coef), np.ravel(intercept), model.summary.totalIterations,
                      None)

    def close(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


ADAPTERS: dict[str, type[Adapter]] = {
    "daskgd": DaskgdAdapter,
    "sklearn": SklearnAdapter,
    "dask-ml": DaskMLAdapter,
    "spark": SparkAdapter,
}
