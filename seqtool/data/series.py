"""Records -> series: grouped by a key column and put in time order, the step every task over
time series or event logs starts with (a station's readings, a symbol's prices, a user's events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

from seqtool.data.times import parse_time
from seqtool.errors import DataError
from seqtool.types import Record


@dataclass
class Series:
    """One series' records in time order (equal times keep input order) and their parsed times;
    ``times`` is empty when the input has no time column (then input order is the order)."""

    key: str
    records: list[Record] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)


def group_series(
    records: Iterable[Record],
    *,
    key: str = "series",
    time: str = "time",
    stream: bool = False,
    skip: Callable[[Record, str], None] | None = None,
    regroup: str = "",
) -> Iterator[Series]:
    """The series in ``records``, each in time order.

    A record without a ``key`` field (a file of one series, whose optional key column is absent)
    belongs to the series ``""``; one whose key is empty goes to ``skip`` ("with an empty KEY")
    when given. A record of the lines reader (``record.table`` False) is a whole sequence: a
    series of its own, keyed by its line number. Times are read with
    :func:`~seqtool.data.times.parse_time`; a series without any ``time`` field keeps input order.

    In memory (the default), series come in the order each first appears. With ``stream`` the
    input must come grouped by key, so only one series is held at a time and each is yielded as
    soon as the next begins (memory grows with the number of keys, never with the records); a key
    seen again after others is a :class:`DataError` naming both places, with ``regroup`` (how to
    group the input in memory instead) appended to the fix.
    """
    finished: dict[str, str] = {}
    current: Series | None = None
    groups: dict[str, Series] = {}
    for record in records:
        if not record.table:
            yield Series(str(record.line), [record])
            continue
        name = _key(record, key)
        if name is None:
            if skip:
                skip(record, f"with an empty {key}")
            continue
        if not stream:
            groups.setdefault(name, Series(name)).records.append(record)
            continue
        if current is None or name != current.key:
            if current is not None:
                finished[current.key] = current.records[0].where
                yield _ordered(current, time)
            if name in finished:
                raise DataError(
                    f"{record.where}: {key} {name!r} appears again after other {key}s (first at {finished[name]}); the input is read "
                    f"one {key} at a time, so sort it by {key} keeping time order{regroup}"
                )
            current = Series(name)
        current.records.append(record)
    if current is not None:
        yield _ordered(current, time)
    for series in groups.values():
        yield _ordered(series, time)


def _key(record: Record, key: str) -> str | None:
    """The record's series; "" without a key field; None when the field is there but empty (a
    jsonl number 0 is the key "0")."""
    if key not in record:
        return ""
    value = record[key]
    text = "" if value is None else str(value).strip()
    return text or None


def _ordered(series: Series, time: str) -> Series:
    if not any(time in r for r in series.records):
        return series
    times = [parse_time(r.get(time), r.where, column=r.names.get(time, time), flag=f"--{time}-col") for r in series.records]
    order = sorted(range(len(series)), key=times.__getitem__)  # stable: ties keep input order
    return Series(series.key, [series.records[i] for i in order], [times[i] for i in order])
