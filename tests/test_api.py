"""The Python API: the README's example runs as written, and a model answers the same from Python,
alone or in a batch, as from the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import seqtool
from conftest import run_seqtool
from seqtool.errors import DataError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "plugins" / "seqtool_sentiment" / "sample_data"
TEXTS = ["a moving, beautifully made film", "dull and far too long", "the plot is", "great great great", "an awful, boring mess"]


def test_the_readme_python_example_runs_as_written(tmp_path: Path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "plugins").symlink_to(ROOT / "plugins")  # the example runs from the repository root
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[0] in ("positive", "negative") and lines[2].startswith("accuracy 0.")
    assert (tmp_path / "sent.model").is_file()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api") / "sent.model"
    seqtool.train("sentiment", SAMPLES / "train.csv", path, epochs=2, ensemble=2, hidden=8, embedding_dim=8)
    return path


def test_a_model_answers_the_same_alone_in_a_batch_through_python_and_the_cli(model_path: Path):
    model = seqtool.load(model_path)
    in_a_batch = list(model.predict({"text": t} for t in TEXTS))
    alone = [next(seqtool.load(model_path, batch_size=1).predict([{"text": t}])) for t in TEXTS]
    cli = run_seqtool("run", "sentiment", "predict", "-m", str(model_path), "--format", "jsonl", input="\n".join(TEXTS) + "\n")
    assert cli.returncode == 0, cli.stderr
    from_cli = [json.loads(line) for line in cli.stdout.splitlines()]
    assert [r["text"] for r in in_a_batch] == TEXTS  # input order
    for batched, single, shell in zip(in_a_batch, alone, from_cli):
        assert batched["label"] == single["label"] == shell["label"]
        for label, p in batched["probabilities"].items():
            assert p == pytest.approx(single["probabilities"][label], abs=2e-6)
            assert p == pytest.approx(shell["probabilities"][label], abs=2e-6)


def test_evaluate_from_python_equals_the_cli(model_path: Path):
    metrics = seqtool.load(model_path).evaluate(seqtool.read(SAMPLES / "test.csv"))
    cli = run_seqtool("run", "sentiment", "evaluate", "-m", str(model_path), str(SAMPLES / "test.csv"), "--json", "-q")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["metrics"]["accuracy"] == pytest.approx(metrics["accuracy"])
    assert seqtool.load(model_path).card.settings["ensemble"] == 2


def test_python_errors_name_the_option_or_the_record(model_path: Path):
    with pytest.raises(UsageError, match="unknown option 'colour'"):
        seqtool.load(model_path, colour="red")
    with pytest.raises(UsageError, match="unknown setting|unknown option"):
        seqtool.train("sentiment", SAMPLES / "train.csv", model_path.with_name("x.model"), hiden=8)
    with pytest.raises(DataError, match="<python>: record 2"):
        list(seqtool.load(model_path, strict=True).predict([{"text": "fine"}, {"text": ""}]))
