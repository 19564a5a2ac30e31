"""A heuristic search for sub-forests with extreme global importance, for candidate orders.

Global importance over rows (mean |phi| or root mean square of phi) is not linear in the trees:
its exact extremes over the sub-forests of m trees are combinatorial problems. This module finds
sub-forests that are good candidates for them (Laberge et al. 2023 use the same three moves):

- the smallest importance of feature i: the linear-programming relaxation of min sum_r |phi_i|
  over tree weights z in [0, 1]^M with sum z = m, rounded to its m largest weights;
- the largest importance of feature i: coordinate ascent, alternating the rows' signs (mean |phi|)
  or values (root mean square) of the current sub-forest with the m trees that best follow them;
- per pair (i, j): the m trees with the smallest and the largest mean of s_i phi_i - s_j phi_j
  over the rows where both signs are agreed (exact for that linear stand-in).

A relation that holds on every sub-forest found is a candidate: necessary for the true order,
not proven by it.
"""

from __future__ import annotations

import numpy as np

from .subforests import subset_means


def importance_of(phis, trees, importance: str) -> np.ndarray:
    """(d,): the global importance of the sub-forest `trees` from per-tree values phis (n, d, M)."""
    phi = phis[..., trees].mean(axis=-1)
    return np.abs(phi).mean(axis=0) if importance == "mean_abs" else np.sqrt(np.mean(phi**2, axis=0))


def _smallest_by_lp(values, m: int) -> np.ndarray:
    """The m trees of the rounded LP relaxation of min over z of sum_r |values[r] @ z|."""
    from scipy.optimize import linprog
    from scipy.sparse import bmat, csr_matrix, identity

    n, M = values.shape
    V, eye = csr_matrix(values), identity(n, format="csr")
    # variables (z, t): minimise sum t subject to +-values z <= t, sum z = m, 0 <= z <= 1
    A_ub = bmat([[V, -eye], [-V, -eye]], format="csr")
    res = linprog(
        np.concatenate([np.zeros(M), np.ones(n)]),
        A_ub=A_ub,
        b_ub=np.zeros(2 * n),
        A_eq=np.concatenate([np.ones(M), np.zeros(n)])[None, :],
        b_eq=[m],
        bounds=[(0, 1)] * M + [(0, None)] * n,
        method="highs",
    )
    z = res.x[:M] if res.success else -np.abs(values).mean(axis=0)
    return np.sort(np.argsort(-z, kind="stable")[:m])


def _largest_by_ascent(values, m: int, importance: str, start) -> np.ndarray:
    """Coordinate ascent from the trees `start` towards the largest importance of one feature."""
    trees = np.sort(start)
    for _ in range(50):
        current = values[:, trees].mean(axis=1)
        weights = np.sign(current) if importance == "mean_abs" else current
        nxt = np.sort(np.argsort(-(weights @ values), kind="stable")[:m])
        if np.array_equal(nxt, trees):
            break
        trees = nxt
    return trees


def candidate_subforests(phis, m: int, importance: str) -> list:
    """Index arrays of sub-forests of m trees found by the three moves (plus the whole forest),
    from per-tree values phis (n, d, M)."""
    n, d, M = phis.shape
    found = [np.arange(M)]
    lo, hi = subset_means(phis, m)
    agreed = (lo > 0) | (hi < 0)  # (n, d)
    sign = np.sign(lo + hi)
    for i in range(d):
        values = phis[:, i, :]
        found.append(_smallest_by_lp(values, m))
        # start from the trees most often among a row's m most extreme (the sign of its larger end)
        flip = np.where(np.abs(hi[:, i]) >= np.abs(lo[:, i]), 1.0, -1.0)[:, None]
        votes = np.zeros(M)
        np.add.at(votes, np.argsort(-flip * values, axis=1, kind="stable")[:, :m].ravel(), 1.0)
        found.append(_largest_by_ascent(values, m, importance, np.argsort(-votes, kind="stable")[:m]))
        found.append(_largest_by_ascent(values, m, importance, np.argsort(-np.abs(values).mean(0))[:m]))
        for j in range(i + 1, d):
            rows = agreed[:, i] & agreed[:, j]
            if not rows.any():
                continue
            diff = (sign[rows, i, None] * phis[rows, i, :] - sign[rows, j, None] * phis[rows, j, :]).mean(axis=0)
            order = np.argsort(diff, kind="stable")
            found += [np.sort(order[:m]), np.sort(order[-m:])]
    return found
