"""Rows of numeric series -> steps: each row read, placed in its series, and given the window of
rows before it. The plumbing every task over series of numbers repeats (an anomaly detector that
scores each new row, a forecaster that reads the last N values), done once.

:class:`SeriesStepper` works on a stream: one record in, one step out, so ``tail -f`` input is
handled as it arrives and a task can answer every row. It keeps a little state per series (a
file may interleave many series by time) and, for each record:

- reads its value columns (:mod:`seqtool.data.numbers`); a bad value stops the run with the
  line, or with ``bad="note"`` gives a noted step;
- places it after its series' previous row: a row repeating that row's time is noted (the first
  row of a time is kept); a row earlier than it stops the run (a stream cannot be re-ordered:
  :meth:`SeriesStepper.in_order` reads a whole input and sorts it) or, with
  ``out_of_order="note"``, is noted;
- notes gaps, intervals much longer than the series' usual one (the rows either side stay
  consecutive steps: a note, so that the user knows);
- computes what the row adds to the window (``features``: its values, or say their changes and
  scaled), which may refuse a value it cannot take (:class:`UnusableRow`: noted), and hands out
  the last ``window`` rows' features before it.

A noted step (:attr:`Step.note` says why) is left out of its series: the window, the previous
values, the last time and the count stay as they were, and the next row follows the last usable
one as if the noted row had not come. For a late row this keeps the window true to time: the
rows after it were already stepped from a window without it, and slotting it in now would give
the next rows a history that never was; moving the series' clock back to it would let a
repeated stretch (a clock set back an hour) into the window a second time.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator, Literal, Sequence

from seqtool.data.numbers import BadNumber, parse_numbers
from seqtool.data.times import parse_time
from seqtool.errors import DataError
from seqtool.types import Record

#: an interval this many times the series' usual one is a gap
GAP_FACTOR = 3
#: the first intervals of a series, from which its usual interval (their median) is learnt
STEP_SAMPLE = 20
#: the notes the stepper gives; a task may show them per row and count them by note
REPEATED = "repeats the previous timestamp"
EARLIER = "earlier than the previous row"
BAD_VALUE = "missing or not a finite number"


class UnusableRow(Exception):
    """Raised by a stepper's ``features`` function for a row whose values it cannot take (a value
    outside a transform's domain); the message becomes the step's note."""


@dataclass
class Step:
    """One row of a series, read and placed."""

    record: Record
    #: the series' key: the key field's value, stripped; "" when it is empty or absent (one series)
    series: str
    time: datetime
    #: the row's numbers, one per value column; empty for a row whose values could not be read
    values: tuple[float, ...]
    #: the previous usable row's values in the series (None before its first), for changes and returns
    previous: tuple[float, ...] | None
    #: the row's index in its series, noted rows not counted (a noted row has the next row's)
    position: int
    #: what the row adds to the window; None when it has nothing yet (a change needs a previous row)
    features: list[float] | None = None
    #: the ``window`` previous rows' features, oldest first; None until the series has that many
    window: list[list[float]] | None = None
    #: why the row was left out of its series (see the module docstring); None for a usable row
    note: str | None = None


@dataclass
class SeriesNotes:
    """What was noticed in the input beyond single rows, for the report on stderr. One object may
    be shared by several steppers (the training and validation files of one run)."""

    gaps: int = 0
    longest_gap: timedelta = timedelta(0)

    def lines(self) -> list[str]:
        if not self.gaps:
            return []
        return [f"{self.gaps} gap(s) longer than {GAP_FACTOR}x the usual step (longest {self.longest_gap}); rows either side are treated as consecutive"]


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
    ``features(step)`` gives what a row adds to the window (default: its values) or raises
    :class:`UnusableRow`. ``key`` and ``time`` are the fields holding the series key and the time.
    ``bad`` and ``out_of_order`` say what a bad value and a row earlier than its series' previous
    one do: stop the run ("error") or give a noted step ("note"). ``bad_fix`` and ``order_fix``
    end those errors: what the user can do (name the task's own options there).
    """

    def __init__(
        self,
        columns: Sequence[str] | Callable[[Record], Sequence[str]],
        *,
        window: int = 0,
        features: Callable[[Step], list[float] | None] | None = None,
        key: str = "series",
        time: str = "time",
        bad: Literal["error", "note"] = "error",
        out_of_order: Literal["error", "note"] = "error",
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
        self.bad = bad
        self.out_of_order = out_of_order
        self.bad_fix = bad_fix
        self.order_fix = order_fix
        self.notes = notes or SeriesNotes()
        self.series: dict[str, _Series] = {}

    @property
    def counts(self) -> dict[str, int]:
        """Usable rows per series so far, by key (noted rows not counted): to check at the end
        that each series was long enough."""
        return {key: series.rows for key, series in self.series.items()}

    def in_order(self, records: Iterable[Record]) -> list[Record]:
        """All of ``records``, series by series (by key), each in time order; equal times keep
        input order. For input that is not in order: it reads the whole input, where
        :meth:`push` streams."""
        return sorted(records, key=lambda record: (_series_key(record, self.key), self._time(record)))

    def steps(self, records: Iterable[Record]) -> Iterator[Step]:
        """:meth:`push` for each record, lazily."""
        for record in records:
            yield self.push(record)

    def push(self, record: Record) -> Step:
        """The record's step, placed in its series; a noted one left out of it."""
        if self.columns is None:
            self.columns = tuple(self._find_columns(record))
        try:
            values, note = parse_numbers(record, self.columns, fix=self.bad_fix), None
        except BadNumber:
            if self.bad == "error":
                raise
            values, note = (), BAD_VALUE
        key, time = _series_key(record, self.key), self._time(record)
        series = self.series.setdefault(key, _Series(deque(maxlen=self.window)))
        step = Step(record, key, time, values, series.last_values, series.rows, note=note or self._out_of_place(record, key, time, series))
        if step.note is None:
            try:
                step.features = self.features(step)
            except UnusableRow as unusable:
                step.note = str(unusable)
        if step.note is not None:
            return step
        if series.last_time is not None:
            self._note_interval(series, time - series.last_time)
        if self.window and len(series.recent) == self.window:
            step.window = list(series.recent)
        series.rows += 1
        series.last_time, series.last_values = time, values
        if self.window and step.features is not None:
            series.recent.append(step.features)
        return step

    def _out_of_place(self, record: Record, key: str, time: datetime, series: _Series) -> str | None:
        """Why a row cannot follow its series' previous row (a repeated or an earlier time), or
        None when it can; an earlier time stops the run unless ``out_of_order="note"``."""
        if series.last_time is None or time > series.last_time:
            return None
        if time == series.last_time:
            return REPEATED
        if self.out_of_order == "error":
            of_series = f" of series {key!r}" if key else ""
            stamp = str(record.get(self.time, "")).strip()
            raise DataError(f"{record.where}: timestamp {stamp} is earlier than the previous row{of_series}; {self.order_fix}")
        return EARLIER

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
