"""Plugin discovery through real entry points, isolation of broken plugins, filtering, conflicts."""

from __future__ import annotations

import json
import textwrap

import pytest

import seqtool
from conftest import run_seqtool
from seqtool.errors import PluginError
from seqtool.plugins import registry
from seqtool.testing import registered

# A complete, tiny third-party plugin: its task reuses the sentiment adapter under another name.
ECHO = """
    import seqtool
    from seqtool import Task

    @seqtool.hookimpl
    def register_tasks(register):
        register(Task(name="echo", description="test task", adapter="seqtool_sentiment.adapter:SentimentAdapter"))
"""


def plugins_json(env: dict[str, str], *extra: str) -> list[dict]:
    result = run_seqtool("plugins", "--json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_third_party_plugin_found_through_its_entry_point(plugin_path):
    env = plugin_path("seqtool-echo", {"echo": "seqtool_echo"}, {"seqtool_echo": ECHO}, version="2.5")
    [echo] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_echo"]
    assert echo == {"name": "seqtool_echo", "distribution": "seqtool-echo", "version": "2.5", "tasks": ["echo"], "error": None}
    assert "echo" in run_seqtool("run", env=env).stdout
    assert "Train a model" in run_seqtool("run", "echo", "--help", env=env).stdout


def test_broken_plugin_is_reported_and_the_rest_keeps_working(plugin_path, trained_sentiment):
    env = plugin_path("seqtool-broken", {"broken": "seqtool_broken"}, {"seqtool_broken": "import no_such_module_anywhere\n"})
    listing = run_seqtool("run", env=env)
    assert listing.returncode == 0 and "broken" in listing.stdout
    [broken] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_broken"]
    assert "no_such_module_anywhere" in broken["error"] and "SEQTOOL_LOAD_PLUGINS" in broken["error"]
    failed = run_seqtool("run", "broken", "demo", env=env)
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and "seqtool_broken" in failed.stderr and "Traceback" not in failed.stderr
    works = run_seqtool("run", "sentiment", "predict", "-m", str(trained_sentiment), input="a lovely film\n", env=env)
    assert works.returncode == 0 and json.loads(works.stdout)["label"] in {"pos", "neg"}


def test_plugin_registering_an_undeclared_task_is_invalid(plugin_path):
    source = ECHO.replace('name="echo"', 'name="other"')
    env = plugin_path("seqtool-sneaky", {"sneaky": "seqtool_sneaky"}, {"seqtool_sneaky": source})
    [sneaky] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_sneaky"]
    assert "'other'" in sneaky["error"] and "entry-points" in sneaky["error"]


def test_two_plugins_with_one_task_name_are_named_both(plugin_path):
    plugin_path("seqtool-echo", {"echo": "seqtool_echo"}, {"seqtool_echo": ECHO})
    env = plugin_path("seqtool-echo-two", {"echo": "seqtool_echo_two"}, {"seqtool_echo_two": ECHO})
    result = run_seqtool("run", "echo", "demo", env=env)
    assert result.returncode == 1
    assert "seqtool-echo (seqtool_echo)" in result.stderr and "seqtool-echo-two (seqtool_echo_two)" in result.stderr


def test_load_plugins_filter(plugin_path):
    env = plugin_path("seqtool-echo", {"echo": "seqtool_echo"}, {"seqtool_echo": ECHO})
    only_echo = plugins_json({**env, "SEQTOOL_LOAD_PLUGINS": "seqtool_echo"})
    assert [p["name"] for p in only_echo] == ["seqtool_echo"]
    assert plugins_json({**env, "SEQTOOL_LOAD_PLUGINS": ""}) == []
    everything = {p["name"] for p in plugins_json(env)}
    assert {"seqtool_echo", "seqtool_sentiment"} <= everything
    hidden = run_seqtool("run", "sentiment", "demo", env={**env, "SEQTOOL_LOAD_PLUGINS": "seqtool-echo"})
    assert hidden.returncode == 1 and "no task 'sentiment'" in hidden.stderr


def test_incompatible_api_version_is_refused(plugin_path):
    env = plugin_path("seqtool-future", {"future": "seqtool_future"}, {"seqtool_future": "SEQTOOL_API = '3.0'\n" + textwrap.dedent(ECHO).replace("echo", "future")})
    [future] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_future"]
    assert "API 3.0" in future["error"] and seqtool.API_VERSION in future["error"]


class Plugin:
    """A plugin object registered for one test, the way seqtool.testing lets authors do it."""

    def __init__(self, *tasks: seqtool.Task) -> None:
        self.tasks = tasks

    @seqtool.hookimpl
    def register_tasks(self, register):
        for task in self.tasks:
            register(task)


def test_registered_for_one_block_then_gone():
    task = seqtool.Task(name="temporary", description="", adapter="x:y")
    with registered(Plugin(task)) as tasks:
        assert tasks == [task] and registry().task("temporary") is task
    with pytest.raises(PluginError, match="no task 'temporary'"):
        registry().task("temporary")


def test_invalid_registrations_are_refused():
    with pytest.raises(PluginError, match="seqtool.Task"):
        with registered(Plugin("not a task")):
            pass
    with pytest.raises(PluginError, match="registered twice"):
        with registered(Plugin(seqtool.Task(name="twin", description="", adapter="x:y"), seqtool.Task(name="twin", description="", adapter="x:y"))):
            pass
