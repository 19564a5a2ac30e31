"""Saved model files by path: XGBoost .json / .ubj, LightGBM .txt and CatBoost .cbm, read by their own libraries.

One loader for both doors: `convert_model("model.json")` (so `assay.TreeExplainer("model.json",
data=X)`) and `assay explain model.json ...`. Pickles run code when loaded, so only the command
line, which warns, opts into them (allow_pickle=True); the Python API takes the unpickled model.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

from ..errors import ModelError

MODEL_FILES = {".json": "XGBoost", ".ubj": "XGBoost", ".txt": "LightGBM", ".cbm": "CatBoost"}
PICKLES = (".joblib", ".pkl", ".pickle")


def is_model_path(model) -> bool:
    """True when `model` is a path (str or os.PathLike) to load, rather than a model object."""
    return isinstance(model, (str, os.PathLike))


def check_model_path(path, allow_pickle: bool = False) -> Path:
    """The path as a Path, once it names an existing file of a known kind; checked before any
    loading so a typo fails at once. FileNotFoundError / ValueError name `model` and the path."""
    p = Path(os.fsdecode(os.fspath(path)))
    if not p.is_file():
        what = "a directory, not a model file" if p.is_dir() else "no such file"
        raise FileNotFoundError(f"model: {what}: {str(p)!r}")
    suffix = p.suffix.lower()
    if suffix in MODEL_FILES or (allow_pickle and suffix in PICKLES):
        return p
    expected = ".json/.ubj for XGBoost, .txt for LightGBM, .cbm for CatBoost"
    if allow_pickle:
        expected += ", .joblib/.pkl/.pickle for scikit-learn"
    elif suffix in PICKLES:
        expected += "; a pickle runs code when loaded: unpickle it yourself if you trust it and pass the model"
    raise ModelError(f"model: unknown model file type {suffix!r} for {str(p)!r} (expected {expected})")


def load_model_file(path, allow_pickle: bool = False):
    """The model saved at `path`: an xgboost.Booster, a lightgbm.Booster or (allow_pickle) whatever
    the pickle holds. An unreadable file is a ValueError naming `model` and the path."""
    p = check_model_path(path, allow_pickle)
    suffix = p.suffix.lower()
    if suffix in PICKLES:
        return _unpickle(p)
    library = MODEL_FILES[suffix]
    booster_class = _booster_class(library, p)
    try:
        return booster_class(model_file=str(p))
    except Exception as exc:  # noqa: BLE001  (XGBoostError / LightGBMError: the libraries' own)
        raise ModelError(f"model: cannot read {str(p)!r} as a {library} model ({_first_line(exc)})") from None


def _booster_class(library: str, p: Path):
    try:
        if library == "XGBoost":
            import xgboost

            return xgboost.Booster
        if library == "CatBoost":
            import catboost

            return lambda model_file: catboost.CatBoost().load_model(model_file)
        import lightgbm

        return lightgbm.Booster
    except ImportError:
        raise ImportError(f"model: reading {str(p)!r} needs {library} (pip install {library.lower()})") from None


def _unpickle(p: Path):
    warnings.warn(f"loading {p.name} runs the code inside it: only load pickles you trust", stacklevel=3)
    if p.suffix.lower() == ".joblib":
        import joblib

        return joblib.load(p)
    with open(p, "rb") as f:
        return pickle.load(f)


def _first_line(exc) -> str:
    # The libraries' messages carry C++ stack traces after the first line.
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
