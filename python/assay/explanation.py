"""Explanation objects: shap.Explanation when shap is installed, else a light equivalent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class Explanation:
    """The fields shap's plots read, for users without shap installed."""

    values: np.ndarray
    base_values: np.ndarray
    data: np.ndarray
    feature_names: Optional[list] = None

    @property
    def shape(self):
        return self.values.shape

    def __getitem__(self, item):
        return Explanation(self.values[item], self.base_values[item], self.data[item], self.feature_names)


def make_explanation(values, expected_value, data, feature_names):
    n = values.shape[0]
    base = np.broadcast_to(np.asarray(expected_value, dtype=np.float64), (n,) + np.shape(expected_value)).copy()
    try:
        import shap
    except ImportError:
        return Explanation(values, base, data, feature_names)
    return shap.Explanation(values=values, base_values=base, data=data, feature_names=feature_names)
