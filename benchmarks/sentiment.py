"""Sentiment accuracy on real reviews: the plugin (from scratch, its defaults) against TF-IDF + LR.

    python -m benchmarks.sentiment [--only mr|sst2] [--folds 10] [--max-folds N] [--ensemble N] [--seed N] [--threads 1]

- MR (rt-polarity, Pang & Lee 2005): 10-fold cross-validation with a seeded random fold
  assignment, as the literature does (there is no official split). The files are latin-1 and are
  split on "\\n" only: byte 0x85 decodes to U+0085, which str.splitlines() would treat as a break.
- SST-2 (GLUE): train.tsv -> dev.tsv. Early stopping uses the plugin's own held-out tenth of the
  training data, never dev, so the dev accuracy is an honest held-out figure.

Both models see exactly the same training and test sentences. The recurrent model is trained
through seqtool's own pipeline (what `seqtool run sentiment train/evaluate` runs) with the
plugin's defaults; the baseline (scikit-learn, the `bench` extra) uses fixed settings, not tuned
on the test folds. Needs ../shared/datasets/sentiment (or SEQTOOL_DATASETS=<folder holding
sentiment/>); without it the benchmark says so and exits without failing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from benchmarks.datasets import DATASETS, located

SENTIMENT = DATASETS / "sentiment"
MR_FILES = {"positive": SENTIMENT / "rt-polaritydata" / "rt-polarity.pos", "negative": SENTIMENT / "rt-polaritydata" / "rt-polarity.neg"}
SST2 = {"train": SENTIMENT / "sst2" / "train.tsv", "dev": SENTIMENT / "sst2" / "dev.tsv"}
FOLD_SEED = 1234


@dataclass
class Run:
    """One model's accuracy on one split and how long its training took."""

    accuracy: float
    train_seconds: float
    epochs: int | None = None  # summed over an ensemble's members


# -- data ----------------------------------------------------------------------------------------


def read_mr() -> list[tuple[str, str]]:
    sentences = []
    for label, path in MR_FILES.items():
        text = path.read_bytes().decode("latin-1")
        sentences += [(line.strip(), label) for line in text.split("\n") if line.strip()]
    return sentences


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """GLUE's SST-2 files hold no quote characters (SOURCE.md), so a plain split is exact."""
    rows = path.read_text(encoding="utf-8").split("\n")[1:]
    return [(sentence.strip(), label.strip()) for sentence, label in (row.split("\t") for row in rows if row.strip())]


def mr_folds(count: int, folds: int) -> list[list[int]]:
    order = list(range(count))
    random.Random(FOLD_SEED).shuffle(order)
    return [order[k::folds] for k in range(folds)]


def write_jsonl(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for text, label in rows:
            handle.write(json.dumps({"text": text, "label": label}) + "\n")
    return path


# -- the two models ------------------------------------------------------------------------------


def train_seqtool(train_file: Path, test_file: Path, folder: Path, overrides: dict[str, int]) -> Run:
    """seqtool's pipeline with the sentiment task's defaults (``overrides``: --ensemble, --seed),
    as the CLI's train + evaluate run it."""
    from seqtool import pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    task = registry().task("sentiment")
    model = folder / "sentiment.model"
    started = time.perf_counter()
    card = pipeline.train(task, str(train_file), None, model, Settings().merged(task.defaults).merged(overrides), {}, quiet=True)
    seconds = time.perf_counter() - started
    with contextlib.redirect_stdout(io.StringIO()):
        report = pipeline.evaluate(task, model, str(test_file), {}, as_json=True, quiet=True)
    return Run(report["metrics"]["accuracy"], seconds, sum(len(member.history) for member in card.members))


def train_baseline(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> Run:
    """TF-IDF over word uni- and bigrams (sublinear tf) + L2 logistic regression, C=4."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|[^\w\s]"),
        LogisticRegression(C=4.0, max_iter=2000),
    )
    started = time.perf_counter()
    model.fit([t for t, _ in train], [y for _, y in train])
    seconds = time.perf_counter() - started
    accuracy = model.score([t for t, _ in test], [y for _, y in test])
    return Run(accuracy, seconds)


def both(train: list[tuple[str, str]], test: list[tuple[str, str]], overrides: dict[str, int], train_file: Path | None = None, test_file: Path | None = None) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory(prefix="seqtool-bench-") as name:
        folder = Path(name)
        train_file = train_file or write_jsonl(folder / "train.jsonl", train)
        test_file = test_file or write_jsonl(folder / "test.jsonl", test)
        seqtool_run = train_seqtool(train_file, test_file, folder, overrides)
    return seqtool_run, train_baseline(train, test)


# -- benchmarks ----------------------------------------------------------------------------------


def bench_mr(folds: int, max_folds: int | None, overrides: dict[str, int]) -> dict[str, list[Run]]:
    sentences = read_mr()
    runs: dict[str, list[Run]] = {"seqtool": [], "baseline": []}
    for k, held_out in enumerate(mr_folds(len(sentences), folds)[:max_folds]):
        test_ids = set(held_out)
        train = [s for i, s in enumerate(sentences) if i not in test_ids]
        test = [sentences[i] for i in held_out]
        seqtool_run, baseline_run = both(train, test, overrides)
        runs["seqtool"].append(seqtool_run)
        runs["baseline"].append(baseline_run)
        print(
            f"MR fold {k + 1}/{folds}: seqtool {seqtool_run.accuracy:.4f} ({seqtool_run.train_seconds:.0f} s, "
            f"{seqtool_run.epochs} epochs in all), baseline {baseline_run.accuracy:.4f} ({baseline_run.train_seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    return runs


def bench_sst2(overrides: dict[str, int]) -> dict[str, list[Run]]:
    seqtool_run, baseline_run = both(read_tsv(SST2["train"]), read_tsv(SST2["dev"]), overrides, SST2["train"], SST2["dev"])
    print(f"SST-2: seqtool {seqtool_run.accuracy:.4f}, baseline {baseline_run.accuracy:.4f}", file=sys.stderr, flush=True)
    return {"seqtool": [seqtool_run], "baseline": [baseline_run]}


def table_rows(dataset: str, protocol: str, runs: dict[str, list[Run]], overrides: dict[str, int]) -> list[str]:
    from seqtool.plugins import registry

    members = overrides.get("ensemble") or registry().task("sentiment").defaults.get("ensemble", 1)
    model = f"{members} bi-LSTMs averaged" if members > 1 else "bi-LSTM"
    names = {"seqtool": f"seqtool sentiment ({model}, defaults, from scratch)", "baseline": "TF-IDF 1-2 grams + logistic regression"}
    rows = []
    for key, label in names.items():
        accuracies = [r.accuracy * 100 for r in runs[key]]
        spread = f" ± {statistics.stdev(accuracies):.1f}" if len(accuracies) > 1 else ""
        seconds = [r.train_seconds for r in runs[key]]
        per_split = f"{statistics.mean(seconds):.1f}" + (f" (max {max(seconds):.1f})" if len(seconds) > 1 else "")
        rows.append(f"| {dataset} | {protocol} | {label} | {statistics.mean(accuracies):.1f}{spread} | {per_split} | {sum(seconds):.0f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("mr", "sst2"), help="run one data set")
    parser.add_argument("--folds", type=int, default=10, help="MR cross-validation folds (default 10)")
    parser.add_argument("--max-folds", type=int, help="stop after this many MR folds (for a quick look)")
    parser.add_argument("--ensemble", type=int, help="members to train and average (default: the task's, 3)")
    parser.add_argument("--seed", type=int, help="first member's seed (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    overrides = {name: value for name, value in (("ensemble", args.ensemble), ("seed", args.seed)) if value is not None}

    if located("sentiment") is None:
        return
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("skipped: scikit-learn is missing; install the bench extra: pip install -e '.[bench]'", file=sys.stderr)
        return
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rows = []
    if args.only in (None, "mr"):
        folds_run = min(args.folds, args.max_folds or args.folds)
        protocol = f"{args.folds}-fold CV" + (f" ({folds_run} folds run)" if folds_run < args.folds else "")
        rows += table_rows("MR", protocol, bench_mr(args.folds, args.max_folds, overrides), overrides)
    if args.only in (None, "sst2"):
        rows += table_rows("SST-2", "train -> dev", bench_sst2(overrides), overrides)
    print("| data | protocol | model | accuracy % | train s per split | train s total |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nwall time {time.perf_counter() - started:.0f} s, torch threads {args.threads}")


if __name__ == "__main__":
    main()
