"""XGBoost Booster / sklearn wrapper -> IR, from the saved model (`save_raw("ubj")`, read in C++ by
_core.ubjson_loads, whose slow reference is _ubjson.py; the JSON text remains the fallback).

Semantics (XGBoost's own predictor): input cast to float32, numeric split `x < t`, missing
values follow `default_left`; categorical split: categories in the node's set go right.
Raw output = base margin (base_score through the objective's link) + sum of leaves.
"""

from __future__ import annotations

import itertools
import json

import numpy as np

from .. import _core
from ..errors import ModelError, UnsupportedModelError, reading_model
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


def _load_model(booster) -> dict:
    try:
        raw = booster.save_raw("ubj")
    except Exception:  # noqa: BLE001  (XGBoost builds without UBJSON)
        return json.loads(booster.save_raw("json"))
    return _core.ubjson_loads(raw)


def _iteration_limit(model) -> int | None:
    """Trees XGBoost's sklearn wrapper uses by default: up to best_iteration if early stopping ran."""
    try:
        best = model.best_iteration
    except (AttributeError, Exception):
        return None
    return None if best is None else int(best) + 1


def convert_xgboost(model, rounds=None) -> TreeModel:
    """rounds: convert the first `rounds` boosting rounds (-1: all; None: the model's default,
    up to the sklearn wrapper's best_iteration after early stopping)."""
    import xgboost as xgb

    limit = None
    if isinstance(model, xgb.Booster):
        booster = model
    elif hasattr(model, "get_booster"):
        try:
            booster = model.get_booster()
        except Exception as exc:
            raise ModelError(f"model: the XGBoost estimator is not fitted ({exc})") from None
        limit = _iteration_limit(model)
    else:
        raise UnsupportedModelError(f"model: expected an xgboost.Booster or XGBModel, got {type(model).__name__}")

    if rounds is not None:
        limit = None if rounds == -1 else int(rounds)
    names = booster.feature_names
    return from_model_dict(
        _load_model(booster), f"xgboost.{type(model).__name__}", limit, list(names) if names else None
    )


def from_model_dict(model_dict, source: str = "xgboost", limit=None, feature_names=None) -> TreeModel:
    """The IR from XGBoost's saved-model dict (JSON or UBJSON). A malformed dict raises ModelError (a
    ValueError), a model kind assay does not explain UnsupportedModelError (a TypeError); nothing
    reaches the kernels unchecked."""
    with reading_model("XGBoost"):
        return _from_model_dict(model_dict, source, limit, feature_names)


def _from_model_dict(model_dict, source, limit, feature_names) -> TreeModel:
    learner = model_dict["learner"]
    gb = learner["gradient_booster"]
    kind = gb.get("name", "gbtree")
    if kind == "gblinear":
        raise UnsupportedModelError(
            "model: XGBoost gblinear boosters are linear models, not trees; use shap.LinearExplainer"
        )
    if kind not in ("gbtree", "dart"):
        raise UnsupportedModelError(f"model: unsupported XGBoost booster {kind!r} (supported: gbtree, dart)")
    tree_model = gb["model"] if kind == "gbtree" else gb["gbtree"]["model"]
    # DART's tree weights: beside the gbtree model before XGBoost 3.4, inside it (a gbtree booster) after
    drop = gb.get("weight_drop") if kind == "dart" else tree_model.get("weight_drop")
    drop_weights = None if drop is None else np.asarray(drop, dtype=np.float64)

    params = learner["learner_model_param"]
    objective = learner["objective"]["name"]
    n_features = int(params["num_feature"])
    n_class = int(params.get("num_class", "0"))
    n_target = int(params.get("num_target", "1"))
    n_outputs = max(n_class, n_target, 1)
    base = _parse_base_score(params["base_score"])
    base = np.broadcast_to(base, (n_outputs,)) if base.size in (1, n_outputs) else base
    if base.size != n_outputs:
        raise ModelError(f"model: base_score has {base.size} values for {n_outputs} outputs")
    base_margin = _base_margin(objective, np.asarray(base))

    trees = tree_model["trees"]
    tree_info = tree_model["tree_info"]
    if limit is not None:
        indptr = tree_model.get("iteration_indptr")
        end = int(indptr[limit]) if indptr is not None and limit < len(indptr) else len(trees)
        trees, tree_info = trees[:end], tree_info[:end]

    for tree in trees:
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise UnsupportedModelError(
                "model: XGBoost vector-leaf trees (multi_strategy='multi_output_tree') are not supported"
            )
    weights = np.ones(len(trees)) if drop_weights is None else drop_weights[: len(trees)]
    builder = ForestBuilder(n_features, n_outputs)
    _add_trees(builder, trees, np.asarray(tree_info, dtype=np.int32), weights)
    forest = builder.build(base_margin)
    return TreeModel(
        forest=forest,
        source=source,
        n_features=n_features,
        n_outputs=n_outputs,
        feature_names=feature_names,
        node_cover=builder.node_cover(),
    )


def _concat(trees, key, dtype, default=0):
    """One field of every tree's node arrays, concatenated (arrays from UBJSON, lists from JSON)."""
    parts = []
    for t in trees:
        v = t.get(key)
        parts.append(v if v is not None and len(v) else [default] * len(t["left_children"]))
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts).astype(dtype, copy=False)
    return np.fromiter(itertools.chain.from_iterable(parts), dtype=dtype, count=sum(map(len, parts)))


def _add_trees(builder: ForestBuilder, trees: list, outputs: np.ndarray, weights: np.ndarray):
    sizes = np.array([len(t["left_children"]) for t in trees], dtype=np.int64)
    left = _concat(trees, "left_children", np.int64)
    right = _concat(trees, "right_children", np.int64)
    is_leaf = left < 0
    feature = np.where(is_leaf, -1, _concat(trees, "split_indices", np.int64))
    cond = _concat(trees, "split_conditions", np.float32).astype(np.float64)
    split_type = _concat(trees, "split_type", np.int64)
    policy = np.where(split_type == 1, SplitPolicy.XGB_CATEGORICAL, SplitPolicy.XGB_NUMERIC)
    categories = {}
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for tree, off in zip(trees, offsets):
        if len(tree.get("categories_nodes", ())) == 0:
            continue
        cats = tree["categories"]
        for node, beg, size in zip(tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"]):
            categories[int(off) + int(node)] = [int(c) for c in cats[int(beg) : int(beg) + int(size)]]
    for node in np.flatnonzero((split_type == 1) & ~is_leaf):
        categories.setdefault(int(node), [])
    value = np.where(is_leaf, cond, 0.0) * np.repeat(np.asarray(weights, dtype=np.float64), sizes)
    builder.add_trees(
        sizes=sizes,
        outputs=outputs,
        feature=feature,
        threshold=np.where(is_leaf, 0.0, cond),
        left=np.where(is_leaf, -1, left),
        right=np.where(is_leaf, -1, right),
        default_left=_concat(trees, "default_left", np.uint8),
        policy=policy,
        value=value,
        categories=categories,
        # Hessian sums: the path-dependent game's node weights (absent from hand-edited models).
        cover=_concat(trees, "sum_hessian", np.float64) if all(len(t.get("sum_hessian", ())) for t in trees) else None,
    )
