"""Where the real benchmark data live: ../shared/datasets, or the folder SEQTOOL_DATASETS names.

They stay outside the repository (see that folder's README), so every benchmark first asks
:func:`located` and skips with a message when its data are absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATASETS = Path(os.environ.get("SEQTOOL_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def located(name: str) -> Path | None:
    """``DATASETS / name`` if it is there; otherwise None, after saying why on stderr."""
    folder = DATASETS / name
    if folder.is_dir():
        return folder
    print(f"skipped: {folder} not found (the benchmark data live outside the repository; set SEQTOOL_DATASETS)", file=sys.stderr)
    return None
