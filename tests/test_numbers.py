"""seqtool.data.numbers: the value column(s) of a numeric task, and each row's values read with
errors that name the line."""

from __future__ import annotations

import pytest

from seqtool import DataError, Record, find_value_columns, parse_numbers
from seqtool.data.numbers import BadNumber

CANDIDATES = ("value", "close", "adj close")


def row(**fields) -> Record:
    return Record(fields, "prices.csv", 7)


def test_value_columns_are_found_by_name_ignoring_case_and_spaces():
    assert find_value_columns(row(Date="x", **{"Adj_Close": "1"}), None, CANDIDATES) == ("Adj_Close",)
    assert find_value_columns(row(close="1", value="2"), None, CANDIDATES) == ("value",)  # candidates in order


def test_a_flag_names_several_columns_comma_separated():
    assert find_value_columns(row(open="1", volume="2"), "open, volume", CANDIDATES) == ("open", "volume")


def test_training_columns_are_reused_when_the_input_has_them_and_a_flag_wins():
    record = row(close="1", volume="2", value="3")
    assert find_value_columns(record, None, CANDIDATES, trained=["close", "volume"]) == ("close", "volume")
    assert find_value_columns(record, "value,close", CANDIDATES, trained=["close", "volume"]) == ("value", "close")


def test_a_different_number_of_columns_than_training_names_the_flag():
    with pytest.raises(DataError, match=r"prices.csv:7: the model was trained on 2 value column\(s\) \(close, volume\); name as many with --series-values"):
        find_value_columns(row(close="1"), "close", CANDIDATES, trained=["close", "volume"], flag="--series-values")


def test_missing_columns_list_the_columns_found():
    with pytest.raises(DataError, match=r"prices.csv:7: no column 'high' for values; columns found: close"):
        find_value_columns(row(close="1"), "close,high", CANDIDATES)
    with pytest.raises(DataError, match=r"cannot tell which column holds the value; columns found: open\. Name it with --value-col"):
        find_value_columns(row(open="1"), None, CANDIDATES)


def test_numbers_are_read_from_text_and_from_json_numbers():
    assert parse_numbers(row(a=" 1.5 ", b=2, c="1e3"), ["a", "b", "c"]) == (1.5, 2.0, 1000.0)


@pytest.mark.parametrize("text", ["n/a", "", "nan", "inf", "-Infinity"])
def test_a_value_that_is_not_a_finite_number_names_the_line_the_column_and_the_fix(text):
    with pytest.raises(BadNumber, match=rf"^prices.csv:7: close is '{text}'.*; fix it or pass --lenient$"):
        parse_numbers(row(close=text), ["close"], fix="fix it or pass --lenient")


def test_a_missing_field_is_a_bad_number_and_bad_numbers_are_data_errors():
    with pytest.raises(BadNumber, match="close is '', not a number; fix the row"):
        parse_numbers(row(open="1"), ["close"])
    assert issubclass(BadNumber, DataError)
