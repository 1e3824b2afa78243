"""Writing a file the user named without ever destroying what is there.

- A regular file, or a new one, is written to a temporary file beside it, which replaces it only
  once complete: the path holds the old file or the whole new one, never half of either. The new
  file gets the mode a plain ``open`` gives (0666 less the umask) or, replacing a file, that
  file's mode.
- Anything else at the path (a device such as /dev/null, a FIFO) is written through, never
  replaced: renaming a file over /dev/null would destroy the device for every program. A symlink
  is followed, and what it points to is written by these same rules (the link stays a link).
- Temporary files are named ``.NAME.HOST-PID.XXXXXXXX.partial``; the ones a process of this host
  left behind when it died (kill -9, the out-of-memory killer) are removed when NAME is next
  written.
- What cannot be written is an :class:`~seqtool.errors.OutputError`, one line naming the path;
  :func:`check_output` and :func:`check_folder` find the usual causes before any work is done,
  so that a long training run never ends on them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from seqtool.errors import OutputError

SUFFIX = ".partial"
#: how much of the target's name a temporary file's name repeats: the rest must fit in 255 bytes
_NAME = 100
#: what follows ``.NAME.`` in a temporary file's name
_OWNER = re.compile(r"(?P<host>.+)-(?P<pid>[0-9]+)\.[0-9a-f]{8}" + re.escape(SUFFIX))


def check_output(path: Path, *, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse now what writing ``path`` would fail on later: a folder, a missing or read-only
    folder, a read-only file; and one of ``inputs`` (the files the run reads: a typo must not
    replace them)."""
    real = _followed(path)
    for source in inputs:
        if real.exists() and os.path.exists(source) and os.path.samefile(real, source):
            raise OutputError(f"{path}: that is the input {source}; write to another path")
    if real.is_dir():
        raise OutputError(f"{path}: a folder; give a file path")
    if real.exists() and not os.access(real, os.W_OK):
        raise OutputError(f"{path}: read-only (mode {stat.S_IMODE(real.stat().st_mode):o}); make it writable, or write to another path")
    if real.exists() and not real.is_file():
        return  # a device or a FIFO: written through, whatever its folder allows
    folder = real.parent if Path(path).is_symlink() else Path(path).parent
    if not folder.exists():
        raise OutputError(f"{path}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise OutputError(f"{path}: {folder} is not a folder")
    os.unlink(_create_temporary(real.parent, real.name, path))


def check_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if needed, and make sure files can be written in it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{folder}: a file, not a folder; give a folder path") from None
    except OSError as error:
        raise OutputError(f"{folder}: cannot create the folder: {error.strerror}") from None
    os.unlink(_create_temporary(folder, "probe", folder))


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path to write ``target``'s whole new content to; once the block ends without
    an exception (Ctrl-C included), it replaces a regular ``target`` or is copied into anything
    else (see the module's rules). It is removed in every case."""
    real = _followed(target)
    through = _written_through(real)
    temporary = _create_temporary(Path(tempfile.gettempdir()) if through else real.parent, real.name, target)
    try:
        yield temporary
        if through:
            with write_errors(target), open(temporary, "rb") as source, open(real, "wb") as sink:
                shutil.copyfileobj(source, sink)
        else:
            _install(temporary, real, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def output_file(target: Path) -> Iterator[BinaryIO]:
    """A binary stream for ``target``: for a regular file (or a new one), a temporary file that
    replaces it when the block ends without an exception; for anything else, ``target`` itself
    (a FIFO's reader gets each result as it is written). The caller turns its own write errors
    into messages with :func:`write_errors`."""
    real = _followed(target)
    through = _written_through(real)
    temporary = None if through else _create_temporary(real.parent, real.name, target)
    try:
        with write_errors(target):
            stream = open(real if through else temporary, "wb")
        try:
            yield stream
            with write_errors(target):
                stream.close()
        finally:
            with contextlib.suppress(OSError):
                stream.close()  # after a failure, quietly: the first error is the one to report
        if temporary is not None:
            _install(temporary, real, target)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def write_file(target: Path, data: bytes) -> None:
    """Write ``data`` as the whole content of ``target``, by the module's rules."""
    with output_file(target) as stream, write_errors(target):
        stream.write(data)


@contextlib.contextmanager
def write_errors(path: str | Path) -> Iterator[None]:
    """Turns a failed write (a full disk, a device that refuses) into one line naming ``path``.
    A broken pipe passes: the reader went away (``| head``), which ends a run quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None


def _followed(path: str | Path) -> Path:
    """``path`` with symlinks resolved: what is written is what a link points to."""
    return Path(os.path.realpath(path))


def _written_through(real: Path) -> bool:
    return real.exists() and not real.is_file()


def _install(temporary: Path, real: Path, target: str | Path) -> None:
    """Give the complete ``temporary`` the mode of the file it replaces, and put it in place."""
    with write_errors(target):
        os.chmod(temporary, stat.S_IMODE(real.stat().st_mode) if real.exists() else _new_file_mode())
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, real)


def _new_file_mode() -> int:
    """0666 less the umask: the mode a plain ``open`` gives a new file. (A writer such as
    safetensors may make the temporary file anew, with a mode of its own.) The umask can only be
    read by setting it, so it is set back at once."""
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask


def _create_temporary(folder: Path, name: str, target: str | Path) -> Path:
    """A new empty file in ``folder`` named for ``name`` and this process (see the module)."""
    _remove_stale(folder, name)
    owner = f"{socket.gethostname()}-{os.getpid()}"
    while True:
        path = folder / f".{name[:_NAME]}.{owner}.{secrets.token_hex(4)}{SUFFIX}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return path
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputError(f"{target}: cannot write in {folder}: {error.strerror}") from None


def _remove_stale(folder: Path, name: str) -> None:
    """Remove the temporary files for ``name`` whose process, on this host, has ended."""
    prefix = f".{name[:_NAME]}."
    host = socket.gethostname()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            owner = _OWNER.fullmatch(entry.name[len(prefix) :]) if entry.name.startswith(prefix) else None
            if owner and owner["host"] == host and not _running(int(owner["pid"])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill would end the process there, not probe it: never remove
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
