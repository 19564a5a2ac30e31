"""assay: fast, exact and trustworthy auditing of machine-learning models."""

import os as _os


def _load_core():
    """Imports the compiled module with its OpenMP threads' spin-wait shortened.

    After a parallel region, idle OpenMP threads spin before they sleep (libgomp ~300,000 times,
    LLVM's libomp 200 ms). A call into assay runs one parallel region, so the spinning only burns
    a core while the caller goes on (converting the next model, calling XGBoost): on 2 cores it
    doubled the fixed cost of a 1k x 1k explain. The runtime reads GOMP_SPINCOUNT / KMP_BLOCKTIME
    once, while the module loads, so they are set only for this import and never where the user
    chose a policy (either variable or OMP_WAIT_POLICY set). A runtime loaded later does not see them.
    """
    shortened = {"GOMP_SPINCOUNT": "10000", "KMP_BLOCKTIME": "1"}
    chosen = any(k in _os.environ for k in (*shortened, "OMP_WAIT_POLICY"))
    if not chosen:
        _os.environ.update(shortened)
    try:
        from . import _core  # noqa: F401
    finally:
        if not chosen:
            for k in shortened:
                del _os.environ[k]


_load_core()

from . import errors  # noqa: E402
from ._device import cuda_available  # noqa: E402
from .trees import TreeExplainer, convert_model  # noqa: E402

__version__ = "0.1.0"
__all__ = ["TreeExplainer", "convert_model", "cuda_available", "errors", "__version__"]
