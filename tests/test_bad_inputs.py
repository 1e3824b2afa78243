"""Bad inputs and bad output paths, as a table: every case is one line naming the file or setting,
the exit code the README promises, no traceback, and no file the user had is changed.

The cases run in-process through :func:`seqtool.cli.run_cli` (Click's parsing and seqtool's error
handling, without a process each), so the table stays fast. Each case gets a pre-existing output
file (``{out}`` for predict, ``{model_out}`` for train) that must come out byte for byte and mode
for mode as it went in, whether the case writes to it or elsewhere.

Placeholders in a case's arguments: ``{task}``, ``{model}`` (a tiny trained model of the task),
``{data}`` (the task's labelled sample file), ``{bad}`` (the folder of bad files made below),
``{tmp}`` (the case's own folder), ``{out}``, ``{model_out}``.
"""

from __future__ import annotations

import gzip
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SAMPLE_FOLDERS, SMALLEST, assert_refused_cleanly, files_the_user_had, invoke

SAMPLES = SAMPLE_FOLDERS
TASKS = tuple(SAMPLES)


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    args: tuple[str, ...]
    code: int
    #: what stderr must name (placeholders allowed); a failure also names the file or setting here
    names: tuple[str, ...] = ()
    task: str = "sentiment"
    stdin: str | None = None  # a file under {bad} fed to stdin
    #: a device the case needs: "full" (a char device that refuses writes) or "proc"
    needs: str = ""


def verbs(task: str, data: str, *, train: bool = True, evaluate: bool = False) -> list[tuple[str, tuple[str, ...]]]:
    """The verbs that read ``data``, with the arguments that write to the pre-existing files."""
    chosen = [("predict", ("run", task, "predict", "-m", "{model}", data, "-o", "{out}", "--format", "jsonl"))]
    if train:
        chosen.append(("train", ("run", task, "train", data, "-o", "{model_out}", *SMALLEST)))
    if evaluate:
        chosen.append(("evaluate", ("run", task, "evaluate", "-m", "{model}", data)))
    return chosen


#: bad input files (made by the ``bad`` fixture): name -> (category, what the message says)
INPUTS = {
    "absent.csv": ("input file", ("absent.csv", "cannot open")),
    "folder": ("input file", ("folder", "cannot open")),
    "binary.csv": ("binary or encoding", ("binary.csv", "binary data")),
    "nul.csv": ("binary or encoding", ("nul.csv:3", "NUL byte")),
    "latin1.csv": ("binary or encoding", ("latin1.csv:2", "--encoding")),
    "utf16.csv": ("binary or encoding", ("utf16.csv", "UTF-16")),
    "truncated.csv.gz": ("compression", ("truncated.csv.gz", "gzip data ends early")),
    "plain.csv.gz": ("compression", ("plain.csv.gz", "not gzip data")),
    "packed.csv": ("compression", ("packed.csv", "bzip2")),
    "archive.csv": ("compression", ("archive.csv", "zip archive")),
}


def _input_cases() -> list[Case]:
    cases = []
    for task in TASKS:
        for name, (category, names) in INPUTS.items():
            # every task reads every bad file; train on two tasks (the reading is the core's)
            for verb, args in verbs(task, f"{{bad}}/{task}/{name}", train=task in ("sentiment", "finance-anomaly"), evaluate=task == "sentiment"):
                cases.append(Case(f"{task}-{verb}-{name}", category, args, 1, names, task))
    return cases


def _good_input_cases() -> list[Case]:
    """gzip is recognised by its bytes: read without .gz in the name, and on stdin."""
    cases = []
    for task in TASKS:
        cases.append(Case(f"{task}-predict-gzip-named-csv", "compression (read)", ("run", task, "predict", "-m", "{model}", f"{{bad}}/{task}/gzipped.csv", "-q"), 0, (), task))
    for task in ("sentiment", "finance-anomaly"):
        args = ("run", task, "predict", "-m", "{model}", "-", "--input-format", "csv", "-q")
        cases.append(Case(f"{task}-predict-gzip-on-stdin", "compression (read)", args, 0, (), task, stdin=f"{task}/gzipped.csv"))
    return cases


def _setting_cases() -> list[Case]:
    cases = []
    for task in TASKS:
        predict = ("run", task, "predict", "-m", "{model}", "{data}", "-o", "{out}", "--format", "jsonl")
        cases.append(Case(f"{task}-encoding-unknown", "binary or encoding", (*predict, "--encoding", "klingon"), 2, ("--encoding", "klingon"), task))
        cases.append(Case(f"{task}-input-format-unknown", "binary or encoding", (*predict, "--input-format", "xml"), 2, ("'xml'", "csv"), task))
    return cases


def _output_cases() -> list[Case]:
    predict = ("run", "sentiment", "predict", "-m", "{model}", "{data}")
    train = ("run", "sentiment", "train", "{data}", *SMALLEST)
    cases = [
        Case("predict-o-folder", "output path", (*predict, "-o", "{tmp}"), 2, ("'-o'", "directory")),
        Case("predict-o-missing-folder", "output path", (*predict, "-o", "{tmp}/nowhere/out.jsonl"), 1, ("nowhere", "does not exist")),
        Case("predict-o-under-a-file", "output path", (*predict, "-o", "{out}/x.jsonl"), 1, ("existing.jsonl", "not a folder")),
        Case("predict-o-in-proc", "output path", (*predict, "-o", "/proc/seqtool-out.jsonl"), 1, ("/proc/seqtool-out.jsonl", "cannot write"), needs="proc"),
        Case("predict-o-is-the-model", "output path", (*predict, "--format", "jsonl", "-o", "{model}"), 1, ("that is the input",)),
        Case("predict-o-is-the-data", "output path", (*predict, "--format", "jsonl", "-o", "{data}"), 1, ("that is the input",)),
        Case("predict-o-full-device", "output path", (*predict, "-o", "{full}"), 1, ("cannot write", "No space left"), needs="full"),
        Case("predict-o-full-device-csv", "output path", (*predict, "--format", "csv", "-o", "{full}"), 1, ("cannot write",), needs="full"),
        Case("train-o-folder", "output path", (*train, "-o", "{tmp}"), 2, ("'-o'", "directory")),
        Case("train-o-missing-folder", "output path", (*train, "-o", "{tmp}/nowhere/m.model"), 1, ("nowhere", "does not exist")),
        Case("train-o-under-a-file", "output path", (*train, "-o", "{out}/m.model"), 1, ("existing.jsonl", "not a folder")),
        Case("train-o-in-proc", "output path", (*train, "-o", "/proc/seqtool.model"), 1, ("/proc/seqtool.model", "cannot write"), needs="proc"),
        Case("train-o-is-the-data", "output path", (*train, "-o", "{data}"), 1, ("that is the input",)),
        Case("train-o-full-device", "output path", (*train, "-o", "{full}"), 1, ("cannot write", "No space left"), needs="full"),
        Case("train-checkpoint-dir-under-a-file", "output path", (*train, "-o", "{model_out}", "--checkpoint-dir", "{out}/ckpt"), 1, ("ckpt", "cannot create the folder")),
        Case("train-checkpoint-dir-is-a-file", "output path", (*train, "-o", "{model_out}", "--checkpoint-dir", "{out}"), 2, ("--checkpoint-dir", "is a file")),
        Case("train-checkpoint-dir-in-proc", "output path", (*train, "-o", "{model_out}", "--checkpoint-dir", "/proc/seqtool-ckpt"), 1, ("/proc/seqtool-ckpt",), needs="proc"),
        Case("predict-o-dev-null", "output path", (*predict, "-q", "-o", "/dev/null"), 0, ()),
    ]
    for task in TASKS:
        for suffix in (".json", ".txt", ".csv.zip"):
            args = ("run", task, "predict", "-m", "{model}", "{data}", "-o", f"{{tmp}}/scored{suffix}")
            cases.append(Case(f"{task}-predict-o-unknown-extension{suffix}", "output format", args, 2, (f"scored{suffix}", suffix.split(".")[-1], "jsonl", "--format"), task))
    mixed = ("run", "sentiment", "predict", "-m", "{model}", "{bad}/sentiment/mixed.jsonl")
    cases += [
        Case("jsonl-mixed-fields-as-csv", "output format", (*mixed, "--format", "csv"), 1, ("result 2", "'id'", "--format jsonl")),
        Case("jsonl-mixed-fields-into-csv-file", "output format", (*mixed, "-o", "{tmp}/scored.csv"), 1, ("result 2", "'id'")),
        Case("jsonl-mixed-fields-into-existing-csv", "output format", (*mixed, "--format", "csv", "-o", "{out}"), 1, ("result 2", "'id'")),
    ]
    return cases


CASES = _input_cases() + _good_input_cases() + _setting_cases() + _output_cases()


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """For each task, the files of :data:`INPUTS`, made from its sample data where the content
    matters (a file is read as far as it goes: the lines before the bad one must fit the task),
    ``gzipped.csv``, and ``mixed.jsonl`` for sentiment."""
    root = tmp_path_factory.mktemp("bad")
    for task, samples in SAMPLES.items():
        folder = root / task
        (folder / "folder").mkdir(parents=True)
        good = (samples / "valid.csv").read_bytes()
        packed = gzip.compress(good)
        (folder / "gzipped.csv").write_bytes(packed)
        (folder / "truncated.csv.gz").write_bytes(packed[: len(packed) * 2 // 3])
        (folder / "plain.csv.gz").write_bytes(good)
        (folder / "binary.csv").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
        header, first, second = good.splitlines(keepends=True)[:3]
        (folder / "nul.csv").write_bytes(header + first + b"\x00" + second)
        (folder / "latin1.csv").write_bytes(header + b"caf\xe9" + first)
        (folder / "utf16.csv").write_bytes("text,label\nfine,positive\n".encode("utf-16"))
        (folder / "packed.csv").write_bytes(b"BZh91AY&SY" + bytes(40))
        with zipfile.ZipFile(folder / "archive.csv", "w") as archive:
            archive.writestr("valid.csv", good)
    (root / "sentiment" / "mixed.jsonl").write_text('{"text": "a fine film"}\n{"text": "dull", "id": 7}\n')
    return root


@pytest.fixture(scope="module")
def full_device(tmp_path_factory) -> Path | None:
    """A character device that refuses every write, like /dev/full: made here when allowed (the
    real one must not be risked on a seqtool that would replace it), else /dev/full if it is one."""
    path = tmp_path_factory.mktemp("device") / "full"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        return path
    except OSError:
        return Path("/dev/full") if Path("/dev/full").is_char_device() else None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, task_models, bad, full_device, tmp_path):
    if case.needs == "full" and full_device is None:
        pytest.skip("no device that refuses writes here")
    if case.needs == "proc" and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    out, model_out = kept = files_the_user_had(tmp_path)
    places = {
        "task": case.task, "model": task_models[case.task], "data": SAMPLES[case.task] / "valid.csv", "bad": bad, "tmp": tmp_path,
        "out": out, "model_out": model_out, "full": full_device,
    }
    args = [argument.format(**places) for argument in case.args]
    outcome = invoke(*args, stdin=(bad / case.stdin).read_bytes() if case.stdin else None)
    assert_refused_cleanly(outcome, case.code, [name.format(**places) for name in case.names], kept, tmp_path)
    if case.code == 0:
        assert outcome[1] or "-o" in args, "no results"


def test_the_table_has_the_cases_it_promises():
    """At least 60 cases here (part B of the issue adds its own), over every task."""
    assert len(CASES) >= 60
    assert {case.task for case in CASES} == set(TASKS)
