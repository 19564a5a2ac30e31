"""The fused Triton kernel behind logit_scores (reference: logits.logit_scores_ref); msp and energy
at temperature T, the other scores at T = 1."""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _logit_scores_kernel(l_ptr, out_ptr, C, stride_row, inv_t, temperature, gamma, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    valid = offs < C
    l = tl.load(l_ptr + row * stride_row + offs, mask=valid, other=-float("inf")).to(tl.float32)
    top1 = tl.max(l, 0)
    first = tl.min(tl.where(l == top1, offs, BLOCK), 0)  # one argmax, ties broken low
    top2 = tl.max(tl.where(offs == first, -float("inf"), l), 0)
    lz = tl.where(valid, l, 0.0)  # padding lanes read as 0 below
    e = tl.where(valid, tl.exp(lz - top1), 0.0)
    s = tl.sum(e, 0)
    lse = top1 + tl.log(s)
    p = e / s
    pl = tl.sum(p * lz, 0)
    lt = lz * inv_t
    mt = top1 * inv_t
    et = tl.where(valid, tl.exp(lt - mt), 0.0)
    st = tl.sum(et, 0)
    energy = temperature * (mt + tl.log(st))
    # GEN: p^g (1-p)^g = exp(g (log p + log(1-p))). Only the top class can have p > 1/2, where
    # 1 - p would cancel in float32: there log(1-p) = log(sum of the other classes) - log(s).
    s_rest = tl.sum(tl.where(offs == first, 0.0, e), 0)
    inner = valid & (e > 0)
    p_safe = tl.where(inner, p, 0.5)
    log_top_rest = tl.where(s_rest > 0, tl.log(tl.maximum(s_rest, 1e-38)) - tl.log(s), -float("inf"))
    log_rest = tl.where(offs == first, log_top_rest, tl.log(1.0 - p_safe))
    term = tl.where(inner, tl.exp(gamma * (tl.log(p_safe) + log_rest)), 0.0)
    gen = -tl.sum(term, 0)
    base = out_ptr + row * 6
    tl.store(base + 0, 1.0 / st)  # max softmax(l / T) = exp(0) / st
    tl.store(base + 1, top1)
    tl.store(base + 2, energy)
    tl.store(base + 3, pl - lse)
    tl.store(base + 4, gen)
    tl.store(base + 5, top1 - top2)


def logit_scores_triton(logits: torch.Tensor, temperature: float, gamma: float) -> dict:
    B, C = logits.shape
    l = logits.contiguous()
    out = torch.empty((B, 6), dtype=torch.float32, device=l.device)
    block = triton.next_power_of_2(C)
    _logit_scores_kernel[(B,)](l, out, C, l.stride(0), 1.0 / temperature, temperature, gamma, BLOCK=block)
    names = ("msp", "maxlogit", "energy", "entropy", "gen", "margin")
    return {k: out[:, i].to(logits.dtype) for i, k in enumerate(names)}
