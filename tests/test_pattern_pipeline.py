"""The pattern pipeline's ownership and sharing (csrc/core/forest_view.hpp, leaf_weights.hpp):
one background read per explainer whatever the number of indices, the same numbers as a table
built on its own, and objects that stay valid when Python drops the ones they were made from."""

import gc

import numpy as np
import pytest

import assay
from assay import _core
from assay.trees.explainer import TreeExplainer
from random_forests import random_rows, random_tree_model

INDICES = [_core.Index.SHAPLEY, _core.Index.BANZHAF, _core.Index.INTERACTION, _core.Index.TAYLOR]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    model = random_tree_model(rng, n_features=7, n_trees=8, max_depth=6, n_outputs=2, cat_features=(1,))
    bg = random_rows(rng, model, 120, cat_features=(1,))
    X = random_rows(rng, model, 30, cat_features=(1,))
    return model, bg, X


def test_one_background_count_serves_every_index(case):
    model, bg, X = case
    ex = TreeExplainer(model, data=bg, n_jobs=1)
    weights = ex._leaf_weights()
    ex.shap_values(X)
    ex.banzhaf_values(X)
    ex.shap_interaction_values(X)
    ex.shapley_taylor_values(X)
    assert ex._leaf_weights() is weights
    assert len(ex._kernels) == 4


def test_the_background_is_counted_once_per_explainer(case, monkeypatch):
    model, bg, X = case
    made = []
    real = _core.BackgroundPatterns

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_core, "BackgroundPatterns", counting)
    ex = TreeExplainer(model, data=bg, n_jobs=1)
    ex.shap_values(X)
    ex.shap_interaction_values(X)
    ex.banzhaf_values(X)
    ex.shapley_taylor_values(X)
    ex(X, interactions=True)
    assert len(made) == 1


@pytest.mark.parametrize("index", INDICES, ids=lambda ix: ix.name)
@pytest.mark.parametrize("bits", [0, 3, 16])
def test_shared_weights_equal_a_table_built_alone(case, index, bits):
    model, bg, X = case
    view = _core.ForestView(model.forest)
    weights = _core.BackgroundPatterns(view, bg, bits, 2**31, 1)
    shared = _core.PatternShap(weights, index=index, dense_max_bits=bits, n_jobs=1).values(X, 1)
    alone = _core.PatternShap(model.forest, bg, bits, 2**31, 1, index=index).values(X, 1)
    assert np.array_equal(shared, alone)
    np.testing.assert_array_equal(
        weights.expected_value(), _core.PatternShap(model.forest, bg, bits, 2**31, 1).expected_value()
    )


def test_a_histogram_budget_of_zero_lists_every_leaf_and_changes_nothing(case):
    model, bg, X = case
    view = _core.ForestView(model.forest)
    listed = _core.BackgroundPatterns(view, bg, 16, 0, 1)
    counted = _core.BackgroundPatterns(view, bg, 16, 2**31, 1)
    assert listed.n_histogram_leaves == 0 < counted.n_histogram_leaves
    for index in INDICES:
        a = _core.PatternShap(listed, index=index, n_jobs=1).values(X, 1)
        b = _core.PatternShap(counted, index=index, n_jobs=1).values(X, 1)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_tables_outlive_the_objects_they_were_made_from(case):
    model, bg, X = case
    expected = _core.PatternShap(model.forest, bg, n_jobs=1).values(X, 1)
    forest = model.forest.subforest(0, model.forest.n_trees)  # a private copy, dropped below
    view = _core.ForestView(forest)
    weights = _core.BackgroundPatterns(view, bg.copy(), n_jobs=1)
    table = _core.PatternShap(weights, n_jobs=1)
    del forest, view, weights
    gc.collect()
    np.testing.assert_allclose(table.values(X, 1), expected, rtol=0, atol=1e-12)


def test_path_dependent_weights_are_shared_too():
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    X, y = load_diabetes(return_X_y=True)
    model = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    ex = assay.TreeExplainer(model)
    phi = ex.shap_values(X[:20])
    ex.shap_interaction_values(X[:5])
    assert isinstance(ex._leaf_weights(), _core.CoverWeights)
    np.testing.assert_allclose(phi.sum(1) + ex.expected_value, model.predict(X[:20]), atol=1e-8)


def test_bad_weights_arguments_are_named(case):
    model, bg, _ = case
    view = _core.ForestView(model.forest)
    with pytest.raises(ValueError, match="data"):
        _core.BackgroundPatterns(view, bg[:, :3])
    with pytest.raises(ValueError, match="node_cover"):
        _core.CoverWeights(view, np.ones(3))
    with pytest.raises(ValueError, match="dense_max_bits"):
        _core.BackgroundPatterns(view, bg, 30)


def test_cpu_and_device_plans_make_the_same_choices_under_a_tight_budget():
    # One table policy (table_plan.hpp) for both executors. Every split on one feature: a group's
    # state counts the repeated splits, its leaves' tables do not; under a budget that holds the
    # leaf tables the groups go, and every leaf stays dense on the CPU as on the device.
    from sklearn.tree import DecisionTreeRegressor

    X = np.linspace(0, 1, 64)[:, None]
    model = assay.TreeExplainer(DecisionTreeRegressor(max_depth=3).fit(X, np.floor(8 * X[:, 0])), data=X).model
    leaf_tables = 8 * 2 * 8  # 8 leaves, 1 player each: 2 masks x 1 entry x 8 bytes
    cpu = _core.PatternShap(model.forest, X, 16, leaf_tables, 1)
    device = _core.RowQueryShap(model.forest, X, budget_bytes=leaf_tables)
    assert (cpu.n_sparse_leaves, cpu.n_dense_leaves) == (0, 8)
    assert cpu.n_leaf_groups == device.n_groups == 0
    roomy = _core.PatternShap(model.forest, X, 16, 2**20, 1)
    assert roomy.n_leaf_groups == _core.RowQueryShap(model.forest, X).n_groups > 0
    np.testing.assert_allclose(cpu.values(X, 1), roomy.values(X, 1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(device.values(X), roomy.values(X, 1), rtol=0, atol=1e-12)
    # Below the leaf tables the CPU goes sparse for the widest leaves; the device refuses.
    assert _core.PatternShap(model.forest, X, 16, leaf_tables // 2, 1).n_sparse_leaves > 0
    with pytest.raises(_core.DeviceUnsupportedError, match="over the budget"):
        _core.RowQueryShap(model.forest, X, budget_bytes=leaf_tables // 2)
