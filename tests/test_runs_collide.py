"""Two runs that write the same model or checkpoint folder, and resuming: nothing is silently lost
or mixed (issue 13)."""

from __future__ import annotations

from pathlib import Path

from conftest import run_seqtool
from seqtool.training.lock import exclusive, lock_path

TINY = ("--epochs", "1", "--hidden", "8", "--embedding-dim", "8", "--ensemble", "1", "-q")


def train(data: Path, *args: str, cwd: Path | None = None):
    return run_seqtool("run", "sentiment", "train", str(data), *args, *TINY, cwd=cwd)


def test_a_second_run_writing_the_same_model_is_refused_and_the_first_keeps_it(tmp_path, sentiment_csv):
    model = tmp_path / "same.model"
    model.write_bytes(b"the first run's model")
    with exclusive(model, "-o"):  # as a first run that is still training holds it
        second = train(sentiment_csv, "-o", str(model))
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert str(model) in second.stderr and "another seqtool run" in second.stderr and "-o" in second.stderr
    assert model.read_bytes() == b"the first run's model"


def test_a_second_run_sharing_a_checkpoint_folder_is_refused(tmp_path, sentiment_csv):
    checkpoints = tmp_path / "ckpt"
    checkpoints.mkdir()
    with exclusive(checkpoints, "--checkpoint-dir"):
        second = train(sentiment_csv, "-o", str(tmp_path / "other.model"), "--checkpoint-dir", str(checkpoints))
    assert second.returncode == 1 and "--checkpoint-dir" in second.stderr and str(checkpoints) in second.stderr
    assert not (tmp_path / "other.model").exists() and list(checkpoints.iterdir()) == []


def test_a_finished_run_leaves_no_lock_and_a_dead_runs_lock_does_not_block(tmp_path, sentiment_csv):
    model, checkpoints = tmp_path / "m.model", tmp_path / "ckpt"
    lock_path(model).write_text("12345")  # left by a run killed with -9: the kernel freed its lock
    done = train(sentiment_csv, "-o", str(model), "--checkpoint-dir", str(checkpoints))
    assert done.returncode == 0, done.stderr
    assert model.is_file() and not lock_path(model).exists() and not lock_path(checkpoints).exists()


def test_resume_takes_the_same_file_by_another_name_and_says_what_differs(tmp_path, sentiment_csv):
    (tmp_path / "x.csv").write_bytes(sentiment_csv.read_bytes())
    first = train(Path("x.csv"), "-o", "m.model", "--checkpoint-dir", "ckpt", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    same = train(Path("./x.csv"), "-o", "m.model", "--checkpoint-dir", "ckpt", "--resume", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    other = train(Path("x.csv"), "-o", "m.model", "--checkpoint-dir", "ckpt", "--resume", "--lr", "0.5", cwd=tmp_path)
    assert other.returncode == 2 and other.stderr.count("\n") == 1
    assert "settings.lr: " in other.stderr and "0.5 now" in other.stderr


def test_resume_before_the_first_checkpoint_starts_afresh_and_says_so(tmp_path, sentiment_csv):
    checkpoints = tmp_path / "ckpt"
    checkpoints.mkdir()  # the killed run had made the folder, not yet a checkpoint
    result = run_seqtool(
        "run", "sentiment", "train", str(sentiment_csv), "-o", str(tmp_path / "m.model"), "--checkpoint-dir", str(checkpoints),
        "--resume", "--epochs", "1", "--hidden", "8", "--embedding-dim", "8", "--ensemble", "1",
    )
    assert result.returncode == 0, result.stderr
    assert "starts afresh" in result.stderr and (tmp_path / "m.model").is_file()
