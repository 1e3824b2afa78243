"""The forecast task: windows over many series, the next H values of each target, errors beside
persistence and seasonal naive, and the timestamps of what it forecasts. Data made here."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import torch

import seqtool

from conftest import run_seqtool
from seqtool.testing import assert_model_roundtrip, run_end_to_end
from seqtool.types import Batch
from seqtool_forecast import calendar
from seqtool_forecast.metrics import ForecastMetrics, Window

START = datetime(2024, 3, 1)


def write_hourly(path: Path, hours: int, series: dict[str, float], *, skip: set[int] = frozenset()) -> Path:
    """Each series a daily cycle around its own level (plus a covariate, the hour's cloud cover),
    hours in ``skip`` left out (gaps)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["station", "timestamp", "temp", "humidity", "cloud"])
        for name, level in series.items():
            for hour in range(hours):
                if hour in skip:
                    continue
                cycle = math.sin(2 * math.pi * hour / 24)
                writer.writerow([name, (START + timedelta(hours=hour)).isoformat(), round(level + 5 * cycle, 3), round(60 - 10 * cycle, 3), hour % 3])
    return path


def test_trains_evaluates_and_forecasts_every_series_h_steps_ahead_with_their_times(tmp_path):
    data = write_hourly(tmp_path / "hourly.csv", 24 * 12, {"north": 10.0, "south": 20.0})
    result = run_end_to_end("forecast", data, tmp_path=tmp_path, settings={"epochs": 2, "hidden": 8}, options={"horizon": 3, "target_col": "temp,humidity", "covariate_col": "cloud"})
    metrics = result.metrics
    assert set(metrics["baselines"]) == {"model", "persistence", "seasonal_naive"}
    assert set(metrics["baselines"]["model"]) == {"mae", "rmse", "mase", "smape"}
    assert list(metrics["mae_by_step"]) == ["t+1", "t+2", "t+3"]
    # the data repeats every 24 hours exactly: seasonal naive is perfect, persistence is not
    assert metrics["baselines"]["seasonal_naive"]["mae"] == pytest.approx(0, abs=1e-3)
    assert metrics["baselines"]["persistence"]["mae"] > 1
    assert [p["series"] for p in result.predictions] == ["north", "south"]
    last = START + timedelta(hours=24 * 12 - 1)
    for prediction in result.predictions:
        assert prediction["time"] == [(last + timedelta(hours=h)).isoformat() for h in (1, 2, 3)]
        assert len(prediction["temp"]) == len(prediction["humidity"]) == 3 and "cloud" not in prediction
    assert_model_roundtrip(result.model_path, "forecast")
    # the network corrects the naive forecast that did best on the training data: here, a day ago
    assert seqtool.load(result.model_path).adapter.seasonal_steps == [True, True, True]


def test_metrics_follow_their_definitions_on_a_hand_computed_case():
    # one target, unscaled (centre 0, scale 1), horizon 2, in-sample naive MAE 2; the window ends
    # at 4, so persistence forecasts 4, 4; targets 5, 2 and model 6, 2 are given as changes from
    # the reference, here persistence
    metrics = ForecastMetrics(2, [0.0], [1.0], [2.0])
    window = Window("s", None, torch.tensor([4.0]), torch.tensor([[3.0], [5.0]]), torch.tensor([[4.0], [4.0]]))
    batch = Batch(torch.tensor([[[1.0], [4.0]]]), torch.tensor([2]), torch.tensor([[1.0, -2.0]]), torch.ones(1, 2, dtype=torch.bool), [window])
    metrics.update(torch.tensor([[2.0, -2.0]]), batch)
    result = metrics.compute()
    model = result["baselines"]["model"]  # errors 1 and 0
    assert model["mae"] == pytest.approx(0.5) and model["rmse"] == pytest.approx(math.sqrt(0.5))
    assert model["mase"] == pytest.approx(0.25)
    assert model["smape"] == pytest.approx((2 * 1 / 11 + 0) / 2)
    assert result["baselines"]["persistence"]["mae"] == pytest.approx((1 + 2) / 2)
    assert result["baselines"]["seasonal_naive"]["mae"] == pytest.approx((2 + 3) / 2)
    assert result["mae_by_step"] == {"t+1": pytest.approx(1.0), "t+2": pytest.approx(0.0)}


def test_the_season_is_the_data_s_own_cycle():
    hourly = [[math.sin(2 * math.pi * h / 24) + 0.01 * h for h in range(24 * 30)]]
    assert calendar.best_season(hourly, calendar.seasons_for(3600)) == 24
    weekly = [[5.0 if d % 7 in (5, 6) else 1.0 + 0.001 * d for d in range(800)]]
    assert calendar.best_season(weekly, calendar.seasons_for(86400)) == 7
    assert calendar.best_season([[1.0, 2.0]], [7, 365]) == 1  # too short to tell


def test_calendar_features_put_late_night_next_to_midnight():
    late, midnight, noon = (calendar.calendar(datetime(2024, 1, 1, h), ["hour"]) for h in (23, 0, 12))
    assert math.dist(late, midnight) < math.dist(noon, midnight)


def test_gaps_and_short_series_are_reported_not_fatal(tmp_path):
    data = write_hourly(tmp_path / "gappy.csv", 24 * 8, {"long": 10.0}, skip={50, 51, 52})
    with open(data, "a", newline="") as handle:  # a series of three rows cannot fill a window
        csv.writer(handle).writerows(["tiny", (START + timedelta(hours=h)).isoformat(), 1.0, 50.0, 0] for h in range(3))
    model = tmp_path / "f.model"
    trained = run_seqtool("run", "forecast", "train", str(data), "-o", str(model), "--epochs", "1", "--hidden", "4")
    assert trained.returncode == 0, trained.stderr
    assert "1 series shorter than the window and horizon (48+1 rows) left out: tiny" in trained.stderr
    assert "1 gap(s) longer than 1.5x the usual interval of 3600 s" in trained.stderr
    predicted = run_seqtool("run", "forecast", "predict", "-m", str(model), str(data))
    assert predicted.returncode == 0, predicted.stderr
    assert [json.loads(line)["series"] for line in predicted.stdout.splitlines()] == ["long"]


def test_csv_output_has_one_row_per_series_and_step(tmp_path):
    data = write_hourly(tmp_path / "hourly.csv", 24 * 5, {"north": 10.0, "south": 20.0})
    model = tmp_path / "f.model"
    trained = run_seqtool("run", "forecast", "train", str(data), "-o", str(model), "--epochs", "1", "--hidden", "4", "--horizon", "2", "--window", "12")
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "next.csv"
    predicted = run_seqtool("run", "forecast", "predict", "-m", str(model), str(data), "-o", str(out))
    assert predicted.returncode == 0, predicted.stderr
    rows = list(csv.reader(out.open()))
    last = START + timedelta(hours=24 * 5 - 1)
    assert rows[0] == ["series", "time", "temp"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(s, (last + timedelta(hours=h)).isoformat()) for s in ("north", "south") for h in (1, 2)]

