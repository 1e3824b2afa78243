"""Rows -> per-series steps: order checked, duplicates dropped, gaps noted, values transformed,
and the last ``window`` steps kept so each new row can be forecast from them.

Works on a stream: one row in, one step out, so ``tail -f`` input is scored as it arrives.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator, Sequence

from seqtool import DataError, Record, RobustScaler
from seqtool_finance import transforms
from seqtool_finance.rows import BadValue, Row, parse_row

#: a step this many times the series' usual step counts as a gap
GAP_FACTOR = 3
#: intervals used to learn a series' usual step
STEP_SAMPLE = 20


@dataclass
class Step:
    row: Row
    #: index of the row in its series (duplicates not counted)
    position: int
    #: the transformed (and scaled, when a scaler is given) values; None while a transform
    #: that needs the previous row has none
    current: list[float] | None
    #: the ``window`` previous steps' values, once there are that many
    history: list[list[float]] | None


@dataclass
class _Series:
    last_time: datetime | None = None
    last_values: tuple[float, ...] | None = None
    rows: int = 0
    intervals: list[timedelta] = field(default_factory=list)
    recent: deque = field(default_factory=deque)


@dataclass
class Notes:
    """What was repaired or noticed in the input, for the report on stderr (skipped rows are
    counted by the core)."""

    duplicates: int = 0
    first_duplicate: str = ""
    gaps: int = 0
    longest_gap: timedelta = timedelta(0)

    def lines(self) -> list[str]:
        lines = []
        if self.duplicates:
            lines.append(f"dropped {self.duplicates} row(s) repeating the previous timestamp of their series (first: {self.first_duplicate}); the first row of each timestamp is kept")
        if self.gaps:
            lines.append(f"{self.gaps} gap(s) longer than {GAP_FACTOR}x the usual step (longest {self.longest_gap}); rows either side are treated as consecutive")
        return lines


class Sequencer:
    """``columns_for`` finds the value columns in the first record; ``skip``, when given, is
    called with each record whose value is bad instead of raising."""

    def __init__(
        self,
        columns_for: Callable[[Record], tuple[str, ...]],
        transform_names: Sequence[str],
        scaler: RobustScaler | None,
        window: int,
        *,
        skip: Callable[[Record], None] | None,
        sort: bool,
        notes: Notes | None = None,
    ) -> None:
        self.columns_for = columns_for
        self.transform_names = list(transform_names)
        self.scaler = scaler
        self.window = window
        self.skip = skip
        self.sort = sort
        self.columns: tuple[str, ...] | None = None
        self.series: dict[str | None, _Series] = {}
        self.notes = notes or Notes()

    @property
    def counts(self) -> dict[str | None, int]:
        """Rows per series (by symbol), duplicates not counted."""
        return {symbol: series.rows for symbol, series in self.series.items()}

    def rows(self, records: Iterable[Record]) -> Iterator[Row]:
        for record in records:
            if self.columns is None:
                self.columns = self.columns_for(record)
            try:
                yield parse_row(record, self.columns)
            except BadValue:
                if self.skip is None:
                    raise
                self.skip(record)

    def steps(self, records: Iterable[Record]) -> Iterator[Step]:
        rows: Iterable[Row] = self.rows(records)
        if self.sort:  # needs the whole input; without --sort, rows stream through
            rows = sorted(rows, key=lambda r: (r.symbol or "", r.time))
        for row in rows:
            step = self._step(row)
            if step is not None:
                yield step

    def _step(self, row: Row) -> Step | None:
        series = self.series.setdefault(row.symbol, _Series(recent=deque(maxlen=max(self.window, 1))))
        if series.last_time is not None:
            if row.time < series.last_time:
                where = f" of series {row.symbol!r}" if row.symbol else ""
                raise DataError(f"{row.source}: timestamp {row.stamp} is earlier than the previous row{where}; sort the input by time or pass --sort")
            if row.time == series.last_time:
                self.notes.duplicates += 1
                self.notes.first_duplicate = self.notes.first_duplicate or row.source
                return None
            self._note_interval(series, row.time - series.last_time)
        current = self._transform(row, series.last_values)
        series.last_time, series.last_values = row.time, row.values
        full = self.window > 0 and len(series.recent) == self.window
        step = Step(row, series.rows, current, list(series.recent) if full else None)
        series.rows += 1
        if current is not None:
            series.recent.append(current)
        return step

    def _transform(self, row: Row, previous: tuple[float, ...] | None) -> list[float] | None:
        values = []
        for i, (name, value) in enumerate(zip(self.transform_names, row.values)):
            out = transforms.apply(name, value, previous[i] if previous else None, self.columns[i], row.source)
            if out is None:
                return None
            values.append(out)
        return self.scaler.transform(values) if self.scaler else values

    def _note_interval(self, series: _Series, interval: timedelta) -> None:
        if len(series.intervals) < STEP_SAMPLE:
            series.intervals.append(interval)
            return
        if interval > GAP_FACTOR * statistics.median(series.intervals):
            self.notes.gaps += 1
            self.notes.longest_gap = max(self.notes.longest_gap, interval)
