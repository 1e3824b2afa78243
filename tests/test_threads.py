"""Threads (issue 24): ``auto`` counts the CPUs this process may use (affinity, cgroup quota) and
shares them among the seqtool processes running a model (the registry in seqtool.jobs; torchrun's
processes count as one job's), a training follows its share as others start and end; --threads,
the config's ``threads`` and SEQTOOL_THREADS reach torch in that order of precedence; the model
card records the threads a model was trained with."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import run_seqtool
from seqtool import runtime
from seqtool.errors import UsageError
from seqtool.jobs import Sharing, current_sharing, is_registered, jobs_folder, registered_processes, running_model
from seqtool.runtime import AutoThreads, apply_threads, available_cpus, cgroup_cpu_limit, parse_cfs_quota, parse_cpu_max, resolve_threads, threads_for
from seqtool.settings import SETTINGS, Settings, environment_settings, load_config

ROOT = Path(__file__).resolve().parents[1]
SENTIMENT_SAMPLE = ROOT / "plugins" / "seqtool_sentiment" / "sample_data" / "train.csv"
TINY = ("--epochs", "1", "--hidden", "4", "--embedding-dim", "4", "--ensemble", "1", "--batch-size", "64")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "SEQTOOL_THREADS", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(scope="module", autouse=True)
def own_registry(tmp_path_factory) -> Iterator[Path]:
    """This module's processes register in a folder of their own (``XDG_RUNTIME_DIR``), so that
    seqtool jobs running elsewhere on the machine do not change what its tests expect."""
    folder = tmp_path_factory.mktemp("xdg-runtime")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(folder))
        yield folder


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


# -- seqtool processes side by side: the registry ----------------------------------------------

REGISTERED_UNTIL_STDIN_CLOSES = textwrap.dedent("""
    import sys
    from seqtool.jobs import is_registered, running_model
    with running_model():
        print(is_registered(), flush=True)
        sys.stdin.read()
""")


@contextmanager
def other_process(*, registered: bool = True, **env: str) -> Iterator[subprocess.Popen]:
    """Another process running a model until the block ends; ``env``: torchrun's variables."""
    process = subprocess.Popen(
        [sys.executable, "-c", REGISTERED_UNTIL_STDIN_CLOSES], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=clean_env(**env)
    )
    try:
        assert process.stdout.readline().strip() == str(registered)
        yield process
    finally:
        process.stdin.close()
        process.wait(timeout=60)


@pytest.fixture
def registry(tmp_path, monkeypatch) -> Path:
    """A fresh registry folder, no thread variables, 4 CPUs; returns the jobs folder."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(runtime, "available_cpus", lambda *a, **k: 4)
    return jobs_folder()


def test_the_registry_counts_live_processes_and_removes_dead_ones(registry):
    assert jobs_folder() == registry and current_sharing() == Sharing(1)
    with running_model():
        assert is_registered() and (registry / str(os.getpid())).exists()
        assert oct(registry.stat().st_mode & 0o777) == oct(0o700) and oct(registry.parent.stat().st_mode & 0o777) == oct(0o700)
        assert current_sharing() == Sharing(1, 0)
        with other_process() as other:
            assert {p.pid for p in registered_processes(registry)} == {os.getpid(), other.pid}
            assert current_sharing() == Sharing(2, 0)  # registered first: first place
            other.send_signal(signal.SIGKILL)  # no chance to remove its entry
            other.wait(timeout=60)
            assert (registry / str(other.pid)).exists()
            assert current_sharing() == Sharing(1, 0)  # a dead process is not counted ...
            assert not (registry / str(other.pid)).exists()  # ... and its entry is removed
        with other_process() as other:
            pass
        assert not (registry / str(other.pid)).exists()  # a process that ends removes its own
        with running_model():  # nested: one entry, still there after the inner block
            pass
        assert is_registered() and (registry / str(os.getpid())).exists()
    assert not is_registered() and os.listdir(registry) == []
    assert current_sharing() == Sharing(1)


def test_auto_divides_the_cpus_among_the_registered_processes(registry):
    with running_model():
        assert resolve_threads("auto") == 4
        with other_process(), other_process():
            assert current_sharing() == Sharing(3, 0)
            assert resolve_threads("auto") == 2  # 4 CPUs, 3 processes: the first takes the one left over
        with other_process():
            assert resolve_threads("auto") == 2
            assert resolve_threads(3) == 3  # a number is never shared
    with other_process():  # this one registered second
        with running_model():
            assert current_sharing() == Sharing(2, 1) and resolve_threads("auto") == 2


def test_uneven_cpus_go_one_each_to_the_first_processes_and_are_never_oversubscribed():
    for cpus in range(1, 9):
        for processes in range(1, 9):
            shares = [Sharing(processes, place).threads(cpus) for place in range(processes)]
            assert min(shares) >= 1 and max(shares) - min(shares) <= 1
            assert sum(shares) == max(cpus, processes)  # every CPU used by one thread (or one thread each: at least 1)
            assert Sharing(processes).threads(cpus) == max(1, cpus // processes)  # order unknown: nobody takes more


def test_torchruns_processes_count_as_one_job_of_its_size(registry):
    torchrun = {"LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    with running_model():
        with other_process(**torchrun, LOCAL_RANK="0"):
            assert current_sharing() == Sharing(3, 0)  # its second process counts before it registers
            with other_process(**torchrun, LOCAL_RANK="1"):
                assert current_sharing() == Sharing(3, 0)
                with other_process(**{**torchrun, "MASTER_PORT": "29501"}, LOCAL_RANK="0"):  # another torchrun job
                    assert current_sharing() == Sharing(5, 0)


def test_under_torchrun_the_ranks_take_their_places_in_their_job(registry, monkeypatch):
    for name, value in {"LOCAL_WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(runtime, "available_cpus", lambda *a, **k: 3)
    assert current_sharing() == Sharing(2) and resolve_threads("auto") == 1  # not registered: as before the registry
    with running_model():
        assert current_sharing() == Sharing(2, 1) and resolve_threads("auto") == 1  # rank 0 takes the third CPU
        with other_process(LOCAL_WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT="29500"):
            assert current_sharing() == Sharing(2, 1)


def test_an_unusable_registry_folder_leaves_auto_as_before(registry, tmp_path, monkeypatch):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(not_a_folder))
    with running_model():  # does not raise
        assert not is_registered()
        assert current_sharing() == Sharing(1) and resolve_threads("auto") == 4
    shared = tmp_path / "shared"
    (shared / "seqtool").mkdir(parents=True)
    (shared / "seqtool").chmod(0o777)  # others may write there: not trusted
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    with other_process(registered=False):  # running, but unseen
        with running_model():
            assert not is_registered() and resolve_threads("auto") == 4
    assert not (shared / "seqtool" / "jobs").exists()


def test_registering_adds_no_torch_import():
    code = "import sys; from seqtool.jobs import running_model\nwith running_model(): pass\nprint('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60)
    assert result.stdout.split() == ["False"], result.stderr


# -- a training follows its share ---------------------------------------------------------------


@pytest.fixture
def torch_threads(monkeypatch):
    """torch, its threads put back after the test; the host's choice is found afresh by the test."""
    import torch

    monkeypatch.setattr(runtime, "_host", None)
    monkeypatch.setattr(runtime, "_applied", None)
    before = torch.get_num_threads()
    try:
        yield torch
    finally:
        torch.set_num_threads(before)


def test_a_training_gives_threads_up_when_a_second_job_starts_and_takes_them_back_when_it_ends(registry, torch_threads):
    now = [0.0]
    said: list[str] = []
    torch_threads.set_num_threads(4)  # the host's choice: auto never takes more
    with running_model():
        assert apply_threads(threads_for("auto")) == 4
        threads = AutoThreads("auto", said.append, every=5, clock=lambda: now[0])
        assert threads.follows
        with other_process():
            now[0] = 4.9
            threads.check()  # not due yet: the registry is not read
            assert torch_threads.get_num_threads() == 4 and said == []
            now[0] = 5.0
            threads.check()
            assert torch_threads.get_num_threads() == 2
            assert said == ["now using 2 torch threads (auto: 4 CPUs available, shared by 2 seqtool processes)"]
            now[0] = 10.0
            threads.check()  # no change: nothing said
            assert len(said) == 1
        now[0] = 15.0
        threads.check()
        assert torch_threads.get_num_threads() == 4
        assert said[1:] == ["now using 4 torch threads (auto: 4 CPUs available)"]


def test_auto_never_takes_more_than_the_host_chose(registry, torch_threads):
    torch_threads.set_num_threads(3)  # a host (a notebook, a benchmark) chose 3 of the 4 CPUs
    with running_model():
        assert threads_for("auto") == 3
        apply_threads(2)  # seqtool's own count (it gave threads up to another job) ...
        assert threads_for("auto") == 3  # ... is not taken for the host's choice
        torch_threads.set_num_threads(1)  # the host chooses again
        assert threads_for("auto") == 1


def test_explicit_threads_and_unregistered_processes_are_not_followed(registry, monkeypatch):
    with running_model():
        assert not AutoThreads(2, print).follows  # --threads 2, SEQTOOL_THREADS=2 or a config's threads = 2
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        assert not AutoThreads("auto", print).follows
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert AutoThreads("auto", print).follows
    assert not AutoThreads("auto", print).follows  # its share cannot change


def test_a_training_counts_the_other_registered_processes(tmp_path):
    model = tmp_path / "m.model"
    with other_process():
        result = seqtool("run", "sentiment", "train", str(SENTIMENT_SAMPLE), "-o", str(model), *TINY, env=clean_env())
    assert result.returncode == 0, result.stderr
    cpus = available_cpus()
    assert f"(auto: {cpus} CPU{'s' if cpus != 1 else ''} available, shared by 2 seqtool processes)" in result.stderr
    assert card_threads(model) <= max(1, cpus // 2)  # registered second: no leftover CPU


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
def trained_with_one_thread(own_registry, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
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
