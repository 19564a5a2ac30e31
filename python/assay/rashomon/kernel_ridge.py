"""Kernel ridge regression (RBF kernel): the Rashomon set is an ellipsoid in the dual weights."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .._memory import check_bytes
from .ellipsoid import EllipsoidRashomon
from .linear import _check_xy, _names

_QUADRATURE = np.polynomial.legendre.leggauss(32)


class KernelRidgeRashomon(EllipsoidRashomon):
    """h(x) = mean(y) + sum_k alpha_k k(x, x_k) with k(a, b) = exp(-gamma ||a - b||^2) on
    standardised features, fitted by minimising L(alpha) = ||y_c - K alpha||^2 / N +
    lam alpha^T K alpha. L is quadratic with Hessian 2 A, A = K (K + lam N I) / N, so
    R(eps) = {alpha : L(alpha) <= L* + eps} is an ellipsoid (eps is on L's scale, which is the
    training MSE plus the penalty).

    Local attributions are integrated gradients from the training mean (32-point Gauss-Legendre
    along the path; linear in alpha). Eigen-directions of K below 1e-10 of its largest eigenvalue
    (duplicate rows) change no prediction and no attribution and are left out.
    """

    def __init__(self, gamma: Optional[float] = None, lam: float = 1e-3):
        if gamma is not None and not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma: expected a positive number or None, got {gamma!r}")
        if not (np.isfinite(lam) and lam > 0):
            raise ValueError(f"lam: expected a positive number, got {lam!r}")
        self.gamma, self.lam = gamma, float(lam)

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None):
        """Fit on X (N, d; a DataFrame's columns are remembered and later frames matched by name)
        and targets y (N,), and set up the ellipsoid R(eps); returns self. feature_names default
        to the columns, else x0, x1, ... ValueError on NaN/inf, constant columns or bad shapes;
        MemoryError when the N x N kernel matrices would not fit (fit a subsample)."""
        X, y, columns = _check_xy(X, y)
        self._column_names = columns
        N, d = X.shape
        check_bytes(4 * 8.0 * N * N, f"X: kernel ridge on {N} rows (N x N kernel matrices)",
                    "fit on a subsample of the rows")
        self.n_features_in_ = d
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        if np.any(self.scale_ == 0):
            raise ValueError(f"X: constant columns {np.flatnonzero(self.scale_ == 0).tolist()}")
        Z = (X - self.mean_) / self.scale_
        self.gamma_ = float(self.gamma) if self.gamma is not None else 1.0 / d
        self._Z, self.y_mean_ = Z, float(y.mean())
        K = self._kernel(Z, Z)
        sk, U = np.linalg.eigh(0.5 * (K + K.T))
        keep = sk > 1e-10 * sk.max()
        U, sk = U[:, keep], sk[keep]
        self._U = U
        yc = y - self.y_mean_
        # alpha = U beta; in beta coordinates K is diagonal: beta = (s + lam N)^-1 U^T y_c
        beta = (U.T @ yc) / (sk + self.lam * N)
        resid = yc - U @ (sk * beta)
        loss = float(resid @ resid / N + self.lam * np.sum(sk * beta ** 2))
        A_beta = np.diag(sk * (sk + self.lam * N) / N)
        return self._set_ellipsoid(beta, A_beta, loss, _names(feature_names, d, columns), X)

    @property
    def dual_coef_(self):
        """The best model's dual weights alpha (N,), one per training row. RuntimeError before fit."""
        self._require_fit()
        return self._U @ self.theta_

    def predict(self, X):
        """The best model's predictions mean(y) + K(X, X_train) alpha for the rows X (n, d) or a
        single row (d,). RuntimeError before fit, ValueError on a wrong width or NaN/inf."""
        Z = (self._rows(X) - self.mean_) / self.scale_
        return self.y_mean_ + self._kernel(Z, self._Z) @ self.dual_coef_

    def _kernel(self, A, B):
        sq = np.sum(A ** 2, 1)[:, None] + np.sum(B ** 2, 1)[None, :] - 2 * A @ B.T
        return np.exp(-self.gamma_ * np.maximum(sq, 0.0))

    def _maps(self, X):
        """Integrated gradients per feature as linear maps of beta: (n, d, rank)."""
        Z = (X - self.mean_) / self.scale_            # baseline: the training mean, 0 here
        t, w = _QUADRATURE
        t, w = 0.5 * (t + 1), 0.5 * w
        n, d = Z.shape
        out = np.zeros((n, d, self._U.shape[1]))
        for r in range(n):
            path = t[:, None] * Z[r][None, :]          # (q, d)
            Kq = self._kernel(path, self._Z)           # (q, N)
            # d/dz_i k(z, x_k) = -2 gamma (z_i - x_ki) k(z, x_k)
            grad = -2 * self.gamma_ * (path[:, None, :] - self._Z[None, :, :]) * Kq[:, :, None]  # (q, N, d)
            ig = Z[r][None, :] * np.einsum("q,qkd->kd", w, grad)    # (N, d): per kernel term
            out[r] = ig.T @ self._U                                  # IG in z equals IG in x
        return out
