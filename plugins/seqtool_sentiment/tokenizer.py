"""Words for the sentiment model: Unicode-aware, punctuation and English contractions split."""

from __future__ import annotations

import re

# "don't" -> "do", "n't"; "it's" -> "it", "'s"; "well-made" stays one word; every other
# punctuation mark is a token of its own (an "!" carries sentiment).
_TOKEN = re.compile(r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\w+(?:-\w+)*|[^\w\s]", re.IGNORECASE)


def tokenize(text: str, *, lowercase: bool = True) -> list[str]:
    return _TOKEN.findall(text.lower() if lowercase else text)
