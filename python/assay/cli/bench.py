"""`assay bench`: assay against shap and woodelf on synthetic data of a chosen size.

A quick, small version of the repository's full TreeSHAP benchmark: a few models trained on
synthetic rows, each explained by assay and by the chosen peers, with times and the largest
difference from assay's values."""

from __future__ import annotations

import time

import numpy as np

from .peers import PEERS

MODELS = {
    "xgb6": lambda: __import__("xgboost").XGBRegressor(n_estimators=100, max_depth=6),
    "lgbm": lambda: __import__("lightgbm").LGBMRegressor(n_estimators=100, num_leaves=31, verbose=-1),
    "rf8": lambda: __import__("sklearn.ensemble", fromlist=["x"]).RandomForestRegressor(
        n_estimators=100, max_depth=8, n_jobs=-1, random_state=0
    ),
}


def parse_size(text: str):
    """(foreground rows, background rows) for `--size`: "1k", "10k", "100k" or "FGxBG" (e.g.
    "2000x500"). Raises ValueError on any other text or on a size below 1."""
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


# The models train on as many rows as the run explains (foreground + background): a 300 x 100
# run needs no 20,000-row training set, whose fit (rf8 above all) would dwarf the explaining.
MIN_TRAIN, MAX_TRAIN = 1_000, 20_000
N_FEATURES = 20


def training_rows(n_fg: int, n_bg: int) -> int:
    """FG + BG, at least MIN_TRAIN (deep trees need rows to split) and at most MAX_TRAIN."""
    return min(MAX_TRAIN, max(MIN_TRAIN, n_fg + n_bg))


def make_data(n_fg: int, n_bg: int, seed: int = 0):
    """(X_train, y_train, foreground, background): synthetic rows with interactions and a kink."""
    rng = np.random.default_rng(seed)
    n_train = training_rows(n_fg, n_bg)
    X = rng.normal(size=(n_train + n_fg + n_bg, N_FEATURES)).astype(np.float32).astype(np.float64)
    y = np.sin(X[:, 0]) * X[:, 1] + X[:, 2] ** 2 + np.abs(X[:, 3]) + 0.3 * rng.normal(size=len(X))
    return X[:n_train], y[:n_train], X[n_train : n_train + n_fg], X[n_train + n_fg :]


def _names(text: str, known, option: str) -> list:
    """A comma list checked against `known` before anything trains."""
    names = [n for n in text.split(",") if n and n != "none"]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"{option}: unknown {unknown[0]!r} (choose from {list(known)})")
    return names


def bench(size: str, models: str, peers: str, seed: int = 0) -> int:
    """Train each model of the comma list `models` (xgb6, lgbm, rf8) on synthetic data and print
    the seconds assay's interventional SHAP takes on it, then each peer's (comma list `peers`:
    shap, woodelf, or none) seconds, ratio to assay and max |difference|. `size` as parse_size;
    a peer that is not installed is reported as such. Returns 0; ValueError on a bad argument."""
    import assay

    n_fg, n_bg = parse_size(size)
    model_names, peer_names = _names(models, MODELS, "--models"), _names(peers, PEERS, "--peers")
    if not model_names:
        raise ValueError(f"--models: expected at least one of {list(MODELS)}, got {models!r}")
    X_train, y_train, fg, bg = make_data(n_fg, n_bg, seed)
    print(f"training on {len(X_train)} rows; explaining {n_fg} rows against {n_bg} background rows")
    print(f"{'model':6s} {'library':8s} {'seconds':>9s} {'ratio':>8s} {'max|diff|':>10s}")
    for name in model_names:
        model = MODELS[name]().fit(X_train, y_train)
        t0 = time.perf_counter()
        phi = assay.TreeExplainer(model, bg).shap_values(fg)
        t_assay = time.perf_counter() - t0
        print(f"{name:6s} {'assay':8s} {t_assay:9.3f}")
        for peer in peer_names:
            try:
                theirs, t_init, t_call = PEERS[peer](model, fg, bg)
            except ImportError:
                print(f"{name:6s} {peer:8s} {'not installed':>9s}")
                continue
            t = t_init + t_call
            diff = float(np.abs(theirs.reshape(phi.shape) - phi).max())
            print(f"{name:6s} {peer:8s} {t:9.3f} {t / t_assay:7.1f}x {diff:10.1e}")
    return 0
