"""The command line's contract: fast light start-up, exit codes, one-line errors, pipes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import run_seqtool

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


def test_predict_into_head_ends_quietly(trained_sentiment, tmp_path):
    lines = tmp_path / "many.txt"
    lines.write_text("a fine film .\n" * 5000)
    pipeline = subprocess.run(
        f"{sys.executable} -m seqtool run sentiment predict -m {trained_sentiment} {lines} | head -1",
        shell=True, capture_output=True, text=True,
    )
    assert pipeline.returncode == 0
    assert pipeline.stdout.count("\n") == 1 and json.loads(pipeline.stdout)["label"]
    assert pipeline.stderr == ""


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
