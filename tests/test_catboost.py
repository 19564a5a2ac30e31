"""CatBoost converter: the IR reproduces RawFormulaVal (NaN, on-border and float32-rounding inputs
included), SHAP values equal the brute-force games and CatBoost's own ShapValues, refusals."""

import ast

import numpy as np
import pytest

import assay
from assay.trees.reference import brute_force_values, indices_from_game, path_dependent_coalition_values
from conftest import adversarial_rows, assert_close_scaled

catboost = pytest.importorskip("catboost")
pd = pytest.importorskip("pandas")


def _raw(model, X):
    return np.asarray(model.predict(X, prediction_type="RawFormulaVal"), dtype=np.float64)


def _data(rng, n=300, d=4, nan=0.1):
    X = rng.normal(size=(n, d))
    y = X[:, 0] * 2 + X[:, 1] ** 2 + X[:, 2] * X[:, -1] + rng.normal(size=n) * 0.2
    X[rng.random(X.shape) < nan] = np.nan
    return X, np.nan_to_num(y)


def _fit(kind, rng, n=300, d=4, nan=0.1, **params):
    X, y = _data(rng, n, d, nan)
    params = dict(iterations=20, depth=4, verbose=0, thread_count=1, random_seed=0, allow_writing_files=False) | params
    if kind == "multiclass":
        return catboost.CatBoostClassifier(loss_function="MultiClass", **params).fit(X, np.digitize(y, [0.5, 2.0])), X
    if kind == "binary":
        return catboost.CatBoostClassifier(**params).fit(X, (y > 1).astype(int)), X
    return catboost.CatBoostRegressor(**params).fit(X, y), X


CASES = {
    "regression": ("regression", {}),
    "regression_nan_max": ("regression", {"nan_mode": "Max"}),
    "regression_nan_forbidden": ("regression", {"nan_mode": "Forbidden", "nan": 0.0}),
    "binary": ("binary", {}),
    "multiclass": ("multiclass", {}),
    "depthwise_multiclass": ("multiclass", {"grow_policy": "Depthwise"}),
    "lossguide": ("regression", {"grow_policy": "Lossguide", "max_leaves": 6}),
}


def _case(name, rng):
    kind, params = CASES[name]
    return _fit(kind, rng, **params)


@pytest.mark.parametrize("name", sorted(CASES))
def test_ir_predict_matches_raw_formula_val(name):
    rng = np.random.default_rng(3)
    model, X = _case(name, rng)
    ir = assay.convert_model(model)
    with np.errstate(over="ignore"):  # the float32 neighbours of CatBoost's +-FLT_MAX borders are +-inf
        A = adversarial_rows(ir, X, rng, n=1500, nan_frac=0.15, on_threshold_frac=0.3)
    # Doubles that round to a border in float32 (CatBoost compares float32(x) > float32(border)).
    feats, thrs = ir.forest.split_thresholds()
    fin = np.isfinite(thrs) & (np.abs(thrs) < 1e30)
    rows = rng.integers(0, len(A), 200)
    pick = rng.choice(np.flatnonzero(fin), 200)
    A[rows, feats[pick]] = thrs[pick] + rng.choice([-1e-12, 1e-12], 200)
    want = _raw(model, A).reshape(len(A), -1)
    got = ir.predict_raw(A)
    assert got.shape == want.shape == (len(A), ir.n_outputs)
    assert_close_scaled(got, want, 1e-9, name)
    on = sum(np.isin(A[:, c], thrs[feats == c]).sum() for c in range(A.shape[1]))
    assert on > 100 and np.isnan(A).sum() > 100


def test_nan_goes_as_minus_or_plus_infinity():
    """nan_mode Min ("AsFalse"): NaN routes as -inf (the `x <= border` side); Max ("AsTrue"): as +inf."""
    for mode, inf in (("Min", -np.inf), ("Max", np.inf)):
        model, X = _fit("regression", np.random.default_rng(5), nan_mode=mode)
        ir = assay.convert_model(model)
        A = np.where(np.random.default_rng(6).random((200, X.shape[1])) < 0.5, np.nan, X[:200])
        got = ir.predict_raw(A)[:, 0]
        assert_close_scaled(got, _raw(model, A), 1e-9, mode)
        assert_close_scaled(got, _raw(model, np.where(np.isnan(A), inf, A)), 1e-9, mode)


@pytest.mark.parametrize("kind", ["regression", "multiclass"])
def test_interventional_shap_equals_brute_force_on_catboost_predict(kind):
    rng = np.random.default_rng(11)
    model, X = _fit(kind, rng, n=200, d=5, iterations=8, depth=3)
    bg, rows = X[:6], X[50:53]
    ex = assay.TreeExplainer(model, data=bg)
    got = ex.shap_values(rows, check_additivity=True)
    for r in range(len(rows)):
        want = brute_force_values(lambda A: _raw(model, A), rows[r], bg)
        want = want[:, 0] if kind == "regression" else want
        assert_close_scaled(got[r], want, 1e-9, kind)


@pytest.mark.parametrize("name", ["regression", "regression_nan_max", "binary", "multiclass", "depthwise_multiclass"])
def test_path_dependent_equals_catboost_shap_values(name):
    rng = np.random.default_rng(13)
    model, X = _case(name, rng)
    ex = assay.TreeExplainer(model)  # no data: the path-dependent game on CatBoost's leaf weights
    rows = X[:60]
    got = ex.shap_values(rows)
    theirs = model.get_feature_importance(data=catboost.Pool(rows), type="ShapValues")
    scale = max(1.0, float(np.abs(_raw(model, rows)).max()))
    if theirs.ndim == 3:  # (n, K, d + 1)
        want, ev = np.transpose(theirs[:, :, :-1], (0, 2, 1)), theirs[0, :, -1]
    else:
        want, ev = theirs[:, :-1], theirs[0, -1]
    np.testing.assert_allclose(got, want, atol=1e-9 * scale, rtol=0)
    np.testing.assert_allclose(ex.expected_value, ev, atol=1e-9 * scale, rtol=0)


def test_path_dependent_nonsymmetric_equals_the_game():
    """Lossguide trees: assay equals the path-dependent game by enumeration and its expected value is
    the training mean. (CatBoost 1.2's own ShapValues for nodes with one leaf child and one inner
    child are not this game and do not even add up to RawFormulaVal.)"""
    rng = np.random.default_rng(17)
    model, X = _fit("regression", rng, nan=0.0, iterations=6, grow_policy="Lossguide", max_leaves=6)
    ex = assay.TreeExplainer(model)
    ir = ex.model
    assert ir.node_cover is not None
    got = ex.shap_values(X[:4], check_additivity=True)
    for r in range(4):
        v, P = path_dependent_coalition_values(ir, X[r])
        np.testing.assert_allclose(got[r], indices_from_game(v, P)[:, 0], atol=1e-10, rtol=0)
    np.testing.assert_allclose(ex.expected_value, _raw(model, X).mean(), atol=1e-10, rtol=0)


def _one_hot_model(rng, n=500):
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "c": rng.choice(["x", "y", "zz", "über", "a" * 70], n),
            "h": rng.choice([3, 5, -7], n),
            "b": rng.normal(size=n),
        }
    )
    df.loc[rng.random(n) < 0.1, "a"] = np.nan
    y = np.nan_to_num(df.a) + 2 * (df.c == "x") - (df.c == "a" * 70) + 1.5 * (df.h == 5) + 0.5 * df.b
    model = catboost.CatBoostRegressor(
        iterations=20,
        depth=3,
        verbose=0,
        thread_count=1,
        random_seed=0,
        cat_features=["c", "h"],
        one_hot_max_size=10,
        allow_writing_files=False,
    ).fit(df, y)
    return model, df


def test_one_hot_categorical_splits():
    rng = np.random.default_rng(19)
    model, df = _one_hot_model(rng)
    ir = assay.convert_model(model)
    assert ir.feature_names == ["a", "c", "h", "b"] and ir.input_transform is not None
    T = df.copy()
    T.loc[::7, "c"] = "never seen"
    T.loc[::11, "h"] = 99
    assert_close_scaled(ir.predict_raw(ir.input_transform(T))[:, 0], _raw(model, T), 1e-9, "one-hot")

    # path-dependent: CatBoost's own ShapValues
    ex = assay.TreeExplainer(model)
    rows = T.iloc[:40]
    theirs = model.get_feature_importance(data=catboost.Pool(rows, cat_features=["c", "h"]), type="ShapValues")
    np.testing.assert_allclose(ex.shap_values(rows), theirs[:, :-1], atol=1e-9, rtol=0)
    np.testing.assert_allclose(ex.expected_value, theirs[0, -1], atol=1e-9)
    # columns are matched by name
    np.testing.assert_array_equal(ex.shap_values(rows[["h", "b", "a", "c"]]), ex.shap_values(rows))

    # interventional: brute force on CatBoost's predict, coded rows decoded back to categories
    bg, x = df.iloc[:5], T.iloc[[7, 8]]
    exi = assay.TreeExplainer(model, data=bg)
    got = exi.shap_values(x, check_additivity=True)
    both = pd.concat([bg, x])
    codes = ir.input_transform(both)
    decode = {j: dict(zip(codes[:, j], both.iloc[:, j])) for j in (1, 2)}

    def predict(A):
        frame = pd.DataFrame(A, columns=df.columns)
        for j, col in ((1, "c"), (2, "h")):
            frame[col] = [decode[j][v] for v in A[:, j]]
        return _raw(model, frame)

    for r in range(len(x)):
        want = brute_force_values(predict, codes[len(bg) + r], codes[: len(bg)])[:, 0]
        np.testing.assert_allclose(got[r], want, atol=1e-10, rtol=0)


def test_category_hash_matches_catboost(tmp_path):
    """assay's CityHash64 (CatBoost's category hash) on strings of every length class, against the
    {category: hash} table CatBoost writes into a Python export."""
    from assay.trees._catboost import catboost_hash

    rng = np.random.default_rng(23)
    alphabet = list("abcdefghijklmnopqrstuvwxyz0123456789 -_é€")
    values = list(dict.fromkeys("".join(rng.choice(alphabet, k)) for k in list(range(0, 80)) + [127, 128, 129, 300]))
    df = pd.DataFrame({"a": rng.normal(size=1500), "c": rng.choice(values, 1500)})
    model = catboost.CatBoostRegressor(
        iterations=2,
        depth=2,
        verbose=0,
        thread_count=1,
        cat_features=["c"],
        one_hot_max_size=1000,
        allow_writing_files=False,
    ).fit(df, df.a)
    path = tmp_path / "model.py"
    model.save_model(str(path), format="python", pool=catboost.Pool(df, df.a, cat_features=["c"]))
    table = path.read_text().split("cat_features_hashes = {")[1].split("\n}")[0]
    checked = 0
    for line in table.strip().splitlines():
        key, value = line.rsplit(":", 1)
        raw = ast.literal_eval(key.strip()).encode("latin-1")  # the export writes UTF-8 bytes as \x escapes
        assert catboost_hash(raw) == int(value.strip().rstrip(",")), raw
        checked += 1
    assert checked == len(values)


def test_categories_are_read_as_catboost_reads_them():
    model, df = _one_hot_model(np.random.default_rng(29))
    ir = assay.convert_model(model)
    ints = df.iloc[:20].copy()
    as_str = ints.assign(h=ints.h.astype(str))
    np.testing.assert_array_equal(ir.input_transform(ints), ir.input_transform(as_str))
    as_cat = ints.assign(c=ints.c.astype("category"))
    np.testing.assert_array_equal(ir.input_transform(ints), ir.input_transform(as_cat))
    with pytest.raises(ValueError, match="categorical feature.*convert real numbers"):
        ir.input_transform(ints.assign(h=ints.h.astype(float)))
    with pytest.raises(ValueError, match="categorical feature"):
        assay.TreeExplainer(model).shap_values(ints.assign(c=np.nan))


def test_ctr_features_are_refused():
    rng = np.random.default_rng(31)
    df = pd.DataFrame({"a": rng.normal(size=300), "colour": rng.choice(list("abcdefgh"), 300)})
    model = catboost.CatBoostRegressor(
        iterations=10,
        depth=3,
        verbose=0,
        thread_count=1,
        cat_features=["colour"],
        one_hot_max_size=2,
        allow_writing_files=False,
    )
    model.fit(df, df.a + (df.colour == "a"))
    with pytest.raises(TypeError, match=r"model: CatBoost CTR features \(colour\) are not supported"):
        assay.TreeExplainer(model)


def test_names_unfitted_and_dispatch():
    rng = np.random.default_rng(37)
    model, X = _fit("regression", rng, iterations=3)
    assert model.feature_names_ == ["0", "1", "2", "3"]
    ir = assay.convert_model(model)
    assert ir.feature_names is None and ir.source == "catboost.CatBoostRegressor" and ir.node_cover is not None
    framed = catboost.CatBoostRegressor(iterations=3, depth=2, verbose=0, thread_count=1, allow_writing_files=False)
    framed.fit(pd.DataFrame(X, columns=["p", "q", "r", "s"]), np.nan_to_num(X[:, 0]))
    assert assay.convert_model(framed).feature_names == ["p", "q", "r", "s"]
    with pytest.raises(ValueError, match="not fitted"):
        assay.convert_model(catboost.CatBoostRegressor())


def test_a_saved_cbm_file_is_explained_like_the_model(tmp_path):
    catboost = pytest.importorskip("catboost")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    model = catboost.CatBoostRegressor(allow_writing_files=False, iterations=15, depth=3, verbose=False).fit(
        X, X[:, 0] + X[:, 1] * X[:, 2]
    )
    path = tmp_path / "model.cbm"
    model.save_model(str(path))
    np.testing.assert_array_equal(
        assay.TreeExplainer(str(path), X[:30]).shap_values(X[:10]),
        assay.TreeExplainer(model, X[:30]).shap_values(X[:10]),
    )
    np.testing.assert_array_equal(
        assay.TreeExplainer(path).shap_values(X[:10]), assay.TreeExplainer(model).shap_values(X[:10])
    )


def test_check_additivity_reads_catboost_raw_output_for_every_class():
    catboost = pytest.importorskip("catboost")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 4))
    y = X[:, 0] + X[:, 1] * X[:, 2]
    ranker = catboost.CatBoostRanker(allow_writing_files=False, iterations=10, depth=3, verbose=False).fit(
        X, y, group_id=np.repeat(np.arange(20), 10)
    )
    classifier = catboost.CatBoostClassifier(allow_writing_files=False, iterations=10, depth=3, verbose=False).fit(
        X, y > 0
    )
    for model in (ranker, classifier):
        assay.TreeExplainer(model, X[:30]).shap_values(X[:20], check_additivity=True)


def test_tree_limit_on_catboost_explains_its_first_trees():
    catboost = pytest.importorskip("catboost")
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 4))
    model = catboost.CatBoostRegressor(allow_writing_files=False, iterations=20, depth=3, verbose=False).fit(
        X, X[:, 0] + X[:, 1] * X[:, 2]
    )
    ex = assay.TreeExplainer(model)
    phi = ex.shap_values(X[:10], tree_limit=7)
    raw = model.predict(X[:10], prediction_type="RawFormulaVal", ntree_end=7)
    np.testing.assert_allclose(phi.sum(1) + ex._of_first_rounds(7).expected_value, raw, atol=1e-9)
    np.testing.assert_array_equal(ex.shap_values(X[:10], tree_limit=-1), ex.shap_values(X[:10]))
