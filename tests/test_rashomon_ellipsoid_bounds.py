"""Prediction and partial-dependence bounds, baselines, kernels and the utility curve of the
ellipsoid Rashomon sets, against closed forms, the extreme models themselves and sampling."""

import numpy as np
import pytest

from assay.rashomon import AdditiveRashomon, KernelRidgeRashomon, LinearRashomon
from assay.rashomon.utility import plot_utility


def _data(seed, n=300, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2, d) + rng.normal(size=d)
    y = X @ np.linspace(1.5, -0.3, d) + 0.4 * np.sin(2 * X[:, 0]) + 0.5 * rng.normal(size=n)
    return X, y


def _sample(R, eps, n, rng):
    u = rng.normal(size=(n, R.theta_.size))
    u *= np.sqrt(eps) * rng.uniform(0, 1, (n, 1)) ** 0.2 / np.linalg.norm(u, axis=1, keepdims=True)
    return R.theta_ + u @ R._whiten.T


def test_linear_prediction_bounds_are_reached_by_models_exactly_at_the_tolerance():
    X, y = _data(0)
    R = LinearRashomon().fit(X, y)
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    lo, hi = R.predict(X[:10], eps)
    assert np.allclose(R.predict(X[:10]), (lo + hi) / 2)
    D = np.column_stack([np.ones(len(X)), (X - R.mean_) / R.scale_])
    A_inv = R._whiten @ R._whiten.T
    for r in range(10):
        g = D[r]
        step = np.sqrt(eps / (g @ A_inv @ g)) * (A_inv @ g)
        for theta, bound in ((R.theta_ + step, hi[r]), (R.theta_ - step, lo[r])):
            assert np.mean((D @ theta - y) ** 2) == pytest.approx(R.loss_ + eps, rel=1e-9)  # on the boundary
            assert D[r] @ theta == pytest.approx(bound, rel=1e-9, abs=1e-9)  # attains the bound
    thetas = _sample(R, eps, 2000, np.random.default_rng(1))
    preds = D[:10] @ thetas.T
    assert np.all(preds >= lo[:, None] - 1e-9) and np.all(preds <= hi[:, None] + 1e-9)


def test_additive_partial_dependence_bounds_hold_for_sampled_models():
    X, y = _data(2)
    R = AdditiveRashomon(n_knots=5).fit(X, y)
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 7)
    lo, hi = R.partial_dependence_bounds(0, grid, eps, X=X[:50])
    thetas = _sample(R, eps, 1000, np.random.default_rng(3))
    D, A_inv = R._predict_maps(X), R._whiten @ R._whiten.T
    for k, v in enumerate(grid):
        Z = X[:50].copy()
        Z[:, 0] = v
        g = R._predict_maps(Z).mean(axis=0)
        pd = thetas @ g  # each sampled model's partial dependence
        assert np.all(pd >= lo[k] - 1e-9) and np.all(pd <= hi[k] + 1e-9)
        # the model reaching the upper bound: training MSE exactly L* + eps
        top = R.theta_ + np.sqrt(eps / (g @ A_inv @ g)) * (A_inv @ g)
        assert np.mean((D @ top - y) ** 2) == pytest.approx(R.loss_ + eps, rel=1e-8)
        assert top @ g == pytest.approx(hi[k], rel=1e-9, abs=1e-9)
    best = np.array([R.predict(np.column_stack([np.full(50, v), X[:50, 1:]])).mean() for v in grid])
    assert np.allclose(best, (lo + hi) / 2)
    assert np.allclose(R.partial_dependence_bounds("x0", grid, eps, X=X[:50])[0], lo)


@pytest.mark.parametrize("cls", [LinearRashomon, AdditiveRashomon])
def test_background_sets_the_attribution_baseline(cls):
    X, y = _data(4)
    background = X[:40] + 0.7
    R = cls().fit(X, y, background=background)
    phi = R.attributions(X[100:110])
    # interventional SHAP of an additive model: the attributions add up to h(x) - mean h(background)
    assert np.allclose(phi.sum(axis=1), R.predict(X[100:110]) - R.predict(background).mean(), atol=1e-9)
    default = cls().fit(X, y)
    assert np.allclose(
        default.attributions(X[100:110]).sum(axis=1), default.predict(X[100:110]) - default.predict(X).mean(), atol=1e-9
    )
    assert np.allclose(R.predict(X[:5]), default.predict(X[:5]))  # the background changes no model
    with pytest.raises(ValueError, match="background: expected a row"):
        cls().fit(X, y, background=X[:3, :2])


def test_kernel_ridge_baselines_poly_and_user_kernels():
    from sklearn.kernel_ridge import KernelRidge

    X, y = _data(5, n=120, d=3)
    z0 = X[7]
    R = KernelRidgeRashomon(lam=1e-2, kernel="poly", degree=3, gamma=0.5, coef0=1.0).fit(X, y, background=z0)
    Z = (X - R.mean_) / R.scale_
    ref = KernelRidge(alpha=1e-2 * len(X), kernel="poly", degree=3, gamma=0.5, coef0=1.0).fit(Z, y - y.mean())
    assert np.allclose(R.predict(X[:10]), ref.predict(Z[:10]) + y.mean(), atol=1e-6)
    phi = R.attributions(X[:10])
    assert np.allclose(phi.sum(axis=1), R.predict(X[:10]) - R.predict(z0), atol=1e-8)  # completeness
    two = KernelRidgeRashomon(lam=1e-2).fit(X, y, background=X[:2])
    assert np.allclose(two.attributions(X[:5]).sum(axis=1), two.predict(X[:5]) - two.predict(X[:2]).mean(), atol=1e-8)

    def rbf(A, B):
        return np.exp(-np.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1) / 3)

    builtin = KernelRidgeRashomon(lam=1e-2).fit(X, y)  # gamma = 1 / d = 1 / 3
    numeric = KernelRidgeRashomon(lam=1e-2, kernel=rbf).fit(X, y)  # gradient by differences
    assert np.allclose(numeric.predict(X[:5]), builtin.predict(X[:5]), atol=1e-10)
    assert np.allclose(numeric.attributions(X[:5]), builtin.attributions(X[:5]), atol=1e-6)

    def rbf_grad(A, B):
        return -2 / 3 * (A[:, None, :] - B[None, :, :]) * rbf(A, B)[:, :, None]

    exact = KernelRidgeRashomon(lam=1e-2, kernel=rbf, kernel_gradient=rbf_grad).fit(X, y)
    assert np.allclose(exact.attributions(X[:5]), builtin.attributions(X[:5]), atol=1e-10)
    eps = 0.05
    lo, hi = exact.predict(X[:5], eps)
    thetas = _sample(exact, eps, 500, np.random.default_rng(6))
    preds = exact._predict_maps(X[:5]) @ thetas.T + exact._offset
    assert np.all(preds >= lo[:, None] - 1e-9) and np.all(preds <= hi[:, None] + 1e-9)
    with pytest.raises(ValueError, match="positive semi-definite"):
        KernelRidgeRashomon(kernel=lambda A, B: -A @ B.T).fit(X, y)
    with pytest.raises(ValueError, match="kernel: expected"):
        KernelRidgeRashomon(kernel="laplace")
    with pytest.raises(ValueError, match="degree: expected"):
        KernelRidgeRashomon(kernel="poly", degree=0)


def test_linear_utility_counts_the_statements_of_the_critical_epsilons(tmp_path):
    X, y = _data(8, d=5)
    R = LinearRashomon().fit(X, y)
    eps_values = np.geomspace(1e-4, 1.0, 6)
    u = R.utility(X[:6], eps_values, require_gap=False)
    d = 5
    for r in range(6):
        crit = R.critical_epsilons(X[r])
        for k, eps in enumerate(eps_values):
            count = np.sum(crit["sign"] > eps) + np.sum(crit["order"] > eps)
            assert u[r, k] == pytest.approx(count / (d * (d + 1) / 2))
    assert np.all(np.diff(u, axis=1) <= 1e-12)
    gap = R.utility(X[:6], eps_values)
    assert np.all(gap <= u + 1e-12)
    pytest.importorskip("matplotlib")
    R.plot_utility(X[:6], eps_values, tmp_path / "utility.png")
    plot_utility(eps_values, u, tmp_path / "utility.svg")
    assert (tmp_path / "utility.png").stat().st_size > 0 and (tmp_path / "utility.svg").stat().st_size > 0
    with pytest.raises(ValueError, match="eps_values"):
        R.utility(X[:2], [])


def test_background_frame_is_matched_by_name():
    pd = pytest.importorskip("pandas")
    X, y = _data(9)
    frame = pd.DataFrame(X, columns=["p", "q", "r", "s"])
    R = LinearRashomon().fit(frame, y, background=frame[["s", "r", "q", "p"]][:30])
    assert np.allclose(R.baseline_, X[:30].mean(axis=0))
    with pytest.raises(ValueError, match="background"):
        LinearRashomon().fit(frame, y, background=frame[["p", "q", "r"]][:30])
