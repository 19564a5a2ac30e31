"""Exact input margins: ground truth for linear models, nearest-prototype classifiers and small
ReLU networks (the oracles the min-norm attack is tested and benchmarked against).

The input margin of x under the l_p norm is inf ||delta||_p over the perturbations for which the
predicted class of x + delta differs from y (the class of x), with x + delta kept in the box when
one is given. For a linear model f(x) = W x + bias the set {f_j >= f_y} is a half-space, so

    no box:  margin = min_{j != y} (f_y - f_j) / ||w_y - w_j||_q        (1/p + 1/q = 1)
    box:     margin = min_{j != y} distance from x to {f_j = f_y} within the box
             (assay.robustness.projection.project_hyperplanes; +inf where the box misses it).

The margin is an infimum: the closest point `adversarial` lies ON the boundary f_y = f_j, where the
two classes tie (argmax then still returns the lower index); any step past it flips the class.
A class j whose weight row and bias equal y's ties everywhere and never wins (argmax picks the
lower index), so it contributes +inf. All results are float64 NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _checks


@dataclass
class ExactMargins:
    """margin (B,): the exact input margin (+inf: no perturbation in the box changes the class).
    adversarial (B, d): the closest point of another class (for linear models on the boundary, a
    tie; for ReLU networks nudged just across it, see `flipped`); x itself where margin is inf.
    target (B,): the class reached (-1 where margin is inf). label (B,): the class of x.
    status (B,): 'optimal', or 'time_limit' (margin is then an upper bound) for the MILP.
    flipped (B,): whether a forward pass at `adversarial` predicts another class than `label`."""

    margin: np.ndarray
    adversarial: np.ndarray
    target: np.ndarray
    label: np.ndarray
    status: np.ndarray = field(default=None)
    flipped: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.status is None:
            self.status = np.full(self.margin.shape, "optimal", dtype=object)


def linear_weights(model):
    """(W (K, d), bias (K,)) of an nn.Linear or an nn.Sequential of Flatten/Linear layers
    (consecutive Linear layers are composed), as float64 NumPy."""
    import torch.nn as nn

    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    W, b = None, None
    for layer in layers:
        if isinstance(layer, nn.Flatten):
            if W is not None:
                raise TypeError("model: nn.Flatten is only supported before the first Linear layer")
            continue
        if not isinstance(layer, nn.Linear):
            raise TypeError(
                f"model: expected nn.Linear or nn.Sequential(nn.Flatten?, nn.Linear, ...), "
                f"got a {type(layer).__name__} layer"
            )
        Wl = layer.weight.detach().cpu().double().numpy()
        bl = layer.bias.detach().cpu().double().numpy() if layer.bias is not None else np.zeros(Wl.shape[0])
        W, b = (Wl, bl) if W is None else (Wl @ W, Wl @ b + bl)
    if W is None:
        raise TypeError("model: contains no nn.Linear layer")
    return W, b


def _class_pairs(f: np.ndarray, y: np.ndarray):
    """For each row the K-1 other classes (B, K-1), in increasing order."""
    K = f.shape[1]
    others = np.broadcast_to(np.arange(K), f.shape)
    return others[others != y[:, None]].reshape(f.shape[0], K - 1)


def _closest_on_hyperplane(v: np.ndarray, c: np.ndarray, p) -> np.ndarray:
    """argmin ||delta||_p s.t. <v, delta> = c, for rows v (n, d), c (n,) >= 0 (v != 0)."""
    if p == 2:
        return v * (c / (v * v).sum(axis=1))[:, None]
    if p == "inf":
        return np.sign(v) * (c / np.abs(v).sum(axis=1))[:, None]
    k = np.abs(v).argmax(axis=1)  # l_1: move only the most influential coordinate
    delta = np.zeros_like(v)
    rows = np.arange(v.shape[0])
    delta[rows, k] = c / v[rows, k]
    return delta


def exact_margins_linear(W, bias, x, norm="inf", box=None, labels=None) -> ExactMargins:
    """Exact l_p input margins of f(x) = W x + bias (W (K, d), bias (K,), x (B, d); torch or NumPy).

    The class of x is argmax f(x) unless `labels` is given; a row whose prediction already differs
    from its label has margin 0 (x itself is the adversarial point, target = its prediction).
    See the module docstring for the formulas and the boundary (tie) convention.
    """
    p = _checks.norm(norm)
    W = _checks.matrix(W, "W")
    K, d = W.shape
    if K < 2:
        raise ValueError(f"W: expected at least 2 classes (rows), got {K}")
    b = _checks.vector(bias, "bias", K)
    x = _checks.matrix(x, "x", d)
    bx = _checks.box(box, d, x)
    f = x @ W.T + b
    pred = f.argmax(axis=1)
    y = pred if labels is None else _checks.labels(labels, x.shape[0], K)

    # Rows in chunks: the (rows, K-1, d) hyperplane normals stay below ~2^22 values.
    step = max(1, (1 << 22) // max(1, (K - 1) * d))
    parts = [
        _linear_chunk(W, b, x[s : s + step], f[s : s + step], y[s : s + step], p, bx)
        for s in range(0, x.shape[0], step)
    ]
    margin, adv, target = (np.concatenate(a) for a in zip(*parts))
    wrong = y != pred  # only possible with labels given
    margin[wrong], target[wrong], adv[wrong] = 0.0, pred[wrong], x[wrong]
    return ExactMargins(margin, adv, target, y)


def _linear_chunk(W, b, x, f, y, p, bx):
    others = _class_pairs(f, y)  # (B, K-1)
    rows = np.arange(x.shape[0])[:, None]
    v = W[others] - W[y][:, None, :]  # (B, K-1, d): grad of f_j - f_y
    c = f[rows, y[:, None]] - f[rows, others]  # (B, K-1): f_y - f_j >= 0 when y = pred
    never = (np.abs(v).max(axis=2) == 0) & (b[others] == b[y][:, None])
    dist, delta = _unboxed(v, c, p) if bx is None else _boxed(x, v, c, p, bx)
    dist = np.where(never, np.inf, np.maximum(dist, 0.0))
    best = dist.argmin(axis=1)
    margin = dist[rows[:, 0], best]
    target = np.where(np.isfinite(margin), others[rows[:, 0], best], -1)
    adv = x + np.where(np.isfinite(margin)[:, None], delta[rows[:, 0], best], 0.0)
    if bx is not None:
        adv = np.clip(adv, *bx)  # rounding only; the projection is in the box
    return margin, adv, target


def _unboxed(v, c, p):
    B, H, d = v.shape
    q = _checks.dual_norm(v, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(q > 0, c / q, np.inf)
    flat_v, flat_c = v.reshape(-1, d), np.maximum(c, 0.0).reshape(-1)
    ok = q.reshape(-1) > 0
    delta = np.zeros_like(flat_v)
    delta[ok] = _closest_on_hyperplane(flat_v[ok], flat_c[ok], p)
    return dist, delta.reshape(B, H, d)


def _boxed(x, v, c, p, bx):
    from .projection import project_hyperplanes

    # <v, x + delta> = <v, x> + (f_y - f_j)  <=>  f_j(x + delta) = f_y(x + delta)
    rhs = np.einsum("bhd,bd->bh", v, x) + c
    res = project_hyperplanes(x, v, rhs, norm=p, box=bx, return_delta=True)
    dist = np.where(np.asarray(res.feasible), np.asarray(res.distance, dtype=np.float64), np.inf)
    return dist, np.asarray(res.delta, dtype=np.float64)


def exact_margins_prototypes(prototypes, x, norm="inf", box=None) -> ExactMargins:
    """Exact margins of the nearest-prototype classifier class(x) = argmin_k ||x - prototypes[k]||_2
    (one prototype per class, ties to the lower index). -||x - p_k||^2 / 2 = <p_k, x> - ||p_k||^2/2
    plus a term shared by all classes, so it is the linear model W = P, bias = -||p_k||^2 / 2."""
    P = _checks.matrix(prototypes, "prototypes")
    return exact_margins_linear(P, -0.5 * (P * P).sum(axis=1), x, norm=norm, box=box)


def exact_margins_mlp(model, x, norm="inf", box=None, time_limit=None, radius_hint=None) -> ExactMargins:
    """Exact l_inf / l_1 input margins of a small ReLU network by mixed-integer programming.

    `model`: an nn.Sequential of Linear and ReLU layers (optionally a leading Flatten; x is then
    flattened). One big-M MILP per (point, other class) with scipy.optimize.milp (HiGHS), then an
    LP re-solve on the optimum's activation region; see assay.robustness._milp. Worst-case cost is
    exponential in the number of unstable ReLUs: meant for test oracles on small networks.

    l_2 is a mixed-integer QP that HiGHS cannot solve: norm=2 raises ValueError.

    Big-M bounds come from interval arithmetic over the box ∩ an l_inf ball of radius R around x
    (a small R keeps most ReLUs stable, which is what makes the MILPs fast). R starts at twice the
    local linear estimate of the margin and grows x4 until some class is reachable; a found optimum
    m is exact once m <= R (the optimal perturbation then lies in the ball, as ||.||_inf <=
    ||.||_p), else R = m and it is solved again. With a box, R stops growing once the ball covers
    the box: the answer is then exact, and +inf means no class change in the box. Without one,
    after 25 growths without a class change the margin is reported +inf ('no_flip_found').

    `radius_hint`: (B,) optional starting radii R, e.g. an attack's margins (input_margins): a
    hint for speed only. A radius at or above the margin makes the first solve the last; a wrong
    one costs more solves, never a wrong answer.

    `time_limit`: seconds per point (None: no limit); a point that runs out reports the best
    perturbation found (an upper bound, or +inf) with status 'time_limit'.

    margin is ||adversarial_on_boundary - x||_p; `adversarial` is that point nudged just across the
    boundary (by at most ~1e-6 relative) so a forward pass predicts another class (`flipped`).
    The network is encoded and checked in float64 (a float32 model may round a point that close to
    the boundary either way).
    """
    from . import _milp

    p = _checks.norm(norm)
    if p == 2:
        raise ValueError(
            "norm: 2 is not supported by exact_margins_mlp (the l_2 problem is a mixed-integer "
            "QP, beyond scipy's HiGHS MILP); use norm='inf' or 1"
        )
    layers = _milp.relu_layers(model)
    d = layers[0].W.shape[1]
    xa = _checks.to_numpy(x, "x")
    if xa.ndim >= 2:
        xa = xa.reshape(xa.shape[0], -1)
    x = _checks.matrix(xa, "x", d)
    if time_limit is not None:
        time_limit = _checks.nonneg_scalar(time_limit, "time_limit")
        if time_limit == 0:
            raise ValueError("time_limit: expected None or a positive number of seconds, got 0")
    bx = _checks.box(box, d, x)
    logits = _milp.forward(layers, x)
    if logits.shape[1] < 2:
        raise ValueError(f"model: expected at least 2 outputs (classes), got {logits.shape[1]}")
    y = logits.argmax(axis=1)
    hint = (
        np.full(x.shape[0], np.nan)
        if radius_hint is None
        else _checks.vector(radius_hint, "radius_hint", x.shape[0], allow_inf=True)
    )
    if (hint < 0).any():
        raise ValueError("radius_hint: expected values >= 0")
    out = [_mlp_point(layers, x[i], int(y[i]), p, bx, time_limit, hint[i]) for i in range(x.shape[0])]
    margin, adv, target, status, flipped = (np.array(v) for v in zip(*out))
    return ExactMargins(
        margin.astype(float), np.stack(adv), target.astype(np.int64), y, status.astype(object), flipped.astype(bool)
    )


def _mlp_point(layers, x, y, p, bx, time_limit, hint=np.nan):
    import time
    from . import _milp

    K = layers[-1].W.shape[0]
    deadline = None if time_limit is None else time.monotonic() + time_limit
    # Big-M bounds over the box alone are loose (every ReLU unstable): search an l_inf ball of
    # radius R around x first and grow it; the whole box is covered once R reaches its far face.
    box_radius = float(np.max(np.maximum(x - bx[0], bx[1] - x))) if bx is not None else np.inf
    R = hint * (1 + 1e-6) if np.isfinite(hint) and hint > 0 else 2.0 * _local_linear_margin(layers, x, y, p)
    R = min(R, box_radius)
    timed_out = covers_box = False
    for _growth in range(26):
        covers_box = R >= box_radius
        best, best_pt, best_j = np.inf, None, -1
        for j in range(K):
            if j == y:
                continue
            r = min(R, best)
            lo, hi = x - r, x + r
            if bx is not None:
                lo, hi = np.maximum(lo, bx[0]), np.minimum(hi, bx[1])
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                timed_out = True
                break
            sol = _milp.solve_target(layers, x, y, j, p, lo, hi, left)
            timed_out |= sol.timed_out
            if sol.point is not None:
                m = float(_checks.p_norm(sol.point - x, p))
                if m < best:
                    best, best_pt, best_j = m, sol.point, j
        if timed_out or covers_box or (best_pt is not None and best <= R):
            break
        R = min(best if best_pt is not None else 4.0 * R, box_radius)
    status = "time_limit" if timed_out else ("optimal" if best_pt is not None or covers_box else "no_flip_found")
    if best_pt is None:
        return np.inf, x.copy(), -1, status, False
    adv, flipped = _nudge(layers, x, y, best_j, best_pt, bx)
    return best, adv, best_j, status, flipped


def _local_linear_margin(layers, x, y, p) -> float:
    """min_j (z_y - z_j) / ||grad (z_y - z_j)||_q of the network's linear piece at x (> 0)."""
    J = _local_jacobian(layers, x)
    z = _forward_one(layers, x)
    g = J - J[y]
    gap = z[y] - z
    q = _checks.dual_norm(g, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(q > 0, gap / q, np.inf)
    est[y] = np.inf
    est = est[np.isfinite(est)]
    scale = max(1.0, float(np.abs(x).max()))
    return float(np.clip(est.min(), 1e-6 * scale, 1e6 * scale)) if est.size else scale


def _forward_one(layers, x):
    from . import _milp

    return _milp.forward(layers, x[None, :])[0]


def _local_jacobian(layers, x) -> np.ndarray:
    """d logits / d x on the activation region of x (K, d)."""
    J, a = np.eye(x.size), x
    for L in layers:
        z = L.W @ a + L.b
        J = L.W @ J
        if L.relu:
            J = J * (z > 0)[:, None]
            a = np.maximum(z, 0)
        else:
            a = z
    return J


def _nudge(layers, x, y, j, point, bx):
    """A point just past the boundary: the optimum sits on logit_j = logit_y (a tie)."""
    if _forward_one(layers, point).argmax() != y:
        return point, True
    grad = _local_jacobian(layers, point)
    step = grad[j] - grad[y]
    delta = point - x
    scale = max(1.0, float(np.abs(point).max()))
    for s in 10.0 ** np.arange(-12, -5):
        for cand in (x + delta * (1 + s), point + s * scale * np.sign(step)):
            if bx is not None:
                cand = np.clip(cand, *bx)
            if _forward_one(layers, cand).argmax() != y:
                return cand, True
    return point, False


def exact_margins_tree(tree, x, norm="inf", box=None) -> ExactMargins:
    """Exact input margins of a fitted scikit-learn DecisionTreeClassifier.

    Each leaf is a box (lo, hi] (scikit-learn sends x_f <= threshold left), so the margin is the
    minimum over leaves of other classes of the l_p distance from x to that box (intersected with
    `box`): per feature gap_f = max(lo_f - x_f, x_f - hi_f, 0). It is an infimum when the nearest
    face is a strict lower bound (x_f > threshold); `adversarial` is then the float32 value just
    above the threshold (scikit-learn compares float32 inputs), so its distance exceeds the margin
    by a rounding step. `target` is an index into tree.classes_; distances are in float64 on the
    thresholds, while the class of x is tree.predict on x (float32)."""
    from ._tree_boxes import leaf_boxes

    p = _checks.norm(norm)
    lo_leaf, hi_leaf, leaf_class = leaf_boxes(tree)
    d = lo_leaf.shape[1]
    x = _checks.matrix(x, "x", d)
    bx = _checks.box(box, d, x)
    if bx is not None:  # clip the leaves to the box; empty ones drop out
        closed = lo_leaf < bx[0]  # the box's own lower face is closed, a leaf's is open
        lo_leaf, hi_leaf = np.maximum(lo_leaf, bx[0]), np.minimum(hi_leaf, bx[1])
        keep = np.all((lo_leaf < hi_leaf) | (closed & (lo_leaf == hi_leaf)), axis=1)
        lo_leaf, hi_leaf, leaf_class = lo_leaf[keep], hi_leaf[keep], leaf_class[keep]
    y = np.searchsorted(tree.classes_, tree.predict(x.astype(np.float32))) if np.ndim(tree.classes_) == 1 else None
    if y is None:
        raise TypeError("tree: multi-output trees are not supported")
    step = max(1, (1 << 22) // max(1, lo_leaf.shape[0] * d))
    margin, target, adv = np.full(x.shape[0], np.inf), np.full(x.shape[0], -1), x.copy()
    for s in range(0, x.shape[0], step):
        xs = x[s : s + step]
        gap = np.maximum(lo_leaf[None] - xs[:, None], 0) + np.maximum(xs[:, None] - hi_leaf[None], 0)
        dist = np.where(leaf_class[None] != y[s : s + step, None], _checks.p_norm(gap, p), np.inf)
        if dist.shape[1] == 0:
            continue
        best = dist.argmin(axis=1)
        rows = np.arange(xs.shape[0])
        margin[s : s + step] = dist[rows, best]
        ok = np.isfinite(margin[s : s + step])
        target[s : s + step][ok] = leaf_class[best[ok]]
        adv[s : s + step][ok] = _into_leaf(xs[ok], lo_leaf[best[ok]], hi_leaf[best[ok]])
    flipped = np.where(np.isfinite(margin), tree.predict(adv.astype(np.float32)) != tree.classes_[y], False)
    return ExactMargins(margin, adv, target, y, flipped=flipped)


def _into_leaf(x, lo, hi):
    """The closest point of (lo, hi] as scikit-learn sees it (float32 inputs, x <= threshold goes
    left): clip, then move the coordinates whose float32 rounding leaves the leaf one float32 step
    inwards (a strict lower face, or a threshold between two float32 values)."""
    z = np.clip(x, lo, hi)
    z32 = z.astype(np.float32)
    above, below = z32.astype(np.float64) > hi, z32.astype(np.float64) <= lo
    z32[above] = np.nextafter(z32[above], np.float32(-np.inf))
    z32[below] = np.nextafter(z32[below], np.float32(np.inf))
    fix = above | below
    z[fix] = z32[fix]
    return z
