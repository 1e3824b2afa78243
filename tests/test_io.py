"""Readers and writers on real files and real stdin; outputs that never replace what is there;
kill -9 at random moments of train and predict."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import run_seqtool
from seqtool.errors import DataError, OutputError, UsageError
from seqtool.io.atomic import atomic_path, check_folder, check_output, write_file
from seqtool.io.readers import input_format, read_records
from seqtool.io.writers import WRITERS, open_output, output_format


def read(path, fmt, **kw):
    return [(dict(r), r.where) for r in read_records(str(path), fmt, **kw)]


def test_csv_tsv_with_quotes_and_line_numbers(tmp_path):
    (tmp_path / "a.csv").write_text('text,label\n"hello, world",1\n"multi\nline",0\n')
    assert read(tmp_path / "a.csv", "csv") == [
        ({"text": "hello, world", "label": "1"}, f"{tmp_path}/a.csv:2"),
        ({"text": "multi\nline", "label": "0"}, f"{tmp_path}/a.csv:4"),
    ]
    (tmp_path / "a.tsv").write_text("seq\tss\nACD\tHHE\n")
    assert read(tmp_path / "a.tsv", "tsv") == [({"seq": "ACD", "ss": "HHE"}, f"{tmp_path}/a.tsv:2")]


def test_ragged_csv_row_names_the_line(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"bad.csv:3: 3 fields, but the header has 2"):
        read(tmp_path / "bad.csv", "csv")


def test_jsonl_and_its_errors(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x", "n": 2}\n\n{"text": "y"}\n')
    assert [r for r, _ in read(tmp_path / "a.jsonl", "jsonl")] == [{"text": "x", "n": 2}, {"text": "y"}]
    (tmp_path / "bad.jsonl").write_text('{"text": "x"}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: a JSON list"):
        read(tmp_path / "bad.jsonl", "jsonl")
    (tmp_path / "broken.jsonl").write_text('{"text": \n')
    with pytest.raises(DataError, match=r"broken.jsonl:1: not valid JSON"):
        read(tmp_path / "broken.jsonl", "jsonl")


def test_lines_split_on_newline_only_and_keep_empty_lines(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one\x0btwo\r\n\nthree")
    assert [r["text"] for r, _ in read(tmp_path / "a.txt", "lines")] == ["one\x0btwo", "", "three"]


def test_undecodable_bytes_name_the_line_and_suggest_encoding(tmp_path):
    (tmp_path / "latin.txt").write_bytes("fine\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.txt:2: .*--encoding"):
        read(tmp_path / "latin.txt", "lines")
    assert read(tmp_path / "latin.txt", "lines", encoding="latin-1")[1][0] == {"text": "café"}


def test_fasta_through_biopython_and_gzip(tmp_path):
    with gzip.open(tmp_path / "p.fasta.gz", "wt") as handle:
        handle.write(">1ABC:A some protein\nMKV\nLLA\n>2XYZ:B\nGG\n")
    records = read(tmp_path / "p.fasta.gz", "fasta")
    assert [r for r, _ in records] == [
        {"id": "1ABC:A", "description": "1ABC:A some protein", "sequence": "MKVLLA"},
        {"id": "2XYZ:B", "description": "2XYZ:B", "sequence": "GG"},
    ]
    assert input_format(str(tmp_path / "p.fasta.gz"), None, "lines") == "fasta"


def test_format_resolution():
    assert input_format("x.tsv", None, "lines") == "tsv"
    assert input_format("-", None, "csv") == "csv"
    assert input_format("x.data", None, "lines") == "lines"
    assert input_format("x.csv", "jsonl", "lines") == "jsonl"
    with pytest.raises(UsageError):
        input_format("x", "xml", "lines")
    assert output_format("out.csv", None, "jsonl", WRITERS) == "csv"
    assert output_format(None, None, "jsonl", WRITERS) == "jsonl"
    assert output_format("out.ss2", None, "jsonl", {**WRITERS, "ss2": object}) == "ss2"
    assert output_format("out.csv.gz", None, "jsonl", WRITERS) == "csv"
    assert output_format("out.gz", None, "jsonl", WRITERS) == "jsonl"
    assert output_format("out.data", "csv", "jsonl", WRITERS) == "csv"  # --format says what the name does not
    with pytest.raises(UsageError, match=r"out\.data: no writer for the extension \.data; this task writes csv, jsonl, tsv"):
        output_format("out.data", None, "jsonl", WRITERS)  # not silently the default
    with pytest.raises(UsageError, match="this task writes"):
        output_format(None, "parquet", "jsonl", WRITERS)


def test_stdin_is_read_through_a_real_pipe():
    code = "from seqtool.io.readers import read_records; import json; print(json.dumps([dict(r) for r in read_records('-', 'csv')]))"
    result = subprocess.run([sys.executable, "-c", code], input="a,b\n1,2\n", capture_output=True, text=True)
    assert json.loads(result.stdout) == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv"])
def test_writers_round_trip_through_the_readers(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    records = [{"text": "a, b", "label": "x", "p": {"x": 0.75, "y": 0.25}}, {"text": "c", "label": "y", "p": {"x": 0.1, "y": 0.9}}]
    with open_output(str(out), WRITERS[fmt]) as writer:
        for record in records:
            writer.write(record)
    back = [r for r, _ in read(out, fmt)]
    if fmt == "jsonl":
        assert back == records
    else:  # nested dicts are flattened into columns
        assert back[0] == {"text": "a, b", "label": "x", "p.x": "0.75", "p.y": "0.25"}


def test_failed_output_leaves_no_file(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    with pytest.raises(RuntimeError):
        with open_output(str(out), WRITERS["jsonl"]) as writer:
            writer.write({"a": 1})
            raise RuntimeError("interrupted")
    assert out.read_text() == "previous\n"
    assert list(tmp_path.iterdir()) == [out]


def write_records(out, fmt, records):
    with open_output(str(out), WRITERS[fmt]) as writer:
        for record in records:
            writer.write(record)


def test_gzip_is_found_by_its_bytes_not_its_name(tmp_path):
    (tmp_path / "packed.csv").write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert read(tmp_path / "packed.csv", "csv") == [({"a": "1", "b": "2"}, f"{tmp_path}/packed.csv:2")]
    code = "from seqtool.io.readers import read_records; print([dict(r) for r in read_records('-', 'csv')])"
    piped = subprocess.run([sys.executable, "-c", code], input=gzip.compress(b"a,b\n1,2\n"), capture_output=True)
    assert piped.stdout == b"[{'a': '1', 'b': '2'}]\n", piped.stderr
    (tmp_path / "plain.csv.gz").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"plain.csv.gz: named .gz, but not gzip data"):
        read(tmp_path / "plain.csv.gz", "csv")
    (tmp_path / "empty.gz").write_bytes(b"")
    assert read(tmp_path / "empty.gz", "lines") == []


def test_damaged_gzip_is_one_error_naming_the_file(tmp_path):
    packed = gzip.compress("".join(f"line {i}\n" for i in range(5000)).encode())
    (tmp_path / "cut.txt.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=r"cut.txt.gz: the gzip data ends early"):
        read(tmp_path / "cut.txt.gz", "lines")
    (tmp_path / "bent.txt.gz").write_bytes(packed[:40] + bytes(60) + packed[100:])
    with pytest.raises(DataError, match=r"bent.txt.gz: damaged gzip data"):
        read(tmp_path / "bent.txt.gz", "lines")


@pytest.mark.parametrize(
    "content, encoding, message",
    [
        (b"a,b\n1,\x002\n", "latin-1", r"data.csv:2: binary data \(a NUL byte at column 3\)"),  # whatever the encoding
        (b"\x89PNG\x01\x02\xff\n", "utf-8", r"data.csv:1: binary data \(control bytes\)"),  # not "try --encoding"
        (bz2.compress(b"a,b\n1,2\n"), "latin-1", r"data.csv: bzip2-compressed data; decompress it"),
        ("a,b\n1,2\n".encode("utf-16"), "utf-8", r"data.csv: UTF-16 .*iconv"),
        (gzip.compress(bz2.compress(b"a,b\n")), "utf-8", r"data.csv: bzip2-compressed data"),
    ],
    ids=["nul", "control-bytes", "bzip2", "utf-16", "bzip2-in-gzip"],
)
def test_data_that_is_not_text_is_named_as_such(tmp_path, content, encoding, message):
    (tmp_path / "data.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        read(tmp_path / "data.csv", "csv", encoding=encoding)


def test_an_unknown_encoding_is_a_usage_error(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    for encoding in ("klingon", "rot13"):
        with pytest.raises(UsageError, match=rf"--encoding '{encoding}'"):
            read(tmp_path / "a.txt", "lines", encoding=encoding)


def test_csv_rows_with_other_fields_than_the_first(tmp_path):
    """Missing fields are empty; a field the header lacks is an error naming the result."""
    out = tmp_path / "out.csv"
    write_records(out, "csv", [{"a": 1, "b": 2}, {"a": 3}])
    assert out.read_text() == "a,b\n1,2\n3,\n"
    with pytest.raises(DataError, match=r"result 2 \(output line 3\) has the field 'c'.*--format jsonl"):
        write_records(out, "csv", [{"a": 1}, {"a": 2, "c": 3}])
    assert out.read_text() == "a,b\n1,2\n3,\n"  # the failed run left the earlier output alone


def test_gz_outputs_are_gzipped_in_the_format_before_gz(tmp_path):
    out = tmp_path / "out.csv.gz"
    write_records(out, output_format(str(out), None, "jsonl", WRITERS), [{"a": 1, "b": "x"}])
    assert gzip.decompress(out.read_bytes()) == b"a,b\n1,x\n"
    assert read(out, "csv") == [({"a": "1", "b": "x"}, f"{out}:2")]


def test_new_files_get_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    out = tmp_path / "out.jsonl"
    previous = os.umask(0o027)
    try:
        write_records(out, "jsonl", [{"a": 1}])
        model = tmp_path / "m.model"
        with atomic_path(model) as temporary:
            temporary.write_bytes(b"weights")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(model.stat().st_mode) == 0o640
    out.chmod(0o604)
    write_records(out, "jsonl", [{"a": 2}])
    write_file(model, b"new weights")
    assert stat.S_IMODE(out.stat().st_mode) == 0o604 and out.read_text() == '{"a": 2}\n'
    assert model.read_bytes() == b"new weights"


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    target, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    target.write_text("old\n")
    link.symlink_to(target)
    write_records(link, "jsonl", [{"a": 1}])
    write_file(link, b'{"a": 2}\n')
    assert link.is_symlink() and target.read_text() == '{"a": 2}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "real.jsonl"]


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "results"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_records(fifo, "jsonl", [{"a": 1}, {"a": 2}])
    reader.join(timeout=10)
    assert received == [b'{"a": 1}\n{"a": 2}\n']
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_devices_are_written_through_not_replaced(tmp_path):
    write_records(Path("/dev/null"), "jsonl", [{"a": 1}])
    with atomic_path(Path("/dev/null")) as temporary:
        temporary.write_bytes(b"weights")
    assert Path("/dev/null").is_char_device()
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # /dev/full's numbers: every write fails
    except OSError:
        pytest.skip("cannot make a device node here")
    for write in (lambda: write_records(full, "jsonl", [{"a": 1}]), lambda: write_file(full, b"weights")):
        with pytest.raises(OutputError, match=r"full: cannot write: No space left on device"):
            write()
    with pytest.raises(OutputError, match=r"full: cannot write"):
        with atomic_path(full) as temporary:
            temporary.write_bytes(b"weights")
    assert full.is_char_device() and list(tmp_path.iterdir()) == [full]


def test_paths_are_checked_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    for path, message in [
        (tmp_path, r"a folder; give a file path"),
        (tmp_path / "absent" / "out.jsonl", r"the folder .*absent does not exist"),
        (tmp_path / "file" / "out.jsonl", r"file is not a folder"),
        (tmp_path / "file", r"that is the input"),
    ]:
        with pytest.raises(OutputError, match=message):
            check_output(path, inputs=[tmp_path / "file"])
    check_output(tmp_path / "new.jsonl")
    check_folder(tmp_path / "checkpoints" / "run1")  # made, with its parents
    assert (tmp_path / "checkpoints" / "run1").is_dir()
    with pytest.raises(OutputError, match=r"file: a file, not a folder"):
        check_folder(tmp_path / "file")
    with pytest.raises(OutputError, match=r"cannot create the folder: Not a directory"):
        check_folder(tmp_path / "file" / "checkpoints")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints", "file"]  # no probe left behind


def test_temporary_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    stale = tmp_path / f".out.jsonl.{host}-{dead.stdout.strip()}.0123abcd.partial"
    alive = tmp_path / f".out.jsonl.{host}-{os.getpid()}.0123abcd.partial"  # a write still going on
    other = tmp_path / f".out.jsonl.elsewhere-{dead.stdout.strip()}.0123abcd.partial"  # another host's
    for path in (stale, alive, other):
        path.write_text("half")
    write_records(tmp_path / "out.jsonl", "jsonl", [{"a": 1}])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "out.jsonl"])


# -- kill -9 at random moments ------------------------------------------------------------------

SENTINEL = b"the file that was here\n"
LINES = 8000  # predict's results: enough that a kill may land while they are written


def _killed_after(seconds: float, args: list[str], cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("SEQTOOL_DEBUG", None)
    process = subprocess.Popen([sys.executable, "-m", "seqtool", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.wait()  # reaped: a zombie would still count as running


def _as_it_was_or_complete(out: Path, before: bytes, verb: str) -> str:
    content = out.read_bytes()
    if content == before:
        return "as it was"
    if verb == "train":
        from seqtool.training.artefact import load_model

        load_model(out)  # a damaged or half model file raises
    else:
        assert len([json.loads(line) for line in content.decode().splitlines()]) == LINES
    return "complete"


def kill_nine(verb: str, kills: int, tmp_path: Path, sentiment_csv: Path, trained_sentiment: Path) -> None:
    """``kills`` runs of ``verb``, each killed at a random moment of the time a whole run takes,
    leave ``-o`` as it was or complete; the next run that finishes leaves no temporary file
    behind. SEQTOOL_FAULT_SEED repeats a failed run's moments."""
    seed = int(os.environ.get("SEQTOOL_FAULT_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    if verb == "train":
        out = tmp_path / "m.model"
        args = ["run", "sentiment", "train", str(sentiment_csv), "-o", str(out), "--epochs", "1", "--hidden", "8", "--ensemble", "1", "-q"]
        inputs = set()
    else:
        out = tmp_path / "scored.jsonl"
        (tmp_path / "lines.txt").write_text("a fine film , truly great\n" * LINES)
        args = ["run", "sentiment", "predict", "-m", str(trained_sentiment), str(tmp_path / "lines.txt"), "-o", str(out), "-q"]
        inputs = {"lines.txt"}
    out.write_bytes(SENTINEL)
    started = time.monotonic()
    assert run_seqtool(*args).returncode == 0
    whole = time.monotonic() - started
    seen = []
    for _ in range(kills):
        before = out.read_bytes()
        _killed_after(rng.uniform(0.2, 1.1 * whole), args, tmp_path)
        seen.append(_as_it_was_or_complete(out, before, verb))
    finished = run_seqtool(*args)
    assert finished.returncode == 0, finished.stderr
    assert _as_it_was_or_complete(out, b"", verb) == "complete"
    assert {p.name for p in tmp_path.iterdir()} == {out.name, *inputs}, f"a temporary file was left (SEQTOOL_FAULT_SEED={seed}; after the kills: {seen})"


@pytest.mark.parametrize("verb", ["train", "predict"])
def test_kill_9_leaves_the_output_as_it_was_or_complete(verb, tmp_path, sentiment_csv, trained_sentiment):
    kill_nine(verb, 3, tmp_path, sentiment_csv, trained_sentiment)


@pytest.mark.slow
@pytest.mark.parametrize("verb", ["train", "predict"])
def test_kill_9_twenty_times(verb, tmp_path, sentiment_csv, trained_sentiment):
    kill_nine(verb, 20, tmp_path, sentiment_csv, trained_sentiment)
