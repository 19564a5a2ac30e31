#!/usr/bin/env python
"""Side-by-side benchmark of interventional interaction values: assay vs woodelf.

Same process, same data and models as bench_treeshap.py (its helpers are reused). For every
(model, size): assay's Shapley interaction values (shap's convention: off-diagonals hold half the
interaction index, rows sum to the SHAP values) against woodelf-explainer's
`shap_interaction_values` on the same rows, with agreement checked; and assay's order-2
Shapley-Taylor values, timed on the same explainer (a ratio against assay's own interaction time).

    python bench/bench_interactions.py                   # xgb6 and lgbm at 1k x 1k and 10k x 10k
    python bench/bench_interactions.py --models xgb6 --sizes 1k --peers none

Timings are one call each after a warm-up; `a_build` is the explainer and its interaction tables
(built on first use), `a_sii` / `a_st` the calls. JSON goes to bench/results/interactions.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_treeshap as common  # noqa: E402  (data, models, RSS, versions, timeouts)

SIZES = {"1k": (1_000, 1_000), "10k": (10_000, 10_000)}


def run_assay(model, X, bg, n_jobs):
    import assay

    t0 = time.perf_counter()
    ex = assay.TreeExplainer(model, data=bg, n_jobs=n_jobs)
    ex._kernel(2), ex._kernel(3)  # interaction and Shapley-Taylor tables (otherwise built on first use)
    t1 = time.perf_counter()
    sii = ex.shap_interaction_values(X)
    t2 = time.perf_counter()
    st = ex.shapley_taylor_values(X)
    t3 = time.perf_counter()
    return ex, sii, st, t1 - t0, t2 - t1, t3 - t2


def run_woodelf(model, X, bg, columns):
    from woodelf import WoodelfExplainer

    bg_df = pd.DataFrame(bg, columns=columns)
    X_df = pd.DataFrame(X, columns=columns)
    t0 = time.perf_counter()
    ex = WoodelfExplainer(model, bg_df)
    values = ex.shap_interaction_values(X_df, verbose=False)
    return np.asarray(values, dtype=np.float64), time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="xgb6,lgbm")
    ap.add_argument("--sizes", default="1k,10k", help=f"comma list of {list(SIZES)} or FGxBG, e.g. 2000x500")
    ap.add_argument("--peers", default="woodelf", help="woodelf or none")
    ap.add_argument("--n-jobs", type=int, default=-1)
    ap.add_argument("--peer-timeout", type=float, default=1800)
    ap.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "interactions.json")
    )
    args = ap.parse_args(argv)
    sizes = [common.parse_size(s) if s not in SIZES else (s, SIZES[s]) for s in args.sizes.split(",")]
    max_fg = max(fg for _, (fg, _) in sizes)
    max_bg = max(bg for _, (_, bg) in sizes)
    X_all, y_all = common.make_data(common.N_TRAIN + max_fg + max_bg)
    X_train, y_train = X_all[: common.N_TRAIN], y_all[: common.N_TRAIN]
    fg_pool = X_all[common.N_TRAIN : common.N_TRAIN + max_fg].astype(np.float64)
    bg_pool = X_all[common.N_TRAIN + max_fg :].astype(np.float64)
    columns = [f"f{j}" for j in range(common.N_FEATURES)]
    rss = common.Rss()
    cases = []
    print(f"# interaction values, assay vs {args.peers}; machine {common.machine_info()}")
    for name in args.models.split(","):
        model = common.build_model(name, X_train, y_train)
        run_assay(model, fg_pool[:8], bg_pool[:16], args.n_jobs)  # warm-up
        if args.peers == "woodelf":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run_woodelf(model, fg_pool[:8], bg_pool[:16], columns)
        for label, (n_fg, n_bg) in sizes:
            X, bg = fg_pool[:n_fg], bg_pool[:n_bg]
            rss.begin()
            ex, sii, st, build, t_sii, t_st = run_assay(model, X, bg, args.n_jobs)
            case = {
                "model": name,
                "size": label,
                "fg": n_fg,
                "bg": n_bg,
                "a_build": build,
                "a_sii": t_sii,
                "a_st": t_st,
                "a_total": build + t_sii,
                "st_over_sii": t_st / t_sii,
                "rss_assay_mb": rss.end(),
            }
            gap = ex.model.predict_raw(X)[:, 0] - ex.expected_value
            case["st_efficiency"] = float(np.max(np.abs(st.sum(axis=(1, 2)) - gap)))
            case["sii_rows_vs_shap"] = float(np.max(np.abs(sii.sum(axis=2) - ex.shap_values(X))))
            del st
            if args.peers == "woodelf":
                rss.begin()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        peer, t_peer = common.run_with_timeout(
                            lambda: run_woodelf(model, X, bg, columns), args.peer_timeout
                        )
                    case.update(
                        peer_s=t_peer,
                        ratio=t_peer / case["a_total"],
                        rss_peer_mb=rss.end(),
                        max_abs_diff=float(np.max(np.abs(peer - sii))),
                        scale=float(np.max(np.abs(ex.model.predict_raw(X)))),
                    )
                except common.PeerTimeout:
                    case.update(peer_s=None, error="woodelf timed out")
                del peer
            cases.append(case)
            print(_line(case), flush=True)
    result = {
        "machine": common.machine_info(),
        "versions": common.versions(),
        "cases": cases,
        "process_peak_rss_mb": rss.process_peak_mb,
    }
    common.write_results(args.out, result)


def _line(c):
    peer = (
        f"woodelf {c['peer_s']:.3f}s ratio {c['ratio']:.1f}x max|diff| {c['max_abs_diff']:.1e} (scale {c['scale']:.1f})"
        if c.get("peer_s")
        else c.get("error", "no peer")
    )
    return (
        f"{c['model']:5s} {c['size']:>5s} fg={c['fg']} bg={c['bg']}: assay build {c['a_build']:.3f}s "
        f"interactions {c['a_sii']:.3f}s Shapley-Taylor {c['a_st']:.3f}s (ST/SII {c['st_over_sii']:.2f}); "
        f"{peer}; ST efficiency {c['st_efficiency']:.1e}, SII rows vs SHAP {c['sii_rows_vs_shap']:.1e}; "
        f"rss {c['rss_assay_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
