"""Big-M MILP for the minimal l_inf / l_1 perturbation that makes class j reach class y's logit in
a ReLU network (Tjeng et al. 2019 formulation), solved by scipy.optimize.milp (HiGHS).

Variables: x' (the perturbed input), the norm's auxiliaries (t for l_inf, u_i >= |x'_i - x_i| for
l_1), the post-ReLU activations a of every hidden layer and one binary s per ReLU whose
pre-activation bounds [l, u] straddle 0 (stable ReLUs are exact linear constraints):
    a >= z,  a >= 0,  a <= z - l (1 - s),  a <= u s        with z = W a_prev + b.
[l, u] come from interval arithmetic over the input region (box ∩ l_inf ball of radius R), so a
smaller R gives tighter big-M constants. The MILP optimum is then re-solved as an LP with the
binaries fixed (the "polish"): with s fixed the constraints are the exact network on that
activation region, so the returned point satisfies the network up to the LP tolerance (~1e-9)
instead of the MILP's integrality tolerance (1e-6 times the bound u).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp


@dataclass
class Layer:
    W: np.ndarray  # (out, in) float64
    b: np.ndarray  # (out,)
    relu: bool  # a ReLU follows


def relu_layers(model) -> list[Layer]:
    """nn.Sequential of [Flatten] Linear/ReLU -> affine layers each optionally followed by a ReLU
    (Linear layers without a ReLU in between are composed; repeated ReLUs are idempotent)."""
    import torch.nn as nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected an nn.Sequential of Linear/ReLU layers, got {type(model).__name__}")
    layers: list[Layer] = []
    for i, mod in enumerate(model):
        if isinstance(mod, nn.Flatten):
            if layers:
                raise TypeError(f"model: nn.Flatten is only supported before the first Linear layer (layer {i})")
        elif isinstance(mod, nn.Linear):
            W = mod.weight.detach().cpu().double().numpy()
            b = mod.bias.detach().cpu().double().numpy() if mod.bias is not None else np.zeros(W.shape[0])
            if layers and not layers[-1].relu:
                prev = layers.pop()
                W, b = W @ prev.W, W @ prev.b + b
            layers.append(Layer(W, b, False))
        elif isinstance(mod, nn.ReLU):
            if not layers:
                raise TypeError("model: a ReLU before the first Linear layer is not supported")
            layers[-1].relu = True
        else:
            raise TypeError(
                f"model: layer {i} is a {type(mod).__name__}; only Linear, ReLU and a leading Flatten are supported"
            )
    if not layers:
        raise TypeError("model: contains no nn.Linear layer")
    return layers


def forward(layers: list[Layer], X: np.ndarray) -> np.ndarray:
    """Logits in float64 (the network the MILP encodes)."""
    a = X
    for L in layers:
        a = a @ L.W.T + L.b
        if L.relu:
            a = np.maximum(a, 0.0)
    return a


def interval_bounds(layers: list[Layer], lo: np.ndarray, hi: np.ndarray):
    """Pre-activation bounds [(l, u)] per layer for inputs in [lo, hi] (interval arithmetic)."""
    out = []
    for L in layers:
        Wp, Wn = np.maximum(L.W, 0), np.minimum(L.W, 0)
        l, u = Wp @ lo + Wn @ hi + L.b, Wp @ hi + Wn @ lo + L.b
        out.append((l, u))
        lo, hi = (np.maximum(l, 0), np.maximum(u, 0)) if L.relu else (l, u)
    return out


@dataclass
class Solution:
    point: np.ndarray | None  # x' (d,), None when infeasible / no solution in time
    timed_out: bool


class _Builder:
    """Collects variables (bounds, integrality) and sparse constraint rows."""

    def __init__(self):
        self.lb, self.ub, self.integ = [], [], []
        self.rows, self.cols, self.vals, self.clo, self.chi = [], [], [], [], []
        self.n_rows = 0

    def var(self, lo, hi, integer=False) -> np.ndarray:
        lo, hi = np.atleast_1d(lo).astype(float), np.atleast_1d(hi).astype(float)
        start = sum(len(v) for v in self.lb)
        self.lb.append(lo)
        self.ub.append(hi)
        self.integ.append(np.full(lo.size, int(integer)))
        return np.arange(start, start + lo.size)

    def row(self, idx, coef, lo, hi):
        self.rows.append(np.full(len(idx), self.n_rows))
        self.cols.append(np.asarray(idx))
        self.vals.append(np.asarray(coef, float))
        self.clo.append(lo)
        self.chi.append(hi)
        self.n_rows += 1

    def solve(self, cost_idx, cost, time_limit):
        n = sum(len(v) for v in self.lb)
        c = np.zeros(n)
        c[cost_idx] = cost
        A = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))), shape=(self.n_rows, n)
        )
        opts = {"mip_rel_gap": 1e-9, "presolve": True}
        if time_limit is not None:
            opts["time_limit"] = max(float(time_limit), 1e-3)
        return milp(
            c,
            constraints=LinearConstraint(A, self.clo, self.chi),
            integrality=np.concatenate(self.integ),
            bounds=Bounds(np.concatenate(self.lb), np.concatenate(self.ub)),
            options=opts,
        )


def solve_target(layers, x, y, j, p, lo, hi, time_limit=None) -> Solution:
    """Minimal ||x' - x||_p (p 'inf' or 1) over x' in [lo, hi] with logit_j(x') >= logit_y(x')."""
    bounds = interval_bounds(layers, lo, hi)
    last_l, last_u = bounds[-1]
    if layers[-1].relu:
        last_l, last_u = np.maximum(last_l, 0), np.maximum(last_u, 0)
    if last_u[j] - last_l[y] < 0:  # cheap certificate: j cannot catch up anywhere in the region
        return Solution(None, False)
    fixed = None
    res = _build_and_solve(layers, bounds, x, y, j, p, lo, hi, fixed, time_limit)
    if res.x is None:
        return Solution(None, res.status == 1)
    fixed = [np.round(res.x[s_idx]) for s_idx in res.binaries]
    polished = _build_and_solve(layers, bounds, x, y, j, p, lo, hi, fixed, time_limit)
    points = [r.x[res.input_idx].copy() for r in (res, polished) if r.x is not None]
    return Solution(_closest_reaching(layers, x, y, j, p, points), res.status == 1)


def _closest_reaching(layers, x, y, j, p, points):
    """The LP re-solve's point (the last), unless the MILP's own point is closer and a float64
    forward pass puts logit_j strictly above logit_y there: the LP is meant to clean up the
    MILP's tolerances, but on the edge of a small search ball it can land on a worse vertex."""
    if len(points) == 1:
        return points[0]
    logits = forward(layers, np.stack(points))
    ordp = np.inf if p == "inf" else 1
    milp_pt, lp_pt = points
    if logits[0, j] > logits[0, y] and np.linalg.norm(milp_pt - x, ordp) < np.linalg.norm(lp_pt - x, ordp):
        return milp_pt
    return lp_pt


class _Result:
    def __init__(self, res, input_idx, binaries):
        self.x, self.status = res.x, res.status
        self.input_idx, self.binaries = input_idx, binaries


def _build_and_solve(layers, bounds, x, y, j, p, lo, hi, fixed, time_limit):
    B = _Builder()
    d = x.size
    xin = B.var(lo, hi)
    if p == "inf":
        t = B.var(0.0, np.inf)
        cost_idx, cost = t, np.ones(1)
        for i in range(d):  # t >= |x'_i - x_i|
            B.row([t[0], xin[i]], [1, -1], -x[i], np.inf)
            B.row([t[0], xin[i]], [1, 1], x[i], np.inf)
    else:
        u = B.var(np.zeros(d), np.full(d, np.inf))
        cost_idx, cost = u, np.ones(d)
        for i in range(d):
            B.row([u[i], xin[i]], [1, -1], -x[i], np.inf)
            B.row([u[i], xin[i]], [1, 1], x[i], np.inf)
    prev = xin
    binaries = []
    for k, (L, (l, u_)) in enumerate(zip(layers, bounds)):
        if not L.relu:  # the last layer: the target constraint on its affine outputs
            diff = L.W[j] - L.W[y]
            B.row(prev, diff, L.b[y] - L.b[j], np.inf)
            break
        a = B.var(np.maximum(l, 0) * (l >= 0), np.maximum(u_, 0))
        unstable = np.flatnonzero((l < 0) & (u_ > 0))
        s_lo = np.zeros(unstable.size) if fixed is None else fixed[len(binaries)]
        s_hi = np.ones(unstable.size) if fixed is None else fixed[len(binaries)]
        s = B.var(s_lo, s_hi, integer=True)
        binaries.append(s)
        pos = dict(zip(unstable, s))
        for n in range(L.W.shape[0]):
            idx, coef = np.r_[a[n], prev], np.r_[1.0, -L.W[n]]
            if u_[n] <= 0:
                continue  # a = 0 by its bounds
            if l[n] >= 0:
                B.row(idx, coef, L.b[n], L.b[n])  # a = z
                continue
            B.row(idx, coef, L.b[n], np.inf)  # a >= z
            B.row(np.r_[idx, pos[n]], np.r_[coef, -l[n]], -np.inf, L.b[n] - l[n])  # a <= z - l (1 - s)
            B.row([a[n], pos[n]], [1.0, -u_[n]], -np.inf, 0.0)  # a <= u s
        prev = a
    if layers[-1].relu:  # logits are post-ReLU: compare the activations themselves
        B.row([prev[j], prev[y]], [1.0, -1.0], 0.0, np.inf)
    return _Result(B.solve(cost_idx, cost, time_limit), xin, binaries)
