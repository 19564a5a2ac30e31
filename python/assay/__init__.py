"""assay: fast, exact and trustworthy auditing of machine-learning models."""
import os as _os


def _load_core():
    """Imports the compiled module with its OpenMP threads' spin-wait shortened.

    After each parallel region, libgomp's idle threads spin ~300,000 times before sleeping. A call
    into assay runs one parallel region, so the spinning only burns a core while the caller goes
    on (converting the next model, calling XGBoost): on 2 cores it doubled the fixed cost of a
    1k x 1k explain. libgomp reads GOMP_SPINCOUNT once, when it is loaded, so it is set only for
    this import and never where the user chose a policy (GOMP_SPINCOUNT or OMP_WAIT_POLICY set).
    Another OpenMP runtime loaded later does not see it.
    """
    chosen = "GOMP_SPINCOUNT" in _os.environ or "OMP_WAIT_POLICY" in _os.environ
    if not chosen:
        _os.environ["GOMP_SPINCOUNT"] = "10000"
    try:
        from . import _core  # noqa: F401
    finally:
        if not chosen:
            del _os.environ["GOMP_SPINCOUNT"]


_load_core()

from . import errors  # noqa: E402
from ._device import cuda_available  # noqa: E402
from .trees import TreeExplainer, convert_model  # noqa: E402

__version__ = "0.1.0"
__all__ = ["TreeExplainer", "convert_model", "cuda_available", "errors", "__version__"]
