"""Writes this plugin's sample data: a synthetic hourly price series (a random walk with a daily
volatility cycle) and, in test.csv, injected anomalies with their labelled windows in NAB's
format. Deterministic; run `python make.py` here to regenerate.

Anomalies in test.csv: spikes (one row far off, then back), level shifts (a jump that stays) and
volatility bursts (a day of returns five times wider than usual).
"""

from __future__ import annotations

import csv
import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START = datetime(2024, 1, 1)
STEP = timedelta(hours=1)
VOLATILITY = 0.004  # hourly log-return sd
WINDOW_HALF_WIDTH = 12  # rows either side of an anomaly's start in its labelled window

#: (row in test.csv, kind): all after NAB's 15% probationary period
#: and more than the default refractory period (6 x 48 rows) apart, so each can be flagged
ANOMALIES = [(400, "spike"), (750, "level_shift"), (1100, "volatility_burst"), (1450, "spike"), (1800, "level_shift"), (2150, "volatility_burst")]


def returns(rng: random.Random, rows: int, offset: int) -> list[float]:
    """Hourly log-returns, wider during the (hypothetical) trading day."""
    out = []
    for i in range(rows):
        hour = (offset + i) % 24
        busy = 1.5 if 9 <= hour < 17 else 0.7
        out.append(rng.gauss(0.0, VOLATILITY * busy))
    return out


def inject(log_returns: list[float], rng: random.Random) -> None:
    for row, kind in ANOMALIES:
        if kind == "spike":
            jump = rng.choice([-1, 1]) * 0.06
            log_returns[row] += jump
            log_returns[row + 1] -= jump
        elif kind == "level_shift":
            log_returns[row] += rng.choice([-1, 1]) * 0.05
        else:
            for i in range(row, row + 24):
                log_returns[i] *= 5


def write(name: str, log_returns: list[float], start_row: int, price: float) -> float:
    with open(HERE / name, "w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["timestamp", "close"])
        for i, r in enumerate(log_returns):
            price *= math.exp(r)
            out.writerow([(START + (start_row + i) * STEP).strftime("%Y-%m-%d %H:%M:%S"), f"{price:.2f}"])
    return price


def main() -> None:
    rng = random.Random(7)
    sizes = {"train.csv": 2000, "valid.csv": 400, "test.csv": 2400}
    row, price = 0, 100.0
    windows = {}
    for name, rows in sizes.items():
        log_returns = returns(rng, rows, row)
        if name == "test.csv":
            inject(log_returns, rng)
            windows[name] = [
                [(START + (row + at + offset) * STEP).strftime("%Y-%m-%d %H:%M:%S") for offset in (-WINDOW_HALF_WIDTH, WINDOW_HALF_WIDTH)]
                for at, _ in ANOMALIES
            ]
        price = write(name, log_returns, row, price)
        row += rows
    (HERE / "windows.json").write_text(json.dumps(windows, indent=1) + "\n")


if __name__ == "__main__":
    main()
