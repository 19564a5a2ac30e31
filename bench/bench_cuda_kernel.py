#!/usr/bin/env python
"""The CUDA tree kernel's own variants, side by side on one device (needs an ASSAY_CUDA=ON build
and a GPU): where a row's sums live while it walks the trees (accumulator local / shared /
global, csrc/cuda/pattern_shap_cuda.cu), for SHAP and interaction values, with the rows given as
NumPy (copied in by chunks) or already on the device (a torch CUDA tensor). The variants must
agree bitwise; the table says which is fastest, so that the default (auto) can follow the data.

    python bench/bench_cuda_kernel.py                       # xgb6, 1M x 1M (SHAP), 100k rows (interactions)
    python bench/bench_cuda_kernel.py --rows 200k --background 200k --repeats 5

Same data and model as bench_treeshap.py (its helpers are imported). Writes
bench/results/cuda_kernel.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_treeshap import (
    N_TRAIN,
    _count,
    build_model,
    machine_info,
    make_data,
    repo_relative,  # noqa: E402
    shown,
    versions,
)

ACCUMULATORS = {"auto": 0, "local": 1, "shared": 2, "global": 3}
INDICES = {"shap": "SHAPLEY", "interaction": "INTERACTION"}  # members of _core.Index


def best_of(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times), float(np.median(times))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="xgb6")
    ap.add_argument("--rows", default="1m", help="foreground rows for SHAP values")
    ap.add_argument("--interaction-rows", default="100k", help="foreground rows for interaction values")
    ap.add_argument("--background", default="1m", help="background rows")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "cuda_kernel.json")
    )
    args = ap.parse_args(argv)

    import assay
    from assay import _core

    if not assay.cuda_available():
        sys.exit("bench_cuda_kernel: needs an ASSAY_CUDA=ON build and a CUDA device")
    import torch

    n_fg, n_int, n_bg = _count(args.rows), _count(args.interaction_rows), _count(args.background)
    X_all, y_all = make_data(N_TRAIN + n_fg + n_bg)
    model = build_model(args.model, X_all[:N_TRAIN], y_all[:N_TRAIN])
    X = np.ascontiguousarray(X_all[N_TRAIN : N_TRAIN + n_fg], dtype=np.float64)
    bg = np.ascontiguousarray(X_all[N_TRAIN + n_fg :], dtype=np.float64)
    forest = assay.TreeExplainer(model, data=bg[:10], device="cpu").model.forest
    X_dev = torch.as_tensor(X, device="cuda")

    result = {
        "config": vars(args) | {"out": repo_relative(args.out), "n_fg": n_fg, "n_interaction": n_int, "n_bg": n_bg},
        "machine": machine_info(),
        "versions": versions(),
        "cases": [],
    }
    print(
        f"# {args.model}: {n_fg} rows (SHAP), {n_int} rows (interactions), {n_bg} background rows, "
        f"best of {args.repeats}"
    )
    print(f"{'index':<12}{'input':<8}{'accumulator':<13}{'tables_s':>10}{'values_s':>10}{'median_s':>10}  agrees")
    for index_name, member in INDICES.items():
        index = _core.Index.__members__[member]
        kernel, build_s, _ = best_of(lambda: _core.CudaPatternShap(forest, bg, index=index), 1)
        rows = n_fg if index_name == "shap" else n_int
        reference = None
        for input_name, data in (("numpy", X[:rows]), ("device", X_dev[:rows])):
            for acc_name, acc in ACCUMULATORS.items():
                case = {
                    "index": index_name,
                    "input": input_name,
                    "accumulator": acc_name,
                    "rows": rows,
                    "tables_s": build_s,
                }
                try:
                    out, best, median = best_of(lambda: kernel.values(data, accumulator=acc), args.repeats)
                    if reference is None:
                        reference = out
                    case.update(values_s=best, median_s=median, agrees=bool(np.array_equal(out, reference)))
                except ValueError as e:  # a variant that cannot hold these rows
                    case.update(values_s=None, median_s=None, agrees=None, error=str(e))
                result["cases"].append(case)
                print(
                    f"{index_name:<12}{input_name:<8}{acc_name:<13}{build_s:>10.3f}"
                    + (
                        f"{case['values_s']:>10.3f}{case['median_s']:>10.3f}  {case['agrees']}"
                        if case["values_s"] is not None
                        else f"{'-':>10}{'-':>10}  ({case['error']})"
                    )
                )
        kernel = None  # the device tables freed before the next index (not del: the lambda above names it)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, default=str)
    print(f"wrote {shown(args.out)}")
    if any(c["agrees"] is False for c in result["cases"]):
        sys.exit("bench_cuda_kernel: the variants disagree")


if __name__ == "__main__":
    main()
