"""The compiled UBJSON reader (_core.ubjson_loads, what the XGBoost converter uses) against its Python
reference (_ubjson.loads): the same objects, bit for bit and type for type, on real models of every
kind, hand-made documents covering every marker and encoding, random documents, and thousands of
mutations and truncations of real models (both refuse with ValueError, or both read the same)."""

import os
import struct
import sys

import numpy as np
import pytest

from assay import _core
from assay.trees import _ubjson

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
from targets import mutate, same_document  # noqa: E402


def _agree(data: bytes):
    """Both readers on data: the document they both read, or None when both refuse it."""
    try:
        want = _ubjson.loads(data)
    except ValueError:
        with pytest.raises(ValueError, match=r"^UBJSON: .* at byte \d+"):
            _core.ubjson_loads(data)
        return None
    got = _core.ubjson_loads(data)
    same_document(got, want)
    return got


# ---------------------------------------------------------------------------- real models


def _xgb_models():
    xgb = pytest.importorskip("xgboost")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = X[:, 0] * X[:, 1] + X[:, 2]
    models = {
        "regression": xgb.XGBRegressor(n_estimators=8, max_depth=4).fit(X, y),
        "binary": xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(X, y > 0),
        "multiclass": xgb.XGBClassifier(n_estimators=4, max_depth=3).fit(X, np.digitize(y, [-1, 0, 1])),
        "dart": xgb.XGBRegressor(booster="dart", n_estimators=5, max_depth=3, rate_drop=0.3).fit(X, y),
    }
    df = pd.DataFrame(X[:, :4], columns=list("abcd"))
    df["e"] = pd.Categorical(rng.integers(0, 6, len(df)))
    models["categorical"] = xgb.XGBRegressor(
        n_estimators=6, max_depth=3, enable_categorical=True, tree_method="hist", max_cat_to_onehot=1
    ).fit(df, y + df["e"].cat.codes)
    try:
        models["multi_output_tree"] = xgb.XGBRegressor(
            n_estimators=4, max_depth=3, tree_method="hist", multi_strategy="multi_output_tree"
        ).fit(X, np.c_[y, -y])
    except (TypeError, ValueError, xgb.core.XGBoostError):
        pass  # an XGBoost without vector-leaf trees
    return {name: bytes(m.get_booster().save_raw("ubj")) for name, m in models.items()}


@pytest.fixture(scope="module")
def models():
    return _xgb_models()


KINDS = ["regression", "binary", "multiclass", "dart", "categorical", "multi_output_tree"]


@pytest.mark.parametrize("kind", KINDS)
def test_real_models_read_the_same(models, kind):
    if kind not in models:
        pytest.skip(f"this XGBoost cannot fit a {kind} model")
    doc = _agree(models[kind])
    trees = doc["learner"]["gradient_booster"]
    trees = (trees["gbtree"] if "gbtree" in trees else trees)["model"]["trees"]
    # The node arrays are typed containers: NumPy arrays, not lists of Python numbers.
    assert trees[0]["left_children"].dtype == np.int32 and trees[0]["split_conditions"].dtype == np.float32
    if kind == "categorical":
        assert any(len(t["categories_nodes"]) for t in trees)


def test_the_converter_reads_with_the_compiled_reader(models):
    xgb = pytest.importorskip("xgboost")
    from assay.trees._xgboost import _load_model

    booster = xgb.Booster()
    booster.load_model(bytearray(models["categorical"]))
    same_document(_load_model(booster), _ubjson.loads(booster.save_raw("ubj")))


# ---------------------------------------------------------------------------- hand-made documents


def _key(s: str) -> bytes:
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


_DEEP = object()  # 64 nested lists around an empty one


def _arr(dtype, values):
    return np.array(values, dtype=dtype)


HAND_MADE = [
    # every scalar marker, at its extremes
    (b"i\x80", -128),
    (b"U\xff", 255),
    (b"I\x80\x00", -32768),
    (b"l\x7f\xff\xff\xff", 2**31 - 1),
    (b"L\x80" + b"\x00" * 7, -(2**63)),
    (b"d\x3f\xc0\x00\x00", 1.5),
    (b"D\xbf\xf0" + b"\x00" * 6, -1.0),
    (b"D\x80" + b"\x00" * 7, -0.0),
    (b"d\xff\xc0\x00\x00", float("nan")),
    (b"SU\x03\xc3\xa9a", "\u00e9a"),
    (b"SU\x04\xf0\x9f\x8c\xb3", "\U0001f333"),
    (b"SU\x00", ""),
    (b"C\xe9", "\u00e9"),
    (b"Cx", "x"),
    (b"T", True),
    (b"F", False),
    (b"Z", None),
    # lengths of every integer width, and no-ops before markers
    (b"Si\x01a", "a"),
    (b"SI\x00\x01a", "a"),
    (b"Sl\x00\x00\x00\x01a", "a"),
    (b"SL" + b"\x00" * 7 + b"\x01a", "a"),
    (b"NNNS" + b"NU\x01a", "a"),
    # high-precision numbers are what Python's float() makes of them
    (b"HU\x031.5", 1.5),
    (b"HU\x05 -2e3", -2000.0),
    (b"HU\x03inf", float("inf")),
    (b"HU\x051_000", 1000.0),
    (b"HU\x04\xd9\xa3\xd9\xa2", 32.0),
    # arrays: uncounted, counted, typed numeric (each kind), typed other
    (b"[]", []),
    (b"[Ni\x01NZN]", [1, None]),
    (b"[#U\x02i\x01SU\x01z", [1, "z"]),
    (b"[#U\x00", []),
    (b"[$i#U\x02\x80\x7f", _arr(np.int8, [-128, 127])),
    (b"[$U#U\x02\x00\xff", _arr(np.uint8, [0, 255])),
    (b"[$I#U\x01\xff\xfe", _arr(np.int16, [-2])),
    (b"[$l#U\x02\x00\x00\x00\x01\xff\xff\xff\xff", _arr(np.int32, [1, -1])),
    (b"[$L#U\x01" + b"\x7f" + b"\xff" * 7, _arr(np.int64, [2**63 - 1])),
    (b"[$d#U\x02\x3f\x80\x00\x00\xc0\x00\x00\x00", _arr(np.float32, [1, -2])),
    (b"[$D#U\x01\x40\x08" + b"\x00" * 6, _arr(np.float64, [3])),
    (b"[$D#U\x00", _arr(np.float64, [])),
    (b"[$S#U\x02U\x01aU\x00", ["a", ""]),
    (b"[$C#U\x02xy", ["x", "y"]),
    (b"[$T#U\x02..", [True, True]),
    (b"[$Z#U\x01.", [None]),
    (b"[$H#U\x01U\x012", [2.0]),
    (b"[$[#U\x02]#U\x00", [[], []]),
    (b"[${#U\x01}", [{}]),
    (b"[$q#U\x00", []),
    (b"[N$lN#NU\x01\x00\x00\x00\x07", _arr(np.int32, [7])),
    # objects: uncounted, counted, typed; document order; a repeated key keeps its first place, last value
    (b"{}", {}),
    (b"{NU\x01bTNU\x01aF}", {"b": True, "a": False}),
    (b"{#U\x01U\x01xZ", {"x": None}),
    (b"{$l#U\x02U\x01a\x00\x00\x00\x01U\x01b\xff\xff\xff\xff", {"a": 1, "b": -1}),
    (b"{U\x01aTU\x01bTU\x01aF}", {"a": False, "b": True}),
    (b"{U\x01n{U\x01v[$d#U\x01\x00\x00\x00\x00}}", {"n": {"v": _arr(np.float32, [0])}}),
    # trailing bytes after the value are ignored
    (b"U\x05garbage", 5),
    # nesting up to the limit
    (b"[" * 64 + b"]" * 64, _DEEP),
]


@pytest.mark.parametrize("data, expected", HAND_MADE, ids=[repr(d[:12]) for d, _ in HAND_MADE])
def test_hand_made_documents(data, expected):
    got = _agree(data)
    if expected is _DEEP:
        for _ in range(63):
            assert isinstance(got, list) and len(got) == 1
            got = got[0]
        assert got == []
    else:
        same_document(got, expected)


def test_typed_arrays_are_native_owned_and_writable():
    for kind, dtype in zip(b"iUIlLdD", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.float32, np.float64]):
        size = np.dtype(dtype).itemsize
        got = _core.ubjson_loads(b"[$" + bytes([kind]) + b"#U\x03" + bytes(range(3 * size)))
        want = np.frombuffer(bytes(range(3 * size)), dtype=np.dtype(dtype).newbyteorder(">")).astype(dtype)
        assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.flags.writeable and got.flags.owndata
        assert got.tobytes() == want.tobytes()


def test_nan_payloads_survive_as_in_the_reference():
    data = b"[$d#U\x03\x7f\xa0\x00\x01\xff\xc0\x00\x00\x7f\x80\x00\x00"  # signalling NaN, -NaN, inf
    got = _agree(data)
    assert got.view(np.uint32).tolist() == [0x7FA00001, 0xFFC00000, 0x7F800000]


def test_any_bytes_like_input():
    data = b"{U\x01a[$U#U\x02\x01\x02}"
    for buf in (data, bytearray(data), memoryview(b"xx" + data)[2:], np.frombuffer(data, np.uint8)):
        same_document(_core.ubjson_loads(buf), {"a": _arr(np.uint8, [1, 2])})
    with pytest.raises(TypeError):
        _core.ubjson_loads("{}")


MALFORMED = [
    (b"", "truncated"),
    (b"NNN", "truncated"),
    (b"{L\x00\x00\x00\x00\x00\x00\x00\x07lear", "truncated"),
    (b"[$d#L\x00\x00\x00\x00\x7f\xff\xff\xff", "exceeds the data"),
    (b"[$d#U\x03\x00\x00\x00\x00\x00\x00\x00\x00", "truncated"),
    (b"[#L\xff\xff\xff\xff\xff\xff\xff\xff", "negative length"),
    (b"SI\xff\xff", "negative length"),
    (b"q", "unknown marker"),
    (b"[\xff]", "unknown marker"),
    (b"[$N#U\x01Z", "unknown marker"),
    (b"[$d\x00", "needs a count"),
    (b"[$", "truncated"),
    (b"{S", "integer length"),
    (b"[#d\x00\x00\x00\x00", "integer length"),
    (b"[" * 100 + b"]" * 100, "nesting too deep"),
    (b"[" * 65 + b"]" * 65, "nesting too deep"),
    (b"SU\x02\xff\xfe", "malformed"),
    (b"{U\x02\xed\xa0T}", "malformed"),  # a UTF-16 surrogate is not UTF-8
    (b"HU\x030x1", "float"),
    (b"C", "truncated"),
    (b"L\x00\x00", "truncated"),
    # zero-byte elements still may not outnumber the bytes left: 14 bytes never ask for 2**36 Trues
    (b"[$T#L\x00\x00\x00\x10\x00\x00\x00\x00", "exceeds the data"),
    (b"[$Z#U\x05ab", "exceeds the data"),
]


@pytest.mark.parametrize("data, message", MALFORMED, ids=[repr(d[:16]) for d, _ in MALFORMED])
def test_malformed_input_raises_value_error_in_both(data, message):
    with pytest.raises(ValueError, match=message):
        _ubjson.loads(data)
    with pytest.raises(ValueError, match=message) as native:
        _core.ubjson_loads(data)
    assert str(native.value).startswith("UBJSON: ") and " at byte " in str(native.value)


# ---------------------------------------------------------------------------- random documents

_INT_WIDTHS = [
    ("i", "b", -(2**7), 2**7 - 1),
    ("U", "B", 0, 2**8 - 1),
    ("I", "h", -(2**15), 2**15 - 1),
    ("l", "i", -(2**31), 2**31 - 1),
    ("L", "q", -(2**63), 2**63 - 1),
]
_SIZES = {"i": 1, "U": 1, "I": 2, "l": 4, "L": 8, "d": 4, "D": 8}
_FLOAT_TEXT = ["1.5", "-2e-3", " 7 ", "inf", "-nan", "1_000", "\u0663", "1e400", "0", "-0.0", "nope"]


def _noops(rng) -> bytes:
    return b"N" * int(rng.integers(1, 3)) if rng.random() < 0.15 else b""


def _length(rng, n: int) -> bytes:
    fits = [(m, f) for m, f, lo, hi in _INT_WIDTHS if lo <= n <= hi]
    m, f = fits[int(rng.integers(len(fits)))]
    return _noops(rng) + m.encode() + struct.pack(">" + f, n)


def _text(rng) -> bytes:
    pools = [(0x20, 0x7F), (0xA0, 0x800), (0x4E00, 0x4F00), (0x1F300, 0x1F400)]
    chars = []
    for _ in range(int(rng.integers(0, 6))):
        lo, hi = pools[int(rng.integers(len(pools)))]
        chars.append(chr(int(rng.integers(lo, hi))))
    return "".join(chars).encode()


def _payload(rng, m: str, depth: int) -> bytes:
    """The bytes after marker m (all of a typed container's element)."""
    if m in _SIZES:
        return rng.bytes(_SIZES[m])
    if m in "SH":
        b = _text(rng) if m == "S" else _FLOAT_TEXT[int(rng.integers(len(_FLOAT_TEXT)))].encode()
        return _length(rng, len(b)) + b
    if m == "C":
        return rng.bytes(1)
    if m in "TFZ":
        return b""
    n = int(rng.integers(0, 5))
    if m == "[":
        elements = lambda kind: [_payload(rng, kind, depth + 1) if kind else _value(rng, depth + 1) for _ in range(n)]
    else:
        elements = lambda kind: [
            _length(rng, len(k)) + k + (_payload(rng, kind, depth + 1) if kind else _value(rng, depth + 1))
            for k in (_text(rng) for _ in range(n))
        ]
    style = int(rng.integers(3))
    if style == 0:
        return b"".join(elements(None)) + _noops(rng) + (b"]" if m == "[" else b"}")
    if style == 1:
        return _noops(rng) + b"#" + _length(rng, n) + b"".join(elements(None))
    kind = _marker(rng, depth + 1)
    return _noops(rng) + b"$" + kind.encode() + _noops(rng) + b"#" + _length(rng, n) + b"".join(elements(kind))


def _marker(rng, depth: int) -> str:
    markers = "iUIlLdDSHCTFZ" + ("[{" * 3 if depth < 4 else "")
    return markers[int(rng.integers(len(markers)))]


def _value(rng, depth: int) -> bytes:
    m = _marker(rng, depth)
    return _noops(rng) + m.encode() + _payload(rng, m, depth)


def test_random_documents_read_the_same():
    rng = np.random.default_rng(7)
    read = 0
    for _ in range(1500):
        data = b"[" + _payload(rng, "[", 0)  # an array at the top: most documents nest
        read += _agree(data) is not None
    assert read > 750  # most are valid (some have a bad high-precision number or too few bytes)


# ---------------------------------------------------------------------------- mutations of real models

_MARKERS = b"iUIlLdDSHCTFZN[]{}$#"


def _mutate(data: bytes, rng) -> bytes:
    """Byte edits that hit structure: the fuzz targets' edits, a marker put anywhere, a count or length
    byte set to an extreme, or a truncation."""
    op = int(rng.integers(4))
    if op == 0:
        return mutate(data, rng)
    b = bytearray(data)
    i = int(rng.integers(len(b)))
    if op == 1:
        b[i] = _MARKERS[int(rng.integers(len(_MARKERS)))]
    elif op == 2:
        b[i] = (0x00, 0x7F, 0x80, 0xFF)[int(rng.integers(4))]
    else:
        del b[i:]
    return bytes(b)


@pytest.mark.parametrize("kind", ["regression", "categorical", "multiclass"])
def test_mutated_models_both_refuse_or_read_the_same(models, kind):
    rng = np.random.default_rng(KINDS.index(kind))
    seed = models[kind]
    read = sum(_agree(_mutate(seed, rng)) is not None for _ in range(1500))
    assert 0 < read < 1500  # both outcomes are exercised


def test_every_truncation_of_a_model_is_refused_by_both(models):
    seed = models["regression"]
    for end in range(0, len(seed), max(1, len(seed) // 3000)):
        assert _agree(seed[:end]) is None
