"""A shap user's habits work: shap's (X, y) signature, keyword-only out/progress, docstrings that
stand alone, category labels for shap's plots."""

import inspect

import numpy as np
import pytest

import assay

METHODS = ["shap_values", "banzhaf_values", "shap_interaction_values", "shapley_taylor_values"]


@pytest.fixture(scope="module")
def explainer():
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] - 2 * X[:, 1] * X[:, 2]
    return assay.TreeExplainer(xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y), data=X[:40]), X, y


@pytest.mark.parametrize("method", METHODS)
def test_a_second_positional_argument_is_y_and_is_ignored(explainer, method):
    ex, X, y = explainer
    want = getattr(ex, method)(X[:5])
    np.testing.assert_array_equal(getattr(ex, method)(X[:5], y[:5]), want)


@pytest.mark.parametrize("method", METHODS)
def test_out_and_progress_are_keyword_only(explainer, method):
    ex, X, y = explainer
    params = inspect.signature(getattr(ex, method)).parameters
    assert params["out"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["progress"].kind is inspect.Parameter.KEYWORD_ONLY
    want = getattr(ex, method)(X[:5])
    out = np.empty_like(want)
    assert getattr(ex, method)(X[:5], out=out) is out
    np.testing.assert_array_equal(out, want)
    with pytest.raises(TypeError):
        getattr(ex, method)(X[:5], y[:5], np.empty_like(want))


def test_call_takes_y_too(explainer):
    ex, X, y = explainer
    np.testing.assert_array_equal(ex(X[:4], y[:4]).values, ex.shap_values(X[:4]))


@pytest.mark.parametrize("name", METHODS + ["predict_raw", "__call__"])
def test_every_public_method_has_a_docstring_that_stands_alone(name):
    doc = inspect.getdoc(getattr(assay.TreeExplainer, name))
    assert doc and len(doc) > 80, name
    assert "explain.py" not in doc and "see " not in doc.lower(), name
    if name in METHODS:
        for arg in ("X:", "y:", "out:", "progress:"):
            assert arg in doc, (name, arg)


def test_public_callables_of_the_package_have_docstrings():
    missing = []
    for module in (assay.TreeExplainer,):
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") or name == "__call__":
                if not inspect.getdoc(member):
                    missing.append(name)
    assert not missing, missing


def test_explanation_shows_category_labels_and_keeps_numeric_data():
    pd = pytest.importorskip("pandas")
    import lightgbm as lgb

    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=300), "colour": pd.Categorical(rng.choice(["red", "green", "blue"], 300))})
    X.loc[3, "colour"] = np.nan
    y = X["a"] + 2.0 * (X["colour"] == "red")
    model = lgb.LGBMRegressor(n_estimators=10, num_leaves=8, verbose=-1).fit(X, y)
    ex = assay.TreeExplainer(model, data=X[:60])
    e = ex(X[:6])
    assert np.asarray(e.data).dtype == np.float64
    np.testing.assert_array_equal(
        np.asarray(e.data)[:, 1][[0, 1, 2, 4, 5]], X["colour"].cat.codes.to_numpy()[[0, 1, 2, 4, 5]].astype(float)
    )
    labels = np.asarray(e.display_data)[:, 1]
    assert list(labels[[0, 1, 2, 4, 5]]) == list(X["colour"][[0, 1, 2, 4, 5]].astype(str))
    assert labels[3] is None
    np.testing.assert_array_equal(np.asarray(e.display_data)[:, 0].astype(float), X["a"][:6].to_numpy())


def test_explanation_without_categories_has_no_display_data(explainer):
    ex, X, _ = explainer
    assert ex(X[:3]).display_data is None


def test_light_explanation_without_shap_carries_display_data():
    from assay.explanation import Explanation

    e = Explanation(
        np.zeros((3, 2)),
        np.zeros(3),
        np.zeros((3, 2)),
        ["a", "b"],
        np.array([[1.0, "x"], [2.0, "y"], [3.0, "z"]], dtype=object),
    )
    assert e[1:].display_data.shape == (2, 2)
    assert Explanation(np.zeros((3, 2)), np.zeros(3), None)[0].data is None
