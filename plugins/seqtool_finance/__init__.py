"""seqtool plugin ``finance-anomaly``: flag anomalies in price and volume series.

An LSTM forecasts each series' next value from a sliding window; unusually large forecast errors,
smoothed and normalised, are anomalies (telemanom, Hundman et al. 2018). This module stays light
(no torch): the work is in :mod:`seqtool_finance.adapter`, imported when the task runs.
"""

from __future__ import annotations

from pathlib import Path

import click

import seqtool
from seqtool import Column, SampleData, Task, option

SAMPLES = Path(__file__).parent / "sample_data"

TASK = Task(
    name="finance-anomaly",
    description=(
        "Price/volume series -> anomaly score and flag per row. Reads csv/tsv/jsonl with a timestamp "
        "column, value column(s) and optionally a symbol column (many series in one file)."
    ),
    adapter="seqtool_finance.adapter:FinanceAdapter",
    sample_data=SampleData(
        train=SAMPLES / "train.csv", valid=SAMPLES / "valid.csv", test=SAMPLES / "test.csv", predict=SAMPLES / "test.csv"
    ),
    defaults={
        "cell": "lstm",
        "hidden": 32,
        "layers": 1,
        "dropout": 0.0,
        "epochs": 15,
        "patience": 3,
        "batch_size": 64,
        "lr": 3e-3,
        "weight_decay": 0.0,
    },
    # a window of numeric rows in, one forecast out
    input="features",
    output="pooled",
    # the windows overlap: a random hold-out would validate on rows the model trained on
    split="temporal",
    columns=[
        Column("time", ("timestamp", "date", "time", "datetime"), what="timestamp"),
        Column("symbol", ("ticker",), what="symbol", needed="optional"),  # many series in one file
    ],
    options=[
        # several columns may be named, so --value-col is the plugin's own (seqtool.find_value_columns)
        option("--value-col", help="Numeric column(s) to model, comma-separated (found automatically: value, close, adj close, price, volume)."),
        option("--transform", verbs=("train",), type=click.Choice(["auto", "logret", "log1p", "diff", "none"]), help="Make the series stationary: log-returns for prices, log1p for counts and volumes (default auto: log1p for non-negative whole numbers, logret for positive values, else none)."),
        option("--window", verbs=("train",), type=click.IntRange(2), help="Rows of history each forecast sees (default 48)."),
        option("--smoothing", verbs=("train",), type=click.IntRange(1), help="EWMA span, in rows, for smoothing forecast errors (default 1: raw errors)."),
        option("--error-span", verbs=("train",), type=click.IntRange(1), help="EWMA span, in rows, of the recent error level each error is compared with (default: the window)."),
        option("--refractory", type=click.IntRange(0), help="Flag a row only if it also scores higher than the previous N rows of its series, so one anomaly is not flagged on every row (default 6 windows; 0 = off)."),
        option("--threshold-quantile", type=click.FloatRange(0, 1), help="Flag scores above this quantile of the training scores instead of telemanom's dynamic threshold (e.g. 0.995)."),
        option("--on-bad", type=click.Choice(["error", "skip"]), help="Rows with a missing, non-numeric, NaN or infinite value: stop with an error (default) or skip them: counted, left out of training, written by predict with an empty score and a note."),
        option("--sort", is_flag=True, default=None, help="Sort rows by time (per series) first, so that out-of-order rows are used in their place instead of left unscored with a note; reads the whole input first and writes it sorted."),
        option("--labels", verbs=("evaluate", "predict"), type=click.Path(exists=True, dir_okay=False), help='Labelled anomaly windows, NAB format {"file-or-series": [[start, end], ...]}: evaluate reports window F1 and the NAB score; --plot shades them.'),
        option("--labels", verbs=("demo",), type=click.Path(exists=True, dir_okay=False), default=str(SAMPLES / "windows.json"), show_default="the sample's labels", help="Labelled windows for the demo's evaluation."),
        option("--plot", verbs=("predict",), type=click.Path(dir_okay=False), help="Also draw the series with flagged rows to this PNG (needs matplotlib)."),
    ],
    output_format="csv",
    input_format="csv",
    examples=[
        "seqtool run finance-anomaly demo",
        "seqtool run finance-anomaly train prices.csv -o fa.model",
        "seqtool run finance-anomaly predict -m fa.model prices.csv > scored.csv",
        "seqtool run finance-anomaly predict -m fa.model prices.csv --plot anomalies.png",
        "tail -f ticks.csv | seqtool run finance-anomaly predict -m fa.model -",
        "seqtool run finance-anomaly evaluate -m fa.model series.csv --labels windows.json --json",
    ],
)


@seqtool.hookimpl
def register_tasks(register):
    register(TASK)
