"""Penalties on the coefficients (never on the intercept): L2, L1 and elastic net."""

from daskgd.penalties.elastic_net import (
    PENALTY_NAMES,
    ElasticNet,
    check_penalty_name,
    elastic_net,
    from_name,
    l1,
    l2,
    no_penalty,
)

__all__ = [
    "PENALTY_NAMES",
    "ElasticNet",
    "check_penalty_name",
    "elastic_net",
    "from_name",
    "l1",
    "l2",
    "no_penalty",
]
