"""Explaining data beyond one machine with Dask: map a fitted explainer over partitions.

    import dask.dataframe as dd, assay.dask
    ex = assay.TreeExplainer(model, data=background)
    phi = assay.dask.shap_values(ex, dd.read_parquet("big/"))     # a dask array (n, P[, K])
    phi.to_zarr(...)  /  phi.compute()

The explainer enters the task graph once (one key): each worker receives its model and background
once and builds the tables on its first partition, then reuses them. Rows are independent, so
results equal a single-process call exactly (same kernel, same bits).

Spark, without a dependency: broadcast the pickled explainer and explain inside a pandas UDF,
e.g. `df.mapInPandas(lambda it: (pd.DataFrame(ex.shap_values(b[cols])) for b in it), schema)`.
"""

from __future__ import annotations

import numpy as np

from ._inputs import align_columns
from ._vocabulary import PAIRWISE, index_name

_METHODS = {
    "shap": "shap_values",
    "banzhaf": "banzhaf_values",
    "interaction": "shap_interaction_values",
    "taylor": "shapley_taylor_values",
}


def _explain(explainer, method, block):
    return getattr(explainer, method)(block)


def values(explainer, data, kind: str = "shap"):
    """Values of every row of a dask DataFrame or 2-D dask Array, as a dask array whose row
    chunks follow the partitions. kind: "shap", "banzhaf", "interaction" or "taylor" (the
    deprecated spellings "shapley" and "interactions" still work, with a DeprecationWarning).
    A DataFrame's columns are matched by name as in TreeExplainer (reordered to the model's
    order; missing, extra or duplicated columns raise ValueError before anything is computed);
    a dask Array is positional."""
    import dask
    import dask.array as da

    kind = index_name(kind, "kind")
    if not hasattr(explainer, _METHODS[kind]):
        raise TypeError(f"explainer: expected an assay.TreeExplainer, got {type(explainer).__name__}")
    if hasattr(data, "npartitions") and hasattr(data, "columns"):  # dask DataFrame
        # Columns are matched by name in each partition; check them here, before any task runs.
        import pandas as pd

        align_columns(pd.DataFrame(columns=data.columns), explainer._column_names, "data")
        parts = list(data.to_delayed())
        lengths = [int(v) for v in data.map_partitions(len).compute()]
    elif isinstance(data, da.Array):
        if data.ndim != 2:
            raise ValueError(f"data: expected a 2-D dask array (rows, features), got {data.ndim} dimensions")
        data = data.rechunk({1: -1})
        parts = list(data.to_delayed().ravel())
        lengths = [int(c) for c in data.chunks[0]]
    else:
        raise TypeError(f"data: expected a dask DataFrame or dask Array, got {type(data).__name__}")
    P, K = explainer.n_players, explainer.n_outputs
    tail = ((P, P) if kind in PAIRWISE else (P,)) + ((K,) if K > 1 else ())
    shared = dask.delayed(explainer, pure=True)  # one key: sent to each worker once
    blocks = [
        da.from_delayed(dask.delayed(_explain)(shared, _METHODS[kind], part), shape=(n,) + tail, dtype=np.float64)
        for part, n in zip(parts, lengths)
    ]
    return da.concatenate(blocks, axis=0)


def shap_values(explainer, data):
    """Interventional SHAP values of every row of `data` (a dask DataFrame or 2-D dask Array) from the fitted
    assay.TreeExplainer `explainer`, as a lazy dask array (n, P[, K]) chunked like the partitions;
    values(explainer, data, "shap"), with its column matching and errors."""
    return values(explainer, data, "shap")


def banzhaf_values(explainer, data):
    """Banzhaf values of every row of `data` (a dask DataFrame or 2-D dask Array) from the fitted
    assay.TreeExplainer `explainer`, as a lazy dask array (n, P[, K]) chunked like the partitions;
    values(explainer, data, "banzhaf"), with its column matching and errors."""
    return values(explainer, data, "banzhaf")


def shap_interaction_values(explainer, data):
    """SHAP interaction values of every row of `data` (a dask DataFrame or 2-D dask Array) from the fitted
    assay.TreeExplainer `explainer`, as a lazy dask array (n, P, P[, K]) chunked like the partitions;
    values(explainer, data, "interaction"), with its column matching and errors."""
    return values(explainer, data, "interaction")


def shapley_taylor_values(explainer, data):
    """Shapley-Taylor (order 2) values of every row of `data` (a dask DataFrame or 2-D dask Array) from the fitted
    assay.TreeExplainer `explainer`, as a lazy dask array (n, P, P[, K]) chunked like the partitions;
    values(explainer, data, "taylor"), with its column matching and errors."""
    return values(explainer, data, "taylor")
