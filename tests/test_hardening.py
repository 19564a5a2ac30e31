"""Hardening: concurrent calls, result-size limits, odd dtypes, unfitted models, malformed model
files (the fuzz targets' regression run), and random forests of random shapes via hypothesis."""

import os
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import assay
from assay.trees.reference import brute_force_values
from conftest import assert_close_scaled
from random_forests import random_rows, random_tree_model

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
import targets  # noqa: E402


def test_one_explainer_from_many_threads_gives_the_serial_results():
    rng = np.random.default_rng(0)
    model = random_tree_model(rng, 8, n_trees=20, max_depth=7, n_outputs=2)
    bg, X = random_rows(rng, model, 100), random_rows(rng, model, 400)
    ex = assay.TreeExplainer(model, bg)
    want_phi, want_st = ex.shap_values(X), ex.shapley_taylor_values(X[:50])
    results, errors = [], []

    def work(k):
        try:
            results.append((ex.shap_values(X), ex.shapley_taylor_values(X[:50]), ex.banzhaf_values(X[: k + 1])))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 6
    for phi, st_, _ in results:
        assert np.array_equal(phi, want_phi) and np.array_equal(st_, want_st)


def test_results_too_large_for_memory_are_refused_with_advice(monkeypatch, tmp_path):
    from assay import _memory as module

    rng = np.random.default_rng(1)
    model = random_tree_model(rng, 6, n_trees=3, max_depth=4)
    bg, X = random_rows(rng, model, 20), random_rows(rng, model, 100)
    ex = assay.TreeExplainer(model, bg)
    monkeypatch.setattr(module, "MAX_BYTES", 10_000)
    with pytest.raises(MemoryError, match="out= a np.memmap"):
        ex.shap_interaction_values(X)  # 100 x 6 x 6 x 8 bytes > 10 kB
    out = np.lib.format.open_memmap(tmp_path / "sii.npy", mode="w+", dtype=np.float64, shape=(100, 6, 6))
    ex.shap_interaction_values(X, out=out)  # allowed: it goes to disk
    assert ex.shap_values(X).shape == (100, 6)  # 4.8 kB: fine
    from assay.rashomon import KernelRidgeRashomon

    with pytest.raises(MemoryError, match="subsample"):
        KernelRidgeRashomon().fit(rng.normal(size=(100, 3)), rng.normal(size=100))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int8, np.int64, np.uint16, bool])
def test_any_real_dtype_is_read_as_float64(dtype):
    rng = np.random.default_rng(2)
    model = random_tree_model(rng, 4, n_trees=3, max_depth=3)
    bg = random_rows(rng, model, 20, nan_frac=0.0)
    X = (rng.normal(size=(10, 4)) * 3).astype(dtype)
    ex = assay.TreeExplainer(model, bg)
    assert np.array_equal(ex.shap_values(X), ex.shap_values(X.astype(np.float64)))


def test_unfitted_models_raise_clear_errors():
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    bg = np.zeros((5, 3))
    for model in (xgb.XGBRegressor(), lgb.LGBMRegressor(), RandomForestRegressor(), HistGradientBoostingRegressor()):
        with pytest.raises((ValueError, TypeError), match="model"):
            assay.TreeExplainer(model, bg)


def test_mutated_model_files_never_crash():
    """The fuzz targets on a fixed set of mutations of real models (atheris explores further)."""
    seeds = targets.seed_models()
    rng = np.random.default_rng(3)
    for target, key in zip(targets.TARGETS, ["ubj", "xgb", "lgb"]):
        target(seeds[key])  # the unmutated model works
        for _ in range(150):
            target(targets.mutate(seeds[key], rng))


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"learner": {}}, "malformed XGBoost"),
        (
            {
                "learner": {
                    "gradient_booster": {"name": "gbtree", "model": {"trees": [], "tree_info": []}},
                    "learner_model_param": {"num_feature": "1e12", "base_score": "0.5"},
                    "objective": {"name": "reg:squarederror"},
                }
            },
            "malformed XGBoost|out of range",
        ),
        ([], "malformed XGBoost"),
    ],
)
def test_malformed_xgboost_documents(doc, message):
    from assay.trees._xgboost import from_model_dict

    with pytest.raises(ValueError, match=message):
        from_model_dict(doc)


def test_malformed_lightgbm_documents():
    from assay.trees._lightgbm import from_dump

    with pytest.raises(ValueError, match="malformed LightGBM"):
        from_dump({"max_feature_idx": 2, "tree_info": [{"tree_structure": {"split_index": 0}}]})
    with pytest.raises(ValueError, match="out of range"):
        from_dump({"max_feature_idx": -5, "tree_info": []})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 5),
    trees=st.integers(1, 4),
    depth=st.integers(1, 6),
    outputs=st.sampled_from([1, 2]),
    index=st.sampled_from(["shap", "banzhaf", "interaction", "taylor"]),
)
def test_random_forests_of_random_shapes_match_brute_force(seed, d, trees, depth, outputs, index):
    rng = np.random.default_rng(seed)
    cats = (0,) if rng.random() < 0.3 else ()
    model = random_tree_model(
        rng, d, n_trees=trees, max_depth=depth, n_outputs=outputs, cat_features=cats, leaf_prob=0.3
    )
    bg, X = random_rows(rng, model, 6, cats), random_rows(rng, model, 3, cats)
    ex = assay.TreeExplainer(model, bg, n_jobs=1)
    method = {
        "shap": ex.shap_values,
        "banzhaf": ex.banzhaf_values,
        "interaction": ex.shap_interaction_values,
        "taylor": ex.shapley_taylor_values,
    }[index]
    predict = lambda A: ex.model.predict_raw(np.ascontiguousarray(A))
    brute = np.stack([brute_force_values(predict, x, bg, index) for x in X])
    assert_close_scaled(method(X), brute[..., 0] if outputs == 1 else brute, 1e-10, f"{index} vs brute force")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_binding_layer_rejects_random_arrays_without_crashing(data):
    """Random shapes, dtypes and strides straight into the compiled module: results or clean errors."""
    from assay import _core

    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = data.draw(st.integers(0, 6))

    def arr(dtype, size):
        shape = data.draw(st.sampled_from([(size,), (size, 1), (max(size - 1, 0),), (size + 1,)]))
        a = (rng.integers(-3, 8, size=shape) if np.dtype(dtype).kind in "iub" else rng.normal(size=shape)).astype(dtype)
        return a[::-1] if data.draw(st.booleans()) else a

    kwargs = dict(
        n_features=data.draw(st.integers(-1, 3)),
        n_outputs=data.draw(st.integers(-1, 2)),
        tree_offsets=np.array([0, n], dtype=np.int64) if data.draw(st.booleans()) else arr(np.int64, 2),
        tree_output=arr(np.int32, 1),
        feature=arr(np.int32, n),
        threshold=arr(np.float64, n),
        left=arr(np.int32, n),
        right=arr(np.int32, n),
        default_left=arr(np.uint8, n),
        policy=arr(np.uint8, n),
        cat_offset=arr(np.int64, n),
        cat_nwords=arr(np.int32, n),
        cat_words=arr(np.uint32, data.draw(st.integers(0, 3))),
        value=arr(np.float64, n),
        base_score=arr(np.float64, 1),
    )
    try:
        forest = _core.Forest(**kwargs)
    except (ValueError, TypeError):
        return
    X = rng.normal(size=(data.draw(st.integers(0, 3)), data.draw(st.integers(0, 4))))
    for call in (
        lambda: _core.predict_raw(forest, X),
        lambda: _core.values_pairwise(forest, X, X, index=2),
        lambda: _core.PatternShap(forest, X).values(X),
    ):
        try:
            call()
        except (ValueError, TypeError):
            pass


def test_a_null_ubjson_document_is_read_alike_not_taken_for_a_refusal():
    # Found by CI's fuzzing: 'Z' (null) followed by a model's bytes. Both readers read None (trailing
    # bytes are ignored); the fuzz target once took the reference's None for a refusal.
    from assay import _core
    from assay.trees import _ubjson

    sample = b"Z" + targets.seed_models()["ubj"][:64]
    assert _ubjson.loads(sample) is None and _core.ubjson_loads(sample) is None
    targets.ubjson_bytes(sample)
