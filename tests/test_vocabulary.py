"""One vocabulary across the subpackages (issue #19 item 5): index names "shap", "banzhaf",
"interaction", "taylor" everywhere an index is a string; device= for where, backend= for which
implementation; global_order(eps, X=None) in every Rashomon class; box=None as the default; the
same error types for a bad box everywhere. Old spellings work for one release, with a
DeprecationWarning naming the new one, and give the same results."""

import warnings

import numpy as np
import pytest

import assay
from assay._vocabulary import INDICES, index_name
from assay.trees import reference


@pytest.fixture(scope="module")
def small():
    from random_forests import random_rows, random_tree_model

    rng = np.random.default_rng(3)
    model = random_tree_model(rng, 4, n_trees=6, max_depth=3)
    return model, random_rows(rng, model, 20, nan_frac=0.0), random_rows(rng, model, 30, nan_frac=0.0)


def _silent(call):
    """call() must not warn at all (the new spellings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


def _deprecated(call, new):
    """call() warns one DeprecationWarning naming `new`, attributed to this file (stacklevel)."""
    with pytest.warns(DeprecationWarning) as record:
        out = call()
    messages = [str(w.message) for w in record if w.category is DeprecationWarning]
    assert len(messages) == 1 and new in messages[0], messages
    assert all(w.filename == __file__ for w in record if w.category is DeprecationWarning), [w.filename for w in record]
    return out


# ---------------------------------------------------------------------- index names


def test_the_vocabulary_matches_the_method_names():
    methods = {
        "shap": "shap_values",
        "banzhaf": "banzhaf_values",
        "interaction": "shap_interaction_values",
        "taylor": "shapley_taylor_values",
    }
    assert INDICES == tuple(methods) == reference.INDICES
    for method in methods.values():
        assert hasattr(assay.TreeExplainer, method)
    with pytest.raises(ValueError, match="index: expected one of"):
        index_name("shapely")
    with pytest.raises(ValueError, match="kind: expected one of"):
        index_name(None, "kind")


def test_reference_oracles_new_and_old_index_names(small):
    model, bg, X = small
    predict = lambda rows: model.predict_raw(rows)  # noqa: E731
    x = X[0]
    for new in INDICES:
        want = _silent(lambda: reference.brute_force_values(predict, x, bg[:5], new))
        assert want.shape == ((4, 1) if new in ("shap", "banzhaf") else (4, 4, 1))
    new_shap = _silent(lambda: reference.brute_force_values(predict, x, bg[:5], "shap"))
    old_shap = _deprecated(lambda: reference.brute_force_values(predict, x, bg[:5], "shapley"), "index='shap'")
    assert np.array_equal(new_shap, old_shap)
    assert np.array_equal(_silent(lambda: reference.brute_force_values(predict, x, bg[:5])), new_shap)  # default
    old_inter = _deprecated(
        lambda: reference.brute_force_values(predict, x, bg[:5], "interactions"), "index='interaction'"
    )
    assert np.array_equal(old_inter, reference.brute_force_values(predict, x, bg[:5], "interaction"))
    v, P = reference.coalition_values(predict, x, bg[:5])
    assert np.array_equal(
        _deprecated(lambda: reference.indices_from_game(v, P, "shapley"), "index='shap'"),
        reference.indices_from_game(v, P, "shap"),
    )
    with pytest.raises(ValueError, match="index: expected one of"):
        reference.brute_force_values(predict, x, bg[:5], "owen")


def test_dask_kinds_new_and_old(small):
    pytest.importorskip("dask")
    import dask.array as da

    import assay.dask

    model, bg, X = small
    ex = assay.TreeExplainer(model, bg)
    arr = da.from_array(X, chunks=(7, -1))
    for kind, method in [
        ("shap", "shap_values"),
        ("banzhaf", "banzhaf_values"),
        ("interaction", "shap_interaction_values"),
        ("taylor", "shapley_taylor_values"),
    ]:
        got = _silent(lambda: assay.dask.values(ex, arr, kind).compute())
        assert np.array_equal(got, getattr(ex, method)(X)), kind
    for old, new in [("interactions", "interaction"), ("shapley", "shap")]:
        lazy = _deprecated(lambda: assay.dask.values(ex, arr, kind=old), f"kind={new!r}")
        assert np.array_equal(lazy.compute(), assay.dask.values(ex, arr, new).compute())
    with pytest.raises(ValueError, match="kind: expected one of"):
        assay.dask.values(ex, arr, "interactionz")


@pytest.fixture
def saved(tmp_path):
    import pandas as pd
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = X["a"] * X["b"] + X["c"]
    xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(X, y).get_booster().save_model(tmp_path / "m.json")
    X.iloc[:15].to_csv(tmp_path / "X.csv", index=False)
    X.iloc[100:150].to_csv(tmp_path / "bg.csv", index=False)
    return tmp_path


def _cli(d, *kind):
    from assay.cli import main

    out = d / f"out{len(list(d.glob('out*')))}.csv"
    rc = main(
        [
            "explain",
            str(d / "m.json"),
            "--data",
            str(d / "X.csv"),
            "--background",
            str(d / "bg.csv"),
            *kind,
            "-o",
            str(out),
            "--no-progress",
        ]
    )
    assert rc == 0
    import pandas as pd

    return pd.read_csv(out)


def test_cli_kind_interaction_and_the_deprecated_interactions(saved, capsys):
    new = _cli(saved, "--kind", "interaction")
    captured = capsys.readouterr()
    assert "interaction values" in captured.out and "deprecated" not in captured.err
    assert list(new.columns)[:3] == ["a|a", "a|b", "a|c"] and new.shape == (15, 9)
    old = _cli(saved, "--kind", "interactions")
    captured = capsys.readouterr()
    assert "--kind interactions is deprecated" in captured.err and "use --kind interaction" in captured.err
    assert "interaction values" in captured.out
    assert new.equals(old)
    assert new.equals(_cli(saved, "--interactions", "shap"))  # the shorthand maps to --kind interaction
    assert "deprecated" not in capsys.readouterr().err


def test_cli_help_lists_the_new_spelling(capsys):
    from assay.cli import main

    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{shap,banzhaf,interaction,taylor}" in text
    assert "'interactions' is the deprecated spelling of interaction" in text


# ---------------------------------------------------------------------- device= / backend=

torch = pytest.importorskip("torch")
from assay.robustness.projection import project_hyperplanes  # noqa: E402
from assay.robustness import exact as exact_margins  # noqa: E402


def _problem():
    rng = np.random.default_rng(1)
    t = rng.random((3, 5))
    w = rng.normal(size=(3, 4, 5))
    b = np.einsum("bhd,bd->bh", w, t) + rng.normal(size=(3, 4))
    return t, w, b


def _same(r1, r2):
    return (
        np.array_equal(r1.distance, r2.distance)
        and np.array_equal(r1.feasible, r2.feasible)
        and np.array_equal(r1.delta, r2.delta)
    )


def test_projection_device_is_where_backend_is_which_implementation():
    t, w, b = _problem()
    base = _silent(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0)))
    assert _same(base, _silent(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0), device="cpu")))
    assert _same(base, _silent(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0), device="auto", backend="auto")))
    ref = _silent(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0), device="cpu", backend="torch"))
    assert np.allclose(ref.distance, base.distance, rtol=1e-10, atol=1e-12)
    # The old spelling: backend="cpu" was a device.
    old = _deprecated(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0), backend="cpu"), "device='cpu'")
    assert _same(base, old)
    # backend="cuda" is device="cuda": CPU data stay an error, now naming device=.
    with pytest.warns(DeprecationWarning, match="device='cuda'"), pytest.raises(ValueError, match="device='cuda'"):
        project_hyperplanes(t, w, b, box=(0.0, 1.0), backend="cuda")
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="contradicts"):
        project_hyperplanes(t, w, b, box=(0.0, 1.0), backend="cpu", device="cuda")
    with pytest.raises(ValueError, match="device='cuda': expected CUDA torch tensors"):
        project_hyperplanes(t, w, b, box=(0.0, 1.0), device="cuda")
    with pytest.raises(ValueError, match="device: expected one of"):
        project_hyperplanes(t, w, b, box=(0.0, 1.0), device="gpu")
    with pytest.raises(ValueError, match="backend: expected one of"):
        project_hyperplanes(t, w, b, box=(0.0, 1.0), backend="triton")


def test_explainer_and_ood_keep_their_keywords(small):
    """TreeExplainer's device= and the OOD scores' backend= (an implementation: "torch" or
    "triton", on the input's device) are unchanged and warn nothing."""
    from assay import ood

    model, bg, X = small
    _silent(lambda: assay.TreeExplainer(model, bg, device="cpu").shap_values(X))
    logits = np.random.default_rng(0).normal(size=(6, 3))
    torch_scores = _silent(lambda: ood.logit_scores(logits, backend="torch"))
    assert np.array_equal(torch_scores["energy"], ood.logit_scores(logits)["energy"])  # "auto" on the CPU: torch


# ---------------------------------------------------------------------- box default


def test_project_hyperplanes_box_default_is_deprecated_and_unchanged_for_now():
    t, w, b = _problem()
    unit = _silent(lambda: project_hyperplanes(t, w, b, box=(0.0, 1.0)))
    free = _silent(lambda: project_hyperplanes(t, w, b, box=None))
    assert not _same(unit, free)  # the box matters here: the default's change would be visible
    implicit = _deprecated(lambda: project_hyperplanes(t, w, b), "box=(0.0, 1.0) or box=None explicitly")
    assert _same(implicit, unit)
    # Everywhere else the default is already None (no box).
    import inspect

    from assay import robustness as rb

    for f in (
        rb.input_margins,
        exact_margins.exact_margins_linear,
        exact_margins.exact_margins_prototypes,
        exact_margins.exact_margins_mlp,
        exact_margins.exact_margins_tree,
    ):
        assert inspect.signature(f).parameters["box"].default is None, f.__name__


# ---------------------------------------------------------------------- box errors

BAD_BOXES = [
    (0.5, TypeError, "box: expected None or a pair"),  # a wrong type
    ("ab", TypeError, "box: expected None or a pair"),
    (np.array([0.0, 1.0]), TypeError, "box: expected None or a pair"),
    ({"lo": 0.0, "hi": 1.0}, TypeError, "box: expected None or a pair"),
    (("a", 1.0), TypeError, "box[0]"),  # a non-numeric bound
    ((True, 1.0), TypeError, "box[0]"),
    ((0.0,), ValueError, "box: expected a pair"),  # a bad value
    ((0.0, 0.5, 1.0), ValueError, "box: expected a pair"),
    ((1.0, 0.0), ValueError, "lo"),
    ((0.0, np.nan), ValueError, "box"),
    ((np.zeros(7), 1.0), ValueError, "box[0]"),
]


def _box_callers():
    from sklearn.tree import DecisionTreeClassifier

    from assay import robustness as rb

    rng = np.random.default_rng(5)
    x = rng.uniform(0.2, 0.8, size=(4, 5))
    W, bias = rng.normal(size=(3, 5)), rng.normal(size=3)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(rng.random((60, 5)), rng.integers(0, 3, 60))
    net = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    t, w, b = x, rng.normal(size=(4, 2, 5)), rng.normal(size=(4, 2))
    return {
        "project_hyperplanes": lambda box: project_hyperplanes(t, w, b, box=box),
        "exact_margins_linear": lambda box: exact_margins.exact_margins_linear(W, bias, x, box=box),
        "exact_margins_prototypes": lambda box: exact_margins.exact_margins_prototypes(W, x, box=box),
        "exact_margins_tree": lambda box: exact_margins.exact_margins_tree(tree, x, box=box),
        "exact_margins_mlp": lambda box: exact_margins.exact_margins_mlp(net, x, box=box),
        "input_margins": lambda box: rb.input_margins(net, torch.from_numpy(x), box=box),
    }


@pytest.mark.parametrize("caller", list(_box_callers()))
@pytest.mark.parametrize("case", range(len(BAD_BOXES)))
def test_bad_box_raises_the_same_error_everywhere(caller, case):
    box, exc, words = BAD_BOXES[case]
    with pytest.raises(exc) as info:
        _box_callers()[caller](box)
    assert type(info.value) is exc
    assert words in str(info.value), str(info.value)


def test_a_good_box_is_accepted_everywhere():
    for name, call in _box_callers().items():
        if name not in ("exact_margins_mlp", "input_margins"):  # the slow searches: bad-box checks only
            _silent(lambda: call((0.0, 1.0)))
            _silent(lambda: call([np.zeros(5), np.ones(5)]))


# ---------------------------------------------------------------------- global_order(eps, X=None)


def _diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True)


def test_ellipsoid_global_order_takes_optional_rows():
    from assay.rashomon import AdditiveRashomon, LinearRashomon

    X, y = _diabetes()
    for R in (LinearRashomon().fit(X, y), AdditiveRashomon(n_knots=4).fit(X[:, :4], y)):
        Xr = X if R.n_features_in_ == X.shape[1] else X[:, :4]
        eps = R.epsilon_from_tolerance(1.02 * np.sqrt(R.loss_))
        default = _silent(lambda: R.global_order(eps))
        for explicit in (R.global_order(eps, Xr), R.global_order(eps, X=Xr)):  # the training rows (< 2000)
            assert np.array_equal(explicit.relation, default.relation)
            assert np.array_equal(explicit.ambiguous, default.ambiguous)
        lo, hi = R.importance_bounds(eps)
        lo_x, hi_x = R.importance_bounds(eps, X=Xr)
        assert np.allclose(lo, lo_x, rtol=1e-12) and np.allclose(hi, hi_x, rtol=1e-12)
        few = R.global_order(eps, Xr[:40])
        assert few.n == default.n


def test_forest_global_order_new_order_default_rows_and_the_deprecated_old_order():
    from sklearn.ensemble import RandomForestRegressor

    from assay.rashomon import ForestRashomon

    X, y = _diabetes()
    X, y = X[:, :5], y
    rf = RandomForestRegressor(n_estimators=6, max_depth=3, random_state=0).fit(X[:300], y[:300])
    F = ForestRashomon(rf, X[300:], y[300:], X[:50])
    eps = 1.2 * F.min_tolerance_
    new = _silent(lambda: F.global_order(eps, X[:20]))
    assert np.array_equal(new.relation, F.global_order(eps, X=X[:20]).relation)
    old = _deprecated(lambda: F.global_order(X[:20], eps), "global_order(eps, X)")
    assert np.array_equal(old.relation, new.relation) and np.array_equal(old.ambiguous, new.ambiguous)
    old_np = _deprecated(lambda: F.global_order(X[:20], np.float64(eps)), "global_order(eps, X)")
    assert np.array_equal(old_np.relation, new.relation)
    # Default rows: X_val, as the ellipsoid classes default to their training rows.
    default = _silent(lambda: F.global_order(eps))
    on_val = F.global_order(eps, X[300:])
    assert np.array_equal(default.relation, on_val.relation) and np.array_equal(default.ambiguous, on_val.ambiguous)
    lo, hi = F.importance_bounds(eps)
    lo_v, hi_v = F.importance_bounds(eps, X[300:])
    assert np.allclose(lo, lo_v, rtol=1e-12) and np.allclose(hi, hi_v, rtol=1e-12)
    assert np.all(lo <= hi)
    with pytest.raises(ValueError, match="eps"):
        F.global_order(X[:20])  # rows where eps goes, and no eps: not mistaken for the old order
