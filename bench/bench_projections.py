#!/usr/bin/env python
"""Exact box-constrained hyperplane projections: assay's C++ kernel vs the batched pure-torch
reference (sort-based, assay.robustness._projection_torch), same data, one process.

d = 3072 (a CIFAR image), B x H = 512 x 9 (a batch against the 9 other classes' decision
hyperplanes), norms l_inf / l_2 / l_1, box (0, 1) and none, w in float32 and float64. Both sides
return the moves (B, H, d) and use the same number of threads (torch.set_num_threads). Each
case checks agreement and reports the median wall time of --repeats runs (the reference gets
about half as many: it is slow) and the median CPU time of the process (all threads; less
sensitive to other jobs on a shared machine). The table goes to stdout and
bench/results/projections.json.

    python bench/bench_projections.py [--threads 2] [--repeats 5] [--batch 512] [--planes 9] [--dim 3072]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

from assay.robustness.projection import project_hyperplanes


def median_time(fn, repeats):
    """(result, median wall s, wall times, median CPU s of this process: all threads)."""
    times, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return out, statistics.median(times), times, statistics.median(cpu)


def make_data(B, H, d, seed=0):
    """Points in [0, 1]^d; normals like a linear model's class differences; offsets so that the
    hyperplanes lie at a spread of distances (mostly feasible inside the box)."""
    rng = np.random.default_rng(seed)
    t = rng.random((B, d))
    w = rng.normal(size=(B, H, d))
    reach = 0.5 * np.abs(w).sum(-1)  # about half of the capacity of the box
    b = np.einsum("bhd,bd->bh", w, t) + rng.uniform(-1, 1, size=(B, H)) * reach
    return t, w, b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--planes", type=int, default=9)
    ap.add_argument("--dim", type=int, default=3072)
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "projections.json")
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t, w64, b = make_data(args.batch, args.planes, args.dim)
    rows = []
    for dtype in (np.float32, np.float64):
        w = w64.astype(dtype)
        for box in ((0.0, 1.0), None):
            for norm in ("inf", 2, 1):
                run = lambda backend: project_hyperplanes(
                    t,
                    w,
                    b,
                    norm=norm,
                    box=box,
                    backend=backend,  # noqa: E731
                    n_jobs=args.threads,
                    device="cpu",
                )
                run("auto")  # warm-up (thread pool, page faults)
                ours, t_ours, all_ours, cpu_ours = median_time(lambda: run("auto"), args.repeats)
                ref, t_ref, all_ref, cpu_ref = median_time(lambda: run("torch"), max(1, args.repeats // 2 + 1))
                f = ref.feasible
                agree = bool((ours.feasible == ref.feasible).all())
                rel = float(np.max(np.abs(ours.distance[f] - ref.distance[f]) / np.maximum(1.0, ref.distance[f])))
                row = {
                    "dtype": np.dtype(dtype).name,
                    "box": "none" if box is None else "[0,1]",
                    "norm": str(norm),
                    "assay_s": t_ours,
                    "torch_ref_s": t_ref,
                    "speedup": t_ref / t_ours,
                    "assay_cpu_s": cpu_ours,
                    "torch_ref_cpu_s": cpu_ref,
                    "cpu_time_ratio": cpu_ref / cpu_ours,
                    "assay_runs_s": all_ours,
                    "torch_runs_s": all_ref,
                    "feasible_frac": float(f.mean()),
                    "same_feasibility": agree,
                    "max_rel_diff_distance": rel,
                    "max_abs_diff_delta": float(np.abs(ours.delta - ref.delta).max()),
                }
                rows.append(row)
                print(
                    f"{row['dtype']:8s} box={row['box']:6s} norm={row['norm']:3s}  assay {t_ours:7.3f} s  "
                    f"torch ref {t_ref:7.3f} s  x{row['speedup']:5.1f} (CPU time x{row['cpu_time_ratio']:5.1f})  feasible {row['feasible_frac']:.2f}  "
                    f"agree={agree} rel diff {rel:.1e}",
                    flush=True,
                )
    speedups = [r["speedup"] for r in rows]
    cpu_ratios = [r["cpu_time_ratio"] for r in rows]
    summary = {
        "median_speedup": statistics.median(speedups),
        "min_speedup": min(speedups),
        "max_speedup": max(speedups),
        "median_cpu_time_ratio": statistics.median(cpu_ratios),
    }
    print(json.dumps(summary))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(
            {
                "problem": {"B": args.batch, "H": args.planes, "d": args.dim},
                "threads": args.threads,
                "torch": torch.__version__,
                "machine": platform.machine(),
                "cpu_count": os.cpu_count(),
                "note": "shared, noisy machine: medians of repeated runs",
                "summary": summary,
                "cases": rows,
            },
            fh,
            indent=2,
        )


if __name__ == "__main__":
    main()
