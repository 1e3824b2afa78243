"""The sentiment adapter: text -> word ids -> (pooled classifier) -> label and probabilities."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from seqtool import Adapter, ClassificationMetrics, DataError, Example, LabelSet, ModelSpec, Record, Vocabulary
from seqtool_sentiment import EXPLAINED_WORDS
from seqtool_sentiment.embeddings import load_vectors
from seqtool_sentiment.tokenizer import tokenize

# Words seen once in training become <unk>: that gives <unk> a trained vector for the unseen words
# of new text (with 1 it would stay random), and it worked at least as well on MR.
MIN_COUNT = 2


class SentimentAdapter(Adapter):
    vocabulary: Vocabulary
    labels: LabelSet

    def fit(self, records: Sequence[Record]) -> None:
        self.labels = LabelSet.fit((r.get("label") for r in records), where=f"{records[0].path}: column 'label'")
        min_count = self.options.get("min_count") or MIN_COUNT
        self.vocabulary = Vocabulary.build(
            (self.tokens(r.get("text") or "") for r in records), min_count=min_count, max_size=self.options.get("max_vocab")
        )
        if len(self.vocabulary) == 2:  # padding and <unk> only: every text would read as unknown words
            raise DataError(
                f"{records[0].path}: no word is seen {min_count} times in its {len(records)} records; "
                "lower --min-count (1 keeps every word), or train on more text"
            )

    def model_spec(self) -> ModelSpec:
        return ModelSpec(input="tokens", input_size=len(self.vocabulary), output="pooled", output_size=len(self.labels), objective="classify")

    def initialise(self, model: torch.nn.Module) -> None:
        if self.options.get("embeddings"):
            load_vectors(self.options["embeddings"], self.vocabulary, model.embedding.weight)

    def tokens(self, text: str) -> list[str]:
        return tokenize(text, lowercase=not self.options.get("keep_case"))

    def encode(self, record: Record, *, labelled: bool) -> Example | None:
        ids = self.vocabulary.encode(self.tokens(record.get("text") or ""))
        if not ids:
            if self.options.get("strict"):
                raise DataError(f"{record.where}: empty text; remove the line or drop --strict to skip such records")
            self.skip(record, "with no text (--strict makes that an error)")
            return None
        target = torch.tensor(self.labels.encode(record.get("label"), record.where)) if labelled else None
        return Example(torch.tensor(ids), target, meta=record)

    def decode(self, output: torch.Tensor, meta: Record) -> dict[str, Any]:
        best = int(output.argmax())
        result = {
            **{k: v for k, v in meta.items() if k != "text"},
            "text": meta["text"],
            "label": self.labels[best],
            "probability": round(output[best].item(), 6),
            "probabilities": {label: round(p, 6) for label, p in zip(self.labels.labels, output.tolist())},
        }
        if self.options.get("explain"):
            result["explanation"] = self.explain(meta["text"], best)
        return result

    @torch.no_grad()
    def explain(self, text: str, label: int) -> list[list[Any]]:
        """Occlusion: each word's weight is how much the label's probability falls when that word
        is left out. Unlike gradients it needs no baseline and reads directly as a probability
        change; the leave-one-out variants of a text run through the engine together, in its
        batches. Words after the first EXPLAINED_WORDS get no weight (null)."""
        words = self.tokens(text)
        ids = self.vocabulary.encode(words)
        left_out = range(min(len(ids), EXPLAINED_WORDS))
        variants = [ids] + [ids[:i] + ids[i + 1 :] or [1] for i in left_out]
        probabilities = self.engine.outputs([Example(torch.tensor(v)) for v in variants]).exp()[:, label].tolist()
        weights = [round(probabilities[0] - p, 4) for p in probabilities[1:]]
        return [[word, weights[i] if i < len(weights) else None] for i, word in enumerate(words)]

    def metrics(self) -> ClassificationMetrics:
        return ClassificationMetrics(self.labels.labels)
