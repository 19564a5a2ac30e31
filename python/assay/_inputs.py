"""The one input module: every array a user hands to assay passes through here once.

One set of rules for every subpackage (trees, regions, rashomon, robustness, ood):

- What is accepted: NumPy arrays, array-likes (lists), pandas DataFrames (tabular data only:
  numeric, boolean and categorical columns, categories as their codes), torch tensors.
- Tabular data for the tree kernels, GRANITE and the Rashomon sets (`as_matrix`): a C-contiguous
  float64 matrix, copied only when the input is not one already. NaN is a missing value and
  passes; inf is refused (no tree library defines where it goes). DataFrames are matched to the
  model's columns by name (`align_columns`); arrays are positional.
- Tensor data for assay.robustness and assay.ood (`tensor`, `data`, `host_array`): a tensor stays
  on its device and keeps its dtype unless the caller asks for another; NumPy data is wrapped
  without a copy; `as_output` gives NumPy back to NumPy callers.
- Device data: a CUDA tensor, CuPy array or any object with __cuda_array_interface__ is moved to
  the host only where the caller says so (host_array(cuda="copy"), documented there); elsewhere it
  is a ValueError naming the argument. The tree explainer's device path reads such arrays in place
  before they reach this module (its C++ reader checks them: csrc/bindings/cuda_array.hpp).
- Errors: TypeError for the wrong kind of thing (type, dtype kind), ValueError for the wrong shape,
  values or device; every message names the argument, what was expected and what was got.

This module does not import torch or pandas at import time.
"""

from __future__ import annotations

import numpy as np

_KIND_WORDS = {
    "f": "a floating-point",
    "fiu": "a real numeric (float or integer)",
    "biuf": "a real numeric",
    "iu": "an integer",
    "biu": "an integer or bool",
}


def is_torch(a) -> bool:
    return type(a).__module__.startswith("torch") and hasattr(a, "device")


def any_torch(*arrays) -> bool:
    return any(is_torch(a) for a in arrays)


def is_cuda_array(a) -> bool:
    """A device array other than a torch tensor (CuPy, Numba, ...): __cuda_array_interface__."""
    return not is_torch(a) and hasattr(a, "__cuda_array_interface__")


def _cuda_to_host(a, name: str, cuda: str) -> np.ndarray:
    if cuda != "copy":
        raise ValueError(f"{name}: expected host data here, got a CUDA array ({type(a).__name__}); pass a NumPy array")
    for method in ("get", "copy_to_host"):  # CuPy, Numba
        if callable(getattr(a, method, None)):
            return np.asarray(getattr(a, method)())
    raise TypeError(f"{name}: cannot copy a {type(a).__name__} to the host; pass a NumPy array")


def _torch_kind(t) -> str:
    """The NumPy dtype kind of a torch tensor's dtype ("c" complex, "O" anything exotic)."""
    import torch

    if t.dtype == torch.bool:
        return "b"
    if t.dtype.is_floating_point:
        return "f"
    if t.dtype.is_complex:
        return "c"
    if t.dtype == torch.uint8:
        return "u"
    if t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64):
        return "i"
    return "O"


def _check_kind(name: str, kind: str, dtype, kinds) -> None:
    if kinds is not None and kind not in kinds:
        words = _KIND_WORDS.get(kinds, f"a ({kinds})")
        raise TypeError(f"{name}: expected {words} array, got dtype {dtype}")


def _from_array_like(a, name: str, kinds: str) -> np.ndarray:
    if a is None:
        raise TypeError(f"{name}: expected an array or torch.Tensor, got None")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: expected a numeric array, got {type(a).__name__} ({exc})") from None
    _check_kind(name, arr.dtype.kind, arr.dtype, kinds)
    return arr


def host_array(a, name: str, *, kinds: str = "biuf", cuda: str = "error") -> np.ndarray:
    """NumPy view (no copy where possible, dtype kept) of a NumPy array, array-like or tensor.

    cuda: "copy" copies a CUDA tensor or CuPy array to host memory (for host-only NumPy
    algorithms: the caller documents it); "error" refuses it with a ValueError. bfloat16 (no
    NumPy twin) becomes float32."""
    if is_cuda_array(a):
        return _from_array_like(_cuda_to_host(a, name, cuda), name, kinds)
    if not is_torch(a):
        return _from_array_like(a, name, kinds)
    _check_kind(name, _torch_kind(a), a.dtype, kinds)
    if a.device.type != "cpu":
        if cuda != "copy":
            raise ValueError(f"{name}: expected a CPU tensor here, got a tensor on {a.device}")
        a = a.cpu()
    a = a.detach()
    import torch

    if a.dtype == torch.bfloat16:
        a = a.to(torch.float32)
    return a.numpy()


def tensor(a, name: str, *, kinds: str = "f", dtype=None, device=None):
    """A torch tensor of a NumPy array, list or tensor (detached; no copy unless dtype or device
    asks for one). Lists and tuples count as NumPy input; other objects are refused."""
    import torch

    if is_torch(a):
        _check_kind(name, _torch_kind(a), a.dtype, kinds)
        t = a.detach()
    elif isinstance(a, (np.ndarray, list, tuple)):
        arr = _from_array_like(a, name, kinds)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    else:
        raise TypeError(f"{name}: expected a torch.Tensor or NumPy array, got {type(a).__name__}")
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype or t.dtype, device=device or t.device)
    return t


def check_rows(t, name: str, ndim: int | None = 2, *, what: str = "(rows, features)"):
    """ndim dimensions (at least 2 where ndim is None), at least one row and one value per row."""
    shape = tuple(t.shape)
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {what}, got shape {shape}")
    if ndim is None and t.ndim < 2:
        raise ValueError(f"{name}: expected a batch {what} (at least 2 dimensions), got shape {shape}")
    if t.ndim == 1 and shape[0] == 0:
        raise ValueError(f"{name}: expected at least one value, got shape {shape}")
    if t.ndim > 1 and (shape[0] == 0 or int(np.prod(shape[1:])) == 0):
        raise ValueError(f"{name}: expected at least one row and one value per row, got shape {shape}")
    return t


def check_finite(t, name: str):
    """NaN / inf in a floating tensor or array is a ValueError naming the first bad index."""
    if is_torch(t):
        import torch

        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            where = tuple(int(i) for i in (~torch.isfinite(t)).nonzero()[0])
            raise ValueError(f"{name}: contains NaN or inf (first at index {where})")
    elif np.asarray(t).dtype.kind == "f" and not np.isfinite(t).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(t))[0])
        raise ValueError(f"{name}: contains NaN or inf (first at index {where})")
    return t


def data(
    a, name: str, ndim: int | None = 2, *, what: str = "(rows, features)", kinds: str = "f", dtype=None, device=None
):
    """tensor() + check_rows() + check_finite(): the usual float data argument."""
    return check_finite(
        check_rows(tensor(a, name, kinds=kinds, dtype=dtype, device=device), name, ndim, what=what), name
    )


def box_pair(box):
    """None, or the two sides (lo, hi) of a box argument: the one shape check of every box= in
    assay.robustness. A wrong type (anything but None, a tuple or a list) is a TypeError; a bad
    value (a tuple or list without exactly two entries) is a ValueError, as are the sides' own
    value errors (shape, NaN, lo > hi) checked by the callers."""
    if box is None:
        return None
    if not isinstance(box, (tuple, list)):
        raise TypeError(f"box: expected None or a pair (lo, hi), got {type(box).__name__}")
    if len(box) != 2:
        raise ValueError(f"box: expected a pair (lo, hi), got {len(box)} entries")
    return box[0], box[1]


def as_output(out, numpy_out: bool):
    """A torch result (a tensor, or a dict / tuple / list of them) as NumPy when numpy_out, else
    unchanged. NumPy results come back from the host (.cpu())."""
    if not numpy_out:
        return out
    if isinstance(out, dict):
        return {k: as_output(v, True) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return type(out)(as_output(v, True) for v in out)
    return out.detach().cpu().numpy() if is_torch(out) else out


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
            # torch tensors (CPU only) and CUDA arrays (refused) by the tensor rules above
            A = host_array(X, name, kinds=None) if (is_torch(X) or is_cuda_array(X)) else np.asarray(X)
        except (TypeError, ValueError) as exc:
            if is_torch(X) or is_cuda_array(X):
                raise
            raise TypeError(f"{name}: expected a 2-D numeric array, got {_describe(X)} ({exc})") from None
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


def _generated_names(names) -> bool:
    """Names a library invents for a model trained on a plain array (LightGBM's Column_0, ...;
    XGBoost's f0, ...): they carry no column identity, so columns are matched by position."""
    return all(n == f"Column_{i}" for i, n in enumerate(names)) or all(n == f"f{i}" for i, n in enumerate(names))


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
