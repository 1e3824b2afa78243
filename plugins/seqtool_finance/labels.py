"""Labelled anomaly windows in NAB's format: ``{"file-or-series": [[start, end], ...]}``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import PurePath

from seqtool import DataError, parse_time

Windows = dict[str, list[tuple[datetime, datetime]]]


def load_windows(path: str) -> Windows:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise DataError(f"{path}: cannot read the labels: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise DataError(f'{path}: expected an object {{"file-or-series": [[start, end], ...]}} as NAB\'s combined_windows.json')
    windows: Windows = {}
    for key, pairs in data.items():
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise DataError(f"{path}: {key!r} must map to a list of [start, end] pairs")
        windows[key] = [(_time(a, f"{path}: {key}"), _time(b, f"{path}: {key}")) for a, b in pairs]
    return windows


def _time(value: object, where: str) -> datetime:
    try:
        return parse_time(value, where)
    except DataError:  # its message is about a column of the data: these times are not in one
        raise DataError(f"{where}: cannot read timestamp {str(value).strip()!r}; use ISO 8601 (2024-01-31 09:30:00), M/D/YYYY or Unix seconds") from None


def windows_for(windows: Windows, data_file: str, symbol: str) -> list[tuple[datetime, datetime]] | None:
    """The windows labelled for one series: keyed by its symbol or, for a file holding one
    series, by the file's name (NAB keys look like ``realTweets/Twitter_volume_AAPL.csv``)."""
    if symbol:
        return windows.get(symbol)
    name = PurePath(data_file).name
    return next((spans for key, spans in windows.items() if PurePath(key).name == name), None)
