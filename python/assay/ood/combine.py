"""Combining several detectors' scores into one (Novello et al. 2024), fitted on in-distribution
calibration scores only (n, k), one column per detector, each "higher = more in-distribution":

- "vote": how many detectors keep the row above their own ID quantile `alpha` (ties broken by the
  mean p-value, so the score is graded).
- "fisher": per-detector empirical p-values p_j = (1 + #{calibration <= s_j}) / (n + 1), joined by
  Fisher's method: score = sum_j log p_j (= -chi2 / 2; higher = more ID).
- "copula": the marginal ranks joined by a Gaussian copula fitted to the calibration normal
  scores; score = log P(an ID row is at or below this row in every detector), the joint lower tail
  (scipy's multivariate normal CDF: about a millisecond per row).
- "center_outward": Monge-Kantorovich ranks (Hallin et al.): the standardised calibration vectors
  are matched by optimal transport (POT) to a grid on the unit ball; a new vector's rank is the
  reference point u_j maximising <u_j, s> + g_j (g the transport dual), and the score is
  -||rank|| (the centre of the ID cloud is most in-distribution).
The combined score is a detector like any other: metrics.evaluate sweeps its level. score()
returns NumPy for NumPy input and a float64 tensor (on the input's device) for a tensor.
"""

from __future__ import annotations

import numpy as np

from .. import _inputs

METHODS = ("vote", "fisher", "copula", "center_outward")


def _matrix(S, name, k=None):
    """float64 host copy; the combinations run in NumPy / SciPy / POT (CUDA tensors are copied)."""
    S = _inputs.host_array(S, name, kinds="fiu", cuda="copy").astype(np.float64)
    if S.ndim != 2 or S.shape[0] == 0:
        raise ValueError(f"{name}: expected a (rows, detectors) matrix with at least one row, got shape {S.shape}")
    if k is not None and S.shape[1] != k:
        raise ValueError(f"{name}: expected {k} detector columns, got {S.shape[1]}")
    if not np.all(np.isfinite(S)):
        raise ValueError(f"{name}: contains NaN or inf")
    return S


class Combine:
    """Joins k detectors' scores into one ID score (higher = more in-distribution).

    method: "vote", "fisher" (default), "copula" or "center_outward" (defined in the module
    docstring); alpha: the per-detector ID quantile "vote" counts against, in (0, 1);
    n_reference, seed: the size and seed of the "center_outward" reference grid. ValueError on a
    bad method or alpha. fit(S_calib) on ID calibration scores (n, k), then score(S).
    """

    def __init__(self, method: str = "fisher", alpha: float = 0.05, n_reference: int = 2000, seed: int = 0):
        if method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha: expected a value in (0, 1), got {alpha!r}")
        self.method, self.alpha, self.n_reference, self.seed = method, float(alpha), int(n_reference), seed

    def fit(self, S_calib):
        """Fit on in-distribution calibration scores S_calib (n >= 2 rows, k detector columns,
        finite, each higher = more ID); returns self. ValueError on a bad matrix."""
        S = _matrix(S_calib, "S_calib")
        if S.shape[0] < 2:
            raise ValueError("S_calib: expected at least 2 calibration rows")
        self.k_ = S.shape[1]
        self.sorted_ = np.sort(S, axis=0)
        if self.method == "copula":
            from scipy.stats import norm

            z = norm.ppf(self._ranks(S))
            R = np.corrcoef(z.T) if self.k_ > 1 else np.ones((1, 1))
            self.corr_ = R + 1e-9 * np.eye(self.k_)
        if self.method == "center_outward":
            self._fit_center_outward(S)
        return self

    def _pvalues(self, S):
        n = self.sorted_.shape[0]
        counts = np.stack([np.searchsorted(self.sorted_[:, j], S[:, j], side="right") for j in range(self.k_)], 1)
        return (1.0 + counts) / (n + 1.0)

    def _ranks(self, S):
        """Marginal ranks strictly inside (0, 1), for the normal scores of the copula."""
        n = self.sorted_.shape[0]
        counts = np.stack([np.searchsorted(self.sorted_[:, j], S[:, j], side="right") for j in range(self.k_)], 1)
        return (0.5 + counts) / (n + 1.0)

    def _fit_center_outward(self, S):
        import ot

        rng = np.random.default_rng(self.seed)
        idx = rng.choice(len(S), min(len(S), self.n_reference), replace=False)
        X = S[idx]
        self.center_, self.spread_ = np.median(S, axis=0), S.std(axis=0) + 1e-12
        X = (X - self.center_) / self.spread_
        m = len(X)
        dirs = rng.normal(size=(m, self.k_))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        radii = (np.arange(m) + 0.5) / m  # uniform radii: center-outward ranks
        U = dirs * rng.permutation(radii)[:, None]
        cost = -X @ U.T
        _, log = ot.emd(np.full(m, 1.0 / m), np.full(m, 1.0 / m), cost, log=True)
        self.reference_, self.dual_ = U, np.asarray(log["v"])

    def score(self, S):
        """The combined score (n,) of S (n, k columns in the calibration order): NumPy for NumPy
        input, a float64 tensor on the input's device for a tensor. RuntimeError before fit."""
        if not hasattr(self, "k_"):
            raise RuntimeError("Combine is not fitted: call fit(S_calib) with ID calibration scores first")
        out = self._score(_matrix(S, "S", self.k_))
        if _inputs.is_torch(S):
            import torch

            return torch.from_numpy(np.ascontiguousarray(out)).to(S.device)
        return out

    def _score(self, S):
        if self.method == "vote":
            p = self._pvalues(S)
            return (p > self.alpha).sum(1) + p.mean(1)
        if self.method == "fisher":
            return np.log(self._pvalues(S)).sum(1)
        if self.method == "copula":
            from scipy.stats import multivariate_normal, norm

            z = norm.ppf(self._ranks(S))
            cdf = multivariate_normal(mean=np.zeros(self.k_), cov=self.corr_, allow_singular=True).cdf(z)
            return np.log(np.clip(np.atleast_1d(cdf), 1e-300, 1.0))
        X = (S - self.center_) / self.spread_
        j = np.argmax(X @ self.reference_.T + self.dual_[None, :], axis=1)
        return -np.linalg.norm(self.reference_[j], axis=1)
