"""The `assay` command line (also `python -m assay`)."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="assay", description="Fast, exact auditing of ML models.")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="explain an XGBoost model with assay and shap side by side")
    d.add_argument("--rows", type=int, default=569, help="foreground = background rows (default: all 569)")
    d.add_argument("--no-shap", action="store_true", help="skip the shap comparison")
    e = sub.add_parser("explain", help="explain a saved model on a CSV / Parquet table")
    e.add_argument("model", help="XGBoost .json/.ubj, LightGBM .txt, or a pickled model (.joblib/.pkl)")
    e.add_argument("--data", required=True, help="rows to explain (.csv or .parquet)")
    e.add_argument("--background", required=True, help="background rows (.csv or .parquet)")
    e.add_argument("--kind", choices=["shap", "banzhaf", "interactions", "taylor"], default="shap")
    e.add_argument("--interactions", choices=["shap", "taylor"], default=None,
                   help="shorthand: interaction values (shap) or Shapley-Taylor values (taylor)")
    e.add_argument("--groups", help="JSON file: {name: [columns]} or [[columns], ...]")
    e.add_argument("--n-jobs", type=int, default=-1)
    e.add_argument("--no-progress", action="store_true")
    e.add_argument("-o", "--output", required=True, help="output table (.parquet or .csv)")
    b = sub.add_parser("bench", help="assay vs shap / woodelf on synthetic data")
    b.add_argument("--size", default="1k", help="1k, 10k, 100k or FGxBG (default 1k)")
    b.add_argument("--models", default="xgb6", help="comma list of xgb6, lgbm, rf8")
    b.add_argument("--peers", default="shap,woodelf", help="comma list of shap, woodelf, or none")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.rows < 1:
            parser.error("--rows must be >= 1")
        from .demo import demo
        return demo(args.rows, not args.no_shap)
    if args.command == "explain":
        if args.interactions:
            args.kind = {"shap": "interactions", "taylor": "taylor"}[args.interactions]
        from .explain import explain
        return explain(args)
    from .bench import bench
    try:
        return bench(args.size, args.models, args.peers)
    except ValueError as exc:
        parser.error(str(exc))
    return 1


if __name__ == "__main__":
    sys.exit(main())
