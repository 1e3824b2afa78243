"""Shared fixtures: run the real `seqtool` command, and fake plugin distributions on disk."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_seqtool(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m seqtool ARGS`` in a subprocess, as a user or a shell pipeline would run it."""
    # One thread per process: these models are tiny, and several torch processes on two cores
    # otherwise spend their time fighting over them.
    full_env = {k: v for k, v in os.environ.items() if k != "SEQTOOL_DEBUG"} | {"OMP_NUM_THREADS": "1"} | (env or {})
    text = not isinstance(input, bytes)
    return subprocess.run(
        [sys.executable, "-m", "seqtool", *args], input=input, capture_output=True, text=text, env=full_env, cwd=cwd, timeout=300
    )


@pytest.fixture
def seqtool_cli():
    return run_seqtool


def write_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str], version: str = "1.0") -> Path:
    """A minimal installed distribution (a .dist-info folder plus modules) under ``root``;
    put ``root`` on PYTHONPATH and importlib.metadata finds its entry points like any other."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "\n".join(f"{task} = {target}" for task, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[seqtool]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    return root


@pytest.fixture
def plugin_path(tmp_path: Path):
    """Returns a function that writes a fake distribution and the env that makes it visible."""
    root = tmp_path / "site"

    def make(name: str, entry_points: dict[str, str], modules: dict[str, str], version: str = "1.0") -> dict[str, str]:
        write_distribution(root, name, entry_points, modules, version)
        return {"PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}

    return make


@pytest.fixture(scope="session")
def sentiment_csv(tmp_path_factory) -> Path:
    """A small labelled csv made here (not the plugin's sample), so tests do not depend on it."""
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    rows = ["text,label"]
    for i in range(60):
        rows.append(f"a truly great and lovely film number {i},pos")
        rows.append(f"an awful dull and boring film number {i},neg")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def trained_sentiment(tmp_path_factory, sentiment_csv) -> Path:
    model = tmp_path_factory.mktemp("models") / "sent.model"
    result = run_seqtool(
        "run", "sentiment", "train", str(sentiment_csv), "-o", str(model),
        "--epochs", "2", "--hidden", "16", "--embedding-dim", "16", "-q",
    )
    assert result.returncode == 0, result.stderr
    return model


#: the built-in tasks whose sample data hold a valid.csv, for tests that need a model of each
SAMPLE_FOLDERS = {
    "sentiment": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_sentiment" / "sample_data",
    "protein-ss": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_protein" / "sample_data",
    "behaviour": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_behaviour" / "sample_data",
    "finance-anomaly": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_finance" / "sample_data",
}


#: the settings of the tiniest model of any task (one epoch, four units, one member, one thread)
SMALLEST = ("--epochs", "1", "--hidden", "4", "--ensemble", "1", "--threads", "1", "-q")

#: a small training file from each built-in task's sample data
TRAINING_FILES = {
    **{task: folder / "valid.csv" for task, folder in SAMPLE_FOLDERS.items()},
    "forecast": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_forecast" / "sample_data" / "train.csv",
    "textgen": Path(__file__).resolve().parents[1] / "plugins" / "seqtool_textgen" / "sample_data" / "valid.txt",
}


@pytest.fixture(scope="session")
def task_models(tmp_path_factory) -> dict[str, Path]:
    """A tiny model of every built-in task, trained in this process on a file of its sample data
    (one torch import for all)."""
    folder = tmp_path_factory.mktemp("task-models")
    models = {}
    for task, training in TRAINING_FILES.items():
        models[task] = folder / f"{task}.model"
        code, _, stderr = invoke("run", task, "train", str(training), "-o", str(models[task]), *SMALLEST)
        assert code == 0, f"{task}: {stderr}"
    return models


# -- the bad-input tables (tests/test_bad_inputs*.py) ------------------------------------------

#: the content of the files a user already had, which no refused run may change
SENTINEL = b"a file the user had\n"


def invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """``seqtool ARGS`` in this process (Click's parsing and seqtool's error handling, without a
    process each): (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from seqtool.cli import run_cli

    with CliRunner().isolation(input=stdin) as (out, err, _):
        code = run_cli(list(args))
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")


def files_the_user_had(folder: Path) -> tuple[Path, Path]:
    """A predict output and a model file already in ``folder`` (content SENTINEL, mode 0640)."""
    kept = folder / "existing.jsonl", folder / "existing.model"
    for path in kept:
        path.write_bytes(SENTINEL)
        path.chmod(0o640)
    return kept


def assert_refused_cleanly(outcome: tuple[int, str, str], expected: int, names: list[str], kept: tuple[Path, ...], folder: Path, *, noise: str = "") -> None:
    """The promises every bad-input case checks: the exit code; no traceback; stderr names each of
    ``names``; a failure is one ``seqtool: error:`` line (``noise`` aside: what a plugin printed);
    the user's files unchanged in content and mode; no temporary or lock file left in ``folder``."""
    code, stdout, stderr = outcome
    assert code == expected, f"exit {code}, not {expected}: {stderr}"
    assert "Traceback" not in stderr + stdout
    for name in names:
        assert name in stderr, f"{name!r} not in {stderr!r}"
    if code == 1:
        ours = stderr.replace(noise, "") if noise else stderr
        assert ours.startswith("seqtool: error: ") and ours.count("\n") == 1, stderr
    for path in kept:
        assert path.read_bytes() == SENTINEL and stat.S_IMODE(path.stat().st_mode) == 0o640, f"{path.name} changed"
    assert not list(folder.glob(".*.partial")) and not list(folder.glob(".*.lock")), "a temporary or lock file was left"
