"""Post-hoc out-of-distribution detection: scores from logits and features, and honest metrics.
Higher scores mean more in-distribution. Needs torch (`pip install assay[ood]`).

Every score runs on the device its input is on (nothing is moved), so the scores take no
`device=`: their `backend=` ("auto" | "torch" | "triton") chooses an implementation, not a place,
in assay's one vocabulary (`device=` where, `backend=` which implementation). "auto" runs the fused
Triton kernel for CUDA inputs it supports and torch elsewhere; "triton" forces the kernel (e.g.
under TRITON_INTERPRET=1 on the CPU)."""

from . import metrics, transforms
from .combine import Combine
from .detectors import KNN, Mahalanobis
from .logits import SCORES, logit_scores, logit_scores_ref, logit_scores_torch
from .vim_grood import GROOD, ViM

__all__ = [
    "logit_scores",
    "logit_scores_ref",
    "logit_scores_torch",
    "SCORES",
    "Mahalanobis",
    "KNN",
    "ViM",
    "GROOD",
    "Combine",
    "metrics",
    "transforms",
]
