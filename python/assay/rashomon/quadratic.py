"""Exact extremes of a quadratic function over a ball (the trust-region subproblem), for bounds of
quadratic quantities (group importances and their differences) over an ellipsoidal Rashomon set.

    min  q(u) = u^T H u + 2 g^T u   subject to  ||u|| <= r,     H symmetric, possibly indefinite.

With H = V diag(lam) V^T and gamma = V^T g, the minimiser is u(mu) = -(H + mu I)^-1 g for the
mu >= max(0, -lam_min) with ||u(mu)|| = r (a scalar, monotone "secular" equation), or the
unconstrained minimiser if H is positive semi-definite and it lies inside the ball. In the "hard
case" gamma has no weight on lam_min's eigenvectors and ||u(-lam_min)|| < r: then mu = -lam_min
and the rest of the radius is spent along an eigenvector of lam_min.
"""

from __future__ import annotations

import numpy as np


def min_quadratic_on_ball(lam, gamma, r: float, extra_dims: int = 0) -> float:
    """Minimum of sum(lam u^2) + 2 sum(gamma u) over ||u|| <= r, in H's eigenbasis.

    extra_dims counts further directions with zero curvature and zero gradient (a low-rank H
    given by its non-zero spectrum): they only matter as a place to spend radius.
    """
    lam = np.asarray(lam, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    if r < 0:
        raise ValueError(f"r: expected a non-negative radius, got {r}")
    if extra_dims > 0:
        lam = np.append(lam, 0.0)
        gamma = np.append(gamma, 0.0)
    if lam.size == 0 or r == 0:
        return 0.0
    scale = max(float(np.max(np.abs(lam))), 1e-300)
    tol = 1e-13 * scale
    lam_min = float(lam.min())
    small = np.abs(gamma) <= 1e-14 * max(float(np.max(np.abs(gamma))), 1e-300)
    # Interior: H positive semi-definite and its (pseudo-inverse) minimiser inside the ball.
    if lam_min >= -tol:
        zero_curv = lam <= tol
        if np.all(small[zero_curv]):
            u = np.where(zero_curv, 0.0, -gamma / np.where(zero_curv, 1.0, lam))
            if np.dot(u, u) <= r * r:
                return float(np.sum(lam * u * u) + 2 * np.dot(gamma, u))

    def norm_sq(mu):
        return float(np.sum((gamma / (lam + mu)) ** 2))

    lo = max(0.0, -lam_min)
    on_min = lam <= lam_min + tol
    if np.all(small[on_min]):
        # Possible hard case: the secular function stays finite at mu = -lam_min.
        rest = ~on_min
        u = np.zeros_like(lam)
        u[rest] = -gamma[rest] / (lam[rest] + lo)
        if np.dot(u, u) <= r * r:
            k = int(np.flatnonzero(on_min)[0])
            u[k] = np.sqrt(r * r - np.dot(u, u))
            return float(np.sum(lam * u * u) + 2 * np.dot(gamma, u))
    # Boundary: ||u(mu)|| = r for mu in (lo, hi); ||u|| decreases in mu. Bisection, then Newton
    # on 1/||u|| - 1/r, which is nearly linear in mu.
    hi = lo + float(np.sqrt(np.sum(gamma**2))) / r + scale
    while norm_sq(hi) > r * r:
        hi = lo + 2 * (hi - lo)
    left = lo
    for _ in range(200):
        mid = 0.5 * (left + hi)
        if mid <= left or mid >= hi:
            break
        if norm_sq(mid) > r * r:
            left = mid
        else:
            hi = mid
    mu = hi
    for _ in range(5):
        w = lam + mu
        if np.any(w <= 0):
            break
        nrm = np.sqrt(norm_sq(mu))
        d_nrm = -np.sum(gamma**2 / w**3) / nrm
        step = (1 / nrm - 1 / r) / (d_nrm / nrm**2)
        if not np.isfinite(step) or mu + step <= lo:
            break
        mu += step
    u = -gamma / (lam + mu)
    return float(np.sum(lam * u * u) + 2 * np.dot(gamma, u))


def quadratic_range_on_ellipsoid(center, whiten, eps: float, P, D):
    """(min, max) of f(w) = (P w)^T diag(D) (P w) over {w : (w - c)^T A (w - c) <= eps}.

    whiten is B with B B^T = A^-1 (so w = c + B u, ||u||^2 <= eps); P (k x p) and D (k,) give
    the form M = P^T diag(D) P, possibly indefinite and of low rank.
    """
    P = np.asarray(P, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    C = P @ whiten  # (k, p): f(c + B u) = (Pc + C u)^T D (Pc + C u)
    pc = P @ center
    const = float(pc @ (D * pc))
    r = float(np.sqrt(max(eps, 0.0)))
    lam, gamma, extra = _spectrum(C, D, pc)
    lo = const + min_quadratic_on_ball(lam, gamma, r, extra)
    hi = const - min_quadratic_on_ball(-lam, -gamma, r, extra)
    return lo, hi


def _spectrum(C, D, pc):
    """Eigenvalues of H = C^T diag(D) C and the gradient g = C^T diag(D) pc in H's eigenbasis,
    through the smaller of the two Gram sides; plus the count of directions outside range(C^T)."""
    k, p = C.shape
    if p <= k:
        H = C.T @ (D[:, None] * C)
        lam, V = np.linalg.eigh(0.5 * (H + H.T))
        return lam, V.T @ (C.T @ (D * pc)), 0
    Q, R = np.linalg.qr(C.T)  # C^T = Q R, Q: (p, k) orthonormal
    S = R @ (D[:, None] * R.T)  # H = Q S Q^T
    lam, W = np.linalg.eigh(0.5 * (S + S.T))
    gamma = W.T @ (R @ (D * pc))  # g = Q R D pc lies in range(Q)
    return lam, gamma, p - k
