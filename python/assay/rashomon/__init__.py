"""Rashomon sets: statements about feature attributions that every good-enough model agrees with
(Laberge, Pequignot, Mathieu, Khomh, Marchand, "Partial Order in Chaos", JMLR 2023)."""
from .forest import ForestRashomon
from .kernel_ridge import KernelRidgeRashomon
from .linear import AdditiveRashomon, LinearRashomon
from .partial_order import PartialOrder

__all__ = ["LinearRashomon", "AdditiveRashomon", "KernelRidgeRashomon", "ForestRashomon", "PartialOrder"]
