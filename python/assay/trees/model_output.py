"""SHAP values of a transformed model output: shap's model_output="probability" and "log_loss"
for the interventional game.

shap's definition, for an output g of the raw margin f (and of the row's label y for a loss):
for each explained row x and background row z, the single-reference Shapley values phi(x, z) of
v(S) = f(x_S, z_rest) are rescaled to sum to g(f(x)) - g(f(z)),

    phi_g(x) = mean_z  phi(x, z) * (g(f(x)) - g(f(z))) / (f(x) - f(z)),

so each row sums to g(f(x)) - mean_z g(f(z)), the expected value being mean_z g(f(z)). Where
f(x) == f(z) the ratio is g'(f(x)), its limit (shap uses 1 there; the two differ only when a
background row has exactly the explained row's margin and nonzero single-reference values).
The label y of the explained row is used for both terms, as shap does, so for "log_loss" the
expected value depends on the row: mean_z g(f(z), y).

Outputs, as shap 0.51 defines them:
  "raw":          g = f (the margin explained by TreeExplainer).
  "probability":  g = sigmoid(f) for models whose margin is the log-odds of the positive class
                  (binary XGBoost/LightGBM/CatBoost classifiers, scikit-learn GradientBoosting
                  and HistGradientBoosting binary classifiers); the identity for outputs that
                  already are probabilities (scikit-learn tree and forest classifiers), which is
                  then the raw game. Multi-class softmax margins and regressors raise ValueError
                  (shap raises too).
  "log_loss":     g = log(1 + e^f) - y f (the log loss of sigmoid(f) for a 0/1 label y) for the
                  log-odds models above; g = (f - y)^2 for regressors trained on squared error.
                  Other objectives raise ValueError.

Where assay departs from shap 0.51 (each checked against shap):
  - f(x) == f(z) exactly: the ratio is g'(f(x)), the limit; shap uses 1.
  - LightGBM multi-class "probability": shap applies a sigmoid to each class margin, which is
    not the probability the model predicts (a softmax); assay raises, as shap does for XGBoost.
  - scikit-learn tree/forest classifiers with "log_loss": shap applies the logistic log loss to
    the class probabilities as if they were margins; assay raises.
  - Supported where shap raises: "log_loss" of GradientBoosting/HistGradientBoosting binary
    classifiers and of scikit-learn regressors fitted with squared error (shap does not map
    their loss/criterion names), XGBoost binary:logitraw and LightGBM cross_entropy margins.

The work is per (row, background row) pair (the weights do not factor), unlike the raw game
whose background folds into tables: O(rows x background rows x trees x leaves a pair reaches).
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np

from .. import _core
from .._enums import Index
from .._progress import progress_callback
from .._inputs import as_matrix
from .._validation import check_n_jobs
from .forest import TreeModel
from .players import player_count

MODEL_OUTPUTS = ("raw", "probability", "log_loss")

# What a model's raw output is (model_objective): the margin of a binary classifier in log-odds,
# class probabilities, a regression on squared error, or multi-class softmax margins.
LOGISTIC, PROBABILITY, SQUARED_ERROR, SOFTMAX = "logistic", "probability", "squared_error", "softmax"
OBJECTIVES = (LOGISTIC, PROBABILITY, SQUARED_ERROR, SOFTMAX)

# Transform codes of the compiled kernel (csrc/core/transformed_shap.hpp, shap's MODEL_TRANSFORM).
_IDENTITY, _SIGMOID, _LOGISTIC_LOG_LOSS, _SQUARED_LOSS = 0, 1, 2, 3

_XGB_OBJECTIVES = {
    "binary:logistic": LOGISTIC,
    "reg:logistic": LOGISTIC,
    "binary:logitraw": LOGISTIC,
    "reg:squarederror": SQUARED_ERROR,
    "reg:linear": SQUARED_ERROR,
    "multi:softprob": SOFTMAX,
    "multi:softmax": SOFTMAX,
}
_LGB_OBJECTIVES = {
    "binary": LOGISTIC,
    "cross_entropy": LOGISTIC,
    "xentropy": LOGISTIC,
    "regression": SQUARED_ERROR,
    "regression_l2": SQUARED_ERROR,
    "l2": SQUARED_ERROR,
    "mean_squared_error": SQUARED_ERROR,
    "mse": SQUARED_ERROR,
    "l2_root": SQUARED_ERROR,
    "root_mean_squared_error": SQUARED_ERROR,
    "rmse": SQUARED_ERROR,
    "multiclass": SOFTMAX,
    "softmax": SOFTMAX,
}
_CATBOOST_OBJECTIVES = {"Logloss": LOGISTIC, "CrossEntropy": LOGISTIC, "RMSE": SQUARED_ERROR, "MultiClass": SOFTMAX}
_SKLEARN_PROBABILITY = (
    "DecisionTreeClassifier",
    "ExtraTreeClassifier",
    "RandomForestClassifier",
    "ExtraTreesClassifier",
)
_SKLEARN_CART_REGRESSORS = (
    "DecisionTreeRegressor",
    "ExtraTreeRegressor",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
)


def model_objective(model) -> tuple[Optional[str], str]:
    """What the raw output of a fitted model is, read from the model library's own object:
    (kind, name), kind one of OBJECTIVES ("logistic", "probability", "squared_error", "softmax")
    or None when assay has no transform for it, and name the library's objective as it reports
    it (for messages). XGBoost, LightGBM, scikit-learn and CatBoost models; anything else
    (e.g. an assay TreeModel) gives (None, "unknown")."""
    module = type(model).__module__.split(".")[0]
    name = type(model).__name__
    try:
        if module == "xgboost":
            booster = model.get_booster() if hasattr(model, "get_booster") else model
            objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
            return _XGB_OBJECTIVES.get(objective), objective
        if module == "lightgbm":
            return _lightgbm_objective(model)
        if module == "sklearn":
            return _sklearn_objective(model, name)
        if module == "catboost":
            objective = str(model.get_all_params().get("loss_function", "unknown")).split(":")[0]
            return _CATBOOST_OBJECTIVES.get(objective), objective
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return None, f"unknown ({type(exc).__name__}: {exc})"
    return None, "unknown"


def _lightgbm_objective(model):
    booster = model.booster_ if hasattr(model, "booster_") else model
    objective = booster.params.get("objective") if isinstance(getattr(booster, "params", None), dict) else None
    if objective is None:
        objective = str(booster.dump_model(num_iteration=1).get("objective", "unknown")).split()[0]
    if callable(objective):
        return None, "a custom objective function"
    objective = str(objective)
    if _LGB_OBJECTIVES.get(objective) == LOGISTIC and objective == "binary":
        sigmoid = float(booster.params.get("sigmoid", 1.0))
        if sigmoid != 1.0:  # LightGBM's probability is then sigmoid(sigmoid * margin)
            return None, f"binary with sigmoid={sigmoid:g}"
    return _LGB_OBJECTIVES.get(objective), objective


def _sklearn_objective(model, name):
    if name in _SKLEARN_PROBABILITY:
        return PROBABILITY, f"{name} (class probabilities)"
    if name in _SKLEARN_CART_REGRESSORS:
        criterion = str(getattr(model, "criterion", "unknown"))
        squared = criterion in ("squared_error", "friedman_mse", "mse")
        return (SQUARED_ERROR if squared else None), f"criterion={criterion!r}"
    loss = str(getattr(model, "loss", "unknown"))
    if name == "GradientBoostingClassifier":
        if model.estimators_.shape[1] > 1:
            return SOFTMAX, f"loss={loss!r}, {model.estimators_.shape[1]} classes"
        # 'exponential' (AdaBoost's loss) has probability sigmoid(2 f): no transform here.
        return (LOGISTIC if loss in ("log_loss", "deviance") else None), f"loss={loss!r}"
    if name == "HistGradientBoostingClassifier":
        if int(model.n_trees_per_iteration_) > 1:
            return SOFTMAX, f"loss={loss!r}, {int(model.n_trees_per_iteration_)} classes"
        return (LOGISTIC if loss in ("log_loss", "binary_crossentropy", "auto") else None), f"loss={loss!r}"
    if name in ("GradientBoostingRegressor", "HistGradientBoostingRegressor"):
        return (SQUARED_ERROR if loss in ("squared_error", "ls") else None), f"loss={loss!r}"
    return None, "unknown"


def output_transform(model_output: str, objective: Optional[str], n_outputs: int, described: str = "") -> int:
    """The kernel's transform code for model_output on a model whose raw output is `objective`
    (one of OBJECTIVES, or None if unknown); ValueError naming what is unsupported and why."""
    if model_output not in MODEL_OUTPUTS:
        raise ValueError(f"model_output: expected one of {MODEL_OUTPUTS}, got {model_output!r}")
    if model_output == "raw":
        return _IDENTITY
    if objective is not None and objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {OBJECTIVES} or None, got {objective!r}")
    what = f" ({described})" if described else ""
    if objective is None:
        raise ValueError(
            f"model_output={model_output!r}: assay does not know a transform for this model's "
            f"objective{what}; shap needs one too. Supported: binary classifiers with log-odds margins "
            "(probability, log_loss), scikit-learn tree/forest classifiers (probability) and squared-error "
            "regressors (log_loss). Pass objective= if you know what the raw output is, or explain "
            "model_output='raw'"
        )
    if objective == SOFTMAX:
        raise ValueError(
            f"model_output={model_output!r}: this is a multi-class model{what}, whose probabilities are "
            "a softmax over its per-class margins, not a function of each margin alone (shap raises for "
            "XGBoost; for LightGBM it applies a sigmoid to each margin, which is not the model's "
            "probability). Explain model_output='raw' (the per-class margins) instead"
        )
    if model_output == "probability":
        if objective == LOGISTIC:
            _single_output(model_output, n_outputs)
            return _SIGMOID
        if objective == PROBABILITY:
            return _IDENTITY  # the raw output already is the probability
        raise ValueError(
            f"model_output='probability': this model is a regressor{what}; its output is not a "
            "probability (shap raises too). Use model_output='raw' or 'log_loss'"
        )
    # log_loss
    if objective == LOGISTIC:
        _single_output(model_output, n_outputs)
        return _LOGISTIC_LOG_LOSS
    if objective == SQUARED_ERROR:
        _single_output(model_output, n_outputs)
        return _SQUARED_LOSS
    raise ValueError(
        "model_output='log_loss': this model outputs class probabilities (a scikit-learn tree or forest "
        f"classifier{what}), not log-odds; shap would apply the logistic log loss to the probabilities "
        "as if they were margins, which is not the model's log loss. Not supported"
    )


def _transform_of(model: TreeModel, model_output: str, objective, source_model) -> int:
    """output_transform with the objective read from source_model when not given."""
    described = ""
    if model_output != "raw" and objective is None:
        objective, described = model_objective(source_model) if source_model is not None else (None, "")
        described = f"{model.source}: {described}" if described else model.source
    return output_transform(model_output, objective, model.n_outputs, described)


def _single_output(model_output, n_outputs):
    if n_outputs != 1:
        raise ValueError(
            f"model_output={model_output!r}: needs a single-output model, this one has {n_outputs} outputs"
        )


def _check_labels(y, n: int, transform: int) -> np.ndarray:
    if y is None:
        raise ValueError(
            "y: model_output='log_loss' explains each row's loss against its label; pass y, one label "
            "per row of X (explainer.shap_values(X, y) as in shap)"
        )
    try:
        labels = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y: expected numeric labels, got {type(y).__name__} ({exc})") from None
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"y: expected one label per row of X ({n},), got shape {labels.shape}")
    if not np.isfinite(labels).all():
        raise ValueError("y: contains NaN or inf")
    if transform == _LOGISTIC_LOG_LOSS and ((labels < 0) | (labels > 1)).any():
        raise ValueError(
            "y: the log loss of a binary classifier takes labels 0/1 (1 = the positive class; "
            "probabilities in [0, 1] also work), got values outside [0, 1]"
        )
    return np.ascontiguousarray(labels)


def expected_value(
    model: TreeModel,
    background,
    model_output: str,
    y=None,
    *,
    objective: Optional[str] = None,
    source_model=None,
    n_jobs: int = -1,
):
    """mean_z g(f(z)) over the background rows, what transformed_shap_values' rows add up to
    from: a float for "probability" (K values for a K-output identity), and for "log_loss" one
    value per label in y (an array shaped like y; y is required). Arguments as in
    transformed_shap_values; O(background rows x trees)."""
    if model_output not in MODEL_OUTPUTS:
        raise ValueError(f"model_output: expected one of {MODEL_OUTPUTS}, got {model_output!r}")
    transform = _transform_of(model, model_output, objective, source_model)
    margins = model.predict_raw(as_matrix(background, "data", model.n_features), check_n_jobs(n_jobs))
    if transform == _IDENTITY:
        mean = margins.mean(axis=0)
        return float(mean[0]) if model.n_outputs == 1 else mean
    f = margins[:, 0]
    if transform == _SIGMOID:
        return float(np.mean(0.5 * (1.0 + np.tanh(0.5 * f))))
    labels = np.asarray(y, dtype=np.float64) if y is not None else None
    if labels is None:
        raise ValueError("y: model_output='log_loss' has one expected value per label; pass y")
    flat = _check_labels(labels.reshape(-1), labels.size, transform)
    if transform == _LOGISTIC_LOG_LOSS:
        out = np.mean(np.logaddexp(0.0, f)) - flat * np.mean(f)
    else:
        centred = np.mean((f - f.mean()) ** 2)
        out = centred + (f.mean() - flat) ** 2
    return out.reshape(labels.shape)


def transformed_shap_values(
    model: TreeModel,
    X,
    background,
    model_output: str,
    y=None,
    *,
    objective: Optional[str] = None,
    source_model=None,
    player_of=None,
    n_players: Optional[int] = None,
    n_jobs: int = -1,
    progress=None,
    out=None,
):
    """Exact interventional SHAP values of model_output ("raw", "probability" or "log_loss") for
    the rows of X against the background rows.

    model: the converted model (assay.trees.convert.convert_model). X, background: (n, d) and
    (m, d) numeric matrices in the model's column order (NaN = missing). y: the labels of X's
    rows, required for "log_loss" (0/1 for classifiers, the target for regressors), ignored
    otherwise. objective: what the raw output is (one of OBJECTIVES); by default read from
    source_model, the model library's own object (model_objective). player_of / n_players:
    groups of features as players (player_of[j] = player of feature j), or None. progress: as
    in TreeExplainer (counts (row, tree) pairs). out: a writable C-contiguous float64 array of
    the values' shape, filled instead of allocating.

    Returns (values, expected_value): values (n, P), or (n, P, K) for "raw" (or a probability
    output) with K > 1 outputs; each row sums to g(f(x)) - expected_value. expected_value is
    mean_z g(f(z)): a float (K values for K outputs), or for "log_loss" an (n,) array (it
    depends on each row's label).
    """
    if model_output not in MODEL_OUTPUTS:
        raise ValueError(f"model_output: expected one of {MODEL_OUTPUTS}, got {model_output!r}")
    if not isinstance(model, TreeModel):
        raise TypeError(
            f"model: expected an assay TreeModel (assay.trees.convert.convert_model), got {type(model).__name__}"
        )
    n_jobs = check_n_jobs(n_jobs)
    transform = _transform_of(model, model_output, objective, source_model)
    d = model.n_features
    X = as_matrix(X, "X", d)
    background = as_matrix(background, "data", d)
    n, K = X.shape[0], model.n_outputs
    if player_of is not None:
        player_of = np.ascontiguousarray(player_of, dtype=np.int32)
    P = player_count(player_of, d) if n_players is None else int(n_players)
    shape = (n, P) + ((K,) if K > 1 else ())
    core_out = None
    if out is not None:
        if not (
            isinstance(out, np.ndarray)
            and out.shape == shape
            and out.dtype == np.float64
            and out.flags.c_contiguous
            and out.flags.writeable
        ):
            raise ValueError(f"out: expected a writable C-contiguous float64 array of shape {shape}")
        core_out = out.reshape((n, P, K))
    if transform == _IDENTITY:
        kernel = _core.PatternShap(
            model.forest, background, 16, 2**31, n_jobs, player_of_feature=player_of, n_players=P, index=Index.SHAPLEY
        )
        with progress_callback(progress, n, "rows") as cb:
            values = kernel.values(X, n_jobs, out=core_out, progress=cb)
        mean = np.asarray(kernel.expected_value(), dtype=np.float64)
        expected = float(mean[0]) if K == 1 else mean
    else:
        labels = _check_labels(y, n, transform) if transform in (_LOGISTIC_LOG_LOSS, _SQUARED_LOSS) else None
        with progress_callback(progress, n * model.forest.n_trees, "(row, tree) pairs") as cb:
            values, base = _core.values_transformed(
                model.forest,
                X,
                background,
                transform,
                y=labels,
                player_of_feature=player_of,
                n_players=P,
                n_jobs=n_jobs,
                out=core_out,
                progress=cb,
            )
        expected = base[:, 0].copy() if labels is not None else float(base[0, 0])
    return (out if out is not None else values.reshape(shape)), expected
