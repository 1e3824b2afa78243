"""Formats that plugins add through ``register_readers`` / ``register_writers``: what each
registered, checked (names, extensions, clashes with the built-ins and with one another), and
wrapped so that a plugin's reader or writer that fails is named in one line, never a traceback.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Literal

from seqtool.errors import ENV_FILTER, PluginError, SeqtoolError, disable_hint
from seqtool.io import readers, writers
from seqtool.task import resolve

Kind = Literal["reader", "writer"]


@dataclass(frozen=True)
class Format:
    """A reader or writer as a plugin registered it."""

    kind: Kind
    name: str
    #: the reader function or writer class, or its ``"module:attribute"`` path
    target: Any
    extensions: tuple[str, ...]
    plugin: str


_BUILT_IN: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "reader": (readers.READERS, readers.EXTENSIONS),
    "writer": (writers.WRITERS, writers.EXTENSIONS),
}
_FORMAT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+.-]*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


class Formats:
    """Every plugin's readers and writers: name -> format and extension -> name per kind, with
    the problems found on the way (each plugin's, for ``seqtool plugins --check``)."""

    def __init__(self, distributions: dict[str, str], failed: dict[str, str]) -> None:
        #: plugin module -> the distribution that installed it, for messages
        self.distributions = distributions
        #: plugins that did not load (their formats are missing), module -> why
        self.failed = failed
        self.found: dict[str, dict[str, Format]] = {"reader": {}, "writer": {}}
        self.extensions: dict[str, dict[str, str]] = {"reader": {}, "writer": {}}
        #: (kind, name or extension) that two plugins claim -> the message naming both
        self.ambiguous: dict[tuple[str, str], str] = {}
        self.problems: dict[str, list[str]] = defaultdict(list)
        self._imported: dict[tuple[str, str], Any] = {}

    def label(self, plugin: str) -> str:
        distribution = self.distributions.get(plugin)
        return f"{distribution} ({plugin})" if distribution else plugin

    def add(self, fmt: Format) -> None:
        kind, name = fmt.kind, fmt.name
        built_in, built_in_extensions = _BUILT_IN[kind]
        if name in built_in:
            self.problems[fmt.plugin].append(f"its {kind} {name!r} clashes with the built-in {kind} {name!r}; the built-in is used")
            return
        other = self.found[kind].get(name)
        if other is not None:
            if other.plugin == fmt.plugin:
                self.problems[fmt.plugin].append(f"registers {kind} {name!r} twice")
                return
            self._clash(
                (kind, name), other.plugin, fmt.plugin,
                f"{kind} {name!r} is registered by both {self.label(other.plugin)} and {self.label(fmt.plugin)}; "
                f"uninstall one, or leave one out of {ENV_FILTER}",
            )
            return
        self.found[kind][name] = fmt
        for extension in fmt.extensions:
            if extension in built_in_extensions:
                self.problems[fmt.plugin].append(
                    f"its {kind} {name!r} claims extension {extension!r}, which the built-in {kind} "
                    f"{built_in_extensions[extension]!r} handles; the built-in is used"
                )
            elif extension in self.extensions[kind]:
                first = self.found[kind][self.extensions[kind][extension]]
                self._clash(
                    (kind, extension), first.plugin, fmt.plugin,
                    f"extension {extension!r} is claimed by {kind} {first.name!r} of {self.label(first.plugin)} and by "
                    f"{kind} {name!r} of {self.label(fmt.plugin)}; name the format you mean, or uninstall one",
                )
            else:
                self.extensions[kind][extension] = name

    def _clash(self, key: tuple[str, str], first: str, second: str, message: str) -> None:
        """Two plugins claim one name or extension: neither is used, and both are told why."""
        self.ambiguous[key] = message
        self.problems[first].append(message)
        self.problems[second].append(message)

    def names(self, kind: Kind) -> list[str]:
        return sorted(self.found[kind])

    def registered_by(self, plugin: str, kind: Kind) -> list[str]:
        return sorted(name for name, fmt in self.found[kind].items() if fmt.plugin == plugin)

    def by_extension(self, kind: Kind, extension: str) -> str | None:
        if (kind, extension) in self.ambiguous:
            raise PluginError(self.ambiguous[(kind, extension)])
        return self.extensions[kind].get(extension)

    def get(self, kind: Kind, name: str) -> Any:
        """The reader (a function) or writer (a class) ``name``, imported, or None; its failures
        are reported as the plugin's."""
        if (kind, name) in self.ambiguous:
            raise PluginError(self.ambiguous[(kind, name)])
        fmt = self.found[kind].get(name)
        if fmt is None:
            return None
        if (kind, name) not in self._imported:
            where = f"plugin {self.label(fmt.plugin)}: {kind} {name!r}"
            try:
                target = resolve(fmt.target)
            except Exception as error:
                raise PluginError(f"{where} ({fmt.target}) failed to import: {type(error).__name__}: {error}; {self.hint(fmt.plugin)}") from error
            if kind == "reader" and not callable(target):
                raise PluginError(f"{where}: {fmt.target} is a {type(target).__name__}, not a reader function; {self.hint(fmt.plugin)}")
            if kind == "writer" and not (isinstance(target, type) and hasattr(target, "write") and hasattr(target, "finish")):
                raise PluginError(f"{where}: {fmt.target} is not a writer class (with write and finish); {self.hint(fmt.plugin)}")
            guard = _guarded_reader if kind == "reader" else _guarded_writer
            self._imported[(kind, name)] = guard(target, where, self.hint(fmt.plugin))
        return self._imported[(kind, name)]

    def hint(self, plugin: str) -> str:
        distribution = self.distributions.get(plugin)
        return disable_hint(distribution) if distribution else "fix or remove the plugin"


def registrar(kind: Kind, plugin: str, found: list[Format], problems: list[str]) -> Callable[..., None]:
    """The ``register`` a plugin's ``register_readers`` / ``register_writers`` calls. A bad
    registration is recorded as the plugin's problem and skipped; the others stand."""

    def register(name: str, target: Any, extensions: Iterable[str] | str = ()) -> None:
        what = "reader function" if kind == "reader" else "writer class"
        if not isinstance(name, str) or not _FORMAT_NAME.fullmatch(name):
            problems.append(f"register_{kind}s: {name!r} is not a format name (letters, digits, '.', '-', '_', '+')")
            return
        if isinstance(target, str):
            if not _TARGET.fullmatch(target):
                problems.append(f"register_{kind}s: {kind} {name!r}: {target!r} is not a \"module:attribute\" path")
                return
        elif not (isinstance(target, type) if kind == "writer" else callable(target)):
            problems.append(f"register_{kind}s: {kind} {name!r}: got {type(target).__name__}, but register() takes a {what} or its \"module:attribute\" path")
            return
        normalised: list[str] = []
        for extension in [extensions] if isinstance(extensions, str) else list(extensions):
            ext = extension.lower() if isinstance(extension, str) else ""
            ext = ext if ext.startswith(".") else "." + ext
            if len(ext) < 2 or ext == ".gz" or any(c in ext for c in "/\\ \t"):
                problems.append(f"register_{kind}s: {kind} {name!r}: {extension!r} is not a file extension such as \".{name}\"")
                continue
            normalised.append(ext)
        found.append(Format(kind, name, target, tuple(dict.fromkeys(normalised)), plugin))

    return register


def _guarded_reader(read: Callable[..., Iterator[Any]], where: str, hint: str) -> Callable[..., Iterator[Any]]:
    """``read``, with a failure that is not the data's (a DataError) named as the plugin's."""

    def guarded(stream: Any, name: str, encoding: str) -> Iterator[Any]:
        try:
            yield from read(stream, name, encoding)
        except (SeqtoolError, OSError):  # the data's problem, a broken pipe, a vanished file
            raise
        except Exception as error:
            raise PluginError(f"{where} failed on {name}: {type(error).__name__}: {error}; {hint}") from error

    return guarded


def _guarded_writer(writer_class: type, where: str, hint: str) -> type:
    """A writer class that delegates to ``writer_class``, naming the plugin when it fails."""

    def call(method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except (SeqtoolError, OSError):
            raise
        except Exception as error:
            raise PluginError(f"{where} failed: {type(error).__name__}: {error}; {hint}") from error

    class Guarded:
        def __init__(self, stream: Any) -> None:
            self.writer = call(writer_class, stream)

        def write(self, record: Any) -> None:
            call(self.writer.write, record)

        def finish(self) -> None:
            call(self.writer.finish)

    Guarded.__name__ = Guarded.__qualname__ = writer_class.__name__
    return Guarded
