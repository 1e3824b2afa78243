"""seqtool.data.stepping: numeric rows of many series -> steps, on a stream: one step per row,
order checked, rows that cannot follow their series (repeated or late times, bad or unusable
values) noted and left out of it, gaps noted, the last N rows per series."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from seqtool import DataError, Record, SeriesNotes, SeriesStepper, UnusableRow
from seqtool.data.numbers import BadNumber
from seqtool.data.stepping import BAD_VALUE, EARLIER, REPEATED

START = datetime(2024, 1, 1)


def at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat(sep=" ")


def rows(*fields: tuple) -> list[Record]:
    """Records of (minute, value) or (minute, value, series), numbered from line 2 as in a csv."""
    made = []
    for line, (minute, value, *series) in enumerate(fields, 2):
        made.append(Record({"time": at(minute), "value": str(value), **({"series": series[0]} if series else {})}, "in.csv", line))
    return made


def windows(stepper: SeriesStepper, records: list[Record]) -> list:
    return [None if s.window is None else [f[0] for f in s.window] for s in stepper.steps(records)]


def test_each_step_carries_the_previous_window_rows_once_there_are_that_many():
    stepper = SeriesStepper(["value"], window=3)
    steps = list(stepper.steps(rows(*((i, 10 + i) for i in range(6)))))
    assert [s.window and [f[0] for f in s.window] for s in steps] == [None, None, None, [10, 11, 12], [11, 12, 13], [12, 13, 14]]
    assert [s.position for s in steps] == [0, 1, 2, 3, 4, 5]
    assert steps[0].previous is None and steps[4].previous == (13.0,)
    assert steps[2].time == START + timedelta(minutes=2) and steps[2].record.line == 4


def test_without_a_window_no_step_has_one():
    assert windows(SeriesStepper(["value"]), rows((0, 1), (1, 2), (2, 3))) == [None, None, None]


def test_features_fill_the_window_and_a_row_without_features_stays_out_of_it():
    def change(step):
        return None if step.previous is None else [step.values[0] - step.previous[0]]

    stepper = SeriesStepper(["value"], window=2, features=change)
    steps = list(stepper.steps(rows((0, 1), (1, 3), (2, 6), (3, 10), (4, 15))))
    assert [s.features for s in steps] == [None, [2.0], [3.0], [4.0], [5.0]]
    assert [s.window for s in steps] == [None, None, None, [[2.0], [3.0]], [[3.0], [4.0]]]
    assert stepper.counts == {"": 5}  # a row without features still counts in its series


def test_interleaved_series_keep_their_own_windows_counts_and_positions():
    stepper = SeriesStepper(["value"], window=2)
    steps = list(stepper.steps(rows((0, 1, "A"), (0, 100, "B"), (1, 2, "A"), (1, 200, "B"), (2, 3, "A"), (3, 4, " A "))))
    assert [(s.series, s.position) for s in steps] == [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("A", 3)]
    assert steps[4].window == [[1.0], [2.0]] and steps[5].window == [[2.0], [3.0]]
    assert stepper.counts == {"A": 4, "B": 2}


def test_a_row_earlier_than_its_series_previous_row_stops_with_the_line_and_the_fix():
    stepper = SeriesStepper(["value"], order_fix="sort it or pass --sort")
    with pytest.raises(DataError, match=rf"^in.csv:4: timestamp {at(1)} is earlier than the previous row of series 'A'; sort it or pass --sort$"):
        list(stepper.steps(rows((0, 1, "A"), (5, 1, "A"), (1, 1, "A"))))
    unkeyed = SeriesStepper(["value"])
    with pytest.raises(DataError, match=r"earlier than the previous row; sort the input by time$"):
        list(unkeyed.steps(rows((5, 1), (1, 1))))


def test_other_series_may_go_back_in_time():
    stepper = SeriesStepper(["value"])
    assert len(list(stepper.steps(rows((5, 1, "A"), (1, 1, "B"))))) == 2


def test_a_repeated_time_is_noted_and_left_out_keeping_the_first():
    stepper = SeriesStepper(["value"], window=1)
    steps = list(stepper.steps(rows((0, 1), (1, 2), (1, 99), (2, 3))))
    assert [(s.values[0], s.note) for s in steps] == [(1, None), (2, None), (99, REPEATED), (3, None)]
    assert steps[2].window is None and steps[2].position == 2  # the position the next row takes
    assert steps[3].window == [[2.0]] and steps[3].previous == (2.0,) and steps[3].position == 2
    assert stepper.counts == {"": 3}


def test_a_late_row_may_be_noted_and_leaves_its_series_as_it_was():
    stepper = SeriesStepper(["value"], window=2, out_of_order="note")
    # a clock set back: minutes 0-3, then 1-3 again, then on from 4
    steps = list(stepper.steps(rows((0, 1), (1, 2), (2, 3), (3, 4), (1, 20), (2, 30), (3, 40), (4, 5))))
    assert [s.note for s in steps] == [None, None, None, None, EARLIER, EARLIER, REPEATED, None]
    assert steps[-1].window == [[3.0], [4.0]] and steps[-1].previous == (4.0,) and steps[-1].position == 4
    assert stepper.counts == {"": 5}


def test_gaps_are_noted_against_the_usual_interval_once_it_is_learnt():
    minutes = [0, 5, *range(6, 26), 30, 40, 41]  # a 5-minute jump while learning, then 4 and 10 after 1-minute steps
    stepper = SeriesStepper(["value"])
    list(stepper.steps(rows(*((m, 1) for m in minutes))))
    assert stepper.notes.gaps == 2 and stepper.notes.longest_gap == timedelta(minutes=10)
    assert stepper.notes.lines() == ["2 gap(s) longer than 3x the usual step (longest 0:10:00); rows either side are treated as consecutive"]
    shared = SeriesNotes()
    for _ in range(2):  # the training and validation files of one run, say
        list(SeriesStepper(["value"], notes=shared).steps(rows(*((m, 1) for m in minutes))))
    assert shared.gaps == 4
    steady = SeriesStepper(["value"])
    list(steady.steps(rows(*((m * 2 + (m == 30), 1) for m in range(40)))))  # one 3-minute step among 2-minute ones
    assert steady.notes.lines() == []


def test_a_bad_value_stops_the_run_with_its_line_and_the_fix():
    stepper = SeriesStepper(["value"], bad_fix="fix it or pass --on-bad skip")
    with pytest.raises(BadNumber, match=r"^in.csv:3: value is 'n/a', not a number; fix it or pass --on-bad skip$"):
        list(stepper.steps(rows((0, 1), (1, "n/a"))))


def test_a_bad_row_may_be_noted_and_left_out_as_if_it_were_not_there():
    stepper = SeriesStepper(["value"], window=1, bad="note")
    steps = list(stepper.steps(rows((0, 1), (1, "nan"), (2, 3))))
    assert [(s.values, s.note) for s in steps] == [((1.0,), None), ((), BAD_VALUE), ((3.0,), None)]
    assert steps[1].time == START + timedelta(minutes=1) and steps[1].record.line == 3
    assert steps[2].previous == (1.0,) and steps[2].position == 1 and steps[2].window == [[1.0]]
    assert stepper.counts == {"": 2}


def test_a_value_the_features_cannot_take_is_noted_and_the_series_goes_on_from_the_last_usable_row():
    def log_return(step):
        if step.values[0] <= 0:
            raise UnusableRow("value outside log-returns' domain")
        return None if step.previous is None else [step.values[0] / step.previous[0]]

    stepper = SeriesStepper(["value"], window=1, features=log_return)
    steps = list(stepper.steps(rows((0, 0), (1, 2), (2, 0), (3, 4), (4, 8))))
    assert [s.note for s in steps] == ["value outside log-returns' domain", None, "value outside log-returns' domain", None, None]
    assert steps[3].previous == (2.0,) and steps[3].features == [2.0] and steps[3].window is None
    assert steps[4].window == [[2.0]]
    assert stepper.counts == {"": 3}


def test_value_columns_are_found_in_the_first_record_only():
    seen = []

    def find(record):
        seen.append(record.line)
        return ("b", "a")

    stepper = SeriesStepper(find)
    steps = list(stepper.steps([Record({"time": at(i), "a": i, "b": 2 * i}, "in.jsonl", i + 1) for i in range(3)]))
    assert seen == [1] and stepper.columns == ("b", "a")
    assert steps[2].values == (4.0, 2.0)


def test_in_order_sorts_each_series_by_time_keeping_equal_times_in_input_order():
    stepper = SeriesStepper(["value"], key="symbol")
    records = [Record({"time": at(m), "value": v, "symbol": s}, "in.csv", line) for line, (m, v, s) in enumerate(
        [(3, 1, "B"), (2, 2, "A"), (1, 3, "B"), (2, 4, "A"), (0, 5, "A")], 2
    )]
    ordered = stepper.in_order(records)
    assert [(r["symbol"], r["value"]) for r in ordered] == [("A", 5), ("A", 2), ("A", 4), ("B", 3), ("B", 1)]
    assert [s.values[0] for s in stepper.steps(ordered) if s.note is None] == [5, 2, 3, 1]  # the repeated time's first row kept


def test_steps_stream_one_record_in_one_step_out():
    def source():
        yield from rows((0, 1), (1, 2))
        raise AssertionError("read past the rows asked for")

    steps = SeriesStepper(["value"], window=1).steps(source())
    assert [next(steps).values, next(steps).values] == [(1.0,), (2.0,)]


def test_a_time_that_cannot_be_read_names_the_column_and_its_flag():
    record = Record({"when": "soon", "value": "1"}, "in.csv", 2)
    with pytest.raises(DataError, match=r"in.csv:2: cannot read 'soon' in column 'when' as a time; .* --when-col"):
        SeriesStepper(["value"], time="when").push(record)
