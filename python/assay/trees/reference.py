"""Slow, obviously correct oracles for tests: every index by enumerating every coalition, of the
interventional game (coalition_values: mean over background rows) or of the path-dependent game
(path_dependent_coalition_values: the cover-weighted tree recursion).

Cost O(2^P * n_bg) model evaluations per row; use only with P <= ~10 players and tiny
backgrounds. Each index is computed from its textbook definition over all P players (null
players included), independently of the closed forms the compiled core uses.
"""

from __future__ import annotations

from itertools import combinations
from math import comb, factorial

import numpy as np

from .._vocabulary import INDICES, index_name  # noqa: F401  (INDICES: the index names, re-exported)

# The closed forms checked against: csrc/core/indices.hpp. Index names: "shap", "banzhaf",
# "interaction", "taylor" (assay's one vocabulary; "shapley" still works, deprecated).


def coalition_values(predict, x, background, player_of=None):
    """v(S) = mean_z predict(x_S, z_rest) for every coalition S (sorted tuple of players)."""
    x = np.asarray(x, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)
    d = x.shape[0]
    player_of = np.arange(d) if player_of is None else np.asarray(player_of)
    P = int(player_of.max()) + 1
    value = {}
    for size in range(P + 1):
        for S in combinations(range(P), size):
            cols = np.flatnonzero(np.isin(player_of, S))
            hybrid = bg.copy()
            hybrid[:, cols] = x[cols]
            value[S] = np.asarray(predict(hybrid)).reshape(bg.shape[0], -1).mean(axis=0)
    return value, P


def _with(S, *players):
    return tuple(sorted(S + players))


def brute_force_values(predict, x, background, index="shap", player_of=None) -> np.ndarray:
    """One row's values: (P, K) for "shap"/"banzhaf", (P, P, K) for "interaction"/"taylor"
    ("shapley" is the deprecated spelling of "shap")."""
    index = index_name(index)
    v, P = coalition_values(predict, x, background, player_of)
    return _indices(v, P, index)


def _indices(v, P, index):
    """Values of one row from its coalition values: (P, K) or (P, P, K); index already checked."""
    K = v[()].shape[0]
    first = np.zeros((P, K))
    for i in range(P):
        others = [j for j in range(P) if j != i]
        for size in range(P):
            w = factorial(size) * factorial(P - size - 1) / factorial(P) if index != "banzhaf" else 0.5 ** (P - 1)
            for S in combinations(others, size):
                first[i] += w * (v[_with(S, i)] - v[S])
    if index in ("shap", "banzhaf"):
        return first
    M = np.zeros((P, P, K))
    for i, j in combinations(range(P), 2):
        rest = [k for k in range(P) if k not in (i, j)]
        total = np.zeros(K)
        for size in range(P - 1):
            if index == "interaction":
                w = factorial(size) * factorial(P - size - 2) / factorial(P - 1)
            else:  # Shapley-Taylor, order 2: (2 / P) / C(P - 1, |S|)
                w = 2.0 / P / comb(P - 1, size)
            for S in combinations(rest, size):
                total += w * (v[_with(S, i, j)] - v[_with(S, i)] - v[_with(S, j)] + v[S])
        M[i, j] = M[j, i] = total / 2
    for i in range(P):
        if index == "interaction":  # shap's convention: each row sums to the Shapley value
            M[i, i] = first[i] - (M[i].sum(axis=0) - M[i, i])
        else:  # Shapley-Taylor main effect
            M[i, i] = v[(i,)] - v[()]
    return M


def brute_force_shap(predict, x, background) -> np.ndarray:
    """Interventional SHAP values of one row x: (d, K)."""
    return brute_force_values(predict, x, background, "shap")


def path_dependent_coalition_values(model, x, player_of=None):
    """v(S) of the path-dependent game for every coalition S, by walking the trees: at a split on
    a feature of a player in S follow x, at any other split take both children weighted by their
    share of the node's cover. model: a converted TreeModel with node_cover."""
    f = model.forest
    a, K = f.arrays(), f.n_outputs
    offsets, tree_output, feature, left, right = (
        a[k] for k in ("tree_offsets", "tree_output", "feature", "left", "right")
    )
    value, base = a["value"].reshape(-1, K), a["base_score"]
    cover = np.asarray(model.node_cover, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    went_left = f.goes_left(x)[0]
    d = x.shape[1]
    player_of = np.arange(d) if player_of is None else np.asarray(player_of)
    P = int(player_of.max()) + 1

    def expect(node, off, S):
        if feature[node] < 0:
            return value[node]
        l, r = off + left[node], off + right[node]
        if player_of[feature[node]] in S:
            return expect(l if went_left[node] else r, off, S)
        if cover[node] <= 0:
            return np.zeros(K)
        return (cover[l] * expect(l, off, S) + cover[r] * expect(r, off, S)) / cover[node]

    values = {}
    for size in range(P + 1):
        for S in combinations(range(P), size):
            total = base.astype(np.float64).copy()
            for t in range(len(offsets) - 1):
                e = expect(int(offsets[t]), int(offsets[t]), set(S))
                if tree_output[t] >= 0:
                    total[tree_output[t]] += e[tree_output[t]]
                else:
                    total += e
            values[S] = total
    return values, P


def indices_from_game(v, P, index="shap") -> np.ndarray:
    """Every index of a game given by its coalition values v (dict: sorted tuple -> (K,)); index
    "shap", "banzhaf", "interaction" or "taylor" ("shapley": deprecated spelling of "shap")."""
    return _indices(v, P, index_name(index))
