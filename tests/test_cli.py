"""The command line's contract: fast light start-up, exit codes, one-line errors, pipes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_seqtool

SEQTOOL = f"{sys.executable} -m seqtool"
ONE_THREAD = {**{k: v for k, v in os.environ.items() if k != "SEQTOOL_DEBUG"}, "OMP_NUM_THREADS": "1"}
HEAVY = ("torch", "pandas", "seqtool_sentiment", "seqtool_protein", "seqtool_behaviour", "seqtool_finance")


def imported_by(*args: str) -> set[str]:
    """Top-level modules that `seqtool ARGS` imports (read from -X importtime)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "seqtool", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    return {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_help_plugins_and_run_help_import_nothing_heavy():
    for args in (["--help"], ["plugins"], ["run", "--help"], ["run"]):
        heavy = imported_by(*args) & set(HEAVY)
        assert not heavy, f"`seqtool {' '.join(args)}` imported {sorted(heavy)}"


def test_version_and_task_listing():
    assert run_seqtool("--version").stdout.startswith("seqtool ")
    listing = run_seqtool("run").stdout
    for task in ("sentiment", "protein-ss", "behaviour", "finance-anomaly"):
        assert task in listing


def test_usage_error_exits_2():
    result = run_seqtool("run", "sentiment", "train")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_unknown_task_is_one_line_exit_1():
    result = run_seqtool("run", "no-such-task", "demo")
    assert result.returncode in (1, 2)
    assert "no-such-task" in result.stderr and "Traceback" not in result.stderr


def test_missing_data_file_is_one_line_naming_it(tmp_path):
    result = run_seqtool("run", "sentiment", "train", str(tmp_path / "absent.csv"), "-o", str(tmp_path / "m.model"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "absent.csv" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.model").exists()


def test_debug_shows_traceback(tmp_path):
    result = run_seqtool("info", str(tmp_path / "absent.model"), env={"SEQTOOL_DEBUG": "1"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_info_of_a_trained_model(trained_sentiment):
    result = run_seqtool("info", str(trained_sentiment), "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["task"] == "sentiment" and card["plugin"] == "seqtool_sentiment"
    assert card["settings"]["hidden"] == 16
    assert {"seqtool_version", "torch_version", "training", "metrics"} <= set(card)
    assert 0.0 <= card["metrics"]["accuracy"] <= 1.0


SAMPLES = Path(__file__).resolve().parent.parent / "plugins"
PREDICT_INPUT = {
    "sentiment": SAMPLES / "seqtool_sentiment" / "sample_data" / "test.csv",
    "protein-ss": SAMPLES / "seqtool_protein" / "sample_data" / "query.fasta",
    "behaviour": SAMPLES / "seqtool_behaviour" / "sample_data" / "history.csv",
    "finance-anomaly": SAMPLES / "seqtool_finance" / "sample_data" / "test.csv",
    "forecast": SAMPLES / "seqtool_forecast" / "sample_data" / "test.csv",
    "textgen": SAMPLES / "seqtool_textgen" / "sample_data" / "prompts.txt",
}


def shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    """``command`` in bash with pipefail, so a pipeline's status is its first failure's."""
    return subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True, env=ONE_THREAD, **kwargs)


@pytest.mark.parametrize("task", list(PREDICT_INPUT))
def test_predict_into_head_exits_0_quietly_for_every_task(task, task_models, tmp_path):
    data = PREDICT_INPUT[task]
    if task == "sentiment":  # long enough that head leaves while results are still coming
        (tmp_path / "many.txt").write_text("a fine film .\n" * 5000)
        data = tmp_path / "many.txt"
    pipeline = shell(f"{SEQTOOL} run {task} predict -m {task_models[task]} {data} | head -1")
    assert pipeline.returncode == 0, pipeline.stderr
    assert pipeline.stdout.count("\n") == 1 and pipeline.stderr == ""


def test_a_closed_stdout_or_stdin_is_quiet_and_exit_0(trained_sentiment, tmp_path):
    (tmp_path / "in.txt").write_text("a fine film .\n")
    closed = shell(f"{SEQTOOL} run sentiment predict -m {trained_sentiment} {tmp_path / 'in.txt'} -q >&-")
    assert (closed.returncode, closed.stderr) == (0, "")
    no_input = shell(f"{SEQTOOL} run sentiment predict -m {trained_sentiment} <&-")
    assert no_input.returncode == 0 and no_input.stderr == "<stdin>: no records to predict\n"


def test_a_closed_or_vanished_stderr_never_stops_training(sentiment_csv, tmp_path):
    train = f"{SEQTOOL} run sentiment train {sentiment_csv} --epochs 2 --hidden 8 --ensemble 1"
    closed = shell(f"{train} -o {tmp_path / 'closed.model'} 2>&-")
    assert closed.returncode == 0 and (tmp_path / "closed.model").is_file()
    gone = shell(f"{train} -o {tmp_path / 'gone.model'} 2> >(head -c 1 >/dev/null)")  # the reader leaves after a byte
    assert gone.returncode == 0 and (tmp_path / "gone.model").is_file()


def _terminated_once(args: list[str], cwd: Path, ready) -> tuple[int, str]:
    """``seqtool ARGS`` sent SIGTERM as soon as ``ready()``: (exit code, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "seqtool", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ONE_THREAD)
    while not ready(process) and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stderr = process.stderr.read()
    return process.wait(timeout=60), stderr


def test_sigterm_stops_like_ctrl_c(sentiment_csv, trained_sentiment, tmp_path):
    model = tmp_path / "m.model"
    model.write_bytes(b"the model that was here")
    train = ["run", "sentiment", "train", str(sentiment_csv), "-o", str(model), "--epochs", "500", "--hidden", "8", "--ensemble", "1"]
    code, stderr = _terminated_once(train, tmp_path, ready=lambda process: process.stderr.readline().startswith("epoch 1:"))
    assert code == 143, stderr
    *epochs, last = stderr.splitlines()  # an epoch may end while the signal is on its way
    assert last.startswith("seqtool: terminated (SIGTERM): training interrupted: no model written") and all(line.startswith("epoch ") for line in epochs)
    assert model.read_bytes() == b"the model that was here"
    (tmp_path / "many.txt").write_text("a fine film .\n" * 200000)
    predict = ["run", "sentiment", "predict", "-m", str(trained_sentiment), "many.txt", "-o", "scored.jsonl", "--threads", "1"]
    code, stderr = _terminated_once(predict, tmp_path, ready=lambda process: any(tmp_path.glob(".scored.jsonl.*.partial")))
    assert (code, stderr) == (143, "seqtool: terminated (SIGTERM)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.model", "many.txt"]  # no partial output, no temporary file


def test_evaluate_json_shape(trained_sentiment, sentiment_csv):
    result = run_seqtool("run", "sentiment", "evaluate", "-m", str(trained_sentiment), str(sentiment_csv), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["task"] == "sentiment"
    assert 0.0 <= report["metrics"]["accuracy"] <= 1.0
    assert sum(map(sum, report["metrics"]["confusion"]["matrix"])) == report["metrics"]["count"]


def test_model_for_another_task_is_refused(trained_sentiment, tmp_path):
    result = run_seqtool("run", "protein-ss", "predict", "-m", str(trained_sentiment), "-", input=">x\nACDE\n")
    assert result.returncode == 1
    assert "sentiment" in result.stderr and "Traceback" not in result.stderr


def test_config_file_and_flags_override_it(tmp_path, sentiment_csv):
    config = tmp_path / "settings.toml"
    config.write_text('hidden = 12\nepochs = 1\ncell = "gru"\n')
    model = tmp_path / "m.model"
    result = run_seqtool("run", "sentiment", "train", str(sentiment_csv), "-o", str(model), "--config", str(config), "--hidden", "8", "-q")
    assert result.returncode == 0, result.stderr
    settings = json.loads(run_seqtool("info", str(model), "--json").stdout)["settings"]
    assert (settings["hidden"], settings["epochs"], settings["cell"]) == (8, 1, "gru")
    config.write_text("hiden = 3\n")
    result = run_seqtool("run", "sentiment", "train", str(sentiment_csv), "-o", str(model), "--config", str(config))
    assert result.returncode == 2 and "hiden" in result.stderr
