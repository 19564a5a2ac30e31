#!/usr/bin/env python
"""Side-by-side benchmark of path-dependent TreeSHAP (no background): assay vs the peers.

One process, the same synthetic data (bench_treeshap.make_data) and the same fitted models:
  assay        TreeExplainer(model) (tables from node covers), then shap_values / shap_interaction_values
  xgboost      Booster.predict(pred_contribs=True / pred_interactions=True), same thread count
  lightgbm     Booster.predict(pred_contrib=True)
  shap         TreeExplainer(model, feature_perturbation="tree_path_dependent")
  woodelf      WoodelfExplainer(model) (path-dependent without data)
Every peer's values are compared with assay's (max |difference|, relative to the output scale).
A peer slower than --peer-timeout seconds is reported as a timeout when the alarm can interrupt
it (Python code); a peer inside one long C++ call (XGBoost's pred_interactions) runs to the end.

    python bench/bench_path_dependent.py --quick
    python bench/bench_path_dependent.py                       # 10k and 100k rows, every model
    python bench/bench_path_dependent.py --models xgb6 --rows 100k --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_treeshap import Rss, PeerTimeout, build_model, make_data, run_with_timeout, versions  # noqa: E402

MODELS = ("xgb6", "xgb8", "lgbm")
N_TRAIN = 20_000


def _rows(tok: str) -> int:
    tok = tok.strip().lower()
    return int(float(tok[:-1]) * 1000) if tok.endswith("k") else int(tok)


def _timed(rss, fn, timeout):
    before = rss.begin()
    t0 = time.perf_counter()
    try:
        out = run_with_timeout(fn, timeout)
    except PeerTimeout:
        return None, None, None
    seconds = time.perf_counter() - t0
    return out, seconds, rss.end() - (before or 0.0)


def _peers(model_name, model, X, kind, threads):
    """name -> callable returning values shaped like assay's ((n, d) or (n, d, d))."""
    import xgboost as xgb

    peers = {}
    if model_name.startswith("xgb"):
        booster = model.get_booster()
        booster.set_param({"nthread": threads})
        flag = "pred_contribs" if kind == "shap" else "pred_interactions"
        cut = (slice(None), slice(0, -1)) if kind == "shap" else (slice(None), slice(0, -1), slice(0, -1))
        peers["xgboost"] = lambda: booster.predict(xgb.DMatrix(X, nthread=threads), **{flag: True})[cut]
    if model_name == "lgbm" and kind == "shap":
        peers["lightgbm"] = lambda: model.booster_.predict(X, pred_contrib=True, num_threads=threads)[:, :-1]
    try:
        import shap

        def run_shap():
            ex = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
            if kind == "shap":
                return np.asarray(ex.shap_values(X, check_additivity=False))
            return np.asarray(ex.shap_interaction_values(X))

        peers["shap"] = run_shap
    except ImportError:
        pass
    try:
        from woodelf import WoodelfExplainer

        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])

        def run_woodelf():
            ex = WoodelfExplainer(model)
            values = (
                ex.shap_values(frame, verbose=False)
                if kind == "shap"
                else ex.shap_interaction_values(frame, verbose=False)
            )
            return np.asarray(values)

        peers["woodelf"] = run_woodelf
    except ImportError:
        pass
    return peers


def bench_case(model_name, model, X, kind, threads, timeout, rss, skip_peers):
    import assay

    scale = float(np.abs(assay.TreeExplainer(model, n_jobs=threads).predict_raw(X[:1000])).max())

    def run_assay():
        ex = assay.TreeExplainer(model, n_jobs=threads)
        return ex.shap_values(X) if kind == "shap" else ex.shap_interaction_values(X)

    mine, t_assay, mb_assay = _timed(rss, run_assay, 0)
    rows = [
        dict(
            model=model_name,
            kind=kind,
            rows=len(X),
            library="assay",
            seconds=t_assay,
            ratio=1.0,
            max_abs_diff=0.0,
            rel_diff=0.0,
            peak_rss_mb=mb_assay,
        )
    ]
    for name, fn in _peers(model_name, model, X, kind, threads).items():
        if name in skip_peers:
            continue
        theirs, seconds, mb = _timed(rss, fn, timeout)
        row = dict(
            model=model_name,
            kind=kind,
            rows=len(X),
            library=name,
            seconds=seconds,
            peak_rss_mb=mb,
            ratio=None if seconds is None else seconds / t_assay,
            max_abs_diff=None,
            rel_diff=None,
        )
        if theirs is not None:
            diff = float(np.abs(theirs.reshape(mine.shape) - mine).max())
            row.update(max_abs_diff=diff, rel_diff=diff / max(scale, 1e-300))
        rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {MODELS}")
    ap.add_argument("--rows", default="10k,100k", help="comma-separated explained row counts for SHAP values")
    ap.add_argument("--interaction-rows", default="10k", help="row counts for interaction values ('' to skip)")
    ap.add_argument("--threads", type=int, default=2, help="threads for assay and the multi-threaded peers")
    ap.add_argument("--peer-timeout", type=float, default=900.0, help="seconds before a peer is stopped")
    ap.add_argument("--skip-peers", default="", help="comma-separated peers not to run (xgboost,lightgbm,shap,woodelf)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: xgb6, 2k rows, 500 interaction rows")
    ap.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "path_dependent.json"),
        help="JSON results file",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.models, args.rows, args.interaction_rows = "xgb6", "2k", "500"
    models = [m for m in args.models.split(",") if m]
    shap_rows = [_rows(t) for t in args.rows.split(",") if t]
    inter_rows = [_rows(t) for t in args.interaction_rows.split(",") if t]
    skip = set(filter(None, args.skip_peers.split(",")))
    n_max = max(shap_rows + inter_rows)
    X_all, y_all = make_data(N_TRAIN + n_max)
    X_train, y_train, X = X_all[:N_TRAIN], y_all[:N_TRAIN], X_all[N_TRAIN:].astype(np.float64)
    rss = Rss()
    results = []
    for name in models:
        model = build_model(name, X_train, y_train)
        for kind, sizes in (("shap", shap_rows), ("interactions", inter_rows)):
            for n in sizes:
                rows = bench_case(name, model, X[:n], kind, args.threads, args.peer_timeout, rss, skip)
                results.extend(rows)
                for r in rows:
                    secs = "timeout" if r["seconds"] is None else f"{r['seconds']:.3f}"
                    ratio = "" if r["ratio"] is None else f"{r['ratio']:.1f}x"
                    rel = "" if r["rel_diff"] is None else f"{r['rel_diff']:.1e}"
                    mb = "" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f}"
                    print(
                        f"{name:5s} {kind:12s} {n:7d} {r['library']:9s} {secs:>9s} s {ratio:>9s} "
                        f"rel.diff {rel:>8s} rss {mb:>6s} MB",
                        flush=True,
                    )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    info = dict(
        machine=dict(platform=platform.platform(), cpus=os.cpu_count(), threads=args.threads),
        versions={k: v for k, v in versions().items() if not k.endswith("__file__")},
        note="ratio = peer seconds / assay seconds (assay: constructor + call); rel_diff = max |peer - "
        "assay| / max |raw output|",
        results=results,
    )
    with open(args.out, "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
