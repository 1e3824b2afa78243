"""Threads (issue 24): ``auto`` counts the CPUs this process may use (affinity, cgroup quota,
shared among torchrun processes); --threads, the config's ``threads`` and SEQTOOL_THREADS reach
torch in that order of precedence; the model card records the threads a model was trained with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_seqtool
from seqtool import runtime
from seqtool.errors import UsageError
from seqtool.runtime import apply_threads, available_cpus, cgroup_cpu_limit, parse_cfs_quota, parse_cpu_max, resolve_threads
from seqtool.settings import SETTINGS, Settings, environment_settings, load_config

ROOT = Path(__file__).resolve().parents[1]
SENTIMENT_SAMPLE = ROOT / "plugins" / "seqtool_sentiment" / "sample_data" / "train.csv"
TINY = ("--epochs", "1", "--hidden", "4", "--embedding-dim", "4", "--ensemble", "1", "--batch-size", "64")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "SEQTOOL_THREADS", "WORLD_SIZE", "LOCAL_WORLD_SIZE")


def clean_env(**given: str) -> dict[str, str]:
    """The environment without any thread setting, plus ``given``."""
    return {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES and k != "SEQTOOL_DEBUG"} | given


def seqtool(*args: str, env: dict[str, str], preexec_fn=None) -> subprocess.CompletedProcess:
    """`python -m seqtool ARGS` with exactly ``env`` (run_seqtool would add OMP_NUM_THREADS=1)."""
    return subprocess.run([sys.executable, "-m", "seqtool", *args], capture_output=True, text=True, env=env, timeout=300, preexec_fn=preexec_fn)


def card_threads(model: Path) -> int:
    result = run_seqtool("info", str(model), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["settings"]["threads"]


def first_cpu_only() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no os.sched_setaffinity on this platform")


# -- the CPUs this process may use -------------------------------------------------------------


@needs_affinity
def test_auto_is_the_affinity_count_when_the_affinity_is_restricted():
    code = "from seqtool.runtime import available_cpus, resolve_threads; print(available_cpus(), resolve_threads('auto'))"
    run = lambda preexec: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), preexec_fn=preexec, timeout=60)
    restricted = run(first_cpu_only)
    assert restricted.returncode == 0, restricted.stderr
    assert restricted.stdout.split() == ["1", "1"]
    free = run(None)
    assert free.returncode == 0, free.stderr
    expected = min(len(os.sched_getaffinity(0)), available_cpus())
    assert free.stdout.split() == [str(expected), str(expected)]


@pytest.mark.parametrize(
    "text, cpus",
    [("150000 100000", 1.5), ("50000 100000", 0.5), ("200000 100000\n", 2.0), ("max 100000", None), ("max", None), ("", None), ("junk 100000", None)],
)
def test_cgroup_v2_cpu_max_is_parsed(text, cpus):
    assert parse_cpu_max(text) == cpus


@pytest.mark.parametrize("quota, period, cpus", [("150000\n", "100000\n", 1.5), ("-1\n", "100000\n", None), ("50000", "0", None), ("x", "100000", None)])
def test_cgroup_v1_cfs_quota_is_parsed(quota, period, cpus):
    assert parse_cfs_quota(quota, period) == cpus


def fake_cgroups(tmp_path: Path, files: dict[str, str], membership: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(membership)
    return root, proc


def affinity() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def test_a_cgroup_v2_quota_caps_the_cpus_rounded_up(tmp_path):
    root, proc = fake_cgroups(tmp_path, {"cpu.max": "150000 100000\n"}, "0::/\n")
    assert cgroup_cpu_limit(root, proc) == 1.5
    assert available_cpus(root, proc) == min(affinity(), 2)
    root, proc = fake_cgroups(tmp_path / "half", {"cpu.max": "50000 100000\n"}, "0::/\n")
    assert available_cpus(root, proc) == 1  # half a CPU is still one thread


def test_max_in_cpu_max_is_no_cap(tmp_path):
    root, proc = fake_cgroups(tmp_path, {"cpu.max": "max 100000\n"}, "0::/\n")
    assert cgroup_cpu_limit(root, proc) is None
    assert available_cpus(root, proc) == affinity()


def test_a_quota_on_a_parent_cgroup_applies_to_its_children(tmp_path):
    files = {"cpu.max": "max 100000\n", "jobs/cpu.max": "100000 100000\n", "jobs/this/cpu.max": "max 100000\n"}
    root, proc = fake_cgroups(tmp_path, files, "0::/jobs/this\n")
    assert cgroup_cpu_limit(root, proc) == 1.0
    assert available_cpus(root, proc) == 1


def test_a_cgroup_v1_quota_caps_the_cpus(tmp_path):
    files = {"cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}
    root, proc = fake_cgroups(tmp_path, files, "4:memory:/x\n3:cpu,cpuacct:/\n0::/\n")
    assert cgroup_cpu_limit(root, proc) == 0.5
    assert available_cpus(root, proc) == 1
    files = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    root, proc = fake_cgroups(tmp_path / "none", files, "1:cpu:/\n")
    assert cgroup_cpu_limit(root, proc) is None
    assert available_cpus(root, proc) == affinity()


def test_no_cgroup_files_is_no_cap(tmp_path):
    assert cgroup_cpu_limit(tmp_path / "absent", tmp_path / "absent-too") is None


# -- auto among several processes ----------------------------------------------------------------


@pytest.fixture
def four_cpus(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "available_cpus", lambda *a, **k: 4)


def test_auto_shares_the_cpus_among_processes(four_cpus, monkeypatch):
    assert resolve_threads("auto") == 4
    assert resolve_threads("auto", processes=2) == 2
    assert resolve_threads("auto", processes=8) == 1  # fewer cores than processes: one each
    monkeypatch.setenv("WORLD_SIZE", "2")  # torchrun
    assert resolve_threads("auto") == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # this machine's share of torchrun's processes
    assert resolve_threads("auto") == 1


def test_a_number_is_taken_as_given_and_omp_num_threads_is_kept_by_auto(four_cpus, monkeypatch):
    assert resolve_threads(3) == 3 and resolve_threads(1, processes=8) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert resolve_threads("auto") == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "nonsense")
    assert resolve_threads("auto") == 4
    for wrong in (0, "many", True):
        with pytest.raises(ValueError):
            resolve_threads(wrong)


def test_apply_threads_sets_torch_and_can_be_called_again():
    import torch

    before = torch.get_num_threads()
    try:
        assert apply_threads(2) == 2 and torch.get_num_threads() == 2
        assert apply_threads(1) == 1 and torch.get_num_threads() == 1  # a second call must not fail on set_num_interop_threads
    finally:
        torch.set_num_threads(before)


# -- the setting: declaration, config, environment -----------------------------------------------


def test_threads_is_a_runtime_setting_auto_or_a_whole_number():
    spec = SETTINGS["threads"]
    assert (spec.kind, spec.default, spec.env) == ("runtime", "auto", "SEQTOOL_THREADS")
    assert spec.allowed() == '"auto" or a whole number >= 1'
    assert Settings(threads=2).threads == 2 and Settings().threads == "auto"
    for wrong in (0, "many", 1.5, True):
        with pytest.raises(UsageError, match="threads = .*: expected \"auto\" or a whole number >= 1"):
            Settings(threads=wrong)


@pytest.mark.parametrize("toml", ['threads = "many"', "threads = 0", "threads = 2.0", "threads = true"])
def test_a_config_threads_is_type_checked(tmp_path, toml):
    config = tmp_path / "cfg.toml"
    config.write_text(toml + "\n")
    with pytest.raises(UsageError, match=r'cfg.toml: threads = .*: expected "auto" or a whole number >= 1$'):
        load_config(config)


def test_seqtool_threads_is_read_and_checked():
    assert environment_settings({"SEQTOOL_THREADS": "3"}) == {"threads": 3}
    assert environment_settings({"SEQTOOL_THREADS": " auto "}) == {"threads": "auto"}
    assert environment_settings({"SEQTOOL_THREADS": ""}) == {}
    with pytest.raises(UsageError, match='SEQTOOL_THREADS=0: expected "auto" or a whole number >= 1'):
        environment_settings({"SEQTOOL_THREADS": "0"})


def test_a_toml_threads_of_many_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('threads = "many"\n')
    model = tmp_path / "x.model"
    result = run_seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), "--config", str(config), "-q")
    assert result.returncode == 2, result.stderr
    assert 'bad.toml: threads = "many": expected "auto" or a whole number >= 1' in result.stderr
    assert result.stderr.strip().count("\n") == 0 and not model.exists()


def test_bad_flags_and_environment_exit_2(tmp_path):
    model = tmp_path / "x.model"
    result = run_seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), "--threads", "0")
    assert result.returncode == 2 and "--threads" in result.stderr
    result = run_seqtool("run", "sentiment", "predict", "-m", str(model), "--threads", "many", input="a film\n")
    assert result.returncode == 2 and "--threads" in result.stderr
    result = run_seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), env={"SEQTOOL_THREADS": "many"})
    assert result.returncode == 2 and "SEQTOOL_THREADS=many" in result.stderr and "Traceback" not in result.stderr
    assert not model.exists()


# -- end to end: the value reaches torch and the card ---------------------------------------------


@pytest.fixture(scope="module")
def trained_with_one_thread(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """--threads 1 beats the config, SEQTOOL_THREADS and OMP_NUM_THREADS (all 2)."""
    folder = tmp_path_factory.mktemp("threads")
    config = folder / "two.toml"
    config.write_text("threads = 2\n")
    model = folder / "one.model"
    env = clean_env(OMP_NUM_THREADS="2", SEQTOOL_THREADS="2")
    result = seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), "--config", str(config), "--threads", "1", *TINY, env=env)
    assert result.returncode == 0, result.stderr
    return model, result


def test_threads_flag_reaches_torch_and_the_card(trained_with_one_thread):
    model, result = trained_with_one_thread
    assert card_threads(model) == 1
    assert result.stderr.count("torch thread") == 1  # said once
    assert "using 1 torch thread (threads = 1)" in result.stderr
    shown = run_seqtool("info", str(model)).stdout
    assert any(line.split() == ["threads", "1"] for line in shown.splitlines()), shown


def test_the_config_beats_seqtool_threads(tmp_path):
    config = tmp_path / "one.toml"
    config.write_text("threads = 1\n")
    model = tmp_path / "m.model"
    result = seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), "--config", str(config), *TINY, "-q", env=clean_env(SEQTOOL_THREADS="2"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # -q: not even the threads line
    assert card_threads(model) == 1


@needs_affinity
def test_auto_training_under_a_restricted_affinity_uses_one_thread(tmp_path):
    model = tmp_path / "m.model"
    result = seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), *TINY, env=clean_env(), preexec_fn=first_cpu_only)
    assert result.returncode == 0, result.stderr
    assert "using 1 torch thread (auto: 1 CPU available)" in result.stderr
    assert card_threads(model) == 1


TORCH_THREADS_AFTER = """
import sys, torch
from seqtool.cli import main
try:
    main()
finally:
    print("torch threads", torch.get_num_threads(), torch.get_num_interop_threads(), file=sys.stderr)
"""


@pytest.mark.parametrize("verb", ["predict", "evaluate"])
@pytest.mark.parametrize("how", ["flag", "env"])
def test_threads_reach_torch_in_evaluate_and_predict(trained_with_one_thread, verb, how):
    model, _ = trained_with_one_thread
    flag = ["--threads", "1"] if how == "flag" else []
    env = clean_env(OMP_NUM_THREADS="2", **({"SEQTOOL_THREADS": "1"} if how == "env" else {}))  # torch alone would take 2
    data = [str(SENTIMENT_SAMPLE.parent / "test.csv")] if verb == "evaluate" else ["-"]
    args = [sys.executable, "-c", TORCH_THREADS_AFTER, "run", "sentiment", verb, "-m", str(model), *data, *flag, "-q"]
    result = subprocess.run(args, capture_output=True, text=True, env=env, input="a fine film\n", timeout=300)
    assert "torch threads 1 1" in result.stderr, result.stderr[-2000:]


def test_auto_keeps_fewer_threads_that_the_host_process_chose(tmp_path):
    """A benchmark or a notebook that set torch to one thread keeps it through seqtool.train."""
    code = (
        "import torch, seqtool; torch.set_num_threads(1); "
        f"seqtool.train('sentiment', {str(SENTIMENT_SAMPLE)!r}, {str(tmp_path / 'm.model')!r}, epochs=1, hidden=4, embedding_dim=4, ensemble=1); "
        "print(torch.get_num_threads())"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SEQTOOL_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1"]
