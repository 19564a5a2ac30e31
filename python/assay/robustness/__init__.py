"""assay.robustness: input margins, margin consistency and robust accuracy.

    from assay import robustness as rb
    res = rb.input_margins(model, x, norm="inf", box=(0.0, 1.0))
    rep = rb.margin_consistency(res.margin, rb.logit_margins(logits), eps=8 / 255)

Names are imported on first use, so `import assay.robustness` does not import torch or scipy.

Array kinds (one input coercion, shared with assay.ood): the per-row results of
input_margins, project_hyperplanes, logit_margins and PseudoMargin.predict come back as the kind
of array that came in (NumPy in, NumPy out; a tensor in, a tensor on its device out). The exact_*
oracles and the summary metrics are host NumPy algorithms: they accept tensors, copy CUDA ones to
host memory, and return NumPy.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "input_margins": "attack",
    "InputMargins": "attack",
    "exact_margins_linear": "exact",
    "exact_margins_prototypes": "exact",
    "exact_margins_mlp": "exact",
    "exact_margins_tree": "exact",
    "linear_weights": "exact",
    "ExactMargins": "exact",
    "logit_margins": "metrics",
    "margin_consistency": "metrics",
    "robust_accuracy_curve": "metrics",
    "expected_robustness": "metrics",
    "estimate_robust_accuracy": "metrics",
    "PseudoMargin": "pseudo_margin",
    "project_hyperplanes": "projection",
    "ProjectionResult": "projection",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assay.robustness' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
