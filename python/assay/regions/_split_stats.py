"""Row and column sums of the component matrices over the two children of every candidate split
of a node, from one pass over the node's blocks.

For a node with rows R and K candidate splits, I is the (|R|, K) 0/1 matrix of "row goes left".
For a component matrix F (rows x, columns z, both in R):
    row sums over the left child  S_row[x, k] = sum_{z in L_k} F[x, z]   (F @ I)
    column sums over the left child S_col[z, k] = sum_{x in L_k} F[x, z]   ((I^T @ F)^T)
and the right child's are the totals minus these. With bins (one bin id per row), the sums only
run over pairs in the same bin. A Side holds one child for every split at once: (|R|, K) arrays
whose rows outside the child are meaningless and masked by `inside`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class Sums:
    """Sums of one component matrix over the left children (|R|, K) and over the node (|R|,)."""

    row_left: np.ndarray
    row_total: np.ndarray
    col_left: np.ndarray
    col_total: np.ndarray
    sq_col_left: Optional[np.ndarray] = None  # column sums of F^2 (variances over x)
    sq_col_total: Optional[np.ndarray] = None


def component_sums(blocks, I, *, squares=False, bins=None):
    """Sums of F over the left children of the splits I ((n, K) float 0/1) and over the node, from
    `blocks` ((first row, F[lo:hi, :]) chunks); squares: also the column sums of F^2. With bins
    ((n,) bin ids) a pair (plain sums, sums over the pairs (x, z) in the same bin), one pass."""
    n, K = I.shape

    def empty():
        return Sums(np.empty((n, K)), np.empty(n), np.zeros((K, n)), np.zeros(n))

    out, same = empty(), (empty() if bins is not None else None)
    if squares:
        out.sq_col_left, out.sq_col_total = np.zeros((K, n)), np.zeros(n)
    for lo, F in blocks:
        _accumulate(out, lo, F, I, squares)
        if same is not None:
            _accumulate(same, lo, np.where(bins[lo : lo + F.shape[0], None] == bins[None, :], F, 0.0), I, False)
    for s in (out, same):
        if s is not None:
            s.col_left = s.col_left.T
            if s.sq_col_left is not None:
                s.sq_col_left = s.sq_col_left.T
    return out if same is None else (out, same)


def _accumulate(out, lo, F, I, squares):
    hi = lo + F.shape[0]
    out.row_left[lo:hi] = F @ I
    out.row_total[lo:hi] = F.sum(axis=1)
    out.col_left += I[lo:hi].T @ F
    out.col_total += F.sum(axis=0)
    if squares:
        F2 = F * F
        out.sq_col_left += I[lo:hi].T @ F2
        out.sq_col_total += F2.sum(axis=0)


@dataclass
class Side:
    """One child of every candidate split: inside (n, K) bool, size (K,), and per-child sums."""

    inside: np.ndarray
    size: np.ndarray

    @property
    def n(self):
        """The children's row counts as floats, at least 1 (an empty child's sums are all masked)."""
        return np.maximum(self.size, 1).astype(np.float64)

    def pick(self, left, total):
        """The child's part of a sum: `left` itself for the left child, total - left for the right."""
        raise NotImplementedError


class LeftSide(Side):
    """The left children (rows with x <= t)."""

    def pick(self, left, total):
        """The left child's sums: `left` itself ((n, K) or (K,))."""
        return left


class RightSide(Side):
    """The right children (rows with x > t)."""

    def pick(self, left, total):
        """The right child's sums: total - left (total broadcast over the K splits)."""
        return (total[:, None] if np.ndim(total) == 1 and np.ndim(left) == 2 else total) - left


def sides(I):
    """(left, right) Side objects for the splits I ((n, K) 0/1 float)."""
    inside = I > 0.5
    size = inside.sum(axis=0)
    return LeftSide(inside, size), RightSide(~inside, inside.shape[0] - size)


def goes_left(x, split) -> np.ndarray:
    """Which values of x go left under one split: x <= t for a threshold t, x in S for a frozenset S
    of category codes (unordered categorical columns)."""
    x = np.asarray(x)
    if isinstance(split, frozenset):
        return np.isin(x, np.fromiter(split, dtype=np.float64, count=len(split)))
    return x <= split


def left_indicator(x, splits) -> np.ndarray:
    """(n, K) float 0/1: row i goes left under each split k (thresholds or code sets, goes_left)."""
    if len(splits) and isinstance(splits[0], frozenset):
        return np.column_stack([goes_left(x, s) for s in splits]).astype(np.float64)
    return (np.asarray(x)[:, None] <= np.asarray(splits, dtype=np.float64)[None, :]).astype(np.float64)


def bin_counts(bins, I):
    """For each row x and split k: how many rows z of the left child share x's bin ((n, K)), and
    how many of the node do ((n,))."""
    B = bins.max() + 1 if bins.size else 0
    onehot = np.zeros((bins.size, B))
    onehot[np.arange(bins.size), bins] = 1.0
    left = (onehot.T @ I)[bins]
    return left, np.bincount(bins, minlength=B)[bins].astype(np.float64)
