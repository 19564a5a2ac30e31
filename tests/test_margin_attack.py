"""The min-norm attack (assay.robustness.input_margins) against exact margins: closed forms for
linear and nearest-prototype models (with and without the box), the MILP for small ReLU networks;
every margin must be certified (the returned point really changes the decision) and never below
the exact one."""

import numpy as np
import pytest
import torch

from assay import robustness as rb
from assay.robustness.exact import exact_margins_linear, exact_margins_mlp, exact_margins_prototypes

NORMS = ["inf", 2, 1]


def linear_model(W, b):
    net = torch.nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        net.weight.copy_(torch.from_numpy(W))
        net.bias.copy_(torch.from_numpy(b))
    return net


class Prototypes(torch.nn.Module):
    """Nearest prototype: logits -||x - p_k||^2 / 2 (linear boundaries)."""

    def __init__(self, P):
        super().__init__()
        self.P = torch.from_numpy(P)

    def forward(self, x):
        return -0.5 * ((x[:, None, :] - self.P[None]) ** 2).sum(-1)


def assert_certified(model, x, res, box):
    """Finite margins: the point is another class, inside the box, at exactly that distance."""
    fin = res.found.numpy()
    assert np.array_equal(fin, np.isfinite(res.margin.numpy()))
    with torch.no_grad():
        pred = model(res.adversarial).argmax(1)
    assert torch.all(pred[res.found] != res.label[res.found])
    assert torch.all(res.target[res.found] == pred[res.found])
    assert torch.all(res.target[~res.found] == -1)
    assert torch.equal(res.adversarial[~res.found], x[~res.found])
    if box is not None:
        lo, hi = (torch.as_tensor(v, dtype=x.dtype) for v in box)
        assert torch.all(res.adversarial >= lo) and torch.all(res.adversarial <= hi)
    delta = (res.adversarial - x).reshape(x.shape[0], -1).double()[res.found]
    p = float("inf") if res.norm_name == "inf" else res.norm_name
    np.testing.assert_allclose(
        res.margin[res.found].numpy(), torch.linalg.vector_norm(delta, ord=p, dim=1).numpy(), rtol=1e-12
    )


def run(model, x, norm, box, **kw):
    res = rb.input_margins(model, x, norm=norm, box=box, **kw)
    res.norm_name = norm
    assert_certified(model, x, res, box)
    return res


def check_against_exact(est, exact, rtol):
    est, exact = np.asarray(est), np.asarray(exact)
    assert np.array_equal(np.isfinite(est), np.isfinite(exact))
    fin = np.isfinite(exact)
    ratio = est[fin] / exact[fin]
    assert ratio.min() >= 1 - 1e-12, f"below exact: {ratio.min()}"
    assert ratio.max() <= 1 + rtol, f"worst ratio {ratio.max()}"


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("box", [None, (0.0, 1.0)])
def test_linear_models_within_1e5_of_the_closed_form(norm, box):
    rng = np.random.default_rng(0)
    K, d, n = 6, 12, 40
    W, b = rng.normal(size=(K, d)), rng.normal(size=K) * 0.3
    x = rng.uniform(0, 1, size=(n, d))
    x[:5, :3] = 0.0  # on the box faces
    x[5:10, 3:6] = 1.0
    W[:, 7] = 0.0  # a feature no class uses
    res = run(linear_model(W, b), torch.from_numpy(x), norm, box)
    check_against_exact(res.margin.numpy(), exact_margins_linear(W, b, x, norm=norm, box=box).margin, 1e-5)


@pytest.mark.parametrize("norm", NORMS)
def test_boxed_linear_model_where_the_box_changes_the_nearest_class(norm):
    # class 1 is closest without the box, but its boundary lies outside [0, 1]^2 along x0:
    # the box forces class 2, which FAB's unconstrained choice of class misses
    W = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 1.0]])
    b = np.array([0.0, -3.9, -0.6])
    x = np.array([[0.5, 0.2], [0.9, 0.1], [0.2, 0.35]])
    exact = exact_margins_linear(W, b, x, norm=norm, box=(0.0, 1.0)).margin
    res = run(linear_model(W, b), torch.from_numpy(x), norm, (0.0, 1.0))
    check_against_exact(res.margin.numpy(), exact, 1e-5)


@pytest.mark.parametrize("norm", NORMS)
def test_nearest_prototypes(norm):
    rng = np.random.default_rng(1)
    P = rng.uniform(0, 1, size=(5, 6))
    x = rng.uniform(0, 1, size=(30, 6))
    res = run(Prototypes(P), torch.from_numpy(x), norm, (0.0, 1.0))
    check_against_exact(res.margin.numpy(), exact_margins_prototypes(P, x, norm=norm, box=(0.0, 1.0)).margin, 1e-5)


def small_relu_net(seed=0, sizes=(8, 16, 4)):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("norm", ["inf", 1])
def test_relu_network_against_the_milp(norm):
    net = small_relu_net()
    x = torch.rand(12, 8, generator=torch.Generator().manual_seed(3))
    res = run(net, x, norm, (0.0, 1.0))
    exact = exact_margins_mlp(net, x, norm=norm, box=(0.0, 1.0), radius_hint=res.margin.numpy())
    assert set(exact.status) == {"optimal"}
    ratio = res.margin.numpy() / exact.margin
    assert np.all(ratio >= 1 - 1e-9), ratio  # an upper bound: never below exact
    assert np.median(ratio) <= 1.01 and np.all(np.isfinite(ratio)), ratio


def test_relu_network_l2_is_certified_and_no_worse_than_a_random_search():
    net = small_relu_net(1)
    x = torch.rand(10, 8, generator=torch.Generator().manual_seed(4))
    res = run(net, x, 2, (0.0, 1.0))
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        y = net(x).argmax(1)
        for i in range(x.shape[0]):
            dirs = torch.randn(4000, 8, generator=g)
            dirs /= dirs.norm(dim=1, keepdim=True)
            # the shortest flipping radius along each direction, by a radius grid
            radii = torch.linspace(0, 2, 401)[1:]
            pts = (x[i] + radii[:, None, None] * dirs[None]).clamp(0, 1)
            flips = net(pts.reshape(-1, 8)).argmax(1).reshape(400, 4000) != y[i]
            dist = (pts - x[i]).norm(dim=2)
            rand_best = torch.where(flips, dist, torch.inf).min()
            assert res.margin[i] <= rand_best + 1e-9


def test_misclassified_rows_have_margin_zero_and_unreachable_classes_inf():
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([0.0, 0.0])
    x = torch.tensor([[0.6, 0.2], [0.3, 0.4]], dtype=torch.float64)
    res = run(linear_model(W, b), x, "inf", (0.0, 1.0), labels=np.array([1, 1]))
    assert res.margin[0] == 0 and torch.equal(res.adversarial[0], x[0]) and res.target[0] == 0
    assert res.margin[1] == pytest.approx(0.05, rel=1e-6)  # (0.3 + t, 0.4 - t) ties at t = 0.05
    # class 1 can never win inside the box: +inf, not found, x returned, target -1
    res = run(linear_model(W, np.array([0.0, -5.0])), x, 2, (0.0, 1.0))
    assert torch.all(torch.isinf(res.margin)) and not res.found.any()


def test_image_shaped_inputs_and_per_feature_boxes():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 3 * 3, 5)).double()
    x = torch.rand(7, 2, 3, 3, dtype=torch.float64) * 0.5 + 0.25
    lo, hi = np.full((2, 3, 3), 0.2), np.full((2, 3, 3), 0.8)
    res = run(net, x, "inf", (lo, hi))
    assert res.adversarial.shape == x.shape
    W, bias = rb.linear_weights(net)
    exact = exact_margins_linear(W, bias, x.reshape(7, -1).numpy(), norm="inf", box=(lo.ravel(), hi.ravel()))
    check_against_exact(res.margin.numpy(), exact.margin, 1e-5)


def test_float32_models_certify_with_a_rounding_margin():
    torch.manual_seed(2)
    net = small_relu_net(2, (8, 32, 32, 6))
    x = torch.rand(64, 8)
    res = run(net, x, "inf", (0.0, 1.0))
    # the decision at each returned point survives another batch composition (row by row)
    with torch.no_grad():
        single = torch.cat([net(res.adversarial[i : i + 1]) for i in range(64)]).argmax(1)
    assert torch.all(single[res.found] != res.label[res.found])


def test_reproducible_chunking_and_training_mode_restored():
    net = small_relu_net(0)
    net.train()
    x = torch.rand(20, 8, generator=torch.Generator().manual_seed(6)).double()
    net = net.double()
    a = rb.input_margins(net, x, norm=2, box=(0.0, 1.0), restarts=2, seed=7)
    b = rb.input_margins(net, x, norm=2, box=(0.0, 1.0), restarts=2, seed=7)
    c = rb.input_margins(net, x, norm=2, box=(0.0, 1.0), restarts=2, seed=7, batch_size=6)
    assert net.training
    assert torch.equal(a.margin, b.margin)
    assert a.found.all() and c.found.all()
    np.testing.assert_allclose(c.margin.numpy(), a.margin.numpy(), rtol=0.05)


def test_the_package_exports_the_issue_api():
    for name in (
        "input_margins",
        "logit_margins",
        "margin_consistency",
        "robust_accuracy_curve",
        "expected_robustness",
        "estimate_robust_accuracy",
        "PseudoMargin",
        "exact_margins_mlp",
        "project_hyperplanes",
    ):
        assert callable(getattr(rb, name)) and name in dir(rb)
    with pytest.raises(AttributeError, match="no attribute"):
        rb.not_a_function


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda m, x: rb.input_margins(m, x, norm=3), ValueError, "norm"),
        (lambda m, x: rb.input_margins(m, x.clone().fill_(float("nan"))), ValueError, "x: contains NaN"),
        (lambda m, x: rb.input_margins(m, x + 2, box=(0.0, 1.0)), ValueError, "outside the box"),
        (lambda m, x: rb.input_margins(m, x, box=(np.zeros(3), 1.0)), ValueError, "box[0]"),
        (lambda m, x: rb.input_margins(m, x, box=(1.0, 0.0)), ValueError, "lo <= hi"),
        (lambda m, x: rb.input_margins(m, x, box=0.5), TypeError, "box"),
        (lambda m, x: rb.input_margins(m, x, labels=[0, 1]), ValueError, "labels"),
        (lambda m, x: rb.input_margins(m, x, labels=np.full(4, 9)), ValueError, "labels"),
        (lambda m, x: rb.input_margins(m, x, top_k=0), ValueError, "top_k"),
        (lambda m, x: rb.input_margins(m, x, n_iter=1.5), ValueError, "n_iter"),
        (lambda m, x: rb.input_margins(m, x[:0]), ValueError, "x: expected at least one row"),
        (lambda m, x: rb.input_margins(m, x[:, 0]), ValueError, "x: expected a batch"),
        (lambda m, x: rb.input_margins(m, x.long()), TypeError, "floating-point"),
        (lambda m, x: rb.input_margins(m, "abc"), TypeError, "x: expected a torch.Tensor"),
        (lambda m, x: rb.input_margins(torch.nn.Linear(5, 3), x), TypeError, "model: calling it"),
        (lambda m, x: rb.input_margins(torch.nn.Linear(6, 1), x), ValueError, "at least 2 outputs"),
        (lambda m, x: rb.input_margins(lambda z: z.sum(1), x), ValueError, "model: expected logits"),
        (lambda m, x: rb.input_margins(lambda z: z * np.inf, x), ValueError, "NaN or inf logits"),
        (lambda m, x: rb.input_margins(42, x), TypeError, "model"),
    ],
)
def test_bad_input_names_the_argument(call, exc, words):
    m = torch.nn.Linear(6, 3)
    x = torch.rand(4, 6)
    with pytest.raises(exc, match=None) as info:
        call(m, x)
    assert words in str(info.value)


def test_numpy_input_of_any_float_dtype_runs_in_the_model_dtype_and_returns_numpy():
    net = small_relu_net(0)  # float32 parameters
    x64 = np.random.default_rng(0).uniform(0, 1, (6, 8))
    res = rb.input_margins(net, x64, box=(0.0, 1.0))  # was: "mat1 and mat2 must have the same dtype"
    assert all(isinstance(v, np.ndarray) for v in vars(res).values())
    assert res.adversarial.dtype == np.float32 and res.adversarial.shape == x64.shape
    assert res.margin.dtype == np.float64 and res.label.dtype == res.target.dtype == np.int64
    assert res.found.dtype == bool and res.found.all()
    same = rb.input_margins(net, torch.from_numpy(x64).float(), box=(0.0, 1.0))  # the cast, by hand
    assert isinstance(same.margin, torch.Tensor)
    np.testing.assert_array_equal(res.margin, same.margin.numpy())
    np.testing.assert_array_equal(res.adversarial, same.adversarial.numpy())
    for x in (torch.from_numpy(x64), torch.from_numpy(x64).half(), torch.from_numpy(x64).bfloat16()):
        r = rb.input_margins(net, x, box=(0.0, 1.0))  # tensor in, tensor out, in the model's dtype
        assert isinstance(r.margin, torch.Tensor) and r.adversarial.dtype == torch.float32
    r = rb.input_margins(small_relu_net(0).double(), x64.astype(np.float16), box=(0.0, 1.0))
    assert isinstance(r.margin, np.ndarray) and r.adversarial.dtype == np.float64
    r = rb.input_margins(Prototypes(np.eye(2)), np.array([[0.2, 0.1]]))  # no parameters: x's dtype
    assert r.adversarial.dtype == np.float64 and r.margin[0] == pytest.approx(0.05)


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (np.ones((4, 6), dtype=np.int64), TypeError, "x: expected a floating-point"),
        (np.ones((4, 6), dtype=bool), TypeError, "x: expected a floating-point"),
        (np.ones((4, 6), dtype=np.complex128), TypeError, "x: expected a floating-point"),
        (np.full((4, 6), 0.5, dtype=object), TypeError, "x: expected a floating-point"),
        (np.full((4, 6), np.inf), ValueError, "x: contains NaN or inf"),
        (np.zeros((0, 6)), ValueError, "x: expected at least one row"),
        (np.zeros((4, 0)), ValueError, "x: expected at least one row and one value per row"),
        (np.zeros(6), ValueError, "x: expected a batch"),
    ],
)
def test_bad_x_names_the_argument_for_numpy_and_tensors(bad, exc, words, as_tensor):
    if as_tensor:
        if bad.dtype == object:
            pytest.skip("torch has no object tensors")
        bad = torch.from_numpy(bad)
    with pytest.raises(exc) as info:
        rb.input_margins(torch.nn.Linear(6, 3), bad)
    assert words in str(info.value)


def test_progress_counts_search_runs():
    net = small_relu_net(0)
    x = torch.rand(10, 8, generator=torch.Generator().manual_seed(8))
    calls = []
    res = rb.input_margins(
        net, x, box=(0.0, 1.0), batch_size=4, progress=lambda done, total: calls.append((done, total))
    )
    # 3 chunks x (1 untargeted + 3 targeted runs: the 3 other classes of 4 are screened)
    assert [c[1] for c in calls] == [12] * len(calls) and calls[-1][0] == 12
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))
    quiet = rb.input_margins(net, x, box=(0.0, 1.0), batch_size=4)
    assert torch.equal(res.margin, quiet.margin)
    assert torch.equal(rb.input_margins(net, x[:4], box=(0.0, 1.0), progress=True).margin, quiet.margin[:4])
    with pytest.raises(TypeError, match="progress"):
        rb.input_margins(net, x, progress="yes")


@pytest.mark.gpu
def test_cuda_tensors_give_the_cpu_answer():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(5, 10)), rng.normal(size=5)
    x = rng.uniform(0, 1, size=(50, 10))
    cpu = rb.input_margins(linear_model(W, b), torch.from_numpy(x), norm="inf", box=(0.0, 1.0))
    gpu = rb.input_margins(linear_model(W, b).cuda(), torch.from_numpy(x).cuda(), norm="inf", box=(0.0, 1.0))
    assert gpu.margin.device.type == "cuda"
    np.testing.assert_allclose(gpu.margin.cpu().numpy(), cpu.margin.numpy(), rtol=1e-5)
