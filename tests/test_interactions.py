"""Banzhaf, Shapley interaction and Shapley-Taylor values, and feature groups as players:
pattern kernel == pairwise recursion == brute-force enumeration of every coalition."""

import numpy as np
import pytest

import assay
from assay.trees.reference import brute_force_values
from conftest import assert_close_scaled
from random_forests import random_rows, random_tree_model

INDICES = ("shap", "banzhaf", "interaction", "taylor")
METHOD = {
    "shap": "shap_values",
    "banzhaf": "banzhaf_values",
    "interaction": "shap_interaction_values",
    "taylor": "shapley_taylor_values",
}


def _values(ex, index, X, **kw):
    return getattr(ex, METHOD[index])(X, **kw)


def _brute(ex, index, X, bg):
    predict = lambda A: ex.model.predict_raw(np.ascontiguousarray(A))
    out = np.stack([brute_force_values(predict, x, bg, index, ex._player_of) for x in X])
    return out[..., 0] if ex.n_outputs == 1 else out


def _random_case(seed, max_features=6, cats=True):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, max_features + 1))
    K = int(rng.choice([1, 2]))
    cat = (0,) if cats and rng.random() < 0.4 else ()
    model = random_tree_model(
        rng,
        d,
        n_trees=int(rng.integers(1, 5)),
        max_depth=int(rng.integers(1, 6)),
        n_outputs=K,
        cat_features=cat,
        leaf_prob=0.25,
    )
    return rng, model, random_rows(rng, model, 10, cat), random_rows(rng, model, 5, cat)


def _random_groups(rng, d):
    perm = [int(j) for j in rng.permutation(d)]
    cut = int(rng.integers(1, d))
    return {"first": perm[:cut], "second": perm[cut : cut + 1 + int(rng.integers(0, d))]} if cut < d else {"all": perm}


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("seed", range(5))
def test_every_index_matches_brute_force(index, seed):
    _, model, bg, X = _random_case(40 + seed)
    brute = None
    for algorithm in ("pattern", "pairwise"):
        ex = assay.TreeExplainer(model, bg, algorithm=algorithm)
        brute = _brute(ex, index, X, bg) if brute is None else brute
        assert_close_scaled(_values(ex, index, X), brute, 1e-10, f"{algorithm} {index} vs brute force")


@pytest.mark.parametrize("index", INDICES)
@pytest.mark.parametrize("seed", range(4))
def test_groups_match_brute_force(index, seed):
    rng, model, bg, X = _random_case(80 + seed, max_features=7)
    groups = _random_groups(rng, model.n_features)
    ex = assay.TreeExplainer(model, bg, groups=groups)
    assert ex.n_players <= model.n_features and ex.player_names[0] == list(groups)[0]
    brute = _brute(ex, index, X, bg)
    assert_close_scaled(_values(ex, index, X), brute, 1e-10, f"grouped {index} vs brute force")
    slow = assay.TreeExplainer(model, bg, groups=groups, algorithm="pairwise")
    assert_close_scaled(_values(slow, index, X), brute, 1e-10, f"grouped pairwise {index} vs brute force")


@pytest.mark.parametrize("seed", range(4))
def test_identities_on_larger_forests(seed):
    # Too many features for brute force: check the identities that pin the conventions down.
    rng = np.random.default_rng(200 + seed)
    d = int(rng.integers(6, 16))
    K = int(rng.choice([1, 3]))
    model = random_tree_model(rng, d, n_trees=6, max_depth=int(rng.integers(3, 9)), n_outputs=K, leaf_prob=0.2)
    bg, X = random_rows(rng, model, 50), random_rows(rng, model, 20)
    ex = assay.TreeExplainer(model, bg)
    phi = ex.shap_values(X)
    sii = ex.shap_interaction_values(X)
    st = ex.shapley_taylor_values(X)
    gap = np.reshape(
        ex.model.predict_raw(X) - np.reshape(ex.expected_value, (1, K)), (len(X),) + ((K,) if K > 1 else ())
    )
    assert_close_scaled(sii, np.swapaxes(sii, 1, 2), 1e-12, "interaction symmetry")
    assert_close_scaled(st, np.swapaxes(st, 1, 2), 1e-12, "Shapley-Taylor symmetry")
    assert_close_scaled(sii.sum(axis=2), phi, 1e-9, "interaction rows sum to SHAP values")
    assert_close_scaled(st.sum(axis=(1, 2)), gap, 1e-9, "Shapley-Taylor efficiency")
    slow = assay.TreeExplainer(model, bg, algorithm="pairwise")
    for index in ("banzhaf", "interaction", "taylor"):
        assert_close_scaled(_values(ex, index, X), _values(slow, index, X), 1e-9, f"{index}: pattern vs pairwise")


def test_sparse_leaves_and_budget_give_the_same_interactions(rng):
    model = random_tree_model(rng, 9, n_trees=4, max_depth=8, n_outputs=2)
    bg, X = random_rows(rng, model, 40), random_rows(rng, model, 15)
    dense = assay.TreeExplainer(model, bg)
    for kw in ({"dense_max_bits": 0}, {"max_table_bytes": 20_000}):
        other = assay.TreeExplainer(model, bg, **kw)
        for index in ("banzhaf", "interaction", "taylor"):
            assert_close_scaled(_values(other, index, X), _values(dense, index, X), 1e-12, f"{index} with {kw}")


def test_interactions_do_not_depend_on_threads_or_batching(rng):
    model = random_tree_model(rng, 8, n_trees=5, max_depth=6, n_outputs=1)
    bg, X = random_rows(rng, model, 60), random_rows(rng, model, 90)
    one = assay.TreeExplainer(model, bg, n_jobs=1).shapley_taylor_values(X)
    two = assay.TreeExplainer(model, bg, n_jobs=2)
    assert np.array_equal(one, two.shapley_taylor_values(X))
    parts = np.concatenate([two.shapley_taylor_values(X[i : i + 7]) for i in range(0, len(X), 7)])
    assert np.array_equal(one, parts)


def test_out_fills_a_memory_mapped_array(rng, tmp_path):
    model = random_tree_model(rng, 5, n_trees=3, max_depth=4, n_outputs=1)
    bg, X = random_rows(rng, model, 30), random_rows(rng, model, 25)
    ex = assay.TreeExplainer(model, bg)
    out = np.lib.format.open_memmap(tmp_path / "sii.npy", mode="w+", dtype=np.float64, shape=(25, 5, 5))
    returned = ex.shap_interaction_values(X, out=out)
    assert returned is out
    out.flush()
    assert np.array_equal(np.load(tmp_path / "sii.npy"), ex.shap_interaction_values(X))
    with pytest.raises(ValueError, match="out: expected a writable C-contiguous float64 array of shape"):
        ex.shap_interaction_values(X, out=np.zeros((25, 5, 4)))
    with pytest.raises(ValueError, match="out:"):
        ex.shap_values(X, out=np.zeros((5, 25)).T)  # right shape, Fortran order
    with pytest.raises(ValueError, match="out:"):
        ex.shap_values(X, out=np.zeros((25, 5), dtype=np.float32))


def test_groups_by_name_and_unlisted_features_become_players(rng):
    import pandas as pd

    model = random_tree_model(rng, 5, n_trees=3, max_depth=4)
    names = ["a", "b", "c", "d", "e"]
    bg = pd.DataFrame(random_rows(rng, model, 20), columns=names)
    X = pd.DataFrame(random_rows(rng, model, 6), columns=names)
    ex = assay.TreeExplainer(model, bg, groups={"ce": ["c", "e"], "a": [0]})
    assert ex.player_names == ["ce", "a", "b", "d"]
    phi = ex.shap_values(X)
    assert phi.shape == (6, 4)
    assert_close_scaled(phi.sum(axis=1) + ex.expected_value, ex.predict_raw(X), 1e-10, "grouped efficiency")
    listed = assay.TreeExplainer(model, bg.to_numpy(), groups=[[2, 4], [0]])
    assert listed.player_names == ["group0", "group1", "x1", "x3"]
    assert_close_scaled(listed.shap_values(X.to_numpy()), phi, 1e-12, "groups as lists")


@pytest.mark.parametrize(
    "groups, message",
    [
        ({"g": [0, 1], "h": [1, 2]}, "must not overlap"),
        ({"g": [0, 9]}, "out of range"),
        ({"g": []}, "is empty"),
        ({"g": ["nope"]}, "not a feature name"),
        ({"g": 3}, "must be a list of columns"),
        ({"g": [True]}, "boolean column"),
        ("abc", "expected a dict"),
        ({"x1": [0]}, "unique"),
    ],
)
def test_bad_groups_raise_clear_errors(rng, groups, message):
    model = random_tree_model(rng, 4, n_trees=2, max_depth=3)
    bg = random_rows(rng, model, 10)
    with pytest.raises((ValueError, TypeError), match=message):
        assay.TreeExplainer(model, bg, groups=groups)
