"""A user's event series -> ordered histories: tie order, sessions, and the time and duration
options that go with them.

No torch here: this is plain parsing, shared by ``fit`` and by ``encode``. The core has found the
columns and grouped the records by user in time order (:func:`seqtool.group_series`): a table
record holds ``user``, ``event`` and, when the log has one, ``time``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, TypeVar

from seqtool import DataError, Record, SeqtoolError, Series, parse_duration, parse_time

#: a record read by the plain-lines reader: one whole sequence per line, events split on whitespace
LINE_FIELD = "text"
#: how events with the same timestamp are ordered: as the file lists them, or shuffled
TIES = ("file", "shuffle")

T = TypeVar("T")


@dataclass
class History:
    """One user's (or session's) events in time order; ``source`` is where the user first appears."""

    user: str
    events: list[str]
    source: str
    times: list[datetime] = field(default_factory=list)


def parse_moment(value: Any) -> datetime:
    """A time given as an option (``--score-from``), read as :func:`seqtool.parse_time` reads the
    time column. Raises ValueError on anything else."""
    try:
        return parse_time(value, "")
    except DataError:
        raise ValueError(f"cannot read {str(value).strip()!r} as a time; use ISO 8601 (2024-05-01 or 2024-05-01T13:45:00), M/D/YYYY or unix seconds/milliseconds") from None


def parsed_option(options: Mapping[str, Any], name: str, parse: Callable[[Any], T]) -> T | None:
    """Option ``name`` read with ``parse``, None when not given. The command line has checked it
    already; a value from the Python API or a model file is checked here."""
    value = options.get(name)
    try:
        return parse(value) if value else None
    except ValueError as error:
        raise SeqtoolError(f"--{name.replace('_', '-')}: {error}") from None


def shuffle_ties(history: History) -> None:
    """Puts each run of equal-time events in a random order seeded by the user id.

    Lines of one invoice share a timestamp, and their file order is the order someone typed or
    a catalogue listed them, not behaviour: shuffled, neither the model nor a baseline can learn
    it, and the same user's basket comes out in the same order on every run and machine.
    """
    rng = random.Random(history.user)  # str seeds hash with SHA-512: no PYTHONHASHSEED dependence
    start = 0
    for end in range(1, len(history.times) + 1):
        if end == len(history.times) or history.times[end] != history.times[start]:
            run = history.events[start:end]
            rng.shuffle(run)
            history.events[start:end] = run
            start = end


class Histories:
    """Turns one user's series into their histories, as --ties and --session-gap ask.

    The series is in time order, equal times in file order (the documented tie-break) unless
    ``--ties shuffle`` (see :func:`shuffle_ties`). A sequence-per-line record (field ``text``)
    comes as a series of its own and is one history.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.session_gap = parsed_option(options, "session_gap", parse_duration)
        self.shuffle_ties = options.get("ties") == "shuffle"

    def of(self, series: Series, skip: Callable[[Record, str], None] | None = None) -> list[History]:
        """The user's sessions (one history when no --session-gap is set), none when no event is
        usable; records with an empty event go to ``skip`` when given."""
        history = self._history(series, skip)
        return [] if history is None else self._sessions(history)

    def _history(self, series: Series, skip: Callable[[Record, str], None] | None) -> History | None:
        first = series.records[0]
        if not first.table:
            if LINE_FIELD not in first:
                raise DataError(f"{first.where}: behaviour reads an event log (csv, tsv, jsonl) or one sequence of events per line; name the format with --input-format")
            events = first[LINE_FIELD].split()
            return History(series.key, events, first.where) if events else None
        usable: list[int] = []
        for i, record in enumerate(series.records):
            if _text(record.get("event")):
                usable.append(i)
            elif skip:
                skip(record, "with an empty event")
        if not usable:
            return None
        times = [series.times[i] for i in usable] if series.times else []
        history = History(series.key, [_text(series.records[i]["event"]) for i in usable], first.where, times)
        if times and self.shuffle_ties:
            shuffle_ties(history)
        return history

    def _sessions(self, history: History) -> list[History]:
        if self.session_gap is None or not history.times:
            return [history]
        sessions: list[History] = []
        start = 0
        for i in range(1, len(history.events) + 1):
            if i == len(history.events) or history.times[i] - history.times[i - 1] > self.session_gap:
                sessions.append(History(history.user, history.events[start:i], history.source, history.times[start:i]))
                start = i
        return sessions


def _text(value: object) -> str:
    """A field as stripped text; a jsonl number 0 (an item id, say) is "0", not empty."""
    return "" if value is None else str(value).strip()
