"""Pure-torch batched reference for the exact box-constrained hyperplane projections.

Sort-based (O(d log d) per problem), float64 throughout, written to be read and trusted: the
C++/CUDA kernels are tested against it. Works on any torch device. Rows are processed in
chunks so that the working set stays bounded when `return_delta` is False.

Conventions (see projection.py): c = b - <w, t>; signs are flipped so that c > 0; a_i = |w_i|,
s_i = sign(w_i) after the flip; room r_i = hi_i - t_i where s_i > 0 else t_i - lo_i.
"""

from __future__ import annotations

import torch

_CHUNK_ELEMENTS = 1 << 22  # B_chunk * H * d per chunk: ~32 MB of float64 per temporary


def _first_reaching(curve: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Index of the first entry of the non-decreasing `curve` (.., d) that reaches c (..), clamped."""
    k = (curve < c.unsqueeze(-1)).sum(-1)
    return k.clamp(max=curve.shape[-1] - 1)


def _take(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return x.gather(-1, k.unsqueeze(-1)).squeeze(-1)


def _prev(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """x[..., k - 1], with 0 where k == 0 (x is a cumulative sum)."""
    return torch.where(k > 0, _take(x, (k - 1).clamp(min=0)), torch.zeros((), dtype=x.dtype, device=x.device))


def _box_linf(a, r, c):
    """l_inf with a box: delta_i = s_i min(lam, r_i)."""
    q, order = r.sort(-1)
    aq = a.gather(-1, order)
    P = torch.cumsum(aq * q, -1)
    S_after = aq.sum(-1, keepdim=True) - torch.cumsum(aq, -1)
    k = _first_reaching(P + q * S_after, c)
    lam = (c - _prev(P, k)) / (_take(S_after, k) + _take(aq, k)).clamp(min=torch.finfo(a.dtype).tiny)
    delta_abs = torch.minimum(lam.unsqueeze(-1), r)
    return lam, delta_abs, P[..., -1]


def _box_l2(a, r, c):
    """l_2 with a box: delta_i = s_i min(lam a_i, r_i); breakpoints r_i / a_i."""
    active = a > 0
    q = torch.where(active, r / torch.where(active, a, 1.0), 0.0)
    q, order = q.sort(-1)
    aq = a.gather(-1, order)
    rq = r.gather(-1, order)
    P = torch.cumsum(aq * rq, -1)
    a2 = aq * aq
    S_after = a2.sum(-1, keepdim=True) - torch.cumsum(a2, -1)
    k = _first_reaching(P + q * S_after, c)
    lam = (c - _prev(P, k)) / (_take(S_after, k) + _take(a2, k)).clamp(min=torch.finfo(a.dtype).tiny)
    delta_abs = torch.minimum(lam.unsqueeze(-1) * a, r)
    return torch.linalg.vector_norm(delta_abs, dim=-1), delta_abs, P[..., -1]


def _box_l1(a, r, c):
    """l_1 with a box: fractional knapsack, largest |w_i| first, lowest index first among ties."""
    aq, order = a.sort(dim=-1, descending=True, stable=True)
    rq = r.gather(-1, order)
    C = torch.cumsum(aq * rq, -1)
    k = _first_reaching(C, c)
    ak = _take(aq, k)
    last = (c - _prev(C, k)) / ak.clamp(min=torch.finfo(a.dtype).tiny)
    pos = torch.arange(a.shape[-1], device=a.device)
    sorted_abs = torch.where(pos < k.unsqueeze(-1), rq, 0.0)
    sorted_abs = torch.where(pos == k.unsqueeze(-1), last.unsqueeze(-1), sorted_abs)
    delta_abs = torch.zeros_like(a).scatter_(-1, order, sorted_abs)
    return delta_abs.sum(-1), delta_abs, C[..., -1]


def _free(a, c, norm):
    """No box: closed forms. Returns (distance, |delta|, capacity)."""
    d = a.shape[-1]
    if norm == "inf":
        lam = c / a.sum(-1).clamp(min=torch.finfo(a.dtype).tiny)
        return lam, torch.where(a > 0, lam.unsqueeze(-1), 0.0), None
    if norm == 2:
        nrm2 = (a * a).sum(-1).clamp(min=torch.finfo(a.dtype).tiny)
        delta_abs = (c / nrm2).unsqueeze(-1) * a
        return c / nrm2.sqrt(), delta_abs, None
    k = a.argmax(-1)  # first maximal entry: the lowest index among ties
    dist = c / _take(a, k).clamp(min=torch.finfo(a.dtype).tiny)
    onehot = torch.arange(d, device=a.device) == k.unsqueeze(-1)
    return dist, torch.where(onehot, dist.unsqueeze(-1), 0.0), None


_BOX_SOLVERS = {"inf": _box_linf, 2: _box_l2, 1: _box_l1}


def _project_chunk(t, w, b, norm, lo, hi, return_delta):
    w = w.to(torch.float64)
    c_signed = b - torch.einsum("nhd,nd->nh", w, t)
    flip = torch.where(c_signed < 0, -1.0, 1.0)
    c = c_signed.abs()
    ws = w * flip.unsqueeze(-1)
    a = ws.abs()
    if lo is None:
        dist, delta_abs, _ = _free(a, c, norm)
        feasible = (a > 0).any(-1)
    else:
        tt = t.unsqueeze(1)
        r = torch.where(ws > 0, hi - tt, tt - lo)
        r = torch.where(a > 0, r, 0.0)  # coordinates with w_i = 0 never move
        dist, delta_abs, capacity = _BOX_SOLVERS[norm](a, r, c)
        feasible = capacity >= c
    zero = c == 0
    feasible = feasible | zero
    dist = torch.where(zero, 0.0, torch.where(feasible, dist, torch.inf))
    delta = None
    if return_delta:
        keep = (feasible & ~zero).unsqueeze(-1)
        delta = torch.where(keep, torch.sign(ws) * delta_abs, 0.0)
    return dist, feasible, delta


def project_hyperplanes_torch(t, w, b, norm, lo=None, hi=None, return_delta=True):
    """Batched reference. t (B, d) float64, w (B, H, d) float32/float64, b (B, H) float64,
    lo/hi (d,) float64 or None (no box); norm in {"inf", 2, 1}.
    Returns (distance (B, H) float64, feasible (B, H) bool, delta (B, H, d) float64 or None)."""
    B, H, d = w.shape
    dev = w.device
    distance = torch.empty((B, H), dtype=torch.float64, device=dev)
    feasible = torch.empty((B, H), dtype=torch.bool, device=dev)
    delta = torch.empty((B, H, d), dtype=torch.float64, device=dev) if return_delta else None
    step = max(1, _CHUNK_ELEMENTS // max(1, H * d))
    for i0 in range(0, B, step):
        i1 = min(B, i0 + step)
        dist, feas, dl = _project_chunk(t[i0:i1], w[i0:i1], b[i0:i1], norm, lo, hi, return_delta)
        distance[i0:i1] = dist
        feasible[i0:i1] = feas
        if return_delta:
            delta[i0:i1] = dl
    return distance, feasible, delta
