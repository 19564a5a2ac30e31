"""The compiled module's contracts are generated, not mirrored: the Forest's arrays are named once
(ASSAY_FOREST_ARRAYS in csrc/core/forest.hpp) and read by name, and python/assay/_core.pyi is the
stub pybind11-stubgen makes from the module (tests/generate_core_stub.py)."""

import pickle
from pathlib import Path

import numpy as np
import pytest

import assay
from assay import _core


def _arrays():
    i32 = lambda *v: np.array(v, dtype=np.int32)
    return dict(
        tree_offsets=np.array([0, 3], dtype=np.int64),
        tree_output=i32(-1),
        feature=i32(0, -1, -1),
        threshold=np.array([0.5, 0, 0]),
        left=i32(1, -1, -1),
        right=i32(2, -1, -1),
        default_left=np.zeros(3, np.uint8),
        policy=np.zeros(3, np.uint8),
        cat_offset=np.zeros(3, np.int64),
        cat_nwords=i32(0, 0, 0),
        cat_words=np.zeros(0, np.uint32),
        value=np.array([0.0, -1.0, 2.0]),
        base_score=np.zeros(1),
    )


def test_forest_arrays_are_read_by_name():
    assert set(_core.Forest.ARRAYS) == set(_arrays())
    forest = _core.Forest(2, 1, **_arrays())
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(_core.predict_raw(forest, X)[:, 0], [-1.0, 2.0])
    # Keyword order does not matter: nothing is positional.
    shuffled = dict(reversed(list(_arrays().items())))
    np.testing.assert_array_equal(_core.predict_raw(_core.Forest(2, 1, **shuffled), X), _core.predict_raw(forest, X))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("value"), "missing arrays: value"),
        (lambda a: a.update(values=a["value"]), "unknown arrays: values"),
    ],
)
def test_a_missing_or_unknown_array_is_named(change, message):
    arrays = _arrays()
    change(arrays)
    with pytest.raises(ValueError, match=message):
        _core.Forest(2, 1, **arrays)


def test_forest_pickles_by_name():
    forest = _core.Forest(2, 1, **_arrays())
    again = pickle.loads(pickle.dumps(forest))
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(_core.predict_raw(again, X), _core.predict_raw(forest, X))


def test_committed_stub_is_the_generated_one():
    pytest.importorskip("pybind11_stubgen")
    if _core.built_with_cuda:
        pytest.skip("the committed stub is the CPU build's; a CUDA build adds its device classes")
    from generate_core_stub import generate, header

    committed = (Path(assay.__file__).parent / "_core.pyi").read_text()
    if committed.splitlines()[0] + "\n" != header():
        pytest.skip(f"the stub was generated elsewhere ({committed.splitlines()[0]}); this is {header().strip()}")
    assert generate() == committed, "python/assay/_core.pyi is stale: run python tests/generate_core_stub.py"


def test_projection_norms_are_the_kernels_enum():
    from assay.robustness.projection import _NORM_CODE

    assert _NORM_CODE == {"inf": _core.Norm.LINF, 2: _core.Norm.L2, 1: _core.Norm.L1}
    assert {int(m) for m in _core.Norm.__members__.values()} == {0, 1, 2}


class _DeviceArray:
    """Anything with a __cuda_array_interface__ (no GPU needed: the reader never dereferences)."""

    def __init__(self, shape, typestr="<f8", address=1 << 20, strides=None, mask=None):
        self.__cuda_array_interface__ = dict(
            shape=shape, typestr=typestr, data=(address, False), version=3, strides=strides, mask=mask
        )


def test_the_cuda_array_reader_accepts_c_order_views():
    address, shape, typestr = _core._cuda_array_view(_DeviceArray((4, 3)), "X", "<f8", [-1, 3])
    assert (address, shape, typestr) == (1 << 20, [4, 3], "<f8")
    # Explicit C-order strides, and any stride on an extent-1 dimension.
    _core._cuda_array_view(_DeviceArray((4, 3), strides=(24, 8)), "X", "<f8", [4, 3])
    _core._cuda_array_view(_DeviceArray((1, 3), strides=(999, 8)), "X", "<f8", [1, 3])
    _core._cuda_array_view(_DeviceArray((2, 2), typestr="|b1", address=3), "feasible", "|b1", [2, 2])


@pytest.mark.parametrize(
    "array, typestr, shape, message",
    [
        (object(), "<f8", [], "X: expected a CUDA array"),
        (_DeviceArray((4, 3), mask=(0, False)), "<f8", [], "X: masked device arrays"),
        (_DeviceArray((4, 3), strides=(8, 32)), "<f8", [], "X: expected a C-contiguous device array"),
        (_DeviceArray((4, 3), address=(1 << 20) + 4), "<f8", [], "X: .* aligned to its 8-byte elements"),
        (_DeviceArray((4, 3), typestr="<f4"), "<f8", [], "X: expected element type <f8, got <f4"),
        (_DeviceArray((4, 3), typestr=">f8"), "<f8", [], "X: big-endian"),
        (_DeviceArray((4, 3)), "<f8", [-1, 5], r"X: expected shape \(any, 5\), got \(4, 3\)"),
        (_DeviceArray((4,)), "<f8", [-1, 3], r"X: expected shape \(any, 3\), got \(4,\)"),
    ],
)
def test_the_cuda_array_reader_names_what_is_wrong(array, typestr, shape, message):
    with pytest.raises(ValueError, match=message):
        _core._cuda_array_view(array, "X", typestr, shape)
