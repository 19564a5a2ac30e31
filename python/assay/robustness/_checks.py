"""Input checks shared by the exact margins, the metrics and the pseudo-margin.

Every user array is converted to float64 NumPy here once; errors name the argument, what was
expected and what was got. These functions run on the host: a CUDA tensor is copied to host memory
(on purpose, documented in assay.robustness), never refused.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _inputs

NORMS = ("inf", 2, 1)


def to_numpy(a, name: str) -> np.ndarray:
    """torch tensor (any device: copied to the host) / array-like -> float64 NumPy (no shape checks)."""
    return _inputs.host_array(a, name, kinds="biuf", cuda="copy").astype(np.float64)


def finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def matrix(a, name: str, n_cols: int | None = None) -> np.ndarray:
    arr = to_numpy(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (rows, features), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one row and one column, got shape {arr.shape}")
    if n_cols is not None and arr.shape[1] != n_cols:
        raise ValueError(f"{name}: expected {n_cols} columns, got shape {arr.shape}")
    return np.ascontiguousarray(finite(arr, name))


def vector(a, name: str, n: int | None = None, *, allow_inf: bool = False) -> np.ndarray:
    arr = to_numpy(a, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one value, got none")
    if n is not None and arr.size != n:
        raise ValueError(f"{name}: expected length {n}, got {arr.size}")
    if np.isnan(arr).any() or (not allow_inf and np.isinf(arr).any()):
        raise ValueError(f"{name}: contains NaN{'' if allow_inf else ' or inf'}")
    return arr


def margins(a, name: str, n: int | None = None) -> np.ndarray:
    """Input margins: >= 0, +inf allowed (a point no perturbation flips)."""
    arr = vector(a, name, n, allow_inf=True)
    if (arr < 0).any():
        raise ValueError(f"{name}: margins must be >= 0, got a minimum of {arr.min()}")
    if np.isneginf(arr).any():
        raise ValueError(f"{name}: contains -inf")
    return arr


def nonneg_scalar(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    v = float(v)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name}: expected a finite value >= 0, got {v}")
    return v


def norm(p):
    """'inf' / inf / 2 / 1 -> 'inf', 2 or 1 (the projection's own check, so both accept the same)."""
    from .projection import _check_norm

    return _check_norm(p)


def dual_norm(v: np.ndarray, p) -> np.ndarray:
    """||v||_q along the last axis with 1/p + 1/q = 1."""
    if p == "inf":
        return np.abs(v).sum(axis=-1)
    if p == 2:
        return np.sqrt((v * v).sum(axis=-1))
    return np.abs(v).max(axis=-1)


def p_norm(v: np.ndarray, p) -> np.ndarray:
    if p == "inf":
        return np.abs(v).max(axis=-1)
    if p == 2:
        return np.sqrt((v * v).sum(axis=-1))
    return np.abs(v).sum(axis=-1)


def _box_side(v, name: str, d: int) -> np.ndarray:
    # Real numbers only (a bool bound is a TypeError, as in project_hyperplanes).
    arr = _inputs.host_array(v, name, kinds="fiu", cuda="copy").astype(np.float64)
    if arr.ndim > 1 or arr.size not in (1, d):
        raise ValueError(f"{name}: expected a scalar or {d} values (one per feature), got shape {arr.shape}")
    return np.broadcast_to(arr.reshape(-1), (d,)).copy()


def box(b, d: int, x: np.ndarray | None = None):
    """None or (lo, hi) with scalars or length-d arrays -> (lo (d,), hi (d,)) or None; x must lie in it.
    TypeError for a wrong type (box not None / tuple / list, a non-numeric bound), ValueError for a
    bad value (not two entries, a wrong shape, NaN, lo > hi, x outside)."""
    b = _inputs.box_pair(b)
    if b is None:
        return None
    lo, hi = (_box_side(v, n, d) for v, n in zip(b, ("box[0]", "box[1]")))
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("box: contains NaN")
    if (lo > hi).any():
        raise ValueError(f"box: expected lo <= hi, got lo > hi at feature {int(np.argmax(lo > hi))}")
    if x is not None and ((x < lo).any() or (x > hi).any()):
        r, c = np.argwhere((x < lo) | (x > hi))[0]
        raise ValueError(f"x: row {r} lies outside the box at feature {c} ({x[r, c]} not in [{lo[c]}, {hi[c]}])")
    return lo, hi


def labels(y, n: int, k: int) -> np.ndarray:
    arr = _inputs.host_array(y, "labels", kinds=None, cuda="copy")
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"labels: expected shape ({n},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"labels: expected integer class indices, got dtype {arr.dtype}")
    if (arr < 0).any() or (arr >= k).any():
        raise ValueError(f"labels: expected values in [0, {k}), got min {arr.min()} max {arr.max()}")
    return arr.astype(np.int64)
