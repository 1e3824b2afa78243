"""finance-anomaly: the NAB scorer and thresholds on hand-made cases, and the real CLI on series
made here (train, predict, streaming from a pipe, evaluate with labels, bad input, and rows it
cannot score, each of which still gets its output row)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import run_seqtool

from seqtool_finance import nab
from seqtool_finance.scoring import Calibration, Scorer, dynamic_threshold

TINY = ("--epochs", "2", "--hidden", "16", "--window", "16", "-q")
START = datetime(2024, 3, 1)
SPIKE_ROW = 260
#: the rows of a series the model (log-returns, a 16-row window) cannot score yet
WARM_UP = 17


def stamp(i: int) -> str:
    return (START + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")


def series(rows: int, seed: int, spike_at: int | None = None) -> list[float]:
    """A positive random walk, with one large spike that reverts when asked."""
    rng = random.Random(seed)
    price, values = 50.0, []
    for i in range(rows):
        price *= math.exp(rng.gauss(0, 0.003))
        values.append(round(price * (1.25 if i == spike_at else 1.0), 3))
    return values


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finance")
    # two series interleaved by time, as exported price files are: training handles many series
    rows = [[stamp(i), symbol, v] for symbol, seed in (("AAA", 1), ("BBB", 9)) for i, v in enumerate(series(300, seed))]
    write_csv(folder / "train.csv", ["date", "ticker", "price"], sorted(rows, key=lambda r: r[0]))
    test = series(400, seed=2, spike_at=SPIKE_ROW)
    write_csv(folder / "test.csv", ["timestamp", "close"], [[stamp(1000 + i), v] for i, v in enumerate(test)])
    (folder / "windows.json").write_text(json.dumps({"test.csv": [[stamp(1000 + SPIKE_ROW - 10), stamp(1000 + SPIKE_ROW + 10)]]}))
    return folder


@pytest.fixture(scope="module")
def model(data: Path) -> Path:
    path = data / "fa.model"
    result = run_seqtool("run", "finance-anomaly", "train", str(data / "train.csv"), "-o", str(path), *TINY)
    assert result.returncode == 0, result.stderr
    return path


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def predicted(model: Path, data: Path, *options: str) -> tuple[list[dict[str, str]], str]:
    """predict's rows and its stderr (not quiet: the counts by note are there)."""
    result = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(data), *options)
    assert result.returncode == 0, result.stderr
    return read_rows(result.stdout), result.stderr


# -- the NAB scorer and the threshold, on cases worked out by hand ------------------------------


def test_nab_rewards_early_detection_and_normalises_between_null_and_perfect():
    profile = nab.PROFILES["standard"]
    rows = nab.sweep_rows(100, [(40, 59)], profile)  # probation: the first 15 rows
    assert min(r.index for r in rows) == 15
    nothing = nab.score_detections(rows, [False] * 100, profile)
    at_left_edge = nab.score_detections(rows, [i == 40 for i in range(100)], profile)
    late = nab.score_detections(rows, [i == 58 for i in range(100)], profile)
    assert nothing.score == pytest.approx(-1.0)
    assert at_left_edge.score == pytest.approx(1.0)
    assert 0 < late.score < at_left_edge.score
    assert nab.normalised(nothing.score, 1, profile) == pytest.approx(0.0)
    assert nab.normalised(at_left_edge.score, 1, profile) == pytest.approx(100.0)


def test_nab_false_positives_cost_fp_weight_far_from_windows_and_less_right_after_one():
    profile = nab.PROFILES["standard"]
    rows = nab.sweep_rows(200, [(40, 59)], profile)
    before = nab.score_detections(rows, [i == 30 for i in range(200)], profile)
    just_after = nab.score_detections(rows, [i == 61 for i in range(200)], profile)
    far_after = nab.score_detections(rows, [i == 190 for i in range(200)], profile)
    assert before.score == pytest.approx(-1.0 - 0.11)
    assert far_after.score == pytest.approx(-1.0 - 0.11)
    assert -1.11 < just_after.score < -1.0
    assert before.false_positives == 1 and before.true_positives == 0


def test_best_threshold_picks_the_cut_between_the_window_and_the_noise():
    profile = nab.PROFILES["standard"]
    rows = nab.sweep_rows(100, [(40, 59)], profile)
    scores = [0.1] * 100
    scores[45], scores[80], scores[90] = 0.9, 0.5, 0.4
    threshold, raw = nab.best_threshold([(rows, scores)], profile)
    assert threshold == 0.9
    assert raw == pytest.approx(nab.score_detections(rows, [s >= 0.9 for s in scores], profile).score)


def test_the_refractory_period_flags_an_event_once_unless_it_grows():
    calibration = Calibration(smoothing=1, error_span=1000, initial_level=1.0, ratio_mean=1.0, ratio_sd=1.0, threshold=3.0, quantiles=[])
    errors = [1.0] * 20 + [8.0, 8.0, 8.0, 30.0] + [1.0] * 30 + [8.0]

    def flags(refractory: int) -> list[int]:
        scorer = Scorer(calibration, calibration.threshold, refractory)
        return [i for i, error in enumerate(errors) if scorer("s", error)[1]]

    assert flags(0) == [20, 21, 22, 23, 54]
    assert flags(20) == [20, 23, 54]  # the repeats are dropped, not the growth nor a new event 20+ rows on


def test_dynamic_threshold_separates_a_burst_from_ordinary_errors():
    rng = random.Random(0)
    errors = [abs(rng.gauss(0, 1)) for _ in range(2000)]
    errors[1500:1505] = [12.0] * 5
    threshold = dynamic_threshold(errors)
    assert max(errors[:1500]) < threshold <= 12.0


def test_errors_that_never_vary_get_a_finite_threshold_that_flags_a_change():
    calibration = Calibration.fit([[0.5] * 200], smoothing=1, error_span=20, quantile=None)
    assert math.isfinite(calibration.threshold)
    scorer = Scorer(calibration, calibration.threshold, 0)
    flags = [scorer("s", error)[1] for error in [0.5] * 50 + [40.0]]
    assert flags == [False] * 50 + [True]  # the constant part is quiet, the jump is flagged


# -- the command line --------------------------------------------------------------------------


def test_predict_scores_every_row_and_flags_the_spike(model: Path, data: Path):
    result = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(data / "test.csv"), "-q")
    assert result.returncode == 0, result.stderr
    rows = read_rows(result.stdout)
    assert len(rows) == 400
    assert list(rows[0]) == ["timestamp", "value", "score", "is_anomaly", "note"]
    # log-returns need one previous row, then the window must fill: 17 rows without a score
    assert all(r["score"] == "" and r["note"] == "in the first window" for r in rows[:WARM_UP])
    assert all(r["score"] != "" and r["note"] == "" for r in rows[WARM_UP:])
    scores = [float(r["score"]) for r in rows[WARM_UP:]]
    assert max(range(len(scores)), key=scores.__getitem__) + WARM_UP in (SPIKE_ROW, SPIKE_ROW + 1)
    assert rows[SPIKE_ROW]["is_anomaly"] == "True"
    assert rows[SPIKE_ROW]["value"] == f"{series(400, seed=2, spike_at=SPIKE_ROW)[SPIKE_ROW]:g}"


def test_evaluate_with_nab_windows_reports_f1_and_nab_score(model: Path, data: Path):
    result = run_seqtool(
        "run", "finance-anomaly", "evaluate", "-m", str(model), str(data / "test.csv"), "--labels", str(data / "windows.json"), "--json", "-q"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["windows"] == 1 and metrics["windows_detected"] == 1
    assert metrics["window_recall"] == 1.0
    assert 0 < metrics["window_precision"] <= 1.0
    assert -100 < metrics["nab_standard"] <= 100
    assert metrics["rows"] == 400


def flagged_rate(model: Path, data: Path, *options: str) -> float:
    """evaluate without labels: the share of rows flagged (and no label-based metrics)."""
    result = run_seqtool("run", "finance-anomaly", "evaluate", "-m", str(model), str(data / "test.csv"), *options, "--json", "-q")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert "nab_standard" not in metrics
    assert metrics["flagged_rate"] == pytest.approx(metrics["flagged"] / 400)
    return metrics["flagged_rate"]


def test_a_lower_threshold_quantile_flags_more(model: Path, data: Path):
    strict = flagged_rate(model, data, "--threshold-quantile", "0.999", "--refractory", "0")
    loose = flagged_rate(model, data, "--threshold-quantile", "0.9", "--refractory", "0")
    assert strict < loose


def test_streaming_predict_scores_rows_while_the_pipe_stays_open(model: Path):
    env = {k: v for k, v in os.environ.items() if k != "SEQTOOL_DEBUG"}
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtool", "run", "finance-anomaly", "predict", "-m", str(model), "-", "-q"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env,
    )
    try:
        values = series(30, seed=3)
        process.stdin.write("timestamp,close\n")
        for i, value in enumerate(values):
            process.stdin.write(f"{stamp(i)},{value}\n")
        process.stdin.flush()
        lines = [process.stdout.readline() for _ in range(31)]  # header + 30 rows, stdin still open
        assert lines[0].strip() == "timestamp,value,score,is_anomaly,note"
        assert lines[-1].startswith(stamp(29)) and lines[-1].split(",")[2] != ""
        process.stdin.write(f"{stamp(30)},{values[-1]}\n")
        process.stdin.flush()
        assert process.stdout.readline().startswith(stamp(30))  # scored on arrival
        assert process.poll() is None
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0, process.stderr.read()


def test_many_series_in_one_file_by_symbol(model: Path, tmp_path: Path):
    rows = [[stamp(i), symbol, v] for symbol, seed in (("AAA", 4), ("BBB", 5)) for i, v in enumerate(series(120, seed))]
    data = write_csv(tmp_path / "prices.csv", ["date", "ticker", "price"], sorted(rows, key=lambda r: r[0]))
    result = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(data), "--format", "jsonl", "-q")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 240 and {r["symbol"] for r in out} == {"AAA", "BBB"}
    for symbol in ("AAA", "BBB"):
        mine = [r for r in out if r["symbol"] == symbol]
        assert [r["score"] is None for r in mine] == [True] * WARM_UP + [False] * (120 - WARM_UP)
        assert [r["timestamp"] for r in mine] == [stamp(i) for i in range(120)]


def test_a_bad_value_stops_with_the_line_unless_skipped_and_then_gets_its_row_with_a_note(model: Path, tmp_path: Path):
    rows = [[stamp(i), v] for i, v in enumerate(series(40, seed=6))]
    nan = write_csv(tmp_path / "nan.csv", ["timestamp", "close"], [r if i != 20 else [r[0], "nan"] for i, r in enumerate(rows)])
    failed = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(nan))
    assert failed.returncode == 1
    assert f"{nan}:22:" in failed.stderr and "--on-bad skip" in failed.stderr

    messy = [list(r) for r in rows]
    messy[20][1], messy[25][1] = "nan", "n/a"
    messy[10], messy[11] = messy[11], messy[10]
    messy.insert(30, list(messy[29]))
    data = write_csv(tmp_path / "messy.csv", ["timestamp", "close"], messy)
    out, stderr = predicted(model, data, "--on-bad", "skip")
    assert [r["timestamp"] for r in out] == [r[0] for r in messy]
    notes = {i: r["note"] for i, r in enumerate(out) if r["note"] not in ("", "in the first window")}
    bad = "missing or not a finite number"
    assert notes == {11: "earlier than the previous row", 20: bad, 25: bad, 30: "repeats the previous timestamp"}
    assert [out[20]["value"], out[25]["value"]] == ["nan", "n/a"] and out[20]["score"] == out[25]["score"] == ""
    assert f"skipped 2 record(s) from scoring: {bad}" in stderr

    # --sort puts the late row in its place: it is then scored like any other
    out, _ = predicted(model, data, "--on-bad", "skip", "--sort")
    assert [r["timestamp"] for r in out] == [stamp(i) for i in range(40) for _ in range(2 if i == 29 else 1)]
    assert sorted(r["note"] for r in out if r["note"] not in ("", "in the first window")) == [bad, bad, "repeats the previous timestamp"]


def test_repeated_timestamps_each_get_their_row_with_a_note(model: Path, tmp_path: Path):
    values = series(60, seed=11)
    rows = [[stamp(i), v] for i, v in enumerate(values)]
    rows[30:30] = [[stamp(29), round(values[29] + 1, 3)], [stamp(29), round(values[29] - 1, 3)]]
    rows.insert(50, [stamp(47), values[47]])
    data = write_csv(tmp_path / "repeats.csv", ["timestamp", "close"], rows)
    out, stderr = predicted(model, data)
    assert [(r["timestamp"], float(r["value"])) for r in out] == [(t, v) for t, v in rows]
    repeated = [i for i, r in enumerate(out) if r["note"] == "repeats the previous timestamp"]
    assert repeated == [30, 31, 50] and all(out[i]["score"] == "" and out[i]["is_anomaly"] == "False" for i in repeated)
    assert out[32]["score"] != "" and out[51]["score"] != ""  # the series goes on from the row first given that time
    assert "skipped 3 record(s) from scoring: repeats the previous timestamp" in stderr
    assert f"skipped {WARM_UP} record(s) from scoring: in the first window" in stderr


def test_a_zero_after_all_positive_training_rows_gets_its_row_with_a_note(model: Path, tmp_path: Path):
    values = series(60, seed=12)
    values[40] = 0  # the model was trained on positive prices, so it forecasts log-returns
    data = write_csv(tmp_path / "zero.csv", ["timestamp", "close"], [[stamp(i), v] for i, v in enumerate(values)])
    out, stderr = predicted(model, data)
    assert [r["timestamp"] for r in out] == [stamp(i) for i in range(60)]
    note = "close outside log-returns' domain (values above 0)"
    assert (out[40]["value"], out[40]["score"], out[40]["note"]) == ("0", "", note)
    assert all(r["score"] != "" for r in out[41:])  # the next row's return is taken from row 39, the last usable one
    assert f"skipped 1 record(s) from scoring: {note}" in stderr


def test_an_hour_repeated_out_of_order_is_noted_in_arrival_order(model: Path, tmp_path: Path):
    values = series(80, seed=13)
    rows = [[stamp(i), v] for i, v in enumerate(values)]
    # after row 51, rows 40-51 (an hour of 5-minute rows) come again, as from a clock set back
    rows[52:52] = [[stamp(i), round(values[i] + 0.5, 3)] for i in range(40, 52)]
    data = write_csv(tmp_path / "hour.csv", ["timestamp", "close"], rows)
    out, stderr = predicted(model, data)
    assert [(r["timestamp"], float(r["value"])) for r in out] == [(t, v) for t, v in rows]
    assert [r["note"] for r in out[52:64]] == ["earlier than the previous row"] * 11 + ["repeats the previous timestamp"]
    assert all(r["score"] == "" for r in out[52:64]) and all(r["score"] != "" and r["note"] == "" for r in out[64:])
    assert "skipped 11 record(s) from scoring: earlier than the previous row" in stderr
    assert "skipped 1 record(s) from scoring: repeats the previous timestamp" in stderr


def test_training_leaves_rows_it_cannot_place_out_of_its_windows_and_says_so(tmp_path: Path):
    rows = [[stamp(i), v] for i, v in enumerate(series(120, seed=14))]
    rows.insert(60, list(rows[59]))
    rows[80], rows[81] = rows[81], rows[80]
    data = write_csv(tmp_path / "messy_train.csv", ["timestamp", "close"], rows)
    result = run_seqtool("run", "finance-anomaly", "train", str(data), "-o", str(tmp_path / "m.model"), *TINY[:-1])
    assert result.returncode == 0, result.stderr
    assert "skipped 1 record(s) from the training windows: repeats the previous timestamp" in result.stderr
    assert "skipped 1 record(s) from the training windows: earlier than the previous row" in result.stderr


def test_a_series_shorter_than_the_window_is_a_clear_error(model: Path, tmp_path: Path):
    short = write_csv(tmp_path / "short.csv", ["timestamp", "close"], [[stamp(i), v] for i, v in enumerate(series(12, seed=8))])
    predicted = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(short))
    assert predicted.returncode == 1
    assert "16-row window" in predicted.stderr and "Traceback" not in predicted.stderr
    trained = run_seqtool("run", "finance-anomaly", "train", str(short), "-o", str(tmp_path / "x.model"), *TINY)
    assert trained.returncode == 1
    assert "too few for a 16-row window" in trained.stderr


def test_plot_without_matplotlib_says_how_to_get_it(model: Path, data: Path, tmp_path: Path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("matplotlib is installed here; the missing-extra message cannot be seen")
    result = run_seqtool("run", "finance-anomaly", "predict", "-m", str(model), str(data / "test.csv"), "--plot", str(tmp_path / "a.png"))
    assert result.returncode == 1
    assert "pip install matplotlib" in result.stderr
