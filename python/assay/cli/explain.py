"""`assay explain MODEL --data X --background BG -o OUT`: explain a saved model from the shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .._inputs import align_columns, reference_names
from .._validation import check_n_jobs
from .._vocabulary import OLD_INDEX_NAMES, PAIRWISE
from ..trees import model_files

KINDS = {
    "shap": "shap_values",
    "banzhaf": "banzhaf_values",
    "interaction": "shap_interaction_values",
    "taylor": "shapley_taylor_values",
}
TABLES = (".csv", ".parquet", ".pq")
# The API's argument names in the explainer's messages, as the command line spells them.
API_TO_CLI = {"data": "--background", "X": "--data", "n_jobs": "--n-jobs", "groups": "--groups"}


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def check_args(args) -> None:
    """Every argument that can be checked without reading a file's contents: a typo in -o or a
    missing input fails here, before the model is loaded or any value computed. A deprecated
    --kind spelling (interactions) is translated, with a warning on stderr."""
    if args.kind in OLD_INDEX_NAMES:
        new = OLD_INDEX_NAMES[args.kind]
        print(
            f"assay explain: warning: --kind {args.kind} is deprecated and will be removed in the next "
            f"release: use --kind {new}",
            file=sys.stderr,
        )
        args.kind = new
    if args.kind not in KINDS:
        raise CliError(f"--kind: expected one of {list(KINDS)}, got {args.kind!r}")
    _check_table_path(args.output, "-o", must_exist=False)
    model_files.check_model_path(args.model, allow_pickle=True)
    _check_table_path(args.data, "--data")
    _check_table_path(args.background, "--background")
    if args.groups and not Path(args.groups).is_file():
        raise CliError(f"--groups: no such file: {args.groups}")
    try:
        check_n_jobs(args.n_jobs)
    except (TypeError, ValueError) as exc:
        raise CliError(f"--n-jobs: {str(exc).split(': ', 1)[1]}") from None


def _check_table_path(text: str, option: str, must_exist: bool = True) -> Path:
    path = Path(text)
    if must_exist and not path.is_file():
        raise CliError(f"{option}: no such file: {path}")
    if path.suffix.lower() not in TABLES:
        raise CliError(f"{option}: expected a .csv or .parquet {'file' if must_exist else 'output'}, got {path.name}")
    if not must_exist and not path.parent.is_dir():
        raise CliError(f"{option}: no such directory: {path.parent}")
    return path


def load_model(path: Path):
    """XGBoost (.json, .ubj), LightGBM (.txt) or a pickled scikit-learn / XGBoost / LightGBM model
    (.joblib, .pkl, .pickle): the loader `assay.TreeExplainer(path, ...)` uses, plus pickles."""
    return model_files.load_model_file(path, allow_pickle=True)


def read_table(path: Path, what: str):
    """The .csv or .parquet (.pq) table at `path` as a pandas DataFrame; `what` (the option, e.g.
    "--data") names it in the CliError raised for a missing file or another extension."""
    import pandas as pd

    _check_table_path(str(path), what)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def write_table(frame, path: Path):
    """Write the DataFrame `frame` to `path` as CSV or Parquet (by extension), without the index;
    CliError for another extension or a missing directory."""
    _check_table_path(str(path), "-o", must_exist=False)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def read_groups(text):
    """The `--groups` JSON file parsed ({name: [columns]} or [[columns], ...]), or None when no
    file was given; CliError when it cannot be read or is not JSON."""
    if not text:
        return None
    try:
        return json.loads(Path(text).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CliError(f"--groups: cannot read a JSON dict or list from {text} ({exc})") from None


def align_tables(model, data, background):
    """Both tables' columns matched by name to the model's features (reordered where only the order
    differs), before the background tables are built: a renamed column fails here, naming it."""
    names = reference_names(model.feature_names, list(map(str, background.columns)))
    background = align_columns(background, names, "--background")
    return align_columns(data, names, "--data"), background


def values_frame(values, names, K, kind):
    """Wide table: one column per player (or per ordered pair "a|b" for interaction and taylor
    values), [k] per output."""
    import pandas as pd

    n = values.shape[0]
    pairs = kind in PAIRWISE
    labels = [f"{a}|{b}" for a in names for b in names] if pairs else list(names)
    flat = values.reshape(n, len(labels), -1) if K > 1 else values.reshape(n, len(labels), 1)
    columns = labels if K == 1 else [f"{c}[{k}]" for c in labels for k in range(K)]
    return pd.DataFrame(flat.reshape(n, -1), columns=columns)


def _cli_message(exc) -> str:
    """The explainer's message with its argument name spelled as the command line's option."""
    text = str(exc)
    name, sep, rest = text.partition(": ")
    return f"{API_TO_CLI[name]}: {rest}" if sep and name in API_TO_CLI else text


def _run(args):
    import assay

    check_args(args)
    groups = read_groups(args.groups)
    model = assay.convert_model(load_model(Path(args.model)))
    data = read_table(Path(args.data), "--data")
    background = read_table(Path(args.background), "--background")
    data, background = align_tables(model, data, background)
    ex = assay.TreeExplainer(model, background, groups=groups, n_jobs=args.n_jobs, progress=not args.no_progress)
    values = getattr(ex, KINDS[args.kind])(data)
    frame = values_frame(values, ex.player_names, ex.n_outputs, args.kind)
    write_table(frame, Path(args.output))
    return ex, frame


def explain(args) -> int:
    """`assay explain` on parsed arguments: check them, load the model and tables, compute the
    `--kind` values and write them to `-o`, printing one summary line. Returns 0, or 2 with a
    one-line message on stderr for a bad argument or input."""
    try:
        ex, frame = _run(args)
    except (CliError, ValueError, TypeError, OSError) as exc:
        print(f"assay explain: {_cli_message(exc)}", file=sys.stderr)
        return 2
    ev = np.atleast_1d(ex.expected_value)
    print(
        f"wrote {frame.shape[0]} rows x {frame.shape[1]} columns of {args.kind} values to {args.output} "
        f"(expected value {', '.join(f'{v:.6g}' for v in ev)})"
    )
    return 0
