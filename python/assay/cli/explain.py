"""`assay explain MODEL --data X --background BG -o OUT`: explain a saved model from the shell."""
from __future__ import annotations

import json
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

KINDS = {"shap": "shap_values", "banzhaf": "banzhaf_values", "interactions": "shap_interaction_values",
         "taylor": "shapley_taylor_values"}


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def load_model(path: Path):
    """XGBoost (.json, .ubj), LightGBM (.txt) or a pickled scikit-learn / XGBoost / LightGBM model
    (.joblib, .pkl, .pickle)."""
    if not path.is_file():
        raise CliError(f"MODEL: no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".json", ".ubj"):
        import xgboost as xgb
        return xgb.Booster(model_file=str(path))
    if suffix == ".txt":
        import lightgbm as lgb
        return lgb.Booster(model_file=str(path))
    if suffix in (".joblib", ".pkl", ".pickle"):
        warnings.warn(f"loading {path.name} runs the code inside it: only load pickles you trust", stacklevel=2)
        if suffix == ".joblib":
            import joblib
            return joblib.load(path)
        with open(path, "rb") as f:
            return pickle.load(f)
    raise CliError(f"MODEL: unknown model file type {suffix!r} (expected .json/.ubj for XGBoost, .txt for "
                   "LightGBM, .joblib/.pkl/.pickle for scikit-learn)")


def read_table(path: Path, what: str):
    import pandas as pd
    if not path.is_file():
        raise CliError(f"{what}: no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise CliError(f"{what}: expected a .csv or .parquet file, got {path.name}")


def write_table(frame, path: Path):
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        raise CliError(f"-o: expected a .csv or .parquet output, got {path.name}")


def _order_columns(model, frame, what):
    """Use the model's own feature order when it knows its feature names."""
    names = getattr(model, "feature_names", None) or getattr(model, "feature_name", lambda: None)()
    if names and set(names) <= set(map(str, frame.columns)):
        return frame[list(names)]
    return frame


def values_frame(values, names, K, kind):
    """Wide table: one column per player (or per ordered pair "a|b" for interactions), [k] per output."""
    import pandas as pd
    n = values.shape[0]
    pairs = kind in ("interactions", "taylor")
    labels = [f"{a}|{b}" for a in names for b in names] if pairs else list(names)
    flat = values.reshape(n, len(labels), -1) if K > 1 else values.reshape(n, len(labels), 1)
    columns = labels if K == 1 else [f"{c}[{k}]" for c in labels for k in range(K)]
    return pd.DataFrame(flat.reshape(n, -1), columns=columns)


def explain(args) -> int:
    import assay
    try:
        model = load_model(Path(args.model))
        data = read_table(Path(args.data), "--data")
        background = read_table(Path(args.background), "--background")
        groups = None
        if args.groups:
            try:
                groups = json.loads(Path(args.groups).read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise CliError(f"--groups: cannot read a JSON dict or list from {args.groups} ({exc})") from None
        data, background = _order_columns(model, data, "--data"), _order_columns(model, background, "--background")
        ex = assay.TreeExplainer(model, background, groups=groups, n_jobs=args.n_jobs, progress=not args.no_progress)
        values = getattr(ex, KINDS[args.kind])(data)
        frame = values_frame(values, ex.player_names, ex.n_outputs, args.kind)
        write_table(frame, Path(args.output))
    except CliError as exc:
        print(f"assay explain: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        print(f"assay explain: {exc}", file=sys.stderr)
        return 2
    ev = np.atleast_1d(ex.expected_value)
    print(f"wrote {frame.shape[0]} rows x {frame.shape[1]} columns of {args.kind} values to {args.output} "
          f"(expected value {', '.join(f'{v:.6g}' for v in ev)})")
    return 0
