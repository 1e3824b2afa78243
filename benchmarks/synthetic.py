"""Synthetic sentiment data for speed benchmarks: the label follows the words, so a model learns
something, and any size can be made without the real datasets."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = "good bad great awful fine dull lovely boring sharp slow warm cold clever flat bright stale".split()


def write_sentiment(path: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w") as handle:
        handle.write("text,label\n")
        for _ in range(count):
            words = rng.choices(WORDS, k=rng.randint(5, 40))
            label = "pos" if sum(WORDS.index(w) % 2 == 0 for w in words) * 2 > len(words) else "neg"
            handle.write(f"{' '.join(words)},{label}\n")
