"""XGBoost Booster / sklearn wrapper -> IR, from the JSON model (`save_raw("json")`).

Semantics (XGBoost's own predictor): input cast to float32, numeric split `x < t`, missing
values follow `default_left`; categorical split: categories in the node's set go right.
Raw output = base margin (base_score through the objective's link) + sum of leaves.
"""
from __future__ import annotations

import json
import math

import numpy as np

from .forest import ForestBuilder, SplitPolicy, TreeModel

# Objectives whose base_score is stored as a probability / mean and enters the margin through a link.
_LOGIT_OBJECTIVES = {"binary:logistic", "reg:logistic"}
_LOG_OBJECTIVES = {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft"}


def _parse_base_score(text) -> np.ndarray:
    # "5E-1" (XGBoost < 3) or "[5E-1,2E-1]" (3.x, one per target/class)
    s = str(text).strip().strip("[]")
    return np.array([float(v) for v in s.split(",") if v.strip()], dtype=np.float64)


def _base_margin(objective: str, base_score: np.ndarray) -> np.ndarray:
    b = base_score.astype(np.float32).astype(np.float64)
    if objective in _LOGIT_OBJECTIVES:
        return np.log(b / (1.0 - b))
    if objective in _LOG_OBJECTIVES:
        return np.log(b)
    return b


def _iteration_limit(model) -> int | None:
    """Trees XGBoost's sklearn wrapper uses by default: up to best_iteration if early stopping ran."""
    try:
        best = model.best_iteration
    except (AttributeError, Exception):
        return None
    return None if best is None else int(best) + 1


def convert_xgboost(model) -> TreeModel:
    import xgboost as xgb

    limit = None
    if isinstance(model, xgb.Booster):
        booster = model
    elif hasattr(model, "get_booster"):
        try:
            booster = model.get_booster()
        except Exception as exc:
            raise ValueError(f"model: the XGBoost estimator is not fitted ({exc})") from None
        limit = _iteration_limit(model)
    else:
        raise TypeError(f"model: expected an xgboost.Booster or XGBModel, got {type(model).__name__}")

    learner = json.loads(booster.save_raw("json"))["learner"]
    gb = learner["gradient_booster"]
    kind = gb.get("name", "gbtree")
    if kind == "gblinear":
        raise TypeError("model: XGBoost gblinear boosters are linear models, not trees; use shap.LinearExplainer")
    if kind not in ("gbtree", "dart"):
        raise TypeError(f"model: unsupported XGBoost booster {kind!r} (supported: gbtree, dart)")
    tree_model = gb["model"] if kind == "gbtree" else gb["gbtree"]["model"]
    drop_weights = np.asarray(gb.get("weight_drop", []), dtype=np.float64) if kind == "dart" else None

    params = learner["learner_model_param"]
    objective = learner["objective"]["name"]
    n_features = int(params["num_feature"])
    n_class = int(params.get("num_class", "0"))
    n_target = int(params.get("num_target", "1"))
    n_outputs = max(n_class, n_target, 1)
    base = _parse_base_score(params["base_score"])
    base = np.broadcast_to(base, (n_outputs,)) if base.size in (1, n_outputs) else base
    if base.size != n_outputs:
        raise ValueError(f"model: base_score has {base.size} values for {n_outputs} outputs")
    base_margin = _base_margin(objective, np.asarray(base))

    trees = tree_model["trees"]
    tree_info = tree_model["tree_info"]
    if limit is not None:
        indptr = tree_model.get("iteration_indptr")
        end = int(indptr[limit]) if indptr and limit < len(indptr) else len(trees)
        trees, tree_info = trees[:end], tree_info[:end]

    builder = ForestBuilder(n_features, n_outputs)
    for i, tree in enumerate(trees):
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise TypeError("model: XGBoost vector-leaf trees (multi_strategy='multi_output_tree') are not supported")
        _add_tree(builder, tree, int(tree_info[i]), 1.0 if drop_weights is None else float(drop_weights[i]))
    forest = builder.build(base_margin)
    names = booster.feature_names
    return TreeModel(forest=forest, source=f"xgboost.{type(model).__name__}", n_features=n_features,
                     n_outputs=n_outputs, feature_names=list(names) if names else None)


def _add_tree(builder: ForestBuilder, tree: dict, output: int, weight: float):
    left = np.asarray(tree["left_children"], dtype=np.int64)
    right = np.asarray(tree["right_children"], dtype=np.int64)
    n = left.shape[0]
    is_leaf = left < 0
    feature = np.where(is_leaf, -1, np.asarray(tree["split_indices"], dtype=np.int64))
    cond = np.asarray(tree["split_conditions"], dtype=np.float32).astype(np.float64)
    split_type = np.asarray(tree.get("split_type", [0] * n), dtype=np.int64)
    policy = np.where(split_type == 1, SplitPolicy.XGB_CATEGORICAL, SplitPolicy.XGB_NUMERIC)
    categories = {}
    if tree.get("categories_nodes"):
        cats = tree["categories"]
        for node, beg, size in zip(tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"]):
            categories[int(node)] = [int(c) for c in cats[int(beg):int(beg) + int(size)]]
    for node in np.flatnonzero((split_type == 1) & ~is_leaf):
        categories.setdefault(int(node), [])
    value = np.where(is_leaf, cond, 0.0) * weight
    builder.add_tree(
        feature=feature,
        threshold=np.where(is_leaf, 0.0, cond),
        left=np.where(is_leaf, -1, left),
        right=np.where(is_leaf, -1, right),
        default_left=np.asarray(tree["default_left"], dtype=np.uint8),
        policy=policy,
        value=value,
        output=output,
        categories=categories,
    )
