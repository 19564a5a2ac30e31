#!/usr/bin/env python
"""Exact input margins: assay against the obvious peer, one LP per (point, other class) with
scipy.optimize.linprog (HiGHS), on the same linear models in one process; and the cost of the
exact MILP margins of a small ReLU network (no peer library computes them; the reference note
quotes ~1 s per point for an 8-24-4 network).

    python bench/bench_exact_margins.py            # writes bench/results/exact_margins.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_treeshap as common  # noqa: E402  (machine info, versions)


def lp_margin(W, b, x, y, p, box):
    """The peer: min over j != y of the LP min ||delta||_p s.t. f_j(x + delta) >= f_y(x + delta), box."""
    d, best = x.size, np.inf
    I = np.eye(d)
    for j in range(W.shape[0]):
        if j == y:
            continue
        v = W[j] - W[y]
        c = b[y] - b[j] - v @ x
        aux = -np.ones((d, 1)) if p == "inf" else -I
        n_aux = aux.shape[1]
        A = np.vstack([np.c_[I, aux], np.c_[-I, aux], np.r_[-v, np.zeros(n_aux)]])
        bounds = [(lo - xi, hi - xi) for xi, lo, hi in zip(x, *box)] + [(0, None)] * n_aux
        res = linprog(
            np.r_[np.zeros(d), np.ones(n_aux)], A_ub=A, b_ub=np.r_[np.zeros(2 * d), -c], bounds=bounds, method="highs"
        )
        if res.status == 0:
            best = min(best, res.fun)
    return best


def linear_case(K, d, n, p, seed=0):
    from assay.robustness.exact import exact_margins_linear

    rng = np.random.default_rng(seed)
    W, b, x = rng.normal(size=(K, d)), rng.normal(size=K) * 0.1, rng.uniform(0, 1, size=(n, d))
    lo, hi = np.zeros(d), np.ones(d)
    exact_margins_linear(W, b, x[:2], norm=p, box=(lo, hi))  # warm-up
    t0 = time.perf_counter()
    r = exact_margins_linear(W, b, x, norm=p, box=(lo, hi))
    t_assay = time.perf_counter() - t0
    y = (x @ W.T + b).argmax(1)
    t0 = time.perf_counter()
    ref = np.array([lp_margin(W, b, x[i], y[i], p, (lo, hi)) for i in range(n)])
    t_peer = time.perf_counter() - t0
    fin = np.isfinite(ref)
    agree = bool(np.array_equal(fin, np.isfinite(r.margin)))
    err = float(np.max(np.abs(r.margin[fin] - ref[fin]) / np.maximum(ref[fin], 1e-12))) if fin.any() else 0.0
    out = {
        "case": f"linear K={K} d={d} box [0,1]",
        "norm": str(p),
        "points": n,
        "assay_s": t_assay,
        "peer_s": t_peer,
        "speedup": t_peer / t_assay,
        "max_rel_err": err,
        "same_infeasible": agree,
    }
    print(
        f"{out['case']:28s} l_{p:<3} {n} points  assay {t_assay:8.4f} s  linprog {t_peer:8.2f} s  "
        f"({out['speedup']:7.0f}x)  max rel err {err:.1e}  same +inf rows: {agree}",
        flush=True,
    )
    return out


def mlp_case(sizes, n, p, seed=0):
    import torch
    from assay.robustness.exact import exact_margins_mlp

    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).double()
    x = np.random.default_rng(seed).uniform(0, 1, size=(n, sizes[0]))
    times = []
    results = []
    for i in range(n):
        t0 = time.perf_counter()
        results.append(exact_margins_mlp(net, x[i : i + 1], norm=p, box=(0.0, 1.0)))
        times.append(time.perf_counter() - t0)
    flipped = all(bool(r.flipped[0]) for r in results if np.isfinite(r.margin[0]))
    optimal = all(r.status[0] == "optimal" for r in results)
    out = {
        "case": "ReLU " + "-".join(map(str, sizes)) + " box [0,1]",
        "norm": str(p),
        "points": n,
        "mean_s_per_point": float(np.mean(times)),
        "max_s_per_point": float(np.max(times)),
        "all_optimal": optimal,
        "all_adversarials_flip": flipped,
    }
    print(
        f"{out['case']:28s} l_{p:<3} {n} points  MILP {out['mean_s_per_point']:.3f} s/point (max "
        f"{out['max_s_per_point']:.3f})  optimal: {optimal}  adversarials flip: {flipped}",
        flush=True,
    )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--mlp-points", type=int, default=20)
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "exact_margins.json")
    )
    args = ap.parse_args(argv)
    rows = [linear_case(10, 100, args.points, p) for p in ("inf", 1)]
    rows += [mlp_case((8, 24, 4), args.mlp_points, p) for p in ("inf", 1)]
    result = {"machine": common.machine_info(), "versions": common.versions(), "rows": rows}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"# wrote {common.shown(args.out)}")


if __name__ == "__main__":
    main()
