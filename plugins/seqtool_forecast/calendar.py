"""What the timestamps say: the data's usual interval, its season, and calendar features.

A forecaster needs the cycle its data repeats (a day of 24 hours, a week of 7 days) for the
seasonal-naive baseline, and the position in the day and year of each step as inputs: a window
of 14 days cannot see last year's summer, but the day of the year can.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from typing import Sequence

HOUR = 3600.0
DAY = 24 * HOUR

#: (longest usual interval in seconds, calendar features that vary at that resolution)
_FEATURES = ((DAY / 2, ("hour", "yearday")), (1.5 * DAY, ("weekday", "yearday")), (40 * DAY, ("yearday",)))


def usual_interval(times: Sequence[Sequence[datetime]]) -> float:
    """The median interval, in seconds, between consecutive times of each series: robust to the
    odd gap or repeated reading, which a frequency inferred from a perfect grid is not."""
    intervals = [(b - a).total_seconds() for series in times for a, b in zip(series, series[1:])]
    positive = [i for i in intervals if i > 0]
    return statistics.median(positive) if positive else DAY


def seasons_for(interval: float) -> list[int]:
    """The cycles data of this resolution may repeat, in steps: a day or a week for sub-daily data,
    a week or a year for daily data, a year for weekly and monthly data; none for coarser data.
    Which one a series follows (demand: the week; weather: the year) is the data's call: see
    :func:`best_season`."""
    if interval <= DAY / 2:
        return [round(DAY / interval), round(7 * DAY / interval)]
    if interval <= 1.5 * DAY:
        return [7, 365]
    if interval <= 10 * DAY:
        return [52]
    if interval <= 40 * DAY:
        return [12]
    return []


def best_season(series: Sequence[Sequence[float]], candidates: Sequence[int]) -> int:
    """The candidate whose seasonal-naive forecast (the value one season before) has the lowest
    in-sample MAE on ``series`` (one target's values per series); 1 when no series is longer than
    two of any candidate season."""
    best, lowest = 1, math.inf
    for season in candidates:
        errors = [abs(values[i] - values[i - season]) for values in series if len(values) > 2 * season for i in range(season, len(values))]
        if errors and sum(errors) / len(errors) < lowest:
            best, lowest = season, sum(errors) / len(errors)
    return best


def features_for(interval: float) -> list[str]:
    """The calendar features worth giving data of this resolution (none for yearly data)."""
    for longest, names in _FEATURES:
        if interval <= longest:
            return list(names)
    return []


def calendar(time: datetime, names: Sequence[str]) -> list[float]:
    """Each feature as a point on a circle (sin, cos), so that 23:00 is next to 00:00."""
    values = []
    for name in names:
        if name == "hour":
            phase = (time.hour + time.minute / 60) / 24
        elif name == "weekday":
            phase = time.weekday() / 7
        else:
            phase = (time.timetuple().tm_yday - 1) / 365.25
        values += [math.sin(2 * math.pi * phase), math.cos(2 * math.pi * phase)]
    return values


def after(time: datetime, interval: float, steps: int) -> list[datetime]:
    """The ``steps`` times following ``time`` at the usual interval."""
    return [time + timedelta(seconds=interval * (i + 1)) for i in range(steps)]
