"""Components an adapter learns from its training data and that save themselves.

As Hugging Face's tokenizers do: each knows how to turn itself into JSON-able state and back, so
an adapter declares them (``vocabulary: Vocabulary`` at class level) and never writes
``state()``/``load_state()`` by hand. Loading builds only these declared classes from plain data:
a model file can never name code to run.
"""

from __future__ import annotations

import statistics
from abc import ABC, abstractmethod
from typing import Any, Iterable, Mapping, Sequence, TypeVar

from seqtool.errors import DataError

F = TypeVar("F", bound="Fitted")

#: the interquartile range of a normal distribution, in standard deviations
IQR_PER_SD = 1.349


class Fitted(ABC):
    """A learnt component: ``state()`` gives JSON-able data, ``from_state()`` rebuilds it."""

    @abstractmethod
    def state(self) -> dict[str, Any]: ...

    @classmethod
    @abstractmethod
    def from_state(cls: type[F], state: Mapping[str, Any]) -> F: ...


class LabelSet(Fitted):
    """The classes of a classification target, sorted so that the same data gives the same ids."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.ids = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def fit(cls, values: Iterable[Any], *, where: str = "the training data", minimum: int = 2) -> "LabelSet":
        """The distinct non-empty values (as stripped text); fewer than ``minimum`` is an error."""
        labels = sorted({str(v).strip() for v in values if v is not None} - {""})
        if len(labels) < minimum:
            raise DataError(f"{where}: {len(labels)} distinct label(s) ({', '.join(labels) or 'none'}); training needs at least {minimum}")
        return cls(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def encode(self, value: Any, where: str) -> int:
        """The id of ``value``; a label unseen in training names the record and the labels known."""
        label = str(value if value is not None else "").strip()
        if label not in self.ids:
            raise DataError(f"{where}: label {label!r} was not seen in training; known labels: {', '.join(self.labels)}")
        return self.ids[label]

    def __getitem__(self, index: int) -> str:
        return self.labels[index]

    def state(self) -> dict[str, Any]:
        return {"labels": self.labels}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "LabelSet":
        return cls(state["labels"])


class RobustScaler(Fitted):
    """Per-feature centring on the median and scaling by the interquartile range, expressed in
    standard deviations of a normal distribution (IQR / 1.349): one outlier in the training data
    moves neither, and scaled values read like z-scores. A feature that is mostly constant falls
    back to its standard deviation, then to 1, so nothing is divided by zero."""

    def __init__(self, centre: Sequence[float], scale: Sequence[float]) -> None:
        self.centre = list(centre)
        self.scale = list(scale)

    @classmethod
    def fit(cls, columns: Sequence[Sequence[float]]) -> "RobustScaler":
        """``columns``: one sequence of training values per feature."""
        centre, scale = [], []
        for values in columns:
            quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
            spread = (quartiles[2] - quartiles[0]) / IQR_PER_SD
            if spread <= 0:
                spread = statistics.pstdev(values) or 1.0
            centre.append(quartiles[1])
            scale.append(spread)
        return cls(centre, scale)

    def transform(self, values: Sequence[float]) -> list[float]:
        return [(v - c) / s for v, c, s in zip(values, self.centre, self.scale)]

    def inverse(self, values: Sequence[float]) -> list[float]:
        return [v * s + c for v, c, s in zip(values, self.centre, self.scale)]

    def state(self) -> dict[str, Any]:
        return {"centre": self.centre, "scale": self.scale}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "RobustScaler":
        return cls(state["centre"], state["scale"])
