"""Leaf boxes of a scikit-learn decision tree: leaf k holds the points with lo[k] < x <= hi[k]."""

from __future__ import annotations

import numpy as np


def leaf_boxes(tree):
    """(lo (L, d), hi (L, d), class index (L,)) of the leaves of a fitted DecisionTreeClassifier."""
    t = getattr(tree, "tree_", None)
    if t is None or not hasattr(tree, "classes_"):
        raise TypeError(f"tree: expected a fitted sklearn DecisionTreeClassifier, got {type(tree).__name__}")
    if t.n_outputs != 1:
        raise TypeError("tree: multi-output trees are not supported")
    d = t.n_features
    los, his, cls = [], [], []
    stack = [(0, np.full(d, -np.inf), np.full(d, np.inf))]
    while stack:  # depth-first; a node's box is its parent's cut at the split
        node, lo, hi = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            los.append(lo)
            his.append(hi)
            cls.append(int(np.argmax(t.value[node][0])))
            continue
        f, thr = t.feature[node], t.threshold[node]
        hi_left, lo_right = hi.copy(), lo.copy()
        hi_left[f] = min(hi[f], thr)
        lo_right[f] = max(lo[f], thr)
        stack.append((left, lo, hi_left))
        stack.append((right, lo_right, hi))
    return np.array(los), np.array(his), np.array(cls)
