"""The behaviour task through the real command line: event logs and sequence-per-line files,
time ordering, sessions, ranking metrics against the baselines, streaming predict and the
bad-input messages the issue promises."""

from __future__ import annotations

import csv
import json
import random
import select
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import run_seqtool

TINY = ("--hidden", "32", "--embedding-dim", "16", "--lr", "0.01", "-q")
#: each persona alternates its two pages with "home": after "home" the next page depends on the
#: page before, which the last event alone (first-order Markov) cannot see
PERSONAS = {"news": ("politics", "weather"), "shop": ("shoes", "hats"), "music": ("jazz", "rock")}
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def routine(persona: str, length: int, rng: random.Random) -> list[str]:
    first, second = PERSONAS[persona]
    pages = [first, second] if rng.random() < 0.5 else [second, first]
    return [event for i in range(length) for event in ("home", pages[i % 2])]


def event_rows(users: int, seed: int, prefix: str) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        moment = START + timedelta(days=rng.randrange(30))
        for event in routine(rng.choice(list(PERSONAS)), rng.randint(3, 6), rng):
            moment += timedelta(minutes=rng.randint(1, 5))
            rows.append({"user_id": f"{prefix}{u}", "timestamp": moment.isoformat(), "event": event})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def targets(rows: list[dict[str, str]]) -> int:
    users = [r["user_id"] for r in rows]
    return len(rows) - len(set(users))


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("behaviour")
    train = event_rows(150, seed=1, prefix="t")
    random.Random(0).shuffle(train)  # training groups users and orders their events itself
    write_csv(folder / "train.csv", train)
    write_csv(folder / "test.csv", event_rows(40, seed=2, prefix="e"))  # grouped by user
    return folder


@pytest.fixture(scope="module")
def model(data: Path) -> Path:
    path = data / "beh.model"
    result = run_seqtool("run", "behaviour", "train", str(data / "train.csv"), "-o", str(path), "--epochs", "8", *TINY)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return path


def evaluate(model: Path, data: Path, *extra: str) -> dict:
    result = run_seqtool("run", "behaviour", "evaluate", "-m", str(model), str(data), "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["metrics"]


def test_evaluate_scores_every_next_event_and_beats_both_baselines(model: Path, data: Path):
    metrics = evaluate(model, data / "test.csv", "--top-k", "3")
    test_rows = list(csv.DictReader(open(data / "test.csv")))
    assert metrics["count"] == targets(test_rows)
    assert set(metrics["baselines"]) == {"most popular", "markov (1st order)"}
    for scores in [metrics, *metrics["baselines"].values()]:
        assert {"recall@1", "recall@3", "recall@5", "mrr@3", "ndcg@3", "mrr"} <= set(scores)
        assert scores["recall@1"] <= scores["recall@3"] <= scores["recall@5"] <= 1
        assert scores["recall@1"] <= scores["mrr@3"] <= scores["recall@3"]
    markov = metrics["baselines"]["markov (1st order)"]
    assert markov["recall@1"] < 0.9, "after 'home' the last event cannot tell the next page"
    assert metrics["recall@1"] > markov["recall@1"] + 0.1
    assert metrics["mrr"] > max(b["mrr"] for b in metrics["baselines"].values())


def test_last_only_scores_one_event_per_user(model: Path, data: Path):
    metrics = evaluate(model, data / "test.csv", "--last-only")
    assert metrics["count"] == 40


def test_score_from_scores_only_later_events_and_reads_earlier_ones_as_context(model: Path, data: Path):
    rows = list(csv.DictReader(open(data / "test.csv")))
    cut = sorted(r["timestamp"] for r in rows)[len(rows) // 2]
    later = sum(1 for previous, row in zip(rows, rows[1:]) if row["user_id"] == previous["user_id"] and row["timestamp"] >= cut)
    assert 0 < later < targets(rows)
    assert evaluate(model, data / "test.csv", "--score-from", cut)["count"] == later


def test_session_gap_splits_histories(model: Path, data: Path, tmp_path: Path):
    rows = event_rows(10, seed=3, prefix="s")
    position: dict[str, int] = {}
    for row in rows:  # from each user's fifth event on, two days later: two sessions per user
        position[row["user_id"]] = position.get(row["user_id"], 0) + 1
        if position[row["user_id"]] > 4:
            row["timestamp"] = (datetime.fromisoformat(row["timestamp"]) + timedelta(days=2)).isoformat()
    path = write_csv(tmp_path / "gaps.csv", rows)
    assert evaluate(model, path, "--session-gap", "1h")["count"] == targets(rows) - 10  # one target fewer per split


def test_predict_orders_by_time_whatever_the_file_order_and_timestamp_format(model: Path, tmp_path: Path):
    moments = [START + timedelta(minutes=m) for m in (1, 2, 3, 4, 5)]
    stamps = [moments[0].date().isoformat(), str(int(moments[1].timestamp())), str(int(moments[2].timestamp() * 1000)),
              moments[3].isoformat().replace("+00:00", "Z"), moments[4].strftime("%Y-%m-%d %H:%M:%S")]
    events = ["home", "jazz", "home", "rock", "home"]  # by time: next is jazz
    rows = [{"session_id": "x", "time": stamp, "item": event} for stamp, event in zip(stamps, events)]
    rows.reverse()  # file order is the opposite of time order
    result = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(write_csv(tmp_path / "h.csv", rows)), "--top-k", "4")
    assert result.returncode == 0, result.stderr
    [prediction] = jsonl(result.stdout)
    assert prediction["user"] == "x"
    assert [n["event"] for n in prediction["next"]][0] == "jazz"
    scores = [n["score"] for n in prediction["next"]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1


def test_sequence_per_line_training_and_streaming_predict_from_a_pipe(tmp_path: Path):
    rng = random.Random(5)
    lines = [" ".join(routine(rng.choice(list(PERSONAS)), 4, rng)) for _ in range(120)] + ["lonely"]
    (tmp_path / "sessions.txt").write_text("\n".join(lines) + "\n")
    model = tmp_path / "lines.model"
    result = run_seqtool("run", "behaviour", "train", str(tmp_path / "sessions.txt"), "-o", str(model), "--epochs", "6", "--hidden", "32", "--embedding-dim", "16", "--lr", "0.01")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 sequence(s) with a single event" in result.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtool", "run", "behaviour", "predict", "-m", str(model), "--top-k", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    try:
        for history, expected in [("home shoes home hats home", "shoes"), ("home jazz home rock home jazz", "home")]:
            process.stdin.write(history + "\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 60)
            assert ready, "no result while stdin is still open: predict does not stream"
            prediction = json.loads(process.stdout.readline())
            assert prediction["next"][0]["event"] == expected
        process.stdin.write("home unheard-of\n")
        process.stdin.flush()
        assert len(json.loads(process.stdout.readline())["next"]) == 2
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert process.returncode == 0
    assert "1 event(s) are not in the model's vocabulary" in process.stderr.read()


def test_an_unsorted_stream_is_refused_with_the_fix_and_accepted_with_unsorted(model: Path, tmp_path: Path):
    rows = event_rows(3, seed=4, prefix="m")
    rows.append(dict(rows[0], timestamp=(START + timedelta(days=60)).isoformat()))  # m0 comes back
    path = write_csv(tmp_path / "mixed.csv", rows)
    refused = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(path))
    assert refused.returncode == 1
    assert f"mixed.csv:{len(rows) + 1}: user 'm0' appears again" in refused.stderr and "--unsorted" in refused.stderr
    accepted = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(path), "--unsorted")
    assert accepted.returncode == 0, accepted.stderr
    assert [p["user"] for p in jsonl(accepted.stdout)] == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"user_id": "a", "timestamp": "2024-01-01", "event": "home"}, {"user_id": "a", "timestamp": "yesterday", "event": "jazz"}],
         "bad.csv:3: cannot read 'yesterday'"),
        ([{"who": "a", "when": "2024-01-01", "what": "home"}], "columns found: who, when, what"),
    ],
)
def test_bad_input_names_the_place_and_the_fix(model: Path, tmp_path: Path, rows: list[dict], message: str):
    result = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(write_csv(tmp_path / "bad.csv", rows)))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_bidirectional_model_is_refused_on_the_command_line_in_a_config_and_from_python(data: Path, tmp_path: Path):
    from seqtool import pipeline
    from seqtool.errors import UsageError
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    train = ("run", "behaviour", "train", str(data / "test.csv"), "-o", str(tmp_path / "m"), "-q")
    flag = run_seqtool(*train, "--bidirectional")
    assert flag.returncode == 2 and "--bidirectional" in flag.stderr
    config = tmp_path / "bi.toml"
    config.write_text("bidirectional = true\n")
    from_file = run_seqtool(*train, "--config", str(config))
    assert from_file.returncode == 2 and "bidirectional" in from_file.stderr and "Traceback" not in from_file.stderr
    with pytest.raises(UsageError, match="reads forward only"):
        pipeline.train(registry().task("behaviour"), str(data / "test.csv"), None, tmp_path / "m", Settings(bidirectional=True), {}, quiet=True)
    assert not (tmp_path / "m").exists()


def basket_rows(users: int) -> list[dict[str, str]]:
    """Each user buys the same four items on four days; every basket lists them in one fixed
    (catalogue) order under one timestamp."""
    return [
        {"user_id": f"b{u}", "timestamp": (START + timedelta(days=day)).isoformat(), "event": item}
        for u in range(users) for day in range(4) for item in "abcd"
    ]


def test_ties_shuffle_hides_the_file_order_of_a_basket_and_the_model_remembers_it(tmp_path: Path):
    data = write_csv(tmp_path / "baskets.csv", basket_rows(30))
    markov_at_1 = {}
    for ties in ("file", "shuffle"):
        path = tmp_path / f"{ties}.model"
        result = run_seqtool("run", "behaviour", "train", str(data), "-o", str(path), "--epochs", "1", "--ties", ties, *TINY)
        assert result.returncode == 0, result.stderr
        metrics = evaluate(path, data)  # no --ties: the model's own choice
        markov_at_1[ties] = metrics["baselines"]["markov (1st order)"]["recall@1"]
        asked = evaluate(path, data, "--ties", ties)
        assert asked["mrr"] == pytest.approx(metrics["mrr"])
        assert asked["baselines"]["markov (1st order)"] == pytest.approx(metrics["baselines"]["markov (1st order)"])
    assert markov_at_1["file"] == 1.0, "in file order every item has one successor"
    assert markov_at_1["shuffle"] < 0.6


def test_shuffle_ties_permutes_only_equal_times_and_the_same_way_every_time():
    from seqtool_behaviour.events import History, shuffle_ties

    times = [1.0] * 6 + [2.0] + [3.0] * 6
    events = [f"e{i}" for i in range(len(times))]
    shuffled = [History("u1", list(events), "f:1", list(times)) for _ in range(2)]
    for history in shuffled:
        shuffle_ties(history)
    assert shuffled[0].events == shuffled[1].events != events
    assert sorted(shuffled[0].events[:6]) == events[:6] and shuffled[0].events[6] == "e6"
    assert sorted(shuffled[0].events[7:]) == sorted(events[7:])


def test_a_jsonl_item_id_0_is_an_event_not_an_empty_field(model: Path, tmp_path: Path):
    """jsonl numbers arrive as numbers: item 0 must be read as "0", not skipped as empty."""
    rows = [{"user_id": "u1", "timestamp": i, "item": item} for i, item in enumerate([0, 1, 0, 2])]
    path = tmp_path / "zero.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(path))
    assert result.returncode == 0, result.stderr
    assert "skipped" not in result.stderr
    assert [r["user"] for r in jsonl(result.stdout)] == ["u1"]


def test_rows_with_an_empty_user_or_event_are_skipped_and_counted(model: Path, tmp_path: Path):
    rows = [
        {"user_id": "u1", "timestamp": "2024-01-01T10:00:00", "event": "home"},
        {"user_id": " ", "timestamp": "2024-01-01T10:01:00", "event": "jazz"},
        {"user_id": "u1", "timestamp": "2024-01-01T10:02:00", "event": ""},
        {"user_id": "u1", "timestamp": "2024-01-01T10:03:00", "event": "rock"},
        {"user_id": "u2", "timestamp": "2024-01-01T10:04:00", "event": ""},  # nothing left to predict from
    ]
    result = run_seqtool("run", "behaviour", "predict", "-m", str(model), str(write_csv(tmp_path / "holes.csv", rows)))
    assert result.returncode == 0, result.stderr
    assert [p["user"] for p in jsonl(result.stdout)] == ["u1"]
    assert "skipped 1 record(s) with an empty user" in result.stderr
    assert "skipped 2 record(s) with an empty event" in result.stderr
