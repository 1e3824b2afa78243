"""The behaviour adapter: a user's events -> ids -> (GRU, per-step scores over every event) ->
the next event, ranked. GRU4Rec-style: every prefix is trained on, every next event is a target."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Example, MarkovBaseline, ModelSpec, PopularityBaseline, RankingMetrics, Record, Series, Vocabulary, group_series, top_tokens, warm_windows
from seqtool_behaviour.events import History, Histories, parse_moment, parsed_option

DEFAULT_TOP_K = 20
DEFAULT_MAX_LENGTH = 200
#: the vocabulary's ids below this are padding and unknown, never events
FIRST_REAL_ID = 2


class BehaviourAdapter(Adapter):
    group_by = "user"
    regroup_hint = " (the header, then the rest through `sort -s -t, -k1,1`), or pass --unsorted to group it in memory (roughly 1 KB per event)"
    predicts_last_step = True  # the next event follows each history's last step
    vocabulary: Vocabulary
    popularity: PopularityBaseline
    markov: MarkovBaseline

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.histories = Histories(self.options)
        self.score_from = parsed_option(self.options, "score_from", parse_moment)
        self.top_k = self.options.get("top_k") or DEFAULT_TOP_K
        self.max_length = self.options.get("max_length") or DEFAULT_MAX_LENGTH
        self.single_event = 0
        self.unknown_events = 0

    def fit(self, records: Sequence[Record]) -> None:
        # grouped as examples() groups them; what cannot be used is left out here, and counted there
        histories = [h for series in group_series(records, key=self.group_by) for h in self.histories.of(series)]
        self.vocabulary = Vocabulary.build((h.events for h in histories), min_count=self.options.get("min_count") or 1)
        if len(self.vocabulary) <= FIRST_REAL_ID:
            raise DataError(f"{records[0].path}: no event is seen --min-count times; lower --min-count")
        size = len(self.vocabulary)
        sequences = [ids for ids in (self.vocabulary.encode(h.events) for h in histories) if len(ids) > 1]
        self.popularity = PopularityBaseline.fit(sequences, size)
        self.markov = MarkovBaseline.fit(sequences, size)

    def model_spec(self) -> ModelSpec:
        size = len(self.vocabulary)
        return ModelSpec(input="tokens", input_size=size, output="per_step", output_size=size, objective="classify")

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        """The core groups a list in memory and a stream user by user; --unsorted asks for a
        stream that is not grouped by user to be grouped in memory, so it becomes a list."""
        if self.options.get("unsorted"):
            records = list(records)
        yield from super().examples(records, labelled=labelled)

    def encode(self, series: Series, *, labelled: bool) -> Example | Iterable[Example] | None:
        sessions = self.histories.of(series, self.skip)
        if not sessions:
            return None
        if not labelled:
            return self._unlabelled(sessions[-1])  # the next event follows the latest session
        return (example for history in sessions for example in self._labelled(history))

    def _encode(self, events: list[str]) -> list[int]:
        self.unknown_events += sum(event not in self.vocabulary.ids for event in events)
        return self.vocabulary.encode(events)

    def _labelled(self, history: History) -> Iterator[Example]:
        ids = self._encode(history.events)
        if len(ids) < 2:
            self.single_event += 1  # no next event to learn or score
            return
        inputs, targets = torch.tensor(ids[:-1]), torch.tensor(ids[1:])
        scored = self._scored_targets(history)
        if self.options.get("last_only"):
            start = max(0, len(inputs) - self.max_length)
            mask = torch.zeros(len(inputs) - start, dtype=torch.bool)
            mask[-1] = scored[-1]
            spans = [(start, len(inputs), mask)]
        else:
            spans = [(start, end, (torch.arange(end - start) >= counted_from) & scored[start:end]) for start, end, counted_from in warm_windows(len(inputs), self.max_length)]
        for start, end, mask in spans:
            if mask.any():  # a window of context only has nothing to learn or score
                yield Example(inputs[start:end], targets[start:end], mask, meta=history.user)

    def _scored_targets(self, history: History) -> torch.Tensor:
        """Which next events count: all, or with --score-from only those at or after that time
        (the earlier ones are the user's history, read as context)."""
        if self.score_from is None:
            return torch.ones(len(history.events) - 1, dtype=torch.bool)
        if not history.times:
            raise DataError(f"{history.source}: --score-from needs event times, and this data has no timestamp column; name one with --time-col")
        return torch.tensor([time >= self.score_from for time in history.times[1:]])

    def _unlabelled(self, history: History) -> Example:
        return Example(torch.tensor(self._encode(history.events[-self.max_length :])), meta=history.user)

    def decode(self, output: torch.Tensor, meta: str) -> dict[str, Any]:
        ranked = top_tokens(output, self.vocabulary, self.top_k)
        return {"user": meta, "next": [{"event": event, "score": round(score, 6)} for event, score in ranked]}

    def metrics(self) -> RankingMetrics:
        return RankingMetrics(self.top_k, baselines={"most popular": self.popularity, "markov (1st order)": self.markov})

    def report(self) -> list[str]:
        lines = []
        if self.single_event:
            lines.append(f"skipped {self.single_event} sequence(s) with a single event (nothing follows it to learn or score)")
        if self.unknown_events:
            lines.append(f"{self.unknown_events} event(s) are not in the model's vocabulary (unseen in training, or rarer than --min-count); read as 'unknown'")
        return lines
