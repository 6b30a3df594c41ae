"""The estimators: scikit-learn-compatible linear models trained on a dask cluster."""

from daskgd.linear_model._glm import PoissonRegressor
from daskgd.linear_model._linear import ElasticNet, Lasso, LinearRegression, Ridge
from daskgd.linear_model._logistic import LogisticRegression
from daskgd.linear_model._sgd import SGDClassifier, SGDRegressor

__all__ = [
    "ElasticNet",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "PoissonRegressor",
    "Ridge",
    "SGDClassifier",
    "SGDRegressor",
]
