"""Exactness: the pattern kernel == the pairwise recursion == brute-force enumeration."""

import numpy as np
import pytest

import assay
from assay.trees.reference import brute_force_shap
from conftest import assert_close_scaled
from random_forests import random_rows, random_tree_model


def _brute(ex, X, bg):
    predict = lambda A: ex.model.predict_raw(np.ascontiguousarray(A))
    return np.stack([brute_force_shap(predict, x, bg) for x in X])


def _as_ndk(phi, K):
    return phi[:, :, None] if K == 1 else phi


@pytest.mark.parametrize("seed", range(8))
def test_random_small_forests_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 7))
    K = int(rng.choice([1, 3]))
    cats = tuple(c for c in range(d) if rng.random() < 0.3)
    model = random_tree_model(
        rng, d, n_trees=int(rng.integers(1, 6)), max_depth=int(rng.integers(1, 7)), n_outputs=K, cat_features=cats
    )
    bg = random_rows(rng, model, 12, cats)
    X = random_rows(rng, model, 6, cats)
    fast = assay.TreeExplainer(model, bg)
    slow = assay.TreeExplainer(model, bg, algorithm="pairwise")
    brute = _brute(fast, X, bg)
    assert_close_scaled(_as_ndk(fast.shap_values(X), K), brute, 1e-10, "pattern vs brute")
    assert_close_scaled(_as_ndk(slow.shap_values(X), K), brute, 1e-10, "pairwise vs brute")


@pytest.mark.parametrize("seed", range(6))
def test_leaf_groups_match_brute_force(seed):
    # Scalar trees get their small subtrees tabulated as groups; few features force repeated
    # features inside groups, leaf_prob gives lopsided subtrees (a leaf beside a split).
    rng = np.random.default_rng(500 + seed)
    d = int(rng.integers(1, 5))
    cats = (0,) if seed % 2 else ()
    model = random_tree_model(
        rng, d, n_trees=4, max_depth=int(rng.integers(2, 7)), n_outputs=1, cat_features=cats, leaf_prob=0.3
    )
    bg = random_rows(rng, model, 15, cats)
    X = random_rows(rng, model, 8, cats)
    ex = assay.TreeExplainer(model, bg, device="cpu")
    assert ex._tables.n_leaf_groups > 0
    assert_close_scaled(ex.shap_values(X), _brute(ex, X, bg)[:, :, 0], 1e-10, "grouped pattern vs brute")
    no_groups = assay.TreeExplainer(model, bg, device="cpu", max_table_bytes=0)  # no table fits: all sparse
    assert no_groups._tables.n_leaf_groups == 0
    assert_close_scaled(no_groups.shap_values(X), ex.shap_values(X), 1e-12, "ungrouped vs grouped")


@pytest.mark.parametrize("seed", range(6))
def test_random_deep_wide_forests_pattern_equals_pairwise(seed):
    rng = np.random.default_rng(100 + seed)
    d = int(rng.integers(1, 41))
    K = int(rng.choice([1, 2, 4]))
    cats = tuple(c for c in range(d) if rng.random() < 0.2)
    model = random_tree_model(
        rng,
        d,
        n_trees=int(rng.integers(1, 8)),
        max_depth=int(rng.integers(1, 13)),
        n_outputs=K,
        cat_features=cats,
        leaf_prob=0.25,
    )
    bg = random_rows(rng, model, 60, cats)
    X = random_rows(rng, model, 25, cats)
    fast = assay.TreeExplainer(model, bg).shap_values(X)
    slow = assay.TreeExplainer(model, bg, algorithm="pairwise").shap_values(X)
    assert_close_scaled(fast, slow, 1e-9, "pattern vs pairwise")
    ex = assay.TreeExplainer(model, bg)
    total = _as_ndk(fast, K).sum(axis=1) + np.reshape(ex.expected_value, (1, K))
    assert_close_scaled(total, ex.model.predict_raw(X), 1e-9, "efficiency")


def test_sparse_leaves_equal_dense_leaves(rng):
    model = random_tree_model(rng, 12, n_trees=5, max_depth=9, n_outputs=2)
    bg = random_rows(rng, model, 80)
    X = random_rows(rng, model, 30)
    dense = assay.TreeExplainer(model, bg).shap_values(X)
    sparse_ex = assay.TreeExplainer(model, bg, device="cpu", dense_max_bits=0)
    assert sparse_ex._tables.n_dense_leaves == 0 and sparse_ex._tables.n_sparse_leaves > 0
    assert_close_scaled(sparse_ex.shap_values(X), dense, 1e-12, "sparse vs dense")
    budget_ex = assay.TreeExplainer(
        model, bg, device="cpu", max_table_bytes=4096
    )  # a few dense leaves, the rest sparse
    assert budget_ex._tables.n_dense_leaves > 0 and budget_ex._tables.n_sparse_leaves > 0
    assert_close_scaled(budget_ex.shap_values(X), dense, 1e-12, "budgeted vs dense")
    # the expected value comes from the tables' histograms, whichever kind
    mean = model.predict_raw(bg).mean(axis=0)
    for ex in (sparse_ex, budget_ex, assay.TreeExplainer(model, bg)):
        assert_close_scaled(np.asarray(ex.expected_value), mean, 1e-12, "expected value")


def test_paths_wider_than_64_features_fall_back_to_pairwise(rng):
    # a chain tree over 70 distinct features: patterns do not fit 64 bits
    from assay.trees.forest import ForestBuilder, SplitPolicy, TreeModel

    d, depth = 70, 70
    b = ForestBuilder(d, 1)
    n = 2 * depth + 1
    feature = np.full(n, -1)
    left = np.full(n, -1)
    right = np.full(n, -1)
    for i in range(depth):  # node 2i splits on feature i, left child is a leaf, right goes on
        feature[2 * i] = i
        left[2 * i] = 2 * i + 1
        right[2 * i] = 2 * i + 2
    b.add_tree(
        feature=feature,
        threshold=np.zeros(n),
        left=left,
        right=right,
        default_left=np.zeros(n),
        policy=SplitPolicy.SKLEARN_NUMERIC,
        value=rng.normal(size=n),
    )
    model = TreeModel(forest=b.build([0.0]), source="chain", n_features=d, n_outputs=1)
    assert model.forest.max_depth == depth
    bg = rng.normal(size=(30, d)) + 1.5  # mostly right: deep paths get used
    X = rng.normal(size=(10, d)) + 1.5
    ex = assay.TreeExplainer(model, bg, device="cpu")
    assert ex._tables.n_fallback_trees == 1
    phi = ex.shap_values(X)
    assert_close_scaled(phi, assay.TreeExplainer(model, bg, algorithm="pairwise").shap_values(X), 1e-12, "fallback")
    assert_close_scaled(phi.sum(1) + ex.expected_value, ex.predict_raw(X), 1e-10, "efficiency")


def test_results_do_not_depend_on_threads_or_batching(rng):
    model = random_tree_model(rng, 10, n_trees=6, max_depth=7, n_outputs=3)
    bg = random_rows(rng, model, 70)
    X = random_rows(rng, model, 100)
    one = assay.TreeExplainer(model, bg, n_jobs=1).shap_values(X)
    two = assay.TreeExplainer(model, bg, n_jobs=2).shap_values(X)
    np.testing.assert_array_equal(one, two)
    pieces = np.concatenate(
        [assay.TreeExplainer(model, bg, n_jobs=2).shap_values(X[i : i + 7]) for i in range(0, 100, 7)]
    )
    np.testing.assert_array_equal(one, pieces)
    pw1 = assay.TreeExplainer(model, bg, algorithm="pairwise", n_jobs=1).shap_values(X[:20])
    pw2 = assay.TreeExplainer(model, bg, algorithm="pairwise", n_jobs=2).shap_values(X[:20])
    np.testing.assert_array_equal(pw1, pw2)


def test_deep_sklearn_tree_over_32767_nodes(rng):
    from sklearn.tree import DecisionTreeRegressor

    X = rng.normal(size=(40000, 8)).astype(np.float32)
    y = X[:, 0] * 3 + np.sin(X[:, 1] * 5) + rng.normal(size=len(X))
    model = DecisionTreeRegressor(random_state=0).fit(X, y)
    assert model.tree_.node_count > 32767 and model.tree_.max_depth > 32
    ex = assay.TreeExplainer(model, X[:200])
    np.testing.assert_allclose(ex.predict_raw(X[:2000]), model.predict(X[:2000]), rtol=0, atol=1e-12)
    phi = ex.shap_values(X[:20])
    pw = assay.TreeExplainer(model, X[:200], algorithm="pairwise").shap_values(X[:20])
    assert_close_scaled(phi, pw, 1e-9, "deep tree")
    assert_close_scaled(phi.sum(1) + ex.expected_value, model.predict(X[:20]), 1e-9, "efficiency")
