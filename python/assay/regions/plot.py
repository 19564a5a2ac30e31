"""GRANITE figures (matplotlib): the fitted partition tree (one box per node with its rule, rows
and normalised loss; leaves labelled with their region id), and next to it, per region, the
partial dependence curves, the attribution bars and the interaction heatmap."""

from __future__ import annotations

import numpy as np


def partition_tree(granite, path=None, *, ax=None, title=None):
    """Draws a fitted Granite's partition tree into `ax` (or a new figure); saves to `path` when
    given; returns the Axes (the convention of assay.plot)."""
    from ..plot import _axes, _save

    granite._check_fitted()
    root = granite.tree_
    leaves = root.leaves()
    depth = max(len(leaf.conditions) for leaf in leaves)
    ax = _axes(ax, path, (max(4.0, 2.6 * len(leaves)), 1.6 + 1.4 * depth))
    slot = {id(leaf): k for k, leaf in enumerate(leaves)}

    def x_of(node):  # centre over its leaves
        if node.is_leaf:
            return float(slot[id(node)])
        return 0.5 * (x_of(node.left) + x_of(node.right))

    def draw(node, edge_label=None):
        x, y = x_of(node), -node.depth
        text = f"n={node.rows.size}\nloss={node.loss:.3g}"
        if node.is_leaf:
            text = f"region {node.region}\n" + text
        if edge_label:
            text = edge_label + "\n" + text
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="round", fc="#e8f0fe" if node.is_leaf else "white", ec="gray"),
        )
        if node.is_leaf:
            return
        for child, label in zip((node.left, node.right), granite._split_texts(node)):  # as rules() print
            ax.plot([x, x_of(child)], [y, -child.depth], color="gray", lw=1, zorder=0)
            draw(child, label)

    draw(root)
    ax.set_xlim(-0.8, len(leaves) - 0.2)
    ax.set_ylim(-depth - 0.6, 0.6)
    ax.axis("off")
    ax.set_title(title or f"GRANITE regions (objective {granite.objective_:.3g})")
    return _save(ax, path)


def regional_pdp(granite, feature, path=None, *, ax=None, title=None, n_points: int = 50):
    """The centred partial dependence of one player in each region of a fitted Granite, each
    computed with the region's own fitted rows as background (mean_z f(x_i, z_-i) - mean_z f(z)),
    at up to n_points quantiles of the player's first column in the region; one curve per region,
    labelled with its rule. feature: a player index or name. Saves to `path`; returns the Axes."""
    from ..plot import _axes, _save, _check_target
    from .anchored import hybrid_means

    _check_target(ax, path)
    granite._check_fitted()
    D = granite.decomposition_
    i = _player_index(D, feature)
    cols = D._columns[i]
    ax = _axes(ax, path, (5.5, 4))
    for rows, rule in zip(granite.region_rows(), granite.rules()):
        Z = granite.X_[rows]
        order = np.argsort(Z[:, cols[0]], kind="stable")
        picks = order[np.unique(np.linspace(0, rows.size - 1, min(n_points, rows.size)).round().astype(int))]
        pd = hybrid_means(D._predict, Z[picks], Z, cols) - D._predict(Z).mean()
        ax.plot(Z[picks, cols[0]], pd, marker=".", label=rule)
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel(D.feature_names[cols[0]])
    ax.set_ylabel("centred partial dependence")
    ax.legend(fontsize="small")
    ax.set_title(title or f"regional partial dependence of {D.players[i]}")
    return _save(ax, path)


def regional_importance(granite, X, path=None, *, kind: str = "shap", y=None, ax=None, title=None):
    """Per-region attribution bars of a fitted Granite: for kind "shap" or "pdp" the mean |value|
    over the rows of X in each region (Granite.explain, each region's rows as background), for
    "pfi" the regional permutation importance (needs y). One group of bars per player, one bar per
    region. Saves to `path`; returns the Axes."""
    from ..plot import _axes, _save, _check_target

    _check_target(ax, path)
    values = granite.explain(X, kind=kind, y=y)
    if kind == "pfi":
        table = values
    else:
        ids = granite._regions_of(granite._matrix(X))
        table = np.array(
            [
                np.abs(values[ids == k]).mean(axis=0) if np.any(ids == k) else np.full(values.shape[1], np.nan)
                for k in range(len(granite.rules()))
            ]
        )
    names = granite.decomposition_.players
    ax = _axes(ax, path, (1.5 + 0.8 * len(names), 4))
    width = 0.8 / table.shape[0]
    for k, rule in enumerate(granite.rules()):
        ax.bar(np.arange(len(names)) + (k - (table.shape[0] - 1) / 2) * width, table[k], width, label=rule)
    ax.set_xticks(range(len(names)), names, rotation=45)
    ax.set_ylabel({"shap": "mean |SHAP value|", "pdp": "mean |centred PD|", "pfi": "permutation importance"}[kind])
    ax.legend(fontsize="small")
    ax.set_title(title or f"regional {kind}")
    return _save(ax, path)


def regional_interactions(granite, region: int, path=None, *, ax=None, title=None):
    """The interaction heatmap of one region of a fitted Granite: entry (i, j) is the root mean
    square over the region's fitted rows of the pure pair effect p_ij (the order-2 anchored
    decomposition with the region's rows as background), the diagonal that of the main effects
    p_i. Saves to `path`; returns the Axes."""
    import dataclasses

    from ..plot import _check_target, interaction_heatmap
    from .anchored import anchored_decomposition

    _check_target(ax, path)
    granite._check_fitted()
    n_regions = len(granite.rules())
    if isinstance(region, bool) or not isinstance(region, (int, np.integer)) or not 0 <= region < n_regions:
        raise ValueError(f"region: expected a region index in [0, {n_regions}), got {region!r}")
    D = granite.decomposition_
    Z = granite.X_[granite.region_rows()[region]]
    if D.tree is not None:  # the fitted matrix is already encoded: no second input_transform
        model, output = dataclasses.replace(D.tree, input_transform=None), D._kernel_output
    else:
        model, output = D._predict, None
    R = anchored_decomposition(
        model, Z, groups=granite.groups, order=2, output=output, feature_names=D.feature_names, n_jobs=D.n_jobs
    )
    rms = np.sqrt((R.pure_effects() ** 2).mean(axis=0))
    M = np.zeros((len(D.players), len(D.players)))
    for k, u in enumerate(R.subsets):
        M[u[0], u[-1]] = M[u[-1], u[0]] = rms[k]
    return interaction_heatmap(
        M[None], D.players, path, ax=ax, title=title or f"region {region}: {granite.rules()[region]} (RMS pure effects)"
    )


def _player_index(D, feature):
    P = len(D._columns)
    if isinstance(feature, str):
        if feature not in D.players:
            raise ValueError(f"feature: {feature!r} is not a player name (expected one of {D.players})")
        return D.players.index(feature)
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < P:
        raise ValueError(f"feature: expected a player index in [0, {P}) or a name, got {feature!r}")
    return int(feature)


def split_loss_curves(granite, node: int = 0, path=None, *, ax=None, title=None):
    """The normalised loss of the two children (L(left) + L(right)) / L(all rows) over every candidate
    split of every feature at one split node of a Granite fitted with save_losses=True: one curve
    per feature against its thresholds (an unordered categorical: one point per tried code set, at
    positions 0, 1, ...). node: the split node's index in preorder (0: the root), as in
    Granite.split_losses(). Saves to `path`; returns the Axes."""
    from ..plot import _axes, _check_target, _save

    _check_target(ax, path)
    nodes = granite.split_losses()
    if isinstance(node, bool) or not isinstance(node, (int, np.integer)) or not 0 <= node < len(nodes):
        raise ValueError(f"node: expected a split-node index in [0, {len(nodes)}), got {node!r}")
    ax = _axes(ax, path, (5.5, 4))
    for name, (candidates, total) in nodes[node]["losses"].items():
        sets = len(candidates) and isinstance(candidates[0], frozenset)
        x = np.arange(len(candidates)) if sets else np.asarray(candidates, dtype=np.float64)
        ax.plot(x, total, marker="o", ms=3, label=f"{name} (code sets)" if sets else name)
    ax.set_xlabel("split threshold")
    ax.set_ylabel("children's normalised loss")
    ax.legend(fontsize="small")
    where = " and ".join(f"{f} {op} {t}" for f, op, t in nodes[node]["conditions"]) or "the root"
    ax.set_title(title or f"split candidates at {where}")
    return _save(ax, path)


def regional_beeswarm(granite, X, region: int, path=None, *, ax=None, title=None, seed: int = 0):
    """The SHAP values (each region's fitted rows as background) of the rows of X that fall in one
    region: one horizontal strip per player, points jittered vertically (seeded) and coloured by
    the player's first column (its rank within the region, blue low to red high). Saves to
    `path`; returns the Axes."""
    from ..plot import _axes, _check_target, _save

    _check_target(ax, path)
    n_regions = len(granite.rules())
    if isinstance(region, bool) or not isinstance(region, (int, np.integer)) or not 0 <= region < n_regions:
        raise ValueError(f"region: expected a region index in [0, {n_regions}), got {region!r}")
    M = granite._matrix(X)
    mine = np.flatnonzero(granite._regions_of(M) == region)
    if mine.size == 0:
        raise ValueError(f"X: no row falls in region {region} ({granite.rules()[region]})")
    values = granite.explain(X.iloc[mine] if hasattr(X, "iloc") else np.asarray(X)[mine], kind="shap")  # not M: encoded
    D = granite.decomposition_
    rng = np.random.default_rng(seed)
    ax = _axes(ax, path, (6, 1.0 + 0.5 * len(D.players)))
    for i, cols in enumerate(D._columns):
        v = M[mine, cols[0]]
        rank = np.argsort(np.argsort(v, kind="stable"), kind="stable") / max(1, v.size - 1)
        ax.scatter(values[:, i], i + rng.uniform(-0.3, 0.3, mine.size), c=rank, cmap="coolwarm", s=8, vmin=0, vmax=1)
    ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_yticks(range(len(D.players)), D.players)
    ax.set_xlabel("SHAP value (region's own background)")
    ax.set_title(title or f"region {region}: {granite.rules()[region]}")
    return _save(ax, path)
