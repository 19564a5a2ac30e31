"""Input margins of any torch classifier by a batched min-norm attack.

    res = input_margins(model, x, norm="inf", box=(0.0, 1.0))

Every returned margin is a certified UPPER bound on the true input margin: `adversarial` is
checked by a final forward pass to be classified differently from the label, and `margin` is
its exact l_p distance to x (float64). Rows where no adversarial point was found get +inf.

The search: FAB-style steps that choose the target class by the exact
box-constrained projection onto each candidate's linearised boundary (C++/CUDA kernels of
assay.robustness.projection), top-k classes per step, keep-best restarts, per-row early stopping
with batch compaction; then bisection along x -> x_adv and a boundary refinement that
re-linearises at the boundary point and projects x onto it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._progress import progress_callback
from .._validation import check_int
from .. import _inputs
from . import _checks
from ._fab import FabSettings, fab_search
from ._geometry import Geometry
from ._linearize import decision_tolerance, flat_forward, logit_lead
from ._polish import bisect, refine
from .projection import _check_norm


@dataclass
class InputMargins:
    """margin (B,) float64: ||adversarial - x||_p, an upper bound on the input margin (+inf where
    no class change was found; 0 where the model already misclassifies a given label).
    adversarial: x's shape, in the dtype the model ran in (its parameters'); another class than
    `label` (x itself where margin is inf).
    label (B,) int64: the class the margin is measured from (the prediction, unless labels were given).
    target (B,) int64: the class predicted at `adversarial` (-1 where margin is inf).
    found (B,) bool: margin is finite.
    Torch tensors on x's device when x is a tensor; NumPy arrays when x is a NumPy array."""

    margin: Any
    adversarial: Any
    label: Any
    target: Any
    found: Any


def input_margins(
    model,
    x,
    norm="inf",
    box=None,
    *,
    labels=None,
    top_k: int = 4,
    screen: int = 10,
    n_iter: int = 100,
    restarts: int = 1,
    targeted: bool = True,
    patience: int = 10,
    refine_rounds: int = 10,
    batch_size: int = 512,
    seed: int = 0,
    progress=False,
) -> InputMargins:
    """Upper bounds on the l_p input margins of a torch classifier at the rows of x.

    Parameters
    ----------
    model : a torch module (or callable) mapping (B, ...) inputs to (B, K) logits, K >= 2. It is
        put in eval mode for the call (and restored after); rows must be processed independently.
    x : (B, ...) floating-point torch tensor or NumPy array of inputs, inside `box` (any float
        dtype). It is cast to the dtype of the model's floating parameters (float64 NumPy data on a
        float32 network runs in float32; a model without parameters runs in x's dtype), and
        margins are measured from that cast x. A NumPy x goes to the parameters' device and the
        results come back as NumPy arrays; a tensor stays on its device and results are tensors.
    norm : "inf", 2 or 1.
    box : None (unconstrained) or (lo, hi): scalars, or arrays with one value per input feature
        (shape x.shape[1:] or flat); adversarial points stay inside it.
    labels : (B,) classes to measure from; default the model's prediction. A row already
        misclassified has margin 0.
    top_k, screen : at x, the `screen` classes with the largest logits are linearised once and
        ordered by the distance to their linearised boundaries inside the box. The untargeted run
        steps towards the `top_k` closest and the class leading at the iterate (top_k + 1 backward
        passes per step, never the K x B x d Jacobian); with `targeted`, each screened class also
        gets a run of its own (one backward pass per step).
    n_iter, restarts, patience : steps per restart, number of keep-best restarts (the first starts
        at x, the others at random points at half the best distance), and steps without a 1e-4
        relative gain before a row stops.
    refine_rounds : boundary-refinement rounds after the search (0: bisection only).
    batch_size : rows per chunk (memory is O(batch_size * top_k * d)).
    seed : seed of the restarts' random starts (results are reproducible).
    progress : True draws a tqdm bar, a callable receives (done, total), False reports nothing. The
        units are search runs: each chunk of rows makes 1 untargeted run, one targeted run per
        screened class (with `targeted`) and restarts - 1 restarts, each then bisected and refined.
    """
    p = _check_norm(norm)
    numpy_out = not _inputs.is_torch(x)
    x = _as_input(x, model)
    B, shape = x.shape[0], tuple(x.shape[1:])
    d = int(np.prod(shape))
    flat = x.reshape(B, d)
    bx = _flat_box(box, shape, d, flat)
    for name, v in dict(top_k=top_k, screen=screen, n_iter=n_iter, restarts=restarts, batch_size=batch_size).items():
        check_int(v, name, 1)
    for name, v in dict(patience=patience, refine_rounds=refine_rounds, seed=seed).items():
        check_int(v, name, 0)
    if not callable(model):
        raise TypeError(f"model: expected a torch module or callable returning logits, got {type(model).__name__}")
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        logits = _checked_logits(model, flat[: min(B, batch_size)], shape)
        K = logits.shape[1]
        y = _labels(labels, B, K, x.device)
        settings = FabSettings(
            k=min(top_k, K - 1),
            screen=min(max(screen, top_k), K - 1),
            n_iter=n_iter,
            restarts=restarts,
            targeted=bool(targeted),
            patience=patience,
        )
        geo = Geometry(p, bx, x.device, x.dtype)
        generator = torch.Generator().manual_seed(seed)
        starts = range(0, B, batch_size)
        with progress_callback(progress, len(starts) * settings.runs, "input_margins (search runs)") as cb:
            tick = _Ticker(cb)
            parts = [
                _chunk(
                    model,
                    shape,
                    flat[s : s + batch_size],
                    None if y is None else y[s : s + batch_size],
                    geo,
                    settings,
                    refine_rounds,
                    generator,
                    tick,
                )
                for s in starts
            ]
    finally:
        if was_training:
            model.train()
    margin, adv, y, target = (torch.cat(v) for v in zip(*parts))
    out = InputMargins(margin, adv.reshape(x.shape), y, target, torch.isfinite(margin))
    return InputMargins(*(_inputs.as_output(v, numpy_out) for v in vars(out).values()))


class _Ticker:
    """Counts finished search runs for a progress callback (None: counts nothing)."""

    def __init__(self, callback):
        self.callback, self.done = callback, 0

    def __call__(self, runs: int = 1):
        self.done += runs
        if self.callback is not None:
            self.callback(self.done)


def _chunk(model, shape, x0, y, geo, settings, refine_rounds, generator, tick):
    with torch.no_grad():
        logits = flat_forward(model, x0, shape)
    if not bool(torch.isfinite(logits).all()):
        raise ValueError("model: returned NaN or inf logits at x")
    pred, tau = logits.argmax(dim=1), decision_tolerance(logits)
    y = pred if y is None else y
    todo = (pred == y).nonzero()[:, 0]
    margin = torch.zeros(x0.shape[0], dtype=torch.float64, device=x0.device)
    adv, target = x0.clone(), pred.clone()
    if todo.numel() == 0:
        tick(settings.runs)  # every row already misclassified: no search
    else:
        xs, ys, ts = x0[todo], y[todo], tau[todo]
        ts_search = 2 * ts  # the search demands twice the lead certified below, so rounding that
        # differs between batches cannot undo a point it found
        best, best_norm = xs.clone(), torch.full((xs.shape[0],), torch.inf, dtype=torch.float64, device=xs.device)
        # every run's best, bisected and refined: the runs end near different boundary pieces
        for pts, norms in fab_search(model, shape, xs, ys, ts_search, geo, settings, generator):
            ok = torch.isfinite(norms).nonzero()[:, 0]
            if ok.numel() == 0:
                tick()
                continue
            pts = bisect(model, shape, xs[ok], pts[ok], ys[ok], ts_search[ok])
            if refine_rounds:
                pts = refine(model, shape, xs[ok], pts, ys[ok], ts_search[ok], geo, refine_rounds)
            dist = geo.norm_of(pts - xs[ok])
            better = dist < best_norm[ok]
            best[ok[better]], best_norm[ok[better]] = pts[better], dist[better]
            tick()
        # certify: only points where another class clearly leads count
        with torch.no_grad():
            at_best = flat_forward(model, best, shape)
        reached = at_best.argmax(dim=1)
        hit = torch.isfinite(best_norm) & (logit_lead(at_best, ys) > ts)
        margin[todo] = torch.where(hit, geo.norm_of(best - xs), torch.full_like(best_norm, torch.inf))
        adv[todo] = torch.where(hit[:, None], best, xs)
        target[todo] = torch.where(hit, reached, torch.full_like(reached, -1))
    return margin, adv, y, target


def _as_input(x, model) -> torch.Tensor:
    """x as a detached tensor in the model's parameter dtype (NumPy data on its device)."""
    param = _first_float_parameter(model)
    device = param.device if param is not None and not _inputs.is_torch(x) else None
    t = _inputs.data(x, "x", None, what="(B, ...)", device=device)
    return t if param is None else t.to(param.dtype)


def _first_float_parameter(model):
    params = getattr(model, "parameters", None)
    if not callable(params):
        return None
    try:
        return next((q for q in params() if q.is_floating_point()), None)
    except Exception:  # noqa: BLE001  (an object with an unrelated parameters attribute)
        return None


def _flat_box(box, shape, d, flat):
    box = _inputs.box_pair(box)  # TypeError for a wrong type, ValueError for a bad value
    if box is None:
        return None
    sides = []
    for v, name in zip(box, ("box[0]", "box[1]")):
        a = _inputs.host_array(v, name, kinds="fiu", cuda="copy")  # real bounds, as in _checks.box
        if a.shape == shape:
            a = a.reshape(-1)
        sides.append(a)
    return _checks.box(tuple(sides), d, flat.detach().cpu().double().numpy())


def _checked_logits(model, x, shape):
    """The model's logits on the first rows: it runs, and has at least 2 classes."""
    with torch.no_grad():
        try:
            out = flat_forward(model, x, shape)
        except ValueError:
            raise
        except Exception as exc:
            raise TypeError(f"model: calling it on inputs of shape {(x.shape[0],) + shape} failed: {exc}") from exc
    if out.shape[1] < 2:
        raise ValueError(f"model: expected at least 2 outputs (classes), got {out.shape[1]}")
    return out  # finiteness is checked per chunk (_chunk)


def _labels(labels, B, K, device):
    if labels is None:
        return None
    return torch.as_tensor(_checks.labels(labels, B, K), device=device)
