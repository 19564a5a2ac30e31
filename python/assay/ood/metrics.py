"""Detection metrics with explicit conventions (libraries disagree, so each one is spelled out here).

Scores: higher = more in-distribution (every assay detector follows this). By default OOD is the
positive class: a detector flags x as OOD when its score is at or below a threshold. The ROC is
exact, with tied scores grouped (all rows with the same score change side together).

- auroc: probability that a random ID row scores above a random OOD row, ties counting half
  (the same for either positive class).
- aupr_in / aupr_out: average precision with ID / OOD as the positive class (step-wise, as
  scikit-learn's average_precision_score).
- fpr_at_95_tpr: the false-positive rate at the first threshold (from the strictest) whose
  true-positive rate reaches 95% of the positives; with positive="ood" a false positive is an
  ID row flagged as OOD. positive="id" swaps the roles (ID positive, flagged when score >= t).
"""

from __future__ import annotations

import numpy as np

from .. import _inputs


def _scores(a, name):
    """float64 host copy, flattened (metrics run in NumPy: CUDA tensors are copied to the host)."""
    a = _inputs.host_array(a, name, kinds="biuf", cuda="copy").astype(np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name}: expected at least one score, got none")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or inf")
    return a


def roc_curve(scores_id, scores_ood, positive: str = "ood"):
    """(fpr, tpr, thresholds) of the positive class, one point per distinct score (ties grouped),
    from the strictest threshold to the loosest."""
    if positive not in ("ood", "id"):
        raise ValueError(f"positive: expected 'ood' or 'id', got {positive!r}")
    sid, sood = _scores(scores_id, "scores_id"), _scores(scores_ood, "scores_ood")
    pos, neg = (sood, sid) if positive == "ood" else (sid, sood)
    # Flag as positive when "more positive-like": OOD positive -> low scores, ID positive -> high.
    key_pos, key_neg = (-pos, -neg) if positive == "ood" else (pos, neg)
    keys = np.concatenate([key_pos, key_neg])
    is_pos = np.concatenate([np.ones(pos.size, bool), np.zeros(neg.size, bool)])
    order = np.argsort(-keys, kind="mergesort")
    keys, is_pos = keys[order], is_pos[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(keys) != 0), keys.size - 1]
    tp = np.cumsum(is_pos)[last_of_tie]
    fp = np.cumsum(~is_pos)[last_of_tie]
    thresholds = keys[last_of_tie] * (-1 if positive == "ood" else 1)
    return fp / neg.size, tp / pos.size, thresholds


def auroc(scores_id, scores_ood) -> float:
    """Area under the exact ROC (ties grouped): the probability that a random ID row scores above
    a random OOD row, ties counting half. Scores: higher = more ID; ValueError if empty or non-finite."""
    fpr, tpr, _ = roc_curve(scores_id, scores_ood)
    return float(np.trapezoid(np.r_[0, tpr], np.r_[0, fpr]))


def average_precision(scores_id, scores_ood, positive: str = "ood") -> float:
    """Step-wise average precision (as scikit-learn's average_precision_score) with `positive`
    ("ood", flagged when the score is low, or "id", flagged when high) as the positive class."""
    fpr, tpr, _ = roc_curve(scores_id, scores_ood, positive)
    sid, sood = _scores(scores_id, "scores_id"), _scores(scores_ood, "scores_ood")
    n_pos, n_neg = (sood.size, sid.size) if positive == "ood" else (sid.size, sood.size)
    tp, fp = tpr * n_pos, fpr * n_neg
    precision = tp / np.maximum(tp + fp, 1e-300)
    return float(np.sum(np.diff(np.r_[0, tpr]) * precision))


def fpr_at_tpr(scores_id, scores_ood, tpr_level: float = 0.95, positive: str = "ood") -> float:
    """The false-positive rate at the strictest threshold whose true-positive rate reaches
    tpr_level (in (0, 1], else ValueError); `positive` ("ood" or "id") is the positive class."""
    if not 0 < tpr_level <= 1:
        raise ValueError(f"tpr_level: expected a value in (0, 1], got {tpr_level!r}")
    fpr, tpr, _ = roc_curve(scores_id, scores_ood, positive)
    return float(fpr[np.flatnonzero(tpr >= tpr_level - 1e-12)[0]])


def evaluate(scores_id, scores_ood, positive: str = "ood") -> dict:
    """auroc, aupr_in, aupr_out and fpr_at_95_tpr (conventions in the module docstring)."""
    return {
        "auroc": auroc(scores_id, scores_ood),
        "aupr_in": average_precision(scores_id, scores_ood, "id"),
        "aupr_out": average_precision(scores_id, scores_ood, "ood"),
        "fpr_at_95_tpr": fpr_at_tpr(scores_id, scores_ood, 0.95, positive),
    }
