"""Rashomon sets that are ellipsoids in parameter space, and the statements all their models share.

For least-squares models the loss is exactly quadratic: L(theta) = L* + (theta - theta^)^T A
(theta - theta^), so R(eps) = {theta : L(theta) <= L* + eps} is an ellipsoid. Local attributions
phi_i(x) = g_i(x)^T theta are linear in theta, hence over R(eps):

    phi_i in  g^T theta^  -/+  sqrt(eps * g^T A^-1 g)

and "|phi_i| > |phi_j|" (with the signs agreed) is the linear statement a^T theta > 0 for
a = s_i g_i - s_j g_j, which holds on all of R(eps) exactly when eps < (a^T theta^)^2 / a^T A^-1 a,
its critical epsilon. Global importance is the root mean square of a player's local attributions
over the training rows, a quadratic form in theta: its bounds, and the differences of two of
them, are quadratic extremes over the ellipsoid (computed exactly, indefinite forms included).
"""

from __future__ import annotations

import numpy as np

from .._memory import check_bytes
from .._inputs import align_columns, is_dataframe
from .dependence import dependence_grid, dependence_rows, feature_index
from .partial_order import PartialOrder
from .quadratic import quadratic_range_on_ellipsoid
from .utility import UtilityCurve

_MAX_GLOBAL_ROWS = 2000  # rows of the training data kept for global importances


def _keep_global_rows(rows) -> np.ndarray:
    """The default rows of global importances: all of `rows`, or 2000 of them drawn with seed 0."""
    rows = np.asarray(rows, dtype=np.float64)
    if len(rows) > _MAX_GLOBAL_ROWS:
        rows = rows[np.random.default_rng(0).choice(len(rows), _MAX_GLOBAL_ROWS, replace=False)]
    return rows


class EllipsoidRashomon(UtilityCurve):
    """Base class. Subclasses fit, then call _set_ellipsoid(theta_hat, A, loss_star, names,
    global_rows), and implement _maps(X): (n, P, p) with phi[r, i] = maps[r, i] @ theta, and
    _predict_maps(X): (n, p) with h(x_r) = _predict_maps(X)[r] @ theta + _offset."""

    names: list
    theta_: np.ndarray
    loss_: float
    _column_names = None  # the fitted DataFrame's columns (None: fitted on an array)
    _offset = 0.0  # the part of every prediction that does not depend on theta

    # ------------------------------------------------------------------ set-up
    def _set_ellipsoid(self, theta_hat, A, loss_star, names, global_rows):
        A = 0.5 * (np.asarray(A, dtype=np.float64) + np.asarray(A, dtype=np.float64).T)
        s, U = np.linalg.eigh(A)
        if s.min() <= 1e-12 * max(s.max(), 1e-300):
            raise ValueError(
                "the design is singular (collinear or constant columns): the Rashomon set "
                "is unbounded; drop or merge the redundant columns"
            )
        self.theta_ = np.asarray(theta_hat, dtype=np.float64)
        self.loss_ = float(loss_star)
        self._whiten = U / np.sqrt(s)  # B with B B^T = A^-1
        self.names = list(names)
        self._global_rows = _keep_global_rows(global_rows)  # their attribution maps are built on first use
        self.__dict__.pop("_global_maps_cache", None)
        return self

    @property
    def _global_maps(self):
        if not hasattr(self, "_global_maps_cache"):
            self._global_maps_cache = self._maps(self._global_rows)  # (n, P, p)
        return self._global_maps_cache

    def _require_fit(self):
        if not hasattr(self, "theta_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X, y) first")

    def _eps(self, eps) -> float:
        self._require_fit()
        if isinstance(eps, bool) or not np.isscalar(eps) or not np.isfinite(eps) or eps < 0:
            raise ValueError(f"eps: expected a finite number >= 0 (loss above the best model's), got {eps!r}")
        return float(eps)

    def epsilon_from_tolerance(self, rmse: float) -> float:
        """eps such that R(eps) holds the models whose training RMSE is at most `rmse`."""
        self._require_fit()
        best = float(np.sqrt(max(self.loss_, 0.0)))
        if not np.isfinite(rmse) or rmse < best:
            raise ValueError(f"rmse: expected at least the best model's RMSE {best:.6g}, got {rmse!r}")
        return float(rmse) ** 2 - self.loss_

    # ------------------------------------------------------------------ linear statements
    def _rows(self, X):
        self._require_fit()
        # A DataFrame is matched by name to the frame the model was fitted on (reordered if needed).
        X = align_columns(X, self._column_names, "X")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: expected rows with {self.n_features_in_} features, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X: contains NaN or inf")
        return X

    def attributions(self, X):
        """Local attributions of the best model: (n, P)."""
        return self._maps(self._rows(X)) @ self.theta_

    @property
    def _center(self):
        """The centre of the ellipsoid containing R(eps) (here the best model itself)."""
        return self.theta_

    def _radius2(self, eps: float) -> float:
        """R(eps) lies in {(theta - _center)^T A (theta - _center) <= _radius2(eps)}."""
        return eps

    def _linear_range(self, G, eps: float):
        """(lo, hi): the extremes over R(eps) of the linear functions G (..., p) of theta."""
        center = G @ self._center
        half = np.sqrt(self._radius2(eps) * np.sum((G @ self._whiten) ** 2, axis=-1))
        return center - half, center + half

    def attribution_bounds(self, X, eps):
        """(lo, hi), each (n, P): the extremes of every local attribution at the rows X over R(eps)."""
        eps = self._eps(eps)
        return self._linear_range(self._maps(self._rows(X)), eps)

    def predict(self, X, eps=None):
        """The best model's predictions (n,) at the rows X (n, d) or a single row (d,); with eps,
        (lo, hi) instead: the smallest and largest prediction of any model in R(eps) at each row
        (closed form: predictions are linear in the parameters). RuntimeError before fit,
        ValueError on a wrong width or NaN/inf."""
        P = self._predict_maps(self._rows(X))
        if eps is None:
            return P @ self.theta_ + self._offset
        lo, hi = self._linear_range(P, self._eps(eps))
        return lo + self._offset, hi + self._offset

    def partial_dependence_bounds(self, feature, grid, eps, X=None):
        """(lo, hi), each (len(grid),): the extremes over R(eps) of the partial dependence of
        `feature` (a name or an index) at each value of `grid`: the mean prediction over the rows
        of X (default: the training rows, at most 2000 of them) with the feature set to that
        value. Linear in the parameters, so the bounds are exact."""
        eps = self._eps(eps)
        j = feature_index(feature, self.names)
        grid = dependence_grid(grid)
        rows = self._global_rows if X is None else self._rows(X)
        check_bytes(
            8.0 * len(grid) * len(rows) * (self.theta_.size + rows.shape[1]),
            f"X: {len(rows)} rows x {len(grid)} grid values",
            "pass fewer rows or grid values",
        )
        P = self._predict_maps(dependence_rows(rows, j, grid)).reshape(len(grid), len(rows), -1).mean(axis=1)
        lo, hi = self._linear_range(P, eps)
        return lo + self._offset, hi + self._offset

    def _local_parts(self, X):
        """_local_parts_of the attribution maps of the rows X."""
        return self._local_parts_of(self._maps(self._rows(X)))

    def _local_parts_of(self, G):
        """Per row of maps G (n, P, p): attributions (n, P), |phi_i| - |phi_j| (n, P, P), and the
        variances over the unit ellipsoid of that difference (n, P, P) and of each attribution (n, P)."""
        phi = G @ self.theta_
        W = G @ self._whiten
        gram = W @ np.swapaxes(W, -1, -2)  # (n, P, P): g_i^T A^-1 g_j
        s = np.sign(phi)
        diag = np.diagonal(gram, axis1=1, axis2=2)
        # a = s_i g_i - s_j g_j: a^T theta^ = |phi_i| - |phi_j|; a^T A^-1 a from the Gram matrix
        margin = np.abs(phi)[:, :, None] - np.abs(phi)[:, None, :]
        var = diag[:, :, None] + diag[:, None, :] - 2 * s[:, :, None] * s[:, None, :] * gram
        return phi, margin, np.maximum(var, 0.0), diag

    def local_orders(self, X, eps) -> list:
        """local_order for every row of X (batched)."""
        return self._orders(self._local_parts(X), self._eps(eps))

    def _orders(self, parts, eps: float) -> list:
        """The local orders at tolerance eps from _local_parts_of's output."""
        phi, margin, var, sign_var = parts
        ambiguous = phi**2 <= eps * sign_var
        rel = (margin > 0) & (margin**2 > eps * var)
        rel &= ~ambiguous[:, :, None] & ~ambiguous[:, None, :]
        return [PartialOrder(rel[r], self.names, ambiguous[r]) for r in range(len(phi))]

    def local_order(self, x, eps) -> PartialOrder:
        """The order of |local attributions| at one row that every model in R(eps) agrees with.
        Features whose attribution's sign is not agreed (interval containing 0) are ambiguous.
        x: a 1-D array or a one-row DataFrame."""
        x = x if is_dataframe(x) else np.asarray(x, dtype=np.float64).reshape(1, -1)
        return self.local_orders(x, eps)[0]

    def _statements_at(self, X):
        """For the utility curve: the rows' maps once, then eps -> (orders, gap agreed), the gap
        h(x) - h(baseline) being the sum of the attributions (linear in theta)."""
        G = self._maps(self._rows(X))
        parts = self._local_parts_of(G)

        def at(eps):
            eps = self._eps(eps)
            lo, hi = self._linear_range(G.sum(axis=1), eps)
            return self._orders(parts, eps), (lo > 0) | (hi < 0)

        return at

    def critical_epsilons(self, x) -> dict:
        """For one row: 'sign' (P,), the largest eps at which each attribution's sign is agreed, and
        'order' (P, P), the largest eps at which "i more important than j" holds (0 if never);
        each statement holds for eps strictly below its value."""
        phi, margin, var, sign_var = (a[0] for a in self._local_parts(np.asarray(x, dtype=np.float64).reshape(1, -1)))
        with np.errstate(divide="ignore", invalid="ignore"):
            sign_eps = np.where(sign_var > 0, phi**2 / sign_var, np.where(phi != 0, np.inf, 0.0))
            pair_eps = np.where(var > 0, margin**2 / var, np.inf)
        pair_eps = np.where(margin > 0, pair_eps, 0.0)
        order = np.minimum(pair_eps, np.minimum(sign_eps[:, None], sign_eps[None, :]))
        np.fill_diagonal(order, 0.0)
        return {"sign": sign_eps, "order": order, "names": list(self.names)}

    # ------------------------------------------------------------------ quadratic statements
    def _importance_maps(self, X):
        """Attribution maps (n, P, p) of the rows global importance averages over: X's, or by
        default the training rows' (cached)."""
        return self._global_maps if X is None else self._maps(self._rows(X))

    def importance_bounds(self, eps, X=None):
        """(lo, hi), each (P,): extremes over R(eps) of each player's global importance, the root
        mean square of its local attributions over the rows of X (default: the training rows, at
        most 2000 of them)."""
        return self._importance_bounds(self._eps(eps), self._importance_maps(X))

    def _importance_bounds(self, eps: float, G):
        n = G.shape[0]
        lo, hi = np.zeros(len(self.names)), np.zeros(len(self.names))
        for i in range(len(self.names)):
            a, b = quadratic_range_on_ellipsoid(
                self._center, self._whiten, self._radius2(eps), G[:, i, :] / np.sqrt(n), np.ones(n)
            )
            lo[i], hi[i] = np.sqrt(max(a, 0.0)), np.sqrt(max(b, 0.0))
        return lo, hi

    def global_order(self, eps, X=None) -> PartialOrder:
        """i > j when importance_i > importance_j for every model in R(eps), global importance
        being the root mean square of the attributions over the rows of X (default: the training
        rows, at most 2000 of them); players whose importance can reach 0 are ambiguous. The same
        signature as ForestRashomon.global_order(eps, X=None)."""
        eps = self._eps(eps)
        G = self._importance_maps(X)
        n, P, _ = G.shape
        imp = np.mean((G @ self.theta_) ** 2, axis=0)
        lo, _ = self._importance_bounds(eps, G)
        ambiguous = lo**2 <= 1e-12 * max(float(imp.max()), 1e-300)
        rel = np.zeros((P, P), dtype=bool)
        ones = np.ones(n) / n
        for i in range(P):
            for j in range(P):
                if i == j or ambiguous[i] or ambiguous[j] or imp[i] <= imp[j]:
                    continue
                Pm = np.concatenate([G[:, i, :], G[:, j, :]])
                low, _ = quadratic_range_on_ellipsoid(
                    self._center, self._whiten, self._radius2(eps), Pm, np.concatenate([ones, -ones])
                )
                rel[i, j] = low > 1e-12 * (imp[i] + imp[j])
        return PartialOrder(rel, self.names, ambiguous)
