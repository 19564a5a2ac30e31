"""CatBoost CatBoostRegressor / CatBoostClassifier / CatBoostRanker / CatBoost -> IR, from the
model's JSON (`save_model(format="json")`).

Semantics (CatBoost's own predictor, checked against predict(prediction_type="RawFormulaVal")):
input and borders are float32 and a numeric split sends x to its "1" side when x > border, so
`float32(x) <= border` goes left: SplitPolicy.SKLEARN_NUMERIC with the border kept as its float32
value. NaN is read as -inf (nan_value_treatment "AsFalse", nan_mode Min, and "AsIs": NaN > border
is false), so it goes left, or as +inf ("AsTrue", nan_mode Max): right. A symmetric (oblivious)
tree of depth d has bit i of its leaf index set by splits[i]; it becomes a complete binary tree
in heap order whose root tests splits[d-1] and whose leaf j is leaf_values[j] (the order in
which CatBoost's own ShapValues walk it, which the path-dependent game depends on). Multi-output
leaves are laid out leaf-major (leaf 0's K values, then leaf 1's). Non-symmetric trees
(grow_policy Depthwise / Lossguide) are nested nodes whose left child is the "0" side.

One-hot categorical splits send a row to their "1" side when CatBoost's hash of its category
(the low 32 bits of CityHash64 v1.0 of the category's string) equals the split's value. The
model's input_transform hashes each categorical column and numbers the hashes the trees test
(unknown categories get a code no split lists), and the splits become XGB_CATEGORICAL
(category in the set -> right). CTR (target statistics) splits, text and embedding features
depend on statistics outside the trees and are refused.
Raw output = scale * (sum of leaves) + bias (`scale_and_bias`; bias per output).
"""

from __future__ import annotations

import json
import numbers
import os
import tempfile

import numpy as np

from .._inputs import is_dataframe
from ..errors import ModelError, UnsupportedModelError, reading_model
from .forest import ForestBuilder, SplitPolicy, TreeModel, flatten_preorder

# NaN is compared as -inf (goes left, the "0" side) or +inf (goes right).
_NAN_LEFT = {"AsFalse": True, "Min": True, "AsIs": True, "AsTrue": False, "Max": False}


def _model_json(model) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        try:
            model.save_model(path, format="json")
        except Exception as exc:  # noqa: BLE001  (CatBoostError: e.g. text features have no JSON form)
            raise UnsupportedModelError(
                f"model: CatBoost cannot export this {type(model).__name__} as JSON, which "
                f"assay reads ({str(exc).strip()})"
            ) from None
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def convert_catboost(model, rounds=None) -> TreeModel:
    """rounds: convert the first `rounds` trees (one per boosting round; None or -1: all)."""
    if not (hasattr(model, "save_model") and hasattr(model, "is_fitted")):
        raise UnsupportedModelError(
            f"model: expected a CatBoost model (CatBoost, CatBoostRegressor, "
            f"CatBoostClassifier, CatBoostRanker), got {type(model).__name__}"
        )
    if not model.is_fitted():
        raise ModelError(f"model: this {type(model).__name__} is not fitted yet; call fit() first")
    if rounds is not None and rounds != -1:
        model = model.copy()  # CatBoost cuts a model in place
        model.shrink(ntree_end=min(int(rounds), model.tree_count_))
    names = getattr(model, "feature_names_", None)
    return from_json(_model_json(model), f"catboost.{type(model).__name__}", list(map(str, names)) if names else None)


def from_json(model_dict, source: str = "catboost", feature_names=None) -> TreeModel:
    """The IR from CatBoost's JSON model dict. A malformed dict raises ModelError (a ValueError);
    model kinds assay does not explain (CTR, text or embedding features) raise
    UnsupportedModelError (a TypeError)."""
    with reading_model("CatBoost"):
        return _from_json(model_dict, source, feature_names)


def _from_json(d, source, feature_names) -> TreeModel:
    info = d.get("features_info", {})
    floats = info.get("float_features", []) or []
    cats = info.get("categorical_features", []) or []
    _refuse_unsupported(d, info, cats)

    flat = [int(f["flat_feature_index"]) for f in list(floats) + list(cats)]
    n_features = max(flat, default=-1) + 1
    if feature_names is not None:
        n_features = max(n_features, len(feature_names))
    float_by_index = {int(f["feature_index"]): f for f in floats}
    cat_by_index = {int(c["feature_index"]): c for c in cats}

    K = _n_outputs(d)
    scale, bias = d.get("scale_and_bias", [1.0, [0.0]])
    bias = np.atleast_1d(np.asarray(bias, dtype=np.float64)).reshape(-1)
    if bias.size not in (1, K):
        raise ModelError(f"model: scale_and_bias has {bias.size} biases for {K} outputs")
    bias = np.broadcast_to(bias, (K,))
    scale = float(scale)

    # Categories: every hash a one-hot split tests gets a code (its rank); unknown ones get len(known).
    known = {}
    for c in cats:
        known[int(c["feature_index"])] = set(int(v) for v in c.get("values", []) or [])
    splits = _all_splits(d)
    for s in splits:
        if s.get("split_type") == "OneHotFeature":
            known.setdefault(int(s["cat_feature_index"]), set()).add(int(s["value"]))
    codes = {i: {h: k for k, h in enumerate(sorted(hs))} for i, hs in known.items()}

    def split_fields(s):
        """(feature, threshold, default_left, policy, category code or None) of one split."""
        kind = s.get("split_type")
        if kind == "FloatFeature":
            f = float_by_index[int(s["float_feature_index"])]
            nan = str(f.get("nan_value_treatment", "AsIs"))
            if nan not in _NAN_LEFT:
                raise UnsupportedModelError(f"model: unknown CatBoost nan_value_treatment {nan!r}")
            border = float(np.float32(s["border"]))
            return int(f["flat_feature_index"]), border, _NAN_LEFT[nan], SplitPolicy.SKLEARN_NUMERIC, None
        if kind == "OneHotFeature":
            i = int(s["cat_feature_index"])
            return (
                int(cat_by_index[i]["flat_feature_index"]),
                0.0,
                True,
                SplitPolicy.XGB_CATEGORICAL,
                codes[i][int(s["value"])],
            )
        raise UnsupportedModelError(f"model: CatBoost split type {kind!r} is not supported")

    builder = ForestBuilder(n_features, K)
    if "oblivious_trees" in d:
        _add_oblivious(builder, d["oblivious_trees"], K, scale, split_fields)
    elif "trees" in d:
        for tree in d["trees"]:
            _add_nonsymmetric(builder, tree, K, scale, split_fields)
    else:
        raise ModelError("model: CatBoost JSON has neither oblivious_trees nor trees")
    forest = builder.build(bias)

    cat_columns = {int(cat_by_index[i]["flat_feature_index"]): codes.get(i, {}) for i in cat_by_index}
    transform = _CategoryHashes(cat_columns, n_features) if cat_columns else None
    if feature_names is not None and all(n == str(i) for i, n in enumerate(feature_names)):
        feature_names = None  # CatBoost's names for the columns of an array: no column identity
    return TreeModel(
        forest=forest,
        source=source,
        n_features=n_features,
        n_outputs=K,
        feature_names=feature_names,
        input_transform=transform,
        node_cover=builder.node_cover(),
    )


def _n_outputs(d) -> int:
    """Values per leaf: leaf_values hold K per leaf (leaf-major), non-symmetric leaves a K-list."""
    if d.get("oblivious_trees"):
        tree = d["oblivious_trees"][0]
        n_leaves = 1 << len(tree.get("splits", []) or [])
        return max(len(tree["leaf_values"]) // n_leaves, 1)
    if d.get("trees"):
        node = d["trees"][0]
        while "split" in node:
            node = node["left"]
        return int(np.size(node["value"]))
    raise ModelError("model: the CatBoost model has no trees")


def _all_splits(d) -> list:
    if "oblivious_trees" in d:
        return [s for t in d["oblivious_trees"] for s in t.get("splits", []) or []]
    out, stack = [], list(d.get("trees", []))
    while stack:
        node = stack.pop()
        if "split" in node:
            out.append(node["split"])
            stack.extend((node["left"], node["right"]))
    return out


def _refuse_unsupported(d, info, cats):
    def cat_name(i):
        c = next((c for c in cats if int(c["feature_index"]) == int(i)), None)
        if c is None:
            return f"categorical feature {i}"
        return str(c.get("feature_id") or c.get("feature_name") or f"column {c['flat_feature_index']}")

    ctr_cats = []
    for ctr in info.get("ctrs", []) or []:
        for e in ctr.get("elements", []) or []:
            if "cat_feature_index" in e and cat_name(e["cat_feature_index"]) not in ctr_cats:
                ctr_cats.append(cat_name(e["cat_feature_index"]))
    has_ctr = (
        bool(ctr_cats)
        or bool(d.get("ctr_data"))
        or any("ctr" in str(s.get("split_type", "")).lower() for s in _all_splits(d))
    )
    if has_ctr:
        named = ", ".join(ctr_cats) if ctr_cats else "unnamed"
        raise UnsupportedModelError(
            f"model: CatBoost CTR features ({named}) are not supported: their splits read "
            "target statistics, not the input; train with one_hot_max_size above the "
            "categories' cardinality (one-hot splits are supported) or encode the categories "
            "yourself"
        )
    for key, what in (("text_features", "text"), ("embedding_features", "embedding")):
        if info.get(key):
            raise UnsupportedModelError(f"model: CatBoost {what} features are not supported")


def _add_oblivious(builder, trees, K, scale, split_fields):
    sizes, feature, threshold, left, right, dleft, policy, value, cover = ([] for _ in range(9))
    categories = {}
    offset = 0
    all_covers = True
    for tree in trees:
        tree_splits = tree.get("splits", []) or []
        depth = len(tree_splits)
        n_leaves = 1 << depth
        n_inner = n_leaves - 1
        n = n_inner + n_leaves
        leaves = np.asarray(tree["leaf_values"], dtype=np.float64)
        if leaves.size != n_leaves * K:
            raise ModelError(f"model: a depth-{depth} CatBoost tree has {leaves.size} leaf values for {K} outputs")
        # Heap order: node i's children are 2i+1 (the "0" side: left) and 2i+2; level k tests splits[d-1-k].
        fields = [split_fields(s) for s in reversed(tree_splits)]
        level = np.floor(np.log2(np.arange(1, n_inner + 1))).astype(np.int64) if n_inner else np.zeros(0, np.int64)
        inner = np.arange(n_inner)
        f = np.full(n, -1, dtype=np.int64)
        t = np.zeros(n)
        dl = np.zeros(n, dtype=np.uint8)
        p = np.zeros(n, dtype=np.uint8)
        if n_inner:
            f[:n_inner] = np.array([fields[k][0] for k in range(depth)])[level]
            t[:n_inner] = np.array([fields[k][1] for k in range(depth)])[level]
            dl[:n_inner] = np.array([fields[k][2] for k in range(depth)], dtype=np.uint8)[level]
            p[:n_inner] = np.array([fields[k][3] for k in range(depth)], dtype=np.uint8)[level]
            for k in range(depth):
                if fields[k][4] is not None:
                    for node in inner[level == k]:
                        categories[offset + int(node)] = [fields[k][4]]
        l = np.full(n, -1, dtype=np.int64)
        r = np.full(n, -1, dtype=np.int64)
        l[:n_inner] = 2 * inner + 1
        r[:n_inner] = 2 * inner + 2
        v = np.zeros((n, K))
        v[n_inner:] = leaves.reshape(n_leaves, K) * scale
        weights = tree.get("leaf_weights")
        if weights is not None and len(weights) == n_leaves:
            levels = [np.asarray(weights, dtype=np.float64)]
            while levels[0].size > 1:
                levels.insert(0, levels[0].reshape(-1, 2).sum(axis=1))
            cover.append(np.concatenate(levels))
        else:
            all_covers = False
        sizes.append(n)
        feature.append(f)
        threshold.append(t)
        left.append(l)
        right.append(r)
        dleft.append(dl)
        policy.append(p)
        value.append(v)
        offset += n
    if not sizes:
        raise ModelError("model: the CatBoost model has no trees")
    cat = np.concatenate
    builder.add_trees(
        sizes=sizes,
        outputs=np.full(len(sizes), -1),
        feature=cat(feature),
        threshold=cat(threshold),
        left=cat(left),
        right=cat(right),
        default_left=cat(dleft),
        policy=cat(policy),
        value=cat(value),
        categories=categories,
        cover=cat(cover) if all_covers else None,
    )


def _add_nonsymmetric(builder, root, K, scale, split_fields):
    nodes, left, right = flatten_preorder(root, lambda node: (node["left"], node["right"]) if "split" in node else None)
    n = len(nodes)
    feature, threshold, dleft, policy = [-1] * n, [0.0] * n, [0] * n, [0] * n
    value, cover = [np.zeros(K) for _ in range(n)], [0.0] * n
    categories = {}
    has_cover = True
    for idx, node in enumerate(nodes):
        if "split" not in node:
            leaf = np.atleast_1d(np.asarray(node["value"], dtype=np.float64)).reshape(-1)
            if leaf.size != K:
                raise ModelError(f"model: a CatBoost leaf has {leaf.size} values for {K} outputs")
            value[idx] = leaf * scale
            if "weight" in node:
                cover[idx] = float(node["weight"])
            else:
                has_cover = False
            continue
        f, t, dl, p, code = split_fields(node["split"])
        feature[idx], threshold[idx], dleft[idx], policy[idx] = f, t, int(dl), int(p)
        if code is not None:
            categories[idx] = [code]
    cover = np.asarray(cover)
    if has_cover:  # inner covers: the sum of their leaves' (children come after their parent)
        for i in range(len(feature) - 1, -1, -1):
            if feature[i] >= 0:
                cover[i] = cover[left[i]] + cover[right[i]]
    builder.add_tree(
        feature=feature,
        threshold=threshold,
        left=left,
        right=right,
        default_left=dleft,
        policy=policy,
        value=np.asarray(value),
        output=-1,
        categories=categories,
        cover=cover if has_cover else None,
    )


class _CategoryHashes:
    """The user's table -> the float matrix the trees read: categorical columns become the code of
    their CatBoost hash (unknown categories: one code no split lists), numeric columns pass as
    float64. Categories are read as CatBoost reads them: strings (UTF-8), bytes, or integers
    (as their decimal string; booleans as 0/1); real numbers, NaN and None are refused, as
    CatBoost refuses them. A class, not a closure, so converted models pickle (e.g. to Dask workers)."""

    def __init__(self, cat_columns: dict, n_features: int):
        self.cat_columns = cat_columns  # column -> {hash: code}
        self.n_features = n_features

    def __call__(self, X):
        if is_dataframe(X):
            names = list(map(str, X.columns))
            columns = [X.iloc[:, j].to_numpy() for j in range(X.shape[1])]
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise ValueError(f"expected a 2-D table with {self.n_features} columns, got shape {arr.shape}")
            names = [f"column {j}" for j in range(arr.shape[1])]
            columns = [arr[:, j] for j in range(arr.shape[1])]
        if len(columns) != self.n_features:
            raise ValueError(f"expected {self.n_features} columns (this CatBoost model's features), got {len(columns)}")
        n = len(columns[0]) if columns else 0
        out = np.empty((n, self.n_features), dtype=np.float64)
        for j, col in enumerate(columns):
            if j in self.cat_columns:
                out[:, j] = self._codes(col, self.cat_columns[j], names[j])
            else:
                try:
                    out[:, j] = np.asarray(col, dtype=np.float64)
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"{names[j]} is a numeric feature of this CatBoost model but holds values "
                        f"that are not numbers ({exc})"
                    ) from None
        return out

    @staticmethod
    def _codes(col, codes: dict, name: str) -> np.ndarray:
        unknown = float(len(codes))
        cache = {}
        out = np.empty(len(col), dtype=np.float64)
        for i, v in enumerate(col):
            key = (type(v), v)
            try:
                out[i] = cache[key]
                continue
            except (KeyError, TypeError):
                pass
            code = float(codes.get(catboost_hash(_category_bytes(v, name)), unknown))
            try:
                cache[key] = code
            except TypeError:
                pass
            out[i] = code
        return out


def _category_bytes(v, name) -> bytes:
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, bytes):
        return v
    if isinstance(v, (bool, np.bool_, numbers.Integral)):
        return str(int(v)).encode("ascii")
    raise ValueError(
        f"{name} is a categorical feature of this CatBoost model and holds {v!r}; CatBoost reads "
        "categories as integers or strings (convert real numbers and NaN to strings)"
    )


# CityHash64 v1.0 (the version in CatBoost's util/digest/city.h); CatBoost keeps its low 32 bits.
_M = 0xFFFFFFFFFFFFFFFF
_K0, _K1, _K2, _K3 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F, 0xC949D7C7509E6557
_KMUL = 0x9DDFEA08EB382D69


def _f64(s, i):
    return int.from_bytes(s[i : i + 8], "little")


def _f32(s, i):
    return int.from_bytes(s[i : i + 4], "little")


def _rot(v, shift):
    return v if shift == 0 else ((v >> shift) | (v << (64 - shift))) & _M


def _smix(v):
    return v ^ (v >> 47)


def _h16(u, v):
    a = ((u ^ v) * _KMUL) & _M
    a ^= a >> 47
    b = ((v ^ a) * _KMUL) & _M
    b ^= b >> 47
    return (b * _KMUL) & _M


def _len0to16(s):
    n = len(s)
    if n > 8:
        a, b = _f64(s, 0), _f64(s, n - 8)
        return _h16(a, _rot((b + n) & _M, n)) ^ b
    if n >= 4:
        return _h16((n + (_f32(s, 0) << 3)) & _M, _f32(s, n - 4))
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_smix(((y * _K2) ^ (z * _K3)) & _M) * _K2) & _M
    return _K2


def _len17to32(s):
    n = len(s)
    a = (_f64(s, 0) * _K1) & _M
    b = _f64(s, 8)
    c = (_f64(s, n - 8) * _K2) & _M
    d = (_f64(s, n - 16) * _K0) & _M
    return _h16((_rot((a - b) & _M, 43) + _rot(c, 30) + d) & _M, (a + _rot(b ^ _K3, 20) - c + n) & _M)


def _weak32(s, i, a, b):
    w, x, y, z = _f64(s, i), _f64(s, i + 8), _f64(s, i + 16), _f64(s, i + 24)
    a = (a + w) & _M
    b = _rot((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rot(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def _len33to64(s):
    n = len(s)
    z = _f64(s, 24)
    a = (_f64(s, 0) + (n + _f64(s, n - 16)) * _K0) & _M
    b = _rot((a + z) & _M, 52)
    c = _rot(a, 37)
    a = (a + _f64(s, 8)) & _M
    c = (c + _rot(a, 7)) & _M
    a = (a + _f64(s, 16)) & _M
    vf, vs = (a + z) & _M, (b + _rot(a, 31) + c) & _M
    a = (_f64(s, 16) + _f64(s, n - 32)) & _M
    z = _f64(s, n - 8)
    b = _rot((a + z) & _M, 52)
    c = _rot(a, 37)
    a = (a + _f64(s, n - 24)) & _M
    c = (c + _rot(a, 7)) & _M
    a = (a + _f64(s, n - 16)) & _M
    wf, ws = (a + z) & _M, (b + _rot(a, 31) + c) & _M
    r = _smix(((vf + ws) * _K2 + (wf + vs) * _K0) & _M)
    return (_smix((r * _K0 + vs) & _M) * _K2) & _M


def _city64(s: bytes) -> int:
    n = len(s)
    if n <= 16:
        return _len0to16(s)
    if n <= 32:
        return _len17to32(s)
    if n <= 64:
        return _len33to64(s)
    x = _f64(s, 0)
    y = _f64(s, n - 16) ^ _K1
    z = _f64(s, n - 56) ^ _K0
    v = _weak32(s, n - 64, n, y)
    w = _weak32(s, n - 32, (n * _K1) & _M, _K0)
    z = (z + _smix(v[1]) * _K1) & _M
    x = (_rot((z + x) & _M, 39) * _K1) & _M
    y = (_rot(y, 33) * _K1) & _M
    for i in range(0, (n - 1) & ~63, 64):
        x = (_rot((x + y + v[0] + _f64(s, i + 16)) & _M, 37) * _K1) & _M
        y = (_rot((y + v[1] + _f64(s, i + 48)) & _M, 42) * _K1) & _M
        x ^= w[1]
        y ^= v[0]
        z = _rot(z ^ w[0], 33)
        v = _weak32(s, i, (v[1] * _K1) & _M, (x + w[0]) & _M)
        w = _weak32(s, i + 32, (z + w[1]) & _M, y)
        z, x = x, z
    return _h16((_h16(v[0], w[0]) + _smix(y) * _K1 + z) & _M, (_h16(v[1], w[1]) + x) & _M)


def catboost_hash(s: bytes) -> int:
    """CatBoost's hash of a category's string (signed 32 bits, as its JSON model stores it)."""
    h = _city64(s) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h
