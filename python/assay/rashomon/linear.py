"""Least-squares linear and additive (spline) models: their Rashomon sets are exact ellipsoids."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .._inputs import align_columns, is_dataframe
from .ellipsoid import EllipsoidRashomon


def _check_xy(X, y):
    """(X, y) as float64 arrays, and X's column names when it is a DataFrame (else None): later
    frames are matched to them by name."""
    columns = list(map(str, X.columns)) if is_dataframe(X) else None
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X: expected a 2-D array with at least 2 rows, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y: expected {X.shape[0]} targets, got shape {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X, y: contain NaN or inf")
    return X, y, columns


def _background_rows(background, d, columns=None):
    """The attributions' background as a (k, d) float array (a single row (d,) is one row), or
    None when not given; a DataFrame is matched by name to the fitted frame's columns."""
    if background is None:
        return None
    B = np.asarray(align_columns(background, columns, "background"), dtype=np.float64)
    B = B.reshape(1, -1) if B.ndim == 1 else B
    if B.ndim != 2 or B.shape[1] != d or B.shape[0] == 0:
        raise ValueError(f"background: expected a row ({d},) or rows (k, {d}) with k >= 1, got shape {B.shape}")
    if not np.all(np.isfinite(B)):
        raise ValueError("background: contains NaN or inf")
    return B


def _names(names, d, columns=None):
    """feature_names if given, else the fitted frame's columns, else x0, x1, ..."""
    names = names if names is not None else columns
    names = [f"x{i}" for i in range(d)] if names is None else [str(s) for s in names]
    if len(names) != d:
        raise ValueError(f"feature_names: expected {d} names, got {len(names)}")
    return names


class LinearRashomon(EllipsoidRashomon):
    """Ordinary least squares on standardised features: theta = (intercept, w). The local
    attribution of feature i is phi_i(x) = w_i (x_i - b_i) / std_i (in the units of y), b the
    baseline: the mean of the background rows given to fit (interventional SHAP against them),
    by default the training mean; the global importance is then |w_i| times the spread of the
    feature around b. R(eps) = {theta : MSE(theta) <= MSE* + eps}.
    """

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None, background=None):
        """Fit least squares on X (N, d; a DataFrame's columns are remembered and later frames
        matched by name) and y (N,), and set up the ellipsoid R(eps); returns self. feature_names
        default to the columns, else x0, x1, ... background: the attributions' baseline, a row
        (d,) or rows (k, d) whose mean is taken (default: the training mean). ValueError on
        NaN/inf, constant or collinear columns, or bad shapes."""
        X, y, columns = _check_xy(X, y)
        self._column_names = columns
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        if np.any(self.scale_ == 0):
            raise ValueError(f"X: constant columns {np.flatnonzero(self.scale_ == 0).tolist()}")
        B = _background_rows(background, X.shape[1], columns)
        self.baseline_ = self.mean_ if B is None else B.mean(axis=0)
        D = self._predict_maps(X)
        theta, *_ = np.linalg.lstsq(D, y, rcond=None)
        mse = float(np.mean((y - D @ theta) ** 2))
        return self._set_ellipsoid(theta, D.T @ D / len(X), mse, _names(feature_names, X.shape[1], columns), X)

    @property
    def coef_(self):
        """Coefficients on the original feature scale."""
        self._require_fit()
        return self.theta_[1:] / self.scale_

    def coef_bounds(self, eps):
        """(lo, hi): extremes of each original-scale coefficient over R(eps)."""
        eps = self._eps(eps)
        d = self.n_features_in_
        G = np.zeros((d, d + 1))
        G[np.arange(d), np.arange(1, d + 1)] = 1.0 / self.scale_
        half = np.sqrt(eps * np.sum((G @ self._whiten) ** 2, axis=1))
        return G @ self.theta_ - half, G @ self.theta_ + half

    def _predict_maps(self, X):
        return np.column_stack([np.ones(len(X)), (X - self.mean_) / self.scale_])

    def _maps(self, X):
        n, d = X.shape
        G = np.zeros((n, d, d + 1))
        G[:, np.arange(d), np.arange(1, d + 1)] = (X - self.baseline_) / self.scale_
        return G


class AdditiveRashomon(EllipsoidRashomon):
    """Least squares on a spline basis per feature (scikit-learn's SplineTransformer, centred and
    orthonormalised per feature, so the design has full rank): h(x) = b + sum_i f_i(x_i). A
    feature's basis is one group: its local attribution is f_i(x_i) - mean f_i, the mean over the
    background rows given to fit (interventional SHAP against them; default: the training rows),
    its global importance the root mean square of that attribution over the training data (with
    the default background, the standard deviation of f_i; a quadratic form: bounds and orders
    are exact quadratic extremes over the ellipsoid).
    """

    def __init__(self, n_knots: int = 5, degree: int = 3):
        if not (isinstance(n_knots, (int, np.integer)) and n_knots >= 2):
            raise ValueError(f"n_knots: expected an int >= 2, got {n_knots!r}")
        if not (isinstance(degree, (int, np.integer)) and degree >= 0):
            raise ValueError(f"degree: expected an int >= 0, got {degree!r}")
        self.n_knots, self.degree = int(n_knots), int(degree)

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None, background=None):
        """Fit least squares on the per-feature spline bases of X (N, d; a DataFrame's columns are
        remembered and later frames matched by name) and y (N,), and set up the ellipsoid R(eps);
        returns self. feature_names default to the columns, else x0, x1, ... background: the
        attributions' background, a row (d,) or rows (k, d) (default: the training rows).
        ValueError on NaN/inf, a constant column or bad shapes."""
        from sklearn.preprocessing import SplineTransformer

        X, y, columns = _check_xy(X, y)
        self._column_names = columns
        d = X.shape[1]
        self.n_features_in_ = d
        self._splines, self._bases, self._centers, slices, start = [], [], [], [], 1
        for i in range(d):
            spline = SplineTransformer(n_knots=self.n_knots, degree=self.degree, include_bias=True).fit(X[:, [i]])
            B = spline.transform(X[:, [i]])
            center = B.mean(axis=0)
            _, sv, Vt = np.linalg.svd(B - center, full_matrices=False)
            keep = sv > 1e-8 * max(sv.max(), 1e-300)
            if not keep.any():
                raise ValueError(f"X: column {i} is constant")
            basis = Vt[keep].T / sv[keep] * np.sqrt(len(X))  # centred columns with unit variance
            self._splines.append(spline)
            self._centers.append(center)
            self._bases.append(basis)
            slices.append(slice(start, start + basis.shape[1]))
            start += basis.shape[1]
        self._slices = slices
        self.n_params_ = start
        B = _background_rows(background, d, columns)
        # f_i's attribution baseline: its mean over the background (the centring: over the training rows)
        self._map_centers = (
            self._centers if B is None else [s.transform(B[:, [i]]).mean(axis=0) for i, s in enumerate(self._splines)]
        )
        D = self._predict_maps(X)
        theta, *_ = np.linalg.lstsq(D, y, rcond=None)
        mse = float(np.mean((y - D @ theta) ** 2))
        return self._set_ellipsoid(theta, D.T @ D / len(X), mse, _names(feature_names, d, columns), X)

    def _basis(self, X, i, centers):
        """Feature i's basis functions at the rows X, less `centers`[i], in orthonormal coordinates."""
        return (self._splines[i].transform(X[:, [i]]) - centers[i]) @ self._bases[i]

    def _predict_maps(self, X):
        return np.column_stack([np.ones(len(X))] + [self._basis(X, i, self._centers) for i in range(X.shape[1])])

    def _maps(self, X):
        n, d = X.shape
        G = np.zeros((n, d, self.n_params_))
        for i in range(d):
            G[:, i, self._slices[i]] = self._basis(X, i, self._map_centers)
        return G
