"""Readers: files or stdin -> a lazy stream of :class:`Record`, each knowing its file and line.

Formats: csv, tsv, jsonl, lines (one text per line, field ``text``) and fasta (FASTA or bare
sequences, fields ``id``, ``description``, ``sequence``: :mod:`seqtool.io.fasta`), and any a plugin
adds with the ``register_readers`` hook. ``-`` is stdin. The format comes from ``--input-format``,
else from the file extension, else the task's default (for stdin, extension-less and ``.txt`` files).

Plugins' formats are consulted only after the built-ins, and only when a name or extension is not
built in: :mod:`seqtool.plugins` installs :data:`plugin_readers` (this package never imports the
plugin machinery), which loads the plugins on its first use.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Protocol

from seqtool.errors import DataError, UsageError
from seqtool.io.fasta import fasta_records
from seqtool.types import Record

#: A reader: (binary stream, name for messages, encoding) -> records, each knowing its line.
Reader = Callable[[BinaryIO, str, str], Iterator[Record]]


class PluginFormats(Protocol):
    """The formats plugins registered, of one kind (readers or writers), as io asks for them."""

    def names(self) -> list[str]:
        """Every registered name, for messages."""
        ...

    def by_extension(self, extension: str) -> str | None:
        """The format registered for ``extension`` (``".kv"``), or None."""
        ...

    def get(self, name: str) -> Any:
        """The reader function or writer class called ``name`` (imported now), or None."""
        ...


#: Readers from plugins (``register_readers``), set by :mod:`seqtool.plugins`; None: built-ins only.
plugin_readers: PluginFormats | None = None

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "lines",  # unless the task reads text another way (see input_format)
    ".fa": "fasta",
    ".fasta": "fasta",
    ".faa": "fasta",
    ".fas": "fasta",
}


def input_format(path: str, given: str | None, default: str) -> str:
    """The format to read ``path`` with: ``given``, else by extension, else ``default``."""
    if given:
        if given not in READERS and reader(given) is None:
            raise UsageError(f"unknown input format {given!r}; choose from {', '.join(reader_names())}")
        return given
    suffixes = Path(path).suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if not suffixes or path == "-" or suffixes[-1].lower() == ".txt":
        return default  # .txt says only that a file is text: the task knows how its text is laid out
    extension = suffixes[-1].lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    return (plugin_readers.by_extension(extension) if plugin_readers else None) or default


def reader(fmt: str) -> Reader | None:
    """The reader for ``fmt``: a built-in, else a plugin's (imported now), else None."""
    if fmt in READERS:
        return READERS[fmt]
    return plugin_readers.get(fmt) if plugin_readers else None


def reader_names() -> list[str]:
    """The built-in formats, then the plugins' (which this loads)."""
    return [*READERS, *(name for name in (plugin_readers.names() if plugin_readers else []) if name not in READERS)]


def read_records(path: str, fmt: str, *, encoding: str = "utf-8") -> Iterator[Record]:
    """Stream the records of ``path`` (``-`` for stdin; ``.gz`` files are decompressed)."""
    read = reader(fmt)
    if read is None:
        raise UsageError(f"unknown input format {fmt!r}; choose from {', '.join(reader_names())}")
    name = "<stdin>" if path == "-" else path
    if path == "-":
        yield from read(sys.stdin.buffer, name, encoding)
        return
    try:
        stream: BinaryIO = open(path, "rb")
    except OSError as error:
        raise DataError(f"{path}: cannot open: {error.strerror}") from None
    if path.endswith(".gz"):
        import gzip

        stream = gzip.open(stream)  # type: ignore[assignment]
    with stream:
        yield from read(stream, name, encoding)


def _lines(stream: BinaryIO, name: str, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs, split on ``\\n`` only; a byte that does not decode is an error
    that names the line, so the user knows which ``--encoding`` to try."""
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise DataError(
                f"{name}:{number}: byte {raw[error.start:error.start + 1]!r} at column {error.start + 1} is not "
                f"valid {encoding}; name the file's encoding with --encoding (e.g. --encoding latin-1)"
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text


def read_lines(stream: BinaryIO, name: str, encoding: str) -> Iterator[Record]:
    for number, text in _lines(stream, name, encoding):
        yield Record({"text": text.rstrip("\r\n")}, name, number, table=False)


def read_jsonl(stream: BinaryIO, name: str, encoding: str) -> Iterator[Record]:
    for number, text in _lines(stream, name, encoding):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(f"{name}:{number}: not valid JSON ({error.msg}, column {error.colno}); one object per line") from None
        if not isinstance(value, dict):
            raise DataError(f"{name}:{number}: a JSON {type(value).__name__}, but each line must be an object {{...}}")
        yield Record(value, name, number)


def _delimited(delimiter: str) -> Callable[[BinaryIO, str, str], Iterator[Record]]:
    def read(stream: BinaryIO, name: str, encoding: str) -> Iterator[Record]:
        rows = csv.reader((text for _, text in _lines(stream, name, encoding)), delimiter=delimiter)
        try:
            header = next(rows)
        except StopIteration:
            raise DataError(f"{name}: empty file; expected a header line with column names") from None
        except csv.Error as error:
            raise DataError(f"{name}:1: cannot read the header: {error}") from None
        header = [column.strip() for column in header]
        width = len(header)
        try:
            for row in rows:
                if not row:
                    continue
                if len(row) != width:
                    raise DataError(
                        f"{name}:{rows.line_num}: {len(row)} fields, but the header has {width}; "
                        "quote fields that contain the delimiter"
                    )
                yield Record(zip(header, row), name, rows.line_num)
        except csv.Error as error:
            raise DataError(f"{name}:{rows.line_num}: {error}") from None

    return read


def read_fasta(stream: BinaryIO, name: str, encoding: str) -> Iterator[Record]:
    return fasta_records(_lines(stream, name, encoding), name)


READERS: dict[str, Reader] = {
    "csv": _delimited(","),
    "tsv": _delimited("\t"),
    "jsonl": read_jsonl,
    "lines": read_lines,
    "fasta": read_fasta,
}
