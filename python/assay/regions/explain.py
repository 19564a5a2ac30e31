"""Regional explanations: each region is explained with its own fitted rows as the background.

- "shap": interventional SHAP values, (n, P). Tree models: assay.TreeExplainer(model, data=region
  rows). Callables: exact Shapley values by enumerating the 2^P coalitions of the players
  (v(S)(x) = mean_{z in region} f(x_S, z_-S)), so P <= 12 players.
- "pdp": centred partial dependence of each player at each row, (n, P):
  mean_z f(x_i, z_-i) - mean_z f(z) over the region's rows z (the pure effect p_i).
- "pfi": permutation feature importance per region, (n_regions, P): the mean increase of the
  squared error (or `metric(y, pred)`) when a player's columns are permuted among the region's
  rows of X (needs y; n_repeats permutations, seeded by random_state). NaN for regions without rows.
"""

from __future__ import annotations

import dataclasses
import itertools
from math import factorial

import numpy as np

from .anchored import hybrid_means

KINDS = ("shap", "pdp", "pfi")
_MAX_ENUM_PLAYERS = 12


def regional_explanation(g, X, kind, y=None, metric=None, n_repeats: int = 5, random_state=0):
    """Explanations of the rows X by the fitted Granite `g`, each region's fitted rows as the
    background: kind "shap" or "pdp" -> (n, P), "pfi" -> (n_regions, P) (needs y; metric(y, pred)
    defaults to the squared error; n_repeats permutations seeded by random_state). Definitions in
    this module's docstring. ValueError on an unknown kind, missing y or too many players."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    X = g._matrix(X)
    ids = g._regions_of(X)  # X is already encoded: predict(X) would encode it twice
    D = g.decomposition_
    background = g.region_rows()
    P = len(D._columns)
    if kind == "pfi":
        return _pfi(D, X, ids, len(background), y, metric, n_repeats, random_state)
    out = np.zeros((X.shape[0], P))
    for k, rows in enumerate(background):
        mine = np.flatnonzero(ids == k)
        if mine.size == 0:
            continue
        Z = g.X_[rows]
        out[mine] = (_shap if kind == "shap" else _pdp)(g, D, X[mine], Z)
    return out


def _pdp(g, D, Xq, Z):
    base = D._predict(Z).mean()
    return np.column_stack([hybrid_means(D._predict, Xq, Z, cols) - base for cols in D._columns])


def _shap(g, D, Xq, Z):
    if D.tree is not None:
        from ..trees.explainer import TreeExplainer

        model = dataclasses.replace(D.tree, input_transform=None)  # X is already transformed
        values = TreeExplainer(
            model, data=Z, groups=g.groups, feature_names=D.feature_names, n_jobs=D.n_jobs
        ).shap_values(Xq)
        return values[..., D._kernel_output] if values.ndim == 3 else values
    P = len(D._columns)
    if P > _MAX_ENUM_PLAYERS:
        raise ValueError(
            f"kind='shap' for a callable model enumerates 2^P coalitions; got P={P} players "
            f"(at most {_MAX_ENUM_PLAYERS}): group features or use a tree model"
        )
    value = {}
    for r in range(P + 1):
        for S in itertools.combinations(range(P), r):
            value[S] = hybrid_means(D._predict, Xq, Z, D._cols(S))
    phi = np.zeros((Xq.shape[0], P))
    for S, vS in value.items():
        w = factorial(len(S)) * factorial(P - len(S) - 1) / factorial(P) if len(S) < P else 0.0
        for i in range(P):
            if i not in S:
                phi[:, i] += w * (value[tuple(sorted(S + (i,)))] - vS)
    return phi


def _pfi(D, X, ids, n_regions, y, metric, n_repeats, random_state):
    if y is None:
        raise ValueError("y: kind='pfi' needs the labels of X")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} labels (one per row of X), got {y.shape[0]}")
    metric = metric or (lambda t, p: float(np.mean((t - p) ** 2)))
    rng = np.random.default_rng(random_state)
    out = np.full((n_regions, len(D._columns)), np.nan)
    for k in range(n_regions):
        mine = np.flatnonzero(ids == k)
        if mine.size == 0:
            continue
        Xk, yk = X[mine], y[mine]
        base = metric(yk, D._predict(Xk))
        for i, cols in enumerate(D._columns):
            drops = []
            for _ in range(n_repeats):
                A = Xk.copy()
                A[:, cols] = Xk[rng.permutation(mine.size)][:, cols]
                drops.append(metric(yk, D._predict(A)) - base)
            out[k, i] = np.mean(drops)
    return out
