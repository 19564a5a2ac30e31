"""Mahalanobis / RMDS as one GEMM with a row-min epilogue (reference: detectors.Mahalanobis).

With P = L L^T, (z - mu_c)^T P (z - mu_c) = ||z'||^2 - 2 z'.mu'_c + ||mu'_c||^2 for z' = z L and
mu' = mu L. One program owns BLOCK_M rows and sweeps every class tile, accumulating z' mu'^T over
the features and keeping a running row-minimum: the (batch x classes) matrix never exists."""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _min_distance_kernel(
    z_ptr, mu_ptr, mu_norm_ptr, out_ptr, M, C, D, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr
):
    pid = tl.program_id(0)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < M
    best = tl.full((BLOCK_M,), float("inf"), tl.float32)
    znorm = tl.zeros((BLOCK_M,), tl.float32)
    for n0 in range(0, C, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        col_ok = cols < C
        acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
        for k0 in range(0, D, BLOCK_K):
            ks = k0 + tl.arange(0, BLOCK_K)
            k_ok = ks < D
            a = tl.load(z_ptr + rows[:, None] * D + ks[None, :], mask=row_ok[:, None] & k_ok[None, :], other=0.0)
            b = tl.load(mu_ptr + cols[None, :] * D + ks[:, None], mask=col_ok[None, :] & k_ok[:, None], other=0.0)
            acc += tl.dot(a, b, input_precision="ieee")  # no TF32: distances need fp32
            if n0 == 0:
                znorm += tl.sum(a * a, 1)
        norms = tl.load(mu_norm_ptr + cols, mask=col_ok, other=float("inf"))
        cand = norms[None, :] - 2.0 * acc
        cand = tl.where(col_ok[None, :], cand, float("inf"))
        best = tl.minimum(best, tl.min(cand, 1))
    tl.store(out_ptr + rows, best + znorm, mask=row_ok)


def min_class_distance(z_prime: torch.Tensor, mu_prime: torch.Tensor) -> torch.Tensor:
    """min_c ||z'_i - mu'_c||^2 for every row i (float32)."""
    z = z_prime.to(torch.float32).contiguous()
    mu = mu_prime.to(torch.float32).contiguous()
    M, D = z.shape
    C = mu.shape[0]
    out = torch.empty(M, dtype=torch.float32, device=z.device)
    norms = (mu * mu).sum(1).contiguous()
    grid = (triton.cdiv(M, 16),)
    _min_distance_kernel[grid](z, mu, norms, out, M, C, D, BLOCK_M=16, BLOCK_N=16, BLOCK_K=16)
    return out
