"""Event logs -> ordered histories: column lookup, timestamps, grouping by user, sessions.

No torch here: this is plain parsing, shared by ``fit`` (the whole log in memory) and by
``evaluate``/``predict``, which stream a log grouped by user one user at a time.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Mapping, Sequence

from seqtool import DataError, Record, SeqtoolError, find_column

USER_COLUMNS = ("user", "user_id", "userid", "session", "session_id", "sessionid", "customer", "customer_id", "visitor_id", "client_id")
TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "ts", "event_time", "created_at")
EVENT_COLUMNS = ("event", "event_type", "item", "item_id", "itemid", "action", "page", "product_id", "category")
#: a record read by the plain-lines reader: one whole sequence per line, events split on whitespace
LINE_FIELD = "text"
#: unix times above this are taken to be milliseconds (1e11 s is the year 5138)
MILLISECONDS_ABOVE = 1e11
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


@dataclass
class History:
    """One user's (or session's) events in time order; ``source`` is where the user first appears."""

    user: str
    events: list[str]
    source: str
    times: list[float] = field(default_factory=list)


@dataclass
class Columns:
    """Which record fields hold the user, the time (optional: file order otherwise) and the event."""

    user: str
    event: str
    time: str | None

    @classmethod
    def find(cls, record: Record, options: Mapping[str, Any], trained: "Columns | None" = None) -> "Columns":
        """A column named by an option wins; then the one training used, when this file has it;
        then the first common name found."""

        def column(name: str, candidates: Sequence[str], what: str, required: bool = True) -> str | None:
            given = options.get(f"{name}_col")
            known = getattr(trained, name) if trained else None
            if given is None and known in record:
                return known
            return find_column(record, given, candidates, what=what, flag=f"--{name}-col", source=record.where, required=required)

        return cls(
            user=column("user", USER_COLUMNS, "user or session id"),
            event=column("event", EVENT_COLUMNS, "event"),
            time=column("time", TIME_COLUMNS, "timestamp", required=False),
        )

    def state(self) -> dict[str, str | None]:
        return {"user": self.user, "event": self.event, "time": self.time}


def parse_duration(text: str) -> float:
    """``"30m"`` -> 1800.0 seconds; units s, m, h, d, w. Raises ValueError on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 90s, 30m, 2h, 1d, 1w")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_moment(value: Any) -> float:
    """Seconds since the epoch from ISO-8601 (date or datetime; naive means UTC) or a unix time in
    seconds or milliseconds. Raises ValueError on anything else."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return number / 1000 if abs(number) >= MILLISECONDS_ABOVE else number
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"cannot read timestamp {text!r}; use ISO-8601 (2024-05-01 or 2024-05-01T13:45:00) or unix seconds/milliseconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_time(value: Any, source: str, column: str) -> float:
    """:func:`parse_moment` for a value read from ``source``, failing with where it is."""
    try:
        return parse_moment(value)
    except ValueError as error:
        raise DataError(f"{source}: {error} in column {column!r}, or name another column with --time-col") from None


#: how events with the same timestamp are ordered: as the file lists them, or shuffled
TIES = ("file", "shuffle")


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
    """Turns records into :class:`History` objects, counting the rows it had to skip.

    Events are ordered by time; equal times keep file order (a stable sort), the documented
    tie-break, unless ``ties="shuffle"`` (see :func:`shuffle_ties`). A sequence-per-line record
    (field ``text``) is one history on its own.
    """

    def __init__(self, options: Mapping[str, Any], trained: Columns | None = None, ties: str = "file") -> None:
        self.options = options
        self.trained = trained
        self.ties = ties
        self.columns: Columns | None = None
        self.rows_without_user_or_event = 0
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
            if self._is_line(record):  # a whole sequence: score it now, not when the next line comes
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
        if self._is_line(record):
            return f"{index}"  # every line is its own sequence
        if self.columns is None:
            self.columns = Columns.find(record, self.options, self.trained)
        user = str(record.get(self.columns.user) or "").strip()
        if not user or not str(record.get(self.columns.event) or "").strip():
            self.rows_without_user_or_event += 1
            return None
        return user

    @staticmethod
    def _is_line(record: Record) -> bool:
        return set(record) == {LINE_FIELD}

    # -- one user --------------------------------------------------------------------------------

    def _history(self, records: list[Record]) -> History | None:
        first = records[0]
        if self._is_line(first):
            events = first[LINE_FIELD].split()
            return History(str(first.line), events, first.where) if events else None
        columns = self.columns
        user = str(first[columns.user]).strip()
        events = [str(r[columns.event]).strip() for r in records]
        if columns.time is None:
            return History(user, events, first.where)
        times = [parse_time(r[columns.time], r.where, columns.time) for r in records]
        order = sorted(range(len(records)), key=times.__getitem__)  # stable: ties keep file order
        history = History(user, [events[i] for i in order], first.where, [times[i] for i in order])
        if self.ties == "shuffle":
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
