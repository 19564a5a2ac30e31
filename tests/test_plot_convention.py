"""One convention for every plot in assay: what is drawn first, then `path` (positional or keyword:
the figure is saved there), `ax=` to draw into an existing Axes; the Axes is returned."""

import functools

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import assay.plot  # noqa: E402
from assay import rashomon, regions  # noqa: E402
from assay.rashomon.partial_order import PartialOrder  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# Fixtures are built once, on first use (not at collection), and shared: no plot changes them.
@functools.cache
def _granite():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, 120), rng.choice([-1.0, 1.0], 120)])
    return regions.Granite(split_features=[1], min_samples_leaf=10).fit(lambda A: A[:, 0] * A[:, 1], X)


@functools.cache
def _data():
    """48 rows of three features (the middle one a +-1 switch) and y = x0 * x1 + x2 / 2 + noise."""
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.uniform(-1, 1, 48), rng.choice([-1.0, 1.0], 48), rng.uniform(-1, 1, 48)])
    return X, X[:, 0] * X[:, 1] + 0.5 * X[:, 2] + rng.normal(0, 0.1, 48)


@functools.cache
def _forest():
    """A 4-tree scikit-learn forest on _data."""
    from sklearn.ensemble import RandomForestRegressor

    X, y = _data()
    return RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0).fit(X, y)


@functools.cache
def _tree_granite():
    """Granite on the forest (the tree-model path), split losses kept: two regions, x1 = -1 and +1."""
    g = regions.Granite(split_features=[1], max_depth=1, min_samples_leaf=8, save_losses=True).fit(
        _forest(), _data()[0]
    )
    assert len(g.rules()) == 2
    return g


@functools.cache
def _forest_rashomon():
    X, y = _data()
    return rashomon.ForestRashomon(_forest(), X[24:], y[24:], X[:12])


@functools.cache
def _ellipsoid_rashomon(kind):
    X, y = _data()
    make = {
        "LinearRashomon": rashomon.LinearRashomon,
        "AdditiveRashomon": lambda: rashomon.AdditiveRashomon(n_knots=4),
        "KernelRidgeRashomon": lambda: rashomon.KernelRidgeRashomon(lam=1e-2),
        "MonotonicRashomon": lambda: rashomon.MonotonicRashomon([0, 0, 1], n_knots=3),
    }[kind]
    return make().fit(X, y)


def _order():
    rel = np.zeros((4, 4), dtype=bool)
    rel[0, 1] = rel[1, 2] = True
    return PartialOrder(rel, ["a", "b", "c", "d"], ambiguous=[False, False, False, True])


def _entry_points():
    """name -> plot(*positional, **keywords) for every public plot in assay."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=(6, 3, 3))
    po = _order()
    X = _data()[0]
    eps = [1e-4, 1e-3, 1e-2]  # the ellipsoid classes' tolerances (MSE increase): utility from ~0.8 down

    def forest_eps():  # RMSE tolerances of ForestRashomon, from its own floor
        return _forest_rashomon().min_tolerance_ * np.array([1.0, 1.5, 3.0])

    def ellipsoid_utility(kind):
        return lambda *a, **k: _ellipsoid_rashomon(kind).plot_utility(X[:4], eps, *a, **k)

    return {
        "Granite.plot": lambda *a, **k: _granite().plot(*a, **k),
        "PartialOrder.plot": lambda *a, **k: po.plot(*a, **k),
        "plot.partition_tree": lambda *a, **k: assay.plot.partition_tree(_granite(), *a, **k),
        "plot.hasse": lambda *a, **k: assay.plot.hasse(po, *a, **k),
        "plot.interaction_heatmap": lambda *a, **k: assay.plot.interaction_heatmap(values, ["p", "q", "r"], *a, **k),
        "plot.roc": lambda *a, **k: assay.plot.roc(rng.normal(0, 1, 50), rng.normal(2, 1, 50), *a, **k),
        # assay.rashomon
        "ForestRashomon.plot_bound_curve": lambda *a, **k: _forest_rashomon().plot_bound_curve(*a, **k),
        "ForestRashomon.plot_utility": lambda *a, **k: _forest_rashomon().plot_utility(X[:4], forest_eps(), *a, **k),
        **{
            f"{kind}.plot_utility": ellipsoid_utility(kind)
            for kind in ("LinearRashomon", "AdditiveRashomon", "KernelRidgeRashomon", "MonotonicRashomon")
        },
        "rashomon.plot_utility": lambda *a, **k: rashomon.plot_utility(
            [0.1, 0.2, 0.4], rng.uniform(0, 1, (5, 3)), *a, **k
        ),
        # assay.regions (regions.partition_tree is plot.partition_tree)
        "regions.regional_pdp": lambda *a, **k: regions.regional_pdp(_tree_granite(), "x0", *a, **k),
        "regions.regional_importance": lambda *a, **k: regions.regional_importance(_tree_granite(), X[:16], *a, **k),
        "regions.regional_beeswarm": lambda *a, **k: regions.regional_beeswarm(_tree_granite(), X[:16], 1, *a, **k),
        "regions.regional_interactions": lambda *a, **k: regions.regional_interactions(_tree_granite(), 0, *a, **k),
        "regions.split_loss_curves": lambda *a, **k: regions.split_loss_curves(_tree_granite(), 0, *a, **k),
    }


ENTRY_POINTS = list(_entry_points())


def _saved(path):
    return path.exists() and path.stat().st_size > 0


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_path_positional_or_keyword_saves_and_returns_the_axes(name, tmp_path):
    plot = _entry_points()[name]
    for args, kwargs in [
        ((tmp_path / "pos.png",), {}),
        ((), {"path": tmp_path / "kw.svg"}),
        ((str(tmp_path / "str.png"),), {}),
    ]:
        ax = plot(*args, **kwargs)
        assert isinstance(ax, matplotlib.axes.Axes)
    assert _saved(tmp_path / "pos.png") and _saved(tmp_path / "kw.svg") and _saved(tmp_path / "str.png")


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_ax_draws_into_the_given_axes(name, tmp_path):
    plot = _entry_points()[name]
    fig, (left, right) = plt.subplots(1, 2)
    assert plot(ax=right) is right
    assert right.has_data() or right.texts or right.patches
    assert not left.has_data() and not left.texts
    fig.savefig(tmp_path / "fig.png")
    assert _saved(tmp_path / "fig.png")
    fig2, ax2 = plt.subplots()
    assert plot(tmp_path / "both.png", ax=ax2) is ax2  # ax and path together: ax's figure is saved
    assert _saved(tmp_path / "both.png")


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_swapped_or_wrong_targets_raise_clear_errors(name, tmp_path):
    plot = _entry_points()[name]
    with pytest.raises(TypeError, match="ax: expected a matplotlib Axes, got str; to save to a file pass path="):
        plot(ax=str(tmp_path / "x.png"))
    _, ax = plt.subplots()
    with pytest.raises(TypeError, match="path: expected a file path, got a matplotlib Axes; pass it as ax="):
        plot(ax)
    with pytest.raises(TypeError, match="path: expected a file path .* got int"):
        plot(3)
    assert not list(tmp_path.iterdir())
