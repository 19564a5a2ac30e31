"""TreeExplainer on every converter's models: exactness, efficiency, and agreement with shap."""

import numpy as np
import pytest

import assay
from assay.trees.reference import brute_force_shap
from conftest import assert_close_scaled
from models import all_models

MODELS = all_models(np.random.default_rng(11))
_CATEGORICAL = {"xgb_categorical", "lgb_categorical", "sk_hgb_categorical"}
# shap refuses these models, or ignores LightGBM's missing_type (use_missing=False, zero_as_missing):
# there the brute-force oracle above is the judge, and it agrees with assay.
_NOT_FOR_SHAP = {
    "xgb_dart",
    "xgb_parallel_trees",
    "lgb_rf",
    "lgb_single_leaf",
    "sk_gb_multiclass",
    "lgb_missing_none",
    "lgb_missing_zero",
}


def _ndk(phi, K):
    return phi[:, :, None] if K == 1 else phi


@pytest.mark.parametrize("name", sorted(MODELS))
def test_efficiency_and_brute_force(name):
    model, X, _ = MODELS[name]
    bg, fg = X[:15], X[-4:]
    ex = assay.TreeExplainer(model, bg)
    K = ex.n_outputs
    phi = ex.shap_values(fg)
    assert phi.shape == ((4, X.shape[1]) if K == 1 else (4, X.shape[1], K))
    total = _ndk(phi, K).sum(1) + np.reshape(ex.expected_value, (1, K))
    assert_close_scaled(total, ex.model.predict_raw(fg), 1e-10, "efficiency")
    brute = np.stack([brute_force_shap(ex.model.predict_raw, x, bg) for x in fg])
    assert_close_scaled(_ndk(phi, K), brute, 1e-10, "brute force")
    pw = assay.TreeExplainer(model, bg, algorithm="pairwise").shap_values(fg)
    assert_close_scaled(phi, pw, 1e-10, "pairwise")


@pytest.mark.parametrize("name", sorted(set(MODELS) - _CATEGORICAL - _NOT_FOR_SHAP))
def test_agrees_with_shap_interventional(name):
    shap = pytest.importorskip("shap")
    model, X, _ = MODELS[name]
    if name.startswith("sk_"):
        X = np.nan_to_num(X)  # shap mishandles NaN for sklearn forests (see README)
    bg, fg = X[:60], X[200:230]
    ex = assay.TreeExplainer(model, bg)
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    sx = shap.TreeExplainer(model, data=masker, feature_perturbation="interventional", model_output="raw")
    theirs = np.asarray(sx.shap_values(fg, check_additivity=False))
    ours = ex.shap_values(fg)
    if theirs.ndim == 3 and ours.ndim == 2 and theirs.shape[2] == 1:
        theirs = theirs[:, :, 0]
    assert_close_scaled(ours, theirs, 1e-5, f"{name} vs shap")
