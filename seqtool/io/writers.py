"""Writers: result records -> jsonl, csv or tsv on stdout or a file (written atomically).

A task may add formats (``Task.writers``); a writer is any class built from a text stream with
``write(record)`` and ``finish()``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol, TextIO

from seqtool.errors import UsageError
from seqtool.io.atomic import atomic_path

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


def output_format(out: str | None, given: str | None, default: str, available: Mapping[str, Any]) -> str:
    """``--format`` if given, else the extension of ``-o`` (``.csv``, or a task's own format
    name such as ``.ss2``), else the task's default."""
    suffix = Path(out).suffix.lower() if out and out != "-" else ""
    by_extension = EXTENSIONS.get(suffix) or (suffix[1:] if suffix[1:] in available else None)
    fmt = given or by_extension or default
    if fmt not in available:
        raise UsageError(f"unknown output format {fmt!r}; this task writes {', '.join(sorted(available))}")
    return fmt


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
