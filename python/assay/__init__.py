"""assay: fast, exact and trustworthy auditing of machine-learning models."""
from . import errors
from ._device import cuda_available
from .trees import TreeExplainer, convert_model

__version__ = "0.1.0"
__all__ = ["TreeExplainer", "convert_model", "cuda_available", "errors", "__version__"]
