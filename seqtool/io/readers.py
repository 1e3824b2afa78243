"""Readers: files or stdin -> a lazy stream of :class:`Record`, each knowing its file and line.

Formats: csv, tsv, jsonl, lines (one text per line, field ``text``) and fasta (FASTA or bare
sequences, fields ``id``, ``description``, ``sequence``: :mod:`seqtool.io.fasta`), and any a plugin
adds with the ``register_readers`` hook. ``-`` is stdin. The format comes from ``--input-format``,
else from the file extension, else the task's default (for stdin, extension-less and ``.txt`` files).

gzip data is recognised by its first bytes, not by its name, and read decompressed, from a file
or stdin; a truncated or damaged one is an error naming the file. Data that is not text (other
compressed formats, UTF-16, anything with a NUL byte) is named as such, since no ``--encoding``
would make sense of it.

Plugins' formats are consulted only after the built-ins, and only when a name or extension is not
built in: :mod:`seqtool.plugins` installs :data:`plugin_readers` (this package never imports the
plugin machinery), which loads the plugins on its first use.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
import sys
import zlib
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


_GZIP = b"\x1f\x8b"
#: the first bytes of data that is not text, and what to say about it
_NOT_TEXT = [
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed data; decompress it, or compress it with gzip instead"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed data; decompress it, or compress it with gzip instead"),
    (re.compile(rb"\x28\xb5\x2f\xfd"), "zstd-compressed data; decompress it, or compress it with gzip instead"),
    (re.compile(rb"PK\x03\x04"), "a zip archive; unzip it and give the file inside"),
    (re.compile(rb"\xff\xfe|\xfe\xff"), "UTF-16 (or UTF-32) text; convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"),
]
_HEAD = 16
#: bytes no text holds (tab, line ends, form feed and escape aside): one in an undecodable line
#: means binary data, not a wrong --encoding
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_TEXT_FORMATS = "seqtool reads text (csv, tsv, jsonl, FASTA or a record per line), plain or gzipped"


def display_name(path: str) -> str:
    """How messages name an input: ``<stdin>`` for ``-``, else the path as given."""
    return "<stdin>" if path == "-" else path


def read_records(path: str, fmt: str, *, encoding: str = "utf-8") -> Iterator[Record]:
    """Stream the records of ``path`` (``-`` for stdin), decompressing gzip data (see the module)."""
    read = reader(fmt)
    if read is None:
        raise UsageError(f"unknown input format {fmt!r}; choose from {', '.join(reader_names())}")
    try:
        b"a".decode(encoding, "ignore")  # empty bytes would pass any name
    except LookupError:
        raise UsageError(f"--encoding {encoding!r}: not a text encoding Python knows; e.g. utf-8, latin-1, cp1252") from None
    name = display_name(path)
    with _opened(path, name) as raw:
        if not raw.peek(2).startswith(_GZIP):
            if Path(path).suffix.lower() == ".gz" and raw.peek(1):
                raise DataError(f"{name}: named .gz, but not gzip data; rename it without .gz, or compress it with gzip")
            _refuse_non_text(raw.peek(_HEAD), name)
            yield from read(raw, name, encoding)
            return
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                _refuse_non_text(unpacked.peek(_HEAD), name)
                yield from read(unpacked, name, encoding)  # type: ignore[arg-type]
        except EOFError:
            raise DataError(f"{name}: the gzip data ends early (a truncated file?); copy or compress it again") from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise DataError(f"{name}: damaged gzip data ({error}); copy or compress it again") from None


@contextlib.contextmanager
def _opened(path: str, name: str) -> Iterator[io.BufferedReader]:
    """``path`` (stdin for ``-``, left open) as a stream whose first bytes can be looked at."""
    if path == "-":
        stdin = sys.stdin.buffer
        yield stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(stdin)  # type: ignore[arg-type]
        return
    try:
        stream = open(path, "rb")
    except OSError as error:
        raise DataError(f"{name}: cannot open: {error.strerror}") from None
    with stream:
        yield stream


def _refuse_non_text(head: bytes, name: str) -> None:
    for pattern, kind in _NOT_TEXT:
        if pattern.match(head):
            raise DataError(f"{name}: {kind}")


def _lines(stream: BinaryIO, name: str, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs, split on ``\\n`` only; a byte that does not decode is an error
    that names the line, so the user knows which ``--encoding`` to try, and binary data (a NUL
    byte, which no text holds whatever its encoding) is an error saying so."""
    for number, raw in enumerate(stream, 1):
        nul = raw.find(b"\0")
        if nul >= 0:
            raise DataError(f"{name}:{number}: binary data (a NUL byte at column {nul + 1}), not text; {_TEXT_FORMATS}")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as error:
            if _CONTROL.search(raw):
                raise DataError(f"{name}:{number}: binary data (control bytes), not text; {_TEXT_FORMATS}") from None
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
