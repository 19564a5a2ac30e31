"""Margin metrics: logit margins, margin consistency, robust accuracy curves (Ngnawé et al. 2024,
arXiv 2406.18451; expected robustness after arXiv 2509.23325).

Conventions:
- Input margins are >= 0 and may be +inf (no perturbation changes the class).
- A point is non-robust at eps when its input margin is <= eps (an attack of budget eps flips
  it), so RA(eps) = mean(correct * (margin > eps)).
- Detecting non-robust points by the logit margin reuses assay.ood.metrics: non-robust points are
  the positive ("ood") class, and a LOWER logit margin is more suspicious, exactly as a lower OOD
  score is there (scores_id = logit margins of robust points, scores_ood = of non-robust ones).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..ood import metrics as _ood
from .. import _inputs
from . import _checks


def logit_margins(logits):
    """Top-1 minus top-2 logit per row, (B,), >= 0; a torch tensor in gives a tensor out (same
    dtype and device), anything else float64 NumPy. Needs at least 2 classes."""
    import torch
    from ..ood.logits import _as_logits  # the same checks as the OOD logit scores

    is_torch = isinstance(logits, torch.Tensor)
    t = _as_logits(logits if is_torch else torch.from_numpy(_checks.matrix(logits, "logits")))
    top2 = torch.topk(t, 2, dim=1).values
    out = top2[:, 0] - top2[:, 1]
    return out if is_torch else out.numpy()


def _correct(correct, n: int) -> np.ndarray:
    arr = _inputs.host_array(correct, "correct", kinds=None, cuda="copy")
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"correct: expected shape ({n},), got {arr.shape}")
    if arr.dtype != bool:
        if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
            raise ValueError("correct: expected booleans or 0/1 values")
        arr = arr.astype(bool)
    return arr


def margin_consistency(input_margins, logit_margins, eps) -> dict:
    """How well the logit margin ranks the input margin, and detects points with input margin <= eps.

    kendall_tau: tau-b (scipy.stats.kendalltau; +inf margins rank above all finite ones).
    pearson: on the rows with a finite input margin (NaN with fewer than 2 or constant values).
    auroc, aupr, fpr_at_95_tpr: non-robust points (input margin <= eps) are the positives, scored
    by -logit margin (lower logit margin = flagged first); aupr is their average precision.
    These are NaN when all points fall on one side of eps. n_nonrobust: the number of positives.
    """
    from scipy.stats import kendalltau

    im = _checks.margins(input_margins, "input_margins")
    lm = _checks.vector(logit_margins, "logit_margins", im.size)
    if (lm < 0).any():
        raise ValueError(f"logit_margins: expected values >= 0 (top-1 minus top-2), got a minimum of {lm.min()}")
    eps = _checks.nonneg_scalar(eps, "eps")
    big = np.where(np.isinf(im), np.nanmax(np.r_[im[np.isfinite(im)], 0.0]) + 1.0, im)  # ranks only
    out = {"kendall_tau": float(kendalltau(big, lm).statistic) if im.size > 1 else float("nan")}
    fin = np.isfinite(im)
    out["pearson"] = (
        float(np.corrcoef(im[fin], lm[fin])[0, 1])
        if fin.sum() > 1 and np.ptp(im[fin]) > 0 and np.ptp(lm[fin]) > 0
        else float("nan")
    )
    nonrobust = im <= eps
    out["n_nonrobust"] = int(nonrobust.sum())
    if nonrobust.all() or not nonrobust.any():
        out.update(auroc=float("nan"), aupr=float("nan"), fpr_at_95_tpr=float("nan"))
        return out
    robust_scores, nonrobust_scores = lm[~nonrobust], lm[nonrobust]
    out["auroc"] = _ood.auroc(robust_scores, nonrobust_scores)
    out["aupr"] = _ood.average_precision(robust_scores, nonrobust_scores, positive="ood")
    out["fpr_at_95_tpr"] = _ood.fpr_at_tpr(robust_scores, nonrobust_scores, 0.95, positive="ood")
    return out


def robust_accuracy_curve(margins, correct, eps_grid) -> np.ndarray:
    """RA(eps) = mean(correct * (margin > eps)) for every eps of eps_grid (float64, len(eps_grid))."""
    m = _checks.margins(margins, "margins")
    c = _correct(correct, m.size)
    grid = _checks.vector(eps_grid, "eps_grid")
    if (grid < 0).any():
        raise ValueError(f"eps_grid: expected values >= 0, got a minimum of {grid.min()}")
    # count of correct margins > eps via a sorted search: O((n + g) log n), no (n x g) matrix
    sorted_m = np.sort(m[c])
    return (sorted_m.size - np.searchsorted(sorted_m, grid, side="right")) / m.size


def expected_robustness(margins, correct, max_eps) -> float:
    """(1 / max_eps) * integral_0^max_eps RA(eps) d eps, in closed form: RA is a sum of steps
    1[margin_i > eps], each integrating to min(margin_i, max_eps), so the average is
    mean(correct * min(margin, max_eps)) / max_eps."""
    m = _checks.margins(margins, "margins")
    c = _correct(correct, m.size)
    E = _checks.nonneg_scalar(max_eps, "max_eps")
    if E == 0:
        raise ValueError("max_eps: expected a value > 0, got 0")
    return float(np.mean(np.where(c, np.minimum(m, E), 0.0)) / E)


class RobustAccuracyEstimate(NamedTuple):
    """estimate_robust_accuracy's result: the estimated robust accuracy on all rows, the
    logit-margin threshold above which a row is predicted robust, and the fraction of the
    attacked subset that is robust (input margin > eps)."""

    estimate: float  # estimated robust accuracy on all rows
    threshold: float  # a row is predicted robust when its logit margin > threshold
    subset_robust_fraction: float


def estimate_robust_accuracy(logits, attack_subset_idx, subset_margins, eps, correct=None) -> RobustAccuracyEstimate:
    """Sample-efficient robust accuracy: attack only a subset, transfer a logit-margin threshold.

    Rule (quantile matching): with r of the n attacked rows robust (input margin > eps), the
    threshold is chosen so that exactly r of the subset's logit margins lie above it (the midpoint
    between the (n - r)-th and (n - r + 1)-th smallest; -inf if r = n, +inf if r = 0). The
    subset's predicted robust fraction then equals its true one, and with margin-consistent
    margins (the same order) the rows predicted robust are exactly the robust ones. The estimate
    is mean(correct * (logit margin > threshold)) over all rows (correct=None: all correct, i.e.
    the robust fraction). Tied logit margins at the cut make the match approximate.
    """
    lm = logit_margins(_checks.matrix(logits, "logits"))
    N = lm.size
    idx = _inputs.host_array(attack_subset_idx, "attack_subset_idx", kinds=None, cuda="copy")
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError(f"attack_subset_idx: expected a non-empty 1-D array of row indices, got shape {idx.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"attack_subset_idx: expected integer row indices, got dtype {idx.dtype}")
    if (idx < 0).any() or (idx >= N).any():
        raise ValueError(f"attack_subset_idx: expected indices in [0, {N}), got min {idx.min()} max {idx.max()}")
    if np.unique(idx).size != idx.size:
        raise ValueError("attack_subset_idx: contains repeated indices")
    sm = _checks.margins(subset_margins, "subset_margins", idx.size)
    eps = _checks.nonneg_scalar(eps, "eps")
    c = np.ones(N, bool) if correct is None else _correct(correct, N)
    sub = np.sort(lm[idx])
    n, r = sub.size, int((sm > eps).sum())
    if r == n:
        thr = -np.inf
    elif r == 0:
        thr = np.inf
    else:
        thr = 0.5 * (sub[n - r - 1] + sub[n - r])
    return RobustAccuracyEstimate(float(np.mean(c & (lm > thr))), float(thr), r / n)
