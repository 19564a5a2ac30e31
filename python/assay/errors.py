"""The exceptions assay raises on purpose, for callers (and assay itself) to decide by type.

Each subclasses the built-in a caller would already catch, so `except ValueError` keeps working:

- ModelError (ValueError): a model assay reads but finds malformed or unreadable (a corrupt
  model file or dump, an unfitted estimator, sizes out of range).
- UnsupportedModelError (TypeError): a model kind assay does not explain (gblinear, linear
  trees, vector leaves, CatBoost CTR features, an unknown library).
- TooManyPlayersError (ValueError): a leaf path has more distinct players than a kernel's
  per-leaf tables hold (the regions' tree kernel, the path-dependent weights).
- DeviceUnsupportedError (ValueError): the CUDA kernel does not take this forest (too deep, a
  leaf wider than dense_max_bits, tables over max_table_bytes); the CPU kernel does.
- DeviceMemoryError (MemoryError): a CUDA allocation failed. KernelMemoryError (MemoryError): a
  host allocation in the compiled kernels failed.

The last four come from the compiled core (assay._core); messages state what happened, and the
Python layer adds what to do about it.
"""

from __future__ import annotations

from contextlib import contextmanager

from ._core import DeviceMemoryError, DeviceUnsupportedError, KernelMemoryError, TooManyPlayersError

__all__ = [
    "ModelError",
    "UnsupportedModelError",
    "TooManyPlayersError",
    "DeviceUnsupportedError",
    "DeviceMemoryError",
    "KernelMemoryError",
]


class ModelError(ValueError):
    """A model assay reads but finds malformed or unreadable (the message starts with "model:")."""


class UnsupportedModelError(TypeError):
    """A model kind assay does not explain (the message starts with "model:" and says which)."""


@contextmanager
def reading_model(library: str):
    """Turn what a malformed model dict trips over (a missing key, a bad value, the core Forest's
    own checks) into a ModelError naming the library; the errors above pass unchanged."""
    try:
        yield
    except (ModelError, UnsupportedModelError):  # already say what is wrong with the model
        raise
    except (KeyError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise ModelError(f"model: malformed {library} model ({type(exc).__name__}: {exc})") from None
    except (ValueError, TypeError) as exc:  # the core's Forest checks, NumPy on bad values
        raise ModelError(f"model: malformed {library} model ({exc})") from None
