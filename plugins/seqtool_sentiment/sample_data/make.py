"""Writes this plugin's sample data: short film-review sentences composed from phrase lists this
project wrote, with their polarity. Deterministic; run `python make.py` here to regenerate.

Negated phrases ("not once dull") flip polarity, so word order matters and a bag of words alone
does not get everything right.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SUBJECTS = ["the film", "this movie", "the plot", "the acting", "the script", "the soundtrack", "the ending",
            "the director's new picture", "the cast", "the story", "the dialogue", "the second half", "the camera work"]
POSITIVE = ["is a delight", "is warm and funny", "works beautifully", "kept me hooked", "is sharp and moving",
            "feels fresh", "is wonderfully acted", "earns every laugh", "is a small triumph", "left me smiling",
            "is clever", "is gorgeous to look at", "rewards patience"]
NEGATIVE = ["is a mess", "drags badly", "falls flat", "is dull and lifeless", "wastes a fine cast",
            "made me check my watch", "is painfully slow", "feels stale", "is a chore to sit through",
            "never comes together", "is clumsy", "is forgettable", "tries too hard"]
NEGATED_POSITIVE = ["is never dull", "is not a waste of time", "never falls flat", "is not forgettable"]
NEGATED_NEGATIVE = ["is not funny at all", "never works", "is not worth the ticket", "never earns its ending"]
OPENERS = ["", "honestly, ", "in the end, ", "for me, ", "sadly, ", "happily, ", "overall, "]
CLOSERS = [".", "!", ", and that says it all.", ", plain and simple.", "."]


def sentence(rng: random.Random) -> tuple[str, str]:
    label = rng.choice(["positive", "negative"])
    phrases = {
        "positive": POSITIVE + NEGATED_POSITIVE,
        "negative": NEGATIVE + NEGATED_NEGATIVE,
    }[label]
    opener = rng.choice(OPENERS)
    if (opener == "sadly, " and label == "positive") or (opener == "happily, " and label == "negative"):
        opener = ""
    text = f"{opener}{rng.choice(SUBJECTS)} {rng.choice(phrases)}{rng.choice(CLOSERS)}"
    if rng.random() < 0.3:  # a contrast clause: the second half decides
        other = NEGATIVE if label == "positive" else POSITIVE
        text = f"{rng.choice(SUBJECTS)} {rng.choice(other)}, but {text}"
    return text[0].upper() + text[1:], label


def main() -> None:
    rng = random.Random(20261123)
    here = Path(__file__).parent
    for name, count in [("train", 400), ("valid", 100), ("test", 100)]:
        with open(here / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["text", "label"])
            writer.writerows(sentence(rng) for _ in range(count))
    with open(here / "unlabelled.txt", "w", encoding="utf-8") as handle:
        handle.writelines(sentence(rng)[0] + "\n" for _ in range(20))


if __name__ == "__main__":
    main()
