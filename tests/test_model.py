"""The recurrent backbone, the trainer and the model file."""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from conftest import run_seqtool
from seqtool.data.batching import bucket_batches, collate, stream_batches
from seqtool.errors import ModelFileError
from seqtool.nn.encoder import RecurrentEncoder
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.types import Example, ModelSpec
from seqtool.training.artefact import load_model, read_card, save_model
from seqtool.training.trainer import Trainer, seed_everything

LENGTHS = [5, 2, 7, 1]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_equals_each_sequence_alone(cell, bidirectional):
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, cell=cell, hidden=4, layers=2, bidirectional=bidirectional).eval()
    sequences = [torch.randn(n, 3) for n in LENGTHS]
    batch = collate([Example(s) for s in sequences], per_step=False)
    steps, last = encoder(batch.inputs, batch.lengths)
    for i, sequence in enumerate(sequences):
        alone_steps, alone_last = encoder(sequence.unsqueeze(0), torch.tensor([len(sequence)]))
        torch.testing.assert_close(steps[i, : len(sequence)], alone_steps[0])
        torch.testing.assert_close(last[i], alone_last[0])
        assert torch.all(steps[i, len(sequence):] == 0), "padding leaked into the outputs"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_outputs_and_gradients_equal_torch_packed_sequences(cell, bidirectional):
    """The padded fast path computes exactly what torch's packed path computes, gradients too."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(3, cell=cell, hidden=4, layers=2, bidirectional=bidirectional)
    inputs = torch.randn(len(LENGTHS), max(LENGTHS), 3)
    lengths = torch.tensor(LENGTHS)

    def packed_reference() -> tuple[torch.Tensor, torch.Tensor]:
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        out, state = encoder.rnn(packed)
        steps, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        h_n = state[0] if cell == "lstm" else state
        return steps, h_n[-encoder.directions :].transpose(0, 1).reshape(len(LENGTHS), -1)

    results = []
    for forward in (lambda: encoder(inputs, lengths), packed_reference):
        encoder.zero_grad()
        steps, last = forward()
        (steps.sin().sum() + last.cos().sum()).backward()
        results.append((steps, last, [p.grad.clone() for p in encoder.parameters()]))
    (fast_steps, fast_last, fast_grads), (ref_steps, ref_last, ref_grads) = results
    torch.testing.assert_close(fast_steps, ref_steps)
    torch.testing.assert_close(fast_last, ref_last)
    for fast, ref in zip(fast_grads, ref_grads, strict=True):
        torch.testing.assert_close(fast, ref)


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
def test_pooling_ignores_padding(pooling):
    torch.manual_seed(0)
    spec = ModelSpec("tokens", 10, "pooled", 3, "classify")
    model = SequenceModel(spec, Settings(hidden=4, embedding_dim=4, pooling=pooling)).eval()
    sequences = [torch.randint(2, 10, (n,)) for n in LENGTHS]
    batch = collate([Example(s) for s in sequences], per_step=False)
    together = model(batch.inputs, batch.lengths)
    if pooling == "attention":
        weights = model.head.attention_weights
        assert torch.allclose(weights.sum(1), torch.ones(len(LENGTHS)))
        assert weights[1, 2:].sum() == 0, "attention on padding"
    for i, s in enumerate(sequences):
        torch.testing.assert_close(together[i], model(s.unsqueeze(0), torch.tensor([len(s)]))[0])


def test_per_step_loss_ignores_masked_steps():
    spec = ModelSpec("features", 2, "per_step", 3, "classify")
    model = SequenceModel(spec, Settings(hidden=4))
    keep = torch.tensor([True, False, True])
    a = Example(torch.randn(3, 2), torch.tensor([0, 1, 2]), step_mask=keep)
    b = Example(a.inputs, torch.tensor([0, 2, 2]), step_mask=keep)  # differs only at a masked step
    outputs = model(collate([a], True).inputs, collate([a], True).lengths)
    assert model.loss(outputs, collate([a], True)) == model.loss(outputs, collate([b], True))


def toy_examples(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for _ in range(n):
        tokens = torch.randint(2, 12, (int(torch.randint(2, 9, (1,), generator=generator)),), generator=generator)
        examples.append(Example(tokens, torch.tensor(int((tokens > 6).sum() > len(tokens) / 2))))
    return examples


def train_once(seed: int) -> dict[str, torch.Tensor]:
    settings = Settings(hidden=8, embedding_dim=8, epochs=3, batch_size=8, seed=seed, dropout=0.2)
    seed_everything(settings.seed)
    model = SequenceModel(ModelSpec("tokens", 12, "pooled", 2, "classify"), settings)
    Trainer(model, settings).fit(toy_examples(), toy_examples(16, seed=1))
    return model.state_dict()


def test_same_seed_same_weights_and_other_seed_differs():
    first, second, other = train_once(7), train_once(7), train_once(8)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_trainer_learns_and_stops_early():
    settings = Settings(hidden=16, embedding_dim=8, epochs=40, batch_size=8, patience=2, lr=0.01)
    seed_everything(0)
    model = SequenceModel(ModelSpec("tokens", 12, "pooled", 2, "classify"), settings)
    result = Trainer(model, settings).fit(toy_examples(128), toy_examples(32, seed=1))
    history = [h["valid"]["loss"] for h in result.history]
    assert min(history) < history[0]
    assert result.stopped_early and len(history) < 40
    assert result.best_epoch == 1 + history.index(min(history))


def test_bucketing_groups_similar_lengths_and_covers_everything():
    examples = toy_examples(100)
    batches = bucket_batches(examples, 10, torch.Generator().manual_seed(0))
    assert sorted(i for b in batches for i in b) == list(range(100))
    spread = sum(max(len(examples[i]) for i in b) - min(len(examples[i]) for i in b) for b in batches)
    assert spread <= 2 * len(batches)


def test_stream_batches_keeps_order_and_reraises():
    examples = toy_examples(25)
    out = [m for batch in stream_batches(iter(examples), 4, per_step=False) for m in batch.inputs.tolist()]
    assert len(out) == 25

    def failing():
        yield from examples[:3]
        raise ValueError("bad record")

    seen = 0
    with pytest.raises(ValueError, match="bad record"):
        for batch in stream_batches(failing(), 10, per_step=False):
            seen += len(batch)
    assert seen == 3, "the records before the bad one still get results"


def saved(tmp_path):
    weights = {"w": torch.arange(6.0).view(2, 3)}
    path = tmp_path / "m.model"
    save_model(path, weights, {"task": "t", "settings": {}}, {"vocabulary": ["a"]})
    return path, weights


def test_model_file_round_trip_and_card_without_torch(tmp_path):
    path, weights = saved(tmp_path)
    card, state, loaded = load_model(path)
    assert card["task"] == "t" and state == {"vocabulary": ["a"]} and torch.equal(loaded["w"], weights["w"])
    code = f"import sys; from seqtool.training.artefact import read_card; read_card({str(path)!r}); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    assert read_card(path)["format"] == "seqtool-model"


class Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_payload_is_refused(tmp_path, capsys):
    evil = tmp_path / "evil.model"
    evil.write_bytes(pickle.dumps({"weights": Payload()}))
    with pytest.raises(ModelFileError, match="never unpickles"):
        load_model(evil)
    torch.save({"w": torch.zeros(1)}, tmp_path / "torch.model")
    with pytest.raises(ModelFileError, match="not a seqtool model file"):
        load_model(tmp_path / "torch.model")
    assert "pwned" not in capsys.readouterr().out


def test_tampered_header_and_foreign_safetensors_are_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "foreign.model"))
    with pytest.raises(ModelFileError, match="not one seqtool wrote"):
        load_model(tmp_path / "foreign.model")
    path, _ = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[10:14] = b"\x00\x00\x00\x00"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        load_model(path)


def test_interrupted_save_keeps_the_old_file(tmp_path):
    path, _ = saved(tmp_path)
    before = path.read_bytes()
    script = (  # killed at the worst moment: the new file written in full, not yet in place
        "import torch, os, signal\n"
        "import seqtool.io.atomic as atomic\n"
        "from seqtool.training.artefact import save_model\n"
        "atomic._install = lambda *args: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"save_model({str(path)!r}, {{'w': torch.ones(100)}}, {{'task': 'new'}}, {{}})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert path.read_bytes() == before, "a killed save must not touch the existing model"


def test_last_step_equals_the_full_output_at_the_last_step():
    torch.manual_seed(0)
    model = SequenceModel(ModelSpec("tokens", 10, "per_step", 10, "classify"), Settings(hidden=4, embedding_dim=4)).eval()
    batch = collate([Example(torch.randint(2, 10, (n,))) for n in LENGTHS], per_step=True)
    full = model(batch.inputs, batch.lengths)
    expected = full[torch.arange(len(LENGTHS)), batch.lengths - 1]
    torch.testing.assert_close(model.last_step(batch.inputs, batch.lengths), expected)


def test_token_dropout_only_while_training_and_never_on_padding():
    torch.manual_seed(0)
    model = SequenceModel(ModelSpec("tokens", 50, "pooled", 2, "classify"), Settings(hidden=4, embedding_dim=4, token_dropout=0.5))
    inputs = torch.tensor([[5, 6, 7, 8, 0, 0]] * 200)
    unknown = model.embedding.weight[1]
    model.train()
    embedded = model.embed(inputs)
    swapped = (embedded == unknown).all(-1)
    assert 0.4 < swapped[:, :4].float().mean() < 0.6, "about half the real tokens become <unk>"
    assert not swapped[:, 4:].any(), "padding is never swapped"
    model.eval()
    assert not (model.embed(inputs) == unknown).all(-1).any()


def test_an_ensemble_averages_log_probabilities_and_one_member_passes_through():
    spec = ModelSpec("tokens", 10, "pooled", 3, "classify")
    members = [SequenceModel(spec, Settings(hidden=4, embedding_dim=4, seed=s)).eval() for s in (0, 1)]
    inputs, lengths = torch.randint(2, 10, (2, 5)), torch.tensor([5, 3])
    alone = [member(inputs, lengths) for member in members]
    expected = torch.stack([a.log_softmax(-1) for a in alone]).mean(0)
    torch.testing.assert_close(Ensemble(members)(inputs, lengths), expected)
    torch.testing.assert_close(Ensemble(members[:1])(inputs, lengths), alone[0])


def test_an_ensemble_predicts_the_geometric_mean_of_its_members_trained_alone(tmp_path, sentiment_csv):
    """Members differ only in their seed: trained inside an ensemble or alone, they are the same."""
    texts = "a truly great film\nan awful boring film\nfilm number 7\n"
    common = ["--valid", str(sentiment_csv), "--epochs", "2", "--hidden", "8", "--embedding-dim", "8", "-q"]

    def probabilities(model: Path) -> torch.Tensor:
        result = run_seqtool("run", "sentiment", "predict", "-m", str(model), input=texts)
        assert result.returncode == 0, result.stderr
        return torch.tensor([[row["probabilities"][label] for label in ("neg", "pos")] for row in map(json.loads, result.stdout.splitlines())])

    models = {}
    for name, extra in {"ensemble": ["--ensemble", "2"], "seed0": ["--seed", "0", "--ensemble", "1"], "seed1": ["--seed", "1", "--ensemble", "1"]}.items():
        models[name] = tmp_path / f"{name}.model"
        result = run_seqtool("run", "sentiment", "train", str(sentiment_csv), "-o", str(models[name]), *common, *extra)
        assert result.returncode == 0, result.stderr
    card = read_card(models["ensemble"])
    assert [member["seed"] for member in card["training"]["members"]] == [0, 1]
    geometric = (probabilities(models["seed0"]).log() + probabilities(models["seed1"]).log()).div(2).exp()
    torch.testing.assert_close(probabilities(models["ensemble"]), geometric / geometric.sum(1, keepdim=True), atol=1e-5, rtol=0)


def test_an_ensemble_checkpoints_each_member_and_resumes(tmp_path, sentiment_csv):
    checkpoints, model = tmp_path / "ckpt", tmp_path / "m.model"
    args = ["run", "sentiment", "train", str(sentiment_csv), "-o", str(model), "--ensemble", "2", "--epochs", "1",
            "--hidden", "8", "--embedding-dim", "8", "-q", "--checkpoint-dir", str(checkpoints)]
    assert run_seqtool(*args).returncode == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-1.pt", "checkpoint.pt"]
    first = load_model(model)[2]
    again = run_seqtool(*args, "--resume")
    assert again.returncode == 0, again.stderr
    for name, tensor in load_model(model)[2].items():
        assert torch.equal(tensor, first[name]), name


def test_a_version_1_model_file_is_refused_with_a_message_naming_its_version(tmp_path):
    from safetensors.torch import save_file

    old = tmp_path / "old.model"
    card = {"format": "seqtool-model", "format_version": 1, "seqtool_version": "0.1.0", "task": "sentiment"}
    save_file({"members.0.w": torch.zeros(2)}, str(old), metadata={"seqtool.card": json.dumps(card), "seqtool.adapter": "{}"})
    for args in (("info", str(old)), ("run", "sentiment", "predict", "-m", str(old))):
        result = run_seqtool(*args, input="fine\n")
        assert result.returncode == 1, result.stderr
        assert "format version 1, written by seqtool 0.1.0" in result.stderr and "train the model again" in result.stderr
        assert "Traceback" not in result.stderr
