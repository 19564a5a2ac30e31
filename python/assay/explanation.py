"""Explanation objects: shap.Explanation when shap is installed, else a light equivalent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._inputs import is_dataframe


@dataclass
class Explanation:
    """The fields shap's plots read, for users without shap installed."""

    values: np.ndarray
    base_values: np.ndarray
    data: np.ndarray
    feature_names: Optional[list] = None
    display_data: Optional[np.ndarray] = None

    @property
    def shape(self):
        """The shape of `values`: (rows, features[, outputs])."""
        return self.values.shape

    def __getitem__(self, item):
        pick = lambda a: None if a is None else a[item]
        return Explanation(
            self.values[item], self.base_values[item], pick(self.data), self.feature_names, pick(self.display_data)
        )


def category_labels(X) -> Optional[np.ndarray]:
    """X's rows as an object array with pandas categorical columns as their labels (None for
    missing) and other columns as numbers; None when X has no categorical column. shap's plots
    show display_data where it exists, so users see "red", not the code 1.0."""
    if not is_dataframe(X):
        return None
    import pandas as pd

    categorical = [isinstance(t, pd.CategoricalDtype) for t in X.dtypes]
    if not any(categorical):
        return None
    columns = []
    for j, is_cat in enumerate(categorical):
        col = X.iloc[:, j]
        if is_cat:
            labels = np.array(col.astype(object).to_numpy(), dtype=object)  # a writable copy
            labels[col.isna().to_numpy()] = None
            columns.append(labels)
        else:
            columns.append(col.to_numpy(dtype=np.float64, na_value=np.nan).astype(object))
    return np.column_stack(columns)


def make_explanation(values, expected_value, data, feature_names, display_data=None, per_row: bool = False):
    """A shap.Explanation (or, without shap, this module's Explanation) of `values` (rows first),
    with `expected_value` repeated per row as base_values, the explained rows `data`, their
    `feature_names` and optional `display_data` (e.g. category labels). per_row: expected_value
    already holds one value per row (n,)."""
    n = values.shape[0]
    if per_row:  # one expected value per row already (e.g. the expected log loss of each row's label)
        base = np.array(expected_value, dtype=np.float64).reshape(n)
    else:
        base = np.broadcast_to(np.asarray(expected_value, dtype=np.float64), (n,) + np.shape(expected_value)).copy()
    try:
        import shap
    except ImportError:
        return Explanation(values, base, data, feature_names, display_data)
    return shap.Explanation(
        values=values, base_values=base, data=data, feature_names=feature_names, display_data=display_data
    )
