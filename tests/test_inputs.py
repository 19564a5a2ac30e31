"""The one input module (assay._inputs): the same rules for every subpackage's data arguments."""

import numpy as np
import pytest
import torch

import assay
from assay import _inputs


class _FakeCupy:
    """A device array with __cuda_array_interface__ and CuPy's .get() (no GPU needed)."""

    def __init__(self, host):
        self._host = np.asarray(host)
        self.__cuda_array_interface__ = dict(
            shape=self._host.shape, typestr=self._host.dtype.str, data=(1 << 20, False), version=3
        )

    def get(self):
        return self._host.copy()


def test_tabular_data_takes_numpy_frames_and_cpu_tensors_alike():
    import pandas as pd

    X = np.arange(12.0).reshape(4, 3)
    for given in (X, X.tolist(), pd.DataFrame(X), torch.from_numpy(X), torch.from_numpy(X).float()):
        np.testing.assert_array_equal(_inputs.as_matrix(given, "X", 3), X)
    assert _inputs.as_matrix(X, "X") is X or np.shares_memory(_inputs.as_matrix(X, "X"), X)  # no copy


@pytest.mark.parametrize(
    "given, error, message",
    [
        (_FakeCupy(np.zeros((2, 3))), ValueError, "X: expected host data here, got a CUDA array"),
        (np.array([["a", "b"]]), TypeError, "X: expected a numeric array"),
        (torch.zeros(2, 3, dtype=torch.complex64), TypeError, "X: complex"),
        (np.zeros(3), ValueError, "X: expected a 2-D array"),
        (np.full((2, 3), np.inf), ValueError, "X: contains inf"),
    ],
)
def test_tabular_data_errors_name_the_argument(given, error, message):
    with pytest.raises(error, match=message):
        _inputs.as_matrix(given, "X", 3)


def test_host_copies_of_device_arrays_only_where_allowed():
    device = _FakeCupy(np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(_inputs.host_array(device, "a", cuda="copy"), np.ones((2, 2)))
    with pytest.raises(ValueError, match="a: expected host data here"):
        _inputs.host_array(device, "a")


def test_every_subpackage_refuses_a_device_array_with_the_same_error():
    from sklearn.ensemble import RandomForestRegressor

    X = np.random.default_rng(0).normal(size=(60, 3))
    y = X[:, 0]
    device = _FakeCupy(X)
    model = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    explainer = assay.TreeExplainer(model, data=X[:20], device="cpu")
    from assay.regions import Granite

    granite = Granite(max_depth=1).fit(model, X)
    for call in (
        lambda: explainer.shap_values(device),
        lambda: assay.TreeExplainer(model, data=device, device="cpu"),
        lambda: granite.predict(device),
    ):
        with pytest.raises(ValueError, match="CUDA array"):
            call()
