"""The behaviour adapter: a user's events -> ids -> (GRU, per-step scores over every event) ->
the next event, ranked. GRU4Rec-style: every prefix is trained on, every next event is a target."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, Batch, DataError, Example, ModelSpec, Record, SeqtoolError, Vocabulary
from seqtool_behaviour.events import History, HistoryReader, parse_moment
from seqtool_behaviour.ranking import FIRST_REAL_ID, Markov, Popularity, RankingMetrics

DEFAULT_TOP_K = 20
DEFAULT_MAX_LENGTH = 200


def windows(length: int, max_length: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, first counted step) windows over ``length`` steps, at most ``max_length`` long.

    A long history is cut so one batch never holds [B, very long T, vocabulary] scores. Each
    window after the first re-reads the last quarter of the one before as warm-up context
    (not counted), so every step is counted exactly once and never from a cold start.
    """
    warm_up = max_length // 4
    start = 0
    while True:
        end = min(start + max_length, length)
        yield start, end, 0 if start == 0 else warm_up
        if end == length:
            return
        start = end - warm_up


class BehaviourAdapter(Adapter):
    predicts_last_step = True  # the next event follows each history's last step
    vocabulary: Vocabulary
    popularity: Popularity
    markov: Markov

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.single_event = 0
        self.unknown_events = 0

    def fit(self, records: Sequence[Record]) -> None:
        reader = HistoryReader(self.options, skip=lambda record, reason: None)  # examples() counts them
        histories = [h for sessions in reader.read(records) for h in sessions]
        self.vocabulary = Vocabulary.build((h.events for h in histories), min_count=self.options.get("min_count") or 1)
        if len(self.vocabulary) <= FIRST_REAL_ID:
            raise DataError(f"{records[0].path}: no event is seen --min-count times; lower --min-count")
        size = len(self.vocabulary)
        sequences = [ids for ids in (self.vocabulary.encode(h.events) for h in histories) if len(ids) > 1]
        self.popularity = Popularity.fit(sequences, size)
        self.markov = Markov.fit(sequences, size)

    def model_spec(self) -> ModelSpec:
        size = len(self.vocabulary)
        return ModelSpec(input="tokens", input_size=size, output="per_step", output_size=size, objective="classify")

    @property
    def max_length(self) -> int:
        return self.options.get("max_length") or DEFAULT_MAX_LENGTH

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        for sessions in HistoryReader(self.options, self.skip).read(records):
            if labelled:
                for history in sessions:
                    yield from self._labelled(history)
            else:
                yield self._unlabelled(sessions[-1])  # the next event follows the latest session

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
            spans = [(start, end, (torch.arange(end - start) >= counted_from) & scored[start:end]) for start, end, counted_from in windows(len(inputs), self.max_length)]
        for start, end, mask in spans:
            if mask.any():  # a window of context only has nothing to learn or score
                yield Example(inputs[start:end], targets[start:end], mask, meta=history.user)

    def _scored_targets(self, history: History) -> torch.Tensor:
        """Which next events count: all, or with --score-from only those at or after that time
        (the earlier ones are the user's history, read as context)."""
        score_from = self.options.get("score_from")
        if not score_from:
            return torch.ones(len(history.events) - 1, dtype=torch.bool)
        if not history.times:
            raise DataError(f"{history.source}: --score-from needs event times, and this data has no timestamp column; name one with --time-col")
        try:
            cut = parse_moment(score_from)
        except ValueError as error:
            raise SeqtoolError(f"--score-from: {error}") from None
        return torch.tensor([time >= cut for time in history.times[1:]])

    def _unlabelled(self, history: History) -> Example:
        return Example(torch.tensor(self._encode(history.events[-self.max_length :])), meta=history.user)

    def decode(self, outputs: torch.Tensor, batch: Batch) -> Iterator[dict[str, Any]]:
        probabilities = outputs.exp()[:, FIRST_REAL_ID:]
        top_k = min(self.options.get("top_k") or DEFAULT_TOP_K, probabilities.shape[1])
        scores, ids = probabilities.topk(top_k, dim=-1)
        for user, row_scores, row_ids in zip(batch.meta, scores.tolist(), (ids + FIRST_REAL_ID).tolist()):
            events = self.vocabulary.decode(row_ids)
            yield {"user": user, "next": [{"event": e, "score": round(s, 6)} for e, s in zip(events, row_scores)]}

    def metrics(self) -> RankingMetrics:
        return RankingMetrics(self.options.get("top_k") or DEFAULT_TOP_K, self.popularity, self.markov)

    def report(self) -> list[str]:
        lines = []
        if self.single_event:
            lines.append(f"skipped {self.single_event} sequence(s) with a single event (nothing follows it to learn or score)")
        if self.unknown_events:
            lines.append(f"{self.unknown_events} event(s) are not in the model's vocabulary (unseen in training, or rarer than --min-count); read as 'unknown'")
        return lines
