"""The partition tree (FD-tree) of GRANITE: recursive binary splits of the data on chosen
features, minimising  sum over leaves of L(R) / L(root) + alpha * #leaves.

Candidate thresholds per split feature (on the node's rows): every unique value but the largest
if there are fewer than 40, else 39 quantiles (de-duplicated); the left child is x <= t, so
ordinal and boolean features split between their values. Both children need min_samples_leaf
rows; depth <= max_depth. A split is kept only if the children's loss plus alpha beats the
node's loss; with lookahead=True a split that does not pay may still be kept if splitting its
children once more makes the subtree pay (otherwise it is collapsed).

Thresholds are data values, so they inherit the data's signed zeros: np.round gives -0.0 for
small negatives, and which of -0.0 / 0.0 np.unique keeps depends on the row order and on the
sort kernel NumPy picks for the CPU (AVX-512, AVX2, scalar). They are normalised to +0.0 so the
tree, its rules and its exact bounds do not depend on either.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from typing import NamedTuple, Optional

import numpy as np

from .._inputs import align_columns, as_matrix, is_dataframe, reference_names
from .._validation import check_int
from ._model import as_tree_model
from ._split_stats import goes_left
from .anchored import anchored_decomposition
from .losses import make_loss

_MAX_UNIQUE = 40
_MAX_SET_CATEGORIES = 8  # unordered categoricals with at most this many categories at a node: every subset is tried
_TIE = 1e-12  # relative: candidates this close to the best count as ties (first one wins)


@dataclass
class Node:
    """A node of the partition tree: its rows (indices into the fitted X), depth, normalised loss
    and the conditions that lead to it; inner nodes split on `feature` at `threshold` (left:
    x <= threshold), leaves carry their region index."""

    rows: np.ndarray
    depth: int
    loss: float  # normalised: L(R) / L(root)
    conditions: list = field(default_factory=list)  # (feature, "<=" / ">", threshold) or ("in" / "not in", codes)
    feature: Optional[int] = None
    threshold: Optional[float] = (
        None  # exact: the largest value of the left child's rows, or the left codes (frozenset)
    )
    shown: Optional[float] = None  # short value printed in rules (display_threshold)
    left: Optional["Node"] = None
    right: Optional["Node"] = None
    region: Optional[int] = None
    split_losses: dict = field(default_factory=dict)  # save_losses: name -> (thresholds, child losses)

    @property
    def is_leaf(self):
        """True when the node has no children (it is a region)."""
        return self.left is None

    def leaves(self):
        """The leaves under this node (itself if a leaf), left to right."""
        return [self] if self.is_leaf else self.left.leaves() + self.right.leaves()


class Interval(NamedTuple):
    """One feature's bounds in a region: lower < x <= upper, exact (-inf / inf when unbounded)."""

    feature: str
    lower: float
    upper: float


class CategorySet(NamedTuple):
    """An unordered categorical feature's part of a region: its category codes (sorted) in the region."""

    feature: str
    codes: tuple


def subset_candidates(codes, counts, min_samples_leaf):
    """The code sets tried on an unordered categorical node: every proper subset holding the first
    code (its complement is the same split), each leaving min_samples_leaf rows on both sides."""
    total, first, rest = int(counts.sum()), codes[0], list(zip(codes[1:], counts[1:]))
    out = []
    for r in range(len(codes) - 1):
        for chosen in itertools.combinations(rest, r):
            n_left = int(counts[0]) + sum(int(c) for _, c in chosen)
            if min_samples_leaf <= n_left <= total - min_samples_leaf:
                out.append(frozenset([float(first)] + [float(code) for code, _ in chosen]))
    return out


def candidate_thresholds(values: np.ndarray) -> np.ndarray:
    """The split thresholds tried on a node's values of one feature: every unique value but the
    largest when there are fewer than 40, else the de-duplicated 39 quantiles below the maximum;
    -0.0 normalised to 0.0."""
    # + 0.0 turns -0.0 into 0.0: np.unique keeps whichever zero its (unstable) sort puts first
    uniq = np.unique(values) + 0.0
    if uniq.size < _MAX_UNIQUE:
        return uniq[:-1]
    q = np.quantile(values, np.arange(1, _MAX_UNIQUE) / _MAX_UNIQUE, method="lower") + 0.0
    q = np.unique(q)
    return q[q < uniq[-1]]


_DECIMAL = Context(prec=40)  # exact for every double rounded to <= 17 significant digits


def display_threshold(t: float, above: float) -> float:
    """The value printed for the split x <= t whose next larger row value is `above`.

    Rule: the shortest decimal (fewest significant digits, 1 to 17) whose double v satisfies
    t <= v < above, the smallest one when several have that length. So "x <= v" (and "x > v")
    keeps every training row of the split on its exact side: t = 0.1234567 with above = 0.2
    prints 0.13, t = 0.1 prints 0.1. Never -0.0; t itself (repr round-trips) if nothing shorter fits.
    """
    t = float(t) + 0.0
    if t == 0.0 or not t < above:
        return t
    d = Decimal(t)  # the exact binary value: 0.1 is 0.1000000000000000055...
    for digits in range(1, 18):
        step = Decimal(1).scaleb(d.adjusted() - digits + 1)
        for rounding in (ROUND_FLOOR, ROUND_CEILING):  # floor fits only when it parses back to t
            v = float(d.quantize(step, rounding=rounding, context=_DECIMAL)) + 0.0
            if t <= v < above:
                return v
    return t


class Granite:
    """GRANITE regions: fit(model, X) grows a binary partition tree on X that minimises the sum
    over leaves of L(region) / L(all rows) + alpha * #leaves, splitting at most max_depth deep
    with at least min_samples_leaf rows per leaf (lookahead=True keeps a split that pays only
    after one more level); each leaf is a region.

    loss: "pure_vs_full", "pure_vs_full_risk" (needs fit(..., y); risk: "squared", "absolute" or a
    callable) or "sobol" (interaction influence), "pdp_vs_mplot" or "pfi_vs_cfi" (distribution
    influence; the latter needs fit(..., y)) or a callable rows -> float (row indices into the
    fitted X, lower is better; an optional .split(rows, feature, thresholds) -> (m, 2) array of
    child losses is used when present; so is .splits(rows, {feature: thresholds})). Definitions in
    assay.regions.losses. n_bins: the bins of "pdp_vs_mplot" (quantiles) and "pfi_vs_cfi" (CART
    leaves). components: U, the players (indices or names) and tuples of players whose
    disagreement is reduced (default: every player, and every pair at order 2). split_features:
    columns (indices or names) the tree may split on (default: all). groups / order / output /
    method: as in anchored_decomposition. cache_mb: the memory budget (MiB) for the component
    matrices f(x_v, z_-v) of all fitted rows (k * N * 8 bytes per component, k <= N the number of
    distinct values of its columns): within it they are evaluated once and reused by every node
    and candidate split; above it each node evaluates its own in chunks. save_losses: keep, on each split node, the normalised loss of every candidate
    threshold per feature (node.split_losses; Granite.split_losses()).
    """

    def __init__(
        self,
        loss="pure_vs_full",
        split_features=None,
        max_depth: int = 3,
        min_samples_leaf: int = 20,
        alpha: float = 0.05,
        order: int = 1,
        groups=None,
        lookahead: bool = False,
        output=None,
        method: str = "auto",
        n_bins: int = 10,
        n_jobs: int = -1,
        risk="squared",
        components=None,
        cache_mb: float = 256.0,
        save_losses: bool = False,
    ):
        check_int(max_depth, "max_depth", 0)
        check_int(min_samples_leaf, "min_samples_leaf", 1)
        check_int(n_bins, "n_bins", 2)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) or not alpha >= 0:
            raise ValueError(f"alpha: expected a number >= 0 (inf allowed), got {alpha!r}")
        if (
            isinstance(cache_mb, bool)
            or not isinstance(cache_mb, (int, float, np.floating, np.integer))
            or not cache_mb >= 0
        ):
            raise ValueError(f"cache_mb: expected a number of MiB >= 0, got {cache_mb!r}")
        if not (callable(loss) or isinstance(loss, str)):
            raise ValueError(f"loss: expected a loss name or a callable rows -> float, got {loss!r}")
        self.loss, self.split_features, self.max_depth = loss, split_features, int(max_depth)
        self.min_samples_leaf, self.alpha, self.order, self.groups = int(min_samples_leaf), float(alpha), order, groups
        self.lookahead, self.output, self.method, self.n_bins, self.n_jobs = (
            bool(lookahead),
            output,
            method,
            n_bins,
            n_jobs,
        )
        self.risk, self.components, self.cache_mb, self.save_losses = (
            risk,
            components,
            float(cache_mb),
            bool(save_losses),
        )

    # ---- fitting ------------------------------------------------------------------------------
    def fit(self, model, X, y=None):
        """Grow the partition tree on X (y: labels, only for the losses that need them).

        A DataFrame X is matched by column name to the tree model's training names, else its own
        names become the reference that predict/explain frames are matched against."""
        tree = as_tree_model(model)  # converted once: also passed on to the decomposition
        self._column_names = reference_names(
            tree.feature_names if tree is not None else None, list(X.columns) if is_dataframe(X) else None
        )
        X = align_columns(X, self._column_names, "X")
        names = list(map(str, X.columns)) if is_dataframe(X) else None
        self.decomposition_ = anchored_decomposition(
            model if tree is None else tree,
            X,
            groups=self.groups,
            order=self.order,
            output=self.output,
            n_jobs=self.n_jobs,
            method=self.method,
        )
        D = self.decomposition_
        self.model_ = model
        self.X_ = D.X
        self.feature_names_ = names or D.feature_names
        self.split_features_ = self._resolve_split_features(D.X.shape[1])
        bad = [self.feature_names_[j] for j in self.split_features_ if np.isnan(D.X[:, j]).any()]
        if bad:
            raise ValueError(f"X: split features {bad} contain NaN; impute them or leave them out of split_features")
        self._categories = (
            category_codes(X, D.X, self.split_features_) if is_dataframe(X) or D.input_transform is not None else {}
        )
        self._unordered = unordered_columns(X, self.split_features_)
        self.loss_ = make_loss(
            self.loss, D, self.n_bins, y=y, risk=self.risk, components=self.components, cache_mb=self.cache_mb
        )
        rows = np.arange(D.X.shape[0], dtype=np.int64)
        self.root_loss_ = float(self.loss_(rows))
        self._norm = self.root_loss_ if self.root_loss_ > 0 else 1.0
        self.tree_ = self._grow(Node(rows, 0, self.root_loss_ / self._norm), grace=self.lookahead)
        leaves = self.tree_.leaves()
        for k, leaf in enumerate(leaves):
            leaf.region = k
        self.leaf_losses_ = np.array([leaf.loss for leaf in leaves])
        self.objective_ = (
            float(self.leaf_losses_.sum() + self.alpha * len(leaves))
            if np.isfinite(self.alpha)
            else float(self.leaf_losses_.sum())
        )
        return self

    def _resolve_split_features(self, d):
        if self.split_features is None:
            return list(range(d))
        feats = (
            [self.split_features]
            if isinstance(self.split_features, (str, int, np.integer))
            else list(self.split_features)
        )
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

    def _candidates(self, node):
        """{feature: thresholds} of the node, each leaving min_samples_leaf rows on both sides; an
        unordered categorical with at most _MAX_SET_CATEGORIES categories there: code sets."""
        out = {}
        n = node.rows.size
        for j in self.split_features_:
            x = self.X_[node.rows, j]
            if j in self._unordered:
                codes, counts = np.unique(x, return_counts=True)
                if 2 < codes.size <= _MAX_SET_CATEGORIES:
                    sets = subset_candidates(codes, counts, self.min_samples_leaf)
                    if sets:
                        out[j] = sets
                    continue
            t = candidate_thresholds(x)
            n_left = np.searchsorted(np.sort(x), t, side="right")
            t = t[(n_left >= self.min_samples_leaf) & (n - n_left >= self.min_samples_leaf)]
            if t.size:
                out[j] = t
        return out

    def _split_losses(self, node, candidates):
        """{feature: (m, 2) normalised child losses}: all features at once when the loss can."""
        if hasattr(self.loss_, "splits"):
            return {j: np.asarray(v) / self._norm for j, v in self.loss_.splits(node.rows, candidates).items()}
        out = {}
        for j, t in candidates.items():
            if hasattr(self.loss_, "split"):
                out[j] = np.asarray(self.loss_.split(node.rows, j, t)) / self._norm
            else:
                x = self.X_[node.rows, j]
                out[j] = (
                    np.array(
                        [
                            [self.loss_(node.rows[goes_left(x, tc)]), self.loss_(node.rows[~goes_left(x, tc)])]
                            for tc in t
                        ]
                    )
                    / self._norm
                )
        return out

    def _best_split(self, node):
        candidates = self._candidates(node)
        if not candidates:
            return None
        losses = self._split_losses(node, candidates)
        best = None
        for j, t in candidates.items():
            total = losses[j].sum(axis=1)
            if self.save_losses:
                node.split_losses[self.feature_names_[j]] = (t, total)
            c = int(np.argmin(total))
            if best is None or total[c] < best[0] - _TIE * max(1.0, abs(best[0])):
                best = (float(total[c]), j, t[c] if isinstance(t[c], frozenset) else float(t[c]), losses[j][c])
        return best

    def _grow(self, node, grace):
        if (
            node.depth >= self.max_depth
            or node.loss == 0.0
            or node.rows.size < 2 * self.min_samples_leaf
            or self.alpha >= node.loss
        ):  # the children's loss is >= 0: no split can pay for alpha
            return node
        best = self._best_split(node)
        if best is None:
            return node
        total, j, t, (loss_left, loss_right) = best
        pays = total + self.alpha < node.loss - _TIE
        if not pays and not grace:
            return node
        x = self.X_[node.rows, j]
        left = goes_left(x, t)
        node.feature, node.threshold = j, t
        ops = ("in", "not in") if isinstance(t, frozenset) else ("<=", ">")
        node.shown = None if isinstance(t, frozenset) else display_threshold(t, x[~left].min())
        node.left = self._grow(
            Node(node.rows[left], node.depth + 1, float(loss_left), node.conditions + [(j, ops[0], t)]),
            grace=self.lookahead and pays,
        )
        node.right = self._grow(
            Node(node.rows[~left], node.depth + 1, float(loss_right), node.conditions + [(j, ops[1], t)]),
            grace=self.lookahead and pays,
        )
        if not pays:  # lookahead: keep the subtree only if it now pays for its extra leaves
            leaves = node.leaves()
            if sum(leaf.loss for leaf in leaves) + self.alpha * (len(leaves) - 1) >= node.loss - _TIE:
                node.feature = node.threshold = node.shown = node.left = node.right = None
        return node

    def split_losses(self):
        """With save_losses=True: one dict per split node, in preorder: "conditions" (the path's
        (feature name, "<=" or ">", threshold) tuples), "feature" (the chosen one) and "losses"
        {feature name: (thresholds, normalised loss of the two children)} over every candidate.
        RuntimeError before fit or without save_losses."""
        self._check_fitted()
        if not self.save_losses:
            raise RuntimeError("Granite: split_losses() needs Granite(save_losses=True) before fit")
        out = []

        def walk(node):
            if node.is_leaf:
                return
            out.append(
                {
                    "conditions": [(self.feature_names_[j], op, t) for j, op, t in node.conditions],
                    "feature": self.feature_names_[node.feature],
                    "losses": dict(node.split_losses),
                }
            )
            walk(node.left)
            walk(node.right)

        walk(self.tree_)
        return out

    # ---- using the fitted tree ----------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "tree_"):
            raise RuntimeError("Granite: call fit(model, X) first")

    def rules(self):
        """One string per region: one interval per feature, features in the order the path first
        splits on them, e.g. "x2 <= -1.0 and -0.5 < x0 <= 1.3" ("all" for a single region).

        Bounds are printed short (display_threshold): each still puts the split's training rows on
        their exact side, so a rule selects exactly its region's fitted rows; intervals() has the
        exact bounds that predict() uses."""
        out = []
        for bounds in self._leaf_bounds():
            parts = [self._condition_text(j, bound) for j, bound in bounds.items()]
            out.append(" and ".join(parts) if parts else "all")
        return out

    def _condition_text(self, j, bound):
        """One feature's part of a rule; a categorical column lists its categories in the interval
        (or, unordered, in its code set)."""
        name, labels = self.feature_names_[j], self._categories.get(j)
        if isinstance(bound, frozenset):
            return _set_text(name, [label for code, label in sorted(labels.items()) if code in bound])
        lower, upper = bound
        if labels is None:
            return _interval_text(name, lower, upper)
        return _set_text(name, [label for code, label in sorted(labels.items()) if lower[0] < code <= upper[0]])

    def _split_texts(self, node):
        """The labels of a split's two edges (plot): "x <= v" / "x > v", or each side's categories."""
        name, labels = self.feature_names_[node.feature], self._categories.get(node.feature)
        if labels is None:
            return f"{name} <= {node.shown!r}", f"{name} > {node.shown!r}"
        codes = np.unique(self.X_[node.rows, node.feature])
        left = goes_left(codes, node.threshold)
        return (_set_text(name, [labels[c] for c in codes[left]]), _set_text(name, [labels[c] for c in codes[~left]]))

    def intervals(self):
        """Per region, its exact bounds: a list of Interval(feature, lower, upper) meaning
        lower < x <= upper (-inf / inf when unbounded), or for an unordered categorical column
        CategorySet(feature, codes), in the order of rules(). Bounds are on the matrix predict()
        routes (category codes for categorical columns)."""
        return [
            [
                CategorySet(self.feature_names_[j], tuple(sorted(b)))
                if isinstance(b, frozenset)
                else Interval(self.feature_names_[j], b[0][0], b[1][0])
                for j, b in bounds.items()
            ]
            for bounds in self._leaf_bounds()
        ]

    def _leaf_bounds(self):
        """Per leaf, {feature: ((lower, shown), (upper, shown))}: the tightest bound of each side;
        an unordered categorical column: the frozenset of its codes left in the leaf."""
        self._check_fitted()
        out = []

        def walk(node, bounds):
            if node.is_leaf:
                out.append(bounds)
                return
            if node.feature in self._unordered:
                allowed = bounds.get(node.feature, frozenset(self._categories[node.feature]))
                left = frozenset(c for c in allowed if goes_left(np.array([c]), node.threshold)[0])
                walk(node.left, {**bounds, node.feature: left})
                walk(node.right, {**bounds, node.feature: allowed - left})
                return
            lo, hi = bounds.get(node.feature, ((-np.inf, -np.inf), (np.inf, np.inf)))
            cut = (node.threshold, node.shown)
            walk(node.left, {**bounds, node.feature: (lo, min(hi, cut))})  # dicts keep first-split order
            walk(node.right, {**bounds, node.feature: (max(lo, cut), hi)})

        walk(self.tree_, {})
        return out

    def predict(self, X) -> np.ndarray:
        """Region id (index into rules()) of each row of X (a DataFrame is matched by column name)."""
        self._check_fitted()
        return self._regions_of(self._matrix(X))

    def _regions_of(self, X):
        """Region ids of an already validated matrix (see _matrix)."""
        ids = np.empty(X.shape[0], dtype=np.int64)
        self._route(self.tree_, X, np.arange(X.shape[0]), ids)
        return ids

    def _matrix(self, X):
        X = align_columns(X, self._column_names, "X")  # by name, before any encoding
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
        left = goes_left(X[idx, node.feature], node.threshold)
        self._route(node.left, X, idx[left], ids)
        self._route(node.right, X, idx[~left], ids)

    def region_rows(self):
        """Row indices (into the fitted X) of each region."""
        self._check_fitted()
        return [leaf.rows for leaf in self.tree_.leaves()]

    def explain(self, X, kind: str = "shap", y=None, **kwargs):
        """Regional explanations of X: each row is routed to its region and explained with that
        region's fitted rows as background. kind: "shap" or "pdp" ((n, P) per row), or "pfi"
        ((n_regions, P), needs y); other keyword arguments go to regional_explanation."""
        from .explain import regional_explanation

        self._check_fitted()
        return regional_explanation(self, X, kind, y=y, **kwargs)

    def plot(self, path=None, *, ax=None, title=None):
        """The partition tree with its rules and per-leaf losses (matplotlib; see assay.plot):
        draws into `ax` (or a new figure), saves to `path` when given, returns the Axes."""
        from .plot import partition_tree

        return partition_tree(self, path, ax=ax, title=title)

    def __repr__(self):
        fitted = f", regions={len(self.leaf_losses_)}" if hasattr(self, "leaf_losses_") else ""
        return f"Granite(loss={self.loss!r}, max_depth={self.max_depth}, alpha={self.alpha}{fitted})"


def category_codes(X, codes, columns):
    """{column: {code: label}} for the split columns whose matrix holds category codes rather than
    the user's values: pandas categoricals, and columns the model's input_transform re-encodes
    (HistGradientBoosting's categories). Labels are those of the fitted rows."""
    out = {}
    for j in columns:
        user, c = _user_column(X, j), codes[:, j]
        if user.dtype != object and np.array_equal(user, c, equal_nan=True):
            continue  # split on the values themselves
        values, first = np.unique(c, return_index=True)  # a code's label, from its first row
        out[j] = {float(code): _plain(user[row]) for code, row in zip(values, first)}
    return out


def unordered_columns(X, columns):
    """The split columns of a DataFrame X that are unordered pandas categoricals (split into code
    sets rather than at thresholds)."""
    if not is_dataframe(X):
        return set()
    import pandas as pd

    return {j for j in columns if isinstance(X.iloc[:, j].dtype, pd.CategoricalDtype) and not X.iloc[:, j].cat.ordered}


def _user_column(X, j):
    """Column j of the user's X: labels (object) for a pandas categorical or boolean column, else
    float64."""
    if is_dataframe(X):
        import pandas as pd

        col = X.iloc[:, j]
        if (
            isinstance(col.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(col.dtype)
            or not pd.api.types.is_numeric_dtype(col.dtype)
        ):
            return col.astype(object).to_numpy()
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(X)[:, j].astype(np.float64)


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label  # 10.0, not np.float64(10.0)


def _set_text(name, labels):
    """`name in {a, b}`; a boolean column reads `name` (True) or `not name` (False)."""
    if len(labels) == 1 and isinstance(_plain(labels[0]), bool):
        return name if _plain(labels[0]) else f"not {name}"
    return f"{name} in {{{', '.join(repr(_plain(v)) for v in labels)}}}"


def _interval_text(name, lower, upper):
    """lower / upper: (exact, shown) pairs; an infinite exact bound is left out."""
    lo, hi = lower[1], upper[1]
    if np.isfinite(lower[0]) and np.isfinite(upper[0]):
        return f"{lo!r} < {name} <= {hi!r}"
    if np.isfinite(upper[0]):
        return f"{name} <= {hi!r}"
    return f"{name} > {lo!r}"
