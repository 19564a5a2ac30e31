"""The region losses computed from row / column sums of the component matrices F_v: one pass over
a node's blocks gives the loss of both children of every candidate split of every feature.
Definitions in the docstring of assay.regions.losses."""

from __future__ import annotations

import itertools

import numpy as np

from ._blocks import ComponentBlocks
from ._split_stats import component_sums, left_indicator, sides
from .losses import _FLOOR

_STATS_BYTES = 64 << 20  # the per-pass sums (|R| x splits per component) stay under this


class StatLoss:
    """Base of the losses computed from component sums. D: the decomposition of the fitted rows;
    U: the components (sorted player tuples); cache_mb: the memory budget (MiB) of the cached
    component matrices. Subclasses define _side(side, rows, sums, f_sum) -> (K,) raw child losses
    and _scale(side) -> (K,) values compared with the round-off floor."""

    squares = False  # subclasses that need column sums of F^2

    def __init__(self, D, U, cache_mb):
        self.D, self.U = D, [tuple(u) for u in U]
        self.N = D.X.shape[0]
        needed = sorted({v for u in self.U for v in _subsets_of(u) if v}, key=lambda v: (len(v), v))
        self.source = ComponentBlocks(D, needed, cache_mb)
        self.components = needed
        self.f = self.source.f
        self._unit = max(float(np.mean(self.f * self.f)), np.finfo(float).tiny)

    def __call__(self, rows) -> float:
        """The loss of the region made of `rows` (indices into the fitted X; None: all rows);
        0.0 below the round-off floor. ValueError for empty or out-of-range indices."""
        rows = self.D._rows(rows)
        return float(self._evaluate(rows, np.ones((rows.size, 1)))[0, 0])

    def split(self, rows, feature: int, thresholds) -> np.ndarray:
        """(len(thresholds), 2): the losses of the left (x <= t) and right (x > t) children of the
        region `rows` split on column `feature` at each threshold t."""
        return self.splits(rows, {feature: thresholds})[feature]

    def splits(self, rows, candidates) -> dict:
        """{feature: (len(thresholds), 2) left / right child losses} for every feature and its
        thresholds in `candidates` (a dict), from one pass over the node's component blocks
        (more passes only when the sums would exceed their memory bound)."""
        rows = self.D._rows(rows)
        X = self.D.X[rows]
        features = [j for j in candidates if len(candidates[j])]
        per_column = rows.size * 8 * 4 * (3 if self.squares else 2) * max(1, len(self.components))
        width = max(1, _STATS_BYTES // per_column)
        out = {j: np.empty((0, 2)) for j in candidates}
        batch, cols = [], 0
        for j in features + [None]:
            m = 0 if j is None else len(candidates[j])
            if batch and (j is None or cols + m > width):
                I = np.hstack([left_indicator(X[:, b], candidates[b]) for b in batch])
                values = self._evaluate(rows, I)
                lo = 0
                for b in batch:
                    out[b] = values[lo : lo + len(candidates[b])]
                    lo += len(candidates[b])
                batch, cols = [], 0
            if j is not None:
                batch.append(j)
                cols += m
        return out

    def _evaluate(self, rows, I):
        """(K, 2) child losses of the K splits I, clamped to 0.0 below the round-off floor."""
        sums = self._sums(rows, I)
        f_left, f_total = I.T @ self.f[rows], self.f[rows].sum()
        out = np.empty((I.shape[1], 2))
        for k, side in enumerate(sides(I)):
            raw = self._side(side, rows, sums, side.pick(f_left, f_total))
            out[:, k] = np.where(self._scale(side, raw) <= _FLOOR, 0.0, raw)
        return out

    def _sums(self, rows, I):
        """{component: Sums} for the splits I of the region `rows`."""
        return {v: component_sums(self.source.blocks(v, rows), I, squares=self.squares) for v in self.components}

    def _scale(self, side, raw):
        return raw * self.N / np.maximum(side.size, 1) / self._unit  # per-row value over mean f^2


class PureVsFull(StatLoss):
    """The "pure_vs_full" loss over the components U, for any model: the mean squared gap between
    the pure and full anchored effects on the region's own data."""

    name = "pure_vs_full"

    def _value(self, g, rows):
        return g  # the value of a coalition: its averaged prediction

    def _side(self, side, rows, sums, f_sum):
        n = side.n
        f = self.f[rows][:, None]
        total = np.zeros(side.size.shape)
        for u in self.U:
            p = q = 0.0
            for v in _subsets_of(u):
                if v:
                    s = sums[v]
                    gp, gq = side.pick(s.row_left, s.row_total) / n, side.pick(s.col_left, s.col_total) / n
                else:
                    gp, gq = (f_sum / n)[None, :], f
                p = p + (-1.0) ** (len(u) - len(v)) * self._value(gp, rows)
                q = q + (-1.0) ** len(v) * self._value(gq, rows)
            total += np.where(side.inside, (p - q) ** 2, 0.0).sum(axis=0)
        return total / len(self.U) / self.N


class PureVsFullRisk(PureVsFull):
    """The "pure_vs_full_risk" loss: the pure vs full gap of the value nu_x(S) = -risk(g_S(x), y_x),
    the risk of the averaged prediction (SAGE). y: the labels of the fitted rows; risk: the
    elementwise risk(pred, y)."""

    name = "pure_vs_full_risk"

    def __init__(self, D, U, cache_mb, y, risk):
        super().__init__(D, U, cache_mb)
        self.y, self.risk = y, risk
        r = np.asarray(risk(self.f, y), dtype=np.float64)
        self._unit = max(float(np.mean(r * r)), np.finfo(float).tiny)

    def _value(self, g, rows):
        return -np.asarray(self.risk(g, self.y[rows][:, None]), dtype=np.float64)


class ClosedVsTotalSobol(StatLoss):
    """The "sobol" loss: sum over the players i of U of (closed index - total index)^2 on the
    region's rows, C_i = Var_x g_i(x) and T_i = mean_z Var_x f(x_i, z_-i)."""

    name = "sobol"
    squares = True

    def _side(self, side, rows, sums, f_sum):
        n = side.n
        total = np.zeros(side.size.shape)
        for (i,) in self.U:
            s = sums[(i,)]
            g = np.where(side.inside, side.pick(s.row_left, s.row_total) / n, 0.0)
            closed = (g * g).sum(axis=0) / n - (g.sum(axis=0) / n) ** 2
            mean = side.pick(s.col_left, s.col_total) / n
            var = side.pick(s.sq_col_left, s.sq_col_total) / n - mean * mean
            total_index = np.where(side.inside, var, 0.0).sum(axis=0) / n
            total += (closed - total_index) ** 2
        return total

    def _scale(self, side, raw):
        return raw / self._unit**2  # a squared difference of variances


def _subsets_of(u):
    return [c for r in range(len(u) + 1) for c in itertools.combinations(u, r)]
