"""Training across processes (torchrun, DDP on gloo) and resuming after a SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import torch

from conftest import run_seqtool
from seqtool.training.artefact import load_model

TINY = ["--hidden", "8", "--embedding-dim", "8", "--dropout", "0", "-q"]


def weights(path) -> dict[str, torch.Tensor]:
    return load_model(path)[2]


def test_two_processes_match_one_process_with_the_combined_batch(tmp_path, sentiment_csv):
    """Each of 2 ranks takes one batch of n/2 per epoch; DDP averages their gradients, which is
    the gradient of one batch of n. So the result must equal a single process with batch n."""
    n = sum(1 for _ in open(sentiment_csv)) - 1
    two, one = tmp_path / "two.model", tmp_path / "one.model"
    common = ["run", "sentiment", "train", str(sentiment_csv), "--valid", str(sentiment_csv), "--epochs", "2", *TINY]
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqtool",
         *common, "-o", str(two), "--batch-size", str(n // 2)],
        capture_output=True, text=True, timeout=300,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.model"], "only rank 0 writes, and once"
    single = run_seqtool(*common, "-o", str(one), "--batch-size", str(n))
    assert single.returncode == 0, single.stderr
    a, b = weights(two), weights(one)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=f"{name} differs")
    assert load_model(two)[0]["processes"] == 2


RANKS = textwrap.dedent('''
    import os, sys, torch, torch.distributed as dist
    from seqtool.nn.model import SequenceModel
    from seqtool.settings import Settings
    from seqtool.types import Example, ModelSpec
    from seqtool.training import distributed
    from seqtool.training.trainer import Trainer, seed_everything

    with distributed.process_group():
        settings = Settings(hidden=8, embedding_dim=8, epochs=2, batch_size=4, dropout=0.3)
        g = torch.Generator().manual_seed(0)
        data = [Example(torch.randint(2, 20, (int(torch.randint(2, 9, (1,), generator=g)),), generator=g), torch.tensor(i % 2)) for i in range(40)]
        seed_everything(0)
        model = SequenceModel(ModelSpec("tokens", 20, "pooled", 2, "classify"), settings)
        Trainer(model, settings).fit(data, data[:8])
        torch.save(model.state_dict(), os.path.join(sys.argv[1], f"rank{distributed.rank()}.pt"))
''')


def test_both_ranks_end_with_identical_weights(tmp_path):
    script = tmp_path / "ranks.py"
    script.write_text(RANKS)
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)


KILL_AFTER_EPOCH_2 = textwrap.dedent('''
    import os, signal, sys
    import seqtool.training.checkpoint as checkpoint
    save = checkpoint.Checkpointer.save
    def save_then_die(self, state):
        save(self, state)
        if state["epoch"] == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    checkpoint.Checkpointer.save = save_then_die
    from seqtool.cli import main
    sys.argv = ["seqtool", *sys.argv[1:]]
    main()
''')


def test_resume_after_sigkill_gives_the_uninterrupted_weights(tmp_path, sentiment_csv):
    args = ["run", "sentiment", "train", str(sentiment_csv), "--epochs", "4", "--patience", "9", "--batch-size", "16",
            "--hidden", "8", "--embedding-dim", "8", "--dropout", "0.2", "-q"]
    straight = tmp_path / "straight.model"
    assert run_seqtool(*args, "-o", str(straight)).returncode == 0

    resumed, checkpoints = tmp_path / "resumed.model", tmp_path / "ckpt"
    killer = tmp_path / "killer.py"
    killer.write_text(KILL_AFTER_EPOCH_2)
    killed = subprocess.run([sys.executable, str(killer), *args, "-o", str(resumed), "--checkpoint-dir", str(checkpoints)], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    assert not resumed.exists() and (checkpoints / "checkpoint.pt").exists()

    again = run_seqtool(*args, "-o", str(resumed), "--checkpoint-dir", str(checkpoints), "--resume")
    assert again.returncode == 0, again.stderr
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed run differs from the uninterrupted one"
    history = load_model(resumed)[0]["training"]["members"][0]["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]


def test_resume_with_other_settings_is_refused(tmp_path, sentiment_csv):
    checkpoints = tmp_path / "ckpt"
    base = ["run", "sentiment", "train", str(sentiment_csv), "-o", str(tmp_path / "m.model"), "--checkpoint-dir", str(checkpoints), "--epochs", "1", *TINY]
    assert run_seqtool(*base).returncode == 0
    refused = run_seqtool(*base, "--resume", "--lr", "0.1")
    assert refused.returncode == 2 and "other data or settings" in refused.stderr
    assert run_seqtool("run", "sentiment", "train", str(sentiment_csv), "-o", "x.model", "--resume").returncode == 2
