"""Partial orders of feature importance that every model in a Rashomon set agrees with."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


class PartialOrder:
    """A strict partial order over n features: relation[i, j] means "i is more important than j"
    for every model in the set. Ambiguous features (their sign, or whether they matter at all, is
    not agreed) take part in no relation; they are drawn in a ground node of the Hasse diagram.
    """

    def __init__(self, relation, names: Optional[Sequence[str]] = None, ambiguous=None):
        rel = np.array(relation, dtype=bool)
        if rel.ndim != 2 or rel.shape[0] != rel.shape[1]:
            raise ValueError(f"relation: expected a square boolean matrix, got shape {rel.shape}")
        n = rel.shape[0]
        self.names = [str(s) for s in names] if names is not None else [f"x{i}" for i in range(n)]
        if len(self.names) != n:
            raise ValueError(f"names: expected {n} names, got {len(self.names)}")
        self.ambiguous = np.zeros(n, dtype=bool) if ambiguous is None else np.array(ambiguous, dtype=bool)
        if self.ambiguous.shape != (n,):
            raise ValueError(f"ambiguous: expected {n} flags, got shape {self.ambiguous.shape}")
        if np.any(np.diag(rel)):
            raise ValueError("relation: a feature cannot be more important than itself")
        if np.any(rel & rel.T):
            raise ValueError("relation: i > j and j > i at once")
        if np.any(rel[self.ambiguous]) or np.any(rel[:, self.ambiguous]):
            raise ValueError("relation: ambiguous features cannot be ordered")
        closure = _transitive_closure(rel)
        if np.any(np.diag(closure)):
            raise ValueError("relation: contains a cycle")
        self.relation = closure

    @property
    def n(self) -> int:
        """The number of features the order is over."""
        return self.relation.shape[0]

    def adjacency(self) -> np.ndarray:
        """(n, n) bool, transitively closed: [i, j] is True when i > j."""
        return self.relation.copy()

    def hasse_edges(self) -> list:
        """The transitive reduction: (i, j) pairs with i > j and nothing in between."""
        R = self.relation
        through = (R.astype(np.int64) @ R.astype(np.int64)) > 0  # i > k > j for some k
        return [(int(i), int(j)) for i, j in zip(*np.nonzero(R & ~through))]

    def ranks(self) -> np.ndarray:
        """Rank 0 for maximal features, then 1 once those are removed, and so on; -1 if ambiguous."""
        rank = np.full(self.n, -1)
        left = ~self.ambiguous
        r = 0
        while left.any():
            beaten = (self.relation[left][:, left]).any(axis=0)  # someone remaining is above it
            top = np.flatnonzero(left)[~beaten]
            rank[top] = r
            left[top] = False
            r += 1
        return rank

    def intersection(self, other: "PartialOrder") -> "PartialOrder":
        """Relations and non-ambiguity both orders agree on (e.g. the local orders of several rows)."""
        if other.n != self.n:
            raise ValueError(f"other: expected an order over {self.n} features, got {other.n}")
        return PartialOrder(self.relation & other.relation, self.names, self.ambiguous | other.ambiguous)

    def consistent_with(self, scores) -> bool:
        """True when a total ranking by `scores` (higher = more important) keeps every relation."""
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != (self.n,):
            raise ValueError(f"scores: expected {self.n} values, got shape {s.shape}")
        i, j = np.nonzero(self.relation)
        return bool(np.all(s[i] > s[j]))

    def to_networkx(self):
        """A networkx.DiGraph of the Hasse diagram (edge i -> j: i more important than j)."""
        import networkx as nx

        g = nx.DiGraph()
        for i, name in enumerate(self.names):
            g.add_node(i, name=name, ambiguous=bool(self.ambiguous[i]))
        g.add_edges_from(self.hasse_edges())
        return g

    def plot(self, path=None, *, ax=None, title: Optional[str] = None):
        """Draw the Hasse diagram, most important on top, ambiguous features in a ground box, into
        `ax` (or a new figure). Saves to `path` (PNG, SVG, ... by extension) when given; returns the
        matplotlib Axes (the convention of assay.plot)."""
        from ..plot import _axes, _save

        ax = _axes(ax, path, (max(4, 1.2 * self.n), 4))
        rank = self.ranks()
        levels = int(rank.max()) + 1 if (rank >= 0).any() else 0
        pos = {}
        for r in range(levels):
            members = np.flatnonzero(rank == r)
            for k, i in enumerate(members):
                pos[int(i)] = ((k + 1) / (len(members) + 1), 1.0 - r / max(levels, 1))
        for i, j in self.hasse_edges():
            ax.annotate("", xy=pos[j], xytext=pos[i], arrowprops=dict(arrowstyle="->", color="0.4"))
        for i, (x, y) in pos.items():
            ax.text(
                x,
                y,
                self.names[i],
                ha="center",
                va="center",
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.3"),
            )
        amb = [self.names[i] for i in np.flatnonzero(self.ambiguous)]
        if amb:
            ax.text(
                0.5,
                -0.15,
                "ambiguous: " + ", ".join(amb),
                ha="center",
                va="center",
                color="0.35",
                bbox=dict(boxstyle="square", facecolor="0.95", edgecolor="0.6"),
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.3, 1.15)
        ax.axis("off")
        if title:
            ax.set_title(title)
        return _save(ax, path)

    def __repr__(self):
        edges = ", ".join(f"{self.names[i]} > {self.names[j]}" for i, j in self.hasse_edges())
        amb = [self.names[i] for i in np.flatnonzero(self.ambiguous)]
        return f"PartialOrder({edges or 'no relations'}; ambiguous: {amb or 'none'})"


def _transitive_closure(rel: np.ndarray) -> np.ndarray:
    closure = rel.copy()
    for k in range(closure.shape[0]):  # Warshall
        closure |= closure[:, [k]] & closure[[k], :]
    return closure
