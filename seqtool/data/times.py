"""Reading a time from a field, the same way for every task.

ISO 8601 and Unix times (seconds, or milliseconds when the number is that large) are read on a
fast path; anything else goes to pandas, which reads the formats people export (``01/31/2024``
month first, ``31-Jan-2024``, ``Jan 31 2024 09:30``...). Times with a zone are converted to UTC
and every time comes back naive, so times from different files and zones compare.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from seqtool.errors import DataError

#: Unix times above this are milliseconds (1e11 seconds is the year 5138)
MILLISECONDS_ABOVE = 1e11


def parse_time(value: Any, where: str, column: str = "time", flag: str = "--time-col") -> datetime:
    """``value`` as a naive UTC datetime; a value that is not a time raises a :class:`DataError`
    naming ``where`` (file:line), the column, the formats read and ``flag``."""
    text = str(value if value is not None else "").strip()
    try:
        return _parse(text)
    except (ValueError, OverflowError, OSError):
        raise DataError(
            f"{where}: cannot read {text!r} in column {column!r} as a time; use ISO 8601 (2024-01-31 09:30:00), "
            f"M/D/YYYY or Unix seconds, or name another column with {flag}"
        ) from None


#: formats of exported files that ISO parsing misses, tried before pandas (which is ~100x slower
#: per value); month first, as most exported price files are
COMMON_FORMATS = ["%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%b %d %Y", "%d-%b-%Y", "%Y%m%d"]


def _parse(text: str) -> datetime:
    if not text:
        raise ValueError("empty")
    if len(text) == 8 and text.isdigit():
        try:  # 20240131 is a date far more often than the Unix time 1970-08-23
            return datetime.strptime(text, "%Y%m%d")
        except ValueError:
            pass
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        seconds = number / 1000 if abs(number) >= MILLISECONDS_ABOVE else number
        return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = _common(text) or _pandas(text)
    return stamp.astimezone(timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp


def _common(text: str) -> datetime | None:
    for index, fmt in enumerate(COMMON_FORMATS):
        try:
            stamp = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if index:  # a file keeps one format: try the one that worked first next time
            COMMON_FORMATS.insert(0, COMMON_FORMATS.pop(index))
        return stamp
    return None


def _pandas(text: str) -> datetime:
    if text.lower() in ("now", "today", "tomorrow", "yesterday"):
        raise ValueError(text)  # pandas reads these relative to the clock: no record means that
    import pandas  # only for the formats the fast paths do not read

    parsed = pandas.to_datetime(text)
    if parsed is pandas.NaT:
        raise ValueError(text)
    return parsed.to_pydatetime()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: Any) -> timedelta:
    """A duration as people write it in an option (``90s``, ``30m``, ``2h``, ``1d``, ``1w``), for
    every task and verb alike (a session gap, a search's timeout). Raises ValueError on anything
    else, with the forms it takes."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 90s, 30m, 2h, 1d, 1w")
    return timedelta(seconds=float(match.group(1)) * _SECONDS_PER[match.group(2)])
