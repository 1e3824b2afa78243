"""The model file: one safetensors file holding the weights and, in its JSON header, the model
card (task, plugin and versions, settings, training history, metrics) and the adapter state.

safetensors holds tensors and strings only, so loading a model can never run code; the header
is readable without torch, which keeps ``seqtool info`` fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from seqtool.errors import ModelFileError
from seqtool.io.atomic import write_file

FORMAT = "seqtool-model"
#: 2: the version-2 engine and adapter contract (columns in the card, declared adapter state,
#: every weight under ``members.N.``); version 1 files are refused with a message saying so
FORMAT_VERSION = 2
_CARD_KEY = "seqtool.card"
_ADAPTER_KEY = "seqtool.adapter"


def save_model(path: Path, weights: Mapping[str, Any], card: Mapping[str, Any], adapter_state: Mapping[str, Any]) -> None:
    """Write the model file by :mod:`seqtool.io.atomic`'s rules: an interrupted save leaves
    ``path`` as it was, a full disk is one line naming it. (safetensors' own ``save_file`` would
    leave a temporary file of its own beside ``path`` when killed, and replace a device.)"""
    from safetensors.torch import save

    header = {
        _CARD_KEY: json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **card}),
        _ADAPTER_KEY: json.dumps(adapter_state),
    }
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
    write_file(Path(path), save(tensors, metadata=header))


def read_card(path: Path) -> dict[str, Any]:
    """The model card alone (no weights, no torch)."""
    return _read_header(Path(path), "numpy")[0]


def load_model(path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(card, adapter state, weights) from a model file; a foreign or damaged file is refused."""
    from safetensors import safe_open

    card, adapter_state = _read_header(Path(path), "pt")
    with safe_open(str(path), framework="pt") as handle:
        weights = {name: handle.get_tensor(name) for name in handle.keys()}
    return card, adapter_state, weights


def _read_header(path: Path, framework: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file; train one with `seqtool run TASK train DATA -o {path}`")
    try:
        with safe_open(str(path), framework=framework) as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelFileError(
            f"{path}: not a seqtool model file ({error}); seqtool only loads the safetensors files it writes "
            "and never unpickles, so a pickled or damaged file is refused"
        ) from None
    try:
        card = json.loads(header[_CARD_KEY])
        adapter_state = json.loads(header[_ADAPTER_KEY])
    except (KeyError, json.JSONDecodeError):
        raise ModelFileError(f"{path}: a safetensors file, but not one seqtool wrote (no seqtool model card)") from None
    if card.get("format") == FORMAT and isinstance(card.get("format_version"), int) and card["format_version"] < FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {card['format_version']}, written by seqtool {card.get('seqtool_version', 'before 0.2')}; "
            f"this seqtool reads version {FORMAT_VERSION} only (the adapter state changed with the version-2 contract); "
            f"train the model again with this seqtool, or use the seqtool that wrote it"
        )
    if card.get("format") != FORMAT or card.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format {card.get('format')!r} version {card.get('format_version')!r}; "
            f"this seqtool reads {FORMAT!r} version {FORMAT_VERSION}"
        )
    return card, adapter_state
