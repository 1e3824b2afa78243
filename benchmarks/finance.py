"""finance-anomaly on NAB realTweets: NAB standard score and window F1, LSTM vs a rolling z-score.

    cd /work/main && .venv/bin/python -m benchmarks.finance [--files AAPL,KO] [--skip-check]
    cd /work/main && .venv/bin/python -m benchmarks.finance --all-files [--files grok,occupancy]

1. Checks the plugin's NAB scorer: from the published raw results of two NAB detectors
   (windowedGaussian, numenta) and their thresholds, it must reproduce NAB's published per-file
   standard scores within 0.01.
2. For each of the 10 realTweets files: trains a model with the task defaults on the file's first
   15% (NAB's probationary period), scores the whole file, and scores a rolling z-score baseline.
3. Reports the NAB standard score over the files with each detector's own threshold (no labels
   used) and with one threshold optimised over the files (as NAB does for published detectors),
   plus window-level precision/recall/F1.

With ``--all-files``, instead: each of NAB's 58 files, with the task defaults, trained on its
first 15% and predicted whole; a file fails when training or predict stops, or when predict does
not give back the file's rows in their order. It prints what each file's unscored rows were
noted for, and exits 1 when a file failed. ``--epochs`` shortens training for a quick check.

Needs ../shared/datasets/finance_anomaly (never in CI); skips with a message when it is absent.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from benchmarks.datasets import DATASETS, located

NAB = DATASETS / "finance_anomaly" / "nab"
SYMBOLS = ("AAPL", "AMZN", "CRM", "CVS", "FB", "GOOG", "IBM", "KO", "PFE", "UPS")
CHECKED_DETECTORS = ("windowedGaussian", "numenta")
TOLERANCE = 0.01
ZSCORE_WINDOW = 288  # one day of 5-minute bins
ZSCORE_OWN_THRESHOLD = 4.0  # the rule-of-thumb cut a user would pick without labels
REFRACTORY = 288  # the task's default (6 windows of 48 rows), applied to both detectors


@dataclass
class FileResult:
    symbol: str
    times: list[datetime]
    spans: list[tuple[int, int]]
    scores: dict[str, list[float]]  # detector -> per-row score (nan: not scored)
    flags: dict[str, list[bool]]  # detector -> per-row flag at its own threshold


def key(symbol: str) -> str:
    return f"realTweets/Twitter_volume_{symbol}.csv"


def check_scorer(nab, windows) -> list[str]:
    """Per-file differences to NAB's published standard scores; raises when one exceeds 0.01."""
    thresholds = json.loads((NAB / "config" / "thresholds.json").read_text())
    lines, worst = [], 0.0
    for detector in CHECKED_DETECTORS:
        published = {r["File"]: float(r["Score"]) for r in csv.DictReader(open(NAB / "published_scores" / f"{detector}_standard_scores.csv"))}
        threshold = thresholds[detector]["standard"]["threshold"]
        for symbol in SYMBOLS:
            path = NAB / "results" / detector / "realTweets" / f"{detector}_Twitter_volume_{symbol}.csv.gz"
            with gzip.open(path, "rt") as handle:
                rows = list(csv.DictReader(handle))
            times = [datetime.fromisoformat(r["timestamp"]) for r in rows]
            spans = nab.window_rows(times, windows[key(symbol)])
            profile = nab.PROFILES["standard"]
            ours = nab.score_detections(nab.sweep_rows(len(rows), spans, profile), [float(r["anomaly_score"]) >= threshold for r in rows], profile).score
            worst = max(worst, abs(ours - published[key(symbol)]))
        lines.append(f"{detector}: 10 files reproduced")
    if worst > TOLERANCE:
        raise SystemExit(f"NAB scorer check failed: largest per-file difference {worst:.4f} > {TOLERANCE}")
    lines.append(f"largest per-file difference from the published standard scores: {worst:.2e} (tolerance {TOLERANCE})")
    return lines


def rolling_zscore(values: list[float]) -> list[float]:
    """|x - mean| / sd over the previous day of log1p counts: the classic baseline."""
    history: deque[float] = deque(maxlen=ZSCORE_WINDOW)
    scores = []
    for value in values:
        x = math.log1p(value)
        if len(history) < ZSCORE_WINDOW:
            scores.append(math.nan)
        else:
            sd = statistics.pstdev(history) or 1.0
            scores.append(abs(x - statistics.fmean(history)) / sd)
        history.append(x)
    return scores


def new_peaks(scores: list[float], refractory: int) -> list[float]:
    """The plugin's flag rule as a score: a row can only be flagged when it beats every score of
    the previous ``refractory`` rows, so elsewhere its detection score is -inf. Thresholding
    these at t flags exactly the rows the plugin flags with threshold t."""
    recent: deque[float] = deque(maxlen=refractory)
    out = []
    for score in scores:
        if math.isnan(score):
            out.append(score)
            continue
        out.append(score if all(score > earlier for earlier in recent) else -math.inf)
        recent.append(score)
    return out


def train_and_predict(data: Path, name: str, workdir: Path, settings, task, pipeline) -> tuple[list[dict], list[dict]]:
    """Train a model on the file's first 15% (NAB's probationary period), predict the whole file:
    its rows and predict's."""
    with open(data, newline="") as handle:
        rows = list(csv.DictReader(handle))
    probation = math.floor(0.15 * len(rows))
    train = workdir / f"{name}.train.csv"
    with open(train, "w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=["timestamp", "value"], lineterminator="\n")
        out.writeheader()
        out.writerows(rows[:probation])
    model = workdir / f"{name}.model"
    pipeline.train(task, str(train), None, model, settings, {}, quiet=True)
    scored = workdir / f"{name}.scored.csv"
    pipeline.predict(task, model, str(data), {}, output=str(scored), quiet=True)
    with open(scored, newline="") as handle:
        return rows, list(csv.DictReader(handle))


def run_file(symbol: str, spans_of, workdir: Path, settings, task, pipeline) -> FileResult:
    rows, results = train_and_predict(NAB / "data" / "realTweets" / f"Twitter_volume_{symbol}.csv", symbol, workdir, settings, task, pipeline)
    assert len(results) == len(rows), f"{symbol}: {len(results)} results for {len(rows)} rows"
    times = [datetime.fromisoformat(r["timestamp"]) for r in rows]
    zscores = new_peaks(rolling_zscore([float(r["value"]) for r in rows]), REFRACTORY)
    return FileResult(
        symbol,
        times,
        spans_of(times),
        {"lstm": new_peaks([float(r["score"]) if r["score"] else math.nan for r in results], REFRACTORY), "zscore": zscores},
        {"lstm": [r["is_anomaly"] == "True" for r in results], "zscore": [z >= ZSCORE_OWN_THRESHOLD for z in zscores]},
    )


def check_all_files(names: list[str] | None, settings, task, pipeline) -> int:
    """``--all-files``: every NAB file (or those whose path contains one of ``names``) trained on
    its first 15% and predicted whole; a line per file, a summary, and the number that failed."""
    files = sorted((NAB / "data").glob("*/*.csv"))
    if names:
        files = [f for f in files if any(name in str(f.relative_to(NAB / "data")) for name in names)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="seqtool-finance-all-") as folder:
        for number, data in enumerate(files):
            name = str(data.relative_to(NAB / "data"))
            begun = time.perf_counter()
            try:
                rows, results = train_and_predict(data, str(number), Path(folder), settings, task, pipeline)
            except Exception as error:  # any stop is what this mode counts; say which and go on
                failed += 1
                print(f"FAILED {name}: {type(error).__name__}: {error}")
                continue
            in_order = [r["timestamp"] for r in results] == [r["timestamp"] for r in rows]
            notes = Counter(r["note"] for r in results if r["note"])
            noted = ", ".join(f"{count} {note}" for note, count in notes.most_common()) or "none"
            failed += not in_order
            status = "ok" if in_order else "FAILED (not the input rows in their order)"
            print(f"{status} {name}: {len(rows)} rows in, {len(results)} out; not scored: {noted} ({time.perf_counter() - begun:.0f} s)")
    print(f"\n{len(files)} file(s): {failed} failed; rows out == rows in, in input order, for {len(files) - failed}")
    return failed


def summarise(nab, files: list[FileResult], detector: str) -> dict[str, float]:
    profile = nab.PROFILES["standard"]
    swept = [(nab.sweep_rows(len(f.times), f.spans, profile), f) for f in files]
    windows = sum(len({r.window for r in rows if r.window is not None}) for rows, _ in swept)
    own = sum(nab.score_detections(rows, f.flags[detector], profile).score for rows, f in swept)
    threshold, best = nab.best_threshold([(rows, f.scores[detector]) for rows, f in swept], profile)
    counts = {"windows": 0, "windows_detected": 0, "events": 0, "events_in_windows": 0}
    counts_best = dict(counts)
    for rows, f in swept:
        start = int(nab.probation_length(len(f.times)))
        for target, flags in ((counts, f.flags[detector]), (counts_best, [s >= threshold for s in f.scores[detector]])):
            found = nab.window_f1(f.spans, flags, start=start)
            for k in target:
                target[k] += found[k]
    return {
        "own": nab.normalised(own, windows, profile),
        "best": nab.normalised(best, windows, profile),
        "threshold": threshold,
        "f1_own": nab.f1_from_counts(counts),
        "f1_best": nab.f1_from_counts(counts_best),
        "flagged_own": sum(sum(f.flags[detector]) for f in files),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", help="comma-separated tickers (default: all 10); with --all-files, parts of NAB file paths")
    parser.add_argument("--skip-check", action="store_true", help="skip the NAB scorer check")
    parser.add_argument("--all-files", action="store_true", help="instead of the benchmark: train on each NAB file's first 15%%, predict it whole, and check that no file fails and every row comes back, in order")
    parser.add_argument("--epochs", type=int, help="train this many epochs instead of the task's default (a quick check)")
    args = parser.parse_args()
    if located("finance_anomaly") is None:
        return
    import torch

    torch.set_num_threads(1)  # the benchmark machine is shared
    from seqtool import parse_time, pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings
    from seqtool_finance import nab

    task = registry().task("finance-anomaly")
    settings = Settings().merged(task.defaults).merged({"epochs": args.epochs})  # None: the default
    if args.all_files:
        sys.exit(1 if check_all_files(args.files.split(",") if args.files else None, settings, task, pipeline) else 0)
    raw_windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    windows = {k: [(parse_time(a, k), parse_time(b, k)) for a, b in v] for k, v in raw_windows.items()}
    started = time.perf_counter()
    if not args.skip_check:
        for line in check_scorer(nab, windows):
            print(line, file=sys.stderr)
    files = []
    with tempfile.TemporaryDirectory(prefix="seqtool-finance-bench-") as folder:
        for symbol in (args.files or ",".join(SYMBOLS)).split(","):
            begun = time.perf_counter()
            result = run_file(symbol, lambda times: nab.window_rows(times, windows[key(symbol)]), Path(folder), settings, task, pipeline)
            files.append(result)
            print(f"{symbol}: {len(result.times)} rows, {time.perf_counter() - begun:.0f} s", file=sys.stderr)
    print(f"\nNAB realTweets, {len(files)} file(s), standard profile; one model per file trained on its first 15%\n")
    print("| detector | NAB (own threshold, no labels) | NAB (one threshold optimised over the files) | window P / R / F1 (own) | window P / R / F1 (optimised) | rows flagged (own) |")
    print("|---|---|---|---|---|---|")
    names = {"lstm": "seqtool LSTM (telemanom dynamic threshold)", "zscore": f"rolling z-score (1 day, |z| >= {ZSCORE_OWN_THRESHOLD:g}, same refractory rule)"}
    for detector in ("lstm", "zscore"):
        s = summarise(nab, files, detector)
        own, best = s["f1_own"], s["f1_best"]
        print(
            f"| {names[detector]} | {s['own']:.1f} | {s['best']:.1f} (score >= {s['threshold']:.3g}) | "
            f"{own['precision']:.2f} / {own['recall']:.2f} / {own['f1']:.2f} | {best['precision']:.2f} / {best['recall']:.2f} / {best['f1']:.2f} | {s['flagged_own']} |"
        )
    print(f"\nwall time {time.perf_counter() - started:.0f} s (torch threads: 1)")


if __name__ == "__main__":
    main()
