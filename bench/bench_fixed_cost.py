"""The fixed cost of one explain at small sizes, against shap, in one process on the same data.

The case: XGBoost 100 trees of depth 6 on the 20 features of bench_treeshap's data, 1,000 rows
explained against a 1,000-row background. assay's whole call (TreeExplainer(model, data=bg) then
shap_values(X)) and its parts are timed best of --repeat after a warm-up; shap's interventional
TreeExplainer best of --shap-repeat. Values are checked against each other. Writes
bench/results/fixed_cost.json and prints a table.

    python bench/bench_fixed_cost.py                # ~1.5 min (shap ~20 s a call, 3 calls)
"""

import argparse
import os
import time

import numpy as np

from bench_treeshap import build_model, machine_info, make_data, versions, write_results


def best_of(fn, repeat):
    """(best seconds, last result) of `repeat` calls."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="assay calls timed (best of)")
    ap.add_argument("--shap-repeat", type=int, default=3, help="shap calls timed (best of); 0 skips shap")
    ap.add_argument("--n-jobs", type=int, default=-1)
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "fixed_cost.json")
    )
    args = ap.parse_args(argv)

    import assay
    from assay.trees.convert import convert_model

    X, y = make_data(12_000)
    model = build_model("xgb6", X[:10_000], y[:10_000])
    bg, Xf = X[10_000:11_000], X[11_000:12_000]

    def whole():
        return assay.TreeExplainer(model, data=bg, n_jobs=args.n_jobs).shap_values(Xf)

    whole()  # warm-up: imports, thread pools, first-touch pages
    parts = {
        "convert_model_s": best_of(lambda: convert_model(model), args.repeat)[0],
        "explainer_init_s": best_of(lambda: assay.TreeExplainer(model, data=bg, n_jobs=args.n_jobs), args.repeat)[0],
    }
    explainer = assay.TreeExplainer(model, data=bg, n_jobs=args.n_jobs)
    parts["shap_values_s"] = best_of(lambda: explainer.shap_values(Xf), args.repeat)[0]
    total_s, phi = best_of(whole, args.repeat)
    result = {
        "case": "xgb6 (XGBoost 100 trees, depth 6, 20 features), 1000 x 1000",
        "machine": machine_info(),
        "versions": versions(),
        "assay": {"total_s": total_s, **parts, "repeat": args.repeat},
    }
    rows = [("assay whole call", total_s)] + [(k, v) for k, v in parts.items()]
    if args.shap_repeat > 0:
        from assay.cli.peers import run_shap

        def shap_call():  # the whole background (shap subsamples a plain array to 100 rows)
            return run_shap(model, Xf, bg)[0]

        shap_s, phi_shap = best_of(shap_call, args.shap_repeat)
        result["shap"] = {"total_s": shap_s, "repeat": args.shap_repeat}
        result["ratio_shap_over_assay"] = shap_s / total_s
        result["max_abs_diff"] = float(np.abs(np.asarray(phi_shap) - phi).max())
        rows.append(("shap whole call", shap_s))
    print(f"{'':24s} {'ms':>10s}")
    for name, s in rows:
        print(f"{name:24s} {1000 * s:10.1f}")
    if "shap" in result:
        print(f"ratio shap / assay: {result['ratio_shap_over_assay']:.0f}x; max |diff| {result['max_abs_diff']:.1e}")
    write_results(args.out, result)


if __name__ == "__main__":
    main()
