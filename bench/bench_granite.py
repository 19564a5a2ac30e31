#!/usr/bin/env python
"""GRANITE partition-tree fitting time, in sections of bench/results/granite.json (a run replaces
only the sections it runs; each records its machine and commit):

- toy: the papers' toy (x1 ~ N(0, 1), x2, x3 in {-1, 1}, x4 = x3 + N(0, 1/4), f = 3 x1 x2 + x3 + 2 x4,
  y = f + N(0, 1/4), NumPy's legacy generator seeded 42) as a plain callable at N = 500 and 2,000:
  every loss (max_depth 2, min_samples_leaf 20, alpha 0.05, split on x2, x3, x4; pdp_vs_mplot also
  with U = {x4}, split on x1, x2, x3, alpha 0.2, as in the papers' notebook), the component cache on
  and off (cache_mb=0) for pure_vs_full; the fitted rules, normalised leaf losses and the root loss
  on the reference implementation's scale (its loss_fn of all rows: N x assay's per-row losses).
- tree: the toy learnt by XGBoost (60 trees, depth 3, interaction constraints [[0, 1], [2], [3]]),
  pure_vs_full: the exact tree kernel vs the component path (method="generic"), same tree.
- forest: the Sobol loss, max_depth 2, on a 100-tree scikit-learn random forest at N = 500, d = 5.
- kernel (--suite kernel, not in the default run: about an hour): the tree kernel's time against N
  at d = 10 and against d at N = 1,000 for XGBoost 100 x depth 4 (pure_vs_full, max_depth 3).

    python bench/bench_granite.py                 # toy, tree, forest
    python bench/bench_granite.py --suite kernel
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_treeshap as common  # noqa: E402  (machine info, versions)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "granite.json")


def papers_toy(n, seed=42):
    state = np.random.RandomState(seed)
    x1 = state.normal(0, 1, size=n)
    x2 = 2 * state.randint(0, 2, size=n) - 1
    x3 = 2 * state.randint(0, 2, size=n) - 1
    x4 = x3 + 0.5 * state.normal(0, 1, size=n)
    X = np.column_stack([x1, x2, x3, x4]).astype(float)
    return X, 3 * x1 * x2 + x3 + 2 * x4 + 0.5 * state.normal(0, 1, size=n)


def toy_f(A):
    return 3 * A[:, 0] * A[:, 1] + A[:, 2] + 2 * A[:, 3]


TOY_CASES = {  # name: Granite arguments
    "pure_vs_full": dict(loss="pure_vs_full"),
    "pure_vs_full uncached": dict(loss="pure_vs_full", cache_mb=0),
    "pure_vs_full_risk": dict(loss="pure_vs_full_risk"),
    "sobol": dict(loss="sobol"),
    "pdp_vs_mplot": dict(loss="pdp_vs_mplot"),
    "pdp_vs_mplot U=x4": dict(loss="pdp_vs_mplot", components=[3], split_features=[0, 1, 2], alpha=0.2),
    "pfi_vs_cfi": dict(loss="pfi_vs_cfi"),
}


def timed_fit(model, X, y=None, **kw):
    from assay import regions

    t0 = time.perf_counter()
    g = regions.Granite(**kw).fit(model, X, y)
    return g, time.perf_counter() - t0


def toy_suite(sizes):
    import sklearn.tree  # noqa: F401  (imported before the clock starts: pfi_vs_cfi's bins use it)

    rows = []
    for n in sizes:
        X, y = papers_toy(n)
        for name, case in TOY_CASES.items():
            kw = dict(max_depth=2, min_samples_leaf=20, alpha=0.05, split_features=[1, 2, 3])
            kw.update(case)
            g, t = timed_fit(toy_f, X, y, **kw)
            scale = 1.0 if case["loss"] == "sobol" else n  # the reference's loss_fn: a sum over rows
            rows.append(
                {
                    "n": n,
                    "case": name,
                    "fit_s": t,
                    "rules": g.rules(),
                    "leaf_losses": g.leaf_losses_.tolist(),
                    "root_loss_reference_scale": g.root_loss_ * scale,
                }
            )
            print(f"toy N={n:5d} {name:24s} {t:7.2f} s  {g.rules()}", flush=True)
    return rows


def tree_suite(sizes):
    import xgboost as xgb

    rows = []
    for n in sizes:
        X, y = papers_toy(n)
        model = xgb.XGBRegressor(
            n_estimators=60, max_depth=3, interaction_constraints="[[0, 1], [2], [3]]", n_jobs=2, random_state=0
        ).fit(X, y)
        kw = dict(max_depth=2, min_samples_leaf=20, alpha=0.05, split_features=[1, 2, 3])
        g, t_kernel = timed_fit(model, X, **kw)
        gg, t_generic = timed_fit(model, X, method="generic", **kw)
        same = g.rules() == gg.rules() and np.allclose(g.leaf_losses_, gg.leaf_losses_, rtol=1e-8, atol=1e-12)
        rows.append(
            {
                "n": n,
                "tree_kernel_s": t_kernel,
                "component_path_s": t_generic,
                "rules": g.rules(),
                "same_tree": bool(same),
            }
        )
        print(
            f"tree N={n:5d} kernel {t_kernel:6.2f} s  component path {t_generic:6.2f} s  same tree {same}", flush=True
        )
    return rows


def make_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, 0] * (X[:, 1] > 0) + X[:, 2] * X[:, 3] + np.sin(X[:, 4 % d]) + 0.1 * rng.normal(size=n)
    return X, y


def forest_suite(n=500, d=5):
    from sklearn.ensemble import RandomForestRegressor

    X, y = make_data(n, d)
    model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2).fit(X, y)
    g, t = timed_fit(model, X, loss="sobol", max_depth=2, min_samples_leaf=20, alpha=0.05)
    print(f"forest N={n} d={d} sobol depth 2: {t:.1f} s  {g.rules()}", flush=True)
    return {"n": n, "d": d, "trees": 100, "fit_s": t, "rules": g.rules(), "leaf_losses": g.leaf_losses_.tolist()}


def kernel_suite():
    import xgboost as xgb

    def case(n, d):
        X, y = make_data(n, d)
        model = xgb.XGBRegressor(n_estimators=100, max_depth=4, n_jobs=2, random_state=0).fit(X, y)
        g, t = timed_fit(model, X, max_depth=3, min_samples_leaf=20, alpha=0.01)
        print(f"kernel N={n:5d} d={d:3d} {t:7.2f} s  regions {len(g.rules())}", flush=True)
        return {"n": n, "d": d, "tree_kernel_s": t, "regions": len(g.rules())}

    return {
        "by_n": [case(n, 10) for n in (250, 500, 1000, 2000, 4000)],
        "by_d": [case(1000, d) for d in (5, 10, 20, 30)],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=["default", "toy", "tree", "forest", "kernel"], default="default")
    ap.add_argument("--quick", action="store_true", help="N = 500 only")
    ap.add_argument("--out", default=RESULTS)
    args = ap.parse_args(argv)
    sizes = [500] if args.quick else [500, 2000]
    suites = ["toy", "tree", "forest"] if args.suite == "default" else [args.suite]
    result = {}
    if os.path.exists(args.out):
        with open(args.out) as f:
            result = json.load(f)
    for suite in suites:
        data = {
            "toy": lambda: toy_suite(sizes),
            "tree": lambda: tree_suite(sizes),
            "forest": forest_suite,
            "kernel": kernel_suite,
        }[suite]()
        result[suite] = {"machine": common.machine_info(), "versions": common.versions(), "results": data}
    common.write_results(args.out, result)


if __name__ == "__main__":
    main()
