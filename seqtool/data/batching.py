"""Examples -> padded batches: length buckets for training, a bounded stream for prediction."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import torch
from torch.nn.utils.rnn import pad_sequence

from seqtool.types import Batch, Example


def collate(examples: Sequence[Example], per_step: bool) -> Batch:
    """Pad a list of examples into one :class:`Batch`. ``per_step`` targets are padded along
    time; pooled targets are stacked."""
    lengths = torch.tensor([len(e) for e in examples], dtype=torch.int64)
    inputs = pad_sequence([e.inputs for e in examples], batch_first=True)
    step_mask = torch.arange(inputs.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    if per_step and any(e.step_mask is not None for e in examples):
        kept = pad_sequence(
            [e.step_mask if e.step_mask is not None else torch.ones(len(e), dtype=torch.bool) for e in examples],
            batch_first=True,
        )
        step_mask &= kept
    target = None
    if examples[0].target is not None:
        targets = [e.target for e in examples]
        target = pad_sequence(targets, batch_first=True) if per_step else torch.stack(targets)
    return Batch(inputs, lengths, target, step_mask, [e.meta for e in examples])


def bucket_batches(
    examples: Sequence[Example], batch_size: int, generator: torch.Generator, *, shuffle: bool = True
) -> list[list[int]]:
    """Index batches of similar length, so little time goes into padding.

    Examples are ordered by length (ties broken at random when shuffling), cut into batches, and
    the batch order is shuffled; the same generator state gives the same batches.
    """
    n = len(examples)
    lengths = torch.tensor([len(e) for e in examples], dtype=torch.float64)
    if shuffle:
        lengths = lengths + torch.rand(n, generator=generator, dtype=torch.float64)
    order = torch.argsort(lengths, stable=True).tolist()
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if shuffle:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return batches


def stream_batches(examples: Iterable[Example], batch_size: int, per_step: bool) -> Iterator[Batch]:
    """Batches from a lazy stream, with bounded memory and low latency.

    A reader thread encodes examples into a bounded queue; each batch takes the examples already
    waiting (at least one, at most ``batch_size``). A fast source such as a file fills whole
    batches; a slow one such as ``tail -f`` gets each record scored as soon as it arrives.
    """
    pending: queue.Queue = queue.Queue(maxsize=4 * batch_size)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for example in examples:
                pending.put(example)
                if stop.is_set():  # the consumer left early (`| head`, a demo's first results)
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            pending.put(_Failure(error))
        pending.put(done)

    reader = threading.Thread(target=produce, daemon=True, name="seqtool-reader")
    reader.start()
    try:
        yield from _drain(pending, done, batch_size, per_step)
    finally:
        stop.set()
        # Unblock a put() so the reader sees the stop; one blocked on a slow input (`tail -f`)
        # cannot be woken, and is left to end with the process (it is a daemon).
        deadline = time.monotonic() + 1.0
        while reader.is_alive() and time.monotonic() < deadline:
            try:
                pending.get(timeout=0.05)
            except queue.Empty:
                reader.join(timeout=0.05)


def _drain(pending: queue.Queue, done: object, batch_size: int, per_step: bool) -> Iterator[Batch]:
    while True:
        item = pending.get()
        chunk: list[Example] = []
        while True:
            if item is done:
                if chunk:
                    yield collate(chunk, per_step)
                return
            if isinstance(item, _Failure):
                if chunk:  # what was read before the bad record still gets its results
                    yield collate(chunk, per_step)
                raise item.error
            chunk.append(item)
            if len(chunk) == batch_size:
                break
            try:
                item = pending.get_nowait()
            except queue.Empty:
                break
        yield collate(chunk, per_step)


@dataclass
class _Failure:
    error: BaseException
