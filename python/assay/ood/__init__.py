"""Post-hoc out-of-distribution detection: scores from logits and features, and honest metrics.
Higher scores mean more in-distribution. Needs torch (`pip install assay[ood]`)."""
from . import metrics, transforms
from .combine import Combine
from .detectors import KNN, Mahalanobis
from .logits import SCORES, logit_scores, logit_scores_ref, logit_scores_torch
from .vim_grood import GROOD, ViM

__all__ = ["logit_scores", "logit_scores_ref", "logit_scores_torch", "SCORES", "Mahalanobis", "KNN", "ViM", "GROOD", "Combine",
           "metrics", "transforms"]
