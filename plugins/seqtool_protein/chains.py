"""Records from any reader -> protein chains (id, sequence and, when labelled, states and mask).

Three shapes of input arrive here:

- tables (csv, tsv, jsonl): the core has found the sequence, the optional 0/1 mask and the chain
  id and renamed them ``seq``, ``mask`` and ``id`` (see the Task's columns); the states column is
  found here, because which names it may have depends on ``--states``;
- FASTA records from the core reader (Biopython): a chain per record, or RCSB ``ss.txt``-style
  pairs ``>1ABC:A:sequence`` / ``>1ABC:A:secstr``;
- lines (stdin, ``.txt`` files): a line starting with ``>`` opens a FASTA entry, any other
  non-blank line is one sequence. RCSB ``ss.txt`` is read this way on purpose: Biopython drops
  the blanks that mean coil in its ``secstr`` records, so those would no longer line up with
  their sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain as chained
from typing import Any, Iterable, Iterator, Mapping

from seqtool import DataError, Record, find_column

#: the state column's names, in the order tried: a 3-state model takes 8-state labels and
#: reduces them, an 8-state model never takes 3-state ones (a core Column has one fixed order)
STATE_COLUMNS = {
    3: ("sst3", "ss3", "q3", "sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
    8: ("sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
}
RCSB_SEQUENCE, RCSB_STATES = ":sequence", ":secstr"


@dataclass
class Chain:
    id: str
    sequence: str
    #: "file:line" of the record the chain starts at, for messages
    where: str
    states: str | None = None
    #: "0"/"1" per residue; empty or None counts every residue
    mask: str | None = None
    #: why the states may be shorter than the sequence, for the error message when they are
    length_hint: str = ""


@dataclass
class Entry:
    """One FASTA entry: the header's first word and the text below it."""

    name: str
    text: str
    where: str
    #: False when the reader dropped blanks (Biopython), which in an RCSB secstr are coil
    blanks_kept: bool = True


def chains(records: Iterable[Record], options: Mapping[str, Any], *, labelled: bool, states: int) -> Iterator[Chain]:
    """The chains in ``records``; the first record tells which shape the input has."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        return
    rest = chained([first], records)
    if first.table:
        yield from _from_table(rest, first, options, labelled=labelled, states=states)
        return
    if set(first) == {"text"}:
        entries = _entries_from_lines(rest)
    else:  # FASTA
        entries = (Entry(r["id"], r["sequence"], r.where, blanks_kept=False) for r in rest)
    yield from _from_entries(entries, labelled=labelled)


def _from_table(records: Iterable[Record], first: Record, options: Mapping[str, Any], *, labelled: bool, states: int) -> Iterator[Chain]:
    what = "8-state secondary structure (sst8)" if states == 8 else "secondary structure"
    state_column = find_column(first, options.get("ss_col"), STATE_COLUMNS[states], what=what, flag="--ss-col", source=first.where) if labelled else None
    for number, record in enumerate(records, 1):
        yield Chain(
            id=str(record.get("id") or f"seq{number}"),
            sequence=_text(record.get("seq")).strip(),
            where=record.where,
            states=_text(record.get(state_column)) if labelled else None,
            mask=_text(record.get("mask")).strip(),
        )


def _text(value: Any) -> str:
    """A field as text; a jsonl list such as a mask ``[1, 1, 0]`` becomes ``"110"``."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return str(value)


def _entries_from_lines(records: Iterable[Record]) -> Iterator[Entry | Chain]:
    """FASTA entries, and plain sequences (one per line) as ready chains."""
    header: Record | None = None
    lines: list[str] = []
    count = 0
    for record in records:
        text = record["text"]
        if text.startswith(">"):
            if header is not None:
                yield _entry(header, lines)
            header, lines = record, []
        elif header is not None:
            lines.append(text)
        elif text.strip():
            count += 1
            yield Chain(f"seq{count}", text.strip(), record.where)
    if header is not None:
        yield _entry(header, lines)


def _entry(header: Record, lines: list[str]) -> Entry:
    words = header["text"][1:].split(maxsplit=1)
    name = words[0] if words else ""
    # blanks inside an RCSB secstr are coil and must stay; in a sequence they mean nothing
    text = "".join(lines) if name.endswith(RCSB_STATES) else "".join("".join(lines).split())
    return Entry(name, text, header.where)


def _from_entries(entries: Iterable[Entry | Chain], *, labelled: bool) -> Iterator[Chain]:
    """Chains from FASTA entries, pairing RCSB ``:sequence`` and ``:secstr`` records."""
    pending: Entry | None = None
    for entry in entries:
        if isinstance(entry, Chain):
            if labelled:
                raise DataError(f"{entry.where}: a bare sequence has no secondary structure to train or score on; {LABELLED_FORMS}")
            yield entry
            continue
        if entry.name.endswith(RCSB_STATES):
            name = entry.name.removesuffix(RCSB_STATES)
            if not labelled:
                continue  # predict needs only the sequences
            if pending is None or pending.name.removesuffix(RCSB_SEQUENCE) != name:
                raise DataError(f"{entry.where}: {entry.name} does not follow its {name}{RCSB_SEQUENCE} record; RCSB pairs come sequence first, then secstr")
            hint = "" if entry.blanks_kept else BLANKS_LOST
            yield Chain(name, pending.text, pending.where, states=entry.text, length_hint=hint)
            pending = None
            continue
        if pending is not None:
            raise DataError(f"{pending.where}: {pending.name} has no {RCSB_STATES} record after it; {LABELLED_FORMS}")
        if labelled:
            if not entry.name.endswith(RCSB_SEQUENCE):
                raise DataError(f"{entry.where}: FASTA record {entry.name} has no secondary structure; {LABELLED_FORMS}")
            pending = entry
        else:
            yield Chain(entry.name.removesuffix(RCSB_SEQUENCE), entry.text, entry.where)
    if pending is not None:
        raise DataError(f"{pending.where}: {pending.name} has no {RCSB_STATES} record after it; {LABELLED_FORMS}")


BLANKS_LOST = "the FASTA reader drops the blanks that mean coil in RCSB ss.txt; read such a file with --input-format lines, which keeps them"
LABELLED_FORMS = (
    "labelled data is a csv/tsv/jsonl with seq and sst3 or sst8 columns (and an optional mask), "
    "or RCSB ss.txt-style FASTA pairs >ID:sequence then >ID:secstr"
)
