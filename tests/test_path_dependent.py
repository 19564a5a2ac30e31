"""Path-dependent ("tree_path_dependent") SHAP without a background: every index against the
brute-force enumeration of the cover-weighted game, and against XGBoost / shap on real models."""

import numpy as np
import pytest

import assay
from assay.trees.reference import indices_from_game, path_dependent_coalition_values
from random_forests import random_rows, random_tree_model

INDEX_METHODS = {
    "shap": "shap_values",
    "banzhaf": "banzhaf_values",
    "interaction": "shap_interaction_values",
    "taylor": "shapley_taylor_values",
}


def _brute(model, x, index, player_of=None):
    v, P = path_dependent_coalition_values(model, x, player_of)
    return indices_from_game(v, P, index)


@pytest.mark.parametrize("index", list(INDEX_METHODS))
@pytest.mark.parametrize("seed", range(4))
def test_random_ensembles_equal_the_brute_force_game(index, seed):
    rng = np.random.default_rng(seed)
    n_outputs = [1, 1, 3, 2][seed]
    model = random_tree_model(rng, n_features=5, n_trees=4, max_depth=5, n_outputs=n_outputs, cat_features=(3,))
    X = random_rows(rng, model, 6, cat_features=(3,))
    ex = assay.TreeExplainer(model)
    got = getattr(ex, INDEX_METHODS[index])(X)
    scale = 1.0
    for r in range(len(X)):
        want = _brute(model, X[r], index)
        want = want[..., 0] if n_outputs == 1 else want
        np.testing.assert_allclose(got[r], want, atol=1e-10 * scale, rtol=0)
    v, _ = path_dependent_coalition_values(model, X[0])
    np.testing.assert_allclose(np.atleast_1d(ex.expected_value), v[()], atol=1e-12)


@pytest.mark.parametrize("dense_max_bits", [0, 2, 16])
def test_sparse_and_dense_leaf_tables_agree(dense_max_bits):
    rng = np.random.default_rng(11)
    model = random_tree_model(rng, n_features=6, n_trees=5, max_depth=6)
    X = random_rows(rng, model, 8)
    ex = assay.TreeExplainer(model, dense_max_bits=dense_max_bits)
    for r in range(3):
        np.testing.assert_allclose(ex.shap_values(X[r : r + 1])[0], _brute(model, X[r], "shap")[:, 0], atol=1e-10)
        np.testing.assert_allclose(
            ex.shap_interaction_values(X[r : r + 1])[0], _brute(model, X[r], "interaction")[..., 0], atol=1e-10
        )


def test_groups_of_features_are_players_of_the_path_dependent_game():
    rng = np.random.default_rng(5)
    model = random_tree_model(rng, n_features=6, n_trees=4, max_depth=5)
    X = random_rows(rng, model, 4)
    groups = [[0, 3], [1, 4, 5]]
    ex = assay.TreeExplainer(model, groups=groups)
    player_of = np.array([0, 1, 2, 0, 1, 1])
    for r in range(len(X)):
        np.testing.assert_allclose(
            ex.shap_values(X[r : r + 1])[0], _brute(model, X[r], "shap", player_of)[:, 0], atol=1e-10
        )


def test_xgboost_pred_contribs_and_interactions_agree():
    xgb = pytest.importorskip("xgboost")
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = X.copy()
    X[::7, 2] = np.nan
    model = xgb.XGBRegressor(n_estimators=40, max_depth=5).fit(X, y)
    ex = assay.TreeExplainer(model)
    dm = xgb.DMatrix(X[:100])
    contribs = model.get_booster().predict(dm, pred_contribs=True)
    scale = np.abs(ex.predict_raw(X)).max()
    np.testing.assert_allclose(ex.shap_values(X[:100]), contribs[:, :-1], atol=1e-5 * scale)
    assert abs(ex.expected_value - contribs[0, -1]) <= 1e-5 * scale
    inter = model.get_booster().predict(dm, pred_interactions=True)
    np.testing.assert_allclose(ex.shap_interaction_values(X[:100]), inter[:, :-1, :-1], atol=1e-5 * scale)


def test_xgboost_multiclass_matches_pred_contribs():
    xgb = pytest.importorskip("xgboost")
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=4).fit(X, y)
    ex = assay.TreeExplainer(model)
    contribs = model.get_booster().predict(xgb.DMatrix(X), pred_contribs=True)  # (n, K, d + 1)
    np.testing.assert_allclose(ex.shap_values(X), np.transpose(contribs[:, :, :-1], (0, 2, 1)), atol=1e-4)


@pytest.mark.parametrize(
    "kind", ["lightgbm", "random_forest", "gradient_boosting", "hist_gradient_boosting", "forest_classifier"]
)
def test_shap_tree_path_dependent_agrees(kind):
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_breast_cancer, load_diabetes

    if kind == "forest_classifier":
        from sklearn.ensemble import RandomForestClassifier

        X, y = load_breast_cancer(return_X_y=True)
        model = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(X, y)
    else:
        X, y = load_diabetes(return_X_y=True)
        if kind == "lightgbm":
            lgb = pytest.importorskip("lightgbm")
            model = lgb.LGBMRegressor(n_estimators=30, num_leaves=15, verbose=-1).fit(X, y)
        elif kind == "random_forest":
            from sklearn.ensemble import RandomForestRegressor

            model = RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0).fit(X, y)
        elif kind == "gradient_boosting":
            from sklearn.ensemble import GradientBoostingRegressor

            model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
        else:
            from sklearn.ensemble import HistGradientBoostingRegressor

            model = HistGradientBoostingRegressor(max_iter=30, random_state=0).fit(X, y)
    rows = X[:40]
    ex = assay.TreeExplainer(model)
    theirs = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    mine = ex.shap_values(rows)
    want = np.asarray(theirs.shap_values(rows, check_additivity=False))
    if mine.ndim == 3 and want.ndim == 3 and want.shape[0] != mine.shape[0]:
        want = np.transpose(want, (1, 2, 0))
    scale = np.abs(ex.predict_raw(rows)).max()
    np.testing.assert_allclose(mine, want.reshape(mine.shape), atol=1e-5 * max(scale, 1.0))
    np.testing.assert_allclose(
        np.atleast_1d(ex.expected_value), np.atleast_1d(theirs.expected_value).reshape(-1), atol=1e-5 * max(scale, 1.0)
    )
    np.testing.assert_allclose(mine.sum(1) + ex.expected_value, ex.predict_raw(rows), atol=1e-9 * max(scale, 1.0))


def test_feature_perturbation_follows_shap():
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    model = xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(X, X[:, 0])
    assert assay.TreeExplainer(model).feature_perturbation == "tree_path_dependent"
    assert assay.TreeExplainer(model, X[:20]).feature_perturbation == "interventional"
    assert assay.TreeExplainer(model, feature_perturbation="tree_path_dependent").data is None
    with pytest.raises(ValueError, match="^data: .*interventional"):
        assay.TreeExplainer(model, feature_perturbation="interventional")
    with pytest.raises(ValueError, match="^data: .*tree_path_dependent"):
        assay.TreeExplainer(model, X[:20], feature_perturbation="tree_path_dependent")
    with pytest.raises(ValueError, match="^feature_perturbation: "):
        assay.TreeExplainer(model, feature_perturbation="observational")
    with pytest.raises(ValueError, match="^algorithm="):
        assay.TreeExplainer(model, algorithm="pairwise")
    with pytest.raises(ValueError, match="^device="):
        assay.TreeExplainer(model, device="cuda")


def test_a_model_without_covers_is_refused_clearly():
    rng = np.random.default_rng(0)
    model = random_tree_model(rng, n_features=3, n_trees=2, max_depth=3)
    model.node_cover = None
    with pytest.raises(ValueError, match="^model: .*covers"):
        assay.TreeExplainer(model)


def test_path_dependent_explainer_pickles():
    import pickle

    rng = np.random.default_rng(3)
    model = random_tree_model(rng, n_features=4, n_trees=3, max_depth=4)
    X = random_rows(rng, model, 5)
    ex = assay.TreeExplainer(model)
    back = pickle.loads(pickle.dumps(ex))
    np.testing.assert_array_equal(back.shap_values(X), ex.shap_values(X))


def _xgb_contribs(model, X):
    import xgboost as xgb

    booster = model if isinstance(model, xgb.Booster) else model.get_booster()
    types = booster.feature_types
    dm = xgb.DMatrix(X, feature_types=types, enable_categorical=bool(types and "c" in types))
    limit = getattr(model, "best_iteration", None) if not isinstance(model, xgb.Booster) else None
    out = booster.predict(dm, pred_contribs=True, iteration_range=(0, limit + 1) if limit is not None else (0, 0))
    return np.moveaxis(out[..., :-1], -2, -1) if out.ndim == 3 else out[:, :-1]


def test_every_xgboost_model_kind_matches_pred_contribs():
    pytest.importorskip("xgboost")
    from models import xgb_models

    for name, (model, X) in xgb_models(np.random.default_rng(7)).items():
        ex = assay.TreeExplainer(model)
        mine = ex.shap_values(X[:60])
        scale = max(1.0, float(np.abs(ex.predict_raw(X[:60])).max()))
        np.testing.assert_allclose(
            mine, _xgb_contribs(model, X[:60]).reshape(mine.shape), atol=1e-5 * scale, err_msg=name
        )


def test_every_lightgbm_model_kind_matches_pred_contrib():
    pytest.importorskip("lightgbm")
    from models import lgb_models

    for name, (model, X) in lgb_models(np.random.default_rng(8)).items():
        ex = assay.TreeExplainer(model)
        mine = ex.shap_values(X[:60])
        theirs = model.predict(X[:60], pred_contrib=True)
        K = ex.n_outputs
        theirs = theirs.reshape(len(mine), K, -1)[:, :, :-1].transpose(0, 2, 1).reshape(mine.shape)
        if name == "lgb_rf":  # RF mode: LightGBM's contributions are of the un-averaged sum
            theirs = theirs / model.booster_.current_iteration()
        scale = max(1.0, float(np.abs(ex.predict_raw(X[:60])).max()))
        np.testing.assert_allclose(mine, theirs, atol=1e-9 * scale, err_msg=name)
