"""How many CPU threads torch may use here, so that processes never oversubscribe the cores.

torch's default is one intra-op thread per core the machine has, whatever share of them this
process may actually use: in a container limited to 2 CPUs on a 64-core host it starts 64, and two
jobs side by side on 2 cores start 4, which then spin against each other. ``auto`` counts the CPUs
this process may use (its affinity, capped by a cgroup CPU quota) and divides them among the
seqtool processes running a model on this machine (seqtool.jobs: torchrun's count as their job's),
and a training follows its share as other jobs start and end (:class:`AutoThreads`). An
``OMP_NUM_THREADS`` set in the environment is an explicit choice and ``auto`` keeps it, as torch
itself does (note that torchrun sets it to 1 for its workers when it is not set).

Light at import (no torch): ``apply_threads`` imports torch when it runs.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable

from seqtool.jobs import current_sharing, is_registered

__all__ = [
    "available_cpus", "cgroup_cpu_limit", "parse_cpu_max", "parse_cfs_quota", "omp_threads", "resolve_threads",
    "requested_threads", "host_threads", "threads_for", "apply_threads", "threads_message", "AutoThreads",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
#: where cgroup v1 mounts the cpu controller, under the cgroup root
V1_CPU_DIRS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")
#: how often a training re-reads its share (seconds): threads change hands within seconds of a job
#: starting or ending, and in between the loop pays one clock read per batch
RECHECK_SECONDS = 5.0


def parse_cpu_max(text: str) -> float | None:
    """cgroup v2 ``cpu.max`` ("quota period", or "max period" for no limit) -> CPUs, or None."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    try:
        quota = int(fields[0])
        period = int(fields[1]) if len(fields) > 1 else 100_000
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def parse_cfs_quota(quota_text: str, period_text: str) -> float | None:
    """cgroup v1 ``cpu.cfs_quota_us`` (-1: no limit) and ``cpu.cfs_period_us`` -> CPUs, or None."""
    try:
        quota, period = int(quota_text.strip()), int(period_text.strip())
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _memberships(proc_cgroup: Path) -> dict[str, str]:
    """``/proc/self/cgroup`` as {controller: path}; "" is the v2 unified hierarchy."""
    found: dict[str, str] = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                found[controller] = parts[2]
    return found


def _up_from(base: Path, member: str) -> list[Path]:
    """``base/member`` and each of its parents up to ``base``: a limit anywhere above applies."""
    parts = [p for p in member.split("/") if p and p != ".."]
    return [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def cgroup_cpu_limit(root: Path | str = CGROUP_ROOT, proc_cgroup: Path | str = PROC_CGROUP) -> float | None:
    """The CPUs a cgroup quota allows this process (quota / period; the smallest along its
    hierarchy, v2 or v1), or None when no quota is set or nothing can be read."""
    root, proc_cgroup = Path(root), Path(proc_cgroup)
    member = _memberships(proc_cgroup)
    limits = []
    for base in (root, root / "unified"):  # v2, or the v2 part of a hybrid layout
        for folder in _up_from(base, member.get("", "/")):
            text = _read(folder / "cpu.max")
            if text is not None and (limit := parse_cpu_max(text)) is not None:
                limits.append(limit)
    for name in V1_CPU_DIRS:
        for folder in _up_from(root / name, member.get("cpu", "/")):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota is not None and period is not None and (limit := parse_cfs_quota(quota, period)) is not None:
                limits.append(limit)
    return min(limits) if limits else None


def available_cpus(root: Path | str = CGROUP_ROOT, proc_cgroup: Path | str = PROC_CGROUP) -> int:
    """The CPUs this process may use: its affinity (``os.sched_getaffinity``; ``os.cpu_count``
    where that does not exist), capped by the cgroup CPU quota rounded up; at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root, proc_cgroup)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def omp_threads() -> int | None:
    """``OMP_NUM_THREADS`` when it is set to a whole number >= 1, else None."""
    try:
        value = int(os.environ.get("OMP_NUM_THREADS", "").strip())
    except ValueError:
        return None
    return value if value >= 1 else None


def resolve_threads(value: int | str, processes: int = 1) -> int:
    """The torch threads for one process: ``value`` itself when it is a number, else (``auto``)
    ``OMP_NUM_THREADS`` when set, else this process's share of the available CPUs
    (:func:`seqtool.jobs.current_sharing`: the registered seqtool processes, at least ``processes``
    times torchrun's local processes), at least 1."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"threads must be at least 1, not {value}")
        return value
    if value != "auto":
        raise ValueError(f'threads must be "auto" or a whole number >= 1, not {value!r}')
    omp = omp_threads()
    if omp is not None:
        return omp
    return current_sharing(processes).threads(available_cpus())


_applied: int | None = None  # the intra-op threads apply_threads last left torch with
_host: int | None = None  # torch's intra-op threads as the host process chose them


def host_threads() -> int:
    """torch's intra-op threads as the host process chose them: what they were before seqtool
    first set them, or what the host set since (any count seqtool did not leave)."""
    global _host
    import torch

    now = torch.get_num_threads()
    if _host is None or now != _applied:
        _host = now
    return _host


def threads_for(value: int | str) -> int:
    """:func:`resolve_threads` for this process as it stands: ``auto`` never takes more threads
    than the host process had chosen (:func:`host_threads`), so a host that chose fewer (a
    benchmark, a notebook, a server calling ``seqtool.train``) keeps its choice, while a training
    that gave threads up to another job may take them back; a number is applied as given."""
    threads = resolve_threads(value)
    if value == "auto":
        threads = min(threads, host_threads())
    return threads


_interop_set = False


def apply_threads(threads: int) -> int:
    """Set torch's intra-op and inter-op threads; returns the intra-op threads now in effect.
    Inter-op threads can be set once per process, before any parallel work: a later call
    (demo's evaluate after train, say) keeps the first."""
    global _interop_set, _applied
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if not _interop_set:
        _interop_set = True
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # parallel work already started, or someone else set it first
            pass
    _applied = torch.get_num_threads()
    return _applied


def threads_message(value: Any, threads: int, processes: int = 1) -> str:
    """The training log's line: ``using 2 torch threads (auto: 2 CPUs available)``."""
    cpus, sharing = available_cpus(), current_sharing(processes).processes
    available = f"{cpus} CPU{'s' if cpus != 1 else ''} available"
    using = f"using {threads} torch thread{'s' if threads != 1 else ''}"
    if value == "auto" and omp_threads() == threads:
        return f"{using} (auto: OMP_NUM_THREADS={threads}; {available})"
    if value == "auto":
        return f"{using} (auto: {available}{f', shared by {sharing} seqtool processes' if sharing > 1 else ''})"
    if threads * sharing > cpus:  # asked for explicitly, so done, but worth knowing
        return f"{using} (threads = {value}, more than the {available}{f' to {sharing} seqtool processes' if sharing > 1 else ''})"
    return f"{using} (threads = {value})"


def requested_threads(given: int | str | None = None) -> int | str:
    """The threads setting for a verb without Settings (evaluate, predict): ``given`` (the flag)
    when not None, else ``SEQTOOL_THREADS``, else ``auto``."""
    if given is not None:
        return given
    from seqtool.settings import environment_settings

    return environment_settings().get("threads", "auto")


class AutoThreads:
    """Keeps a training's ``auto`` threads at its share while it runs: a job started first gives
    threads up when a second starts, and takes them back when that one ends.

    :meth:`check` is called once per batch and reads a clock; every ``every`` seconds it reads the
    registry and, when the share changed, sets torch's threads and says so (``say``, one line).
    It does nothing for a number or an ``OMP_NUM_THREADS`` (explicit choices are never changed),
    nor in a process that is not registered, whose share cannot change."""

    def __init__(
        self, value: int | str, say: Callable[[str], None], *, every: float = RECHECK_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.follows = value == "auto" and omp_threads() is None and is_registered()
        self.say, self.every, self.clock = say, every, clock
        self.due = clock() + every

    def check(self) -> None:
        if self.follows and self.clock() >= self.due:
            self.due = self.clock() + self.every
            self.update()

    def update(self) -> None:
        """Take this process's share now."""
        import torch

        threads = threads_for("auto")
        if threads != torch.get_num_threads():
            self.say(f"now {threads_message('auto', apply_threads(threads))}")
