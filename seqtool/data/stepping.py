"""Rows of numeric series -> steps: each row read, placed in its series, and given the window of
rows before it. The plumbing every task over series of numbers repeats (an anomaly detector that
scores each new row, a forecaster that reads the last N values), done once.

:class:`SeriesStepper` works on a stream: one record in, one step out, so ``tail -f`` input is
handled as it arrives. It keeps a little state per series (a file may interleave many series by
time) and, for each record:

- reads its value columns (:mod:`seqtool.data.numbers`); a bad value stops the run with the
  line, or with ``skip`` is left out and counted;
- checks its series' order: a time earlier than the series' previous row stops the run, because
  a stream cannot be re-ordered (:meth:`SeriesStepper.in_order` reads a whole input and sorts it);
- drops a row that repeats the previous row's time (the first one is kept) and notes it;
- notes gaps, intervals much longer than the series' usual one (the rows either side stay
  consecutive steps: a note, so that the user knows);
- computes what the row adds to the window (``features``: its values, or say their changes and
  scaled) and hands out the last ``window`` rows' features before it.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator, Sequence

from seqtool.data.numbers import BadNumber, parse_numbers
from seqtool.data.times import parse_time
from seqtool.errors import DataError
from seqtool.types import Record

#: an interval this many times the series' usual one is a gap
GAP_FACTOR = 3
#: the first intervals of a series, from which its usual interval (their median) is learnt
STEP_SAMPLE = 20


@dataclass
class Step:
    """One row of a series, read and placed."""

    record: Record
    #: the series' key: the key field's value, stripped; "" when it is empty or absent (one series)
    series: str
    time: datetime
    #: the row's numbers, one per value column
    values: tuple[float, ...]
    #: the previous row's values in the series (None for its first row), for changes and returns
    previous: tuple[float, ...] | None
    #: the row's index in its series (dropped duplicates not counted)
    position: int
    #: what the row adds to the window; None when it has nothing yet (a change needs a previous row)
    features: list[float] | None = None
    #: the ``window`` previous rows' features, oldest first; None until the series has that many
    window: list[list[float]] | None = None


@dataclass
class SeriesNotes:
    """What was repaired or noticed in the input, for the report on stderr. One object may be
    shared by several steppers (the training and validation files of one run)."""

    duplicates: int = 0
    first_duplicate: str = ""
    gaps: int = 0
    longest_gap: timedelta = timedelta(0)

    def lines(self) -> list[str]:
        lines = []
        if self.duplicates:
            lines.append(
                f"dropped {self.duplicates} row(s) repeating the previous timestamp of their series (first: {self.first_duplicate}); "
                "the first row of each timestamp is kept"
            )
        if self.gaps:
            lines.append(f"{self.gaps} gap(s) longer than {GAP_FACTOR}x the usual step (longest {self.longest_gap}); rows either side are treated as consecutive")
        return lines


@dataclass
class _Series:
    recent: deque[list[float]]
    rows: int = 0
    last_time: datetime | None = None
    last_values: tuple[float, ...] | None = None
    intervals: list[timedelta] = field(default_factory=list)


class SeriesStepper:
    """Steps through the records of one input (see the module's docstring).

    ``columns`` are the value columns, or a function that finds them in the first record (e.g.
    with :func:`~seqtool.data.numbers.find_value_columns`); :attr:`columns` then holds them.
    ``features(step)`` gives what a row adds to the window (default: its values). ``key`` and
    ``time`` are the fields holding the series key and the time. ``skip``, when given, receives
    each record with a bad value (and the reason, as :meth:`seqtool.Adapter.skip` takes it)
    instead of the run stopping. ``bad_fix`` and ``order_fix`` end the errors for a bad value and
    a row out of order: what the user can do (name the task's own options there).
    """

    def __init__(
        self,
        columns: Sequence[str] | Callable[[Record], Sequence[str]],
        *,
        window: int = 0,
        features: Callable[[Step], list[float] | None] | None = None,
        key: str = "series",
        time: str = "time",
        skip: Callable[[Record, str], None] | None = None,
        bad_fix: str = "fix the row",
        order_fix: str = "sort the input by time",
        notes: SeriesNotes | None = None,
    ) -> None:
        self._find_columns = columns if callable(columns) else (lambda record: columns)
        self.columns: tuple[str, ...] | None = None
        self.window = window
        self.features = features or (lambda step: list(step.values))
        self.key = key
        self.time = time
        self.skip = skip
        self.bad_fix = bad_fix
        self.order_fix = order_fix
        self.notes = notes or SeriesNotes()
        self.series: dict[str, _Series] = {}

    @property
    def counts(self) -> dict[str, int]:
        """Rows per series so far, by key (dropped duplicates and skipped rows not counted): to
        check at the end that each series was long enough."""
        return {key: series.rows for key, series in self.series.items()}

    def in_order(self, records: Iterable[Record]) -> list[Record]:
        """All of ``records``, series by series (by key), each in time order; equal times keep
        input order. For input that is not in order: it reads the whole input, where
        :meth:`push` streams."""
        return sorted(records, key=lambda record: (_series_key(record, self.key), self._time(record)))

    def steps(self, records: Iterable[Record]) -> Iterator[Step]:
        """:meth:`push` for each record, lazily, leaving out the records that give no step."""
        for record in records:
            step = self.push(record)
            if step is not None:
                yield step

    def push(self, record: Record) -> Step | None:
        """The record's step; None for a record left out: a repeated time (noted) or, with
        ``skip``, a bad value (passed to ``skip``)."""
        if self.columns is None:
            self.columns = tuple(self._find_columns(record))
        try:
            values = parse_numbers(record, self.columns, fix=self.bad_fix)
        except BadNumber:
            if self.skip is None:
                raise
            self.skip(record, "with a missing, non-numeric or infinite value")
            return None
        key, time = _series_key(record, self.key), self._time(record)
        series = self.series.setdefault(key, _Series(deque(maxlen=self.window)))
        if series.last_time is not None:
            if time < series.last_time:
                of_series = f" of series {key!r}" if key else ""
                stamp = str(record.get(self.time, "")).strip()
                raise DataError(f"{record.where}: timestamp {stamp} is earlier than the previous row{of_series}; {self.order_fix}")
            if time == series.last_time:
                self.notes.duplicates += 1
                self.notes.first_duplicate = self.notes.first_duplicate or record.where
                return None
            self._note_interval(series, time - series.last_time)
        step = Step(record, key, time, values, series.last_values, series.rows)
        step.features = self.features(step)
        if self.window and len(series.recent) == self.window:
            step.window = list(series.recent)
        series.rows += 1
        series.last_time, series.last_values = time, values
        if self.window and step.features is not None:
            series.recent.append(step.features)
        return step

    def _time(self, record: Record) -> datetime:
        return parse_time(record.get(self.time), record.where, column=record.names.get(self.time, self.time), flag=f"--{self.time}-col")

    def _note_interval(self, series: _Series, interval: timedelta) -> None:
        if len(series.intervals) < STEP_SAMPLE:
            series.intervals.append(interval)
        elif interval > GAP_FACTOR * statistics.median(series.intervals):
            self.notes.gaps += 1
            self.notes.longest_gap = max(self.notes.longest_gap, interval)


def _series_key(record: Record, key: str) -> str:
    """The record's series: the ``key`` field stripped; "" when the record has none (a file of one series)."""
    value = record.get(key)
    return "" if value is None else str(value).strip()
