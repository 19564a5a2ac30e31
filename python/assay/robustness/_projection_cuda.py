"""CUDA tensors: the same checks as the CPU path, done on the device, then the CUDA kernel
(assay built with ASSAY_CUDA=ON, backend="auto") or the torch reference (backend="torch")."""

from __future__ import annotations

import torch

from .. import _core
from .projection import _NORM_CODE, ProjectionResult, _check_box, _check_shapes, _is_torch


def _on_device(x, name: str, device) -> torch.Tensor:
    if not _is_torch(x) or x.device != device:
        where = x.device if _is_torch(x) else type(x).__name__
        raise ValueError(f"{name}: expected a tensor on {device} like the other inputs, got {where}")
    x = x.detach()
    if x.dtype.is_complex or x.dtype == torch.bool:
        raise TypeError(f"{name}: expected a real numeric (float or integer) tensor, got dtype {x.dtype}")
    return x


def _check_finite(x: torch.Tensor, name: str) -> None:
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")


def project_cuda_tensors(t, w, b, norm, box, return_delta: bool, backend: str) -> ProjectionResult:
    device = next(x.device for x in (w, t, b) if _is_torch(x) and x.device.type == "cuda")
    t, w, b = _on_device(t, "t", device), _on_device(w, "w", device), _on_device(b, "b", device)
    B, H, d = _check_shapes(t, w, b)
    lo, hi = _check_box(box, d)
    if w.dtype not in (torch.float32, torch.float64):
        w = w.to(torch.float64)
    w = w.contiguous()
    t = t.to(torch.float64).contiguous()
    b = b.to(torch.float64).contiguous()
    for x, name in ((t, "t"), (w, "w"), (b, "b")):
        _check_finite(x, name)
    if lo is not None:
        lo, hi = torch.from_numpy(lo).to(device), torch.from_numpy(hi).to(device)
        if not bool(((t >= lo) & (t <= hi)).all()):
            raise ValueError("t: expected every point inside the box, got a point outside it")
    if backend == "torch" and B * H > 0:
        from ._projection_torch import project_hyperplanes_torch

        return ProjectionResult(*project_hyperplanes_torch(t, w, b, norm, lo, hi, return_delta))
    distance = torch.empty((B, H), dtype=torch.float64, device=device)
    feasible = torch.empty((B, H), dtype=torch.bool, device=device)
    delta = torch.empty((B, H, d), dtype=torch.float64, device=device) if return_delta else None
    if B * H > 0:
        with torch.cuda.device(device):
            _core.project_hyperplanes_cuda(
                t,
                w,
                b,
                _NORM_CODE[norm],
                lo,
                hi,
                distance,
                feasible,
                delta,
                torch.cuda.current_stream(device).cuda_stream,
            )
    return ProjectionResult(distance, feasible, delta)
