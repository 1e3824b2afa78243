"""Next-event accuracy of the behaviour plugin on real logs, against its own baselines.

    python -m benchmarks.behaviour [--only msnbc|retail] [--msnbc-train-lines N] [--epochs N] [--threads 1]

- MSNBC (msnbc-uci, 17 page categories, one user per line): the first 80 % of lines train, the
  last 20 % test, and every next event of every test line is scored from its prefix (GRU4Rec
  protocol; 737,325 targets). The reference is SOURCE.md's second-order Markov model with
  back-off (computed by the dataset helper, not a published figure). Training may use only the
  first N training lines (--msnbc-train-lines) to fit the time; the test set is always complete.
- Online Retail (online-retail-uci): item = StockCode, user = CustomerID; lines without a
  customer, cancellations (InvoiceNo C...), Quantity <= 0 and non-product codes (codes that do not
  start with a digit: POST, M, DOT, BANK CHARGES...) are dropped. Temporal split: events before
  2011-10-01 train, events from then on are scored (`evaluate --score-from 2011-10-01` on the
  whole log: a customer's earlier events are read as context, never scored). Lines of one invoice
  share a timestamp (96.4 % of adjacent lines, SOURCE.md), and their file order is the order the
  invoice listed them, not behaviour. By default (--retail-ties shuffle) the plugin's --ties shuffle
  puts each invoice's lines in a seeded random order, for the model and the baselines alike, so
  neither is scored on reproducing a listing order; --retail-ties file keeps the file order.

The model is trained and scored through seqtool's own pipeline (what `seqtool run behaviour
train/evaluate` runs). The popularity and first-order Markov baselines come from the same
evaluate report: fitted on the same training data, scored on the same targets, over all events.
Needs ../shared/datasets/behaviour (or SEQTOOL_DATASETS=<folder holding behaviour/>); without it
the benchmark says so and exits without failing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from benchmarks.datasets import DATASETS, located

BEHAVIOUR = DATASETS / "behaviour"
MSNBC = BEHAVIOUR / "msnbc-uci" / "msnbc990928.seq.gz"
RETAIL = BEHAVIOUR / "online-retail-uci" / "online_retail.csv.gz"
MSNBC_HEADER_LINES = 7
RETAIL_CUT = "2011-10-01"
#: SOURCE.md, "Baselines computed here": MSNBC, first 80 % train / last 20 % test, every next event
MSNBC_SECOND_ORDER_MARKOV = {"recall@1": 0.6670, "recall@5": 0.8900, "mrr": 0.7682}


@dataclass
class Result:
    metrics: dict[str, Any]
    train_seconds: float
    epochs: int
    best_epoch: int


def run(train_file: Path, test_file: Path, settings: dict[str, Any], options: dict[str, Any], folder: Path, evaluate_options: dict[str, Any] | None = None) -> Result:
    from seqtool import pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    task = registry().task("behaviour")
    model = folder / "behaviour.model"
    started = time.perf_counter()
    card = pipeline.train(task, str(train_file), None, model, Settings().merged(task.defaults).merged(settings), options, quiet=False)
    seconds = time.perf_counter() - started
    with contextlib.redirect_stdout(io.StringIO()):
        report = pipeline.evaluate(task, model, str(test_file), {**options, **(evaluate_options or {})}, as_json=True, batch_size=64, quiet=True)
    [member] = card.members
    return Result(report["metrics"], seconds, len(member.history), member.best_epoch)


# -- MSNBC ---------------------------------------------------------------------------------------


def msnbc_split(folder: Path, train_lines: int | None) -> tuple[Path, Path, int, int]:
    """Writes train.txt (the first 80 %, or its first ``train_lines``) and test.txt (the last 20 %);
    returns them, the training events and the number of lines the full training part has."""
    with gzip.open(MSNBC, "rt", encoding="ascii", newline="") as handle:
        lines = [line.strip() for line in handle.read().split("\n")[MSNBC_HEADER_LINES:]]
    lines = [line for line in lines if line]
    cut = int(len(lines) * 0.8)
    train, test = lines[:cut][:train_lines], lines[cut:]
    (folder / "train.txt").write_text("\n".join(train) + "\n")
    (folder / "test.txt").write_text("\n".join(test) + "\n")
    return folder / "train.txt", folder / "test.txt", sum(len(line.split()) for line in train), cut


def bench_msnbc(args: argparse.Namespace, folder: Path) -> list[str]:
    train, test, events, all_train_lines = msnbc_split(folder, args.msnbc_train_lines)
    result = run(train, test, {"epochs": args.epochs, "batch_size": 256}, {"top_k": 5}, folder)
    m, base = result.metrics, result.metrics["baselines"]
    used = min(args.msnbc_train_lines or all_train_lines, all_train_lines)
    subsample = f"first {used:,} of {all_train_lines:,} train lines" if used < all_train_lines else f"all {used:,} train lines"
    rows = [
        "| model | Acc@1 | HR@5 | MRR | targets |",
        "|---|---|---|---|---|",
        f"| seqtool behaviour (GRU, {subsample}) | {m['recall@1']:.4f} | {m['recall@5']:.4f} | {m['mrr']:.4f} | {m['count']:,} |",
    ]
    for name, values in base.items():
        rows.append(f"| {name} (seqtool baseline, same train lines) | {values['recall@1']:.4f} | {values['recall@5']:.4f} | {values['mrr']:.4f} | {m['count']:,} |")
    ref = MSNBC_SECOND_ORDER_MARKOV
    rows.append(f"| 2nd-order Markov, back-off to 1st (SOURCE.md, all train lines) | {ref['recall@1']:.4f} | {ref['recall@5']:.4f} | {ref['mrr']:.4f} | 737,325 |")
    rows.append("")
    rows.append(timing(result, events))
    return rows


# -- Online Retail -------------------------------------------------------------------------------


def retail_split(folder: Path) -> tuple[Path, Path, int]:
    """Writes train.csv (events before the cut) and full.csv (all events; evaluate scores only
    those from the cut on and reads the earlier ones as each customer's history)."""
    train_rows, test_rows = [], []
    with gzip.open(RETAIL, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code, customer = row["StockCode"], row["CustomerID"]
            if not customer or row["InvoiceNo"].startswith("C") or int(row["Quantity"]) <= 0 or not code[:1].isdigit():
                continue
            (train_rows if row["InvoiceDate"] < RETAIL_CUT else test_rows).append((customer, row["InvoiceDate"], code))
    for name, rows in (("train", train_rows), ("full", train_rows + test_rows)):
        rows.sort(key=lambda row: row[0])  # grouped by customer (stable: file order kept), so evaluate streams
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["user_id", "timestamp", "event"])
            writer.writerows(rows)
    return folder / "train.csv", folder / "full.csv", len(train_rows)


def bench_retail(args: argparse.Namespace, folder: Path) -> list[str]:
    train, test, events = retail_split(folder)
    settings = {"epochs": args.epochs, "batch_size": args.retail_batch_size, "hidden": args.retail_hidden, "embedding_dim": args.retail_hidden, "dropout": args.retail_dropout}  # None: the task's default
    result = run(train, test, settings, {"top_k": 20, "max_length": args.retail_max_length, "ties": args.retail_ties}, folder, {"score_from": RETAIL_CUT})
    m = result.metrics
    rows = [
        "| model | Recall@20 | MRR@20 | NDCG@20 | Acc@1 | targets |",
        "|---|---|---|---|---|---|",
        f"| seqtool behaviour (GRU) | {m['recall@20']:.4f} | {m['mrr@20']:.4f} | {m['ndcg@20']:.4f} | {m['recall@1']:.4f} | {m['count']:,} |",
    ]
    for name, values in m["baselines"].items():
        rows.append(f"| {name} | {values['recall@20']:.4f} | {values['mrr@20']:.4f} | {values['ndcg@20']:.4f} | {values['recall@1']:.4f} | {m['count']:,} |")
    best = {key: max(v[key] for v in m["baselines"].values()) for key in ("recall@20", "mrr@20")}
    lift = ", ".join(f"{key} {100 * (m[key] / best[key] - 1):+.1f} %" for key in best)
    rows += ["", f"relative to the better baseline: {lift}", timing(result, events)]
    return rows


def timing(result: Result, events: int) -> str:
    return (
        f"training {result.train_seconds:.0f} s ({result.epochs} epochs, best {result.best_epoch}), "
        f"{events:,} training events, {events * result.epochs / result.train_seconds:,.0f} events/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("msnbc", "retail"), help="run one data set")
    parser.add_argument("--msnbc-train-lines", type=int, help="train on the first N MSNBC training lines (default: all)")
    parser.add_argument("--epochs", type=int, default=10, help="most epochs (default 10, the task's; early stopping on a held-out tenth)")
    parser.add_argument("--retail-batch-size", type=int, default=32, help="Online Retail batch size (default 32)")
    parser.add_argument("--retail-max-length", type=int, default=50, help="Online Retail window length (default 50: more, shorter windows, more updates per epoch)")
    parser.add_argument("--retail-hidden", type=int, help="Online Retail hidden and embedding size (default: the task's, 100 and 64)")
    parser.add_argument("--retail-dropout", type=float, help="Online Retail dropout (default: the task's, 0.1)")
    parser.add_argument("--retail-ties", choices=("file", "shuffle"), default="shuffle", help="order of one invoice's lines, which share a timestamp: shuffled per customer (default) or file order")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()

    if located("behaviour") is None:
        return
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    out = []
    with tempfile.TemporaryDirectory(prefix="seqtool-bench-behaviour-") as name:
        if args.only in (None, "msnbc"):
            (Path(name) / "msnbc").mkdir()
            out += ["**MSNBC** (first 80 % of lines train, last 20 % test, every next event)", "", *bench_msnbc(args, Path(name) / "msnbc"), ""]
        if args.only in (None, "retail"):
            (Path(name) / "retail").mkdir()
            out += [f"**Online Retail** (train before {RETAIL_CUT}, test after; item = StockCode, user = CustomerID)", "", *bench_retail(args, Path(name) / "retail"), ""]
    print("\n".join(out))
    print(f"wall time {time.perf_counter() - started:.0f} s, torch threads {args.threads}")


if __name__ == "__main__":
    main()
