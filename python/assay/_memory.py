"""A cap on allocations whose size comes from the inputs: refuse early, with advice, instead of
being killed by the operating system half-way through."""

from __future__ import annotations

import os

# Bytes any single input-sized allocation may take (None: 80% of the memory available now).
MAX_BYTES = None


def available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 1 << 62


def check_bytes(need: float, what: str, advice: str):
    """Raise MemoryError naming `what` if `need` bytes exceed the cap."""
    limit = MAX_BYTES if MAX_BYTES is not None else int(0.8 * available_bytes())
    if need > limit:
        raise MemoryError(f"{what} would take {need / 2**30:.2f} GiB (limit {limit / 2**30:.2f} GiB); {advice}")
