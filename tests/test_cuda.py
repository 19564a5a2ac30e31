"""The CUDA backend (issue: CUDA kernels for the tree explainers).

Without a GPU the device kernel cannot run, but its algorithm can: the CUDA kernels call the
per-row functions of csrc/core/row_walk.hpp, and `_core.RowQueryShap` runs those very functions
on the host. Those tests compare it with the CPU kernel and brute force on every converter's
models, every index, groups, K outputs, NaN and on-threshold inputs. Tests marked `gpu` run the
device kernel itself and are skipped without a CUDA build and device."""

import warnings

import numpy as np
import pytest

import assay
from assay import _core
from assay.trees.reference import brute_force_values
from conftest import adversarial_rows, assert_close_scaled
from models import all_models
from random_forests import random_rows, random_tree_model

INDEX_CODES = {"shap": 0, "banzhaf": 1, "interaction": 2, "taylor": 3}
METHOD = {
    "shap": "shap_values",
    "banzhaf": "banzhaf_values",
    "interaction": "shap_interaction_values",
    "taylor": "shapley_taylor_values",
}


def _emulated(ex, index, X):
    k = _core.RowQueryShap(
        ex.model.forest, ex.data, player_of_feature=ex._player_of, n_players=ex.n_players, index=INDEX_CODES[index]
    )
    out = k.values(np.ascontiguousarray(X, dtype=np.float64))
    return (out[..., 0] if ex.n_outputs == 1 else out), k.expected_value()


@pytest.fixture(scope="module")
def models():
    return all_models(np.random.default_rng(7))


@pytest.mark.parametrize("index", list(INDEX_CODES))
def test_device_algorithm_matches_the_cpu_kernel_on_every_converter(models, index):
    rng = np.random.default_rng(3)
    for name, (model, X, _) in models.items():
        ex = assay.TreeExplainer(model, data=X[:60], device="cpu")
        A = adversarial_rows(ex.model, X, rng, n=40)
        got, mean = _emulated(ex, index, A)
        want = getattr(ex, METHOD[index])(A)
        assert_close_scaled(got, want, 1e-12, f"{name} {index}")
        assert_close_scaled(mean, np.atleast_1d(ex.expected_value), 1e-12, f"{name} expected value")


def test_device_plan_answers_small_subtrees_as_groups(models):
    # Scalar-leaf trees group their small subtrees (one table per subtree); trees whose leaves
    # carry K values do not. The comparisons above run with the groups in place.
    for name, grouped in (("xgb_reg", True), ("lgb_multiclass", True), ("sk_rf_clf", False)):
        model, X, _ = models[name]
        ex = assay.TreeExplainer(model, data=X[:50], device="cpu")
        for index in (0, 2):
            k = _core.RowQueryShap(ex.model.forest, ex.data, index=index)
            assert (k.n_groups > 0) == grouped, (name, index)


def test_groups_never_make_the_device_tables_larger():
    # Every split on one feature: a group's state counts the repeated splits, its leaves do not.
    # Under a budget that held the leaf tables, such groups are left out and the forest still fits.
    from sklearn.tree import DecisionTreeRegressor

    X = np.linspace(0, 1, 64)[:, None]
    ex = assay.TreeExplainer(DecisionTreeRegressor(max_depth=3).fit(X, np.floor(8 * X[:, 0])), data=X, device="cpu")
    leaf_tables = 8 * 2 * 8  # 8 leaves, 1 player each: 2 masks x 1 entry x 8 bytes
    k = _core.RowQueryShap(ex.model.forest, X, budget_bytes=leaf_tables)
    assert k.table_bytes <= leaf_tables
    assert_close_scaled(k.values(X)[..., 0], ex.shap_values(X), 1e-12, "one feature")


@pytest.mark.parametrize("seed", range(12))
def test_device_algorithm_matches_brute_force_with_groups_and_outputs(seed):
    rng = np.random.default_rng(100 + seed)
    d = int(rng.integers(2, 6))
    model = random_tree_model(
        rng,
        d,
        n_trees=int(rng.integers(1, 4)),
        max_depth=int(rng.integers(1, 6)),
        n_outputs=int(rng.choice([1, 3])),
        cat_features=(0,) if seed % 3 == 0 else (),
        leaf_prob=0.25,
    )
    cat = (0,) if seed % 3 == 0 else ()
    X, bg = random_rows(rng, model, 6, cat), random_rows(rng, model, 5, cat)
    groups = {"g": [0, d - 1]} if seed % 2 else None
    ex = assay.TreeExplainer(model, data=bg, groups=groups, device="cpu")
    index = list(INDEX_CODES)[seed % 4]
    got, _ = _emulated(ex, index, X)
    predict = lambda A: ex.model.predict_raw(np.ascontiguousarray(A))
    want = np.stack([brute_force_values(predict, x, bg, index, ex._player_of) for x in X])
    want = want[..., 0] if ex.n_outputs == 1 else want
    assert_close_scaled(got, want, 1e-10, f"seed {seed} {index}")


def test_forests_the_device_kernel_does_not_take_are_refused_clearly(models):
    # With their own type (a ValueError), which the explainer's fallback reads; a bad argument is
    # a plain ValueError.
    model, X, _ = models["xgb_reg"]
    ex = assay.TreeExplainer(model, data=X[:20], device="cpu")
    with pytest.raises(_core.DeviceUnsupportedError, match="distinct players on its path"):
        _core.RowQueryShap(ex.model.forest, ex.data, max_width=1)
    with pytest.raises(_core.DeviceUnsupportedError, match="over the budget"):
        _core.RowQueryShap(ex.model.forest, ex.data, budget_bytes=8)
    with pytest.raises(ValueError, match="data") as info:
        _core.RowQueryShap(ex.model.forest, ex.data[:0])
    assert not isinstance(info.value, _core.DeviceUnsupportedError)


def test_pair_columns_beyond_32_bits_are_refused_by_the_device_plan():
    from sklearn.tree import DecisionTreeRegressor

    d = 46341  # d * d > 2^31 - 1
    X = np.zeros((2, d))
    X[1, 7] = 1.0
    forest = assay.TreeExplainer(DecisionTreeRegressor().fit(X, [0.0, 1.0]), data=X, device="cpu").model.forest
    with pytest.raises(_core.DeviceUnsupportedError, match="at most 2\\^31 output columns"):
        _core.RowQueryShap(forest, X, index=INDEX_CODES["interaction"])
    assert _core.RowQueryShap(forest, X, index=INDEX_CODES["shap"]).values(X[:1]).shape == (1, d, 1)


def test_device_choice_is_honest_on_a_cpu_build(models):
    model, X, _ = next(iter(models.values()))
    assert assay.cuda_available() == (_core.built_with_cuda and _core.cuda_device_count() > 0)
    with pytest.raises(ValueError, match="device"):
        assay.TreeExplainer(model, data=X[:20], device="gpu")
    if assay.cuda_available():
        pytest.skip("this machine has CUDA")
    assert assay.TreeExplainer(model, data=X[:20]).device == "cpu"
    # A CPU build says how to get a CUDA build; a CUDA build without a device says so.
    with pytest.raises(RuntimeError, match="no CUDA device" if _core.built_with_cuda else "ASSAY_CUDA=ON"):
        assay.TreeExplainer(model, data=X[:20], device="cuda")


class _FakeDeviceArray:
    """Has __cuda_array_interface__ but lives nowhere: a CPU explainer must refuse it by name."""

    __cuda_array_interface__ = {"shape": (2, 3), "typestr": "<f8", "data": (0, False), "version": 3}


def test_a_cpu_explainer_refuses_device_arrays(models):
    model, X, _ = next(iter(models.values()))
    ex = assay.TreeExplainer(model, data=X[:20], device="cpu")
    with pytest.raises(ValueError, match="X: a CUDA array needs device='cuda'"):
        ex.shap_values(_FakeDeviceArray())


class _HostArrayInterface:
    """A NumPy array behind a __cuda_array_interface__ (host memory a kernel must never read)."""

    def __init__(self, a, **fields):
        self.a = np.ascontiguousarray(a)
        self.__cuda_array_interface__ = dict(
            shape=self.a.shape, typestr=self.a.dtype.str, data=(self.a.ctypes.data, False), version=3, strides=None
        )
        self.__cuda_array_interface__.update(fields)


@pytest.mark.skipif(not _core.built_with_cuda, reason="a CUDA build's argument checks")
def test_the_cuda_kernel_checks_device_arrays_before_reading_them(models):
    # Reached without a device too (CI's CUDA build): every check runs before a kernel could fault.
    model, X, _ = models["xgb_reg"]
    forest = assay.TreeExplainer(model, data=X[:20], device="cpu").model.forest
    bg = np.nan_to_num(X[:20])
    cases = [
        (_HostArrayInterface(bg, mask=object()), "data: masked device arrays"),
        # The messages of the one __cuda_array_interface__ reader (csrc/bindings/cuda_array.hpp).
        (_HostArrayInterface(bg.astype(np.float32)), "data: expected element type <f8, got <f4"),
        (_HostArrayInterface(bg, strides=(8, 8 * bg.shape[0])), "data: expected a C-contiguous device array"),
        (_HostArrayInterface(bg[:, :2]), r"data: expected shape \(any, 6\), got \(20, 2\)"),
        (_HostArrayInterface(bg, data=(bg.ctypes.data + 4, False)), "data: .* aligned to its 8-byte elements"),
        (_HostArrayInterface(bg), "data: its __cuda_array_interface__ pointer is (host memory|not readable)"),
    ]
    for arg, message in cases:
        with pytest.raises(ValueError, match=message):
            _core.CudaPatternShap(forest, arg)


class _EmulatedDeviceKernel:
    """Stands in for _core.CudaPatternShap on any machine (the host emulation behind its
    signature), refusing the indices in `refuse` with `error`, as an over-budget forest would (the
    emulation's own plan refuses forests as the device's does)."""

    refuse = ()
    error = _core.DeviceUnsupportedError

    def __init__(
        self,
        forest,
        data,
        player_of_feature=None,
        n_players=0,
        index=0,
        max_width=16,
        budget_bytes=2**31,
        progress=None,
    ):
        if progress is not None:
            progress(0)
        if index in self.refuse:
            raise self.error("the CUDA kernel's tables would take too many bytes")
        self.inner = _core.RowQueryShap(
            forest,
            data,
            player_of_feature=player_of_feature,
            n_players=n_players,
            index=index,
            max_width=max_width,
            budget_bytes=budget_bytes,
        )

    def values(self, X, out=None, progress=None):
        return self.inner.values(X, out=out)

    def expected_value(self):
        return self.inner.expected_value()


@pytest.fixture
def pretend_gpu(monkeypatch):
    monkeypatch.setattr(_core, "built_with_cuda", True)
    monkeypatch.setattr(_core, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(_core, "CudaPatternShap", _EmulatedDeviceKernel, raising=False)
    return _EmulatedDeviceKernel


def test_dispatch_keeps_each_index_where_its_tables_are(models, pretend_gpu, monkeypatch):
    import pickle

    model, X, _ = models["xgb_reg"]
    monkeypatch.setattr(pretend_gpu, "refuse", (INDEX_CODES["interaction"],))
    ex = assay.TreeExplainer(model, data=X[:60])
    cpu = assay.TreeExplainer(model, data=X[:60], device="cpu")
    assert ex.device == "cuda" and isinstance(ex._kernel(0), pretend_gpu)
    A = X[:30]
    with pytest.warns(RuntimeWarning, match="interaction tables of this forest are built for the CPU"):
        sii = ex.shap_interaction_values(A)
    assert isinstance(ex._kernel(INDEX_CODES["interaction"]), _core.PatternShap)
    assert ex.device == "cuda"  # SHAP values stay on the device
    assert_close_scaled(sii, cpu.shap_interaction_values(A), 1e-12, "interactions on the CPU")
    assert_close_scaled(ex.shap_values(A), cpu.shap_values(A), 1e-12, "SHAP on the device")
    with pytest.raises(ValueError, match="X: the interaction tables of this forest are on the CPU"):
        ex.shap_interaction_values(_HostArrayInterface(A))

    # A user's progress callback that raises is never read as a forest the device cannot take.
    def fail(done, total):
        raise ValueError("from the callback")

    with pytest.raises(ValueError, match="from the callback"):
        assay.TreeExplainer(model, data=X[:60], progress=fail)

    # Nothing fits the device: the whole explainer is on the CPU.
    monkeypatch.setattr(pretend_gpu, "refuse", (0, 1, 2, 3))
    with pytest.warns(RuntimeWarning, match="Shapley tables"):
        assert assay.TreeExplainer(model, data=X[:60]).device == "cpu"

    # Unpickled where there is no GPU: "auto" explainers move to the CPU, "cuda" ones say why.
    monkeypatch.setattr(pretend_gpu, "refuse", ())
    auto, insist = (pickle.dumps(assay.TreeExplainer(model, data=X[:60], device=d)) for d in ("auto", "cuda"))
    monkeypatch.setattr(_core, "cuda_device_count", lambda: 0)
    moved = pickle.loads(auto)
    assert moved.device == "cpu"
    assert_close_scaled(moved.shap_values(A), cpu.shap_values(A), 1e-12, "unpickled on the CPU")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        pickle.loads(insist)


def test_only_the_device_kernels_typed_refusals_fall_back_to_the_cpu(models, pretend_gpu, monkeypatch):
    model, X, _ = models["xgb_reg"]
    A = X[:30]
    cpu = assay.TreeExplainer(model, data=X[:60], device="cpu")

    # The emulation's plan refuses a leaf wider than dense_max_bits, with the device's own type.
    with pytest.warns(RuntimeWarning, match="Shapley tables .* built for the CPU .*distinct players on its path"):
        ex = assay.TreeExplainer(model, data=X[:60], dense_max_bits=1)
    assert ex.device == "cpu"
    assert_close_scaled(ex.shap_values(A), cpu.shap_values(A), 1e-12, "fell back to the CPU")
    # device="cuda" insists: the same type, and the Python layer says what to do.
    with pytest.raises(_core.DeviceUnsupportedError, match="distinct players on its path.*use device='cpu'"):
        assay.TreeExplainer(model, data=X[:60], dense_max_bits=1, device="cuda")

    monkeypatch.setattr(pretend_gpu, "refuse", (0, 1, 2, 3))
    monkeypatch.setattr(pretend_gpu, "error", _core.DeviceMemoryError)  # a device allocation failed
    with pytest.warns(RuntimeWarning, match="Shapley tables of this forest are built for the CPU"):
        assert assay.TreeExplainer(model, data=X[:60]).device == "cpu"
    with pytest.raises(_core.DeviceMemoryError, match="use device='cpu'"):
        assay.TreeExplainer(model, data=X[:60], device="cuda")

    # Any other error is raised, never read as a forest the device refuses: a ValueError (a bad
    # argument) or a host allocation that failed.
    for error in (ValueError, _core.KernelMemoryError, TypeError):
        monkeypatch.setattr(pretend_gpu, "error", error)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback warning either
            with pytest.raises(error, match="too many bytes") as info:
                assay.TreeExplainer(model, data=X[:60])
        assert type(info.value) is error


# ---- on a GPU (skipped without one) ---------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("index", list(INDEX_CODES))
def test_cuda_matches_cpu_and_equals_the_emulation_on_every_converter(models, index):
    # Against the host emulation the device must be exact: same tables (built on the host), same
    # walk, same order of additions, no fused multiply-adds on either side (CMakeLists.txt).
    rng = np.random.default_rng(5)
    for name, (model, X, _) in models.items():
        cpu = assay.TreeExplainer(model, data=X[:200], device="cpu")
        gpu = assay.TreeExplainer(model, data=X[:200], device="cuda")
        assert gpu.device == "cuda"
        A = adversarial_rows(cpu.model, X, rng, n=300)
        got = getattr(gpu, METHOD[index])(A)
        assert_close_scaled(got, getattr(cpu, METHOD[index])(A), 1e-9, name)
        assert_close_scaled(np.atleast_1d(gpu.expected_value), np.atleast_1d(cpu.expected_value), 1e-12, name)
        emulated, mean = _emulated(cpu, index, A)
        np.testing.assert_array_equal(got, emulated, err_msg=f"{name} {index}")
        np.testing.assert_array_equal(gpu._kernel(INDEX_CODES[index]).expected_value(), mean, err_msg=name)


@pytest.mark.gpu
def test_cuda_reads_torch_device_tensors_in_place_and_checks_them(models):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    model, X, _ = next(iter(models.values()))
    Xd = torch.as_tensor(np.nan_to_num(X[:100]), dtype=torch.float64, device="cuda")
    gpu = assay.TreeExplainer(model, data=Xd, device="cuda")
    cpu = assay.TreeExplainer(model, data=Xd.cpu().numpy(), device="cpu")
    assert_close_scaled(gpu.shap_values(Xd), cpu.shap_values(Xd.cpu().numpy()), 1e-9, "torch input")
    bad = Xd.clone()
    bad[3, 0] = float("inf")
    with pytest.raises(ValueError, match="X: contains inf"):
        gpu.shap_values(bad)
    with pytest.raises(ValueError, match="float64"):
        gpu.shap_values(Xd.float())


@pytest.mark.gpu
def test_cuda_auto_falls_back_for_forests_it_does_not_take(models):
    model, X, _ = next(iter(models.values()))
    with pytest.warns(RuntimeWarning, match="built for the CPU"):
        ex = assay.TreeExplainer(model, data=X[:50], dense_max_bits=1)
    assert ex.device == "cpu"
    with pytest.raises(_core.DeviceUnsupportedError, match="distinct players.*use device='cpu'"):
        assay.TreeExplainer(model, data=X[:50], dense_max_bits=1, device="cuda")


@pytest.mark.gpu
def test_cuda_keeps_shap_on_the_device_when_pair_tables_do_not_fit(models):
    model, X, _ = models["xgb_reg"]
    probe = _core.RowQueryShap(assay.TreeExplainer(model, data=X[:50], device="cpu").model.forest, X[:50])
    budget = probe.table_bytes * 2  # the Shapley tables fit; the interaction tables are ~width times larger
    gpu = assay.TreeExplainer(model, data=X[:100], max_table_bytes=budget)
    cpu = assay.TreeExplainer(model, data=X[:100], max_table_bytes=budget, device="cpu")
    assert gpu.device == "cuda"
    A = np.nan_to_num(X[:80])
    with pytest.warns(RuntimeWarning, match="interaction tables of this forest are built for the CPU"):
        sii = gpu.shap_interaction_values(A)
    assert_close_scaled(sii, cpu.shap_interaction_values(A), 1e-9, "interactions on the CPU")
    assert_close_scaled(gpu.shap_values(A), cpu.shap_values(A), 1e-9, "SHAP still on the GPU")
    assert gpu.device == "cuda"
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="X: the interaction tables of this forest are on the CPU"):
            gpu.shap_interaction_values(torch.as_tensor(A, device="cuda"))


@pytest.mark.gpu
def test_cuda_refuses_host_memory_and_keeps_working(models):
    model, X, _ = models["xgb_reg"]
    gpu = assay.TreeExplainer(model, data=X[:100], device="cuda")
    A = np.nan_to_num(X[:50])
    with pytest.raises(ValueError, match="X: its __cuda_array_interface__ pointer is host memory"):
        gpu.shap_values(_HostArrayInterface(A))
    cpu = assay.TreeExplainer(model, data=X[:100], device="cpu")
    assert_close_scaled(gpu.shap_values(A), cpu.shap_values(A), 1e-9, "after a refused call")


@pytest.mark.gpu
def test_cuda_reports_progress_and_stops_when_the_callback_fails(models):
    model, X, _ = models["xgb_binary"]
    seen = []
    gpu = assay.TreeExplainer(
        model, data=X[:300], device="cuda", progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1] == (300, 300)  # background rows counted on the device
    seen.clear()
    A = np.repeat(np.nan_to_num(X), 20, axis=0)
    phi = gpu.shap_values(A)
    assert seen[-1] == (len(A), len(A))

    def fail(done, total):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        gpu.shap_values(A, progress=fail)
    np.testing.assert_array_equal(gpu.shap_values(A, progress=False), phi)  # deterministic, still usable


@pytest.mark.gpu
def test_cuda_gives_the_same_bits_from_other_threads(models):
    import threading

    model, X, _ = models["lgb_multiclass"]
    gpu = assay.TreeExplainer(model, data=X[:200], device="cuda")
    A = np.nan_to_num(X[:300])
    want = gpu.shap_interaction_values(A)
    got = [None] * 4

    def work(i):
        got[i] = gpu.shap_interaction_values(A)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in got:
        np.testing.assert_array_equal(g, want)


@pytest.mark.gpu
def test_cuda_pair_values_of_rows_wider_than_one_launch():
    # 1500 players: a row of pair values has 2.25M entries, more column tiles than one grid row.
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 1500))
    model = DecisionTreeRegressor(max_depth=5, random_state=0).fit(X, X[:, 0] * X[:, 1499] + X[:, 700])
    A = X[:3]
    gpu = assay.TreeExplainer(model, data=X[:100], device="cuda").shap_interaction_values(A)
    cpu = assay.TreeExplainer(model, data=X[:100], device="cpu").shap_interaction_values(A)
    assert_close_scaled(gpu, cpu, 1e-9, "1500 players")


@pytest.mark.gpu
def test_cuda_explainers_live_on_their_data_device(models):
    torch = pytest.importorskip("torch")
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices")
    model, X, _ = models["xgb_reg"]
    A = np.nan_to_num(X[:100])
    on_1 = torch.as_tensor(A, device="cuda:1")
    gpu = assay.TreeExplainer(model, data=on_1, device="cuda")
    assert gpu._kernel(0).device == 1
    cpu = assay.TreeExplainer(model, data=A, device="cpu")
    assert_close_scaled(gpu.shap_values(on_1), cpu.shap_values(A), 1e-9, "device 1")
    with pytest.raises(
        ValueError, match="X: a device array on CUDA device 0, but this explainer's tables are on device 1"
    ):
        gpu.shap_values(torch.as_tensor(A, device="cuda:0"))


@pytest.mark.gpu
@pytest.mark.parametrize("index", ["shap", "interaction"])
def test_cuda_accumulators_give_the_same_bits(models, index):
    # local / shared / global keep a row's sums in different memory but add the same terms in
    # the same order (bench/bench_cuda_kernel.py times them).
    model, X, _ = models["lgb_multiclass"]
    ex = assay.TreeExplainer(model, data=X[:200], device="cpu")
    kernel = _core.CudaPatternShap(ex.model.forest, ex.data, index=INDEX_CODES[index])
    A = np.nan_to_num(X[:500])
    row = (6 if index == "shap" else 36) * ex.n_outputs
    fits = {1: row <= 64, 2: row <= 48, 3: True}
    want = kernel.values(A, accumulator=3)
    for accumulator in (0, 1, 2):
        if accumulator and not fits[accumulator]:
            with pytest.raises(ValueError, match="accumulator: rows of"):
                kernel.values(A, accumulator=accumulator)
            continue
        np.testing.assert_array_equal(kernel.values(A, accumulator=accumulator), want)
    with pytest.raises(ValueError, match="accumulator: expected 0"):
        kernel.values(A, accumulator=4)
