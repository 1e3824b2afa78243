"""Forecasts as a table: one row per series and step ahead (``series,time,TARGET...``), the shape
spreadsheets and plotting tools expect, where jsonl keeps one record per series."""

from __future__ import annotations

import csv
from typing import Any, Mapping, TextIO


class StepsCsvWriter:
    delimiter = ","

    def __init__(self, stream: TextIO) -> None:
        self.rows = csv.writer(stream, delimiter=self.delimiter, lineterminator="\n")
        self.header: list[str] | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        steps = [name for name, value in record.items() if isinstance(value, list)]  # time and the targets
        if self.header is None:
            self.header = [name for name in record if name not in steps] + steps
            self.rows.writerow(self.header)
        columns = [record.get(name) if name not in steps else record.get(name, []) for name in self.header]
        for step in range(len(record[steps[0]])):
            self.rows.writerow([value[step] if isinstance(value, list) else value for value in columns])

    def finish(self) -> None:
        pass


class StepsTsvWriter(StepsCsvWriter):
    delimiter = "\t"
