"""protein-ss: the real CLI on the bundled PDB sample and on small files made here."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from conftest import run_seqtool

SAMPLES = Path(__file__).resolve().parents[1] / "plugins" / "seqtool_protein" / "sample_data"
TINY = ("--epochs", "1", "--hidden", "8", "--layers", "1", "--batch-size", "8", "-q")
#: one thread per process: the test machine has two cores, shared
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
SS2_ROW = re.compile(r"^ {0,3}\d+ [A-Z] [HEC]  [ \d.]{6} [ \d.]{6} [ \d.]{6}$")


def cli(*args: str, input: str | None = None):
    return run_seqtool("run", "protein-ss", *args, input=input, env=ONE_THREAD)


def sample_rows(name: str) -> list[dict[str, str]]:
    with open(SAMPLES / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def fasta(chains: dict[str, str]) -> str:
    return "".join(f">{name}\n{sequence}\n" for name, sequence in chains.items())


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def read(path: Path, fmt: str, *, labelled: bool = True, **options):
    """A file read by the core reader ``fmt`` with the task's columns found and renamed as the
    core does it, and the options left for the adapter (the column flags are the core's)."""
    from seqtool.data.columns import column_flags, resolve_columns
    from seqtool.io.readers import read_records
    from seqtool_protein import TASK

    given, options = column_flags(TASK.columns, options)
    return resolve_columns(read_records(str(path), fmt), TASK.columns, given=given, trained={}, labelled=labelled), options


def examples(path: Path, fmt: str, *, labelled: bool = True, **options):
    """What the adapter makes of a file read by the core reader ``fmt``, in process."""
    from seqtool_protein.adapter import ProteinAdapter

    records, options = read(path, fmt, labelled=labelled, **options)
    return list(ProteinAdapter(options).examples(records, labelled=labelled))


@pytest.fixture(scope="module")
def small_train(tmp_path_factory) -> Path:
    """The sample's first 30 training chains: enough to exercise training, quick to train on."""
    path = tmp_path_factory.mktemp("protein") / "train.csv"
    path.write_text("".join((SAMPLES / "train.csv").read_text().splitlines(keepends=True)[:31]))
    return path


@pytest.fixture(scope="module")
def model3(tmp_path_factory, small_train) -> Path:
    path = tmp_path_factory.mktemp("protein") / "ss3.model"
    result = cli("train", str(small_train), "--valid", str(SAMPLES / "valid.csv"), "-o", str(path), *TINY)
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def model8(tmp_path_factory, small_train) -> Path:
    path = tmp_path_factory.mktemp("protein") / "ss8.model"
    result = cli("train", str(small_train), "--states", "8", "-o", str(path), *TINY)
    assert result.returncode == 0, result.stderr
    return path


# -- training and scoring ----------------------------------------------------------------------


def test_evaluate_scores_only_the_residues_the_mask_keeps(model3):
    result = cli("evaluate", "-m", str(model3), str(SAMPLES / "test.csv"), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    observed = sum(row["mask"].count("1") for row in sample_rows("test.csv"))
    assert metrics["count"] == observed < sum(len(row["seq"]) for row in sample_rows("test.csv"))
    assert sum(map(sum, metrics["confusion"]["matrix"])) == observed
    assert metrics["q3"] == pytest.approx(metrics["accuracy"])
    assert set(metrics["per_class"]) == {"H", "E", "C"}
    assert 0 < metrics["sov3"] <= 1


def test_eight_state_model_reports_q8_and_its_q3(model8):
    result = cli("evaluate", "-m", str(model8), str(SAMPLES / "test.csv"), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert list(metrics["per_class"]) == list("HGIEBTSC")
    assert metrics["q8"] == metrics["accuracy"]
    # reducing to 3 states only merges classes, so every Q8 hit is a Q3 hit
    assert metrics["q3"] >= metrics["q8"]


def test_rcsb_ss_txt_scores_every_residue(model3):
    result = cli("evaluate", "-m", str(model3), str(SAMPLES / "ss.txt"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["count"] == sum(len(r["seq"]) for r in sample_rows("test.csv")[:5])


# -- predicting --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def query_predictions(model3) -> list[dict]:
    result = cli("predict", "-m", str(model3), str(SAMPLES / "query.fasta"))
    assert result.returncode == 0, result.stderr
    return jsonl(result.stdout)


def test_predict_fasta_file_to_jsonl(query_predictions):
    queries = re.findall(r">(\S+)\n(\S+)", (SAMPLES / "query.fasta").read_text())
    assert [(r["id"], r["sequence"]) for r in query_predictions] == queries
    for record in query_predictions:
        assert len(record["ss"]) == len(record["sequence"]) == len(record["probabilities"])
        for state, row in zip(record["ss"], record["probabilities"]):
            assert sum(row) == pytest.approx(1, abs=0.003)
            assert row["HEC".index(state)] == pytest.approx(max(row), abs=0.001)


def test_ss2_output_matches_the_jsonl_probabilities(model3, query_predictions, tmp_path):
    out = tmp_path / "query.ss2"
    result = cli("predict", "-m", str(model3), str(SAMPLES / "query.fasta"), "--format", "ss2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    blocks = out.read_text().split("\n\n# ")
    assert len(blocks) == len(query_predictions)
    for block, record in zip(blocks, query_predictions):
        header, blank, *rows = block.splitlines()
        assert header.endswith(f"PSIPRED VFORMAT (seqtool protein-ss) {record['id']}") and blank == ""
        assert len(rows) == len(record["sequence"])
        for number, (row, residue, state, (h, e, c)) in enumerate(zip(rows, record["sequence"], record["ss"], record["probabilities"]), 1):
            assert SS2_ROW.match(row), row
            assert row.split() == [str(number), residue, state, f"{c:.3f}", f"{h:.3f}", f"{e:.3f}"]


def test_plain_sequences_from_a_pipe_including_one_of_thousands_of_residues(model3):
    long_chain = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQ" * 110  # 6,160 residues
    sequences = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "gsmdykdddd", "ACDEFGHIKLMNPQRSTVWYXBZUO", long_chain]
    piped = "\n".join(sequences[:2]) + "\n\n" + "\n".join(sequences[2:]) + "\n"
    result = cli("predict", "-m", str(model3), "--format", "fasta", input=piped)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0::2] == [">seq1", ">seq2", ">seq3", ">seq4"]
    assert [len(states) for states in lines[1::2]] == [len(s) for s in sequences]
    assert set("".join(lines[1::2])) <= set("HEC")


# -- bad input ---------------------------------------------------------------------------------


def test_invalid_letter_names_chain_and_position_and_can_be_skipped(model3):
    query = fasta({"good": "MKTAYIAKQR", "bad": "MKT1AYIAK", "fine": "GSHMSLFDFF"})
    result = cli("predict", "-m", str(model3), "--format", "fasta", input=query)
    assert result.returncode == 1
    assert "bad" in result.stderr and "position 4" in result.stderr and "--skip-invalid" in result.stderr
    skipped = cli("predict", "-m", str(model3), "--format", "fasta", "--skip-invalid", input=query)
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stdout.splitlines()[0::2] == [">good", ">fine"]
    assert "skipped 1 record(s) with letters that are not amino acids" in skipped.stderr


def test_empty_input_predicts_nothing_and_unlabelled_input_cannot_be_scored(model3):
    result = cli("predict", "-m", str(model3), input="\n\n")
    assert (result.returncode, result.stdout) == (0, "")
    assert "<stdin>: no records to predict" in result.stderr
    result = cli("evaluate", "-m", str(model3), "-", input="MKTAYIAKQR\n")
    assert result.returncode == 1
    assert "<stdin>:1: cannot tell which column holds the secondary structure" in result.stderr
    assert "csv/tsv/jsonl with seq and sst3 or sst8 columns" in result.stderr and "FASTA pairs" in result.stderr


def test_plain_lines_are_refused_with_the_format_that_reads_them():
    from seqtool import DataError

    with pytest.raises(DataError, match=r"ss.txt:1: protein-ss does not read plain lines.*--input-format fasta"):
        examples(SAMPLES / "ss.txt", "lines")


@pytest.mark.parametrize(
    "row, message",
    [
        ("x1,MKTAYIAK,HHHHCC,11111111", "8 residues but 6 state labels"),
        ("x1,MKTAYIAK,HHHHCCQC,11111111", "state label 'Q' at position 7"),
        ("x1,MKTAYIAK,HHHHCCCC,1111", "a mask of 4"),
        ("x1,MKTAYIAK,HHHHCCCC,11112111", "letters other than 0 and 1"),
        ("x1,,,", "an empty sequence"),
    ],
)
def test_records_that_do_not_fit_name_file_line_and_chain(tmp_path, row, message):
    from seqtool import DataError

    data = tmp_path / "bad.csv"
    data.write_text("id,seq,sst3,mask\nx0,GSHMSLFD,CCHHHHCC,11111111\n" + row + "\n")
    with pytest.raises(DataError, match=re.escape(f"{data}:3: chain x1 has") + ".*" + re.escape(message)):
        examples(data, "csv")


def test_eight_states_need_eight_state_labels(tmp_path):
    from seqtool import DataError
    from seqtool_protein.adapter import ProteinAdapter

    data = tmp_path / "q3only.csv"
    data.write_text("id,seq,sst3\n" + "".join(f"c{i},{r['seq']},{r['sst3']}\n" for i, r in enumerate(sample_rows("valid.csv"))))
    records, options = read(data, "csv", states="8")
    with pytest.raises(DataError, match="8-state secondary structure.*--ss-col"):
        ProteinAdapter(options).fit(list(records))
    records, options = read(data, "csv", states="8", ss_col="sst3")
    with pytest.raises(DataError, match="needs DSSP 8-state labels.*--states 3"):
        ProteinAdapter(options).fit(list(records))


def test_rcsb_pairs_keep_their_blanks_as_coil():
    """ss.txt holds test.csv's first chains with coil and unobserved residues as blanks."""
    from seqtool_protein.states import Q3, TO_Q3

    rcsb = examples(SAMPLES / "ss.txt", "fasta")
    rows = sample_rows("test.csv")[: len(rcsb)]
    assert len(rcsb) == 5
    for example, row in zip(rcsb, rows):
        expected = [Q3.index(TO_Q3[s]) if m == "1" else Q3.index("C") for s, m in zip(row["sst8"], row["mask"])]
        assert example.target.tolist() == expected
        assert bool(example.step_mask.all())


def test_rcsb_pairs_score_alike_from_a_fasta_file_and_from_stdin(tmp_path, model3):
    data = tmp_path / "ss.fasta"
    data.write_text((SAMPLES / "ss.txt").read_text())
    from_file = cli("evaluate", "-m", str(model3), str(data), "--json")
    piped = cli("evaluate", "-m", str(model3), "-", "--json", input=(SAMPLES / "ss.txt").read_text())
    assert from_file.returncode == piped.returncode == 0, from_file.stderr + piped.stderr
    assert json.loads(from_file.stdout)["metrics"] == json.loads(piped.stdout)["metrics"]


def test_a_chain_with_too_few_states_names_its_header_line(tmp_path):
    from seqtool import DataError

    data = tmp_path / "short.txt"
    data.write_text(">1ABC:A:sequence\nMKTAYI\n>1ABC:A:secstr\nHHHH\n>2XYZ:B:sequence\nGG\n>2XYZ:B:secstr\n  \n")
    with pytest.raises(DataError, match=re.escape(f"{data}:1: chain 1ABC:A has 6 residues but 4 state labels")):
        examples(data, "fasta")


def test_named_columns_and_jsonl_lists(tmp_path):
    data = tmp_path / "renamed.jsonl"
    data.write_text(json.dumps({"name": "a", "residues": "MKTAYI", "dssp8": "CHHGGE", "observed": [0, 1, 1, 1, 1, 0]}) + "\n")
    (example,) = examples(data, "jsonl", states="8", seq_col="residues", ss_col="dssp8", mask_col="observed")
    assert example.target.tolist()[1:5] == ["HGIEBTSC".index(s) for s in "HHGG"]
    assert example.step_mask.tolist() == [False, True, True, True, True, False]
    assert example.meta == ("a", "MKTAYI")


def test_sample_data_reads_whole():
    counts = {name: len(examples(SAMPLES / name, "csv")) for name in ("train.csv", "valid.csv", "test.csv")}
    assert counts == {"train.csv": 100, "valid.csv": 25, "test.csv": 25}
    assert len(examples(SAMPLES / "query.fasta", "fasta", labelled=False)) == 10


# -- the parts, in process ---------------------------------------------------------------------


def test_sov_rewards_whole_segments_over_residue_hits():
    from seqtool_protein.sov import NOT_SCORED, segments, sov99

    H, C = 0, 2
    assert sov99([H] * 5 + [C] * 5, [H] * 5 + [C] * 5) == 1.0
    # worked by hand from Zemla et al. 1999: helix (3+1)/5*5, coil (5+2)/7*5, over N = 10
    assert sov99([H] * 5 + [C] * 5, [H] * 3 + [C] * 7) == pytest.approx(9 / 10)
    # one wrong residue breaks a helix in two: Q3 is 7/8 but SOV (3+1)/8*8 + (4+2)/8*8 over 16
    assert sov99([H] * 8, [H] * 3 + [C] + [H] * 4) == pytest.approx(10 / 16)
    # an unscored residue ends a segment and counts nowhere
    assert segments([H, H, NOT_SCORED, H]) == [(H, 0, 2), (H, 3, 4)]
    assert sov99([NOT_SCORED] * 3, [NOT_SCORED] * 3) is None


def test_features_handle_case_ambiguity_codes_and_rare_residues():
    from seqtool_protein.features import FEATURES, InvalidResidue, encode

    upper = encode("ACDXBZUOJ")
    assert upper.shape == (9, FEATURES)
    assert encode("acdxbzuoj").equal(upper)
    assert upper[4, :20].sum() == pytest.approx(1)  # B: half D, half N
    assert upper[6].equal(encode("C")[0])  # selenocysteine reads as cysteine
    with pytest.raises(InvalidResidue, match="'ß' at position 3"):
        encode("ACß")


def test_long_batches_run_in_slices_with_the_same_results(model3):
    from seqtool import Record
    from seqtool.engine import Engine
    from seqtool.model import load
    from seqtool.plugins import registry

    loaded = load(registry().task("protein-ss"), model3)
    model, adapter = loaded.network, loaded.adapter
    sequences = [row["seq"] for row in sample_rows("test.csv")[:6]]
    examples = [adapter.encode(Record({"id": str(i), "seq": s}, "test"), labelled=False) for i, s in enumerate(sequences)]

    def predicted(engine: Engine) -> tuple[int, list[dict]]:
        passes = len(list(engine.run(examples)))
        return passes, [adapter.decode(output, meta) for output, meta in engine.each(examples)]

    passes, whole = predicted(Engine(model))
    sliced_passes, sliced = predicted(Engine(model, token_budget=max(map(len, sequences)) * 2))
    assert passes == 1 and sliced_passes > 1
    assert sliced == whole