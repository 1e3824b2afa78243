"""Bad inputs, part B (issue 13): numbers that are not numbers, data too thin to learn from, runs
that collide, and plugins that misbehave. The same table as tests/test_bad_inputs.py: every case
is one line naming the file or setting, the promised exit code, no traceback, and no file the
user had is changed.

Cases run in-process through :func:`seqtool.cli.run_cli`, except the plugin cases, which need a
fake distribution on the path of a fresh process (the plugin registry is per process).

Placeholders: ``{task}``, ``{model}`` (conftest's tiny model of the task), ``{data}`` (the
task's sample valid.csv), ``{bad}`` (the files made below), ``{tmp}`` (the case's folder),
``{out}`` and ``{model_out}`` (pre-existing files that must stay as they are), ``{ckpt}`` (a
checkpoint folder of a finished sentiment run, for --resume).
"""

from __future__ import annotations

import csv
import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SAMPLE_FOLDERS, SMALLEST, assert_refused_cleanly, files_the_user_had, invoke, run_seqtool, write_distribution
from seqtool.training.lock import exclusive

TASKS = tuple(SAMPLE_FOLDERS)


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    args: tuple[str, ...]
    code: int
    #: what stderr must name (placeholders allowed)
    names: tuple[str, ...] = ()
    task: str = "sentiment"
    #: paths (placeholders allowed) another run is writing while the case runs
    locked: tuple[str, ...] = ()
    #: the fake plugin distribution on the path: the case runs in a subprocess
    plugin: str = ""


def train(task: str, data: str, *extra: str) -> tuple[str, ...]:
    return ("run", task, "train", data, "-o", "{model_out}", *SMALLEST, *extra)


def predict(task: str, data: str) -> tuple[str, ...]:
    return ("run", task, "predict", "-m", "{model}", data, "-o", "{out}", "--format", "jsonl")


def evaluate(task: str, data: str) -> tuple[str, ...]:
    return ("run", task, "evaluate", "-m", "{model}", data, "--json")


# -- numbers ---------------------------------------------------------------------------------

#: settings that must be finite numbers, with values that are not (or are out of range)
NOT_FINITE = [
    ("--lr", "inf"), ("--lr", "nan"), ("--lr", "-inf"), ("--lr", "0"), ("--clip", "inf"), ("--clip", "-inf"),
    ("--weight-decay", "nan"), ("--weight-decay", "inf"), ("--dropout", "nan"),
]


def _setting_cases() -> list[Case]:
    cases = []
    for task in TASKS:
        for flag, value in NOT_FINITE:
            cases.append(Case(f"{task}-train{flag}-{value}", "setting not finite", train(task, "{data}", flag, value), 2, (flag,), task))
    for task in ("sentiment", "finance-anomaly"):  # the two whose sample data diverges in one epoch
        cases.append(Case(f"{task}-train-lr-1e20-diverges", "loss not finite", train(task, "{data}", "--lr", "1e20"), 1, ("--lr", "not a finite number"), task))
    return cases


#: time values that are not times: (file name, value)
BAD_TIMES = [("nan-time.csv", "nan"), ("inf-time.csv", "inf"), ("neg-inf-time.csv", "-inf"), ("huge-time.csv", "1e300")]
#: finance values that are not numbers
BAD_VALUES = [("nan-value.csv", "nan"), ("inf-value.csv", "inf"), ("neg-inf-value.csv", "-Infinity")]


def _data_cases() -> list[Case]:
    cases = []
    for name, _ in BAD_TIMES:
        data = f"{{bad}}/behaviour/{name}"
        for verb, args in (("train", train("behaviour", data)), ("predict", predict("behaviour", data)), ("evaluate", evaluate("behaviour", data))):
            cases.append(Case(f"behaviour-{verb}-{name}", "time not finite", args, 1, (f"{name}:4", "timestamp"), "behaviour"))
    for name, _ in BAD_TIMES[:2]:
        data = f"{{bad}}/finance-anomaly/{name}"
        for verb, args in (("train", train("finance-anomaly", data)), ("predict", predict("finance-anomaly", data))):
            cases.append(Case(f"finance-{verb}-{name}", "time not finite", args, 1, (f"{name}:4", "timestamp"), "finance-anomaly"))
    for name, _ in BAD_VALUES:
        data = f"{{bad}}/finance-anomaly/{name}"
        for verb, args in (("train", train("finance-anomaly", data)), ("predict", predict("finance-anomaly", data))):
            cases.append(Case(f"finance-{verb}-{name}", "value not finite", args, 1, (f"{name}:4", "close"), "finance-anomaly"))
    cases += [
        Case("sentiment-train-two-rows", "too little data", train("sentiment", "{bad}/sentiment/two-rows.csv"), 1, ("two-rows.csv", "--min-count")),
        Case("sentiment-train-min-count-above-every-word", "too little data", train("sentiment", "{data}", "--min-count", "100000"), 1, ("valid.csv", "--min-count")),
        Case("behaviour-train-min-count-above-every-event", "too little data", train("behaviour", "{data}", "--min-count", "100000"), 1, ("valid.csv", "--min-count"), "behaviour"),
    ]
    return cases


# -- runs that collide -----------------------------------------------------------------------


def _collision_cases() -> list[Case]:
    cases = []
    for task in TASKS:
        cases.append(Case(f"{task}-train-o-being-written", "runs collide", train(task, "{data}"), 1, ("{model_out}", "another seqtool run", "-o"), task, locked=("{model_out}",)))
        args = train(task, "{data}", "--checkpoint-dir", "{tmp}/shared")
        cases.append(Case(f"{task}-train-checkpoint-dir-being-written", "runs collide", args, 1, ("shared", "--checkpoint-dir"), task, locked=("{tmp}/shared",)))
    resume = ("run", "sentiment", "train", "{data}", "-o", "{model_out}", "--checkpoint-dir", "{ckpt}", "--resume", *SMALLEST)
    cases += [
        Case("sentiment-resume-other-lr", "resume refused", (*resume, "--lr", "0.5"), 2, ("settings.lr", "0.5 now")),
        Case("sentiment-resume-other-hidden", "resume refused", (*resume, "--hidden", "5"), 2, ("settings.hidden", "5 now")),
        Case("sentiment-resume-other-data", "resume refused", ("run", "sentiment", "train", "{bad}/sentiment/other.csv", *resume[4:]), 2, ("data: ", "other.csv")),
        Case("sentiment-resume-without-checkpoint-dir", "resume refused", (*train("sentiment", "{data}"), "--resume"), 2, ("--checkpoint-dir",)),
    ]
    return cases


# -- plugins that misbehave ------------------------------------------------------------------

#: fake plugins: distribution -> module source (each declares task "bad-<name>")
PLUGINS = {
    "broken": "import no_such_module_anywhere\n",
    "exits": "import sys\nsys.exit(3)\n",
    "raises": "raise RuntimeError('the plugin is unwell')\n",
    "prints": "print('hello from the plugin')\nimport no_such_module_either\n",
    "hook-fails": "import seqtool\n\n@seqtool.hookimpl\ndef register_tasks(register):\n    raise ValueError('cannot register')\n",
}


def _plugin_cases() -> list[Case]:
    cases = []
    for name in PLUGINS:
        module = f"seqtool_bad_{name.replace('-', '_')}"
        run = ("run", f"bad-{name}", "predict", "-m", "{model}", "{data}", "-o", "{out}")
        cases.append(Case(f"plugin-{name}-predict", "plugin fails", run, 1, (module, "SEQTOOL_LOAD_PLUGINS"), plugin=name))
    # a built-in task name taken by a third party: the built-in runs, with a warning naming it
    shadow = ("run", "sentiment", "predict", "-m", "{model}", "{data}", "-o", "{tmp}/scored.jsonl", "-q")
    cases.append(Case("plugin-shadows-sentiment", "plugin fails", shadow, 0, ("seqtool_bad_shadow", "built-in"), plugin="shadow"))
    return cases


CASES = _setting_cases() + _data_cases() + _collision_cases() + _plugin_cases()


# -- fixtures --------------------------------------------------------------------------------


def _replace_cell(source: Path, target: Path, column: str, value: str, row: int = 2) -> None:
    """``source`` with ``column`` of data row ``row`` (file line row + 2) set to ``value``."""
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row + 1][rows[0].index(column)] = value
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-b")
    for name, value in BAD_TIMES:
        _replace_cell(SAMPLE_FOLDERS["behaviour"] / "valid.csv", root / "behaviour" / name, "timestamp", value)
        _replace_cell(SAMPLE_FOLDERS["finance-anomaly"] / "valid.csv", root / "finance-anomaly" / name, "timestamp", value)
    for name, value in BAD_VALUES:
        _replace_cell(SAMPLE_FOLDERS["finance-anomaly"] / "valid.csv", root / "finance-anomaly" / name, "close", value)
    (root / "sentiment").mkdir()
    (root / "sentiment" / "two-rows.csv").write_text("text,label\ngood,pos\nbad,neg\n")
    shutil.copy(SAMPLE_FOLDERS["sentiment"] / "valid.csv", root / "sentiment" / "other.csv")
    return root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """The checkpoint folder of a finished one-epoch sentiment run on its sample valid.csv."""
    folder = tmp_path_factory.mktemp("resume") / "ckpt"
    model = folder.parent / "m.model"
    args = ["run", "sentiment", "train", str(SAMPLE_FOLDERS["sentiment"] / "valid.csv"), "-o", str(model), "--checkpoint-dir", str(folder), *SMALLEST]
    code, _, stderr = invoke(*args)
    assert code == 0, stderr
    return folder


@pytest.fixture(scope="module")
def plugin_envs(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Plugin name -> the environment with its fake distribution ``seqtool-bad-<name>`` (alone:
    another's warning must not mix into a case's stderr)."""
    sources = {**PLUGINS, "shadow": "import seqtool\n"}
    envs = {}
    for name, source in sources.items():
        root = tmp_path_factory.mktemp(f"plugin-{name}")
        module = f"seqtool_bad_{name.replace('-', '_')}"
        write_distribution(root, f"seqtool-bad-{name}", {"sentiment" if name == "shadow" else f"bad-{name}": module}, {module: source})
        envs[name] = {"PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return envs


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_b(case: Case, task_models, bad, tmp_path, request):
    out, model_out = kept = files_the_user_had(tmp_path)
    places = {
        "task": case.task, "model": task_models[case.task], "data": SAMPLE_FOLDERS[case.task] / "valid.csv", "bad": bad,
        "tmp": tmp_path, "out": out, "model_out": model_out,
        "ckpt": request.getfixturevalue("checkpoints") if "{ckpt}" in " ".join(case.args) else "",
    }
    args = [argument.format(**places) for argument in case.args]
    with ExitStack() as others:
        for path in case.locked:  # another run, still training, writes these
            others.enter_context(exclusive(Path(path.format(**places)), "-o"))
        if case.plugin:
            result = run_seqtool(*args, env=request.getfixturevalue("plugin_envs")[case.plugin])
            outcome = result.returncode, result.stdout, result.stderr
        else:
            outcome = invoke(*args)
    # a plugin's own print goes to stderr, beside seqtool's one line
    assert_refused_cleanly(outcome, case.code, [name.format(**places) for name in case.names], kept, tmp_path, noise="hello from the plugin\n")


def test_the_table_b_covers_every_task_and_category():
    assert len(CASES) >= 80
    assert {case.task for case in CASES} == set(TASKS)
