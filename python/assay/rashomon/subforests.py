"""Bounds over the sub-forests of m trees, for every m at once.

A sub-forest S of m of the M trees predicts the mean of its trees. Any quantity linear in the
trees (a prediction, a SHAP value, a partial dependence) therefore ranges over the sub-forests
of m trees exactly between the mean of its m smallest and the mean of its m largest per-tree
values; both extremes are monotone in m, so the sub-forests of at least m trees span the same range.

Two upper bounds on the error of the worst sub-forest of m trees, both valid for every m:

- convexity (regression): the MSE is convex in the prediction, so a sub-forest's MSE is at most
  the mean of its trees' MSEs, hence at most the mean of the m largest per-tree MSEs. Tight for
  small m, but at m = M it is the mean per-tree MSE, above the forest's own MSE.
- prediction range (Laberge et al. 2023, epsilon^+(m)): at every row a sub-forest's prediction
  lies in [lo_m(x), hi_m(x)], so its squared error is at most max((lo - y)^2, (hi - y)^2) and its
  0-1 error (class 1 when the probability exceeds 1/2) is 1 when either end is misclassified.
  At m = M the range is the forest's own prediction: the bound is the forest's own error.

The combined bound is the smaller of the two at each m (still valid, still non-increasing in m).
"""

from __future__ import annotations

import numpy as np


def subset_means(values, m: int):
    """(lo, hi): means of the m smallest and of the m largest entries along the last axis of
    `values` (..., M), i.e. the extremes of the mean over every subset of m entries."""
    srt = np.sort(values, axis=-1)
    return srt[..., :m].mean(axis=-1), srt[..., -m:].mean(axis=-1)


def subset_mean_curves(values):
    """(lo, hi), each (..., M): entry m - 1 holds the means of the m smallest / m largest entries
    along the last axis of `values` (..., M), for m = 1..M."""
    srt = np.sort(values, axis=-1)
    m = np.arange(1, srt.shape[-1] + 1)
    lo = np.cumsum(srt, axis=-1) / m
    hi = np.cumsum(srt[..., ::-1], axis=-1) / m
    return lo, hi


def convexity_bound(tree_mse):
    """(M,): entry m - 1 bounds the RMSE of every sub-forest of m trees by the square root of the
    mean of the m largest per-tree MSEs. tree_mse: (M,) per-tree mean squared errors."""
    worst = np.sort(np.asarray(tree_mse, dtype=np.float64))[::-1]
    return np.sqrt(np.cumsum(worst) / np.arange(1, worst.size + 1))


def range_bound(tree_outputs, y, task: str = "regression"):
    """(M,): entry m - 1 bounds the error of every sub-forest of m trees through the range of
    its predictions (the paper's epsilon^+(m)): for regression the RMSE, sqrt(mean over rows of
    max((lo_m - y)^2, (hi_m - y)^2)); for classification the misclassification rate, the mean
    over rows of "lo_m or hi_m is on the wrong side of 1/2". tree_outputs: (M, n) per-tree
    predictions (class-1 probabilities for classification); y: (n,) targets (0/1 labels)."""
    lo, hi = subset_mean_curves(np.asarray(tree_outputs, dtype=np.float64).T)  # (n, M)
    y = np.asarray(y, dtype=np.float64)[:, None]
    if task == "regression":
        return np.sqrt(np.mean(np.maximum((lo - y) ** 2, (hi - y) ** 2), axis=0))
    if task == "classification":
        return np.mean(((lo > 0.5) != y) | ((hi > 0.5) != y), axis=0)
    raise ValueError(f"task: expected 'regression' or 'classification', got {task!r}")
