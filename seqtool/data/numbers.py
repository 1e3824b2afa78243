"""Numbers from table records: the numeric column(s) a task models and each row's values.

A task over numeric series (prices, readings, demand) reads one or several value columns, which a
flag may name (``--value-col close,volume``). The columns are found the way declared columns are
(:func:`~seqtool.data.columns.find_column`); a value that is not a finite number is an error that
names the record's line, so a user can fix it, or a :class:`BadNumber` a task may skip instead.
"""

from __future__ import annotations

import math
from typing import Sequence

from seqtool.data.columns import find_column
from seqtool.errors import DataError
from seqtool.types import Record


class BadNumber(DataError):
    """A value that is missing, not a number, NaN or infinite: a task may skip its record."""


def find_value_columns(
    record: Record,
    given: str | None,
    candidates: Sequence[str],
    *,
    trained: Sequence[str] | None = None,
    flag: str = "--value-col",
) -> tuple[str, ...]:
    """The numeric columns to model in this input: those ``given`` names (a flag's value,
    comma-separated), else those training used when the record has them all, else the first of
    ``candidates`` present. A model takes as many values per row as it was trained on, so a
    different number of columns is an error naming ``flag``."""
    if given is None and trained and all(column in record for column in trained):
        columns = tuple(trained)
    elif given is not None:
        columns = tuple(find_column(record, name.strip(), (), what="values", flag=flag, source=record.where) for name in given.split(","))
    else:
        columns = (find_column(record, None, candidates, what="value", flag=flag, source=record.where),)
    if trained and len(columns) != len(trained):
        raise DataError(f"{record.where}: the model was trained on {len(trained)} value column(s) ({', '.join(trained)}); name as many with {flag}")
    return columns  # type: ignore[return-value]  # a required column is always found or an error


def parse_numbers(record: Record, columns: Sequence[str], *, fix: str = "fix the row") -> tuple[float, ...]:
    """The record's values in ``columns`` as floats. A missing, non-numeric, NaN or infinite
    value raises :class:`BadNumber` naming the line, the column and ``fix`` (what the user can do)."""
    values = []
    for column in columns:
        text = str(record.get(column, "")).strip()
        try:
            number = float(text)
        except ValueError:
            raise BadNumber(f"{record.where}: {column} is {text!r}, not a number; {fix}") from None
        if not math.isfinite(number):
            raise BadNumber(f"{record.where}: {column} is {text!r}; NaN and infinity cannot be used; {fix}")
        values.append(number)
    return tuple(values)
