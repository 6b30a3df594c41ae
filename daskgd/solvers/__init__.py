"""Optimisation algorithms: driver-side loops over an ``Objective``."""

from daskgd.solvers._base import Solver, SolverOptions, SolverResult
from daskgd.solvers.gd import GradientDescent
from daskgd.solvers.lbfgs import LBFGS
from daskgd.solvers.sgd import SGD

#: Solver name -> solver class.
SOLVERS: dict[str, type] = {cls.name: cls for cls in (LBFGS, GradientDescent, SGD)}


def get_solver(name: str) -> Solver:
    """The solver called ``name``; a ``ValueError`` listing the known names otherwise."""
    try:
        return SOLVERS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"solver must be one of {sorted(SOLVERS)}; got {name!r}."
        ) from None


__all__ = [
    "LBFGS",
    "SGD",
    "SOLVERS",
    "GradientDescent",
    "Solver",
    "SolverOptions",
    "SolverResult",
    "get_solver",
]
