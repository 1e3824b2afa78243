"""Writers: result records -> jsonl, csv or tsv on stdout or a file.

A file is written by :mod:`seqtool.io.atomic`'s rules: a regular file is replaced only once the
output is complete, a device or FIFO is written through. A name ending in ``.gz`` is gzipped;
the extension before it (or the only one) names the format, and one that names none is an
error unless ``--format`` is given.

A task may add formats (``Task.writers``), and a plugin may add formats for every task (the
``register_writers`` hook); a writer is any class built from a text stream with ``write(record)``
and ``finish()``. The plugins' formats are consulted after the built-ins and the task's, and only
when those do not know the name or extension: :mod:`seqtool.plugins` installs
:data:`plugin_writers` (this package never imports the plugin machinery).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Protocol, TextIO

from seqtool.errors import DataError, UsageError
from seqtool.io.atomic import check_output, output_file, write_errors

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
    """One line per record under a header of the first record's fields. A dict field becomes one
    column per key (``probabilities.positive``); a list is written as JSON text.

    Records need not all have the same fields (JSON lines input may not): a field the header has
    and a record lacks is written empty, a missing value. A field the header lacks is an error
    naming the record and the field, since the header is already out and dropping the field
    would lose data silently; JSON lines output writes every record's own fields."""

    delimiter = ","

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.writer: csv.DictWriter | None = None
        self.written = 0

    def write(self, record: Mapping[str, Any]) -> None:
        row = _flat(record)
        if self.writer is None:
            self.writer = csv.DictWriter(self.stream, fieldnames=list(row), delimiter=self.delimiter, lineterminator="\n", restval="")
            self.writer.writeheader()
        extra = [field for field in row if field not in self.writer.fieldnames]
        if extra:
            raise DataError(
                f"result {self.written + 1} (output line {self.written + 2}) has the field {extra[0]!r}, which the header, "
                "made from the first result's fields, lacks; give every input record the same fields, or write JSON lines (--format jsonl)"
            )
        self.writer.writerow(row)
        self.written += 1

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
    """The format ``out``'s extension names (``.gz`` aside), None when it has no extension; an
    extension that names none is a usage error, not a silent default."""
    suffixes = Path(out).suffixes if out and out != "-" else []
    if suffixes and suffixes[-1].lower() == ".gz":
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    suffix = suffixes[-1].lower()
    fmt = EXTENSIONS.get(suffix) or (suffix[1:] if suffix[1:] in available else None)
    fmt = fmt or (plugin_writers.by_extension(suffix) if plugin_writers else None)
    if fmt is None:
        known = sorted(set(available) | set(plugin_writers.names() if plugin_writers else []))
        raise UsageError(
            f"-o {out}: no writer for the extension {suffix}; this task writes {', '.join(known)} "
            "(as -o NAME.FORMAT, optionally with .gz after it), or name the format with --format"
        )
    return fmt


@contextlib.contextmanager
def open_output(out: str | None, writer_class: type, *, inputs: Iterable[str | Path] = ()) -> Iterator[Writer]:
    """A writer on stdout (``None`` or ``-``), flushed after each record so that a pipeline
    downstream sees each result as soon as it is scored; or on the file ``out`` (see the module):
    an interrupted run never leaves half a file behind, and ``out`` may not be one of ``inputs``."""
    if out is None or out == "-":
        stream = _Checked(sys.stdout, "<stdout>")
        flushed = _EachFlushed(writer_class(stream), stream)
        yield flushed
        flushed.finish()
        return
    check_output(Path(out), inputs=inputs)
    with output_file(Path(out)) as binary:
        compressed = gzip.GzipFile(Path(out).name, mode="wb", fileobj=binary) if Path(out).suffix.lower() == ".gz" else None
        # write_through: no text waits in this layer, to be written after a failure
        text = io.TextIOWrapper(compressed or binary, encoding="utf-8", newline="", write_through=True)
        try:
            writer = writer_class(_Checked(text, out))
            yield writer
            writer.finish()
        except BaseException:
            with contextlib.suppress(OSError, ValueError):  # the first error is the one to report
                text.detach()
                if compressed is not None:
                    compressed.close()
            raise
        with write_errors(out):
            text.detach()
            if compressed is not None:
                compressed.close()  # writes the gzip trailer; the file is output_file's to close


class _Checked:
    """A text stream whose write errors are one line naming the output (see
    :func:`~seqtool.io.atomic.write_errors`); anything else is the stream's own."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name

    def write(self, text: str) -> int:
        with write_errors(self.name):
            return self.stream.write(text)

    def flush(self) -> None:
        with write_errors(self.name):
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _EachFlushed:
    """A writer that flushes its stream after each record."""

    def __init__(self, writer: Writer, stream: _Checked) -> None:
        self.writer = writer
        self.stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        self.writer.write(record)
        self.stream.flush()

    def finish(self) -> None:
        self.writer.finish()
        self.stream.flush()
