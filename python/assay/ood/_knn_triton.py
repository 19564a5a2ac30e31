"""KNN as one GEMM with a streaming top-k epilogue (reference: detectors.KNN's torch path).

One program owns BLOCK_M queries and sweeps the bank in BLOCK_N tiles, keeping each row's k best
cosine similarities in registers; a tile is merged (k extractions of the maximum over the running
best and the tile) only when some row has a candidate above its current k-th best, which after the
first tiles is rare. Memory: O(batch x k); the (batch x bank) matrix never exists."""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _knn_kernel(
    q_ptr,
    b_ptr,
    bnorm_ptr,
    out_ptr,
    M,
    NB,
    D,
    K,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    K_PAD: tl.constexpr,
    EUCLID: tl.constexpr,
):
    pid = tl.program_id(0)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < M
    kcols = tl.arange(0, K_PAD)
    best = tl.full((BLOCK_M, K_PAD), -float("inf"), tl.float32)
    for n0 in range(0, NB, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        col_ok = cols < NB
        acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
        for k0 in range(0, D, BLOCK_K):
            ks = k0 + tl.arange(0, BLOCK_K)
            k_ok = ks < D
            a = tl.load(q_ptr + rows[:, None] * D + ks[None, :], mask=row_ok[:, None] & k_ok[None, :], other=0.0)
            b = tl.load(b_ptr + cols[None, :] * D + ks[:, None], mask=col_ok[None, :] & k_ok[:, None], other=0.0)
            acc += tl.dot(a, b, input_precision="ieee")
        if EUCLID:  # rank by 2 q.b - |b|^2 = |q|^2 - |q - b|^2 (|q|^2 is the same for the whole row)
            acc = 2.0 * acc - tl.load(bnorm_ptr + cols, mask=col_ok, other=0.0)[None, :]
        acc = tl.where(col_ok[None, :], acc, -float("inf"))
        kth = tl.min(tl.where(kcols[None, :] < K, best, float("inf")), 1)  # current k-th best per row
        if tl.max(tl.max(acc, 1) - kth, 0) > 0:  # some row has a new candidate
            # merge: take the k largest of (best, this tile) by repeated extraction of the maximum
            bcur = tl.where(kcols[None, :] < K, best, -float("inf"))
            acur = acc
            ncols = tl.arange(0, BLOCK_N)
            new = tl.full((BLOCK_M, K_PAD), -float("inf"), tl.float32)
            for j in range(0, K):
                m1 = tl.max(bcur, 1)
                m2 = tl.max(acur, 1)
                new = tl.where(kcols[None, :] == j, tl.maximum(m1, m2)[:, None], new)
                from_best = m1 >= m2
                fb = tl.min(tl.where(bcur == m1[:, None], kcols[None, :], K_PAD), 1)
                fa = tl.min(tl.where(acur == m2[:, None], ncols[None, :], BLOCK_N), 1)
                bcur = tl.where(from_best[:, None] & (kcols[None, :] == fb[:, None]), -float("inf"), bcur)
                acur = tl.where((m1 < m2)[:, None] & (ncols[None, :] == fa[:, None]), -float("inf"), acur)
            best = new
    kth = tl.min(tl.where(kcols[None, :] < K, best, float("inf")), 1)
    tl.store(out_ptr + rows, kth, mask=row_ok)


def _run(q, b, k, euclid):
    q = q.to(torch.float32).contiguous()
    b = b.to(torch.float32).contiguous()
    M, D = q.shape
    out = torch.empty(M, dtype=torch.float32, device=q.device)
    bnorm = (b * b).sum(1).contiguous()
    k_pad = max(16, triton.next_power_of_2(k))
    _knn_kernel[(triton.cdiv(M, 16),)](
        q, b, bnorm, out, M, b.shape[0], D, k, BLOCK_M=16, BLOCK_N=64, BLOCK_K=32, K_PAD=k_pad, EUCLID=euclid
    )
    return out


def kth_similarity(queries: torch.Tensor, bank: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th largest cosine similarity of each (unit-norm) query against the (unit-norm) bank."""
    return _run(queries, bank, k, False)


def kth_distance(queries: torch.Tensor, bank: torch.Tensor, k: int) -> torch.Tensor:
    """The Euclidean distance of each query to its k-th nearest bank row."""
    best = _run(queries, bank, k, True)
    qn = (queries.to(torch.float32) ** 2).sum(1)
    return torch.sqrt(torch.clamp(qn - best, min=0.0))
