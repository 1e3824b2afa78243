"""One training run per model file and per checkpoint folder.

Two ``train -o same.model`` runs would both report success while the second rename silently
replaced the first model; two runs sharing a ``--checkpoint-dir`` would overwrite each other's
checkpoints and resume into a mix. A run therefore holds an exclusive ``flock`` on a lock file
next to each path it writes (``.same.model.lock``) for as long as it trains, and a second run is
refused at once with one line naming the first one's process id.

The kernel releases a flock when its holder dies, so a ``kill -9`` never leaves a lock that blocks
the next run; the file left behind is taken over and removed by the next run to hold it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import inspect
import os
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from seqtool.errors import OutputError
from seqtool.training import distributed

Function = TypeVar("Function", bound=Callable[..., Any])

#: the parameters of a verb that name what it writes -> the flag that sets each, for messages
FLAGS = {"output": "-o", "checkpoint_dir": "--checkpoint-dir"}


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: beside the file it names, so two runs reaching one model
    through a symlink and its target claim the same lock."""
    real = target.resolve()
    return real.parent / f".{real.name}.lock"


@contextlib.contextmanager
def exclusive(target: Path, flag: str) -> Iterator[None]:
    """Hold the lock of ``target`` for the block; raise :class:`OutputError` when another process
    holds it. A path that is not ours to put a file beside (a device such as /dev/null, a folder
    that cannot be written) is not locked: nothing is replaced there, and the output checks
    report the unwritable folder in their own words."""
    target = Path(target)
    if target.exists() and not (target.is_file() or target.is_dir()):
        yield
        return
    handle = _acquire(target, flag)
    try:
        yield
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                os.unlink(lock_path(target))  # while still held: no other run can be between
            os.close(handle)


def exclusive_outputs(function: Function) -> Function:
    """Run ``function`` holding the locks of the paths its ``output`` and ``checkpoint_dir``
    arguments name (those given); only the main process of a torchrun job writes, so only it locks."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(*args, **kwargs).arguments
        with contextlib.ExitStack() as held:
            if distributed.is_main():
                for name, flag in FLAGS.items():
                    if arguments.get(name) is not None:
                        held.enter_context(exclusive(Path(arguments[name]), flag))
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _acquire(target: Path, flag: str) -> int | None:
    """The open, locked lock file of ``target``, or None when it cannot be created."""
    path = lock_path(target)
    while True:
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise OutputError(
                f"{target}: another seqtool run (process {holder}) is writing it now; wait for that run to end, "
                f"or give another {flag}"
            ) from None
        # The holder before us may have removed the file between our open and our lock: then we
        # hold the lock of a file nobody else sees, and must start again with the new one.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(current, os.fstat(handle)):
            os.ftruncate(handle, 0)
            os.pwrite(handle, str(os.getpid()).encode(), 0)
            return handle
        os.close(handle)
