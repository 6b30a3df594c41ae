"""Per-sample losses on the linear predictor ``eta`` (value, gradient, Hessian).

Regressors: :class:`HalfSquaredError`, :class:`HalfPoissonDeviance`, :class:`Huber`,
:class:`EpsilonInsensitive`, :class:`SquaredEpsilonInsensitive`.
Probabilistic classifiers: :class:`BinomialLogLoss` (binary), :class:`MultinomialLogLoss`
(softmax over K columns). One-vs-rest margin classifiers (scikit-learn's SGDClassifier):
:class:`LogMarginLoss`, :class:`Hinge`, :class:`SquaredHinge`, :class:`ModifiedHuber`,
:class:`Perceptron`. :func:`get_loss` builds any of them from scikit-learn's name.
"""

from daskgd.losses._base import Loss
from daskgd.losses._registry import LOSS_NAMES, get_loss
from daskgd.losses.binomial import BinomialLogLoss
from daskgd.losses.epsilon_insensitive import EpsilonInsensitive, SquaredEpsilonInsensitive
from daskgd.losses.hinge import Hinge, Perceptron, SquaredHinge
from daskgd.losses.huber import Huber
from daskgd.losses.log_margin import LogMarginLoss
from daskgd.losses.modified_huber import ModifiedHuber
from daskgd.losses.multinomial import MultinomialLogLoss
from daskgd.losses.poisson import HalfPoissonDeviance
from daskgd.losses.squared import HalfSquaredError

__all__ = [
    "LOSS_NAMES",
    "BinomialLogLoss",
    "EpsilonInsensitive",
    "HalfPoissonDeviance",
    "HalfSquaredError",
    "Hinge",
    "Huber",
    "LogMarginLoss",
    "Loss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "Perceptron",
    "SquaredEpsilonInsensitive",
    "SquaredHinge",
    "get_loss",
]
