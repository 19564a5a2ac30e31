"""Exact box-constrained projections onto hyperplanes (assay.robustness.projection).

Oracles: an LP (scipy linprog, HiGHS) for l_inf and l_1; bisection on lam (float64, 200
iterations) plus the KKT form delta_i = s_i min(lam |w_i|, r_i) for l_2. The C++ kernel and the
torch reference are both checked against them, on random and degenerate instances, and against
each other on large batches."""

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

torch = pytest.importorskip("torch")
from assay import _core  # noqa: E402
from assay.robustness.projection import ProjectionResult, project_hyperplanes  # noqa: E402

TOL = 1e-10
NORMS = ["inf", 2, 1]
UNIT = (0.0, 1.0)  # passed explicitly: the default box=(0.0, 1.0) is deprecated (None from the next release)


def _bounds(box, d):
    if box is None:
        return None, None
    return np.broadcast_to(np.asarray(box[0], float), (d,)), np.broadcast_to(np.asarray(box[1], float), (d,))


def exactly_feasible(t, w, b, box):
    """Feasibility in exact rational arithmetic: c == 0, or sum_i |w_i| r_i >= |c| (the LP's
    tolerances cannot see a problem 2^-40 past its limit)."""
    F = Fraction
    c = F(b) - sum(F(x) * F(y) for x, y in zip(w, t))
    if c == 0:
        return True
    if box is None:
        return bool((w != 0).any())
    lo, hi = _bounds(box, t.size)
    sgn = 1 if c > 0 else -1
    cap = sum(
        abs(F(wi)) * (F(h) - F(ti) if sgn * wi > 0 else F(ti) - F(l)) for wi, ti, l, h in zip(w, t, lo, hi) if wi != 0
    )
    return cap >= abs(c)


def lp_distance(t, w, b, norm, box):
    """min ||delta||_p (p = inf or 1) by linear programming; inf when infeasible."""
    d = t.size
    if not exactly_feasible(t, w, b, box):
        return np.inf
    lo, hi = _bounds(box, d)
    c0 = b - w @ t
    if c0 == 0:
        return 0.0
    # Solve for delta / |c|: the problem is homogeneous, and HiGHS's absolute tolerances (1e-7)
    # would otherwise swallow a small c.
    k = abs(c0)
    move = [(None, None)] * d if lo is None else list(zip((lo - t) / k, (hi - t) / k))
    c0 = c0 / k
    I = np.eye(d)
    if norm == "inf":  # variables (delta, s): |delta_i| <= s
        cost = np.r_[np.zeros(d), 1.0]
        A = np.block([[I, -np.ones((d, 1))], [-I, -np.ones((d, 1))]])
        Aeq = np.r_[w, 0.0][None]
        bounds = move + [(0, None)]
    else:  # variables (delta, u): |delta_i| <= u_i
        cost = np.r_[np.zeros(d), np.ones(d)]
        A = np.block([[I, -I], [-I, -I]])
        Aeq = np.r_[w, np.zeros(d)][None]
        bounds = move + [(0, None)] * d
    res = linprog(cost, A_ub=A, b_ub=np.zeros(2 * d), A_eq=Aeq, b_eq=[c0], bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return res.fun * k


def l2_oracle(t, w, b, box):
    """(distance, lam, a, r, s) by bisection on lam of g(lam) = sum a min(lam a, r) = c."""
    c = b - w @ t
    s = np.sign(c) if c != 0 else 1.0
    ws, c = w * s, abs(c)
    a = np.abs(ws)
    lo, hi = _bounds(box, t.size)
    r = np.full(t.size, np.inf) if lo is None else np.where(ws > 0, hi - t, t - lo)
    r = np.where(a > 0, r, 0.0)
    if c == 0:
        return 0.0, 0.0, a, r, ws
    if not exactly_feasible(t, w, b, box):
        return np.inf, None, a, r, ws
    g = lambda lam: (a * np.minimum(lam * a, r)).sum()  # noqa: E731
    lo_l, hi_l = 0.0, 1.0
    while g(hi_l) < c:
        hi_l *= 2
    for _ in range(200):
        mid = 0.5 * (lo_l + hi_l)
        lo_l, hi_l = (mid, hi_l) if g(mid) < c else (lo_l, mid)
    lam = 0.5 * (lo_l + hi_l)
    return float(np.linalg.norm(np.minimum(lam * a, r))), lam, a, r, ws


def check_problem(t, w, b, norm, box, dist, feas, delta):
    """One problem against its oracle, plus the constraint, the box and the KKT form."""
    if norm == 2:
        ref, lam, a, r, ws = l2_oracle(t, w, b, box)
    else:
        ref = lp_distance(t, w, b, norm, box)
    if not np.isfinite(ref):
        assert not feas and dist == np.inf and not delta.any()
        return
    assert feas
    scale = max(1.0, abs(ref))
    assert abs(dist - ref) <= TOL * scale, (norm, dist, ref)
    p = np.inf if norm == "inf" else norm
    assert abs(np.linalg.norm(delta, p) - dist) <= TOL * scale
    wscale = max(1.0, np.abs(w).sum() * max(1.0, np.abs(t).max() + np.abs(delta).max()))
    assert abs(w @ (t + delta) - b) <= 1e-12 * wscale  # on the hyperplane
    lo, hi = _bounds(box, t.size)
    if lo is not None:
        assert (t + delta >= lo - 1e-15).all() and (t + delta <= hi + 1e-15).all()  # in the box
    assert (delta[w == 0] == 0).all()  # coordinates with w_i = 0 never move
    if norm == 2 and lam is not None and lam > 0:  # KKT: delta_i = s_i min(lam a_i, r_i)
        want = np.sign(ws) * np.minimum(lam * a, r)
        assert np.abs(delta - want).max() <= TOL * max(1.0, np.abs(want).max())


def check_all(t, w, b, norm, box, backends=("auto", "torch")):
    for backend in backends:
        res = project_hyperplanes(t, w, b, norm=norm, box=box, backend=backend, device="cpu")
        assert isinstance(res, ProjectionResult)
        assert res.distance.dtype == np.float64 and res.feasible.dtype == bool and res.delta.dtype == np.float64
        for i in range(w.shape[0]):
            for h in range(w.shape[1]):
                check_problem(
                    t[i],
                    w[i, h].astype(np.float64),
                    b[i, h],
                    norm,
                    box,
                    res.distance[i, h],
                    res.feasible[i, h],
                    res.delta[i, h],
                )


def random_instance(rng, B, H, d, box):
    """Random problems with zeros, ties in |w| and in the room, points on faces, both signs of c,
    c == 0 and a spread of feasible / infeasible offsets."""
    lo, hi = _bounds(box, d) if box is not None else (np.zeros(d), np.ones(d))
    t = lo + (hi - lo) * rng.random((B, d))
    t[:, : d // 4] = np.where(rng.random((B, d // 4)) < 0.5, lo[: d // 4], hi[: d // 4])  # on faces
    w = rng.normal(size=(B, H, d))
    w[:, 0] = np.round(w[:, 0] * 2) / 2  # ties in |w| (and zeros)
    w[rng.random((B, H, d)) < 0.15] = 0.0
    t[:, -2:] = t[:, -3:-2]  # ties in the room (where the boxes allow it)
    t = np.clip(t, lo, hi)
    c = rng.normal(size=(B, H)) * np.abs(w).sum(-1) * rng.choice([0.02, 0.2, 0.6], size=(B, H))
    b = np.einsum("bhd,bd->bh", w, t) + c
    if H > 1:
        b[:, 1] = np.einsum("bd,bd->b", w[:, 1], t)  # c == 0 up to rounding
    return t, w, b


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("box", [(0.0, 1.0), None, "arrays"])
def test_random_against_oracles(norm, box, rng):
    d = 9
    if box == "arrays":
        lo = -rng.random(d)
        hi = lo + rng.random(d) * 2
        hi[0] = lo[0]  # a pinned feature (lo == hi): it cannot move
        box = (lo, hi)
    t, w, b = random_instance(rng, 4, 5, d, box)
    check_all(t, w, b, norm, box)


def _one(t, w, b):
    return np.asarray([t], float), np.asarray([[w]], float), np.asarray([[b]], float)


# Hand-made degenerate problems, in dyadic numbers so that c and the capacity are exact.
DEGENERATE = {
    "ties in |w| and room": ([0.5, 0.5, 0.25, 0.75], [1.0, -1.0, 1.0, 0.5], 0.75),
    "zeros in w": ([0.5, 0.25, 0.5], [0.0, 2.0, 0.0], 1.0),
    "all-zero w, c != 0 (infeasible)": ([0.5, 0.5], [0.0, 0.0], 1.0),
    "all-zero w, c == 0": ([0.5, 0.5], [0.0, 0.0], 0.0),
    "c == 0": ([0.5, 0.25], [1.0, -2.0], 0.0),
    "c < 0": ([0.5, 0.25, 0.75], [1.0, -2.0, 0.5], -0.5),
    "on faces (room 0)": ([1.0, 0.0, 0.5], [1.0, -1.0, 0.5], 1.5),
    "every face blocks (infeasible)": ([1.0, 0.0], [1.0, -1.0], 1.5),
    "exactly at the limit": ([0.5, 0.25], [1.0, -2.0], 1.0),
    "a hair past the limit (infeasible)": ([0.5, 0.25], [1.0, -2.0], 1.0 + 2.0**-40),
    "d = 1": ([0.25], [2.0], 1.0),
    "d = 1 infeasible": ([0.25], [2.0], 2.5),
    "d = 1 c < 0": ([0.75], [-4.0], -1.0),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("box", [(0.0, 1.0), None])
def test_degenerate(name, norm, box):
    t, w, b = _one(*DEGENERATE[name])
    check_all(t, w, b, norm, box)


def test_degenerate_values():
    """A few answers worked out by hand (the oracles could share a misreading of the problem)."""
    t, w, b = _one(*DEGENERATE["exactly at the limit"])
    for norm, dist in [("inf", 0.5), (1, 0.75), (2, np.hypot(0.5, 0.25))]:
        res = project_hyperplanes(t, w, b, norm=norm, box=UNIT)
        assert res.feasible[0, 0] and res.distance[0, 0] == pytest.approx(dist, rel=1e-15)
        np.testing.assert_allclose(res.delta[0, 0], [0.5, -0.25])
    t, w, b = _one(*DEGENERATE["ties in |w| and room"])  # c = 0.75 - 0.625 = 0.125
    res = project_hyperplanes(t, w, b, norm=1, box=UNIT)  # ties |1| = |-1| = |1|: lowest index first
    np.testing.assert_array_equal(res.delta[0, 0], [0.125, 0.0, 0.0, 0.0])
    res = project_hyperplanes(t, w, b, norm=1, box=None)
    np.testing.assert_array_equal(res.delta[0, 0], [0.125, 0.0, 0.0, 0.0])
    res = project_hyperplanes(t, w, b, norm="inf", box=None)  # lam = c / ||w||_1 = 0.125 / 3.5
    np.testing.assert_allclose(res.delta[0, 0], np.array([1, -1, 1, 1]) / 28, rtol=1e-15)
    res = project_hyperplanes(
        t, w, b + 1.5, norm="inf", box=UNIT
    )  # c = 1.625: g(lam) = 3 lam + 0.125 (t_3 on its face)
    np.testing.assert_allclose(res.delta[0, 0], [0.5, -0.5, 0.5, 0.25], rtol=1e-15)
    assert res.distance[0, 0] == 0.5
    t, w, b = _one(*DEGENERATE["all-zero w, c == 0"])
    res = project_hyperplanes(t, w, b, box=UNIT)
    assert res.feasible[0, 0] and res.distance[0, 0] == 0 and not res.delta.any()


def test_float32_input_is_not_upcast_and_matches(rng):
    t, w, b = random_instance(rng, 3, 4, 8, (0.0, 1.0))
    w32 = w.astype(np.float32)
    for norm in NORMS:
        check_all(t, w32, b, norm, (0.0, 1.0))
        r32 = project_hyperplanes(t, w32, b, norm=norm, box=UNIT)
        r64 = project_hyperplanes(t, w32.astype(np.float64), b, norm=norm, box=UNIT)
        np.testing.assert_array_equal(r32.distance, r64.distance)  # float32 read exactly, same maths
        np.testing.assert_array_equal(r32.delta, r64.delta)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("box", [(0.0, 1.0), None, "arrays"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cpp_matches_torch_reference_on_large_batches(norm, box, dtype, rng):
    B, H, d = 24, 9, 700
    if box == "arrays":
        lo = -rng.random(d)
        box = (lo, lo + 0.5 + rng.random(d))
    t, w, b = random_instance(rng, B, H, d, box)
    w = w.astype(dtype)
    b = np.einsum("bhd,bd->bh", w.astype(np.float64), t) + (b - np.einsum("bhd,bd->bh", w.astype(np.float64), t))
    got = project_hyperplanes(t, w, b, norm=norm, box=box, device="cpu")
    ref = project_hyperplanes(t, w, b, norm=norm, box=box, backend="torch")
    assert 0.2 < got.feasible.mean() and (got.feasible == ref.feasible).all()
    f = got.feasible
    scale = np.maximum(1.0, np.abs(ref.distance[f]))
    assert (np.abs(got.distance[f] - ref.distance[f]) <= TOL * scale).all()
    assert np.abs(got.delta - ref.delta).max() <= TOL * max(1.0, np.abs(ref.delta).max())
    assert (got.distance[~f] == np.inf).all() and not got.delta[~f].any()
    resid = np.einsum("bhd,bhd->bh", w.astype(np.float64), t[:, None] + got.delta) - b
    assert np.abs(resid[f]).max() <= 1e-12 * max(1.0, np.abs(w).sum(-1).max())
    lo, hi = _bounds(box, d)
    if lo is not None:
        x = t[:, None] + got.delta
        assert (x >= lo - 1e-15).all() and (x <= hi + 1e-15).all()


def test_deterministic_across_n_jobs_and_without_delta(rng):
    t, w, b = random_instance(rng, 16, 6, 400, (0.0, 1.0))
    for norm in NORMS:
        one = project_hyperplanes(t, w, b, norm=norm, n_jobs=1, box=UNIT)
        two = project_hyperplanes(t, w, b, norm=norm, n_jobs=2, box=UNIT)
        again = project_hyperplanes(t, w, b, norm=norm, n_jobs=-1, box=UNIT)
        for r in (two, again):
            assert np.array_equal(one.distance, r.distance) and np.array_equal(one.delta, r.delta)
            assert np.array_equal(one.feasible, r.feasible)
        bare = project_hyperplanes(t, w, b, norm=norm, return_delta=False, box=UNIT)
        assert bare.delta is None and np.array_equal(bare.distance, one.distance)
        bare_ref = project_hyperplanes(t, w, b, norm=norm, return_delta=False, backend="torch", box=UNIT)
        assert bare_ref.delta is None and np.array_equal(bare_ref.feasible, one.feasible)


def test_norm_aliases_types_and_empty(rng):
    t, w, b = random_instance(rng, 2, 3, 5, (0.0, 1.0))
    base = project_hyperplanes(t, w, b, norm="inf", box=UNIT).distance
    for alias in (float("inf"), np.inf):
        assert np.array_equal(project_hyperplanes(t, w, b, norm=alias, box=UNIT).distance, base)
    assert np.array_equal(
        project_hyperplanes(t, w, b, norm=2.0, box=UNIT).distance,
        project_hyperplanes(t, w, b, norm=2, box=UNIT).distance,
    )
    tt, wt, bt = (torch.from_numpy(x) for x in (t, w, b))
    res = project_hyperplanes(tt, wt.float(), bt, norm=1, box=UNIT)  # torch in, torch out
    assert isinstance(res.distance, torch.Tensor) and res.distance.dtype == torch.float64
    assert res.feasible.dtype == torch.bool and res.delta.shape == (2, 3, 5)
    ref = project_hyperplanes(tt, wt.float(), bt, norm=1, backend="torch", box=UNIT)
    assert isinstance(ref.delta, torch.Tensor) and torch.allclose(ref.delta, res.delta, rtol=0, atol=1e-12)
    ints = project_hyperplanes(np.zeros((1, 2), dtype=np.int64), np.ones((1, 1, 2), dtype=np.int32), [[1]], box=UNIT)
    assert ints.distance[0, 0] == pytest.approx(0.5)  # l_inf: both coordinates move 0.5
    for B, H in [(0, 3), (2, 0)]:
        e = project_hyperplanes(np.zeros((B, 4)), np.zeros((B, H, 4)), np.zeros((B, H)), box=UNIT)
        assert e.distance.shape == (B, H) and e.delta.shape == (B, H, 4)


def _bad_calls():
    t, w, b = np.full((2, 3), 0.5), np.ones((2, 4, 3)), np.ones((2, 4))
    nan_w = w.copy()
    nan_w[1, 2, 0] = np.nan
    inf_t = t.copy()
    inf_t[0, 1] = np.inf
    return [
        (dict(norm=3), ValueError, "norm"),
        (dict(norm="l2"), ValueError, "norm"),
        (dict(norm=True), ValueError, "norm"),
        (dict(t=t[0]), ValueError, "t"),
        (dict(w=w[0]), ValueError, "w"),
        (dict(b=b[:, :2]), ValueError, "b"),
        (dict(t=np.full((2, 2), 0.5)), ValueError, "t"),
        (dict(w=nan_w), ValueError, "w"),
        (dict(t=inf_t), ValueError, "t"),
        (dict(b=np.where(b > 0, np.nan, b)), ValueError, "b"),
        (dict(t=np.full((2, 3), 1.5)), ValueError, "t"),  # outside the box
        (dict(t=np.zeros((2, 0)), w=np.zeros((2, 4, 0))), ValueError, "d"),
        (dict(w=w.astype(complex)), TypeError, "w"),
        (dict(w=w.astype(bool)), TypeError, "w"),
        (dict(t=np.array([["a"] * 3] * 2)), TypeError, "t"),
        (dict(w=np.array([[[object()] * 3] * 4] * 2)), TypeError, "w"),
        (dict(box=(1.0, 0.0)), ValueError, "box"),
        (dict(box=(0.0,)), ValueError, "box"),
        (dict(box=(np.zeros(2), 1.0)), ValueError, "lo"),
        (dict(box=(0.0, np.nan)), ValueError, "hi"),
        (dict(backend="gpu"), ValueError, "backend"),
        (dict(backend="triton"), ValueError, "backend"),
        (dict(device="gpu"), ValueError, "device"),
        (dict(device="cuda"), ValueError, "device"),
        (dict(n_jobs=0), ValueError, "n_jobs"),
        (dict(n_jobs=1.5), TypeError, "n_jobs"),
        (dict(return_delta="yes"), TypeError, "return_delta"),
    ], (t, w, b)


@pytest.mark.parametrize("case", range(len(_bad_calls()[0])))
def test_bad_input_names_the_argument(case):
    cases, (t, w, b) = _bad_calls()
    kwargs, exc, name = cases[case]
    args = dict(t=t, w=w, b=b, box=UNIT)
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        project_hyperplanes(**args)


def test_compiled_kernel_checks_shapes():
    """What slips past Python (a direct call of the private module) is an error, not a crash."""
    t, w, b = np.full((2, 3), 0.5), np.ones((2, 4, 3)), np.ones((2, 4))
    with pytest.raises(ValueError, match="t"):
        _core.project_hyperplanes(t[:, :2], w, b, 0, None, None)
    with pytest.raises(ValueError, match="lo"):
        _core.project_hyperplanes(t, w, b, 0, np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="norm"):
        _core.project_hyperplanes(t, w, b, 5, None, None)
    with pytest.raises(ValueError, match="w"):
        _core.project_hyperplanes(t, w.astype(np.int32), b, 0, None, None)


@pytest.mark.gpu
@pytest.mark.parametrize("norm", NORMS)
def test_cuda_matches_cpu(norm, rng):
    t, w, b = random_instance(rng, 16, 9, 1000, (0.0, 1.0))
    cpu = project_hyperplanes(t, w.astype(np.float32), b, norm=norm, box=UNIT)
    dev = [torch.from_numpy(x).cuda() for x in (t, w.astype(np.float32), b)]
    gpu = project_hyperplanes(*dev, norm=norm, box=UNIT)
    assert gpu.distance.is_cuda and gpu.delta.is_cuda
    assert np.array_equal(gpu.feasible.cpu().numpy(), cpu.feasible)
    f = cpu.feasible
    np.testing.assert_allclose(gpu.distance.cpu().numpy()[f], cpu.distance[f], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(gpu.delta.cpu().numpy(), cpu.delta, rtol=0, atol=TOL)
    ref = project_hyperplanes(*dev, norm=norm, backend="torch", return_delta=False, box=UNIT)
    np.testing.assert_allclose(ref.distance.cpu().numpy()[f], cpu.distance[f], rtol=TOL, atol=TOL)


def test_memory_float32_not_copied_and_no_moves_without_delta(rng):
    """float32 w is read in place (no float64 copy) and return_delta=False allocates no (B, H, d)."""
    import tracemalloc

    B, H, d = 16, 9, 2000
    t = rng.random((B, d))
    w = rng.normal(size=(B, H, d)).astype(np.float32)
    b = np.einsum("bhd,bd->bh", w.astype(np.float64), t) + 1.0
    project_hyperplanes(t, w, b, return_delta=False, box=UNIT)  # warm-up (imports, thread pool)
    tracemalloc.start()
    try:
        project_hyperplanes(t, w, b, norm=2, return_delta=False, box=UNIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes, peak  # a float64 copy of w would be 2 * w.nbytes; the moves 4 * w.nbytes
