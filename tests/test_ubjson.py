"""The UBJSON reader behind the XGBoost converter: same model as the JSON text, and clear errors
on malformed input (it reads bytes a user's model file could contain)."""

import json

import numpy as np
import pytest

from assay.trees import _ubjson


def _same(a, b):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, np.ndarray)) and not isinstance(b, str):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) or isinstance(b, float):
        assert float(a) == pytest.approx(float(b), rel=1e-7)
    else:
        assert a == b


def test_xgboost_model_reads_the_same_as_its_json():
    xgb = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    X[:, 4] = rng.integers(0, 4, 300)
    import pandas as pd

    df = pd.DataFrame(X, columns=list("abcde"))
    df["e"] = pd.Categorical(rng.integers(0, 4, 300))
    model = xgb.XGBClassifier(n_estimators=5, max_depth=3, enable_categorical=True, tree_method="hist")
    model.fit(df, (X[:, 0] + df["e"].cat.codes > 1).astype(int))
    booster = model.get_booster()
    _same(_ubjson.loads(booster.save_raw("ubj")), json.loads(booster.save_raw("json")))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "truncated"),
        (b"{L\x00\x00\x00\x00\x00\x00\x00\x07lear", "truncated"),
        (b"[$d#L\x00\x00\x00\x00\x7f\xff\xff\xff", "exceeds the data"),
        (b"[#L\xff\xff\xff\xff\xff\xff\xff\xff", "negative length"),
        (b"q", "unknown marker"),
        (b"[$d\x00", "needs a count"),
        (b"{S", "integer length"),
        (b"[" * 100 + b"]" * 100, "nesting too deep"),
        (b"SU\x02\xff\xfe", "malformed"),
        # T, F and Z carry no bytes, but 14 bytes must not ask for a list of 2**36 of them
        (b"[$T#L\x00\x00\x00\x10\x00\x00\x00\x00", "exceeds the data"),
    ],
)
def test_malformed_input_raises_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        _ubjson.loads(data)


def test_containers_and_scalars():
    buf = b"{U\x01a[$l#U\x02\x00\x00\x00\x01\xff\xff\xff\xffU\x01bSU\x02hiU\x01c[TFZ]U\x01dD?\xf0\x00\x00\x00\x00\x00\x00}"
    out = _ubjson.loads(buf)
    assert list(out["a"]) == [1, -1] and out["a"].dtype == np.int32
    assert out["b"] == "hi" and out["c"] == [True, False, None] and out["d"] == 1.0
