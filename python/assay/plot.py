"""Plots where people would rather look than read (matplotlib; `pip install assay[plot]`).

- interaction_heatmap: one row's interaction / Shapley-Taylor matrix, or the mean |value| over rows.
- hasse: a Rashomon-set partial order as a Hasse diagram (PartialOrder.plot).
- roc: ROC curves of OOD detectors (assay.ood.metrics conventions: OOD positive, ties grouped).
- partition_tree: a fitted GRANITE partition tree (Granite.plot).
- SHAP summaries: `explainer(X)` is a shap.Explanation, so shap's beeswarm and waterfall plots work.

One convention for every plot in assay, functions and methods alike: what is drawn comes first
(nothing for a method), then `path` (positional or keyword: the figure is saved there, format by
extension); `ax=` (keyword only) draws into an existing matplotlib Axes instead of a new figure;
the Axes drawn into is returned. E.g. `g.plot("tree.png")`, `po.plot(path="order.svg", ax=ax)`.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np


def _check_target(ax, path):
    """Clear errors for the two arguments every plot takes (a swapped pair is the usual slip)."""
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        hint = "; to save to a file pass path=" if isinstance(ax, (str, os.PathLike)) else ""
        raise TypeError(f"ax: expected a matplotlib Axes, got {type(ax).__name__}{hint}")
    if isinstance(path, Axes):
        raise TypeError("path: expected a file path, got a matplotlib Axes; pass it as ax=")
    if path is not None and not isinstance(path, (str, os.PathLike)) and not hasattr(path, "write"):
        raise TypeError(
            f"path: expected a file path (str or os.PathLike) or a writable file object, got {type(path).__name__}"
        )


def _axes(ax, path, size):
    """The Axes to draw into: `ax`, else a new figure of `size` inches (headless when saving)."""
    import matplotlib

    _check_target(ax, path)
    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _save(ax, path):
    """Saves the Axes' figure to `path` when given; returns the Axes (every plot's return value)."""
    if path is not None:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax


def interaction_heatmap(
    values,
    names: Optional[Sequence[str]] = None,
    path=None,
    *,
    row: Optional[int] = None,
    output: int = 0,
    ax=None,
    title: Optional[str] = None,
):
    """values: (n, P, P) or (n, P, P, K) from shap_interaction_values / shapley_taylor_values.
    row=None shows the mean |value| over rows (global structure); an int shows that row's signed
    matrix. Saves to `path` when given; returns the Axes."""
    _check_target(ax, path)  # before the data checks: a row index passed as path fails here
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 4:
        if not 0 <= output < v.shape[3]:
            raise ValueError(f"output: expected 0 <= output < {v.shape[3]}, got {output}")
        v = v[..., output]
    if v.ndim != 3 or v.shape[1] != v.shape[2]:
        raise ValueError(f"values: expected (n, P, P) or (n, P, P, K), got shape {np.shape(values)}")
    P = v.shape[1]
    names = [f"x{i}" for i in range(P)] if names is None else list(map(str, names))
    if len(names) != P:
        raise ValueError(f"names: expected {P} names, got {len(names)}")
    if row is None:
        M, cmap, label = np.abs(v).mean(axis=0), "viridis", "mean |value|"
        vmin, vmax = 0.0, float(M.max()) or 1.0
    else:
        if not -v.shape[0] <= row < v.shape[0]:
            raise ValueError(f"row: expected an index below {v.shape[0]}, got {row}")
        M, cmap, label = v[row], "RdBu_r", "value"
        vmax = float(np.abs(M).max()) or 1.0
        vmin = -vmax
    ax = _axes(ax, path, (1.0 + 0.45 * P, 0.8 + 0.45 * P))
    im = ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(P), names, rotation=90)
    ax.set_yticks(range(P), names)
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_title(title or ("mean |interaction| over rows" if row is None else f"row {row}"))
    return _save(ax, path)


def hasse(order, path=None, *, ax=None, title: Optional[str] = None):
    """A PartialOrder (assay.rashomon) as its Hasse diagram; saves to `path`; returns the Axes."""
    return order.plot(path, ax=ax, title=title)


def roc(scores_id, scores_ood, path=None, *, ax=None, title: Optional[str] = None):
    """ROC curves of one or several detectors. scores_id / scores_ood: arrays (one detector) or dicts
    name -> scores (several, same names in both). Legends carry AUROC and FPR@95TPR. Saves to
    `path` when given; returns the Axes."""
    from .ood import metrics

    _check_target(ax, path)
    if not isinstance(scores_id, dict):
        scores_id, scores_ood = {"detector": scores_id}, {"detector": scores_ood}
    if set(scores_id) != set(scores_ood):
        raise ValueError(
            f"scores_ood: expected the same detectors as scores_id {sorted(scores_id)}, got {sorted(scores_ood)}"
        )
    ax = _axes(ax, path, (5, 5))
    for name in scores_id:
        fpr, tpr, _ = metrics.roc_curve(scores_id[name], scores_ood[name])
        r = metrics.evaluate(scores_id[name], scores_ood[name])
        ax.plot(np.r_[0, fpr], np.r_[0, tpr], label=f"{name} (AUROC {r['auroc']:.3f}, FPR95 {r['fpr_at_95_tpr']:.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":")
    ax.set_xlabel("false-positive rate (ID flagged as OOD)")
    ax.set_ylabel("true-positive rate (OOD flagged)")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(title or "ROC (OOD positive)")
    return _save(ax, path)


from .regions.plot import partition_tree  # noqa: E402,F401  (GRANITE partition tree; Granite.plot)
