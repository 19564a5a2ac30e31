"""Random forests: the Rashomon set of sub-forests, with per-tree interventional SHAP from assay.

A sub-forest S of m of the M trees predicts their mean, so by convexity its MSE is at most the
mean of its trees' MSEs, hence at most the mean of the m largest per-tree MSEs. Given an RMSE
tolerance eps, `subforest_size(eps)` is the smallest m for which that bound is within eps: every
sub-forest of m trees is then a model within tolerance, and R(eps) is the set of all of them.

SHAP values are linear in the trees, so over R(eps) a local attribution ranges exactly between
the mean of its m smallest and the mean of its m largest per-tree values, and "|phi_i| > |phi_j|"
(signs agreed) holds for every sub-forest exactly when the mean of the m smallest per-tree values
of s_i phi_i - s_j phi_j is positive. Global importance (root mean square of the attributions
over rows) is not linear in the trees: its order uses sound interval bounds (a relation shown
holds for every sub-forest, but some that hold may be missed).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..trees import TreeExplainer, convert_model
from ..trees.forest import TreeModel
from .._memory import check_bytes
from .._validation import align_columns, is_dataframe, reference_names
from .._vocabulary import deprecated
from .ellipsoid import _keep_global_rows
from .partial_order import PartialOrder

_AVERAGING = ("RandomForestRegressor", "ExtraTreesRegressor")


class ForestRashomon:
    """ForestRashomon(forest, X_val, y_val, background): `forest` is a fitted scikit-learn
    RandomForestRegressor or ExtraTreesRegressor; tree errors are measured on (X_val, y_val);
    attributions are interventional SHAP values against `background`. Global importances
    (importance_bounds, global_order) average over the rows of X_val unless given other rows (at
    most 2000 of them, as the ellipsoid classes use their training rows)."""

    def __init__(self, forest, X_val, y_val, background, feature_names: Optional[Sequence[str]] = None,
                 n_jobs: int = -1):
        if type(forest).__name__ not in _AVERAGING or not type(forest).__module__.startswith("sklearn"):
            raise TypeError(f"forest: expected a scikit-learn {' or '.join(_AVERAGING)}, got {type(forest).__name__}")
        model = convert_model(forest)
        self.n_trees = int(model.forest.n_trees)
        self.n_features_in_ = model.n_features
        # DataFrames are matched by column name (the forest's feature_names_in_, else the background's).
        columns = reference_names(model.feature_names, background.columns if is_dataframe(background) else None)
        X_val = np.asarray(align_columns(X_val, columns, "X_val"), dtype=np.float64)
        y_val = np.asarray(y_val, dtype=np.float64)
        if X_val.ndim != 2 or X_val.shape[1] != model.n_features or y_val.shape != (X_val.shape[0],) or len(y_val) == 0:
            raise ValueError(f"X_val, y_val: expected (n, {model.n_features}) and (n,) with n >= 1, got "
                             f"{X_val.shape} and {y_val.shape}")
        # One explainer per tree (the forest averages them: a tree's own output is M times its share).
        self._trees = [TreeModel(forest=model.forest.subforest(t, t + 1), source=f"{model.source}[{t}]",
                                 n_features=model.n_features, n_outputs=1, feature_names=columns)
                       for t in range(self.n_trees)]
        self._explainers = [TreeExplainer(m, background, n_jobs=n_jobs) for m in self._trees]
        self.names = list(map(str, feature_names)) if feature_names is not None else self._explainers[0].feature_names
        if len(self.names) != self.n_features_in_:
            raise ValueError(f"feature_names: expected {self.n_features_in_} names, got {len(self.names)}")
        preds = np.stack([self.n_trees * m.predict_raw(X_val, n_jobs)[:, 0] for m in self._trees])
        self.tree_mse_ = np.mean((preds - y_val) ** 2, axis=1)
        self.forest_rmse_ = float(np.sqrt(np.mean((preds.mean(axis=0) - y_val) ** 2)))
        # The smallest tolerance the bound supports (m = M: the mean per-tree MSE); eps >= this.
        self.min_tolerance_ = float(np.sqrt(self._mse_bounds()[-1]))
        self._global_rows = _keep_global_rows(X_val)  # the default rows of global importances

    def _mse_bounds(self):
        """Entry m - 1: the bound on the MSE of every sub-forest of m trees."""
        worst = np.sort(self.tree_mse_)[::-1]
        return np.cumsum(worst) / np.arange(1, self.n_trees + 1)

    def subforest_size(self, eps: float) -> int:
        """The smallest m such that every sub-forest of m trees has RMSE <= eps (through the bound)."""
        if isinstance(eps, bool) or not np.isscalar(eps) or not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps: expected a positive RMSE tolerance, got {eps!r}")
        ok = np.flatnonzero(np.sqrt(self._mse_bounds()) <= eps)
        if ok.size == 0:
            raise ValueError(f"eps: {eps:.6g} is below the bound for the whole forest "
                             f"({np.sqrt(self._mse_bounds()[-1]):.6g}); no sub-forest is guaranteed within it")
        return int(ok[0]) + 1

    def per_tree_attributions(self, X) -> np.ndarray:
        """(n, d, M): interventional SHAP values of each tree's own output."""
        n = len(X)
        check_bytes(2 * 8.0 * n * self.n_features_in_ * self.n_trees, f"X: per-tree values for {n} rows",
                    "pass fewer rows at a time")
        return np.stack([self.n_trees * ex.shap_values(X) for ex in self._explainers], axis=-1)

    def attribution_bounds(self, X, eps):
        """(lo, hi), each (n, d): means of the m smallest / largest per-tree values."""
        m = self.subforest_size(eps)
        phi = np.sort(self.per_tree_attributions(X), axis=-1)
        return phi[..., :m].mean(axis=-1), phi[..., -m:].mean(axis=-1)

    def local_orders(self, X, eps) -> list:
        """The order of |local attributions| at each row shared by every sub-forest in R(eps)."""
        m = self.subforest_size(eps)
        phis = self.per_tree_attributions(X)                      # (n, d, M)
        out = []
        for phi in phis:
            srt = np.sort(phi, axis=-1)
            lo, hi = srt[:, :m].mean(axis=-1), srt[:, -m:].mean(axis=-1)
            ambiguous = (lo <= 0) & (hi >= 0)
            signed = np.sign(lo + hi)[:, None] * phi              # s_i phi_i per tree
            diff = signed[:, None, :] - signed[None, :, :]        # (d, d, M)
            worst = np.sort(diff, axis=-1)[..., :m].mean(axis=-1)  # min over sub-forests
            rel = (worst > 0) & ~ambiguous[:, None] & ~ambiguous[None, :]
            np.fill_diagonal(rel, False)
            out.append(PartialOrder(rel, self.names, ambiguous))
        return out

    def local_order(self, x, eps) -> PartialOrder:
        """The local order at one row x (a 1-D array, or a one-row DataFrame)."""
        x = x if is_dataframe(x) else np.asarray(x, dtype=np.float64).reshape(1, -1)
        return self.local_orders(x, eps)[0]

    def _global_bounds(self, eps, X):
        """attribution_bounds over X, or over the default rows (their per-tree values cached)."""
        if X is not None:
            return self.attribution_bounds(X, eps)
        m = self.subforest_size(eps)
        if not hasattr(self, "_global_phi"):
            self._global_phi = np.sort(self.per_tree_attributions(self._global_rows), axis=-1)
        return self._global_phi[..., :m].mean(axis=-1), self._global_phi[..., -m:].mean(axis=-1)

    def importance_bounds(self, eps, X=None):
        """(lo, hi), each (d,): sound bounds over R(eps) of each feature's global importance, the
        root mean square of its attributions over the rows of X (default: the rows of X_val, at
        most 2000 of them)."""
        lo, hi = self._global_bounds(eps, X)
        low = np.sqrt(np.mean(np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(lo ** 2, hi ** 2)), axis=0))
        high = np.sqrt(np.mean(np.maximum(lo ** 2, hi ** 2), axis=0))
        return low, high

    def global_order(self, eps, X=None) -> PartialOrder:
        """Order of global importance (root mean square of attributions over the rows of X, by
        default those of X_val), with sound bounds: i > j when the smallest possible importance of
        i exceeds the largest of j. The same signature as the ellipsoid classes' global_order.
        The old argument order global_order(X, eps) still works, with a DeprecationWarning."""
        if X is not None and _is_number(X) and not _is_number(eps):
            deprecated("ForestRashomon.global_order(X, eps)", "global_order(eps, X)")
            eps, X = X, eps
        low, high = self.importance_bounds(eps, X)
        ambiguous = low <= 0
        rel = (low[:, None] > high[None, :]) & ~ambiguous[:, None] & ~ambiguous[None, :]
        return PartialOrder(rel, self.names, ambiguous)


def _is_number(v) -> bool:
    """A real scalar (an eps), as opposed to rows."""
    if isinstance(v, np.ndarray):
        return v.ndim == 0 and v.dtype.kind in "iuf"
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
