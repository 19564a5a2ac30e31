"""GRANITE regional explanations: anchored decompositions on a region's own data, losses that
measure where attribution methods disagree, and a partition tree (FD-tree) that finds regions
where they agree.

For rows R and g_S(x) = mean_{z in R} f(x_S, z_-S), the pure effect of players u is
p_u(x) = sum_{v <= u} (-1)^{|u|-|v|} g_v(x) and the full effect q_u(x) = sum_{v <= u} (-1)^{|v|}
g_{-v}(x); for one player p_i = g_i - mean f (centred partial dependence) and q_i = f - g_{-i}."""

from .anchored import AnchoredDecomposition, anchored_decomposition
from .fdtree import Granite
from .losses import LOSSES
from .plot import (
    partition_tree,
    regional_beeswarm,
    regional_importance,
    regional_interactions,
    regional_pdp,
    split_loss_curves,
)

__all__ = [
    "AnchoredDecomposition",
    "Granite",
    "LOSSES",
    "anchored_decomposition",
    "partition_tree",
    "regional_beeswarm",
    "regional_importance",
    "regional_interactions",
    "regional_pdp",
    "split_loss_curves",
]
