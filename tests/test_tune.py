"""`seqtool run TASK tune`: a search writes the best model and settings that `train --config`
reads; a killed search resumes from its study; a diverging trial is pruned early; a grid search
visits exactly its grid. Tiny data and tiny models: every trial takes a fraction of a second."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import optuna
import pytest

import seqtool
from conftest import run_seqtool
from seqtool.errors import UsageError
from seqtool.training.artefact import read_card
from seqtool.tuning.study import STUDY_NAME

#: small and fast: two epochs of a few hidden units; the default space searches the rest
SPACE = """\
epochs = 2
hidden = {low = 4, high = 16}
embedding-dim = [4, 8]
"""


@pytest.fixture
def space(tmp_path: Path) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(SPACE)
    return path


def finished_trials(study: Path) -> list[optuna.trial.FrozenTrial]:
    """The complete and pruned trials of the study file (none while it is being created)."""
    try:
        found = optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{study}")
    except KeyError:
        return []
    return found.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))


def test_a_search_writes_the_best_model_and_settings_that_train_reads(tmp_path: Path, sentiment_csv: Path, space: Path):
    model = tmp_path / "best.model"
    result = run_seqtool("run", "sentiment", "tune", str(sentiment_csv), "-o", str(model), "--trials", "3", "--space", str(space))
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("trial ")] == ["trial 0", "trial 1", "trial 2"]
    card = read_card(model)
    search = card["search"]
    assert search["trials"]["complete"] + search["trials"]["pruned"] == 3 and search["metric"] == "accuracy"
    assert card["settings"]["hidden"] == search["params"]["hidden"] and card["settings"]["epochs"] == 2

    config = tomllib.loads((tmp_path / "best.toml").read_text())
    assert config["hidden"] == search["params"]["hidden"] and config["embedding-dim"] == search["params"]["embedding_dim"]
    again = tmp_path / "again.model"
    trained = run_seqtool("run", "sentiment", "train", str(sentiment_csv), "--config", str(tmp_path / "best.toml"), "-o", str(again), "-q")
    assert trained.returncode == 0, trained.stderr
    settings = read_card(again)["settings"]
    assert all(settings[name.replace("-", "_")] == value for name, value in config.items())


def test_a_killed_search_resumes_from_its_study(tmp_path: Path, sentiment_csv: Path, space: Path):
    study, model = tmp_path / "study.db", tmp_path / "best.model"
    command = [sys.executable, "-m", "seqtool", "run", "sentiment", "tune", str(sentiment_csv), "-o", str(model), "--space", str(space), "--study", str(study)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([*command, "--trials", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 120
        while not finished_trials(study) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    before = {t.number for t in finished_trials(study)}
    assert before, "the first run finished no trial in two minutes"
    assert not model.exists()  # killed: nothing written

    second = run_seqtool(*command[3:], "--trials", str(len(before) + 2))
    assert second.returncode == 0, second.stderr
    assert f"after the {len(before)} already in" in second.stderr
    after = {t.number for t in finished_trials(study)}
    assert before < after and len(after) == len(before) + 2
    assert read_card(model)["search"]["best_trial"] in after
    with pytest.raises(UsageError, match=r"searched another space \(epochs: 2 there, 3 here"):
        seqtool.tune("sentiment", sentiment_csv, model, study=study, space=tomllib.loads(SPACE.replace("epochs = 2", "epochs = 3")))


def test_a_diverging_trial_is_pruned_after_its_first_epoch(tmp_path: Path, sentiment_csv: Path):
    # No pruner: only divergence stops a trial, whichever runs first. The diverged model scores
    # better than chance here (a NaN model predicts one class), which is why it must not count.
    space = {"lr": [3e-3, 1e20], "epochs": 4, "patience": 4, "hidden": 8, "embedding_dim": 8}
    result = seqtool.tune("sentiment", sentiment_csv, tmp_path / "best.model", sampler="grid", pruner="none", space=space)
    by_lr = {t.params["lr"]: t for t in result.trials}
    assert by_lr[1e20].state == "pruned" and by_lr[1e20].epochs == 1
    assert by_lr[3e-3].state == "complete" and by_lr[3e-3].epochs == 4
    assert result.best.params == {"lr": 3e-3} and (tmp_path / "best.model").is_file()


def test_a_grid_search_visits_exactly_its_grid(tmp_path: Path, sentiment_csv: Path):
    grid = {"hidden": [4, 8], "cell": ["lstm", "gru"], "bidirectional": [False, True]}
    result = seqtool.tune("sentiment", sentiment_csv, tmp_path / "best.model", sampler="grid", space={**grid, "epochs": 1, "embedding_dim": 4})
    visited = sorted(tuple(t.params[name] for name in grid) for t in result.trials)
    assert visited == sorted(itertools.product(*grid.values()))
    assert all(t.state in ("complete", "pruned") for t in result.trials)


def test_a_space_that_does_not_fit_is_one_line_naming_the_key(tmp_path: Path, sentiment_csv: Path):
    output = tmp_path / "best.model"
    with pytest.raises(UsageError, match="hidden is a range; --sampler grid needs a list"):
        seqtool.tune("sentiment", sentiment_csv, output, sampler="grid", space={"hidden": {"low": 4, "high": 8}})
    with pytest.raises(UsageError, match="dropout: a log-scaled range must start above 0"):
        seqtool.tune("sentiment", sentiment_csv, output, space={"dropout": {"low": 0, "high": 0.5, "log": True}})
    with pytest.raises(UsageError, match="unknown key 'hiden'"):
        seqtool.tune("sentiment", sentiment_csv, output, space={"hiden": [4]})
    with pytest.raises(UsageError, match="layers = 0: expected a whole number >= 1"):
        seqtool.tune("sentiment", sentiment_csv, output, space={"layers": [0, 1]})
    with pytest.raises(UsageError, match="--metric macro_f1: say whether higher or lower is better"):
        seqtool.tune("sentiment", sentiment_csv, output, metric="macro_f1")
    assert not output.exists()


def test_tune_help_imports_neither_torch_nor_optuna():
    for args in (["run", "sentiment", "--help"], ["run", "sentiment", "tune", "--help"]):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "seqtool", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-500:]
        imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if line.startswith("import time:")}
        assert not imported & {"torch", "optuna"}, f"`seqtool {' '.join(args)}` imported {sorted(imported & {'torch', 'optuna'})}"
