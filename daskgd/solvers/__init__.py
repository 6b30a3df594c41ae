"""Optimisation algorithms: driver-side loops over an ``Objective``."""

from __future__ import annotations

from daskgd.losses import Loss
from daskgd.penalties import ElasticNet
from daskgd.solvers._base import Requirements, Solver, SolverOptions, SolverResult
from daskgd.solvers.gd import GradientDescent
from daskgd.solvers.lbfgs import LBFGS
from daskgd.solvers.lstsq import LeastSquares
from daskgd.solvers.newton import Newton
from daskgd.solvers.proximal import Proximal
from daskgd.solvers.sgd import SGD

#: Solver name -> solver class.
SOLVERS: dict[str, type[Solver]] = {
    cls.name: cls for cls in (LBFGS, Newton, LeastSquares, Proximal, GradientDescent, SGD)
}

#: Largest number of parameters for which ``"auto"`` picks the d x d solvers: least
#: squares' Gram, and Newton's Hessian when X is streamed (passes are what cost) or in
#: memory (a Hessian pass costs about d / 20 gradient passes per core: beyond ~64
#: parameters L-BFGS's extra iterations are cheaper than Newton's Hessians).
AUTO_MAX_GRAM = 2000
AUTO_MAX_HESSIAN = 500
AUTO_MAX_HESSIAN_IN_MEMORY = 64


def compatible_solvers(loss: Loss, penalty: ElasticNet, n_outputs: int) -> list[str]:
    """The solvers able to minimise this loss with this penalty."""
    return [name for name, cls in SOLVERS.items()
            if cls.requires.unmet(loss, penalty, n_outputs) is None]


def choose_solver(
    loss: Loss, penalty: ElasticNet, n_outputs: int, n_samples: int, n_features: int,
    streamed: bool = False,
) -> str:
    """The solver ``solver="auto"`` uses for this problem.

    Least squares with up to ``AUTO_MAX_GRAM`` features: ``lstsq`` (exact in one pass, any
    penalty). Other L1 / elastic-net problems: ``proximal`` (``sgd`` for non-differentiable
    losses). Smooth GLMs with ``n_samples >> n_params`` and at most
    ``AUTO_MAX_HESSIAN_IN_MEMORY`` parameters: ``newton`` (a handful of passes, each a
    Hessian). Otherwise ``lbfgs``; losses without a gradient (hinge, ...) get ``sgd``.

    When X is ``streamed`` (read from its source on every pass, see ``_streaming``) passes
    are what cost, so smooth GLMs get ``newton`` whenever its Hessian is small enough
    (at most ``AUTO_MAX_HESSIAN`` parameters, whatever ``n_samples``): one pass per
    iteration and few iterations, against L-BFGS's one pass per evaluation and many.
    """
    n_params = (n_features + 1) * n_outputs
    if not loss.differentiable:
        return "sgd"
    if _gram_sized(loss, n_features):
        return "lstsq"
    if not penalty.smooth:
        return "proximal"
    if loss.twice_differentiable and (
        (streamed and n_params <= AUTO_MAX_HESSIAN)
        or (n_params <= AUTO_MAX_HESSIAN_IN_MEMORY and n_samples >= 10 * n_params)
    ):
        return "newton"
    return "lbfgs"


def _gram_sized(loss: Loss, n_features: int) -> bool:
    return loss.differentiable and loss.name == "squared_error" and n_features <= AUTO_MAX_GRAM


def solves_from_gram(name: str, loss: Loss, n_features: int) -> bool:
    """Whether solver ``name`` (``"auto"`` as :func:`choose_solver` resolves it) solves
    from the least-squares Gram statistics (``lstsq``): known before the data are read,
    so the validation pass can sum them too (``Engine.place(..., gram=True)``)."""
    return name == "lstsq" or (name == "auto" and _gram_sized(loss, n_features))


def get_solver(name: str) -> Solver:
    """The solver called ``name``; a ``ValueError`` listing the known names otherwise."""
    try:
        return SOLVERS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"solver must be one of {['auto', *sorted(SOLVERS)]}; got {name!r}."
        ) from None


def check_solver(name: str, loss: Loss, penalty: ElasticNet, n_outputs: int) -> None:
    """Raise a ``ValueError`` naming the compatible solvers when ``name`` does not fit."""
    reason = SOLVERS[name].requires.unmet(loss, penalty, n_outputs)
    if reason is not None:
        raise ValueError(
            f"solver={name!r} cannot fit this model: {reason}. Compatible solvers: "
            f"{['auto', *compatible_solvers(loss, penalty, n_outputs)]}."
        )


__all__ = [
    "LBFGS",
    "SGD",
    "SOLVERS",
    "GradientDescent",
    "LeastSquares",
    "Newton",
    "Proximal",
    "Requirements",
    "Solver",
    "SolverOptions",
    "SolverResult",
    "check_solver",
    "choose_solver",
    "compatible_solvers",
    "get_solver",
    "solves_from_gram",
]
