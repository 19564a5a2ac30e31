"""Removing overshoot from adversarial points: bisection along x0 -> x_adv, and a boundary
refinement that re-linearises at the boundary point and projects x0 onto that linearisation
(exact in one step for a model that is affine on the segment; for ReLU networks it walks across
activation regions towards the nearest boundary point)."""

from __future__ import annotations

import torch

from ._linearize import is_adversarial, lead, linearised_boundaries


def bisect(
    model, shape, x0: torch.Tensor, adv: torch.Tensor, y: torch.Tensor, tau: torch.Tensor, steps: int = 40
) -> torch.Tensor:
    """Per row, a point of the segment x0 -> adv near its first crossing into lead > tau (lead =
    max_{j != y} f_j - f_y), found by false position (Illinois): the lead is piecewise linear along
    the segment for ReLU networks, so a few secant steps replace ~25 halvings.

    Invariant: x0 + hi (adv - x0) has lead > tau (hi = 1 at the start, where adv is), x0 + lo (...)
    does not; the returned points are always at some hi, so they are adversarial. A row stops once
    the lead at hi is within tau of its target (as close as the tolerance allows) or both ends round
    to the same input."""
    n = x0.shape[0]
    x0d = x0.to(torch.float64)
    step = adv.to(torch.float64) - x0d
    tau = tau.to(torch.float64)
    lo, hi = torch.zeros(n, dtype=torch.float64, device=x0.device), torch.ones(n, dtype=torch.float64, device=x0.device)
    h_lo = lead(model, x0, shape, y) - tau
    h_hi = lead(model, adv, shape, y) - tau
    side = torch.zeros(n, dtype=torch.int8, device=x0.device)  # which end moved last (Illinois)
    active = torch.arange(n, device=x0.device)
    for it in range(steps):
        a = active
        at = lambda t: (x0d[a] + t[:, None] * step[a]).to(x0.dtype)  # noqa: E731
        width = hi[a] - lo[a]
        secant = hi[a] - h_hi[a] * width / (h_hi[a] - h_lo[a])
        inside = (secant > lo[a] + 1e-3 * width) & (secant < hi[a] - 1e-3 * width)
        t = torch.where(inside & (it % 4 != 3), secant, lo[a] + width / 2)  # every 4th step halves
        h = lead(model, at(t), shape, y[a]) - tau[a]
        up = h > 0
        hi[a], h_hi[a] = torch.where(up, t, hi[a]), torch.where(up, h, h_hi[a])
        lo[a], h_lo[a] = torch.where(up, lo[a], t), torch.where(up, h_lo[a], h)
        h_lo[a] = torch.where(up & (side[a] == 1), h_lo[a] / 2, h_lo[a])
        h_hi[a] = torch.where(~up & (side[a] == -1), h_hi[a] / 2, h_hi[a])
        side[a] = torch.where(up, 1, -1).to(torch.int8)
        done = (h_hi[a] <= tau[a]) | torch.all(at(lo[a]) == at(hi[a]), dim=1)
        active = a[~done]
        if active.numel() == 0:
            break
    out = (x0d + hi[:, None] * step).to(x0.dtype)
    return torch.where((hi == 1.0)[:, None], adv, out)


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
        grad, offset = linearised_boundaries(model, xa, shape, ya, no_classes, with_top=True)
        # aim at the level set f_j - f_y = 2 tau, just past the boundary (see decision_tolerance)
        offset = offset + 2 * ta[:, None]
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


def _line_search(model, shape, start, target, y, tau, fractions=tuple(0.5**i for i in range(9))):
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
