"""Kernels for kernel ridge Rashomon sets, each with its gradient in the first argument (what
integrated gradients integrate). Rows are on standardised features."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

_FD_STEP = 1e-5  # central differences for a user kernel without a gradient (features have unit variance)


class Kernel:
    """k(A, B) -> (nA, nB) and its gradient in A's rows, grad(A, B) -> (nA, nB, d).

    name: "rbf" (exp(-gamma ||a - b||^2)), "poly" ((gamma a.b + coef0)^degree) or a callable
    k(A, B) -> (nA, nB); gradient: for a callable, its gradient grad(A, B) -> (nA, nB, d) in A's
    rows, or None for central differences; gamma, degree, coef0: the built-in kernels' parameters."""

    def __init__(self, name, gamma: float, degree: int = 3, coef0: float = 1.0, gradient: Optional[Callable] = None):
        self.name, self.gamma, self.degree, self.coef0 = name, gamma, degree, coef0
        self._gradient = gradient

    def __call__(self, A, B) -> np.ndarray:
        """The kernel matrix (nA, nB) between the rows of A (nA, d) and of B (nB, d)."""
        if self.name == "rbf":
            sq = np.sum(A**2, 1)[:, None] + np.sum(B**2, 1)[None, :] - 2 * A @ B.T
            return np.exp(-self.gamma * np.maximum(sq, 0.0))
        if self.name == "poly":
            return (self.gamma * A @ B.T + self.coef0) ** self.degree
        K = np.asarray(self.name(A, B), dtype=np.float64)
        if K.shape != (len(A), len(B)):
            raise ValueError(
                f"kernel: expected the callable to return a ({len(A)}, {len(B)}) matrix, got shape {K.shape}"
            )
        return K

    def gradient(self, A, B, K=None) -> np.ndarray:
        """(nA, nB, d): d k(a, b) / d a at each pair of rows; K: the kernel matrix if already known."""
        if self.name == "rbf":
            K = self(A, B) if K is None else K
            return -2 * self.gamma * (A[:, None, :] - B[None, :, :]) * K[:, :, None]
        if self.name == "poly":
            inner = (self.gamma * A @ B.T + self.coef0) ** (self.degree - 1)
            return self.degree * self.gamma * inner[:, :, None] * B[None, :, :]
        if self._gradient is not None:
            G = np.asarray(self._gradient(A, B), dtype=np.float64)
            if G.shape != (len(A), len(B), A.shape[1]):
                raise ValueError(f"kernel_gradient: expected shape {(len(A), len(B), A.shape[1])}, got {G.shape}")
            return G
        out = np.empty((len(A), len(B), A.shape[1]))
        for i in range(A.shape[1]):
            step = np.zeros(A.shape[1])
            step[i] = _FD_STEP
            out[:, :, i] = (self(A + step, B) - self(A - step, B)) / (2 * _FD_STEP)
        return out
