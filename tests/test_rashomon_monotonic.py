"""MonotonicRashomon: the fit and every linear bound against enumeration of the active sign
constraints (the exact optimum of a linear or quadratic objective over an ellipsoid cut by
coordinate half-spaces lies on one face, the minimiser over that face's slice)."""

import itertools

import numpy as np
import pytest

from assay.rashomon import MonotonicRashomon


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(21)
    X = rng.uniform(-2, 2, size=(250, 2))
    # feature 0 increasing except for a dip the constraint forbids; feature 1 decreasing
    y = np.where(X[:, 0] < 0.5, X[:, 0], 0.5 - 0.3 * (X[:, 0] - 0.5)) - 0.8 * X[:, 1] + 0.3 * rng.normal(size=250)
    R = MonotonicRashomon([1, -1], n_knots=4).fit(X, y, feature_names=["up", "down"])
    return R, X, y


def _faces(R):
    """Every subset of constrained coordinates set to 0."""
    k = R._constrained
    return [list(S) for size in range(len(k) + 1) for S in itertools.combinations(range(len(k)), size)]


def _feasible(R, theta, tol=1e-9):
    return np.all(R._signs * theta[R._constrained] >= -tol)


def _brute_min(R, g, eps):
    """min g^T theta over R(eps) by enumerating faces of the cone."""
    A = np.linalg.inv(R._whiten @ R._whiten.T)
    c, r2 = R._ols, R._radius2(eps)
    best = np.inf
    for S in _faces(R):
        fixed = R._constrained[S]
        free = np.setdiff1d(np.arange(c.size), fixed)
        Aff = A[np.ix_(free, free)]
        z0 = np.linalg.solve(Aff, (A @ c)[free])  # centre of the slice
        rad = r2 - c @ A @ c + z0 @ Aff @ z0
        if rad < 0:
            continue
        gf = g[free]
        step = np.linalg.solve(Aff, gf)
        theta = np.zeros_like(c)
        theta[free] = z0 - np.sqrt(rad / (gf @ step)) * step if gf @ step > 0 else z0
        if _feasible(R, theta):
            best = min(best, g @ theta)
    return best


def test_best_model_is_the_constrained_least_squares_optimum(fitted):
    R, X, y = fitted
    D = R._predict_maps(X)
    assert _feasible(R, R.theta_)
    best = np.inf
    for S in _faces(R):  # least squares on each face
        keep = np.setdiff1d(np.arange(D.shape[1]), R._constrained[S])
        theta = np.zeros(D.shape[1])
        theta[keep] = np.linalg.lstsq(D[:, keep], y, rcond=None)[0]
        if _feasible(R, theta):
            best = min(best, np.mean((D @ theta - y) ** 2))
    assert R.loss_ == pytest.approx(best, rel=1e-9)
    assert R.loss_ > R._ols_loss  # the constraint binds here


def test_linear_bounds_equal_the_face_enumeration(fitted):
    R, X, y = fitted
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    lo, hi = R.predict(X[:6], eps)
    P = R._predict_maps(X[:6])
    for r in range(6):
        assert lo[r] == pytest.approx(_brute_min(R, P[r], eps), rel=1e-6, abs=1e-6)
        assert hi[r] == pytest.approx(-_brute_min(R, -P[r], eps), rel=1e-6, abs=1e-6)
    alo, ahi = R.attribution_bounds(X[:3], eps)
    G = R._maps(X[:3])
    for r in range(3):
        for i in range(2):
            assert alo[r, i] == pytest.approx(_brute_min(R, G[r, i], eps), rel=1e-6, abs=1e-6)
    # a monotone feature's attribution keeps the sign of x - baseline: never ambiguous far from it
    grid = np.array([-1.5, 0.0, 1.5])
    plo, phi = R.partial_dependence_bounds("up", grid, eps)
    assert np.all(np.diff(plo) >= -1e-9) and np.all(np.diff(phi) >= -1e-9)


def test_sampled_members_stay_within_bounds_and_orders(fitted):
    R, X, y = fitted
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    rng = np.random.default_rng(4)
    u = rng.normal(size=(20000, R.theta_.size))
    u *= np.sqrt(R._radius2(eps)) * rng.uniform(0, 1, (len(u), 1)) ** 0.3 / np.linalg.norm(u, axis=1, keepdims=True)
    thetas = R._ols + u @ R._whiten.T
    thetas = thetas[np.all(R._signs * thetas[:, R._constrained] >= 0, axis=1)]  # members of R(eps)
    assert len(thetas) > 20
    D = R._predict_maps(X)
    assert np.all(np.mean((thetas @ D.T - y) ** 2, axis=1) <= R.loss_ + eps + 1e-9)
    lo, hi = R.predict(X[:10], eps)
    preds = thetas @ R._predict_maps(X[:10]).T
    assert np.all(preds >= lo - 1e-7) and np.all(preds <= hi + 1e-7)
    for r in range(4):
        po = R.local_order(X[r], eps)
        phis = thetas @ R._maps(X[r : r + 1])[0].T
        assert all(po.consistent_with(np.abs(p)) for p in phis)
    imp = np.sqrt(np.mean(np.einsum("rip,sp->sri", R._global_maps, thetas) ** 2, axis=1))
    ilo, ihi = R.importance_bounds(eps)
    assert np.all(imp >= ilo - 1e-9) and np.all(imp <= ihi + 1e-9)
    u = R.utility(X[:3], [eps, 2 * eps])
    assert u.shape == (3, 2)


def test_without_constraints_it_is_the_piecewise_linear_ellipsoid(fitted):
    R, X, y = fitted
    F = MonotonicRashomon([0, 0], n_knots=4).fit(X, y)
    assert F.loss_ == pytest.approx(F._ols_loss) and F.loss_ < R.loss_
    eps = 0.01
    lo, hi = F.predict(X[:4], eps)
    P, B = F._predict_maps(X[:4]), F._whiten
    half = np.sqrt(eps * np.sum((P @ B) ** 2, axis=1))
    assert np.allclose(lo, P @ F.theta_ - half) and np.allclose(hi, P @ F.theta_ + half)


def test_monotonic_input_errors(fitted):
    R, X, y = fitted
    with pytest.raises(ValueError, match="monotonicity: expected"):
        MonotonicRashomon([2, 0])
    with pytest.raises(ValueError, match="X: expected 3 features"):
        MonotonicRashomon([1, 0, 1]).fit(X, y)
    with pytest.raises(ValueError, match="knots: feature 0"):
        MonotonicRashomon([1, 0], knots=[[1.0, 0.0], [0.0, 1.0]]).fit(X, y)
    with pytest.raises(NotImplementedError, match="critical_epsilons"):
        R.critical_epsilons(X[0])
