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

from seqtool import DataError, Record, SeqtoolError, parse_time

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
    """Turns records into :class:`History` objects, passing the rows it cannot use to ``skip``.

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
        groups = self._grouped_in_memory(records) if in_memory else self._grouped_stream(records)
        for user_records in groups:
            history = self._history(user_records)
            if history is not None:
                yield self._sessions(history)

    # -- grouping --------------------------------------------------------------------------------

    def _grouped_in_memory(self, records: Iterable[Record]) -> Iterator[list[Record]]:
        groups: dict[str, list[Record]] = {}
        for index, record in enumerate(records):
            key = self._user_of(record, index)
            if key is not None:
                groups.setdefault(key, []).append(record)
        yield from groups.values()

    def _grouped_stream(self, records: Iterable[Record]) -> Iterator[list[Record]]:
        # only the ids of finished users are kept (to notice an unsorted log): memory grows with
        # the number of users, never with the number of events
        finished: dict[str, str] = {}
        current: list[Record] = []
        current_user: str | None = None
        for index, record in enumerate(records):
            if not record.table:  # a whole sequence: score it now, not when the next line comes
                yield [record]
                continue
            user = self._user_of(record, index)
            if user is None:
                continue
            if user != current_user:
                if current_user is not None:
                    finished[current_user] = current[0].where
                    yield current
                if user in finished:
                    raise DataError(
                        f"{record.where}: user {user!r} appears again after other users (first at {finished[user]}); "
                        "the log is read one user at a time, so sort it by user keeping time order "
                        "(the header, then the rest through `sort -s -t, -k1,1`), or pass --unsorted to group it in memory "
                        "(roughly 1 KB per event)"
                    )
                current, current_user = [], user
            current.append(record)
        if current:
            yield current

    def _user_of(self, record: Record, index: int) -> str | None:
        if not record.table:
            return f"{index}"  # every line is its own sequence
        user = _text(record.get("user"))
        if not user or not _text(record.get("event")):
            self.skip(record, "with an empty user or event")
            return None
        return user

    # -- one user --------------------------------------------------------------------------------

    def _history(self, records: list[Record]) -> History | None:
        first = records[0]
        if not first.table:
            if LINE_FIELD not in first:
                raise DataError(f"{first.where}: behaviour reads an event log (csv, tsv, jsonl) or one sequence of events per line; name the format with --input-format")
            events = first[LINE_FIELD].split()
            return History(str(first.line), events, first.where) if events else None
        user = str(first["user"]).strip()
        events = [str(r["event"]).strip() for r in records]
        if not any("time" in r for r in records):  # no time column: file order
            return History(user, events, first.where)
        times = [parse_time(r.get("time"), r.where, column=r.names.get("time", "time")) for r in records]
        order = sorted(range(len(records)), key=times.__getitem__)  # stable: ties keep file order
        history = History(user, [events[i] for i in order], first.where, [times[i] for i in order])
        if self.options.get("ties") == "shuffle":
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
