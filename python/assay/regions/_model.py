"""The model behind a decomposition: a tree ensemble (assay's IR, exact tree kernel) or any
callable f: (n, d) -> (n,) or (n, K) (generic path, direct evaluation)."""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedModelError
from ..trees.convert import convert_model
from ..trees.forest import TreeModel


def as_tree_model(model):
    """assay's IR for a supported tree model, else None (the model is used as a callable)."""
    if isinstance(model, TreeModel):
        return model
    try:
        return convert_model(model)
    except UnsupportedModelError:
        return None


def resolve_output(n_outputs: int, output):
    """The output index explained; multi-output models must name one (classes are never summed)."""
    if output is None:
        if n_outputs > 1:
            raise ValueError(f"output: the model has {n_outputs} outputs; pass output= the index of the one to explain")
        return 0
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= int(output) < n_outputs:
        raise ValueError(f"output: expected an int in [0, {n_outputs}), got {output!r}")
    return int(output)


def callable_predictor(model, output):
    """f(X) -> (n,) for a callable or an object with .predict, picking column `output` of 2-D outputs."""
    fn = model if callable(model) and not hasattr(model, "predict") else getattr(model, "predict", None)
    if fn is None or not callable(fn):
        raise UnsupportedModelError(
            f"model: expected a supported tree model, a callable f(X) -> (n,) or an object "
            f"with .predict, got {type(model).__name__}"
        )

    def predict(X):
        y = np.asarray(fn(X), dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 2:
            k = resolve_output(y.shape[1], output)
            return y[:, k]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"model: expected predictions of shape ({X.shape[0]},), got {y.shape}")
        if output not in (None, 0):
            raise ValueError(f"output: the model has one output, got output={output!r}")
        return y

    return predict
