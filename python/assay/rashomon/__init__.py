"""Rashomon sets: statements about feature attributions that every good-enough model agrees with
(Laberge, Pequignot, Mathieu, Khomh, Marchand, "Partial Order in Chaos", JMLR 2023)."""

from .forest import ForestRashomon
from .kernel_ridge import KernelRidgeRashomon
from .linear import AdditiveRashomon, LinearRashomon
from .monotonic import MonotonicRashomon
from .partial_order import PartialOrder
from .utility import plot_utility

__all__ = [
    "LinearRashomon",
    "AdditiveRashomon",
    "KernelRidgeRashomon",
    "MonotonicRashomon",
    "ForestRashomon",
    "PartialOrder",
    "plot_utility",
]
