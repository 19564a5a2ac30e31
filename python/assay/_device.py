"""Which device runs a kernel: "auto" | "cpu" | "cuda" (`device=`: where; `backend=`, where a
function has one, chooses the implementation on that device).

Honest fallback (README.md, "GPU"): "auto" uses the GPU when there is one and this build has the CUDA
kernels, else the CPU; an explicit "cuda" that cannot run raises, saying why, instead of falling back.
"""

from __future__ import annotations

from . import _core

_HOW_TO_BUILD = (
    "this assay was built without CUDA; build it with the CUDA kernels on a machine with "
    "nvcc: ASSAY_CUDA=ON pip install . (see README, 'GPU')"
)


def cuda_available() -> bool:
    """True when this build has the CUDA kernels and a CUDA device is present."""
    return bool(_core.built_with_cuda) and _core.cuda_device_count() > 0


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when available else "cpu"; an explicit "cuda" that cannot run raises."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device: expected 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda":
        if not _core.built_with_cuda:
            raise RuntimeError(f"device='cuda': {_HOW_TO_BUILD}")
        if _core.cuda_device_count() == 0:
            raise RuntimeError(
                "device='cuda': this assay has the CUDA kernels but no CUDA device is visible "
                "(check the driver and CUDA_VISIBLE_DEVICES)"
            )
    return device
