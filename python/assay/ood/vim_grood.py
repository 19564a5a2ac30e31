"""Detectors that use the classifier head (W, b) as well as the features: ViM and GROOD. Scores
come back as the kind of array that came in (NumPy for NumPy, a tensor for a tensor)."""

from __future__ import annotations

from .. import _inputs
from .detectors import KNN, _feats, _labels


def _head(head, d):
    import torch

    if not (isinstance(head, (tuple, list)) and len(head) == 2):
        raise TypeError("head: expected a pair (W, b) with W (classes, features) and b (classes,)")
    W = _inputs.data(head[0], "head W", 2, what="(classes, features)").to(torch.float64)
    b = _inputs.data(head[1], "head b", 1, what="(classes,)").to(torch.float64)
    if W.shape[1] != d or b.shape[0] != W.shape[0]:
        raise ValueError(
            f"head: expected W ({W.shape[0]}, {d}) and b ({W.shape[0]},), got {tuple(W.shape)}, {tuple(b.shape)}"
        )
    return W, b


class ViM:
    """Virtual-logit matching (Wang et al. 2022): origin u = -pinv(W) b; principal subspace of the
    centred ID features (dimension `dim`); score = logsumexp(logits) - alpha * ||(z - u) R||, R the
    residual directions, alpha = mean max-logit / mean residual norm on the ID data."""

    def __init__(self, dim: int = None):
        self.dim = dim

    def fit(self, feats_id, head):
        """Fit on in-distribution features feats_id (n, d) and the classifier head (W, b), W
        (classes, d) and b (classes,): the origin u, the residual directions R and alpha; returns
        self. dim defaults to d // 2; ValueError unless 1 <= dim < d, TypeError for a bad head."""
        import torch

        z = _feats(feats_id, "feats_id").to(torch.float64)
        self.W_, self.b_ = _head(head, z.shape[1])
        d = z.shape[1]
        dim = self.dim if self.dim is not None else max(1, d // 2)
        if not 1 <= dim < d:
            raise ValueError(f"dim: expected 1 <= dim < {d}, got {dim}")
        self.u_ = -(torch.linalg.pinv(self.W_) @ self.b_)
        zc = z - self.u_
        _, vecs = torch.linalg.eigh(zc.T @ zc / len(z))
        self.R_ = vecs[:, : d - dim]  # eigh is ascending: the smallest d - dim directions
        resid = torch.linalg.vector_norm(zc @ self.R_, dim=1)
        logits = z @ self.W_.T + self.b_
        self.alpha_ = float(logits.max(1).values.mean() / resid.mean().clamp_min(1e-12))
        return self

    def score(self, feats, backend: str = "auto"):
        """ViM scores (n,) of feats (n, d), higher = more in-distribution.
        backend: "auto" (one fused Triton kernel for CUDA inputs, float32; torch float64
        elsewhere), "torch", or "triton" (forced, e.g. under TRITON_INTERPRET=1)."""
        import torch

        if not hasattr(self, "R_"):
            raise RuntimeError("ViM is not fitted: call fit(feats_id, head=(W, b)) first")
        if backend not in ("auto", "torch", "triton"):
            raise ValueError(f"backend: expected 'auto', 'torch' or 'triton', got {backend!r}")
        raw = _feats(feats)
        numpy_out = not _inputs.is_torch(feats)
        if raw.shape[1] != self.W_.shape[1]:
            raise ValueError(f"feats: expected {self.W_.shape[1]} features, got {raw.shape[1]}")
        if backend == "triton" or (backend == "auto" and raw.is_cuda):
            from ._vim_triton import vim_scores

            dev = raw.device
            out = vim_scores(raw, self.W_.to(dev), self.b_.to(dev), self.u_.to(dev), self.R_.to(dev), self.alpha_)
            return _inputs.as_output(out.to(raw.dtype), numpy_out)
        z = raw.to(torch.float64)
        logits = z @ self.W_.T + self.b_
        resid = torch.linalg.vector_norm((z - self.u_) @ self.R_, dim=1)
        return _inputs.as_output(torch.logsumexp(logits, dim=1) - self.alpha_ * resid, numpy_out)


class GROOD:
    """GROOD (ElAraby et al. 2023): class prototypes p_c (mean ID features) and an OOD prototype p_o
    (the mean of the class prototypes, or given); logits s_j = -||z - p_j|| over classes and o; the
    gradient of the cross-entropy at the predicted class with respect to p_o is
    softmax(s)_o (z - p_o) / ||z - p_o||. Score: minus the distance from that gradient to its
    nearest neighbour among the gradients of correctly classified ID rows."""

    def __init__(self, ood_prototype=None):
        self.ood_prototype = ood_prototype

    def _gradients(self, z):
        import torch

        P = torch.cat([self.protos_, self.p_o_[None, :]])
        dist = torch.cdist(z, P)
        soft = torch.softmax(-dist, dim=1)[:, -1:]
        diff = z - self.p_o_
        return soft * diff / torch.linalg.vector_norm(diff, dim=1, keepdim=True).clamp_min(1e-12)

    def _predict(self, z):
        import torch

        if self.W_ is not None:
            return (z @ self.W_.T + self.b_).argmax(1)
        return torch.cdist(z, self.protos_).argmin(1)

    def fit(self, feats_id, labels, head=None):
        """Fit on in-distribution features feats_id (n, d) with class indices labels (n,): the
        class and OOD prototypes and the bank of gradients of the correctly classified rows
        (predicted by the head (W, b) when given, else by the nearest prototype); returns self.
        ValueError when no row is classified correctly."""
        import torch

        z = _feats(feats_id, "feats_id").to(torch.float64)
        y = _labels(labels, z.shape[0]).long().to(z.device)
        C = int(y.max()) + 1
        self.protos_ = torch.stack([z[y == c].mean(0) if (y == c).any() else z.mean(0) for c in range(C)])
        self.p_o_ = self.protos_.mean(0) if self.ood_prototype is None else self._given_prototype(z)
        self.W_, self.b_ = _head(head, z.shape[1]) if head is not None else (None, None)
        correct = self._predict(z) == y
        if not bool(correct.any()):
            raise ValueError("labels: no in-distribution row is classified correctly; GROOD has no reference set")
        self._bank = KNN(k=1, normalise=False).fit(self._gradients(z[correct]))
        return self

    def _given_prototype(self, z):
        import torch

        p = _inputs.data(self.ood_prototype, "ood_prototype", 1, what="(features,)")
        if p.shape[0] != z.shape[1]:
            raise ValueError(f"ood_prototype: expected {z.shape[1]} values (one per feature), got {p.shape[0]}")
        return p.to(dtype=torch.float64, device=z.device)

    def score(self, feats, backend: str = "auto"):
        """GROOD scores (n,) of feats (n, d), higher = more in-distribution. backend: "auto" (the
        nearest-neighbour search in the fused Triton kernel for CUDA inputs), "torch" or "triton"."""
        import torch

        if not hasattr(self, "_bank"):
            raise RuntimeError("GROOD is not fitted: call fit(feats_id, labels) first")
        z = _feats(feats)
        if z.shape[1] != self.protos_.shape[1]:
            raise ValueError(f"feats: expected {self.protos_.shape[1]} features, got {z.shape[1]}")
        grads = self._gradients(z.to(torch.float64).to(self.protos_.device))
        return _inputs.as_output(self._bank.score(grads, backend=backend).to(z.device), not _inputs.is_torch(feats))
