"""DataFrame columns are matched by name at every entry point, never silently by position.

Same names in another order: reordered, results bit for bit those of the ordered frame.
Missing, extra, renamed or duplicated columns: ValueError listing them. NumPy: positional.
"""

import numpy as np
import pytest

import assay

pd = pytest.importorskip("pandas")

NAMES = ["age", "sex", "bmi", "bp", "s1", "s2"]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, len(NAMES))), columns=NAMES)
    y = X["age"] * 3 + X["bmi"] ** 2 - X["s2"] + 0.5 * X["sex"] * X["bp"]
    return X, y


def _models(X, y):
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    return {
        "xgboost": xgb.XGBRegressor(n_estimators=15, max_depth=3).fit(X, y),
        "lightgbm": lgb.LGBMRegressor(n_estimators=15, num_leaves=8, verbose=-1).fit(X, y),
        "sklearn-rf": RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, y),
        "sklearn-gb": GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0).fit(X, y),
        # trained on arrays: no names of its own, so the background frame's names are the reference
        "xgboost-unnamed": xgb.XGBRegressor(n_estimators=15, max_depth=3).fit(X.to_numpy(), y),
        "lightgbm-unnamed": lgb.LGBMRegressor(n_estimators=15, num_leaves=8, verbose=-1).fit(X.to_numpy(), y),
    }


@pytest.fixture(scope="module")
def explainers(frame):
    X, y = frame
    return {name: assay.TreeExplainer(m, data=X[:60]) for name, m in _models(X, y).items()}


def _bad_frames(X):
    return {
        "renamed": (X.rename(columns={"bmi": "BMI"}), ["'bmi'", "'BMI'"]),
        "missing": (X.drop(columns="s1"), ["missing", "'s1'"]),
        "extra": (X.assign(s7=1.0), ["unexpected", "'s7'"]),
        "duplicated": (pd.concat([X, X[["bp"]]], axis=1), ["duplicated", "'bp'"]),
    }


METHODS = ["shap_values", "banzhaf_values", "shap_interaction_values", "shapley_taylor_values", "predict_raw"]


@pytest.mark.parametrize(
    "model_name", ["xgboost", "lightgbm", "sklearn-rf", "sklearn-gb", "xgboost-unnamed", "lightgbm-unnamed"]
)
@pytest.mark.parametrize("method", METHODS)
def test_reordered_columns_give_the_ordered_result_bit_for_bit(explainers, frame, model_name, method):
    X, _ = frame
    ex = explainers[model_name]
    rows = X[:20]
    shuffled = rows[rows.columns[[3, 0, 5, 1, 4, 2]]]
    want = getattr(ex, method)(rows)
    np.testing.assert_array_equal(getattr(ex, method)(shuffled), want)
    np.testing.assert_array_equal(getattr(ex, method)(rows[rows.columns[::-1]]), want)
    np.testing.assert_array_equal(getattr(ex, method)(rows.to_numpy()), want)  # arrays: positional


@pytest.mark.parametrize("model_name", ["xgboost", "lightgbm", "sklearn-rf", "xgboost-unnamed"])
@pytest.mark.parametrize("kind", ["renamed", "missing", "extra", "duplicated"])
def test_mismatched_columns_raise_a_value_error_that_lists_them(explainers, frame, model_name, kind):
    X, _ = frame
    ex = explainers[model_name]
    bad, words = _bad_frames(X[:10])[kind]
    for method in METHODS:
        with pytest.raises(ValueError, match="^X: ") as err:
            getattr(ex, method)(bad)
        for w in words:
            assert w in str(err.value), (method, str(err.value))
    with pytest.raises(ValueError, match="^X: "):
        ex(bad)


@pytest.mark.parametrize("kind", ["renamed", "missing", "extra", "duplicated"])
def test_background_frame_is_checked_against_the_model_names(frame, kind):
    import xgboost as xgb

    X, y = frame
    model = xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(X, y)
    bad, words = _bad_frames(X[:50])[kind]
    with pytest.raises(ValueError, match="^data: ") as err:
        assay.TreeExplainer(model, data=bad)
    assert all(w in str(err.value) for w in words)


def test_reordered_background_is_reordered_to_the_model(frame):
    import xgboost as xgb

    X, y = frame
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y)
    ordered = assay.TreeExplainer(model, data=X[:50])
    shuffled = assay.TreeExplainer(model, data=X[:50][X.columns[::-1]])
    assert shuffled.feature_names == NAMES
    assert shuffled.expected_value == ordered.expected_value
    np.testing.assert_array_equal(shuffled.shap_values(X[:20]), ordered.shap_values(X[:20]))


def test_numpy_background_then_dataframe_uses_the_model_names(frame):
    import xgboost as xgb

    X, y = frame
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y)
    ex = assay.TreeExplainer(model, data=X[:50].to_numpy())
    np.testing.assert_array_equal(ex.shap_values(X[:10][X.columns[::-1]]), ex.shap_values(X[:10].to_numpy()))
    with pytest.raises(ValueError, match="'s2'"):
        ex.shap_values(X[:10].drop(columns="s2"))


def test_no_names_anywhere_is_positional(frame):
    import xgboost as xgb

    X, y = frame
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X.to_numpy(), y)
    ex = assay.TreeExplainer(model, data=X[:50].to_numpy())
    renamed = X[:10].set_axis([f"c{i}" for i in range(len(NAMES))], axis=1)
    np.testing.assert_array_equal(ex.shap_values(renamed), ex.shap_values(X[:10].to_numpy()))


def test_the_diabetes_report_reversed_columns_are_no_longer_silently_wrong():
    # The case reported: reversed diabetes columns gave values off by up to 104 without a word.
    import xgboost as xgb
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = xgb.XGBRegressor(n_estimators=30, max_depth=4).fit(X, y)
    ex = assay.TreeExplainer(model, data=X[:100])
    reversed_X = X[X.columns[::-1]]
    np.testing.assert_array_equal(ex.shap_values(reversed_X), ex.shap_values(X))
    np.testing.assert_array_equal(ex.predict_raw(reversed_X), ex.predict_raw(X))
    np.testing.assert_allclose(ex.predict_raw(reversed_X), model.predict(X, output_margin=True), atol=1e-3)


def test_categorical_frames_are_matched_by_name_before_recoding():
    import lightgbm as lgb

    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=400),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], 400)),
            "b": rng.normal(size=400),
        }
    )
    y = X["a"] + 2.0 * (X["colour"] == "red") - X["b"]
    model = lgb.LGBMRegressor(n_estimators=10, num_leaves=8, verbose=-1).fit(X, y)
    ex = assay.TreeExplainer(model, data=X[:80])
    np.testing.assert_array_equal(ex.shap_values(X[["colour", "b", "a"]][:30]), ex.shap_values(X[:30]))


def test_dask_checks_columns_before_computing_and_reorders(frame):
    dd = pytest.importorskip("dask.dataframe")
    import xgboost as xgb

    import assay.dask

    X, y = frame
    ex = assay.TreeExplainer(xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y), data=X[:50])
    reordered = dd.from_pandas(X[X.columns[::-1]][:120], npartitions=3)
    np.testing.assert_array_equal(assay.dask.shap_values(ex, reordered).compute(), ex.shap_values(X[:120]))
    with pytest.raises(ValueError, match="^data: .*'s1'"):
        assay.dask.shap_values(ex, dd.from_pandas(X.drop(columns="s1")[:120], npartitions=3))


@pytest.mark.parametrize("cls", ["LinearRashomon", "AdditiveRashomon", "KernelRidgeRashomon"])
def test_rashomon_ellipsoids_match_columns_to_the_fitted_frame(frame, cls):
    from assay import rashomon as rs

    X, y = frame
    R = getattr(rs, cls)().fit(X[:120], y[:120])
    assert R.names == NAMES
    rows = X[150:160]
    eps = R.epsilon_from_tolerance(1.05 * np.sqrt(R.loss_))
    np.testing.assert_array_equal(R.attributions(rows[rows.columns[::-1]]), R.attributions(rows.to_numpy()))
    lo, hi = R.attribution_bounds(rows[rows.columns[[2, 0, 1, 5, 4, 3]]], eps)
    lo2, hi2 = R.attribution_bounds(rows, eps)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)
    assert (
        R.local_order(rows[rows.columns[::-1]][:1], eps).relation.tolist()
        == R.local_order(rows.to_numpy()[0], eps).relation.tolist()
    )
    for kind, (bad, words) in _bad_frames(rows).items():
        with pytest.raises(ValueError, match="^X: ") as err:
            R.attributions(bad)
        assert all(w in str(err.value) for w in words), kind


def test_forest_rashomon_matches_columns_by_name(frame):
    from sklearn.ensemble import RandomForestRegressor

    from assay import rashomon as rs

    X, y = frame
    forest = RandomForestRegressor(n_estimators=6, max_depth=3, random_state=0).fit(X[:200], y[:200])
    R = rs.ForestRashomon(forest, X[200:260], y[200:260], X[:40])
    R2 = rs.ForestRashomon(forest, X[200:260][X.columns[::-1]], y[200:260], X[:40][X.columns[[1, 0, 2, 3, 5, 4]]])
    np.testing.assert_array_equal(R.tree_mse_, R2.tree_mse_)
    np.testing.assert_array_equal(
        R.per_tree_attributions(X[260:270][X.columns[::-1]]), R2.per_tree_attributions(X[260:270])
    )
    with pytest.raises(ValueError, match="^X_val: .*'bmi'"):
        rs.ForestRashomon(forest, X[200:260].rename(columns={"bmi": "BMI"}), y[200:260], X[:40])
    with pytest.raises(ValueError, match="^data: .*'s1'"):
        rs.ForestRashomon(forest, X[200:260], y[200:260], X[:40].drop(columns="s1"))
    with pytest.raises(ValueError, match="^X: .*duplicated"):
        R.per_tree_attributions(pd.concat([X[:5], X[:5][["bp"]]], axis=1))
