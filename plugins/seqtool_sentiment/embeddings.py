"""Pretrained word vectors (GloVe or word2vec text format) into the embedding matrix."""

from __future__ import annotations

import torch

from seqtool import DataError, Vocabulary


def load_vectors(path: str, vocabulary: Vocabulary, weight: torch.Tensor) -> int:
    """Copy the vectors of vocabulary words found in ``path`` into ``weight``; returns how many.

    Lines are ``word v1 v2 ...``; a word2vec header line (``count dimension``) is skipped. Words
    the file lacks keep their random initialisation.
    """
    found = 0
    dimension = weight.shape[1]
    with open(path, encoding="utf-8", errors="replace") as handle, torch.no_grad():
        for number, line in enumerate(handle, 1):
            parts = line.rstrip().split(" ")
            if number == 1 and len(parts) == 2:
                continue
            word, values = parts[0], parts[1:]
            if len(values) != dimension:
                raise DataError(f"{path}:{number}: {len(values)}-dimensional vector, but --embedding-dim is {dimension}; pass --embedding-dim {len(values)}")
            index = vocabulary.ids.get(word)
            if index is not None and index > 1:
                weight[index] = torch.tensor([float(v) for v in values])
                found += 1
    return found
