"""The FAB-style min-norm search (after Croce & Hein, "Minimally distorted adversarial examples
with a fast adaptive boundary attack", ICML 2020), batched, with three changes:

- the target class of each step is the one whose linearised boundary is closest INSIDE THE BOX
  (exact projections for all k candidate classes), not by the unconstrained distance, which is
  what makes FAB overshoot by 25-60% on boxed linear models;
- only the k most competitive classes are linearised per step (k backward passes, O(B d) memory);
- rows stop on their own once their best stops improving, and the batch is compacted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._linearize import is_adversarial, linearised_boundaries, nearest_classes


@dataclass
class FabSettings:
    k: int  # candidate classes per untargeted step: the k nearest screened ones
    screen: int  # classes screened at x0 (largest logits); each gets a targeted run
    n_iter: int  # steps per run
    restarts: int  # untargeted runs: the first from x0, the others from random points
    targeted: bool  # plus one run per candidate class, aiming at that class only
    patience: int  # steps without a relative gain of rel_gain before a row stops
    alpha_max: float = 0.1
    eta: float = 1.05  # overshoot of each projection
    beta: float = 0.9  # backward step towards x0 after an adversarial point
    rel_gain: float = 1e-4

    @property
    def runs(self) -> int:
        """Runs of fab_search per chunk of rows: untargeted, targeted (one per screened class), restarts."""
        return 1 + (self.screen if self.targeted else 0) + self.restarts - 1


class _Search:
    """The data every run needs, and which rows some run has already found adversarial."""

    def __init__(self, model, shape, x0, y, tau, geo, s: FabSettings):
        self.model, self.shape, self.x0, self.y, self.tau, self.geo, self.s = model, shape, x0, y, tau, geo, s
        self.found = torch.zeros(x0.shape[0], dtype=torch.bool, device=x0.device)
        self.best_norm = torch.full((x0.shape[0],), torch.inf, dtype=torch.float64, device=x0.device)
        self.first_guess = None  # linearised distance at x0: the scale of random starts

    def run(self, x, classes, with_top: bool):
        """FAB steps from x (B, d) with candidate classes (B, h) (plus the most competitive class
        at the iterate when with_top). Returns this run's best adversarial point per row and its
        norm (+inf: none). A row stops after `patience` steps without improving on this run's
        best once some run has found it an adversarial point, or after `patience` steps in a row
        whose linearisations reach no other class inside the box (+inf stays an upper bound)."""
        s, x0 = self.s, self.x0
        B = x0.shape[0]
        run_best = x0.clone()
        run_norm = torch.full((B,), torch.inf, dtype=torch.float64, device=x0.device)
        stall = torch.zeros(B, dtype=torch.long, device=x0.device)
        blocked = torch.zeros(B, dtype=torch.long, device=x0.device)  # steps in a row with no boundary in the box
        active = torch.arange(B, device=x0.device)
        for _ in range(s.n_iter):
            if active.numel() == 0:
                break
            x_new, lin_dist = _step(
                self.model, self.shape, x[active], x0[active], self.y[active], classes[active], with_top, self.geo, s
            )
            if self.first_guess is None:
                self.first_guess = lin_dist
            is_adv = is_adversarial(self.model, x_new, self.shape, self.y[active], self.tau[active])
            dist = torch.where(is_adv, self.geo.norm_of(x_new - x0[active]), torch.inf)
            old = run_norm[active]
            better = dist < old
            run_best[active[better]], run_norm[active[better]] = x_new[better], dist[better]
            stall[active] = torch.where(dist < old * (1 - s.rel_gain), 0, stall[active] + 1)
            self.found[active[is_adv]] = True
            blocked[active] = torch.where(torch.isinf(lin_dist), blocked[active] + 1, 0)
            # FAB's backward step: from an adversarial point, go most of the way back towards x0
            x_new[is_adv] = (1 - s.beta) * x0[active][is_adv] + s.beta * x_new[is_adv]
            x[active] = x_new
            # rows stop after `patience` steps without progress, or (never found) after `patience`
            # steps in a row whose linearisations reach no other class inside the box
            waiting = ~self.found[active] & (blocked[active] < s.patience)
            active = active[waiting | (self.found[active] & (stall[active] < s.patience))]
        self.best_norm = torch.minimum(self.best_norm, run_norm)
        return run_best, run_norm


def fab_search(model, shape, x0, y, tau, geo, s: FabSettings, generator):
    """Yields each run's best adversarial point per row, one run at a time: ((B, d) points, (B,)
    norms, +inf where that run found none); another class leads y by more than tau at every
    finite one. s.runs runs in all.

    Runs: untargeted from x0; one targeted run per screened class from x0 (FAB's untargeted
    choice of class by the linearisation at the iterate often settles on the wrong class of a
    ReLU network); untargeted runs from random starts."""
    search = _Search(model, shape, x0, y, tau, geo, s)
    screened = nearest_classes(model, x0, shape, y, geo, s.screen)
    classes = screened[:, : s.k]
    yield search.run(x0.clone(), classes, with_top=True)
    if s.targeted:
        for c in range(screened.shape[1]):
            yield search.run(x0.clone(), screened[:, c : c + 1], with_top=False)
    for _ in range(s.restarts - 1):
        start = _random_start(x0, search.best_norm, search.first_guess, geo, generator)
        yield search.run(start, classes, with_top=True)


def _step(model, shape, x, x0, y, classes, with_top, geo, s: FabSettings):
    """One FAB step from x for rows with origin x0 and candidate classes (B, h); returns the new
    point and, per row, the linearised distance from x to the closest candidate boundary."""
    rows = torch.arange(x.shape[0], device=x.device)
    grad, offset = linearised_boundaries(model, x, shape, y, classes, with_top)
    dist, delta = geo.project(x, grad, offset)
    choice = dist.argmin(dim=1)
    lin_dist = dist[rows, choice]
    feasible = torch.isfinite(lin_dist)
    w_c, b_c = grad[rows, choice][:, None], offset[rows, choice][:, None]
    d1 = delta[rows, choice]
    _, delta0 = geo.project(x0, w_c, b_c)
    d2 = delta0[:, 0]
    if not bool(feasible.all()):
        # no candidate boundary is reachable in the box (by the linearisation): move towards the
        # closest unconstrained one and let the box clip
        free_dist, free_delta = geo.project(x, grad, offset, boxed=False)
        c = free_dist.argmin(dim=1)
        d1 = torch.where(feasible[:, None], d1, free_delta[rows, c])
        d2 = torch.where(feasible[:, None], d2, torch.zeros_like(d2))
    n1, n2 = geo.norm_of(d1), geo.norm_of(d2)
    alpha = (n1 / (n1 + n2)).nan_to_num(0.0).clamp(max=s.alpha_max).to(x.dtype)[:, None]
    x_new = (1 - alpha) * (x + s.eta * d1) + alpha * (x0 + s.eta * d2)
    return geo.clamp(x_new), lin_dist


def _random_start(x0, best_norm, first_guess, geo, generator):
    """x0 plus a random perturbation of norm half the best margin so far (or of the first
    linearised distance when nothing was found), clipped to the box."""
    radius = torch.where(torch.isfinite(best_norm), 0.5 * best_norm, first_guess)
    radius = radius.nan_to_num(0.0, posinf=0.0).to(x0.dtype)[:, None]
    shape = x0.shape
    if geo.norm == "inf":
        u = torch.rand(shape, generator=generator, dtype=x0.dtype, device="cpu") * 2 - 1
    else:
        if geo.norm == 2:
            u = torch.randn(shape, generator=generator, dtype=x0.dtype, device="cpu")
        else:
            e = torch.empty(shape, dtype=x0.dtype, device="cpu").exponential_(generator=generator)
            sign = torch.randint(0, 2, shape, generator=generator, device="cpu") * 2 - 1
            u = e * sign
        u = u / geo.norm_of(u).clamp_min(1e-30).to(x0.dtype)[:, None]
    return geo.clamp(x0 + radius * u.to(x0.device))
