"""The per-sample losses: derivatives, reference values, stability, best constants, plumbing.

Pure NumPy: no cluster is started for this module (the session ``client`` fixture is
overridden below).
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import xlogy

from daskgd.losses import (
    LOSS_NAMES,
    BinomialLogLoss,
    EpsilonInsensitive,
    HalfPoissonDeviance,
    HalfSquaredError,
    Hinge,
    Huber,
    LogMarginLoss,
    Loss,
    ModifiedHuber,
    MultinomialLogLoss,
    Perceptron,
    SquaredEpsilonInsensitive,
    SquaredHinge,
    get_loss,
)
from daskgd.losses._margin import MarginLoss


@pytest.fixture(scope="module")
def client() -> Iterator[None]:
    """Replaces conftest's autouse cluster fixture: nothing here needs dask."""
    yield None


REGRESSORS: list[Loss] = [
    HalfSquaredError(),
    HalfPoissonDeviance(),
    Huber(),
    Huber(epsilon=1.5),
    EpsilonInsensitive(),
    EpsilonInsensitive(epsilon=0.0),
    SquaredEpsilonInsensitive(epsilon=0.3),
]
MARGIN: list[Loss] = [
    LogMarginLoss(),
    Hinge(),
    Hinge(threshold=0.5),
    Perceptron(),
    SquaredHinge(),
    SquaredHinge(threshold=2.0),
    ModifiedHuber(),
]
ALL_LOSSES: list[Loss] = [*REGRESSORS, BinomialLogLoss(), MultinomialLogLoss(), *MARGIN]

# (loss, n_classes): every loss in every shape of eta it takes. n_classes 0 = regression.
CASES: list[tuple[Loss, int]] = [
    *[(loss, 0) for loss in REGRESSORS],
    (BinomialLogLoss(), 2),
    (MultinomialLogLoss(), 2),
    (MultinomialLogLoss(), 4),
    *[(loss, 2) for loss in MARGIN],
    *[(loss, 4) for loss in MARGIN],
]


def case_id(case: tuple[Loss, int]) -> str:
    loss, n_classes = case
    return f"{loss!r}-K{n_classes}"


def problem(
    loss: Loss, n_classes: int, rng: np.random.Generator, n: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Random targets and linear predictors of the right shapes for ``loss``."""
    k = loss.n_outputs(n_classes)
    if isinstance(loss, HalfPoissonDeviance):
        y = rng.poisson(2.0, size=n).astype(np.float64)  # includes zeros
    elif loss.is_classifier:
        y = rng.integers(0, n_classes, size=n).astype(np.float64)
    else:
        y = rng.normal(size=n)
    eta = 2.0 * rng.normal(size=n if k == 1 else (n, k))
    return y, eta


def target_mean(loss: Loss, n_classes: int, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """What the objective hands to ``initial_eta``: weighted mean or class frequencies."""
    if loss.is_classifier:
        return np.bincount(y.astype(int), weights=w, minlength=n_classes) / w.sum()
    return np.array([np.average(y, weights=w)])


def constant_eta(c: np.ndarray, n: int) -> np.ndarray:
    """The linear predictor that is the constant ``c`` (shape (n_outputs,)) on every row."""
    return np.full(n, c[0]) if c.shape[0] == 1 else np.tile(c, (n, 1))


def columns(eta: np.ndarray) -> int:
    return 1 if eta.ndim == 1 else eta.shape[1]


def shifted(eta: np.ndarray, k: int, h: float) -> np.ndarray:
    """``eta`` with ``h`` added to output ``k`` of every row."""
    out = eta.copy()
    if out.ndim == 1:
        out += h
    else:
        out[:, k] += h
    return out


# -- derivatives against finite differences -----------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradient_matches_finite_differences(case: tuple[Loss, int]) -> None:
    loss, n_classes = case
    y, eta = problem(loss, n_classes, np.random.default_rng(1))
    value, grad = loss.loss_gradient(y, eta)
    assert value.shape == y.shape and grad.shape == eta.shape
    assert value.dtype == grad.dtype == np.float64
    np.testing.assert_array_equal(value, loss.loss(y, eta))

    h = 1e-6
    fd = np.empty_like(eta)
    for k in range(columns(eta)):
        diff = (loss.loss(y, shifted(eta, k, h)) - loss.loss(y, shifted(eta, k, -h))) / (2 * h)
        if eta.ndim == 1:
            fd[:] = diff
        else:
            fd[:, k] = diff
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if c[0].twice_differentiable], ids=case_id)
def test_hessian_matches_finite_differences(case: tuple[Loss, int]) -> None:
    loss, n_classes = case
    y, eta = problem(loss, n_classes, np.random.default_rng(2))
    grad, hess = loss.gradient_hessian(y, eta)
    np.testing.assert_allclose(grad, loss.loss_gradient(y, eta)[1], rtol=1e-12, atol=1e-14)
    n, k = y.shape[0], columns(eta)
    assert hess.dtype == np.float64
    assert hess.shape == ((n,) if eta.ndim == 1 else (n, k, k))

    h = 1e-6
    for j in range(k):
        up = loss.loss_gradient(y, shifted(eta, j, h))[1]
        down = loss.loss_gradient(y, shifted(eta, j, -h))[1]
        fd = (up - down) / (2 * h)
        np.testing.assert_allclose(hess if eta.ndim == 1 else hess[:, :, j], fd, atol=1e-6)
    if eta.ndim == 2:
        np.testing.assert_array_equal(hess, hess.transpose(0, 2, 1))


@pytest.mark.parametrize("loss", [Hinge(), Perceptron(), EpsilonInsensitive()], ids=repr)
def test_non_smooth_losses_have_no_hessian(loss: Loss) -> None:
    assert not loss.differentiable and not loss.twice_differentiable
    y, eta = np.zeros(3), np.zeros(3)
    with pytest.raises(NotImplementedError, match="no Hessian"):
        loss.gradient_hessian(y, eta)


def test_flags() -> None:
    non_smooth = (Hinge, Perceptron, EpsilonInsensitive)
    for loss in ALL_LOSSES:
        assert loss.differentiable is not isinstance(loss, non_smooth)
        assert loss.twice_differentiable is loss.differentiable
        assert loss.is_classifier is (loss not in REGRESSORS)
        assert isinstance(loss, Loss)


# -- values against scikit-learn and hand formulas -------------------------------------------


def test_values_match_scikit_learn_glm_losses() -> None:
    from sklearn._loss import loss as skl

    rng = np.random.default_rng(3)
    n = 200
    eta = 3.0 * rng.normal(size=n)

    y = rng.normal(size=n)
    sk_sq = skl.HalfSquaredError()
    ours_value, ours_grad = HalfSquaredError().loss_gradient(y, eta)
    np.testing.assert_allclose(ours_value, sk_sq.loss(y, eta), rtol=1e-12)
    np.testing.assert_allclose(ours_grad, sk_sq.gradient(y, eta), rtol=1e-12)

    y = rng.integers(0, 2, size=n).astype(np.float64)
    sk_bin = skl.HalfBinomialLoss()
    ours_value, ours_grad = BinomialLogLoss().loss_gradient(y, eta)
    np.testing.assert_allclose(ours_value, sk_bin.loss(y, eta), rtol=1e-10)
    sk_grad, sk_hess = sk_bin.gradient_hessian(y, eta)
    ours_grad, ours_hess = BinomialLogLoss().gradient_hessian(y, eta)
    np.testing.assert_allclose(ours_grad, sk_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ours_hess, sk_hess, rtol=1e-10, atol=1e-15)

    # scikit-learn's Poisson loss drops the y-only term that makes ours the half deviance.
    y = rng.poisson(3.0, size=n).astype(np.float64)
    sk_poisson = skl.HalfPoissonLoss()
    expected = sk_poisson.loss(y, eta) + sk_poisson.constant_to_optimal_zero(y)
    np.testing.assert_allclose(HalfPoissonDeviance().loss(y, eta), expected, rtol=1e-10)
    sk_grad, sk_hess = sk_poisson.gradient_hessian(y, eta)
    ours_grad, ours_hess = HalfPoissonDeviance().gradient_hessian(y, eta)
    np.testing.assert_allclose(ours_grad, sk_grad, rtol=1e-10)
    np.testing.assert_allclose(ours_hess, sk_hess, rtol=1e-10)
    assert HalfPoissonDeviance().loss(y, np.log(np.maximum(y, 1e-300))).max() < 1e-12

    k = 4
    y = rng.integers(0, k, size=n).astype(np.float64)
    eta2 = 3.0 * rng.normal(size=(n, k))
    sk_multi = skl.HalfMultinomialLoss(n_classes=k)
    ours_value, ours_grad = MultinomialLogLoss().loss_gradient(y, eta2)
    np.testing.assert_allclose(ours_value, sk_multi.loss(y, eta2), rtol=1e-10)
    sk_grad, sk_hess_diag = sk_multi.gradient_hessian(y, eta2)
    ours_grad, ours_hess = MultinomialLogLoss().gradient_hessian(y, eta2)
    np.testing.assert_allclose(ours_grad, sk_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(np.diagonal(ours_hess, axis1=1, axis2=2), sk_hess_diag, atol=1e-14)


def test_initial_eta_matches_scikit_learn() -> None:
    from sklearn._loss import loss as skl

    rng = np.random.default_rng(4)
    w = rng.uniform(0.5, 2.0, size=300)
    y = rng.integers(0, 4, size=300).astype(np.float64)
    freq = np.bincount(y.astype(int), weights=w) / w.sum()
    np.testing.assert_allclose(
        MultinomialLogLoss().initial_eta(freq),
        skl.HalfMultinomialLoss(n_classes=4).fit_intercept_only(y, sample_weight=w),
        rtol=1e-10,
    )
    yb = (y > 1).astype(np.float64)
    freq_b = np.bincount(yb.astype(int), weights=w) / w.sum()
    np.testing.assert_allclose(
        BinomialLogLoss().initial_eta(freq_b),
        [skl.HalfBinomialLoss().fit_intercept_only(yb, sample_weight=w)],
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        HalfPoissonDeviance().initial_eta(np.array([np.average(y, weights=w)])),
        [skl.HalfPoissonLoss().fit_intercept_only(y, sample_weight=w)],
        rtol=1e-10,
    )


# Scalar reference formulas, written from scikit-learn's SGD definitions. Arguments: the
# prediction p (= eta) and the target (t in {-1, +1} for classifiers); returns (loss, dloss/dp).
def ref_hinge(thr: float) -> Callable[[float, float], tuple[float, float]]:
    return lambda p, t: (max(0.0, thr - p * t), -t if p * t <= thr else 0.0)


def ref_squared_hinge(thr: float) -> Callable[[float, float], tuple[float, float]]:
    return lambda p, t: (max(0.0, thr - p * t) ** 2, -2.0 * t * max(0.0, thr - p * t))


def ref_modified_huber(p: float, t: float) -> tuple[float, float]:
    z = p * t
    if z >= 1.0:
        return 0.0, 0.0
    if z >= -1.0:
        return (1.0 - z) ** 2, -2.0 * (1.0 - z) * t
    return -4.0 * z, -4.0 * t


def ref_log(p: float, t: float) -> tuple[float, float]:
    z = p * t
    return math.log1p(math.exp(-z)), -t / (1.0 + math.exp(z))


def ref_huber(eps: float) -> Callable[[float, float], tuple[float, float]]:
    def f(p: float, y: float) -> tuple[float, float]:
        r = p - y
        if abs(r) <= eps:
            return 0.5 * r * r, r
        return eps * abs(r) - 0.5 * eps * eps, math.copysign(eps, r)

    return f


def ref_epsilon_insensitive(eps: float) -> Callable[[float, float], tuple[float, float]]:
    return lambda p, y: (
        max(0.0, abs(y - p) - eps),
        0.0 if abs(y - p) <= eps else math.copysign(1.0, p - y),
    )


def ref_squared_epsilon_insensitive(eps: float) -> Callable[[float, float], tuple[float, float]]:
    return lambda p, y: (
        max(0.0, abs(y - p) - eps) ** 2,
        2.0 * math.copysign(max(0.0, abs(y - p) - eps), p - y),
    )


HAND: list[tuple[Loss, Callable[[float, float], tuple[float, float]]]] = [
    (Hinge(), ref_hinge(1.0)),
    (Hinge(threshold=0.5), ref_hinge(0.5)),
    (Perceptron(), ref_hinge(0.0)),
    (SquaredHinge(), ref_squared_hinge(1.0)),
    (SquaredHinge(threshold=2.0), ref_squared_hinge(2.0)),
    (ModifiedHuber(), ref_modified_huber),
    (LogMarginLoss(), ref_log),
    (Huber(), ref_huber(0.1)),
    (Huber(epsilon=1.5), ref_huber(1.5)),
    (EpsilonInsensitive(), ref_epsilon_insensitive(0.1)),
    (SquaredEpsilonInsensitive(epsilon=0.3), ref_squared_epsilon_insensitive(0.3)),
]


HAND_CASES = [
    (loss, ref, n_classes)
    for loss, ref in HAND
    for n_classes in ((2, 4) if loss.is_classifier else (0,))
]


@pytest.mark.parametrize(
    "loss, ref, n_classes", HAND_CASES, ids=[f"{c[0]!r}-K{c[2]}" for c in HAND_CASES]
)
def test_sgd_losses_match_hand_formulas(
    loss: Loss, ref: Callable[[float, float], tuple[float, float]], n_classes: int
) -> None:
    rng = np.random.default_rng(5)
    y, eta = problem(loss, n_classes, rng, n=80)
    # Include the kinks, where the subgradient convention matters.
    kinks = [-1.0, 0.0, 1.0, 0.5, 2.0, -2.0] if loss.is_classifier else [0.1, -0.1, 0.0]
    eta[: len(kinks)] = np.asarray(kinks)[:, None] if eta.ndim == 2 else kinks
    if not loss.is_classifier:
        y[: len(kinks)] = 0.0
    value, grad = loss.loss_gradient(y, eta)
    eta2 = eta[:, None] if eta.ndim == 1 else eta
    grad2 = grad[:, None] if grad.ndim == 1 else grad
    for i in range(y.shape[0]):
        total = 0.0
        for k in range(eta2.shape[1]):
            if not loss.is_classifier:
                target = y[i]
            elif eta.ndim == 1:
                target = 2.0 * y[i] - 1.0
            else:
                target = 1.0 if y[i] == k else -1.0
            ref_value, ref_grad = ref(eta2[i, k], target)
            total += ref_value
            assert grad2[i, k] == pytest.approx(ref_grad, rel=1e-12, abs=1e-15), (i, k)
        assert value[i] == pytest.approx(total, rel=1e-12, abs=1e-15), i


def test_sgd_losses_match_scikit_learn_sgd() -> None:
    sgd = pytest.importorskip("sklearn.linear_model._sgd_fast")
    pairs = [
        (Hinge(), "Hinge", (1.0,)),
        (Perceptron(), "Hinge", (0.0,)),
        (SquaredHinge(), "SquaredHinge", (1.0,)),
        (ModifiedHuber(), "ModifiedHuber", ()),
        (EpsilonInsensitive(epsilon=0.2), "EpsilonInsensitive", (0.2,)),
        (SquaredEpsilonInsensitive(epsilon=0.2), "SquaredEpsilonInsensitive", (0.2,)),
    ]
    grid = np.array([-3.0, -1.0, -0.7, -0.2, 0.0, 0.2, 0.5, 1.0, 1.3, 4.0])
    for ours, sk_name, args in pairs:
        sk = getattr(sgd, sk_name, None)
        if sk is None or not hasattr(sk(*args), "py_loss"):
            pytest.skip(f"scikit-learn's private SGD {sk_name} is not reachable")
        sk_loss = sk(*args)
        for target in (0.0, 1.0) if ours.is_classifier else (0.0, 0.4):
            y = np.full(grid.shape, target)
            value, grad = ours.loss_gradient(y, grid)
            sk_target = 2.0 * target - 1.0 if ours.is_classifier else target
            expected_value = [sk_loss.py_loss(p, sk_target) for p in grid]
            expected_grad = [sk_loss.py_dloss(p, sk_target) for p in grid]
            np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


def test_log_margin_equals_binomial_for_two_classes() -> None:
    y, eta = problem(BinomialLogLoss(), 2, np.random.default_rng(6))
    for a, b in zip(LogMarginLoss().loss_gradient(y, eta), BinomialLogLoss().loss_gradient(y, eta)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-16)
    freq = np.array([0.3, 0.7])
    np.testing.assert_allclose(
        LogMarginLoss().initial_eta(freq), BinomialLogLoss().initial_eta(freq)
    )


def test_one_vs_rest_is_a_sum_of_binary_problems() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, size=40).astype(np.float64)
    eta = rng.normal(size=(40, 3))
    for loss in MARGIN:
        value, grad = loss.loss_gradient(y, eta)
        total = np.zeros(40)
        for k in range(3):
            v_k, g_k = loss.loss_gradient((y == k).astype(np.float64), eta[:, k])
            total += v_k
            np.testing.assert_allclose(grad[:, k], g_k, rtol=1e-13)
        np.testing.assert_allclose(value, total, rtol=1e-13)


# -- numerical stability ---------------------------------------------------------------------


EXTREMES = np.array([-1e5, -1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0, 1e5])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_extreme_eta_is_finite_and_silent(case: tuple[Loss, int]) -> None:
    loss, n_classes = case
    k = loss.n_outputs(n_classes)
    m = EXTREMES.shape[0]
    if k == 1:
        eta = np.repeat(EXTREMES, 3)
    else:  # every extreme in every column, with the others spread as well
        eta = np.stack([np.roll(np.repeat(EXTREMES, 3), j * 5) for j in range(k)], axis=1)
    if loss.is_classifier:
        y = np.tile(np.arange(3), m).astype(np.float64) % n_classes
    elif isinstance(loss, HalfPoissonDeviance):
        y = np.tile([0.0, 1.0, 7.0], m)
    else:
        y = np.tile([-2.0, 0.0, 3.0], m)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        results = [loss.loss(y, eta), *loss.loss_gradient(y, eta)]
        if loss.twice_differentiable:
            results += list(loss.gradient_hessian(y, eta))
    for result in results:
        assert np.all(np.isfinite(result))
    assert np.all(results[0] >= 0.0)


def test_tails_keep_relative_accuracy() -> None:
    eta = np.array([40.0, -40.0, 700.0, -700.0])
    ones, zeros = np.ones(4), np.zeros(4)
    # Correctly classified: loss = log1p(exp(-|eta|)) ~ exp(-|eta|), not 0.
    expected = np.log1p(np.exp(-np.abs(eta)))
    np.testing.assert_allclose(BinomialLogLoss().loss(ones, np.abs(eta)), expected, rtol=1e-14)
    np.testing.assert_allclose(BinomialLogLoss().loss(zeros, -np.abs(eta)), expected, rtol=1e-14)
    np.testing.assert_allclose(LogMarginLoss().loss(ones, np.abs(eta)), expected, rtol=1e-14)
    grad = BinomialLogLoss().loss_gradient(ones, np.abs(eta))[1]
    np.testing.assert_allclose(grad, -np.exp(-np.abs(eta)) / (1 + np.exp(-np.abs(eta))), rtol=1e-14)
    # Misclassified: the loss grows like |eta|.
    np.testing.assert_allclose(BinomialLogLoss().loss(zeros, np.abs(eta)), np.abs(eta), rtol=1e-14)
    # Softmax: the winning class costs exp(-gap), the losing one the gap.
    eta2 = np.array([[1e5, 0.0, -1e5], [1e5, 0.0, -1e5]])
    value = MultinomialLogLoss().loss(np.array([0.0, 2.0]), eta2)
    np.testing.assert_allclose(value, [0.0, 2e5], rtol=1e-14)


def test_huge_eta_of_linear_growth_losses_is_finite() -> None:
    """Losses that grow linearly stay finite however large the margin or residual."""
    eta = np.array([-1e200, 1e200])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        linear: list[Loss] = [
            Huber(),
            EpsilonInsensitive(),
            BinomialLogLoss(),
            LogMarginLoss(),
            Hinge(),
            Perceptron(),
            ModifiedHuber(),
        ]
        for loss in linear:
            for y in (np.zeros(2), np.ones(2)):
                for result in loss.loss_gradient(y, eta):
                    assert np.all(np.isfinite(result)), loss
        value = MultinomialLogLoss().loss(np.zeros(2), np.stack([eta, -eta], axis=1))
        np.testing.assert_allclose(value, [2e200, 0.0])


def test_poisson_caps_its_exponent() -> None:
    y = np.array([0.0, 5.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        value, grad = HalfPoissonDeviance().loss_gradient(y, np.array([1e5, 1e5]))
    assert np.all(np.isfinite(value)) and np.all(value > 1e300)
    assert np.all(grad > 1e300)  # still points back down


def test_float32_eta_gives_float64_results() -> None:
    rng = np.random.default_rng(8)
    for loss, n_classes in CASES:
        y, eta = problem(loss, n_classes, rng)
        eta32 = eta.astype(np.float32)
        for a, b in zip(loss.loss_gradient(y, eta32), loss.loss_gradient(y, eta32.astype(float))):
            assert a.dtype == np.float64
            np.testing.assert_array_equal(a, b)


# -- best constant predictor -----------------------------------------------------------------


EXACT_START = [
    c for c in CASES if not isinstance(c[0], Huber | EpsilonInsensitive | SquaredEpsilonInsensitive)
]


@pytest.mark.parametrize("case", EXACT_START, ids=case_id)
def test_initial_eta_minimises_the_mean_loss_of_constants(case: tuple[Loss, int]) -> None:
    loss, n_classes = case
    rng = np.random.default_rng(9)
    y, _ = problem(loss, n_classes, rng, n=300)
    w = np.asarray(rng.uniform(0.2, 3.0, size=y.shape[0]))

    def mean_loss(c: np.ndarray) -> float:
        return float(
            np.average(loss.loss(y, constant_eta(np.atleast_1d(c), y.shape[0])), weights=w)
        )

    start = loss.initial_eta(target_mean(loss, n_classes, y, w))
    assert start.shape == (loss.n_outputs(n_classes),) and start.dtype == np.float64
    k = start.shape[0]
    best = minimize(
        mean_loss,
        np.zeros(k),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
    )
    assert mean_loss(start) <= best.fun + 1e-9
    # ... and it is a local minimum in every coordinate direction.
    for j in range(k):
        for step in (1e-3, -1e-3):
            moved = start.copy()
            moved[j] += step
            assert mean_loss(start) <= mean_loss(moved) + 1e-12


@pytest.mark.parametrize(
    "loss", [Huber(), EpsilonInsensitive(), SquaredEpsilonInsensitive()], ids=repr
)
def test_robust_regressors_start_at_the_mean(loss: Loss) -> None:
    np.testing.assert_array_equal(loss.initial_eta(np.array([2.5])), [2.5])


def test_initial_eta_of_absent_classes_is_finite() -> None:
    freq = np.array([0.0, 1.0, 0.0])
    for loss in [MultinomialLogLoss(), *MARGIN]:
        assert np.all(np.isfinite(loss.initial_eta(freq)))
    assert np.isfinite(BinomialLogLoss().initial_eta(np.array([1.0, 0.0]))).all()
    assert np.isfinite(HalfPoissonDeviance().initial_eta(np.array([0.0]))).all()
    np.testing.assert_allclose(MultinomialLogLoss().initial_eta(freq).sum(), 0.0, atol=1e-12)


def test_initial_eta_checks_its_input() -> None:
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        BinomialLogLoss().initial_eta(np.array([0.4, 0.3, 0.3]))
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        HalfSquaredError().initial_eta(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="2 class"):
        Hinge().initial_eta(np.array([1.0]))


# -- curvature -------------------------------------------------------------------------------


def test_curvature_values() -> None:
    mean = np.array([3.0])
    assert HalfSquaredError().curvature(mean) == 1.0
    assert BinomialLogLoss().curvature(np.array([0.5, 0.5])) == 0.25
    assert LogMarginLoss().curvature(np.array([0.5, 0.5])) == 0.25
    assert MultinomialLogLoss().curvature(np.full(3, 1 / 3)) == 0.5
    assert HalfPoissonDeviance().curvature(mean) == 3.0
    assert HalfPoissonDeviance().curvature(np.array([0.0])) == 1e-12
    for loss in ALL_LOSSES:
        freq = np.array([0.5, 0.5]) if loss.is_classifier else mean
        assert isinstance(loss.curvature(freq), float) and loss.curvature(freq) > 0.0


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c[0].twice_differentiable and not isinstance(c[0], HalfPoissonDeviance)],
    ids=case_id,
)
def test_curvature_bounds_the_hessian(case: tuple[Loss, int]) -> None:
    loss, n_classes = case
    y, eta = problem(loss, n_classes, np.random.default_rng(10), n=500)
    hess = loss.gradient_hessian(y, eta)[1]
    largest = hess if hess.ndim == 1 else np.linalg.eigvalsh(hess)
    freq = np.full(max(n_classes, 1), 1.0 / max(n_classes, 1))
    assert largest.max() <= loss.curvature(freq) + 1e-12


# -- plumbing --------------------------------------------------------------------------------


def test_n_outputs_rules() -> None:
    for loss in REGRESSORS:
        assert loss.n_outputs(0) == 1
    assert BinomialLogLoss().n_outputs(2) == 1
    with pytest.raises(ValueError, match="MultinomialLogLoss"):
        BinomialLogLoss().n_outputs(3)
    assert MultinomialLogLoss().n_outputs(2) == 2
    assert MultinomialLogLoss().n_outputs(5) == 5
    for loss in MARGIN:
        assert loss.n_outputs(2) == 1
        assert loss.n_outputs(3) == 3
        assert loss.n_outputs(7) == 7
    classifiers: list[Loss] = [BinomialLogLoss(), MultinomialLogLoss(), *MARGIN]
    for loss in classifiers:
        with pytest.raises(ValueError, match="at least 2 classes"):
            loss.n_outputs(1)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="dimension"):
        HalfSquaredError().loss(np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dimension"):
        MultinomialLogLoss().loss(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="does not match"):
        Hinge().loss(np.zeros(4), np.zeros((3, 3)))


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_pickle_round_trip(loss: Loss) -> None:
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and hash(clone) == hash(loss) and repr(clone) == repr(loss)
    n_classes = 0 if not loss.is_classifier else 2 if isinstance(loss, BinomialLogLoss) else 3
    y, eta = problem(loss, n_classes, np.random.default_rng(11))
    for a, b in zip(clone.loss_gradient(y, eta), loss.loss_gradient(y, eta)):
        np.testing.assert_array_equal(a, b)


def test_losses_are_immutable() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        Huber().epsilon = 1.0  # type: ignore[misc]
    assert Hinge(threshold=0.0) != Perceptron()
    assert Huber(epsilon=0.2) == Huber(epsilon=0.2)


def test_get_loss() -> None:
    for name in LOSS_NAMES:
        loss = get_loss(name)
        assert loss.name == name
        assert isinstance(loss, Loss)
    assert isinstance(get_loss("log_loss"), MarginLoss)  # SGDClassifier's one-vs-rest meaning
    assert get_loss("huber", epsilon=0.5) == Huber(epsilon=0.5)
    assert get_loss("hinge", threshold=2.0) == Hinge(threshold=2.0)
    assert get_loss("epsilon_insensitive", epsilon=0.0) == EpsilonInsensitive(epsilon=0.0)


def test_get_loss_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown loss 'absolute'.*'squared_error'.*'poisson'"):
        get_loss("absolute")
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="takes no parameters; got 'epsilon'"):
        get_loss("squared_error", epsilon=0.1)
    with pytest.raises(ValueError, match="takes 'epsilon'; got 'delta'"):
        get_loss("huber", delta=0.1)
    with pytest.raises(ValueError, match="takes no parameters"):
        get_loss("perceptron", threshold=1.0)
    for bad in (-0.1, np.inf, np.nan, "0.1", True):
        with pytest.raises(ValueError, match="epsilon"):
            get_loss("huber", epsilon=bad)
    with pytest.raises(ValueError, match="threshold"):
        Hinge(threshold=-1.0)


def test_poisson_is_a_half_deviance() -> None:
    y = np.array([0.0, 1.0, 4.0, 10.0])
    eta = np.array([-1.0, 0.5, 1.0, 3.0])
    mu = np.exp(eta)
    expected = mu - y + xlogy(y, y / mu)  # half of 2 (y log(y/mu) - y + mu)
    np.testing.assert_allclose(HalfPoissonDeviance().loss(y, eta), expected, rtol=1e-13)
