"""The utility curve of a Rashomon set: how many statements about local attributions every
model in R(eps) agrees on, as eps grows (Laberge et al. 2023).

At one row the statements are the agreed signs ("phi_i > 0" or "phi_i < 0": at most d) and the
agreed relations ("|phi_i| > |phi_j|": at most d(d - 1)/2); the utility is their count divided by
d(d + 1)/2, so 1 when the whole set agrees on one total order with every sign known. With
require_gap (the paper's convention) a row whose gap h(x) - E[h] does not keep its sign over
R(eps) counts 0: there is no agreed effect to explain there.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def utility_from_orders(orders, gap_agreed=None) -> np.ndarray:
    """(n,): the utility of each row's PartialOrder; rows with gap_agreed False count 0."""
    d = orders[0].n
    counts = np.array([(~po.ambiguous).sum() + po.relation.sum() for po in orders], dtype=np.float64)
    out = counts / (d * (d + 1) / 2)
    return out if gap_agreed is None else np.where(gap_agreed, out, 0.0)


def check_eps_values(eps_values) -> np.ndarray:
    """`eps_values` as a non-empty 1-D array of finite tolerances."""
    e = np.asarray(eps_values, dtype=np.float64).reshape(-1)
    if e.size == 0 or not np.all(np.isfinite(e)):
        raise ValueError(f"eps_values: expected a non-empty sequence of finite tolerances, got {eps_values!r}")
    return e


class UtilityCurve:
    """Mixin: `utility` and `plot_utility` for a Rashomon class that implements
    _statements_at(X) -> a function of eps returning (local orders, gap agreed per row)."""

    def utility(self, X, eps_values, require_gap: bool = True) -> np.ndarray:
        """(n, len(eps_values)): the utility of each row of X (the share of the d(d + 1)/2 sign and
        relation statements that every model in R(eps) agrees on) at each tolerance. X: rows (a
        2-D array or DataFrame); eps_values: tolerances on this class's eps scale; require_gap:
        a row whose gap h(x) - E[h] changes sign within R(eps) counts 0 (the paper's convention)."""
        eps_values = check_eps_values(eps_values)
        at = self._statements_at(X)
        columns = []
        for eps in eps_values:
            orders, gap_agreed = at(eps)
            columns.append(utility_from_orders(orders, gap_agreed if require_gap else None))
        return np.column_stack(columns)

    def plot_utility(self, X, eps_values, path=None, *, ax=None, require_gap: bool = True, title: Optional[str] = None):
        """Draw the mean utility over the rows of X against eps (arguments as in `utility`) into
        `ax` or a new figure; saves to `path` when given; returns the matplotlib Axes."""
        eps_values = check_eps_values(eps_values)
        return plot_utility(eps_values, self.utility(X, eps_values, require_gap), path, ax=ax, title=title)


def plot_utility(eps_values, utility, path=None, *, ax=None, title: Optional[str] = None):
    """Plot a utility curve: eps_values (E,) against utility (E,), or against the mean over rows
    of utility (n, E), into `ax` or a new figure; saves to `path` (PNG, SVG, ... by extension)
    when given; returns the matplotlib Axes."""
    from ..plot import _axes, _save

    eps_values = check_eps_values(eps_values)
    u = np.asarray(utility, dtype=np.float64)
    u = u.mean(axis=0) if u.ndim == 2 else u
    if u.shape != eps_values.shape:
        raise ValueError(f"utility: expected {eps_values.size} values (or rows of them), got shape {np.shape(utility)}")
    ax = _axes(ax, path, (5, 3.5))
    ax.plot(eps_values, u, marker="o", ms=3)
    ax.set_xlabel("eps")
    ax.set_ylabel("utility (share of statements)")
    ax.set_ylim(0, 1.02)
    if title:
        ax.set_title(title)
    return _save(ax, path)
