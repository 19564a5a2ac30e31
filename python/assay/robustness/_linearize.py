"""Local linearisations of a classifier for the min-norm attack: logits, and the gradients of
f_j - f_y for a few classes j per row (never the full K x B x d Jacobian).
"""

from __future__ import annotations

import torch


def flat_forward(model, x: torch.Tensor, shape) -> torch.Tensor:
    """Logits (B, K) of the model at flat points x (B, d), reshaped to the model's input shape."""
    out = model(x.reshape((x.shape[0],) + tuple(shape)))
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"model: expected logits of shape ({x.shape[0]}, n_classes), got {got}")
    return out


def decision_tolerance(logits: torch.Tensor) -> torch.Tensor:
    """Per row, the logit lead (B,) that counts as a changed decision: 64 rounding
    units of the logits' scale. A point closer to the boundary than that can be classified either
    way by the same model on another batch (summation order), so it could not be certified."""
    return 64 * torch.finfo(logits.dtype).eps * (1 + logits.detach().abs().amax(dim=1))


def logit_lead(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """max_{j != y} f_j - f_y per row (B,), in float64: > 0 where another class wins."""
    other = logits.scatter(1, y[:, None], -torch.inf).amax(dim=1)
    return (other - logits.gather(1, y[:, None])[:, 0]).to(torch.float64)


@torch.no_grad()
def lead(model, x: torch.Tensor, shape, y: torch.Tensor) -> torch.Tensor:
    """logit_lead of the model at x."""
    return logit_lead(flat_forward(model, x, shape), y)


def is_adversarial(model, x: torch.Tensor, shape, y: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Some class other than y leads f_y by more than tau at x (B,) bool."""
    return lead(model, x, shape, y) > tau


def top_other_classes(logits: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """The k classes other than y with the largest logits (B, k)."""
    masked = logits.detach().clone()
    masked.scatter_(1, y[:, None], -torch.inf)
    return masked.topk(k, dim=1).indices


def boundary_offset(grad: torch.Tensor, x: torch.Tensor, gap: torch.Tensor) -> torch.Tensor:
    """b of the boundary f_j = f_y linearised at x: <grad, z> = b = <grad, x> - (f_j - f_y)(x)
    (grad (..., d), x broadcastable to it, gap the matching (...) values of f_j - f_y at x)."""
    return (grad * x).sum(-1) - gap


def linearised_boundaries(model, x: torch.Tensor, shape, y: torch.Tensor, classes: torch.Tensor, with_top: bool = True):
    """Linearise the boundaries f_j = f_y at x for the classes j of each row (B, H), plus
    (with_top) the class other than y with the largest logit at x (the most competitive class
    right here, as column H).

    Returns (grad (B, H', d), offset (B, H')): the boundaries <grad, z> = offset.
    One backward pass per column through one graph: memory O(B d) per pass, not O(K B d).
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = flat_forward(model, x, shape)
        if with_top:
            classes = torch.cat([classes, top_other_classes(logits, y, 1)], dim=1)
        gap = logits.gather(1, classes) - logits.gather(1, y[:, None])
        grads = [
            torch.autograd.grad(gap[:, r].sum(), x, retain_graph=r + 1 < classes.shape[1])[0]
            for r in range(classes.shape[1])
        ]
    grad = torch.stack(grads, dim=1)
    return grad, boundary_offset(grad, x.detach()[:, None, :], gap.detach())


def nearest_classes(model, x: torch.Tensor, shape, y: torch.Tensor, geo, screen: int) -> torch.Tensor:
    """The `screen` classes with the largest logits (B, screen), ordered by the distance from x to
    their boundaries linearised at x, inside the box (closest first); one backward pass and one
    projection per class, one at a time (memory O(B d))."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = flat_forward(model, x, shape)
        screened = top_other_classes(logits, y, screen)
        gap = logits.gather(1, screened) - logits.gather(1, y[:, None])
        dist = []
        for r in range(screen):
            (g,) = torch.autograd.grad(gap[:, r].sum(), x, retain_graph=r + 1 < screen)
            offset = boundary_offset(g, x.detach(), gap[:, r].detach())
            dist.append(geo.project(x.detach(), g[:, None], offset[:, None])[0][:, 0])
    order = torch.stack(dist, dim=1).argsort(dim=1, stable=True)
    return screened.gather(1, order)
