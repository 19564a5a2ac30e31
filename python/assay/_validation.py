"""Input checks at the boundary: every user array goes through here once, visibly.

The compiled kernels receive only C-contiguous float64 matrices whose shape was checked here;
errors name the argument, what was expected and what was got.
"""
from __future__ import annotations

import numpy as np


def _describe(X) -> str:
    shape = getattr(X, "shape", None)
    return f"{type(X).__name__} of shape {shape}" if shape is not None else type(X).__name__


def is_dataframe(X) -> bool:
    return type(X).__module__.startswith("pandas") and hasattr(X, "columns") and hasattr(X, "dtypes")


def dataframe_to_matrix(X, name: str) -> np.ndarray:
    """Numeric and categorical pandas columns to float64; categories become their codes (NaN for missing)."""
    import pandas as pd

    columns = []
    for col in X.columns:
        s = X[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
            columns.append(codes)
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            columns.append(s.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            raise TypeError(
                f"{name}: column {col!r} has dtype {s.dtype}; expected numeric, boolean or pandas "
                "categorical columns (encode strings as categories first)"
            )
    if not columns:
        return np.empty((len(X), 0), dtype=np.float64)
    return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)


def as_matrix(X, name: str, n_features: int | None = None, *, allow_empty: bool = False) -> np.ndarray:
    """Validate X as a (rows, features) numeric matrix; returns C-contiguous float64.

    NaN is a missing value and passes; inf does not (no tree library defines where it goes).
    """
    if X is None:
        raise TypeError(f"{name}: expected a 2-D array or DataFrame, got None")
    if is_dataframe(X):
        A = dataframe_to_matrix(X, name)
    else:
        try:
            A = np.asarray(X)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name}: expected a 2-D numeric array, got {_describe(X)} ({exc})") from None
        if A.dtype == object or A.dtype.kind in "USV" or A.dtype.kind in "mM":
            raise TypeError(f"{name}: expected a numeric array, got dtype {A.dtype}")
        if A.dtype.kind == "c":
            raise TypeError(f"{name}: complex values are not supported (dtype {A.dtype})")
        if A.ndim == 1:
            raise ValueError(
                f"{name}: expected a 2-D array (rows, features), got a 1-D array of shape {A.shape}; "
                "use X.reshape(1, -1) for one row"
            )
        if A.ndim != 2:
            raise ValueError(f"{name}: expected a 2-D array (rows, features), got {A.ndim} dimensions {A.shape}")
        A = np.ascontiguousarray(A, dtype=np.float64)
    if n_features is not None and A.shape[1] != n_features:
        raise ValueError(f"{name}: the model has {n_features} features, got an array with {A.shape[1]} columns")
    if A.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name}: expected at least one row, got 0 rows")
    if np.isinf(A).any():
        rows, cols = np.nonzero(np.isinf(A))
        raise ValueError(
            f"{name}: contains inf (first at row {rows[0]}, column {cols[0]}); "
            "tree models have no defined split for inf (NaN is accepted as missing)"
        )
    return A


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


def _generated_names(names) -> bool:
    """Names a library invents for a model trained on a plain array (LightGBM's Column_0, ...;
    XGBoost's f0, ...): they carry no column identity, so columns are matched by position."""
    return (all(n == f"Column_{i}" for i, n in enumerate(names))
            or all(n == f"f{i}" for i, n in enumerate(names)))


def reference_names(model_names, background_names):
    """The column names a DataFrame must carry: the model's own training names, else those of the
    background frame, else None (no names known: columns are positional)."""
    if model_names is not None and len(model_names) and not _generated_names(list(map(str, model_names))):
        return list(map(str, model_names))
    return list(map(str, background_names)) if background_names is not None else None


def _listed(names, limit: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def align_columns(X, expected, name: str):
    """A DataFrame's columns matched by name to `expected` (the model's feature order).

    Same names in another order: the frame is reordered to `expected` (a view of the same data,
    so values are bit for bit those of the ordered call). Missing, extra, renamed or duplicated
    columns raise ValueError listing them. Anything that is not a DataFrame, or `expected` None,
    passes unchanged (NumPy arrays are positional, as in the model libraries).
    """
    if expected is None or not is_dataframe(X):
        return X
    columns = list(map(str, X.columns))
    seen, duplicated = set(), []
    for c in columns:
        if c in seen and c not in duplicated:
            duplicated.append(c)
        seen.add(c)
    if duplicated:
        raise ValueError(f"{name}: duplicated column names {_listed(duplicated)}; each feature must appear once")
    if columns == expected:
        return X
    expected_set = set(expected)
    missing = [c for c in expected if c not in seen]
    extra = [c for c in columns if c not in expected_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_listed(missing)}")
        if extra:
            parts.append(f"unexpected {_listed(extra)}")
        raise ValueError(
            f"{name}: the DataFrame's columns do not match the model's features ({'; '.join(parts)}); "
            f"expected the {len(expected)} columns {_listed(expected)} (pass a NumPy array to match by position)"
        )
    positions = {c: i for i, c in enumerate(columns)}
    return X.iloc[:, [positions[c] for c in expected]]
