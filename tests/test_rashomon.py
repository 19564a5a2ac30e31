"""Rashomon sets and partial orders: known answers, sampling oracles, brute force over sub-forests."""

import itertools

import numpy as np
import pytest

import assay
from assay.rashomon import AdditiveRashomon, ForestRashomon, KernelRidgeRashomon, LinearRashomon, PartialOrder
from assay.rashomon.quadratic import min_quadratic_on_ball, quadratic_range_on_ellipsoid


def _data(rng, n=400, d=6, noise=1.0):
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, d) + rng.normal(size=d)
    y = X @ np.linspace(2, -0.2, d) + 0.3 * np.sin(X[:, 0]) + noise * rng.normal(size=n)
    return X, y


def _sample_boundary(R, eps, n, rng):
    """Parameters on the boundary of R(eps) (and a few inside)."""
    u = rng.normal(size=(n, R.theta_.size))
    u *= np.sqrt(eps) / np.linalg.norm(u, axis=1, keepdims=True)
    u[: n // 10] *= rng.uniform(0, 1, (n // 10, 1))
    return R.theta_ + u @ R._whiten.T


# ---------------------------------------------------------------------------- the quadratic solver


@pytest.mark.parametrize("dim", [2, 3])
def test_trust_region_solver_against_dense_sampling(dim):
    rng = np.random.default_rng(dim)
    for case in range(60):
        lam = rng.normal(size=dim) * 2
        g = rng.normal(size=dim)
        if case % 3 == 0:
            g[np.argmin(lam)] = 0.0  # the hard case when -lam_min dominates
        if case % 7 == 0:
            lam = np.abs(lam)  # convex: interior minimiser possible
        r = float(rng.uniform(0.1, 2))
        pts = rng.normal(size=(200_000, dim))
        pts *= (r * rng.uniform(0, 1, (len(pts), 1)) ** (1 / dim)) / np.linalg.norm(pts, axis=1, keepdims=True)
        edge = rng.normal(size=(200_000, dim))
        edge *= r / np.linalg.norm(edge, axis=1, keepdims=True)
        pts = np.concatenate([pts, edge])
        sampled = np.min((pts**2 * lam).sum(1) + 2 * pts @ g)
        exact = min_quadratic_on_ball(lam, g, r)
        assert exact <= sampled + 1e-9
        assert sampled - exact <= 2e-3 * max(1.0, abs(exact)), (lam, g, r)


def test_low_rank_quadratic_path_matches_full_rank():
    rng = np.random.default_rng(3)
    p = 30
    M = rng.normal(size=(p, p))
    A = M @ M.T / p + np.eye(p)
    s, U = np.linalg.eigh(A)
    B = U / np.sqrt(s)
    c = rng.normal(size=p)
    P = rng.normal(size=(4, p))  # rank 4 < p: the QR path
    D = np.array([1.0, 2.0, -1.0, -0.5])
    low = quadratic_range_on_ellipsoid(c, B, 0.7, P, D)
    full = quadratic_range_on_ellipsoid(c, B, 0.7, np.vstack([P, np.zeros((p, p))]), np.concatenate([D, np.ones(p)]))
    assert low == pytest.approx(full, rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------------- linear models


def test_orthonormal_design_has_closed_form_bounds():
    rng = np.random.default_rng(0)
    n, d = 200, 4
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), rng.normal(size=(n, d))]))
    Z = Q[:, 1:] * np.sqrt(n)  # mean 0, Z^T Z / n = I
    X = Z * np.array([1.0, 2.0, 0.5, 3.0]) + 5.0
    y = Z @ np.array([1.0, -0.5, 0.2, 0.0]) + 0.1 * rng.normal(size=n)
    R = LinearRashomon().fit(X, y)
    assert np.allclose(R._whiten @ R._whiten.T, np.eye(d + 1), atol=1e-8)  # A = I
    eps = 0.04
    lo, hi = R.coef_bounds(eps)
    w = R.theta_[1:]
    assert np.allclose(lo * R.scale_, w - np.sqrt(eps)) and np.allclose(hi * R.scale_, w + np.sqrt(eps))
    # global: |w_i| intervals are w_i -/+ sqrt(eps); ambiguous exactly when they contain 0
    po = R.global_order(eps)
    assert list(po.ambiguous) == list(np.abs(w) <= np.sqrt(eps))


def test_bounds_and_orders_hold_for_sampled_models():
    rng = np.random.default_rng(1)
    X, y = _data(rng)
    R = LinearRashomon().fit(X, y)
    eps = R.epsilon_from_tolerance(1.03 * np.sqrt(R.loss_))
    thetas = _sample_boundary(R, eps, 4000, rng)
    G = R._maps(X[:20])  # (20, d, p)
    phis = np.einsum("rip,sp->sri", G, thetas)  # (samples, 20, d)
    lo, hi = R.attribution_bounds(X[:20], eps)
    assert np.all(phis >= lo - 1e-9) and np.all(phis <= hi + 1e-9)
    # bounds are attained on the boundary (sampling gets close)
    assert np.max(np.abs(phis.min(0) - lo)) < 0.05 * np.abs(lo).max()
    for r in range(5):
        po = R.local_order(X[r], eps)
        for s in range(0, len(thetas), 50):
            phi = phis[s, r]
            assert po.consistent_with(np.abs(phi))
            keep = ~po.ambiguous
            assert np.all(np.sign(phi[keep]) == np.sign(R.attributions(X[r])[0][keep]))
    imp = np.sqrt(np.mean(np.einsum("rip,sp->sri", R._global_maps, thetas[::20]) ** 2, axis=1))  # (samples, d)
    glo = R.global_order(eps)
    assert all(glo.consistent_with(v) for v in imp)
    ilo, ihi = R.importance_bounds(eps)
    assert np.all(imp >= ilo - 1e-9) and np.all(imp <= ihi + 1e-9)


def test_statements_flip_at_their_critical_epsilon():
    rng = np.random.default_rng(2)
    X, y = _data(rng, n=300, d=5, noise=2.0)
    R = LinearRashomon().fit(X, y)
    crit = R.critical_epsilons(X[3])
    for i in range(5):
        e = crit["sign"][i]
        assert not R.local_order(X[3], 0.99 * e).ambiguous[i]
        assert R.local_order(X[3], 1.01 * e).ambiguous[i]
    order = crit["order"]
    i, j = np.unravel_index(np.argmax(np.where(np.isfinite(order), order, 0)), order.shape)
    e = order[i, j]
    assert e > 0
    assert R.local_order(X[3], 0.99 * e).relation[i, j]
    assert not R.local_order(X[3], 1.01 * e).relation[i, j]


def test_orders_shrink_with_eps_and_tend_to_the_best_model():
    rng = np.random.default_rng(4)
    X, y = _data(rng)
    R = LinearRashomon().fit(X, y)
    x = X[7]
    phi = np.abs(R.attributions(x)[0])
    tiny = R.local_order(x, 1e-14)
    full = phi[:, None] > phi[None, :]
    assert np.array_equal(tiny.relation, full) and not tiny.ambiguous.any()
    previous = tiny
    for eps in [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]:
        po = R.local_order(x, eps)
        assert np.all(po.relation <= previous.relation) and np.all(po.ambiguous >= previous.ambiguous)
        previous = po


def test_additive_model_orders_hold_for_sampled_models():
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(400, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * X[:, 2] + 0.3 * rng.normal(size=400)
    R = AdditiveRashomon(n_knots=6).fit(X, y, feature_names=["a", "b", "c"])
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    po = R.global_order(eps)
    assert po.relation[1, 2] and po.relation[0, 2]  # b and a matter more than c
    thetas = _sample_boundary(R, eps, 1000, rng)
    imp = np.sqrt(np.mean(np.einsum("rip,sp->sri", R._global_maps, thetas) ** 2, axis=1))
    lo, hi = R.importance_bounds(eps)
    assert np.all(imp >= lo - 1e-9) and np.all(imp <= hi + 1e-9)
    assert all(po.consistent_with(v) for v in imp)


def test_kernel_ridge_attributions_are_complete_and_bounded():
    rng = np.random.default_rng(6)
    X, y = _data(rng, n=150, d=4)
    R = KernelRidgeRashomon(lam=1e-2).fit(X, y)
    phi = R.attributions(X[:10])
    gap = R.predict(X[:10]) - R.predict(R.mean_[None, :])
    assert np.allclose(phi.sum(axis=1), gap, atol=1e-8)  # integrated gradients are complete
    eps = 0.05
    thetas = _sample_boundary(R, eps, 500, rng)
    phis = np.einsum("rip,sp->sri", R._maps(X[:10]), thetas)
    lo, hi = R.attribution_bounds(X[:10], eps)
    assert np.all(phis >= lo - 1e-9) and np.all(phis <= hi + 1e-9)
    po = R.local_order(X[0], eps)
    assert all(po.consistent_with(np.abs(p)) for p in phis[:, 0])


# ---------------------------------------------------------------------------- forests


@pytest.fixture(scope="module")
def small_forest():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(7)
    X, y = _data(rng, n=300, d=4)
    rf = RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0).fit(X[:200], y[:200])
    return rf, X, y


def test_per_tree_values_average_to_the_forest_shap(small_forest):
    rf, X, y = small_forest
    F = ForestRashomon(rf, X[200:], y[200:], X[:100])
    per_tree = F.per_tree_attributions(X[:20])
    whole = assay.TreeExplainer(rf, X[:100]).shap_values(X[:20])
    assert np.allclose(per_tree.mean(axis=-1), whole, atol=1e-10)
    own = np.array([est.predict(X[200:]) for est in rf.estimators_])
    assert np.allclose(F.tree_mse_, np.mean((own - y[200:]) ** 2, axis=1))


def test_forest_bounds_and_orders_equal_brute_force_over_subforests(small_forest):
    rf, X, y = small_forest
    F = ForestRashomon(rf, X[200:], y[200:], X[:100], bound="convexity")
    eps = float(np.sqrt(F._mse_bounds()[3]))  # m = 4 of M = 8
    assert F.subforest_size(eps) == 4
    per_tree = F.per_tree_attributions(X[:6])
    subs = [per_tree[..., list(S)].mean(axis=-1) for S in itertools.combinations(range(8), 4)]
    subs = np.stack(subs)  # (70, n, d)
    lo, hi = F.attribution_bounds(X[:6], eps)
    assert np.allclose(lo, subs.min(0), atol=1e-12) and np.allclose(hi, subs.max(0), atol=1e-12)
    for r in range(6):
        po = F.local_order(X[r], eps)
        s = subs[:, r, :]
        agreed = np.all(s > 0, axis=0) | np.all(s < 0, axis=0)
        assert np.array_equal(~po.ambiguous, agreed)
        brute = np.all(np.abs(s)[:, :, None] > np.abs(s)[:, None, :], axis=0) & agreed[:, None] & agreed[None, :]
        assert np.array_equal(po.relation, brute)
        glo = F.global_order(eps, X[:6])
        imp = np.sqrt(np.mean(subs**2, axis=1))  # every sub-forest's global importances
        assert all(glo.consistent_with(v) for v in imp)


def test_forest_input_errors(small_forest):
    rf, X, y = small_forest
    with pytest.raises(TypeError, match="forest: expected a scikit-learn"):
        ForestRashomon(object(), X, y, X)
    F = ForestRashomon(rf, X[200:], y[200:], X[:50])
    with pytest.raises(ValueError, match="below the bound"):
        F.subforest_size(1e-6)
    with pytest.raises(ValueError, match="eps"):
        F.subforest_size(-1.0)


# ---------------------------------------------------------------------------- PartialOrder


def test_partial_order_structure_and_export(tmp_path):
    nx = pytest.importorskip("networkx")
    rel = np.zeros((5, 5), dtype=bool)
    rel[0, 1] = rel[1, 2] = rel[0, 3] = True
    po = PartialOrder(rel, list("abcde"), ambiguous=[False, False, False, False, True])
    assert po.relation[0, 2]  # closed transitively
    assert sorted(po.hasse_edges()) == [(0, 1), (0, 3), (1, 2)]
    g = nx.DiGraph(list(zip(*np.nonzero(po.relation))))
    assert sorted(nx.transitive_reduction(g).edges()) == sorted(po.hasse_edges())
    assert list(po.ranks()) == [0, 1, 2, 1, -1]
    assert po.consistent_with([5, 4, 3, 4.5, 0]) and not po.consistent_with([1, 2, 3, 4, 5])
    other = PartialOrder(np.zeros((5, 5), dtype=bool), list("abcde"), ambiguous=[True] + [False] * 4)
    both = po.intersection(other)
    assert not both.relation.any() and both.ambiguous[0] and both.ambiguous[4]
    assert set(po.to_networkx().edges()) == set(po.hasse_edges())
    pytest.importorskip("matplotlib")
    for ext in ("png", "svg"):
        po.plot(tmp_path / f"order.{ext}")
        assert (tmp_path / f"order.{ext}").stat().st_size > 0


@pytest.mark.parametrize(
    "rel, message",
    [
        (np.eye(2, dtype=bool), "itself"),
        (np.ones((2, 2), dtype=bool) & ~np.eye(2, dtype=bool), "at once"),
        (np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=bool), "cycle"),
        (np.zeros((2, 3), dtype=bool), "square"),
    ],
)
def test_partial_order_rejects_bad_relations(rel, message):
    with pytest.raises(ValueError, match=message):
        PartialOrder(rel)


def test_ellipsoid_input_errors():
    rng = np.random.default_rng(8)
    X, y = _data(rng, n=50, d=3)
    with pytest.raises(RuntimeError, match="not fitted"):
        LinearRashomon().local_order(X[0], 0.1)
    R = LinearRashomon().fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        R.local_order(X[0], -1)
    with pytest.raises(ValueError, match="X: expected rows with 3 features"):
        R.attribution_bounds(X[:, :2], 0.1)
    with pytest.raises(ValueError, match="rmse"):
        R.epsilon_from_tolerance(0.5 * np.sqrt(R.loss_))
    with pytest.raises(ValueError, match="singular"):
        LinearRashomon().fit(np.column_stack([X, X[:, 0] * 2]), y)
    with pytest.raises(ValueError, match="y: expected"):
        LinearRashomon().fit(X, y[:-1])
