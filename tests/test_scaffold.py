"""`seqtool plugin new` makes a package that installs, is listed, runs its demo and passes its tests;
the author guide documents every hook."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import run_seqtool

ROOT = Path(__file__).resolve().parents[1]


def test_scaffolded_plugin_installs_lists_runs_and_passes_its_own_tests(tmp_path):
    package = tmp_path / "seqtool-weather"
    made = run_seqtool("plugin", "new", "weather", "--dir", str(package))
    assert made.returncode == 0, made.stderr
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(site), str(package)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(site)}

    listed = json.loads(run_seqtool("plugins", "--json", "--check", env=env).stdout)
    [weather] = [p for p in listed if p["distribution"] == "seqtool-weather"]
    assert weather["tasks"] == ["weather"] and weather["version"] == "0.1.0" and weather["error"] is None

    demo = run_seqtool("run", "weather", "demo", "-q", env=env)
    assert demo.returncode == 0, demo.stderr
    forecasts = [json.loads(line) for line in demo.stdout.splitlines() if line.startswith("{")]
    assert {f["series"] for f in forecasts} == {"Northport", "Southbay", "Highfield"}
    assert all(len(f["forecast"]) == 7 for f in forecasts)

    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=package, capture_output=True, text=True,
        env={**os.environ, **env, "OMP_NUM_THREADS": "1"},
    )
    assert own_tests.returncode == 0, own_tests.stdout[-2000:]
    assert "2 passed" in own_tests.stdout


def test_scaffold_refuses_bad_names_and_existing_directories(tmp_path):
    bad = run_seqtool("plugin", "new", "Bad_Name", "--dir", str(tmp_path / "x"))
    assert bad.returncode == 2 and "invalid task name" in bad.stderr
    (tmp_path / "taken").mkdir()
    taken = run_seqtool("plugin", "new", "ok", "--dir", str(tmp_path / "taken"))
    assert taken.returncode == 1 and "already exists" in taken.stderr
    assert list((tmp_path / "taken").iterdir()) == []


def hook_names() -> list[str]:
    tree = ast.parse((ROOT / "seqtool" / "hookspecs.py").read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_every_hook_is_documented_and_tested():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_scaffold.py")
    assert hook_names(), "hookspecs.py declares no hooks"
    for hook in hook_names():
        assert f"### `{hook}(" in guide, f"docs/plugins.md has no section for hook {hook}"
        assert f"def {hook}(" in tests, f"no test implements hook {hook}"


def test_the_guide_shows_the_scaffold_adapter_and_task_as_generated():
    """The worked example in docs/plugins.md is the scaffold itself, so the two cannot drift apart."""
    guide = (ROOT / "docs" / "plugins.md").read_text()
    templates = ROOT / "seqtool" / "templates" / "plugin" / "package"
    adapter = (templates / "adapter.py.tmpl").read_text().replace("__MODULE__", "seqtool_weather").replace("__NAME__", "weather")
    task = (templates / "__init__.py.tmpl").read_text().replace("__MODULE__", "seqtool_weather").replace("__NAME__", "weather")
    assert adapter in guide
    assert task[task.index("TASK = Task(") :] in guide
