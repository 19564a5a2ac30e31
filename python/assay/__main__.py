"""Command line: `python -m assay demo` (the README's main job)."""
from __future__ import annotations

import argparse
import sys
import time


def demo(rows: int, with_shap: bool) -> int:
    import numpy as np

    try:
        import xgboost as xgb
        from sklearn.datasets import load_breast_cancer
    except ImportError as exc:
        print(f"the demo needs scikit-learn and xgboost: pip install 'assay[bench]' ({exc})", file=sys.stderr)
        return 2
    import assay

    data = load_breast_cancer()
    X = data.data.astype(np.float32).astype(np.float64)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=6, random_state=0).fit(X, data.target)
    rows = min(rows, len(X))
    fg, bg = X[:rows], X[:rows]
    print(f"model: XGBoost classifier, 100 trees, depth 6, on scikit-learn's breast cancer data "
          f"({X.shape[0]} rows x {X.shape[1]} features)")
    print(f"explaining {rows} rows against a background of {rows} rows (exact interventional SHAP, raw log-odds)")

    t0 = time.perf_counter()
    ex = assay.TreeExplainer(model, bg)
    phi = ex.shap_values(fg)
    t_assay = time.perf_counter() - t0
    margin = model.predict(fg, output_margin=True)
    err = np.abs(phi.sum(1) + ex.expected_value - margin).max()
    print(f"assay: {t_assay:.3f} s   (efficiency: max |sum(phi) + E[f] - f(x)| = {err:.2e})")
    top = np.argsort(-np.abs(phi).mean(0))[:5]
    print("top features by mean |SHAP|: " + ", ".join(f"{data.feature_names[i]} ({np.abs(phi[:, i]).mean():.3f})"
                                                       for i in top))
    if not with_shap:
        return 0
    try:
        import shap
    except ImportError:
        print("shap is not installed: pip install 'assay[bench]' to compare side by side")
        return 0
    t0 = time.perf_counter()
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    sx = shap.TreeExplainer(model, data=masker, feature_perturbation="interventional", model_output="raw")
    theirs = np.asarray(sx.shap_values(fg, check_additivity=False))
    t_shap = time.perf_counter() - t0
    diff = np.abs(theirs.reshape(phi.shape) - phi).max()
    print(f"shap {shap.__version__}: {t_shap:.3f} s")
    print(f"agreement: max |assay - shap| = {diff:.2e} (output scale {np.abs(margin).max():.2f})")
    print(f"speed: assay is {t_shap / t_assay:.0f}x faster than shap on the same data")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="assay", description="Fast, exact auditing of ML models.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="explain an XGBoost model with assay and shap side by side")
    d.add_argument("--rows", type=int, default=569, help="foreground = background rows (default: all 569)")
    d.add_argument("--no-shap", action="store_true", help="skip the shap comparison")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.rows < 1:
            parser.error("--rows must be >= 1")
        return demo(args.rows, not args.no_shap)
    return 1


if __name__ == "__main__":
    sys.exit(main())
