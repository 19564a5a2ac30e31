"""GRANITE regions: the tree kernel against the generic path and against H_u from its definition,
known answers (the toy, additive models, x1 x2 on a grid), partition-tree invariants, bad input."""

import ast
import itertools
import re

import numpy as np
import pytest

from assay import regions
from assay.regions.fdtree import candidate_thresholds, display_threshold
from assay.trees.forest import ForestBuilder, SplitPolicy, TreeModel

from conftest import adversarial_rows, assert_close_scaled
from models import data, lgb_raw, sklearn_raw, xgb_raw
from random_forests import random_rows, random_tree_model

pd = pytest.importorskip("pandas")


# ---- references -------------------------------------------------------------------------------
def brute_effects(predict, X, subsets):
    """p_u, q_u from the materialised H_u(x, z) = sum_{v <= u} (-1)^{|u|-|v|} f(x_v, z_-v)."""
    n = X.shape[0]
    p = np.zeros((n, len(subsets)))
    q = np.zeros_like(p)
    for k, (u, cols_of) in enumerate(subsets):
        H = np.zeros((n, n))
        for r in range(len(u) + 1):
            for v in itertools.combinations(u, r):
                cols = [c for i in v for c in cols_of[i]]
                for a in range(n):
                    A = X.copy()  # rows z, with x_a's columns of v
                    A[:, cols] = X[a, cols]
                    H[a] += (-1.0) ** (len(u) - len(v)) * predict(A)
        p[:, k] = H.mean(axis=1)
        q[:, k] = (-1.0) ** len(u) * H.mean(axis=0)
    return p, q


def toy(rng, n=300):
    x1 = rng.uniform(-1, 1, n)
    x2 = rng.choice([-1.0, 1.0], n)
    x3 = rng.choice([-1.0, 1.0], n)
    x4 = x3 + 0.5 * rng.normal(size=n)
    X = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "x4": x4})
    return X, 3 * x1 * x2 + x3 + 2 * x4


def toy_f(A):
    A = np.asarray(A, dtype=np.float64)
    return 3 * A[:, 0] * A[:, 1] + A[:, 2] + 2 * A[:, 3]


def toy_tree_model(X, y):
    xgb = pytest.importorskip("xgboost")
    # Interaction constraints: trees use {x1, x2}, {x3} or {x4} only, so f is additive once x2 is fixed.
    return xgb.XGBRegressor(n_estimators=60, max_depth=3, interaction_constraints="[[0, 1], [2], [3]]").fit(X, y)


def product_ir():
    """f = x0 * x1 on {-1, 1}^2 exactly, as a hand-built IR tree."""
    b = ForestBuilder(2, 1)
    b.add_tree(
        feature=[0, 1, -1, -1, 1, -1, -1],
        threshold=[0, 0, 0, 0, 0, 0, 0],
        left=[1, 2, -1, -1, 5, -1, -1],
        right=[4, 3, -1, -1, 6, -1, -1],
        default_left=[0] * 7,
        policy=[SplitPolicy.HGB_NUMERIC] * 7,
        value=np.array([0, 0, 1, -1, 0, -1, 1], dtype=float),
    )
    return TreeModel(forest=b.build([0.0]), source="hand-built", n_features=2, n_outputs=1)


# ---- the tree kernel is exact -------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", [1, 2])
def test_tree_kernel_matches_materialised_H(seed, order):
    rng = np.random.default_rng(seed)
    cats = (2,) if seed % 2 else ()
    K = 1 + seed % 2
    model = random_tree_model(rng, 5, 6, 4, n_outputs=K, cat_features=cats)
    X = random_rows(rng, model, 22, cat_features=cats)
    groups = {"g": [0, 3]} if seed >= 2 else None
    D = regions.anchored_decomposition(model, X, groups=groups, order=order, output=K - 1)
    subsets = [(u, D._columns) for u in D.subsets]
    rows = np.sort(rng.choice(22, 15, replace=False))  # a region: its own background
    want_p, want_q = brute_effects(lambda A: model.predict_raw(A)[:, K - 1], X[rows], subsets)
    p, q = D.effects(rows)
    assert_close_scaled(p, want_p, 1e-12, "pure")
    assert_close_scaled(q, want_q, 1e-12, "full")
    assert np.abs(want_p - want_q).max() > 1e-3  # the model interacts: the check can fail
    gap = ((want_p - want_q) ** 2).sum()
    assert D.squared_gap(rows) == pytest.approx(gap, rel=1e-10)
    H = D.H(D.subsets[-1])
    assert H.shape == (22, 22)


def test_paths_wider_than_the_kernel_fall_back_to_the_generic_path():
    rng = np.random.default_rng(11)
    model = random_tree_model(rng, 16, 1, 15, leaf_prob=0.0)  # one path with > 12 distinct features
    X = random_rows(rng, model, 12, nan_frac=0.0)
    with pytest.raises(ValueError, match="distinct players"):
        regions.anchored_decomposition(model, X, method="tree")
    with pytest.warns(UserWarning, match="generic"):
        D = regions.anchored_decomposition(model, X)
    assert D.method == "generic"
    want = brute_effects(lambda A: model.predict_raw(A)[:, 0], X, [((i,), D._columns) for i in range(4)])
    p, q = D.effects()
    assert_close_scaled(p[:, :4], want[0], 1e-12, "pure")
    assert_close_scaled(q[:, :4], want[1], 1e-12, "full")


def _converted_models():
    """One small model per converter and split flavour (NaN directions, categorical splits, multi-output)."""
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn import ensemble

    rng = np.random.default_rng(7)
    X, y = data(rng, n=300, nan_frac=0.05)
    Xn, yn = data(rng, n=300)
    Xm, ym = data(rng, n=300, classes=3)
    Xk = X.copy()
    Xk[:, 4] = rng.integers(0, 40, len(X))
    Xk[rng.random(len(X)) < 0.05, 4] = np.nan
    yk = y + (Xk[:, 4] % 3 == 0)
    dm = xgb.DMatrix(Xk, yk, feature_types=["q", "q", "q", "q", "c", "q"], enable_categorical=True)
    lgb_p = dict(n_estimators=8, num_leaves=15, verbose=-1, min_child_samples=5)
    models = [
        ("xgb_reg", xgb.XGBRegressor(n_estimators=8, max_depth=4).fit(X, y), X, xgb_raw),
        ("xgb_multiclass", xgb.XGBClassifier(n_estimators=4, max_depth=3).fit(Xm, ym), Xm, xgb_raw),
        ("xgb_categorical", xgb.train({"max_depth": 3, "max_cat_to_onehot": 1}, dm, 6), Xk, xgb_raw),
        ("lgb_reg", lgb.LGBMRegressor(**lgb_p).fit(X, y), X, lgb_raw),
        ("lgb_missing_zero", lgb.LGBMRegressor(zero_as_missing=True, **lgb_p).fit(np.nan_to_num(X), y), X, lgb_raw),
        (
            "lgb_categorical",
            lgb.LGBMRegressor(max_cat_to_onehot=1, min_data_per_group=5, **lgb_p).fit(
                np.nan_to_num(Xk), yk, categorical_feature=[4]
            ),
            Xk,
            lgb_raw,
        ),
        (
            "sk_rf_reg",
            ensemble.RandomForestRegressor(n_estimators=4, max_depth=5, random_state=0).fit(Xn, yn),
            Xn,
            sklearn_raw,
        ),
        (
            "sk_gb_multiclass",
            ensemble.GradientBoostingClassifier(n_estimators=3, max_depth=3).fit(Xm, ym),
            Xm,
            sklearn_raw,
        ),
        (
            "sk_hgb_categorical",
            ensemble.HistGradientBoostingRegressor(max_iter=8, categorical_features=[4]).fit(Xk, yk),
            Xk,
            sklearn_raw,
        ),
    ]
    return models


@pytest.fixture(scope="module")
def converted():
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    return _converted_models()


@pytest.mark.parametrize("order", [1, 2])
def test_tree_kernel_matches_generic_path_on_every_converter(converted, order):
    rng = np.random.default_rng(order)
    for name, model, X, raw in converted:
        from assay.trees import convert_model

        ir = convert_model(model)
        nan = 0.0 if name in ("sk_rf_reg", "sk_gb_multiclass") else 0.1  # these refuse NaN
        A = adversarial_rows(
            ir, X, rng, n=36 if order == 1 else 26, nan_frac=nan
        )  # NaN, values on thresholds and one ulp around them
        K = ir.n_outputs
        output = K - 1 if K > 1 else None
        groups = {"pair": [1, 2]} if order == 1 else None

        def margin(B, _m=model):  # the library's own raw output (float32 sums for XGBoost)
            return np.asarray(raw(_m, B), dtype=np.float64)

        def ir_margin(B, _ir=ir):  # the same model in double precision
            out = _ir.predict_raw(np.ascontiguousarray(_ir.input_transform(B) if _ir.input_transform else B))
            return out[:, 0] if K == 1 else out

        Dt = regions.anchored_decomposition(model, A, groups=groups, order=order, output=output)
        Dg = regions.anchored_decomposition(ir_margin, A, groups=groups, order=order, output=output)
        assert Dt.method == "tree" and Dg.method == "generic"
        rows = np.arange(3, A.shape[0] - 3)
        pt, qt = Dt.effects(rows)
        pg, qg = Dg.effects(rows)
        assert_close_scaled(pt, pg, 1e-10, f"{name} pure")
        assert_close_scaled(qt, qg, 1e-10, f"{name} full")
        if order == 1:  # converter semantics (NaN, on-threshold) against the library itself
            Dl = regions.anchored_decomposition(margin, A, groups=groups, order=order, output=output)
            pl, ql = Dl.effects(rows)
            assert_close_scaled(pt, pl, 1e-5, f"{name} pure vs library")
            assert_close_scaled(qt, ql, 1e-5, f"{name} full vs library")
        col = 0
        t = np.nanquantile(A[rows, col], [0.3, 0.6])
        got = Dt.split_squared_gaps(rows, col, t)
        want = np.array(
            [[Dg.squared_gap(rows[A[rows, col] <= tc]), Dg.squared_gap(rows[~(A[rows, col] <= tc)])] for tc in t]
        )
        assert_close_scaled(got, want, 1e-9, f"{name} split losses")


# ---- known answers ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["callable", "tree"])
def test_toy_finds_one_split_on_x2(kind):
    X, y = toy(np.random.default_rng(0))
    model = toy_f if kind == "callable" else toy_tree_model(X.to_numpy(), y)
    g = regions.Granite(
        loss="pure_vs_full", split_features=["x1", "x2", "x3"], max_depth=3, min_samples_leaf=20, alpha=0.05
    ).fit(model, X)
    assert g.rules() == ["x2 <= -1.0", "x2 > -1.0"]
    assert g.tree_.loss == 1.0 and g.root_loss_ > 0.5
    assert np.all(g.leaf_losses_ < 1e-10)
    assert g.objective_ == pytest.approx(g.leaf_losses_.sum() + 0.05 * 2)
    # unclamped: the children's interaction gaps are round-off, the root's is not
    D = g.decomposition_
    for rows in g.region_rows():
        assert D.squared_gap(rows) / rows.size < 1e-20 * g.root_loss_ * 1e8


@pytest.mark.parametrize("kind", ["callable", "tree"])
def test_zero_loss_leaf_shap_equals_centred_pdp(kind):
    X, y = toy(np.random.default_rng(1), n=200)
    model = toy_f if kind == "callable" else toy_tree_model(X.to_numpy(), y)
    g = regions.Granite(split_features=["x2", "x3"], min_samples_leaf=10).fit(model, X)
    assert np.all(g.leaf_losses_ == 0.0)
    shap = g.explain(X.iloc[:50], kind="shap")
    pdp = g.explain(X.iloc[:50], kind="pdp")
    assert_close_scaled(shap, pdp, 1e-10, "regional SHAP vs PDP")
    assert np.abs(shap[:, 0]).max() > 0.1
    # with the whole data as background (one region) they disagree: the check can fail
    g1 = regions.Granite(split_features=["x2"], alpha=np.inf).fit(model, X)
    assert np.abs(g1.explain(X.iloc[:50], "shap") - g1.explain(X.iloc[:50], "pdp")).max() > 0.1


def test_additive_model_is_one_region():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4))
    X[:, 1] = X[:, 0] + 0.3 * rng.normal(size=200)  # dependence does not create interactions
    f = lambda A: A[:, 0] + 2 * A[:, 1] ** 2 + np.sin(A[:, 2]) - A[:, 3]
    g = regions.Granite(split_features=[0, 1, 2], min_samples_leaf=10, alpha=0.0).fit(f, X)
    assert len(g.rules()) == 1 and g.rules() == ["all"]
    assert g.root_loss_ == 0.0
    assert g.decomposition_.squared_gap(None) < 1e-20 * 200


@pytest.mark.parametrize("kind", ["callable", "tree"])
@pytest.mark.parametrize("order", [1, 2])
def test_product_on_balanced_grid_has_closed_form_root_loss(kind, order):
    X = np.array(list(itertools.product([-1.0, 1.0], repeat=2)) * 5)
    model = (lambda A: A[:, 0] * A[:, 1]) if kind == "callable" else product_ir()
    D = regions.anchored_decomposition(model, X, order=order)
    # p_i = E_z[x_i z_j] = 0, q_i = x1 x2 - E[x'_i] x_j = x1 x2; the pair: p = q = x1 x2.
    assert_close_scaled(D.pure(0), np.zeros(20), 1e-15)
    assert_close_scaled(D.full(1), X[:, 0] * X[:, 1], 1e-15)
    g = regions.Granite(alpha=np.inf, order=order, min_samples_leaf=1).fit(model, X)
    # (1/N) sum_x mean_u (p_u - q_u)^2 = mean over u of [1, 1] (order 1) or [1, 1, 0] (order 2)
    assert g.root_loss_ == pytest.approx(1.0 if order == 1 else 2.0 / 3.0, abs=1e-14)


def test_pdp_vs_mplot_zero_on_a_factorial_grid_and_not_under_dependence():
    X = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=3)) * 3)
    f = lambda A: A[:, 0] + A[:, 1] ** 2 + 3 * A[:, 2]
    g = regions.Granite(loss="pdp_vs_mplot", alpha=0.0, min_samples_leaf=5).fit(f, X)
    assert g.root_loss_ == 0.0 and len(g.rules()) == 1
    Xd = X.copy()
    Xd[:27, 2] = Xd[:27, 0]  # dependence between x0 and x2 on a third of the rows
    assert regions.Granite(loss="pdp_vs_mplot", alpha=np.inf).fit(f, Xd).root_loss_ > 1e-3


# ---- partition-tree invariants -----------------------------------------------------------------
def interacting(rng, n=240):
    X = rng.normal(size=(n, 4))
    X[:, 3] = np.round(X[:, 3])  # ordinal ties
    return X, lambda A: A[:, 0] * (A[:, 1] > 0) + A[:, 2] * A[:, 3] + 0.5 * A[:, 1]


def rule_mask(rule, columns):
    """The rows a rule selects, read as written ("x <= v", "x > v", "lo < x <= hi", "x in {...}");
    columns: name -> the user's values. Also checks that each feature appears once."""
    n = len(next(iter(columns.values())))
    mask = np.ones(n, dtype=bool)
    if rule == "all":
        return mask
    names = []
    for part in rule.split(" and "):
        if " in " in part:
            name, labels = part.split(" in ", 1)
            keep = np.isin(np.asarray(columns[name], dtype=object), list(ast.literal_eval(labels)))
        else:
            m = re.fullmatch(r"(?:(\S+) < )?(\w+) (<=|>) (\S+)", part)
            assert m, f"unexpected rule part {part!r}"
            lo, name, op, v = m.groups()
            x = np.asarray(columns[name], dtype=np.float64)
            keep = (x <= float(v)) if op == "<=" else (x > float(v))
            if lo is not None:
                assert op == "<=", part
                keep &= x > float(lo)
        names.append(name)
        mask &= keep
    assert len(names) == len(set(names)), f"a feature appears twice in {rule!r}"
    return mask


def exact_reprs(g):
    """intervals() as text: -0.0 and 0.0 compare equal, their repr does not."""
    return [[repr(interval) for interval in region] for region in g.intervals()]


def test_invariants_row_permutation_depth_min_leaf_and_predict():
    rng = np.random.default_rng(5)
    X, f = interacting(rng)
    kw = dict(max_depth=2, min_samples_leaf=25, alpha=0.01)
    g = regions.Granite(**kw).fit(f, X)
    assert len(g.rules()) >= 3
    perm = rng.permutation(X.shape[0])
    gp = regions.Granite(**kw).fit(f, X[perm])
    assert gp.rules() == g.rules()
    assert exact_reprs(gp) == exact_reprs(g)  # bit for bit, signed zeros included
    np.testing.assert_allclose(gp.leaf_losses_, g.leaf_losses_, rtol=1e-9, atol=1e-12)
    sizes = [rows.size for rows in g.region_rows()]
    assert min(sizes) >= 25 and sum(sizes) == X.shape[0]
    assert max(len(leaf.conditions) for leaf in g.tree_.leaves()) <= 2
    ids = g.predict(X)
    for k, rows in enumerate(g.region_rows()):
        assert np.all(ids[rows] == k)
    env = {f"x{j}": X[:, j] for j in range(4)}
    for k, rule in enumerate(g.rules()):  # each rule, evaluated as written, selects its region
        np.testing.assert_array_equal(np.flatnonzero(rule_mask(rule, env)), np.flatnonzero(ids == k))
    assert len(regions.Granite(max_depth=2, min_samples_leaf=25, alpha=np.inf).fit(f, X).rules()) == 1
    assert len(regions.Granite(max_depth=0).fit(f, X).rules()) == 1


def _unique_keeping(which, real=np.unique):
    """np.unique as another CPU's sort kernel may return it: of equal values (-0.0 and 0.0) the
    first or the last in row order survives."""

    def unique(a, *args, **kwargs):
        a = np.asarray(a)
        if args or kwargs or a.ndim != 1 or a.size == 0:
            return real(a, *args, **kwargs)
        s = np.sort(a, kind="stable")  # equal values keep their row order
        new_run = np.r_[True, s[1:] != s[:-1]]
        keep = new_run if which == "first" else np.r_[new_run[1:], True]
        return s[keep]

    return unique


@pytest.mark.parametrize("which", ["first", "last"])
def test_signed_zeros_do_not_depend_on_row_order_or_sort_kernel(monkeypatch, which):
    # The interacting data rounds a column, so it holds both -0.0 and 0.0. Which one np.unique kept
    # depended on the row order and on the CPU's sort kernel: the rule read "x3 <= -0.0" or "x3 <= 0.0".
    rng = np.random.default_rng(5)
    X, f = interacting(rng)
    assert np.signbit(X[X[:, 3] == 0, 3]).any() and not np.signbit(X[X[:, 3] == 0, 3]).all()
    perm = rng.permutation(X.shape[0])
    kw = dict(max_depth=2, min_samples_leaf=25, alpha=0.01)
    want = regions.Granite(**kw).fit(f, X)
    monkeypatch.setattr(np, "unique", _unique_keeping(which))
    for rows in (np.arange(X.shape[0]), perm, perm[::-1]):
        g = regions.Granite(**kw).fit(f, X[rows])
        assert g.rules() == want.rules()
        assert exact_reprs(g) == exact_reprs(want)
        assert not any(re.search(r"-0\.0(?!\d)", r) for r in g.rules() + sum(exact_reprs(g), []))


def test_negative_zero_never_reaches_thresholds_or_rules():
    for values in ([-0.0, 1.0, 2.0], [-0.0, 0.0, 1.0], [0.0, -0.0, 1.0]):
        t = candidate_thresholds(np.array(values))
        assert t[0] == 0.0 and not np.signbit(t[0]), values
    rng = np.random.default_rng(12)
    X = np.column_stack([np.where(rng.random(80) < 0.5, -0.0, 1.0), rng.choice([-1.0, 1.0], 80)])
    g = regions.Granite(split_features=[0], min_samples_leaf=5).fit(lambda A: A[:, 0] * A[:, 1], X)
    assert g.rules() == ["x0 <= 0.0", "x0 > 0.0"]
    (left,), (right,) = g.intervals()
    assert left.upper == 0.0 and not np.signbit(left.upper) and not np.signbit(right.lower)
    assert display_threshold(-0.0, 1.0) == 0.0 and not np.signbit(display_threshold(-0.0, 1.0))


def _significant_digits(v):
    mantissa = repr(abs(v)).split("e")[0].replace(".", "")
    return max(1, len(mantissa.strip("0")))


def test_display_threshold_is_the_shortest_decimal_that_separates():
    assert display_threshold(0.123456789, 0.2) == 0.13
    assert display_threshold(0.1, 0.2) == 0.1  # the double 0.1 lies above the decimal 0.1
    assert display_threshold(0.95, 1.5) == 1.0
    assert display_threshold(-1.0, -0.5) == -1.0
    assert display_threshold(-0.87, -0.3) == -0.8
    assert display_threshold(123456.7, 123457.0) == 123456.7
    assert display_threshold(1.0 + 2**-52, 1.0 + 2**-51) == 1.0 + 2**-52  # nothing shorter fits
    assert display_threshold(3.14159e-7, 4e-7) == 3.2e-7  # 3e-7 is below t, 4e-7 not below `above`
    rng = np.random.default_rng(13)
    for _ in range(2000):
        t = float(rng.normal() * 10.0 ** rng.integers(-8, 8))
        above = t + abs(t) * 10.0 ** -rng.uniform(0, 15) + 1e-300
        v = display_threshold(t, above)
        assert t <= v < above and float(repr(v)) == v
        k = _significant_digits(v)
        assert k <= _significant_digits(t)
        for d in range(1, k):  # no decimal with fewer digits separates (its neighbours around t)
            near = float(f"{t:.{d - 1}e}")
            unit = 10.0 ** (int(f"{t:e}".split("e")[1]) - d + 1)
            assert not any(t <= c < above for c in (near - unit, near, near + unit)), (t, above, v, d)


def test_rules_are_one_interval_per_feature_with_short_separating_thresholds():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(300, 3))
    f = lambda A: A[:, 0] * A[:, 1] * (np.abs(A[:, 0]) < 0.7) + A[:, 2]  # x0 is split on twice
    g = regions.Granite(split_features=[0], max_depth=3, min_samples_leaf=20, alpha=0.0).fit(f, X)
    rules = g.rules()
    assert any(re.fullmatch(r"\S+ < x0 <= \S+", r) for r in rules), rules
    env = {f"x{j}": X[:, j] for j in range(3)}
    ids = g.predict(X)
    for k, rule in enumerate(rules):  # one interval per feature (rule_mask checks), exact rows
        np.testing.assert_array_equal(np.flatnonzero(rule_mask(rule, env)), np.flatnonzero(ids == k))

    def splits(node):
        return [] if node.is_leaf else [node] + splits(node.left) + splits(node.right)

    for node in splits(g.tree_):
        x = X[node.rows, node.feature]
        assert node.threshold == x[x <= node.threshold].max()  # exact: a row value
        assert node.threshold <= node.shown < x[x > node.threshold].min()
        assert len(repr(node.shown)) < len(repr(node.threshold))  # 17 digits of noise for normal data
    # the exact bounds are what predict() uses, also on new rows between a threshold and its shown value
    Xn = rng.normal(size=(2000, 3))
    got = g.predict(Xn)
    for k, region in enumerate(g.intervals()):
        inside = np.ones(len(Xn), dtype=bool)
        for interval in region:
            j = g.feature_names_.index(interval.feature)
            inside &= (Xn[:, j] > interval.lower) & (Xn[:, j] <= interval.upper)
        np.testing.assert_array_equal(np.flatnonzero(inside), np.flatnonzero(got == k))


def test_categorical_columns_print_their_categories():
    rng = np.random.default_rng(15)
    n = 240
    color = pd.Categorical(rng.choice(["red", "green", "blue"], n), categories=["red", "green", "blue"])
    X = pd.DataFrame({"x": rng.normal(size=n), "color": color})
    f = lambda A: A[:, 0] * (A[:, 1] == 1) + A[:, 1]  # codes: green interacts with x
    g = regions.Granite(split_features=["color"], min_samples_leaf=20, alpha=0.0).fit(f, X)
    rules = g.rules()
    # unordered: any subset of the categories may go left, so green alone is cut off in one split
    assert rules == ["color in {'red', 'blue'}", "color in {'green'}"], rules
    ids = g.predict(X)
    columns = {"x": X["x"].to_numpy(), "color": X["color"].astype(object).to_numpy()}
    for k, rule in enumerate(rules):
        np.testing.assert_array_equal(np.flatnonzero(rule_mask(rule, columns)), np.flatnonzero(ids == k))


def test_boolean_and_ordinal_columns_read_as_words_and_sets():
    rng = np.random.default_rng(19)
    n = 200
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "flag": rng.random(n) < 0.5,
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"], ordered=True),
        }
    )
    f = lambda A: A[:, 0] * A[:, 1] + A[:, 0] * (A[:, 2] == 2)  # flag and size L interact with x
    g = regions.Granite(split_features=["flag", "size"], min_samples_leaf=10, alpha=0.0).fit(f, X)
    rules = g.rules()
    assert sorted(rules) == sorted(
        [
            "not flag and size in {'S', 'M'}",
            "not flag and size in {'L'}",
            "flag and size in {'S', 'M'}",
            "flag and size in {'L'}",
        ]
    ), rules
    ids = g.predict(X)
    flag, size = X["flag"].to_numpy(), X["size"].astype(object).to_numpy()
    for k, rule in enumerate(rules):
        mask = np.ones(n, dtype=bool)
        for part in rule.split(" and "):
            if part.startswith("size in "):
                mask &= np.isin(size, list(ast.literal_eval(part[len("size in ") :])))
            else:
                mask &= ~flag if part == "not flag" else flag
        np.testing.assert_array_equal(np.flatnonzero(mask), np.flatnonzero(ids == k))


def test_hgb_categories_print_as_the_users_values_and_explain_encodes_once():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(16)
    n = 300
    X = np.column_stack([rng.normal(size=n), rng.choice([10.0, 20.0, 30.0], n), rng.normal(size=n)])
    y = X[:, 0] * (X[:, 1] == 20) + X[:, 2]
    model = HistGradientBoostingRegressor(max_iter=20, categorical_features=[1]).fit(X, y)
    g = regions.Granite(split_features=[1], min_samples_leaf=20, alpha=0.0).fit(model, X)
    rules = g.rules()
    assert len(rules) > 1 and all(re.fullmatch(r"x1 in \{[0-9., ]+\}", r) for r in rules), rules
    ids = g.predict(X)
    for k, rule in enumerate(rules):  # the model's codes (0, 1, 2) would select nothing here
        np.testing.assert_array_equal(np.flatnonzero(rule_mask(rule, {"x1": X[:, 1]})), np.flatnonzero(ids == k))
    pdp = g.explain(X[:40], kind="pdp")  # encoding twice turned the codes into unknown categories
    assert pdp.shape == (40, 3) and np.isfinite(pdp).all()


# ---- DataFrame columns are matched by name -----------------------------------------------------
def _named_frame(rng, n=160):
    X, f = interacting(rng, n)
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]), f


def test_dataframe_columns_are_matched_by_name_at_fit_and_predict():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(17)
    X, f = _named_frame(rng)
    model = HistGradientBoostingRegressor(max_iter=15).fit(X, f(X.to_numpy()))  # knows a, b, c, d
    shuffled = X[["c", "a", "d", "b"]]
    kw = dict(max_depth=2, min_samples_leaf=20, alpha=0.0)
    for m in (model, f):  # the tree's names; else the first frame's (a callable is positional)
        g = regions.Granite(**kw).fit(m, X)
        np.testing.assert_array_equal(g.predict(shuffled), g.predict(X))
        np.testing.assert_array_equal(g.explain(shuffled.iloc[:30], "shap"), g.explain(X.iloc[:30], "shap"))
        np.testing.assert_array_equal(
            g.explain(shuffled, "pfi", y=f(X.to_numpy())), g.explain(X, "pfi", y=f(X.to_numpy()))
        )
    g = regions.Granite(**kw).fit(model, X)
    gs = regions.Granite(**kw).fit(model, shuffled)
    assert gs.rules() == g.rules() and gs.feature_names_ == ["a", "b", "c", "d"]
    assert exact_reprs(gs) == exact_reprs(g)
    np.testing.assert_array_equal(gs.leaf_losses_, g.leaf_losses_)
    np.testing.assert_array_equal(gs.X_, g.X_)
    D = regions.anchored_decomposition(model, X, order=2)
    Ds = regions.anchored_decomposition(model, shuffled, order=2)
    assert Ds.feature_names == D.feature_names
    np.testing.assert_array_equal(Ds.pure_effects(), D.pure_effects())
    np.testing.assert_array_equal(Ds.full_effects(), D.full_effects())


def _bad_frames(X):
    return {
        "renamed": (X.rename(columns={"d": "z"}), r"missing 'd'.*unexpected 'z'"),
        "missing": (X[["a", "b", "c"]], r"missing 'd'"),
        "extra": (X.assign(e=1.0), r"unexpected 'e'"),
        "duplicated": (X.set_axis(["a", "b", "a", "d"], axis=1), r"duplicated column names 'a'"),
    }


@pytest.mark.parametrize("case", ["renamed", "missing", "extra", "duplicated"])
def test_dataframe_columns_renamed_missing_extra_or_duplicated_raise(case):
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(18)
    X, f = _named_frame(rng, n=80)
    model = HistGradientBoostingRegressor(max_iter=5).fit(X, f(X.to_numpy()))
    bad, message = _bad_frames(X)[case]
    kw = dict(max_depth=1, min_samples_leaf=20)
    with pytest.raises(ValueError, match=message):  # at fit: against the tree model's names
        regions.Granite(**kw).fit(model, bad)
    with pytest.raises(ValueError, match=message):
        regions.anchored_decomposition(model, bad)
    for m in (model, f):  # at predict and explain: against the fitted names
        g = regions.Granite(**kw).fit(m, X)
        for call in (g.predict, lambda A: g.explain(A, "pdp")):
            with pytest.raises(ValueError, match=message):
                call(bad)
    if case == "duplicated":  # a callable has no names of its own: the frame's must be unique
        with pytest.raises(ValueError, match=message):
            regions.Granite(**kw).fit(f, bad)
        with pytest.raises(ValueError, match=message):
            regions.anchored_decomposition(f, bad)


def test_lookahead_never_worsens_the_objective():
    rng = np.random.default_rng(6)
    X = rng.choice([-1.0, 1.0], size=(160, 3))
    f = lambda A: A[:, 0] * A[:, 1] * A[:, 2]  # XOR-like: one split alone may not pay
    for alpha in (0.05, 0.3, 0.6):
        greedy = regions.Granite(alpha=alpha, min_samples_leaf=5).fit(f, X)
        ahead = regions.Granite(alpha=alpha, min_samples_leaf=5, lookahead=True).fit(f, X)
        assert ahead.objective_ <= greedy.objective_ + 1e-12


def test_tree_and_generic_paths_grow_the_same_tree():
    rng = np.random.default_rng(8)
    xgb = pytest.importorskip("xgboost")
    X, f = interacting(rng, n=80)
    model = xgb.XGBRegressor(n_estimators=20, max_depth=3).fit(X, f(X))
    kw = dict(max_depth=2, min_samples_leaf=15, alpha=0.01, split_features=[0, 1, 3])
    gt = regions.Granite(**kw).fit(model, X)
    gg = regions.Granite(method="generic", **kw).fit(model, X)
    assert gt.rules() == gg.rules() and len(gt.rules()) > 1
    np.testing.assert_allclose(gt.leaf_losses_, gg.leaf_losses_, rtol=1e-8, atol=1e-12)


def test_pfi_and_plot():
    rng = np.random.default_rng(9)
    X, y = toy(rng, n=120)
    g = regions.Granite(split_features=["x2"], min_samples_leaf=10).fit(toy_f, X)
    Xz = X.copy()
    Xz["x1"] = 0.0  # a column the model then ignores in every region
    imp = g.explain(X, kind="pfi", y=y)
    assert imp.shape == (2, 4) and np.all(imp[:, 0] > 0.1)
    imp0 = g.explain(Xz, kind="pfi", y=y)
    assert np.all(imp0[:, 0] == 0.0)
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from assay.plot import partition_tree

    ax = partition_tree(g)
    assert len(ax.texts) == 3


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(10)
    X, f = interacting(rng, n=60)
    with pytest.raises(ValueError, match="loss"):
        regions.Granite(loss="nope").fit(f, X)
    with pytest.raises(ValueError, match="split_features"):
        regions.Granite(split_features=[7]).fit(f, X)
    with pytest.raises(ValueError, match="split_features"):
        regions.Granite(split_features=["zz"]).fit(f, X)
    with pytest.raises(ValueError, match="min_samples_leaf"):
        regions.Granite(min_samples_leaf=0)
    with pytest.raises(ValueError, match="max_depth"):
        regions.Granite(max_depth=-1)
    with pytest.raises(ValueError, match="alpha"):
        regions.Granite(alpha=-0.1)
    with pytest.raises(ValueError, match="order"):
        regions.anchored_decomposition(f, X, order=3)
    g = regions.Granite(min_samples_leaf=10).fit(f, X)
    with pytest.raises(ValueError, match="columns"):
        g.predict(X[:, :3])
    Xn = X.copy()
    Xn[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        regions.Granite(split_features=[1]).fit(f, Xn)
    with pytest.raises(ValueError, match="NaN"):
        g.predict(Xn)
    with pytest.raises(ValueError, match="inf"):
        regions.Granite().fit(f, np.where(Xn == Xn, Xn, np.inf))
    with pytest.raises(ValueError, match="kind"):
        g.explain(X, kind="lime")
    with pytest.raises(ValueError, match="y"):
        g.explain(X, kind="pfi")
    with pytest.raises(RuntimeError, match="fit"):
        regions.Granite().rules()
    two = lambda A: np.column_stack([A[:, 0], A[:, 1]])
    with pytest.raises(ValueError, match="output"):
        regions.anchored_decomposition(two, X).pure_effects()
    D = regions.anchored_decomposition(f, X)
    with pytest.raises(ValueError, match="rows"):
        D.effects([0, 60])
    with pytest.raises(ValueError, match="u"):
        D.pure((0, 1))
    model = random_tree_model(rng, 4, 3, 3, n_outputs=2)
    with pytest.raises(ValueError, match="output"):
        regions.anchored_decomposition(model, X)
    with pytest.raises(TypeError, match="model"):
        regions.anchored_decomposition(object(), X)


@pytest.mark.parametrize("method", ["auto", "generic"])
def test_unordered_categoricals_split_into_any_subset(method):
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(20)
    n = 400
    color = pd.Categorical(rng.choice(["red", "green", "blue", "pink"], n), categories=["red", "green", "blue", "pink"])
    X = pd.DataFrame({"x": rng.normal(size=n), "color": color})
    warm = np.isin(X["color"].astype(object), ["red", "pink"])  # not contiguous in the category order
    y = X["x"].to_numpy() * warm
    model = HistGradientBoostingRegressor(max_iter=60, categorical_features="from_dtype").fit(X, y)
    for m in (model, lambda A: A[:, 0] * np.isin(A[:, 1], [0, 3])):  # the frame's codes: red 0, pink 3
        if m is not model and method == "generic":
            continue
        g = regions.Granite(
            split_features=["color"], min_samples_leaf=20, alpha=0.0, method=method, max_depth=1, save_losses=True
        ).fit(m, X)
        sides = sorted(sorted(ast.literal_eval(r[len("color in ") :])) for r in g.rules())
        assert sides == [["blue", "green"], ["pink", "red"]], g.rules()
        ids = g.predict(X)
        for k, rule in enumerate(g.rules()):
            np.testing.assert_array_equal(
                np.flatnonzero(rule_mask(rule, {"color": X["color"].astype(object).to_numpy()})),
                np.flatnonzero(ids == k),
            )
        (region,) = g.intervals()[0]
        assert region.feature == "color" and len(region.codes) == 2
        sets, losses = g.split_losses()[0]["losses"]["color"]
        assert len(sets) == 7 and losses.min() < 0.05 * losses.max()  # 2^(4-1) - 1 subsets
