"""Penalties on the coefficients (never on the intercept): L2, L1 and elastic net."""

from daskgd.penalties.elastic_net import ElasticNet, elastic_net, l1, l2, no_penalty

__all__ = ["ElasticNet", "elastic_net", "l1", "l2", "no_penalty"]
