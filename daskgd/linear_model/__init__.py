"""The estimators: scikit-learn-compatible linear models trained on a dask cluster."""

from daskgd.linear_model._linear import LinearRegression, Ridge
from daskgd.linear_model._logistic import LogisticRegression

__all__ = ["LinearRegression", "LogisticRegression", "Ridge"]
