#!/usr/bin/env python
"""Min-norm attacks: assay.robustness.input_margins against adv-lib's FAB and FMN, in one process on
the same models and points, each estimate divided by the exact margin.

Cases: random linear models (exact margins in closed form, exact_margins_linear; float64) and small
ReLU MLPs trained on scikit-learn's digits (exact margins by MILP, exact_margins_mlp; float32).
Needs torch and adv-lib (see bench/README.md for the peer venv):

    PYTHONPATH=python <peer venv>/bin/python bench/bench_margins.py   # writes bench/results/margins.json

torch runs on --threads intra-op threads (default 2, the setting of the recorded results; 0 keeps
torch's own default, usually one per core).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from importlib import metadata

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_treeshap as common  # noqa: E402  (machine info, versions, JSON writer)

from assay.robustness import exact_margins_linear, exact_margins_mlp, input_margins  # noqa: E402

NORMS = {"inf": float("inf"), "2": 2, "1": 1}
SEED = 0


# --------------------------------------------------------------------------- cases


def linear_case(d=64, K=10, n=200, seed=SEED):
    """nn.Linear(d, K) with PyTorch's default random init and n points uniform in [0,1]^d. Weights and
    points are drawn in float32, so the float64 model (attacked by assay, used for the exact margins)
    and the float32 copy (attacked by adv-lib, whose FAB fails on float64) are the same function."""
    torch.manual_seed(seed)
    model32 = torch.nn.Linear(d, K)
    x32 = torch.rand(n, d)
    return copy.deepcopy(model32).double(), x32.double(), model32, x32


def digits_mlp(hidden, n, epochs=300, seed=SEED):
    """A ReLU MLP 64-hidden-10 trained full-batch with Adam on digits rows 0..1499 (X/16 in [0,1]),
    and the first n rows after those that it classifies correctly."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(y)
    torch.manual_seed(seed)
    sizes = (64, *hidden, 10)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X[:1500]), y[:1500]).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        ok = (net(X[1500:]).argmax(1) == y[1500:]).nonzero()[:, 0] + 1500
    info = {"test_accuracy": len(ok) / (len(X) - 1500), "test_rows_used": ok[:n].tolist()}
    return net, X[ok[:n]], info


# --------------------------------------------------------------------------- methods


def run_assay(model, x, y, p):
    r = input_margins(model, x, NORMS[p], box=(0.0, 1.0))
    return r.adversarial, r.margin


def run_fab(model, x, y, p, restarts=None):
    from adv_lib.attacks import fab  # the peer: imported on use, so --help works without it

    return fab(model, x, y, norm=NORMS[p], restarts=restarts), None


def run_fab5(model, x, y, p):
    return run_fab(model, x, y, p, restarts=5)


def run_fmn(model, x, y, p, steps=None):
    from adv_lib.attacks import fmn

    return fmn(model, x, y, norm=NORMS[p], **({} if steps is None else {"steps": steps})), None


def checked_margins(model, x, y, adv, p):
    """||adv - x||_p in float64 where the model's prediction at adv differs from y, else +inf."""
    with torch.no_grad():
        flipped = model(adv).argmax(1) != y
    dist = (adv.double() - x.double()).flatten(1).norm(p=NORMS[p], dim=1)
    return torch.where(flipped, dist, torch.full_like(dist, float("inf"))).numpy()


def timed(method, model, x, y, p):
    """(wall s, process CPU s, margins checked by the benchmark, margins as the method reports them or
    None) for one call on the whole batch, after a warm-up call on 2 points."""
    torch.manual_seed(SEED)
    method(model, x[:2], y[:2], p)
    torch.manual_seed(SEED)
    t0, c0 = time.perf_counter(), time.process_time()
    adv, reported = method(model, x, y, p)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, cpu, checked_margins(model, x, y, adv, p), None if reported is None else reported.numpy()


# --------------------------------------------------------------------------- metrics and output


def metrics(est, exact, seconds, cpu):
    fin = np.isfinite(exact)
    ratio = est[fin] / exact[fin]
    q = lambda v: float(np.quantile(ratio, v, method="inverted_cdf")) if ratio.size else float("nan")  # noqa: E731
    return {
        "time_s": seconds,
        "cpu_s": cpu,
        "points": int(est.size),
        "finite_exact": int(fin.sum()),
        "min_ratio": q(0.0),
        "median_ratio": q(0.5),
        "p95_ratio": q(0.95),
        "frac_above_1.01": float(np.mean(ratio > 1.01)),
        "frac_below_exact": float(np.mean(est[fin] < exact[fin] * (1 - 1e-6))),
        "failures": int(np.sum(~np.isfinite(est))),
    }


def compare(case, p, runs, exact, extra):
    """One row per method of this (case, norm), printed as a table line."""
    rows = []
    for name, (seconds, cpu, est, reported) in runs.items():
        row = {"case": case, "norm": p, "method": name, **metrics(est, exact, seconds, cpu), **extra}
        row["peer_over_assay_time"] = seconds / runs["assay"][0]
        if reported is not None:  # assay's own margins must match what the benchmark re-checks
            both = np.isfinite(reported) & np.isfinite(est)
            rel = np.abs(reported - est)[both] / est[both]
            row["reported_vs_checked_max_rel"] = float(np.max(rel, initial=0.0))
            row["reported_finite_where_checked_inf"] = int(np.sum(np.isfinite(reported) & ~np.isfinite(est)))
        row["estimate"], row["exact"] = est.tolist(), exact.tolist()
        rows.append(row)
        print(table_line(row), flush=True)
    return rows


HEADER = (
    f"{'case':24s} {'norm':>4s} {'method':8s} {'n':>4s} {'time_s':>8s} {'peer/assay':>10s} "
    f"{'min':>9s} {'median':>8s} {'p95':>8s} {'>1.01':>6s} {'below':>6s} {'fail':>5s}"
)


def table_line(r):
    return (
        f"{r['case']:24s} {'l_' + r['norm']:>4s} {r['method']:8s} {r['finite_exact']:4d} {r['time_s']:8.3f} "
        f"{r['peer_over_assay_time']:10.1f} {r['min_ratio']:9.6f} {r['median_ratio']:8.4f} {r['p95_ratio']:8.4f} "
        f"{r['frac_above_1.01']:6.3f} {r['frac_below_exact']:6.3f} {r['failures']:5d}"
    )


# --------------------------------------------------------------------------- main


def status_counts(exact):
    return {str(k): int(v) for k, v in zip(*np.unique(exact.status.astype(str), return_counts=True))}


def bench_linear(n, methods):
    model64, x64, model32, x32 = linear_case(n=n)
    W, b = model64.weight.detach().numpy(), model64.bias.detach().numpy()
    with torch.no_grad():
        y64, y32 = model64(x64).argmax(1), model32(x32).argmax(1)
    assert torch.equal(y64, y32), "float32 and float64 linear models predict differently"
    rows = []
    for p in NORMS:
        exact = exact_margins_linear(W, b, x64.numpy(), norm=NORMS[p], box=(0.0, 1.0))
        runs = {
            name: timed(m, model64, x64, y64, p) if name == "assay" else timed(m, model32, x32, y32, p)
            for name, m in methods.items()
        }
        rows += compare("linear 64->10 (f64)", p, runs, exact.margin, {"exact_status": status_counts(exact)})
    return rows


def bench_mlp(hidden, n, methods, use_hint=True):
    net, x, info = digits_mlp(hidden, n)
    with torch.no_grad():
        y = net(x).argmax(1)
    case = "digits MLP " + "-".join(map(str, (64, *hidden, 10)))
    rows = []
    for p in ("inf", "1"):  # the MILP has no l_2
        runs = {name: timed(m, net, x, y, p) for name, m in methods.items()}
        hint = np.min([r[2] for r in runs.values()], axis=0) if use_hint else None
        t0 = time.perf_counter()
        exact = exact_margins_mlp(net, x, norm=NORMS[p], box=(0.0, 1.0), radius_hint=hint)
        extra = {"milp_s": time.perf_counter() - t0, "exact_status": status_counts(exact), **info}
        rows += compare(case, p, runs, exact.margin, extra)
        print(f"{'':24s} exact by MILP: {extra['milp_s']:.1f} s, status {extra['exact_status']}", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--linear-points", type=int, default=200)
    ap.add_argument("--mlp-points", type=int, default=60)
    ap.add_argument("--mlps", default="16,32,16-16", help="hidden sizes of the digits MLPs, e.g. 16,24,16-16")
    ap.add_argument("--no-hint", action="store_true", help="no radius_hint for the MILP (slower)")
    ap.add_argument("--fmn-steps", type=int, default=None, help="FMN steps (default: adv-lib's default, 10)")
    ap.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch intra-op threads (default 2, as in the recorded results; 0: torch's default, "
        f"here {torch.get_num_threads()})",
    )
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "margins.json")
    )
    args = ap.parse_args(argv)
    if args.threads < 0:
        ap.error(f"--threads: expected an int >= 0, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()  # the count used, recorded in the results' config
    methods = {
        "assay": run_assay,
        "fab": run_fab,
        "fab-r5": run_fab5,
        "fmn": lambda *a: run_fmn(*a, steps=args.fmn_steps),
    }
    print(
        "exact = the closed form (exact_margins_linear) for the linear model, which is float64 (assay attacks\n"
        "it; adv-lib's FAB fails on float64, so the peers attack the identical float32 copy); the MILP optimum\n"
        "(exact_margins_mlp, HiGHS, float64 encoding of the float32 net; radius_hint = the smallest margin any\n"
        "method found) for the float32 digits MLPs.\n"
        "ratio = estimate / exact over the n points with a finite exact margin (min, median, p95; a failure counts\n"
        "as +inf); '>1.01' and 'below' = fractions with ratio > 1.01 and ratio < 1 - 1e-6; 'fail' = no adversarial\n"
        "found; peer/assay = method time / assay time (wall, whole batch).\n"
    )
    print(HEADER)
    t_start, load0, machine = time.perf_counter(), os.getloadavg(), common.machine_info()  # the commit measured
    rows = bench_linear(args.linear_points, methods)
    for h in args.mlps.split(","):
        rows += bench_mlp(tuple(int(v) for v in h.split("-")), args.mlp_points, methods, not args.no_hint)
    versions = {**common.versions(), **{k: metadata.version(k) for k in ("torch", "adv-lib")}}
    total, load1 = time.perf_counter() - t_start, os.getloadavg()
    config = {**vars(args), "out": common.repo_relative(args.out)}
    common.write_results(
        args.out,
        {
            "machine": machine,
            "versions": versions,
            "config": config,
            "total_s": total,
            "loadavg_start_end": [load0, load1],
            "rows": rows,
        },
    )
    print(f"total {total:.0f} s; load average (1, 5, 15 min) at start {load0}, at end {load1}")


if __name__ == "__main__":
    main()
