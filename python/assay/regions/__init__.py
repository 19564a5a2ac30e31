"""GRANITE regional explanations: anchored decompositions on a region's own data, losses that
measure where attribution methods disagree, and a partition tree (FD-tree) that finds regions
where they agree. See anchored.py for the definitions."""
from .anchored import AnchoredDecomposition, anchored_decomposition
from .fdtree import Granite
from .losses import LOSSES

__all__ = ["AnchoredDecomposition", "Granite", "LOSSES", "anchored_decomposition"]
