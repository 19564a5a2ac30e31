"""One convention for every plot in assay: what is drawn first, then `path` (positional or keyword:
the figure is saved there), `ax=` to draw into an existing Axes; the Axes is returned."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import assay.plot  # noqa: E402
from assay import regions  # noqa: E402
from assay.rashomon.partial_order import PartialOrder  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _granite():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, 120), rng.choice([-1.0, 1.0], 120)])
    return regions.Granite(split_features=[1], min_samples_leaf=10).fit(lambda A: A[:, 0] * A[:, 1], X)


def _order():
    rel = np.zeros((4, 4), dtype=bool)
    rel[0, 1] = rel[1, 2] = True
    return PartialOrder(rel, ["a", "b", "c", "d"], ambiguous=[False, False, False, True])


def _entry_points():
    """name -> plot(*positional, **keywords) for every public plot in assay."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=(6, 3, 3))
    g, po = _granite(), _order()
    return {
        "Granite.plot": lambda *a, **k: g.plot(*a, **k),
        "PartialOrder.plot": lambda *a, **k: po.plot(*a, **k),
        "plot.partition_tree": lambda *a, **k: assay.plot.partition_tree(g, *a, **k),
        "plot.hasse": lambda *a, **k: assay.plot.hasse(po, *a, **k),
        "plot.interaction_heatmap": lambda *a, **k: assay.plot.interaction_heatmap(values, ["p", "q", "r"], *a, **k),
        "plot.roc": lambda *a, **k: assay.plot.roc(rng.normal(0, 1, 50), rng.normal(2, 1, 50), *a, **k),
    }


ENTRY_POINTS = list(_entry_points())


def _saved(path):
    return path.exists() and path.stat().st_size > 0


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_path_positional_or_keyword_saves_and_returns_the_axes(name, tmp_path):
    plot = _entry_points()[name]
    for args, kwargs in [((tmp_path / "pos.png",), {}), ((), {"path": tmp_path / "kw.svg"}),
                         ((str(tmp_path / "str.png"),), {})]:
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
