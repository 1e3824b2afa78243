"""Finding and loading plugins.

Tasks are found from entry-point metadata alone (group ``seqtool``, entry-point name = task
name), so listing them imports no plugin. A plugin module is imported only when one of its tasks
runs, or by ``seqtool plugins --check``. Whatever goes wrong inside a plugin becomes a
:class:`PluginError` that names the plugin and how to switch it off; it never takes down the
commands that do not need that plugin.

Input and output formats (the ``register_readers`` and ``register_writers`` hooks) are collected
from every enabled plugin, those of the ``seqtool.formats`` group (plugins with formats and no
task) included, the first time a verb meets a format or file extension that is not built in, or
by ``seqtool plugins --check``; never by ``--help``. A built-in format always wins over a
plugin's, and a clash is a problem ``seqtool plugins --check`` names with both sides.

``SEQTOOL_LOAD_PLUGINS`` limits which distributions are used: unset means all, empty means none,
``a,b`` means only distributions ``a`` and ``b``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import re
import sys
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Iterator

import pluggy

from seqtool import API_VERSION, hookspecs
from seqtool.errors import ENV_FILTER, PluginError, disable_hint
from seqtool.formats import Format, Formats, Kind, registrar
from seqtool.io import readers, writers
from seqtool.task import Task

GROUP = "seqtool"
#: entry points of plugins that add input or output formats and no task
FORMATS_GROUP = "seqtool.formats"
#: the distribution whose tasks are built in: a third party's task of the same name never replaces one
BUILT_IN = "seqtool"


@dataclass(frozen=True)
class TaskEntry:
    """A task as entry-point metadata declares it: nothing imported yet. (For an entry point of
    the ``seqtool.formats`` group, ``task`` is the entry point's name and names no task.)"""

    task: str
    module: str
    distribution: str
    version: str


@dataclass
class PluginInfo:
    """One plugin (module) for ``seqtool plugins``."""

    name: str
    distribution: str
    version: str
    tasks: list[str] = field(default_factory=list)
    error: str | None = None
    #: the formats it registers; known only once it is imported (``--check``), None before
    readers: list[str] | None = None
    writers: list[str] | None = None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _allowed_distributions() -> set[str] | None:
    value = os.environ.get(ENV_FILTER)
    if value is None:
        return None
    return {_normalise(name) for name in value.split(",") if name.strip()}


def _entry_of(ep: EntryPoint) -> TaskEntry:
    dist = ep.dist
    return TaskEntry(ep.name, ep.value, dist.name if dist else "?", dist.version if dist else "?")


def _scan(group: str) -> Iterator[TaskEntry]:
    """The entry points of ``group`` that ``SEQTOOL_LOAD_PLUGINS`` allows, each once."""
    allowed = _allowed_distributions()
    seen: set[tuple[str, str, str]] = set()
    for ep in entry_points(group=group):
        entry = _entry_of(ep)
        key = (entry.task, entry.module, _normalise(entry.distribution))
        if key in seen:  # the same distribution seen twice on sys.path
            continue
        seen.add(key)
        if allowed is None or _normalise(entry.distribution) in allowed:
            yield entry


class PluginRegistry:
    """The process's plugin manager: entry points, on-demand loading and task lookup."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.tasks: dict[str, Task] = {}
        self.loaded: dict[str, list[Task]] = {}
        #: third-party plugin module -> why its task is not used (a built-in task has that name)
        self.shadowed: dict[str, str] = {}
        self._formats: Formats | None = None

    # -- metadata only -------------------------------------------------------------------------

    def entries(self) -> dict[str, list[TaskEntry]]:
        """Task name -> the entry points declaring it (more than one is a conflict). A built-in
        task keeps its name: a third party's task of that name is left out, with a warning."""
        found: dict[str, list[TaskEntry]] = defaultdict(list)
        for entry in _scan(GROUP):
            found[entry.task].append(entry)
        for name, entries in found.items():
            built_in = [e for e in entries if _normalise(e.distribution) == BUILT_IN]
            if built_in and len(entries) > len(built_in):
                for other in entries:
                    if other not in built_in:
                        self.shadowed[other.module] = _shadowed_problem(name, other)
                found[name] = built_in
        for module, message in self.shadowed.items():
            _warn_once(f"plugin {module}: {message}")
        return dict(found)

    def format_entries(self) -> list[TaskEntry]:
        """The entry points of the ``seqtool.formats`` group: plugins with formats and no task."""
        return list(_scan(FORMATS_GROUP))

    def task_names(self) -> list[str]:
        return sorted(set(self.entries()) | set(self.tasks))

    def conflict(self, name: str, entries: list[TaskEntry]) -> str | None:
        if len(entries) < 2:
            return None
        names = " and ".join(f"{e.distribution} ({e.module})" for e in entries)
        return f"task {name!r} is provided by both {names}; uninstall one, or choose with {ENV_FILTER}"

    # -- loading -------------------------------------------------------------------------------

    def task(self, name: str) -> Task:
        """The task called ``name``, importing its plugin if needed."""
        if name in self.tasks:
            return self.tasks[name]
        entries = self.entries().get(name)
        if not entries:
            known = ", ".join(self.task_names()) or "none installed"
            raise PluginError(f"no task {name!r}; tasks: {known} (`seqtool plugins` lists plugins)")
        problem = self.conflict(name, entries)
        if problem:
            raise PluginError(problem)
        self.load(entries[0])
        if name not in self.tasks:
            raise PluginError(
                f"plugin {entries[0].module} ({entries[0].distribution}) declares task {name!r} as an entry point "
                f"but registers no task of that name; {disable_hint(entries[0].distribution)}"
            )
        return self.tasks[name]

    def load(self, entry: TaskEntry) -> list[Task]:
        """Import and register the plugin behind ``entry`` (once)."""
        if entry.module in self.loaded:
            return self.loaded[entry.module]
        where = f"plugin {entry.module} ({entry.distribution} {entry.version})"
        try:
            # What a plugin prints at import goes to stderr: stdout carries results (`--json`).
            with contextlib.redirect_stdout(sys.stderr):
                module_name, _, attribute = entry.module.partition(":")
                plugin: Any = importlib.import_module(module_name)
                if attribute:
                    plugin = getattr(plugin, attribute)
        # SystemExit too: a plugin's sys.exit() at import must not end `seqtool plugins --check`
        except (Exception, SystemExit) as error:  # a plugin's own bug must not surface as our traceback
            raise PluginError(f"{where} failed to import: {type(error).__name__}: {error}; {disable_hint(entry.distribution)}") from error
        declared = {e.task for entries in self.entries().values() for e in entries if e.module == entry.module}
        try:
            tasks = self.register(plugin, name=entry.module, version=entry.version, declared=declared)
        except PluginError as error:
            raise PluginError(f"{where}: {error}; {disable_hint(entry.distribution)}") from None
        self.loaded[entry.module] = tasks
        return tasks

    def register(self, plugin: Any, *, name: str | None = None, version: str = "", declared: set[str] | None = None) -> list[Task]:
        """Register a plugin object or module and the tasks its hook returns.

        ``declared`` (entry-point task names) is checked when given; plugins registered directly,
        as tests do through :mod:`seqtool.testing`, skip that check.
        """
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        _check_api(plugin)
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except (pluggy.PluginValidationError, ValueError) as error:
            self.manager.unregister(plugin)
            raise PluginError(f"invalid hook: {error}") from None
        registered: list[Task] = []
        others = [p for p in self.manager.get_plugins() if p is not plugin]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                self.manager.subset_hook_caller("register_tasks", remove_plugins=others)(register=registered.append)
        except (Exception, SystemExit) as error:
            self.manager.unregister(plugin)
            raise PluginError(f"register_tasks failed: {type(error).__name__}: {error}") from error
        try:
            _validate(registered, declared, self.tasks)
        except PluginError:
            self.manager.unregister(plugin)
            raise
        for task in registered:
            task.plugin, task.plugin_version = name, version
            self.tasks[task.name] = task
        self._formats = None  # its formats are collected with the others' when next needed
        return registered

    def unregister(self, plugin: Any) -> None:
        """Remove a plugin and its tasks (the other half of :meth:`register`)."""
        name = self.manager.get_name(plugin)
        self.manager.unregister(plugin)
        self.tasks = {k: t for k, t in self.tasks.items() if t.plugin != name}
        self.loaded.pop(name, None)
        self._formats = None

    # -- formats -------------------------------------------------------------------------------

    def formats(self) -> Formats:
        """The readers and writers of every enabled plugin, imported and collected on first use."""
        if self._formats is None:
            self._formats = self._collect_formats()
        return self._formats

    def _collect_formats(self) -> Formats:
        origins: dict[str, TaskEntry] = {}
        failed: dict[str, str] = {}
        for task_name, entries in self.entries().items():
            problem = self.conflict(task_name, entries)
            for entry in entries:
                origins.setdefault(entry.module, entry)
                if problem:  # `seqtool run` reports it; loading both would hide it
                    failed[entry.module] = problem
        for entry in self.format_entries():
            origins.setdefault(entry.module, entry)
        for module, entry in origins.items():
            if module in failed:
                continue
            try:
                self.load(entry)
            except PluginError as error:
                failed[module] = str(error)
        formats = Formats({module: entry.distribution for module, entry in origins.items()}, failed)
        plugins = sorted(self.manager.get_plugins(), key=lambda p: self.manager.get_name(p) or "")
        for plugin in plugins:
            name = self.manager.get_name(plugin) or repr(plugin)
            others = [p for p in plugins if p is not plugin]
            for kind in ("reader", "writer"):
                hook = f"register_{kind}s"
                found: list[Format] = []
                try:
                    with contextlib.redirect_stdout(sys.stderr):
                        self.manager.subset_hook_caller(hook, remove_plugins=others)(register=registrar(kind, name, found, formats.problems[name]))
                except (Exception, SystemExit) as error:  # a plugin's own bug: its problem, not ours
                    formats.problems[name].append(f"{hook} failed: {type(error).__name__}: {error}")
                    continue
                for fmt in found:
                    formats.add(fmt)
        return formats

    def describe(self, *, check: bool) -> list[PluginInfo]:
        """Every plugin with its tasks; with ``check``, each is imported and its problems and
        formats shown."""
        infos: dict[str, PluginInfo] = {}
        for task_name, entries in sorted(self.entries().items()):
            problem = self.conflict(task_name, entries)
            for entry in entries:
                info = infos.setdefault(entry.module, PluginInfo(entry.module, entry.distribution, entry.version))
                info.tasks.append(task_name)
                info.error = info.error or problem
        for entry in sorted(self.format_entries(), key=lambda e: e.module):
            infos.setdefault(entry.module, PluginInfo(entry.module, entry.distribution, entry.version))
        for entry in _scan(GROUP):  # a task left out for a built-in's is listed with why
            if entry.module in self.shadowed:
                info = infos.setdefault(entry.module, PluginInfo(entry.module, entry.distribution, entry.version))
                info.tasks += [] if entry.task in info.tasks else [entry.task]
                info.error = self.shadowed[entry.module]
        if check:
            for entry in {e.module: e for entries in self.entries().values() for e in entries}.values():
                try:
                    self.load(entry)
                except PluginError as error:
                    infos[entry.module].error = infos[entry.module].error or str(error)
            formats = self.formats()
            for info in infos.values():
                info.error = info.error or formats.failed.get(info.name)
                problems = [info.error] if info.error else []
                problems += formats.problems.get(info.name, [])
                info.error = "; ".join(problems) or None
                info.readers = formats.registered_by(info.name, "reader")
                info.writers = formats.registered_by(info.name, "writer")
        return list(infos.values())


def blame(error: BaseException) -> str | None:
    """One line naming the plugin whose code raised ``error`` (the innermost plugin frame of its
    traceback), or None when no plugin's code is in it: a plugin's bug (in its adapter, its
    metrics) is the plugin's to fix, not a seqtool "internal error"."""
    owners = {module.partition(":")[0].split(".")[0]: module for module in registry().loaded}
    distributions = {e.module: e.distribution for entries in registry().entries().values() for e in entries}
    culprit = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        package = str(frame.f_globals.get("__name__", "")).split(".")[0]
        if package in owners:
            culprit = owners[package]
    distribution = distributions.get(culprit or "", culprit)
    if culprit is None or _normalise(distribution or "") == BUILT_IN:  # built-in plugins' bugs are ours
        return None
    return f"plugin {culprit} ({distribution}) failed: {type(error).__name__}: {error}; {disable_hint(distribution)}"


def _shadowed_problem(task: str, entry: TaskEntry) -> str:
    return (
        f"its task {task!r} has the name of a built-in task, so the built-in is used; "
        f"rename the task in {entry.distribution}, or uninstall it"
    )


@functools.cache
def _warn_once(message: str) -> None:
    """A warning on stderr, once per process however often the entry points are read."""
    print(f"seqtool: warning: {message}", file=sys.stderr)


class _PluginFormats:
    """One kind of plugin format as :mod:`seqtool.io` asks for it (see
    :class:`seqtool.io.readers.PluginFormats`); the plugins load on the first question."""

    def __init__(self, kind: Kind) -> None:
        self.kind: Kind = kind

    def names(self) -> list[str]:
        return registry().formats().names(self.kind)

    def by_extension(self, extension: str) -> str | None:
        return registry().formats().by_extension(self.kind, extension)

    def get(self, name: str) -> Any:
        return registry().formats().get(self.kind, name)


def _check_api(plugin: Any) -> None:
    wanted = str(getattr(plugin, "SEQTOOL_API", API_VERSION))
    if wanted.split(".")[0] != API_VERSION.split(".")[0]:
        raise PluginError(
            f"written for seqtool plugin API {wanted}, but this seqtool provides API {API_VERSION}; "
            "install a release of the plugin made for this API"
        )


def _validate(tasks: list[Task], declared: set[str] | None, existing: dict[str, Task]) -> None:
    names: set[str] = set()
    for task in tasks:
        if not isinstance(task, Task):
            raise PluginError(f"registered {type(task).__name__} {task!r}, but register() takes seqtool.Task objects")
        if task.name in names or task.name in existing:
            owner = existing[task.name].plugin if task.name in existing else "itself"
            raise PluginError(f"task {task.name!r} is registered twice (also by {owner})")
        if declared is not None and task.name not in declared:
            raise PluginError(
                f"registers task {task.name!r}, which its distribution does not declare; add "
                f"`{task.name} = \"...\"` under [project.entry-points.seqtool]"
            )
        names.add(task.name)


@functools.cache
def registry() -> PluginRegistry:
    """The process-wide registry."""
    return PluginRegistry()


readers.plugin_readers = _PluginFormats("reader")
writers.plugin_writers = _PluginFormats("writer")
