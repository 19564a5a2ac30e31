#!/usr/bin/env python
"""GRANITE partition-tree fitting time (loss "pure_vs_full", order 1, max_depth 3,
min_samples_leaf 20, alpha 0.01) for an XGBoost model (100 trees, max_depth 4 unless --depth),
against N at d = 10 and against d at N = 1,000: the exact tree kernel vs the generic path (direct
evaluation, O(|R|^2) model calls per region and subset).

The generic path is run in full only where it finishes within --generic-budget seconds (it must
then grow the same tree); elsewhere its time is extrapolated from one timed root-region
evaluation scaled by sum over all evaluated regions of (|R| / N)^2, which the tree-kernel run
records (above N = 500 the root evaluation itself is timed on 500 rows and scaled by N^2). No peer library re-anchors the decomposition per region, so the generic path (the
definition, vectorised NumPy + assay's IR predict) is the comparison.

    python bench/bench_granite.py                 # writes bench/results/granite.json
    python bench/bench_granite.py --quick
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_treeshap as common  # noqa: E402  (machine info, versions)


def make_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, 0] * (X[:, 1] > 0) + X[:, 2] * X[:, 3] + np.sin(X[:, 4 % d]) + 0.1 * rng.normal(size=n)
    return X, y


def fit_granite(model, X, method, sizes=None):
    from assay import regions

    g = regions.Granite(max_depth=3, min_samples_leaf=20, alpha=0.01, method=method)
    if sizes is not None:  # record every evaluated region's size (for the generic extrapolation)
        from assay.regions import anchored

        orig = anchored.AnchoredDecomposition.split_squared_gaps

        def counting(self, rows, feature, thresholds):
            x = self.X[np.asarray(rows), feature]
            for t in np.atleast_1d(thresholds):
                k = int((x <= t).sum())
                sizes.extend([k, x.size - k])
            return orig(self, rows, feature, thresholds)

        anchored.AnchoredDecomposition.split_squared_gaps = counting
        try:
            t0 = time.perf_counter()
            g.fit(model, X)
            return g, time.perf_counter() - t0
        finally:
            anchored.AnchoredDecomposition.split_squared_gaps = orig
    t0 = time.perf_counter()
    g.fit(model, X)
    return g, time.perf_counter() - t0


def case(n, d, depth, generic_budget):
    import xgboost as xgb
    from assay import regions

    X, y = make_data(n, d)
    model = xgb.XGBRegressor(n_estimators=100, max_depth=depth, n_jobs=2, random_state=0).fit(X, y)
    sizes = []
    g, t_tree = fit_granite(model, X, "auto", sizes)
    evals = len(sizes)
    scale = float(np.sum((np.asarray(sizes, dtype=float) / n) ** 2))
    n0 = min(n, 500)  # O(N^2) model calls: time the root evaluation on 500 rows, scale by N^2
    Dg = regions.anchored_decomposition(model, X[:n0], method="generic")
    t0 = time.perf_counter()
    Dg.squared_gap(None)
    t_root = (time.perf_counter() - t0) * (n / n0) ** 2
    est = t_root * (1 + scale)
    out = {"n": n, "d": d, "trees": 100, "tree_depth": depth, "regions": len(g.rules()), "evaluations": evals,
           "tree_kernel_s": t_tree, "generic_root_eval_s": t_root, "generic_estimate_s": est,
           "generic_s": None, "same_tree": None}
    if est <= generic_budget:  # run the generic path in full
        gg, t_gen = fit_granite(model, X, "generic")
        out["generic_s"] = t_gen
        out["same_tree"] = gg.rules() == g.rules() and np.allclose(gg.leaf_losses_, g.leaf_losses_, rtol=1e-8, atol=1e-12)
        if not out["same_tree"]:
            raise SystemExit(f"the tree kernel and the generic path grew different trees at N={n}, d={d}")
    gen = (f"{out['generic_s']:9.2f} s (est. {est:.0f} s)" if out["generic_s"] is not None
           else f"~{est:9.0f} s (est.)")
    ratio = (out["generic_s"] or est) / t_tree
    print(f"N={n:5d} d={d:3d} depth={depth}  regions {out['regions']:2d}  evaluations {evals:6d}  "
          f"tree kernel {t_tree:8.2f} s   generic {gen}   ratio {ratio:8.0f}x"
          + ("   same tree" if out["same_tree"] else ""), flush=True)
    return out


def slope(xs, ts):
    return float(np.polyfit(np.log(xs), np.log(ts), 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--depth", type=int, default=4, help="XGBoost max_depth")
    ap.add_argument("--generic-budget", type=float, default=300.0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "granite.json"))
    args = ap.parse_args(argv)
    Ns = [250, 500] if args.quick else [250, 500, 1000, 2000, 4000]
    ds = [5, 10] if args.quick else [5, 10, 20, 30]
    agreement = [case(120, 5, args.depth, np.inf)]  # both paths in full: they must grow the same tree
    by_n = [case(n, 10, args.depth, args.generic_budget) for n in Ns]
    by_d = [case(1000 if not args.quick else 250, d, args.depth, args.generic_budget) for d in ds]
    extra = [] if args.quick else [case(1000, 30, 6, 0.0)]
    exps = {"tree_kernel_vs_N": slope(Ns, [c["tree_kernel_s"] for c in by_n]),
            "tree_kernel_vs_d": slope(ds, [c["tree_kernel_s"] for c in by_d]),
            "generic_vs_N": slope(Ns, [c["generic_s"] or c["generic_estimate_s"] for c in by_n])}
    print("scaling exponents (log-log slopes):", {k: round(v, 2) for k, v in exps.items()})
    result = {"machine": common.machine_info(), "versions": common.versions(), "agreement": agreement,
              "by_n": by_n, "by_d": by_d,
              "extra": extra, "exponents": exps}
    common.write_results(args.out, result)


if __name__ == "__main__":
    main()
