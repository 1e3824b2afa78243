"""forecast on real series: the model beside persistence and seasonal naive, per horizon, on a
final stretch of each series that training and early stopping never saw.

    cd /work/main && .venv/bin/python -m benchmarks.forecast [--only seattle-daily,wti] [--epochs N]

- seattle-daily: Seattle's daily temp_max 2012-2015 (precipitation and wind as covariates),
  horizons 1 and 7; trained on 2012-2014, scored on 2015.
- seattle-hourly: Seattle's hourly temperature in 2010, horizons 1 and 24; trained on January to
  October, scored on November and December. SOURCE.md: these are smooth, like climate normals,
  so this is a check that the daily cycle is learnt, not evidence of skill.
- wti: WTI crude daily closes 1986-2019, horizons 1 and 5; trained up to 2017-12-31, scored on
  2018 (close to a random walk: persistence is hard to beat).

Each model is trained with the task's defaults (early stopping on the latest windows of the
training part: the task's temporal split) and the window the task picks for the data's interval.
The test file holds that many rows before the scored stretch, so every scored target lies in it.
Needs ../shared/datasets (never in CI); skips with a message when it is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.datasets import DATASETS, located


@dataclass(frozen=True)
class Case:
    name: str
    frame: "pd.DataFrame"  # columns: date (ISO), the target, covariates
    target: str
    covariates: tuple[str, ...]
    test_from: str  # the first scored time
    window: int  # the task's default for the data's interval, stated so the test context fits it
    horizons: tuple[int, ...]


def cases(only: set[str] | None) -> list[Case]:
    found = []
    if located("forecast"):
        daily = pd.read_csv(DATASETS / "forecast" / "seattle-weather.csv")
        daily["date"] = pd.to_datetime(daily["date"], format="%Y/%m/%d").dt.strftime("%Y-%m-%d")
        found.append(Case("seattle-daily", daily[["date", "temp_max", "precipitation", "wind"]], "temp_max", ("precipitation", "wind"), "2015-01-01", 28, (1, 7)))
        hourly = pd.read_csv(DATASETS / "forecast" / "seattle-temps.csv")
        hourly["date"] = pd.to_datetime(hourly["date"], format="%Y/%m/%d %H:%M").dt.strftime("%Y-%m-%dT%H:%M")
        found.append(Case("seattle-hourly", hourly[["date", "temp"]], "temp", (), "2010-11-01", 48, (1, 24)))
    if located("finance_anomaly"):
        with gzip.open(DATASETS / "finance_anomaly" / "pypi_unlabelled" / "arch" / "wti.csv.gz", "rt") as handle:
            wti = pd.read_csv(handle, dtype=str)
        wti = wti[wti["DCOILWTICO"].str.strip() != "."]  # FRED writes "." for a day without a price (holidays)
        wti = pd.DataFrame({"date": pd.to_datetime(wti["Date"], format="%m/%d/%Y").dt.strftime("%Y-%m-%d"), "close": wti["DCOILWTICO"]})
        found.append(Case("wti", wti[wti["date"] < "2019-01-01"], "close", (), "2018-01-01", 28, (1, 5)))
    return [c for c in found if only is None or c.name in only]


def run(case: Case, horizon: int, folder: Path, epochs: int | None) -> dict:
    from seqtool import pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    first_scored = int((case.frame["date"] < case.test_from).sum())
    train, test = folder / "train.csv", folder / "test.csv"
    case.frame.iloc[:first_scored].to_csv(train, index=False)
    case.frame.iloc[first_scored - case.window :].to_csv(test, index=False)
    task = registry().task("forecast")
    options = {"target_col": case.target, "covariate_col": ",".join(case.covariates) or None, "horizon": horizon, "window": case.window}
    settings = Settings().merged(task.defaults).merged({"epochs": epochs} if epochs else {})
    started = time.perf_counter()
    card = pipeline.train(task, str(train), None, folder / "f.model", settings, options, quiet=True)
    seconds = time.perf_counter() - started
    with contextlib.redirect_stdout(io.StringIO()):
        report = pipeline.evaluate(task, folder / "f.model", str(test), {}, as_json=True, quiet=True)
    return {"metrics": report["metrics"], "seconds": seconds, "epochs": len(card.members[0].history), "best": card.members[0].best_epoch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated cases: seattle-daily, seattle-hourly, wti")
    parser.add_argument("--epochs", type=int, help="override the task's epochs (a quick look)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    chosen = cases(set(args.only.split(",")) if args.only else None)
    if not chosen:
        sys.exit(0)
    print("| series | H | model MAE | persistence MAE | seasonal naive MAE | model MASE | model sMAPE | targets | epochs (best) | train s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in chosen:
        for horizon in case.horizons:
            with tempfile.TemporaryDirectory(prefix="seqtool-bench-forecast-") as folder:
                result = run(case, horizon, Path(folder), args.epochs)
            table = result["metrics"]["baselines"]
            print(
                f"| {case.name} | {horizon} | {table['model']['mae']:.3f} | {table['persistence']['mae']:.3f} | {table['seasonal_naive']['mae']:.3f} "
                f"| {table['model']['mase']:.3f} | {table['model']['smape']:.4f} | {result['metrics']['count']:,} | {result['epochs']} ({result['best']}) | {result['seconds']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
