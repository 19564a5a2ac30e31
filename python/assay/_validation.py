"""Argument checks shared by the subpackages (integers, thread counts). Data arrays are checked
in the one input module, assay._inputs.
"""

from __future__ import annotations

import numpy as np


def check_int(v, name: str, lo: int) -> int:
    """An integer (not a bool) >= lo, else ValueError naming the argument."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    return int(v)


def check_n_jobs(n_jobs) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise TypeError(f"n_jobs: expected an int (-1 for all cores), got {type(n_jobs).__name__}")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: expected -1 or a positive number of threads, got {n_jobs}")
    return int(n_jobs)
