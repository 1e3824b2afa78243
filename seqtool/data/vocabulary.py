"""Vocabulary: tokens <-> ids, with padding (id 0) and unknown (id 1) built in."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from seqtool.data.fitted import Fitted

PAD = "<pad>"
UNK = "<unk>"


class Vocabulary(Fitted):
    """A frozen token list. Id 0 is padding and id 1 is unknown, so any id >= 2 is a real token."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = [PAD, UNK, *tokens]
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(
        cls, sequences: Iterable[Iterable[str]], *, min_count: int = 1, max_size: int | None = None
    ) -> "Vocabulary":
        """Count tokens over ``sequences`` and keep those seen ``min_count`` times or more, the
        most frequent first (ties in first-seen order, so the same data gives the same ids)."""
        counts = Counter(token for sequence in sequences for token in sequence)
        kept = [token for token, n in counts.most_common() if n >= min_count]
        return cls(kept[:max_size] if max_size else kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.ids.get(token, 1) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def state(self) -> dict[str, Any]:
        return {"tokens": self.tokens[2:]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Vocabulary":
        return cls(state["tokens"])
