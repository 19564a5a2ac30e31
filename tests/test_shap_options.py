"""shap's options on TreeExplainer: check_additivity, tree_limit, approximate, interactions=True."""

import warnings

import numpy as np
import pytest

import assay

xgb = pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X, y, xgb.XGBRegressor(n_estimators=30, max_depth=3).fit(X, y)


@pytest.mark.parametrize("background", [True, False])
def test_tree_limit_explains_the_first_rounds(diabetes, background):
    X, y, model = diabetes
    ex = assay.TreeExplainer(model, X[:60] if background else None)
    phi = ex.shap_values(X[:50], tree_limit=10)
    first = ex._of_first_rounds(10)
    margin = model.predict(X[:50], output_margin=True, iteration_range=(0, 10))
    np.testing.assert_allclose(phi.sum(1) + first.expected_value, margin, atol=1e-4)
    np.testing.assert_array_equal(ex.shap_values(X[:50], tree_limit=-1), ex.shap_values(X[:50]))
    if not background:
        want = model.get_booster().predict(xgb.DMatrix(X[:50]), pred_contribs=True, iteration_range=(0, 10))
        np.testing.assert_allclose(phi, want[:, :-1], atol=1e-4)
    inter = ex.shap_interaction_values(X[:5], tree_limit=10)
    np.testing.assert_allclose(inter.sum(2), phi[:5], atol=1e-9)
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="^tree_limit: "):
            ex.shap_values(X[:5], tree_limit=bad)


def test_tree_limit_on_lightgbm_equals_its_own_contributions():
    lgb = pytest.importorskip("lightgbm")
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = lgb.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1).fit(X, y)
    want = model.predict(X[:40], pred_contrib=True, num_iteration=7)
    np.testing.assert_allclose(assay.TreeExplainer(model).shap_values(X[:40], tree_limit=7), want[:, :-1], atol=1e-9)


def test_tree_limit_is_refused_clearly_where_rounds_are_unknown():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    ex = assay.TreeExplainer(RandomForestRegressor(n_estimators=3, max_depth=3).fit(X, X[:, 0]), X[:20])
    with pytest.raises(TypeError, match="^tree_limit: "):
        ex.shap_values(X[:3], tree_limit=2)


def test_check_additivity_passes_on_a_faithful_model_and_raises_on_a_changed_one(diabetes):
    X, y, model = diabetes
    ex = assay.TreeExplainer(model, X[:60])
    np.testing.assert_array_equal(ex.shap_values(X[:20], check_additivity=True), ex.shap_values(X[:20]))
    ex._source = xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(X, y)  # as if the model changed since
    with pytest.raises(ValueError, match="^check_additivity: .*differ"):
        ex.shap_values(X[:20], check_additivity=True)


@pytest.mark.parametrize("kind", ["lightgbm", "forest_classifier", "hist_gradient_boosting", "gradient_boosting"])
def test_check_additivity_reads_each_librarys_raw_output(kind):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    if kind == "lightgbm":
        lgb = pytest.importorskip("lightgbm")
        model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(X, y)
    elif kind == "forest_classifier":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    elif kind == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    else:
        from sklearn.ensemble import GradientBoostingClassifier

        model = GradientBoostingClassifier(n_estimators=10, max_depth=2).fit(X, y)
    assay.TreeExplainer(model, X[:50]).shap_values(X[:30], check_additivity=True)
    assay.TreeExplainer(model).shap_values(X[:30], check_additivity=True)


def test_approximate_warns_and_returns_exact_values(diabetes):
    X, y, model = diabetes
    ex = assay.TreeExplainer(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        phi = ex.shap_values(X[:5], approximate=True)
    assert any("approximate" in str(w.message) for w in caught)
    np.testing.assert_array_equal(phi, ex.shap_values(X[:5]))


def test_call_with_interactions_returns_interaction_values(diabetes):
    X, y, model = diabetes
    ex = assay.TreeExplainer(model, X[:40])
    e = ex(X[:6], interactions=True)
    np.testing.assert_array_equal(np.asarray(e.values), ex.shap_interaction_values(X[:6]))
    e10 = ex(X[:6], tree_limit=10)
    np.testing.assert_allclose(np.asarray(e10.base_values), ex._of_first_rounds(10).expected_value)


def test_model_output_probability_and_log_loss_through_the_explainer():
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)
    bg = X[:80]
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    ex = assay.TreeExplainer(model, bg, model_output="probability")
    phi = ex.shap_values(X[:40])
    np.testing.assert_allclose(phi.sum(1) + ex.expected_value, model.predict_proba(X[:40])[:, 1], atol=1e-6)
    theirs = shap.TreeExplainer(model, masker, model_output="probability", feature_perturbation="interventional")
    np.testing.assert_allclose(phi, theirs.shap_values(X[:40]), atol=1e-6)
    el = assay.TreeExplainer(model, bg, model_output="log_loss")
    loss = el.shap_values(X[:40], y[:40])
    theirs = shap.TreeExplainer(model, masker, model_output="log_loss", feature_perturbation="interventional")
    np.testing.assert_allclose(loss, theirs.shap_values(X[:40], y[:40]), atol=1e-6)
    e = el(X[:40], y[:40])
    np.testing.assert_array_equal(np.asarray(e.values), loss)
    np.testing.assert_allclose(np.asarray(e.base_values), el.expected_value(y[:40]))
    p = model.predict_proba(X[:40])[np.arange(40), y[:40]]
    np.testing.assert_allclose(loss.sum(1) + el.expected_value(y[:40]), -np.log(p), atol=1e-5)
    limited = ex.shap_values(X[:10], tree_limit=5)
    np.testing.assert_allclose(
        limited.sum(1) + ex._of_first_rounds(5).expected_value,
        model.predict_proba(X[:10], iteration_range=(0, 5))[:, 1],
        atol=1e-6,
    )


def test_model_output_refusals_name_the_argument():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    model = xgb.XGBClassifier(n_estimators=5, max_depth=3).fit(X, y)
    with pytest.raises(ValueError, match="^model_output: "):
        assay.TreeExplainer(model, X[:20], model_output="margin")
    with pytest.raises(ValueError, match="^model_output='probability': the path-dependent"):
        assay.TreeExplainer(model, model_output="probability")
    ex = assay.TreeExplainer(model, X[:20], model_output="probability")
    for method in ("banzhaf_values", "shap_interaction_values", "shapley_taylor_values"):
        with pytest.raises(ValueError, match="^model_output='probability': "):
            getattr(ex, method)(X[:3])
    with pytest.raises(ValueError, match="^check_additivity: "):
        ex.shap_values(X[:3], check_additivity=True)
    with pytest.raises(ValueError, match="^y: "):
        assay.TreeExplainer(model, X[:20], model_output="log_loss").shap_values(X[:3])
