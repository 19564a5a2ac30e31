"""ViM as one kernel (reference: vim_grood.ViM's torch path): per block of rows, a sweep over the
class tiles of z W^T + b with an online logsumexp, then a sweep over the residual directions of
(z - u) R accumulating the squared norm; score = lse - alpha * ||(z - u) R||."""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _tile_dot(
    x_ptr, y_ptr, rows, row_ok, cols, col_ok, D, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr
):
    acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
    for k0 in range(0, D, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_ok = ks < D
        a = tl.load(x_ptr + rows[:, None] * D + ks[None, :], mask=row_ok[:, None] & k_ok[None, :], other=0.0)
        b = tl.load(y_ptr + cols[None, :] * D + ks[:, None], mask=col_ok[None, :] & k_ok[:, None], other=0.0)
        acc += tl.dot(a, b, input_precision="ieee")
    return acc


@triton.jit
def _vim_kernel(
    z_ptr,
    zc_ptr,
    w_ptr,
    b_ptr,
    rt_ptr,
    out_ptr,
    alpha,
    M,
    C,
    DR,
    D,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid = tl.program_id(0)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < M
    run_max = tl.full((BLOCK_M,), -float("inf"), tl.float32)
    run_sum = tl.zeros((BLOCK_M,), tl.float32)
    for n0 in range(0, C, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        col_ok = cols < C
        logits = _tile_dot(z_ptr, w_ptr, rows, row_ok, cols, col_ok, D, BLOCK_M, BLOCK_N, BLOCK_K)
        logits += tl.load(b_ptr + cols, mask=col_ok, other=0.0)[None, :]
        logits = tl.where(col_ok[None, :], logits, -float("inf"))
        new_max = tl.maximum(run_max, tl.max(logits, 1))
        run_sum = run_sum * tl.exp(run_max - new_max) + tl.sum(tl.exp(logits - new_max[:, None]), 1)
        run_max = new_max
    sq = tl.zeros((BLOCK_M,), tl.float32)
    for n0 in range(0, DR, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        col_ok = cols < DR
        proj = _tile_dot(zc_ptr, rt_ptr, rows, row_ok, cols, col_ok, D, BLOCK_M, BLOCK_N, BLOCK_K)
        sq += tl.sum(tl.where(col_ok[None, :], proj * proj, 0.0), 1)
    tl.store(out_ptr + rows, run_max + tl.log(run_sum) - alpha * tl.sqrt(sq), mask=row_ok)


def vim_scores(z, W, b, u, R, alpha):
    f32 = lambda t: t.to(torch.float32).contiguous()
    z32 = f32(z)
    zc = f32(z - u.to(z.dtype))
    M, D = z32.shape
    out = torch.empty(M, dtype=torch.float32, device=z.device)
    _vim_kernel[(triton.cdiv(M, 16),)](
        z32,
        zc,
        f32(W),
        f32(b),
        f32(R.T),
        out,
        float(alpha),
        M,
        W.shape[0],
        R.shape[1],
        D,
        BLOCK_M=16,
        BLOCK_N=32,
        BLOCK_K=32,
    )
    return out
