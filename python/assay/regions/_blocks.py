"""Component matrices F_v(x, z) = f(x_v, z_-v) of the fitted rows, for the players v that the region
losses need, served in chunks of rows x (axis 0) against every z of a region (axis 1).

Every region loss of GRANITE is a function of row and column averages of these matrices over the
region's own rows, so one pass over them serves every candidate split of a node. When all of
them fit in the memory budget (N^2 * 8 bytes each) they are evaluated once on the whole data and
every later node gathers its sub-blocks; otherwise each node evaluates its own blocks (|R|^2
model calls per component, |R| per distinct value of the component's columns when fewer), in
chunks, and nothing N x N is ever held.
"""

from __future__ import annotations

import numpy as np

from .anchored import hybrid_blocks

_CHUNK_CELLS = 1 << 21  # floats per block handed out (16 MB): bounds the temporaries of a pass


class ComponentBlocks:
    """F_v for the components v (tuples of player indices) on the rows of D.X.

    D: an AnchoredDecomposition (its model, rows and player columns). components: the player
    tuples v whose matrices are served (the empty tuple is not one). cache_mb: the memory budget,
    in MiB, of the whole-data cache; 0 never caches. A component is cached as its distinct rows
    (k x N, k the number of distinct values of its columns, N for a continuous player, 1 for all
    players) and the row -> distinct row map, so the cache takes at most len(components) * N^2 * 8
    bytes and usually less."""

    def __init__(self, D, components, cache_mb: float = 256.0):
        self.D = D
        self.components = [tuple(v) for v in components]
        self.N = D.X.shape[0]
        self.f = D._predict(D.X)
        self._all = tuple(range(len(D._columns)))
        keys = {v: self._distinct(v, D.X) for v in self.components}
        need = sum(first.size for first, _ in keys.values()) * self.N * 8
        self.cached = need <= cache_mb * (1 << 20)
        self._cache = {}
        if self.cached:
            for v, (first, inverse) in keys.items():
                F = np.empty((first.size, self.N))
                for lo, block in self._rows_of(v, D.X, first):
                    F[lo : lo + block.shape[0]] = block
                self._cache[v] = (F, inverse)

    def _distinct(self, v, XR):
        """(first row of each distinct value of v's columns, row -> its distinct value): rows
        sharing x_v share their row of F_v."""
        if v == self._all:  # f(x_v, z_-v) = f(x): one row per x, but no hybrid rows needed
            return np.arange(XR.shape[0]), np.arange(XR.shape[0])
        _, first, inverse = np.unique(XR[:, self.D._cols(v)], axis=0, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)

    def _rows_of(self, v, XR, first):
        """(first, F_v[first[lo:hi]][:, all of XR]) chunks for the distinct rows `first`."""
        if v == self._all:
            f = self.D._predict(XR)
            chunk = max(1, _CHUNK_CELLS // max(1, XR.shape[0]))
            for lo in range(0, first.size, chunk):
                yield lo, np.repeat(f[first[lo : lo + chunk], None], XR.shape[0], axis=1)
            return
        yield from hybrid_blocks(self.D._predict, XR[first], XR, self.D._cols(v))

    def _evaluate(self, v, XR):
        n = XR.shape[0]
        first, inverse = self._distinct(v, XR)
        if 2 * first.size > n or first.size * n > 4 * _CHUNK_CELLS:  # (nearly) continuous: row by row
            yield from self._rows_of(v, XR, np.arange(n))
            return
        distinct = np.empty((first.size, n))  # few distinct values: evaluate each once, then expand
        for lo, block in self._rows_of(v, XR, first):
            distinct[lo : lo + block.shape[0]] = block
        chunk = max(1, _CHUNK_CELLS // max(1, n))
        for lo in range(0, n, chunk):
            yield lo, distinct[inverse[lo : lo + chunk]]

    def blocks(self, v, rows):
        """(first row, F_v[rows[lo:hi]][:, rows]) for chunks of the region `rows`: from the
        whole-data cache when there is one, else by evaluating the model."""
        v = tuple(v)
        n = rows.size
        if not self.cached:
            yield from self._evaluate(v, self.D.X[rows])
            return
        F, inverse = self._cache[v]
        whole = n == self.N and np.array_equal(rows, np.arange(self.N))
        chunk = max(1, _CHUNK_CELLS // max(1, n))
        for lo in range(0, n, chunk):
            idx = inverse[rows[lo : lo + chunk]]
            yield lo, (F[idx] if whole else F[np.ix_(idx, rows)])
