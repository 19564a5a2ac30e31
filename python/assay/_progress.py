"""Progress reporting for long kernel calls: progress=True draws a tqdm bar (if tqdm is
installed), a callable receives (done, total); False / None reports nothing."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def progress_callback(progress, total: int, desc: str):
    """Yields the callback to hand to a kernel (it is called with the count of finished units)."""
    if progress is None or progress is False:
        yield None
        return
    if callable(progress):
        yield lambda done: progress(int(done), int(total))
        return
    if progress is not True:
        raise TypeError(f"progress: expected True, False or a callable(done, total), got {type(progress).__name__}")
    try:
        from tqdm.auto import tqdm
    except ImportError:  # no bar without tqdm; the call still honours Ctrl-C
        yield lambda done: None
        return
    bar = tqdm(total=int(total), desc=desc, unit="row" if "rows" in desc else "it")
    try:
        yield lambda done: bar.update(int(done) - bar.n)
    finally:
        bar.close()
