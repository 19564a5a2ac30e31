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
    return dict(tree_offsets=np.array([0, 3], dtype=np.int64), tree_output=i32(-1), feature=i32(0, -1, -1),
                threshold=np.array([0.5, 0, 0]), left=i32(1, -1, -1), right=i32(2, -1, -1),
                default_left=np.zeros(3, np.uint8), policy=np.zeros(3, np.uint8), cat_offset=np.zeros(3, np.int64),
                cat_nwords=i32(0, 0, 0), cat_words=np.zeros(0, np.uint32), value=np.array([0.0, -1.0, 2.0]),
                base_score=np.zeros(1))


def test_forest_arrays_are_read_by_name():
    assert set(_core.Forest.ARRAYS) == set(_arrays())
    forest = _core.Forest(2, 1, **_arrays())
    X = np.array([[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(_core.predict_raw(forest, X)[:, 0], [-1.0, 2.0])
    # Keyword order does not matter: nothing is positional.
    shuffled = dict(reversed(list(_arrays().items())))
    np.testing.assert_array_equal(_core.predict_raw(_core.Forest(2, 1, **shuffled), X), _core.predict_raw(forest, X))


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("value"), "missing arrays: value"),
    (lambda a: a.update(values=a["value"]), "unknown arrays: values"),
])
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
    from generate_core_stub import generate

    committed = (Path(assay.__file__).parent / "_core.pyi").read_text()
    if f"pybind11 {_core.pybind11_version}:" not in committed.splitlines()[0]:
        pytest.skip(f"this build used pybind11 {_core.pybind11_version}, whose signatures read differently from "
                    f"the committed stub's ({committed.splitlines()[0]})")
    assert generate() == committed, "python/assay/_core.pyi is stale: run python tests/generate_core_stub.py"
