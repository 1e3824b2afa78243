"""Character-level language modelling of the textgen plugin on tiny Shakespeare, against its
Kneser-Ney baseline.

    python -m benchmarks.textgen [--minutes 60] [--hidden 256] [--layers 2] [--sample N] [--threads N]

nanoGPT's split (SOURCE.md): the first 90 % of the characters train, the last 10 % validate. The
model is trained through seqtool's own pipeline (what `seqtool run textgen train` runs) with the
validation part as --valid, so early stopping keeps the epoch with the best validation loss, as
nanoGPT keeps its best checkpoint. Printed: validation cross-entropy in nats (and bits) per
character from `evaluate`, the order-5 interpolated Kneser-Ney baseline on the same characters,
training time, and generation speed (characters per second, one prompt, sampled at temperature
0.8, through `predict`).

``--minutes`` bounds training: the trainer stops only between epochs, so the number of epochs is
chosen up front from the time one epoch takes on a 1/50 slice of both parts, scaled up (an
estimate: overheads that do not grow with the text make it err on the short side). ``--sample N``
uses only the first N characters of each part: a smoke check, not a comparable figure.
Needs ../shared/datasets/textgen (or SEQTOOL_DATASETS=<folder holding textgen/>); without it the
benchmark says so and exits without failing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.datasets import located

TRAIN_FRACTION = 0.9
CALIBRATION_SLICE = 50
#: nanoGPT's figures from SOURCE.md, validation nats per character
REFERENCES = {"nanoGPT baby GPT (A100, ~3 min)": 1.4697, "nanoGPT CPU recipe (~3 min)": 1.88}


def write_split(text: str, folder: Path, sample: int | None, divisor: int = 1) -> tuple[Path, Path]:
    """train.txt and valid.txt: nanoGPT's split, each part cut to ``sample`` characters, then to
    its first 1/``divisor``."""
    cut = int(len(text) * TRAIN_FRACTION)
    paths = folder / f"train-{divisor}.txt", folder / f"valid-{divisor}.txt"
    for path, part in zip(paths, (text[:cut][:sample], text[cut:][:sample])):
        path.write_text(part[: max(len(part) // divisor, 100)], encoding="utf-8")
    return paths


def train(train_file: Path, valid_file: Path, model: Path, settings: dict[str, Any], quiet: bool) -> float:
    """Trains through the pipeline; returns the seconds it took."""
    from seqtool import pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    task = registry().task("textgen")
    started = time.perf_counter()
    pipeline.train(task, str(train_file), str(valid_file), model, Settings().merged(task.defaults).merged(settings), {}, quiet=quiet)
    return time.perf_counter() - started


def epochs_within(minutes: float, text: str, folder: Path, sample: int | None, settings: dict[str, Any]) -> int:
    """How many epochs fit in ``minutes``, from one epoch on 1/50 of each part."""
    slice_train, slice_valid = write_split(text, folder, sample, CALIBRATION_SLICE)
    seconds = train(slice_train, slice_valid, folder / "slice.model", {**settings, "epochs": 1}, quiet=True)
    return max(1, int(minutes * 60 / (seconds * CALIBRATION_SLICE)))


def generation_speed(model: Path, characters: int) -> float:
    import seqtool

    loaded = seqtool.load(model, length=characters, temperature=0.8, seed=1)
    started = time.perf_counter()
    [result] = list(loaded.predict([{"text": "ROMEO:"}]))
    return len(result["text"]) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training budget (default 60)")
    parser.add_argument("--hidden", type=int, default=None, help="hidden units (default: the task's)")
    parser.add_argument("--layers", type=int, default=None, help="recurrent layers (default: the task's)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--threads", type=lambda v: v if v == "auto" else int(v), default=None, help="torch threads: N or auto (default: auto)")
    parser.add_argument("--sample", type=int, default=None, help="use only the first N characters of each part (smoke check)")
    parser.add_argument("--generate", type=int, default=2000, help="characters to generate for the speed figure")
    args = parser.parse_args()
    folder = located("textgen")
    if folder is None:
        return
    text = (folder / "tinyshakespeare.txt").read_text(encoding="utf-8")
    chosen = {"hidden": args.hidden, "layers": args.layers, "batch_size": args.batch_size, "lr": args.lr, "threads": args.threads}
    settings = {k: v for k, v in chosen.items() if v is not None}
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        epochs = epochs_within(args.minutes, text, work, args.sample, settings)
        print(f"training for {epochs} epoch(s) (estimated to fit {args.minutes:g} minutes)", flush=True)
        train_file, valid_file = write_split(text, work, args.sample)
        model = work / "textgen.model"
        seconds = train(train_file, valid_file, model, {**settings, "epochs": epochs}, quiet=False)
        from seqtool import pipeline
        from seqtool.plugins import registry

        with contextlib.redirect_stdout(io.StringIO()):
            report = pipeline.evaluate(registry().task("textgen"), model, str(valid_file), {}, as_json=True, quiet=True)
        speed = generation_speed(model, args.generate)
    metrics = report["metrics"]
    [(baseline_name, baseline)] = metrics["baselines"].items()
    print()
    print(f"validation characters scored: {metrics['count']:,}" + (f" (--sample {args.sample}: not comparable)" if args.sample else ""))
    print("| model | nats/char | bits/char |")
    print("|---|---|---|")
    print(f"| seqtool textgen ({epochs} epochs, {seconds / 60:.1f} min) | {metrics['nats_per_char']:.4f} | {metrics['bits_per_char']:.4f} |")
    print(f"| {baseline_name} (same training text) | {baseline['nats_per_char']:.4f} | {baseline['bits_per_char']:.4f} |")
    for name, nats in REFERENCES.items():
        print(f"| {name} (published) | {nats:.4f} | {nats / math.log(2):.4f} |")
    print()
    print(f"training: {seconds:.0f} s; generation: {speed:,.0f} characters/s ({args.generate} characters, one prompt)")


if __name__ == "__main__":
    main()
