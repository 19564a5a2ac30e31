"""Kernel ridge regression (RBF, polynomial or user-supplied kernel): the Rashomon set is an
ellipsoid in the dual weights."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from .._memory import check_bytes
from .ellipsoid import EllipsoidRashomon
from .kernels import Kernel
from .linear import _background_rows, _check_xy, _names

_QUADRATURE = np.polynomial.legendre.leggauss(32)


class KernelRidgeRashomon(EllipsoidRashomon):
    """h(x) = mean(y) + sum_k alpha_k k(x, x_k) on standardised features, fitted by minimising
    L(alpha) = ||y_c - K alpha||^2 / N + lam alpha^T K alpha. L is quadratic with Hessian 2 A,
    A = K (K + lam N I) / N, so R(eps) = {alpha : L(alpha) <= L* + eps} is an ellipsoid (eps is
    on L's scale, which is the training MSE plus the penalty).

    kernel: "rbf" (exp(-gamma ||a - b||^2), the default), "poly" ((gamma a.b + coef0)^degree) or
    a callable k(A, B) -> (nA, nB) on standardised rows, positive semi-definite; with a callable,
    kernel_gradient(A, B) -> (nA, nB, d), the gradient in A's rows, or None for central
    differences. gamma: None for 1 / d. lam: the ridge penalty.

    Local attributions are integrated gradients from a baseline (32-point Gauss-Legendre along
    the path; linear in alpha): the training mean by default, or the background given to fit
    (one row, or several whose integrated gradients are averaged). Eigen-directions of K below
    1e-10 of its largest eigenvalue (duplicate rows) change no prediction and no attribution and
    are left out.
    """

    def __init__(
        self,
        gamma: Optional[float] = None,
        lam: float = 1e-3,
        kernel="rbf",
        degree: int = 3,
        coef0: float = 1.0,
        kernel_gradient: Optional[Callable] = None,
    ):
        if gamma is not None and not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma: expected a positive number or None, got {gamma!r}")
        if not (np.isfinite(lam) and lam > 0):
            raise ValueError(f"lam: expected a positive number, got {lam!r}")
        if not (callable(kernel) or kernel in ("rbf", "poly")):
            raise ValueError(f"kernel: expected 'rbf', 'poly' or a callable k(A, B), got {kernel!r}")
        if not (isinstance(degree, (int, np.integer)) and not isinstance(degree, bool) and degree >= 1):
            raise ValueError(f"degree: expected an int >= 1, got {degree!r}")
        if not (np.isfinite(coef0) and coef0 >= 0):
            raise ValueError(
                f"coef0: expected a number >= 0 (the polynomial kernel is then positive semi-definite), got {coef0!r}"
            )
        if kernel_gradient is not None and not callable(kernel):
            raise ValueError("kernel_gradient: only for a callable kernel (the built-in ones have their own)")
        self.gamma, self.lam, self.kernel = gamma, float(lam), kernel
        self.degree, self.coef0, self.kernel_gradient = int(degree), float(coef0), kernel_gradient

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None, background=None):
        """Fit on X (N, d; a DataFrame's columns are remembered and later frames matched by name)
        and targets y (N,), and set up the ellipsoid R(eps); returns self. feature_names default
        to the columns, else x0, x1, ... background: the baseline of the integrated gradients, a
        row (d,), or rows (k, d) whose attributions are averaged (each adds a full pass), default
        the training mean. ValueError on NaN/inf, constant columns, bad shapes or a kernel that is
        not positive semi-definite; MemoryError when the N x N kernel matrices would not fit (fit
        a subsample)."""
        X, y, columns = _check_xy(X, y)
        self._column_names = columns
        N, d = X.shape
        check_bytes(
            4 * 8.0 * N * N, f"X: kernel ridge on {N} rows (N x N kernel matrices)", "fit on a subsample of the rows"
        )
        self.n_features_in_ = d
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        if np.any(self.scale_ == 0):
            raise ValueError(f"X: constant columns {np.flatnonzero(self.scale_ == 0).tolist()}")
        Z = (X - self.mean_) / self.scale_
        B = _background_rows(background, d, columns)
        self._baselines = np.zeros((1, d)) if B is None else (B - self.mean_) / self.scale_
        self.gamma_ = float(self.gamma) if self.gamma is not None else 1.0 / d
        self._kernel = Kernel(self.kernel, self.gamma_, self.degree, self.coef0, self.kernel_gradient)
        self._Z, self.y_mean_ = Z, float(y.mean())
        self._offset = self.y_mean_
        K = self._kernel(Z, Z)
        sk, U = np.linalg.eigh(0.5 * (K + K.T))
        if sk.min() < -1e-8 * max(sk.max(), 1e-300):
            raise ValueError(
                f"kernel: expected a positive semi-definite kernel, got an eigenvalue {sk.min():.3g} "
                f"on the training rows (largest {sk.max():.3g})"
            )
        keep = sk > 1e-10 * sk.max()
        U, sk = U[:, keep], sk[keep]
        self._U = U
        yc = y - self.y_mean_
        # alpha = U beta; in beta coordinates K is diagonal: beta = (s + lam N)^-1 U^T y_c
        beta = (U.T @ yc) / (sk + self.lam * N)
        resid = yc - U @ (sk * beta)
        loss = float(resid @ resid / N + self.lam * np.sum(sk * beta**2))
        A_beta = np.diag(sk * (sk + self.lam * N) / N)
        return self._set_ellipsoid(beta, A_beta, loss, _names(feature_names, d, columns), X)

    @property
    def dual_coef_(self):
        """The best model's dual weights alpha (N,), one per training row. RuntimeError before fit."""
        self._require_fit()
        return self._U @ self.theta_

    def _predict_maps(self, X):
        return self._kernel((X - self.mean_) / self.scale_, self._Z) @ self._U

    def _maps(self, X):
        """Integrated gradients per feature as linear maps of beta: (n, d, rank), averaged over
        the baselines."""
        Z = (X - self.mean_) / self.scale_
        t, w = _QUADRATURE
        t, w = 0.5 * (t + 1), 0.5 * w
        n, d = Z.shape
        out = np.zeros((n, d, self._U.shape[1]))
        for z0 in self._baselines:
            for r in range(n):
                delta = Z[r] - z0
                path = z0[None, :] + t[:, None] * delta[None, :]  # (q, d)
                grad = self._kernel.gradient(path, self._Z)  # (q, N, d)
                ig = delta[None, :] * np.einsum("q,qkd->kd", w, grad)  # (N, d): per kernel term
                out[r] += ig.T @ self._U  # IG in z equals IG in x
        return out / len(self._baselines)
