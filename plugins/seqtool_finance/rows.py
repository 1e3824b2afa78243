"""One input record -> one parsed row (symbol, time, numbers), with errors that name the line.

The core finds the time and symbol columns (the Task's ``columns``) and hands them over as
``record["time"]`` and ``record["symbol"]``; the value columns, of which ``--value-col`` may name
several, are found here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from seqtool import DataError, Record, find_column, parse_time

VALUE_COLUMNS = ("value", "close", "adj close", "price", "volume")


@dataclass(frozen=True)
class Row:
    #: None when the input has no symbol column
    symbol: str | None
    stamp: str  # as written in the input, echoed in the output
    time: datetime
    values: tuple[float, ...]
    source: str
    #: the file the row came from: with the symbol, the identity of its series
    path: str


class BadValue(DataError):
    """A value that is missing, not a number or not finite (``--on-bad skip`` skips the row)."""


def value_columns(record: Record, given: str | None, trained: Sequence[str] | None) -> tuple[str, ...]:
    """The value columns named by --value-col, else those used in training, else found by name."""
    if given is None and trained and all(v in record for v in trained):
        values = tuple(trained)
    elif given is not None:
        values = tuple(find_column(record, v.strip(), (), what="values", flag="--value-col", source=record.where) for v in given.split(","))
    else:
        values = (find_column(record, None, VALUE_COLUMNS, what="value", flag="--value-col", source=record.where),)
    if trained and len(values) != len(trained):
        raise DataError(f"{record.where}: the model was trained on {len(trained)} value column(s) ({', '.join(trained)}); name as many with --value-col")
    return values


def parse_row(record: Record, columns: Sequence[str]) -> Row:
    values = []
    for column in columns:
        text = str(record.get(column, "")).strip()
        try:
            number = float(text)
        except ValueError:
            raise BadValue(f"{record.where}: {column} is {text!r}, not a number; fix the row or pass --on-bad skip") from None
        if not math.isfinite(number):
            raise BadValue(f"{record.where}: {column} is {text!r}; NaN and infinity cannot be scored; fix the row or pass --on-bad skip")
        values.append(number)
    symbol = str(record["symbol"]).strip() if "symbol" in record else None
    stamp = str(record.get("time", "")).strip()
    return Row(symbol, stamp, parse_time(stamp, record.where, column=record.names.get("time", "time")), tuple(values), record.where, record.path)
