"""Writes this plugin's sample data: a synthetic app-usage log made by this project.

Deterministic; run `python make.py` here to regenerate train.csv, valid.csv, test.csv (disjoint
users) and history.csv (new users cut off mid-routine, for predict).

Each user has a habit: two or three routines (fixed event chains) they favour, at a usual hour of
the day. Routines share hub events ("open_app", "search", "weather", ...) that are followed by
different events in different routines, so the last event alone (a first-order Markov model)
cannot tell what comes next, while a model that remembers the session and the user's habits can.
About one event in eight is noise (a random event, or a skipped step).
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

ROUTINES = {
    "morning news": ["open_app", "weather", "headlines", "article", "article", "close"],
    "commute music": ["open_app", "playlists", "play_song", "play_song", "skip_song", "close"],
    "shopping": ["open_app", "search", "view_item", "view_item", "add_to_cart", "checkout", "pay"],
    "price check": ["open_app", "search", "view_item", "price_alert", "close"],
    "sports fan": ["open_app", "scores", "headlines", "highlights", "highlights", "close"],
    "planner": ["open_app", "weather", "calendar", "add_event", "reminder", "close"],
    "podcast": ["open_app", "playlists", "podcast_episode", "podcast_episode", "close"],
    "recipes": ["open_app", "search", "recipe", "shopping_list", "close"],
}
EVENTS = sorted({event for chain in ROUTINES.values() for event in chain} | {"settings", "notifications", "profile", "help"})
START = datetime(2024, 3, 1)


def session(rng: random.Random, routine: list[str]) -> list[str]:
    events = []
    for event in routine:
        roll = rng.random()
        if roll < 0.05:
            continue  # a skipped step
        if roll < 0.12:
            events.append(rng.choice(EVENTS))  # a detour
        events.append(event)
    return events


def user_rows(rng: random.Random, user: str, days: int) -> list[tuple[str, str, str]]:
    habits = rng.sample(list(ROUTINES), rng.choice([2, 3]))
    weights = [rng.random() + 0.2 for _ in habits]
    hour = rng.choice([7, 8, 12, 18, 21])
    rows = []
    for day in sorted(rng.sample(range(60), days)):
        moment = START + timedelta(days=day, hours=hour, minutes=rng.randrange(60))
        for event in session(rng, ROUTINES[rng.choices(habits, weights)[0]]):
            rows.append((user, moment.isoformat(timespec="seconds"), event))
            moment += timedelta(seconds=rng.randrange(5, 120))
    return rows


def write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user_id", "timestamp", "event"])
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(20240301)
    here = Path(__file__).parent
    for name, users, first in (("train", 240, 0), ("valid", 40, 1000), ("test", 60, 2000)):
        write(here / f"{name}.csv", [row for i in range(users) for row in user_rows(rng, f"u{first + i}", rng.randint(3, 8))])
    history = []
    for i in range(8):
        rows = user_rows(rng, f"u{3000 + i}", rng.randint(2, 4))
        history += rows[: len(rows) - rng.randint(1, 3)]  # stop mid-routine: what comes next?
    write(here / "history.csv", history)


if __name__ == "__main__":
    main()
