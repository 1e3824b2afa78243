"""Readers and writers on real files and real stdin."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from seqtool.errors import DataError, UsageError
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
    assert output_format("out.data", None, "jsonl", WRITERS) == "jsonl"
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
