"""Feature transforms applied before the classifier head, then scored with the energy:
ReAct (clip activations), ASH (prune each row to its top activations; -p prune, -b binarise,
-s rescale), SCALE (rescale without pruning) and DICE (sparsify the head's weights).
Inputs are torch tensors (B, D) of non-negative penultimate activations (post-ReLU)."""
from __future__ import annotations

import numpy as np

from .detectors import _tensor


def react_threshold(feats_id, percentile: float = 90.0) -> float:
    """ReAct's clip value: a percentile of all in-distribution activations."""
    import torch
    z = _tensor(feats_id, "feats_id").to(torch.float64)
    if not 0 < percentile < 100:
        raise ValueError(f"percentile: expected a value in (0, 100), got {percentile!r}")
    return float(torch.quantile(z.flatten(), percentile / 100.0))


def react(feats, clip: float):
    """min(z, clip) elementwise (Sun et al. 2021)."""
    return _tensor(feats, "feats").clamp(max=float(clip))


def _keep_top(z, percentile):
    import torch
    if not 0 <= percentile < 100:
        raise ValueError(f"percentile: expected a value in [0, 100), got {percentile!r}")
    k = max(1, int(round(z.shape[1] * (1 - percentile / 100.0))))
    thresh = torch.topk(z, k, dim=1).values[:, -1:]
    return z >= thresh


def ash(feats, percentile: float = 90.0, mode: str = "s"):
    """ASH (Djurisic et al. 2023): zero all but each row's top (100 - percentile)% activations;
    mode "p" leaves the kept values, "b" sets them to the row's total / kept count, "s" scales them
    by exp(total / kept total)."""
    import torch
    z = _tensor(feats, "feats").to(torch.float64)
    if mode not in ("p", "b", "s"):
        raise ValueError(f"mode: expected 'p', 'b' or 's', got {mode!r}")
    keep = _keep_top(z, percentile)
    pruned = torch.where(keep, z, torch.zeros_like(z))
    total, kept = z.sum(1, keepdim=True), pruned.sum(1, keepdim=True)
    if mode == "p":
        out = pruned
    elif mode == "b":
        out = torch.where(keep, total / keep.sum(1, keepdim=True), torch.zeros_like(z))
    else:
        out = pruned * torch.exp(total / kept.clamp_min(1e-12))
    return out.to(_tensor(feats, "feats").dtype)


def scale(feats, percentile: float = 85.0):
    """SCALE (Xu et al. 2024): every activation times exp(total / total of the top ones); no pruning."""
    import torch
    z = _tensor(feats, "feats").to(torch.float64)
    keep = _keep_top(z, percentile)
    top = torch.where(keep, z, torch.zeros_like(z)).sum(1, keepdim=True)
    return (z * torch.exp(z.sum(1, keepdim=True) / top.clamp_min(1e-12))).to(_tensor(feats, "feats").dtype)


def dice_weights(W, feats_id, sparsity: float = 0.9):
    """DICE (Sun & Li 2022): keep the head weights whose mean contribution mean(z)_j * W_cj is in
    the top (1 - sparsity) fraction; zero the rest. Returns the sparsified (C, D) weights."""
    import torch
    Wt = _tensor(W, "W").to(torch.float64)
    z = _tensor(feats_id, "feats_id").to(torch.float64)
    if z.shape[1] != Wt.shape[1]:
        raise ValueError(f"feats_id: expected {Wt.shape[1]} features (W's columns), got {z.shape[1]}")
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity: expected a value in [0, 1), got {sparsity!r}")
    contrib = Wt * z.mean(0, keepdim=True)
    k = max(1, int(round(contrib.numel() * (1 - sparsity))))
    thresh = torch.topk(contrib.flatten(), k).values[-1]
    return torch.where(contrib >= thresh, Wt, torch.zeros_like(Wt))


def energy(feats, W, b=None, temperature: float = 1.0):
    """T * logsumexp((z W^T + b) / T): the score the transforms above are used with."""
    import torch
    z = _tensor(feats, "feats").to(torch.float64)
    Wt = _tensor(W, "W").to(torch.float64)
    logits = z @ Wt.T + (0 if b is None else torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b,
                                                               dtype=torch.float64))
    return temperature * torch.logsumexp(logits / temperature, dim=1)
