"""Losses by scikit-learn's names, for the estimators' ``loss=`` parameters."""

from __future__ import annotations

import dataclasses
from typing import Any

from daskgd.losses._base import Loss
from daskgd.losses.epsilon_insensitive import EpsilonInsensitive, SquaredEpsilonInsensitive
from daskgd.losses.hinge import Hinge, Perceptron, SquaredHinge
from daskgd.losses.huber import Huber
from daskgd.losses.log_margin import LogMarginLoss
from daskgd.losses.modified_huber import ModifiedHuber
from daskgd.losses.multinomial import MultinomialLogLoss
from daskgd.losses.poisson import HalfPoissonDeviance
from daskgd.losses.squared import HalfSquaredError

# "log_loss" is the one-vs-rest LogMarginLoss, the meaning of SGDClassifier(loss="log_loss"):
# for two classes it is identical to BinomialLogLoss, and it also accepts K >= 3 classes.
_LOSSES: dict[str, type[Loss]] = {
    "squared_error": HalfSquaredError,
    "huber": Huber,
    "epsilon_insensitive": EpsilonInsensitive,
    "squared_epsilon_insensitive": SquaredEpsilonInsensitive,
    "log_loss": LogMarginLoss,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "modified_huber": ModifiedHuber,
    "perceptron": Perceptron,
    "poisson": HalfPoissonDeviance,
    "multinomial": MultinomialLogLoss,
}

#: The names :func:`get_loss` accepts.
LOSS_NAMES: tuple[str, ...] = tuple(_LOSSES)


def get_loss(name: str, **params: Any) -> Loss:
    """The loss called ``name`` by scikit-learn, built with ``params``.

    Parameters
    ----------
    name : str
        One of ``LOSS_NAMES``: "squared_error", "huber", "epsilon_insensitive",
        "squared_epsilon_insensitive", "log_loss" (one-vs-rest logistic), "hinge",
        "squared_hinge", "modified_huber", "perceptron", "poisson", "multinomial".
    **params
        The loss's parameters, e.g. ``epsilon`` for "huber" and the epsilon-insensitive
        losses, ``threshold`` for "hinge" and "squared_hinge".

    Returns
    -------
    loss : Loss

    Raises
    ------
    ValueError
        For an unknown name, a parameter the loss does not take, or an invalid value.
    """
    try:
        cls = _LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown loss {name!r}; valid losses are {', '.join(map(repr, LOSS_NAMES))}"
        ) from None
    accepted = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(map(repr, accepted)) if accepted else "no parameters"
        raise ValueError(f"the {name!r} loss takes {takes}; got {', '.join(map(repr, unknown))}")
    return cls(**params)
