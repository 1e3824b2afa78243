"""Records -> series: grouped by a key column and put in time order, the step every task over
time series or event logs starts with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from seqtool.data.times import parse_time
from seqtool.types import Record


@dataclass
class Series:
    """One series' records in time order (equal times keep input order) and their parsed times."""

    key: str
    records: list[Record] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)


def group_series(records: Iterable[Record], *, key: str = "series", time: str = "time") -> list[Series]:
    """The series in ``records``, in the order each first appears. Records without a ``key``
    field (a file of one series, whose optional series column is absent) form one series named
    ``""``; times are read with :func:`~seqtool.data.times.parse_time`."""
    groups: dict[str, Series] = {}
    for record in records:
        name = str(record.get(key) or "").strip()
        group = groups.setdefault(name, Series(name))
        group.records.append(record)
        group.times.append(parse_time(record.get(time), record.where, column=record.names.get(time, time), flag=f"--{time}-col"))
    for group in groups.values():
        order = sorted(range(len(group)), key=group.times.__getitem__)  # stable: ties keep input order
        group.records = [group.records[i] for i in order]
        group.times = [group.times[i] for i in order]
    return list(groups.values())
