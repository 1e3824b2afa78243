"""The textgen task through the real command line: a learnt pattern continued exactly, the
Kneser-Ney baseline a proper distribution, generation with step() equal to re-reading the prefix,
the cross-entropy report and the bad-option errors."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest
import torch

from conftest import run_seqtool
from seqtool import Engine, Example
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.testing import assert_model_roundtrip
from seqtool.types import ModelSpec
from seqtool_textgen.generate import Sampler, generate
from seqtool_textgen.ngram import KneserNey

TINY = ("--hidden", "32", "--layers", "1", "--embedding-dim", "8", "--chunk", "32", "--lr", "0.02", "--epochs", "12", "-q")


@pytest.fixture(scope="module")
def pattern_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("textgen")
    (folder / "abc.txt").write_text("abc" * 600 + "\n")
    model = folder / "abc.model"
    result = run_seqtool("run", "textgen", "train", str(folder / "abc.txt"), "-o", str(model), *TINY)
    assert result.returncode == 0, result.stderr
    return model


def test_a_learnt_pattern_is_continued_exactly_at_temperature_0(pattern_model):
    result = run_seqtool("run", "textgen", "predict", "-m", str(pattern_model), "--temperature", "0", "--length", "12", input="abcab\nbc\n")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [{"prompt": "abcab", "text": "cabcabcabcab"}, {"prompt": "bc", "text": "abcabcabcabc"}]


def test_the_model_file_keeps_the_vocabulary_and_the_baseline(pattern_model):
    assert_model_roundtrip(pattern_model, "textgen")


def test_stop_ends_a_continuation_before_the_stop_text(pattern_model):
    result = run_seqtool("run", "textgen", "predict", "-m", str(pattern_model), "--temperature", "0", "--stop", "ca", input="abc\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"prompt": "abc", "text": "ab"}


def test_one_text_per_line_learns_where_a_text_ends(tmp_path):
    (tmp_path / "lines.txt").write_text("abc\n" * 300)
    model = tmp_path / "lines.model"
    trained = run_seqtool("run", "textgen", "train", str(tmp_path / "lines.txt"), "-o", str(model), "--per-line", *TINY)
    assert trained.returncode == 0, trained.stderr
    # an empty prompt starts a new text; each text ends with its newline, where --stop ends it
    result = run_seqtool("run", "textgen", "predict", "-m", str(model), "--temperature", "0", "--stop", "\n", input="\na\n")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["abc", "bc"]


def test_evaluate_reports_nats_and_bits_per_char_beside_the_ngram_baseline(pattern_model, tmp_path):
    (tmp_path / "held_out.txt").write_text("abc" * 100 + "\n")
    result = run_seqtool("run", "textgen", "evaluate", "-m", str(pattern_model), str(tmp_path / "held_out.txt"), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["count"] == 301  # every character, the final newline included
    assert metrics["bits_per_char"] == pytest.approx(metrics["nats_per_char"] / math.log(2))
    assert metrics["nats_per_char"] < 0.2  # the pattern is learnt
    baseline = metrics["baselines"]["kneser-ney (order 5)"]
    assert baseline["bits_per_char"] == pytest.approx(baseline["nats_per_char"] / math.log(2))
    assert 0 < baseline["nats_per_char"] < 0.2  # a 5-gram knows this pattern too


@pytest.mark.parametrize("option", [("--temperature", "-1"), ("--top-k", "0"), ("--length", "0")])
def test_bad_sampling_options_are_usage_errors(pattern_model, option):
    result = run_seqtool("run", "textgen", "predict", "-m", str(pattern_model), *option, input="abc\n")
    assert result.returncode == 2
    assert option[0] in result.stderr


def test_the_word_unit_reports_perplexity_per_word(tmp_path):
    rng = random.Random(0)
    words = ["the lamp turns", "the tide waits", "a gull sings"]
    (tmp_path / "words.txt").write_text("\n".join(f"{rng.choice(words)} {rng.choice(words)}" for _ in range(200)) + "\n")
    model = tmp_path / "words.model"
    trained = run_seqtool("run", "textgen", "train", str(tmp_path / "words.txt"), "-o", str(model), "--unit", "word", *TINY)
    assert trained.returncode == 0, trained.stderr
    result = run_seqtool("run", "textgen", "evaluate", "-m", str(model), str(tmp_path / "words.txt"), "--json")
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["nats_per_word"]))
    assert "perplexity" in metrics["baselines"]["kneser-ney (order 5)"]
    predicted = run_seqtool("run", "textgen", "predict", "-m", str(model), "--length", "3", "--temperature", "0", input="the lamp\n")
    text = json.loads(predicted.stdout)["text"]
    assert len(re.findall(r"\S+|\n", text)) == 3  # tokens: words and line ends


def test_the_ngram_baseline_is_a_proper_distribution():
    rng = random.Random(1)
    size = 7  # ids 2..6 are tokens, 1 unknown (never seen), 0 padding
    documents = [[rng.randrange(2, size) for _ in range(rng.randint(1, 40))] for _ in range(6)]
    baseline = KneserNey.fit(documents, order=3, size=size)
    contexts = [[], documents[0][:1], documents[0][:5], [6, 6, 6, 6], [1, 1], [1, 5, 2]]
    for context in contexts:
        total = sum(baseline.probability(context, token) for token in range(1, size))
        assert total == pytest.approx(1.0, abs=1e-12), context
        assert all(baseline.probability(context, token) > 0 for token in range(1, size))
    restored = KneserNey.from_state(json.loads(json.dumps(baseline.state())))
    assert restored.probability([3, 4], 5) == baseline.probability([3, 4], 5)


@pytest.mark.parametrize("temperature, top_k", [(0.0, None), (1.0, 3)])
def test_generation_with_step_equals_re_reading_the_prefix(temperature, top_k):
    torch.manual_seed(0)
    spec = ModelSpec("tokens", 9, "per_step", 9, "classify")
    members = [SequenceModel(spec, Settings(hidden=8, embedding_dim=4, layers=2, cell=cell)).eval() for cell in ("lstm", "gru")]
    engine = Engine(Ensemble(members))
    prompt = [2, 5, 3]

    def next_log_probs(prefix: list[int]) -> torch.Tensor:
        return engine.outputs([Example(torch.tensor(prefix))], last_step=True)[0]

    stepped = generate(members, prompt, next_log_probs(prompt), Sampler(temperature, top_k, seed=3))
    with_step = [next(stepped) for _ in range(12)]
    sampler, re_read = Sampler(temperature, top_k, seed=3), list(prompt)
    for _ in range(12):
        re_read.append(sampler.choose(next_log_probs(re_read)))
    assert with_step == re_read[len(prompt) :]
