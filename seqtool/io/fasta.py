"""FASTA, and bare sequences one per line: records with fields ``id``, ``description`` and
``sequence``, each naming the line it starts at.

- ``>ID more words`` opens an entry: ``id`` is the header's first word, ``description`` the
  whole header (as Biopython gives them), ``sequence`` the lines below it joined, blanks removed.
- RCSB's ``ss.txt`` and ``ss_dis.txt`` give each chain as consecutive entries ``>1ABC:A:sequence``,
  ``>1ABC:A:secstr`` (and ``>1ABC:A:disorder``): together they make one record, id ``1ABC:A``, with
  a field per following entry (``secstr``, ``disorder``) that keeps its blanks. There every
  character is a residue (a blank secstr is one DSSP left unassigned), so it must stay in line
  with the sequence.
- Non-blank lines before the first header are bare sequences, a record each, with an empty ``id``
  and ``description``: the task names them.

Records are table records: a task finds its columns in these fields as in a csv's. Biopython's
parser is not used: it numbers no lines for messages, and it drops the blanks RCSB files need.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from seqtool.errors import DataError
from seqtool.types import Record

#: the entries that may follow a chain's ``>ID:sequence`` entry in RCSB's ss.txt and ss_dis.txt
RCSB_FIELDS = ("secstr", "disorder")


def fasta_records(lines: Iterable[tuple[int, str]], name: str) -> Iterator[Record]:
    """The records in the ``(line number, text)`` pairs of the file ``name``."""
    pending: Record | None = None  # held until the next entry, which may be an RCSB field of it
    for line, header, body in _entries(lines):
        if header is None:
            yield Record({"id": "", "description": "", "sequence": _residues(body)}, name, line)
            continue
        identifier = header.split(maxsplit=1)[0] if header else ""
        chain, _, field = identifier.rpartition(":")
        if field in RCSB_FIELDS:
            if pending is None or pending["id"] != chain:
                raise DataError(
                    f"{name}:{line}: {identifier} does not follow its {chain}:sequence entry; "
                    "RCSB files give each chain's sequence first, then its secstr"
                )
            pending[field] = "".join(body)
            continue
        if pending is not None:
            yield pending
        pending = Record({"id": identifier.removesuffix(":sequence"), "description": header, "sequence": _residues(body)}, name, line)
    if pending is not None:
        yield pending


def _entries(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str | None, list[str]]]:
    """``(line, header without '>', body lines)`` per entry, and ``(line, None, [text])`` per
    bare sequence before the first header. Only line ends are stripped: blanks may matter."""
    header: str | None = None
    start, body = 0, []
    for number, text in lines:
        text = text.rstrip("\r\n")
        if text.startswith(">"):
            if header is not None:
                yield start, header, body
            header, start, body = text[1:].rstrip(), number, []
        elif header is not None:
            body.append(text)
        elif text.strip():
            yield number, None, [text]
    if header is not None:
        yield start, header, body


def _residues(body: list[str]) -> str:
    return "".join("".join(body).split())
