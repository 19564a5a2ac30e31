"""scikit-learn tree models -> IR.

Semantics: DecisionTree/RandomForest/ExtraTrees/GradientBoosting compare float32-cast input
with float64 thresholds, `x <= t` left, NaN by missing_go_to_left. HistGradientBoosting
compares float64 input, sends categories in the left bitset left, known categories right and
NaN, negative or unknown categories the missing way. Raw outputs: class probabilities for
(forest) classifiers, the averaged prediction for forest regressors, init prior (raw space) +
learning_rate * trees for GradientBoosting, baseline + trees for HistGradientBoosting.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError, UnsupportedModelError
from .forest import ForestBuilder, SplitPolicy, TreeModel

_DT_FOREST = ("RandomForestRegressor", "RandomForestClassifier", "ExtraTreesRegressor", "ExtraTreesClassifier")
_DT_SINGLE = ("DecisionTreeRegressor", "DecisionTreeClassifier", "ExtraTreeRegressor", "ExtraTreeClassifier")
_GB = ("GradientBoostingRegressor", "GradientBoostingClassifier")
_HGB = ("HistGradientBoostingRegressor", "HistGradientBoostingClassifier")


def _check_fitted(model):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ModelError(f"model: this {type(model).__name__} is not fitted yet; call fit() first") from None


def convert_sklearn(model) -> TreeModel:
    name = type(model).__name__
    if name not in _DT_FOREST + _DT_SINGLE + _GB + _HGB:
        from .convert import SUPPORTED

        raise UnsupportedModelError(f"model: unsupported scikit-learn model {name}; supported: {SUPPORTED}")
    _check_fitted(model)
    n_features = int(model.n_features_in_)
    names = list(map(str, model.feature_names_in_)) if hasattr(model, "feature_names_in_") else None
    if name in _HGB:
        return _convert_hgb(model, n_features, names)
    if name in _GB:
        forest, K, cover = _convert_gb(model, n_features)
    else:
        trees = model.estimators_ if name in _DT_FOREST else [model]
        is_classifier = name.endswith("Classifier")
        if is_classifier and getattr(model, "n_outputs_", 1) > 1:
            raise UnsupportedModelError(
                "model: multi-output classifiers are not supported (one output per class is assumed)"
            )
        K = int(model.n_classes_) if is_classifier else int(model.n_outputs_)
        builder = ForestBuilder(n_features, K)
        for est in trees:
            _add_cart(builder, est.tree_, scale=1.0 / len(trees), classifier=is_classifier)
        forest, cover = builder.build(np.zeros(K)), builder.node_cover()
    return TreeModel(
        forest=forest,
        source=f"sklearn.{name}",
        n_features=n_features,
        n_outputs=K,
        feature_names=names,
        node_cover=cover,
    )


def _add_cart(builder: ForestBuilder, tree, scale: float, classifier: bool, output: int = -1):
    feature = np.where(tree.children_left < 0, -1, tree.feature)
    value = np.asarray(tree.value, dtype=np.float64)
    if classifier:
        v = value[:, 0, :]
        totals = v.sum(axis=1, keepdims=True)
        v = np.divide(v, totals, out=np.zeros_like(v), where=totals > 0)
    else:
        v = value[:, :, 0]
    if output >= 0:
        v = v[:, 0]
    missing_left = getattr(tree, "missing_go_to_left", None)
    if missing_left is None:
        missing_left = np.zeros(tree.node_count, dtype=np.uint8)
    builder.add_tree(
        feature=feature,
        threshold=tree.threshold,
        left=tree.children_left,
        right=tree.children_right,
        default_left=np.asarray(missing_left, dtype=np.uint8),
        policy=SplitPolicy.SKLEARN_NUMERIC,
        value=v * scale,
        output=output,
        cover=tree.weighted_n_node_samples,
    )


def _convert_gb(model, n_features):
    init = model.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in (
        "DummyClassifier",
        "DummyRegressor",
    ):
        raise UnsupportedModelError(
            f"model: GradientBoosting with a custom init estimator ({type(init).__name__}) has "
            "a non-constant prior; only the default (Dummy) or 'zero' init are supported"
        )
    stages = model.estimators_
    K = stages.shape[1]
    base = model._raw_predict_init(np.zeros((1, n_features), dtype=np.float32)).reshape(-1).astype(np.float64)
    builder = ForestBuilder(n_features, K)
    lr = float(model.learning_rate)
    for stage in stages:
        for k, est in enumerate(stage):
            _add_cart(builder, est.tree_, scale=lr, classifier=False, output=k)
    return builder.build(base), K, builder.node_cover()


def _convert_hgb(model, n_features, names):
    pre = getattr(model, "_preprocessor", None)
    if pre is not None:
        # Trees read the preprocessor's columns: ordinal-encoded categoricals first, then numerics.
        is_cat = np.asarray(model.is_categorical_, dtype=bool)
        internal_to_user = np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
    else:
        internal_to_user = np.arange(n_features)
    known_bitsets, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    K = int(model.n_trees_per_iteration_)
    builder = ForestBuilder(n_features, K)
    for predictors in model._predictors:
        for k, predictor in enumerate(predictors):
            nodes = predictor.nodes
            is_leaf = nodes["is_leaf"].astype(bool)
            internal_feature = nodes["feature_idx"].astype(np.int64)
            is_cat = nodes["is_categorical"].astype(bool) & ~is_leaf
            words = {}
            for node in np.flatnonzero(is_cat):
                left_set = predictor.raw_left_cat_bitsets[nodes["bitset_idx"][node]].astype(np.uint32)
                if nodes["missing_go_to_left"][node]:
                    # unknown categories go the missing way: left = left set or not known
                    known = known_bitsets[f_idx_map[internal_feature[node]]].astype(np.uint32)
                    left_set = left_set | ~known
                words[int(node)] = left_set
            builder.add_tree(
                feature=np.where(is_leaf, -1, internal_to_user[internal_feature]),
                threshold=np.where(is_leaf, 0.0, nodes["num_threshold"]),
                left=np.where(is_leaf, -1, nodes["left"].astype(np.int64)),  # uint32 in the nodes: -1 must fit
                right=np.where(is_leaf, -1, nodes["right"].astype(np.int64)),
                default_left=nodes["missing_go_to_left"],
                policy=np.where(is_cat, SplitPolicy.HGB_CATEGORICAL, SplitPolicy.HGB_NUMERIC),
                value=np.where(is_leaf, nodes["value"], 0.0),
                output=k if K > 1 else 0,
                category_words=words,
                cover=nodes["count"],
            )
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    forest = builder.build(base)
    transform = _PreprocessorTransform(pre, np.argsort(internal_to_user)) if pre is not None else None
    return TreeModel(
        forest=forest,
        source=f"sklearn.{type(model).__name__}",
        n_features=n_features,
        n_outputs=K,
        feature_names=names,
        input_transform=transform,
        node_cover=builder.node_cover(),
    )


class _PreprocessorTransform:
    """HistGradientBoosting's own preprocessor, with its output columns put back in user order.
    A class, not a closure, so converted models pickle (e.g. to Dask workers)."""

    def __init__(self, preprocessor, inverse):
        self.preprocessor = preprocessor
        self.inverse = inverse

    def __call__(self, X):
        internal = np.asarray(self.preprocessor.transform(X), dtype=np.float64)
        return np.ascontiguousarray(internal[:, self.inverse])
