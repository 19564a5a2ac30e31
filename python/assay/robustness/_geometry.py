"""The attack's geometry in flat (B, d) coordinates: the norm, the box, and exact projections onto
linearised decision boundaries (assay.robustness.projection's C++/CUDA kernels)."""

from __future__ import annotations

import numpy as np
import torch

from .projection import project_hyperplanes


class Geometry:
    def __init__(self, norm, box, device, dtype):
        self.norm = norm
        self.box = box  # None or (lo (d,), hi (d,)) float64 NumPy
        self.lo = self.hi = None
        if box is not None:
            self.lo = torch.as_tensor(box[0], device=device, dtype=dtype)
            self.hi = torch.as_tensor(box[1], device=device, dtype=dtype)

    def norm_of(self, v: torch.Tensor) -> torch.Tensor:
        """||v_i||_p per row, in float64."""
        v = v.to(torch.float64)
        if self.norm == "inf":
            return v.abs().amax(dim=1)
        return torch.linalg.vector_norm(v, ord=self.norm, dim=1)

    def clamp(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.lo is None else torch.maximum(torch.minimum(x, self.hi), self.lo)

    def project(self, t: torch.Tensor, w: torch.Tensor, b: torch.Tensor, boxed: bool = True):
        """Exact min-norm moves from t (B, d) onto <w[:, h], z> = b[:, h] inside the box (anywhere
        when boxed is False).

        Returns (distance (B, H) float64, +inf where infeasible or w is not finite; delta (B, H, d)
        in t's dtype)."""
        bad = ~(torch.isfinite(w).all(dim=2) & torch.isfinite(b))
        if bool(bad.any()):  # a model whose gradient overflowed: that hyperplane is unusable
            w = torch.where(bad[..., None], torch.zeros_like(w), w)
            b = torch.where(bad, torch.ones_like(b), b)
        r = project_hyperplanes(
            t.detach(),
            w.detach(),
            b.detach().to(torch.float64),
            norm=self.norm,
            box=self.box if boxed else None,
            return_delta=True,
        )
        dist = r.distance.to(t.device).masked_fill(bad, np.inf)
        return dist, r.delta.to(device=t.device, dtype=t.dtype)
