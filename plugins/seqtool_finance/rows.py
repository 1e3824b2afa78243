"""One input record -> one parsed row (symbol, time, numbers), with errors that name the line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from seqtool import DataError, Record, find_column

TIME_COLUMNS = ("timestamp", "date", "time", "datetime")
VALUE_COLUMNS = ("value", "close", "adj close", "price", "volume")
SYMBOL_COLUMNS = ("symbol", "ticker")
#: formats datetime.fromisoformat does not read, tried in order (US month-first, as in most
#: exported price files)
EXTRA_TIME_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%b %d %Y", "%d-%b-%Y")


@dataclass(frozen=True)
class Columns:
    time: str
    values: tuple[str, ...]
    symbol: str | None

    def state(self) -> dict[str, Any]:
        return {"time": self.time, "values": list(self.values), "symbol": self.symbol}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Columns":
        return cls(state["time"], tuple(state["values"]), state["symbol"])


@dataclass(frozen=True)
class Row:
    symbol: str
    stamp: str  # as written in the input, echoed in the output
    time: datetime
    values: tuple[float, ...]
    source: str
    #: the file the row came from: with the symbol, the identity of its series
    path: str


class BadValue(DataError):
    """A value that is missing, not a number or not finite (``--on-bad skip`` skips the row)."""


def find_columns(record: Record, options: Mapping[str, Any], trained: Columns | None) -> Columns:
    """The columns named by the options, else those used in training, else found by name."""
    fields = list(record)

    def pick(flag: str, key: str, candidates: tuple[str, ...], what: str, remembered: str | None, required: bool = True) -> str | None:
        given = options.get(key)
        if given is None and remembered in record:
            return remembered
        return find_column(fields, given, candidates, what=what, flag=flag, source=record.where, required=required)

    time = pick("--time-col", "time_col", TIME_COLUMNS, "timestamp", trained and trained.time)
    symbol = pick("--symbol-col", "symbol_col", SYMBOL_COLUMNS, "symbol", trained and trained.symbol, required=False)
    given_values = options.get("value_col")
    if given_values is None and trained and all(v in record for v in trained.values):
        values = trained.values
    elif given_values is not None:
        values = tuple(find_column(fields, v.strip(), (), what="values", flag="--value-col", source=record.where) for v in given_values.split(","))
    else:
        values = (find_column(fields, None, VALUE_COLUMNS, what="value", flag="--value-col", source=record.where),)
    if trained and len(values) != len(trained.values):
        raise DataError(f"{record.where}: the model was trained on {len(trained.values)} value column(s) ({', '.join(trained.values)}); name as many with --value-col")
    return Columns(time, values, symbol)


def parse_time(text: str, source: str) -> datetime:
    text = text.strip()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
        for fmt in EXTRA_TIME_FORMATS:
            try:
                stamp = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if stamp is None:
            try:
                stamp = datetime.fromtimestamp(float(text), tz=timezone.utc)
            except (ValueError, OverflowError, OSError):
                raise DataError(f"{source}: cannot read timestamp {text!r}; use ISO 8601 (2024-01-31 09:30:00), M/D/YYYY or Unix seconds") from None
    # mixing naive and aware times cannot be compared; UTC is the only safe common ground
    return stamp.astimezone(timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp


def parse_row(record: Record, columns: Columns) -> Row:
    values = []
    for column in columns.values:
        text = str(record.get(column, "")).strip()
        try:
            number = float(text)
        except ValueError:
            raise BadValue(f"{record.where}: {column} is {text!r}, not a number; fix the row or pass --on-bad skip") from None
        if not math.isfinite(number):
            raise BadValue(f"{record.where}: {column} is {text!r}; NaN and infinity cannot be scored; fix the row or pass --on-bad skip")
        values.append(number)
    symbol = str(record.get(columns.symbol, "")).strip() if columns.symbol else ""
    stamp = str(record.get(columns.time, ""))
    return Row(symbol, stamp.strip(), parse_time(stamp, record.where), tuple(values), record.where, record.path)
