"""Progress reporting for long kernel calls: progress=True draws a tqdm bar on a terminal or in a
notebook (if tqdm is installed), and elsewhere (a log: stderr is not a TTY) prints at most one
line per 10% to stderr; a callable receives (done, total); False / None reports nothing."""

from __future__ import annotations

import contextlib
import sys


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
    bar_class = _tqdm_class()
    if bar_class is None:
        # A bar redraws itself with carriage returns: in a log each redraw becomes a line.
        yield TenthLines(total, desc, sys.stderr)
        return
    bar = bar_class(total=int(total), desc=desc, unit="row" if "rows" in desc else "it")
    try:
        yield lambda done: bar.update(int(done) - bar.n)
    finally:
        bar.close()


class TenthLines:
    """A callback that writes `desc: 30% (300/1000)` each time another tenth of `total` is done:
    at most 10 lines per call (none at 0%), whatever the number of updates."""

    def __init__(self, total: int, desc: str, stream):
        self.total, self.desc, self.stream = int(total), desc, stream
        self.tenths = 0  # tenths already reported

    def __call__(self, done):
        done = int(done)
        tenths = 10 if self.total <= 0 else min(10, 10 * done // self.total)
        if tenths <= self.tenths:
            return
        self.tenths = tenths
        self.stream.write(f"{self.desc}: {10 * tenths}% ({done}/{self.total})\n")
        self.stream.flush()


def _tqdm_class():
    """tqdm's bar where one can be drawn: a notebook widget, or a terminal on stderr; else None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    widget = any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__)
    return tqdm if widget or _is_terminal(sys.stderr) else None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
