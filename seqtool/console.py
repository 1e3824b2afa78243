"""Rich consoles for stdout (data) and stderr (everything else), and standard streams that a
closed or vanished terminal cannot turn into a failure."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console


@functools.cache
def stderr() -> "Console":
    from rich.console import Console  # here: the entry point imports this module, and starts fast

    return Console(stderr=True)


@functools.cache
def stdout() -> "Console":
    from rich.console import Console

    return Console()


def guard_standard_streams() -> None:
    """Make the standard streams safe, once, at start-up (the command line's entry point does).

    - A closed stdin, stdout or stderr (``>&-``) is opened on /dev/null: its descriptor would
      otherwise go to the next file opened (a model being written), and whatever C code prints
      would land in it. A closed stdout then takes the output quietly, and the run ends with 0.
    - stderr never raises: progress or a note that cannot be shown (the reader of a ``2>`` pipe
      went away) must not stop a training run.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)  # the lowest free number: often this one
            if devnull != descriptor:
                os.dup2(devnull, descriptor)
                os.close(devnull)
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = _Unfailing(sys.stderr if sys.stderr is not None else open(2, "w", encoding="utf-8", closefd=False))


class _Unfailing:
    """A text stream whose write errors are dropped: for stderr, which only carries messages."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
