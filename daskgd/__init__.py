"""daskgd: scikit-learn-compatible linear models trained by distributed gradient methods on dask.

The estimators use the active ``distributed.Client``; each fit maps loss and gradient (or
Hessian, or Gram) computations over the row chunks on the workers and takes its steps on the
driver.
"""

from daskgd._config import register_defaults
from daskgd._version import __version__
from daskgd.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)

__all__ = [
    "ElasticNet",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "PoissonRegressor",
    "Ridge",
    "SGDClassifier",
    "SGDRegressor",
    "__version__",
]

register_defaults()
