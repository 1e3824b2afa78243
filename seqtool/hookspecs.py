"""The plugin contract: every hook a seqtool plugin can implement.

A plugin is a module (or object) named by an entry point in the ``seqtool`` group of its
distribution. The entry point's name is the task's name, so the command line can list tasks
without importing any plugin::

    [project.entry-points.seqtool]
    weather = "seqtool_weather"

A plugin that adds only input or output formats, no task, names its module in the
``seqtool.formats`` group instead (the entry point's name is free; use the format's)::

    [project.entry-points."seqtool.formats"]
    parquet = "seqtool_parquet"

The module implements hooks with :data:`seqtool.hookimpl`: one ``register(...)`` hook per kind of
extension. See docs/plugins.md for a walk-through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:
    from seqtool.task import Task

hookspec = pluggy.HookspecMarker("seqtool")


@hookspec
def register_tasks(register: Callable[["Task"], None]) -> None:
    """Register the tasks this plugin provides by calling ``register(task)`` once per task.

    Each task's name must also be an entry-point name of the plugin's distribution (that is how
    ``seqtool run`` lists it without importing the plugin). Keep the module that implements this
    hook light: import torch and other heavy libraries inside the task's adapter module, which
    seqtool imports only when the task runs.

    Example::

        @seqtool.hookimpl
        def register_tasks(register):
            register(Task(name="weather", adapter="seqtool_weather.adapter:WeatherAdapter", ...))
    """


@hookspec
def register_readers(register: Callable[..., None]) -> None:
    """Register input formats by calling ``register(name, reader, extensions=(".ext", ...))``.

    ``reader(stream, name, encoding)`` reads a binary stream and yields :class:`seqtool.Record`
    objects, each with ``name`` and its line (``Record(fields, name, line)``), as the built-in
    readers do; it may be given as a ``"module:function"`` string, imported on first use. Files
    with one of ``extensions`` are read with it, and ``--input-format NAME`` names it. Every task
    then reads the format; a built-in name or extension is never replaced.

    Readers are collected only when a file's format is not a built-in one (or by ``seqtool plugins
    --check``), so the module that implements this hook should stay light.

    Example::

        @seqtool.hookimpl
        def register_readers(register):
            register("kv", "seqtool_kv.reader:read_kv", extensions=(".kv",))
    """


@hookspec
def register_writers(register: Callable[..., None]) -> None:
    """Register output formats by calling ``register(name, writer, extensions=(".ext", ...))``.

    ``writer`` is a class, or its ``"module:Class"`` path, built from a text stream, with
    ``write(record)`` for each result and ``finish()`` at the end, as the built-in writers are.
    Every task's ``predict --format NAME`` then writes it, as does ``-o`` a file with one of
    ``extensions``. Built-in names and extensions, and a task's own writers, win over it.

    Example::

        @seqtool.hookimpl
        def register_writers(register):
            register("yaml", "seqtool_yaml:YamlWriter", extensions=(".yaml", ".yml"))
    """
