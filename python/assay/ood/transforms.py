"""Feature transforms applied before the classifier head, then scored with the energy:
ReAct (clip activations), ASH (prune each row to its top activations; -p prune, -b binarise,
-s rescale), SCALE (rescale without pruning) and DICE (sparsify the head's weights).
Inputs are (B, D) float torch tensors or NumPy arrays of non-negative penultimate activations
(post-ReLU); results come back as the kind of array that came in (a tensor when any input is one).

ASH, SCALE and DICE follow the authors' code, counts and ties included: ASH and SCALE keep exactly
k = D - round(D * percentile / 100) entries per row (numpy's round, half to even), the ones
torch.topk returns; DICE keeps the weights whose contribution is strictly above numpy's
percentile of all contributions.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _inputs


def react_threshold(feats_id, percentile: float = 90.0) -> float:
    """ReAct's clip value: a percentile of all in-distribution activations (numpy's linear rule)."""
    import torch

    z = _inputs.data(feats_id, "feats_id").to(torch.float64)
    if not 0 < percentile < 100:
        raise ValueError(f"percentile: expected a value in (0, 100), got {percentile!r}")
    return float(torch.quantile(z.flatten(), percentile / 100.0))


def react(feats, clip: float):
    """min(z, clip) elementwise (Sun et al. 2021)."""
    z = _inputs.data(feats, "feats")
    if isinstance(clip, bool) or not isinstance(clip, (int, float, np.integer, np.floating)) or math.isnan(clip):
        raise TypeError(f"clip: expected a real number, got {clip!r}")
    return _inputs.as_output(z.clamp(max=float(clip)), not _inputs.is_torch(feats))


def _top_k_count(d: int, percentile) -> int:
    """The authors' count of kept activations per row: d - round(d * percentile / 100)."""
    if (
        isinstance(percentile, bool)
        or not isinstance(percentile, (int, float, np.integer, np.floating))
        or not 0 <= percentile < 100
    ):
        raise ValueError(f"percentile: expected a value in [0, 100), got {percentile!r}")
    k = d - int(np.round(d * percentile / 100.0))
    if k < 1:
        raise ValueError(
            f"percentile: {percentile} keeps no activation of a row of {d} "
            f"(k = {d} - round({d} * {percentile} / 100) = {k}); use a lower percentile"
        )
    return k


def _pruned(z, percentile):
    """(pruned rows: each row's top-k entries kept, the rest 0; their indices (B, k)). Exactly k
    per row even with ties: the entries torch.topk returns, as the authors' code."""
    import torch

    k = _top_k_count(z.shape[1], percentile)
    values, idx = torch.topk(z, k, dim=1)
    return torch.zeros_like(z).scatter_(1, idx, values), idx


def _sharpen(z, pruned, total):
    """z * exp(total / sum(pruned)) per row; where the kept sum is 0 (an all-zero row, which the
    authors' code turns into NaN) the row is returned unscaled."""
    import torch

    kept = pruned.sum(1, keepdim=True)
    safe = torch.where(kept == 0, torch.ones_like(kept), kept)
    return z * torch.where(kept == 0, torch.ones_like(kept), torch.exp(total / safe))


def ash(feats, percentile: float = 90.0, mode: str = "s"):
    """ASH (Djurisic et al. 2023): keep each row's top k = D - round(D * percentile / 100)
    activations (exactly k: the entries torch.topk returns, ties or not) and zero the rest.

    mode "p": the kept values as they are; "b": each kept entry set to the row's total / k (the
    row sum is preserved); "s": the kept values times exp(total / kept total). ASH-S leaves a row
    whose kept total is 0 (an all-zero row; the authors' code returns NaN there) unscaled: zeros.
    """
    import torch

    raw = _inputs.data(feats, "feats")
    if mode not in ("p", "b", "s"):
        raise ValueError(f"mode: expected 'p', 'b' or 's', got {mode!r}")
    pruned, idx = _pruned(raw, percentile)  # indices chosen in the input dtype, as the authors'
    z, pruned = raw.to(torch.float64), pruned.to(torch.float64)
    total = z.sum(1, keepdim=True)
    if mode == "p":
        out = pruned
    elif mode == "b":
        out = torch.zeros_like(z).scatter_(1, idx, (total / idx.shape[1]).expand(idx.shape))
    else:
        out = _sharpen(pruned, pruned, total)
    return _inputs.as_output(out.to(raw.dtype), not _inputs.is_torch(feats))


def scale(feats, percentile: float = 85.0):
    """SCALE (Xu et al. 2024): every activation times exp(total / total of the top k), k as in
    ash (exactly k entries); no pruning. A row whose top-k total is 0 is returned unscaled."""
    import torch

    raw = _inputs.data(feats, "feats")
    pruned, _ = _pruned(raw, percentile)
    z = raw.to(torch.float64)
    out = _sharpen(z, pruned.to(torch.float64), z.sum(1, keepdim=True))
    return _inputs.as_output(out.to(raw.dtype), not _inputs.is_torch(feats))


def dice_weights(W, feats_id, sparsity: float = 0.9):
    """DICE (Sun & Li 2022): contributions c_cj = mean(z)_j * W_cj over the ID features; keep the
    weights with c_cj > the sparsity-quantile of all contributions (numpy's percentile with its
    linear interpolation, strict >, as the authors' code) and zero the rest.

    The kept count is therefore the authors', not round((1 - sparsity) * C * D): contributions tied
    with the threshold are all dropped (e.g. 448 weights at sparsity 0.7 keep 135, not 134; at
    sparsity 0 the smallest contribution goes). Returns the (C, D) weights in W's dtype, as a
    tensor on W's device when W or feats_id is a tensor, else NumPy."""
    import torch

    Wt = _inputs.data(W, "W", 2, what="(classes, features)")
    z = _inputs.data(feats_id, "feats_id")
    if z.shape[1] != Wt.shape[1]:
        raise ValueError(f"feats_id: expected {Wt.shape[1]} features (W's columns), got {z.shape[1]}")
    if (
        isinstance(sparsity, bool)
        or not isinstance(sparsity, (int, float, np.integer, np.floating))
        or not 0 <= sparsity < 1
    ):
        raise ValueError(f"sparsity: expected a value in [0, 1), got {sparsity!r}")
    contrib = Wt.to(torch.float64) * z.to(torch.float64).mean(0, keepdim=True).to(Wt.device)
    thresh = float(np.quantile(contrib.cpu().numpy(), float(sparsity)))  # == np.percentile(c, 100 * sparsity)
    out = torch.where(contrib > thresh, Wt, torch.zeros_like(Wt))
    return _inputs.as_output(out, not _inputs.any_torch(W, feats_id))


def energy(feats, W, b=None, temperature: float = 1.0):
    """T * logsumexp((z W^T + b) / T): the score the transforms above are used with (float64;
    a tensor on feats' device when any input is a tensor, else NumPy)."""
    import torch

    z = _inputs.data(feats, "feats").to(torch.float64)
    Wt = _inputs.data(W, "W", 2, what="(classes, features)").to(dtype=torch.float64, device=z.device)
    if Wt.shape[1] != z.shape[1]:
        raise ValueError(f"W: expected {z.shape[1]} columns (one per feature of feats), got shape {tuple(Wt.shape)}")
    logits = z @ Wt.T
    if b is not None:
        bt = _inputs.data(b, "b", 1, what="(classes,)").to(dtype=torch.float64, device=z.device)
        if bt.shape[0] != Wt.shape[0]:
            raise ValueError(f"b: expected {Wt.shape[0]} values (one per row of W), got {bt.shape[0]}")
        logits = logits + bt
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.integer, np.floating))
        or not (math.isfinite(temperature) and temperature > 0)
    ):
        raise ValueError(f"temperature: expected a finite number > 0, got {temperature!r}")
    out = temperature * torch.logsumexp(logits / temperature, dim=1)
    return _inputs.as_output(out, not _inputs.any_torch(feats, W, b))
