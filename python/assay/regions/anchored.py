"""Anchored decompositions on a region's own data (GRANITE).

For rows R (explained points and background at once) and g_S(x) = mean_{z in R} f(x_S, z_-S):
    H_u(x, z) = sum_{v <= u} (-1)^{|u|-|v|} f(x_v, z_-v)                      (an |R| x |R| matrix)
    pure p_u(x) = mean_z H_u(x, z)            = sum_{v <= u} (-1)^{|u|-|v|} g_v(x)
    full q_u(x) = (-1)^{|u|} mean_x' H_u(x', x) = sum_{v <= u} (-1)^{|v|} g_{-v}(x)
For one player, p_i = g_i - mean f (the centred partial dependence) and q_i = f - g_{-i}.

Tree ensembles use the exact tree kernel of the compiled core: per-row leaf patterns
and per-leaf region tables, O(|R| * leaves * entries), no pairs. Any other model is evaluated
directly: each g_S costs |R|^2 model calls (in chunks of rows, never an |R| x |R| x d array).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import _core
from ..errors import TooManyPlayersError, UnsupportedModelError
from .._inputs import align_columns, as_matrix, is_dataframe, reference_names
from .._validation import check_n_jobs
from ..trees.players import player_count, resolve_groups
from ._model import as_tree_model, callable_predictor, resolve_output

# The exact tree kernel is csrc/core/anchored_regions.hpp (reached through _core).
_CHUNK_CELLS = 1 << 21  # hybrid rows x features per model call in the generic path


def anchored_decomposition(
    model, X, groups=None, order: int = 1, output=None, feature_names=None, n_jobs: int = -1, method: str = "auto"
):
    """The lazy anchored decomposition of `model` on the rows of X (see the module docstring).

    model: an XGBoost/LightGBM/scikit-learn tree model (exact tree kernel), or any callable
    f(X) -> (n,) / an object with .predict (generic path, O(N^2) model calls per subset).
    groups: players as in assay.TreeExplainer (dict name -> columns). order: 1 (players) or 2
    (players and pairs). output: the output explained for multi-output models (required when K > 1).
    method: "auto" (tree kernel when possible), "tree" or "generic".
    A DataFrame X is matched by column name to the tree model's training names (reordered when
    they come in another order; missing, extra, renamed or duplicated columns raise ValueError).
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"order: expected 1 or 2, got {order!r}")
    if method not in ("auto", "tree", "generic"):
        raise ValueError(f"method: expected 'auto', 'tree' or 'generic', got {method!r}")
    tree = as_tree_model(model)
    if tree is None and method == "tree":
        raise UnsupportedModelError(f"model: method='tree' needs a supported tree model, got {type(model).__name__}")
    model_names = tree.feature_names if tree is not None else None
    X = align_columns(X, reference_names(model_names, list(X.columns) if is_dataframe(X) else None), "X")
    names = list(map(str, X.columns)) if is_dataframe(X) else None
    if tree is not None:
        if tree.input_transform is not None:
            X = tree.input_transform(X)
        X = as_matrix(X, "X", tree.n_features)
        out = resolve_output(tree.n_outputs, output)
        names = list(feature_names) if feature_names is not None else (names or tree.feature_names)
        if method != "generic":
            try:
                return AnchoredDecomposition(
                    X, groups, order, names, tree=tree, output=out, n_jobs=n_jobs, transform=tree.input_transform
                )
            except TooManyPlayersError as exc:  # a path wider than the kernel's tables: the generic path takes it
                if method == "tree":
                    raise
                warnings.warn(f"{exc}; using the generic path (O(N^2) model calls)", stacklevel=2)

        def predict(A, _t=tree, _k=out):
            return _t.predict_raw(np.ascontiguousarray(A, dtype=np.float64))[:, _k]

        transform = tree.input_transform
    else:
        X = as_matrix(X, "X")  # NaN passes: the callable decides what a missing value means
        predict = callable_predictor(model, output)
        names = list(feature_names) if feature_names is not None else names
        transform = None
    return AnchoredDecomposition(X, groups, order, names, predict=predict, n_jobs=n_jobs, transform=transform)


class AnchoredDecomposition:
    """Lazy H_u, pure and full effects on the rows of X. Nothing N x N is stored: H(u) builds one
    matrix on demand; pure(u)/full(u) are (N,); pure_effects()/full_effects() are (N, |U|)."""

    def __init__(self, X, groups, order, names, *, tree=None, output=0, predict=None, n_jobs=-1, transform=None):
        self.X = X
        self.input_transform = transform  # user matrix -> the one X holds (HistGradientBoosting categories)
        self.order = order
        self.n_jobs = check_n_jobs(n_jobs)
        d = X.shape[1]
        self.feature_names = list(names) if names is not None else [f"x{i}" for i in range(d)]
        if len(self.feature_names) != d:
            raise ValueError(f"feature_names: expected {d} names, got {len(self.feature_names)}")
        self._player_of, self.players = resolve_groups(groups, d, self.feature_names)
        P = player_count(self._player_of, d)
        of = np.arange(d) if self._player_of is None else self._player_of
        self._columns = [np.flatnonzero(of == i) for i in range(P)]
        self.subsets = [(i,) for i in range(P)]
        if order == 2:
            self.subsets += list(itertools.combinations(range(P), 2))
        self._index = {u: k for k, u in enumerate(self.subsets)}
        self.tree = tree
        self._kernel_output = output
        self.method = "tree" if tree is not None else "generic"
        if tree is not None:
            self._kernel = _core.AnchoredRegions(
                tree.forest, X, output, np.ascontiguousarray(of, dtype=np.int32), P, n_jobs=self.n_jobs
            )

            def predict(A, _t=tree, _k=output):
                return _t.predict_raw(np.ascontiguousarray(A, dtype=np.float64))[:, _k]

        self._predict = predict
        self._cache = None

    # ---- public, on the whole data set ------------------------------------------------------
    def H(self, u) -> np.ndarray:
        """H_u(x, z) for all rows x (axis 0) and z (axis 1): one N x N matrix, built on demand."""
        u = self._subset(u)
        N = self.X.shape[0]
        H = np.zeros((N, N))
        for v in _subsets_of(u):
            sign = (-1.0) ** (len(u) - len(v))
            for lo, block in hybrid_blocks(self._predict, self.X, self.X, self._cols(v)):
                H[lo : lo + block.shape[0]] += sign * block
        return H

    def pure(self, u) -> np.ndarray:
        """p_u(x) = mean_z H_u(x, z), (N,)."""
        return self.pure_effects()[:, self._index[self._subset(u)]]

    def full(self, u) -> np.ndarray:
        """q_u(x) = (-1)^|u| mean_x' H_u(x', x), (N,)."""
        return self.full_effects()[:, self._index[self._subset(u)]]

    def pure_effects(self) -> np.ndarray:
        """(N, |U|) pure effects, columns in the order of `subsets`."""
        return self._whole()[0]

    def full_effects(self) -> np.ndarray:
        """(N, |U|) full effects, columns in the order of `subsets`."""
        return self._whole()[1]

    # ---- per region (row indices into X) ----------------------------------------------------
    def effects(self, rows=None):
        """(p, q), each (|R|, |U|), for the region `rows` (its own background)."""
        rows = self._rows(rows)
        if self.tree is not None:
            return self._kernel.effects(rows, pairs=self.order == 2)
        return self._generic_effects(rows)

    def squared_gap(self, rows) -> float:
        """sum over x in R and u in U of (p_u(x) - q_u(x))^2 for the region `rows`."""
        rows = self._rows(rows)
        if self.tree is not None:
            return float(self._kernel.loss(rows, pairs=self.order == 2))
        p, q = self._generic_effects(rows)
        return float(((p - q) ** 2).sum())

    def split_squared_gaps(self, rows, feature: int, thresholds, column=None) -> np.ndarray:
        """(m, 2): squared_gap of {x_feature <= t} and of the rest, for each threshold t. column:
        the (N,) values split on instead of X[:, feature] (a recoded column)."""
        rows = self._rows(rows)
        t = np.ascontiguousarray(thresholds, dtype=np.float64)
        if self.tree is not None:
            column = np.ascontiguousarray(self.X[:, feature] if column is None else column, dtype=np.float64)
            return self._kernel.split_losses(rows, column, t, pairs=self.order == 2, n_jobs=self.n_jobs)
        out = np.empty((t.size, 2))
        x = (self.X[:, feature] if column is None else np.asarray(column, dtype=np.float64))[rows]
        for c, tc in enumerate(t):
            out[c] = [self.squared_gap(rows[x <= tc]), self.squared_gap(rows[~(x <= tc)])]
        return out

    # ---- internals --------------------------------------------------------------------------
    def _whole(self):
        if self._cache is None:
            self._cache = self.effects(None)
        return self._cache

    def _subset(self, u):
        u = (int(u),) if isinstance(u, (int, np.integer)) else tuple(sorted(int(i) for i in u))
        if u and u not in self._index:
            raise ValueError(f"u: expected a player index or a tuple from .subsets (order {self.order}), got {u!r}")
        return u

    def _rows(self, rows):
        N = self.X.shape[0]
        if rows is None:
            return np.arange(N, dtype=np.int64)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.ndim != 1 or rows.size == 0 or rows.min() < 0 or rows.max() >= N:
            raise ValueError(f"rows: expected a non-empty 1-D array of row indices in [0, {N})")
        return rows

    def _cols(self, players):
        return np.concatenate([self._columns[i] for i in players]) if players else np.empty(0, dtype=np.int64)

    def _g(self, rows, players, cache):
        key = frozenset(players)
        if key not in cache:
            if not players:
                cache[key] = np.full(rows.size, self._predict(self.X[rows]).mean())
            elif len(players) == len(self._columns):
                cache[key] = self._predict(self.X[rows])
            else:
                XR = self.X[rows]
                cache[key] = hybrid_means(self._predict, XR, XR, self._cols(players))
        return cache[key]

    def _generic_effects(self, rows, g=None):
        """(p, q) from the definition; g(rows, players, cache) -> (|rows|,) is the interventional
        mean g_S (default self._g; the risk loss passes its own)."""
        g = self._g if g is None else g
        P = len(self._columns)
        p = np.zeros((rows.size, len(self.subsets)))
        q = np.zeros_like(p)
        cache = {}
        for k, u in enumerate(self.subsets):
            for v in _subsets_of(u):
                rest = tuple(i for i in range(P) if i not in v)
                p[:, k] += (-1.0) ** (len(u) - len(v)) * g(rows, v, cache)
                q[:, k] += (-1.0) ** len(v) * g(rows, rest, cache)
        return p, q


def hybrid_blocks(predict, Xq, Z, cols):
    """(first row, f(x_cols, z_rest)) for chunks of query rows x (axis 0) and every z of Z (axis 1)."""
    n, d = Z.shape
    chunk = max(1, _CHUNK_CELLS // max(1, n * d))
    for lo in range(0, Xq.shape[0], chunk):
        xs = Xq[lo : lo + chunk]
        A = np.tile(Z, (xs.shape[0], 1))
        A[:, cols] = np.repeat(xs[:, cols], n, axis=0)
        yield lo, predict(A).reshape(xs.shape[0], n)


def hybrid_means(predict, Xq, Z, cols) -> np.ndarray:
    """g(x) = mean_{z in Z} f(x_cols, z_rest) for each query row x: |Xq| * |Z| model calls in chunks."""
    g = np.empty(Xq.shape[0])
    for lo, block in hybrid_blocks(predict, Xq, Z, cols):
        g[lo : lo + block.shape[0]] = block.mean(axis=1)
    return g


def _subsets_of(u):
    return [c for r in range(len(u) + 1) for c in itertools.combinations(u, r)]
