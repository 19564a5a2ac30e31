#!/usr/bin/env python
"""Time for local partial orders of 1,000 instances (d = 20) in the Rashomon sets of a linear
model, kernel ridge regression (N = 1,000) and a random forest (100 trees); and the sub-forest
bound curve on diabetes (RandomForestRegressor, 100 trees, depth 5, fitted on the first 300 rows,
errors on the other 142): the bound on the worst sub-forest of m trees against m for the paper's
bound epsilon^+(m), assay's convexity bound and the smaller of the two, and the sub-forest size
m(eps) each gives for eps in {1.01, 1.05, 1.1, 1.3} x the forest's RMSE.

No peer library computes these orders, so the table reports assay's own times (fit, the per-tree
or per-instance attributions, the orders) and sanity figures: the mean number of relations and of
ambiguous features per order, and a check that the best model's own ranking agrees with every order.

    python bench/bench_rashomon.py                 # writes bench/results/rashomon.json
    python bench/bench_rashomon.py --n-orders 200
    python bench/bench_rashomon.py --bounds-only   # only print the diabetes bound table (seconds)
    python bench/bench_rashomon.py --bounds-only --plot   # and draw bench/results/rashomon.svg
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
    beta = np.linspace(2.0, 0.0, d)
    y = X @ beta + 0.5 * np.sin(2 * X[:, 0]) * X[:, 1] + rng.normal(size=n)
    return X, y


def case(name, fit, orders, best_scores, n_orders):
    t0 = time.perf_counter()
    model = fit()
    t1 = time.perf_counter()
    pos = orders(model)
    t2 = time.perf_counter()
    rel = np.mean([po.relation.sum() for po in pos])
    amb = np.mean([po.ambiguous.sum() for po in pos])
    scores = best_scores(model)
    agree = all(po.consistent_with(s) for po, s in zip(pos, scores))
    out = {
        "model": name,
        "n_orders": n_orders,
        "fit_s": t1 - t0,
        "orders_s": t2 - t1,
        "per_order_ms": 1e3 * (t2 - t1) / n_orders,
        "mean_relations": float(rel),
        "mean_ambiguous": float(amb),
        "best_model_agrees": bool(agree),
    }
    print(
        f"{name:14s} fit {out['fit_s']:7.3f} s   {n_orders} local orders {out['orders_s']:7.3f} s "
        f"({out['per_order_ms']:.2f} ms each)   relations {rel:5.1f}   ambiguous {amb:4.1f}   "
        f"best model agrees: {agree}",
        flush=True,
    )
    return out


FACTORS = (1.01, 1.05, 1.1, 1.3)


def forest_bounds(plot_path=None):
    """The diabetes bound curve and m(eps) per bound, printed as a table (and drawn to plot_path)."""
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor

    from assay.rashomon import ForestRashomon

    X, y = load_diabetes(return_X_y=True)
    rf = RandomForestRegressor(n_estimators=100, max_depth=5, random_state=0).fit(X[:300], y[:300])
    F = ForestRashomon(rf, X[300:], y[300:], X[:100])
    curve = F.bound_curve()
    names = ("paper", "convexity", "combined")
    rows = []
    print(
        f"\ndiabetes RF 100 x depth 5: forest RMSE {F.forest_rmse_:.2f}, sqrt(mean tree MSE) "
        f"{curve['convexity'][-1]:.2f}"
    )
    print(f"{'eps / RMSE':>10s} {'eps':>8s} " + " ".join(f"{'m ' + n:>12s}" for n in names))
    for factor in FACTORS:
        eps = factor * F.forest_rmse_
        sizes = {}
        for n in names:
            ok = np.flatnonzero(curve[n] <= eps)
            sizes[n] = int(ok[0]) + 1 if ok.size else None
        rows.append({"factor": factor, "eps": eps, **{f"m_{n}": sizes[n] for n in names}})
        print(
            f"{factor:10.2f} {eps:8.2f} "
            + " ".join(f"{'refused' if sizes[n] is None else sizes[n]:>12}" for n in names)
        )
    if plot_path:
        F.plot_bound_curve(plot_path, title="diabetes RF (100 trees, depth 5)")
        print(f"drew {os.path.relpath(plot_path)}")
    cross = np.flatnonzero(curve["paper"] < curve["convexity"])
    print(f"the paper's bound is the smaller from m = {int(cross[0]) + 1 if cross.size else None}")
    return {
        "data": "diabetes, fit rows 0-299, errors on rows 300-441, background rows 0-99",
        "forest_rmse": F.forest_rmse_,
        "m_eps": rows,
        "paper_smaller_from_m": int(cross[0]) + 1 if cross.size else None,
        "curve": {k: curve[k] for k in ("m",) + names},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-orders", type=int, default=1000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--bounds-only", action="store_true", help="only the diabetes sub-forest bound curve")
    ap.add_argument("--plot", action="store_true", help="draw the bound curve next to --out (.svg)")
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "rashomon.json")
    )
    args = ap.parse_args(argv)
    bounds = forest_bounds(os.path.splitext(args.out)[0] + ".svg" if args.plot else None)
    if args.bounds_only:
        return
    from sklearn.ensemble import RandomForestRegressor

    from assay.rashomon import ForestRashomon, KernelRidgeRashomon, LinearRashomon

    n, d = args.n_orders, args.d
    X, y = make_data(5000, d)
    Xq = X[:n]
    cases = []

    def tol(R):
        return R.epsilon_from_tolerance(1.02 * np.sqrt(R.loss_))

    cases.append(
        case(
            "linear",
            lambda: LinearRashomon().fit(X, y),
            lambda R: R.local_orders(Xq, tol(R)),
            lambda R: np.abs(R.attributions(Xq)),
            n,
        )
    )
    cases.append(
        case(
            "kernel ridge",
            lambda: KernelRidgeRashomon(lam=1e-3).fit(X[:1000], y[:1000]),
            lambda R: R.local_orders(Xq, tol(R)),
            lambda R: np.abs(R.attributions(Xq)),
            n,
        )
    )
    holder = {}

    def fit_forest():
        rf = RandomForestRegressor(n_estimators=100, max_depth=8, n_jobs=-1, random_state=0).fit(
            X[1000:4000], y[1000:4000]
        )
        F = ForestRashomon(rf, X[4000:], y[4000:], X[1000:2000], bound="convexity")
        holder["eps"] = float(np.sqrt(F._mse_bounds()[49]))  # sub-forests of 50 of the 100 trees
        return F

    cases.append(
        case(
            "forest (100)",
            fit_forest,
            lambda F: F.local_orders(Xq, holder["eps"]),
            lambda F: np.abs(F.per_tree_attributions(Xq).mean(axis=-1)),
            n,
        )
    )
    result = {"machine": common.machine_info(), "versions": common.versions(), "cases": cases, "forest_bounds": bounds}
    common.write_results(args.out, result)


if __name__ == "__main__":
    main()
