"""Partial-dependence rows: the rows whose mean prediction is a feature's partial dependence."""

from __future__ import annotations

import numpy as np


def feature_index(feature, names) -> int:
    """The position of `feature` (a name in `names`, or an int index) among the features."""
    if isinstance(feature, str):
        if feature not in names:
            raise ValueError(f"feature: expected one of {names}, got {feature!r}")
        return names.index(feature)
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool) and 0 <= feature < len(names):
        return int(feature)
    raise ValueError(f"feature: expected a feature name or an index in [0, {len(names)}), got {feature!r}")


def dependence_grid(grid) -> np.ndarray:
    """`grid` as a non-empty finite 1-D float array (the values a feature is set to)."""
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim > 1 or g.size == 0:
        raise ValueError(f"grid: expected a non-empty 1-D array of feature values, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grid: contains NaN or inf")
    g = g.reshape(-1)
    return g


def dependence_rows(rows: np.ndarray, j: int, grid: np.ndarray) -> np.ndarray:
    """(len(grid) * n, d): `rows` (n, d) repeated once per grid value with column j set to it,
    grid value after grid value (the mean of each block of n is one partial-dependence point)."""
    out = np.repeat(rows[None, :, :], len(grid), axis=0)
    out[:, :, j] = grid[:, None]
    return out.reshape(-1, rows.shape[1])
