"""The peer libraries, called the way the comparisons call them (shared by `assay demo`, `assay
bench` and the repository's benchmark scripts): each returns (values, init seconds, call seconds)."""

from __future__ import annotations

import time

import numpy as np


def run_shap(model, X, bg):
    """shap's interventional TreeExplainer on the full background (no silent subsampling)."""
    import shap

    t0 = time.perf_counter()
    ex = shap.TreeExplainer(
        model,
        data=shap.maskers.Independent(bg, max_samples=len(bg)),
        feature_perturbation="interventional",
        model_output="raw",
    )
    t1 = time.perf_counter()
    phi = ex.shap_values(X, check_additivity=False)
    return np.asarray(phi), t1 - t0, time.perf_counter() - t1


def run_woodelf(model, X, bg, columns=None, gpu=False):
    """woodelf-explainer (gpu=True: its CuPy path); it does the background work inside shap_values."""
    import pandas as pd
    from woodelf import WoodelfExplainer

    columns = columns or [f"f{j}" for j in range(X.shape[1])]
    bg_df, X_df = pd.DataFrame(bg, columns=columns), pd.DataFrame(X, columns=columns)
    t0 = time.perf_counter()
    ex = WoodelfExplainer(model, bg_df, GPU=True) if gpu else WoodelfExplainer(model, bg_df)
    t1 = time.perf_counter()
    phi = ex.shap_values(X_df, verbose=False)
    if isinstance(phi, pd.DataFrame):
        phi = phi.to_numpy()
    return np.asarray(phi), t1 - t0, time.perf_counter() - t1


def run_woodelf_gpu(model, X, bg, columns=None):
    """run_woodelf on woodelf's GPU (CuPy) path: (values, init seconds, call seconds)."""
    return run_woodelf(model, X, bg, columns, gpu=True)


PEERS = {"shap": run_shap, "woodelf": run_woodelf, "woodelf-gpu": run_woodelf_gpu}
