"""Region losses for the partition tree: callables on row indices (into the fitted X), lower is
better. The tree only uses ratios L(child) / L(all rows), so a loss's overall scale is free; the
losses follow the GRANITE paper and its authors' reference implementation, with U the components
whose disagreement is reduced (`components`; default: every player, and every pair at order 2)
and everything computed on the region R's own rows (explained points and background at once).
F_v(x, z) = f(x_v, z_-v); g_v(x) = mean_{z in R} F_v(x, z) (partial dependence of v at x);
g_-v(x) = mean_{x' in R} F_v(x', x) (v averaged out at x).

- "pure_vs_full" (interaction influence): L(R) = (1/N) sum_{x in R} mean_{u in U} (p_u(x) - q_u(x))^2,
  p_u(x) = sum_{v <= u} (-1)^{|u|-|v|} g_v(x) (pure effect), q_u(x) = sum_{v <= u} (-1)^{|v|} g_-v(x)
  (full effect), g_{} = mean f on R, g_-{} = f. Zero exactly when f has no interactions on R.
- "pure_vs_full_risk" (interaction influence of the risk, needs labels y): the same gap for the
  value nu_x(S) = -risk(g_S(x), y_x), the risk of the averaged prediction as in SAGE:
  p_u = sum_{v <= u} (-1)^{|u|-|v|} nu(v), q_u = sum_{v <= u} (-1)^{|v|} nu(-v), so p_i = risk(mean f,
  y) - risk(g_i(x), y) and q_i = risk(g_-i(x), y) - risk(f(x), y). risk: "squared" (default),
  "absolute" or a callable risk(pred, y) -> elementwise loss (arrays broadcast). For a pair u the
  effects are these Moebius sums (the interaction of nu); the reference, given pairs in U, compares
  nu(u) - nu({}) with nu(all) - nu(-u) instead (equal for single players, which its experiments use).
- "sobol" (interaction influence, variance version): L(R) = sum_{i in U} (C_i - T_i)^2 with the
  closed index C_i = Var_{x in R} g_i(x) and the total index T_i = mean_{z in R} Var_{x in R} F_i(x, z)
  (variances over R, divided by |R|). Not weighted by |R|: a child with the same indices as its
  parent has the parent's loss.
- "pdp_vs_mplot" (distribution influence): L(R) = (1/N) sum_{i in U} sum_{x in R} (g_i(x) - M_i(x))^2,
  M_i(x) = the mean of F_i(x, z) over the rows z of R in x's bin of player i. The bins are fixed
  on all fitted rows: the unique values if there are at most n_bins, else n_bins quantile bins
  (edges at the percentiles 100 k / n_bins, linear interpolation; a multi-column player is binned
  on its first column).
- "pfi_vs_cfi" (distribution influence, needs labels y): L(R) = (|R|/N) sum_{i in U} (PFI_i -
  CFI_i)^2, PFI_i = mean_{z in R} risk(g_-i(z), y_z) (the risk with player i marginalised) and
  CFI_i = mean_{z in R} risk(mean of F_i(x, z) over the rows x of R in z's bin, y_z). The bins are
  fixed on all fitted rows: the leaves of a CART (sklearn DecisionTreeRegressor, max_leaf_nodes =
  n_bins, random_state 0) predicting the player's first column from the other columns.

sobol, pdp_vs_mplot and pfi_vs_cfi take single players in U only. Values below a round-off
floor (1e-20 of the loss's natural scale: mean f^2 per row, its square for sobol, the squared risk
for pfi_vs_cfi) count as exactly zero, so an exactly interaction-free region is not split on noise.

Changed: before this version "sobol" was (|R|/N) mean_i |T_i - C_i| with a paired estimator of T_i,
"pdp_vs_mplot" re-binned each region and averaged f(z) in the bin, "pfi_vs_cfi" used random
permutations and a depth-2 CART per region, and "pure_vs_full_risk" averaged the pointwise risks
risk(f(x_S, z_-S), y_x); trees fitted with those losses before differ from the ones fitted now.
"""

from __future__ import annotations

import warnings

import numpy as np

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
        from ._split_stats import goes_left

        x = self.D.X[rows, feature]
        out = np.empty((len(thresholds), 2))
        for c, t in enumerate(thresholds):
            left = goes_left(x, t)
            out[c] = [self(rows[left]), self(rows[~left])]
        return out


class PureVsFullKernel(RegionLoss):
    """The "pure_vs_full" loss of a tree ensemble over every subset of the decomposition, from the
    exact tree kernel (no pairs of rows): the mean squared gap between the pure and full anchored
    effects of the players (and pairs, order 2) on the region's own data."""

    name = "pure_vs_full"

    def _sum(self, rows):
        return self.D.squared_gap(rows) / len(self.D.subsets)

    def split(self, rows, feature, thresholds):
        """(len(thresholds), 2) left / right child losses as RegionLoss.split, all thresholds of
        `feature` computed together by the tree kernel (code sets: one kernel call each, on the
        column 0 / 1 = in / out of the set)."""
        from ._split_stats import goes_left, left_indicator

        rows = self.D._rows(rows)
        if len(thresholds) and isinstance(thresholds[0], frozenset):
            raw = np.vstack(
                [
                    self.D.split_squared_gaps(
                        rows, feature, [0.5], column=np.where(goes_left(self.D.X[:, feature], s), 0.0, 1.0)
                    )
                    for s in thresholds
                ]
            ) / len(self.D.subsets)
        else:
            raw = self.D.split_squared_gaps(rows, feature, thresholds) / len(self.D.subsets)
        n_left = left_indicator(self.D.X[rows, feature], thresholds).sum(axis=0).astype(np.int64)
        out = np.empty_like(raw)
        for c in range(raw.shape[0]):
            out[c, 0] = self._clamp(raw[c, 0], n_left[c])
            out[c, 1] = self._clamp(raw[c, 1], rows.size - n_left[c])
        return out


def labels(y, n, loss):
    """y as a finite float64 (n,) array; ValueError naming y when missing, misshapen or not finite."""
    if y is None:
        raise ValueError(f"y: loss={loss!r} needs the labels; pass fit(model, X, y)")
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"y: expected {n} labels (one per row of X), got {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y: contains NaN or inf")
    return y


def resolve_risk(risk):
    """The elementwise risk(pred, y) for "squared", "absolute" or a callable; ValueError otherwise."""
    if isinstance(risk, str) and risk in RISKS:
        return RISKS[risk]
    if callable(risk) and not isinstance(risk, str):
        return risk
    raise ValueError(f"risk: expected one of {tuple(RISKS)} or a callable(pred, y), got {risk!r}")


def resolve_components(components, D, singletons_only: bool, loss: str):
    """U as a list of sorted player tuples. components: None (every player, and every pair at
    order 2 unless singletons_only), or a list of players (index or name) and tuples of players.
    ValueError naming `components` for unknown players, empty or repeated entries, or a tuple
    where the loss takes single players only."""
    if components is None:
        return [u for u in D.subsets if len(u) == 1 or not singletons_only]
    P = len(D._columns)
    items = [components] if isinstance(components, (str, int, np.integer)) else list(components)
    if not items:
        raise ValueError("components: expected at least one player or tuple of players, got none")
    out = []
    for item in items:
        members = [item] if isinstance(item, (str, int, np.integer)) else list(item)
        u = tuple(sorted({_player(m, D.players, P) for m in members}))
        if not u or len(u) != len(members):
            raise ValueError(f"components: expected distinct players in each entry, got {item!r}")
        if singletons_only and len(u) > 1:
            raise ValueError(f"components: loss={loss!r} takes single players only, got {item!r}")
        if u in out:
            raise ValueError(f"components: {item!r} is listed twice")
        out.append(u)
    return out


def _player(m, names, P):
    if isinstance(m, str):
        if m not in names:
            raise ValueError(f"components: {m!r} is not a player name (expected one of {names})")
        return names.index(m)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 0 <= int(m) < P:
        raise ValueError(f"components: expected player indices in [0, {P}) or names, got {m!r}")
    return int(m)


def make_loss(
    loss, D, n_bins: int = 10, y=None, random_state=None, risk="squared", components=None, cache_mb: float = 256.0
):
    """The region loss named `loss` (one of LOSSES) on the decomposition D with its options (n_bins,
    labels y, risk, components U, cache_mb: the memory budget of the cached component matrices);
    a callable `loss` is returned unchanged. random_state: accepted for old callers and ignored
    with a DeprecationWarning (no loss draws random permutations any more). ValueError for an
    unknown name or a missing / bad argument of the chosen loss."""
    from ._binned_losses import PdpVsMplot, PfiVsCfi
    from ._stat_losses import ClosedVsTotalSobol, PureVsFull, PureVsFullRisk

    if random_state is not None:
        warnings.warn(
            "make_loss: random_state is ignored; 'pfi_vs_cfi' now bins with a fixed CART instead of "
            "drawing permutations",
            DeprecationWarning,
            stacklevel=2,
        )
    if callable(loss) and not isinstance(loss, str):
        return loss
    if loss == "pure_vs_full":
        U = resolve_components(components, D, False, loss)
        if D.tree is not None and U == list(D.subsets):
            return PureVsFullKernel(D)
        return PureVsFull(D, U, cache_mb)
    if loss == "pure_vs_full_risk":
        return PureVsFullRisk(
            D,
            resolve_components(components, D, False, loss),
            cache_mb,
            labels(y, D.X.shape[0], loss),
            resolve_risk(risk),
        )
    if loss == "sobol":
        return ClosedVsTotalSobol(D, resolve_components(components, D, True, loss), cache_mb)
    if loss == "pdp_vs_mplot":
        return PdpVsMplot(D, resolve_components(components, D, True, loss), cache_mb, n_bins)
    if loss == "pfi_vs_cfi":
        return PfiVsCfi(
            D,
            resolve_components(components, D, True, loss),
            cache_mb,
            n_bins,
            labels(y, D.X.shape[0], loss),
            resolve_risk(risk),
        )
    raise ValueError(f"loss: expected one of {LOSSES} or a callable rows -> float, got {loss!r}")


_MOVED = {
    "PureVsFull": "_stat_losses",
    "PureVsFullRisk": "_stat_losses",
    "ClosedVsTotalSobol": "_stat_losses",
    "PdpVsMplot": "_binned_losses",
    "PfiVsCfi": "_binned_losses",
}


def __getattr__(name):
    """The loss classes that lived here before they moved (imported on first use: they import this module)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f".{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
