"""What the model's own library says: its raw output (for check_additivity) and the model cut to
its first boosting rounds (for tree_limit). Libraries are imported lazily."""

from __future__ import annotations

import numpy as np

from .forest import TreeModel


def library_raw_output(model, X) -> np.ndarray:
    """The raw output the model's own library predicts for the validated matrix X: (n,) or (n, K),
    float64 (margins of boosted models, probabilities of scikit-learn forest classifiers)."""
    module = type(model).__module__.split(".")[0]
    if module == "xgboost":
        import xgboost as xgb

        if isinstance(model, xgb.Booster):
            types = model.feature_types
            dm = xgb.DMatrix(X, feature_types=types, enable_categorical=bool(types and "c" in types))
            out = model.predict(dm, output_margin=True)
        else:
            out = model.predict(X, output_margin=True)
    elif module == "lightgbm":
        booster = model if type(model).__name__ == "Booster" else model.booster_
        out = booster.predict(X, raw_score=True)
        dump = booster.dump_model(num_iteration=-1)
        if dump.get("average_output"):  # RF mode: raw_score is the un-averaged sum
            out = out / (len(dump["tree_info"]) // dump["num_tree_per_iteration"])
    elif module == "sklearn":
        name = type(model).__name__
        if name.startswith("HistGradientBoosting"):
            out = model._raw_predict(X)
        elif name == "GradientBoostingClassifier":
            out = model.decision_function(X)
        elif name.endswith("Classifier"):
            out = model.predict_proba(X)
        else:
            out = model.predict(X)
    elif module == "catboost":
        # CatBoostRanker.predict has no prediction_type: it returns the raw formula value already.
        ranker = type(model).__name__ == "CatBoostRanker"
        out = model.predict(X) if ranker else model.predict(X, prediction_type="RawFormulaVal")
    else:
        raise TypeError(
            f"check_additivity: no library prediction for a {type(model).__name__}; pass check_additivity=False"
        )
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(len(X), -1)[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out


def first_rounds(model, rounds: int) -> TreeModel:
    """The model restricted to its first `rounds` boosting rounds (shap's tree_limit; -1: all),
    converted by its library's converter. XGBoost, LightGBM and CatBoost only: their models say
    which trees form a round."""
    module = type(model).__module__.split(".")[0]
    if module == "xgboost":
        from ._xgboost import convert_xgboost as convert
    elif module == "lightgbm":
        from ._lightgbm import convert_lightgbm as convert
    elif module == "catboost":
        from ._catboost import convert_catboost as convert
    else:
        raise TypeError(
            f"tree_limit: supported for XGBoost, LightGBM and CatBoost models, got "
            f"{type(model).__name__}; pass tree_limit=None"
        )
    return convert(model, rounds=rounds)


def check_additivity(values, expected_value, model, X):
    """Raise (as shap does) when SHAP values do not add up to the library's own raw output."""
    total = values.sum(axis=1) + np.asarray(expected_value)
    theirs = library_raw_output(model, X)
    theirs = theirs.reshape(total.shape)
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    gap = float(np.abs(total - theirs).max(initial=0.0))
    # Libraries sum leaves in float32 (XGBoost): allow that rounding, never a real mismatch.
    if gap > 1e-4 * scale:
        raise ValueError(
            f"check_additivity: the SHAP values plus expected_value differ from the model's own "
            f"raw output by up to {gap:.3g} (output scale {scale:.3g}); the model may have been "
            "changed after the explainer was built, or this is a bug worth reporting"
        )
