"""Settings are declared once (seqtool.settings): the flags, the checks and the --config type
checks all follow from that declaration, and a task's --help offers only what applies to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_seqtool
from seqtool.errors import UsageError
from seqtool.settings import SETTINGS, Settings, load_config

ROOT = Path(__file__).resolve().parents[1]
SENTIMENT_SAMPLE = ROOT / "plugins" / "seqtool_sentiment" / "sample_data" / "train.csv"
PROTEIN_SAMPLE = ROOT / "plugins" / "seqtool_protein" / "sample_data" / "train.csv"


def train_with_config(tmp_path: Path, task: str, sample: Path, toml: str):
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    model = tmp_path / "x.model"
    result = run_seqtool("run", task, "train", str(sample), "-o", str(model), "--config", str(config), "-q")
    assert not model.exists()
    return result


def test_a_config_value_of_the_wrong_type_exits_2_naming_the_file_and_key(tmp_path):
    result = train_with_config(tmp_path, "sentiment", SENTIMENT_SAMPLE, 'epochs = 1\nhidden = "big"\n')
    assert result.returncode == 2, result.stderr
    assert "bad.toml" in result.stderr and 'hidden = "big"' in result.stderr
    assert "whole number" in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_bidirectional_no_is_refused_not_read_as_true(tmp_path):
    result = train_with_config(tmp_path, "sentiment", SENTIMENT_SAMPLE, 'epochs = 1\nbidirectional = "no"\n')
    assert result.returncode == 2, result.stderr
    assert 'bad.toml: bidirectional = "no": expected true or false' in result.stderr


def test_a_setting_the_task_does_not_offer_is_refused_in_the_config(tmp_path):
    result = train_with_config(tmp_path, "protein-ss", PROTEIN_SAMPLE, "epochs = 1\nembedding-dim = 32\n")
    assert result.returncode == 2, result.stderr
    assert "bad.toml" in result.stderr and "embedding_dim" in result.stderr and "protein-ss" in result.stderr


@pytest.mark.parametrize(
    "toml, key, allowed",
    [
        ('bidirectional = "no"', "bidirectional", "true or false"),
        ("bidirectional = 1", "bidirectional", "true or false"),
        ('hidden = "big"', "hidden", "a whole number >= 1"),
        ("hidden = 1.5", "hidden", "a whole number >= 1"),
        ("hidden = true", "hidden", "a whole number >= 1"),
        ("hidden = 0", "hidden", "a whole number >= 1"),
        ("lr = true", "lr", "a number > 0"),
        ("lr = 0", "lr", "a number > 0"),
        ("lr = inf", "lr", "a number > 0"),
        ("dropout = 1.0", "dropout", "a number >= 0 and < 1"),
        ("token-dropout = -0.1", "token-dropout", "a number >= 0 and < 1"),
        ('cell = "cnn"', "cell", 'one of "lstm", "gru", "rnn"'),
        ('pooling = "sum"', "pooling", 'one of "last", "mean", "max", "attention"'),
        ("device = 0", "device", "a string"),
        ("seed = 1.0", "seed", "a whole number"),
    ],
)
def test_load_config_checks_every_setting_against_its_declaration(tmp_path, toml, key, allowed):
    config = tmp_path / "cfg.toml"
    config.write_text(toml + "\n")
    with pytest.raises(UsageError) as caught:
        load_config(config)
    message = str(caught.value)
    assert message.startswith(f"{config}: {key} = ")
    assert message.endswith(f": expected {allowed}")
    assert "\n" not in message


def test_a_correct_config_is_loaded_and_merged(tmp_path):
    config = tmp_path / "good.toml"
    config.write_text('cell = "gru"\nhidden = 12\nbidirectional = false\nlr = 1\ndropout = 0\nbatch-size = 16\ntext-col = "review"\n')
    values = load_config(config)
    assert values["text_col"] == "review"  # a task option passes through unchecked
    settings = Settings(bidirectional=True).merged({k: v for k, v in values.items() if k in SETTINGS})
    assert (settings.cell, settings.hidden, settings.bidirectional, settings.batch_size) == ("gru", 12, False, 16)
    assert settings.lr == 1.0 and isinstance(settings.lr, float)  # ints are fine for float settings
    assert isinstance(settings.dropout, float)


def test_settings_checks_name_the_setting_and_what_is_allowed():
    with pytest.raises(UsageError, match=r"hidden = true: expected a whole number >= 1"):
        Settings(hidden=True)
    with pytest.raises(UsageError, match=r'cell = "cnn": expected one of "lstm", "gru", "rnn"'):
        Settings().merged({"cell": "cnn"})
    with pytest.raises(UsageError, match="unknown setting 'hiden'"):
        Settings().merged({"hiden": 3})
    assert Settings().merged({"hidden": 7, "lr": None}).hidden == 7


def test_every_setting_declares_its_kind_help_and_a_valid_default():
    assert {spec.kind for spec in SETTINGS.values()} == {"model", "training", "runtime"}
    assert {n for n, s in SETTINGS.items() if s.kind == "model"} == {"cell", "hidden", "layers", "bidirectional", "dropout", "token_dropout", "embedding_dim", "pooling"}
    assert [n for n, s in SETTINGS.items() if s.kind == "runtime"] == ["device", "threads"]
    for name, spec in SETTINGS.items():
        assert spec.help and spec.accepts(spec.default), name
        assert getattr(Settings(), name) == spec.default


def train_help(task: str) -> str:
    result = run_seqtool("run", task, "train", "--help")
    assert result.returncode == 0, result.stderr
    assert "--hidden" in result.stdout and "--epochs" in result.stdout
    return result.stdout


def test_a_causal_task_offers_no_bidirectional():
    shown = train_help("behaviour")
    assert "--bidirectional" not in shown and "--unidirectional" not in shown
    assert "--embedding-dim" in shown


def test_a_per_step_task_with_numeric_input_offers_no_embeddings_or_pooling():
    shown = train_help("protein-ss")
    for flag in ("--embedding-dim", "--token-dropout", "--pooling"):
        assert flag not in shown, flag
    assert "--bidirectional" in shown


def test_a_pooled_token_task_offers_every_setting():
    shown = train_help("sentiment")
    for spec in SETTINGS.values():
        assert spec.flag in shown, spec.flag
    assert "--bidirectional / --unidirectional" in shown


def test_flags_are_checked_from_the_same_declaration(tmp_path):
    result = run_seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(tmp_path / "x.model"), "--dropout", "1")
    assert result.returncode == 2 and "--dropout" in result.stderr
    result = run_seqtool("run", "protein-ss", "train", str(PROTEIN_SAMPLE), "-o", str(tmp_path / "x.model"), "--pooling", "max")
    assert result.returncode == 2 and "--pooling" in result.stderr


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400"])
def test_a_learning_rate_that_is_not_a_finite_number_is_refused_naming_the_flag(text):
    with pytest.raises(ValueError, match="a number > 0"):
        SETTINGS["lr"].parse(text)
    with pytest.raises(UsageError, match=r"setting lr = .*: expected a number > 0; change --lr$"):
        Settings(lr=float(text))
