"""The partition tree (FD-tree) of GRANITE: recursive binary splits of the data on chosen
features, minimising  sum over leaves of L(R) / L(root) + alpha * #leaves.

Candidate thresholds per split feature (on the node's rows): every unique value but the largest
if there are fewer than 40, else 39 quantiles (de-duplicated); the left child is x <= t, so
ordinal and boolean features split between their values. Both children need min_samples_leaf
rows; depth <= max_depth. A split is kept only if the children's loss plus alpha beats the
node's loss; with lookahead=True a split that does not pay may still be kept if splitting its
children once more makes the subtree pay (otherwise it is collapsed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._validation import as_matrix, check_int, is_dataframe
from .anchored import anchored_decomposition
from .losses import make_loss

_MAX_UNIQUE = 40
_TIE = 1e-12  # relative: candidates this close to the best count as ties (first one wins)


@dataclass
class Node:
    rows: np.ndarray
    depth: int
    loss: float                      # normalised: L(R) / L(root)
    conditions: list = field(default_factory=list)  # (feature, "<=" or ">", threshold)
    feature: Optional[int] = None
    threshold: Optional[float] = None
    left: Optional["Node"] = None
    right: Optional["Node"] = None
    region: Optional[int] = None

    @property
    def is_leaf(self):
        return self.left is None

    def leaves(self):
        return [self] if self.is_leaf else self.left.leaves() + self.right.leaves()


def candidate_thresholds(values: np.ndarray) -> np.ndarray:
    uniq = np.unique(values)
    if uniq.size < _MAX_UNIQUE:
        return uniq[:-1]
    q = np.quantile(values, np.arange(1, _MAX_UNIQUE) / _MAX_UNIQUE, method="lower")
    q = np.unique(q)
    return q[q < uniq[-1]]


class Granite:
    """GRANITE regions: fit(model, X) grows the partition tree; see the module docstring.

    loss: "pure_vs_full", "pure_vs_full_risk" (needs fit(..., y); risk: "squared", "absolute" or a
    callable) or "sobol" (interaction influence), "pdp_vs_mplot" or "pfi_vs_cfi" (distribution
    influence; the latter needs fit(..., y)) or a callable rows -> float (losses.py). split_features: columns (indices or names) the tree may split on
    (default: all). groups / order / output / method: as in anchored_decomposition.
    """

    def __init__(self, loss="pure_vs_full", split_features=None, max_depth: int = 3, min_samples_leaf: int = 20,
                 alpha: float = 0.05, order: int = 1, groups=None, lookahead: bool = False, output=None,
                 method: str = "auto", n_bins: int = 10, n_jobs: int = -1, risk="squared"):
        check_int(max_depth, "max_depth", 0)
        check_int(min_samples_leaf, "min_samples_leaf", 1)
        check_int(n_bins, "n_bins", 2)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) or not alpha >= 0:
            raise ValueError(f"alpha: expected a number >= 0 (inf allowed), got {alpha!r}")
        if not (callable(loss) or isinstance(loss, str)):
            raise ValueError(f"loss: expected a loss name or a callable rows -> float, got {loss!r}")
        self.loss, self.split_features, self.max_depth = loss, split_features, int(max_depth)
        self.min_samples_leaf, self.alpha, self.order, self.groups = int(min_samples_leaf), float(alpha), order, groups
        self.lookahead, self.output, self.method, self.n_bins, self.n_jobs = bool(lookahead), output, method, n_bins, n_jobs
        self.risk = risk

    # ---- fitting ------------------------------------------------------------------------------
    def fit(self, model, X, y=None):
        """Grow the partition tree on X (y: labels, only for loss="pfi_vs_cfi")."""
        names = list(map(str, X.columns)) if is_dataframe(X) else None
        self.decomposition_ = anchored_decomposition(model, X, groups=self.groups, order=self.order,
                                                     output=self.output, n_jobs=self.n_jobs, method=self.method)
        D = self.decomposition_
        self.model_ = model
        self.X_ = D.X
        self.feature_names_ = names or D.feature_names
        self.split_features_ = self._resolve_split_features(D.X.shape[1])
        bad = [self.feature_names_[j] for j in self.split_features_ if np.isnan(D.X[:, j]).any()]
        if bad:
            raise ValueError(f"X: split features {bad} contain NaN; impute them or leave them out of split_features")
        self.loss_ = make_loss(self.loss, D, self.n_bins, y=y, risk=self.risk)
        rows = np.arange(D.X.shape[0], dtype=np.int64)
        self.root_loss_ = float(self.loss_(rows))
        self._norm = self.root_loss_ if self.root_loss_ > 0 else 1.0
        self.tree_ = self._grow(Node(rows, 0, self.root_loss_ / self._norm), grace=self.lookahead)
        leaves = self.tree_.leaves()
        for k, leaf in enumerate(leaves):
            leaf.region = k
        self.leaf_losses_ = np.array([leaf.loss for leaf in leaves])
        self.objective_ = float(self.leaf_losses_.sum() + self.alpha * len(leaves)) if np.isfinite(self.alpha) \
            else float(self.leaf_losses_.sum())
        return self

    def _resolve_split_features(self, d):
        if self.split_features is None:
            return list(range(d))
        feats = [self.split_features] if isinstance(self.split_features, (str, int, np.integer)) else list(self.split_features)
        out = []
        for j in feats:
            if isinstance(j, str):
                if j not in self.feature_names_:
                    raise ValueError(f"split_features: {j!r} is not a feature name of X")
                j = self.feature_names_.index(j)
            elif isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= int(j) < d:
                raise ValueError(f"split_features: expected column indices in [0, {d}) or names, got {j!r}")
            out.append(int(j))
        if not out:
            raise ValueError("split_features: expected at least one feature")
        return sorted(set(out))

    def _best_split(self, node):
        best = None
        n = node.rows.size
        for j in self.split_features_:
            x = self.X_[node.rows, j]
            t = candidate_thresholds(x)
            n_left = np.searchsorted(np.sort(x), t, side="right")
            t = t[(n_left >= self.min_samples_leaf) & (n - n_left >= self.min_samples_leaf)]
            if t.size == 0:
                continue
            if hasattr(self.loss_, "split"):
                losses = np.asarray(self.loss_.split(node.rows, j, t)) / self._norm
            else:
                losses = np.array([[self.loss_(node.rows[x <= tc]), self.loss_(node.rows[x > tc])] for tc in t]) / self._norm
            total = losses.sum(axis=1)
            c = int(np.argmin(total))
            if best is None or total[c] < best[0] - _TIE * max(1.0, abs(best[0])):
                best = (float(total[c]), j, float(t[c]), losses[c])
        return best

    def _grow(self, node, grace):
        if (node.depth >= self.max_depth or node.loss == 0.0 or node.rows.size < 2 * self.min_samples_leaf
                or self.alpha >= node.loss):  # the children's loss is >= 0: no split can pay for alpha
            return node
        best = self._best_split(node)
        if best is None:
            return node
        total, j, t, (loss_left, loss_right) = best
        pays = total + self.alpha < node.loss - _TIE
        if not pays and not grace:
            return node
        x = self.X_[node.rows, j]
        node.feature, node.threshold = j, t
        node.left = self._grow(Node(node.rows[x <= t], node.depth + 1, float(loss_left),
                                    node.conditions + [(j, "<=", t)]), grace=self.lookahead and pays)
        node.right = self._grow(Node(node.rows[x > t], node.depth + 1, float(loss_right),
                                     node.conditions + [(j, ">", t)]), grace=self.lookahead and pays)
        if not pays:  # lookahead: keep the subtree only if it now pays for its extra leaves
            leaves = node.leaves()
            if sum(leaf.loss for leaf in leaves) + self.alpha * (len(leaves) - 1) >= node.loss - _TIE:
                node.feature = node.threshold = node.left = node.right = None
        return node

    # ---- using the fitted tree ----------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "tree_"):
            raise RuntimeError("Granite: call fit(model, X) first")

    def rules(self):
        """One string per region, e.g. "x2 <= -1.0 and x0 > 0.5" ("all" for a single region)."""
        self._check_fitted()
        out = []
        for leaf in self.tree_.leaves():
            parts = [f"{self.feature_names_[j]} {op} {float(t)!r}" for j, op, t in leaf.conditions]
            out.append(" and ".join(parts) if parts else "all")
        return out

    def predict(self, X) -> np.ndarray:
        """Region id (index into rules()) of each row of X."""
        self._check_fitted()
        X = self._matrix(X)
        ids = np.empty(X.shape[0], dtype=np.int64)
        self._route(self.tree_, X, np.arange(X.shape[0]), ids)
        return ids

    def _matrix(self, X):
        if self.decomposition_.input_transform is not None:
            X = self.decomposition_.input_transform(X)
        X = as_matrix(X, "X", self.X_.shape[1])
        bad = [self.feature_names_[j] for j in self.split_features_ if np.isnan(X[:, j]).any()]
        if bad:
            raise ValueError(f"X: split features {bad} contain NaN; regions are not defined for missing values")
        return X

    def _route(self, node, X, idx, ids):
        if node.is_leaf:
            ids[idx] = node.region
            return
        left = X[idx, node.feature] <= node.threshold
        self._route(node.left, X, idx[left], ids)
        self._route(node.right, X, idx[~left], ids)

    def region_rows(self):
        """Row indices (into the fitted X) of each region."""
        self._check_fitted()
        return [leaf.rows for leaf in self.tree_.leaves()]

    def explain(self, X, kind: str = "shap", y=None, **kwargs):
        """Regional explanations, each with its region's fitted rows as background (explain.py)."""
        from .explain import regional_explanation

        self._check_fitted()
        return regional_explanation(self, X, kind, y=y, **kwargs)

    def plot(self, ax=None, path=None):
        """The partition tree with its rules and per-leaf losses (matplotlib)."""
        from .plot import partition_tree

        return partition_tree(self, ax=ax, path=path)

    def __repr__(self):
        fitted = f", regions={len(self.leaf_losses_)}" if hasattr(self, "leaf_losses_") else ""
        return f"Granite(loss={self.loss!r}, max_depth={self.max_depth}, alpha={self.alpha}{fitted})"
