"""model_output="probability" / "log_loss" (shap's transformed outputs, interventional game):
brute-force enumeration per (row, background row) pair, the pairwise recursion as a per-pair
oracle, agreement with shap 0.51, additivity, and argument checks."""

import warnings
from itertools import combinations

import numpy as np
import pytest

from assay import _core
from assay.trees.convert import convert_model
from assay.trees.forest import ForestBuilder, TreeModel
from assay.trees.model_output import (
    LOGISTIC,
    PROBABILITY,
    SOFTMAX,
    SQUARED_ERROR,
    expected_value,
    model_objective,
    transformed_shap_values,
)
from assay.trees.reference import _indices
from conftest import assert_close_scaled
from models import data
from random_forests import random_rows, random_tree_model

SIGMOID, LOGISTIC_LOSS, SQUARED_LOSS = 1, 2, 3


def _g(transform, f, y):
    if transform == SIGMOID:
        return 1.0 / (1.0 + np.exp(-f))
    if transform == LOGISTIC_LOSS:
        return np.logaddexp(0.0, f) - y * f
    return (f - y) ** 2


def _g_prime(transform, f, y):
    if transform == SIGMOID:
        s = 1.0 / (1.0 + np.exp(-f))
        return s * (1 - s)
    if transform == LOGISTIC_LOSS:
        return 1.0 / (1.0 + np.exp(-f)) - y
    return 2 * (f - y)


def _slope(transform, a, b, y):
    """(g(a) - g(b)) / (a - b), g'(a) at a == b."""
    if a == b:
        return _g_prime(transform, a, y)
    return (_g(transform, a, y) - _g(transform, b, y)) / (a - b)


def brute_force(predict, X, bg, transform, y=None, player_of=None):
    """shap's definition from scratch: for every (x, z), the Shapley values of v(S) = f(x_S, z_rest)
    by enumerating coalitions, rescaled by (g(f(x)) - g(f(z))) / (f(x) - f(z)), averaged over z.
    One predict call per row x (every hybrid of every z). Returns (values (n, P), expected (n,))."""
    d = X.shape[1]
    player_of = np.arange(d) if player_of is None else np.asarray(player_of)
    P = int(player_of.max()) + 1
    coalitions = [S for size in range(P + 1) for S in combinations(range(P), size)]
    rows, expected = [], []
    for i, x in enumerate(X):
        yi = 0.0 if y is None else float(y[i])
        hybrids = np.repeat(bg, len(coalitions), axis=0)  # z-major: (z, S)
        for k, S in enumerate(coalitions):
            cols = np.flatnonzero(np.isin(player_of, S))
            hybrids[k :: len(coalitions)][:, cols] = x[cols]
        f = np.asarray(predict(np.vstack([x[None, :], hybrids])), dtype=np.float64).reshape(-1)
        fx, fh = f[0], f[1:].reshape(len(bg), len(coalitions))
        total, base = 0.0, 0.0
        for j in range(len(bg)):
            v = {S: fh[j, k : k + 1] for k, S in enumerate(coalitions)}
            fz = fh[j, 0]
            total = total + _indices(v, P, "shap")[:, 0] * _slope(transform, fx, fz, yi)
            base += _g(transform, fz, yi)
        rows.append(total / len(bg))
        expected.append(base / len(bg))
    return np.array(rows), np.array(expected)


def per_pair_oracle(model, X, bg, transform, y=None, player_of=None, n_players=0):
    """The same definition with the pairwise recursion (values_pairwise) as the single-reference
    game's Shapley values: any number of players."""
    fx = model.predict_raw(X)[:, 0]
    fz = model.predict_raw(bg)[:, 0]
    out = 0.0
    for j in range(len(bg)):
        phi = _core.values_pairwise(model.forest, X, bg[j : j + 1], player_of_feature=player_of, n_players=n_players)[
            :, :, 0
        ]
        c = np.array([_slope(transform, fx[i], fz[j], 0.0 if y is None else y[i]) for i in range(len(X))])
        out = out + phi * c[:, None]
    return out / len(bg)


def _ir_predict(model):
    return lambda A: model.predict_raw(np.ascontiguousarray(A, dtype=np.float64))


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("transform", [SIGMOID, LOGISTIC_LOSS, SQUARED_LOSS])
def test_random_forests_against_brute_force(seed, transform):
    rng = np.random.default_rng(700 + seed)
    d = int(rng.integers(1, 6))
    cats = tuple(c for c in range(d) if rng.random() < 0.3)
    model = random_tree_model(
        rng, d, n_trees=int(rng.integers(1, 5)), max_depth=int(rng.integers(1, 6)), cat_features=cats
    )
    bg = random_rows(rng, model, 7, cats)
    X = random_rows(rng, model, 5, cats)
    y = (
        None
        if transform == SIGMOID
        else (rng.integers(0, 2, len(X)).astype(float) if transform == LOGISTIC_LOSS else rng.normal(size=len(X)))
    )
    values, base = _core.values_transformed(model.forest, X, bg, transform, y=y)
    want, want_base = brute_force(_ir_predict(model), X, bg, transform, y)
    assert_close_scaled(values[:, :, 0], want, 1e-10, "values vs brute force")
    assert_close_scaled(base[:, 0], want_base, 1e-12, "base vs brute force")
    # rows add up to g(f(x)) - base
    fx = model.predict_raw(X)[:, 0]
    total = _g(transform, fx, 0.0 if y is None else y)
    assert_close_scaled(values[:, :, 0].sum(axis=1) + base[:, 0], total, 1e-12, "additivity")


@pytest.mark.parametrize("transform", [SIGMOID, LOGISTIC_LOSS])
def test_lightgbm_and_sklearn_classifiers_against_brute_force_with_their_own_margin(transform):
    """The oracle evaluates hybrid rows with the library's own float64 margin."""
    import lightgbm as lgb
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    X, y = data(rng, n=400, d=4, classes=2)
    models = {
        "lgb": (
            lgb.LGBMClassifier(n_estimators=6, num_leaves=6, verbose=-1).fit(X, y),
            lambda m, A: m.predict(A, raw_score=True),
        ),
        "gbc": (
            GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y),
            lambda m, A: m.decision_function(A),
        ),
        "hgb": (
            HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=5).fit(X, y),
            lambda m, A: m.decision_function(A),
        ),
    }
    bg, fg, labels = X[:6], X[100:104], y[100:104].astype(float)
    for name, (m, raw) in models.items():
        mo = "probability" if transform == SIGMOID else "log_loss"
        values, expected = transformed_shap_values(convert_model(m), fg, bg, mo, y=labels, source_model=m)
        want, want_base = brute_force(lambda A: raw(m, A), fg, bg, transform, None if transform == SIGMOID else labels)
        assert_close_scaled(values, want, 1e-10, f"{name} {mo}")
        assert_close_scaled(np.broadcast_to(expected, want_base.shape), want_base, 1e-10, f"{name} expected")


def test_xgboost_against_brute_force():
    """XGBoost's own margin is float32: the oracle on it agrees to float32 rounding, the oracle on
    the converted model's float64 margin to 1e-10."""
    import xgboost as xgb

    rng = np.random.default_rng(4)
    X, y = data(rng, n=400, d=4, classes=2)
    m = xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(X, y)
    model = convert_model(m)
    bg, fg, labels = X[:6], X[200:204], y[200:204].astype(float)
    values, _ = transformed_shap_values(model, fg, bg, "log_loss", y=labels, source_model=m)
    assert_close_scaled(values, brute_force(_ir_predict(model), fg, bg, LOGISTIC_LOSS, labels)[0], 1e-10, "IR margin")
    own = brute_force(lambda A: m.predict(A, output_margin=True), fg, bg, LOGISTIC_LOSS, labels)[0]
    assert_close_scaled(values, own, 1e-5, "XGBoost's margin")


def test_groups_against_brute_force():
    rng = np.random.default_rng(5)
    model = random_tree_model(rng, 6, n_trees=4, max_depth=5)
    bg, X = random_rows(rng, model, 6), random_rows(rng, model, 4)
    player_of = np.array([0, 0, 1, 2, 2, 3], dtype=np.int32)
    for transform in (SIGMOID, SQUARED_LOSS):
        y = None if transform == SIGMOID else rng.normal(size=len(X))
        values, base = _core.values_transformed(
            model.forest, X, bg, transform, y=y, player_of_feature=player_of, n_players=4
        )
        want, want_base = brute_force(_ir_predict(model), X, bg, transform, y, player_of)
        assert values.shape == (4, 4, 1)
        assert_close_scaled(values[:, :, 0], want, 1e-10, "grouped players")
        got, expected = transformed_shap_values(
            model,
            X,
            bg,
            "probability" if transform == SIGMOID else "log_loss",
            y=y,
            objective=LOGISTIC if transform == SIGMOID else SQUARED_ERROR,
            player_of=player_of,
        )
        assert_close_scaled(got, want, 1e-10, "grouped players, Python entry point")


def _two_stumps():
    """f(x) = [x0 < 0] - [x0 >= 0] - [x1 < 0] + [x1 >= 0]: x = (-1, -1) and z = (1, 1) have equal
    margins 0 but single-reference values (2, -2)."""
    b = ForestBuilder(2, 1)
    for feat, lv, rv in ((0, 1.0, -1.0), (1, -1.0, 1.0)):
        b.add_tree(
            feature=[feat, -1, -1],
            threshold=[0.0, 0, 0],
            left=[1, -1, -1],
            right=[2, -1, -1],
            default_left=[0, 0, 0],
            policy=0,
            value=[0.0, lv, rv],
            output=0,
        )
    return TreeModel(forest=b.build(0.0), source="hand-built", n_features=2, n_outputs=1)


def test_equal_margins_use_the_derivative():
    model = _two_stumps()
    X, bg = np.array([[-1.0, -1.0]]), np.array([[1.0, 1.0]])
    assert model.predict_raw(X)[0, 0] == model.predict_raw(bg)[0, 0] == 0.0
    values, expected = transformed_shap_values(model, X, bg, "probability", objective=LOGISTIC)
    np.testing.assert_allclose(values, [[0.5, -0.5]], rtol=0, atol=1e-15)  # sigmoid'(0) = 1/4 times (2, -2)
    assert expected == 0.5
    values, expected = transformed_shap_values(model, X, bg, "log_loss", y=np.array([1.0]), objective=LOGISTIC)
    np.testing.assert_allclose(values, [[-1.0, 1.0]], rtol=0, atol=1e-15)  # (sigmoid(0) - 1) times (2, -2)


# --------------------------------------------------------------------------- kernel paths


def test_wide_paths_and_deep_leaves_match_the_pairwise_oracle():
    """Leaves with more than 12 players scan their groups; a path with more than 64 distinct
    players falls back to the pairwise recursion (with the same weights)."""
    rng = np.random.default_rng(6)
    deep = random_tree_model(rng, 30, n_trees=3, max_depth=14, leaf_prob=0.25)
    n = 70  # a chain: node k splits on feature k, its left child is leaf n + k, the last right child leaf 2n
    b = ForestBuilder(n, 1)
    b.add_tree(
        feature=list(range(n)) + [-1] * (n + 1),
        threshold=list(rng.normal(size=n)) + [0.0] * (n + 1),
        left=[n + k for k in range(n)] + [-1] * (n + 1),
        right=[k + 1 for k in range(n - 1)] + [2 * n] + [-1] * (n + 1),
        default_left=[0] * (2 * n + 1),
        policy=0,
        value=[0.0] * n + list(rng.normal(size=n + 1)),
        output=0,
    )
    b.add_tree(
        feature=[3, -1, -1],
        threshold=[0.0, 0, 0],
        left=[1, -1, -1],
        right=[2, -1, -1],
        default_left=[0, 0, 0],
        policy=0,
        value=[0.0, 1.0, -2.0],
        output=0,
    )
    chain = TreeModel(forest=b.build(0.3), source="hand-built", n_features=n, n_outputs=1)
    for model in (deep, chain):
        d = model.n_features
        bg = rng.normal(size=(25, d)) * 1.5
        X = rng.normal(size=(7, d)) * 1.5
        for transform in (SIGMOID, LOGISTIC_LOSS):
            y = None if transform == SIGMOID else rng.integers(0, 2, len(X)).astype(float)
            values, _ = _core.values_transformed(model.forest, X, bg, transform, y=y)
            assert_close_scaled(values[:, :, 0], per_pair_oracle(model, X, bg, transform, y), 1e-10, f"d={d}")


def test_chunks_threads_and_wide_row_ids_give_the_same_values():
    rng = np.random.default_rng(7)
    model = random_tree_model(rng, 8, n_trees=12, max_depth=6)
    bg, X = random_rows(rng, model, 50), random_rows(rng, model, 37)
    ref, base = _core.values_transformed(model.forest, X, bg, SIGMOID, n_jobs=1)
    for kwargs in (dict(n_jobs=2), dict(budget_bytes=0), dict(budget_bytes=20000, n_jobs=2)):
        got, got_base = _core.values_transformed(model.forest, X, bg, SIGMOID, **kwargs)
        np.testing.assert_array_equal(got, ref, err_msg=str(kwargs))  # every row's sums run in one order
        np.testing.assert_array_equal(got_base, base)
    # 2^16 background rows and more take 32-bit row ids (and the 256-leaf trees' patterns are
    # built a slice of leaves at a time): the mean over two halves of 16-bit runs
    deep = random_tree_model(rng, 8, n_trees=3, max_depth=8, leaf_prob=0.0)
    big = random_rows(rng, deep, 70000, nan_frac=0.0)
    X = random_rows(rng, deep, 3)
    whole, _ = _core.values_transformed(deep.forest, X, big, SIGMOID)
    a, _ = _core.values_transformed(deep.forest, X, big[:35000], SIGMOID)
    b, _ = _core.values_transformed(deep.forest, X, big[35000:], SIGMOID)
    assert_close_scaled(whole, (a + b) / 2, 1e-12, "32-bit row ids")


def test_identity_is_the_raw_game():
    rng = np.random.default_rng(8)
    model = random_tree_model(rng, 5, n_trees=4, max_depth=5, n_outputs=3)
    bg, X = random_rows(rng, model, 20), random_rows(rng, model, 9)
    values, base = _core.values_transformed(model.forest, X, bg, 0)
    assert_close_scaled(values, _core.values_pairwise(model.forest, X, bg), 1e-12, "identity vs pairwise")
    assert_close_scaled(base, np.broadcast_to(model.predict_raw(bg).mean(axis=0), base.shape), 1e-12, "raw mean")


def test_progress_counts_row_tree_pairs():
    rng = np.random.default_rng(9)
    model = random_tree_model(rng, 4, n_trees=5, max_depth=4)
    bg, X = random_rows(rng, model, 10), random_rows(rng, model, 6)
    seen = []
    transformed_shap_values(model, X, bg, "probability", objective=LOGISTIC, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (30, 30)


# --------------------------------------------------------------------------- shap 0.51


def _shap_reference(model, bg, fg, model_output, labels):
    shap = pytest.importorskip("shap")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output=model_output)
        if model_output == "log_loss":
            values = ex.shap_values(fg, labels)
            expected = np.array([np.asarray(ex.expected_value(t)).reshape(-1)[0] for t in labels])
        else:
            values = ex.shap_values(fg)
            expected = ex.expected_value
    return np.asarray(values), expected


def _classifiers(rng):
    import lightgbm as lgb
    import xgboost as xgb

    X, y = data(rng, n=800, classes=2)
    X = X.astype(np.float32).astype(np.float64)
    return (
        X,
        y,
        {
            "xgboost": xgb.XGBClassifier(n_estimators=30, max_depth=4).fit(X, y),
            "lightgbm": lgb.LGBMClassifier(n_estimators=30, num_leaves=15, verbose=-1).fit(X, y),
        },
    )


@pytest.mark.parametrize("model_output", ["probability", "log_loss"])
def test_binary_classifiers_match_shap(model_output):
    X, y, models = _classifiers(np.random.default_rng(10))
    bg, fg, labels = X[:60], X[400:430], y[400:430].astype(float)
    for name, m in models.items():
        values, expected = transformed_shap_values(convert_model(m), fg, bg, model_output, y=labels, source_model=m)
        want, want_expected = _shap_reference(m, bg, fg, model_output, labels)
        assert_close_scaled(values, want, 1e-6, f"{name} {model_output}")
        assert_close_scaled(
            np.broadcast_to(expected, np.shape(want_expected)), want_expected, 1e-6, f"{name} expected value"
        )
        fx = convert_model(m).predict_raw(fg)[:, 0]
        total = _g(SIGMOID if model_output == "probability" else LOGISTIC_LOSS, fx, labels)
        alone = expected_value(convert_model(m), bg, model_output, y=labels, source_model=m)
        assert_close_scaled(np.broadcast_to(alone, np.shape(expected)), expected, 1e-13, f"{name} expected_value()")
        assert_close_scaled(values.sum(axis=1) + expected, total, 1e-12, f"{name} additivity")


def test_shap_masker_background_gives_the_same_reference():
    shap = pytest.importorskip("shap")
    X, y, models = _classifiers(np.random.default_rng(11))
    bg, fg = X[:30], X[500:510]
    m = models["xgboost"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = shap.maskers.Independent(bg, max_samples=len(bg))
        want = shap.TreeExplainer(
            m, data=masker, feature_perturbation="interventional", model_output="probability"
        ).shap_values(fg)
    values, _ = transformed_shap_values(convert_model(m), fg, bg, "probability", source_model=m)
    assert_close_scaled(values, want, 1e-6, "masker background")


def test_regressors_log_loss_matches_shap():
    import lightgbm as lgb
    import xgboost as xgb

    rng = np.random.default_rng(12)
    X, y = data(rng, n=800)
    X = X.astype(np.float32).astype(np.float64)
    bg, fg, target = X[:80], X[400:440], y[400:440]
    for name, m in {
        "xgboost": xgb.XGBRegressor(n_estimators=30, max_depth=4).fit(X, y),
        "lightgbm": lgb.LGBMRegressor(n_estimators=30, num_leaves=15, verbose=-1).fit(X, y),
    }.items():
        values, expected = transformed_shap_values(convert_model(m), fg, bg, "log_loss", y=target, source_model=m)
        want, want_expected = _shap_reference(m, bg, fg, "log_loss", target)
        assert_close_scaled(values, want, 1e-6, f"{name} squared loss")
        assert_close_scaled(expected, want_expected, 1e-6, f"{name} expected value")
        alone = expected_value(convert_model(m), bg, "log_loss", y=target, source_model=m)
        assert_close_scaled(alone, expected, 1e-12, f"{name} expected_value()")


def test_forest_classifier_probability_is_the_raw_game():
    from sklearn.ensemble import RandomForestClassifier

    import assay

    rng = np.random.default_rng(13)
    X, y = data(rng, n=300, classes=2)
    m = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    values, expected = transformed_shap_values(convert_model(m), X[:10], X[50:80], "probability", source_model=m)
    ex = assay.TreeExplainer(m, data=X[50:80])
    assert_close_scaled(values, ex.shap_values(X[:10]), 1e-12, "probability == raw")
    assert_close_scaled(expected, ex.expected_value, 1e-12, "expected value")
    alone = expected_value(convert_model(m), X[50:80], "probability", source_model=m)
    assert_close_scaled(alone, ex.expected_value, 1e-12, "expected_value()")


# --------------------------------------------------------------------------- objectives and arguments


def test_model_objective_reads_each_library():
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    rng = np.random.default_rng(14)
    X, y = data(rng, n=200)
    Xc, yc = data(rng, n=200, classes=2)
    Xm, ym = data(rng, n=200, classes=3)
    cases = [
        (xgb.XGBClassifier(n_estimators=2).fit(Xc, yc), LOGISTIC),
        (xgb.XGBClassifier(n_estimators=2).fit(Xm, ym), SOFTMAX),
        (xgb.XGBRegressor(n_estimators=2).fit(X, y), SQUARED_ERROR),
        (xgb.XGBRegressor(n_estimators=2, objective="reg:absoluteerror").fit(X, y), None),
        (lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(Xc, yc), LOGISTIC),
        (lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(Xm, ym), SOFTMAX),
        (lgb.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, y), SQUARED_ERROR),
        (lgb.LGBMRegressor(n_estimators=2, objective="huber", verbose=-1).fit(X, y), None),
        (GradientBoostingClassifier(n_estimators=2).fit(Xc, yc), LOGISTIC),
        (GradientBoostingClassifier(n_estimators=2).fit(Xm, ym), SOFTMAX),
        (GradientBoostingRegressor(n_estimators=2).fit(X, y), SQUARED_ERROR),
        (RandomForestClassifier(n_estimators=2).fit(Xc, yc), PROBABILITY),
        (RandomForestRegressor(n_estimators=2).fit(X, y), SQUARED_ERROR),
    ]
    for model, kind in cases:
        assert model_objective(model)[0] == kind, (type(model).__name__, model_objective(model))
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(Xc, yc), 2)
    assert model_objective(booster)[0] == LOGISTIC
    assert model_objective(xgb.XGBClassifier(n_estimators=2).fit(Xc, yc).get_booster())[0] == LOGISTIC
    assert model_objective(object()) == (None, "unknown")


def test_bad_arguments_name_the_argument():
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(15)
    Xc, yc = data(rng, n=300, classes=2)
    Xm, ym = data(rng, n=300, classes=3)
    X, yr = data(rng, n=300)
    clf = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(Xc, yc)
    model = convert_model(clf)
    bg, fg = Xc[:20], Xc[20:30]
    labels = yc[20:30].astype(float)

    def call(*args, **kwargs):
        return transformed_shap_values(*args, **kwargs)

    with pytest.raises(ValueError, match="model_output"):
        call(model, fg, bg, "proba", source_model=clf)
    with pytest.raises(ValueError, match="^y: .*pass y"):
        call(model, fg, bg, "log_loss", source_model=clf)
    with pytest.raises(ValueError, match=r"^y: expected one label per row"):
        call(model, fg, bg, "log_loss", y=labels[:5], source_model=clf)
    with pytest.raises(ValueError, match=r"^y: the log loss of a binary classifier"):
        call(model, fg, bg, "log_loss", y=labels * 2 - 1, source_model=clf)
    with pytest.raises(ValueError, match=r"^y: contains NaN"):
        call(model, fg, bg, "log_loss", y=np.full(10, np.nan), source_model=clf)
    with pytest.raises(ValueError, match="objective"):  # an IR model alone: no objective known
        call(model, fg, bg, "probability")
    with pytest.raises(ValueError, match="^objective"):
        call(model, fg, bg, "probability", objective="logit")
    with pytest.raises(ValueError, match="multi-class"):
        m = xgb.XGBClassifier(n_estimators=2).fit(Xm, ym)
        call(convert_model(m), Xm[:5], Xm[5:10], "probability", source_model=m)
    with pytest.raises(ValueError, match="regressor"):
        m = xgb.XGBRegressor(n_estimators=2).fit(X, yr)
        call(convert_model(m), X[:5], X[5:10], "probability", source_model=m)
    with pytest.raises(ValueError, match="class probabilities"):
        m = RandomForestClassifier(n_estimators=2).fit(Xc, yc)
        call(convert_model(m), fg, bg, "log_loss", y=labels, source_model=m)
    with pytest.raises(ValueError, match="^X: the model has"):
        call(model, fg[:, :3], bg, "probability", source_model=clf)
    with pytest.raises(ValueError, match="^data: expected at least one row"):
        call(model, fg, bg[:0], "probability", source_model=clf)
    with pytest.raises(ValueError, match="^n_jobs"):
        call(model, fg, bg, "probability", source_model=clf, n_jobs=0)
    with pytest.raises(ValueError, match="^out"):
        call(model, fg, bg, "probability", source_model=clf, out=np.zeros((3, 3)))
    with pytest.raises(TypeError, match="^model"):
        call(clf, fg, bg, "probability")
    with pytest.raises(ValueError, match="^y: .*pass y"):
        expected_value(model, bg, "log_loss", source_model=clf)
    with pytest.raises(ValueError, match="^model_output"):
        expected_value(model, bg, "margin", source_model=clf)
    with pytest.raises(ValueError, match="^transform"):
        _core.values_transformed(model.forest, fg, bg, 7)
    with pytest.raises(ValueError, match="^y: expected a 1-D array"):
        _core.values_transformed(model.forest, fg, bg, LOGISTIC_LOSS, y=np.zeros(3))
    with pytest.raises(ValueError, match="^y: the loss needs"):
        _core.values_transformed(model.forest, fg, bg, SQUARED_LOSS)
    # y is accepted and ignored where the output does not depend on labels (shap's signature)
    a, _ = call(model, fg, bg, "probability", y=labels, source_model=clf)
    out = np.empty_like(a)
    b, _ = call(model, fg, bg, "probability", source_model=clf, out=out)
    assert b is out
    np.testing.assert_array_equal(a, b)
