"""Human-readable reports on a terminal: metrics after evaluate, the model card for info."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from rich.table import Table

from seqtool.console import stdout


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _scalar_table(title: str, values: Mapping[str, Any]) -> Table:
    table = Table("metric", "value", title=title, box=None, title_justify="left")
    for key, value in values.items():
        table.add_row(key, _number(value))
    return table


def _rows_table(title: str, rows: Mapping[str, Mapping[str, Any]]) -> Table:
    """A table from {row: {column: value}} such as per-class scores or baselines."""
    columns = list(dict.fromkeys(c for row in rows.values() for c in row))
    table = Table("", *columns, title=title, box=None, title_justify="left")
    for name, row in rows.items():
        table.add_row(name, *(_number(row.get(c, "")) for c in columns))
    return table


def _confusion_table(confusion: Mapping[str, Any]) -> Table:
    labels = confusion["labels"]
    table = Table("true \\ predicted", *labels, title="confusion", box=None, title_justify="left")
    for label, row in zip(labels, confusion["matrix"]):
        table.add_row(label, *map(str, row))
    return table


def print_metrics(report: Mapping[str, Any]) -> None:
    """Scalars first, then each nested table (per-class, confusion, baselines...)."""
    console = stdout()
    metrics = report["metrics"]
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}
    console.print(_scalar_table(f"{report['task']} on {Path(report['data']).name}", scalars))
    for key, value in metrics.items():
        if key == "confusion":
            console.print(_confusion_table(value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            console.print(_rows_table(key, value))
        elif isinstance(value, dict):
            console.print(_scalar_table(key, value))


def print_card(card: Mapping[str, Any]) -> None:
    console = stdout()
    about = {
        "task": card["task"],
        "plugin": f"{card.get('plugin')} {card.get('plugin_version')}",
        "created": card.get("created"),
        "seqtool / torch": f"{card.get('seqtool_version')} / {card.get('torch_version')}",
        "parameters": card.get("parameters"),
        "trained on": f"{card['data']['train']} ({card['data']['train_examples']} examples)",
        "best epoch": ", ".join(f"{m['best_epoch']} of {len(m['history'])}" for m in card["training"]["members"]) + f" ({card['training']['seconds']} s)",
    }
    console.print(_scalar_table("model", about))
    console.print(_scalar_table("settings", card["settings"]))
    if card.get("options"):
        console.print(_scalar_table("task options", card["options"]))
    scalars = {k: v for k, v in card.get("metrics", {}).items() if not isinstance(v, (dict, list))}
    if scalars:
        console.print(_scalar_table("validation metrics at the best epoch", scalars))
