"""Players of the attribution game: every feature, or groups of features that act as one.

A group (e.g. the one-hot columns of one categorical variable) enters and leaves a coalition as a
unit, and every value is reported per group. Features not named in any group stay players of
their own, after the groups, in column order.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def resolve_groups(groups, n_features: int, feature_names: Sequence[str]):
    """(player_of_feature int32 array or None, player names). None means one player per feature."""
    if groups is None:
        return None, list(feature_names)
    if isinstance(groups, dict):
        items = list(groups.items())
    elif isinstance(groups, (list, tuple)):
        items = [(None, g) for g in groups]
    else:
        raise TypeError(
            f"groups: expected a dict name -> columns or a list of column lists, got {type(groups).__name__}"
        )
    index_of = {str(name): j for j, name in enumerate(feature_names)}
    player_of = np.full(n_features, -1, dtype=np.int32)
    names = []
    for g, (name, cols) in enumerate(items):
        label = str(name) if name is not None else f"group{g}"
        if isinstance(cols, (str, int, np.integer)) or not hasattr(cols, "__iter__"):
            raise TypeError(f"groups: group {label!r} must be a list of columns, got {cols!r}")
        cols = list(cols)
        if not cols:
            raise ValueError(f"groups: group {label!r} is empty")
        for c in cols:
            j = _column_index(c, label, n_features, index_of)
            if player_of[j] >= 0:
                raise ValueError(
                    f"groups: column {feature_names[j]!r} (index {j}) is in group {names[player_of[j]]!r} "
                    f"and in group {label!r}; groups must not overlap"
                )
            player_of[j] = g
        names.append(label)
    for j in range(n_features):
        if player_of[j] < 0:
            player_of[j] = len(names)
            names.append(str(feature_names[j]))
    if len(set(names)) != len(names):
        raise ValueError(f"groups: player names must be unique, got {names}")
    return player_of, names


def _column_index(c, label: str, n_features: int, index_of: dict) -> int:
    if isinstance(c, (bool, np.bool_)):
        raise TypeError(f"groups: group {label!r} has a boolean column {c!r}; use column indices or names")
    if isinstance(c, (int, np.integer)):
        if not 0 <= int(c) < n_features:
            raise ValueError(f"groups: group {label!r} has column {int(c)}, out of range for {n_features} features")
        return int(c)
    if isinstance(c, str):
        if c not in index_of:
            raise ValueError(f"groups: group {label!r} names column {c!r}, which is not a feature name")
        return index_of[c]
    raise TypeError(f"groups: group {label!r} has column {c!r}; expected an int index or a feature name")


def player_count(player_of: Optional[np.ndarray], n_features: int) -> int:
    """The number of players: n_features when player_of is None (one player per feature), else
    one more than the largest player index in player_of (feature -> player)."""
    return n_features if player_of is None else int(player_of.max()) + 1
