"""Writes this plugin's sample data: an original text made here from a small grammar, a play in
which a few keepers of a lighthouse talk about the sea, the weather and their work.

Deterministic; run `python make.py` here to regenerate train.txt (most scenes), valid.txt (the
last scenes) and prompts.txt (openings for predict). The grammar gives the text what a language
model can learn beyond letter frequencies: speaker names in capitals before a colon, lines that
end in punctuation, recurring phrases, and words that only follow certain others.
"""

from __future__ import annotations

import random
from pathlib import Path

SPEAKERS = ["MARGARET", "TOBIAS", "OLD WREN", "THE BOY"]
SUBJECTS = ["the lamp", "the tide", "the wind", "the boat", "the bell", "the gull", "the harbour", "the night watch", "my brother", "the keeper"]
VERBS = ["turns", "waits", "sings", "burns", "rises", "falls", "calls", "sleeps", "wanders", "listens"]
PLACES = ["over the rocks", "under the cliff", "by the north stair", "past the reef", "along the shore", "in the fog", "at the top of the tower"]
TIMES = ["before the dawn", "when the moon is low", "every other night", "since the storm", "after supper", "at the turning of the tide"]
FEELINGS = ["I am tired", "I am not afraid", "I cannot sleep", "I remember it well", "I have said so before", "I do not believe it"]
ORDERS = ["Trim the wick", "Fetch the oil", "Mind the stair", "Wind the clock", "Ring the bell twice", "Bring the lantern"]
QUESTIONS = ["Who saw the light", "Where has the boat gone", "Why does the bell ring", "What did the sea bring", "How long will the fog stay"]


def sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(PLACES)} {rng.choice(TIMES)}."
    if kind < 0.55:
        return f"{rng.choice(FEELINGS)}, and {rng.choice(SUBJECTS)} {rng.choice(VERBS)}."
    if kind < 0.75:
        return f"{rng.choice(ORDERS)}, {rng.choice(['child', 'friend', 'Tobias', 'Margaret'])}, {rng.choice(TIMES)}."
    return f"{rng.choice(QUESTIONS)} {rng.choice(TIMES)}?"


def scene(rng: random.Random, number: int) -> str:
    lines = [f"SCENE {number}. {rng.choice(PLACES).capitalize()}.", ""]
    speaker = rng.choice(SPEAKERS)
    for _ in range(rng.randint(6, 10)):
        speaker = rng.choice([s for s in SPEAKERS if s != speaker])
        speech = " ".join(sentence(rng) for _ in range(rng.randint(1, 3)))
        lines += [f"{speaker}:", speech, ""]
    return "\n".join(lines)


def main() -> None:
    rng = random.Random(7)
    scenes = [scene(rng, number) for number in range(1, 41)]
    here = Path(__file__).parent
    (here / "train.txt").write_text("\n".join(scenes[:34]), encoding="utf-8")
    (here / "valid.txt").write_text("\n".join(scenes[34:]), encoding="utf-8")
    (here / "prompts.txt").write_text("MARGARET:\nThe lamp \nSCENE 41. \n", encoding="utf-8")


if __name__ == "__main__":
    main()
