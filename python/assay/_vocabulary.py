"""One vocabulary across assay's subpackages, and the old spellings it still accepts for one release.

Index names, wherever an index is named by a string (assay.dask's `kind=`, `assay explain
--kind`, assay.trees.reference's `index=`): "shap", "banzhaf", "interaction", "taylor", the stems
of the methods shap_values, banzhaf_values, shap_interaction_values and shapley_taylor_values.
The old spellings "shapley" (for "shap") and "interactions" (for "interaction") still work, with a
DeprecationWarning naming the new one, and go in the next release.

`device=` names where the work runs: "auto" | "cpu" | "cuda" (TreeExplainer,
assay.robustness.projection.project_hyperplanes). `backend=` names which implementation runs on
that device: "auto" | "torch" for project_hyperplanes (the compiled C++/CUDA kernel, or the
pure-torch reference), "auto" | "torch" | "triton" for the assay.ood scores (whose device is
always the input's). project_hyperplanes(backend="cpu" | "cuda"), the old spelling of
device="cpu" | "cuda", still works with a DeprecationWarning.
"""

from __future__ import annotations

import warnings

INDICES = ("shap", "banzhaf", "interaction", "taylor")
PAIRWISE = ("interaction", "taylor")  # the indices with one value per ordered pair of players
OLD_INDEX_NAMES = {"shapley": "shap", "interactions": "interaction"}


def deprecated(old: str, new: str, stacklevel: int = 2) -> None:
    """Warn (DeprecationWarning) that the spelling `old` goes in the next release, naming `new`.
    stacklevel as in warnings.warn, counted from the function calling this one (2: its caller)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: use {new}",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def index_name(value, name: str = "index", stacklevel: int = 2) -> str:
    """`value` in the vocabulary ("shap", "banzhaf", "interaction", "taylor"); an old spelling
    ("shapley", "interactions") is translated with a DeprecationWarning; anything else raises
    ValueError naming the argument `name`. stacklevel as in `deprecated`, from the caller of this."""
    if isinstance(value, str) and value in OLD_INDEX_NAMES:
        new = OLD_INDEX_NAMES[value]
        deprecated(f"{name}={value!r}", f"{name}={new!r}", stacklevel + 1)
        return new
    if not isinstance(value, str) or value not in INDICES:
        raise ValueError(f"{name}: expected one of {list(INDICES)}, got {value!r}")
    return value
