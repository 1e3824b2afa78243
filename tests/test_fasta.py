"""The core FASTA reader: entries, RCSB ss.txt pairs, bare sequences, line numbers, gzip, stdin."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest

from seqtool.errors import DataError
from seqtool.io.readers import input_format, read_records

RCSB = (
    ">2P09:A:sequence\nGSMD\nYK\n"
    ">2P09:A:secstr\n  HH\n  \n"  # blanks are residues DSSP left unassigned: kept, trailing ones too
    ">3M7K:A:sequence\nMTQC\n"
    ">3M7K:A:secstr\n EE \n"
    ">3M7K:A:disorder\nXX--\n"
)


def read(path, fmt="fasta", **kw):
    return [(dict(r), r.where) for r in read_records(str(path), fmt, **kw)]


def test_entries_with_their_header_lines_through_gzip(tmp_path):
    with gzip.open(tmp_path / "p.fasta.gz", "wt") as handle:
        handle.write(">1ABC:A some protein\nMKV\nLLA\n\n>2XYZ:B\r\nG G\r\n>\n")
    assert read(tmp_path / "p.fasta.gz") == [
        ({"id": "1ABC:A", "description": "1ABC:A some protein", "sequence": "MKVLLA"}, f"{tmp_path}/p.fasta.gz:1"),
        ({"id": "2XYZ:B", "description": "2XYZ:B", "sequence": "GG"}, f"{tmp_path}/p.fasta.gz:5"),
        ({"id": "", "description": "", "sequence": ""}, f"{tmp_path}/p.fasta.gz:7"),
    ]
    assert input_format(str(tmp_path / "p.fasta.gz"), None, "lines") == "fasta"


def test_rcsb_entries_of_a_chain_make_one_record_that_keeps_its_blanks(tmp_path):
    (tmp_path / "ss.txt").write_text(RCSB)
    assert read(tmp_path / "ss.txt") == [
        ({"id": "2P09:A", "description": "2P09:A:sequence", "sequence": "GSMDYK", "secstr": "  HH  "}, f"{tmp_path}/ss.txt:1"),
        ({"id": "3M7K:A", "description": "3M7K:A:sequence", "sequence": "MTQC", "secstr": " EE ", "disorder": "XX--"}, f"{tmp_path}/ss.txt:7"),
    ]


def test_an_rcsb_entry_out_of_place_names_its_line(tmp_path):
    (tmp_path / "bad.txt").write_text(">2P09:A:sequence\nGSMD\n>3M7K:A:secstr\n EE \n")
    with pytest.raises(DataError, match=r"bad.txt:3: 3M7K:A:secstr does not follow its 3M7K:A:sequence entry"):
        read(tmp_path / "bad.txt")


def test_bare_sequences_before_any_header_are_records_of_their_own(tmp_path):
    (tmp_path / "q.txt").write_text("MKTAY\n\n  gsmdyk \n>named\nACD\nEF\n")
    assert read(tmp_path / "q.txt") == [
        ({"id": "", "description": "", "sequence": "MKTAY"}, f"{tmp_path}/q.txt:1"),
        ({"id": "", "description": "", "sequence": "gsmdyk"}, f"{tmp_path}/q.txt:3"),
        ({"id": "named", "description": "named", "sequence": "ACDEF"}, f"{tmp_path}/q.txt:4"),
    ]


def test_undecodable_bytes_name_the_line(tmp_path):
    (tmp_path / "latin.fa").write_bytes(">caf\xe9\nMKV\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.fa:1: .*--encoding"):
        read(tmp_path / "latin.fa")
    assert read(tmp_path / "latin.fa", encoding="latin-1")[0][0]["id"] == "café"


def test_txt_and_stdin_are_read_the_tasks_way():
    assert input_format("ss.txt", None, "fasta") == "fasta"
    assert input_format("ss.TXT.gz", None, "fasta") == "fasta"
    assert input_format("ss.txt", "lines", "fasta") == "lines"
    read_stdin = "from seqtool.io.readers import read_records; print([(dict(r), r.where) for r in read_records('-', 'fasta')])"
    result = subprocess.run([sys.executable, "-c", read_stdin], input=">x\nMK\n", capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[({'id': 'x', 'description': 'x', 'sequence': 'MK'}, '<stdin>:1')]"
