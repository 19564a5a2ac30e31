"""Feature-space detectors with one API: fit / partial_fit on in-distribution data, score in
batches (higher = more in-distribution). Inputs are torch tensors or NumPy arrays of floats (any
float dtype); work happens on the input's device, in float64 on the CPU. Scores come back as the
kind of array that came in: NumPy for NumPy, a tensor (on the input's device) for a tensor.
"""

from __future__ import annotations

import numpy as np

from .._memory import check_bytes
from .. import _inputs


def _feats(a, name: str = "feats"):
    """(rows, features) float data: a tensor (NumPy wrapped without a copy), checked."""
    return _inputs.data(a, name, 2)


def _labels(a, n: int, name: str = "labels"):
    y = _inputs.check_rows(_inputs.tensor(a, name, kinds="iu"), name, 1, what="(rows,)")
    if y.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels (one per row of feats), got {y.shape[0]}")
    if int(y.min()) < 0:
        raise ValueError(f"{name}: expected non-negative class indices, got a minimum of {int(y.min())}")
    return y


class Mahalanobis:
    """Class-conditional Gaussians with a shared covariance (Lee et al. 2018):
    score(z) = -min_c (z - mu_c)^T P (z - mu_c), P the pooled within-class precision.
    relative=True gives RMDS (Ren et al. 2021): each class distance minus the distance to one
    class-agnostic Gaussian of all the data. Statistics accumulate exactly over partial_fit calls."""

    def __init__(self, relative: bool = False, ridge: float = 1e-6):
        self.relative = bool(relative)
        self.ridge = float(ridge)
        self._n = None
        self._invalidate()

    def _invalidate(self):
        """New statistics: the precision and its Cholesky factor (Triton path) are stale."""
        self._fitted = False
        self._chol = None

    def partial_fit(self, feats, labels):
        """Add rows feats (n, d) with class indices labels (n,) to the running per-class sums
        (classes may appear in later calls); returns self. ValueError on a feature-count change,
        a label count other than n or a negative label."""
        import torch

        z = _feats(feats).to(torch.float64)
        y = _labels(labels, z.shape[0]).to(z.device)
        C = int(y.max()) + 1
        d = z.shape[1]
        if self._n is None:
            self._n = torch.zeros(0, dtype=torch.float64, device=z.device)
            self._sum = torch.zeros(0, d, dtype=torch.float64, device=z.device)
            self._outer = torch.zeros(d, d, dtype=torch.float64, device=z.device)
        if z.shape[1] != self._sum.shape[1]:
            raise ValueError(f"feats: expected {self._sum.shape[1]} features, got {z.shape[1]}")
        if C > self._n.shape[0]:  # grow the per-class sums
            grow = C - self._n.shape[0]
            self._n = torch.cat([self._n, self._n.new_zeros(grow)])
            self._sum = torch.cat([self._sum, self._sum.new_zeros(grow, d)])
        onehot = torch.nn.functional.one_hot(y.long(), self._n.shape[0]).to(torch.float64)
        self._n += onehot.sum(0)
        self._sum += onehot.T @ z
        self._outer += z.T @ z
        self._invalidate()
        return self

    def fit(self, feats, labels):
        """Forget earlier statistics and fit on feats (n, d) with class indices labels (n,);
        returns self."""
        self._n = None
        self._invalidate()
        return self.partial_fit(feats, labels)

    def _finalise(self):
        import torch

        if self._n is None or float(self._n.sum()) < 2:
            raise RuntimeError("Mahalanobis is not fitted: call fit(feats, labels) with at least 2 rows")
        if self._fitted:
            return
        present = self._n > 0
        n = self._n.sum()
        self.means_ = self._sum[present] / self._n[present, None]
        within = self._outer - (self.means_.T * self._n[present]) @ self.means_  # sum_c sum_i (z-mu_c)(z-mu_c)^T
        cov = within / n
        d = cov.shape[0]
        eye = torch.eye(d, dtype=cov.dtype, device=cov.device)
        scale = float(torch.trace(cov)) / d or 1.0
        self.precision_ = torch.linalg.inv(cov + self.ridge * scale * eye)
        mu0 = self._sum.sum(0) / n
        cov0 = self._outer / n - torch.outer(mu0, mu0)
        self.mean0_, self.precision0_ = mu0, torch.linalg.inv(cov0 + self.ridge * scale * eye)
        self._fitted = True

    def _distances(self, z):
        P, M = self.precision_, self.means_
        zP = z @ P
        return (zP * z).sum(1, keepdim=True) - 2 * zP @ M.T + ((M @ P) * M).sum(1)[None, :]

    def score(self, feats, batch: int = 4096, backend: str = "auto"):
        """Scores (n,) of feats (n, d), higher = more in-distribution, computed `batch` rows at a time.
        backend: "auto" (the fused Triton GEMM + row-min kernel for CUDA inputs, float32; torch
        float64 elsewhere), "torch", or "triton" (forced, e.g. under TRITON_INTERPRET=1)."""
        import torch

        self._finalise()
        z_all = _feats(feats)
        if z_all.shape[1] != self.means_.shape[1]:
            raise ValueError(f"feats: expected {self.means_.shape[1]} features, got {z_all.shape[1]}")
        if backend not in ("auto", "torch", "triton"):
            raise ValueError(f"backend: expected 'auto', 'torch' or 'triton', got {backend!r}")
        numpy_out = not _inputs.is_torch(feats)
        if backend == "triton" or (backend == "auto" and z_all.is_cuda):
            return _inputs.as_output(self._score_triton(z_all), numpy_out)
        out = []
        for i in range(0, z_all.shape[0], batch):
            z = z_all[i : i + batch].to(torch.float64).to(self.means_.device)
            d = self._distances(z)
            if self.relative:
                zc = z - self.mean0_
                d = d - ((zc @ self.precision0_) * zc).sum(1, keepdim=True)
            out.append(-d.min(dim=1).values)
        return _inputs.as_output(torch.cat(out).to(z_all.device), numpy_out)

    def _score_triton(self, z_all):
        import torch
        from ._mahalanobis_triton import min_class_distance

        if self._chol is None:  # dropped by every fit / partial_fit (_invalidate)
            self._chol = torch.linalg.cholesky(0.5 * (self.precision_ + self.precision_.T))
        L = self._chol.to(z_all.device)
        z = z_all.to(torch.float64).to(L.device)
        d = min_class_distance(z @ L, self.means_.to(L.device) @ L).to(torch.float64)
        if self.relative:
            zc = z - self.mean0_.to(L.device)
            d = d - ((zc @ self.precision0_.to(L.device)) * zc).sum(1)
        return (-d).to(z_all.device)


class KNN:
    """Deep nearest neighbours (Sun et al. 2022): score(z) = -|| z/|z| - its k-th nearest
    normalised training feature || (normalise=False: plain Euclidean, float64). The bank is
    searched in chunks with a running top-k, so memory is O(batch x (k + chunk)), never
    batch x bank."""

    def __init__(self, k: int = 50, chunk: int = 16384, normalise: bool = True):
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ValueError(f"k: expected an int >= 1, got {k!r}")
        if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
            raise ValueError(f"chunk: expected an int >= 1, got {chunk!r}")
        self.k, self.chunk, self.normalise = int(k), int(chunk), bool(normalise)
        self.bank_ = None

    @property
    def _dtype(self):
        import torch

        return torch.float32 if self.normalise else torch.float64

    def _normalise(self, z):
        import torch

        if not self.normalise:
            return z
        return z / torch.linalg.vector_norm(z, dim=1, keepdim=True).clamp_min(1e-12)

    def partial_fit(self, feats):
        """Append the rows feats (n, d) (normalised unless normalise=False) to the neighbour bank;
        returns self. ValueError when d differs from the bank's."""
        import torch

        z = self._normalise(_feats(feats).to(self._dtype))
        if self.bank_ is not None and z.shape[1] != self.bank_.shape[1]:
            raise ValueError(f"feats: expected {self.bank_.shape[1]} features, got {z.shape[1]}")
        self.bank_ = z if self.bank_ is None else torch.cat([self.bank_, z.to(self.bank_.device)])
        return self

    def fit(self, feats):
        """Replace the neighbour bank by the rows feats (n, d); returns self."""
        self.bank_ = None
        return self.partial_fit(feats)

    def score(self, feats, batch: int = 1024, backend: str = "auto"):
        """Scores (n,) of feats (n, d): minus the distance to the k-th nearest bank row (k capped
        at the bank size), higher = more in-distribution, `batch` rows at a time.
        backend: "auto" (the fused Triton GEMM + streaming top-k kernel for CUDA inputs and
        k <= 256, float32; torch elsewhere), "torch", or "triton" (forced)."""
        import torch

        if self.bank_ is None:
            raise RuntimeError("KNN is not fitted: call fit(feats) first")
        z_all = _feats(feats)
        numpy_out = not _inputs.is_torch(feats)
        if z_all.shape[1] != self.bank_.shape[1]:
            raise ValueError(f"feats: expected {self.bank_.shape[1]} features, got {z_all.shape[1]}")
        if backend not in ("auto", "torch", "triton"):
            raise ValueError(f"backend: expected 'auto', 'torch' or 'triton', got {backend!r}")
        k = min(self.k, self.bank_.shape[0])
        if backend == "triton" and k > 256:
            raise ValueError(f"backend='triton': supports k <= 256, got {k}")
        if backend == "triton" or (backend == "auto" and z_all.is_cuda and k <= 256):
            return _inputs.as_output(self._score_triton(z_all, k), numpy_out)
        check_bytes(4.0 * batch * (k + self.chunk), "KNN scoring scratch", "use a smaller batch or chunk")
        out = []
        for i in range(0, z_all.shape[0], batch):
            z = self._normalise(z_all[i : i + batch].to(self._dtype).to(self.bank_.device))
            best = torch.full((z.shape[0], k), -float("inf"), device=z.device, dtype=z.dtype)
            zz = (z * z).sum(1, keepdim=True)
            for j in range(0, self.bank_.shape[0], self.chunk):
                part = self.bank_[j : j + self.chunk]
                # unit vectors: cosine (larger is nearer); else minus the squared distance
                sims = z @ part.T if self.normalise else 2 * z @ part.T - zz - (part * part).sum(1)[None, :]
                chunk_best = torch.topk(sims, min(k, sims.shape[1]), dim=1).values
                best = torch.topk(torch.cat([best, chunk_best], dim=1), k, dim=1).values
            sq = 2 - 2 * best[:, -1].clamp(-1.0, 1.0) if self.normalise else -best[:, -1]
            out.append(-torch.sqrt(torch.clamp(sq, min=0.0)))
        return _inputs.as_output(torch.cat(out).to(z_all.device), numpy_out)

    def _score_triton(self, z_all, k: int):
        import torch
        from ._knn_triton import kth_distance, kth_similarity

        z = self._normalise(z_all.to(self.bank_.device))
        if self.normalise:
            kth = kth_similarity(z, self.bank_, k).clamp(-1.0, 1.0)
            return (-torch.sqrt(torch.clamp(2 - 2 * kth, min=0.0))).to(z_all.device)
        return (-kth_distance(z, self.bank_, k)).to(z_all.dtype).to(z_all.device)
