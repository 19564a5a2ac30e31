"""Post-hoc out-of-distribution detection: scores from logits and features, and honest metrics.
Higher scores mean more in-distribution. Needs torch (`pip install assay[ood]`)."""
from . import metrics
from .detectors import KNN, Mahalanobis
from .logits import SCORES, logit_scores, logit_scores_ref

__all__ = ["logit_scores", "logit_scores_ref", "SCORES", "Mahalanobis", "KNN", "metrics"]
