"""Scores that are one pass over the logits, all six at once (higher = more in-distribution):

    msp       = max softmax probability at temperature T = max softmax(l / T) = exp(max l / T - lse(l / T))
    maxlogit  = max l
    energy    = T * lse(l / T)                       (free energy, negated)
    entropy   = sum_c p_c l_c - lse l                (the negated entropy of the softmax)
    gen       = -sum_c p_c^g (1 - p_c)^g             (GEN, Liu et al. 2023; over all classes,
                                                      or the top-M probabilities with M given)
    margin    = top-1 logit - top-2 logit

`temperature` (T, default 1) is shared by msp and energy, the two scores defined with one (MSP
with T is ODIN's score without the input perturbation); the others use the plain softmax.

On CUDA tensors a fused Triton kernel reads each row once (one program per row, classes in one
block, up to 16,384 classes); elsewhere a lean torch path runs (logit_scores_torch); the float64
logit_scores_ref is the oracle both are tested against. Logits are (batch, classes) float torch
tensors or NumPy arrays; the scores come back as the same kind (NumPy in, NumPy out).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _inputs

SCORES = ("msp", "maxlogit", "energy", "entropy", "gen", "margin")
MAX_TRITON_CLASSES = 16384


def _as_logits(logits):
    t = _inputs.data(logits, "logits", 2, what="(batch, classes)")
    if t.shape[1] < 2:
        raise ValueError(f"logits: expected (batch >= 1, classes >= 2), got shape {tuple(t.shape)}")
    return t


def _check_temperature(temperature) -> float:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.integer, np.floating))
        or not (math.isfinite(temperature) and temperature > 0)
    ):
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    return float(temperature)


def logit_scores_ref(logits, temperature: float = 1.0, gen_gamma: float = 0.1, gen_top=None) -> dict:
    """The plain-torch reference (float64 inside for accuracy, results in the input dtype)."""
    import torch

    numpy_out, logits = not _inputs.is_torch(logits), _as_logits(logits)
    temperature = _check_temperature(temperature)
    l = logits.to(torch.float64)
    lse = torch.logsumexp(l, dim=1)
    p = torch.softmax(l, dim=1)
    top2 = torch.topk(l, 2, dim=1).values
    # GEN in log space: log p = l - lse, and for the top class log(1 - p) = lse(others) - lse, which
    # keeps its (1 - p)^g exact when p rounds to 1 (a plain 1 - p would give 0).
    is_top = torch.zeros_like(l, dtype=torch.bool).scatter_(1, l.argmax(dim=1, keepdim=True), True)
    lse_rest = torch.logsumexp(l.masked_fill(is_top, -float("inf")), dim=1)
    log_p = l - lse[:, None]
    log_1mp = torch.where(is_top, (lse_rest - lse)[:, None], torch.log1p(-p.clamp(max=0.5)))
    terms = torch.exp(gen_gamma * (log_p + log_1mp))
    if gen_top is not None:
        terms = torch.gather(terms, 1, torch.topk(p, min(int(gen_top), l.shape[1]), dim=1).indices)
    out = {
        "msp": torch.softmax(l / temperature, dim=1).max(dim=1).values,
        "maxlogit": top2[:, 0],
        "energy": temperature * torch.logsumexp(l / temperature, dim=1),
        "entropy": (p * l).sum(dim=1) - lse,
        "gen": -terms.sum(dim=1),
        "margin": top2[:, 0] - top2[:, 1],
    }
    return _inputs.as_output({k: v.to(logits.dtype) for k, v in out.items()}, numpy_out)


def logit_scores_torch(logits, temperature: float = 1.0, gen_gamma: float = 0.1, gen_top=None, which=SCORES) -> dict:
    """The default off-GPU path: the requested scores in the input dtype, with as few passes over
    the logits as they need (one exp shared by MSP, entropy and GEN at T = 1; log p = l - lse, so
    GEN needs one log1p; the argmax's 1 - p comes from the other classes' mass, which keeps GEN
    exact when p rounds to 1)."""
    numpy_out, logits = not _inputs.is_torch(logits), _as_logits(logits)
    which = _check_which(which)
    return _inputs.as_output(
        _torch_scores(logits, _check_temperature(temperature), gen_gamma, gen_top, which), numpy_out
    )


def _torch_scores(logits, temperature, gen_gamma, gen_top, which) -> dict:
    import torch

    l = logits if logits.dtype in (torch.float32, torch.float64) else logits.float()
    top1, arg = l.max(dim=1, keepdim=True)
    out = {}
    if "maxlogit" in which:
        out["maxlogit"] = top1[:, 0]
    if "margin" in which:
        out["margin"] = top1[:, 0] - torch.topk(l, 2, dim=1).values[:, 1]
    if temperature != 1.0 and ("energy" in which or "msp" in which):
        # with m = max l: sum_t = sum exp((l - m) / T), energy = m + T log sum_t, msp = 1 / sum_t
        sum_t = torch.exp((l - top1) / temperature).sum(dim=1)
        if "energy" in which:
            out["energy"] = top1[:, 0] + temperature * torch.log(sum_t)
        if "msp" in which:
            out["msp"] = 1.0 / sum_t
    if any(k in which and k not in out for k in ("msp", "entropy", "gen", "energy")):
        e = torch.exp(l - top1)
        s = e.sum(dim=1, keepdim=True)
        lse = top1 + torch.log(s)
        if "energy" in which and "energy" not in out:
            out["energy"] = lse[:, 0]
        if "msp" in which and "msp" not in out:
            out["msp"] = 1.0 / s[:, 0]
        if "entropy" in which:
            out["entropy"] = (e * l).sum(dim=1) / s[:, 0] - lse[:, 0]
        if "gen" in which:
            out["gen"] = _gen(l, e, s, lse, arg, gen_gamma, gen_top)
    return {k: out[k].to(logits.dtype) for k in SCORES if k in which}


def _gen(l, e, s, lse, arg, gen_gamma, gen_top):
    import torch

    p = e / s
    terms = torch.exp(gen_gamma * ((l - lse) + torch.log1p(-p.clamp(max=0.5))))
    # the argmax column: p_top = 1 / s, 1 - p_top = (s - 1) / s = rest / s
    rest = s - 1.0
    inexact = rest[:, 0] < 1e-3  # s - 1 loses digits when rest is tiny
    if bool(inexact.any()):
        rows = inexact.nonzero()[:, 0]
        rest[rows] = e[rows].scatter(1, arg[rows], 0.0).sum(dim=1, keepdim=True)
    top_term = torch.exp(gen_gamma * (torch.log(rest) - 2 * torch.log(s)))
    terms.scatter_(1, arg, torch.where(rest > 0, top_term, torch.zeros_like(top_term)))
    if gen_top is not None:
        terms = torch.gather(terms, 1, torch.topk(p, min(int(gen_top), l.shape[1]), dim=1).indices)
    return -terms.sum(dim=1)


def _check_which(which) -> tuple:
    which = tuple(which)
    unknown = [k for k in which if k not in SCORES]
    if unknown or not which:
        raise ValueError(f"which: expected a non-empty subset of {SCORES}, got {which!r}")
    return which


def logit_scores(
    logits, temperature: float = 1.0, gen_gamma: float = 0.1, gen_top=None, backend: str = "auto", which=SCORES
) -> dict:
    """The scores in `which` (default all six) in one pass. temperature: T of msp and energy.
    backend: "auto" (Triton on CUDA, else torch), "torch" or "triton" (forces the kernel, e.g.
    under TRITON_INTERPRET=1 on the CPU). NumPy logits give NumPy scores, tensors give tensors."""
    which = _check_which(which)
    temperature = _check_temperature(temperature)
    if not (np.isfinite(gen_gamma) and gen_gamma > 0):
        raise ValueError(f"gen_gamma: expected a positive number, got {gen_gamma!r}")
    if gen_top is not None and not (isinstance(gen_top, (int, np.integer)) and gen_top >= 1):
        raise ValueError(f"gen_top: expected None or an int >= 1, got {gen_top!r}")
    if backend not in ("auto", "torch", "triton"):
        raise ValueError(f"backend: expected 'auto', 'torch' or 'triton', got {backend!r}")
    numpy_out, logits = not _inputs.is_torch(logits), _as_logits(logits)
    fits = logits.shape[1] <= MAX_TRITON_CLASSES and (gen_top is None or gen_top >= logits.shape[1])
    use_triton = backend == "triton" or (backend == "auto" and logits.is_cuda and fits)
    if use_triton:
        if not fits:
            raise ValueError(f"backend='triton': supports up to {MAX_TRITON_CLASSES} classes and GEN over all of them")
        from ._logits_triton import logit_scores_triton

        scores = logit_scores_triton(logits, temperature, float(gen_gamma))
        return _inputs.as_output({k: scores[k] for k in which}, numpy_out)
    return _inputs.as_output(_torch_scores(logits, temperature, gen_gamma, gen_top, which), numpy_out)
