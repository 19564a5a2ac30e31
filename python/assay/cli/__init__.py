"""The `assay` command line (also `python -m assay`)."""

from __future__ import annotations

import argparse
import sys

KIND_HELP = (
    "which values: shap (Shapley, default), banzhaf, interaction (Shapley interaction "
    "values, one column per ordered pair a|b) or taylor (Shapley-Taylor, order 2); "
    "'interactions' is the deprecated spelling of interaction"
)
# Accepted for one release with a warning on stderr (assay's one vocabulary: "interaction").
KIND_CHOICES = ["shap", "banzhaf", "interaction", "taylor", "interactions"]


def build_parser() -> argparse.ArgumentParser:
    """The `assay` argument parser, with the subcommands demo, explain and bench (a subcommand is
    required)."""
    parser = argparse.ArgumentParser(prog="assay", description="Fast, exact auditing of ML models.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_demo(sub)
    _add_explain(sub)
    _add_bench(sub)
    return parser


def _add_demo(sub):
    d = sub.add_parser("demo", help="explain an XGBoost model with assay and shap side by side")
    d.add_argument("--rows", type=int, default=569, help="foreground = background rows (default: all 569)")
    d.add_argument("--no-shap", action="store_true", help="skip the shap comparison")


def _add_explain(sub):
    e = sub.add_parser(
        "explain",
        help="explain a saved model on a CSV / Parquet table",
        description="Explain a saved model on a CSV / Parquet table; every argument is "
        "checked before anything is loaded or computed.",
    )
    e.add_argument("model", help="XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm, or a pickled model (.joblib/.pkl)")
    e.add_argument("--data", required=True, help="rows to explain (.csv or .parquet)")
    e.add_argument("--background", required=True, help="background rows (.csv or .parquet)")
    e.add_argument(
        "--kind", choices=KIND_CHOICES, default="shap", metavar="{shap,banzhaf,interaction,taylor}", help=KIND_HELP
    )
    e.add_argument(
        "--interactions",
        choices=["shap", "taylor"],
        default=None,
        help="shorthand: interaction values (shap) or Shapley-Taylor values (taylor)",
    )
    e.add_argument("--groups", help="JSON file: {name: [columns]} or [[columns], ...]")
    e.add_argument("--n-jobs", type=int, default=-1, help="CPU threads: -1 for all cores (default) or a positive count")
    e.add_argument(
        "--no-progress",
        action="store_true",
        help="report no progress (default: a bar on a terminal, one line per 10%% in a log)",
    )
    e.add_argument("-o", "--output", required=True, help="output table (.parquet or .csv)")


def _add_bench(sub):
    b = sub.add_parser("bench", help="assay vs shap / woodelf on synthetic data")
    b.add_argument(
        "--size",
        default="1k",
        help="1k, 10k, 100k or FGxBG (default 1k): rows explained x background rows; "
        "the models train on FG+BG further rows, at least 1,000 and at most 20,000",
    )
    b.add_argument("--models", default="xgb6", help="comma list of xgb6, lgbm, rf8")
    b.add_argument("--peers", default="shap,woodelf", help="comma list of shap, woodelf, or none")


def main(argv=None) -> int:
    """Run the `assay` command line on `argv` (default: sys.argv[1:]) and return the exit status.

    Bad arguments exit through argparse (status 2, the message on stderr); `--interactions` maps
    to `--kind` (shap -> interaction, taylor -> taylor) before `assay explain` runs; the deprecated
    `--kind interactions` runs as `--kind interaction`, with a warning on stderr.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.rows < 1:
            parser.error("--rows must be >= 1")
        from .demo import demo

        return demo(args.rows, not args.no_shap)
    if args.command == "explain":
        if args.interactions:
            args.kind = {"shap": "interaction", "taylor": "taylor"}[args.interactions]
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
