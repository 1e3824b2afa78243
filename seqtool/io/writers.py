"""Writers: result records -> jsonl, csv or tsv on stdout or a file (written atomically).

A task may add formats (``Task.writers``), and a plugin may add formats for every task (the
``register_writers`` hook); a writer is any class built from a text stream with ``write(record)``
and ``finish()``. The plugins' formats are consulted after the built-ins and the task's, and only
when those do not know the name or extension: :mod:`seqtool.plugins` installs
:data:`plugin_writers` (this package never imports the plugin machinery).
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Protocol, TextIO

from seqtool.errors import UsageError
from seqtool.io.atomic import atomic_path

if TYPE_CHECKING:
    from seqtool.io.readers import PluginFormats

EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}


class Writer(Protocol):
    def __init__(self, stream: TextIO) -> None: ...

    def write(self, record: Mapping[str, Any]) -> None: ...

    def finish(self) -> None: ...


class JsonlWriter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    def finish(self) -> None:
        pass


class DelimitedWriter:
    """A header from the first record's fields. A dict field becomes one column per key
    (``probabilities.positive``); a list is written as JSON text."""

    delimiter = ","

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.writer: csv.DictWriter | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        row = _flat(record)
        if self.writer is None:
            self.writer = csv.DictWriter(self.stream, fieldnames=list(row), delimiter=self.delimiter, lineterminator="\n")
            self.writer.writeheader()
        self.writer.writerow(row)

    def finish(self) -> None:
        pass


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            row.update(_flat(value, f"{prefix}{key}."))
        else:
            row[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, list) else value
    return row


class TsvWriter(DelimitedWriter):
    delimiter = "\t"


WRITERS: dict[str, type] = {"jsonl": JsonlWriter, "csv": DelimitedWriter, "tsv": TsvWriter}

#: Writers from plugins (``register_writers``), set by :mod:`seqtool.plugins`; None: built-ins only.
plugin_writers: "PluginFormats | None" = None


def output_format(out: str | None, given: str | None, default: str, available: Mapping[str, Any]) -> str:
    """``--format`` if given, else the extension of ``-o`` (``.csv``, or a task's own format
    name such as ``.ss2``, or an extension a plugin's writer registered), else the task's default.

    ``available`` is the built-in and the task's writers; :func:`writer_for` gives the writer."""
    fmt = given or _by_extension(out, available) or default
    if fmt in available or (plugin_writers and plugin_writers.get(fmt) is not None):
        return fmt
    known = sorted(set(available) | set(plugin_writers.names() if plugin_writers else []))
    raise UsageError(f"unknown output format {fmt!r}; this task writes {', '.join(known)}")


def writer_for(fmt: str, available: Mapping[str, Any]) -> Any:
    """The writer (class or ``"module:Class"``) for a name :func:`output_format` returned:
    ``available``'s, else a plugin's."""
    if fmt in available:
        return available[fmt]
    writer = plugin_writers.get(fmt) if plugin_writers else None
    if writer is None:
        raise UsageError(f"unknown output format {fmt!r}")
    return writer


def _by_extension(out: str | None, available: Mapping[str, Any]) -> str | None:
    suffix = Path(out).suffix.lower() if out and out != "-" else ""
    if not suffix:
        return None
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix[1:] in available:
        return suffix[1:]
    return plugin_writers.by_extension(suffix) if plugin_writers else None


@contextlib.contextmanager
def open_output(out: str | None, writer_class: type) -> Iterator[Writer]:
    """A writer on stdout (``None`` or ``-``), or on a temporary file that replaces ``out`` only
    when everything was written: an interrupted run never leaves half a file behind."""
    if out is None or out == "-":
        writer = writer_class(sys.stdout)
        yield writer
        writer.finish()
        sys.stdout.flush()
        return
    with atomic_path(Path(out)) as temporary, open(temporary, "w", encoding="utf-8", newline="") as stream:
        writer = writer_class(stream)
        yield writer
        writer.finish()
