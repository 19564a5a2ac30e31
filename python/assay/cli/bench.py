"""`assay bench`: assay against shap and woodelf on synthetic data of a chosen size.

A quick check of the comparison the repository's bench/bench_treeshap.py runs in full."""
from __future__ import annotations

import time

import numpy as np

from .peers import PEERS

MODELS = {
    "xgb6": lambda: __import__("xgboost").XGBRegressor(n_estimators=100, max_depth=6),
    "lgbm": lambda: __import__("lightgbm").LGBMRegressor(n_estimators=100, num_leaves=31, verbose=-1),
    "rf8": lambda: __import__("sklearn.ensemble", fromlist=["x"]).RandomForestRegressor(
        n_estimators=100, max_depth=8, n_jobs=-1, random_state=0),
}


def parse_size(text: str):
    named = {"1k": (1000, 1000), "10k": (10_000, 10_000), "100k": (100_000, 10_000)}
    if text in named:
        return named[text]
    try:
        fg, bg = (int(float(v)) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size: expected 1k, 10k, 100k or FGxBG (e.g. 2000x500), got {text!r}") from None
    if fg < 1 or bg < 1:
        raise ValueError(f"--size: both sizes must be >= 1, got {text!r}")
    return fg, bg


def bench(size: str, models: str, peers: str, seed: int = 0) -> int:
    import assay
    n_fg, n_bg = parse_size(size)
    rng = np.random.default_rng(seed)
    d = 20
    X = rng.normal(size=(20_000 + n_fg + n_bg, d)).astype(np.float32).astype(np.float64)
    y = np.sin(X[:, 0]) * X[:, 1] + X[:, 2] ** 2 + np.abs(X[:, 3]) + 0.3 * rng.normal(size=len(X))
    fg, bg = X[20_000:20_000 + n_fg], X[20_000 + n_fg:]
    print(f"{'model':6s} {'library':8s} {'seconds':>9s} {'ratio':>8s} {'max|diff|':>10s}")
    for name in models.split(","):
        if name not in MODELS:
            raise ValueError(f"--models: unknown model {name!r} (choose from {list(MODELS)})")
        model = MODELS[name]().fit(X[:20_000], y[:20_000])
        t0 = time.perf_counter()
        phi = assay.TreeExplainer(model, bg).shap_values(fg)
        t_assay = time.perf_counter() - t0
        print(f"{name:6s} {'assay':8s} {t_assay:9.3f}")
        for peer in [p for p in peers.split(",") if p and p != "none"]:
            if peer not in PEERS:
                raise ValueError(f"--peers: unknown peer {peer!r} (choose from {list(PEERS)})")
            try:
                theirs, t_init, t_call = PEERS[peer](model, fg, bg)
            except ImportError:
                print(f"{name:6s} {peer:8s} {'not installed':>9s}")
                continue
            t = t_init + t_call
            diff = float(np.abs(theirs.reshape(phi.shape) - phi).max())
            print(f"{name:6s} {peer:8s} {t:9.3f} {t / t_assay:7.1f}x {diff:10.1e}")
    return 0
