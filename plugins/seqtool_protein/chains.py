"""Records from any reader -> protein chains (id, sequence and, when labelled, states and mask).

Three shapes of input arrive here:

- tables (csv, tsv, jsonl): a sequence column, a states column, an optional 0/1 mask column;
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

SEQUENCE_COLUMNS = ("seq", "sequence", "aa", "primary")
STATE_COLUMNS = {
    3: ("sst3", "ss3", "q3", "sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
    8: ("sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
}
MASK_COLUMNS = ("mask", "valid", "observed")
ID_COLUMNS = ("id", "name", "chain", "pdb_id", "accession")
FASTA_FIELDS = {"id", "description", "sequence"}
RCSB_SEQUENCE, RCSB_STATES = ":sequence", ":secstr"


@dataclass
class Chain:
    id: str
    sequence: str
    source: str
    states: str | None = None
    #: "0"/"1" per residue; None counts every residue
    mask: str | None = None
    #: why the states may be shorter than the sequence, for the error message when they are
    length_hint: str = ""


@dataclass
class Entry:
    """One FASTA entry: the header's first word and the text below it."""

    name: str
    text: str
    source: str
    #: False when the reader dropped blanks (Biopython), which in an RCSB secstr are coil
    blanks_kept: bool = True


def chains(records: Iterable[Record], options: Mapping[str, Any], *, labelled: bool, states: int) -> Iterator[Chain]:
    """The chains in ``records``; the first record tells which shape the input has."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        return
    rest = chained([first], records)
    if set(first) == {"text"}:
        entries = _entries_from_lines(rest)
    elif set(first) == FASTA_FIELDS:
        entries = (Entry(r["id"], r["sequence"], r.where, blanks_kept=False) for r in rest)
    else:
        yield from _from_table(rest, first, options, labelled=labelled, states=states)
        return
    yield from _from_entries(entries, labelled=labelled)


def _from_table(records: Iterable[Record], first: Record, options: Mapping[str, Any], *, labelled: bool, states: int) -> Iterator[Chain]:
    def column(given: str | None, candidates: tuple[str, ...], what: str, flag: str, required: bool) -> str | None:
        return find_column(first, given, candidates, what=what, flag=flag, source=first.where, required=required)

    sequence_column = column(options.get("seq_col"), SEQUENCE_COLUMNS, "amino-acid sequence", "--seq-col", True)
    id_column = column(None, ID_COLUMNS, "chain id", "", False)
    state_column = mask_column = None
    if labelled:
        what = "8-state secondary structure (sst8)" if states == 8 else "secondary structure"
        state_column = column(options.get("ss_col"), STATE_COLUMNS[states], what, "--ss-col", True)
        mask_column = column(options.get("mask_col"), MASK_COLUMNS, "mask", "--mask-col", False)
    for number, record in enumerate(records, 1):
        identifier = record.get(id_column) if id_column else None
        yield Chain(
            id=str(identifier) if identifier else f"seq{number}",
            sequence=_text(record.get(sequence_column)).strip(),
            source=record.where,
            states=_text(record.get(state_column)) if state_column else None,
            mask=_text(record.get(mask_column)).strip() if mask_column else None,
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
                raise DataError(f"{entry.source}: a bare sequence has no secondary structure to train or score on; {LABELLED_FORMS}")
            yield entry
            continue
        if entry.name.endswith(RCSB_STATES):
            name = entry.name.removesuffix(RCSB_STATES)
            if not labelled:
                continue  # predict needs only the sequences
            if pending is None or pending.name.removesuffix(RCSB_SEQUENCE) != name:
                raise DataError(f"{entry.source}: {entry.name} does not follow its {name}{RCSB_SEQUENCE} record; RCSB pairs come sequence first, then secstr")
            hint = "" if entry.blanks_kept else BLANKS_LOST
            yield Chain(name, pending.text, pending.source, states=entry.text, length_hint=hint)
            pending = None
            continue
        if pending is not None:
            raise DataError(f"{pending.source}: {pending.name} has no {RCSB_STATES} record after it; {LABELLED_FORMS}")
        if labelled:
            if not entry.name.endswith(RCSB_SEQUENCE):
                raise DataError(f"{entry.source}: FASTA record {entry.name} has no secondary structure; {LABELLED_FORMS}")
            pending = entry
        else:
            yield Chain(entry.name.removesuffix(RCSB_SEQUENCE), entry.text, entry.source)
    if pending is not None:
        raise DataError(f"{pending.source}: {pending.name} has no {RCSB_STATES} record after it; {LABELLED_FORMS}")


BLANKS_LOST = "the FASTA reader drops the blanks that mean coil in RCSB ss.txt; read such a file with --input-format lines, which keeps them"
LABELLED_FORMS = (
    "labelled data is a csv/tsv/jsonl with seq and sst3 or sst8 columns (and an optional mask), "
    "or RCSB ss.txt-style FASTA pairs >ID:sequence then >ID:secstr"
)
