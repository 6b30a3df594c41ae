"""Penalties on the coefficients (never on the intercept)."""

from daskgd.penalties.l2 import L2, no_penalty

__all__ = ["L2", "no_penalty"]
