"""The plugin contract: every hook a seqtool plugin can implement.

A plugin is a module (or object) named by an entry point in the ``seqtool`` group of its
distribution. The entry point's name is the task's name, so the command line can list tasks
without importing any plugin::

    [project.entry-points.seqtool]
    weather = "seqtool_weather"

The module implements hooks with :data:`seqtool.hookimpl`. See docs/plugins.md for a walk-through.
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
