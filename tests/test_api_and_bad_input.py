"""The public API's shapes and conveniences, and clear errors for bad input."""

import numpy as np
import pytest

import assay
from models import data


@pytest.fixture(scope="module")
def fitted():
    import xgboost as xgb

    X, y = data(np.random.default_rng(3), n=300)
    return xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y), X


@pytest.fixture(scope="module")
def multiclass():
    from sklearn.ensemble import RandomForestClassifier

    X, y = data(np.random.default_rng(4), n=300, classes=3)
    return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y), X


def test_shapes_and_expected_value(fitted, multiclass):
    model, X = fitted
    ex = assay.TreeExplainer(model, X[:50])
    assert ex.shap_values(X[:7]).shape == (7, 6)
    assert isinstance(ex.expected_value, float)
    clf, Xc = multiclass
    exc = assay.TreeExplainer(clf, Xc[:50])
    assert exc.shap_values(Xc[:7]).shape == (7, 6, 3)
    assert exc.expected_value.shape == (3,)
    np.testing.assert_allclose(exc.expected_value, clf.predict_proba(Xc[:50]).mean(0), atol=1e-12)


def test_call_returns_an_explanation(fitted):
    model, X = fitted
    ex = assay.TreeExplainer(model, X[:50], feature_names=list("abcdef"))
    e = ex(X[:5])
    assert e.values.shape == (5, 6)
    np.testing.assert_allclose(np.asarray(e.base_values), ex.expected_value)
    assert list(e.feature_names) == list("abcdef")


def test_dataframe_columns_become_feature_names(fitted):
    pd = pytest.importorskip("pandas")
    model, X = fitted
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    ex = assay.TreeExplainer(model, df.iloc[:40])
    assert ex.feature_names == [f"c{i}" for i in range(6)]
    np.testing.assert_array_equal(ex.shap_values(df.iloc[:5]), ex.shap_values(X[:5]))


def test_nan_is_missing_not_an_error(fitted):
    model, X = fitted
    ex = assay.TreeExplainer(model, X[:40])
    A = X[:5].copy()
    A[0, 0] = np.nan
    assert np.isfinite(ex.shap_values(A)).all()


def test_non_contiguous_and_other_dtypes(fitted):
    model, X = fitted
    ex = assay.TreeExplainer(model, X[:40])
    want = ex.shap_values(X[:10])
    F = np.asfortranarray(X[:10])
    np.testing.assert_array_equal(ex.shap_values(F), want)
    wide = np.zeros((10, 12))
    wide[:, ::2] = X[:10]
    np.testing.assert_array_equal(ex.shap_values(wide[:, ::2]), want)
    assert ex.shap_values(X[:10].astype(np.float32)).shape == (10, 6)
    assert ex.shap_values(np.ones((3, 6), dtype=bool)).shape == (3, 6)


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (np.zeros((3, 5)), ValueError, "6 features"),
        (np.zeros(6), ValueError, "1-D"),
        (np.zeros((2, 3, 6)), ValueError, "2-D"),
        (np.zeros((0, 6)), ValueError, "at least one row"),
        (np.full((2, 6), np.inf), ValueError, "inf"),
        (np.array([["a"] * 6]), TypeError, "numeric"),
        (np.array([[object()] * 6]), TypeError, "numeric"),
        (None, TypeError, "None"),
    ],
)
def test_bad_X_is_a_clear_error(fitted, bad, exc, words):
    model, X = fitted
    ex = assay.TreeExplainer(model, X[:40])
    with pytest.raises(exc, match=words) as info:
        ex.shap_values(bad)
    assert "X" in str(info.value)


def test_bad_background_is_a_clear_error(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match="data.*at least one row"):
        assay.TreeExplainer(model, X[:0])
    with pytest.raises(ValueError, match="data.*6 features"):
        assay.TreeExplainer(model, X[:10, :4])
    bad = X[:10].copy()
    bad[3, 2] = -np.inf
    with pytest.raises(ValueError, match="data.*inf"):
        assay.TreeExplainer(model, bad)


def test_bad_options_are_clear_errors(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match="algorithm"):
        assay.TreeExplainer(model, X[:10], algorithm="fast")
    with pytest.raises(ValueError, match="n_jobs"):
        assay.TreeExplainer(model, X[:10], n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        assay.TreeExplainer(model, X[:10], n_jobs=1.5)
    with pytest.raises(ValueError, match="feature_names"):
        assay.TreeExplainer(model, X[:10], feature_names=["a"])
    with pytest.raises(ValueError, match="dense_max_bits"):
        assay.TreeExplainer(model, X[:10], dense_max_bits=99)


def test_non_numeric_dataframe_column(fitted):
    pd = pytest.importorskip("pandas")
    model, X = fitted
    df = pd.DataFrame(X[:5], columns=list("abcdef"))
    df["c"] = ["x"] * 5
    ex = assay.TreeExplainer(model, X[:20])
    with pytest.raises(TypeError, match="column 'c'"):
        ex.shap_values(df)


def test_corrupt_forest_is_rejected_not_crashed():
    from assay import _core

    i32 = lambda *v: np.array(v, dtype=np.int32)
    kwargs = dict(
        n_features=2,
        n_outputs=1,
        tree_offsets=np.array([0, 3], dtype=np.int64),
        tree_output=i32(-1),
        feature=i32(0, -1, -1),
        threshold=np.zeros(3),
        left=i32(1, -1, -1),
        right=i32(2, -1, -1),
        default_left=np.zeros(3, np.uint8),
        policy=np.zeros(3, np.uint8),
        cat_offset=np.zeros(3, np.int64),
        cat_nwords=i32(0, 0, 0),
        cat_words=np.zeros(0, np.uint32),
        value=np.zeros(3),
        base_score=np.zeros(1),
    )
    _core.Forest(**kwargs)  # the valid one
    for key, bad in [
        ("left", i32(7, -1, -1)),
        ("left", i32(0, -1, -1)),
        ("feature", i32(5, -1, -1)),
        ("policy", np.array([99, 0, 0], np.uint8)),
        ("value", np.zeros(2)),
        ("tree_offsets", np.array([0, 2], dtype=np.int64)),
    ]:
        with pytest.raises(ValueError, match="invalid forest"):
            _core.Forest(**{**kwargs, key: bad})
