"""Every public module, function, class, method and property of assay has a docstring that stands
alone: it is not empty, not an auto-generated signature, and does not send the reader to a source
file of the repository ("see explain.py", "(losses.py)") instead of explaining (issue #18)."""

import dataclasses
import functools
import importlib
import inspect
import pkgutil
import re

import pytest

import assay

# Optional dependencies: a module that cannot import because one is missing is skipped, not failed.
OPTIONAL = {
    "torch",
    "triton",
    "dask",
    "matplotlib",
    "pandas",
    "polars",
    "pyarrow",
    "xgboost",
    "lightgbm",
    "sklearn",
    "catboost",
    "shap",
    "scipy",
    "woodelf",
}

# A reference to a file of the repository (Python source, compiled core source, Markdown).
FILE_REFERENCE = re.compile(r"(?<![\w/.-])[\w/.-]*\w\.(?:py|pyi|hpp|cpp|cuh|cu|h|md)\b")
SEE_FILE = re.compile(r"\bsee\s+\S*\w+\.py\b", re.IGNORECASE)


def _public(name):
    return not name.startswith("_")


def _module_names():
    names = ["assay"]
    for info in pkgutil.walk_packages(assay.__path__, prefix="assay.", onerror=lambda name: None):
        if all(_public(part) for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        root = (getattr(exc, "name", None) or "").split(".")[0]
        if root in OPTIONAL:
            pytest.skip(f"{name}: optional dependency {root} is not installed")
        raise


def _auto_doc(obj, doc):
    """True where Python wrote the docstring itself (dataclass / NamedTuple signature, Enum default)."""
    if not inspect.isclass(obj) or doc is None:
        return False
    if dataclasses.is_dataclass(obj) or (issubclass(obj, tuple) and hasattr(obj, "_fields")):
        return doc.startswith(obj.__name__ + "(")
    return doc in ("An enumeration.",)


def _documented(module):
    """(qualified name, raw docstring) of the module and every public function, class, method and
    property it defines."""
    out = [(module.__name__, module.__doc__)]
    for name, obj in vars(module).items():
        if not _public(name) or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            doc = obj.__dict__.get("__doc__")
            out.append((f"{module.__name__}.{name}", None if _auto_doc(obj, doc) else doc))
            for attr, member in vars(obj).items():
                if not (_public(attr) or attr == "__call__"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, (property, functools.cached_property)) or inspect.isfunction(member):
                    out.append((f"{module.__name__}.{name}.{attr}", member.__doc__))
        elif inspect.isfunction(obj):
            out.append((f"{module.__name__}.{name}", obj.__doc__))
    return out


@pytest.mark.parametrize("module_name", MODULES)
def test_public_docstrings_stand_alone(module_name):
    module = _import(module_name)
    missing, pointers = [], []
    for qualname, doc in _documented(module):
        if not (doc and doc.strip()):
            missing.append(qualname)
        elif SEE_FILE.search(doc) or FILE_REFERENCE.search(doc):
            pointers.append(f"{qualname}: {(SEE_FILE.search(doc) or FILE_REFERENCE.search(doc)).group(0)!r}")
    assert not missing, f"public objects without a docstring: {missing}"
    assert not pointers, f"docstrings that refer to a repository file instead of explaining: {pointers}"


def test_walk_finds_the_public_modules():
    # The walk itself must see the package tree (a silent empty walk would make the test vacuous).
    for name in (
        "assay.cli",
        "assay.cli.explain",
        "assay.explanation",
        "assay.ood.detectors",
        "assay.regions.losses",
        "assay.trees.forest",
    ):
        assert name in MODULES
    assert not any(part.startswith("_") for name in MODULES for part in name.split("."))
