"""Typed errors and the core's enums (issue #19, items 2 and 3).

Every condition the Python layer decides on has its own exception type, raised by the compiled
core or the converters, and each subclasses the built-in callers already catch (ValueError,
TypeError, MemoryError). assay decides by type, never by matching message text. The core's
enums (attribution index, split policy) are bound from C++ and the Python names are made from them.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import assay
from assay import _core, errors
from assay._enums import Index, SplitPolicy
from assay.trees import forest as forest_module
from assay.trees.forest import ForestBuilder, TreeModel

PACKAGE = Path(assay.__file__).parent


# ---- the types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, base",
    [
        ("ModelError", ValueError),
        ("UnsupportedModelError", TypeError),
        ("TooManyPlayersError", ValueError),
        ("DeviceUnsupportedError", ValueError),
        ("DeviceMemoryError", MemoryError),
        ("KernelMemoryError", MemoryError),
    ],
)
def test_every_typed_error_is_exported_and_subclasses_the_builtin(name, base):
    cls = getattr(assay.errors, name)
    assert name in errors.__all__ and issubclass(cls, base)
    if name not in ("ModelError", "UnsupportedModelError"):
        assert cls is getattr(_core, name)  # registered by the compiled core, in every build


def test_decisions_are_by_type_never_by_message_text():
    # No `"..." in str(exc)` or `str(exc).startswith(...)` deciding what to do with an exception.
    decision = re.compile(r"\bin\s+str\((?:exc|err|error|e)\)|str\((?:exc|err|error|e)\)\.startswith\(")
    found = [
        f"{path.relative_to(PACKAGE)}:{i}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if decision.search(line)
    ]
    assert not found, found


def test_core_messages_state_the_fact_and_python_gives_the_advice():
    # The compiled core never tells a Python user which argument to pass.
    advice = re.compile(r"use device=|pass data")
    core = PACKAGE.parent.parent / "csrc" / "core"
    if not core.is_dir():
        pytest.skip("the C++ sources are not beside the package (installed from a wheel)")
    found = [
        f"{path.name}: {m.group(0)}"
        for path in sorted(core.glob("*.[ch]pp"))
        for m in advice.finditer(path.read_text())
    ]
    assert not found, found


# ---- model errors: ModelError (malformed) and UnsupportedModelError (not explained) -----------


def _assert_model_error(call, cls, match):
    with pytest.raises(cls, match=match) as info:
        call()
    assert isinstance(info.value, ValueError if cls is errors.ModelError else TypeError)
    assert str(info.value).startswith("model:")


def test_malformed_and_unfitted_models_raise_model_error(tmp_path):
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import RandomForestRegressor
    from assay.trees._lightgbm import from_dump
    from assay.trees._xgboost import from_model_dict

    for model in (xgb.XGBRegressor(), lgb.LGBMRegressor(), RandomForestRegressor()):
        _assert_model_error(lambda m=model: assay.convert_model(m), errors.ModelError, "not fitted")
    _assert_model_error(lambda: from_model_dict({"learner": {}}), errors.ModelError, "malformed XGBoost")
    _assert_model_error(lambda: from_model_dict([]), errors.ModelError, "malformed XGBoost")
    _assert_model_error(lambda: from_dump({"max_feature_idx": 2}), errors.ModelError, "malformed LightGBM")
    _assert_model_error(lambda: ForestBuilder(0, 1), errors.ModelError, "features is out of range")
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    _assert_model_error(lambda: assay.convert_model(str(bad)), errors.ModelError, "cannot read")
    (tmp_path / "model.xyz").write_text("")
    _assert_model_error(
        lambda: assay.convert_model(str(tmp_path / "model.xyz")), errors.ModelError, "unknown model file type"
    )


def test_a_model_error_raised_inside_a_converter_is_not_wrapped_twice():
    from assay.trees._xgboost import from_model_dict

    doc = {
        "learner": {
            "gradient_booster": {"name": "gbtree", "model": {"trees": [], "tree_info": []}},
            "learner_model_param": {"num_feature": "3", "num_class": "0", "base_score": "[5E-1,2E-1]"},
            "objective": {"name": "reg:squarederror"},
        }
    }
    with pytest.raises(errors.ModelError, match="^model: base_score has 2 values for 1 outputs$"):
        from_model_dict(doc)


def test_model_kinds_assay_does_not_explain_raise_unsupported_model_error():
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0]
    gblinear = xgb.train({"booster": "gblinear"}, xgb.DMatrix(X, y), num_boost_round=2)
    linear_tree = lgb.LGBMRegressor(n_estimators=3, linear_tree=True, verbose=-1).fit(X, y)
    for model, match in (
        (object(), "unsupported model type"),
        (LinearRegression().fit(X, y), "scikit-learn"),
        (gblinear, "gblinear"),
        (linear_tree, "linear_tree"),
    ):
        _assert_model_error(lambda m=model: assay.convert_model(m), errors.UnsupportedModelError, match)
        with pytest.raises(errors.UnsupportedModelError):
            assay.TreeExplainer(model, X)


def test_regions_use_the_generic_path_only_for_models_assay_does_not_convert():
    from assay import regions

    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 3))
    D = regions.anchored_decomposition(lambda A: A[:, 0] * A[:, 1], X)  # not a tree model: generic
    assert D.method == "generic"
    with pytest.raises(errors.UnsupportedModelError, match="method='tree'"):
        regions.anchored_decomposition(lambda A: A[:, 0], X, method="tree")
    with pytest.raises(errors.UnsupportedModelError, match="callable"):
        regions.anchored_decomposition(object(), X)


# ---- too many players -----------------------------------------------------------------------


def _chain(d, rng):
    """One tree whose deepest path splits on d distinct features (node 2i on feature i)."""
    n = 2 * d + 1
    feature, left, right = np.full(n, -1), np.full(n, -1), np.full(n, -1)
    for i in range(d):
        feature[2 * i], left[2 * i], right[2 * i] = i, 2 * i + 1, 2 * i + 2
    b = ForestBuilder(d, 1)
    b.add_tree(
        feature=feature,
        threshold=np.zeros(n),
        left=left,
        right=right,
        default_left=np.zeros(n),
        policy=SplitPolicy.SKLEARN_NUMERIC,
        value=rng.normal(size=n),
        cover=np.linspace(2 * n, 1, n),
    )
    return TreeModel(forest=b.build([0.0]), source="chain", n_features=d, n_outputs=1, node_cover=b.node_cover())


def test_paths_too_wide_for_the_tables_raise_too_many_players_error():
    from assay import regions

    rng = np.random.default_rng(2)
    model = _chain(16, rng)  # wider than the region tables' 12 players
    X = rng.normal(size=(10, 16)) + 1.0
    with pytest.raises(errors.TooManyPlayersError, match="distinct players") as info:
        regions.anchored_decomposition(model, X, method="tree")
    assert isinstance(info.value, ValueError)
    with pytest.warns(UserWarning, match="generic"):
        assert regions.anchored_decomposition(model, X).method == "generic"  # "auto" falls back by type
    wide = _chain(70, rng)  # wider than the path-dependent weights' 64
    with pytest.raises(errors.TooManyPlayersError, match="more than 64 distinct players"):
        _core.PatternShap.path_dependent(wide.forest, wide.node_cover)


def test_other_value_errors_of_the_region_kernel_are_not_a_reason_to_fall_back(monkeypatch):
    from assay import regions
    from assay.regions import anchored

    rng = np.random.default_rng(3)
    model = _chain(4, rng)
    X = rng.normal(size=(10, 4))

    def refuse(*args, **kwargs):
        raise ValueError("not about players")

    monkeypatch.setattr(anchored._core, "AnchoredRegions", refuse)
    with pytest.raises(ValueError, match="not about players"):
        regions.anchored_decomposition(model, X)


# ---- the device kernel's refusals -----------------------------------------------------------


def test_the_device_plan_refuses_with_its_own_type_and_states_the_fact():
    rng = np.random.default_rng(4)
    model = _chain(6, rng)
    X = rng.normal(size=(20, 6))
    for kwargs, match in (({"max_width": 1}, "distinct players on its path"), ({"budget_bytes": 8}, "over the budget")):
        with pytest.raises(errors.DeviceUnsupportedError, match=match) as info:
            _core.RowQueryShap(model.forest, X, **kwargs)
        assert isinstance(info.value, ValueError) and "device=" not in str(info.value)
    with pytest.raises(ValueError) as info:  # a bad argument is not a forest the device refuses
        _core.RowQueryShap(model.forest, X, max_width=99)
    assert not isinstance(info.value, errors.DeviceUnsupportedError)


# ---- enums ----------------------------------------------------------------------------------


@pytest.mark.parametrize("python_enum, core_enum", [(Index, _core.Index), (SplitPolicy, _core.SplitPolicy)])
def test_python_enums_are_made_from_the_core_members(python_enum, core_enum):
    assert [m.name for m in python_enum] == list(core_enum.__members__)
    for member in python_enum:
        core = core_enum.__members__[member.name]
        assert int(core) == member.value and core_enum(member.value) == core  # round trip by code
        assert python_enum(int(core)) is member and python_enum[core.name] is member


def test_the_names_python_uses_exist_in_the_core_enums():
    used = set()
    for path in sorted((PACKAGE / "trees").glob("*.py")) + [Path(__file__).parent / "random_forests.py"]:
        used |= set(re.findall(r"\bSplitPolicy\.([A-Z_]+)\b", path.read_text()))
    assert used and used <= set(_core.SplitPolicy.__members__), used - set(_core.SplitPolicy.__members__)
    assert forest_module.SplitPolicy is SplitPolicy  # the converters' import path still works
    from assay.trees import explainer

    assert (explainer.SHAPLEY, explainer.BANZHAF, explainer.INTERACTION, explainer.TAYLOR) == tuple(Index)
    assert [int(i) for i in Index] == [0, 1, 2, 3]


def test_bindings_take_the_core_enum_the_python_enum_and_ints_alike():
    rng = np.random.default_rng(5)
    model = _chain(5, rng)
    X = rng.normal(size=(8, 5))
    for name in ("SHAPLEY", "BANZHAF", "INTERACTION", "TAYLOR"):
        code = Index[name].value
        results = [
            _core.PatternShap(model.forest, X, index=arg).values(X[:3])
            for arg in (_core.Index.__members__[name], Index[name], code)
        ]
        assert all(np.array_equal(results[0], r) for r in results[1:])
        pairwise = [
            _core.values_pairwise(model.forest, X[:2], X, index=arg) for arg in (_core.Index.__members__[name], code)
        ]
        assert np.array_equal(*pairwise)
    with pytest.raises(ValueError, match="index"):
        _core.PatternShap(model.forest, X, index=7)


def test_split_policies_fill_the_forest_as_their_codes():
    rng = np.random.default_rng(6)
    model = _chain(3, rng)
    policy = model.forest.arrays()["policy"]
    assert policy.dtype == np.uint8
    assert set(policy[policy > 0]) == {int(_core.SplitPolicy.SKLEARN_NUMERIC)}
