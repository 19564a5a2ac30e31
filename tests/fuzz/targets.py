"""Fuzz targets shared by the atheris harness (fuzz_models.py) and the regression tests: each
takes bytes and must either succeed or raise one of ALLOWED; anything else (or a crash) is a bug."""

from __future__ import annotations

import json

import numpy as np

ALLOWED = (ValueError, TypeError, RecursionError)
_SEEDS = {}


def seed_models():
    """Small real models as JSON text (XGBoost saved model, LightGBM dump), built once."""
    if not _SEEDS:
        import lightgbm as lgb
        import xgboost as xgb

        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 3))
        y = X[:, 0] * X[:, 1] + X[:, 2]
        xm = xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(X, y)
        _SEEDS["xgb"] = bytes(xm.get_booster().save_raw("json"))
        _SEEDS["ubj"] = bytes(xm.get_booster().save_raw("ubj"))
        lm = lgb.LGBMRegressor(n_estimators=3, num_leaves=4, verbose=-1).fit(X, y)
        _SEEDS["lgb"] = json.dumps(lm.booster_.dump_model()).encode()
    return _SEEDS


def _exercise(model):
    """A converted model must explain rows without crashing (values may be anything finite)."""
    import assay

    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, model.n_features))
    X[0, 0] = np.nan
    ex = assay.TreeExplainer(model, X, n_jobs=1)
    ex.shap_values(X)
    ex.shap_interaction_values(X[:2])


def same_document(a, b, where="doc"):
    """Asserts two decoded UBJSON documents are identical: the same types (bool is not int), dict
    keys in the same order, arrays of the same dtype and shape bit for bit, floats equal (NaN equals
    NaN, 0.0 is not -0.0)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            same_document(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where}: {len(a)} vs {len(b)} elements"
        for i, (x, y) in enumerate(zip(a, b)):
            same_document(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{where}: array values differ"
    elif isinstance(a, float):
        assert (a != a and b != b) or (a == b and np.signbit(a) == np.signbit(b)), f"{where}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def ubjson_bytes(data: bytes):
    """The compiled reader (what the converter uses) and its Python reference agree: both refuse the
    bytes with ValueError, or both read the same document, which converts or is refused cleanly."""
    from assay import _core
    from assay.trees import _ubjson
    from assay.trees._xgboost import from_model_dict

    refused = object()  # not None: a document may be null ('Z')
    try:
        want = _ubjson.loads(data)
    except ValueError:
        want = refused
    try:
        doc = _core.ubjson_loads(data)
    except ValueError as exc:
        assert want is refused, f"the compiled UBJSON reader refused what the reference read: {exc}"
        return
    assert want is not refused, "the compiled UBJSON reader read what the reference refused"
    same_document(doc, want)
    if isinstance(doc, dict):
        _exercise_or_allowed(lambda: from_model_dict(doc))


def _json_target(data: bytes, convert):
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    _exercise_or_allowed(lambda: convert(doc))


def xgboost_json(data: bytes):
    from assay.trees._xgboost import from_model_dict

    _json_target(data, from_model_dict)


def lightgbm_json(data: bytes):
    from assay.trees._lightgbm import from_dump

    _json_target(data, from_dump)


def _exercise_or_allowed(convert):
    try:
        model = convert()
    except ALLOWED:
        return
    try:
        _exercise(model)
    except ALLOWED:
        return


TARGETS = [ubjson_bytes, xgboost_json, lightgbm_json]


def mutate(data: bytes, rng) -> bytes:
    """A few byte-level edits of a seed (for the regression run without atheris)."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        i = int(rng.integers(0, len(b)))
        op = int(rng.integers(0, 4))
        if op == 0:
            b[i] = int(rng.integers(0, 256))
        elif op == 1:
            del b[i : i + int(rng.integers(1, 8))]
        elif op == 2:
            b[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 4))).astype(np.uint8))
        else:  # swap in a digit: numbers are where structure hides in JSON
            b[i] = ord(str(int(rng.integers(0, 10))))
    return bytes(b)
