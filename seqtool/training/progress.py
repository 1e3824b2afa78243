"""Progress on stderr: a rich bar on a terminal, one line per epoch otherwise, nothing with --quiet."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator


class Progress:
    def __init__(self, *, enabled: bool | None = None, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bars = (not quiet) and (sys.stderr.isatty() if enabled is None else enabled)

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        """A bar for ``total`` steps; yields the function that advances it by one."""
        if not self.bars:
            yield lambda: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        from seqtool.console import stderr

        with RichProgress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=stderr(), transient=True,
        ) as bar:
            handle = bar.add_task(description, total=total)
            yield lambda: bar.advance(handle)

    def epoch_done(self, record: dict[str, Any], monitor: str) -> None:
        if self.quiet:
            return
        valid = record["valid"]
        shown = {k: valid[k] for k in dict.fromkeys(["loss", monitor]) if k in valid}
        parts = "  ".join(f"valid {k} {v:.4f}" for k, v in shown.items())
        self.say(f"epoch {record['epoch']}: train loss {record['train_loss']:.4f}  {parts}  ({record['seconds']:.1f} s)")

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)
