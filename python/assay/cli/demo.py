"""`assay demo`: the README's main job, on data that ships with scikit-learn."""

from __future__ import annotations

import sys
import time

import numpy as np


def demo(rows: int, with_shap: bool) -> int:
    """Train XGBoost on scikit-learn's breast cancer data, explain the first `rows` rows against
    the same rows as background, and print assay's time, two efficiency checks and the top
    features; with `with_shap` (and shap installed) also shap's time and max |assay - shap|.
    Returns 0, or 2 (message on stderr) when scikit-learn or xgboost is missing."""
    try:
        import xgboost as xgb
        from sklearn.datasets import load_breast_cancer
    except ImportError as exc:
        print(f"the demo needs scikit-learn and xgboost: pip install 'assay[bench]' ({exc})", file=sys.stderr)
        return 2
    import assay

    data = load_breast_cancer()
    X = data.data.astype(np.float32).astype(np.float64)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=6, random_state=0).fit(X, data.target)
    rows = min(rows, len(X))
    fg, bg = X[:rows], X[:rows]
    print(
        f"model: XGBoost classifier, 100 trees, depth 6, on scikit-learn's breast cancer data "
        f"({X.shape[0]} rows x {X.shape[1]} features)"
    )
    print(f"explaining {rows} rows against a background of {rows} rows (exact interventional SHAP, raw log-odds)")

    t0 = time.perf_counter()
    ex = assay.TreeExplainer(model, bg)
    phi = ex.shap_values(fg)
    t_assay = time.perf_counter() - t0
    margin = model.predict(fg, output_margin=True)
    exact = np.abs(phi.sum(1) + ex.expected_value - ex.predict_raw(fg)).max()
    vs_float32 = np.abs(phi.sum(1) + ex.expected_value - margin).max()
    print(f"assay: {t_assay:.3f} s")
    # Two efficiency checks: against the output assay explains (its float64 walk of the same trees)
    # the sum is exact to rounding; XGBoost's own margin adds up 100 leaf values in float32, so it
    # differs from the float64 sum by float32 rounding (~1e-6 here), not by an error in phi.
    print(
        f"efficiency: max |sum(phi) + E[f] - f(x)| = {exact:.2e} against assay's float64 predict_raw (exact), "
        f"{vs_float32:.2e} against XGBoost's float32 margin (its float32 rounding)"
    )
    top = np.argsort(-np.abs(phi).mean(0))[:5]
    print(
        "top features by mean |SHAP|: "
        + ", ".join(f"{data.feature_names[i]} ({np.abs(phi[:, i]).mean():.3f})" for i in top)
    )
    if not with_shap:
        return 0
    try:
        import shap
        from .peers import run_shap
    except ImportError:
        print("shap is not installed: pip install 'assay[bench]' to compare side by side")
        return 0
    theirs, t_init, t_call = run_shap(model, fg, bg)
    t_shap = t_init + t_call
    diff = np.abs(theirs.reshape(phi.shape) - phi).max()
    print(f"shap {shap.__version__}: {t_shap:.3f} s")
    print(f"agreement: max |assay - shap| = {diff:.2e} (output scale {np.abs(margin).max():.2f})")
    print(f"speed: assay is {t_shap / t_assay:.0f}x faster than shap on the same data")
    return 0
