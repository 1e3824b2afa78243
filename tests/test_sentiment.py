"""The sentiment task through the real command line: train, evaluate, predict from a pipe, csv
output, explanations, word vectors and the bad-input messages the issue promises."""

from __future__ import annotations

import csv
import json
import os
import random
import select
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_seqtool

POSITIVE = ["wonderful", "delightful", "superb", "charming", "brilliant", "moving"]
NEGATIVE = ["dreadful", "tedious", "clumsy", "lifeless", "awful", "tiresome"]
FILLER = ["the", "film", "story", "was", "really", "quite", "plot", "acting", "i", "thought", "it", "felt"]
TINY = ("--hidden", "16", "--embedding-dim", "16", "--ensemble", "1", "-q")  # conftest's trained_sentiment keeps the default 3
# Models this small train fastest on one thread; more only adds contention (a third of the CPU time).
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # for the pipes built here; run_seqtool sets it itself


def sentiment(*args: str, input: str | bytes | None = None) -> subprocess.CompletedProcess:
    """`seqtool run sentiment ARGS` in a subprocess."""
    return run_seqtool("run", "sentiment", *args, input=input)


def sentences(count: int, seed: int) -> list[tuple[str, str]]:
    """Fillers around one sentiment word: only that word tells the label, so a model that learned
    anything must have learned it, and an explanation must point at it."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        words = rng.sample(FILLER, 4)
        words.insert(rng.randrange(5), rng.choice(POSITIVE if label == "pos" else NEGATIVE))
        rows.append((" ".join(words), label))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label"), delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sentiment")
    write_csv(folder / "train.csv", sentences(300, seed=1))
    write_csv(folder / "valid.csv", sentences(60, seed=2))
    write_csv(folder / "test.tsv", sentences(80, seed=3), header=("review", "sentiment"), delimiter="\t")
    return folder


@pytest.fixture(scope="module")
def model(data: Path) -> Path:
    path = data / "sent.model"
    result = sentiment(
        "train", str(data / "train.csv"), "--valid", str(data / "valid.csv"), "-o", str(path),
        "--epochs", "6", "--dropout", "0", "--lr", "0.01", "--batch-size", "16", *TINY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # stdout carries data only
    return path


def test_evaluate_json_reports_every_metric_on_tsv_with_other_column_names(model: Path, data: Path):
    result = sentiment("evaluate", "-m", str(model), str(data / "test.tsv"), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["count"] == 80
    assert metrics["accuracy"] >= 0.9, "the sentiment word alone decides the label; the model should find it"
    assert 0 < metrics["macro_f1"] <= 1
    assert set(metrics["per_class"]) == {"neg", "pos"}
    assert {"precision", "recall", "support"} <= set(metrics["per_class"]["pos"])
    matrix = metrics["confusion"]["matrix"]
    assert metrics["confusion"]["labels"] == ["neg", "pos"]
    assert sum(map(sum, matrix)) == 80
    assert (matrix[0][0] + matrix[1][1]) / 80 == pytest.approx(metrics["accuracy"])


def test_predict_plain_lines_from_a_pipe(model: Path):
    lines = ["the acting was wonderful", "it felt tedious", "i thought the plot was brilliant", "the film was awful"]
    shell = subprocess.run(
        f"printf '%s\\n' {shlex.join(lines)} | {shlex.quote(sys.executable)} -m seqtool run sentiment predict -m {shlex.quote(str(model))}",
        shell=True, capture_output=True, text=True, timeout=120, env=os.environ | ONE_THREAD,
    )
    assert shell.returncode == 0, shell.stderr
    results = jsonl(shell.stdout)
    assert [r["text"] for r in results] == lines
    assert [r["label"] for r in results] == ["pos", "neg", "pos", "neg"]
    for r in results:
        assert set(r) == {"text", "label", "probability", "probabilities"}
        assert set(r["probabilities"]) == {"neg", "pos"}
        assert sum(r["probabilities"].values()) == pytest.approx(1, abs=1e-5)
        assert r["probability"] == max(r["probabilities"].values()) == r["probabilities"][r["label"]]


def test_predict_streams_each_line_before_stdin_closes(model: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtool", "run", "sentiment", "predict", "-m", str(model)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=os.environ | ONE_THREAD,
    )
    try:
        for line in ["the story was charming", "the plot was dreadful"]:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, "no result while stdin is still open: predict does not stream"
            assert json.loads(process.stdout.readline())["text"] == line
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0, process.stderr.read()


def test_predict_csv_with_output_file(model: Path, tmp_path: Path):
    source = tmp_path / "reviews.csv"
    rows = sentences(7, seed=4)
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        writer.writerows([(f"r{i}", text, label) for i, (text, label) in enumerate(rows)])
    out = tmp_path / "scored.csv"
    result = sentiment("predict", "-m", str(model), str(source), "--format", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    with open(out, newline="", encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert [r["id"] for r in scored] == [f"r{i}" for i in range(7)]  # input columns pass through
    assert [r["text"] for r in scored] == [text for text, _ in rows]
    assert {"label", "probability", "probabilities.neg", "probabilities.pos"} <= set(scored[0])
    for r in scored:
        assert float(r["probability"]) == float(r[f"probabilities.{r['label']}"]) >= 0.5


def test_explain_gives_a_weight_per_word_and_finds_the_sentiment_word(model: Path):
    lines = ["i thought the film was superb", "the plot felt clumsy really"]
    result = sentiment("predict", "-m", str(model), "--explain", input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    for line, record, sentiment_words in zip(lines, jsonl(result.stdout), (POSITIVE, NEGATIVE)):
        explanation = record["explanation"]
        assert [word for word, _ in explanation] == line.split()
        assert all(isinstance(weight, float) for _, weight in explanation)
        strongest = max(explanation, key=lambda pair: pair[1])[0]
        assert strongest in sentiment_words, explanation


def test_missing_column_error_lists_the_columns_found(tmp_path: Path):
    data = write_csv(tmp_path / "odd.csv", sentences(30, seed=5), header=("words", "stars"))
    result = sentiment("train", str(data), "-o", str(tmp_path / "m.model"), "--epochs", "1", *TINY)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "odd.csv" in message and "words, stars" in message and "--text-col" in message
    assert not (tmp_path / "m.model").exists()

    named = sentiment("train", str(data), "-o", str(tmp_path / "m.model"), "--text-col", "words", "--epochs", "1", *TINY)
    assert named.returncode == 1 and "--label-col" in named.stderr and "words, stars" in named.stderr


def test_empty_text_is_skipped_with_a_count_or_refused_with_strict(model: Path):
    text = "the film was superb\n\n   \nit felt awful\n"
    result = sentiment("predict", "-m", str(model), input=text)
    assert result.returncode == 0, result.stderr
    assert [r["text"] for r in jsonl(result.stdout)] == ["the film was superb", "it felt awful"]
    assert "skipped 2 record(s)" in result.stderr

    strict = sentiment("predict", "-m", str(model), "--strict", input=text)
    assert strict.returncode == 1
    assert "<stdin>:2" in strict.stderr and "empty text" in strict.stderr and "Traceback" not in strict.stderr


def test_undecodable_bytes_name_the_line_and_suggest_encoding(model: Path):
    text = "the film was superb\nthe plot was dreadful caf\xe9\n".encode("latin-1")
    result = sentiment("predict", "-m", str(model), input=text)
    assert result.returncode == 1
    message = result.stderr.decode()
    assert "<stdin>:2" in message and "--encoding" in message and "Traceback" not in message

    latin = sentiment("predict", "-m", str(model), "--encoding", "latin-1", input=text)
    assert latin.returncode == 0, latin.stderr.decode()
    assert [r["text"] for r in jsonl(latin.stdout.decode())][1] == "the plot was dreadful caf\xe9"


def test_embeddings_file_initialises_the_word_vectors(data: Path, tmp_path: Path):
    from seqtool.training.artefact import load_model

    vectors = {word: [round(0.01 * (i + 1) * (d + 1), 4) for d in range(16)] for i, word in enumerate(["wonderful", "dreadful", "film"])}
    path = tmp_path / "vectors.txt"
    path.write_text(f"{len(vectors) + 1} 16\n" + "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()) + "zebra " + "1.0 " * 15 + "1.0\n")
    model = tmp_path / "vec.model"
    # a vanishing learning rate, so what the file set is still there after training
    result = sentiment(
        "train", str(data / "train.csv"), "-o", str(model), "--embeddings", str(path),
        "--epochs", "1", "--lr", "1e-12", *TINY,
    )
    assert result.returncode == 0, result.stderr
    _, adapter_state, weights = load_model(model)
    ids = {word: i + 2 for i, word in enumerate(adapter_state["vocabulary"]["tokens"])}
    embedding = weights["members.0.embedding.weight"]
    for word, vector in vectors.items():
        assert embedding[ids[word]].tolist() == pytest.approx(vector, abs=1e-6)
    assert "zebra" not in ids  # words the data lacks are ignored, not added

    wrong = sentiment("train", str(data / "train.csv"), "-o", str(model), "--embeddings", str(path), "--hidden", "16", "--embedding-dim", "8", "-q")
    assert wrong.returncode == 1
    assert "vectors.txt:2" in wrong.stderr and "--embedding-dim 16" in wrong.stderr


def test_explain_on_a_very_long_line_weighs_only_the_first_words(model: Path):
    from seqtool_sentiment import EXPLAINED_WORDS

    words = (["superb", "clumsy", "the", "film"] * 500)[:2000]  # one 2,000-word line
    started = time.perf_counter()
    result = sentiment("predict", "-m", str(model), "--explain", input=" ".join(words) + "\n")
    assert result.returncode == 0, result.stderr
    [record] = jsonl(result.stdout)
    explanation = record["explanation"]
    assert [word for word, _ in explanation] == words  # every word is listed, in order
    assert all(isinstance(weight, float) for _, weight in explanation[:EXPLAINED_WORDS])
    assert all(weight is None for _, weight in explanation[EXPLAINED_WORDS:])
    assert time.perf_counter() - started < 60  # the square of 2,000 words would take minutes


def test_training_on_too_little_text_for_any_word_is_refused_naming_min_count(tmp_path: Path):
    data = write_csv(tmp_path / "two.csv", [("good", "pos"), ("bad", "neg")])
    result = sentiment("train", str(data), "-o", str(tmp_path / "m.model"), "--epochs", "1", *TINY)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "two.csv" in result.stderr and "--min-count" in result.stderr
    assert not (tmp_path / "m.model").exists()
    kept = sentiment("train", str(data), "-o", str(tmp_path / "m.model"), "--epochs", "1", "--min-count", "1", *TINY)
    assert kept.returncode == 0, kept.stderr
