"""A task's columns: declared once on the Task, found in each input by name, remembered in the
model, and handed to the adapter under the names the task chose.

A user's file says ``review`` and ``stars``; the sentiment task reads ``text`` and ``label``. The
core finds the columns in each file (the flag that names one wins; then the column training used,
when this file has it; then common names), and renames them, so an adapter reads
``record["text"]`` whatever the file called it and never writes column code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Literal, Mapping, Sequence

from seqtool.errors import DataError
from seqtool.types import Record


@dataclass(frozen=True)
class Column:
    """A field the task reads from each table record (csv, tsv, jsonl, Python dicts).

    ``key`` is the name the adapter reads it by and the first name looked for (unless ``names``
    lists it, to try others first); ``names`` are other common names, tried in order (case, spaces, dashes and underscores do not matter);
    ``what`` says what it holds, for help and errors. ``needed``: ``"always"``; ``"labelled"``
    (for train and evaluate only: a target); ``"optional"`` (used when present). Each column gets
    a flag, ``--KEY-col``, on the verbs that read it.
    """

    key: str
    names: tuple[str, ...] = ()
    what: str = ""
    needed: Literal["always", "labelled", "optional"] = "always"

    @property
    def flag(self) -> str:
        return f"--{self.key.replace('_', '-')}-col"

    @property
    def option(self) -> str:
        """The name the flag's value has among the task options."""
        return f"{self.key}_col"

    @property
    def verbs(self) -> tuple[str, ...]:
        return ("train", "evaluate") if self.needed == "labelled" else ("train", "evaluate", "predict")

    @property
    def candidates(self) -> tuple[str, ...]:
        """The names looked for, in order: the key first, unless ``names`` places it."""
        return self.names if self.key in self.names else (self.key, *self.names)

    @property
    def help(self) -> str:
        found = ", ".join(self.candidates)
        return f"Column holding the {self.what or self.key} (found automatically: {found})."


def column_flags(columns: Sequence[Column], options: Mapping[str, object]) -> tuple[dict[str, str | None], dict[str, object]]:
    """Split option values into the column flags' and the rest. Column flags name a column of
    this input only: the model remembers the columns found, never the flags."""
    flags = {c.option for c in columns}
    return {k: v for k, v in options.items() if k in flags}, {k: v for k, v in options.items() if k not in flags}  # type: ignore[misc]


def resolve_columns(
    records: Iterable[Record],
    columns: Sequence[Column],
    *,
    given: Mapping[str, str | None],
    trained: Mapping[str, str | None],
    labelled: bool,
    found: dict[str, str | None] | None = None,
) -> Iterator[Record]:
    """``records`` with the task's columns renamed to their keys, resolved anew for each file.

    ``given`` holds the column flags' values (by :attr:`Column.option`), ``trained`` the names
    training used; ``found``, when given, receives the names resolved in the first file (what a
    model remembers). Records of the lines reader have one fixed field and pass as they are.
    """
    names: dict[str, str | None] | None = None
    path = None
    for record in records:
        if not record.table or not columns:
            yield record
            continue
        if names is None or record.path != path:
            names, path = _resolve(record, columns, given, trained, labelled), record.path
            if found is not None and not found:
                found.update(names)
        yield record.renamed(names)


def _resolve(record: Record, columns: Sequence[Column], given: Mapping[str, str | None], trained: Mapping[str, str | None], labelled: bool) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    for column in columns:
        if column.needed == "labelled" and not labelled:
            continue  # a target column in data to predict is the user's: it passes through as it is
        flagged, remembered = given.get(column.option), trained.get(column.key)
        if flagged is None and remembered in record:
            names[column.key] = remembered
            continue
        required = column.needed != "optional"
        names[column.key] = find_column(
            record, flagged, column.candidates, what=column.what or column.key, flag=column.flag, source=record.where, required=required
        )
    return names


def find_column(
    columns: Iterable[str],
    given: str | None,
    candidates: Sequence[str],
    *,
    what: str,
    flag: str,
    source: str,
    required: bool = True,
) -> str | None:
    """The column to use for ``what``: ``given`` when the user named one, otherwise the first of
    ``candidates`` present (compared case-insensitively, ignoring spaces, dashes, underscores).

    A miss raises a :class:`DataError` that lists the columns found and names ``flag``.
    """
    columns = list(columns)
    if given is not None:
        if given in columns:
            return given
        raise DataError(f"{source}: no column {given!r} for {what}; columns found: {_listing(columns)}")
    by_key = {_key(c): c for c in columns}
    for candidate in candidates:
        if _key(candidate) in by_key:
            return by_key[_key(candidate)]
    if not required:
        return None
    raise DataError(
        f"{source}: cannot tell which column holds the {what}; columns found: {_listing(columns)}. "
        f"Name it with {flag} COLUMN."
    )


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " _-")


def _listing(columns: Sequence[str]) -> str:
    return ", ".join(columns) if columns else "(none)"
