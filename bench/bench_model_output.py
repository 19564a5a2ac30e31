#!/usr/bin/env python
"""Transformed outputs of interventional TreeSHAP (shap's model_output="probability" and
"log_loss"): assay vs shap 0.51, in one process on the same data and model.

Model: XGBClassifier(n_estimators=100, max_depth=6) on bench_treeshap's synthetic data (20
features), label y > median. Foreground and background rows come from separate held-out pools.
For each output and size, assay (assay.trees.model_output.transformed_shap_values, the model
converted once beforehand) and shap (TreeExplainer(model, data=Independent(bg, max_samples=len(bg)),
feature_perturbation="interventional", model_output=...).shap_values) are each timed once after
a warm-up on tiny data; wall and process CPU seconds are recorded (shap runs on one thread,
assay on --n-jobs threads), with the load average, since the machine may be shared.

    python bench/bench_model_output.py --quick          # 200 x 200, seconds
    python bench/bench_model_output.py                  # 1k rows x 1k background rows
    python bench/bench_model_output.py --sizes 1k,2000x500 --outputs probability

Agreement: max |assay - shap| over all values and the expected values, and each side's
additivity against the model's own output (predict_proba for "probability", the log loss of
predict_proba for "log_loss"; XGBoost computes them in float32, so ~1e-7 is expected).
Results: bench/results/model_output.json (no absolute paths).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_treeshap import N_TRAIN, SEED, machine_info, make_data, parse_size, repo_relative, versions  # noqa: E402

OUTPUTS = ("probability", "log_loss")


def build_model(n_jobs):
    import xgboost

    X, y = make_data(N_TRAIN + 40_000, seed=SEED)
    label = (y > np.median(y[:N_TRAIN])).astype(np.int32)
    model = xgboost.XGBClassifier(n_estimators=100, max_depth=6, n_jobs=n_jobs, random_state=0)
    model.fit(X[:N_TRAIN], label[:N_TRAIN])
    pool_fg = (X[N_TRAIN : N_TRAIN + 20_000].astype(np.float64), label[N_TRAIN : N_TRAIN + 20_000].astype(np.float64))
    pool_bg = X[N_TRAIN + 20_000 :].astype(np.float64)
    return model, pool_fg, pool_bg


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def run_assay(tree_model, model, X, bg, y, output, n_jobs):
    from assay.trees.model_output import transformed_shap_values

    return transformed_shap_values(
        tree_model, X, bg, output, y=y if output == "log_loss" else None, source_model=model, n_jobs=n_jobs
    )


def run_shap(model, X, bg, y, output):
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        masker = shap.maskers.Independent(bg, max_samples=len(bg))
        ex = shap.TreeExplainer(model, data=masker, feature_perturbation="interventional", model_output=output)
        if output == "log_loss":
            values = ex.shap_values(X, y, check_additivity=False)
            expected = np.array([np.asarray(ex.expected_value(t)).reshape(-1)[0] for t in y])
        else:
            values = ex.shap_values(X, check_additivity=False)
            expected = float(np.asarray(ex.expected_value).reshape(-1)[0])
    return np.asarray(values), expected


def model_target(model, X, y, output):
    """The output each row's values add up to, from the model's own predict_proba (float32)."""
    p = model.predict_proba(X)[:, 1].astype(np.float64)
    if output == "probability":
        return p
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 rows x 200 background rows")
    ap.add_argument("--sizes", default=None, help="comma list: 1k (1000 x 1000) or FGxBG, e.g. 2000x500")
    ap.add_argument("--outputs", default=",".join(OUTPUTS), help="comma list of probability, log_loss")
    ap.add_argument("--n-jobs", type=int, default=-1, help="assay's threads (-1: all)")
    ap.add_argument("--no-shap", action="store_true", help="assay only")
    ap.add_argument(
        "--out",
        default=None,
        help="JSON path (default bench/results/model_output.json; model_output_quick.json with --quick)",
    )
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in (args.sizes or ("200x200" if args.quick else "1k")).split(",")]
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()]
    for o in outputs:
        if o not in OUTPUTS:
            ap.error(f"--outputs: {o!r} is not one of {OUTPUTS}")
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = args.out or os.path.join(
        here, "results", "model_output_quick.json" if args.quick else "model_output.json"
    )

    from assay.trees.convert import convert_model

    model, (fg_pool, y_pool), bg_pool = build_model(args.n_jobs)
    tree_model = convert_model(model)
    for output in outputs:  # warm-up: imports, first calls
        run_assay(tree_model, model, fg_pool[:5], bg_pool[:5], y_pool[:5], output, args.n_jobs)
        if not args.no_shap:
            run_shap(model, fg_pool[:5], bg_pool[:5], y_pool[:5], output)

    result = {
        "config": {
            "model": "XGBClassifier(n_estimators=100, max_depth=6), label y > median",
            "n_features": int(fg_pool.shape[1]),
            "n_train": N_TRAIN,
            "n_jobs": args.n_jobs,
            "outputs": outputs,
            "sizes": [s for s, _ in sizes],
            "peer": None
            if args.no_shap
            else "shap.TreeExplainer(model, data=Independent(bg, max_samples=len(bg)), "
            "feature_perturbation='interventional', model_output=...)",
        },
        "machine": machine_info(),
        "versions": versions(),
        "script": repo_relative(os.path.abspath(__file__)),
        "cases": [],
    }
    rows = []
    for label, (n_fg, n_bg) in sizes:
        X, y, bg = fg_pool[:n_fg], y_pool[:n_fg], bg_pool[:n_bg]
        for output in outputs:
            case = {"size": label, "n_fg": n_fg, "n_bg": n_bg, "output": output, "loadavg_before": os.getloadavg()}
            (values, expected), a_wall, a_cpu = timed(
                lambda: run_assay(tree_model, model, X, bg, y, output, args.n_jobs)
            )
            target = model_target(model, X, y, output)
            case.update(
                assay_wall_s=a_wall,
                assay_cpu_s=a_cpu,
                assay_additivity_vs_model=float(np.max(np.abs(values.sum(axis=1) + expected - target))),
            )
            if not args.no_shap:
                (sv, se), s_wall, s_cpu = timed(lambda: run_shap(model, X, bg, y, output))
                case.update(
                    shap_wall_s=s_wall,
                    shap_cpu_s=s_cpu,
                    max_abs_diff=float(np.max(np.abs(values - sv))),
                    expected_max_abs_diff=float(np.max(np.abs(np.asarray(expected) - se))),
                    shap_additivity_vs_model=float(np.max(np.abs(sv.sum(axis=1) + se - target))),
                    wall_ratio_shap_over_assay=s_wall / a_wall,
                    cpu_ratio_shap_over_assay=s_cpu / a_cpu,
                )
            case["loadavg_after"] = os.getloadavg()
            result["cases"].append(case)
            rows.append(case)
            os.makedirs(os.path.dirname(out_path), exist_ok=True)
            with open(out_path, "w") as f:
                json.dump(result, f, indent=1)
            line = (
                f"{label:>8} {output:>11}  assay {a_wall:7.3f} s (cpu {a_cpu:7.3f})  "
                f"additivity {case['assay_additivity_vs_model']:.1e}"
            )
            if not args.no_shap:
                line += (
                    f"  |  shap {case['shap_wall_s']:7.2f} s (cpu {case['shap_cpu_s']:7.2f})  "
                    f"wall x{case['wall_ratio_shap_over_assay']:.1f}  cpu x{case['cpu_ratio_shap_over_assay']:.1f}  "
                    f"max|diff| {case['max_abs_diff']:.1e}  expected {case['expected_max_abs_diff']:.1e}"
                )
            print(line, flush=True)
    print(
        f"nproc={result['machine'].get('nproc')}  load average {os.getloadavg()}  -> "
        f"{repo_relative(os.path.abspath(out_path))}"
    )


if __name__ == "__main__":
    main()
