"""seqtool plugin ``forecast``: the next H values of one or many series from their recent past.

Each series (a city's temperatures, a product's demand) is read in time order; a recurrent network
reads the last N rows (the target columns, optional covariates such as precipitation, and the
position in the day, week and year) and forecasts the next H values of every target at once.
``evaluate`` reports MAE, RMSE, MASE and sMAPE beside persistence and seasonal-naive forecasts on
the same targets. This module stays light (no torch): the work is in :mod:`seqtool_forecast.adapter`.
"""

from __future__ import annotations

from pathlib import Path

import click

import seqtool
from seqtool import Column, SampleData, Task, option

SAMPLES = Path(__file__).parent / "sample_data"

TASK = Task(
    name="forecast",
    description="Series -> the next H values of each target column (many series per file, optional covariates).",
    adapter="seqtool_forecast.adapter:ForecastAdapter",
    sample_data=SampleData(train=SAMPLES / "train.csv", test=SAMPLES / "test.csv", predict=SAMPLES / "test.csv"),
    defaults={"cell": "gru", "hidden": 64, "layers": 1, "dropout": 0.0, "epochs": 30, "patience": 5, "batch_size": 64, "lr": 3e-3, "weight_decay": 0.0},
    input="features",
    output="pooled",  # the H values of each target, from the window's last state
    causal=True,  # reads the past forward: no --bidirectional
    split="temporal",  # without --valid, the latest windows of each series validate
    monitor=("mae", "min"),
    columns=[
        Column("series", ("city", "station", "symbol", "id", "series"), what="series id", needed="optional"),
        Column("time", ("date", "timestamp", "time", "datetime"), what="time"),
    ],
    options=[
        option("--target-col", verbs=("train", "evaluate", "predict"), help="Column(s) to forecast, comma-separated (found automatically: value, y, target, temperature, temp, temp_max, tmax, demand, load, close, price)."),
        option("--covariate-col", help="Extra input column(s) known in the past, comma-separated (e.g. precipitation,wind): read, not forecast."),
        option("--target-col", verbs=("demo",), default="temp_max", show_default="the sample's", help="Column(s) to forecast in the demo."),
        option("--covariate-col", verbs=("demo",), default="precipitation", show_default="the sample's", help="Covariate(s) in the demo."),
        option("--horizon", verbs=("train",), type=click.IntRange(1), help="Steps ahead to forecast (default 1)."),
        option("--window", verbs=("train",), type=click.IntRange(2), help="Steps of history per forecast (default from the data's interval: 48 for hourly data, 28 for daily, 104 for weekly, 24 for monthly)."),
    ],
    input_format="csv",
    # csv and tsv: one row per series and step ahead; jsonl (the default): one record per series
    writers={"csv": "seqtool_forecast.writers:StepsCsvWriter", "tsv": "seqtool_forecast.writers:StepsTsvWriter"},
    examples=[
        "seqtool run forecast demo",
        "seqtool run forecast train weather.csv -o w.model --target-col temp_max --covariate-col precipitation,wind --horizon 7",
        "seqtool run forecast evaluate -m w.model recent.csv",
        "seqtool run forecast predict -m w.model recent.csv > next_week.jsonl",
        "seqtool run forecast predict -m w.model recent.csv -o next_week.csv   # one row per series and day",
    ],
)


@seqtool.hookimpl
def register_tasks(register):
    register(TASK)
