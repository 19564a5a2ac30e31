"""Random forests: the Rashomon set of sub-forests, with per-tree interventional SHAP from assay.

A sub-forest S of m of the M trees predicts the mean of its trees. Given a tolerance eps (an
RMSE for regression forests, a misclassification rate for binary classification forests),
`subforest_size(eps)` is the smallest m for which an upper bound on the error of the worst
sub-forest of m trees is within eps: every sub-forest of m (or more) trees is then a model within
tolerance, and R(eps) is the set of all of them. Two valid bounds are available, and by default
the smaller of the two at each m is used:

- "convexity" (regression only): the MSE is convex, so a sub-forest's MSE is at most the mean of
  the m largest per-tree MSEs. Tight for small m; at m = M it is the mean per-tree MSE.
- "paper" (Laberge et al. 2023, epsilon^+(m)): a sub-forest's prediction at x lies between the
  means of the m smallest and m largest per-tree predictions, so its error is at most that of
  the worse end at every row. At m = M it is the forest's own error, so every eps above the
  forest's error has a sub-forest size.

SHAP values are linear in the trees, so over R(eps) a local attribution ranges exactly between
the mean of its m smallest and the mean of its m largest per-tree values, and "|phi_i| > |phi_j|"
(signs agreed) holds for every sub-forest exactly when the mean of the m smallest per-tree values
of s_i phi_i - s_j phi_j is positive. Predictions and partial dependence are linear in the trees
too (exact bounds). Global importance (root mean square, or mean absolute value, of the
attributions over rows) is not linear in the trees: its order uses sound interval bounds (a
relation shown holds for every sub-forest, but some that hold may be missed).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..trees import TreeExplainer, convert_model
from ..trees.forest import TreeModel
from .._memory import check_bytes
from .._inputs import align_columns, as_matrix, is_dataframe, reference_names
from .._vocabulary import deprecated
from .dependence import dependence_grid, dependence_rows, feature_index
from .ellipsoid import _keep_global_rows
from .partial_order import PartialOrder
from .subforest_search import candidate_subforests, importance_of
from .subforests import convexity_bound, range_bound, subset_means
from .utility import UtilityCurve

_REGRESSORS = ("RandomForestRegressor", "ExtraTreesRegressor")
_CLASSIFIERS = ("RandomForestClassifier", "ExtraTreesClassifier")
_BOUNDS = ("combined", "paper", "convexity")
_IMPORTANCES = ("rms", "mean_abs")


class ForestRashomon(UtilityCurve):
    """ForestRashomon(forest, X_val, y_val, background, bound="combined"): `forest` is a fitted
    scikit-learn RandomForestRegressor or ExtraTreesRegressor (errors: RMSE), or a binary
    RandomForestClassifier or ExtraTreesClassifier (errors: misclassification rate, class 1 when
    the mean class-1 probability exceeds 1/2; trees and attributions are in class-1 probability).
    Tree errors are measured on (X_val, y_val); attributions are interventional SHAP values
    against `background` (rows: a 2-D array or DataFrame; its mean is the attributions'
    baseline). feature_names: names for the orders (default: the forest's or the background's
    columns). n_jobs: threads for the tree kernels. bound: "combined" (the smaller of the two
    below at each m), "paper" (the prediction-range bound epsilon^+(m)) or "convexity" (the mean
    of the m worst per-tree MSEs; regression only). Global importances (importance_bounds,
    global_order) average over the rows of X_val unless given other rows (at most 2000 of them,
    as the ellipsoid classes use their training rows)."""

    def __init__(
        self,
        forest,
        X_val,
        y_val,
        background,
        feature_names: Optional[Sequence[str]] = None,
        n_jobs: int = -1,
        bound: str = "combined",
    ):
        kind = type(forest).__name__
        if kind not in _REGRESSORS + _CLASSIFIERS or not type(forest).__module__.startswith("sklearn"):
            raise TypeError(f"forest: expected a scikit-learn {', '.join(_REGRESSORS + _CLASSIFIERS)}, got {kind}")
        self.task = "classification" if kind in _CLASSIFIERS else "regression"
        if bound not in _BOUNDS or (bound == "convexity" and self.task == "classification"):
            allowed = _BOUNDS if self.task == "regression" else _BOUNDS[:2]
            raise ValueError(f"bound: expected one of {allowed} for a {self.task} forest, got {bound!r}")
        self.bound = bound
        model = convert_model(forest)
        if self.task == "classification" and model.n_outputs != 2:
            raise ValueError(f"forest: expected a binary classifier, got {model.n_outputs} classes")
        self._output = 1 if self.task == "classification" else 0  # class 1's probability
        self.n_trees = int(model.forest.n_trees)
        self.n_features_in_ = model.n_features
        # DataFrames are matched by column name (the forest's feature_names_in_, else the background's).
        self._columns = reference_names(model.feature_names, background.columns if is_dataframe(background) else None)
        X_val = np.asarray(align_columns(X_val, self._columns, "X_val"), dtype=np.float64)
        y_val = self._targets(forest, y_val)
        if X_val.ndim != 2 or X_val.shape[1] != model.n_features or y_val.shape != (X_val.shape[0],) or len(y_val) == 0:
            raise ValueError(
                f"X_val, y_val: expected (n, {model.n_features}) and (n,) with n >= 1, got "
                f"{X_val.shape} and {y_val.shape}"
            )
        # One explainer per tree (the forest averages them: a tree's own output is M times its share).
        self._trees = [
            TreeModel(
                forest=model.forest.subforest(t, t + 1),
                source=f"{model.source}[{t}]",
                n_features=model.n_features,
                n_outputs=model.n_outputs,
                feature_names=self._columns,
            )
            for t in range(self.n_trees)
        ]
        self._n_jobs = n_jobs
        self._explainers = [TreeExplainer(m, background, n_jobs=n_jobs) for m in self._trees]
        self.names = list(map(str, feature_names)) if feature_names is not None else self._explainers[0].feature_names
        if len(self.names) != self.n_features_in_:
            raise ValueError(f"feature_names: expected {self.n_features_in_} names, got {len(self.names)}")
        preds = self._tree_outputs(X_val)  # (M, n)
        if self.task == "regression":
            self.tree_mse_ = np.mean((preds - y_val) ** 2, axis=1)
            self.forest_rmse_ = float(np.sqrt(np.mean((preds.mean(axis=0) - y_val) ** 2)))
            self.forest_error_ = self.forest_rmse_
        else:
            self.tree_error_ = np.mean((preds > 0.5) != y_val, axis=1)
            self.forest_error_ = float(np.mean((preds.mean(axis=0) > 0.5) != y_val))
        self._curves = {
            "paper": range_bound(preds, y_val, self.task),
            "convexity": convexity_bound(self.tree_mse_) if self.task == "regression" else None,
        }
        # at m = M the range is the forest's own prediction: its error exactly, so eps = it is accepted
        self._curves["paper"][-1] = self.forest_error_
        # The smallest tolerance the chosen bound supports (its value at m = M); eps >= this.
        self.min_tolerance_ = float(self._bounds()[-1])
        self._global_rows = _keep_global_rows(X_val)  # the default rows of global importances

    def _targets(self, forest, y_val):
        """y_val as floats; for classifiers 1.0 for forest.classes_[1], 0.0 for classes_[0]."""
        y_val = np.asarray(y_val)
        if self.task == "regression":
            return y_val.astype(np.float64)
        unknown = ~np.isin(y_val, forest.classes_)
        if unknown.any():
            raise ValueError(
                f"y_val: expected labels among the forest's classes {list(forest.classes_)}, got "
                f"{y_val[unknown][:5].tolist()}"
            )
        return (y_val == forest.classes_[1]).astype(np.float64)

    # ------------------------------------------------------------------ the bound on sub-forest errors
    def _bounds(self, bound: Optional[str] = None):
        """Entry m - 1: the chosen bound on the error of every sub-forest of m trees."""
        bound = bound or self.bound
        convexity = self._curves["convexity"]
        if bound == "paper" or convexity is None:
            return self._curves["paper"]
        return convexity if bound == "convexity" else np.minimum(self._curves["paper"], convexity)

    def _mse_bounds(self):
        """Entry m - 1: the convexity bound on the MSE of every sub-forest of m trees (regression)."""
        return self._curves["convexity"] ** 2

    def bound_curve(self) -> dict:
        """The bounds on the error of the worst sub-forest of m trees, for m = 1..M: a dict of
        arrays (M,) "m", "paper" (epsilon^+(m), from the range of predictions), "convexity" (the
        mean of the m worst per-tree MSEs, as an RMSE; None for classifiers) and "combined" (the
        smaller of the two), plus "chosen", the name of the bound subforest_size uses. Errors are
        RMSEs (regression) or misclassification rates (classification)."""
        return {
            "m": np.arange(1, self.n_trees + 1),
            "paper": self._curves["paper"].copy(),
            "convexity": None if self._curves["convexity"] is None else self._curves["convexity"].copy(),
            "combined": self._bounds("combined").copy(),
            "chosen": self.bound,
        }

    def plot_bound_curve(self, path=None, *, ax=None, title: Optional[str] = None):
        """Draw each bound against m (and the forest's own error as a horizontal line) into `ax`
        or a new figure; saves to `path` (PNG, SVG, ... by extension) when given; returns the
        matplotlib Axes."""
        from ..plot import _axes, _save

        ax = _axes(ax, path, (5, 3.5))
        curve = self.bound_curve()
        for name in ("convexity", "paper", "combined"):
            if curve[name] is not None:
                ax.plot(curve["m"], curve[name], label=name, lw=2.5 if name == "combined" else 1.2)
        ax.axhline(self.forest_error_, color="0.5", ls=":", label="forest")
        ax.set_xlabel("m (trees in the sub-forest)")
        ax.set_ylabel("bound on the worst " + ("RMSE" if self.task == "regression" else "error rate"))
        ax.legend()
        if title:
            ax.set_title(title)
        return _save(ax, path)

    def subforest_size(self, eps: float) -> int:
        """The smallest m such that every sub-forest of m (or more) trees has an error (RMSE, or
        misclassification rate for classifiers) <= eps, through the chosen bound. eps: the
        tolerance, at least min_tolerance_ (ValueError below it)."""
        if isinstance(eps, bool) or not np.isscalar(eps) or not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps: expected a positive error tolerance, got {eps!r}")
        ok = np.flatnonzero(self._bounds() <= eps)
        if ok.size == 0:
            raise ValueError(
                f"eps: {eps:.6g} is below the bound for the whole forest "
                f"({self.min_tolerance_:.6g}); no sub-forest is guaranteed within it"
            )
        return int(ok[0]) + 1

    # ------------------------------------------------------------------ per-tree quantities
    def _rows(self, X, name: str = "X") -> np.ndarray:
        return as_matrix(align_columns(X, self._columns, name), name, self.n_features_in_)

    def _tree_outputs(self, X) -> np.ndarray:
        """(M, n): each tree's own prediction (class-1 probability for classifiers) at rows X."""
        X = self._rows(X)
        return np.stack([self.n_trees * m.predict_raw(X, self._n_jobs)[:, self._output] for m in self._trees])

    def per_tree_attributions(self, X) -> np.ndarray:
        """(n, d, M): interventional SHAP values of each tree's own output at the rows X (a 2-D
        array or DataFrame)."""
        n = len(X)
        check_bytes(
            2 * 8.0 * n * self.n_features_in_ * self.n_trees,
            f"X: per-tree values for {n} rows",
            "pass fewer rows at a time",
        )
        phis = [ex.shap_values(X) for ex in self._explainers]
        return self.n_trees * np.stack([p[..., self._output] if p.ndim == 3 else p for p in phis], axis=-1)

    def predict(self, X, eps=None):
        """The forest's predictions at the rows X (n,) (class-1 probabilities for classifiers);
        with eps, (lo, hi) instead: the smallest and largest prediction of any sub-forest in
        R(eps) (means of the m smallest / largest per-tree predictions)."""
        preds = self._tree_outputs(X).T  # (n, M)
        if eps is None:
            return preds.mean(axis=1)
        return subset_means(preds, self.subforest_size(eps))

    def partial_dependence_bounds(self, feature, grid, eps, X=None):
        """(lo, hi), each (len(grid),): the extremes over R(eps) of the partial dependence of
        `feature` (a name or an index) at each value of `grid`, the mean prediction over the rows
        of X (default: the rows of X_val, at most 2000 of them) with the feature set to that value."""
        j = feature_index(feature, self.names)
        grid = dependence_grid(grid)
        rows = self._global_rows if X is None else self._rows(X)
        m = self.subforest_size(eps)
        check_bytes(
            8.0 * len(grid) * rows.size,
            f"X: {len(rows)} rows x {len(grid)} grid values",
            "pass fewer rows or grid values",
        )
        per_tree = self._tree_outputs(dependence_rows(rows, j, grid)).reshape(self.n_trees, len(grid), -1)
        return subset_means(per_tree.mean(axis=-1).T, m)

    def attribution_bounds(self, X, eps):
        """(lo, hi), each (n, d): means of the m smallest / largest per-tree values at the rows X."""
        return subset_means(self.per_tree_attributions(X), self.subforest_size(eps))

    # ------------------------------------------------------------------ local orders
    def _orders(self, phis, m) -> list:
        """The local order at each row of per-tree values phis (n, d, M) over sub-forests of m trees."""
        out = []
        for phi in phis:
            lo, hi = subset_means(phi, m)
            ambiguous = (lo <= 0) & (hi >= 0)
            signed = np.sign(lo + hi)[:, None] * phi  # s_i phi_i per tree
            worst, _ = subset_means(signed[:, None, :] - signed[None, :, :], m)  # min over sub-forests
            rel = (worst > 0) & ~ambiguous[:, None] & ~ambiguous[None, :]
            np.fill_diagonal(rel, False)
            out.append(PartialOrder(rel, self.names, ambiguous))
        return out

    def local_orders(self, X, eps) -> list:
        """The order of |local attributions| at each row of X shared by every sub-forest in R(eps)."""
        return self._orders(self.per_tree_attributions(X), self.subforest_size(eps))

    def local_order(self, x, eps) -> PartialOrder:
        """The local order at one row x (a 1-D array, or a one-row DataFrame)."""
        x = x if is_dataframe(x) else np.asarray(x, dtype=np.float64).reshape(1, -1)
        return self.local_orders(x, eps)[0]

    def _statements_at(self, X):
        """For the utility curve: per-tree values of X once, then eps -> (orders, gap agreed)."""
        phis = self.per_tree_attributions(X)

        def at(eps):
            m = self.subforest_size(eps)
            lo, hi = subset_means(phis.sum(axis=1), m)  # the gap h(x) - E[h], per sub-forest
            return self._orders(phis, m), (lo > 0) | (hi < 0)

        return at

    # ------------------------------------------------------------------ global importance
    def _global_bounds(self, eps, X):
        """attribution_bounds over X, or over the default rows (their per-tree values cached)."""
        if X is not None:
            return self.attribution_bounds(X, eps)
        if not hasattr(self, "_global_phi"):
            self._global_phi = self.per_tree_attributions(self._global_rows)
        return subset_means(self._global_phi, self.subforest_size(eps))

    def importance_bounds(self, eps, X=None, importance: str = "rms"):
        """(lo, hi), each (d,): sound bounds over R(eps) of each feature's global importance over
        the rows of X (default: the rows of X_val, at most 2000 of them): the root mean square of
        its attributions (importance="rms") or their mean absolute value ("mean_abs", mean |SHAP|)."""
        if importance not in _IMPORTANCES:
            raise ValueError(f"importance: expected one of {_IMPORTANCES}, got {importance!r}")
        lo, hi = self._global_bounds(eps, X)
        small = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
        large = np.maximum(np.abs(lo), np.abs(hi))
        if importance == "mean_abs":
            return small.mean(axis=0), large.mean(axis=0)
        return np.sqrt(np.mean(small**2, axis=0)), np.sqrt(np.mean(large**2, axis=0))

    def global_order(self, eps, X=None, importance: str = "rms") -> PartialOrder:
        """Order of global importance (root mean square of attributions over the rows of X, by
        default those of X_val; importance="mean_abs": mean |SHAP|), with sound bounds: i > j when
        the smallest possible importance of i exceeds the largest of j, so every relation is
        proven for every sub-forest in R(eps). The same signature as the ellipsoid classes'
        global_order. The old argument order global_order(X, eps) still works, with a
        DeprecationWarning."""
        if X is not None and _is_number(X) and not _is_number(eps):
            deprecated("ForestRashomon.global_order(X, eps)", "global_order(eps, X)")
            eps, X = X, eps
        low, high = self.importance_bounds(eps, X, importance)
        ambiguous = low <= 0
        rel = (low[:, None] > high[None, :]) & ~ambiguous[:, None] & ~ambiguous[None, :]
        return PartialOrder(rel, self.names, ambiguous)

    def global_order_candidates(self, eps, X=None, importance: str = "mean_abs") -> PartialOrder:
        """A candidate order of global importance (mean |SHAP| by default, or importance="rms")
        over the rows of X (default: those of X_val): i > j when importance_i > importance_j on
        every sub-forest of R(eps) that a heuristic search for extreme importances finds (the
        whole forest; per feature, a rounded linear-programming relaxation for its smallest
        importance and coordinate ascent for its largest; per pair, the sub-forests extreme in
        the mean signed difference). NOT proven: a relation here may fail on a sub-forest the
        search missed. Every relation of global_order (proven) is also here, so the true order
        lies between the two. Features whose importance reaches 0 on a sub-forest found are
        ambiguous."""
        if importance not in _IMPORTANCES:
            raise ValueError(f"importance: expected one of {_IMPORTANCES}, got {importance!r}")
        m = self.subforest_size(eps)
        if X is None:
            if not hasattr(self, "_global_phi"):
                self._global_phi = self.per_tree_attributions(self._global_rows)
            phis = self._global_phi
        else:
            phis = self.per_tree_attributions(X)
        imp = np.stack([importance_of(phis, S, importance) for S in candidate_subforests(phis, m, importance)])
        ambiguous = imp.min(axis=0) <= 0
        rel = np.all(imp[:, :, None] > imp[:, None, :], axis=0) & ~ambiguous[:, None] & ~ambiguous[None, :]
        return PartialOrder(rel, self.names, ambiguous)


def _is_number(v) -> bool:
    """A real scalar (an eps), as opposed to rows."""
    if isinstance(v, np.ndarray):
        return v.ndim == 0 and v.dtype.kind in "iuf"
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
