"""GRANITE figures next to the partition tree: regional partial dependence curves, per-region
attribution bars and the per-region interaction heatmap (known answers on the papers' toy)."""

import numpy as np
import pytest

from assay import regions

from test_regions_losses import papers_toy, toy_f

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fitted():
    X, y = papers_toy(200)
    return regions.Granite(split_features=[1, 2, 3], save_losses=True).fit(toy_f, X), X, y


def test_regional_pdp_has_the_slope_of_each_region(fitted, tmp_path):
    g, X, _ = fitted
    ax = regions.regional_pdp(g, "x0", tmp_path / "pdp.png")
    assert (tmp_path / "pdp.png").exists() and [t.get_text() for t in ax.get_legend().get_texts()] == g.rules()
    for line, sign in zip(ax.lines, (-1.0, 1.0)):  # 3 x1 x2 with x2 = -1, then x2 = +1
        x, pd = line.get_data()
        np.testing.assert_allclose(np.diff(pd) / np.diff(x), 3.0 * sign, rtol=1e-9)


def test_regional_importance_bars_and_interaction_heatmap(fitted):
    g, X, y = fitted
    ax = regions.regional_importance(g, X[:80])
    assert len(ax.patches) == 2 * 4
    ax = regions.regional_importance(g, X, kind="pfi", y=y)
    assert len(ax.patches) == 2 * 4
    M = regions.regional_interactions(g, 1).images[0].get_array()
    off = M - np.diag(np.diag(M))
    assert np.abs(off).max() < 1e-9 and M[0, 0] > 1.0  # x2 fixed: no interaction left, x1's effect stays
    one = regions.Granite(split_features=[1], alpha=np.inf).fit(toy_f, X)
    assert one.rules() == ["all"] and regions.regional_interactions(one, 0).images[0].get_array()[0, 1] > 1.0


def test_split_loss_curves_and_regional_beeswarm(fitted):
    g, X, _ = fitted
    ax = regions.split_loss_curves(g, 0)
    curves = {line.get_label(): line.get_data() for line in ax.lines}
    assert set(curves) == {"x1", "x2", "x3"}
    np.testing.assert_array_equal(curves["x1"][0], [-1.0])
    np.testing.assert_array_equal(curves["x1"][1], [0.0])  # the split that removes the interaction
    assert curves["x3"][1].min() > 0.5
    ax = regions.regional_beeswarm(g, X, 1)
    inside = g.predict(X) == 1
    shap = g.explain(X[inside], kind="shap")
    for i, points in enumerate(ax.collections):
        np.testing.assert_allclose(points.get_offsets()[:, 0], shap[:, i])
        assert np.all(np.abs(points.get_offsets()[:, 1] - i) <= 0.3)


def test_bad_plot_arguments_raise(fitted):
    g, _, _ = fitted
    with pytest.raises(ValueError, match="feature: 'zz' is not a player name"):
        regions.regional_pdp(g, "zz")
    with pytest.raises(ValueError, match=r"region: expected a region index in \[0, 2\)"):
        regions.regional_interactions(g, 5)
    with pytest.raises(TypeError, match="ax"):
        regions.regional_pdp(g, 0, ax="x.png")
    with pytest.raises(ValueError, match=r"node: expected a split-node index in \[0, 1\)"):
        regions.split_loss_curves(g, 3)
    with pytest.raises(ValueError, match="region"):
        regions.regional_beeswarm(g, np.zeros((3, 4)), 7)
