"""Plugin discovery through real entry points, isolation of broken plugins, filtering, conflicts."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

import seqtool
from conftest import run_seqtool
from seqtool.errors import PluginError, UsageError
from seqtool.io.readers import input_format, read_records
from seqtool.io.writers import WRITERS, output_format
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
    """The listing; its exit code is 1 exactly when --check found a problem."""
    result = run_seqtool("plugins", "--json", *extra, env=env)
    listed = json.loads(result.stdout)
    assert result.returncode == (1 if "--check" in extra and any(p["error"] for p in listed) else 0), result.stderr
    return listed


def test_third_party_plugin_found_through_its_entry_point(plugin_path):
    env = plugin_path("seqtool-echo", {"echo": "seqtool_echo"}, {"seqtool_echo": ECHO}, version="2.5")
    [echo] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_echo"]
    assert echo == {
        "name": "seqtool_echo", "distribution": "seqtool-echo", "version": "2.5", "tasks": ["echo"], "error": None, "readers": [], "writers": [],
    }
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



# -- formats: register_readers and register_writers --------------------------------------------

# A plugin with a format and no task: key=value fields, tab-separated, one record per line. Its
# reader is named as a string, so the hook module stays light; importing the module leaves a mark
# in $KV_IMPORTED, so a test sees when seqtool imports it.
KV = """
    import os

    import seqtool

    if os.environ.get("KV_IMPORTED"):
        with open(os.environ["KV_IMPORTED"], "a") as mark:
            mark.write(__name__ + "\\n")

    @seqtool.hookimpl
    def register_readers(register):
        register("kv", "seqtool_kv_reader:read_kv", extensions=(".kv",))
"""

KV_READER = """
    from seqtool import DataError, Record

    def read_kv(stream, name, encoding):
        for number, raw in enumerate(stream, 1):
            line = raw.decode(encoding).rstrip("\\r\\n")
            if not line:
                continue
            pairs = [field.split("=", 1) for field in line.split("\\t")]
            if any(len(pair) != 2 for pair in pairs):
                raise DataError(f"{name}:{number}: expected key=value fields")
            yield Record(dict(pairs), name, number)
"""

# A task plugin that also adds an output format for every task.
UPPER = ECHO + """
    import json

    class UpperWriter:
        def __init__(self, stream):
            self.stream = stream

        def write(self, record):
            self.stream.write(json.dumps(record).upper() + "\\n")

        def finish(self):
            self.stream.write("END\\n")

    @seqtool.hookimpl
    def register_writers(register):
        register("upper", UpperWriter, extensions=(".up",))
"""

TEXTS = ["a truly great and lovely film", "an awful dull and boring film", "lovely lovely film"]


def formats_plugin(plugin_path, tmp_path, name: str, module: str, modules: dict[str, str]) -> dict[str, str]:
    """A fake distribution whose one entry point is in the ``seqtool.formats`` group."""
    env = plugin_path(name, {}, modules)
    info = tmp_path / "site" / f"{name.replace('-', '_')}-1.0.dist-info" / "entry_points.txt"  # conftest's layout
    info.write_text(f'[seqtool.formats]\n{module.rpartition("_")[2]} = {module}\n')
    return env


def reviews(tmp_path):
    kv = tmp_path / "reviews.kv"
    kv.write_text("".join(f"id={i}\ttext={text}\n" for i, text in enumerate(TEXTS)))
    csv = tmp_path / "reviews.csv"
    csv.write_text("id,text\n" + "".join(f"{i},{text}\n" for i, text in enumerate(TEXTS)))
    return kv, csv


def test_reader_plugin_reads_its_extension_for_every_task_and_loads_only_when_needed(plugin_path, tmp_path, trained_sentiment):
    marks = tmp_path / "imported"
    env = formats_plugin(plugin_path, tmp_path, "seqtool-kv", "seqtool_kv", {"seqtool_kv": KV, "seqtool_kv_reader": KV_READER})
    env["KV_IMPORTED"] = str(marks)
    kv, csv = reviews(tmp_path)
    predict = ("run", "sentiment", "predict", "-m", str(trained_sentiment))
    for args in (["--help"], ["run"], ["plugins", "--json"], ["run", "sentiment", "predict", "--help"]):
        assert run_seqtool(*args, env=env).returncode == 0
    from_csv = run_seqtool(*predict, str(csv), env=env)
    assert from_csv.returncode == 0, from_csv.stderr
    assert not marks.exists(), "a built-in format loaded the plugins"

    from_kv = run_seqtool(*predict, str(kv), env=env)
    assert from_kv.returncode == 0, from_kv.stderr
    assert marks.read_text() == "seqtool_kv\n"
    assert from_kv.stdout == from_csv.stdout
    results = [json.loads(line) for line in from_kv.stdout.splitlines()]
    assert [(r["id"], r["text"]) for r in results] == [(str(i), text) for i, text in enumerate(TEXTS)]
    assert {r["label"] for r in results} <= {"pos", "neg"}

    # without the plugin, .kv is no format: the task's default (lines) reads each whole line
    without = run_seqtool(*predict, str(kv), env={**env, "SEQTOOL_LOAD_PLUGINS": "seqtool"})
    assert without.returncode == 0, without.stderr
    assert json.loads(without.stdout.splitlines()[0])["text"] == f"id=0\ttext={TEXTS[0]}"

    [listed] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_kv"]
    assert listed == {"name": "seqtool_kv", "distribution": "seqtool-kv", "version": "1.0", "tasks": [], "error": None, "readers": ["kv"], "writers": []}
    assert "seqtool_kv" not in run_seqtool("run", env=env).stdout  # a formats plugin adds no task


def test_writer_plugin_adds_an_output_format_to_every_task(plugin_path, tmp_path, trained_sentiment):
    env = plugin_path("seqtool-upper", {"echo": "seqtool_upper"}, {"seqtool_upper": UPPER})
    predict = ("run", "sentiment", "predict", "-m", str(trained_sentiment))
    lines = "\n".join(TEXTS) + "\n"
    plain = run_seqtool(*predict, input=lines, env=env)
    assert plain.returncode == 0, plain.stderr
    expected = "".join(json.dumps(json.loads(line)).upper() + "\n" for line in plain.stdout.splitlines()) + "END\n"
    assert len(expected.splitlines()) == len(TEXTS) + 1

    upper = run_seqtool(*predict, "--format", "upper", input=lines, env=env)
    assert upper.returncode == 0, upper.stderr
    assert upper.stdout == expected
    out = tmp_path / "scored.up"
    by_extension = run_seqtool(*predict, "-o", str(out), input=lines, env=env)
    assert by_extension.returncode == 0, by_extension.stderr
    assert out.read_text() == expected and by_extension.stdout == ""

    unknown = run_seqtool(*predict, "--format", "shouty", input=lines, env=env)
    assert unknown.returncode == 2 and "'shouty'" in unknown.stderr and "upper" in unknown.stderr
    [listed] = [p for p in plugins_json(env, "--check") if p["name"] == "seqtool_upper"]
    assert listed["writers"] == ["upper"] and listed["tasks"] == ["echo"] and listed["error"] is None


CLASH = """
    import seqtool

    @seqtool.hookimpl
    def register_readers(register):
        register("csv", "nowhere:read", extensions=(".clash",))  # a built-in name
        register("tabbed", "nowhere:read", extensions=(".tsv",))  # a built-in extension

    @seqtool.hookimpl
    def register_writers(register):
        raise RuntimeError("the writers hook is broken")
"""


def test_format_clashes_name_both_sides_and_the_built_in_wins(plugin_path, tmp_path, trained_sentiment):
    modules = {"seqtool_kv_reader": KV_READER}
    formats_plugin(plugin_path, tmp_path, "seqtool-kv", "seqtool_kv", {**modules, "seqtool_kv": KV})
    formats_plugin(plugin_path, tmp_path, "seqtool-kv-two", "seqtool_kv_two", {"seqtool_kv_two": KV})
    env = formats_plugin(plugin_path, tmp_path, "seqtool-clash", "seqtool_clash", {"seqtool_clash": CLASH})
    kv, csv = reviews(tmp_path)
    tsv = tmp_path / "reviews.tsv"
    tsv.write_text(csv.read_text().replace(",", "\t"))

    listed = {p["name"]: p for p in plugins_json(env, "--check")}
    clash = listed["seqtool_clash"]
    assert "reader 'csv' clashes with the built-in reader 'csv'" in clash["error"]
    assert "'.tsv', which the built-in reader 'tsv' handles" in clash["error"]
    assert "register_writers failed: RuntimeError: the writers hook is broken" in clash["error"]
    assert clash["readers"] == ["tabbed"] and clash["writers"] == []
    for name in ("seqtool_kv", "seqtool_kv_two"):
        assert "seqtool-kv (seqtool_kv)" in listed[name]["error"] and "seqtool-kv-two (seqtool_kv_two)" in listed[name]["error"]
    assert listed["seqtool_sentiment"]["error"] is None

    predict = ("run", "sentiment", "predict", "-m", str(trained_sentiment))
    assert run_seqtool("--help", env=env).returncode == 0 and run_seqtool("run", env=env).returncode == 0
    from_csv = run_seqtool(*predict, str(csv), env=env)
    from_tsv = run_seqtool(*predict, str(tsv), "--format", "csv", env=env)  # a plugin format is asked of the plugins
    assert from_csv.returncode == 0 and from_tsv.returncode == 0, from_csv.stderr + from_tsv.stderr
    assert [json.loads(line)["text"] for line in from_csv.stdout.splitlines()] == TEXTS
    assert from_tsv.stdout.splitlines()[0].startswith("id,text,label")
    ambiguous = run_seqtool(*predict, str(kv), env=env)
    assert ambiguous.returncode == 1 and ambiguous.stderr.count("\n") == 1 and "Traceback" not in ambiguous.stderr
    assert "seqtool-kv (seqtool_kv)" in ambiguous.stderr and "seqtool-kv-two (seqtool_kv_two)" in ambiguous.stderr


class Formats:
    """A plugin object with formats, registered in this process for one test."""

    @seqtool.hookimpl
    def register_readers(self, register):
        register("pairs", read_pairs, extensions=("PAIRS",))  # made ".pairs"
        register("broken", lambda stream, name, encoding: iter([1 / 0]), extensions=(".broken",))
        register("not a name", read_pairs)
        register("bad-path", "no colon here")

    @seqtool.hookimpl
    def register_writers(self, register):
        register("count", "io:StringIO")  # not a writer class: refused on use, naming the plugin
        register("instance", io.StringIO())


def read_pairs(stream, name, encoding):
    for number, raw in enumerate(stream, 1):
        key, _, value = raw.decode(encoding).strip().partition(" ")
        yield seqtool.Record({"key": key, "value": value}, name, number)


def test_formats_through_the_io_functions_in_process(tmp_path):
    path = tmp_path / "x.PAIRS"
    path.write_text("a 1\nb 2\n")
    with registered(Formats()):
        assert input_format(str(path), None, "lines") == "pairs"
        assert input_format("x", "pairs", "lines") == "pairs"
        assert input_format("x.csv", None, "lines") == "csv"
        assert [(dict(r), r.where) for r in read_records(str(path), "pairs")] == [({"key": "a", "value": "1"}, f"{path}:1"), ({"key": "b", "value": "2"}, f"{path}:2")]
        (tmp_path / "x.broken").write_text("x\n")
        with pytest.raises(PluginError, match=r"reader 'broken' failed on .*x.broken: ZeroDivisionError"):
            list(read_records(str(tmp_path / "x.broken"), input_format(str(tmp_path / "x.broken"), None, "lines")))
        with pytest.raises(UsageError, match=r"unknown input format 'nope'; choose from csv, .*pairs"):
            input_format("x", "nope", "lines")
        available = dict(WRITERS)
        with pytest.raises(PluginError, match="writer 'count'.*not a writer class"):
            output_format(None, "count", "jsonl", available)
        problems = registry().formats().problems
        [mine] = [name for name in problems if "Formats" in name]
        assert any("'not a name' is not a format name" in p for p in problems[mine])
        assert any("'no colon here' is not a \"module:attribute\" path" in p for p in problems[mine])
        assert any("writer 'instance': got StringIO" in p for p in problems[mine])
    assert input_format(str(path), None, "lines") == "lines"  # gone with the plugin
    with pytest.raises(UsageError):
        input_format("x", "pairs", "lines")


# -- a plugin's failures are its own (issue 13) ----------------------------------------------------

EXITS_AT_IMPORT = """
    import sys
    print("hello from the plugin")
    sys.exit(3)
"""


def test_plugin_that_exits_and_prints_at_import_leaves_check_json_intact(plugin_path):
    env = plugin_path("seqtool-exits", {"exits": "seqtool_exits"}, {"seqtool_exits": EXITS_AT_IMPORT})
    result = run_seqtool("plugins", "--check", "--json", env=env)
    listing = json.loads(result.stdout)  # pure JSON: the plugin's print went to stderr
    [exits] = [p for p in listing if p["name"] == "seqtool_exits"]
    assert "SystemExit" in exits["error"] and "SEQTOOL_LOAD_PLUGINS" in exits["error"]
    assert {"seqtool_sentiment", "seqtool_protein"} <= {p["name"] for p in listing}  # the rest still checked
    assert "hello from the plugin" in result.stderr and "Traceback" not in result.stderr
    ran = run_seqtool("run", "exits", "demo", env=env)
    assert ran.returncode == 1 and "seqtool_exits" in ran.stderr and "SEQTOOL_LOAD_PLUGINS" in ran.stderr


def test_check_exits_1_when_a_plugin_has_a_problem(plugin_path):
    env = plugin_path("seqtool-broken", {"broken": "seqtool_broken"}, {"seqtool_broken": "import no_such_module_anywhere\n"})
    result = run_seqtool("plugins", "--check", "--json", env=env)
    assert result.returncode == 1 and json.loads(result.stdout)


def test_built_in_task_wins_over_a_third_partys_with_a_warning(plugin_path, trained_sentiment):
    source = ECHO.replace('name="echo"', 'name="sentiment"')
    env = plugin_path("seqtool-impostor", {"sentiment": "seqtool_impostor"}, {"seqtool_impostor": source})
    works = run_seqtool("run", "sentiment", "predict", "-m", str(trained_sentiment), input="a lovely film\n", env=env)
    assert works.returncode == 0, works.stderr
    assert json.loads(works.stdout)["label"] in {"pos", "neg"}
    assert works.stderr.count("seqtool_impostor") == 1 and "warning" in works.stderr and "built-in" in works.stderr
    [impostor] = [p for p in plugins_json(env) if p["name"] == "seqtool_impostor"]
    assert "built-in" in impostor["error"] and "seqtool-impostor" in impostor["error"]


def test_an_exception_raised_in_a_plugins_code_is_blamed_on_the_plugin(tmp_path, monkeypatch):
    from seqtool.plugins import blame

    (tmp_path / "seqtool_faulty.py").write_text("def encode(item):\n    raise KeyError('text')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import seqtool_faulty

    monkeypatch.setitem(registry().loaded, "seqtool_faulty", [])
    with pytest.raises(KeyError) as raised:
        seqtool_faulty.encode({})
    message = blame(raised.value)
    assert message is not None and "seqtool_faulty" in message and "SEQTOOL_LOAD_PLUGINS" in message
    assert blame(ValueError("no plugin frame")) is None
