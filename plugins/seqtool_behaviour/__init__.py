"""seqtool plugin ``behaviour``: forecast a user's next event from their history (GRU4Rec-style).

This module stays light (no torch): it only describes the task. The work is in
:mod:`seqtool_behaviour.adapter`, imported when the task runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

import seqtool
from seqtool import Column, SampleData, Task, option, parse_duration
from seqtool_behaviour.events import TIES, parse_moment

SAMPLES = Path(__file__).parent / "sample_data"


class Checked(click.ParamType):
    """A value ``parse`` accepts (a duration, a time), kept as written so the model card reads naturally."""

    def __init__(self, name: str, parse: Callable[[Any], Any]) -> None:
        self.name, self.parse = name, parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            self.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return str(value).strip()


TASK = Task(
    name="behaviour",
    description=(
        "A user's ordered events -> the next event, ranked (top-k). Reads an event log (csv/tsv/jsonl "
        "with user, timestamp and event columns) or one sequence per line (events separated by spaces)."
    ),
    adapter="seqtool_behaviour.adapter:BehaviourAdapter",
    sample_data=SampleData(
        train=SAMPLES / "train.csv", valid=SAMPLES / "valid.csv", test=SAMPLES / "test.csv", predict=SAMPLES / "history.csv"
    ),
    defaults={
        "cell": "gru",
        "bidirectional": False,
        "hidden": 100,
        "embedding_dim": 64,
        "dropout": 0.1,
        "epochs": 10,
        "batch_size": 64,
        "lr": 3e-3,
        "weight_decay": 0.0,
    },
    monitor=("mrr", "max"),
    # after every event, the next one: reading backwards would see the answer
    input="tokens",
    output="per_step",
    causal=True,
    columns=[
        Column("user", ("user_id", "session", "session_id", "customer", "customer_id", "visitor_id", "client_id"), what="user or session id"),
        # without one, events keep file order
        Column("time", ("timestamp", "time", "datetime", "date", "ts", "event_time", "created_at"), what="timestamp", needed="optional"),
        Column("event", ("event_type", "item", "item_id", "action", "page", "product_id", "category"), what="event"),
    ],
    options=[
        option("--session-gap", type=Checked("duration", parse_duration), help="Split a user's history where events are further apart than this (30m, 2h, 1d)."),
        option("--ties", type=click.Choice(TIES), help="Order of events with the same timestamp: file (as listed, the default) or shuffle (seeded per user: for baskets, whose file order is not behaviour). A model remembers its training choice."),
        option("--min-count", verbs=("train",), type=click.IntRange(1), help="Events seen fewer times in training become 'unknown' (default 1)."),
        option("--max-length", type=click.IntRange(2), help="Longest window read at once; longer histories are read in overlapping windows (default 200)."),
        option("--top-k", verbs=("evaluate", "predict", "demo"), type=click.IntRange(1), help="Events to rank and score: Recall/MRR/NDCG@k, k predictions per user (default 20)."),
        option("--last-only", verbs=("evaluate",), is_flag=True, default=None, help="Score only each sequence's last event (leave-last-out) instead of every next event."),
        option("--score-from", verbs=("evaluate",), type=Checked("time", parse_moment), help="Score only next events at or after this time (ISO-8601, unix, M/D/YYYY...); earlier events are context (a temporal split)."),
        option("--unsorted", verbs=("evaluate", "predict"), is_flag=True, default=None, help="The log is not grouped by user: read it all into memory first instead of streaming user by user."),
    ],
    input_format="lines",
    examples=[
        "seqtool run behaviour demo",
        "seqtool run behaviour train events.csv -o beh.model",
        "seqtool run behaviour train sessions.txt -o beh.model --session-gap 30m",
        "seqtool run behaviour evaluate -m beh.model test.csv --top-k 20 --json",
        "seqtool run behaviour predict -m beh.model history.csv --top-k 10",
        "(head -1 big.csv; tail -n +2 big.csv | sort -s -t, -k1,1) | seqtool run behaviour predict -m beh.model --input-format csv",
    ],
)


@seqtool.hookimpl
def register_tasks(register):
    register(TASK)
