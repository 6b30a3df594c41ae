"""Per-sample losses on the linear predictor ``eta`` (value, gradient, Hessian)."""

from daskgd.losses._base import Loss
from daskgd.losses.binomial import BinomialLogLoss
from daskgd.losses.squared import HalfSquaredError

__all__ = ["BinomialLogLoss", "HalfSquaredError", "Loss"]
