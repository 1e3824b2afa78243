"""The errors a user can fix, and the exit codes they map to.

Anything raised as a :class:`SeqtoolError` is printed as one line on stderr (no traceback unless
``SEQTOOL_DEBUG=1``) and ends the process with its ``exit_code``. The message should say what is
wrong, where (file, line or record) and how to fix it.
"""

from __future__ import annotations

EXIT_ERROR = 1
EXIT_USAGE = 2


class SeqtoolError(Exception):
    """A problem with the user's data, files or settings; exit 1."""

    exit_code = EXIT_ERROR


class DataError(SeqtoolError):
    """Input data that cannot be read or does not fit the task."""


class ModelFileError(SeqtoolError):
    """A model file that is missing, foreign, tampered with or made for another task."""


class OutputError(SeqtoolError):
    """An output (a file, a device, a folder) that cannot be written."""


class PluginError(SeqtoolError):
    """A plugin that cannot be loaded or registers something invalid."""


class UsageError(SeqtoolError):
    """Options that do not fit together; exit 2 like Click's own usage errors."""

    exit_code = EXIT_USAGE


class Interrupted(SeqtoolError):
    """Ctrl-C: stopped cleanly, with a word on what was kept; exit 130 as shells expect."""

    exit_code = 130


#: the environment variable that lists the plugin distributions to load
ENV_FILTER = "SEQTOOL_LOAD_PLUGINS"


def disable_hint(distribution: str) -> str:
    """The way out of a broken plugin, for the end of its one-line message."""
    return f"uninstall {distribution}, or leave it out of {ENV_FILTER} (a comma list of the distributions to load)"
