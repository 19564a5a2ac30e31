"""TreeExplainer: exact interventional SHAP values of a tree ensemble's raw output."""
from __future__ import annotations

import numpy as np

from .. import _core
from .._validation import as_matrix, check_n_jobs, is_dataframe
from ..explanation import make_explanation
from .convert import convert_model

ALGORITHMS = ("pattern", "pairwise")


class TreeExplainer:
    """Exact interventional (a.k.a. "independent") SHAP values for tree ensembles.

    The game explained is v(S) = mean over background rows z of f(x_S, z_rest), where f is the
    model's raw output (margin / log-odds for boosted models, class probabilities for
    forest classifiers). Values sum to f(x) - expected_value.

    algorithm="pattern" (default) builds per-leaf tables from the background once, here in the
    constructor; each shap_values call then costs O(rows * trees * (nodes + leaf widths)),
    independent of the background size. algorithm="pairwise" is the slow reference that walks
    every (row, background row, tree) triple.
    """

    def __init__(self, model, data, feature_names=None, n_jobs: int = -1, algorithm: str = "pattern",
                 dense_max_bits: int = 16, max_table_bytes: int = 2**31):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: expected one of {ALGORITHMS}, got {algorithm!r}")
        self.n_jobs = check_n_jobs(n_jobs)
        self.algorithm = algorithm
        self.model = convert_model(model)
        self._input_names = list(map(str, data.columns)) if is_dataframe(data) else None
        self.data = self._matrix(data, "data")
        self.feature_names = self._resolve_names(feature_names)
        self.n_outputs = self.model.n_outputs
        self._tables = None
        if algorithm == "pattern":
            if not (isinstance(dense_max_bits, (int, np.integer)) and 0 <= dense_max_bits <= 24):
                raise ValueError(f"dense_max_bits: expected an int in [0, 24], got {dense_max_bits!r}")
            self._tables = _core.PatternShap(self.model.forest, self.data, int(dense_max_bits),
                                             int(max_table_bytes), self.n_jobs)
            mean = self._tables.expected_value()  # from the background histograms
        else:
            mean = self.model.predict_raw(self.data, self.n_jobs).mean(axis=0)
        self.expected_value = float(mean[0]) if self.n_outputs == 1 else mean

    def _matrix(self, X, name):
        if self.model.input_transform is not None:
            X = self.model.input_transform(X)
        return as_matrix(X, name, self.model.n_features)

    def _resolve_names(self, feature_names):
        d = self.model.n_features
        if feature_names is not None:
            names = list(map(str, feature_names))
            if len(names) != d:
                raise ValueError(f"feature_names: expected {d} names, got {len(names)}")
            return names
        return self._input_names or self.model.feature_names or [f"x{i}" for i in range(d)]

    def _shape(self, phi):
        # shap's conventions: (n, d) for one output, (n, d, K) for K outputs
        return phi[:, :, 0] if self.n_outputs == 1 else phi

    def shap_values(self, X) -> np.ndarray:
        """Interventional SHAP values of the raw output: (n, d), or (n, d, K) for K outputs."""
        X = self._matrix(X, "X")
        if self._tables is not None:
            phi = self._tables.shap_values(X, self.n_jobs)
        else:
            phi = _core.shap_pairwise(self.model.forest, X, self.data, self.n_jobs)
        return self._shape(phi)

    def predict_raw(self, X) -> np.ndarray:
        """The raw output the explainer explains, from assay's own IR: (n,) or (n, K)."""
        out = self.model.predict_raw(self._matrix(X, "X"), self.n_jobs)
        return out[:, 0] if self.n_outputs == 1 else out

    def __call__(self, X):
        values = self.shap_values(X)
        data = self._matrix(X, "X")
        return make_explanation(values, self.expected_value, data, self.feature_names)

    def __repr__(self):
        f = self.model.forest
        return (f"TreeExplainer({self.model.source}, trees={f.n_trees}, features={self.model.n_features}, "
                f"outputs={self.n_outputs}, background={self.data.shape[0]}, algorithm={self.algorithm!r})")
