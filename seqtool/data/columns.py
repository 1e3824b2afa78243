"""Finding a task's columns in the user's data by name."""

from __future__ import annotations

from typing import Iterable, Sequence

from seqtool.errors import DataError


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
