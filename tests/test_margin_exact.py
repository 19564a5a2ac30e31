"""Exact input margins against independent oracles: LPs (scipy.optimize.linprog) per target class,
SLSQP for l_2 with a box, the perpendicular bisector for prototypes, and for ReLU networks random
search (upper bounds), sampling inside the margin ball (nothing flips) and interval bounds
(certified lower bounds)."""

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from assay.robustness.exact import exact_margins_linear, exact_margins_mlp, exact_margins_prototypes, linear_weights


def lp_margin(W, b, x, y, p, box):
    """min over j != y of the LP  min ||delta||_p  s.t. f_j(x + delta) >= f_y(x + delta), box."""
    d = x.size
    best = np.inf
    for j in range(W.shape[0]):
        if j == y:
            continue
        v = W[j] - W[y]
        c = b[y] - b[j] - v @ x  # need <v, delta> >= c
        if p == "inf":  # vars (delta, t)
            cost = np.r_[np.zeros(d), 1.0]
            A = np.vstack([np.c_[np.eye(d), -np.ones(d)], np.c_[-np.eye(d), -np.ones(d)], np.r_[-v, 0.0]])
            rhs = np.r_[np.zeros(2 * d), -c]
            nb = [(None, None)] * d + [(0, None)]
        else:  # vars (delta, u)
            cost = np.r_[np.zeros(d), np.ones(d)]
            A = np.vstack([np.c_[np.eye(d), -np.eye(d)], np.c_[-np.eye(d), -np.eye(d)], np.r_[-v, np.zeros(d)]])
            rhs = np.r_[np.zeros(2 * d), -c]
            nb = [(None, None)] * d + [(0, None)] * d
        if box is not None:
            nb[:d] = [(box[0] - xi, box[1] - xi) for xi in x]
        res = linprog(cost, A_ub=A, b_ub=rhs, bounds=nb, method="highs")
        if res.status == 0:
            best = min(best, res.fun)
    return best


def slsqp_l2_box(W, b, x, y, box):
    best = np.inf
    for j in range(W.shape[0]):
        if j == y:
            continue
        v, c = W[j] - W[y], b[y] - b[j]
        res = minimize(
            lambda z: np.sum((z - x) ** 2),
            np.clip(x, *box),
            jac=lambda z: 2 * (z - x),
            constraints=[{"type": "eq", "fun": lambda z: v @ z - c, "jac": lambda z: v}],
            bounds=[box] * x.size,
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if res.success and abs(v @ res.x - c) < 1e-8:
            best = min(best, np.sqrt(res.fun))
    return best


def random_linear(seed, K=4, d=5, B=12):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(K, d)), rng.normal(size=K), rng.uniform(0, 1, size=(B, d))


@pytest.mark.parametrize("p", ["inf", 1])
@pytest.mark.parametrize("box", [None, (0.0, 1.0), (-0.5, 1.5)])
def test_linear_matches_lp(p, box):
    for seed in range(3):
        W, b, x = random_linear(seed)
        r = exact_margins_linear(W, b, x, norm=p, box=box)
        y = (x @ W.T + b).argmax(1)
        ref = np.array([lp_margin(W, b, x[i], y[i], p, box) for i in range(len(x))])
        assert np.array_equal(np.isinf(r.margin), np.isinf(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(r.margin[fin], ref[fin], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("box", [None, (-0.5, 1.5)])
def test_linear_l2_matches_slsqp(box):
    W, b, x = random_linear(7, K=3, d=4, B=6)
    r = exact_margins_linear(W, b, x, norm=2, box=box)
    y = (x @ W.T + b).argmax(1)
    ref = np.array([slsqp_l2_box(W, b, x[i], y[i], box or (-1e3, 1e3)) for i in range(len(x))])
    np.testing.assert_allclose(r.margin, ref, rtol=1e-5)


@pytest.mark.parametrize("p", ["inf", 2, 1])
@pytest.mark.parametrize("box", [None, (0.0, 1.0)])
def test_linear_adversarial_on_boundary(p, box):
    W, b, x = random_linear(3, K=5, d=6, B=20)
    W[:, 0] *= 4  # big weights push boundaries to the box faces
    r = exact_margins_linear(W, b, x, norm=p, box=box)
    fin = np.isfinite(r.margin)
    assert fin.sum() >= 5
    f = r.adversarial @ W.T + b
    rows = np.flatnonzero(fin)
    np.testing.assert_allclose(f[rows, r.label[rows]], f[rows, r.target[rows]], atol=1e-9)
    assert np.all(f[rows].max(1) <= f[rows, r.label[rows]] + 1e-9)  # the nearest boundary: nothing beyond
    norms = {"inf": np.inf, 2: 2, 1: 1}[p]
    np.testing.assert_allclose(
        np.linalg.norm(r.adversarial[rows] - x[rows], ord=norms, axis=1), r.margin[rows], rtol=1e-9, atol=1e-12
    )
    if box is not None:
        assert np.all((r.adversarial >= 0) & (r.adversarial <= 1))
    assert np.all(r.target[~fin] == -1) and np.array_equal(r.adversarial[~fin], x[~fin])


def test_linear_degenerate_cases():
    # identical rows: class 1 never wins (argmax keeps the lower index) -> infinite margin
    W, b = np.array([[1.0, -2.0], [1.0, -2.0]]), np.array([0.5, 0.5])
    r = exact_margins_linear(W, b, np.array([[0.3, 0.1]]), norm=2)
    assert np.isinf(r.margin[0]) and r.target[0] == -1
    # same for the box path
    r = exact_margins_linear(W, b, np.array([[0.3, 0.1]]), norm="inf", box=(0, 1))
    assert np.isinf(r.margin[0])
    # tie in the logits: x is on the boundary -> margin 0
    W, b = np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)
    for p in ("inf", 2, 1):
        r = exact_margins_linear(W, b, np.array([[0.4, 0.4]]), norm=p)
        assert r.margin[0] == 0 and r.target[0] == 1
    # point on a box face, boundary beyond the face in one coordinate: must go around it
    W, b = np.array([[0.0, 0.0], [1.0, 0.2]]), np.array([0.0, -1.1])  # class 1 iff x0 + 0.2 x1 > 1.1
    r = exact_margins_linear(W, b, np.array([[1.0, 0.0]]), norm="inf", box=(0, 1))
    np.testing.assert_allclose(r.margin, [0.5])  # x0 is at its face: only x1 can move, by 0.5
    r = exact_margins_linear(W, b, np.array([[1.0, 0.0]]), norm="inf")
    np.testing.assert_allclose(r.margin, [0.1 / 1.2])
    # d = 1, K = 2: margin is the distance to the threshold
    r = exact_margins_linear(np.array([[2.0], [-1.0]]), np.array([0.0, 0.6]), np.array([[0.5], [0.0]]), norm=1)
    np.testing.assert_allclose(r.margin, [0.3, 0.2])
    # d = 1 with a box the threshold is outside of: infeasible
    r = exact_margins_linear(
        np.array([[2.0], [-1.0]]), np.array([0.0, 0.6]), np.array([[0.5]]), norm=1, box=(0.25, 1.0)
    )
    assert np.isinf(r.margin[0])


def test_linear_labels_and_torch_input():
    W, b, x = random_linear(11, K=3, d=4, B=10)
    pred = (x @ W.T + b).argmax(1)
    labels = (pred + np.arange(10) % 2) % 3  # half the rows mislabeled
    r = exact_margins_linear(torch.tensor(W), torch.tensor(b), torch.tensor(x), norm=2, labels=labels)
    wrong = labels != pred
    assert np.all(r.margin[wrong] == 0) and np.array_equal(r.target[wrong], pred[wrong])
    ref = exact_margins_linear(W, b, x, norm=2)
    np.testing.assert_allclose(r.margin[~wrong], ref.margin[~wrong])
    assert np.array_equal(r.label, labels)


def test_prototypes_perpendicular_bisector():
    rng = np.random.default_rng(5)
    P, x = rng.normal(size=(4, 3)), rng.normal(size=(30, 3))
    r = exact_margins_prototypes(P, x, norm=2)
    d2 = ((x[:, None, :] - P[None]) ** 2).sum(-1)
    y = d2.argmin(1)
    # l_2 distance to the bisector of p_y and p_j: (|x - p_j|^2 - |x - p_y|^2) / (2 |p_j - p_y|)
    gaps = (d2 - d2[np.arange(30), y][:, None]) / (2 * np.linalg.norm(P[None] - P[y][:, None], axis=2) + 1e-300)
    gaps[np.arange(30), y] = np.inf
    np.testing.assert_allclose(r.margin, gaps.min(1), rtol=1e-10)
    da = ((r.adversarial[:, None, :] - P[None]) ** 2).sum(-1)  # the closest point is equidistant
    np.testing.assert_allclose(da[np.arange(30), y], da[np.arange(30), r.target], rtol=1e-9)


def test_linear_weights_from_models():
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 3)
    seq = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 4), torch.nn.Linear(4, 3))
    x = torch.randn(5, 2, 3)
    for model in (lin, seq):
        W, b = linear_weights(model)
        out = model(x.reshape(5, 6) if model is lin else x).detach().double().numpy()
        np.testing.assert_allclose(x.reshape(5, 6).double().numpy() @ W.T + b, out, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="model"):
        linear_weights(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU()))


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(W=np.ones(3)), "W"),
        (dict(W=np.ones((1, 2))), "W"),
        (dict(bias=np.ones(4)), "bias"),
        (dict(x=np.ones((2, 3))), "x"),
        (dict(x=np.array([[np.nan, 0.1]])), "x"),
        (dict(norm=3), "norm"),
        (dict(norm="l2"), "norm"),
        (dict(box=(1.0, 0.0)), "box"),
        (dict(box=(0.5, 1.0)), "x"),
        (dict(box=(np.zeros(3), 1.0)), "box"),
        (dict(box=0.5), "box"),
        (dict(labels=np.array([0, 5])), "labels"),
        (dict(labels=np.array([0.0, 1.0])), "labels"),
        (dict(labels=np.array([0])), "labels"),
        (dict(x=np.array([["a", "b"]])), "x"),
    ],
)
def test_linear_bad_input(bad, match):
    kw = dict(W=np.eye(2), bias=np.zeros(2), x=np.array([[0.2, 0.1], [0.3, 0.9]]), norm="inf", box=None, labels=None)
    kw.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        exact_margins_linear(kw.pop("W"), kw.pop("bias"), kw.pop("x"), **kw)


# ---------------------------------------------------------------- ReLU networks (MILP)


def tiny_net(seed=0, sizes=(4, 8, 3)):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1]).double()


def predict(net, X):
    with torch.no_grad():
        return net(torch.as_tensor(X, dtype=torch.float64)).argmax(1).numpy()


def ibp_certified(net, x, eps, box):
    """Interval bounds prove that no point of the l_inf ball of radius eps (in the box) changes the class."""
    lo, hi = x - eps, x + eps
    if box is not None:
        lo, hi = np.maximum(lo, box[0]), np.minimum(hi, box[1])
    y = predict(net, x[None])[0]
    mods = list(net)
    for k, m in enumerate(mods):
        if isinstance(m, torch.nn.Linear):
            W, b = m.weight.detach().numpy(), m.bias.detach().numpy()
            if k == len(mods) - 1:
                V, c = W - W[y], b - b[y]
                ub = np.maximum(V, 0) @ hi + np.minimum(V, 0) @ lo + c
                ub[y] = -np.inf
                return ub.max() < 0
            lo, hi = (
                np.maximum(W, 0) @ lo + np.minimum(W, 0) @ hi + b,
                np.maximum(W, 0) @ hi + np.minimum(W, 0) @ lo + b,
            )
        else:
            lo, hi = np.maximum(lo, 0), np.maximum(hi, 0)


def certified_lower_bound(net, x, box):
    lo, hi = 0.0, 10.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ibp_certified(net, x, mid, box) else (lo, mid)
    return lo


def random_search_upper(net, x, y, p, box, rng, n_dirs=300):
    """The smallest flipping scale along random directions (bisection): each an upper bound."""
    best = np.inf
    for _ in range(n_dirs):
        u = rng.normal(size=x.size) if p == 2 else rng.laplace(size=x.size) ** 3
        u /= np.linalg.norm(u, ord=np.inf if p == "inf" else 1)
        pts = x + np.linspace(0, 3, 61)[:, None] * u
        if box is not None:
            pts = np.clip(pts, *box)
        flip = np.flatnonzero(predict(net, pts) != y)
        if flip.size:
            best = min(best, np.linalg.norm(pts[flip[0]] - x, ord=np.inf if p == "inf" else 1))
    return best


@pytest.mark.parametrize("p", ["inf", 1])
@pytest.mark.parametrize("box", [None, (0.0, 1.0)])
def test_mlp_single_linear_layer_equals_closed_form(p, box):
    W, b, x = random_linear(2, K=3, d=4, B=6)
    lin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        lin.weight[:], lin.bias[:] = torch.tensor(W), torch.tensor(b)
    m = exact_margins_mlp(torch.nn.Sequential(lin), x, norm=p, box=(-0.5, 1.5) if box else None)
    r = exact_margins_linear(W, b, x, norm=p, box=(-0.5, 1.5) if box else None)
    np.testing.assert_allclose(m.margin, r.margin, rtol=1e-7, atol=1e-9)
    assert np.all(m.status == "optimal")


@pytest.mark.parametrize("p", ["inf", 1])
@pytest.mark.parametrize("box", [None, (0.0, 1.0)])
def test_mlp_tiny_relu_bounds_and_adversarial(p, box):
    net = tiny_net(1)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(4, 4))
    r = exact_margins_mlp(net, x, norm=p, box=box)
    y = predict(net, x)
    assert np.array_equal(r.label, y) and np.all(r.status == "optimal")
    ordp = np.inf if p == "inf" else 1
    for i in range(len(x)):
        if not np.isfinite(r.margin[i]):
            continue
        assert r.flipped[i] and predict(net, r.adversarial[i][None])[0] != y[i]
        np.testing.assert_allclose(np.linalg.norm(r.adversarial[i] - x[i], ord=ordp), r.margin[i], rtol=1e-6, atol=1e-8)
        if box is not None:
            assert np.all((r.adversarial[i] >= 0) & (r.adversarial[i] <= 1))
        assert r.margin[i] <= random_search_upper(net, x[i], y[i], p, box, rng) + 1e-9
        lower = certified_lower_bound(net, x[i], box)  # an l_inf bound; l_1 balls are inside l_inf ones
        assert r.margin[i] >= lower - 1e-9
        # nothing inside the margin ball flips: dense samples at radius 0.999 * margin
        u = rng.uniform(-1, 1, size=(4000, x.shape[1]))
        if p == 1:
            u = u * (rng.random((4000, 1)) < 0.5) + np.eye(x.shape[1])[rng.integers(0, x.shape[1], 4000)] * np.sign(u)
            u /= np.abs(u).sum(1, keepdims=True)
        pts = x[i] + 0.999 * r.margin[i] * u
        if box is not None:
            pts = np.clip(pts, *box)
        assert np.all(predict(net, pts) == y[i])


def test_mlp_relu_output_and_flatten():
    torch.manual_seed(3)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3), torch.nn.ReLU()
    ).double()
    x = torch.rand(3, 2, 2, dtype=torch.float64) + 0.5
    r = exact_margins_mlp(net, x, norm="inf", box=(0.0, 2.0))
    assert r.adversarial.shape == (3, 4)
    for i in range(3):
        if np.isfinite(r.margin[i]):
            assert r.flipped[i] and predict(net, r.adversarial[i].reshape(1, 2, 2))[0] != r.label[i]
            assert r.margin[i] >= certified_lower_bound(net, x[i].reshape(-1).numpy(), (0.0, 2.0)) - 1e-9


def test_mlp_bad_input():
    net = tiny_net()
    x = np.full((1, 4), 0.5)
    with pytest.raises(ValueError, match="norm"):
        exact_margins_mlp(net, x, norm=2)
    with pytest.raises(TypeError, match="model"):
        exact_margins_mlp(torch.nn.Linear(4, 3), x)
    with pytest.raises(TypeError, match="Tanh"):
        exact_margins_mlp(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh()), x)
    with pytest.raises(ValueError, match="x"):
        exact_margins_mlp(net, np.ones((1, 5)))
    with pytest.raises(ValueError, match="x"):
        exact_margins_mlp(net, np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="time_limit"):
        exact_margins_mlp(net, x, time_limit=-1)
    with pytest.raises(TypeError, match="time_limit"):
        exact_margins_mlp(net, x, time_limit="1")
    with pytest.raises(ValueError, match="x"):
        exact_margins_mlp(net, x + 1, box=(0, 1))


# ---------------------------------------------------------------- decision trees


def grid_cell_margin(tree, x, p, box):
    """Oracle from tree.predict only: the thresholds cut space into cells of constant class; the
    margin is the distance to the nearest cell of another class (classified at its centre)."""
    d = x.size
    cuts = [np.unique(tree.tree_.threshold[tree.tree_.feature == f]) for f in range(d)]
    edges = [np.r_[box[0], c[(c > box[0]) & (c < box[1])], box[1]] for c in cuts]
    grids = np.meshgrid(*[np.arange(len(e) - 1) for e in edges], indexing="ij")
    idx = np.stack([g.reshape(-1) for g in grids], axis=1)
    lo = np.stack([edges[f][idx[:, f]] for f in range(d)], axis=1)
    hi = np.stack([edges[f][idx[:, f] + 1] for f in range(d)], axis=1)
    cls = tree.predict(((lo + hi) / 2).astype(np.float32))
    y = tree.predict(x[None].astype(np.float32))[0]
    gap = np.maximum(lo - x, 0) + np.maximum(x - hi, 0)
    dist = np.linalg.norm(gap, ord={"inf": np.inf, 2: 2, 1: 1}[p], axis=1)
    return np.min(np.where(cls != y, dist, np.inf))


@pytest.mark.parametrize("p", ["inf", 2, 1])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_tree_matches_grid_oracle(p, d):
    from sklearn.tree import DecisionTreeClassifier
    from assay.robustness.exact import exact_margins_tree

    rng = np.random.default_rng(d)
    X = rng.uniform(size=(300, d))
    yl = (X.sum(1) + 0.3 * np.sin(8 * X[:, 0]) > 0.5 * d).astype(int) + (X[:, -1] > 0.8)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, yl)
    x = np.r_[X[:15], [np.full(d, 0.0), np.full(d, 1.0)]]  # box corners too
    r = exact_margins_tree(tree, x, norm=p, box=(0.0, 1.0))
    ref = np.array([grid_cell_margin(tree, xi, p, (0.0, 1.0)) for xi in x])
    np.testing.assert_allclose(r.margin, ref, rtol=1e-12, atol=1e-12)
    fin = np.isfinite(r.margin)
    assert np.all(r.flipped[fin]) and np.all((r.adversarial >= 0) & (r.adversarial <= 1))
    assert np.array_equal(tree.classes_[r.target[fin]], tree.predict(r.adversarial[fin].astype(np.float32)))
    ordp = {"inf": np.inf, 2: 2, 1: 1}[p]
    np.testing.assert_allclose(np.linalg.norm(r.adversarial[fin] - x[fin], ord=ordp, axis=1), r.margin[fin], atol=1e-6)


def test_tree_on_threshold_and_bad_input():
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from assay.robustness.exact import exact_margins_tree

    tree = DecisionTreeClassifier().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    t = tree.tree_.threshold[0]
    r = exact_margins_tree(tree, np.array([[t], [0.0]]), norm=2)  # x_f = threshold goes left: a tie
    assert r.margin[0] == 0.0 and r.flipped[0] and r.adversarial[0, 0] > t
    np.testing.assert_allclose(r.margin[1], t)
    with pytest.raises(TypeError, match="tree"):
        exact_margins_tree(DecisionTreeRegressor().fit(np.ones((2, 1)), [0, 1]), np.ones((1, 1)))
    with pytest.raises(TypeError, match="tree"):
        exact_margins_tree(DecisionTreeClassifier(), np.ones((1, 1)))
    with pytest.raises(ValueError, match="x"):
        exact_margins_tree(tree, np.ones((1, 2)))
    with pytest.raises(ValueError, match="norm"):
        exact_margins_tree(tree, np.ones((1, 1)), norm=0)


def test_mlp_time_limit_reports_status():
    net = tiny_net(2, sizes=(8, 48, 48, 4))
    x = np.random.default_rng(1).uniform(0, 1, size=(1, 8))
    r = exact_margins_mlp(net, x, norm=1, box=(0.0, 1.0), time_limit=1e-3)
    assert r.status[0] == "time_limit"
    if np.isfinite(r.margin[0]):  # whatever was found is a real adversarial (an upper bound)
        assert r.flipped[0] and np.abs(r.adversarial[0] - x[0]).sum() == pytest.approx(r.margin[0], rel=1e-6)


@pytest.mark.parametrize("p", ["inf", 1])
def test_mlp_radius_hint_never_changes_the_answer(p):
    # a hint just above the margin (an attack's) makes the search ball tight: the MILP's own point
    # must win over an LP re-solve that lands on the ball's edge; a hint far too small or too large
    # only costs solves
    net = tiny_net(1)
    x = np.random.default_rng(2).uniform(0, 1, size=(5, 4))
    free = exact_margins_mlp(net, x, norm=p, box=(0.0, 1.0))
    for factor in (1.00002, 0.1, 10.0):
        hinted = exact_margins_mlp(net, x, norm=p, box=(0.0, 1.0), radius_hint=free.margin * factor)
        np.testing.assert_allclose(hinted.margin, free.margin, rtol=1e-7)
    with pytest.raises(ValueError, match="radius_hint"):
        exact_margins_mlp(net, x, norm=p, box=(0.0, 1.0), radius_hint=-np.ones(5))
