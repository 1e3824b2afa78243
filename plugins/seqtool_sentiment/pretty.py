"""Predictions for a person at a terminal: the label, its probability and the text, each word
coloured by its explanation weight when --explain is on (green helps the label, red hurts it)."""

from __future__ import annotations

from typing import Any, Mapping, TextIO

from rich.console import Console
from rich.text import Text


class PrettyWriter:
    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)

    def write(self, record: Mapping[str, Any]) -> None:
        line = Text(f"{record['label']:>10} {record['probability']:.2f}  ", style="bold")
        explanation = record.get("explanation")
        if explanation:
            scale = max((abs(w) for _, w in explanation if w is not None), default=0.0) or 1.0
            for word, weight in explanation:
                if weight is None:  # past the words --explain weighs
                    line.append(word + " ", style="dim")
                    continue
                strength = min(abs(weight) / scale, 1.0)
                style = ("green" if weight > 0 else "red") if strength > 0.2 else "dim"
                line.append(word + " ", style=f"bold {style}" if strength > 0.6 else style)
        else:
            line.append(str(record["text"]))
        self.console.print(line)

    def finish(self) -> None:
        pass
