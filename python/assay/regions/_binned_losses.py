"""The distribution-influence losses (marginal vs conditional), whose conditional side averages
only over rows in the same bin of a player; the bins are fixed once on all fitted rows.
Definitions in the docstring of assay.regions.losses."""

from __future__ import annotations

import numpy as np

from ._split_stats import bin_counts, component_sums
from ._stat_losses import StatLoss


class BinnedLoss(StatLoss):
    """Base of the binned losses: bins[i] holds player i's bin id of every fitted row (binning)."""

    def __init__(self, D, U, cache_mb, bins):
        super().__init__(D, U, cache_mb)
        self.bins = bins

    def _sums(self, rows, I):
        sums = {}
        for v in self.components:
            ids = np.unique(self.bins[v[0]][rows], return_inverse=True)[1].reshape(-1)
            sums[v], sums["same", v] = component_sums(self.source.blocks(v, rows), I, bins=ids)
            sums["count", v] = bin_counts(ids, I)
        return sums


class PdpVsMplot(BinnedLoss):
    """The "pdp_vs_mplot" loss: (1/N) sum over the players i of U and the rows x of the region of
    (partial dependence g_i(x) - its binned conditional average M_i(x))^2. n_bins: the quantile bins
    of each player (unique values when there are at most n_bins)."""

    name = "pdp_vs_mplot"

    def __init__(self, D, U, cache_mb, n_bins):
        super().__init__(D, U, cache_mb, [quantile_bins(D.X[:, cols], n_bins) for cols in D._columns])

    def _side(self, side, rows, sums, f_sum):
        n = side.n
        total = np.zeros(side.size.shape)
        for v in self.U:
            s, same, (count_left, count_total) = sums[v], sums["same", v], sums["count", v]
            marginal = side.pick(s.row_left, s.row_total) / n
            with np.errstate(divide="ignore", invalid="ignore"):  # rows outside the child: masked
                conditional = side.pick(same.row_left, same.row_total) / side.pick(count_left, count_total)
            total += np.where(side.inside, (marginal - conditional) ** 2, 0.0).sum(axis=0)
        return total / self.N


class PfiVsCfi(BinnedLoss):
    """The "pfi_vs_cfi" loss: (|R|/N) sum over the players i of U of (PFI_i - CFI_i)^2, the risk with
    player i marginalised vs averaged within the bins of a CART of i on the other columns
    (max_leaf_nodes = n_bins). y: the labels of the fitted rows; risk: the elementwise risk."""

    name = "pfi_vs_cfi"

    def __init__(self, D, U, cache_mb, n_bins, y, risk):
        super().__init__(D, U, cache_mb, [cart_bins(D.X, cols, n_bins) for cols in D._columns])
        self.y, self.risk = y, risk
        r = np.asarray(risk(self.f, y), dtype=np.float64)
        self._unit = max(float(np.mean(r)) ** 2, np.finfo(float).tiny)

    def _side(self, side, rows, sums, f_sum):
        n = side.n
        y = self.y[rows][:, None]
        total = np.zeros(side.size.shape)
        for v in self.U:
            s, same, (count_left, count_total) = sums[v], sums["same", v], sums["count", v]
            marginal = self._mean_risk(side, side.pick(s.col_left, s.col_total) / n, y, n)
            with np.errstate(divide="ignore", invalid="ignore"):  # rows outside the child: masked
                within = side.pick(same.col_left, same.col_total) / side.pick(count_left, count_total)
            total += (marginal - self._mean_risk(side, within, y, n)) ** 2
        return total * n / self.N

    def _mean_risk(self, side, pred, y, n):
        r = np.asarray(self.risk(np.where(side.inside, pred, 0.0), y), dtype=np.float64)
        return np.where(side.inside, r, 0.0).sum(axis=0) / n

    def _scale(self, side, raw):
        return raw * self.N / np.maximum(side.size, 1) / self._unit  # per row, over the squared risk


def quantile_bins(values, n_bins):
    """Bin id per row of a player's columns: the unique values of its first column when there are at
    most n_bins, else n_bins bins between its percentiles 100 k / n_bins (linear interpolation),
    the last bin closed on the right."""
    x = values[:, 0]
    uniq, inverse = np.unique(x, return_inverse=True)
    if uniq.size <= n_bins:
        return inverse.reshape(-1)
    edges = np.percentile(x, np.arange(n_bins + 1) * 100.0 / n_bins)
    return np.clip(np.digitize(x, edges) - 1, 0, n_bins - 1)


def cart_bins(X, cols, n_bins):
    """Bin id per row: the leaf of a CART (DecisionTreeRegressor, max_leaf_nodes=n_bins,
    random_state 0) predicting the player's first column from the other columns; one bin when
    there are no other columns."""
    from sklearn.tree import DecisionTreeRegressor

    others = np.setdiff1d(np.arange(X.shape[1]), cols)
    if others.size == 0:
        return np.zeros(X.shape[0], dtype=np.int64)
    cart = DecisionTreeRegressor(max_leaf_nodes=max(2, n_bins), random_state=0)
    leaves = cart.fit(X[:, others], X[:, cols[0]]).apply(X[:, others])
    return np.unique(leaves, return_inverse=True)[1].reshape(-1)
