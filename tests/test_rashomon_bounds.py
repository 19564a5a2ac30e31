"""Sub-forest bounds, prediction and partial-dependence bounds, classification forests and the
utility curve, each checked against its definition by brute force over every sub-forest."""

import itertools

import numpy as np
import pytest

import assay
from assay.rashomon import ForestRashomon
from assay.rashomon.subforests import convexity_bound, range_bound, subset_mean_curves, subset_means

M = 6


def _subsets(m):
    return [list(S) for S in itertools.combinations(range(M), m)]


@pytest.fixture(scope="module")
def regression():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(11)
    X = rng.normal(size=(260, 4))
    y = 2 * X[:, 0] - X[:, 1] + np.sin(3 * X[:, 2]) + 0.5 * rng.normal(size=260)
    rf = RandomForestRegressor(n_estimators=M, max_depth=3, random_state=0).fit(X[:160], y[:160])
    return rf, X, y, ForestRashomon(rf, X[160:], y[160:], X[:60])


@pytest.fixture(scope="module")
def classification():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(12)
    X = rng.normal(size=(300, 4))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.8 * rng.normal(size=300) > 0.3, "yes", "no")
    rf = RandomForestClassifier(n_estimators=M, max_depth=3, random_state=0).fit(X[:200], y[:200])
    return rf, X, y, ForestRashomon(rf, X[200:], y[200:], X[:60])


def _tree_preds(rf, X, proba=False):
    if proba:
        return np.array([est.predict_proba(X)[:, 1] for est in rf.estimators_])
    return np.array([est.predict(X) for est in rf.estimators_])


def test_subset_means_are_the_extremes_over_every_subset():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, M))
    lo_c, hi_c = subset_mean_curves(v)
    for m in range(1, M + 1):
        brute = np.stack([v[:, S].mean(axis=1) for S in _subsets(m)])
        lo, hi = subset_means(v, m)
        assert np.allclose(lo, brute.min(0)) and np.allclose(hi, brute.max(0))
        assert np.allclose(lo_c[:, m - 1], lo) and np.allclose(hi_c[:, m - 1], hi)


def test_both_regression_bounds_hold_for_every_subforest(regression):
    rf, X, y, F = regression
    P, yv = _tree_preds(rf, X[160:]), y[160:]
    curve = F.bound_curve()
    assert list(curve["m"]) == list(range(1, M + 1)) and curve["chosen"] == "combined"
    for m in range(1, M + 1):
        worst = max(np.sqrt(np.mean((P[S].mean(0) - yv) ** 2)) for S in _subsets(m))
        for name in ("paper", "convexity", "combined"):
            assert curve[name][m - 1] >= worst - 1e-9, (name, m)
    assert np.allclose(curve["combined"], np.minimum(curve["paper"], curve["convexity"]))
    # the paper's bound at m = M is the forest's own RMSE; the convexity bound the mean tree MSE's root
    assert curve["paper"][-1] == pytest.approx(F.forest_rmse_, rel=1e-12)
    assert curve["convexity"][-1] == pytest.approx(np.sqrt(np.mean((P - yv) ** 2)), rel=1e-12)
    assert F.min_tolerance_ == pytest.approx(F.forest_rmse_, rel=1e-12)
    assert np.all(np.diff(curve["combined"]) <= 1e-12)  # non-increasing in m


def test_paper_bound_definition_by_brute_force_over_ranges(regression):
    rf, X, y, F = regression
    P, yv = _tree_preds(rf, X[160:]), y[160:]
    for m in range(1, M + 1):
        preds = np.stack([P[S].mean(0) for S in _subsets(m)])  # every sub-forest's predictions
        lo, hi = preds.min(0), preds.max(0)
        expected = np.sqrt(np.mean(np.maximum((lo - yv) ** 2, (hi - yv) ** 2)))
        assert range_bound(P, yv)[m - 1] == pytest.approx(expected, rel=1e-12)
        mse = np.mean((P - yv) ** 2, axis=1)
        assert convexity_bound(mse)[m - 1] == pytest.approx(np.sqrt(np.sort(mse)[-m:].mean()), rel=1e-12)


def test_subforest_size_exists_for_every_eps_above_the_forest_rmse(regression):
    rf, X, y, F = regression
    curve = F.bound_curve()
    assert F.subforest_size(F.forest_rmse_) >= 1  # the forest's own RMSE is accepted
    for factor in (1.0, 1.0 + 1e-9, 1.01, 1.05, 1.3, 3.0):
        eps = factor * F.forest_rmse_
        m = F.subforest_size(eps)
        assert curve["combined"][m - 1] <= eps and (m == 1 or curve["combined"][m - 2] > eps)
    old = ForestRashomon(rf, X[160:], y[160:], X[:60], bound="convexity")
    assert old.min_tolerance_ == pytest.approx(curve["convexity"][-1])
    with pytest.raises(ValueError, match="below the bound"):
        old.subforest_size(1.0001 * F.forest_rmse_)
    paper = ForestRashomon(rf, X[160:], y[160:], X[:60], bound="paper")
    eps = float(curve["paper"][2])
    assert paper.subforest_size(eps) <= 3 and F.subforest_size(eps) <= paper.subforest_size(eps)
    with pytest.raises(ValueError, match="bound: expected one of"):
        ForestRashomon(rf, X[160:], y[160:], X[:60], bound="tightest")


def test_prediction_and_partial_dependence_bounds_equal_brute_force(regression):
    rf, X, y, F = regression
    eps = float(F.bound_curve()["combined"][2])
    m = F.subforest_size(eps)
    P = _tree_preds(rf, X[:20])
    subs = np.stack([P[S].mean(0) for S in _subsets(m)])
    lo, hi = F.predict(X[:20], eps)
    assert np.allclose(lo, subs.min(0), atol=1e-10) and np.allclose(hi, subs.max(0), atol=1e-10)
    assert np.allclose(F.predict(X[:20]), rf.predict(X[:20]), atol=1e-10)
    grid = np.linspace(-2, 2, 5)
    rows = X[:30]
    per_tree = []
    for v in grid:
        Z = rows.copy()
        Z[:, 2] = v
        per_tree.append(_tree_preds(rf, Z).mean(axis=1))  # (M,) per-tree partial dependence
    per_tree = np.array(per_tree)  # (grid, M)
    subs = np.stack([per_tree[:, S].mean(1) for S in _subsets(m)])
    plo, phi = F.partial_dependence_bounds(2, grid, eps, X=rows)
    assert np.allclose(plo, subs.min(0), atol=1e-10) and np.allclose(phi, subs.max(0), atol=1e-10)
    plo2, _ = F.partial_dependence_bounds(F.names[2], grid, eps, X=rows)
    assert np.allclose(plo, plo2)
    with pytest.raises(ValueError, match="feature: expected"):
        F.partial_dependence_bounds("nope", grid, eps)
    with pytest.raises(ValueError, match="grid: "):
        F.partial_dependence_bounds(0, [], eps)


def test_classifier_forest_bound_predictions_and_attributions(classification):
    rf, X, y, F = classification
    assert F.task == "classification"
    yv = (y[200:] == rf.classes_[1]).astype(float)
    P = _tree_preds(rf, X[200:], proba=True)
    assert np.allclose(F._tree_outputs(X[200:]), P, atol=1e-12)
    assert F.forest_error_ == pytest.approx(np.mean(rf.predict(X[200:]) != y[200:]))
    curve = F.bound_curve()
    assert curve["convexity"] is None and np.array_equal(curve["combined"], curve["paper"])
    for m in range(1, M + 1):
        worst = max(np.mean((P[S].mean(0) > 0.5) != yv) for S in _subsets(m))
        assert curve["paper"][m - 1] >= worst - 1e-12
    assert curve["paper"][-1] == pytest.approx(F.forest_error_)
    eps = float(curve["paper"][2])
    m = F.subforest_size(eps)
    lo, hi = F.predict(X[:10], eps)
    subs = np.stack([_tree_preds(rf, X[:10], proba=True)[S].mean(0) for S in _subsets(m)])
    assert np.allclose(lo, subs.min(0)) and np.allclose(hi, subs.max(0))
    per_tree = F.per_tree_attributions(X[:8])  # class-1 probability
    whole = assay.TreeExplainer(rf, X[:60]).shap_values(X[:8])[..., 1]
    assert np.allclose(per_tree.mean(axis=-1), whole, atol=1e-10)
    with pytest.raises(ValueError, match="bound: expected one of"):
        ForestRashomon(rf, X[200:], y[200:], X[:60], bound="convexity")
    with pytest.raises(ValueError, match="y_val: expected labels"):
        ForestRashomon(rf, X[200:], np.zeros(100), X[:60])


def test_multiclass_forest_is_refused():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 3))
    y = np.arange(90) % 3
    rf = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="forest: expected a binary classifier, got 3 classes"):
        ForestRashomon(rf, X, y, X[:20])


def test_forest_utility_counts_agreed_statements(regression):
    rf, X, y, F = regression
    curve = F.bound_curve()["combined"]
    eps_values = [float(curve[k]) for k in (5, 3, 1)]  # m = 6, 4, 2 trees
    u = F.utility(X[:5], eps_values, require_gap=False)
    assert u.shape == (5, 3) and np.all(u >= 0) and np.all(u <= 1)
    assert np.all(np.diff(u, axis=1) <= 1e-12)  # fewer statements as eps grows
    d = 4
    for r in range(5):
        po = F.local_order(X[r], eps_values[1])
        assert u[r, 1] == pytest.approx(((~po.ambiguous).sum() + po.relation.sum()) / (d * (d + 1) / 2))
    gap = F.utility(X[:5], eps_values, require_gap=True)
    assert np.all(gap <= u + 1e-12)


def test_forest_mean_abs_importance_bounds_hold_for_every_subforest(regression):
    rf, X, y, F = regression
    eps = float(F.bound_curve()["combined"][2])
    m = F.subforest_size(eps)
    phis = F.per_tree_attributions(X[:40])
    imp = np.stack([np.abs(phis[..., S].mean(-1)).mean(0) for S in _subsets(m)])  # (subsets, d)
    lo, hi = F.importance_bounds(eps, X[:40], importance="mean_abs")
    assert np.all(imp >= lo - 1e-12) and np.all(imp <= hi + 1e-12)
    po = F.global_order(eps, X[:40], importance="mean_abs")
    assert all(po.consistent_with(v) for v in imp)
    with pytest.raises(ValueError, match="importance: expected"):
        F.importance_bounds(eps, importance="max")


@pytest.mark.parametrize("importance", ["mean_abs", "rms"])
def test_proven_order_within_true_order_within_candidates(regression, importance):
    rf, X, y, F = regression
    eps = float(F.bound_curve()["combined"][3])
    m = F.subforest_size(eps)
    phis = F.per_tree_attributions(X[:40])
    subsets = [S for k in range(m, M + 1) for S in _subsets(k)]  # R(eps): every sub-forest of >= m trees
    if importance == "mean_abs":
        imp = np.stack([np.abs(phis[..., S].mean(-1)).mean(0) for S in subsets])
    else:
        imp = np.stack([np.sqrt(np.mean(phis[..., S].mean(-1) ** 2, axis=0)) for S in subsets])
    ambiguous = imp.min(axis=0) <= 0  # some model ignores the feature
    true = np.all(imp[:, :, None] > imp[:, None, :], axis=0) & ~ambiguous[:, None] & ~ambiguous[None, :]
    proven = F.global_order(eps, X[:40], importance=importance).relation
    candidates = F.global_order_candidates(eps, X[:40], importance=importance).relation
    assert np.all(proven <= true) and np.all(true <= candidates)
    assert candidates.sum() >= 1


def test_bound_curve_plot_and_columns_matched_by_name(regression, tmp_path):
    pd = pytest.importorskip("pandas")
    rf, X, y, F = regression
    names = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X, columns=names)
    rf_named = type(rf)(n_estimators=M, max_depth=3, random_state=0).fit(frame[:160], y[:160])
    G = ForestRashomon(rf_named, frame[160:], y[160:], frame[:60])
    eps = 1.2 * G.forest_rmse_
    shuffled = frame[["c", "a", "d", "b"]]
    assert np.allclose(G.predict(shuffled[:5], eps)[0], G.predict(frame[:5], eps)[0])
    assert np.allclose(
        G.partial_dependence_bounds("c", [0.0, 1.0], eps, X=shuffled[:20])[1],
        G.partial_dependence_bounds(2, [0.0, 1.0], eps, X=frame[:20])[1],
    )
    with pytest.raises(ValueError, match="X: "):
        G.predict(frame[["a", "b", "c"]][:5])
    pytest.importorskip("matplotlib")
    ax = F.plot_bound_curve(tmp_path / "bounds.png")
    assert (tmp_path / "bounds.png").stat().st_size > 0 and len(ax.lines) == 4
    F.plot_utility(X[:3], [1.2 * F.forest_rmse_, 2 * F.forest_rmse_], path=tmp_path / "u.svg")
    assert (tmp_path / "u.svg").stat().st_size > 0
