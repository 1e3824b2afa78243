"""The textgen adapter: plain text -> token ids (characters or words) -> a causal per-step
next-token classifier, trained on consecutive chunks of each document -> continuations of prompts.

Every document is read as if a newline came before it (the start marker a text already has), so
its first token is predicted too, and an empty prompt means "start a new text".
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Example, ModelSpec, Record, Vocabulary, warm_windows
from seqtool_textgen.generate import Sampler, generate
from seqtool_textgen.metrics import CrossEntropy
from seqtool_textgen.ngram import KneserNey

START = "\n"
DEFAULT_CHUNK = 256
DEFAULT_LENGTH = 200
#: the n-gram baseline's order: 5, as is usual for characters (and harmless for words)
ORDER = 5
#: a word is a run of non-space characters; a newline is a token of its own, so lines survive
WORDS = re.compile(r"\S+|\n")


class TextgenAdapter(Adapter):
    predicts_last_step = True  # a prompt's continuation starts from its last step
    vocabulary: Vocabulary
    baseline: KneserNey

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.unit = self.options.get("unit") or "char"
        self.chunk = self.options.get("chunk") or DEFAULT_CHUNK
        self.length = self.options.get("length") or DEFAULT_LENGTH
        self.stop = self.options.get("stop") or None
        temperature = self.options.get("temperature")
        self.temperature = 1.0 if temperature is None else temperature
        self.seed = self.options.get("seed") or 0
        self.unknown = 0

    def fit(self, records: Sequence[Record]) -> None:
        documents = [self.tokens(document["text"]) for document in self.documents(records)]
        self.vocabulary = Vocabulary.build(documents, min_count=self.options.get("min_count") or 1)
        if START not in self.vocabulary.ids:
            raise DataError(f"{records[0].path}: every token is seen fewer than --min-count times; lower --min-count")
        self.baseline = KneserNey.fit([self.vocabulary.encode(tokens) for tokens in documents], ORDER, len(self.vocabulary))

    def model_spec(self) -> ModelSpec:
        size = len(self.vocabulary)
        return ModelSpec(input="tokens", input_size=size, output="per_step", output_size=size, objective="classify")

    def tokens(self, text: str) -> list[str]:
        """The start marker, then the text's characters or words."""
        return [START, *(text if self.unit == "char" else WORDS.findall(text))]

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        """Prompts are one per line, the core's loop; but a document to train on or score is a
        whole file of lines (records of the lines reader, which knows no grouping key), so those
        are gathered here, one document at a time."""
        if not labelled:
            yield from super().examples(records, labelled=False)
            return
        for document in self.documents(records):
            yield from self.encode(document, labelled=True)

    def documents(self, records: Iterable[Record]) -> Iterator[Record]:
        """Each file as one text (its lines joined), or with --per-line each non-empty line, with
        ``offset``, where the text starts in its file's tokens, for the temporal split. A text
        ends with its newline, so a model of one text per line learns where a text ends."""
        for path, lines in groupby(records, key=lambda record: record.path):
            lines = list(lines)
            if not self.options.get("per_line"):
                yield Record({"text": "".join(line["text"] + "\n" for line in lines), "offset": 0}, path, lines[0].line, table=False)
                continue
            offset = 0
            for line in lines:
                if not line["text"].strip():
                    self.skip(line, "that are empty lines")
                    continue
                text = line["text"] + "\n"
                yield Record({"text": text, "offset": offset}, path, line.line, table=False)
                offset += len(self.tokens(text)) - 1  # the next text's start marker is this one's newline

    def encode(self, record: Record, *, labelled: bool) -> Example | Iterable[Example] | None:
        if not isinstance(record.get("text"), str):
            raise DataError(f"{record.where}: no \"text\" field; give plain text (a prompt per line), or jsonl records with \"text\"")
        tokens = self.tokens(record["text"])
        self.unknown += sum(token not in self.vocabulary.ids for token in tokens)
        ids = self.vocabulary.encode(tokens)
        if not labelled:
            return Example(torch.tensor(ids), meta=(record["text"], ids))
        return self._chunks(ids, record)

    def _chunks(self, ids: list[int], document: Record) -> Iterator[Example]:
        """Consecutive chunks, placed in their file (``group``, ``span``) so the temporal split
        validates on the end of the text and purges the chunks that overlap it. ``meta`` is the
        ids before the chunk, the context the n-gram baseline scores its first steps with."""
        ids_tensor = torch.tensor(ids)
        offset = document["offset"]
        # the state is not carried from chunk to chunk in training (truncated backpropagation
        # through time needs the core's trainer to keep it): each chunk's warm-up stands in for it
        for start, end, counted_from in warm_windows(len(ids) - 1, self.chunk):
            before = ids[max(0, start - ORDER + 1) : start]
            yield Example(
                ids_tensor[start:end],
                ids_tensor[start + 1 : end + 1],
                torch.arange(end - start) >= counted_from,
                meta=before,
                group=document.path,
                span=(offset + start, offset + end),
            )

    def decode(self, output: torch.Tensor, meta: tuple[str, list[int]]) -> dict[str, Any]:
        prompt, ids = meta
        model = self.engine.model
        members = list(getattr(model, "members", [model]))  # an ensemble's, or a lone model
        sampler = Sampler(self.temperature, self.options.get("top_k"), self.seed)
        text = ""
        for count, token in enumerate(generate(members, ids, output.log(), sampler), 1):
            piece = self.vocabulary.decode([token])[0]
            text += piece if self.unit == "char" or piece == START or text.endswith(START) else " " + piece
            if self.stop and self.stop in text[-(len(piece) + len(self.stop) + 1) :]:
                text = text[: text.index(self.stop)]
                break
            if count == self.length:
                break
        return {"prompt": prompt, "text": text}

    def metrics(self) -> CrossEntropy:
        return CrossEntropy(self.unit, self.baseline)

    def report(self) -> list[str]:
        if not self.unknown:
            return []
        return [f"{self.unknown} {self.unit}(s) are not in the model's vocabulary (unseen in training, or rarer than --min-count); read as 'unknown'"]
