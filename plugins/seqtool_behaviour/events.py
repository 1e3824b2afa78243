"""Event logs -> ordered histories: grouping by user, time order, sessions.

No torch here: this is plain parsing, shared by ``fit`` (the whole log in memory) and by
``evaluate``/``predict``, which stream a log grouped by user one user at a time. The core has
found the columns: a table record holds ``user``, ``event`` and, when the log has one, ``time``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from seqtool import DataError, Record, SeqtoolError, Series, group_series, parse_time

#: a record read by the plain-lines reader: one whole sequence per line, events split on whitespace
LINE_FIELD = "text"
#: how events with the same timestamp are ordered: as the file lists them, or shuffled
TIES = ("file", "shuffle")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


@dataclass
class History:
    """One user's (or session's) events in time order; ``source`` is where the user first appears."""

    user: str
    events: list[str]
    source: str
    times: list[datetime] = field(default_factory=list)


def parse_duration(text: str) -> timedelta:
    """``"30m"`` -> 30 minutes; units s, m, h, d, w. Raises ValueError on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 90s, 30m, 2h, 1d, 1w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_moment(value: Any) -> datetime:
    """A time given as an option (``--score-from``), read as :func:`seqtool.parse_time` reads the
    time column. Raises ValueError on anything else."""
    try:
        return parse_time(value, "")
    except DataError:
        raise ValueError(f"cannot read {str(value).strip()!r} as a time; use ISO 8601 (2024-05-01 or 2024-05-01T13:45:00), M/D/YYYY or unix seconds/milliseconds") from None


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


class HistoryReader:
    """Turns records into :class:`History` objects (grouped and ordered by the core's
    :func:`seqtool.group_series`), passing the rows it cannot use to ``skip``.

    Events are ordered by time; equal times keep file order (a stable sort), the documented
    tie-break, unless ``--ties shuffle`` (see :func:`shuffle_ties`). A sequence-per-line record
    (field ``text``) is one history on its own.
    """

    def __init__(self, options: Mapping[str, Any], skip: Callable[[Record, str], None]) -> None:
        self.options = options
        self.skip = skip
        gap = options.get("session_gap")
        try:
            self.session_gap = parse_duration(gap) if gap else None
        except ValueError as error:
            raise SeqtoolError(f"--session-gap: {error}") from None

    def read(self, records: Iterable[Record]) -> Iterator[list[History]]:
        """Per user, the list of their sessions (one history when no --session-gap is set).

        A list of records (training) is grouped in memory in first-seen order. A stream must come
        grouped by user, so that only one user is held at a time, unless --unsorted asks to
        group the whole log in memory.
        """
        in_memory = isinstance(records, Sequence) or bool(self.options.get("unsorted"))
        regroup = " (the header, then the rest through `sort -s -t, -k1,1`), or pass --unsorted to group it in memory (roughly 1 KB per event)"
        for series in group_series(self._usable(records), key="user", stream=not in_memory, regroup=regroup):
            history = self._history(series)
            if history is not None:
                yield self._sessions(history)

    def _usable(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            if record.table and not (_text(record.get("user")) and _text(record.get("event"))):
                self.skip(record, "with an empty user or event")
            else:
                yield record

    def _history(self, series: Series) -> History | None:
        first = series.records[0]
        if not first.table:
            if LINE_FIELD not in first:
                raise DataError(f"{first.where}: behaviour reads an event log (csv, tsv, jsonl) or one sequence of events per line; name the format with --input-format")
            events = first[LINE_FIELD].split()
            return History(str(first.line), events, first.where) if events else None
        history = History(series.key, [_text(r["event"]) for r in series.records], first.where, series.times)
        if series.times and self.options.get("ties") == "shuffle":
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
