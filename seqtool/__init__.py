"""seqtool: recurrent neural networks on your own sequence data.

This module is the public API for plugin authors. Everything here is light to import: torch is
pulled in only by the names that need it (``seqtool.nn``, ``seqtool.training``), and only when a
command actually trains or predicts, so ``seqtool --help`` stays fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pluggy

try:
    __version__ = version("seqtool")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

#: The plugin API's version. A plugin may declare the major version it was written for
#: (``SEQTOOL_API = 2`` in the module its entry point names); a different major is refused.
#: 2.0: the version-2 contract (declared columns and state, the engine, no Adapter.predict).
API_VERSION = "2.0"

#: Decorator for a plugin's hook implementations, e.g. ``@seqtool.hookimpl``.
hookimpl = pluggy.HookimplMarker("seqtool")

from seqtool.errors import DataError, SeqtoolError  # noqa: E402
from seqtool.types import Batch, Example, Metrics, ModelSpec, Record  # noqa: E402
from seqtool.task import Adapter, SampleData, Task, option  # noqa: E402
from seqtool.data.columns import Column, find_column  # noqa: E402
from seqtool.data.fitted import Fitted, LabelSet, RobustScaler  # noqa: E402
from seqtool.data.numbers import find_value_columns, parse_numbers  # noqa: E402
from seqtool.data.series import Series, group_series  # noqa: E402
from seqtool.data.stepping import SeriesNotes, SeriesStepper, Step, UnusableRow  # noqa: E402
from seqtool.data.times import parse_duration, parse_time  # noqa: E402
from seqtool.data.vocabulary import Vocabulary  # noqa: E402
from seqtool.data.windows import warm_windows  # noqa: E402

#: Public names that need torch, imported on first use so ``import seqtool`` stays light.
_LAZY = {
    "Engine": "seqtool.engine",
    "Model": "seqtool.model",
    "ModelCard": "seqtool.training.card",
    "load": "seqtool.api",
    "read": "seqtool.api",
    "train": "seqtool.api",
    "tune": "seqtool.api",
    "ClassificationMetrics": "seqtool.training.metrics",
    "RegressionMetrics": "seqtool.training.metrics",
    "RankingMetrics": "seqtool.training.ranking",
    "PopularityBaseline": "seqtool.training.ranking",
    "MarkovBaseline": "seqtool.training.ranking",
    "top_tokens": "seqtool.training.ranking",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqtool' has no attribute {name!r}")


__all__ = [
    "API_VERSION",
    "Adapter",
    "Batch",
    "Column",
    "ClassificationMetrics",
    "DataError",
    "Engine",
    "Example",
    "Fitted",
    "LabelSet",
    "MarkovBaseline",
    "Metrics",
    "Model",
    "ModelCard",
    "ModelSpec",
    "PopularityBaseline",
    "RankingMetrics",
    "Record",
    "RegressionMetrics",
    "RobustScaler",
    "SampleData",
    "SeqtoolError",
    "Series",
    "SeriesNotes",
    "SeriesStepper",
    "Step",
    "Task",
    "UnusableRow",
    "Vocabulary",
    "find_column",
    "find_value_columns",
    "group_series",
    "hookimpl",
    "load",
    "option",
    "parse_duration",
    "parse_numbers",
    "parse_time",
    "read",
    "top_tokens",
    "train",
    "tune",
    "warm_windows",
    "__version__",
]
