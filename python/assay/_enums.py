"""The compiled core's enums as Python IntEnums, made from their members at import.

_core.Index (csrc/core/indices.hpp) and _core.SplitPolicy (csrc/core/split_decision.hpp) are
bound with pybind11, whose members of a C++ `enum class` neither equal nor subclass int. The
IntEnums below carry the same names and codes (so nothing is mirrored by hand) and are ints:
they key dicts, compare with codes, fill NumPy arrays, and every binding takes them (as it takes
the _core members and plain ints).
"""

from __future__ import annotations

from enum import IntEnum

from . import _core


def _from_core(core_enum, doc: str) -> type[IntEnum]:
    made = IntEnum(
        core_enum.__name__, {name: int(member) for name, member in core_enum.__members__.items()}, module=__name__
    )
    made.__doc__ = doc
    return made


Index = _from_core(
    _core.Index,
    "The attribution indices: SHAPLEY, BANZHAF, INTERACTION (Shapley interaction "
    "index, shap's convention) and TAYLOR (Shapley-Taylor, order 2).",
)
SplitPolicy = _from_core(
    _core.SplitPolicy,
    """How a node's split reads a value, exact to each source library:
numeric comparison and missing-value handling (XGBoost, LightGBM's zero / NaN / none missing
types, scikit-learn, HistGradientBoosting) or category-set membership.""",
)
