"""Region losses for the partition tree: callables on row indices (into the fitted X), lower is
better. Each is a sum over the region's rows divided by the TOTAL number of rows N, so the loss
of a partition is the sum of its leaves' losses (additive; a weighted average of per-row values).

- "pure_vs_full" (interaction influence): L(R) = (1/N) sum_{x in R} mean_{u in U} (p_u(x) - q_u(x))^2
  with p, q the pure and full effects on R's own data (anchored decomposition: p_u(x) =
  sum_{v <= u} (-1)^{|u|-|v|} g_v(x), q_u(x) = sum_{v <= u} (-1)^{|v|} g_{-v}(x), g_S(x) =
  mean_{z in R} f(x_S, z_-S)) and U the players (order 1)
  or the players and their pairs (order 2). Zero exactly when f has no interactions on R.
- "pure_vs_full_risk" (interaction influence of the loss, needs labels y): the same gap for the
  pointwise risk instead of the prediction. The label travels with the explained point (as in
  SAGE and permutation importance): the effects at x are those of g_x(w) = risk(f(w), y_x), so
  g_S(x) = mean_{z in R} risk(f(x_S, z_-S), y_x). risk: "squared" (default), "absolute" or a
  callable risk(pred, y) -> elementwise loss (arrays broadcast as (m, n) and (m, 1)). Evaluated
  directly for every model (|R|^2 model calls per subset). Zero where risk(f(.), y) has no
  interactions on R (e.g. f depends on a single player there); a squared error of an additive f
  is not interaction-free: (a(x1) + b(x2) - y)^2 has the cross term 2 a b.
- "pdp_vs_mplot" (distribution influence): L(R) = (1/N) sum_{x in R} mean_i (PD_i(x) - M_i(x))^2,
  PD_i(x) = mean_{z in R} f(x_i, z_-i) (p_i + mean f) and M_i(x) = mean of f over the rows of R
  in x's quantile bin of feature i (n_bins bins, or the unique values if fewer). Zero when
  conditioning on x_i and intervening on it agree, e.g. independent features and additive f.
- "sobol" (interaction influence, variance version): L(R) = (|R|/N) mean_i |T_i - C_i| with
  the interventional total index T_i = 1/2 mean_{x,z in R} (f(x) - f(z_i, x_-i))^2 and the closed
  index C_i = Var_{x in R}(mean_z f(x_i, z_-i)). Zero when f has no interactions on R. Evaluated
  directly for every model (|R|^2 model calls per player: small regions only).
- "pfi_vs_cfi" (distribution influence, needs labels y): L(R) = (|R|/N) mean_i (PFI_i - CFI_i)^2
  with PFI_i the mean increase of the squared error on R when player i's columns are permuted
  among R's rows, and CFI_i the same with permutations only within the leaves of a small CART
  (sklearn DecisionTreeRegressor, max_depth 2, min_samples_leaf 5) predicting the player's first
  column from the other columns on R. n_repeats permutations from a generator seeded by
  random_state, so a loss value is reproducible (it depends on the order of the rows).

Values below a round-off floor (1e-20 * mean f^2 per row; 1e-10 for "sobol") count as exactly zero, so that an
exactly interaction-free region is not split on noise.
"""
from __future__ import annotations

import numpy as np

from .anchored import hybrid_blocks, hybrid_means

LOSSES = ("pure_vs_full", "pure_vs_full_risk", "pdp_vs_mplot", "sobol", "pfi_vs_cfi")
RISKS = {"squared": lambda pred, y: (pred - y) ** 2, "absolute": lambda pred, y: np.abs(pred - y)}
_FLOOR = 1e-20


class RegionLoss:
    """Base of the region losses, built on an AnchoredDecomposition D of the fitted rows:
    __call__(rows) -> float, split(rows, feature, thresholds) -> (m, 2) child losses. Subclasses
    define _sum(rows), the unnormalised sum over the region's rows."""

    floor = _FLOOR  # relative to mean f^2: per-row values below it are round-off

    def __init__(self, D):
        self.D = D
        self.N = D.X.shape[0]
        f = D._predict(D.X)
        self._floor = self.floor * max(float(np.mean(f * f)), np.finfo(float).tiny)

    def _clamp(self, total, n):
        return 0.0 if n == 0 or total / n <= self._floor else total / self.N

    def __call__(self, rows) -> float:
        """The loss of the region made of `rows` (indices into the fitted X; None: all rows),
        divided by the total row count N; 0.0 when the per-row value is below the round-off
        floor. ValueError for empty or out-of-range indices."""
        rows = self.D._rows(rows)
        return self._clamp(self._sum(rows), rows.size)

    def split(self, rows, feature: int, thresholds) -> np.ndarray:
        """(len(thresholds), 2): the losses of the left (x <= t) and right (x > t) children of the
        region `rows` split on column `feature` at each threshold t."""
        x = self.D.X[rows, feature]
        out = np.empty((len(thresholds), 2))
        for c, t in enumerate(thresholds):
            left = x <= t
            out[c] = [self(rows[left]), self(rows[~left])]
        return out


class PureVsFull(RegionLoss):
    """The "pure_vs_full" loss: the mean squared gap between the pure and full anchored effects
    of the players (and pairs, order 2) on the region's own data; zero exactly when f has no
    interactions on the region."""

    name = "pure_vs_full"

    def _sum(self, rows):
        return self.D.squared_gap(rows) / len(self.D.subsets)

    def split(self, rows, feature, thresholds):
        """(len(thresholds), 2) left / right child losses as RegionLoss.split, all thresholds of
        `feature` computed together by the decomposition."""
        rows = self.D._rows(rows)
        raw = self.D.split_squared_gaps(rows, feature, thresholds) / len(self.D.subsets)
        x = self.D.X[rows, feature]
        n_left = (x[None, :] <= np.asarray(thresholds)[:, None]).sum(axis=1)
        out = np.empty_like(raw)
        for c in range(raw.shape[0]):
            out[c, 0] = self._clamp(raw[c, 0], n_left[c])
            out[c, 1] = self._clamp(raw[c, 1], rows.size - n_left[c])
        return out


class PureVsFullRisk(RegionLoss):
    """The "pure_vs_full_risk" loss: the pure vs full gap for the pointwise risk risk(f(w), y_x),
    the label travelling with the explained row. y: the labels of the fitted rows (required);
    risk: "squared", "absolute" or a callable(pred, y) -> elementwise loss. ValueError on a bad y
    or risk."""

    name = "pure_vs_full_risk"

    def __init__(self, D, y, risk="squared"):
        super().__init__(D)
        self.y = _labels(y, self.N, "pure_vs_full_risk")
        if isinstance(risk, str):
            if risk not in RISKS:
                raise ValueError(f"risk: expected one of {tuple(RISKS)} or a callable(pred, y), got {risk!r}")
            risk = RISKS[risk]
        elif not callable(risk):
            raise ValueError(f"risk: expected one of {tuple(RISKS)} or a callable(pred, y), got {risk!r}")
        self.risk = risk
        r = self.risk(D._predict(D.X)[:, None], self.y[:, None])
        self._floor = self.floor * max(float(np.mean(r * r)), np.finfo(float).tiny)

    def _g(self, rows, players, cache):
        # g_S(x) = mean_{z in R} risk(f(x_S, z_-S), y_x): the label is the explained row's.
        key = frozenset(players)
        if key not in cache:
            XR, yR = self.D.X[rows], self.y[rows]
            if len(players) == len(self.D._columns):
                cache[key] = self.risk(self.D._predict(XR)[:, None], yR[:, None])[:, 0]
            else:
                g = np.empty(rows.size)
                for lo, block in hybrid_blocks(self.D._predict, XR, XR, self.D._cols(players)):
                    g[lo:lo + block.shape[0]] = self.risk(block, yR[lo:lo + block.shape[0], None]).mean(axis=1)
                cache[key] = g
        return cache[key]

    def _sum(self, rows):
        p, q = self.D._generic_effects(rows, g=self._g)
        return float(((p - q) ** 2).sum()) / len(self.D.subsets)


class PdpVsMplot(RegionLoss):
    """The "pdp_vs_mplot" loss: the mean squared gap between each player's partial dependence and
    its marginal (M-) plot over n_bins quantile bins, on the region's rows. Order 1 only
    (ValueError otherwise)."""

    name = "pdp_vs_mplot"

    def __init__(self, D, n_bins: int = 10):
        super().__init__(D)
        if D.order != 1:
            raise ValueError("loss: 'pdp_vs_mplot' is defined per player; use order=1")
        self.n_bins = n_bins

    def _sum(self, rows):
        p, _ = self.D.effects(rows)
        f = self.D._predict(self.D.X[rows])
        pd = p[:, : len(self.D._columns)] + f.mean()
        total = 0.0
        for i, cols in enumerate(self.D._columns):
            bins = _bin_ids(self.D.X[rows][:, cols], self.n_bins)
            sums = np.bincount(bins, weights=f)
            counts = np.bincount(bins)
            total += float(((pd[:, i] - (sums / counts)[bins]) ** 2).sum())
        return total / len(self.D._columns)


class ClosedVsTotalSobol(RegionLoss):
    """The "sobol" loss: |R|/N times the mean over players of |total index - closed index|
    (interventional Sobol indices on the region's rows); zero when f has no interactions there.
    Order 1 only (ValueError otherwise)."""

    name = "sobol"
    floor = 1e-10  # a difference of two variances: round-off is relative to f^2 itself

    def __init__(self, D):
        super().__init__(D)
        if D.order != 1:
            raise ValueError("loss: 'sobol' is defined per player; use order=1")

    def _sum(self, rows):
        XR = self.D.X[rows]
        f = self.D._predict(XR)
        total = 0.0
        for cols in self.D._columns:
            g = hybrid_means(self.D._predict, XR, XR, cols)  # mean_z f(x_i, z_-i)
            t = 0.0
            for lo, block in hybrid_blocks(self.D._predict, XR, XR, np.setdiff1d(np.arange(XR.shape[1]), cols)):
                # block[a, b] = f(x_a with row b's player-i columns): (f(x) - f(z_i, x_-i))^2 summed
                t += float(((f[lo:lo + block.shape[0], None] - block) ** 2).sum())
            total += abs(0.5 * t / rows.size ** 2 - float(np.var(g)))
        return rows.size * total / len(self.D._columns)


class PfiVsCfi(RegionLoss):
    """The "pfi_vs_cfi" loss: |R|/N times the mean over players of (PFI - CFI)^2, permutation
    importance vs conditional importance (permutations within the leaves of a depth-2 CART of the
    player on the others), n_repeats permutations seeded by random_state. y: the labels of the
    fitted rows (required)."""

    name = "pfi_vs_cfi"

    def __init__(self, D, y, n_repeats: int = 3, random_state: int = 0):
        super().__init__(D)
        self.y, self.n_repeats, self.random_state = _labels(y, self.N, "pfi_vs_cfi"), n_repeats, random_state
        y = self.y
        self._floor = _FLOOR * max(float(np.mean(y * y)), np.finfo(float).tiny) ** 2

    def _sum(self, rows):
        from sklearn.tree import DecisionTreeRegressor

        XR, yR = self.D.X[rows], self.y[rows]
        base = np.mean((yR - self.D._predict(XR)) ** 2)
        rng = np.random.default_rng(self.random_state)
        total = 0.0
        for cols in self.D._columns:
            others = np.setdiff1d(np.arange(XR.shape[1]), cols)
            if others.size and rows.size >= 10:
                cart = DecisionTreeRegressor(max_depth=2, min_samples_leaf=5, random_state=0)
                groups = cart.fit(XR[:, others], XR[:, cols[0]]).apply(XR[:, others])
            else:
                groups = np.zeros(rows.size, dtype=np.int64)
            pfi = cfi = 0.0
            for _ in range(self.n_repeats):
                pfi += self._drop(XR, yR, cols, rng.permutation(rows.size), base)
                cfi += self._drop(XR, yR, cols, _permute_within(groups, rng), base)
            total += ((pfi - cfi) / self.n_repeats) ** 2
        return rows.size * total / len(self.D._columns)

    def _drop(self, XR, yR, cols, perm, base):
        A = XR.copy()
        A[:, cols] = XR[perm][:, cols]
        return np.mean((yR - self.D._predict(A)) ** 2) - base


def _labels(y, n, loss):
    if y is None:
        raise ValueError(f"y: loss={loss!r} needs the labels; pass fit(model, X, y)")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"y: expected {n} labels (one per row of X), got {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y: contains NaN or inf")
    return y


def _permute_within(groups, rng):
    """A permutation of the rows that only exchanges rows of the same group."""
    perm = np.arange(groups.size)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        perm[idx] = idx[rng.permutation(idx.size)]
    return perm


def _bin_ids(values, n_bins):
    """Bin id per row: unique rows of the player's columns if few, else quantile bins of the first."""
    uniq, inverse = np.unique(values, axis=0, return_inverse=True)
    if uniq.shape[0] <= n_bins:
        return inverse.reshape(-1)
    v = values[:, 0]
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower"))
    return np.searchsorted(edges, v, side="left")


def make_loss(loss, D, n_bins: int = 10, y=None, random_state: int = 0, risk="squared"):
    """The region loss named `loss` (one of LOSSES) on the decomposition D, with its options
    (n_bins, labels y, random_state, risk); a callable `loss` is returned unchanged. ValueError for
    an unknown name or a missing / bad argument of the chosen loss."""
    if callable(loss) and not isinstance(loss, str):
        return loss
    if loss == "pure_vs_full":
        return PureVsFull(D)
    if loss == "pure_vs_full_risk":
        return PureVsFullRisk(D, y, risk)
    if loss == "pdp_vs_mplot":
        return PdpVsMplot(D, n_bins)
    if loss == "sobol":
        return ClosedVsTotalSobol(D)
    if loss == "pfi_vs_cfi":
        return PfiVsCfi(D, y, random_state=random_state)
    raise ValueError(f"loss: expected one of {LOSSES} or a callable rows -> float, got {loss!r}")
