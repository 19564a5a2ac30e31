"""LightGBM Booster / sklearn wrapper -> IR, from `dump_model()`.

Semantics (LightGBM's Tree::NumericalDecision / CategoricalDecision): thresholds are doubles,
`x <= t` goes left; missing_type None reads NaN as 0, Zero sends 0 (and NaN) the default way,
NaN sends NaN the default way; categorical `==` splits send the listed categories left and
negative values right (NaN right when missing_type is NaN, else read as category 0).
Raw output = sum of leaves (boost_from_average lives in the first tree), averaged in RF mode.
"""

from __future__ import annotations

import numpy as np

from .._inputs import is_dataframe
from ..errors import ModelError, UnsupportedModelError, reading_model
from .forest import ForestBuilder, SplitPolicy, TreeModel, flatten_preorder

_NUMERIC_POLICY = {
    "None": SplitPolicy.LGB_NUMERIC_NONE,
    "Zero": SplitPolicy.LGB_NUMERIC_ZERO,
    "NaN": SplitPolicy.LGB_NUMERIC_NAN,
}


def convert_lightgbm(model, rounds=None) -> TreeModel:
    """rounds: convert the first `rounds` boosting rounds (-1: all; None: LightGBM's default, up
    to best_iteration)."""
    import lightgbm as lgb

    if isinstance(model, lgb.Booster):
        booster = model
    elif isinstance(model, lgb.LGBMModel) or hasattr(model, "booster_"):
        try:  # an unfitted LGBMModel's booster_ raises (so hasattr is False for it)
            booster = model.booster_
        except Exception as exc:
            raise ModelError(f"model: the LightGBM estimator is not fitted ({exc})") from None
    else:
        raise UnsupportedModelError(f"model: expected a lightgbm.Booster or LGBMModel, got {type(model).__name__}")
    if str(booster.params.get("linear_tree", False)).lower() in ("true", "1"):
        raise UnsupportedModelError(
            "model: LightGBM linear_tree models have linear functions in their leaves, "
            "not constants; interventional TreeSHAP does not apply to them"
        )
    dump = booster.dump_model() if rounds is None else booster.dump_model(num_iteration=int(rounds))
    return from_dump(dump, f"lightgbm.{type(model).__name__}")


def from_dump(dump, source: str = "lightgbm") -> TreeModel:
    """The IR from LightGBM's `dump_model()` dict. A malformed dict raises ModelError (a ValueError),
    a model kind assay does not explain (linear trees) UnsupportedModelError (a TypeError)."""
    with reading_model("LightGBM"):
        return _from_dump(dump, source)


def _from_dump(dump, source) -> TreeModel:
    n_features = int(dump["max_feature_idx"]) + 1
    K = int(dump.get("num_tree_per_iteration", 1))
    infos = dump["tree_info"]
    n_iter = max(len(infos) // K, 1)
    scale = 1.0 / n_iter if dump.get("average_output", False) else 1.0

    builder = ForestBuilder(n_features, K)
    for i, info in enumerate(infos):
        _add_tree(builder, info["tree_structure"], output=i % K if K > 1 else 0, scale=scale)
    forest = builder.build(np.zeros(K))
    transform = None
    pandas_categories = dump.get("pandas_categorical")
    if pandas_categories:
        transform = _pandas_category_transform(pandas_categories)
    return TreeModel(
        forest=forest,
        source=source,
        n_features=n_features,
        n_outputs=K,
        feature_names=list(dump.get("feature_names") or []) or None,
        input_transform=transform,
        node_cover=builder.node_cover(),
    )


class _pandas_category_transform:
    """Re-code pandas categorical columns with the categories seen in training (as LightGBM does).
    A class, not a closure, so converted models pickle (e.g. to Dask workers)."""

    def __init__(self, train_categories):
        self.train_categories = train_categories

    def __call__(self, X):
        if not is_dataframe(X):
            return X
        import pandas as pd

        X = X.copy()
        cat_cols = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
        for col, cats in zip(cat_cols, self.train_categories):
            X[col] = X[col].cat.set_categories(cats)
        return X


def _add_tree(builder: ForestBuilder, root: dict, output: int, scale: float):
    if "split_index" not in root:  # a single-leaf tree
        builder.add_leaf_tree([root["leaf_value"] * scale], output=output, cover=float(root.get("leaf_count", 1)))
        return
    nodes, left, right = flatten_preorder(
        root, lambda node: (node["left_child"], node["right_child"]) if "split_index" in node else None
    )
    n = len(nodes)
    feature, threshold, dleft, policy, value = [-1] * n, [0.0] * n, [0] * n, [0] * n, [0.0] * n
    cover = [float(node.get("leaf_count" if "split_index" not in node else "internal_count", 0)) for node in nodes]
    categories = {}
    for idx, node in enumerate(nodes):
        if "split_index" not in node:
            if "leaf_coeff" in node or "leaf_features" in node:
                raise UnsupportedModelError("model: LightGBM linear_tree leaves are not supported")
            value[idx] = float(node["leaf_value"]) * scale
            continue
        feature[idx] = int(node["split_feature"])
        dleft[idx] = int(bool(node.get("default_left", True)))
        missing = str(node.get("missing_type", "None"))
        if node["decision_type"] == "==":
            categories[idx] = [int(c) for c in str(node["threshold"]).split("||") if c != ""]
            policy[idx] = SplitPolicy.LGB_CATEGORICAL_NAN if missing == "NaN" else SplitPolicy.LGB_CATEGORICAL
        elif node["decision_type"] == "<=":
            threshold[idx] = float(node["threshold"])
            policy[idx] = _NUMERIC_POLICY[missing]
        else:
            raise UnsupportedModelError(f"model: unknown LightGBM decision_type {node['decision_type']!r}")
    builder.add_tree(
        feature=feature,
        threshold=threshold,
        left=left,
        right=right,
        default_left=dleft,
        policy=policy,
        value=value,
        output=output,
        categories=categories,
        cover=cover,
    )
