"""Slow, obviously correct oracles for tests: Shapley values by enumerating every coalition.

Cost O(2^d * n_bg) model evaluations per row; use only with d <= ~10 and tiny backgrounds.
"""
from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np


def brute_force_shap(predict, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Interventional SHAP values of one row x: (d, K).

    predict maps an (m, d) matrix to (m, K) raw outputs. v(S) = mean_z predict(x_S, z_rest).
    """
    x = np.asarray(x, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)
    d = x.shape[0]
    value = {}
    for size in range(d + 1):
        for S in combinations(range(d), size):
            hybrid = bg.copy()
            hybrid[:, list(S)] = x[list(S)]
            value[S] = np.asarray(predict(hybrid)).reshape(bg.shape[0], -1).mean(axis=0)
    K = value[()].shape[0]
    phi = np.zeros((d, K))
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for size in range(d):
            w = factorial(size) * factorial(d - size - 1) / factorial(d)
            for S in combinations(others, size):
                with_i = tuple(sorted(S + (i,)))
                phi[i] += w * (value[with_i] - value[S])
    return phi
