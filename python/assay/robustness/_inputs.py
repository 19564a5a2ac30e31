"""The one input coercion of assay.robustness and assay.ood.

Data arrays arrive as NumPy arrays, array-likes (lists) or torch tensors. Two entry points:

- host_array: a NumPy view for code that runs on the host. A CUDA tensor is copied to host memory
  only where the caller says so (cuda="copy"); with cuda="error" it is refused.
- tensor: a torch tensor for code that runs in torch. NumPy data is wrapped without a copy; a
  tensor stays on its device and keeps its dtype unless the caller asks for another.

Both check the dtype kind ("f" floating, "i"/"u" integer, "b" bool; kinds=None: the caller checks)
and name the argument in every error. `as_output` turns a torch result back into the kind of array that came in: NumPy in, NumPy
out; a tensor in, a tensor out. This module does not import torch at import time.
"""
from __future__ import annotations

import numpy as np

_KIND_WORDS = {"f": "a floating-point", "fiu": "a real numeric (float or integer)", "biuf": "a real numeric",
               "iu": "an integer", "biu": "an integer or bool"}


def is_torch(a) -> bool:
    return type(a).__module__.startswith("torch") and hasattr(a, "device")


def any_torch(*arrays) -> bool:
    return any(is_torch(a) for a in arrays)


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

    cuda: "copy" copies a CUDA tensor to host memory (for host-only NumPy algorithms: the caller
    documents it); "error" refuses it with a ValueError. bfloat16 (no NumPy twin) becomes float32."""
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


def data(a, name: str, ndim: int | None = 2, *, what: str = "(rows, features)", kinds: str = "f", dtype=None,
         device=None):
    """tensor() + check_rows() + check_finite(): the usual float data argument."""
    return check_finite(check_rows(tensor(a, name, kinds=kinds, dtype=dtype, device=device), name, ndim, what=what),
                        name)


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
