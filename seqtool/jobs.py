"""The seqtool jobs running a model on this machine, so that they can share its CPUs.

Each process that trains, evaluates or predicts registers itself while it runs
(:func:`running_model`): one file per process, named by its pid, in a per-user folder
(:func:`jobs_folder`). :func:`current_sharing` reads the folder: how many processes share the CPUs,
and this process's place among them. torchrun's processes on this machine are one job of as many
processes. Entries of processes that died without removing theirs are removed by whoever reads them.

Light at import (no torch), and nothing here stops a run: where the folder cannot be made or
written, a process counts itself (and torchrun's processes) alone, as it did before this registry.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

__all__ = ["local_processes", "jobs_folder", "Registered", "registered_processes", "running_model", "is_registered", "Sharing", "current_sharing"]


def local_processes() -> int:
    """The processes torchrun started on this machine (``LOCAL_WORLD_SIZE``, else ``WORLD_SIZE``,
    as seqtool.training.distributed reads them); 1 outside torchrun."""
    for name in ("LOCAL_WORLD_SIZE", "WORLD_SIZE"):
        try:
            return max(1, int(os.environ[name]))
        except (KeyError, ValueError):
            continue
    return 1


def _local_rank(size: int) -> int:
    try:
        return min(max(0, int(os.environ.get("LOCAL_RANK", "0"))), size - 1)
    except ValueError:
        return 0


def _job() -> tuple[str, int, int]:
    """This process's job, the job's processes on this machine, and this process's place among
    them. torchrun's processes on this machine are one job (they share its rendezvous address,
    which no two running jobs can share); any other process is a job of its own."""
    size = local_processes()
    if size == 1:
        return str(os.getpid()), 1, 0
    return f"torchrun@{os.environ.get('MASTER_ADDR', '')}:{os.environ.get('MASTER_PORT', '')}", size, _local_rank(size)


def jobs_folder() -> Path:
    """Where running seqtool processes register, per user: under ``$XDG_RUNTIME_DIR`` (private to
    the user, emptied at logout) when it is set, else under the temp folder."""
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime_dir) / "seqtool" if runtime_dir else Path(tempfile.gettempdir()) / f"seqtool-{os.getuid()}"
    return base / "jobs"


def _private_folder(folder: Path) -> bool:
    """Make ``folder`` (mode 0700) unless it exists; True when it is a folder of this user that no
    one else may write to (the temp folder is shared: another user could have made it first)."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks after boot, from /proc), None where there is no
    /proc or no such process: a pid and its start time name one process, even after pid reuse."""
    text = _read(Path(f"/proc/{pid}/stat"))
    # field 2, the command name, may hold spaces and parentheses: count the fields after its ")"
    fields = text.rsplit(")", 1)[-1].split() if text else []
    return fields[19] if len(fields) > 19 else None  # field 22, starttime


@dataclass(frozen=True)
class Registered:
    """One registered process: its job, the job's processes on this machine, when it registered
    (``time.time()``), and its start time from /proc ("-" where there is none)."""

    pid: int
    job: str
    size: int
    since: float
    start: str

    def line(self) -> str:
        """The entry file's one line; its name is the pid."""
        return f"{self.job} {self.size} {self.since!r} {self.start}\n"

    @classmethod
    def parse(cls, pid: int, text: str | None) -> Registered | None:
        fields = (text or "").split()
        try:
            return cls(pid, fields[0], max(1, int(fields[1])), float(fields[2]), fields[3])
        except (IndexError, ValueError):
            return None

    def alive(self) -> bool:
        if self.start != "-":
            return _process_start(self.pid) == self.start  # not fooled by a new process given a dead one's pid
        try:
            os.kill(self.pid, 0)  # signal 0 only asks whether the process exists
        except ProcessLookupError:
            return False
        except OSError:  # it exists, but is not ours to signal
            return True
        return True


def registered_processes(folder: Path) -> list[Registered]:
    """The live processes registered in ``folder``. The files of dead ones (a process killed
    before it could remove its own) are removed; files that are not entries are skipped."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        if not name.isdigit():  # ".123.tmp": an entry being written
            continue
        entry = Registered.parse(int(name), _read(folder / name))
        if entry is None:  # removed since the listing: its process has just ended
            continue
        if entry.alive():
            found.append(entry)
        else:
            with contextlib.suppress(OSError):
                (folder / name).unlink()
    return found


_lock = threading.Lock()
_depth = 0  # nested running_model blocks (a training inside a tuning run, say) share one entry
_entry: Path | None = None  # this process's entry while it is registered; None when not, or when that failed


def _register() -> Path | None:
    """Write this process's entry; None when that cannot be done. The folder's privacy check and
    os.kill(pid, 0) are POSIX: elsewhere nothing registers."""
    if not hasattr(os, "getuid"):
        return None
    folder = jobs_folder()
    if not (_private_folder(folder.parent) and _private_folder(folder)):
        return None
    job, size, _ = _job()
    pid = os.getpid()
    entry, partial = folder / str(pid), folder / f".{pid}.tmp"
    try:
        partial.write_text(Registered(pid, job, size, time.time(), _process_start(pid) or "-").line())
        os.replace(partial, entry)  # a reader sees the whole entry or none
    except OSError:
        return None
    return entry


@contextlib.contextmanager
def running_model() -> Iterator[None]:
    """This process counts as running a model for the block (or, as ``@running_model()``, for the
    function): other seqtool processes leave it its share of the CPUs."""
    global _depth, _entry
    with _lock:
        _depth += 1
        if _depth == 1:
            _entry = _register()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _entry is not None:
                with contextlib.suppress(OSError):
                    _entry.unlink()
                _entry = None


def is_registered() -> bool:
    """True while this process has an entry: only then can its share change as others come and go."""
    return _entry is not None


def _forget_registration() -> None:
    """A forked child is a process of its own: it registers itself when it runs a model, and never
    removes its parent's entry."""
    global _lock, _depth, _entry
    _lock, _depth, _entry = threading.Lock(), 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_registration)


@dataclass(frozen=True)
class Sharing:
    """The processes dividing the CPUs, and this process's place among them in the order their
    jobs registered (None when that order is not known)."""

    processes: int
    place: int | None = None

    def threads(self, cpus: int) -> int:
        """This process's threads out of ``cpus``, at least 1."""
        # CPUs that do not divide evenly: rounding up would oversubscribe them (2 threads each for
        # 2 jobs on 3 CPUs), which costs far more than an idle CPU (4 threads on 2 cores made each
        # job 4x slower in benchmarks/threads.py), and rounding down alone leaves cpus % processes
        # CPUs idle. So the first cpus % processes processes take one thread more: every CPU busy,
        # none shared. Without a known order nobody does, as two could both take the same one.
        extra = self.place is not None and self.place < cpus % self.processes
        return max(1, cpus // self.processes + extra)


def current_sharing(processes: int = 1) -> Sharing:
    """Who shares the CPUs with this process: while it is registered, the processes of the live
    registered jobs (its own always included); else ``processes`` (a caller's count of processes it
    runs side by side) times torchrun's local processes, the floor in both cases."""
    job, size, rank = _job()
    counted = max(1, processes) * size
    if _entry is None:
        return Sharing(counted)
    jobs = {job: (math.inf, size)}  # job: (when its first process registered, its processes)
    for entry in registered_processes(_entry.parent):
        first = jobs.get(entry.job, (math.inf, 0))[0]
        jobs[entry.job] = (min(first, entry.since), entry.size)
    order = sorted(jobs, key=lambda key: (jobs[key][0], key))
    before = sum(jobs[key][1] for key in order[: order.index(job)])
    return Sharing(max(counted, sum(size for _, size in jobs.values())), before + rank)
