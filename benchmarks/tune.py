"""Tuning against the defaults, for each built-in task (issue 14). A skeleton: the runs are not
written yet.

    python -m benchmarks.tune [--only TASK] [--trials 20] [--timeout 30m]

The plan: each task's benchmark data, split into train and test as that task's own benchmark
splits it. ``seqtool.tune`` searches on the training file with a fixed budget (``--trials`` or
``--timeout``, whichever ends first), scoring trials on the task's own hold-out of that file only;
then the best model and a model trained with the task's defaults are evaluated on the test file,
which the search never saw. Reported per task: both test scores, the search's wall time and one
default training's.
"""

from __future__ import annotations

import argparse

import seqtool
from benchmarks.datasets import DATASETS

TASKS = ("sentiment", "protein-ss", "behaviour", "finance-anomaly")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=TASKS)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--timeout", default="30m")
    parser.parse_args()
    raise SystemExit(f"benchmarks/tune.py is a skeleton (seqtool {seqtool.__version__}, data in {DATASETS}): the runs are not written yet")


if __name__ == "__main__":
    main()
