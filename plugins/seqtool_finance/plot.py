"""``predict --plot FILE.png``: each series with its flagged rows, label windows shaded.

matplotlib is an optional extra, imported only here and only when asked for.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Sequence

from seqtool import SeqtoolError
from seqtool_finance.scored import Scored


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SeqtoolError("--plot needs matplotlib, which is not installed; pip install matplotlib (or drop --plot)") from None


def draw(items: Sequence[Scored], path: str, labels: str | None, value_name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: predict runs in pipelines and on servers
    import matplotlib.pyplot as plt

    from seqtool_finance.labels import load_windows, windows_for

    by_series: dict[tuple[str, str], list[Scored]] = {}
    for item in items:
        if item.step.values:  # a row whose value could not be read has none to draw
            by_series.setdefault(item.series, []).append(item)
    windows = load_windows(labels) if labels else {}
    figure, axes = plt.subplots(len(by_series) or 1, 1, figsize=(12, 3 * max(len(by_series), 1)), squeeze=False)
    for axis, ((data_file, symbol), series) in zip(axes[:, 0], by_series.items()):
        series.sort(key=lambda s: s.step.time)  # a late row drawn where it belongs, not as a jump back
        times = [s.step.time for s in series]
        axis.plot(times, [s.step.values[0] for s in series], linewidth=0.7, label=value_name)
        flagged = [s for s in series if s.flagged]
        axis.scatter([s.step.time for s in flagged], [s.step.values[0] for s in flagged], color="red", s=10, zorder=3, label="flagged")
        for start, end in windows_for(windows, data_file, symbol) or []:
            axis.axvspan(start, end, color="orange", alpha=0.25)
        axis.set_title(symbol or PurePath(data_file).name)
        axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
