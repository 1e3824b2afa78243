"""The sentiment adapter: text -> word ids -> (pooled classifier) -> label and probabilities."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Example, ModelSpec, Record, Vocabulary, find_column
from seqtool import Batch
from seqtool import ClassificationMetrics
from seqtool_sentiment.embeddings import load_vectors
from seqtool_sentiment.tokenizer import tokenize

TEXT_COLUMNS = ("text", "sentence", "review", "content", "body", "comment")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "class", "category", "target")
# Words seen once in training become <unk>: that gives <unk> a trained vector for the unseen words
# of new text (with 1 it would stay random), and it worked at least as well on MR.
MIN_COUNT = 2


class SentimentAdapter(Adapter):
    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.vocabulary: Vocabulary | None = None
        self.labels: list[str] = []
        self.lowercase = not self.options.get("keep_case")
        self.text_column: str | None = None
        self.label_column: str | None = None
        self.skipped = 0

    # -- state ---------------------------------------------------------------------------------

    def fit(self, records: Sequence[Record]) -> None:
        first = records[0]
        self.text_column = self._column(first, "text_col", None, TEXT_COLUMNS, "text", "--text-col")
        self.label_column = self._column(first, "label_col", None, LABEL_COLUMNS, "label", "--label-col")
        # The columns live in the adapter state, not in the options the model card keeps: an
        # option stored there would be forced onto every later file, so a model trained on
        # "review"/"stars" could not read plain text lines or a test file named differently.
        self.options.pop("text_col", None)
        self.options.pop("label_col", None)
        self.labels = sorted({str(r.get(self.label_column, "")).strip() for r in records} - {""})
        if len(self.labels) < 2:
            raise DataError(f"{first.path}: column {self.label_column!r} holds {len(self.labels)} distinct label(s); training needs at least 2")
        self.vocabulary = Vocabulary.build(
            (self.tokens(r.get(self.text_column) or "") for r in records),
            min_count=self.options.get("min_count") or MIN_COUNT,
            max_size=self.options.get("max_vocab"),
        )

    def state(self) -> dict[str, Any]:
        return {
            "vocabulary": self.vocabulary.state(),
            "labels": self.labels,
            "lowercase": self.lowercase,
            "text_column": self.text_column,
            "label_column": self.label_column,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.vocabulary = Vocabulary.from_state(state["vocabulary"])
        self.labels = list(state["labels"])
        self.lowercase = state["lowercase"]
        self.text_column = state["text_column"]
        self.label_column = state["label_column"]

    def model_spec(self) -> ModelSpec:
        return ModelSpec(input="tokens", input_size=len(self.vocabulary), output="pooled", output_size=len(self.labels), objective="classify")

    def initialise(self, model: torch.nn.Module) -> None:
        if self.options.get("embeddings"):
            load_vectors(self.options["embeddings"], self.vocabulary, model.embedding.weight)

    # -- records <-> tensors -------------------------------------------------------------------

    def tokens(self, text: str) -> list[str]:
        return tokenize(text, lowercase=self.lowercase)

    def _column(self, record: Record, option: str, trained: str | None, candidates: Sequence[str], what: str, flag: str) -> str:
        """The flag's column when given now, else the one training used when this file has it,
        else one found by name."""
        given = self.options.get(option)
        if given is None and trained in record:
            return trained
        return find_column(record, given, candidates, what=what, flag=flag, source=record.where)

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        label_ids = {label: i for i, label in enumerate(self.labels)}
        column = label_column = None
        for record in records:
            column = column or self._column(record, "text_col", self.text_column, TEXT_COLUMNS, "text", "--text-col")
            ids = self.vocabulary.encode(self.tokens(record.get(column) or ""))
            if not ids:
                if self.options.get("strict"):
                    raise DataError(f"{record.where}: empty text; remove the line or drop --strict to skip such records")
                self.skipped += 1
                continue
            target = None
            if labelled:
                label_column = label_column or self._column(record, "label_col", self.label_column, LABEL_COLUMNS, "label", "--label-col")
                label = str(record.get(label_column, "")).strip()
                if label not in label_ids:
                    raise DataError(f"{record.where}: label {label!r} was not seen in training; known labels: {', '.join(self.labels)}")
                target = torch.tensor(label_ids[label])
            yield Example(torch.tensor(ids), target, meta=(record, column))

    def decode(self, outputs: torch.Tensor, batch: Batch) -> Iterator[dict[str, Any]]:
        for (record, column), row in zip(batch.meta, outputs.exp()):
            best = int(row.argmax())
            result = {
                **{k: v for k, v in record.items() if k != column},
                "text": record[column],
                "label": self.labels[best],
                "probability": round(row[best].item(), 6),
                "probabilities": {label: round(p, 6) for label, p in zip(self.labels, row.tolist())},
            }
            if self.options.get("explain"):
                result["explanation"] = self.explain(record, column, result["label"])
            yield result

    @torch.no_grad()
    def explain(self, record: Record, column: str, label: str) -> list[list[Any]]:
        """Occlusion: each word's weight is how much the label's probability falls when that word
        is left out. Unlike gradients it needs no baseline and reads directly as a probability
        change; the leave-one-out variants of a text run through the engine together."""
        words = self.tokens(record[column])
        ids = self.vocabulary.encode(words)
        variants = [ids] + [ids[:i] + ids[i + 1 :] or [1] for i in range(len(ids))]
        probabilities = self.engine.outputs([Example(torch.tensor(v)) for v in variants]).exp()[:, self.labels.index(label)]
        full = probabilities[0].item()
        return [[word, round(full - p, 4)] for word, p in zip(words, probabilities[1:].tolist())]

    def metrics(self) -> ClassificationMetrics:
        return ClassificationMetrics(self.labels)

    def report(self) -> list[str]:
        if not self.skipped:
            return []
        return [f"skipped {self.skipped} record(s) with no text (--strict makes that an error)"]
