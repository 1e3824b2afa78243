"""The n-gram baseline a language model must beat: interpolated Kneser-Ney (Chen & Goodman, 1998).

Kneser-Ney because it is the best-known smoothing for n-gram language models (KenLM's default is
its modified variant): lower orders count in how many contexts a token follows (continuation
counts), not how often, so a token frequent only after one context ("Francisco") is not guessed
everywhere. Interpolated, with one discount per order, ``D = n1 / (n1 + 2 n2)`` (Ney's estimate from
the numbers of n-grams seen once and twice), because that is a proper distribution by construction:
at every order the discounted mass, ``D x distinct followers / total``, goes to the next lower order,
and the lowest spreads it uniformly over every id but padding. Unknown tokens are ids like any
other, so an unknown target gets the probability of an unseen one.

Each document is scored with ``order - 1`` padding ids (0) before it, as n-gram toolkits put
``<s>``: then every position has a full n-gram, and all lower-order counts follow from the top
order's, which is all the model file keeps.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

from seqtool import Fitted

PADDING = 0


class KneserNey(Fitted):
    """``probability(context, token)`` of a token after the tokens before it (ids)."""

    def __init__(self, order: int, size: int, grams: Mapping[tuple[int, ...], int]) -> None:
        self.order, self.size = order, size
        self.grams = dict(grams)
        #: per n-gram length k (index k - 1): context of k - 1 ids -> {next id: count}; raw counts
        #: at the top order, continuation counts (distinct tokens seen before) below it
        self.levels: list[dict[tuple[int, ...], dict[int, int]]] = [{} for _ in range(order)]
        for gram, count in self.grams.items():
            self.levels[-1].setdefault(gram[:-1], {})[gram[-1]] = count
        for k in range(order - 1, 0, -1):
            for context, followers in self.levels[k].items():
                for token in followers:
                    suffix = self.levels[k - 1].setdefault(context[1:], {})
                    suffix[token] = suffix.get(token, 0) + 1
        self.totals = [{context: sum(followers.values()) for context, followers in level.items()} for level in self.levels]
        self.discounts = [_discount(level) for level in self.levels]

    @classmethod
    def fit(cls, documents: Iterable[Sequence[int]], order: int, size: int) -> "KneserNey":
        """From the training documents as ids; ``size`` is the vocabulary's."""
        grams: Counter[tuple[int, ...]] = Counter()
        for ids in documents:
            padded = [PADDING] * (order - 1) + list(ids)
            grams.update(zip(*(padded[i:] for i in range(order))))
        return cls(order, size, grams)

    def probability(self, context: Sequence[int], token: int) -> float:
        """P(token | the last ``order - 1`` ids of ``context``), padded as a document's start is."""
        padded = [PADDING] * (self.order - 1) + list(context)
        probability = 1.0 / (self.size - 1)  # uniform over every id but padding
        for k in range(1, self.order + 1):
            history = tuple(padded[len(padded) - (k - 1) :]) if k > 1 else ()
            followers = self.levels[k - 1].get(history)
            if not followers:  # a context never seen: this order has nothing to add
                continue
            discount = self.discounts[k - 1]
            kept = max(followers.get(token, 0) - discount, 0.0)
            probability = (kept + discount * len(followers) * probability) / self.totals[k - 1][history]
        return probability

    def log_probability(self, context: Sequence[int], token: int) -> float:
        return math.log(self.probability(context, token))

    def state(self) -> dict[str, Any]:
        # flat ints (each n-gram's ids, then its count): compact in the model file's JSON
        flat = [value for gram, count in self.grams.items() for value in (*gram, count)]
        return {"order": self.order, "size": self.size, "grams": flat}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "KneserNey":
        order, flat = state["order"], state["grams"]
        step = order + 1
        grams = {tuple(flat[i : i + order]): flat[i + order] for i in range(0, len(flat), step)}
        return cls(order, state["size"], grams)


def _discount(level: Mapping[tuple[int, ...], Mapping[int, int]]) -> float:
    """Ney's ``n1 / (n1 + 2 n2)``, in (0, 1]: never 0, so every order leaves mass for unseen tokens."""
    counts = Counter(count for followers in level.values() for count in followers.values())
    once = max(counts[1], 1)
    return once / (once + 2 * counts[2])
