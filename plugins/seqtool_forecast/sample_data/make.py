"""Writes this plugin's sample data: three cities' daily maximum temperatures over three years,
with seasons, weather that persists for days, and rain (a covariate: rainy days are cooler).
Deterministic; run `python make.py` here to regenerate.

train.csv holds 2022-01-01 .. 2024-05-31 of each city; test.csv the rest of 2024 (and the 28
days before it, so that its first forecasts have a window to read).
"""

from __future__ import annotations

import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START, END = date(2022, 1, 1), date(2024, 12, 31)
SPLIT = date(2024, 6, 1)
CONTEXT = 28
#: city -> (mean temp_max in C, seasonal amplitude, chance of rain in winter and in summer)
CITIES = {"Northport": (11.0, 9.0, 0.55, 0.25), "Southbay": (19.0, 6.0, 0.35, 0.05), "Highfield": (8.0, 12.0, 0.45, 0.30)}


def city_rows(name: str, rng: random.Random) -> list[dict[str, object]]:
    mean, amplitude, wet_winter, wet_summer = CITIES[name]
    rows, anomaly, day = [], 0.0, START
    while day <= END:
        summer = math.sin(2 * math.pi * (day.timetuple().tm_yday - 110) / 365.25)  # 1 in late July
        rain = rng.random() < wet_winter + (wet_summer - wet_winter) * (summer + 1) / 2
        precipitation = round(rng.expovariate(1 / 6.0), 1) if rain else 0.0
        anomaly = 0.75 * anomaly + rng.gauss(0, 1.8)  # warm and cold spells last a few days
        temp_max = mean + amplitude * summer + anomaly - 0.25 * precipitation
        rows.append({"date": day.isoformat(), "city": name, "temp_max": round(temp_max, 1), "precipitation": precipitation, "wind": round(rng.gammavariate(2.0, 1.6), 1)})
        day += timedelta(days=1)
    return rows


def main() -> None:
    rng = random.Random(7)
    rows = [row for name in CITIES for row in city_rows(name, rng)]
    first_test_day = (SPLIT - timedelta(days=CONTEXT)).isoformat()
    for filename, chosen in (("train.csv", [r for r in rows if r["date"] < SPLIT.isoformat()]), ("test.csv", [r for r in rows if r["date"] >= first_test_day])):
        with open(HERE / filename, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(chosen)


if __name__ == "__main__":
    main()
