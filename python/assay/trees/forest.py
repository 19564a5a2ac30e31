"""The flat ensemble IR as converters build it, and the model they describe.

Converters add one tree at a time (node arrays local to the tree) and `build()` hands the
concatenated struct-of-arrays to the compiled `Forest`, which validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from .. import _core
from .._enums import SplitPolicy  # noqa: F401  (made from _core.SplitPolicy; converters import it from here)
from ..errors import ModelError


def categories_to_words(categories: Sequence[int]) -> np.ndarray:
    """A set of non-negative integer categories as a uint32 bitset."""
    cats = np.asarray(list(categories), dtype=np.int64)
    if cats.size == 0:
        return np.zeros(1, dtype=np.uint32)
    if cats.min() < 0:
        raise ValueError(f"negative category {cats.min()} in a categorical split")
    words = np.zeros(int(cats.max()) // 32 + 1, dtype=np.uint32)
    np.bitwise_or.at(words, cats // 32, (np.uint32(1) << (cats % 32).astype(np.uint32)))
    return words


def flatten_preorder(root, children):
    """The nodes of a nested tree (dicts, as LightGBM and CatBoost export them) in preorder:
    parents before children, left subtree first. children(node) is (left, right), or None for a
    leaf. Returns (nodes, left, right): the local indices of each node's children, -1 for leaves."""
    nodes, left, right = [], [], []
    stack = [(root, -1, False)]
    while stack:
        node, parent, is_right = stack.pop()
        idx = len(nodes)
        nodes.append(node)
        left.append(-1)
        right.append(-1)
        if parent >= 0:
            (right if is_right else left)[parent] = idx
        kids = children(node)
        if kids is not None:
            stack.append((kids[1], idx, True))
            stack.append((kids[0], idx, False))
    return nodes, left, right


MAX_FEATURES = 2**31 - 1
MAX_OUTPUTS = 1 << 20


class ForestBuilder:
    """Accumulates the trees of one model (node arrays local to each tree, category bitsets,
    covers) and builds the compiled forest. n_features, n_outputs: the model's sizes; ModelError (a
    ValueError) when either is below 1 or absurdly large (they come from model files)."""

    def __init__(self, n_features: int, n_outputs: int):
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        # Sizes come from model files: refuse absurd ones before allocating anything by them.
        if not 1 <= self.n_features <= MAX_FEATURES:
            raise ModelError(f"model: {self.n_features} features is out of range [1, {MAX_FEATURES}]")
        if not 1 <= self.n_outputs <= MAX_OUTPUTS:
            raise ModelError(f"model: {self.n_outputs} outputs is out of range [1, {MAX_OUTPUTS}]")
        self._chunks = []
        self._cat_words = [np.zeros(0, dtype=np.uint32)]
        self._cat_total = 0
        self._covers = []  # per chunk: node covers (training weight reaching each node), or None

    def add_tree(
        self,
        *,
        feature,
        threshold,
        left,
        right,
        default_left,
        policy,
        value,
        output: int = -1,
        categories: Optional[dict] = None,
        category_words: Optional[dict] = None,
        cover=None,
    ):
        """Add one tree. feature[i] < 0 marks a leaf; value is (n,) when `output` >= 0 (the
        tree feeds one output) and (n, K) otherwise. categories maps a node to its category
        set, category_words maps a node to a ready uint32 bitset. cover: the training weight
        reaching each node (the path-dependent game's weights), or None if the model has none."""
        n = np.asarray(feature).shape[0]
        self.add_trees(
            sizes=[n],
            outputs=[output],
            feature=feature,
            threshold=threshold,
            left=left,
            right=right,
            default_left=default_left,
            policy=policy,
            value=value,
            categories=categories,
            category_words=category_words,
            cover=cover,
        )

    def add_trees(
        self,
        *,
        sizes,
        outputs,
        feature,
        threshold,
        left,
        right,
        default_left,
        policy,
        value,
        categories: Optional[dict] = None,
        category_words: Optional[dict] = None,
        cover=None,
    ):
        """Add several trees at once (converters avoid per-tree overhead): node arrays are
        concatenated tree after tree, children stay local to their tree, and category keys are
        node positions in the concatenation. Either every output is >= 0 and value is (n,),
        or every output is -1 and value is (n, K)."""
        sizes = np.asarray(sizes, dtype=np.int64).reshape(-1)
        outputs = np.asarray(outputs, dtype=np.int32).reshape(-1)
        feature = np.asarray(feature, dtype=np.int32).reshape(-1)
        n = int(sizes.sum())
        if feature.shape[0] != n or outputs.shape != sizes.shape:
            raise ValueError(f"add_trees: {feature.shape[0]} nodes for tree sizes summing to {n}")
        value = np.asarray(value, dtype=np.float64)
        if (outputs >= 0).all():
            full = np.zeros((n, self.n_outputs))
            full[np.arange(n), np.repeat(outputs, sizes)] = value.reshape(n)
            value = full
        elif (outputs == -1).all():
            value = value.reshape(n, self.n_outputs)
        else:
            raise ValueError("add_trees: mix of single-output and K-wide trees; add them separately")
        self._covers.append(None if cover is None else np.asarray(cover, dtype=np.float64).reshape(n))
        cat_offset = np.zeros(n, dtype=np.int64)
        cat_nwords = np.zeros(n, dtype=np.int32)
        words_by_node = dict(category_words or {})
        for node, cats in (categories or {}).items():
            words_by_node[node] = categories_to_words(cats)
        for node, words in words_by_node.items():
            words = np.asarray(words, dtype=np.uint32)
            cat_offset[node] = self._cat_total
            cat_nwords[node] = words.size
            self._cat_words.append(words)
            self._cat_total += words.size
        self._chunks.append(
            dict(
                sizes=sizes,
                outputs=outputs,
                feature=feature,
                threshold=np.asarray(threshold, dtype=np.float64).reshape(n),
                left=np.asarray(left, dtype=np.int32).reshape(n),
                right=np.asarray(right, dtype=np.int32).reshape(n),
                default_left=np.asarray(default_left, dtype=np.uint8).reshape(n),
                policy=np.broadcast_to(np.asarray(policy, dtype=np.uint8), (n,)),
                cat_offset=cat_offset,
                cat_nwords=cat_nwords,
                value=value,
            )
        )

    def add_leaf_tree(self, value, output: int = -1, cover: float = 1.0):
        """A tree that is a single leaf (LightGBM emits these)."""
        self.add_tree(
            feature=[-1],
            threshold=[0.0],
            left=[-1],
            right=[-1],
            default_left=[0],
            policy=0,
            value=np.asarray(value, dtype=np.float64).reshape(1, -1),
            output=output,
            cover=[cover],
        )

    def node_cover(self) -> Optional[np.ndarray]:
        """Every node's cover in forest order, or None when some tree came without covers."""
        if not self._covers or any(c is None for c in self._covers):
            return None
        return np.concatenate(self._covers)

    def build(self, base_score) -> "_core.Forest":
        """The compiled forest of every tree added so far, with base_score (a scalar or one value
        per output) added to each output. ValueError when no tree was added or the compiled
        forest rejects the arrays."""
        if not self._chunks:
            raise ValueError("the model has no trees")
        cat = lambda key: np.concatenate([c[key] for c in self._chunks])
        sizes = cat("sizes")
        base = np.broadcast_to(np.asarray(base_score, dtype=np.float64), (self.n_outputs,)).copy()
        return _core.Forest(
            n_features=self.n_features,
            n_outputs=self.n_outputs,
            tree_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            tree_output=cat("outputs"),
            feature=cat("feature"),
            threshold=cat("threshold"),
            left=cat("left"),
            right=cat("right"),
            default_left=cat("default_left"),
            policy=cat("policy"),
            cat_offset=cat("cat_offset"),
            cat_nwords=cat("cat_nwords"),
            cat_words=np.concatenate(self._cat_words).astype(np.uint32),
            value=np.ascontiguousarray(cat("value").reshape(-1)),
            base_score=base,
        )


@dataclass
class TreeModel:
    """A converted model: the compiled forest plus what the explainer needs around it."""

    forest: "_core.Forest"
    source: str  # e.g. "xgboost.Booster"
    n_features: int
    n_outputs: int
    feature_names: Optional[list] = None
    # Maps the user's matrix to the one the trees read (e.g. HistGradientBoosting's ordinal
    # encoding of categorical columns). Column-wise and one-to-one, so SHAP values per
    # column are unchanged by it.
    input_transform: Optional[Callable[[object], np.ndarray]] = None
    notes: list = field(default_factory=list)
    # Training weight reaching each node (XGBoost hessian sums, LightGBM counts, scikit-learn
    # weighted samples), in forest node order: the path-dependent game's weights. None if unknown.
    node_cover: Optional[np.ndarray] = None

    def predict_raw(self, X: np.ndarray, n_jobs: int = -1) -> np.ndarray:
        """Raw output (n, K) of the IR on an already validated matrix."""
        return _core.predict_raw(self.forest, X, n_jobs)
