"""Removing overshoot from adversarial points: bisection along x0 -> x_adv, and a boundary
refinement that re-linearises at the boundary point and projects x0 onto that linearisation
(exact in one step for a model that is affine on the segment; for ReLU networks it walks across
activation regions towards the nearest boundary point)."""
from __future__ import annotations

import torch

from ._linearize import class_gaps, is_adversarial


def bisect(model, shape, x0: torch.Tensor, adv: torch.Tensor, y: torch.Tensor, tau: torch.Tensor,
           steps: int = 40) -> torch.Tensor:
    """Per row, the point of the segment x0 -> adv closest to x0 that bisection finds adversarial.

    Invariant: x0 + hi (adv - x0) is adversarial (hi = 1 at the start, where adv is), x0 + lo (...)
    is not; the returned points are always at some hi, so they are adversarial. Stops early once
    the two ends round to the same input."""
    lo = torch.zeros(x0.shape[0], 1, dtype=torch.float64, device=x0.device)
    hi = torch.ones_like(lo)
    step = adv.to(torch.float64) - x0.to(torch.float64)
    x0d = x0.to(torch.float64)
    for _ in range(steps):
        mid = (lo + hi) / 2
        point = (x0d + mid * step).to(x0.dtype)
        is_adv = is_adversarial(model, point, shape, y, tau)
        hi = torch.where(is_adv[:, None], mid, hi)
        lo = torch.where(is_adv[:, None], lo, mid)
        if torch.equal((x0d + lo * step).to(x0.dtype), (x0d + hi * step).to(x0.dtype)):
            break
    out = (x0d + hi * step).to(x0.dtype)
    return torch.where((hi == 1.0), adv, out)


def refine(model, shape, x0, adv, y, tau, geo, rounds: int, rel_tol: float = 1e-7):
    """Boundary refinement of adversarial points adv (all adversarial, on or near the boundary).

    Each round: linearise f_j - f_y at adv for the class j that leads there, project x0 onto the
    linearised boundary (inside the box), and try that point and points between it and adv (a
    line search against the linearisation's error); an adversarial candidate is bisected towards
    x0 and kept if it is closer. Rows stop when a round gains less than rel_tol."""
    best = adv.clone()
    best_norm = geo.norm_of(best - x0)
    active = torch.arange(x0.shape[0], device=x0.device)
    for _ in range(rounds):
        if active.numel() == 0:
            break
        xa, x0a, ya, ta = best[active], x0[active], y[active], tau[active]
        no_classes = torch.empty((xa.shape[0], 0), dtype=torch.long, device=xa.device)
        _, gap, grad = class_gaps(model, xa, shape, ya, no_classes, with_top=True)
        # the level set f_j - f_y = 2 tau (just past the boundary, see decision_tolerance),
        # linearised at xa: <g, z> = <g, xa> - gap + 2 tau
        offset = (grad * xa[:, None, :]).sum(-1) - gap + 2 * ta[:, None]
        dist, delta = geo.project(x0a, grad, offset)
        target = geo.clamp(x0a + delta[:, 0])
        cand, found = _line_search(model, shape, xa, target, ya, ta)
        found &= torch.isfinite(dist[:, 0])
        if not bool(found.any()):
            break
        rows = found.nonzero()[:, 0]
        polished = bisect(model, shape, x0a[rows], cand[rows], ya[rows], ta[rows])
        new_norm = geo.norm_of(polished - x0a[rows])
        better = new_norm < best_norm[active[rows]]
        idx = active[rows[better]]
        gain = torch.zeros(xa.shape[0], dtype=torch.float64, device=x0.device)
        gain[rows[better]] = (best_norm[idx] - new_norm[better]) / best_norm[idx].clamp_min(1e-300)
        best[idx], best_norm[idx] = polished[better], new_norm[better]
        active = active[gain > rel_tol]
    return best


def _line_search(model, shape, start, target, y, tau, fractions=tuple(0.5 ** i for i in range(9))):
    """The first of start + s (target - start), s in fractions, that is adversarial, per row."""
    cand = start.clone()
    found = torch.zeros(start.shape[0], dtype=torch.bool, device=start.device)
    for s in fractions:
        todo = (~found).nonzero()[:, 0]
        if todo.numel() == 0:
            break
        point = start[todo] + s * (target[todo] - start[todo])
        ok = is_adversarial(model, point, shape, y[todo], tau[todo])
        cand[todo[ok]] = point[ok]
        found[todo[ok]] = True
    return cand, found
