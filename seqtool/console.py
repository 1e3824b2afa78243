"""Rich consoles for stdout (data) and stderr (everything else)."""

from __future__ import annotations

import functools

from rich.console import Console


@functools.cache
def stderr() -> Console:
    return Console(stderr=True)


@functools.cache
def stdout() -> Console:
    return Console()
