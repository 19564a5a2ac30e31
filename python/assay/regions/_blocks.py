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
    in MiB, of the whole-data cache (len(components) * N^2 * 8 bytes); 0 never caches."""

    def __init__(self, D, components, cache_mb: float = 256.0):
        self.D = D
        self.components = [tuple(v) for v in components]
        self.N = D.X.shape[0]
        self.f = D._predict(D.X)
        self._all = tuple(range(len(D._columns)))
        need = len(self.components) * self.N * self.N * 8
        self.cached = need <= cache_mb * (1 << 20)
        self._cache = {}
        if self.cached:
            for v in self.components:
                F = np.empty((self.N, self.N))
                for lo, block in self._evaluate(v, D.X):
                    F[lo:lo + block.shape[0]] = block
                self._cache[v] = F

    def _evaluate(self, v, XR):
        if v == self._all:  # f(x_v, z_-v) = f(x): no hybrid rows needed
            f = self.D._predict(XR)
            chunk = max(1, _CHUNK_CELLS // max(1, XR.shape[0]))
            for lo in range(0, f.size, chunk):
                yield lo, np.repeat(f[lo:lo + chunk, None], XR.shape[0], axis=1)
            return
        cols = self.D._cols(v)
        n = XR.shape[0]
        # F_v(x, z) depends on x only through x_v: rows sharing those values share a row of F_v
        # (binary, ordinal and categorical players cost a few model calls per z, not |R|).
        uniq, first, inverse = np.unique(XR[:, cols], axis=0, return_index=True, return_inverse=True)
        if 2 * uniq.shape[0] > n or uniq.shape[0] * n > 4 * _CHUNK_CELLS:
            yield from hybrid_blocks(self.D._predict, XR, XR, cols)
            return
        distinct = np.empty((uniq.shape[0], n))
        for lo, block in hybrid_blocks(self.D._predict, XR[first], XR, cols):
            distinct[lo:lo + block.shape[0]] = block
        inverse = inverse.reshape(-1)
        chunk = max(1, _CHUNK_CELLS // max(1, n))
        for lo in range(0, n, chunk):
            yield lo, distinct[inverse[lo:lo + chunk]]

    def blocks(self, v, rows):
        """(first row, F_v[rows[lo:hi]][:, rows]) for chunks of the region `rows`: from the
        whole-data cache when there is one, else by evaluating the model."""
        v = tuple(v)
        n = rows.size
        if not self.cached:
            yield from self._evaluate(v, self.D.X[rows])
            return
        F = self._cache[v]
        whole = n == self.N and np.array_equal(rows, np.arange(self.N))
        chunk = max(1, _CHUNK_CELLS // max(1, n))
        for lo in range(0, n, chunk):
            idx = rows[lo:lo + chunk]
            yield lo, (F[lo:lo + chunk] if whole else F[np.ix_(idx, rows)])
