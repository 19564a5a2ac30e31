"""Every converter's IR reproduces its library's raw output, on NaN and on-threshold inputs too."""

import numpy as np
import pytest

import assay
from conftest import adversarial_rows, assert_close_scaled
from models import all_models

MODELS = all_models(np.random.default_rng(7))

# Libraries that reject NaN at predict time for models trained without it.
_NO_NAN = {"sk_tree_clf", "sk_et_reg", "sk_et_clf", "sk_gb_reg", "sk_gb_binary", "sk_gb_multiclass"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_ir_predict_matches_library(name):
    model, X, raw = MODELS[name]
    ir = assay.convert_model(model)
    rng = np.random.default_rng(0)
    A = adversarial_rows(ir, X, rng, nan_frac=0.0 if name in _NO_NAN else 0.1)
    want = np.asarray(raw(model, A), dtype=np.float64).reshape(len(A), -1)
    got = ir.predict_raw(A)
    assert got.shape == want.shape
    # XGBoost sums leaves in float32; everything else in float64
    assert_close_scaled(got, want, 2e-6 if name.startswith("xgb") else 1e-9, name)


def test_all_thresholds_and_nan_are_exercised():
    model, X, _ = MODELS["lgb_reg"]
    ir = assay.convert_model(model)
    feats, thrs = ir.forest.split_thresholds()
    A = adversarial_rows(ir, X, np.random.default_rng(1))
    on = sum(np.isin(A[:, c], thrs[feats == c]).sum() for c in range(A.shape[1]))
    assert on > 50 and np.isnan(A).sum() > 50


def test_lightgbm_linear_tree_is_refused(rng):
    import lightgbm as lgb

    X = rng.normal(size=(200, 3))
    model = lgb.LGBMRegressor(n_estimators=3, linear_tree=True, verbose=-1).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="linear_tree"):
        assay.TreeExplainer(model, X)


def test_xgboost_vector_leaf_is_refused(rng):
    import xgboost as xgb

    X = rng.normal(size=(200, 3))
    Y = np.column_stack([X[:, 0], X[:, 1]])
    model = xgb.XGBRegressor(n_estimators=3, tree_method="hist", multi_strategy="multi_output_tree").fit(X, Y)
    with pytest.raises(TypeError, match="vector-leaf"):
        assay.convert_model(model)


def test_unsupported_model_names_the_supported_ones(rng):
    from sklearn.linear_model import LinearRegression

    X = rng.normal(size=(50, 3))
    with pytest.raises(TypeError, match="supported"):
        assay.TreeExplainer(LinearRegression().fit(X, X[:, 0]), X)
    with pytest.raises(TypeError, match="supported"):
        assay.TreeExplainer(object(), X)


def test_unfitted_sklearn_model_is_a_clear_error(rng):
    from sklearn.ensemble import RandomForestRegressor

    with pytest.raises(ValueError, match="not fitted"):
        assay.convert_model(RandomForestRegressor())


def test_hgb_categorical_from_pandas_dtype(rng):
    pd = pytest.importorskip("pandas")
    from sklearn.ensemble import HistGradientBoostingRegressor

    n = 500
    df = pd.DataFrame(
        {"a": rng.normal(size=n), "color": pd.Categorical(rng.choice(["r", "g", "b", "y"], n)), "b": rng.normal(size=n)}
    )
    y = df["a"] + (df["color"] == "g") * 2.0 + df["b"] * (df["color"] == "r")
    model = HistGradientBoostingRegressor(max_iter=10, categorical_features="from_dtype").fit(df, y)
    ex = assay.TreeExplainer(model, df.iloc[:100])
    assert_close_scaled(ex.predict_raw(df), model._raw_predict(df)[:, 0], 1e-9, "hgb pandas categorical")
    phi = ex.shap_values(df.iloc[:50])
    assert_close_scaled(phi.sum(1) + ex.expected_value, model._raw_predict(df.iloc[:50])[:, 0], 1e-9, "efficiency")
    assert ex.feature_names == ["a", "color", "b"]


def test_lightgbm_pandas_categorical(rng):
    pd = pytest.importorskip("pandas")
    import lightgbm as lgb

    n = 400
    df = pd.DataFrame({"a": rng.normal(size=n), "c": pd.Categorical(rng.choice(list("pqrstu"), n))})
    y = df["a"] + (df["c"].isin(["p", "s"])) * 2.0
    model = lgb.LGBMRegressor(n_estimators=10, verbose=-1, min_child_samples=5).fit(df, y)
    ex = assay.TreeExplainer(model, df)
    # a frame whose categorical has a different category order must be re-coded like LightGBM does
    df2 = df.copy()
    df2["c"] = df2["c"].cat.reorder_categories(list("utsrqp"))
    assert_close_scaled(ex.predict_raw(df2), model.predict(df2, raw_score=True), 1e-9, "lgb pandas categorical")
