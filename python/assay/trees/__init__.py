"""Tree ensembles: converters to one IR, and exact interventional explanations."""

from .convert import convert_model
from .explainer import TreeExplainer

__all__ = ["convert_model", "TreeExplainer"]
