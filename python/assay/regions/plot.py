"""The fitted partition tree as a figure: one box per node with its rule, rows and normalised
loss; leaves are labelled with their region id (matplotlib)."""
from __future__ import annotations


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
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#e8f0fe" if node.is_leaf else "white", ec="gray"))
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
