"""Exact batched projections onto hyperplanes inside a box (the min-norm attack's inner step).

For every point t[i] and hyperplane (w[i, h], b[i, h]) this solves

    minimise ||delta||_p  subject to  <w[i, h], t[i] + delta> = b[i, h],  lo <= t[i] + delta <= hi

exactly (no iterations), for p in {inf, 2, 1}; the semantics of every degenerate case are in the
docstring of `project_hyperplanes`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._device import _HOW_TO_BUILD
from .._validation import check_n_jobs
from .._vocabulary import deprecated
from .. import _inputs

_NORMS = ("inf", 2, 1)
_DEVICES = ("auto", "cpu", "cuda")  # where: the data's own device ("auto"), or insist on one
_BACKENDS = ("auto", "torch")  # which implementation: the compiled kernel, or the torch reference
_NORM_CODE = {"inf": _core.Norm.LINF, 2: _core.Norm.L2, 1: _core.Norm.L1}  # by name: the kernels' enum


@dataclass(frozen=True)
class ProjectionResult:
    """distance (B, H) float64 (+inf where infeasible); feasible (B, H) bool; delta (B, H, d)
    float64 or None. NumPy arrays for NumPy input, torch tensors (on the input's device) for torch."""

    distance: Any
    feasible: Any
    delta: Any = None


_is_torch = _inputs.is_torch


def _check_norm(norm):
    if isinstance(norm, str) and norm == "inf":
        return "inf"
    if isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, bool):
        if math.isinf(norm) and norm > 0:
            return "inf"
        if norm in (1, 2):
            return int(norm)
    raise ValueError(f"norm: expected 'inf' (or float('inf')), 2 or 1, got {norm!r}")


def _to_numpy(x, name: str) -> np.ndarray:
    """NumPy view (no copy where possible) of a NumPy array, CPU tensor or nested list; CUDA
    tensors take the CUDA path (project_cuda_tensors), so here they are an error."""
    return _inputs.host_array(x, name, kinds="fiu", cuda="error")


def _torch():
    import torch

    return torch


def _check_finite(a: np.ndarray, name: str) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(
            f"{name}: expected finite values, got NaN or inf (first at index "
            f"{tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])})"
        )


def _check_rank(a, name: str, ndim: int, what: str) -> None:
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {what}, got {a.ndim} dimensions {tuple(a.shape)}")


def _bound(v, name: str, d: int) -> np.ndarray:
    a = _to_numpy(v, name).astype(np.float64, copy=False)
    if a.ndim == 0:
        a = np.full(d, float(a))
    elif a.shape != (d,):
        raise ValueError(f"{name}: expected a scalar or an array of shape ({d},), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: expected finite bounds (use box=None for no box), got NaN or inf")
    return np.ascontiguousarray(a)


def _check_box(box, d: int):
    pair = _inputs.box_pair(box)
    if pair is None:
        return None, None
    lo, hi = _bound(pair[0], "box[0] (lo)", d), _bound(pair[1], "box[1] (hi)", d)
    if (lo > hi).any():
        j = int(np.argmax(lo > hi))
        raise ValueError(f"box: expected lo <= hi, got lo[{j}] = {lo[j]} > hi[{j}] = {hi[j]}")
    return lo, hi


def _check_shapes(t, w, b):
    _check_rank(t, "t", 2, "(B, d)")
    _check_rank(w, "w", 3, "(B, H, d)")
    _check_rank(b, "b", 2, "(B, H)")
    B, H, d = w.shape
    if tuple(t.shape) != (B, d):
        raise ValueError(f"t: expected shape (B, d) = ({B}, {d}) to match w {tuple(w.shape)}, got {tuple(t.shape)}")
    if tuple(b.shape) != (B, H):
        raise ValueError(f"b: expected shape (B, H) = ({B}, {H}) to match w {tuple(w.shape)}, got {tuple(b.shape)}")
    if d == 0:
        raise ValueError("w: expected at least one feature (d >= 1), got d = 0")
    return B, H, d


def _check_inside(t: np.ndarray, lo, hi) -> None:
    if lo is None:
        return
    outside = (t < lo) | (t > hi)
    if outside.any():
        i, j = (int(v) for v in np.argwhere(outside)[0])
        raise ValueError(
            f"t: expected every point inside the box, got t[{i}, {j}] = {t[i, j]} outside [{lo[j]}, {hi[j]}]"
        )


def _check_device(device: str, backend: str, on_cuda: bool) -> tuple:
    """(device, backend) resolved: device "cpu" or "cuda" (where the data are), backend "auto" or
    "torch". backend="cpu" | "cuda" is the old spelling of device= (DeprecationWarning)."""
    if isinstance(backend, str) and backend in ("cpu", "cuda"):
        deprecated(
            f"project_hyperplanes(backend={backend!r})",
            f"device={backend!r} (backend= now names the "
            "implementation: 'auto' for the compiled kernel, 'torch' for the reference)",
            stacklevel=3,
        )
        if device not in ("auto", backend):
            raise ValueError(f"device: {device!r} contradicts the deprecated backend={backend!r}; pass device alone")
        device, backend = backend, "auto"
    if not isinstance(device, str) or device not in _DEVICES:
        raise ValueError(f"device: expected one of {_DEVICES}, got {device!r}")
    if not isinstance(backend, str) or backend not in _BACKENDS:
        raise ValueError(f"backend: expected one of {_BACKENDS} (device= says where: 'cpu' or 'cuda'), got {backend!r}")
    if device == "auto":
        device = "cuda" if on_cuda else "cpu"
    if device == "cuda" and not on_cuda:
        raise ValueError(
            "device='cuda': expected CUDA torch tensors, got CPU data (move t, w, b to the GPU or use device='cpu')"
        )
    if device == "cpu" and on_cuda:
        raise ValueError("device='cpu': expected CPU data, got CUDA tensors (use device='cuda' or 'auto')")
    if device == "cuda" and backend == "auto" and not _core.built_with_cuda:
        raise RuntimeError(f"CUDA tensors need the CUDA kernels: {_HOW_TO_BUILD}; or pass backend='torch'")
    return device, backend


class _UnitBoxDefault:
    """The deprecated default box=(0.0, 1.0): used when `box` is not passed, with a
    DeprecationWarning; the default becomes None (no box) in the next release."""

    def __repr__(self):
        return "(0.0, 1.0) [deprecated default; None from the next release]"


_UNIT_BOX_DEFAULT = _UnitBoxDefault()


def project_hyperplanes(
    t,
    w,
    b,
    norm="inf",
    box=_UNIT_BOX_DEFAULT,
    return_delta: bool = True,
    backend: str = "auto",
    n_jobs: int = -1,
    *,
    device: str = "auto",
) -> ProjectionResult:
    """Exact minimum-norm moves from points onto hyperplanes, staying inside a box.

    For each i < B, h < H: minimise ||delta||_p subject to <w[i, h], t[i] + delta> = b[i, h] and
    lo <= t[i] + delta <= hi.

    Parameters
    ----------
    t : (B, d) points, inside the box (on a face is fine).
    w : (B, H, d) hyperplane normals. float32 and float64 are used as they are (never copied to
        float64); other real dtypes are converted to float64.
    b : (B, H) offsets.
    norm : "inf" (or float("inf") / np.inf), 2 or 1.
    box : None (no box) or (lo, hi), each a scalar or a (d,) array of finite bounds, lo <= hi.
        TypeError when box is not None, a tuple or a list, or a bound is not numeric; ValueError
        for a bad value (not two entries, a wrong shape, NaN or inf, lo > hi), as everywhere in
        assay.robustness. Pass it explicitly: left out, it is still (0.0, 1.0) with a
        DeprecationWarning, and becomes None (no box, like every other box= of assay.robustness)
        in the next release.
    return_delta : when False only distances and feasibility are computed (no (B, H, d) output).
    backend : which implementation: "auto" (the compiled kernel: C++ for CPU data, CUDA for CUDA
        tensors) or "torch" (the pure-torch sort-based reference, on the data's device). The old
        backend="cpu" | "cuda" still works as device="cpu" | "cuda", with a DeprecationWarning.
    n_jobs : CPU threads (-1: all). Results do not depend on it.
    device : where: "auto" (where t, w and b are: CUDA tensors on the GPU, anything else on the
        CPU), "cpu" or "cuda" (insist: ValueError when the data are elsewhere; nothing is moved).

    Returns
    -------
    ProjectionResult(distance (B, H) float64 with +inf where infeasible, feasible (B, H) bool,
    delta (B, H, d) float64 or None). NumPy in, NumPy out; torch in, torch out on the same device.

    Semantics, with c = b - <w, t> (signs flipped so that c > 0), s_i = sign(w_i) and room
    r_i = hi_i - t_i where s_i > 0, t_i - lo_i where s_i < 0:

    - c == 0: delta = 0, distance 0, feasible, whatever w is (even w == 0).
    - w == 0 with c != 0, or sum_i |w_i| r_i < c: infeasible (distance +inf, delta all zeros).
      The limit sum_i |w_i| r_i == c is feasible (every moving coordinate goes to its face).
    - Coordinates with w_i = 0 never move; a coordinate on its face (room 0) cannot move.
    - l_inf: delta_i = s_i min(lam, r_i), distance lam; no box: lam = c / ||w||_1.
    - l_2: delta_i = s_i min(lam |w_i|, r_i); no box: delta = c w / ||w||_2^2.
    - l_1: fractional knapsack: coordinates are saturated in decreasing |w_i|, the lowest index
      first among ties (any split among tied |w_i| is optimal; this one is deterministic); no
      box: everything on the first largest |w_i|.
    """
    norm = _check_norm(norm)
    if box is _UNIT_BOX_DEFAULT:
        warnings.warn(
            "project_hyperplanes: box was not passed; its default (0.0, 1.0) is deprecated and becomes "
            "None (no box, like every box= of assay.robustness) in the next release: pass "
            "box=(0.0, 1.0) or box=None explicitly",
            DeprecationWarning,
            stacklevel=2,
        )
        box = (0.0, 1.0)
    n_jobs = check_n_jobs(n_jobs)
    if not isinstance(return_delta, (bool, np.bool_)):
        raise TypeError(f"return_delta: expected a bool, got {type(return_delta).__name__}")
    as_torch = any(_is_torch(x) for x in (t, w, b))
    on_cuda = as_torch and any(_is_torch(x) and x.device.type == "cuda" for x in (t, w, b))
    device, backend = _check_device(device, backend, on_cuda)
    if device == "cuda":
        from ._projection_cuda import project_cuda_tensors

        return project_cuda_tensors(t, w, b, norm, box, bool(return_delta), backend)
    tn, wn, bn = _to_numpy(t, "t"), _to_numpy(w, "w"), _to_numpy(b, "b")
    B, H, d = _check_shapes(tn, wn, bn)
    lo, hi = _check_box(box, d)
    if wn.dtype not in (np.float32, np.float64):
        wn = wn.astype(np.float64)
    wn = np.ascontiguousarray(wn)
    tn = np.ascontiguousarray(tn, dtype=np.float64)
    bn = np.ascontiguousarray(bn, dtype=np.float64)
    for a, name in ((tn, "t"), (wn, "w"), (bn, "b")):
        _check_finite(a, name)
    _check_inside(tn, lo, hi)
    if B * H == 0:
        dist, feas = np.zeros((B, H)), np.ones((B, H), dtype=bool)
        delta = np.zeros((B, H, d)) if return_delta else None
    elif backend == "torch":
        dist, feas, delta = _run_torch(tn, wn, bn, norm, lo, hi, bool(return_delta))
    else:
        dist, feas, delta = _core.project_hyperplanes(tn, wn, bn, _NORM_CODE[norm], lo, hi, bool(return_delta), n_jobs)
    if as_torch:
        torch = _torch()
        dist, feas = torch.as_tensor(dist), torch.as_tensor(feas)
        delta = None if delta is None else torch.as_tensor(delta)
    return ProjectionResult(dist, feas, delta)


def _run_torch(tn, wn, bn, norm, lo, hi, return_delta):
    torch = _torch()
    from ._projection_torch import project_hyperplanes_torch

    tt = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    dist, feas, delta = project_hyperplanes_torch(tt(tn), tt(wn), tt(bn), norm, tt(lo), tt(hi), return_delta)
    return dist.numpy(), feas.numpy(), None if delta is None else delta.numpy()
