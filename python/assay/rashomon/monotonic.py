"""Monotone additive models: piecewise-linear shape functions with sign constraints on their slopes.

h(x) = b + sum_i f_i(x_i), f_i linear between knots (flat outside them) with slope a_ij on segment
j; "feature i increases h" is a_ij >= 0 for every j (decreasing: <= 0). The loss is quadratic, so
R(eps) = {theta : MSE(theta) <= MSE* + eps, the slope signs hold}, MSE* the best constrained
model's, is an ellipsoid (centred at the unconstrained least-squares fit) cut by a polyhedral cone:
convex, but not an ellipsoid. Linear quantities (predictions, attributions, partial dependence,
the differences behind local orders) are bounded exactly through the dual of that convex problem:

    min g^T theta over the set  =  max over lambda >= 0 of  (g - C^T lam)^T c - r ||B^T (g - C^T lam)||

(C the sign constraints, c and r the ellipsoid's centre and radius, B B^T = A^-1). Any lambda >= 0
gives a valid lower bound (weak duality), so a bound is never too tight even before the solver has
converged. Global importance is quadratic: its bounds use the enclosing ellipsoid alone (sound,
looser than the set allows).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .ellipsoid import EllipsoidRashomon
from .linear import _background_rows, _check_xy, _names


def _dual_minimum(g, center, whiten, r2: float, signs, constrained) -> float:
    """A lower bound on min g^T theta over {(theta - center)^T A (theta - center) <= r2, signs *
    theta[constrained] >= 0}, equal to the minimum once the dual is solved."""
    from scipy.optimize import minimize

    r = np.sqrt(max(r2, 0.0))

    def negative_dual(lam):
        h = g.copy()
        h[constrained] -= signs * lam
        w = whiten.T @ h
        norm = np.sqrt(w @ w)
        theta = center - (r / norm) * (whiten @ w) if norm > 0 else center
        return -(h @ center - r * norm), signs * theta[constrained]  # value and gradient of -d

    start = np.zeros(len(constrained))
    res = minimize(
        negative_dual,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * len(start),
        options={"maxiter": 500, "ftol": 1e-15, "gtol": 1e-12},
    )
    return float(-min(res.fun, negative_dual(start)[0]))


class MonotonicRashomon(EllipsoidRashomon):
    """MonotonicRashomon(monotonicity, n_knots=5, knots=None): monotone additive models, each
    feature's shape piecewise linear between knots. monotonicity: per feature +1 (f_i
    non-decreasing), -1 (non-increasing) or 0 (free); n_knots: knots per feature at the training
    quantiles (>= 2, repeated quantiles merged); knots: per feature an increasing sequence of knots
    instead. theta = (b, slopes); a feature's local attribution is f_i(x_i) minus its mean over the
    background given to fit (default: the training rows); its global importance the root mean
    square of that attribution over the training rows. R(eps) = {theta : MSE(theta) <= MSE* + eps,
    the monotonicity holds}, MSE* the best monotone model's. critical_epsilons is not available
    (the set is not an ellipsoid)."""

    def __init__(self, monotonicity: Sequence[int], n_knots: int = 5, knots: Optional[Sequence] = None):
        mono = np.asarray(monotonicity)
        if mono.ndim != 1 or mono.size == 0 or not np.all(np.isin(mono, (-1, 0, 1))):
            raise ValueError(f"monotonicity: expected a sequence of +1, -1 or 0 per feature, got {monotonicity!r}")
        if not (isinstance(n_knots, (int, np.integer)) and not isinstance(n_knots, bool) and n_knots >= 2):
            raise ValueError(f"n_knots: expected an int >= 2, got {n_knots!r}")
        if knots is not None and len(knots) != mono.size:
            raise ValueError(f"knots: expected one sequence per feature ({mono.size}), got {len(knots)}")
        self.monotonicity, self.n_knots, self.knots = mono.astype(int), int(n_knots), knots

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None, background=None):
        """Fit the best monotone model on X (N, d; a DataFrame's columns are remembered and later
        frames matched by name) and y (N,) by bounded least squares, and set up R(eps); returns
        self. feature_names default to the columns, else x0, x1, ... background: the attributions'
        background, a row (d,) or rows (k, d) (default: the training rows). ValueError on NaN/inf,
        bad shapes, a width other than len(monotonicity), bad knots or a segment without data."""
        from scipy.optimize import lsq_linear

        X, y, columns = _check_xy(X, y)
        d = X.shape[1]
        if d != self.monotonicity.size:
            raise ValueError(f"X: expected {self.monotonicity.size} features (one per monotonicity entry), got {d}")
        self._column_names = columns
        self.n_features_in_ = d
        self.knots_ = [self._knots(X[:, i], i) for i in range(d)]
        sizes = [len(k) - 1 for k in self.knots_]
        self._slices = list(np.split(np.arange(1, 1 + sum(sizes)), np.cumsum(sizes)[:-1]))
        self._means = [self._ramps(X, i).mean(axis=0) for i in range(d)]
        B = _background_rows(background, d, columns)
        self._map_means = self._means if B is None else [self._ramps(B, i).mean(axis=0) for i in range(d)]
        D = self._predict_maps(X)
        signs = np.concatenate([np.full(s, self.monotonicity[i], float) for i, s in enumerate(sizes)])
        self._constrained = 1 + np.flatnonzero(signs != 0)  # slope positions in theta (after b)
        self._signs = signs[signs != 0]
        ols, *_ = np.linalg.lstsq(D, y, rcond=None)
        lower = np.full(D.shape[1], -np.inf)
        upper = np.full(D.shape[1], np.inf)
        lower[self._constrained[self._signs > 0]] = 0.0
        upper[self._constrained[self._signs < 0]] = 0.0
        best = lsq_linear(D, y, bounds=(lower, upper), method="bvls", tol=1e-12).x
        best = np.clip(best, lower, upper)
        ols_mse, best_mse = (float(np.mean((D @ t - y) ** 2)) for t in (ols, best))
        self._set_ellipsoid(ols, D.T @ D / len(X), ols_mse, _names(feature_names, d, columns), X)
        self._ols, self._ols_loss = self.theta_, ols_mse
        self.theta_, self.loss_ = best, max(best_mse, ols_mse)  # the best monotone model
        return self

    def _knots(self, column, i):
        k = (
            np.unique(np.quantile(column, np.linspace(0, 1, self.n_knots)))
            if self.knots is None
            else np.asarray(self.knots[i], dtype=np.float64)
        )
        if k.ndim != 1 or k.size < 2 or not np.all(np.diff(k) > 0) or not np.all(np.isfinite(k)):
            raise ValueError(f"knots: feature {i} needs at least 2 increasing finite knots, got {k.tolist()}")
        return k

    def _ramps(self, X, i):
        """(n, segments): how far x_i runs along each segment of feature i (the slopes' coefficients)."""
        k = self.knots_[i]
        return np.clip(X[:, [i]] - k[:-1], 0.0, np.diff(k))

    def _predict_maps(self, X):
        return np.column_stack([np.ones(len(X))] + [self._ramps(X, i) - self._means[i] for i in range(X.shape[1])])

    def _maps(self, X):
        n, d = X.shape
        G = np.zeros((n, d, self.theta_.size))
        for i in range(d):
            G[:, i, self._slices[i]] = self._ramps(X, i) - self._map_means[i]
        return G

    @property
    def _center(self):
        return self._ols

    def _radius2(self, eps: float) -> float:
        return self.loss_ - self._ols_loss + eps

    def _linear_range(self, G, eps: float):
        """(lo, hi): extremes of the linear functions G (..., p) over R(eps), ellipsoid and cone."""
        if self._constrained.size == 0:  # no sign constraint: the ellipsoid itself
            return super()._linear_range(G, eps)
        flat = np.asarray(G, dtype=np.float64).reshape(-1, self.theta_.size)
        r2 = self._radius2(eps)
        args = (self._ols, self._whiten, r2, self._signs, self._constrained)
        lo = np.array([_dual_minimum(g, *args) for g in flat])
        hi = np.array([-_dual_minimum(-g, *args) for g in flat])
        # the best model is in the set: its value bounds the extremes from inside
        at_best = flat @ self.theta_
        return np.minimum(lo, at_best).reshape(G.shape[:-1]), np.maximum(hi, at_best).reshape(G.shape[:-1])

    def _local_parts_of(self, G):
        return G

    def _orders(self, G, eps: float) -> list:
        """Local orders from the maps G (n, P, p): signs and pairwise differences bounded over R(eps)."""
        from .partial_order import PartialOrder

        lo, hi = self._linear_range(G, eps)
        ambiguous = (lo <= 0) & (hi >= 0)
        sign = np.sign(lo + hi)
        out = []
        for r in range(G.shape[0]):
            signed = sign[r][:, None] * G[r]  # s_i g_i
            rel = np.zeros((G.shape[1],) * 2, dtype=bool)
            for i in np.flatnonzero(~ambiguous[r]):
                for j in np.flatnonzero(~ambiguous[r]):
                    if i != j and signed[i] @ self.theta_ > signed[j] @ self.theta_:
                        rel[i, j] = self._linear_range(signed[i] - signed[j], eps)[0] > 0
            out.append(PartialOrder(rel, self.names, ambiguous[r]))
        return out

    def critical_epsilons(self, x) -> dict:
        """Not available: the set is an ellipsoid cut by the monotonicity constraints (x: ignored)."""
        raise NotImplementedError(
            "critical_epsilons: MonotonicRashomon's set is not an ellipsoid; use "
            "local_order at the tolerances of interest"
        )
